//! The CPTS profile (one row) and the adhesions of professionals.

use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use super::Store;
use crate::account::{Actor, ProfessionCode};
use crate::audit::{Action as AuditAction, AuditEvent, Outcome, Purpose};
use crate::cpts::{Action, CptsProfile, Membership, Mission, ProfileUpdate, decide};
use crate::directory::CommuneCode;
use crate::error::Noun;
use crate::ids::{AccountId, MembershipId};
use crate::{Error, Millis, Result};

/// The profile's row: one CPTS per instance.
const PROFILE_ID: i64 = 1;

impl Store {
    /// The profile, once an admin has written it.
    #[instrument(skip_all)]
    pub async fn cpts_profile(&self) -> Result<Option<CptsProfile>> {
        let row = sqlx::query(
            "select name, population, contract_signed_on, missions, communes, updated_at, updated_by from cpts_profile where id = $1",
        )
        .bind(PROFILE_ID)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// An admin writes the whole profile; audited with its figures (no names).
    #[instrument(skip_all)]
    pub async fn set_cpts_profile(
        &self,
        actor: &Actor,
        update: ProfileUpdate,
        now: Millis,
    ) -> Result<CptsProfile> {
        decide(actor, Action::EditProfile)?;
        let missions: Vec<&str> = update.missions.iter().map(|m| m.as_str()).collect();
        let communes: Vec<&str> = update.communes.iter().map(|c| c.as_str()).collect();
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into cpts_profile (id, name, population, contract_signed_on, missions, communes, updated_at, updated_by) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (id) do update set name = excluded.name, population = excluded.population, \
             contract_signed_on = excluded.contract_signed_on, missions = excluded.missions, communes = excluded.communes, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(PROFILE_ID)
        .bind(&update.name)
        .bind(update.population)
        .bind(update.contract_signed_on.clone())
        .bind(missions.join(","))
        .bind(communes.join(","))
        .bind(now.0)
        .bind(actor.account_id.as_text())
        .execute(&mut *tx)
        .await?;
        let profile = CptsProfile {
            name: update.name,
            population: update.population,
            contract_signed_on: update.contract_signed_on,
            missions: update.missions,
            communes: update.communes,
            updated_at: now,
            updated_by: Some(actor.account_id),
        };
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::CptsUpdate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("cpts", PROFILE_ID)
            .detail(format!(
                "population={} size={} missions={} communes={}",
                profile.population,
                profile.size(),
                missions.join("+"),
                profile.communes.len()
            ))],
        )
        .await?;
        tx.commit(self).await?;
        Ok(profile)
    }

    /// The actor's current adhesion.
    pub async fn cpts_membership(&self, actor: &Actor) -> Result<Option<Membership>> {
        let row = sqlx::query(
            "select id, account_id, profession_code, joined_at, left_at from cpts_memberships where account_id = $1 and left_at is null",
        )
        .bind(actor.account_id.as_text())
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(membership_from_row).transpose()
    }

    /// A health professional joins the CPTS, under the profession of the exercice
    /// their session acts under.
    #[instrument(skip_all)]
    pub async fn join_cpts(&self, actor: &Actor, now: Millis) -> Result<Membership> {
        decide(actor, Action::JoinOrLeave)?;
        let mut tx = self.begin().await?;
        let current: Option<(String,)> = sqlx::query_as(
            "select id from cpts_memberships where account_id = $1 and left_at is null",
        )
        .bind(actor.account_id.as_text())
        .fetch_optional(&mut *tx)
        .await?;
        if current.is_some() {
            return Err(Error::conflict(
                "cpts.already_member",
                "you are already a member of the CPTS",
            ));
        }
        let membership = Membership {
            id: MembershipId::new(),
            account_id: actor.account_id,
            profession: actor.profession.clone(),
            joined_at: now,
            left_at: None,
        };
        sqlx::query(
            "insert into cpts_memberships (id, account_id, profession_code, joined_at, left_at) values ($1, $2, $3, $4, null)",
        )
        .bind(membership.id.as_text())
        .bind(actor.account_id.as_text())
        .bind(membership.profession.as_ref().map(|p| p.as_str().to_string()))
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[membership_event(
                actor,
                AuditAction::CptsJoin,
                membership.id,
                now,
            )],
        )
        .await?;
        tx.commit(self).await?;
        Ok(membership)
    }

    /// The actor leaves the CPTS (the adhesion is kept, ended).
    #[instrument(skip_all)]
    pub async fn leave_cpts(&self, actor: &Actor, now: Millis) -> Result<Membership> {
        decide(actor, Action::JoinOrLeave)?;
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "select id, account_id, profession_code, joined_at, left_at from cpts_memberships where account_id = $1 and left_at is null",
        )
        .bind(actor.account_id.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            Error::conflict("cpts.not_member", "you are not a member of the CPTS")
        })?;
        let mut membership = membership_from_row(&row)?;
        sqlx::query("update cpts_memberships set left_at = $1 where id = $2")
            .bind(now.0)
            .bind(membership.id.as_text())
            .execute(&mut *tx)
            .await?;
        membership.left_at = Some(now);
        self.audit_in(
            &mut tx,
            &[membership_event(
                actor,
                AuditAction::CptsLeave,
                membership.id,
                now,
            )],
        )
        .await?;
        tx.commit(self).await?;
        Ok(membership)
    }

    /// Current members by the profession they joined under (the ACI report's count).
    pub async fn cpts_member_counts(&self) -> Result<Vec<(Option<ProfessionCode>, i64)>> {
        let rows = sqlx::query(
            "select profession_code, count(*) as n from cpts_memberships where left_at is null group by profession_code order by profession_code",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<Option<String>, _>("profession_code")?
                        .and_then(|p| ProfessionCode::parse(&p)),
                    r.try_get::<i64, _>("n")?,
                ))
            })
            .collect()
    }
}

