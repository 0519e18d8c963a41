//! Emergency access (break-glass) and the patient's rights: information, objections,
//! masking, the access log, the export of the whole file. All through the guard of
//! `access.rs`; the decisions are in `consent.rs` and `access.rs`.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::Store;
use super::access::{Audited, Gate};
use super::sealed::{open_str, patient_owner, seal_str};
use super::tx::Tx;
use crate::access::{Basis, PatientAccess, Reach};
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::consent::{
    ConsentChange, Objection, ObjectionRecord, decide_mask, decide_objection, decide_unmask,
    may_record, shows_objection,
};
use crate::error::Noun;
use crate::file::{Entry, EntryVersion};
use crate::ids::{AccountId, EntryId, GrantId, ObjectionId, PatientId};
use crate::notification::{Notice, NotificationKind};
use crate::patient::{BI_INS, BI_NAME_DATE, PatientQuery, name_date_key};
use crate::policy::Category;
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub id: GrantId,
    pub patient_id: PatientId,
    pub account_id: AccountId,
    pub granted_at: Millis,
    pub expires_at: Millis,
}

/// The patient's wishes as one reader may see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub informed_at: Option<Millis>,
    pub informed_by: Option<AccountId>,
    pub objections: Vec<ObjectionRecord>,
    /// Masked entries the reader may read (their own, or all as médecin traitant).
    pub masked_entries: Vec<EntryId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessLogItem {
    pub seq: i64,
    pub at: Millis,
    pub actor_id: Option<AccountId>,
    pub actor_name: Option<String>,
    pub action: Action,
    pub purpose: Purpose,
    pub outcome: Outcome,
    pub resource_type: Option<String>,
    /// Withheld when it names an entry the reader may not read.
    pub resource_id: Option<String>,
}

/// Everything about one patient, for the patient.
#[derive(Clone, Debug)]
pub struct Export {
    pub patient: super::PatientView,
    pub care_team: Vec<super::Member>,
    pub consent: Consent,
    pub entries: Vec<(Entry, Vec<EntryVersion>)>,
    /// The threads about the patient, each with its messages: part of the file.
    pub conversations: Vec<(
        crate::conversation::Conversation,
        Vec<crate::conversation::Message>,
    )>,
    pub exported_at: Millis,
    /// Waiting-list requests about the patient (issue 14).
    pub waiting_requests: Vec<super::RequestView>,
    // Pathways, care plans and tasks (issue 12)
    /// The care plans with their versions, reviews and tasks.
    pub care_plans: Vec<super::PlanExport>,
    // Case conferences (issue 13): the cases discussed, with their minutes.
    pub case_conference_cases: Vec<crate::case_conference::Case>,
    /// The corrections added to those cases after validation.
    pub case_conference_addenda: Vec<crate::case_conference::addendum::Addendum>,
}

const GRANTS: &str = "break_glass_grants";

/// A masked or maskable entry's facts.
struct EntryFacts {
    category: Category,
    masked: bool,
    author: AccountId,
}

