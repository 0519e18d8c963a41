//! One batch of the RPPS import in the database, in one transaction: the structures
//! it names found or made, each professional compared with what the last import
//! stored (its digest), then the new and changed entries and their activities written
//! in multi-row statements, and the unchanged ones only marked as seen.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use super::rpps_import::{Batch, ImportReport};
use super::tx::Tx;
use super::{Backend, Store, placeholders};
use crate::directory::rpps::{MAX_ACTIVITIES, RppsActivity, RppsPerson, Structure, StructureKey};
use crate::directory::{CommuneCode, EntrySource, display_name, normalise, search_key};
use crate::ids::OrganisationId;
use crate::organisation::{OrganisationKind, OrganisationSource};
use crate::{Millis, Result};

fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(r * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per statement. On SQLite, a few hundred parameters: it looks a `$N`
/// parameter up by name in a list, at parse time and again at each bind (sqlx asks
/// every parameter's name), so a statement's cost grows with the square of its
/// parameters. Measured on 100,000 lines: 1,600 parameters per insert ran at 4,100
/// lines/s, 70% of the time in those lookups. PostgreSQL has no such cost and each
/// statement is a round trip: there, bigger ones. Full-size statements keep one text,
/// prepared once.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    entries: usize,
    organisations: usize,
    activities: usize,
    ids: usize,
}

impl Sizes {
    fn of(backend: Backend) -> Sizes {
        match backend {
            Backend::Sqlite => Sizes {
                entries: 16,
                organisations: 16,
                activities: 32,
                ids: 100,
            },
            Backend::Postgres => Sizes {
                entries: 100,
                organisations: 100,
                activities: 200,
                ids: 500,
            },
        }
    }
}

