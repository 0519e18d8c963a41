//! The directory in the database: listing and search (one index range on the search
//! key), a professional's card, invitations, and the binding of an entry to the
//! account that logs in with its national id.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::notification::{Notice, NotificationKind};
use tracing::instrument;

use super::tx::Tx;
use super::{Account, Store};
use crate::account::{AccountKind, Actor, ProfessionCode};
use crate::cpts::{Action, decide};
use crate::directory::{
    CommuneCode, DirectoryEntry, DirectoryQuery, EntrySource, Search, display_name,
    given_name_case, prefix_end, search_key,
};
use crate::error::Noun;
use crate::ids::{AccountId, InvitationId, OrganisationId};
use crate::profile::{NationalId, Specialty};
use crate::{Error, Millis, Result};

/// An invitation to log in with Pro Santé Connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub national_id: NationalId,
    pub invited_by: AccountId,
    pub created_at: Millis,
    pub accepted_at: Option<Millis>,
    /// False when this inviter had already invited this professional: the same
    /// invitation is returned.
    pub created: bool,
}

const ENTRY_COLUMNS: &str = "e.national_id, e.account_id, e.civility, e.first_name, e.last_name, e.display_name, \
     e.profession_code, e.specialty_code, e.mode_code, e.commune_code, e.source, e.search_key, \
     (select count(*) from cpts_memberships m where m.account_id = e.account_id and m.left_at is null) as member";

/// One index range a directory query reads.
enum Range {
    /// The whole directory, in key order.
    All,
    /// Keys starting with a prefix, and holding the `like` pattern when given.
    Key(String, Option<String>),
    /// National ids starting with a prefix.
    Id(String),
}

/// The notification an inviter receives when the invited professional first logs in.
pub const INVITATION_ACCEPTED: NotificationKind = NotificationKind::DirectoryInvitationAccepted;

