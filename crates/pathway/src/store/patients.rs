//! Patients: creation (with the creator on the team and a fresh data key), identity
//! corrections, lookup through blind indexes, the list of patients an actor may see,
//! erasure.
//!
//! Identity vigilance without an oracle: when a new or corrected identity matches
//! other records, the caller is told only about matches they may see (those records
//! and theirs are flagged). A match with a record they may not see is not revealed
//! to them and flags nothing they could observe: it goes to the CPTS's identity
//! vigilance (its admins, notified with ids only) and is audited on the matched
//! patient, so that probing identities shows in that patient's access log.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate, Rule};
use super::sealed::{open_json, patient_owner, seal_json};
use super::sql::Sql;
use super::tx::Tx;
use crate::access::{PatientAccess, Reach};
use crate::account::{Actor, CptsRole};
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::care_team::TeamRole;
use crate::error::Noun;
use crate::ids::{AccountId, MemberId, PatientId};
use crate::notification::{Notice, NotificationKind};
use crate::patient::{BI_INS, BI_NAME_DATE, Identity, IdentityStatus, PatientQuery, name_date_key};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatientView {
    pub id: PatientId,
    pub identity: Identity,
    pub identity_status: IdentityStatus,
    /// Another record the reader may see may describe the same person (same INS, or
    /// same birth name and birth date): identitovigilance should check.
    pub possible_duplicate: bool,
    pub created_by: AccountId,
    pub created_at: Millis,
}

pub struct NewPatient {
    pub identity: Identity,
    pub status: IdentityStatus,
    /// The creator's role on the team; by default the one their profession suggests.
    pub creator_role: Option<TeamRole>,
}

const TABLE: &str = "patients";
const COLUMNS: &str =
    "p.id, p.identity, p.identity_status, p.possible_duplicate, p.created_by, p.created_at";

/// The other live records with the same birth name and date or INS, split by whether
/// the actor may see them.
struct Matches {
    visible: Vec<PatientId>,
    hidden: Vec<PatientId>,
}

