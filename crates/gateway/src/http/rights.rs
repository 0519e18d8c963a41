//! Break-glass access and the patient's rights.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordee_pathway::ids::{AccountId, EntryId, PatientId};
use cordee_pathway::patient::PatientQuery;
use cordee_pathway::policy::Category;
use cordee_pathway::store::{AccessLogItem, Consent, ConsentUpdate, Grant, Objection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entries::{CATEGORIES, EntryOut, VersionOut};
use super::wire::{parse_enum, parse_ts, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(break_glass))
        .routes(routes!(break_glass_by_identity))
        .routes(routes!(get_consent, put_consent))
        .routes(routes!(access_log))
        .routes(routes!(export))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    #[schema(value_type = schemas::BreakGlassReason)]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassByIdentity {
    #[schema(value_type = schemas::PatientLookup)]
    pub query: String,
    #[schema(value_type = schemas::BreakGlassReason)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub patient_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
    #[schema(format = DateTime)]
    pub granted_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<Grant> for GrantOut {
    fn from(g: Grant) -> Self {
        GrantOut {
            id: g.id.to_string(),
            patient_id: g.patient_id.to_string(),
            account_id: g.account_id.to_string(),
            granted_at: ts(g.granted_at),
            expires_at: ts(g.expires_at),
        }
    }
}

/// Emergency access to a patient outside your care teams: recorded as a security
/// event, time-limited, and the care team is notified.
#[utoipa::path(post, path = "/v1/patients/{id}/break-glass", tag = "patient rights", params(("id" = uuid::Uuid, Path)), request_body = BreakGlassRequest,
    responses((status = 201, body = GrantOut),
        (status = 403, description = "`break_glass.health_professionals_only`: only health professionals use emergency access."),
        (status = 404, description = "`patient.not_found`: no such patient, or the patient objected to you."),
        (status = 409, description = "`break_glass.already_member`: you are on the care team already."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`break_glass.reason_required`: the reason is not 10 to 2000 characters.")))]
async fn break_glass(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<BreakGlassRequest>,
) -> Result<(StatusCode, Json<GrantOut>), ApiError> {
    let duration = i64::try_from(state.settings.break_glass_duration_secs).unwrap_or(4 * 3600);
    let grant = state
        .store
        .break_glass(&actor, id, &body.reason, duration, now)
        .await?;
    Ok((StatusCode::CREATED, Json(grant.into())))
}

/// Emergency access to a patient you know by identity, not by Cordée id (an on-call
/// doctor at the bedside): a unique exact match is granted as by
/// `POST /v1/patients/{id}/break-glass` and its `patient_id` returned. Every lookup is
/// audited, found or not, and a grant notifies the care team. 404 when no patient
/// matches (or the patient objected to you), 409 `break_glass.ambiguous` when several
/// share the birth name and date (use the INS). At most 5 lookups per minute per
/// account (429 `break_glass.rate_limited`).
#[utoipa::path(post, path = "/v1/break-glass", tag = "patient rights", request_body = BreakGlassByIdentity,
    responses((status = 201, body = GrantOut),
        (status = 403, description = "`break_glass.health_professionals_only`: only health professionals use emergency access."),
        (status = 404, description = "`patient.not_found`: no patient matches, or the patient objected to you."),
        (status = 409, description = "`break_glass.ambiguous`: several patients share this birth name and date (use the INS); `break_glass.already_member`: you are on the care team already."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`patient.invalid_query`: `query` is neither an INS matricule with a right key nor a name and a date; `break_glass.reason_required`: the reason is not 10 to 2000 characters."),
        (status = 429, description = "`break_glass.rate_limited`: more than 5 lookups in a minute; `retry_after` says when to retry.")))]
async fn break_glass_by_identity(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<BreakGlassByIdentity>,
) -> Result<(StatusCode, Json<GrantOut>), ApiError> {
    let query = PatientQuery::parse(&body.query)?;
    if let Err(wait) = state.break_glass_limiter.check(actor.account_id, now) {
        let wait = wait.as_secs().max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "break_glass.rate_limited",
            format!(
                "At most {} emergency-access lookups per minute; retry in {wait} s.",
                state.break_glass_limiter.limit()
            ),
        )
        .with_extra(serde_json::json!({ "retry_after": wait })));
    }
    let duration = i64::try_from(state.settings.break_glass_duration_secs).unwrap_or(4 * 3600);
    let grant = state
        .store
        .break_glass_by_identity(&actor, &query, &body.reason, duration, now)
        .await?;
    Ok((StatusCode::CREATED, Json(grant.into())))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ObjectionDto {
    #[schema(value_type = schemas::ObjectionKind)]
    pub kind: String,
    /// The professional the patient objects to (kind `professional`).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub account_id: Option<String>,
    /// The category the patient objects to sharing (kind `category`).
    #[schema(value_type = Option<schemas::Category>)]
    pub category: Option<String>,
}

crate::ruled!(
    /// An objection as sent: what its kind names must be there.
    ObjectionIn: ObjectionDto => utoipa::openapi::schema::AnyOfBuilder::new()
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("kind", schemas::word("professional"))
                .property("account_id", schemas::uuid())
                .required("kind")
                .required("account_id"),
        )
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("kind", schemas::word("category"))
                .property(
                    "category",
                    utoipa::openapi::Ref::from_schema_name("Category"),
                )
                .required("kind")
                .required("category"),
        )
);

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    /// When the patient was informed of the sharing, and by whom.
    #[schema(format = DateTime)]
    pub informed_at: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub informed_by: Option<String>,
    pub objections: Vec<ObjectionDto>,
    /// Entries the patient asked to mask: only their author and the médecin traitant see them.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub masked_entries: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    /// When the patient was informed of the sharing; not in the future
    /// (422 `consent.informed_in_future`).
    #[schema(format = DateTime)]
    pub informed_at: Option<String>,
    /// Replace the patient's objections with these.
    #[serde(default)]
    #[schema(value_type = Vec<ObjectionIn>)]
    pub objections: Vec<ObjectionDto>,
    /// Entries of this patient's file to mask (422 `consent.unknown_entry` for another id).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub masked_entries: Vec<String>,
}

