//! Care-team membership: who is on the team, joining with a reason, leaving.

use serde::Serialize;
use sqlx::Row;

use super::Store;
use super::sealed::{open_str, patient_owner, seal_str};
use crate::account::{AccountKind, Actor, ProfessionCode};
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::care_team::{TeamRole, decide_add, decide_remove};
use crate::ids::{AccountId, MemberId, PatientId};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: MemberId,
    pub account_id: AccountId,
    pub display_name: String,
    pub kind: AccountKind,
    pub role: TeamRole,
    /// Why they were added (sealed at rest).
    pub reason: Option<String>,
    pub added_by: AccountId,
    pub start_at: Millis,
    pub end_at: Option<Millis>,
}

pub struct NewMember {
    pub account_id: AccountId,
    pub role: TeamRole,
    pub reason: String,
    pub end_at: Option<Millis>,
}

const TABLE: &str = "care_team_members";

impl Store {
    /// The active members of a patient's team.
    pub async fn care_team(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<Vec<Member>> {
        let access = match self.access(actor, patient, now).await {
            Ok(a) => a,
            Err(e) => return Err(self.refused(actor, patient, "care_team.read", now, e).await),
        };
        let rows = sqlx::query(
            "select m.id, m.account_id, a.display_name, a.kind, m.role, m.reason, m.added_by, m.start_at, m.end_at \
             from care_team_members m join accounts a on a.id = m.account_id \
             where m.patient_id = $1 and m.removed_at is null and m.start_at <= $2 and (m.end_at is null or m.end_at > $2) \
             order by m.start_at, m.id",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .fetch_all(self.db.reader())
        .await?;
        let key = self.data_key(&patient_owner(patient)).await?;
        let mut members = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let reason: Option<Vec<u8>> = row.try_get("reason")?;
            let reason = reason
                .map(|r| open_str(&key, TABLE, &id, "reason", &r))
                .transpose()?;
            members.push(Member {
                id: MemberId::parse(&id).ok_or(Error::not_found("member"))?,
                account_id: parse_account(&row.try_get::<String, _>("account_id")?)?,
                display_name: row.try_get("display_name")?,
                kind: AccountKind::parse(&row.try_get::<String, _>("kind")?)
                    .unwrap_or(AccountKind::Staff),
                role: TeamRole::parse(&row.try_get::<String, _>("role")?)
                    .unwrap_or(TeamRole::Autre),
                reason,
                added_by: parse_account(&row.try_get::<String, _>("added_by")?)?,
                start_at: Millis(row.try_get("start_at")?),
                end_at: row.try_get::<Option<i64>, _>("end_at")?.map(Millis),
            });
        }
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                "care_team.read",
                access.purpose(),
                Outcome::Allowed,
            )
            .patient(patient),
        )
        .await?;
        Ok(members)
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        patient: PatientId,
        new: NewMember,
        now: Millis,
    ) -> Result<MemberId> {
        let reason = new.reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > 2000 {
            return Err(Error::invalid(
                "care_team.reason_required",
                "give the reason for adding this member (3 to 2000 characters)",
            ));
        }
        if matches!(new.end_at, Some(end) if end <= now) {
            return Err(Error::invalid(
                "care_team.invalid_end",
                "end_at must be in the future",
            ));
        }
        let mut tx = self.db.begin().await?;
        let access = match self.access_in(&mut tx, actor, patient, now).await {
            Ok(a) => a,
            Err(e) => {
                drop(tx);
                return Err(self.refused(actor, patient, "care_team.add", now, e).await);
            }
        };
        decide_add(actor, &access)?;
        let account = sqlx::query("select kind, profession_codes from accounts where id = $1")
            .bind(new.account_id.as_text())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::invalid(
                "care_team.unknown_account",
                "account_id is not a Cordée account",
            ))?;
        let kind = AccountKind::parse(&account.try_get::<String, _>("kind")?)
            .unwrap_or(AccountKind::Staff);
        let codes: String = account.try_get("profession_codes")?;
        let groups: Vec<_> = match kind {
            AccountKind::Staff => vec![Some(crate::account::ProfessionGroup::Staff)],
            AccountKind::HealthProfessional => codes
                .split(',')
                .filter_map(ProfessionCode::parse)
                .map(|c| c.group())
                .collect(),
        };
        let fits =
            groups.iter().any(|g| new.role.fits(*g)) || (groups.is_empty() && new.role.fits(None));
        if !fits {
            return Err(Error::invalid(
                "care_team.role_mismatch",
                format!(
                    "the role {} does not match this member's profession",
                    new.role.as_str()
                ),
            ));
        }
        let already: i64 = sqlx::query_scalar(
            "select count(*) from care_team_members where patient_id = $1 and account_id = $2 and removed_at is null and (end_at is null or end_at > $3)",
        )
        .bind(patient.as_text())
        .bind(new.account_id.as_text())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        if already > 0 {
            return Err(Error::conflict(
                "care_team.already_member",
                "this professional is already on the care team",
            ));
        }
        if new.role == TeamRole::MedecinTraitant {
            // A médecin traitant whose planned end has passed leaves the slot free.
            sqlx::query(
                "update care_team_members set removed_at = end_at where patient_id = $1 and role = 'medecin_traitant' and removed_at is null and end_at is not null and end_at <= $2",
            )
            .bind(patient.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
            let current: i64 = sqlx::query_scalar(
                "select count(*) from care_team_members where patient_id = $1 and role = 'medecin_traitant' and removed_at is null",
            )
            .bind(patient.as_text())
            .fetch_one(&mut *tx)
            .await?;
            if current > 0 {
                return Err(Error::conflict(
                    "care_team.medecin_traitant_exists",
                    "the patient already has a médecin traitant; remove them first",
                ));
            }
        }
        let id = MemberId::new();
        let key = self.data_key_in(&mut tx, &patient_owner(patient)).await?;
        let sealed = seal_str(&key, TABLE, &id.as_text(), "reason", reason)?;
        sqlx::query(
            "insert into care_team_members (id, patient_id, account_id, role, reason, added_by, start_at, end_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_text())
        .bind(patient.as_text())
        .bind(new.account_id.as_text())
        .bind(new.role.as_str())
        .bind(sealed)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(new.end_at.map(|e| e.0))
        .execute(&mut *tx)
        .await?;
        self.notify_in(
            &mut tx,
            new.account_id,
            "care_team.added",
            Some(patient),
            Some(&id.as_text()),
            Some(actor.account_id),
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "care_team.add",
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("care_team_member", id)
            .detail(format!("role={}", new.role.as_str()))],
        )
        .await?;
        tx.commit().await?;
        self.team_changed(patient);
        Ok(id)
    }

    pub async fn remove_member(
        &self,
        actor: &Actor,
        patient: PatientId,
        member: MemberId,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let access = match self.access_in(&mut tx, actor, patient, now).await {
            Ok(a) => a,
            Err(e) => {
                drop(tx);
                return Err(self
                    .refused(actor, patient, "care_team.remove", now, e)
                    .await);
            }
        };
        let target: String = sqlx::query_scalar(
            "select account_id from care_team_members where id = $1 and patient_id = $2 and removed_at is null",
        )
        .bind(member.as_text())
        .bind(patient.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found("member"))?;
        decide_remove(actor, &access, target == actor.account_id.as_text())?;
        sqlx::query("update care_team_members set removed_at = $1, removed_by = $2 where id = $3")
            .bind(now.0)
            .bind(actor.account_id.as_text())
            .bind(member.as_text())
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "care_team.remove",
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("care_team_member", member)],
        )
        .await?;
        tx.commit().await?;
        self.team_changed(patient);
        Ok(())
    }
}

fn parse_account(text: &str) -> Result<AccountId> {
    AccountId::parse(text).ok_or(Error::not_found("account"))
}
