//! `/v1/cpts`: the CPTS's profile (admins edit it, every member reads it) and the
//! adhesion of professionals (`/v1/cpts/membership`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::account::ProfessionCode;
use cordee_pathway::cpts::{
    Action, COMMUNES_MAX, CptsProfile, Membership, Mission, POPULATION_MAX, ProfileInput, decide,
    size_for_population,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Array;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::me::CodeLabel;
use super::schemas;
use super::wire::{ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::openapi::schemas as doc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, put_profile))
        .routes(routes!(get_membership, join, leave))
}

fn missions_schema() -> Array {
    schemas::list_of_words(Mission::NAMES, "The ACI missions the CPTS chose")
}

fn communes_schema() -> Array {
    schemas::list_of(
        schemas::COMMUNE,
        COMMUNES_MAX,
        "INSEE codes of the communes of the territory (the RPPS import keeps these)",
    )
}

#[derive(Serialize, ToSchema)]
pub struct ProfessionCount {
    /// `null` for members whose session had no profession when they joined.
    pub profession: Option<CodeLabel>,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MemberCounts {
    pub total: i64,
    pub by_profession: Vec<ProfessionCount>,
}

/// The CPTS. Before an admin first writes it, every field but `members` is `null` or
/// empty.
#[derive(Serialize, ToSchema)]
pub struct CptsOut {
    pub name: Option<String>,
    pub population: Option<i64>,
    /// ACI size, derived from the population: 1 under 40,000; 2 from 40,000 to under
    /// 80,000; 3 from 80,000 to 175,000; 4 over 175,000.
    #[schema(minimum = 1, maximum = 4)]
    pub size: Option<u8>,
    #[schema(value_type = Option<doc::IsoDate>)]
    pub contract_signed_on: Option<String>,
    #[schema(schema_with = missions_schema)]
    pub missions: Vec<String>,
    #[schema(schema_with = communes_schema)]
    pub communes: Vec<String>,
    /// Current adhesions, by the profession they joined under (the ACI report's
    /// count).
    pub members: MemberCounts,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

fn profile_out(
    profile: Option<CptsProfile>,
    counts: Vec<(Option<ProfessionCode>, i64)>,
) -> CptsOut {
    let members = MemberCounts {
        total: counts.iter().map(|(_, n)| n).sum(),
        by_profession: counts
            .into_iter()
            .map(|(p, count)| ProfessionCount {
                profession: p.map(|p| CodeLabel {
                    code: p.as_str().into(),
                    label: p.label().into(),
                }),
                count,
            })
            .collect(),
    };
    match profile {
        None => CptsOut {
            name: None,
            population: None,
            size: None,
            contract_signed_on: None,
            missions: Vec::new(),
            communes: Vec::new(),
            members,
            updated_at: None,
            updated_by: None,
        },
        Some(p) => CptsOut {
            size: Some(size_for_population(p.population)),
            name: Some(p.name),
            population: Some(p.population),
            contract_signed_on: p.contract_signed_on,
            missions: p.missions.iter().map(|m| m.as_str().into()).collect(),
            communes: p.communes.iter().map(|c| c.to_string()).collect(),
            members,
            updated_at: Some(ts(p.updated_at)),
            updated_by: p.updated_by.map(|a| a.to_string()),
        },
    }
}

/// The CPTS's profile, with its member counts.
#[utoipa::path(get, path = "/v1/cpts", tag = "cpts",
    responses((status = 200, body = CptsOut),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn get_profile(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
) -> Result<Json<CptsOut>, ApiError> {
    let profile = state.store.cpts_profile().await?;
    let counts = state.store.cpts_member_counts().await?;
    Ok(Json(profile_out(profile, counts)))
}

/// The whole profile, as an admin writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CptsBody {
    #[schema(value_type = doc::CptsName)]
    pub name: String,
    /// People living in the territory; the ACI size follows from it.
    #[serde(deserialize_with = "super::wire::integral")]
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub population: i64,
    #[schema(value_type = Option<doc::DateInput>)]
    pub contract_signed_on: Option<String>,
    #[schema(schema_with = missions_schema)]
    pub missions: Vec<String>,
    #[schema(schema_with = communes_schema)]
    pub communes: Vec<String>,
}

/// Write the CPTS's profile (admins; audited). Invalid input changes nothing.
#[utoipa::path(put, path = "/v1/cpts", tag = "cpts", request_body = CptsBody,
    responses((status = 200, body = CptsOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`cpts.admin_only`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`cpts.invalid_name`, `cpts.invalid_population`, `cpts.invalid_date`, `cpts.invalid_mission`, `cpts.duplicate_mission`, `cpts.invalid_commune`, `cpts.too_many_communes`, `request.invalid_field`")))]
async fn put_profile(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CptsBody>,
) -> Result<Json<CptsOut>, ApiError> {
    // The schema's limit is the domain's.
    const _: () = assert!(POPULATION_MAX == 10_000_000);
    // Who may, before what: a coordinator's bad input is a 403, not a 422.
    decide(&actor, Action::EditProfile)?;
    let update = ProfileInput {
        name: body.name,
        population: body.population,
        contract_signed_on: body.contract_signed_on,
        missions: body.missions,
        communes: body.communes,
    }
    .validate()?;
    let profile = state.store.set_cpts_profile(&actor, update, now).await?;
    let counts = state.store.cpts_member_counts().await?;
    Ok(Json(profile_out(Some(profile), counts)))
}

/// An adhesion to the CPTS.
#[derive(Serialize, ToSchema)]
pub struct MembershipOut {
    pub id: String,
    pub account_id: String,
    /// The profession of the exercice the session acted under when joining.
    pub profession: Option<CodeLabel>,
    pub joined_at: String,
    pub left_at: Option<String>,
}

impl From<Membership> for MembershipOut {
    fn from(m: Membership) -> Self {
        MembershipOut {
            id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            profession: m.profession.map(|p| CodeLabel {
                code: p.as_str().into(),
                label: p.label().into(),
            }),
            joined_at: ts(m.joined_at),
            left_at: ts_opt(m.left_at),
        }
    }
}

/// Your adhesion to the CPTS.
#[utoipa::path(get, path = "/v1/cpts/membership", tag = "cpts",
    responses((status = 200, body = MembershipOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`cpts.not_member`")))]
async fn get_membership(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<MembershipOut>, ApiError> {
    state
        .store
        .cpts_membership(&actor)
        .await?
        .map(|m| Json(m.into()))
        .ok_or_else(|| ApiError::not_found("cpts.not_member"))
}

/// Join the CPTS (health professionals; audited).
#[utoipa::path(post, path = "/v1/cpts/membership", tag = "cpts",
    responses((status = 201, body = MembershipOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`cpts.professionals_only`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`cpts.already_member`")))]
async fn join(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
) -> Result<(StatusCode, Json<MembershipOut>), ApiError> {
    let membership = state.store.join_cpts(&actor, now).await?;
    Ok((StatusCode::CREATED, Json(membership.into())))
}

/// Leave the CPTS (the adhesion is kept, ended; audited).
#[utoipa::path(delete, path = "/v1/cpts/membership", tag = "cpts",
    responses((status = 200, body = MembershipOut, description = "The ended adhesion"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`cpts.professionals_only`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`cpts.not_member`")))]
async fn leave(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
) -> Result<Json<MembershipOut>, ApiError> {
    Ok(Json(state.store.leave_cpts(&actor, now).await?.into()))
}