impl Store {
    pub(super) async fn write_batch(
        &self,
        batch: &mut Batch,
        report: &mut ImportReport,
        now: Millis,
    ) -> Result<()> {
        let persons = std::mem::take(&mut batch.persons);
        batch.index.clear();
        batch.lines = 0;
        if persons.is_empty() {
            return Ok(());
        }
        let sizes = Sizes::of(self.db.backend());
        let mut tx = self.begin().await?;
        let organisations = import_organisations_in(&mut tx, &persons, now, report, sizes).await?;
        let existing = existing_entries_in(&mut tx, &persons, sizes.ids).await?;
        let mut inserts: Vec<(RppsPerson, String)> = Vec::new();
        let mut updates: Vec<(RppsPerson, String)> = Vec::new();
        let mut kept: Vec<String> = Vec::new();
        let mut repeats: Vec<RppsPerson> = Vec::new();
        for person in persons {
            let fingerprint = person.fingerprint();
            match existing.get(person.national_id.as_str()) {
                None => {
                    report.new += 1;
                    inserts.push((person, fingerprint));
                }
                Some((_, Some(run))) if *run == report.run => {
                    report.repeated += 1;
                    repeats.push(person);
                }
                Some((Some(old), _)) if *old == fingerprint => {
                    report.kept += 1;
                    kept.push(person.national_id.as_str().to_string());
                }
                Some((old, _)) => {
                    // An entry only a login made is new to the directory's import.
                    if old.is_none() {
                        report.new += 1;
                    } else {
                        report.updated += 1;
                    }
                    updates.push((person, fingerprint));
                }
            }
        }
        for chunk in inserts.chunks(sizes.entries) {
            insert_entries_in(&mut tx, chunk, report, now, sizes.entries).await?;
        }
        for (person, fingerprint) in &updates {
            update_entry_in(&mut tx, person, fingerprint, report, now).await?;
        }
        let replaced: Vec<String> = updates
            .iter()
            .map(|(p, _)| p.national_id.as_str().to_string())
            .collect();
        for chunk in replaced.chunks(sizes.ids) {
            let sql = format!(
                "delete from directory_activities where national_id in ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            q.persistent(chunk.len() == sizes.ids)
                .execute(&mut *tx)
                .await?;
        }
        let mut rows: Vec<ActivityRow> = Vec::new();
        for (person, _) in inserts.iter().chain(updates.iter()) {
            for (position, activity) in person.activities.iter().enumerate() {
                rows.push(ActivityRow::of(person, position, activity, &organisations));
            }
        }
        for chunk in rows.chunks(sizes.activities) {
            insert_activities_in(&mut tx, chunk, sizes.activities).await?;
        }
        for chunk in kept.chunks(sizes.ids) {
            let sql = format!(
                "update directory_entries set import_scope = $1, import_run = $2 where national_id in ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(report.scope.clone())
                .bind(report.run.clone());
            for id in chunk {
                q = q.bind(id.clone());
            }
            q.persistent(chunk.len() == sizes.ids)
                .execute(&mut *tx)
                .await?;
        }
        for person in &repeats {
            append_activities_in(&mut tx, person, &organisations).await?;
        }
        tx.commit(self).await?;
        Ok(())
    }
}

/// The organisation of every structure the batch names: found (following merges) or
/// made from the first line that names it.
async fn import_organisations_in(
    tx: &mut Tx,
    persons: &[RppsPerson],
    now: Millis,
    report: &mut ImportReport,
    sizes: Sizes,
) -> Result<HashMap<StructureKey, OrganisationId>> {
    let mut wanted: Vec<(StructureKey, &Structure, Option<&CommuneCode>)> = Vec::new();
    let mut seen: HashSet<StructureKey> = HashSet::new();
    for activity in persons.iter().flat_map(|p| p.activities.iter()) {
        if let Some(s) = &activity.structure
            && let Some(key) = s.key()
            && seen.insert(key.clone())
        {
            wanted.push((key, s, activity.commune.as_ref()));
        }
    }
    let mut found = find_structures_in(tx, wanted.iter().map(|(k, _, _)| k), sizes.ids).await?;
    let missing: Vec<&(StructureKey, &Structure, Option<&CommuneCode>)> = wanted
        .iter()
        .filter(|(k, _, _)| !found.contains_key(k))
        .collect();
    for chunk in missing.chunks(sizes.organisations) {
        let sql = format!(
            "insert into organisations (id, kind, name, name_key, finess, siret, structure_id, commune_code, source, merged_into, created_at, updated_at) \
             values {} on conflict do nothing",
            values(chunk.len(), 12)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, s, commune) in chunk {
            let label = match key {
                StructureKey::Technical(id) => id.clone(),
                StructureKey::Finess(f) => f.as_str().to_string(),
            };
            let name = s
                .name
                .clone()
                .filter(|n| !normalise(n).is_empty())
                .unwrap_or_else(|| format!("Structure {label}"));
            q = q
                .bind(OrganisationId::new().as_text())
                .bind(OrganisationKind::from_sector(s.sector.as_deref()).as_str())
                .bind(name.clone())
                .bind(normalise(&name))
                .bind(s.finess.as_ref().map(|f| f.as_str().to_string()))
                .bind(s.siret.as_ref().map(|f| f.as_str().to_string()))
                .bind(s.structure_id.clone())
                .bind(commune.map(|c| c.as_str().to_string()))
                .bind(OrganisationSource::Rpps.as_str())
                .bind(None::<String>)
                .bind(now.0)
                .bind(now.0);
        }
        let done = q
            .persistent(chunk.len() == sizes.organisations)
            .execute(&mut **tx)
            .await?;
        report.organisations_new += done.rows_affected();
    }
    if !missing.is_empty() {
        // What was made, and what another structure already held (a FINESS named
        // by two technical ids): those lines join that organisation.
        let again = find_structures_in(tx, missing.iter().map(|(k, _, _)| k), sizes.ids).await?;
        let still: Vec<(&StructureKey, &Structure)> = missing
            .iter()
            .filter(|(k, _, _)| !again.contains_key(k))
            .map(|(k, s, _)| (k, *s))
            .collect();
        found.extend(again);
        for (key, s) in still {
            if let Some(f) = s.finess.clone() {
                let by_finess =
                    find_structures_in(tx, [&StructureKey::Finess(f)], sizes.ids).await?;
                if let Some(id) = by_finess.into_values().next() {
                    found.insert(key.clone(), id);
                }
            }
        }
    }
    Ok(found)
}

/// The organisations holding these keys (merged duplicates answer with the
/// organisation they were merged into).
async fn find_structures_in<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k StructureKey>,
    per_query: usize,
) -> Result<HashMap<StructureKey, OrganisationId>> {
    let mut technical: Vec<String> = Vec::new();
    let mut finess: Vec<String> = Vec::new();
    for key in keys {
        match key {
            StructureKey::Technical(id) => technical.push(id.clone()),
            StructureKey::Finess(f) => finess.push(f.as_str().to_string()),
        }
    }
    let mut found = HashMap::new();
    for (column, list) in [("structure_id", technical), ("finess", finess)] {
        for chunk in list.chunks(per_query) {
            let sql = format!(
                "select {column} as k, coalesce(merged_into, id) as id from organisations where {column} in ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(v.clone());
            }
            let rows = q
                .persistent(chunk.len() == per_query)
                .fetch_all(&mut **tx)
                .await?;
            for row in rows {
                let k: String = row.try_get("k")?;
                let id: String = row.try_get("id")?;
                let key = if column == "structure_id" {
                    Some(StructureKey::Technical(k))
                } else {
                    crate::organisation::Finess::parse(&k).map(StructureKey::Finess)
                };
                if let (Some(key), Some(id)) = (key, OrganisationId::parse(&id)) {
                    found.insert(key, id);
                }
            }
        }
    }
    Ok(found)
}

/// national id → (fingerprint, import run) of the entries the batch names.
async fn existing_entries_in(
    tx: &mut Tx,
    persons: &[RppsPerson],
    per_query: usize,
) -> Result<HashMap<String, (Option<String>, Option<String>)>> {
    let mut out = HashMap::with_capacity(persons.len());
    for chunk in persons.chunks(per_query) {
        let sql = format!(
            "select national_id, fingerprint, import_run from directory_entries where national_id in ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            q = q.bind(p.national_id.as_str().to_string());
        }
        let rows = q
            .persistent(chunk.len() == per_query)
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            out.insert(
                row.try_get::<String, _>("national_id")?,
                (row.try_get("fingerprint")?, row.try_get("import_run")?),
            );
        }
    }
    Ok(out)
}

