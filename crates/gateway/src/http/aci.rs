//! `/v1/aci`: the indicator definitions of the ACI contract (coordinators write them)
//! and the year's report (JSON, CSV for the accountant, printable HTML with charts).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cordee_pathway::aci::{IndicatorCode, IndicatorDef, Report};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::aci_render::{csv, html, warning_text};
use super::schemas;
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_indicators, put_indicators))
        .routes(routes!(report))
}

fn code_schema() -> Object {
    schemas::words(
        IndicatorCode::NAMES,
        "What the indicator counts, computed from Cordée's data (docs/aci.md)",
    )
}

fn mission_schema() -> Object {
    schemas::words(
        cordee_pathway::cpts::Mission::NAMES,
        "The mission whose variable part the indicator weighs in",
    )
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorIn {
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// Read-only: accepted so that a set can be sent back as `GET` shows it, and
    /// ignored, since the code decides the mission.
    #[serde(default)]
    #[schema(schema_with = mission_schema)]
    pub mission: Option<String>,
    /// As the contract words it (1 to 200 characters).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub label: String,
    #[serde(deserialize_with = "super::wire::integral")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub target: i64,
    /// Share of the mission's variable part, relative to the mission's other
    /// indicators; 0 counts the indicator without paying on it.
    #[serde(deserialize_with = "super::wire::integral")]
    #[schema(minimum = 0, maximum = 1000)]
    pub weight: i64,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorOut {
    #[schema(schema_with = code_schema)]
    pub code: String,
    #[schema(schema_with = mission_schema)]
    pub mission: String,
    pub label: String,
    pub target: i64,
    pub weight: i64,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorSet {
    /// Send it back with a change: a set changed meanwhile answers 409.
    pub version: i64,
    pub items: Vec<IndicatorOut>,
}

fn set_out(defs: Vec<IndicatorDef>, version: i64) -> IndicatorSet {
    IndicatorSet {
        version,
        items: defs
            .into_iter()
            .map(|d| IndicatorOut {
                code: d.code.as_str().into(),
                mission: d.code.mission().as_str().into(),
                label: d.label,
                target: d.target,
                weight: d.weight,
            })
            .collect(),
    }
}

/// The indicators of the contract (coordinators and admins).
#[utoipa::path(get, path = "/v1/aci/indicators", tag = "aci",
    responses((status = 200, body = IndicatorSet),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`aci.coordinators_only`")))]
async fn get_indicators(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<IndicatorSet>, ApiError> {
    cordee_pathway::aci::decide(&actor)?;
    let (defs, version) = state.store.aci_indicators().await?;
    Ok(Json(set_out(defs, version)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSetIn {
    /// The `version` the change was made from.
    #[serde(deserialize_with = "super::wire::integral")]
    #[schema(minimum = 0)]
    pub version: i64,
    /// The whole set, in the order the report shows it; each code at most once.
    #[schema(max_items = 13)]
    pub items: Vec<IndicatorIn>,
}

/// Replace the indicators (coordinators and admins; audited). Invalid input changes
/// nothing.
#[utoipa::path(put, path = "/v1/aci/indicators", tag = "aci", request_body = IndicatorSetIn,
    responses((status = 200, body = IndicatorSet),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`aci.coordinators_only`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`aci.version_conflict`: changed meanwhile"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`aci.unknown_indicator`, `aci.invalid_label`, `aci.invalid_target`, `aci.invalid_weight`, `aci.duplicate_indicator`, `request.invalid_field`")))]
async fn put_indicators(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<IndicatorSetIn>,
) -> Result<Json<IndicatorSet>, ApiError> {
    // Who may, before what: a member's bad input is a 403.
    cordee_pathway::aci::decide(&actor)?;
    let defs = body
        .items
        .iter()
        .map(|i| IndicatorDef::parse(&i.code, &i.label, i.target, i.weight))
        .collect::<Result<Vec<_>, _>>()?;
    let (defs, version) = state
        .store
        .set_aci_indicators(&actor, defs, body.version, now)
        .await?;
    Ok(Json(set_out(defs, version)))
}

fn format_param() -> Object {
    schemas::words(
        &["json", "csv", "html"],
        "`json` (default); `csv` for the accountant (`;`-separated, decimal comma, UTF-8 with BOM); `html`, a printable report with charts",
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The contract year, 2019 to next year (default: this year); a later year is
    /// refused (`aci.invalid_year`).
    #[param(minimum = 2019, maximum = 9999)]
    pub year: Option<i32>,
    #[param(schema_with = format_param)]
    pub format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorLineOut {
    #[schema(schema_with = code_schema)]
    pub code: String,
    pub label: String,
    /// `null`: not measured (no data kept for it).
    pub value: Option<i64>,
    pub target: i64,
    pub weight: i64,
    /// value / target, capped at 1.
    pub achievement: f64,
    /// Euros of the variable part at stake on this indicator.
    pub at_stake: f64,
    pub earned: f64,
}

#[derive(Serialize, ToSchema)]
pub struct MissionOut {
    #[schema(schema_with = mission_schema)]
    pub mission: String,
    /// Euros; the unscheduled-care supplement included.
    pub fixed: f64,
    pub supplement: f64,
    pub variable: f64,
    pub variable_earned: f64,
    pub indicators: Vec<IndicatorLineOut>,
}

#[derive(Serialize, ToSchema)]
pub struct WarningOut {
    pub code: String,
    pub detail: String,
}

/// The year's ACI report: amounts in euros as JSON numbers.
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    pub year: i32,
    pub cpts_name: String,
    pub agreement_version: String,
    pub agreement_label: String,
    #[schema(minimum = 1, maximum = 4)]
    pub size: u8,
    pub operating: f64,
    pub missions: Vec<MissionOut>,
    pub maximum: f64,
    pub earned: f64,
    /// The agreement's share of the maximum, paid at the contract's anniversary.
    pub advance: f64,
    /// Earned minus the advance, paid with next year's advance (negative: owed back).
    pub balance: f64,
    pub advance_due_on: Option<String>,
    pub warnings: Vec<WarningOut>,
}

pub fn report_out(r: &Report, cpts_name: &str) -> ReportOut {
    ReportOut {
        year: r.year,
        cpts_name: cpts_name.into(),
        agreement_version: r.agreement_version.clone(),
        agreement_label: r.agreement_label.clone(),
        size: r.size,
        operating: r.operating.euros(),
        missions: r
            .missions
            .iter()
            .map(|m| MissionOut {
                mission: m.mission.as_str().into(),
                fixed: m.fixed.euros(),
                supplement: m.supplement.euros(),
                variable: m.variable.euros(),
                variable_earned: m.variable_earned.euros(),
                indicators: m
                    .indicators
                    .iter()
                    .map(|l| IndicatorLineOut {
                        code: l.code.as_str().into(),
                        label: l.label.clone(),
                        value: l.value,
                        target: l.target,
                        weight: l.weight,
                        achievement: l.achievement_bp as f64 / 10_000.0,
                        at_stake: l.at_stake.euros(),
                        earned: l.earned.euros(),
                    })
                    .collect(),
            })
            .collect(),
        maximum: r.maximum.euros(),
        earned: r.earned.euros(),
        advance: r.advance.euros(),
        balance: r.balance.euros(),
        advance_due_on: r.advance_due_on.clone(),
        warnings: r
            .warnings
            .iter()
            .map(|w| WarningOut {
                code: (*w).into(),
                detail: warning_text(w).1.into(),
            })
            .collect(),
    }
}

/// The year's ACI report (coordinators and admins; audited as an aggregate read).
#[utoipa::path(get, path = "/v1/aci/report", tag = "aci", params(ReportQuery),
    responses((status = 200, description = "`format=json` (default), `csv` or `html`",
            content((ReportOut = "application/json"), (String = "text/csv"), (String = "text/html"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`aci.coordinators_only`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`aci.no_profile`: the CPTS profile is not written; `aci.no_agreement`: no agreement covers the year"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`aci.invalid_year`, `aci.invalid_format`")))]
async fn report(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    cordee_pathway::aci::decide(&actor)?;
    let current = current_year(now);
    let year = cordee_pathway::aci::check_year(q.year.unwrap_or(current), current)?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "html") {
        return Err(ApiError::unprocessable(
            "aci.invalid_format",
            "format must be json, csv or html",
        ));
    }
    let out = state.store.aci_report(&actor, year, now).await?;
    Ok(match format {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"rapport-aci.csv\"",
                ),
            ],
            csv(&out.report, &out.cpts_name),
        )
            .into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html(&out.report, &out.cpts_name),
        )
            .into_response(),
        _ => Json(report_out(&out.report, &out.cpts_name)).into_response(),
    })
}

/// The calendar year of `now` in France.
fn current_year(now: cordee_pathway::Millis) -> i32 {
    cordee_pathway::calendar::Day::today_in_paris(now)
        .date()
        .year()
}