fn membership_event(
    actor: &Actor,
    action: AuditAction,
    id: MembershipId,
    now: Millis,
) -> AuditEvent {
    AuditEvent::new(
        now,
        Some(actor.account_id),
        action,
        Purpose::Administration,
        Outcome::Allowed,
    )
    .resource("cpts_membership", id)
}

fn profile_from_row(row: &AnyRow) -> Result<CptsProfile> {
    let corrupt = |what: &str| {
        Error::corrupt(format!(
            "cpts_profile.{what} holds a value Cordée did not write"
        ))
    };
    let missions: String = row.try_get("missions")?;
    let communes: String = row.try_get("communes")?;
    Ok(CptsProfile {
        name: row.try_get("name")?,
        population: row.try_get("population")?,
        contract_signed_on: row.try_get("contract_signed_on")?,
        missions: missions
            .split(',')
            .filter(|m| !m.is_empty())
            .map(|m| Mission::parse(m).ok_or_else(|| corrupt("missions")))
            .collect::<Result<_>>()?,
        communes: communes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| CommuneCode::parse(c).ok_or_else(|| corrupt("communes")))
            .collect::<Result<_>>()?,
        updated_at: Millis(row.try_get("updated_at")?),
        updated_by: row
            .try_get::<Option<String>, _>("updated_by")?
            .and_then(|a| AccountId::parse(&a)),
    })
}

fn membership_from_row(row: &AnyRow) -> Result<Membership> {
    Ok(Membership {
        id: MembershipId::parse(&row.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::CptsMembership))?,
        account_id: AccountId::parse(&row.try_get::<String, _>("account_id")?)
            .ok_or(Error::not_found(Noun::Account))?,
        profession: row
            .try_get::<Option<String>, _>("profession_code")?
            .and_then(|p| ProfessionCode::parse(&p)),
        joined_at: Millis(row.try_get("joined_at")?),
        left_at: row.try_get::<Option<i64>, _>("left_at")?.map(Millis),
    })
}
