//! Entries of the coordination file: writes and single reads, through the guard
//! (`access.rs`). Pages and word searches are in `entry_pages.rs`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate, Rule};
use super::sealed::{open_str, patient_owner, seal_str};
use super::sql::{Arg, Sql};
use super::tx::Tx;
use crate::access::{PatientAccess, Reach, decide_write};
use crate::account::Actor;
use crate::audit::Action;
use crate::error::Noun;
use crate::file::{BI_TERM, Entry, EntryContent, EntryKind, EntryStatus, EntryVersion, term_key};
use crate::ids::{AccountId, AttachmentId, EntryId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

pub(super) const ENTRY_COLUMNS: &str = "e.id, e.category, e.kind, e.author_id, e.created_at, e.updated_at, e.version, e.status, e.masked, v.title, v.body, v.attachments";

const VERSIONS: &str = "entry_versions";

fn version_row(entry: EntryId, version: i64) -> String {
    format!("{entry}:{version}")
}

fn attachments_text(list: &[AttachmentId]) -> String {
    list.iter()
        .map(|a| a.as_text())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_attachments(text: &str) -> Vec<AttachmentId> {
    text.split(',').filter_map(AttachmentId::parse).collect()
}

impl Store {
    pub async fn create_entry(
        &self,
        actor: &Actor,
        patient: PatientId,
        category: Category,
        kind: EntryKind,
        content: EntryContent,
        now: Millis,
    ) -> Result<Entry> {
        self.patient_write(
            actor,
            patient,
            Action::EntryCreate,
            Gate::Reach(Reach::Identity),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_write(actor, access, category)?;
                let id = EntryId::new();
                sqlx::query(
                    "insert into entries (id, patient_id, category, kind, author_id, created_at, updated_at, version, status, masked) \
                     values ($1, $2, $3, $4, $5, $6, $6, 1, 'active', 0)",
                )
                .bind(id.as_text())
                .bind(patient.as_text())
                .bind(category.as_str())
                .bind(kind.as_str())
                .bind(actor.account_id.as_text())
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
                // After the entry row: attachments point at it.
                bind_attachments(tx, actor, patient, id, &content.attachments, &[]).await?;
                self.insert_version(tx, patient, id, 1, &content, actor.account_id, now)
                    .await?;
                let entry = Entry {
                    id,
                    patient_id: patient,
                    category,
                    kind,
                    title: content.title.clone(),
                    body: content.body.clone(),
                    attachments: content.attachments.clone(),
                    author_id: actor.account_id,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    status: EntryStatus::Active,
                    masked: false,
                };
                Ok(Audited::new(entry)
                    .resource("entry", id)
                    .detail(format!("category={category}")))
            },
        )
        .await
    }

    /// Writes an entry of a category no one writes through the file API (`rcp`: the
    /// case-conference workflow), inside the workflow's own transaction: the workflow
    /// has decided who may, and audits it.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "test-support"), allow(dead_code))]
    pub(crate) async fn insert_workflow_entry(
        &self,
        tx: &mut Tx,
        patient: PatientId,
        author: AccountId,
        category: Category,
        kind: EntryKind,
        content: &EntryContent,
        now: Millis,
    ) -> Result<EntryId> {
        let id = EntryId::new();
        sqlx::query(
            "insert into entries (id, patient_id, category, kind, author_id, created_at, updated_at, version, status, masked) \
             values ($1, $2, $3, $4, $5, $6, $6, 1, 'active', 0)",
        )
        .bind(id.as_text())
        .bind(patient.as_text())
        .bind(category.as_str())
        .bind(kind.as_str())
        .bind(author.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        self.insert_version(tx, patient, id, 1, content, author, now)
            .await?;
        Ok(id)
    }

    /// [`Store::insert_workflow_entry`] in a transaction of its own, for tests that
    /// need an `rcp` entry before the case-conference workflow exists around them.
    #[cfg(feature = "test-support")]
    pub async fn insert_workflow_entry_for_tests(
        &self,
        patient: PatientId,
        author: AccountId,
        category: Category,
        content: &EntryContent,
        now: Millis,
    ) -> Result<EntryId> {
        let mut tx = self.begin().await?;
        let id = self
            .insert_workflow_entry(
                &mut tx,
                patient,
                author,
                category,
                EntryKind::Note,
                content,
                now,
            )
            .await?;
        tx.commit(self).await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_version(
        &self,
        tx: &mut Tx,
        patient: PatientId,
        entry: EntryId,
        version: i64,
        content: &EntryContent,
        author: AccountId,
        now: Millis,
    ) -> Result<()> {
        let key = self.data_key_in(tx, &patient_owner(patient)).await?;
        let row = version_row(entry, version);
        sqlx::query(
            "insert into entry_versions (entry_id, version, title, body, attachments, author_id, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.as_text())
        .bind(version)
        .bind(seal_str(&key, VERSIONS, &row, "title", &content.title)?)
        .bind(seal_str(&key, VERSIONS, &row, "body", &content.body)?)
        .bind(attachments_text(&content.attachments))
        .bind(author.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        sqlx::query("delete from entry_terms where entry_id = $1")
            .bind(entry.as_text())
            .execute(&mut **tx)
            .await?;
        for word in content.search_words() {
            sqlx::query(
                "insert into entry_terms (entry_id, term) values ($1, $2) on conflict do nothing",
            )
            .bind(entry.as_text())
            .bind(
                self.blind_index(BI_TERM, &term_key(patient, &word))
                    .as_bytes()
                    .to_vec(),
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// One entry with all its versions (newest first), if the actor may read it.
    pub async fn get_entry(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: EntryId,
        now: Millis,
    ) -> Result<(Entry, Vec<EntryVersion>)> {
        self.patient_read(
            actor,
            patient,
            Action::EntryRead,
            Gate::Reach(Reach::File),
            now,
            async |_: &PatientAccess| {
                let mut conn = self.db.reader().acquire().await?;
                let entry = self
                    .readable_entry(&mut conn, actor, patient, id, now)
                    .await?
                    .ok_or(Error::not_found(Noun::Entry))?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let versions = versions_of(&mut conn, &key, id).await?;
                Ok(Audited::new((entry, versions)).resource("entry", id))
            },
        )
        .await
    }

    /// An entry and its versions without any filter: for the patient's export only.
    pub(crate) async fn entry_for_export(
        &self,
        key: &cordee_crypto::DataKey,
        patient: PatientId,
        id: EntryId,
    ) -> Result<(Entry, Vec<EntryVersion>)> {
        let mut conn = self.db.reader().acquire().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {ENTRY_COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version \
             where e.id = $1 and e.patient_id = $2"
        )))
        .bind(id.as_text())
        .bind(patient.as_text())
        .fetch_one(&mut *conn)
        .await?;
        Ok((
            entry_from_row(key, patient, &row)?,
            versions_of(&mut conn, key, id).await?,
        ))
    }

    /// The entry if the actor may read it (no audit): the rule checked entry by entry.
    pub(crate) async fn readable_entry(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        patient: PatientId,
        id: EntryId,
        now: Millis,
    ) -> Result<Option<Entry>> {
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(&format!(
            "select {ENTRY_COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version \
             where e.patient_id = "
        ));
        let p = q.shared("patient", || Arg::from(patient.as_text()));
        q.push(&p).push(" and e.id = ").push_bind(id.as_text());
        let readable = rule.entry(&mut q, "e", &p, None);
        q.push(" and ").push(&readable);
        match q.query().fetch_optional(&mut *conn).await? {
            None => Ok(None),
            Some(row) => {
                let key = self.data_key(&patient_owner(patient)).await?;
                Ok(Some(entry_from_row(&key, patient, &row)?))
            }
        }
    }

    /// A correction: a new version by the author; the old ones stay readable.
    pub async fn correct_entry(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: EntryId,
        content: EntryContent,
        now: Millis,
    ) -> Result<Entry> {
        self.patient_write(
            actor,
            patient,
            Action::EntryCorrect,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                let mut entry = self.own_entry(tx, actor, patient, id, now).await?;
                decide_write(actor, access, entry.category)?;
                let version = entry.version + 1;
                bind_attachments(
                    tx,
                    actor,
                    patient,
                    id,
                    &content.attachments,
                    &entry.attachments,
                )
                .await?;
                let moved = sqlx::query(
                    "update entries set version = $1, updated_at = $2 where id = $3 and version = $4",
                )
                .bind(version)
                .bind(now.0)
                .bind(id.as_text())
                .bind(entry.version)
                .execute(&mut **tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Err(Error::conflict(
                        "entry.version_conflict",
                        "the entry changed meanwhile; reload it",
                    ));
                }
                self.insert_version(tx, patient, id, version, &content, actor.account_id, now)
                    .await?;
                entry.version = version;
                entry.updated_at = now;
                entry.title = content.title.clone();
                entry.body = content.body.clone();
                entry.attachments = content.attachments.clone();
                Ok(Audited::new(entry)
                    .resource("entry", id)
                    .detail(format!("version={version}")))
            },
        )
        .await
    }

    /// Marks an entry as entered in error (it stays, flagged, in the history).
    pub async fn mark_entered_in_error(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: EntryId,
        now: Millis,
    ) -> Result<()> {
        self.patient_write(
            actor,
            patient,
            Action::EntryEnteredInError,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, _: &PatientAccess| {
                let entry = self.own_entry(tx, actor, patient, id, now).await?;
                if entry.status != EntryStatus::EnteredInError {
                    sqlx::query(
                        "update entries set status = 'entered_in_error', updated_at = $1 where id = $2",
                    )
                    .bind(now.0)
                    .bind(id.as_text())
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(Audited::new(()).resource("entry", id))
            },
        )
        .await
    }

    /// An entry the actor may read and wrote: what a correction or a withdrawal needs.
    async fn own_entry(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        patient: PatientId,
        id: EntryId,
        now: Millis,
    ) -> Result<Entry> {
        let entry = self
            .readable_entry(tx, actor, patient, id, now)
            .await?
            .ok_or(Error::not_found(Noun::Entry))?;
        if entry.author_id != actor.account_id {
            return Err(Error::forbidden(
                "entry.not_author",
                "only the author corrects an entry or marks it entered in error",
            ));
        }
        Ok(entry)
    }
}

/// Attaches uploads to an entry: each must be the actor's own completed upload, not
/// yet attached anywhere (or already attached to this entry).
async fn bind_attachments(
    tx: &mut Tx,
    actor: &Actor,
    patient: PatientId,
    entry: EntryId,
    wanted: &[AttachmentId],
    already: &[AttachmentId],
) -> Result<()> {
    for a in wanted.iter().filter(|a| !already.contains(a)) {
        let done = sqlx::query(
            "update attachments set patient_id = $1, entry_id = $2 where id = $3 and uploader_id = $4 \
             and patient_id is null and entry_id is null and message_id is null and completed_at is not null",
        )
        .bind(patient.as_text())
        .bind(entry.as_text())
        .bind(a.as_text())
        .bind(actor.account_id.as_text())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::invalid(
                "entry.unknown_attachment",
                format!("attachment {a} is not one of your uploads that is free to attach"),
            ));
        }
    }
    Ok(())
}

async fn versions_of(
    conn: &mut AnyConnection,
    key: &cordee_crypto::DataKey,
    id: EntryId,
) -> Result<Vec<EntryVersion>> {
    let rows = sqlx::query(
        "select version, title, body, attachments, author_id, created_at from entry_versions where entry_id = $1 order by version desc",
    )
    .bind(id.as_text())
    .fetch_all(&mut *conn)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        let place = version_row(id, version);
        versions.push(EntryVersion {
            version,
            title: open_str(
                key,
                VERSIONS,
                &place,
                "title",
                &row.try_get::<Vec<u8>, _>("title")?,
            )?,
            body: open_str(
                key,
                VERSIONS,
                &place,
                "body",
                &row.try_get::<Vec<u8>, _>("body")?,
            )?,
            attachments: parse_attachments(&row.try_get::<String, _>("attachments")?),
            author_id: AccountId::parse(&row.try_get::<String, _>("author_id")?)
                .ok_or(Error::not_found(Noun::Account))?,
            created_at: Millis(row.try_get("created_at")?),
        });
    }
    Ok(versions)
}

pub(super) fn entry_from_row(
    key: &cordee_crypto::DataKey,
    patient: PatientId,
    row: &AnyRow,
) -> Result<Entry> {
    let id =
        EntryId::parse(&row.try_get::<String, _>("id")?).ok_or(Error::not_found(Noun::Entry))?;
    let version: i64 = row.try_get("version")?;
    let place = version_row(id, version);
    Ok(Entry {
        id,
        patient_id: patient,
        category: Category::parse(&row.try_get::<String, _>("category")?)
            .ok_or(Error::not_found(Noun::Entry))?,
        kind: EntryKind::parse(&row.try_get::<String, _>("kind")?).unwrap_or(EntryKind::Note),
        title: open_str(
            key,
            VERSIONS,
            &place,
            "title",
            &row.try_get::<Vec<u8>, _>("title")?,
        )?,
        body: open_str(
            key,
            VERSIONS,
            &place,
            "body",
            &row.try_get::<Vec<u8>, _>("body")?,
        )?,
        attachments: parse_attachments(&row.try_get::<String, _>("attachments")?),
        author_id: AccountId::parse(&row.try_get::<String, _>("author_id")?)
            .ok_or(Error::not_found(Noun::Account))?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
        version,
        status: EntryStatus::parse(&row.try_get::<String, _>("status")?)
            .unwrap_or(EntryStatus::Active),
        masked: row.try_get::<i64, _>("masked")? != 0,
    })
}

#[cfg(test)]
mod tests {
    use crate::policy::Category;

    /// Listings write category names into their SQL between quotes.
    #[test]
    fn category_names_are_plain_sql_literals() {
        for c in Category::ALL {
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c:?}"
            );
        }
    }
}