impl Store {
    /// Emergency access for a health professional outside the team: a reason, a
    /// limited time, an audited security event, and the team is told.
    pub async fn break_glass(
        &self,
        actor: &Actor,
        patient: PatientId,
        reason: &str,
        duration_secs: i64,
        now: Millis,
    ) -> Result<Grant> {
        self.patient_write(
            actor,
            patient,
            Action::BreakGlassGrant,
            Gate::Exists,
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                let reason = break_glass_reason_of(actor, reason)?;
                if access.member() {
                    return Err(Error::conflict(
                        "break_glass.already_member",
                        "you are on the care team already",
                    ));
                }
                let id = GrantId::new();
                let expires_at = now.plus_secs(duration_secs);
                let key = self.data_key_in(tx, &patient_owner(patient)).await?;
                sqlx::query(
                    "insert into break_glass_grants (id, patient_id, account_id, reason, granted_at, expires_at) values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.as_text())
                .bind(patient.as_text())
                .bind(actor.account_id.as_text())
                .bind(seal_str(&key, GRANTS, &id.as_text(), "reason", reason)?)
                .bind(now.0)
                .bind(expires_at.0)
                .execute(&mut **tx)
                .await?;
                let team: Vec<String> = sqlx::query_scalar(
                    "select distinct account_id from care_team_members where patient_id = $1 and removed_at is null and start_at <= $2 and (end_at is null or end_at > $2)",
                )
                .bind(patient.as_text())
                .bind(now.0)
                .fetch_all(&mut **tx)
                .await?;
                for member in team.iter().filter_map(|m| AccountId::parse(m)) {
                    self.notify_in(
                        tx,
                        Notice {
                            to: member,
                            kind: NotificationKind::BreakGlassGranted,
                            patient: Some(patient),
                            subject: Some(id.as_text()),
                            actor: Some(actor.account_id),
                        },
                        now,
                    )
                    .await?;
                }
                tracing::warn!(grant = %id, patient = %patient, account = %actor.account_id, "security event: break-glass access granted");
                Ok(Audited::new(Grant {
                    id,
                    patient_id: patient,
                    account_id: actor.account_id,
                    granted_at: now,
                    expires_at,
                })
                .purpose(Purpose::BreakGlass)
                .resource("break_glass_grant", id)
                .detail(format!(
                    "expires_at={} notified={}",
                    expires_at.0,
                    team.len()
                )))
            },
        )
        .await
    }

