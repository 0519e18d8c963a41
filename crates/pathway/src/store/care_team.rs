//! Care-team membership: who is on the team, joining with a reason, leaving.

use serde::Serialize;
use sqlx::Row;

use super::Store;
use super::access::{Audited, Gate};
use super::sealed::{open_str, patient_owner, seal_str};
use super::tx::Tx;
use crate::access::{PatientAccess, Reach};
use crate::account::{AccountKind, Actor, ProfessionCode};
use crate::audit::Action;
use crate::care_team::{TeamRole, decide_add, decide_remove};
use crate::error::Noun;
use crate::ids::{AccountId, MemberId, PatientId};
use crate::notification::{Notice, NotificationKind};
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
    /// The active members of a patient's team: up to `limit` after `after` (a member
    /// id), in the order they joined.
    pub async fn care_team(
        &self,
        actor: &Actor,
        patient: PatientId,
        after: Option<MemberId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<Member>> {
        self.patient_read(
            actor,
            patient,
            Action::CareTeamRead,
            Gate::Reach(Reach::Identity),
            now,
            async |_: &PatientAccess| {
                let members = self.members_of(patient, after, limit, now).await?;
                Ok(Audited::new(members))
            },
        )
        .await
    }

    /// The team without the access check or audit (the export, which has both).
    pub(crate) async fn members_of(
        &self,
        patient: PatientId,
        after: Option<MemberId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "select m.id, m.account_id, a.display_name, a.kind, m.role, m.reason, m.added_by, m.start_at, m.end_at \
             from care_team_members m join accounts a on a.id = m.account_id \
             where m.patient_id = $1 and m.removed_at is null and m.start_at <= $2 and (m.end_at is null or m.end_at > $2) \
             and m.id > $3 order by m.id limit $4",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .bind(after.map(|m| m.as_text()).unwrap_or_default())
        .bind(limit)
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
                id: MemberId::parse(&id).ok_or(Error::not_found(Noun::Member))?,
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
        self.patient_write(
            actor,
            patient,
            Action::CareTeamAdd,
            Gate::Reach(Reach::Identity),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_add(actor, access)?;
                self.insert_member(tx, actor, patient, &new, reason, now)
                    .await
            },
        )
        .await
    }

    async fn insert_member(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        patient: PatientId,
        new: &NewMember,
        reason: &str,
        now: Millis,
    ) -> Result<Audited<MemberId>> {
        let account = sqlx::query("select kind, profession_codes from accounts where id = $1")
            .bind(new.account_id.as_text())
            .fetch_optional(&mut **tx)
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
        .fetch_one(&mut **tx)
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
            .execute(&mut **tx)
            .await?;
            let current: i64 = sqlx::query_scalar(
                "select count(*) from care_team_members where patient_id = $1 and role = 'medecin_traitant' and removed_at is null",
            )
            .bind(patient.as_text())
            .fetch_one(&mut **tx)
            .await?;
            if current > 0 {
                return Err(Error::conflict(
                    "care_team.medecin_traitant_exists",
                    "the patient already has a médecin traitant; remove them first",
                ));
            }
        }
        let id = MemberId::new();
        let key = self.data_key_in(tx, &patient_owner(patient)).await?;
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
        .execute(&mut **tx)
        .await?;
        self.notify_in(
            tx,
            Notice {
                to: new.account_id,
                kind: NotificationKind::CareTeamAdded,
                patient: Some(patient),
                subject: Some(id.as_text()),
                actor: Some(actor.account_id),
            },
            now,
        )
        .await?;
        tx.after_commit(super::Change::TeamChanged(patient));
        Ok(Audited::new(id)
            .resource("care_team_member", id)
            .detail(format!("role={}", new.role)))
    }

    /// Ends a membership. Open tasks and other follow-ups of the member are the
    /// modules' business; the team's audience changes at once.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        patient: PatientId,
        member: MemberId,
        now: Millis,
    ) -> Result<()> {
        self.patient_write(
            actor,
            patient,
            Action::CareTeamRemove,
            Gate::Reach(Reach::Identity),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                let target: String = sqlx::query_scalar(
                    "select account_id from care_team_members where id = $1 and patient_id = $2 and removed_at is null",
                )
                .bind(member.as_text())
                .bind(patient.as_text())
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(Error::not_found(Noun::Member))?;
                decide_remove(actor, access, target == actor.account_id.as_text())?;
                sqlx::query(
                    "update care_team_members set removed_at = $1, removed_by = $2 where id = $3",
                )
                .bind(now.0)
                .bind(actor.account_id.as_text())
                .bind(member.as_text())
                .execute(&mut **tx)
                .await?;
                // Care plans (issue 12): the leaver's open tasks go back to the referent.
                if let Some(leaving) = AccountId::parse(&target) {
                    self.unassign_open_tasks(tx, patient, leaving, now).await?;
                }
                tx.after_commit(super::Change::TeamChanged(patient));
                Ok(Audited::new(()).resource("care_team_member", member))
            },
        )
        .await
    }
}

fn parse_account(text: &str) -> Result<AccountId> {
    AccountId::parse(text).ok_or(Error::not_found(Noun::Account))
}
