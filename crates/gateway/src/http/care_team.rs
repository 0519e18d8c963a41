//! The care team of a patient.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::ids::{AccountId, MemberId, PatientId};
use cordee_pathway::store::{Member, NewMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{PageQuery, page_of, parse_cursor, parse_enum, parse_ts, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(remove))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The `id` from the member's `/v1/me`.
    pub account_id: String,
    /// `medecin_traitant`, `infirmier_referent`, `pharmacien`, `kinesitherapeute`, `coordinateur`, …
    pub role: String,
    /// Why this professional joins the team (sealed at rest).
    pub reason: String,
    /// Optional planned end of the membership (RFC 3339).
    pub end_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    pub id: String,
    pub account_id: String,
    pub display_name: String,
    /// `health_professional` or `staff`
    pub kind: String,
    pub role: String,
    pub reason: Option<String>,
    pub added_by: String,
    pub start_at: String,
    pub end_at: Option<String>,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        MemberOut {
            id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            display_name: m.display_name,
            kind: m.kind.as_str().to_string(),
            role: m.role.as_str().to_string(),
            reason: m.reason,
            added_by: m.added_by.to_string(),
            start_at: ts(m.start_at),
            end_at: ts_opt(m.end_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberOut>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// The active members of the care team.
#[utoipa::path(get, path = "/v1/patients/{id}/care-team", tag = "care team", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = MemberList), (status = 404, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let after = parse_cursor(page.cursor.as_deref(), MemberId::parse)?;
    let limit = page.limit();
    let members = state
        .store
        .care_team(&actor, id, after, limit + 1, now)
        .await?;
    let (members, next_cursor) = page_of(members, limit, |m| m.id.to_string());
    Ok(Json(MemberList {
        items: members.into_iter().map(MemberOut::from).collect(),
        next_cursor,
    }))
}

/// Add a professional to the team, with a reason.
#[utoipa::path(post, path = "/v1/patients/{id}/care-team", tag = "care team", params(("id" = String, Path)), request_body = AddMember,
    responses((status = 201, body = Created), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let account_id = AccountId::parse(&body.account_id).ok_or_else(|| {
        ApiError::unprocessable(
            "care_team.unknown_account",
            "account_id is not a Cordée account id",
        )
    })?;
    let role = parse_enum("role", &body.role, TeamRole::parse, TeamRole::NAMES)?;
    let end_at = body
        .end_at
        .as_deref()
        .map(|e| parse_ts("end_at", e))
        .transpose()?;
    let member = state
        .store
        .add_member(
            &actor,
            id,
            NewMember {
                account_id,
                role,
                reason: body.reason,
                end_at,
            },
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: member.to_string(),
        }),
    ))
}

/// Remove a member (the médecin traitant and coordinators), or leave the team.
#[utoipa::path(delete, path = "/v1/patients/{id}/care-team/{member_id}", tag = "care team",
    params(("id" = String, Path), ("member_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, member)): ApiPath<(PatientId, MemberId)>,
) -> Result<StatusCode, ApiError> {
    state.store.remove_member(&actor, id, member, now).await?;
    Ok(StatusCode::NO_CONTENT)
}
