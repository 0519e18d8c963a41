//! Case conferences: planning, participants and attendance, cases (through the
//! patient access rule), minutes, and validation in one transaction.
//!
//! Every change to a conference starts by bumping its version under the condition
//! that it is still planned: on PostgreSQL that statement takes the row's lock, so a
//! validation and an edit of the same conference run one after the other and the
//! second sees what the first did (409 `case_conference.validated`), never a lost
//! update; on SQLite the one writer does the same.

use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate, Rule};
use super::sealed::{open_json, open_str, patient_owner, seal_json, seal_str};
use super::sql::Sql;
use super::tx::Tx;
use crate::access::{PatientAccess, Reach};
use crate::account::{Actor, CptsRole};
use crate::audit::{Action as AuditAction, AuditEvent, Outcome, Purpose};
use crate::case_conference::quorum::{self, Attendee};
use crate::case_conference::record::Record;
use crate::case_conference::{
    Action, AgendaQuery, Case, Conference, ConferenceInput, ConferencePatch, ConferenceStatus,
    Minutes, entry_body, entry_title, may_manage, may_organise, may_see, question,
};
use crate::error::Noun;
use crate::file::{EntryContent, EntryKind};
use crate::ids::{AccountId, CaseConferenceId, CaseId, PatientId};
use crate::notification::{Notice, NotificationKind};
use crate::patient::Identity;
use crate::policy::Category;
use crate::profile::Profile;
use crate::{Error, Millis, Result};

pub(super) const CONFERENCES: &str = "case_conferences";
pub(super) const CASES: &str = "case_conference_cases";
const ACTIONS: &str = "case_conference_actions";

const CONFERENCE_COLUMNS: &str = "id, kind, scheduled_at, duration_minutes, status, validated_at, created_by, created_at, \
     title, place, chair_id, min_participants, min_professions, version, updated_at, record_hash";

const CASE_COLUMNS: &str = "id, conference_id, patient_id, presenter_id, question, summary, proposal, decision, \
     follow_up_id, entry_id, created_at, updated_at";

pub(super) fn conference_owner(id: CaseConferenceId) -> String {
    format!("case_conference:{id}")
}

pub(super) fn not_found() -> Error {
    Error::not_found(Noun::CaseConference)
}

fn managers_only() -> Error {
    Error::forbidden(
        "case_conference.managers_only",
        "only the conference's creator, its chair, coordinators and admins change it",
    )
}

fn unknown_account(field: &str) -> Error {
    Error::invalid(
        "case_conference.unknown_account",
        format!("{field} is not an account of this CPTS"),
    )
}

pub(super) fn event(actor: &Actor, action: AuditAction, now: Millis) -> AuditEvent {
    AuditEvent::new(
        now,
        Some(actor.account_id),
        action,
        Purpose::CaseConference,
        Outcome::Allowed,
    )
}

pub(super) fn parse_account(text: Option<String>) -> Option<AccountId> {
    text.as_deref().and_then(AccountId::parse)
}

/// The patient's identity as a case shows it: NAME First names, birth date.
fn identity_line(identity: &Identity) -> (String, String) {
    let name = identity
        .used_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(&identity.birth_name);
    (
        format!("{} {}", name.to_uppercase(), identity.first_names),
        identity.birth_date.clone(),
    )
}

