//! The ACI contract's data: agreement tables, indicator definitions, and the year's
//! report computed from the modules' own tables (`aci_values.rs`).

use sqlx::Row;
use tracing::instrument;

use super::Store;
use crate::account::Actor;
use crate::aci::{
    Agreement, Amount, Cents, IndicatorCode, IndicatorDef, Line, Report, ReportInput, check_set,
    compute, decide,
};
use crate::audit::{Action as AuditAction, AuditEvent, Outcome, Purpose};
use crate::cpts::{Mission, size_for_population};
use crate::{Error, Millis, Result};

const SETTINGS_ID: i64 = 1;

/// An agreement version as `cordee aci load` reads it: every size's table.
#[derive(Clone, Debug)]
pub struct AgreementTables {
    pub version: String,
    pub label: String,
    pub effective_from: String,
    pub advance_bp: i64,
    pub mandatory: Vec<Mission>,
    /// (size, amounts)
    pub sizes: Vec<(u8, Vec<Amount>)>,
}

impl Store {
    /// The indicator definitions in contract order, and the set's version.
    pub async fn aci_indicators(&self) -> Result<(Vec<IndicatorDef>, i64)> {
        let rows = sqlx::query(
            "select code, label, target, weight from aci_indicators order by position, code",
        )
        .fetch_all(self.db.reader())
        .await?;
        let mut defs = Vec::with_capacity(rows.len());
        for r in &rows {
            let code: String = r.try_get("code")?;
            defs.push(IndicatorDef {
                code: IndicatorCode::parse(&code)
                    .ok_or_else(|| Error::corrupt("aci_indicators.code".into()))?,
                label: r.try_get("label")?,
                target: r.try_get("target")?,
                weight: r.try_get("weight")?,
            });
        }
        let version: i64 = sqlx::query_scalar("select version from aci_settings where id = $1")
            .bind(SETTINGS_ID)
            .fetch_one(self.db.reader())
            .await?;
        Ok((defs, version))
    }

