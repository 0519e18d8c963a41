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
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
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
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
    /// Their role on the team; it must fit their profession (422 `care_team.role_mismatch`).
    #[schema(value_type = schemas::TeamRole)]
    pub role: String,
    #[schema(value_type = schemas::CareTeamReason)]
    pub reason: String,
    /// Optional planned end of the membership, in the future.
    #[schema(format = DateTime)]
    pub end_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
    pub display_name: String,
    #[schema(value_type = schemas::AccountKind)]
    pub kind: String,
    #[schema(value_type = schemas::TeamRole)]
    pub role: String,
    pub reason: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub added_by: String,
    #[schema(format = DateTime)]
    pub start_at: String,
    #[schema(format = DateTime)]
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
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
}

/// The active members of the care team.
#[utoipa::path(get, path = "/v1/patients/{id}/care-team", tag = "care team", params(("id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = MemberList),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
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
#[utoipa::path(post, path = "/v1/patients/{id}/care-team", tag = "care team", params(("id" = uuid::Uuid, Path)), request_body = AddMember,
    responses((status = 201, body = Created),
        (status = 403, description = "`care_team.not_member`, `care_team.not_allowed`: only team members add to the team (a médecin traitant or coordinator for some roles)."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 409, description = "`care_team.already_member`: already on the team; `care_team.medecin_traitant_exists`: the patient has a médecin traitant."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`care_team.unknown_account`: `account_id` names no Cordée account; `care_team.role_mismatch`: the role does not fit their profession; `care_team.reason_required`; `care_team.invalid_end`: `end_at` is not in the future; `request.invalid_time`: `end_at` is not an RFC 3339 time.")))]
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
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path, description = "The `id` of a member from the team's list")),
    responses((status = 204, description = "Removed."),
        (status = 403, description = "`care_team.not_allowed`: only the médecin traitant and coordinators remove others."),
        (status = 404, description = "`patient.not_found`, `care_team.member_not_found`: no such patient or member, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn remove(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, member)): ApiPath<(PatientId, MemberId)>,
) -> Result<StatusCode, ApiError> {
    state.store.remove_member(&actor, id, member, now).await?;
    Ok(StatusCode::NO_CONTENT)
}
