//! The RPPS import: the ANS extraction streamed line by line (memory stays flat in the
//! file's size), written in batches of a few hundred lines per transaction, each
//! professional compared with what the last import stored (a digest) so that a re-run
//! writes nothing but "seen in this run" marks and reports everything `kept`.
//!
//! "Gone" are the entries a previous import of the same scope (the same communes
//! filter) listed and this one did not: they are removed, or, when the professional
//! has an account, kept without their imported activities.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tracing::instrument;

use super::{Backend, Store, placeholders};
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::directory::rpps::{
    Grouper, Header, MAX_ACTIVITIES, RppsActivity, RppsPerson, Structure, StructureKey, decode_line,
};
use crate::directory::{CommuneCode, EntrySource, display_name, normalise, search_key};
use crate::ids::OrganisationId;
use crate::organisation::{OrganisationKind, OrganisationSource};
use crate::{Error, Millis, Result};

/// How an import runs.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The communes to keep. `None`: those of the CPTS profile, or every line when the
    /// profile lists none.
    pub communes: Option<Vec<CommuneCode>>,
    /// Lines per transaction.
    pub batch_lines: usize,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            communes: None,
            batch_lines: 500,
        }
    }
}

/// What an import did. Lines are counted in `read` and `malformed`; professionals in
/// the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub run: String,
    /// The communes filter, comma-separated, or `*`.
    pub scope: String,
    pub read: u64,
    pub malformed: u64,
    /// Professionals with no activity in the communes.
    pub outside: u64,
    pub new: u64,
    pub updated: u64,
    pub kept: u64,
    pub gone: u64,
    /// Professionals whose lines came again after other professionals' (merged).
    pub repeated: u64,
    pub organisations_new: u64,
    /// The first [`MAX_PROBLEMS`] malformed lines, with their line numbers.
    pub problems: Vec<RowProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// 1 is the header.
    pub line: u64,
    pub reason: String,
}

/// Problems kept in the report (all are counted).
pub const MAX_PROBLEMS: usize = 1_000;
/// Longer lines are malformed (a real line is under 1 KiB).
const MAX_LINE_BYTES: usize = 64 * 1024;

impl ImportReport {
    fn problem(&mut self, line: u64, reason: impl ToString) {
        self.malformed += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(RowProblem {
                line,
                reason: reason.to_string(),
            });
        }
    }
}

/// The professionals of the batch being gathered.
#[derive(Default)]
struct Batch {
    persons: Vec<RppsPerson>,
    index: HashMap<String, usize>,
    lines: usize,
}

impl Batch {
    fn add(
        &mut self,
        person: RppsPerson,
        communes: Option<&[CommuneCode]>,
        report: &mut ImportReport,
    ) {
        let Some(person) = person.within(communes) else {
            report.outside += 1;
            return;
        };
        self.lines += person.activities.len();
        match self.index.get(person.national_id.as_str()) {
            Some(&at) => {
                report.repeated += 1;
                if let Some(earlier) = self.persons.get_mut(at) {
                    for a in person.activities {
                        if !earlier.activities.contains(&a)
                            && earlier.activities.len() < MAX_ACTIVITIES
                        {
                            earlier.activities.push(a);
                        }
                    }
                }
            }
            None => {
                self.index
                    .insert(person.national_id.as_str().to_string(), self.persons.len());
                self.persons.push(person);
            }
        }
    }
}

/// One line read, at most `MAX_LINE_BYTES` of it kept.
struct Line {
    bytes_read: usize,
    too_long: bool,
}

async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> Result<Line> {
    buf.clear();
    let mut line = Line {
        bytes_read: 0,
        too_long: false,
    };
    loop {
        let (done, used) = {
            let available = reader.fill_buf().await.map_err(unreadable)?;
            if available.is_empty() {
                return Ok(line);
            }
            let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
                Some(i) => (available.get(..=i).unwrap_or(available), true),
                None => (available, false),
            };
            if buf.len() + chunk.len() <= MAX_LINE_BYTES {
                buf.extend_from_slice(chunk);
            } else {
                line.too_long = true;
            }
            (done, chunk.len())
        };
        reader.consume(used);
        line.bytes_read += used;
        if done {
            return Ok(line);
        }
    }
}

