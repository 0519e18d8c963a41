//! A validated conference's record and its addenda: reading them (participants and
//! managers, audited per patient), adding a correction (a new addendum chained to
//! the last hash, never an edit), and what the patient's export carries.

use sqlx::{AnyConnection, Row};

use super::Store;
use super::case_conferences::{CASES, CONFERENCES, conference_owner, event, not_found};
use super::sealed::{open_json, open_str, patient_owner, seal_str};
use crate::account::Actor;
use crate::audit::{Action as AuditAction, AuditEvent};
use crate::case_conference::addendum::RecordView;
use crate::case_conference::addendum::{self, Addendum};
use crate::case_conference::record::Record;
use crate::case_conference::{Case, ConferenceStatus, may_see};
use crate::file::{EntryContent, EntryKind};
use crate::ids::{AccountId, AddendumId, CaseConferenceId, CaseId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

const ADDENDA: &str = "case_conference_addenda";

const ADDENDUM_COLUMNS: &str = "id, conference_id, position, case_id, patient_id, author_id, author_name, created_at, \
     text, entry_id, previous_hash, hash";

fn not_validated() -> Error {
    Error::conflict(
        "case_conference.not_validated",
        "the record exists once the conference is validated",
    )
}

fn unknown_case() -> Error {
    Error::invalid(
        "case_conference.unknown_case",
        "case_id is not a case of this conference's record",
    )
}

impl Store {
    /// The validated record (participants and managers) with the hash kept at
    /// validation and its addenda. A case of an erased patient is gone from it; an
    /// addendum about them keeps its hashes, not its text.
    pub async fn case_conference_record(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        now: Millis,
    ) -> Result<RecordView> {
        let conference = self.case_conference(actor, id).await?;
        if conference.status != ConferenceStatus::Validated {
            return Err(not_validated());
        }
        let mut conn = self.db.reader().acquire().await?;
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("select record from case_conferences where id = $1")
                .bind(id.as_text())
                .fetch_one(&mut *conn)
                .await?;
        let key = self.data_key_in(&mut conn, &conference_owner(id)).await?;
        let mut record: Record = open_json(
            &key,
            CONFERENCES,
            &id.as_text(),
            "record",
            &sealed.ok_or_else(not_found)?,
        )?;
        let rows = sqlx::query(
            "select id, patient_id, record from case_conference_cases where conference_id = $1 order by id",
        )
        .bind(id.as_text())
        .fetch_all(&mut *conn)
        .await?;
        let mut events = Vec::new();
        for row in &rows {
            let case: String = row.try_get("id")?;
            let patient =
                PatientId::parse(&row.try_get::<String, _>("patient_id")?).ok_or_else(not_found)?;
            let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("record")? else {
                continue;
            };
            let key = match self.data_key_in(&mut conn, &patient_owner(patient)).await {
                Ok(k) => k,
                Err(Error::Erased) => continue,
                Err(e) => return Err(e),
            };
            record
                .cases
                .push(open_json(&key, CASES, &case, "record", &sealed)?);
            events.push(
                event(actor, AuditAction::CaseConferenceRecordRead, now)
                    .patient(patient)
                    .resource("case_conference_case", case),
            );
        }
        record.cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        let addenda = self
            .addenda_where(&mut conn, "conference_id", &id.as_text())
            .await?;
        events.extend(addenda_read(actor, &addenda, now));
        events.push(
            event(actor, AuditAction::CaseConferenceRecordRead, now)
                .resource("case_conference", id),
        );
        self.audit_all(events).await?;
        Ok(RecordView {
            record,
            hash: conference.record_hash.unwrap_or_default(),
            addenda,
        })
    }

    /// The addenda of a validated conference, in chain order (who may read the
    /// record; audited like it).
    pub async fn case_conference_addenda(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        now: Millis,
    ) -> Result<Vec<Addendum>> {
        let conference = self.case_conference(actor, id).await?;
        if conference.status != ConferenceStatus::Validated {
            return Err(not_validated());
        }
        let mut conn = self.db.reader().acquire().await?;
        let addenda = self
            .addenda_where(&mut conn, "conference_id", &id.as_text())
            .await?;
        let mut events = addenda_read(actor, &addenda, now);
        events.push(
            event(actor, AuditAction::CaseConferenceRecordRead, now)
                .resource("case_conference", id)
                .detail("addenda"),
        );
        self.audit_all(events).await?;
        Ok(addenda)
    }

    /// Adds a correction to a validated record, in one transaction: the chain's
    /// lock (the count bumped on a validated conference), the new link hashed over
    /// the previous hash, the text sealed (the patient's key for a case, the
    /// conference's otherwise), a case's correction written into the patient's file
    /// as an `rcp` entry, audited. 404 to who may not see the conference, 409
    /// `case_conference.not_validated` before validation.
    pub async fn add_case_conference_addendum(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        case: Option<CaseId>,
        text: &str,
        now: Millis,
    ) -> Result<Addendum> {
        let text = addendum::text(text)?;
        let mut tx = self.begin().await?;
        // First, so that two corrections at once queue here and chain one after
        // the other (PostgreSQL: the row's lock until commit; SQLite: one writer).
        let done = sqlx::query(
            "update case_conferences set addenda_count = addenda_count + 1 where id = $1 and status = 'validated'",
        )
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        let conference = self
            .load_conference(&mut tx, id)
            .await?
            .ok_or_else(not_found)?;
        if !may_see(actor, &conference) {
            return Err(not_found());
        }
        if done.rows_affected() != 1 {
            return Err(not_validated());
        }
        addendum::may_add(actor, &conference, case.is_some())?;
        let record_hash = conference.record_hash.clone().ok_or_else(not_found)?;
        let (position, head): (i64, Option<String>) =
            sqlx::query_as("select addenda_count, chain_head from case_conferences where id = $1")
                .bind(id.as_text())
                .fetch_one(&mut *tx)
                .await?;
        let patient = match case {
            None => None,
            Some(case) => {
                // Only a case the record holds (validated with its patient's data).
                let row: Option<(String,)> = sqlx::query_as(
                    "select patient_id from case_conference_cases where id = $1 and conference_id = $2 and record is not null",
                )
                .bind(case.as_text())
                .bind(id.as_text())
                .fetch_optional(&mut *tx)
                .await?;
                Some(
                    row.and_then(|(p,)| PatientId::parse(&p))
                        .ok_or_else(unknown_case)?,
                )
            }
        };
        let key = match patient {
            Some(p) => self.data_key_in(&mut tx, &patient_owner(p)).await?,
            None => self.data_key_in(&mut tx, &conference_owner(id)).await?,
        };
        let author_name: String =
            sqlx::query_scalar("select display_name from accounts where id = $1")
                .bind(actor.account_id.as_text())
                .fetch_one(&mut *tx)
                .await?;
        let entry = match patient {
            Some(p) => {
                let content = EntryContent::new(
                    &addendum::entry_title(&conference),
                    &addendum::entry_body(&record_hash, &text),
                    vec![],
                )?;
                Some(
                    self.insert_workflow_entry(
                        &mut tx,
                        p,
                        actor.account_id,
                        Category::Rcp,
                        EntryKind::Note,
                        &content,
                        now,
                    )
                    .await?,
                )
            }
            None => None,
        };
        let mut added = Addendum {
            id: AddendumId::new(),
            conference_id: id,
            position,
            case_id: case,
            patient_id: patient,
            author_id: actor.account_id,
            author_name,
            created_at: now,
            text: Some(text),
            entry_id: entry.map(|e| e.to_string()),
            previous_hash: head.unwrap_or(record_hash),
            hash: String::new(),
        };
        let canonical = added.canonical().ok_or_else(not_found)?;
        added.hash = canonical.hash()?;
        let row = added.id.as_text();
        sqlx::query(
            "insert into case_conference_addenda (id, conference_id, position, case_id, patient_id, author_id, author_name, \
             created_at, text, entry_id, previous_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&row)
        .bind(id.as_text())
        .bind(position)
        .bind(case.map(|c| c.as_text()))
        .bind(patient.map(|p| p.as_text()))
        .bind(actor.account_id.as_text())
        .bind(&added.author_name)
        .bind(now.0)
        .bind(seal_str(&key, ADDENDA, &row, "text", &canonical.text)?)
        .bind(added.entry_id.clone())
        .bind(&added.previous_hash)
        .bind(&added.hash)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update case_conferences set chain_head = $1 where id = $2")
            .bind(&added.hash)
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        let mut audited = event(actor, AuditAction::CaseConferenceAddendum, now)
            .resource("case_conference_addendum", added.id)
            .detail(format!(
                "conference={id} position={position} sha256={}",
                added.hash
            ));
        if let Some(p) = patient {
            audited = audited.patient(p);
        }
        self.audit_in(&mut tx, &[audited]).await?;
        tx.commit(self).await?;
        Ok(added)
    }

    /// Every case of a patient, for the patient's export (no access check: the
    /// export has decided).
    pub(crate) async fn cases_for_export(&self, patient: PatientId) -> Result<Vec<Case>> {
        let mut conn = self.db.reader().acquire().await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "select conference_id, id from case_conference_cases where patient_id = $1 order by id",
        )
        .bind(patient.as_text())
        .fetch_all(&mut *conn)
        .await?;
        let mut cases = Vec::with_capacity(rows.len());
        for (conference, case) in &rows {
            let (Some(conference), Some(case)) =
                (CaseConferenceId::parse(conference), CaseId::parse(case))
            else {
                continue;
            };
            cases.push(self.load_case(&mut conn, conference, case).await?);
        }
        Ok(cases)
    }

    /// The corrections about a patient's cases, for the patient's export.
    pub(crate) async fn addenda_for_export(&self, patient: PatientId) -> Result<Vec<Addendum>> {
        let mut conn = self.db.reader().acquire().await?;
        self.addenda_where(&mut conn, "patient_id", &patient.as_text())
            .await
    }

    /// Addenda whose `column` (`conference_id` or `patient_id`) is `value`, in
    /// chain order, their text opened (`None` once the patient was erased).
    async fn addenda_where(
        &self,
        conn: &mut AnyConnection,
        column: &'static str,
        value: &str,
    ) -> Result<Vec<Addendum>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {ADDENDUM_COLUMNS} from case_conference_addenda where {column} = $1 order by conference_id, position"
        )))
        .bind(value)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = AddendumId::parse(&r.try_get::<String, _>("id")?).ok_or_else(not_found)?;
            let conference = CaseConferenceId::parse(&r.try_get::<String, _>("conference_id")?)
                .ok_or_else(not_found)?;
            let patient = r
                .try_get::<Option<String>, _>("patient_id")?
                .and_then(|p| PatientId::parse(&p));
            let owner = match patient {
                Some(p) => patient_owner(p),
                None => conference_owner(conference),
            };
            let text = match self.data_key_in(conn, &owner).await {
                Ok(key) => Some(open_str(
                    &key,
                    ADDENDA,
                    &id.as_text(),
                    "text",
                    &r.try_get::<Vec<u8>, _>("text")?,
                )?),
                Err(Error::Erased) => None,
                Err(e) => return Err(e),
            };
            out.push(Addendum {
                id,
                conference_id: conference,
                position: r.try_get("position")?,
                case_id: r
                    .try_get::<Option<String>, _>("case_id")?
                    .and_then(|c| CaseId::parse(&c)),
                patient_id: patient,
                author_id: AccountId::parse(&r.try_get::<String, _>("author_id")?)
                    .ok_or_else(not_found)?,
                author_name: r.try_get("author_name")?,
                created_at: Millis(r.try_get("created_at")?),
                text,
                entry_id: r.try_get("entry_id")?,
                previous_hash: r.try_get("previous_hash")?,
                hash: r.try_get("hash")?,
            });
        }
        Ok(out)
    }
}

/// A read of each addendum about a patient is a read of that patient's data.
fn addenda_read(actor: &Actor, addenda: &[Addendum], now: Millis) -> Vec<AuditEvent> {
    addenda
        .iter()
        .filter_map(|a| {
            a.patient_id.map(|p| {
                event(actor, AuditAction::CaseConferenceRecordRead, now)
                    .patient(p)
                    .resource("case_conference_addendum", a.id)
            })
        })
        .collect()
}
