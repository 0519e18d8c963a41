//! `/v1/directory`: the professionals of the territory — those who have logged in and
//! those the RPPS import lists — found by name prefix (accents and case ignored),
//! profession, commune or organisation; a professional's card; invitations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::account::ProfessionCode;
use cordee_pathway::directory::{
    CommuneCode, DirectoryCursor, DirectoryEntry, DirectoryQuery, EntrySource, Search,
};
use cordee_pathway::ids::OrganisationId;
use cordee_pathway::profile::{NationalId, mode_label};
use cordee_pathway::store::Invitation;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::me::CodeLabel;
use super::schemas;
use super::wire::{page_of, parse_cursor, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::config::ProviderKind;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::openapi::schemas as doc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(card))
        .routes(routes!(invite))
}

fn national_id_schema() -> Object {
    schemas::pattern(
        schemas::NATIONAL_ID,
        "\"8\" + RPPS (11 digits) or \"0\" + ADELI: PSC's SubjectNameID",
    )
}

fn source_schema() -> Object {
    schemas::words(
        EntrySource::NAMES,
        "`rpps`: from the national extraction; `psc`: made at a Pro Santé Connect login",
    )
}

/// A professional of the territory.
#[derive(Serialize, ToSchema)]
pub struct DirectoryEntryOut {
    #[schema(schema_with = national_id_schema)]
    pub national_id: String,
    /// Their Cordée account (what care teams and conversations take), `null` until
    /// their first login.
    #[schema(pattern = "^[0-9a-f-]{36}$")]
    pub account_id: Option<String>,
    pub has_account: bool,
    /// "Claire MARTIN": given names, then the family name as the register writes it.
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    /// TRE_R81 civility of practice (`DR`, `M`, `MME`), when known.
    pub civility: Option<String>,
    /// Of the first activity listed (TRE_G15).
    pub profession: Option<CodeLabel>,
    /// Savoir-faire of type S (TRE_R38), e.g. SM54 médecine générale.
    pub specialty: Option<CodeLabel>,
    /// Mode of practice of the first activity: L libéral, S salarié, B bénévole.
    pub mode_exercice: Option<CodeLabel>,
    pub organisation_ids: Vec<String>,
    #[schema(value_type = Option<doc::CommuneCode>)]
    pub commune_code: Option<String>,
    /// Member (adhérent) of the CPTS.
    pub cpts_member: bool,
    #[schema(schema_with = source_schema)]
    pub source: String,
}