impl Store {
    /// A page of the directory in search-key order, `query.limit` rows at most (ask
    /// for one more than the page holds).
    ///
    /// Each way of reading `q` (see [`Search`]) is its own query, one index range
    /// read in key order and stopped at the limit; the pages are merged here. As one
    /// statement with `or`, PostgreSQL had to gather every row of every range and sort
    /// them before the limit: 70 ms at the 99th percentile for "dupont ma" among
    /// 77,000 professionals, against 7 ms for one range.
    #[instrument(skip_all)]
    pub async fn directory(&self, query: &DirectoryQuery) -> Result<Vec<DirectoryEntry>> {
        let limit = query.limit.clamp(1, 1000);
        let ranges: Vec<Range> = match &query.search {
            None => vec![Range::All],
            Some(Search::Name {
                prefix,
                given_first,
            }) => std::iter::once(Range::Key(prefix.clone(), None))
                .chain(
                    given_first
                        .iter()
                        .map(|g| Range::Key(g.family.clone(), Some(g.pattern()))),
                )
                .collect(),
            Some(Search::NationalId(ids)) => ids.iter().cloned().map(Range::Id).collect(),
        };
        let mut entries: Vec<DirectoryEntry> = Vec::new();
        for range in &ranges {
            let rows = self.directory_range(query, range, limit).await?;
            for entry in entries_from_rows(&rows)? {
                if !entries.iter().any(|e| e.national_id == entry.national_id) {
                    entries.push(entry);
                }
            }
        }
        if ranges.len() > 1 {
            entries.sort_by(|a, b| {
                (a.search_key.as_bytes(), a.national_id.as_str())
                    .cmp(&(b.search_key.as_bytes(), b.national_id.as_str()))
            });
            entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(entries)
    }

    async fn directory_range(
        &self,
        query: &DirectoryQuery,
        range: &Range,
        limit: i64,
    ) -> Result<Vec<AnyRow>> {
        // The page's ids are chosen from the key's index alone (`k`: the key, the id,
        // and the activities for the filters); the entries' rows are read for those
        // only. With the entries' columns in that select, PostgreSQL read the row of
        // every key of a range to test the given-name filter on it: 11 ms median,
        // 89 ms at the 99th percentile for "marie van" among 770,000 professionals.
        let mut sql = String::from("select k.national_id from directory_entries k where 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let next = |binds: &mut Vec<String>, value: String| {
            binds.push(value);
            format!("${}", binds.len())
        };
        let between = |binds: &mut Vec<String>, column: &str, prefix: &str| {
            let from = next(binds, prefix.to_string());
            let to = next(binds, prefix_end(prefix));
            format!(" and {column} >= {from} and {column} < {to}")
        };
        match range {
            Range::All => {}
            Range::Key(prefix, words) => {
                sql.push_str(&between(&mut binds, "k.search_key", prefix));
                if let Some(pattern) = words {
                    let like = next(&mut binds, pattern.clone());
                    sql.push_str(&format!(" and k.search_key like {like}"));
                }
            }
            Range::Id(prefix) => sql.push_str(&between(&mut binds, "k.national_id", prefix)),
        }
        if let Some(profession) = &query.profession {
            let p = next(&mut binds, profession.as_str().to_string());
            sql.push_str(&format!(
                " and exists (select 1 from directory_activities a where a.national_id = k.national_id and a.profession_code = {p})"
            ));
        }
        if let Some(commune) = &query.commune {
            let c = next(&mut binds, commune.as_str().to_string());
            sql.push_str(&format!(
                " and exists (select 1 from directory_activities a where a.national_id = k.national_id and a.commune_code = {c})"
            ));
        }
        if let Some(organisation) = &query.organisation {
            let o = next(&mut binds, organisation.as_text());
            sql.push_str(&format!(
                " and (exists (select 1 from directory_activities a where a.national_id = k.national_id and a.organisation_id = {o}) \
                 or exists (select 1 from organisation_members om where om.account_id = k.account_id and om.organisation_id = {o} and om.left_at is null))"
            ));
        }
        if let Some(after) = &query.after {
            let k = next(&mut binds, after.key.clone());
            let id = next(&mut binds, after.national_id.as_str().to_string());
            sql.push_str(&format!(" and (k.search_key, k.national_id) > ({k}, {id})"));
        }
        sql.push_str(&format!(
            " order by k.search_key, k.national_id limit {limit}"
        ));
        let sql = format!(
            "select {ENTRY_COLUMNS} from ({sql}) top join directory_entries e on e.national_id = top.national_id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(with_organisations(&sql)));
        for b in binds {
            q = q.bind(b);
        }
        // Prepared once: whatever the prefix, the plan is the same ordered range read
        // stopped at the limit, and planning this statement afresh took PostgreSQL
        // ~2 ms, most of a search.
        Ok(q.fetch_all(self.db.reader()).await?)
    }

    /// One professional's card.
    #[instrument(skip_all)]
    pub async fn directory_entry(&self, national_id: &NationalId) -> Result<DirectoryEntry> {
        let inner =
            format!("select {ENTRY_COLUMNS} from directory_entries e where e.national_id = $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(with_organisations(&inner)))
            .bind(national_id.as_str())
            .fetch_all(self.db.reader())
            .await?;
        entries_from_rows(&rows)?
            .pop()
            .ok_or(Error::not_found(Noun::DirectoryEntry))
    }

    /// Invites a professional of the directory who has no account yet. The same
    /// inviter inviting the same professional again gets the same invitation back.
    #[instrument(skip_all)]
    pub async fn invite(
        &self,
        actor: &Actor,
        national_id: &NationalId,
        now: Millis,
    ) -> Result<Invitation> {
        decide(actor, Action::Invite)?;
        let mut tx = self.begin().await?;
        let entry: Option<(Option<String>,)> =
            sqlx::query_as("select account_id from directory_entries where national_id = $1")
                .bind(national_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match entry {
            None => return Err(Error::not_found(Noun::DirectoryEntry)),
            Some((Some(_),)) => {
                return Err(Error::conflict(
                    "directory.already_registered",
                    "this professional already has a Cordée account: write to them or add them directly",
                ));
            }
            Some((None,)) => {}
        }
        let existing = sqlx::query(
            "select id, created_at, accepted_at from directory_invitations where invited_by = $1 and national_id = $2",
        )
        .bind(actor.account_id.as_text())
        .bind(national_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            return Ok(Invitation {
                id: InvitationId::parse(&row.try_get::<String, _>("id")?)
                    .ok_or(Error::not_found(Noun::Invitation))?,
                national_id: national_id.clone(),
                invited_by: actor.account_id,
                created_at: Millis(row.try_get("created_at")?),
                accepted_at: row.try_get::<Option<i64>, _>("accepted_at")?.map(Millis),
                created: false,
            });
        }
        let id = InvitationId::new();
        sqlx::query(
            "insert into directory_invitations (id, national_id, invited_by, created_at) values ($1, $2, $3, $4)",
        )
        .bind(id.as_text())
        .bind(national_id.as_str())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit(self).await?;
        Ok(Invitation {
            id,
            national_id: national_id.clone(),
            invited_by: actor.account_id,
            created_at: now,
            accepted_at: None,
            created: true,
        })
    }

    /// Whether the directory holds no entry at all (the demo imports its fixture then).
    pub async fn directory_is_empty(&self) -> Result<bool> {
        let any: Option<(String,)> =
            sqlx::query_as("select national_id from directory_entries limit 1")
                .fetch_optional(self.db.reader())
                .await?;
        Ok(any.is_none())
    }

    /// At each login of a health professional: the directory entry of their national
    /// id (never their name) is bound to the account — or made from what PSC says when
    /// the import has not listed them —, the organisations of their PSC activities are
    /// found or created and joined, and invitations waiting for them are accepted,
    /// their inviters notified. One transaction.
    #[instrument(skip_all, fields(account = %account.id))]
    pub(crate) async fn bind_directory(&self, account: &Account, now: Millis) -> Result<()> {
        let Some(national_id) = account
            .national_id
            .as_ref()
            .filter(|_| account.kind == AccountKind::HealthProfessional)
        else {
            return Ok(());
        };
        let mut tx = self.begin().await?;
        let organisations = self
            .link_psc_organisations_in(&mut tx, account, now)
            .await?;
        let existing: Option<(String, Option<String>)> = sqlx::query_as(
            "select source, account_id from directory_entries where national_id = $1",
        )
        .bind(national_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some((source, bound)) => {
                if bound.as_deref() != Some(account.id.as_text().as_str()) {
                    sqlx::query(
                        "update directory_entries set account_id = $1, updated_at = $2 where national_id = $3",
                    )
                    .bind(account.id.as_text())
                    .bind(now.0)
                    .bind(national_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                // An imported entry keeps what the register says; one PSC made
                // follows the profile of each login.
                if EntrySource::parse(&source) == Some(EntrySource::Psc) {
                    write_psc_entry_in(&mut tx, account, national_id, &organisations, now, true)
                        .await?;
                }
            }
            None => {
                write_psc_entry_in(&mut tx, account, national_id, &organisations, now, false)
                    .await?;
            }
        }
        let pending = sqlx::query(
            "select id, invited_by from directory_invitations where national_id = $1 and accepted_at is null",
        )
        .bind(national_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for row in &pending {
            let id: String = row.try_get("id")?;
            let inviter: String = row.try_get("invited_by")?;
            sqlx::query(
                "update directory_invitations set accepted_at = $1, account_id = $2 where id = $3",
            )
            .bind(now.0)
            .bind(account.id.as_text())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            if let Some(inviter) = AccountId::parse(&inviter) {
                self.notify_in(
                    &mut tx,
                    Notice {
                        to: inviter,
                        kind: NotificationKind::DirectoryInvitationAccepted,
                        patient: None,
                        subject: Some(account.id.as_text()),
                        actor: Some(account.id),
                    },
                    now,
                )
                .await?;
            }
        }
        tx.commit(self).await?;
        Ok(())
    }
}

/// The entry of a professional PSC knows and the import does not: names, profession
/// and activities from the login's profile, with the organisations just linked
/// (`organisations[i]` for the i-th activity in profile order).
async fn write_psc_entry_in(
    tx: &mut Tx,
    account: &Account,
    national_id: &NationalId,
    organisations: &[Option<OrganisationId>],
    now: Millis,
    exists: bool,
) -> Result<()> {
    let first = account.profile.exercices.first();
    let first_name = first
        .and_then(|e| e.first_name.as_deref())
        .map(given_name_case)
        .unwrap_or_default();
    let last_name = first
        .and_then(|e| e.last_name.clone())
        .unwrap_or_else(|| account.display_name.clone());
    let name = if first.is_some_and(|e| e.last_name.is_some()) {
        display_name(&first_name, &last_name)
    } else {
        account.display_name.clone()
    };
    let key = search_key(&last_name, &first_name);
    let profession = first.and_then(|e| e.profession.as_ref().map(|p| p.as_str().to_string()));
    let specialty = first.and_then(|e| e.specialty.as_ref().map(|s| s.code.clone()));
    let mode = first
        .and_then(|e| e.activities.first())
        .and_then(|a| a.mode.clone());
    let civility = first.and_then(|e| e.civility.clone());
    if exists {
        sqlx::query(
            "update directory_entries set civility = $1, first_name = $2, last_name = $3, display_name = $4, search_key = $5, \
             profession_code = $6, specialty_code = $7, mode_code = $8, updated_at = $9 where national_id = $10",
        )
        .bind(civility)
        .bind(&first_name)
        .bind(&last_name)
        .bind(&name)
        .bind(&key)
        .bind(profession)
        .bind(specialty)
        .bind(mode)
        .bind(now.0)
        .bind(national_id.as_str())
        .execute(&mut **tx)
        .await?;
        sqlx::query("delete from directory_activities where national_id = $1")
            .bind(national_id.as_str())
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query(
            "insert into directory_entries (national_id, account_id, civility, first_name, last_name, display_name, search_key, \
             profession_code, specialty_code, mode_code, commune_code, source, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, null, $11, $12, $12)",
        )
        .bind(national_id.as_str())
        .bind(account.id.as_text())
        .bind(civility)
        .bind(&first_name)
        .bind(&last_name)
        .bind(&name)
        .bind(&key)
        .bind(profession)
        .bind(specialty)
        .bind(mode)
        .bind(EntrySource::Psc.as_str())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    }
    let mut position: i64 = 0;
    let mut linked = organisations.iter();
    for exercice in &account.profile.exercices {
        let Some(profession) = &exercice.profession else {
            // Keep the zip with `organisations` in step.
            for _ in &exercice.activities {
                linked.next();
            }
            continue;
        };
        let places: Vec<(Option<String>, Option<OrganisationId>)> =
            if exercice.activities.is_empty() {
                vec![(None, None)]
            } else {
                exercice
                    .activities
                    .iter()
                    .map(|a| (a.mode.clone(), linked.next().copied().flatten()))
                    .collect()
            };
        for (mode, organisation) in places {
            sqlx::query(
                "insert into directory_activities (national_id, position, profession_code, specialty_code, mode_code, commune_code, organisation_id) \
                 values ($1, $2, $3, $4, $5, null, $6)",
            )
            .bind(national_id.as_str())
            .bind(position)
            .bind(profession.as_str())
            .bind(exercice.specialty.as_ref().map(|s| s.code.clone()))
            .bind(mode)
            .bind(organisation.map(|o| o.as_text()))
            .execute(&mut **tx)
            .await?;
            position += 1;
        }
    }
    Ok(())
}

/// A page of entries (`inner`, limited and ordered) with their organisations, in one
/// statement: those of their activities, and those their account belongs to (a few
/// rows per entry), in key order. A second query for them cost one more round trip
/// per page, and on a loaded machine each round trip through the driver's worker
/// thread can wait for a core.
fn with_organisations(inner: &str) -> String {
    format!(
        "select p.*, a.organisation_id as activity_organisation, om.organisation_id as member_organisation \
         from ({inner}) p \
         left join directory_activities a on a.national_id = p.national_id and a.organisation_id is not null \
         left join organisation_members om on om.account_id = p.account_id and om.left_at is null \
         order by p.search_key, p.national_id"
    )
}

/// Entries from the rows of [`with_organisations`], an entry's rows being adjacent.
fn entries_from_rows(rows: &[AnyRow]) -> Result<Vec<DirectoryEntry>> {
    let mut entries: Vec<DirectoryEntry> = Vec::new();
    for row in rows {
        let id: String = row.try_get("national_id")?;
        if entries.last().is_none_or(|e| e.national_id.as_str() != id) {
            entries.push(entry_from_row(row)?);
        }
        if let Some(entry) = entries.last_mut() {
            for column in ["activity_organisation", "member_organisation"] {
                let org = row
                    .try_get::<Option<String>, _>(column)?
                    .and_then(|o| OrganisationId::parse(&o));
                if let Some(org) = org
                    && !entry.organisation_ids.contains(&org)
                {
                    entry.organisation_ids.push(org);
                }
            }
        }
    }
    for entry in &mut entries {
        entry.organisation_ids.sort();
    }
    Ok(entries)
}

fn entry_from_row(row: &AnyRow) -> Result<DirectoryEntry> {
    let corrupt = |what: &str| {
        Error::corrupt(format!(
            "directory_entries.{what} holds a value Cordée did not write"
        ))
    };
    let text = |name: &str| -> Result<Option<String>> { Ok(row.try_get(name)?) };
    let national_id: String = row.try_get("national_id")?;
    let source: String = row.try_get("source")?;
    Ok(DirectoryEntry {
        national_id: NationalId::parse(&national_id).ok_or_else(|| corrupt("national_id"))?,
        account_id: text("account_id")?.and_then(|a| AccountId::parse(&a)),
        civility: text("civility")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        display_name: row.try_get("display_name")?,
        profession: text("profession_code")?.and_then(|p| ProfessionCode::parse(&p)),
        specialty: text("specialty_code")?.and_then(|s| Specialty::parse(&s)),
        mode: text("mode_code")?,
        commune_code: text("commune_code")?.and_then(|c| CommuneCode::parse(&c)),
        organisation_ids: Vec::new(),
        cpts_member: row.try_get::<i64, _>("member")? > 0,
        source: EntrySource::parse(&source).ok_or_else(|| corrupt("source"))?,
        search_key: row.try_get("search_key")?,
    })
}