/// The columns an entry takes from its first activity.
struct EntryFields {
    profession: String,
    specialty: Option<String>,
    mode: Option<String>,
    commune: Option<String>,
}

fn entry_fields(person: &RppsPerson) -> EntryFields {
    let first = person.activities.first();
    EntryFields {
        profession: first
            .map(|a| a.profession.as_str().to_string())
            .unwrap_or_default(),
        specialty: first.and_then(|a| a.specialty.as_ref().map(|s| s.code.clone())),
        mode: first.and_then(|a| a.mode.clone()),
        commune: first.and_then(|a| a.commune.as_ref().map(|c| c.as_str().to_string())),
    }
}

async fn insert_entries_in(
    tx: &mut Tx,
    chunk: &[(RppsPerson, String)],
    report: &ImportReport,
    now: Millis,
    full: usize,
) -> Result<()> {
    let sql = format!(
        "insert into directory_entries (national_id, civility, first_name, last_name, display_name, search_key, \
         profession_code, specialty_code, mode_code, commune_code, source, import_scope, import_run, fingerprint, created_at, updated_at) \
         values {}",
        values(chunk.len(), 16)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (p, fingerprint) in chunk {
        let f = entry_fields(p);
        q = q
            .bind(p.national_id.as_str().to_string())
            .bind(p.civility.clone())
            .bind(p.first_name.clone())
            .bind(p.last_name.clone())
            .bind(display_name(&p.first_name, &p.last_name))
            .bind(search_key(&p.last_name, &p.first_name))
            .bind(f.profession)
            .bind(f.specialty)
            .bind(f.mode)
            .bind(f.commune)
            .bind(EntrySource::Rpps.as_str())
            .bind(report.scope.clone())
            .bind(report.run.clone())
            .bind(fingerprint.clone())
            .bind(now.0)
            .bind(now.0);
    }
    q.persistent(chunk.len() == full).execute(&mut **tx).await?;
    Ok(())
}

async fn update_entry_in(
    tx: &mut Tx,
    p: &RppsPerson,
    fingerprint: &str,
    report: &ImportReport,
    now: Millis,
) -> Result<()> {
    let f = entry_fields(p);
    sqlx::query(
        "update directory_entries set civility = $1, first_name = $2, last_name = $3, display_name = $4, search_key = $5, \
         profession_code = $6, specialty_code = $7, mode_code = $8, commune_code = $9, source = $10, import_scope = $11, \
         import_run = $12, fingerprint = $13, updated_at = $14 where national_id = $15",
    )
    .bind(p.civility.clone())
    .bind(&p.first_name)
    .bind(&p.last_name)
    .bind(display_name(&p.first_name, &p.last_name))
    .bind(search_key(&p.last_name, &p.first_name))
    .bind(f.profession)
    .bind(f.specialty)
    .bind(f.mode)
    .bind(f.commune)
    .bind(EntrySource::Rpps.as_str())
    .bind(&report.scope)
    .bind(&report.run)
    .bind(fingerprint)
    .bind(now.0)
    .bind(p.national_id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One `directory_activities` row.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ActivityRow {
    national_id: String,
    position: i64,
    profession: String,
    specialty: Option<String>,
    mode: Option<String>,
    commune: Option<String>,
    organisation: Option<String>,
}

impl ActivityRow {
    fn of(
        person: &RppsPerson,
        position: usize,
        a: &RppsActivity,
        organisations: &HashMap<StructureKey, OrganisationId>,
    ) -> ActivityRow {
        ActivityRow {
            national_id: person.national_id.as_str().to_string(),
            position: i64::try_from(position).unwrap_or(i64::MAX),
            profession: a.profession.as_str().to_string(),
            specialty: a.specialty.as_ref().map(|s| s.code.clone()),
            mode: a.mode.clone(),
            commune: a.commune.as_ref().map(|c| c.as_str().to_string()),
            organisation: a
                .structure
                .as_ref()
                .and_then(|s| s.key())
                .and_then(|k| organisations.get(&k))
                .map(|o| o.as_text()),
        }
    }

    /// Equal but for the position.
    fn same_place(&self, other: &ActivityRow) -> bool {
        (
            &self.profession,
            &self.specialty,
            &self.mode,
            &self.commune,
            &self.organisation,
        ) == (
            &other.profession,
            &other.specialty,
            &other.mode,
            &other.commune,
            &other.organisation,
        )
    }
}

async fn insert_activities_in(tx: &mut Tx, chunk: &[ActivityRow], full: usize) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into directory_activities (national_id, position, profession_code, specialty_code, mode_code, commune_code, organisation_id) values {}",
        values(chunk.len(), 7)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in chunk {
        q = q
            .bind(r.national_id.clone())
            .bind(r.position)
            .bind(r.profession.clone())
            .bind(r.specialty.clone())
            .bind(r.mode.clone())
            .bind(r.commune.clone())
            .bind(r.organisation.clone());
    }
    q.persistent(chunk.len() == full).execute(&mut **tx).await?;
    Ok(())
}

/// A professional met again later in the file: their new activities are added after
/// those already written in this run (the same ones again are not).
async fn append_activities_in(
    tx: &mut Tx,
    person: &RppsPerson,
    organisations: &HashMap<StructureKey, OrganisationId>,
) -> Result<()> {
    let rows = sqlx::query(
        "select position, profession_code, specialty_code, mode_code, commune_code, organisation_id from directory_activities where national_id = $1",
    )
    .bind(person.national_id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    let mut stored = Vec::with_capacity(rows.len());
    for r in &rows {
        stored.push(ActivityRow {
            national_id: person.national_id.as_str().to_string(),
            position: r.try_get("position")?,
            profession: r.try_get("profession_code")?,
            specialty: r.try_get("specialty_code")?,
            mode: r.try_get("mode_code")?,
            commune: r.try_get("commune_code")?,
            organisation: r.try_get("organisation_id")?,
        });
    }
    let mut next = stored.iter().map(|r| r.position + 1).max().unwrap_or(0);
    let mut added = Vec::new();
    for a in &person.activities {
        if stored.len() + added.len() >= MAX_ACTIVITIES {
            break;
        }
        let mut row = ActivityRow::of(person, 0, a, organisations);
        row.position = next;
        if !stored
            .iter()
            .chain(added.iter())
            .any(|s| s.same_place(&row))
        {
            added.push(row);
            next += 1;
        }
    }
    // A rare path: its statement is not kept.
    insert_activities_in(tx, &added, usize::MAX).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_values_number_their_parameters() {
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