impl From<DirectoryEntry> for DirectoryEntryOut {
    fn from(e: DirectoryEntry) -> Self {
        DirectoryEntryOut {
            national_id: e.national_id.to_string(),
            account_id: e.account_id.map(|a| a.to_string()),
            has_account: e.account_id.is_some(),
            display_name: e.display_name,
            first_name: e.first_name,
            last_name: e.last_name,
            civility: e.civility,
            profession: e.profession.map(|p| CodeLabel {
                code: p.as_str().into(),
                label: p.label().into(),
            }),
            specialty: e.specialty.map(|s| CodeLabel {
                label: s.label().into(),
                code: s.code,
            }),
            mode_exercice: e.mode.map(|m| CodeLabel {
                label: mode_label(&m).into(),
                code: m,
            }),
            organisation_ids: e.organisation_ids.iter().map(|o| o.to_string()).collect(),
            commune_code: e.commune_code.map(|c| c.to_string()),
            cpts_member: e.cpts_member,
            source: e.source.as_str().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryList {
    pub items: Vec<DirectoryEntryOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectorySearch {
    /// The start of the name — family name first (`dub`, `dubois pa`) or given name
    /// first (`paul dub`) —, accents and case ignored; or at least 5 digits of a
    /// national id or RPPS number. At most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(value_type = Option<doc::ProfessionFilter>)]
    pub profession: Option<String>,
    /// Professionals with an activity in this commune (INSEE code).
    #[param(value_type = Option<doc::CommuneFilter>)]
    pub commune: Option<String>,
    /// Professionals working in this organisation.
    #[param(value_type = Option<doc::OrganisationFilter>)]
    pub organisation: Option<String>,
    #[param(value_type = Option<doc::DirectoryCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

const MAX_Q_CHARS: usize = 100;

/// The professionals of the territory, in name order.
#[utoipa::path(get, path = "/v1/directory", tag = "directory", params(DirectorySearch),
    responses((status = 200, body = DirectoryList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A cursor this API did not return"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`directory.invalid_query`, `directory.invalid_profession`, `directory.invalid_commune`, `directory.invalid_organisation`")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiQuery(params): ApiQuery<DirectorySearch>,
) -> Result<Json<DirectoryList>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let q = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_Q_CHARS) {
        return Err(invalid(
            "directory.invalid_query",
            "q",
            "q must be at most 100 characters",
        ));
    }
    // Every filter is checked before a query that can match nobody returns early.
    let mut query = DirectoryQuery {
        search: None,
        profession: parse_opt(params.profession.as_deref(), ProfessionCode::parse).map_err(
            |_| {
                invalid(
                    "directory.invalid_profession",
                    "profession",
                    "profession must be a TRE_G15 code, e.g. 60",
                )
            },
        )?,
        commune: parse_opt(params.commune.as_deref(), CommuneCode::parse).map_err(|_| {
            invalid(
                "directory.invalid_commune",
                "commune",
                "commune must be an INSEE commune code (5 characters, e.g. 59350)",
            )
        })?,
        organisation: parse_opt(params.organisation.as_deref(), OrganisationId::parse).map_err(
            |_| {
                invalid(
                    "directory.invalid_organisation",
                    "organisation",
                    "organisation must be an organisation id",
                )
            },
        )?,
        after: parse_cursor(params.cursor.as_deref(), DirectoryCursor::parse)?,
        limit: limit + 1,
    };
    query.search = match q {
        None => None,
        Some(q) => match Search::parse(q) {
            Some(s) => Some(s),
            // Nothing to search by (punctuation, too few digits): nobody matches.
            None => {
                return Ok(Json(DirectoryList {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
        },
    };
    let rows = state.store.directory(&query).await?;
    let (items, next_cursor) = page_of(rows, limit, |e| e.cursor().encode());
    Ok(Json(DirectoryList {
        items: items.into_iter().map(DirectoryEntryOut::from).collect(),
        next_cursor,
    }))
}

/// `Ok(None)` when absent or empty, `Err` when present and unreadable.
fn parse_opt<T>(text: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ()> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse(t).map(Some).ok_or(()),
    }
}

fn invalid(code: &'static str, field: &str, detail: &str) -> ApiError {
    ApiError::unprocessable(code, detail).with_extra(serde_json::json!({ "field": field }))
}

/// One professional's card.
#[utoipa::path(get, path = "/v1/directory/{national_id}", tag = "directory",
    params(("national_id" = String, Path, description = "\"8\" + RPPS or \"0\" + ADELI", pattern = "^[0-9][0-9A-Za-z/]{1,39}$")),
    responses((status = 200, body = DirectoryEntryOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`directory.not_found`")))]
async fn card(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiPath(national_id): ApiPath<String>,
) -> Result<Json<DirectoryEntryOut>, ApiError> {
    let id = NationalId::parse(&national_id).ok_or(ApiError::not_found("directory.not_found"))?;
    Ok(Json(state.store.directory_entry(&id).await?.into()))
}

/// An invitation to join Cordée: the link logs the invitee in with Pro Santé Connect;
/// their first login binds their account to this entry (by national id) and tells
/// the inviter.
#[derive(Serialize, ToSchema)]
pub struct InvitationOut {
    #[schema(pattern = "^[0-9a-f-]{36}$")]
    pub id: String,
    #[schema(schema_with = national_id_schema)]
    pub national_id: String,
    /// `{public_url}/v1/auth/login?provider=…&login_hint=…`: send it to them.
    pub link: String,
    pub created_at: String,
    /// When the invitee first logged in.
    pub accepted_at: Option<String>,
}

/// Invite a professional of the directory who has no account. Idempotent per
/// (inviter, invitee): inviting again answers 200 with the same invitation.
#[utoipa::path(post, path = "/v1/directory/{national_id}/invite", tag = "directory",
    params(("national_id" = String, Path, description = "\"8\" + RPPS or \"0\" + ADELI", pattern = "^[0-9][0-9A-Za-z/]{1,39}$")),
    responses((status = 201, body = InvitationOut, description = "Invited"),
        (status = 200, body = InvitationOut, description = "Already invited by you: the same invitation"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`directory.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`directory.already_registered`: they have an account; `directory.no_psc_provider`: no Pro Santé Connect provider to log in with")))]
async fn invite(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(national_id): ApiPath<String>,
) -> Result<(StatusCode, Json<InvitationOut>), ApiError> {
    let id = NationalId::parse(&national_id).ok_or(ApiError::not_found("directory.not_found"))?;
    let provider = state
        .auth
        .providers
        .iter()
        .find(|p| p.kind == ProviderKind::Psc)
        .map(|p| p.id.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "directory.no_psc_provider",
                "No Pro Santé Connect provider is configured: an invitation would have nothing to log in with.",
            )
        })?;
    let invitation = state.store.invite(&actor, &id, now).await?;
    let status = if invitation.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(invitation_out(&state, &provider, invitation)?)))
}

fn invitation_out(
    state: &AppState,
    provider: &str,
    invitation: Invitation,
) -> Result<InvitationOut, ApiError> {
    let link = reqwest::Url::parse_with_params(
        &format!(
            "{}/v1/auth/login",
            state.settings.public_url.trim_end_matches('/')
        ),
        &[
            ("provider", provider),
            ("login_hint", invitation.national_id.as_str()),
        ],
    )
    .map_err(|e| ApiError::internal(anyhow::anyhow!("invitation link: {e}")))?;
    Ok(InvitationOut {
        id: invitation.id.to_string(),
        national_id: invitation.national_id.to_string(),
        link: link.to_string(),
        created_at: ts(invitation.created_at),
        accepted_at: ts_opt(invitation.accepted_at),
    })
}
