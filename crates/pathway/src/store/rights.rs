//! Emergency access (break-glass) and the patient's rights: information,
//! objections, masking, the access log, the export of the whole file.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::Store;
use super::sealed::{open_str, patient_owner, seal_str};
use crate::account::{Actor, CptsRole};
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::file::{Entry, EntryVersion};
use crate::ids::{AccountId, EntryId, GrantId, PatientId};
use crate::patient::{BI_INS, BI_NAME_DATE, PatientQuery, name_date_key};
use crate::policy::{Category, PatientAccess};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub id: GrantId,
    pub patient_id: PatientId,
    pub account_id: AccountId,
    pub granted_at: Millis,
    pub expires_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Objection {
    /// The patient does not want this professional to see their file.
    Professional { account_id: AccountId },
    /// The patient does not want this category shared.
    Category { category: Category },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub informed_at: Option<Millis>,
    pub informed_by: Option<AccountId>,
    pub objections: Vec<Objection>,
    pub masked_entries: Vec<EntryId>,
}

#[derive(Clone, Debug, Default)]
pub struct ConsentUpdate {
    /// When the patient was informed of the sharing (set once; later values replace it).
    pub informed_at: Option<Millis>,
    pub objections: Vec<Objection>,
    pub masked_entries: Vec<EntryId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessLogItem {
    pub seq: i64,
    pub at: Millis,
    pub actor_id: Option<AccountId>,
    pub actor_name: Option<String>,
    pub action: String,
    pub purpose: Purpose,
    pub outcome: Outcome,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
}

/// Everything about one patient, for the patient.
#[derive(Clone, Debug, Serialize)]
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
}

const GRANTS: &str = "break_glass_grants";