impl From<Consent> for ConsentOut {
    fn from(c: Consent) -> Self {
        ConsentOut {
            informed_at: ts_opt(c.informed_at),
            informed_by: c.informed_by.map(|a| a.to_string()),
            objections: c
                .objections
                .into_iter()
                .map(|o| match o {
                    Objection::Professional { account_id } => ObjectionDto {
                        kind: "professional".into(),
                        account_id: Some(account_id.to_string()),
                        category: None,
                    },
                    Objection::Category { category } => ObjectionDto {
                        kind: "category".into(),
                        account_id: None,
                        category: Some(category.as_str().into()),
                    },
                })
                .collect(),
            masked_entries: c.masked_entries.iter().map(ToString::to_string).collect(),
        }
    }
}

fn objection(dto: &ObjectionDto) -> Result<Objection, ApiError> {
    let invalid = |d: &str| ApiError::unprocessable("consent.invalid_objection", d.to_string());
    match dto.kind.as_str() {
        "professional" => dto
            .account_id
            .as_deref()
            .and_then(AccountId::parse)
            .map(|account_id| Objection::Professional { account_id })
            .ok_or_else(|| invalid("a professional objection needs a valid account_id")),
        "category" => {
            let c = dto
                .category
                .as_deref()
                .ok_or_else(|| invalid("a category objection needs category"))?;
            Ok(Objection::Category {
                category: parse_enum("category", c, Category::parse, &CATEGORIES)?,
            })
        }
        _ => Err(invalid("objection kind must be professional or category")),
    }
}

