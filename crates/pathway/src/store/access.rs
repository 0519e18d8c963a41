//! The facts that decide what one actor may do with one patient's file, read in
//! one query. The list and fetch queries of the file repeat the same conditions in
//! SQL, so that what a reader may not see never reaches a count or a page.

use sqlx::{Any, Executor, Row};

use crate::account::Actor;
use crate::ids::PatientId;
use crate::policy::{Category, PatientAccess};
use crate::{Error, Millis, Result};

/// SQL conditions (for `concat!`) with `$1` = patient id, `$3` = actor id, `$4` = now.
#[macro_export]
#[doc(hidden)]
macro_rules! active_member_sql {
    ($alias:literal) => {
        concat!(
            "exists (select 1 from care_team_members ",
            $alias,
            " where ",
            $alias,
            ".patient_id = $1 and ",
            $alias,
            ".account_id = $3 and ",
            $alias,
            ".removed_at is null and ",
            $alias,
            ".start_at <= $4 and (",
            $alias,
            ".end_at is null or ",
            $alias,
            ".end_at > $4)"
        )
    };
}

/// Access = (active membership or active break-glass) and no objection to the actor.
#[macro_export]
#[doc(hidden)]
macro_rules! patient_access_sql {
    () => {
        concat!(
            "(",
            $crate::active_member_sql!("c"),
            ") or exists (select 1 from break_glass_grants g where g.patient_id = $1 and g.account_id = $3 and g.expires_at > $4))",
            " and not exists (select 1 from objections o where o.patient_id = $1 and o.withdrawn_at is null and o.kind = 'professional' and o.account_id = $3)"
        )
    };
}

/// What one query tells about an actor and a patient.
pub(crate) struct Facts {
    pub access: PatientAccess,
    pub erased: bool,
    pub has_category_objections: bool,
}

impl Facts {
    /// The access to use, or the error to answer: 404 for those who may not know the
    /// patient, 410 for former team members of an erased patient.
    pub fn visible(self) -> Result<PatientAccess> {
        if self.erased {
            return Err(if self.access.member {
                Error::Erased
            } else {
                Error::not_found("patient")
            });
        }
        if !self.access.can_see_patient() {
            return Err(Error::not_found("patient"));
        }
        Ok(self.access)
    }
}

pub(crate) async fn facts<'c, E>(
    executor: E,
    actor: &Actor,
    patient: PatientId,
    now: Millis,
) -> Result<Facts>
where
    E: Executor<'c, Database = Any>,
{
    let sql = concat!(
        "select p.erased_at, ",
        "(select count(*) from care_team_members c where c.patient_id = $1 and c.account_id = $2 and c.removed_at is null and c.start_at <= $3 and (c.end_at is null or c.end_at > $3)) as member, ",
        "(select count(*) from care_team_members c where c.patient_id = $1 and c.account_id = $2 and c.role = 'medecin_traitant' and c.removed_at is null and c.start_at <= $3 and (c.end_at is null or c.end_at > $3)) as mt, ",
        "(select count(*) from care_team_members c where c.patient_id = $1 and c.account_id = $2 and c.role = 'coordinateur' and c.removed_at is null and c.start_at <= $3 and (c.end_at is null or c.end_at > $3)) as coord, ",
        "(select count(*) from break_glass_grants g where g.patient_id = $1 and g.account_id = $2 and g.expires_at > $3) as bg, ",
        "(select count(*) from objections o where o.patient_id = $1 and o.kind = 'professional' and o.account_id = $2 and o.withdrawn_at is null) as objected, ",
        "(select count(*) from objections o where o.patient_id = $1 and o.kind = 'category' and o.withdrawn_at is null) as objected_categories ",
        "from patients p where p.id = $1"
    );
    let row = executor
        .fetch_optional(
            sqlx::query(sql)
                .bind(patient.as_text())
                .bind(actor.account_id.as_text())
                .bind(now.0),
        )
        .await?
        .ok_or(Error::not_found("patient"))?;
    let erased: Option<i64> = row.try_get("erased_at")?;
    let count = |name: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(name)? > 0) };
    Ok(Facts {
        access: PatientAccess {
            member: count("member")?,
            medecin_traitant: count("mt")?,
            coordinator: count("coord")?,
            // Break-glass is for health professionals only, whatever the table says.
            break_glass: count("bg")? && actor.is_health_professional(),
            objected: count("objected")?,
            objected_categories: Vec::new(),
        },
        erased: erased.is_some(),
        has_category_objections: count("objected_categories")?,
    })
}

pub(crate) async fn objected_categories<'c, E>(
    executor: E,
    patient: PatientId,
) -> Result<Vec<Category>>
where
    E: Executor<'c, Database = Any>,
{
    let rows = executor
        .fetch_all(
            sqlx::query("select category from objections where patient_id = $1 and kind = 'category' and withdrawn_at is null")
                .bind(patient.as_text()),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("category").ok())
        .filter_map(|c| Category::parse(&c))
        .collect())
}

impl super::Store {
    /// The actor's access to a patient, or 404 / 410 (see [`Facts::visible`]).
    pub async fn access(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<PatientAccess> {
        let facts = facts(self.db.reader(), actor, patient, now).await?;
        let load = facts.has_category_objections;
        let mut access = facts.visible()?;
        if load {
            access.objected_categories = objected_categories(self.db.reader(), patient).await?;
        }
        Ok(access)
    }

    /// Same, inside a write transaction (the decision and the write see one state).
    pub(crate) async fn access_in(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<PatientAccess> {
        let facts = facts(&mut **tx, actor, patient, now).await?;
        let load = facts.has_category_objections;
        let mut access = facts.visible()?;
        if load {
            access.objected_categories = objected_categories(&mut **tx, patient).await?;
        }
        Ok(access)
    }

    /// Records a refusal on patient data and hands the error back. Refusals are
    /// audited like reads: an outsider probing ids shows in the trail.
    pub(crate) async fn refused(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: &str,
        now: Millis,
        err: Error,
    ) -> Error {
        let outcome = match err {
            Error::NotFound { .. } | Error::Forbidden { .. } | Error::Erased => {
                crate::audit::Outcome::Denied
            }
            _ => return err,
        };
        let event = crate::audit::AuditEvent::new(
            now,
            Some(actor.account_id),
            action,
            crate::audit::Purpose::Care,
            outcome,
        )
        .patient(patient)
        .detail(error_code(&err));
        match self.audit(event).await {
            Ok(_) => err,
            Err(audit_err) => audit_err,
        }
    }
}

fn error_code(err: &Error) -> String {
    match err {
        Error::NotFound { what } => format!("{what}.not_found"),
        Error::Forbidden { code, .. }
        | Error::Invalid { code, .. }
        | Error::Conflict { code, .. } => (*code).to_string(),
        Error::Erased => "patient.erased".into(),
        _ => "error".into(),
    }
}