/// Team members recording the patient's wishes: health professionals and coordinators
/// on the team, not someone reading through break-glass.
fn may_record_rights(actor: &Actor, access: &PatientAccess) -> Result<()> {
    if access.member
        && (actor.is_health_professional()
            || access.coordinator
            || actor.has_role(CptsRole::Coordinator))
    {
        Ok(())
    } else {
        Err(Error::forbidden(
            "consent.not_allowed",
            "only care-team professionals and coordinators record the patient's rights",
        ))
    }
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
        let reason = break_glass_reason_of(actor, reason)?;
        let mut tx = self.db.begin().await?;
        let facts = super::access::facts(&mut *tx, actor, patient, now).await;
        let facts = match facts {
            Ok(f) if !f.erased && !f.access.objected => f,
            Ok(f) => {
                drop(tx);
                let e = if f.erased && f.access.member {
                    Error::Erased
                } else {
                    Error::not_found("patient")
                };
                return Err(self
                    .refused(actor, patient, "break_glass.grant", now, e)
                    .await);
            }
            Err(e) => {
                drop(tx);
                return Err(self
                    .refused(actor, patient, "break_glass.grant", now, e)
                    .await);
            }
        };
        if facts.access.member {
            return Err(Error::conflict(
                "break_glass.already_member",
                "you are on the care team already",
            ));
        }
        let id = GrantId::new();
        let expires_at = now.plus_secs(duration_secs);
        let key = self.data_key_in(&mut tx, &patient_owner(patient)).await?;
        sqlx::query(
            "insert into break_glass_grants (id, patient_id, account_id, reason, granted_at, expires_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_text())
        .bind(patient.as_text())
        .bind(actor.account_id.as_text())
        .bind(seal_str(&key, GRANTS, &id.as_text(), "reason", reason)?)
        .bind(now.0)
        .bind(expires_at.0)
        .execute(&mut *tx)
        .await?;
        let team: Vec<String> = sqlx::query_scalar(
            "select distinct account_id from care_team_members where patient_id = $1 and removed_at is null and start_at <= $2 and (end_at is null or end_at > $2)",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .fetch_all(&mut *tx)
        .await?;
        for member in team.iter().filter_map(|m| AccountId::parse(m)) {
            self.notify_in(
                &mut tx,
                member,
                "break_glass.granted",
                Some(patient),
                Some(&id.as_text()),
                Some(actor.account_id),
                now,
            )
            .await?;
        }
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "break_glass.grant",
                Purpose::BreakGlass,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("break_glass_grant", id)
            .detail(format!(
                "expires_at={} notified={}",
                expires_at.0,
                team.len()
            ))],
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(grant = %id, patient = %patient, account = %actor.account_id, "security event: break-glass access granted");
        Ok(Grant {
            id,
            patient_id: patient,
            account_id: actor.account_id,
            granted_at: now,
            expires_at,
        })
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
        break_glass_reason_of(actor, reason)?;
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
                self.audit(
                    AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        "break_glass.lookup",
                        Purpose::BreakGlass,
                        Outcome::Denied,
                    )
                    .detail("matches=0"),
                )
                .await?;
                Err(Error::not_found("patient"))
            }
            _ => {
                self.audit(
                    AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        "break_glass.lookup",
                        Purpose::BreakGlass,
                        Outcome::Denied,
                    )
                    .detail("matches=several"),
                )
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
        let access = self.access(actor, patient, now).await?;
        if !access.member {
            return Err(Error::not_found("grant"));
        }
        let sealed: Vec<u8> = sqlx::query_scalar(
            "select reason from break_glass_grants where id = $1 and patient_id = $2",
        )
        .bind(grant.as_text())
        .bind(patient.as_text())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(Error::not_found("grant"))?;
        let key = self.data_key(&patient_owner(patient)).await?;
        open_str(&key, GRANTS, &grant.as_text(), "reason", &sealed)
    }

    pub async fn consent(&self, actor: &Actor, patient: PatientId, now: Millis) -> Result<Consent> {
        let access = match self.access(actor, patient, now).await {
            Ok(a) => a,
            Err(e) => return Err(self.refused(actor, patient, "consent.read", now, e).await),
        };
        may_record_rights(actor, &access)?;
        let consent = self.read_consent(patient).await?;
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                "consent.read",
                Purpose::PatientRight,
                Outcome::Allowed,
            )
            .patient(patient),
        )
        .await?;
        Ok(consent)
    }

    async fn read_consent(&self, patient: PatientId) -> Result<Consent> {
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
            "select kind, account_id, category from objections where patient_id = $1 and withdrawn_at is null order by created_at, id",
        )
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let mut objections = Vec::new();
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let account: Option<String> = r.try_get("account_id")?;
            let category: Option<String> = r.try_get("category")?;
            match (
                kind.as_str(),
                account.and_then(|a| AccountId::parse(&a)),
                category.and_then(|c| Category::parse(&c)),
            ) {
                ("professional", Some(account_id), _) => {
                    objections.push(Objection::Professional { account_id })
                }
                ("category", _, Some(category)) => {
                    objections.push(Objection::Category { category })
                }
                _ => {}
            }
        }
        let masked: Vec<String> = sqlx::query_scalar(
            "select id from entries where patient_id = $1 and masked = 1 order by id",
        )
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        Ok(Consent {
            informed_at,
            informed_by,
            objections,
            masked_entries: masked.iter().filter_map(|m| EntryId::parse(m)).collect(),
        })
    }

    /// Replaces the patient's objections and masked entries, and records when they
    /// were informed.
    pub async fn set_consent(
        &self,
        actor: &Actor,
        patient: PatientId,
        update: ConsentUpdate,
        now: Millis,
    ) -> Result<Consent> {
        if matches!(update.informed_at, Some(t) if t > now) {
            return Err(Error::invalid(
                "consent.informed_in_future",
                "informed_at cannot be in the future",
            ));
        }
        let mut tx = self.db.begin().await?;
        let access = match self.access_in(&mut tx, actor, patient, now).await {
            Ok(a) => a,
            Err(e) => {
                drop(tx);
                return Err(self.refused(actor, patient, "consent.update", now, e).await);
            }
        };
        may_record_rights(actor, &access)?;
        if let Some(at) = update.informed_at {
            sqlx::query(
                "insert into patient_information (patient_id, informed_at, informed_by, recorded_at) values ($1, $2, $3, $4) \
                 on conflict (patient_id) do update set informed_at = excluded.informed_at, informed_by = excluded.informed_by, recorded_at = excluded.recorded_at",
            )
            .bind(patient.as_text())
            .bind(at.0)
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("update objections set withdrawn_at = $1 where patient_id = $2 and withdrawn_at is null")
            .bind(now.0)
            .bind(patient.as_text())
            .execute(&mut *tx)
            .await?;
        for objection in &update.objections {
            let (kind, account, category) = match objection {
                Objection::Professional { account_id } => {
                    ("professional", Some(account_id.as_text()), None)
                }
                Objection::Category { category } => ("category", None, Some(category.as_str())),
            };
            sqlx::query(
                "insert into objections (id, patient_id, kind, account_id, category, created_at, created_by) values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(patient.as_text())
            .bind(kind)
            .bind(account)
            .bind(category)
            .bind(now.0)
            .bind(actor.account_id.as_text())
            .execute(&mut *tx)
            .await
            .map_err(|e| match Error::from(e) {
                Error::Invalid { .. } => Error::invalid("consent.unknown_account", "an objection names an unknown account"),
                other => other,
            })?;
        }
        sqlx::query("update entries set masked = 0 where patient_id = $1")
            .bind(patient.as_text())
            .execute(&mut *tx)
            .await?;
        for entry in &update.masked_entries {
            let done =
                sqlx::query("update entries set masked = 1 where patient_id = $1 and id = $2")
                    .bind(patient.as_text())
                    .bind(entry.as_text())
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() != 1 {
                return Err(Error::invalid(
                    "consent.unknown_entry",
                    format!("entry {entry} is not in this patient's file"),
                ));
            }
        }
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "consent.update",
                Purpose::PatientRight,
                Outcome::Allowed,
            )
            .patient(patient)
            .detail(format!(
                "objections={} masked={}",
                update.objections.len(),
                update.masked_entries.len()
            ))],
        )
        .await?;
        tx.commit().await?;
        self.team_changed(patient);
        self.read_consent(patient).await
    }

    /// Who accessed the file, when, how — from the audit chain, newest first.
    pub async fn access_log(
        &self,
        actor: &Actor,
        patient: PatientId,
        before_seq: Option<i64>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<AccessLogItem>> {
        let access = match self.access(actor, patient, now).await {
            Ok(a) => a,
            Err(e) => {
                return Err(self
                    .refused(actor, patient, "access_log.read", now, e)
                    .await);
            }
        };
        may_record_rights(actor, &access)?;
        let records = self
            .audit_for_patient(patient, before_seq, limit.clamp(1, 500))
            .await?;
        let mut names: std::collections::HashMap<AccountId, String> =
            std::collections::HashMap::new();
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
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                "access_log.read",
                Purpose::PatientRight,
                Outcome::Allowed,
            )
            .patient(patient),
        )
        .await?;
        Ok(records
            .into_iter()
            .map(|r| AccessLogItem {
                seq: r.seq,
                at: r.event.at,
                actor_name: r.event.actor_id.and_then(|a| names.get(&a).cloned()),
                actor_id: r.event.actor_id,
                action: r.event.action,
                purpose: r.event.purpose,
                outcome: r.event.outcome,
                resource_type: r.event.resource_type,
                resource_id: r.event.resource_id,
            })
            .collect())
    }

    /// The whole file for the patient, by their médecin traitant: every entry of
    /// every category with every version (the patient may see all of it).
    pub async fn export_patient(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<Export> {
        let access = match self.access(actor, patient, now).await {
            Ok(a) => a,
            Err(e) => return Err(self.refused(actor, patient, "patient.export", now, e).await),
        };
        if !access.medecin_traitant {
            let e = Error::forbidden(
                "export.medecin_traitant_only",
                "the patient's médecin traitant exports the file for them",
            );
            return Err(self.refused(actor, patient, "patient.export", now, e).await);
        }
        let view = self.get_patient(actor, patient, now).await?;
        let care_team = self.care_team(actor, patient, now).await?;
        let consent = self.read_consent(patient).await?;
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
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                "patient.export",
                Purpose::PatientRight,
                Outcome::Allowed,
            )
            .patient(patient)
            .detail(format!(
                "entries={} conversations={}",
                entries.len(),
                conversations.len()
            )),
        )
        .await?;
        Ok(Export {
            patient: view,
            care_team,
            consent,
            entries,
            conversations,
            exported_at: now,
        })
    }
}

/// Who may break the glass, and with what reason: the trimmed reason, or the error.
fn break_glass_reason_of<'r>(actor: &Actor, reason: &'r str) -> Result<&'r str> {
    if !actor.is_health_professional() || actor.group().is_none() {
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