    /// Replaces the whole set, if nobody changed it since `expected_version` (409
    /// `aci.version_conflict` otherwise). Audited with the codes, not the labels.
    #[instrument(skip_all)]
    pub async fn set_aci_indicators(
        &self,
        actor: &Actor,
        defs: Vec<IndicatorDef>,
        expected_version: i64,
        now: Millis,
    ) -> Result<(Vec<IndicatorDef>, i64)> {
        decide(actor)?;
        check_set(&defs)?;
        let mut tx = self.begin().await?;
        // The guarded bump is the lock: a concurrent writer with the same version
        // finds zero rows and gets the conflict, never a lost update.
        let bumped = sqlx::query(
            "update aci_settings set version = version + 1, updated_at = $1, updated_by = $2 where id = $3 and version = $4",
        )
        .bind(now.0)
        .bind(actor.account_id.as_text())
        .bind(SETTINGS_ID)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() != 1 {
            return Err(Error::conflict(
                "aci.version_conflict",
                "the indicators changed meanwhile: reload them and apply your change again",
            ));
        }
        sqlx::query("delete from aci_indicators")
            .execute(&mut *tx)
            .await?;
        for (position, d) in defs.iter().enumerate() {
            sqlx::query(
                "insert into aci_indicators (code, label, target, weight, position) values ($1, $2, $3, $4, $5)",
            )
            .bind(d.code.as_str())
            .bind(&d.label)
            .bind(d.target)
            .bind(d.weight)
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
        let codes: Vec<String> = defs
            .iter()
            .map(|d| format!("{}:{}/{}", d.code.as_str(), d.target, d.weight))
            .collect();
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::AciIndicatorsUpdate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("aci_indicators", expected_version + 1)
            .detail(codes.join(" "))],
        )
        .await?;
        tx.commit(self).await?;
        Ok((defs, expected_version + 1))
    }

    /// The agreement version that applies to contract year `year`, with the table of
    /// `size`.
    pub async fn aci_agreement(&self, year: i32, size: u8) -> Result<Option<Agreement>> {
        let row = sqlx::query(
            "select version, label, effective_from, advance_bp, mandatory from aci_agreements \
             where effective_from <= $1 order by effective_from desc limit 1",
        )
        .bind(format!("{year:04}-12-31"))
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let version: String = row.try_get("version")?;
        let mandatory: String = row.try_get("mandatory")?;
        let rows = sqlx::query(
            "select line, fixed_cents, variable_cents from aci_amounts where version = $1 and size = $2 order by line",
        )
        .bind(&version)
        .bind(i64::from(size))
        .fetch_all(self.db.reader())
        .await?;
        let mut amounts = Vec::with_capacity(rows.len());
        for r in &rows {
            let line: String = r.try_get("line")?;
            amounts.push(Amount {
                line: Line::parse(&line)
                    .ok_or_else(|| Error::corrupt("aci_amounts.line".into()))?,
                fixed: Cents(r.try_get("fixed_cents")?),
                variable: Cents(r.try_get("variable_cents")?),
            });
        }
        Ok(Some(Agreement {
            version,
            label: row.try_get("label")?,
            effective_from: row.try_get("effective_from")?,
            advance_bp: row.try_get("advance_bp")?,
            mandatory: mandatory
                .split(',')
                .filter(|m| !m.is_empty())
                .map(|m| {
                    Mission::parse(m)
                        .ok_or_else(|| Error::corrupt("aci_agreements.mandatory".into()))
                })
                .collect::<Result<_>>()?,
            size,
            amounts,
        }))
    }

    /// Loads an agreement version (an avenant's tables); a version already loaded is
    /// refused (409 `aci.agreement_exists`): amounts paid under it must not change.
    #[instrument(skip_all)]
    pub async fn load_aci_agreement(&self, tables: &AgreementTables, now: Millis) -> Result<()> {
        let mut tx = self.begin().await?;
        let exists: Option<String> =
            sqlx::query_scalar("select version from aci_agreements where version = $1")
                .bind(&tables.version)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_some() {
            return Err(Error::conflict(
                "aci.agreement_exists",
                format!("agreement version {} is already loaded", tables.version),
            ));
        }
        let mandatory: Vec<&str> = tables.mandatory.iter().map(|m| m.as_str()).collect();
        sqlx::query(
            "insert into aci_agreements (version, label, effective_from, advance_bp, mandatory, loaded_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&tables.version)
        .bind(&tables.label)
        .bind(&tables.effective_from)
        .bind(tables.advance_bp)
        .bind(mandatory.join(","))
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        for (size, amounts) in &tables.sizes {
            for a in amounts {
                sqlx::query(
                    "insert into aci_amounts (version, size, line, fixed_cents, variable_cents) values ($1, $2, $3, $4, $5)",
                )
                .bind(&tables.version)
                .bind(i64::from(*size))
                .bind(a.line.as_str())
                .bind(a.fixed.0)
                .bind(a.variable.0)
                .execute(&mut *tx)
                .await?;
            }
        }
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                None,
                AuditAction::AciAgreementLoad,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("aci_agreement", 0)
            .detail(format!("version={}", tables.version))],
        )
        .await?;
        tx.commit(self).await?;
        Ok(())
    }

    /// The year's report for the CPTS's size and missions. Aggregates only, and
    /// audited as an aggregate read. `aci.no_profile` (409) until an admin wrote the
    /// profile; `aci.no_agreement` (409) when no agreement covers the year.
    #[instrument(skip_all)]
    pub async fn aci_report(&self, actor: &Actor, year: i32, now: Millis) -> Result<AciReport> {
        decide(actor)?;
        let profile = self.cpts_profile().await?.ok_or_else(|| {
            Error::conflict(
                "aci.no_profile",
                "the CPTS profile (population, missions) is not written yet",
            )
        })?;
        let size = size_for_population(profile.population);
        let agreement = self.aci_agreement(year, size).await?.ok_or_else(|| {
            Error::conflict(
                "aci.no_agreement",
                format!("no ACI agreement covers {year}"),
            )
        })?;
        let (indicators, _) = self.aci_indicators().await?;
        let values = self.aci_values(year).await?;
        let report = compute(&ReportInput {
            year,
            agreement: &agreement,
            missions: &profile.missions,
            indicators: &indicators,
            values: &values,
            contract_signed_on: profile.contract_signed_on.as_deref(),
        });
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::AciReportRead,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("aci_report", i64::from(year))
            .detail(format!("aggregate year={year} size={size}")),
        )
        .await?;
        Ok(AciReport {
            report,
            cpts_name: profile.name,
        })
    }
}

/// The report and whom it is for.
#[derive(Clone, Debug)]
pub struct AciReport {
    pub report: Report,
    pub cpts_name: String,
}