impl Store {
    /// Plans a conference; its chair (the creator unless named) is its first
    /// participant. Audited; the chair is notified after commit.
    pub async fn create_case_conference(
        &self,
        actor: &Actor,
        input: ConferenceInput,
        now: Millis,
    ) -> Result<Conference> {
        may_organise(actor)?;
        let input = input.validate()?;
        let id = CaseConferenceId::new();
        let chair = input.chair_id.unwrap_or(actor.account_id);
        let mut tx = self.begin().await?;
        let known: Option<(String,)> = sqlx::query_as("select id from accounts where id = $1")
            .bind(chair.as_text())
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(unknown_account("chair_id"));
        }
        let key = self
            .create_data_key(&mut tx, &conference_owner(id), now)
            .await?;
        let row = id.as_text();
        let place = match &input.place {
            Some(p) => Some(seal_str(&key, CONFERENCES, &row, "place", p)?),
            None => None,
        };
        sqlx::query(
            "insert into case_conferences (id, kind, scheduled_at, duration_minutes, status, created_by, created_at, \
             title, place, chair_id, min_participants, min_professions, version, updated_at) \
             values ($1, $2, $3, $4, 'planned', $5, $6, $7, $8, $9, $10, $11, 1, $6)",
        )
        .bind(&row)
        .bind(input.kind.as_str())
        .bind(input.scheduled_at.0)
        .bind(input.duration_minutes)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(seal_str(&key, CONFERENCES, &row, "title", &input.title)?)
        .bind(place)
        .bind(chair.as_text())
        .bind(input.quorum.min_participants)
        .bind(input.quorum.min_professions)
        .execute(&mut *tx)
        .await?;
        self.insert_participant(&mut tx, actor, id, chair, now)
            .await
            .map_err(|e| match e {
                Error::Invalid { .. } => unknown_account("chair_id"),
                e => e,
            })?;
        self.audit_in(
            &mut tx,
            &[event(actor, AuditAction::CaseConferenceCreate, now)
                .resource("case_conference", id)
                .detail(format!("kind={}", input.kind))],
        )
        .await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    /// One conference the actor takes part in or manages (404 otherwise).
    pub async fn case_conference(&self, actor: &Actor, id: CaseConferenceId) -> Result<Conference> {
        let mut conn = self.db.reader().acquire().await?;
        let conference = self
            .load_conference(&mut conn, id)
            .await?
            .ok_or_else(not_found)?;
        if !may_see(actor, &conference) {
            return Err(not_found());
        }
        Ok(conference)
    }