impl Store {
    pub async fn create_patient(
        &self,
        actor: &Actor,
        new: NewPatient,
        now: Millis,
    ) -> Result<PatientView> {
        let may_create = actor.is_health_professional() && actor.group().is_some()
            || actor.has_role(CptsRole::Coordinator)
            || actor.has_role(CptsRole::Admin);
        if !may_create {
            return Err(Error::forbidden(
                "patient.create_forbidden",
                "only health professionals and CPTS coordinators create patient files",
            ));
        }
        let role = new
            .creator_role
            .unwrap_or_else(|| TeamRole::default_for(actor.group()));
        if !role.fits(actor.group()) {
            return Err(Error::invalid(
                "care_team.role_mismatch",
                format!("the role {role} does not match your profession"),
            ));
        }
        let id = PatientId::new();
        let mut tx = self.begin().await?;
        let matches = self
            .identity_matches(&mut tx, actor, id, &new.identity, now)
            .await?;
        let key = self
            .create_data_key(&mut tx, &patient_owner(id), now)
            .await?;
        let (bi_name_date, bi_ins) = self.identity_indexes(&new.identity);
        sqlx::query(
            "insert into patients (id, identity, identity_status, bi_name_date, bi_ins, possible_duplicate, created_by, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_text())
        .bind(seal_json(&key, TABLE, &id.as_text(), "identity", &new.identity)?)
        .bind(new.status.as_str())
        .bind(bi_name_date)
        .bind(bi_ins)
        .bind(i64::from(!matches.visible.is_empty()))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into care_team_members (id, patient_id, account_id, role, added_by, start_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(MemberId::new().as_text())
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .bind(role.as_str())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let mut events = vec![
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::PatientCreate,
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id),
        ];
        events.extend(
            self.record_matches(&mut tx, actor, id, &matches, now)
                .await?,
        );
        self.audit_in(&mut tx, &events).await?;
        tx.after_commit(super::Change::TeamChanged(id));
        tx.commit(self).await?;
        Ok(PatientView {
            id,
            identity: new.identity,
            identity_status: new.status,
            possible_duplicate: !matches.visible.is_empty(),
            created_by: actor.account_id,
            created_at: now,
        })
    }

    /// Corrects a patient's identity traits or status (a typo in the birth name, an
    /// identity qualified after an INSi check). Care-team members only — health
    /// professionals with a profession, or the team's coordinator; a break-glass grant
    /// reads, it does not rewrite identities. The traits are resealed, the blind
    /// indexes recomputed and the duplicate flag re-evaluated against the other
    /// records; the change is audited (ids only).
    pub async fn update_identity(
        &self,
        actor: &Actor,
        id: PatientId,
        identity: Identity,
        status: IdentityStatus,
        now: Millis,
    ) -> Result<PatientView> {
        self.patient_write(
            actor,
            id,
            Action::PatientIdentityUpdate,
            Gate::Reach(Reach::Identity),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                let clinician = actor.is_health_professional() && actor.group().is_some();
                if !access.member() || !(clinician || access.coordinator) {
                    return Err(Error::forbidden(
                        "patient.identity_update_forbidden",
                        "only the care team's health professionals and coordinator correct an identity",
                    ));
                }
                let matches = self.identity_matches(tx, actor, id, &identity, now).await?;
                let key = self.data_key_in(tx, &patient_owner(id)).await?;
                let (bi_name_date, bi_ins) = self.identity_indexes(&identity);
                let row = sqlx::query(
                    "update patients set identity = $1, identity_status = $2, bi_name_date = $3, bi_ins = $4, possible_duplicate = $5 \
                     where id = $6 returning created_by, created_at",
                )
                .bind(seal_json(&key, TABLE, &id.as_text(), "identity", &identity)?)
                .bind(status.as_str())
                .bind(bi_name_date)
                .bind(bi_ins)
                .bind(i64::from(!matches.visible.is_empty()))
                .bind(id.as_text())
                .fetch_one(&mut **tx)
                .await?;
                let created_by: String = row.try_get("created_by")?;
                let view = PatientView {
                    id,
                    identity: identity.clone(),
                    identity_status: status,
                    possible_duplicate: !matches.visible.is_empty(),
                    created_by: AccountId::parse(&created_by)
                        .ok_or(Error::not_found(Noun::Account))?,
                    created_at: Millis(row.try_get("created_at")?),
                };
                let mut done = Audited::new(view)
                    .resource("patient", id)
                    .detail(format!("status={status}"));
                for event in self.record_matches(tx, actor, id, &matches, now).await? {
                    done = done.also(event);
                }
                Ok(done)
            },
        )
        .await
    }

    fn identity_indexes(&self, identity: &Identity) -> (Vec<u8>, Option<Vec<u8>>) {
        (
            self.blind_index(BI_NAME_DATE, &identity.name_date_key())
                .as_bytes()
                .to_vec(),
            identity
                .ins_matricule
                .as_ref()
                .map(|m| self.blind_index(BI_INS, m.as_str()).as_bytes().to_vec()),
        )
    }

    /// The other live records with this identity, and which the actor may see.
    async fn identity_matches(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: PatientId,
        identity: &Identity,
        now: Millis,
    ) -> Result<Matches> {
        let (bi_name_date, bi_ins) = self.identity_indexes(identity);
        let rule = Rule::new(actor, now);
        let mut q = Sql::new("select p.id, case when ");
        let visible = rule.reaches(&mut q, Reach::Identity, "p.id");
        q.push(&visible)
            .push(" then 1 else 0 end as visible from patients p where p.erased_at is null and p.id <> ")
            .push_bind(id.as_text())
            .push(" and (p.bi_name_date = ")
            .push_bind(bi_name_date);
        if let Some(ins) = bi_ins {
            q.push(" or p.bi_ins = ").push_bind(ins);
        }
        q.push(")");
        let rows = q.query().fetch_all(&mut *conn).await?;
        let mut matches = Matches {
            visible: Vec::new(),
            hidden: Vec::new(),
        };
        for row in &rows {
            let Some(other) = PatientId::parse(&row.try_get::<String, _>("id")?) else {
                continue;
            };
            if row.try_get::<i64, _>("visible")? > 0 {
                matches.visible.push(other);
            } else {
                matches.hidden.push(other);
            }
        }
        Ok(matches)
    }