    /// Emergency access found by identity: a professional outside the team has the
    /// patient in front of them, not a Cordée id. The query is the exact INS or
    /// birth name and date, as for `list_patients`; a unique match is granted as by
    /// [`Store::break_glass`]. Every lookup is audited, hit or miss, and a hit
    /// notifies the team, so probing the CPTS's patients this way is conspicuous.
    pub async fn break_glass_by_identity(
        &self,
        actor: &Actor,
        query: &PatientQuery,
        reason: &str,
        duration_secs: i64,
        now: Millis,
    ) -> Result<Grant> {
        let lookup = |outcome: Outcome, detail: &str| {
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::BreakGlassLookup,
                Purpose::BreakGlass,
                outcome,
            )
            .detail(detail.to_string())
        };
        if let Err(e) = break_glass_reason_of(actor, reason) {
            if e.is_refusal() {
                self.audit(lookup(Outcome::Denied, e.code())).await?;
            }
            return Err(e);
        }
        let ids: Vec<String> = match query {
            PatientQuery::Ins(ins) => sqlx::query_scalar(
                "select id from patients where bi_ins = $1 and erased_at is null limit 2",
            )
            .bind(self.blind_index(BI_INS, ins.as_str()).as_bytes().to_vec()),
            PatientQuery::NameDate {
                birth_name,
                birth_date,
            } => sqlx::query_scalar(
                "select id from patients where bi_name_date = $1 and erased_at is null limit 2",
            )
            .bind(
                self.blind_index(BI_NAME_DATE, &name_date_key(birth_name, birth_date))
                    .as_bytes()
                    .to_vec(),
            ),
        }
        .fetch_all(self.db.reader())
        .await?;
        let found: Vec<PatientId> = ids.iter().filter_map(|i| PatientId::parse(i)).collect();
        match found.as_slice() {
            [patient] => {
                self.break_glass(actor, *patient, reason, duration_secs, now)
                    .await
            }
            [] => {
                self.audit(lookup(Outcome::Denied, "matches=0")).await?;
                Err(Error::not_found(Noun::Patient))
            }
            _ => {
                self.audit(lookup(Outcome::Denied, "matches=several"))
                    .await?;
                Err(Error::conflict(
                    "break_glass.ambiguous",
                    "several patients have this birth name and date; search by INS",
                ))
            }
        }
    }

    /// The reason given for a grant (for the team that was notified).
    pub async fn break_glass_reason(
        &self,
        actor: &Actor,
        patient: PatientId,
        grant: GrantId,
        now: Millis,
    ) -> Result<String> {
        self.patient_read(
            actor,
            patient,
            Action::BreakGlassReasonRead,
            Gate::Reach(Reach::Identity),
            now,
            async |access: &PatientAccess| {
                if !access.member() {
                    return Err(Error::not_found(Noun::Grant));
                }
                let sealed: Vec<u8> = sqlx::query_scalar(
                    "select reason from break_glass_grants where id = $1 and patient_id = $2",
                )
                .bind(grant.as_text())
                .bind(patient.as_text())
                .fetch_optional(self.db.reader())
                .await?
                .ok_or(Error::not_found(Noun::Grant))?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let reason = open_str(&key, GRANTS, &grant.as_text(), "reason", &sealed)?;
                Ok(Audited::new(reason).resource("break_glass_grant", grant))
            },
        )
        .await
    }

    /// Tells each professional whose emergency access has ended, once (a job).
    /// Returns how many were told.
    pub async fn notify_ended_grants(&self, now: Millis, batch: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "select id, patient_id, account_id from break_glass_grants \
             where expires_at <= $1 and ended_notified_at is null order by expires_at, id limit $2",
        )
        .bind(now.0)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let (Some(patient), Some(account)) = (
                PatientId::parse(&row.try_get::<String, _>("patient_id")?),
                AccountId::parse(&row.try_get::<String, _>("account_id")?),
            ) else {
                continue;
            };
            sqlx::query("update break_glass_grants set ended_notified_at = $1 where id = $2")
                .bind(now.0)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            self.notify_in(
                &mut tx,
                Notice {
                    to: account,
                    kind: NotificationKind::BreakGlassEnded,
                    patient: Some(patient),
                    subject: Some(id.clone()),
                    actor: None,
                },
                now,
            )
            .await?;
            events.push(
                AuditEvent::new(
                    now,
                    Some(account),
                    Action::BreakGlassEnded,
                    Purpose::BreakGlass,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("break_glass_grant", id),
            );
        }
        if !events.is_empty() {
            self.audit_in(&mut tx, &events).await?;
            // The grants' readers must see the end at once.
            for e in &events {
                if let Some(p) = e.patient_id {
                    tx.after_commit(super::Change::TeamChanged(p));
                }
            }
        }
        tx.commit(self).await?;
        Ok(events.len() as u64)
    }

    /// The patient's wishes, as this reader may see them.
    pub async fn consent(&self, actor: &Actor, patient: PatientId, now: Millis) -> Result<Consent> {
        self.patient_read(
            actor,
            patient,
            Action::ConsentRead,
            Gate::Reach(Reach::Identity),
            now,
            async |access: &PatientAccess| {
                may_record(actor, access)?;
                let consent = self.read_consent(actor, access, patient).await?;
                Ok(Audited::new(consent).purpose(Purpose::PatientRight))
            },
        )
        .await
    }

    /// The wishes filtered for one reader: objections about categories they may not
    /// read, and masked entries they may not read, are not shown.
    async fn read_consent(
        &self,
        actor: &Actor,
        access: &PatientAccess,
        patient: PatientId,
    ) -> Result<Consent> {
        let mut consent = self.consent_of(patient).await?;
        consent
            .objections
            .retain(|o| shows_objection(access, &o.objection));
        let masked = self.masked_entries(patient).await?;
        consent.masked_entries = masked
            .into_iter()
            .filter(|(_, f)| access.may_read_entry(f.category, true, f.author == actor.account_id))
            .map(|(id, _)| id)
            .collect();
        Ok(consent)
    }

    /// Every wish in force, unfiltered (the export, for the patient).
    async fn consent_of(&self, patient: PatientId) -> Result<Consent> {
        let info = sqlx::query(
            "select informed_at, informed_by from patient_information where patient_id = $1",
        )
        .bind(patient.as_text())
        .fetch_optional(self.db.reader())
        .await?;
        let (informed_at, informed_by) = match info {
            Some(r) => (
                Some(Millis(r.try_get("informed_at")?)),
                AccountId::parse(&r.try_get::<String, _>("informed_by")?),
            ),
            None => (None, None),
        };
        let rows = sqlx::query(
            "select id, kind, account_id, category, created_at, created_by from objections \
             where patient_id = $1 and withdrawn_at is null order by created_at, id",
        )
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let mut objections = Vec::new();
        for r in &rows {
            if let Some(o) = objection_from_row(r)? {
                objections.push(o);
            }
        }
        let masked = self.masked_entries(patient).await?;
        Ok(Consent {
            informed_at,
            informed_by,
            objections,
            masked_entries: masked.into_iter().map(|(id, _)| id).collect(),
        })
    }

    async fn masked_entries(&self, patient: PatientId) -> Result<Vec<(EntryId, EntryFacts)>> {
        let rows = sqlx::query(
            "select id, category, masked, author_id from entries where patient_id = $1 and masked = 1 order by id",
        )
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .filter_map(|r| entry_facts(r).transpose())
            .collect()
    }

    /// Applies explicit changes to the patient's wishes, in one transaction, each
    /// decided and audited on its own; the médecin traitant is notified of every
    /// change (and an entry's author of its masking), unless they made it.
    pub async fn change_consent(
        &self,
        actor: &Actor,
        patient: PatientId,
        changes: Vec<ConsentChange>,
        now: Millis,
    ) -> Result<Consent> {
        if changes.is_empty() {
            return Err(Error::invalid(
                "consent.no_change",
                "give at least one change: informed_at, add_objections, lift_objections, mask or unmask",
            ));
        }
        if changes
            .iter()
            .any(|c| matches!(c, ConsentChange::Informed(t) if *t > now))
        {
            return Err(Error::invalid(
                "consent.informed_in_future",
                "informed_at cannot be in the future",
            ));
        }
        // A refusal is recorded under the first change's action.
        let action = match changes.first() {
            Some(ConsentChange::Object(_)) => Action::ObjectionAdd,
            Some(ConsentChange::Lift(_)) => Action::ObjectionLift,
            Some(ConsentChange::Mask(_)) => Action::EntryMask,
            Some(ConsentChange::Unmask(_)) => Action::EntryUnmask,
            Some(ConsentChange::Informed(_)) | None => Action::ConsentInformation,
        };
        self.patient_write(
            actor,
            patient,
            action,
            Gate::Reach(Reach::Identity),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                may_record(actor, access)?;
                let mut events = Vec::new();
                for change in &changes {
                    let (action, subject, author) = self
                        .apply_change(tx, actor, access, patient, change, now)
                        .await?;
                    self.tell_about_change(tx, actor, patient, subject.clone(), author, now)
                        .await?;
                    let mut event = AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        action,
                        Purpose::PatientRight,
                        Outcome::Allowed,
                    )
                    .patient(patient);
                    if let Some((kind, id)) = subject {
                        event = event.resource(kind, id);
                    }
                    events.push(event);
                }
                // Objections change who reads what: forget every cached audience.
                tx.after_commit(super::Change::TeamChanged(patient));
                Ok(Audited::only(events))
            },
        )
        .await?;
        let access = self.access(actor, patient, now).await?;
        self.read_consent(actor, &access, patient).await
    }

    /// One change: its action, what it names, and the entry's author for masks.
    async fn apply_change(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        access: &PatientAccess,
        patient: PatientId,
        change: &ConsentChange,
        now: Millis,
    ) -> Result<(Action, Option<(&'static str, String)>, Option<AccountId>)> {
        match change {
            ConsentChange::Informed(at) => {
                sqlx::query(
                    "insert into patient_information (patient_id, informed_at, informed_by, recorded_at) values ($1, $2, $3, $4) \
                     on conflict (patient_id) do update set informed_at = excluded.informed_at, informed_by = excluded.informed_by, recorded_at = excluded.recorded_at",
                )
                .bind(patient.as_text())
                .bind(at.0)
                .bind(actor.account_id.as_text())
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
                Ok((Action::ConsentInformation, None, None))
            }
            ConsentChange::Object(objection) => {
                decide_objection(actor, access, objection)?;
                let (kind, account, category) = match objection {
                    Objection::Professional { account_id } => {
                        ("professional", Some(account_id.as_text()), None)
                    }
                    Objection::Category { category } => ("category", None, Some(category.as_str())),
                };
                let existing: Option<String> = sqlx::query_scalar(
                    "select id from objections where patient_id = $1 and kind = $2 and withdrawn_at is null \
                     and coalesce(account_id, '') = coalesce($3, '') and coalesce(category, '') = coalesce($4, '')",
                )
                .bind(patient.as_text())
                .bind(kind)
                .bind(account.clone())
                .bind(category)
                .fetch_optional(&mut **tx)
                .await?;
                if existing.is_some() {
                    return Err(Error::conflict(
                        "consent.objection_exists",
                        "this objection is already recorded",
                    ));
                }
                let id = ObjectionId::new();
                sqlx::query(
                    "insert into objections (id, patient_id, kind, account_id, category, created_at, created_by) values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id.as_text())
                .bind(patient.as_text())
                .bind(kind)
                .bind(account)
                .bind(category)
                .bind(now.0)
                .bind(actor.account_id.as_text())
                .execute(&mut **tx)
                .await
                .map_err(|e| match Error::from(e) {
                    Error::Invalid { .. } => Error::invalid(
                        "consent.unknown_account",
                        "an objection names an unknown account",
                    ),
                    other => other,
                })?;
                Ok((
                    Action::ObjectionAdd,
                    Some(("objection", id.as_text())),
                    None,
                ))
            }
            ConsentChange::Lift(id) => {
                let row = sqlx::query(
                    "select id, kind, account_id, category, created_at, created_by from objections \
                     where id = $1 and patient_id = $2 and withdrawn_at is null",
                )
                .bind(id.as_text())
                .bind(patient.as_text())
                .fetch_optional(&mut **tx)
                .await?;
                let record = match row {
                    Some(r) => objection_from_row(&r)?,
                    None => None,
                }
                .ok_or(Error::not_found(Noun::Objection))?;
                // An objection the actor may not see is "not found" for them.
                if !shows_objection(access, &record.objection) {
                    return Err(Error::not_found(Noun::Objection));
                }
                decide_objection(actor, access, &record.objection)?;
                sqlx::query("update objections set withdrawn_at = $1 where id = $2")
                    .bind(now.0)
                    .bind(id.as_text())
                    .execute(&mut **tx)
                    .await?;
                Ok((
                    Action::ObjectionLift,
                    Some(("objection", id.as_text())),
                    None,
                ))
            }
            ConsentChange::Mask(entry) | ConsentChange::Unmask(entry) => {
                let unmask = matches!(change, ConsentChange::Unmask(_));
                let row = sqlx::query(
                    "select id, category, masked, author_id from entries where id = $1 and patient_id = $2",
                )
                .bind(entry.as_text())
                .bind(patient.as_text())
                .fetch_optional(&mut **tx)
                .await?;
                let (_, facts) = match row {
                    Some(r) => entry_facts(&r)?,
                    None => None,
                }
                .ok_or(Error::not_found(Noun::Entry))?;
                if unmask {
                    decide_unmask(actor, access, facts.category, facts.author)?;
                } else {
                    decide_mask(actor, access, facts.category, facts.masked, facts.author)?;
                }
                sqlx::query(
                    "update entries set masked = $1, masked_by = $2, masked_at = $3 where id = $4",
                )
                .bind(i64::from(!unmask))
                .bind(actor.account_id.as_text())
                .bind(now.0)
                .bind(entry.as_text())
                .execute(&mut **tx)
                .await?;
                let action = if unmask {
                    Action::EntryUnmask
                } else {
                    Action::EntryMask
                };
                Ok((action, Some(("entry", entry.as_text())), Some(facts.author)))
            }
        }
    }

    /// The médecin traitant hears of every change to the patient's wishes, and an
    /// entry's author of its masking — unless they made the change.
    async fn tell_about_change(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        patient: PatientId,
        subject: Option<(&'static str, String)>,
        author: Option<AccountId>,
        now: Millis,
    ) -> Result<()> {
        let mut told: Vec<AccountId> = sqlx::query_scalar::<_, String>(
            "select account_id from care_team_members where patient_id = $1 and role = 'medecin_traitant' \
             and removed_at is null and start_at <= $2 and (end_at is null or end_at > $2)",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .filter_map(|a| AccountId::parse(a))
        .collect();
        told.extend(author);
        told.sort();
        told.dedup();
        for to in told.into_iter().filter(|a| *a != actor.account_id) {
            self.notify_in(
                tx,
                Notice {
                    to,
                    kind: NotificationKind::ConsentChanged,
                    patient: Some(patient),
                    subject: subject.as_ref().map(|(_, id)| id.clone()),
                    actor: Some(actor.account_id),
                },
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// Who accessed the file, when, how — from the audit chain, newest first, up to
    /// `limit` records before `before_seq`. Ids of entries the reader may not read are
    /// withheld.
    pub async fn access_log(
        &self,
        actor: &Actor,
        patient: PatientId,
        before_seq: Option<i64>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<AccessLogItem>> {
        self.patient_read(
            actor,
            patient,
            Action::AccessLogRead,
            Gate::Reach(Reach::Identity),
            now,
            async |access: &PatientAccess| {
                may_record(actor, access)?;
                let records = self.audit_for_patient(patient, before_seq, limit).await?;
                let mut names: HashMap<AccountId, String> = HashMap::new();
                for id in records.iter().filter_map(|r| r.event.actor_id) {
                    if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
                        let name: Option<String> =
                            sqlx::query_scalar("select display_name from accounts where id = $1")
                                .bind(id.as_text())
                                .fetch_optional(self.db.reader())
                                .await?;
                        if let Some(n) = name {
                            slot.insert(n);
                        }
                    }
                }
                let entries = self.entries_named(patient, &records).await?;
                let items = records
                    .into_iter()
                    .map(|r| {
                        let hidden = r.event.resource_type.as_deref() == Some("entry")
                            && r.event
                                .resource_id
                                .as_deref()
                                .and_then(|id| entries.get(id))
                                .is_none_or(|f| {
                                    !access.may_read_entry(
                                        f.category,
                                        f.masked,
                                        f.author == actor.account_id,
                                    )
                                });
                        AccessLogItem {
                            seq: r.seq,
                            at: r.event.at,
                            actor_name: r.event.actor_id.and_then(|a| names.get(&a).cloned()),
                            actor_id: r.event.actor_id,
                            action: r.event.action,
                            purpose: r.event.purpose,
                            outcome: r.event.outcome,
                            resource_type: r.event.resource_type,
                            resource_id: if hidden { None } else { r.event.resource_id },
                        }
                    })
                    .collect();
                Ok(Audited::new(items).purpose(Purpose::PatientRight))
            },
        )
        .await
    }

    /// The entries an access log page names, by id.
    async fn entries_named(
        &self,
        patient: PatientId,
        records: &[crate::audit::AuditRecord],
    ) -> Result<HashMap<String, EntryFacts>> {
        let mut ids: Vec<String> = records
            .iter()
            .filter(|r| r.event.resource_type.as_deref() == Some("entry"))
            .filter_map(|r| r.event.resource_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "select id, category, masked, author_id from entries where patient_id = $1 and id in ({})",
            super::placeholders(2, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(patient.as_text());
        for id in &ids {
            q = q.bind(id.clone());
        }
        let rows = q.persistent(false).fetch_all(self.db.reader()).await?;
        let mut out = HashMap::new();
        for r in &rows {
            if let Some((id, f)) = entry_facts(r)? {
                out.insert(id.as_text(), f);
            }
        }
        Ok(out)
    }

    /// The whole file for the patient, by their médecin traitant: every entry of
    /// every category with every version (the patient may see all of it).
    pub async fn export_patient(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<Export> {
        self.patient_read(
            actor,
            patient,
            Action::PatientExport,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                if !access.medecin_traitant || !access.holds(Basis::CareTeam) {
                    return Err(Error::forbidden(
                        "export.medecin_traitant_only",
                        "the patient's médecin traitant exports the file for them",
                    ));
                }
                let view = self.get_patient(actor, patient, now).await?;
                let care_team = self.members_of(patient, None, i64::MAX, now).await?;
                let consent = self.consent_of(patient).await?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let ids: Vec<String> =
                    sqlx::query_scalar("select id from entries where patient_id = $1 order by id")
                        .bind(patient.as_text())
                        .fetch_all(self.db.reader())
                        .await?;
                let mut entries = Vec::with_capacity(ids.len());
                for id in ids.iter().filter_map(|i| EntryId::parse(i)) {
                    entries.push(self.entry_for_export(&key, patient, id).await?);
                }
                let conversations = self.patient_threads(patient).await?;
                let waiting_requests = self
                    .waiting_requests_of_patient(actor, patient, now)
                    .await?;
                let care_plans = self.plans_for_export(&key, patient).await?;
                // Case conferences (issue 13)
                let case_conference_cases = self.cases_for_export(patient).await?;
                let case_conference_addenda = self.addenda_for_export(patient).await?;
                let detail = format!(
                    "entries={} conversations={} care_plans={}",
                    entries.len(),
                    conversations.len(),
                    care_plans.len()
                );
                Ok(Audited::new(Export {
                    patient: view,
                    care_team,
                    consent,
                    entries,
                    conversations,
                    exported_at: now,
                    waiting_requests,
                    care_plans,
                    case_conference_cases,
                    case_conference_addenda,
                })
                .purpose(Purpose::PatientRight)
                .detail(detail))
            },
        )
        .await
    }
}

fn objection_from_row(r: &sqlx::any::AnyRow) -> Result<Option<ObjectionRecord>> {
    let kind: String = r.try_get("kind")?;
    let account: Option<String> = r.try_get("account_id")?;
    let category: Option<String> = r.try_get("category")?;
    let objection = match (
        kind.as_str(),
        account.and_then(|a| AccountId::parse(&a)),
        category.and_then(|c| Category::parse(&c)),
    ) {
        ("professional", Some(account_id), _) => Objection::Professional { account_id },
        ("category", _, Some(category)) => Objection::Category { category },
        _ => return Ok(None),
    };
    Ok(Some(ObjectionRecord {
        id: ObjectionId::parse(&r.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::Objection))?,
        objection,
        created_at: Millis(r.try_get("created_at")?),
        created_by: AccountId::parse(&r.try_get::<String, _>("created_by")?)
            .ok_or(Error::not_found(Noun::Account))?,
    }))
}

fn entry_facts(r: &sqlx::any::AnyRow) -> Result<Option<(EntryId, EntryFacts)>> {
    let (Some(id), Some(category), Some(author)) = (
        EntryId::parse(&r.try_get::<String, _>("id")?),
        Category::parse(&r.try_get::<String, _>("category")?),
        AccountId::parse(&r.try_get::<String, _>("author_id")?),
    ) else {
        return Ok(None);
    };
    Ok(Some((
        id,
        EntryFacts {
            category,
            masked: r.try_get::<i64, _>("masked")? != 0,
            author,
        },
    )))
}

/// Who may break the glass, and with what reason: the trimmed reason, or the error.
fn break_glass_reason_of<'r>(actor: &Actor, reason: &'r str) -> Result<&'r str> {
    if !Basis::BreakGlass.open_to(actor) {
        return Err(Error::forbidden(
            "break_glass.health_professionals_only",
            "only health professionals may use emergency access",
        ));
    }
    let reason = reason.trim();
    if reason.chars().count() < 10 || reason.chars().count() > 2000 {
        return Err(Error::invalid(
            "break_glass.reason_required",
            "state the reason for emergency access (10 to 2000 characters)",
        ));
    }
    Ok(reason)
}
