//! Organisations in the database: found or made from PSC activities at login (and
//! from the import, see `rpps_import.rs`), created, edited and merged by
//! coordinators, left by their members. Every change a coordinator makes is audited
//! in its own transaction.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use super::tx::Tx;
use super::{Account, Store, placeholders};
use crate::account::Actor;
use crate::audit::{Action as AuditAction, AuditEvent, Outcome, Purpose};
use crate::cpts::{Action, decide};
use crate::directory::{CommuneCode, normalise};
use crate::error::Noun;
use crate::ids::{AccountId, OrganisationId};
use crate::organisation::{
    Finess, Organisation, OrganisationInput, OrganisationKind, OrganisationQuery,
    OrganisationSource, Siret, decide_merge,
};
use crate::profile::Activity;
use crate::{Error, Millis, Result};

const COLUMNS: &str = "o.id, o.kind, o.name, o.finess, o.siret, o.structure_id, o.commune_code, o.source, o.created_at, o.updated_at";

impl Store {
    /// A page of the organisations (merged duplicates left out), in name order.
    #[instrument(skip_all)]
    pub async fn organisations(&self, query: &OrganisationQuery) -> Result<Vec<Organisation>> {
        let mut sql = format!("select {COLUMNS} from organisations o where o.merged_into is null");
        let mut binds: Vec<String> = Vec::new();
        let next = |binds: &mut Vec<String>, value: String| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if let Some(q) = query.q.as_deref().map(normalise).filter(|q| !q.is_empty()) {
            let p = next(&mut binds, format!("%{q}%"));
            sql.push_str(&format!(" and o.name_key like {p}"));
        }
        if let Some(kind) = query.kind {
            let k = next(&mut binds, kind.as_str().to_string());
            sql.push_str(&format!(" and o.kind = {k}"));
        }
        if let Some(member) = query.member {
            let a = next(&mut binds, member.as_text());
            sql.push_str(&format!(
                " and exists (select 1 from organisation_members m where m.organisation_id = o.id and m.account_id = {a} and m.left_at is null)"
            ));
        }
        if let Some(after) = &query.after {
            let k = next(&mut binds, after.key.clone());
            let id = next(&mut binds, after.id.as_text());
            sql.push_str(&format!(" and (o.name_key, o.id) > ({k}, {id})"));
        }
        sql.push_str(&format!(
            " order by o.name_key, o.id limit {}",
            query.limit.clamp(1, 1000)
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.persistent(false).fetch_all(self.db.reader()).await?;
        let mut list = rows
            .iter()
            .map(organisation_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.attach_members(&mut list).await?;
        Ok(list)
    }

    /// One organisation; a merged duplicate answers with the organisation it was
    /// merged into.
    #[instrument(skip_all, fields(organisation = %id))]
    pub async fn organisation(&self, id: OrganisationId) -> Result<Organisation> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from organisations o where o.id = (select coalesce(x.merged_into, x.id) from organisations x where x.id = $1)"
        )))
        .bind(id.as_text())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(Error::not_found(Noun::Organisation))?;
        let mut list = vec![organisation_from_row(&row)?];
        self.attach_members(&mut list).await?;
        list.pop().ok_or(Error::not_found(Noun::Organisation))
    }

    async fn attach_members(&self, list: &mut [Organisation]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "select organisation_id, account_id from organisation_members where organisation_id in ({}) and left_at is null order by joined_at, account_id",
            placeholders(1, list.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for o in list.iter() {
            q = q.bind(o.id.as_text());
        }
        let rows = q.persistent(false).fetch_all(self.db.reader()).await?;
        let mut members: BTreeMap<String, Vec<AccountId>> = BTreeMap::new();
        for row in &rows {
            let org: String = row.try_get("organisation_id")?;
            if let Some(a) = AccountId::parse(&row.try_get::<String, _>("account_id")?) {
                members.entry(org).or_default().push(a);
            }
        }
        for o in list.iter_mut() {
            o.member_ids = members.remove(&o.id.as_text()).unwrap_or_default();
        }
        Ok(())
    }

    /// A coordinator or an admin creates a structure (an EHPAD, a SSIAD, the DAC…).
    #[instrument(skip_all)]
    pub async fn create_organisation(
        &self,
        actor: &Actor,
        input: OrganisationInput,
        now: Millis,
    ) -> Result<Organisation> {
        decide(actor, Action::ManageOrganisations)?;
        let id = OrganisationId::new();
        let mut tx = self.begin().await?;
        refuse_duplicate_in(&mut tx, &input, None).await?;
        sqlx::query(
            "insert into organisations (id, kind, name, name_key, finess, siret, structure_id, commune_code, source, merged_into, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, null, $7, $8, null, $9, $9)",
        )
        .bind(id.as_text())
        .bind(input.kind.as_str())
        .bind(&input.name)
        .bind(normalise(&input.name))
        .bind(input.finess.as_ref().map(|f| f.as_str().to_string()))
        .bind(input.siret.as_ref().map(|s| s.as_str().to_string()))
        .bind(input.commune_code.as_ref().map(|c| c.as_str().to_string()))
        .bind(OrganisationSource::Manual.as_str())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(duplicate)?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::OrganisationCreate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("organisation", id)
            .detail(format!("kind={}", input.kind.as_str()))],
        )
        .await?;
        tx.commit(self).await?;
        self.organisation(id).await
    }

    /// A coordinator or an admin corrects a structure (its kind, name, identifiers).
    #[instrument(skip_all, fields(organisation = %id))]
    pub async fn update_organisation(
        &self,
        actor: &Actor,
        id: OrganisationId,
        input: OrganisationInput,
        now: Millis,
    ) -> Result<Organisation> {
        decide(actor, Action::ManageOrganisations)?;
        let mut tx = self.begin().await?;
        let live: Option<(String,)> =
            sqlx::query_as("select id from organisations where id = $1 and merged_into is null")
                .bind(id.as_text())
                .fetch_optional(&mut *tx)
                .await?;
        if live.is_none() {
            return Err(Error::not_found(Noun::Organisation));
        }
        refuse_duplicate_in(&mut tx, &input, Some(id)).await?;
        sqlx::query(
            "update organisations set kind = $1, name = $2, name_key = $3, finess = $4, siret = $5, commune_code = $6, updated_at = $7 where id = $8",
        )
        .bind(input.kind.as_str())
        .bind(&input.name)
        .bind(normalise(&input.name))
        .bind(input.finess.as_ref().map(|f| f.as_str().to_string()))
        .bind(input.siret.as_ref().map(|s| s.as_str().to_string()))
        .bind(input.commune_code.as_ref().map(|c| c.as_str().to_string()))
        .bind(now.0)
        .bind(id.as_text())
        .execute(&mut *tx)
        .await
        .map_err(duplicate)?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::OrganisationUpdate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("organisation", id)
            .detail(format!("kind={}", input.kind.as_str()))],
        )
        .await?;
        tx.commit(self).await?;
        self.organisation(id).await
    }

    /// Merges `duplicate` into `target`: its members, activities and the identifiers
    /// the target lacks move over; it stays as a pointer, so that a login or an import
    /// naming its structure id lands on the target.
    #[instrument(skip_all, fields(organisation = %target, duplicate = %duplicate))]
    pub async fn merge_organisations(
        &self,
        actor: &Actor,
        target: OrganisationId,
        duplicate: OrganisationId,
        now: Millis,
    ) -> Result<Organisation> {
        decide(actor, Action::ManageOrganisations)?;
        let mut tx = self.begin().await?;
        let target_row = sqlx::query(
            "select finess, siret, structure_id from organisations where id = $1 and merged_into is null",
        )
        .bind(target.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found(Noun::Organisation))?;
        let duplicate_row = sqlx::query(
            "select finess, siret, structure_id, merged_into from organisations where id = $1",
        )
        .bind(duplicate.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found(Noun::Organisation))?;
        let merged_into: Option<String> = duplicate_row.try_get("merged_into")?;
        decide_merge(
            target,
            duplicate,
            merged_into.as_deref().and_then(OrganisationId::parse),
        )?;
        for column in ["finess", "siret", "structure_id"] {
            let theirs: Option<String> = duplicate_row.try_get(column)?;
            let ours: Option<String> = target_row.try_get(column)?;
            if let (Some(value), None) = (theirs, ours) {
                let clear = format!("update organisations set {column} = null where id = $1");
                sqlx::query(sqlx::AssertSqlSafe(clear))
                    .bind(duplicate.as_text())
                    .execute(&mut *tx)
                    .await?;
                let set = format!("update organisations set {column} = $1 where id = $2");
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .bind(value)
                    .bind(target.as_text())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let statements = [
            "update organisations set merged_into = $1 where merged_into = $2",
            "insert into organisation_members (organisation_id, account_id, source, joined_at, left_at) \
             select $1, account_id, source, joined_at, left_at from organisation_members where organisation_id = $2 \
             on conflict (organisation_id, account_id) do nothing",
            "update directory_activities set organisation_id = $1 where organisation_id = $2",
        ];
        for sql in statements {
            sqlx::query(sql)
                .bind(target.as_text())
                .bind(duplicate.as_text())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("delete from organisation_members where organisation_id = $1")
            .bind(duplicate.as_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("update organisations set merged_into = $1, updated_at = $2 where id = $3")
            .bind(target.as_text())
            .bind(now.0)
            .bind(duplicate.as_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("update organisations set updated_at = $1 where id = $2")
            .bind(now.0)
            .bind(target.as_text())
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::OrganisationMerge,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("organisation", target)
            .detail(format!("duplicate={duplicate}"))],
        )
        .await?;
        tx.commit(self).await?;
        self.organisation(target).await
    }

    /// The actor leaves an organisation; a later login does not bring them back.
    #[instrument(skip_all, fields(organisation = %id))]
    pub async fn leave_organisation(
        &self,
        actor: &Actor,
        id: OrganisationId,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "update organisation_members set left_at = $1 where organisation_id = $2 and account_id = $3 and left_at is null",
        )
        .bind(now.0)
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .execute(self.db.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Noun::OrganisationMembership));
        }
        Ok(())
    }

    /// Finds or creates the organisation of each PSC activity of the account (in
    /// profile order: exercice by exercice, activity by activity) and makes the account
    /// a member. `None` for an activity naming no structure.
    pub(super) async fn link_psc_organisations_in(
        &self,
        tx: &mut Tx,
        account: &Account,
        now: Millis,
    ) -> Result<Vec<Option<OrganisationId>>> {
        let activities: Vec<&Activity> = account
            .profile
            .exercices
            .iter()
            .flat_map(|e| e.activities.iter())
            .collect();
        // Structures are found or made in one order (their ids sorted), whatever the
        // profile's: two first logins naming the same new structures in another order
        // would otherwise wait on each other's inserts (a deadlock on PostgreSQL).
        let mut order: Vec<usize> = (0..activities.len()).collect();
        order.sort_by_key(|&i| {
            activities
                .get(i)
                .map(|a| (a.structure_id.clone(), a.finess.clone()))
        });
        let mut linked: Vec<Option<OrganisationId>> = vec![None; activities.len()];
        for i in order {
            let Some(activity) = activities.get(i) else {
                continue;
            };
            let org = organisation_of_activity_in(tx, activity, now).await?;
            if let Some(org) = org {
                sqlx::query(
                    "insert into organisation_members (organisation_id, account_id, source, joined_at) values ($1, $2, $3, $4) \
                     on conflict (organisation_id, account_id) do nothing",
                )
                .bind(org.as_text())
                .bind(account.id.as_text())
                .bind(OrganisationSource::Psc.as_str())
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
            }
            if let Some(slot) = linked.get_mut(i) {
                *slot = org;
            }
        }
        Ok(linked)
    }
}