    /// Flags the visible matches, hands the hidden ones to identity vigilance, and
    /// returns the audit records (one on each matched patient).
    async fn record_matches(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: PatientId,
        matches: &Matches,
        now: Millis,
    ) -> Result<Vec<AuditEvent>> {
        let mut events = Vec::new();
        for other in &matches.visible {
            sqlx::query("update patients set possible_duplicate = 1 where id = $1")
                .bind(other.as_text())
                .execute(&mut **tx)
                .await?;
        }
        if !matches.hidden.is_empty() {
            let referents: Vec<String> = sqlx::query_scalar(
                "select id from accounts where kind = 'staff' and cpts_roles like '%\"admin\"%'",
            )
            .fetch_all(&mut **tx)
            .await?;
            for other in &matches.hidden {
                for referent in referents.iter().filter_map(|r| AccountId::parse(r)) {
                    self.notify_in(
                        tx,
                        Notice {
                            to: referent,
                            kind: NotificationKind::IdentityPossibleDuplicate,
                            patient: Some(*other),
                            subject: Some(id.as_text()),
                            actor: Some(actor.account_id),
                        },
                        now,
                    )
                    .await?;
                }
            }
        }
        for (other, shown) in matches
            .visible
            .iter()
            .map(|o| (o, true))
            .chain(matches.hidden.iter().map(|o| (o, false)))
        {
            events.push(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    Action::PatientPossibleDuplicate,
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(*other)
                .resource("patient", id)
                .detail(if shown {
                    "shown_to_actor"
                } else {
                    "sent_to_identity_vigilance"
                }),
            );
        }
        Ok(events)
    }