    /// The agenda: conferences in (scheduled_at, id) order, up to `limit`. Coordinators
    /// and admins see every conference unless `mine`; others those they take part in,
    /// chair or created.
    pub async fn case_conferences(
        &self,
        actor: &Actor,
        query: &AgendaQuery,
    ) -> Result<Vec<Conference>> {
        let mut q = Sql::new(&format!(
            "select {CONFERENCE_COLUMNS} from case_conferences c where 1 = 1"
        ));
        if let Some(from) = query.from {
            q.push(" and c.scheduled_at >= ").push_bind(from.0);
        }
        if let Some(to) = query.to {
            q.push(" and c.scheduled_at < ").push_bind(to.0);
        }
        let a = q.bind(actor.account_id.as_text());
        let part = format!(
            "exists (select 1 from case_conference_participants cp where cp.conference_id = c.id \
             and cp.account_id = {a} and cp.removed_at is null)"
        );
        let organiser = actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin);
        if query.mine {
            q.push(&format!(" and ({part} or c.chair_id = {a})"));
        } else if !organiser {
            q.push(&format!(
                " and ({part} or c.chair_id = {a} or c.created_by = {a})"
            ));
        }
        if let Some(after) = query.after {
            let at = q.bind(after.scheduled_at);
            let id = q.bind(after.id.as_text());
            q.push(&format!(
                " and (c.scheduled_at > {at} or (c.scheduled_at = {at} and c.id > {id}))"
            ));
        }
        q.push(" order by c.scheduled_at, c.id limit ")
            .push_bind(query.limit);
        let mut conn = self.db.reader().acquire().await?;
        let rows = q.query().fetch_all(&mut *conn).await?;
        self.conferences_from_rows(&mut conn, &rows).await
    }

    /// Changes the plan, or cancels (managers; 409 once validated).
    pub async fn update_case_conference(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        patch: ConferencePatch,
        now: Millis,
    ) -> Result<Conference> {
        let mut tx = self.begin().await?;
        let current = self.lock_planned(&mut tx, actor, id, now).await?;
        if !may_manage(actor, &current) {
            return Err(managers_only());
        }
        if let Some(v) = patch.version
            && v != current.version - 1
        {
            return Err(Error::conflict(
                "case_conference.version_conflict",
                "the conference changed meanwhile; reload it",
            ));
        }
        let cancel = patch.status == Some(ConferenceStatus::Cancelled);
        let input = patch.apply(&current)?;
        let chair = input.chair_id.unwrap_or(current.chair_id);
        if chair != current.chair_id {
            self.insert_participant(&mut tx, actor, id, chair, now)
                .await
                .map_err(|e| match e {
                    Error::Invalid { .. } => unknown_account("chair_id"),
                    e => e,
                })?;
        }
        let key = self.data_key_in(&mut tx, &conference_owner(id)).await?;
        let row = id.as_text();
        let place = match &input.place {
            Some(p) => Some(seal_str(&key, CONFERENCES, &row, "place", p)?),
            None => None,
        };
        sqlx::query(
            "update case_conferences set kind = $1, scheduled_at = $2, duration_minutes = $3, title = $4, place = $5, \
             chair_id = $6, min_participants = $7, min_professions = $8, status = $9 where id = $10",
        )
        .bind(input.kind.as_str())
        .bind(input.scheduled_at.0)
        .bind(input.duration_minutes)
        .bind(seal_str(&key, CONFERENCES, &row, "title", &input.title)?)
        .bind(place)
        .bind(chair.as_text())
        .bind(input.quorum.min_participants)
        .bind(input.quorum.min_professions)
        .bind(if cancel { "cancelled" } else { "planned" })
        .bind(&row)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[event(actor, AuditAction::CaseConferenceUpdate, now)
                .resource("case_conference", id)
                .detail(if cancel { "status=cancelled" } else { "plan" })],
        )
        .await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    /// Invites a professional (managers); they are notified after commit.
    pub async fn add_case_conference_participant(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        account: AccountId,
        now: Millis,
    ) -> Result<Conference> {
        let mut tx = self.begin().await?;
        let conference = self.lock_planned(&mut tx, actor, id, now).await?;
        if !may_manage(actor, &conference) {
            return Err(managers_only());
        }
        self.insert_participant(&mut tx, actor, id, account, now)
            .await?;
        self.audit_in(
            &mut tx,
            &[event(actor, AuditAction::CaseConferenceParticipantAdd, now)
                .resource("case_conference", id)
                .detail(format!("account={account}"))],
        )
        .await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    /// Withdraws an invitation (managers).
    pub async fn remove_case_conference_participant(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        account: AccountId,
        now: Millis,
    ) -> Result<Conference> {
        let mut tx = self.begin().await?;
        let conference = self.lock_planned(&mut tx, actor, id, now).await?;
        if !may_manage(actor, &conference) {
            return Err(managers_only());
        }
        let done = sqlx::query(
            "update case_conference_participants set removed_at = $1 where conference_id = $2 and account_id = $3 and removed_at is null",
        )
        .bind(now.0)
        .bind(id.as_text())
        .bind(account.as_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::not_found(Noun::CaseConferenceParticipant));
        }
        self.audit_in(
            &mut tx,
            &[
                event(actor, AuditAction::CaseConferenceParticipantRemove, now)
                    .resource("case_conference", id)
                    .detail(format!("account={account}")),
            ],
        )
        .await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    /// Records whether a participant attended (managers).
    pub async fn set_case_conference_attendance(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        account: AccountId,
        attended: bool,
        now: Millis,
    ) -> Result<Conference> {
        let mut tx = self.begin().await?;
        let conference = self.lock_planned(&mut tx, actor, id, now).await?;
        if !may_manage(actor, &conference) {
            return Err(managers_only());
        }
        let done = sqlx::query(
            "update case_conference_participants set attended = $1, attendance_at = $2 \
             where conference_id = $3 and account_id = $4 and removed_at is null",
        )
        .bind(i64::from(attended))
        .bind(now.0)
        .bind(id.as_text())
        .bind(account.as_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::not_found(Noun::CaseConferenceParticipant));
        }
        self.audit_in(
            &mut tx,
            &[event(actor, AuditAction::CaseConferenceAttendance, now)
                .resource("case_conference", id)
                .detail(format!("account={account} attended={attended}"))],
        )
        .await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    /// Puts a patient on the agenda: the caller presents, and must reach the patient's
    /// file; a patient who objected to sharing in case conferences (an objection to
    /// the `rcp` category) is refused with `case_conference.patient_objected`.
    pub async fn add_case_conference_case(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        patient: PatientId,
        question_text: &str,
        now: Millis,
    ) -> Result<Case> {
        let asked = question(question_text)?;
        self.patient_write(
            actor,
            patient,
            AuditAction::CaseConferenceCaseAdd,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                if access.objected_categories.contains(&Category::Rcp) {
                    return Err(Error::forbidden(
                        "case_conference.patient_objected",
                        "the patient objected to their case being discussed in case conferences",
                    ));
                }
                self.lock_planned(tx, actor, id, now).await?;
                let already: Option<(String,)> = sqlx::query_as(
                    "select id from case_conference_cases where conference_id = $1 and patient_id = $2",
                )
                .bind(id.as_text())
                .bind(patient.as_text())
                .fetch_optional(&mut **tx)
                .await?;
                if already.is_some() {
                    return Err(Error::conflict(
                        "case_conference.duplicate_case",
                        "this patient is already on the conference's agenda",
                    ));
                }
                let case_id = CaseId::new();
                let key = self.data_key_in(tx, &patient_owner(patient)).await?;
                sqlx::query(
                    "insert into case_conference_cases (id, conference_id, patient_id, presenter_id, created_at, question, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $5)",
                )
                .bind(case_id.as_text())
                .bind(id.as_text())
                .bind(patient.as_text())
                .bind(actor.account_id.as_text())
                .bind(now.0)
                .bind(seal_str(&key, CASES, &case_id.as_text(), "question", &asked)?)
                .execute(&mut **tx)
                .await?;
                let case = self.load_case(tx, id, case_id).await?;
                Ok(Audited::new(case)
                    .resource("case_conference_case", case_id)
                    .detail(format!("conference={id}")))
            },
        )
        .await
    }

    /// The cases of a conference the actor may read: participants during the
    /// conference (start → validation), and whoever the file's rule lets in.
    pub async fn case_conference_cases(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        now: Millis,
    ) -> Result<Vec<Case>> {
        self.case_conference(actor, id).await?;
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(
            "select cc.id, cc.patient_id from case_conference_cases cc where cc.conference_id = ",
        );
        q.push_bind(id.as_text());
        let reach = rule.reaches(&mut q, Reach::Case, "cc.patient_id");
        q.push(" and ").push(&reach).push(" order by cc.id");
        let rows = q.query().fetch_all(self.db.reader()).await?;
        let mut cases = Vec::with_capacity(rows.len());
        for row in &rows {
            let case = CaseId::parse(&row.try_get::<String, _>("id")?).ok_or_else(not_found)?;
            cases.push(self.case_conference_case(actor, id, case, now).await?);
        }
        Ok(cases)
    }

    /// One case: its question, the patient's identity, the minutes (audited as a read
    /// of the patient's data, under the basis that opened it).
    pub async fn case_conference_case(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        case: CaseId,
        now: Millis,
    ) -> Result<Case> {
        let patient = self.case_patient(id, case).await?;
        self.patient_read(
            actor,
            patient,
            AuditAction::CaseConferenceCaseRead,
            Gate::Reach(Reach::Case),
            now,
            async |_: &PatientAccess| {
                let mut conn = self.db.reader().acquire().await?;
                let found = self.load_case(&mut conn, id, case).await?;
                Ok(Audited::new(found)
                    .resource("case_conference_case", case)
                    .detail(format!("conference={id}")))
            },
        )
        .await
    }

    /// The chair's minutes for a case: summary, proposal, decision, follow-up, actions.
    pub async fn record_case_minutes(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        case: CaseId,
        minutes: Minutes,
        now: Millis,
    ) -> Result<Case> {
        let minutes = minutes.validate()?;
        let patient = self.case_patient(id, case).await?;
        self.patient_write(
            actor,
            patient,
            AuditAction::CaseConferenceMinutes,
            Gate::Reach(Reach::Case),
            now,
            async |tx: &mut Tx, _: &PatientAccess| {
                let conference = self.lock_planned(tx, actor, id, now).await?;
                if !may_manage(actor, &conference) {
                    return Err(Error::forbidden(
                        "case_conference.chair_only",
                        "the chair (or a coordinator) writes the minutes",
                    ));
                }
                let mut people: Vec<(AccountId, &str)> = minutes
                    .actions
                    .iter()
                    .map(|a| (a.assignee_id, "tasks[].assignee_id"))
                    .collect();
                if let Some(f) = minutes.follow_up_id {
                    people.push((f, "follow_up_id"));
                }
                for (who, field) in people {
                    let known: Option<(String,)> =
                        sqlx::query_as("select id from accounts where id = $1")
                            .bind(who.as_text())
                            .fetch_optional(&mut **tx)
                            .await?;
                    if known.is_none() {
                        return Err(unknown_account(field));
                    }
                }
                let key = self.data_key_in(tx, &patient_owner(patient)).await?;
                let row = case.as_text();
                let seal = |field: &str, v: &Option<String>| -> Result<Option<Vec<u8>>> {
                    v.as_ref()
                        .map(|t| seal_str(&key, CASES, &row, field, t))
                        .transpose()
                };
                sqlx::query(
                    "update case_conference_cases set summary = $1, proposal = $2, decision = $3, follow_up_id = $4, updated_at = $5 where id = $6",
                )
                .bind(seal("summary", &minutes.summary)?)
                .bind(seal("proposal", &minutes.proposal)?)
                .bind(seal("decision", &minutes.decision)?)
                .bind(minutes.follow_up_id.map(|f| f.as_text()))
                .bind(now.0)
                .bind(&row)
                .execute(&mut **tx)
                .await?;
                sqlx::query("delete from case_conference_actions where case_id = $1")
                    .bind(&row)
                    .execute(&mut **tx)
                    .await?;
                for (position, a) in minutes.actions.iter().enumerate() {
                    let place = format!("{case}:{position}");
                    sqlx::query(
                        "insert into case_conference_actions (case_id, position, conference_id, patient_id, title, category, assignee_id, due_on) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&row)
                    .bind(position as i64)
                    .bind(id.as_text())
                    .bind(patient.as_text())
                    .bind(seal_str(&key, ACTIONS, &place, "title", &a.title)?)
                    .bind(a.category.as_str())
                    .bind(a.assignee_id.as_text())
                    .bind(&a.due_on)
                    .execute(&mut **tx)
                    .await?;
                }
                let found = self.load_case(tx, id, case).await?;
                Ok(Audited::new(found)
                    .resource("case_conference_case", case)
                    .detail(format!(
                        "conference={id} tasks={}",
                        minutes.actions.len()
                    )))
            },
        )
        .await
    }

    /// Validation, in one transaction: the quorum against attendance (409
    /// `case_conference.quorum_not_met` naming what is missing), the record frozen and
    /// hashed, each case an `rcp` entry in its patient's file, its actions handed to
    /// the care plans, the follow-up professional and assignees notified (after
    /// commit), everything audited.
    pub async fn validate_case_conference(
        &self,
        actor: &Actor,
        id: CaseConferenceId,
        now: Millis,
    ) -> Result<Conference> {
        let mut tx = self.begin().await?;
        let conference = self.lock_planned(&mut tx, actor, id, now).await?;
        if !may_manage(actor, &conference) {
            return Err(managers_only());
        }
        if now < conference.scheduled_at {
            return Err(Error::conflict(
                "case_conference.not_started",
                "a conference is validated once it has started",
            ));
        }
        let attendees: Vec<Attendee> = conference
            .participants
            .iter()
            .map(|p| Attendee {
                profession_code: p.profession_code.clone(),
                specialty_code: p.specialty_code.clone(),
                attended: p.attended.unwrap_or(false),
            })
            .collect();
        quorum::require(conference.kind, conference.quorum, &attendees)?;
        let ids: Vec<(String,)> = sqlx::query_as(
            "select id from case_conference_cases where conference_id = $1 order by id",
        )
        .bind(id.as_text())
        .fetch_all(&mut *tx)
        .await?;
        let mut cases = Vec::with_capacity(ids.len());
        for (case,) in &ids {
            let case = CaseId::parse(case).ok_or_else(not_found)?;
            match self.load_case(&mut tx, id, case).await {
                Ok(c) => cases.push(c),
                // A patient erased meanwhile: nothing of them goes into the record.
                Err(Error::Erased) => continue,
                Err(e) => return Err(e),
            }
        }
        let record = Record::build(&conference, &cases, actor.account_id, now);
        let hash = record.hash()?;
        let title = entry_title(&conference);
        let mut events = Vec::with_capacity(cases.len() + 1);
        for (case, part) in cases.iter().zip(record.cases.iter()) {
            let content = EntryContent::new(&title, &entry_body(case), vec![])?;
            let entry = self
                .insert_workflow_entry(
                    &mut tx,
                    case.patient_id,
                    conference.chair_id,
                    Category::Rcp,
                    EntryKind::Note,
                    &content,
                    now,
                )
                .await?;
            let key = self
                .data_key_in(&mut tx, &patient_owner(case.patient_id))
                .await?;
            sqlx::query(
                "update case_conference_cases set entry_id = $1, record = $2 where id = $3",
            )
            .bind(entry.as_text())
            .bind(seal_json(&key, CASES, &case.id.as_text(), "record", part)?)
            .bind(case.id.as_text())
            .execute(&mut *tx)
            .await?;
            let tasks = self
                .actions_to_tasks(&mut tx, case, conference.chair_id, now)
                .await?;
            let mut told: Vec<AccountId> = Vec::new();
            if let Some(f) = case.follow_up_id {
                self.notify_in(
                    &mut tx,
                    Notice {
                        to: f,
                        kind: NotificationKind::CaseConferenceFollowUp,
                        patient: Some(case.patient_id),
                        subject: Some(case.id.as_text()),
                        actor: Some(actor.account_id),
                    },
                    now,
                )
                .await?;
                told.push(f);
            }
            for a in &case.actions {
                if told.contains(&a.assignee_id) {
                    continue;
                }
                self.notify_in(
                    &mut tx,
                    Notice {
                        to: a.assignee_id,
                        kind: NotificationKind::CaseConferenceTaskAssigned,
                        patient: Some(case.patient_id),
                        subject: Some(case.id.as_text()),
                        actor: Some(actor.account_id),
                    },
                    now,
                )
                .await?;
                told.push(a.assignee_id);
            }
            events.push(
                event(actor, AuditAction::CaseConferenceValidate, now)
                    .patient(case.patient_id)
                    .resource("case_conference_case", case.id)
                    .detail(format!("conference={id} entry={entry} tasks={tasks}")),
            );
        }
        let key = self.data_key_in(&mut tx, &conference_owner(id)).await?;
        let head = Record {
            cases: Vec::new(),
            ..record
        };
        sqlx::query(
            "update case_conferences set status = 'validated', validated_at = $1, validated_by = $2, record = $3, record_hash = $4 where id = $5",
        )
        .bind(now.0)
        .bind(actor.account_id.as_text())
        .bind(seal_json(&key, CONFERENCES, &id.as_text(), "record", &head)?)
        .bind(&hash)
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        events.push(
            event(actor, AuditAction::CaseConferenceValidate, now)
                .resource("case_conference", id)
                .detail(format!("cases={} sha256={hash}", cases.len())),
        );
        self.audit_in(&mut tx, &events).await?;
        tx.commit(self).await?;
        self.case_conference(actor, id).await
    }

    // --- helpers ---------------------------------------------------------------

    /// Bumps the version of a planned conference (its row lock), then reads it: 404
    /// for those who may not see it, 409 once validated or cancelled.
    async fn lock_planned(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: CaseConferenceId,
        now: Millis,
    ) -> Result<Conference> {
        let done = sqlx::query(
            "update case_conferences set version = version + 1, updated_at = $1 where id = $2 and status = 'planned'",
        )
        .bind(now.0)
        .bind(id.as_text())
        .execute(&mut **tx)
        .await?;
        let conference = self.load_conference(tx, id).await?.ok_or_else(not_found)?;
        if !may_see(actor, &conference) {
            return Err(not_found());
        }
        if done.rows_affected() != 1 {
            return Err(match conference.status {
                ConferenceStatus::Validated => Error::conflict(
                    "case_conference.validated",
                    "the conference is validated: its record is immutable (a correction is a new record)",
                ),
                _ => Error::conflict("case_conference.cancelled", "the conference is cancelled"),
            });
        }
        Ok(conference)
    }

    /// Adds (or brings back) a participant with a snapshot of who they are; notifies
    /// them unless they are the actor.
    async fn insert_participant(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: CaseConferenceId,
        account: AccountId,
        now: Millis,
    ) -> Result<()> {
        let row: Option<(String, String)> =
            sqlx::query_as("select display_name, profile from accounts where id = $1")
                .bind(account.as_text())
                .fetch_optional(&mut **tx)
                .await?;
        let Some((name, profile)) = row else {
            return Err(unknown_account("account_id"));
        };
        let profile: Profile = serde_json::from_str(&profile).unwrap_or_default();
        let exercice = profile.exercices.iter().find(|e| e.profession.is_some());
        let profession = exercice
            .and_then(|e| e.profession.as_ref())
            .map(|p| p.as_str().to_string());
        let specialty = exercice
            .and_then(|e| e.specialty.as_ref())
            .map(|s| s.code.clone());
        let existing: Option<(Option<i64>,)> = sqlx::query_as(
            "select removed_at from case_conference_participants where conference_id = $1 and account_id = $2",
        )
        .bind(id.as_text())
        .bind(account.as_text())
        .fetch_optional(&mut **tx)
        .await?;
        match existing {
            Some((None,)) => return Ok(()),
            Some((Some(_),)) => {
                sqlx::query(
                    "update case_conference_participants set removed_at = null, attended = null, added_at = $1, \
                     display_name = $2, profession_code = $3, specialty_code = $4 where conference_id = $5 and account_id = $6",
                )
                .bind(now.0)
                .bind(&name)
                .bind(profession)
                .bind(specialty)
                .bind(id.as_text())
                .bind(account.as_text())
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "insert into case_conference_participants (conference_id, account_id, added_at, display_name, profession_code, specialty_code) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.as_text())
                .bind(account.as_text())
                .bind(now.0)
                .bind(&name)
                .bind(profession)
                .bind(specialty)
                .execute(&mut **tx)
                .await?;
            }
        }
        if account != actor.account_id {
            self.notify_in(
                tx,
                Notice {
                    to: account,
                    kind: NotificationKind::CaseConferenceInvited,
                    patient: None,
                    subject: Some(id.as_text()),
                    actor: Some(actor.account_id),
                },
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// The patient of a case of this conference (404 when there is no such case).
    async fn case_patient(&self, id: CaseConferenceId, case: CaseId) -> Result<PatientId> {
        let row: Option<(String,)> = sqlx::query_as(
            "select patient_id from case_conference_cases where id = $1 and conference_id = $2",
        )
        .bind(case.as_text())
        .bind(id.as_text())
        .fetch_optional(self.db.reader())
        .await?;
        row.and_then(|(p,)| PatientId::parse(&p))
            .ok_or(Error::not_found(Noun::CaseConferenceCase))
    }

    pub(super) async fn load_conference(
        &self,
        conn: &mut AnyConnection,
        id: CaseConferenceId,
    ) -> Result<Option<Conference>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CONFERENCE_COLUMNS} from case_conferences where id = $1"
        )))
        .bind(id.as_text())
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(self
                .conferences_from_rows(conn, std::slice::from_ref(&row))
                .await?
                .pop()),
        }
    }

    /// A case with its sealed text opened under the patient's key (no access check:
    /// callers have checked).
    pub(super) async fn load_case(
        &self,
        conn: &mut AnyConnection,
        id: CaseConferenceId,
        case: CaseId,
    ) -> Result<Case> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CASE_COLUMNS} from case_conference_cases where id = $1 and conference_id = $2"
        )))
        .bind(case.as_text())
        .bind(id.as_text())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::CaseConferenceCase))?;
        let patient = PatientId::parse(&row.try_get::<String, _>("patient_id")?)
            .ok_or(Error::not_found(Noun::CaseConferenceCase))?;
        let key = self.data_key_in(conn, &patient_owner(patient)).await?;
        let place = case.as_text();
        let open = |field: &str| -> Result<Option<String>> {
            row.try_get::<Option<Vec<u8>>, _>(field)?
                .map(|s| open_str(&key, CASES, &place, field, &s))
                .transpose()
        };
        let identity: Option<Vec<u8>> =
            sqlx::query_scalar("select identity from patients where id = $1")
                .bind(patient.as_text())
                .fetch_one(&mut *conn)
                .await?;
        let identity: Identity = open_json(
            &key,
            "patients",
            &patient.as_text(),
            "identity",
            &identity.ok_or(Error::Erased)?,
        )?;
        let (patient_name, patient_birth_date) = identity_line(&identity);
        let actions = sqlx::query(
            "select position, title, category, assignee_id, due_on from case_conference_actions where case_id = $1 order by position",
        )
        .bind(&place)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|a| -> Result<Action> {
            let position: i64 = a.try_get("position")?;
            Ok(Action {
                title: open_str(
                    &key,
                    ACTIONS,
                    &format!("{case}:{position}"),
                    "title",
                    &a.try_get::<Vec<u8>, _>("title")?,
                )?,
                category: Category::parse(&a.try_get::<String, _>("category")?)
                    .unwrap_or(Category::Soins),
                assignee_id: parse_account(a.try_get("assignee_id")?).ok_or_else(not_found)?,
                due_on: a.try_get("due_on")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let created_at = Millis(row.try_get("created_at")?);
        Ok(Case {
            id: case,
            conference_id: id,
            patient_id: patient,
            patient_name,
            patient_birth_date,
            presenter_id: parse_account(row.try_get("presenter_id")?).ok_or_else(not_found)?,
            question: open("question")?.unwrap_or_default(),
            summary: open("summary")?,
            proposal: open("proposal")?,
            decision: open("decision")?,
            follow_up_id: parse_account(row.try_get("follow_up_id")?),
            actions,
            entry_id: row.try_get("entry_id")?,
            created_at,
            updated_at: row
                .try_get::<Option<i64>, _>("updated_at")?
                .map(Millis)
                .unwrap_or(created_at),
        })
    }
}