/// The organisation a PSC activity names: by its structure id, else its FINESS; made
/// (kind from the sector) when none exists.
async fn organisation_of_activity_in(
    tx: &mut Tx,
    activity: &Activity,
    now: Millis,
) -> Result<Option<OrganisationId>> {
    let structure_id = activity
        .structure_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 40);
    let finess = activity.finess.as_deref().and_then(Finess::parse);
    if structure_id.is_none() && finess.is_none() {
        return Ok(None);
    }
    if let Some(found) = find_in(tx, structure_id, finess.as_ref()).await? {
        return Ok(Some(found));
    }
    let name = activity
        .structure_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| format!("Structure {}", structure_id.unwrap_or("sans nom")));
    let id = OrganisationId::new();
    let inserted = sqlx::query(
        "insert into organisations (id, kind, name, name_key, finess, siret, structure_id, commune_code, source, merged_into, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, null, $8, null, $9, $9) on conflict do nothing",
    )
    .bind(id.as_text())
    .bind(OrganisationKind::from_sector(activity.sector.as_deref()).as_str())
    .bind(&name)
    .bind(normalise(&name))
    .bind(finess.as_ref().map(|f| f.as_str().to_string()))
    .bind(
        activity
            .siret
            .as_deref()
            .and_then(Siret::parse)
            .map(|s| s.as_str().to_string()),
    )
    .bind(structure_id)
    .bind(OrganisationSource::Psc.as_str())
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Some(id));
    }
    // Another login made it in between: that one is the answer.
    find_in(tx, structure_id, finess.as_ref())
        .await?
        .map(Some)
        .ok_or(Error::not_found(Noun::Organisation))
}

