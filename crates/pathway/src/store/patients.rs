//! Patients: creation (with the creator on the team and a fresh data key), lookup
//! through blind indexes, the list of patients an actor may see, erasure.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use super::sealed::{open_json, patient_owner, seal_json};
use crate::account::{Actor, CptsRole};
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::care_team::TeamRole;
use crate::ids::{AccountId, MemberId, PatientId};
use crate::patient::{BI_INS, BI_NAME_DATE, Identity, IdentityStatus, PatientQuery, name_date_key};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatientView {
    pub id: PatientId,
    pub identity: Identity,
    pub identity_status: IdentityStatus,
    /// Another record may describe the same person (same INS, or same birth name
    /// and birth date): identitovigilance should check.
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
                format!("the role {} does not match your profession", role.as_str()),
            ));
        }
        let id = PatientId::new();
        let bi_name_date = self.blind_index(BI_NAME_DATE, &new.identity.name_date_key());
        let bi_ins = new
            .identity
            .ins_matricule
            .as_ref()
            .map(|m| self.blind_index(BI_INS, m.as_str()));
        let mut tx = self.db.begin().await?;
        let duplicates = flag_duplicates(&mut tx, id, &bi_name_date, bi_ins.as_ref()).await?;
        let key = self
            .create_data_key(&mut tx, &patient_owner(id), now)
            .await?;
        let sealed = seal_json(&key, TABLE, &id.as_text(), "identity", &new.identity)?;
        sqlx::query(
            "insert into patients (id, identity, identity_status, bi_name_date, bi_ins, possible_duplicate, created_by, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_text())
        .bind(sealed)
        .bind(new.status.as_str())
        .bind(bi_name_date.as_bytes().to_vec())
        .bind(bi_ins.as_ref().map(|b| b.as_bytes().to_vec()))
        .bind(i64::from(!duplicates.is_empty()))
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
                "patient.create",
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id),
        ];
        if !duplicates.is_empty() {
            events.push(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    "patient.possible_duplicate",
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(id)
                .detail(format!("matches={}", duplicates.len())),
            );
        }
        self.audit_in(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(PatientView {
            id,
            identity: new.identity,
            identity_status: new.status,
            possible_duplicate: !duplicates.is_empty(),
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
        let mut tx = self.db.begin().await?;
        let access = match self.access_in(&mut tx, actor, id, now).await {
            Ok(a) => a,
            Err(e) => {
                drop(tx);
                return Err(self
                    .refused(actor, id, "patient.identity_update", now, e)
                    .await);
            }
        };
        let clinician = actor.is_health_professional() && actor.group().is_some();
        if !access.member || !(clinician || access.coordinator) {
            return Err(Error::forbidden(
                "patient.identity_update_forbidden",
                "only the care team's health professionals and coordinator correct an identity",
            ));
        }
        let bi_name_date = self.blind_index(BI_NAME_DATE, &identity.name_date_key());
        let bi_ins = identity
            .ins_matricule
            .as_ref()
            .map(|m| self.blind_index(BI_INS, m.as_str()));
        let duplicates = flag_duplicates(&mut tx, id, &bi_name_date, bi_ins.as_ref()).await?;
        let key = self.data_key_in(&mut tx, &patient_owner(id)).await?;
        let sealed = seal_json(&key, TABLE, &id.as_text(), "identity", &identity)?;
        let row = sqlx::query(
            "update patients set identity = $1, identity_status = $2, bi_name_date = $3, bi_ins = $4, possible_duplicate = $5 \
             where id = $6 returning created_by, created_at",
        )
        .bind(sealed)
        .bind(status.as_str())
        .bind(bi_name_date.as_bytes().to_vec())
        .bind(bi_ins.as_ref().map(|b| b.as_bytes().to_vec()))
        .bind(i64::from(!duplicates.is_empty()))
        .bind(id.as_text())
        .fetch_one(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "patient.identity_update",
                access.purpose(),
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id)
            .detail(format!(
                "status={} possible_duplicates={}",
                status.as_str(),
                duplicates.len()
            ))],
        )
        .await?;
        tx.commit().await?;
        let created_by: String = row.try_get("created_by")?;
        Ok(PatientView {
            id,
            identity,
            identity_status: status,
            possible_duplicate: !duplicates.is_empty(),
            created_by: AccountId::parse(&created_by).ok_or(Error::not_found("account"))?,
            created_at: Millis(row.try_get("created_at")?),
        })
    }

    /// One patient, for an actor who may see them; the read is audited, and so is a
    /// refusal.
    pub async fn get_patient(
        &self,
        actor: &Actor,
        id: PatientId,
        now: Millis,
    ) -> Result<PatientView> {
        let access = match self.access(actor, id, now).await {
            Ok(a) => a,
            Err(e) => return Err(self.refused(actor, id, "patient.read", now, e).await),
        };
        let row = sqlx::query(
            "select id, identity, identity_status, possible_duplicate, created_by, created_at from patients where id = $1",
        )
        .bind(id.as_text())
        .fetch_one(self.db.reader())
        .await?;
        let view = self.patient_from_row(&row).await?;
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                "patient.read",
                access.purpose(),
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id),
        )
        .await?;
        Ok(view)
    }

    /// Patients the actor may see (team or break-glass, no objection), newest first;
    /// with a query, only exact matches of its blind index.
    pub async fn list_patients(
        &self,
        actor: &Actor,
        query: Option<&PatientQuery>,
        before: Option<PatientId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<PatientView>> {
        let before = before.map(|p| p.as_text()).unwrap_or_else(|| "~".into());
        let (filter_sql, term) = match query {
            None => (false, Vec::new()),
            Some(PatientQuery::Ins(ins)) => (
                true,
                self.blind_index(BI_INS, ins.as_str()).as_bytes().to_vec(),
            ),
            Some(PatientQuery::NameDate {
                birth_name,
                birth_date,
            }) => (
                true,
                self.blind_index(BI_NAME_DATE, &name_date_key(birth_name, birth_date))
                    .as_bytes()
                    .to_vec(),
            ),
        };
        macro_rules! visible_patients {
            ($extra:literal) => {
                concat!(
                    "select p.id, p.identity, p.identity_status, p.possible_duplicate, p.created_by, p.created_at from patients p ",
                    "where p.erased_at is null and p.id < $2 and (",
                    "exists (select 1 from care_team_members c where c.patient_id = p.id and c.account_id = $1 and c.removed_at is null and c.start_at <= $3 and (c.end_at is null or c.end_at > $3)) ",
                    "or exists (select 1 from break_glass_grants g where g.patient_id = p.id and g.account_id = $1 and g.expires_at > $3)) ",
                    "and not exists (select 1 from objections o where o.patient_id = p.id and o.kind = 'professional' and o.account_id = $1 and o.withdrawn_at is null) ",
                    $extra,
                    " order by p.id desc limit $4"
                )
            };
        }
        let rows = if filter_sql {
            let matches = match query {
                Some(PatientQuery::Ins(_)) => visible_patients!("and p.bi_ins = $5"),
                _ => visible_patients!("and p.bi_name_date = $5"),
            };
            sqlx::query(matches)
                .bind(actor.account_id.as_text())
                .bind(before)
                .bind(now.0)
                .bind(limit)
                .bind(term)
                .fetch_all(self.db.reader())
                .await?
        } else {
            sqlx::query(visible_patients!(""))
                .bind(actor.account_id.as_text())
                .bind(before)
                .bind(now.0)
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?
        };
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
                        "patient.search",
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
            .ok_or(Error::not_found("patient"))?;
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
            created_by: AccountId::parse(&created_by).ok_or(Error::not_found("account"))?,
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
        let mut tx = self.db.begin().await?;
        let erased: Option<Option<i64>> =
            sqlx::query_scalar("select erased_at from patients where id = $1")
                .bind(id.as_text())
                .fetch_optional(&mut *tx)
                .await?;
        match erased {
            None => return Err(Error::not_found("patient")),
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
                "patient.erase",
                Purpose::Administration,
                Outcome::Allowed,
            )
            .patient(id)
            .resource("patient", id)
            .detail(format!("attachments={}", attachments.len()))],
        )
        .await?;
        tx.commit().await?;
        self.team_changed(id);
        Ok(())
    }
}

/// The other live records with the same birth name and date or the same INS as
/// patient `id`: each is flagged as a possible duplicate (identitovigilance checks
/// them); the caller flags `id` itself when the list is not empty.
async fn flag_duplicates(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: PatientId,
    bi_name_date: &cordee_crypto::BlindIndex,
    bi_ins: Option<&cordee_crypto::BlindIndex>,
) -> Result<Vec<String>> {
    let duplicates: Vec<String> = sqlx::query_scalar(
        "select id from patients where erased_at is null and id <> $3 and (bi_name_date = $1 or bi_ins = $2)",
    )
    .bind(bi_name_date.as_bytes().to_vec())
    .bind(bi_ins.map(|b| b.as_bytes().to_vec()))
    .bind(id.as_text())
    .fetch_all(&mut **tx)
    .await?;
    for other in &duplicates {
        sqlx::query("update patients set possible_duplicate = 1 where id = $1")
            .bind(other)
            .execute(&mut **tx)
            .await?;
    }
    Ok(duplicates)
}