    /// One patient, for an actor who may see them; the read is audited, and so is a
    /// refusal.
    pub async fn get_patient(
        &self,
        actor: &Actor,
        id: PatientId,
        now: Millis,
    ) -> Result<PatientView> {
        self.patient_read(
            actor,
            id,
            Action::PatientRead,
            Gate::Reach(Reach::Identity),
            now,
            async |_: &PatientAccess| {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {COLUMNS} from patients p where p.id = $1"
                )))
                .bind(id.as_text())
                .fetch_one(self.db.reader())
                .await?;
                Ok(Audited::new(self.patient_from_row(&row).await?).resource("patient", id))
            },
        )
        .await
    }

    /// Patients the actor may see, newest first, up to `limit`; with a query, only
    /// exact matches of its blind index (and the search is a read of each result).
    pub async fn list_patients(
        &self,
        actor: &Actor,
        query: Option<&PatientQuery>,
        before: Option<PatientId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<PatientView>> {
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(&format!(
            "select {COLUMNS} from patients p where p.erased_at is null and p.id < "
        ));
        q.push_bind(before.map(|p| p.as_text()).unwrap_or_else(|| "~".into()));
        match query {
            None => {}
            Some(PatientQuery::Ins(ins)) => {
                q.push(" and p.bi_ins = ")
                    .push_bind(self.blind_index(BI_INS, ins.as_str()).as_bytes().to_vec());
            }
            Some(PatientQuery::NameDate {
                birth_name,
                birth_date,
            }) => {
                let bi = self.blind_index(BI_NAME_DATE, &name_date_key(birth_name, birth_date));
                q.push(" and p.bi_name_date = ")
                    .push_bind(bi.as_bytes().to_vec());
            }
        }
        let visible = rule.reaches(&mut q, Reach::Identity, "p.id");
        q.push(" and ")
            .push(&visible)
            .push(" order by p.id desc limit ")
            .push_bind(limit);
        let rows = q.query().fetch_all(self.db.reader()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.patient_from_row(row).await?);
        }
        if let Some(q) = query {
            let kind = match q {
                PatientQuery::Ins(_) => "ins",
                PatientQuery::NameDate { .. } => "name_date",
            };
            // The search itself is a read of every file it returns.
            let events = out
                .iter()
                .map(|p| {
                    AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        Action::PatientSearch,
                        Purpose::Care,
                        Outcome::Allowed,
                    )
                    .patient(p.id)
                    .detail(format!("by={kind}"))
                })
                .collect::<Vec<_>>();
            if !events.is_empty() {
                self.audit_all(events).await?;
            }
        }
        Ok(out)
    }

    async fn patient_from_row(&self, row: &AnyRow) -> Result<PatientView> {
        let id = PatientId::parse(&row.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::Patient))?;
        let sealed: Option<Vec<u8>> = row.try_get("identity")?;
        let sealed = sealed.ok_or(Error::Erased)?;
        let key = self.data_key(&patient_owner(id)).await?;
        let identity: Identity = open_json(&key, TABLE, &id.as_text(), "identity", &sealed)?;
        let status: String = row.try_get("identity_status")?;
        let created_by: String = row.try_get("created_by")?;
        Ok(PatientView {
            id,
            identity,
            identity_status: IdentityStatus::parse(&status).unwrap_or(IdentityStatus::Provisoire),
            possible_duplicate: row.try_get::<i64, _>("possible_duplicate")? != 0,
            created_by: AccountId::parse(&created_by).ok_or(Error::not_found(Noun::Account))?,
            created_at: Millis(row.try_get("created_at")?),
        })
    }

    /// Erasure at the end of retention (CPTS admin): the patient's data key and the
    /// keys of their attachments are destroyed, search terms and blind indexes
    /// dropped; rows stay so that the audit trail keeps its references.
    pub async fn erase_patient(&self, actor: &Actor, id: PatientId, now: Millis) -> Result<()> {
        if !actor.has_role(CptsRole::Admin) {
            return Err(Error::forbidden(
                "patient.erase_forbidden",
                "only a CPTS admin erases a patient",
            ));
        }
        let mut tx = self.begin().await?;
        let erased: Option<Option<i64>> =
            sqlx::query_scalar("select erased_at from patients where id = $1")
                .bind(id.as_text())
                .fetch_optional(&mut *tx)
                .await?;
        match erased {
            None => return Err(Error::not_found(Noun::Patient)),
            Some(Some(_)) => return Err(Error::Erased),
            Some(None) => {}
        }
        self.destroy_data_key(&mut tx, &patient_owner(id), now)
            .await?;
        let attachments: Vec<String> =
            sqlx::query_scalar("select id from attachments where patient_id = $1")
                .bind(id.as_text())
                .fetch_all(&mut *tx)
                .await?;
        for a in &attachments {
            self.destroy_data_key(&mut tx, &format!("attachment:{a}"), now)
                .await?;
        }
        sqlx::query("delete from attachment_chunks where attachment_id in (select id from attachments where patient_id = $1)")
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from entry_terms where entry_id in (select id from entries where patient_id = $1)")
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        // Waiting list (issue 14): the patient's requests go with them.
        self.erase_waiting_requests(&mut tx, id, now).await?;
        sqlx::query("update patients set erased_at = $2, identity = null, bi_name_date = null, bi_ins = null where id = $1")
            .bind(id.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::PatientErase,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id)
            .detail(format!("attachments={}", attachments.len()))],
        )
        .await?;
        tx.after_commit(super::Change::TeamChanged(id));
        tx.commit(self).await
    }
}