/// The patient's information date, objections and masked entries.
#[utoipa::path(get, path = "/v1/patients/{id}/consent", tag = "patient rights", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConsentOut),
        (status = 403, description = "`consent.not_allowed`: only the care team's health professionals and coordinators see the patient's choices."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn get_consent(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
) -> Result<Json<ConsentOut>, ApiError> {
    Ok(Json(state.store.consent(&actor, id, now).await?.into()))
}

/// Replace the patient's objections and masked entries; record when they were informed.
#[utoipa::path(put, path = "/v1/patients/{id}/consent", tag = "patient rights", params(("id" = uuid::Uuid, Path)), request_body = ConsentIn,
    responses((status = 200, body = ConsentOut),
        (status = 403, description = "`consent.not_allowed`: only the care team's health professionals and coordinators record the patient's choices."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`consent.invalid_objection`: an objection lacks what its kind names; `consent.unknown_account`: it names no account; `consent.unknown_entry`: a masked entry is not in this file; `consent.informed_in_future`; `request.invalid_time`: `informed_at` is not an RFC 3339 time; `request.invalid_field`: an objection's `category` is not a category.")))]
async fn put_consent(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<ConsentIn>,
) -> Result<Json<ConsentOut>, ApiError> {
    let update = ConsentUpdate {
        informed_at: body
            .informed_at
            .as_deref()
            .map(|t| parse_ts("informed_at", t))
            .transpose()?,
        objections: body
            .objections
            .iter()
            .map(objection)
            .collect::<Result<_, _>>()?,
        masked_entries: body
            .masked_entries
            .iter()
            .map(|e| {
                EntryId::parse(e).ok_or_else(|| {
                    ApiError::unprocessable("consent.unknown_entry", "an entry id is not valid")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Json(
        state
            .store
            .set_consent(&actor, id, update, now)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AccessLogOut {
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// What was done, e.g. `entry.read`, `patient.read`, `break_glass.grant`.
    pub action: String,
    /// Under which grant: `care` (the care team), `break_glass`, `patient_right`, `administration`.
    #[schema(value_type = schemas::AuditPurpose)]
    pub purpose: String,
    #[schema(value_type = schemas::AuditOutcome)]
    pub outcome: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
}

impl From<AccessLogItem> for AccessLogOut {
    fn from(i: AccessLogItem) -> Self {
        AccessLogOut {
            at: ts(i.at),
            actor_id: i.actor_id.map(|a| a.to_string()),
            actor_name: i.actor_name,
            action: i.action,
            purpose: i.purpose.as_str().into(),
            outcome: i.outcome.as_str().into(),
            resource_type: i.resource_type,
            resource_id: i.resource_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccessLogList {
    pub items: Vec<AccessLogOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    #[param(value_type = Option<schemas::SeqCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 100); values outside are brought within.
    pub limit: Option<i64>,
}

/// Who accessed the file, when, what, and under which grant — from the audit chain.
#[utoipa::path(get, path = "/v1/patients/{id}/access-log", tag = "patient rights", params(("id" = uuid::Uuid, Path), LogQuery),
    responses((status = 200, body = AccessLogList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 403, description = "`consent.not_allowed`: only the care team's health professionals and coordinators read the access log."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn access_log(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<AccessLogList>, ApiError> {
    let before = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "request.invalid_cursor",
                "cursor is not one this API returned",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let items = state
        .store
        .access_log(&actor, id, before, limit, now)
        .await?;
    let next_cursor = if items.len() as i64 == limit {
        items.last().map(|i| i.seq.to_string())
    } else {
        None
    };
    Ok(Json(AccessLogList {
        items: items.into_iter().map(AccessLogOut::from).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ExportOut {
    #[schema(format = DateTime)]
    pub exported_at: String,
    pub patient: super::patients::PatientOut,
    pub care_team: Vec<super::care_team::MemberOut>,
    pub consent: ConsentOut,
    /// Every entry of every category, each with all its versions.
    pub entries: Vec<EntryOut>,
    /// Every conversation about the patient, with its messages (deleted ones as
    /// tombstones): they are part of the file.
    pub conversations: Vec<ThreadExport>,
}

#[derive(Serialize, ToSchema)]
pub struct ThreadExport {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = Option<schemas::Category>)]
    pub category: Option<String>,
    pub title: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub messages: Vec<super::messages::MessageOut>,
}

/// The whole file as JSON, for the patient (by their médecin traitant).
#[utoipa::path(get, path = "/v1/patients/{id}/export", tag = "patient rights", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ExportOut),
        (status = 403, description = "`export.medecin_traitant_only`: the médecin traitant exports the file."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn export(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
) -> Result<Response, ApiError> {
    let export = state.store.export_patient(&actor, id, now).await?;
    let out = ExportOut {
        exported_at: ts(export.exported_at),
        patient: export.patient.into(),
        care_team: export.care_team.into_iter().map(Into::into).collect(),
        consent: export.consent.into(),
        entries: export
            .entries
            .into_iter()
            .map(|(e, versions)| {
                let mut out = EntryOut::from(e);
                out.versions = Some(versions.into_iter().map(VersionOut::from).collect());
                out
            })
            .collect(),
        conversations: export
            .conversations
            .into_iter()
            .map(|(c, messages)| ThreadExport {
                id: c.id.to_string(),
                category: c.category.map(|k| k.as_str().to_string()),
                title: c.title,
                created_by: c.created_by.to_string(),
                created_at: ts(c.created_at),
                messages: messages.iter().map(Into::into).collect(),
            })
            .collect(),
    };
    let mut response = Json(out).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"patient-{id}.json\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