fn unreadable(e: std::io::Error) -> Error {
    Error::invalid(
        "directory.import_unreadable",
        format!("the file cannot be read: {e}"),
    )
}

fn scope_of(communes: Option<&[CommuneCode]>) -> String {
    match communes {
        None | Some([]) => "*".into(),
        Some(list) => {
            let mut codes: Vec<&str> = list.iter().map(|c| c.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            codes.join(",")
        }
    }
}

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
    /// Imports an extraction; `reader` is read to its end, a line at a time.
    #[instrument(skip_all)]
    pub async fn import_rpps<R: AsyncBufRead + Unpin>(
        &self,
        mut reader: R,
        options: &ImportOptions,
        now: Millis,
    ) -> Result<ImportReport> {
        let communes = match &options.communes {
            Some(list) => Some(list.clone()),
            None => self
                .cpts_profile()
                .await?
                .map(|p| p.communes)
                .filter(|c| !c.is_empty()),
        };
        let mut report = ImportReport {
            run: uuid::Uuid::now_v7().to_string(),
            scope: scope_of(communes.as_deref()),
            ..ImportReport::default()
        };
        let mut buf = Vec::with_capacity(2048);
        let first = read_line(&mut reader, &mut buf).await?;
        if first.bytes_read == 0 {
            return Err(Error::invalid(
                "directory.import_empty",
                "the file is empty; expected the header line of PS_LibreAcces_Personne_activite",
            ));
        }
        let header = Header::parse(&decode_line(&buf))
            .map_err(|missing| Error::invalid("directory.import_columns", missing.to_string()))?;
        let mut line_no: u64 = 1;
        let mut grouper = Grouper::default();
        let mut batch = Batch::default();
        let mut next_statistics: u64 = 5_000;
        loop {
            let line = read_line(&mut reader, &mut buf).await?;
            if line.bytes_read == 0 {
                break;
            }
            line_no += 1;
            let text = decode_line(&buf);
            if !line.too_long && text.trim().is_empty() {
                continue;
            }
            report.read += 1;
            if line.too_long {
                report.problem(line_no, format!("longer than {MAX_LINE_BYTES} bytes"));
                continue;
            }
            let person = match header.row(&text) {
                Err(e) => {
                    report.problem(line_no, e);
                    None
                }
                Ok(row) => match grouper.push(row) {
                    Err(e) => {
                        report.problem(line_no, e);
                        None
                    }
                    Ok(done) => done,
                },
            };
            if let Some(person) = person {
                batch.add(person, communes.as_deref(), &mut report);
            }
            if batch.lines >= options.batch_lines.max(1) {
                self.write_batch(&mut batch, &mut report, now).await?;
                if report.read >= next_statistics {
                    self.refresh_statistics(false).await?;
                    next_statistics = next_statistics.saturating_mul(4);
                }
            }
        }
        if let Some(person) = grouper.finish() {
            batch.add(person, communes.as_deref(), &mut report);
        }
        self.write_batch(&mut batch, &mut report, now).await?;
        self.sweep_gone(&mut report, now).await?;
        self.refresh_statistics(true).await?;
        self.audit(
            AuditEvent::new(
                now,
                None,
                "directory.import",
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("directory_import", &report.run)
            .detail(format!(
                "scope={} read={} malformed={} outside={} new={} updated={} kept={} gone={}",
                report.scope,
                report.read,
                report.malformed,
                report.outside,
                report.new,
                report.updated,
                report.kept,
                report.gone
            )),
        )
        .await?;
        Ok(report)
    }

    async fn write_batch(
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
        let mut tx = self.db.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL plans from statistics, which tables an import fills do not have
    /// until autovacuum comes by, minutes later. Without them it guessed 11,000
    /// activities for a page of 51 professionals and read the whole table (49 ms
    /// instead of 0.4 ms at 100,000 lines), and the import's own lookups by id scanned
    /// their tables batch after batch. So they are gathered as the tables grow (every
    /// fourfold) and at the end. SQLite's planner takes these indexes without
    /// statistics, and gathering them would change the plans of every other query
    /// there: it is left alone.
    ///
    /// At the end it is `vacuum analyze`: the vacuum marks the new pages all-visible,
    /// which lets a key's index answer a search alone; until then PostgreSQL reads
    /// the table row of every key it tests (a given-name search went from 2.3 ms to
    /// 0.2 ms on 77,000 professionals).
    async fn refresh_statistics(&self, vacuum: bool) -> Result<()> {
        if self.db.backend() != Backend::Postgres {
            return Ok(());
        }
        let verb = if vacuum { "vacuum analyze" } else { "analyze" };
        for table in ["organisations", "directory_entries", "directory_activities"] {
            // Simple protocol: vacuum refuses to run in a transaction block.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{verb} {table}")))
                .execute(self.db.writer())
                .await?;
        }
        Ok(())
    }

    async fn sweep_gone(&self, report: &mut ImportReport, now: Millis) -> Result<()> {
        const GONE: &str = "select national_id from directory_entries where import_scope = $1 and import_run <> $2";
        let mut tx = self.db.begin().await?;
        let gone: i64 = sqlx::query_scalar(
            "select count(*) from directory_entries where import_scope = $1 and import_run <> $2",
        )
        .bind(&report.scope)
        .bind(&report.run)
        .fetch_one(&mut *tx)
        .await?;
        if gone > 0 {
            let statements = [
                format!("delete from directory_activities where national_id in ({GONE})"),
                "delete from directory_entries where import_scope = $1 and import_run <> $2 and account_id is null".to_string(),
            ];
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&report.scope)
                    .bind(&report.run)
                    .execute(&mut *tx)
                    .await?;
            }
            // Bound to an account: the entry stays; the next login refreshes it.
            sqlx::query(
                "update directory_entries set source = $1, import_scope = null, import_run = null, fingerprint = null, updated_at = $2 \
                 where import_scope = $3 and import_run <> $4",
            )
            .bind(EntrySource::Psc.as_str())
            .bind(now.0)
            .bind(&report.scope)
            .bind(&report.run)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        report.gone = u64::try_from(gone).unwrap_or(0);
        Ok(())
    }
}

/// The organisation of every structure the batch names: found (following merges) or
/// made from the first line that names it.
async fn import_organisations_in(
    tx: &mut Transaction<'static, Any>,
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
    tx: &mut Transaction<'static, Any>,
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
    tx: &mut Transaction<'static, Any>,
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
    tx: &mut Transaction<'static, Any>,
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
    tx: &mut Transaction<'static, Any>,
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

async fn insert_activities_in(
    tx: &mut Transaction<'static, Any>,
    chunk: &[ActivityRow],
    full: usize,
) -> Result<()> {
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
    tx: &mut Transaction<'static, Any>,
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
    fn the_scope_is_the_sorted_communes() {
        let c = |s: &str| CommuneCode::parse(s).unwrap();
        assert_eq!(scope_of(None), "*");
        assert_eq!(scope_of(Some(&[])), "*");
        assert_eq!(
            scope_of(Some(&[c("59350"), c("59009"), c("59350")])),
            "59009,59350"
        );
    }

    #[test]
    fn multi_row_values_number_their_parameters() {
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_reported_not_kept() {
        let long = format!("{}\nnext\n", "x".repeat(MAX_LINE_BYTES + 10));
        let mut reader = tokio::io::BufReader::with_capacity(1024, long.as_bytes());
        let mut buf = Vec::new();
        let first = read_line(&mut reader, &mut buf).await.unwrap();
        assert!(first.too_long);
        assert!(buf.len() <= MAX_LINE_BYTES);
        let second = read_line(&mut reader, &mut buf).await.unwrap();
        assert!(!second.too_long);
        assert_eq!(buf, b"next\n");
        assert_eq!(
            read_line(&mut reader, &mut buf).await.unwrap().bytes_read,
            0
        );
    }
}