async fn find_in(
    tx: &mut Tx,
    structure_id: Option<&str>,
    finess: Option<&Finess>,
) -> Result<Option<OrganisationId>> {
    let mut found: Option<(String, Option<String>)> = None;
    if let Some(s) = structure_id {
        found = sqlx::query_as("select id, merged_into from organisations where structure_id = $1")
            .bind(s)
            .fetch_optional(&mut **tx)
            .await?;
    }
    if found.is_none()
        && let Some(f) = finess
    {
        found = sqlx::query_as("select id, merged_into from organisations where finess = $1")
            .bind(f.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    }
    Ok(found.and_then(|(id, merged)| OrganisationId::parse(merged.as_deref().unwrap_or(&id))))
}

/// 409 naming the organisation that already holds this FINESS.
async fn refuse_duplicate_in(
    tx: &mut Tx,
    input: &OrganisationInput,
    except: Option<OrganisationId>,
) -> Result<()> {
    let Some(finess) = &input.finess else {
        return Ok(());
    };
    let holder: Option<(String, Option<String>)> = sqlx::query_as(
        "select id, merged_into from organisations where finess = $1 and id <> $2 limit 1",
    )
    .bind(finess.as_str())
    .bind(except.map(|e| e.as_text()).unwrap_or_default())
    .fetch_optional(&mut **tx)
    .await?;
    match holder {
        Some((id, merged)) => Err(Error::conflict(
            "organisation.duplicate",
            format!(
                "the organisation {} already has this FINESS; edit or merge it instead",
                merged.unwrap_or(id)
            ),
        )),
        None => Ok(()),
    }
}

fn duplicate(err: sqlx::Error) -> Error {
    match Error::from(err) {
        Error::Conflict { .. } => Error::conflict(
            "organisation.duplicate",
            "another organisation already has this FINESS",
        ),
        other => other,
    }
}

fn organisation_from_row(row: &AnyRow) -> Result<Organisation> {
    let corrupt = |what: &str| {
        Error::corrupt(format!(
            "organisations.{what} holds a value Cordée did not write"
        ))
    };
    let text = |name: &str| -> Result<Option<String>> { Ok(row.try_get(name)?) };
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let source: String = row.try_get("source")?;
    Ok(Organisation {
        id: OrganisationId::parse(&id).ok_or_else(|| corrupt("id"))?,
        kind: OrganisationKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        name: row.try_get("name")?,
        finess: text("finess")?.and_then(|f| Finess::parse(&f)),
        siret: text("siret")?.and_then(|s| Siret::parse(&s)),
        structure_id: text("structure_id")?,
        commune_code: text("commune_code")?.and_then(|c| CommuneCode::parse(&c)),
        source: OrganisationSource::parse(&source).ok_or_else(|| corrupt("source"))?,
        member_ids: Vec::new(),
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
    })
}
