//! Break-glass access and the patient's rights.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordee_pathway::consent::{ConsentChange, Objection, ObjectionRecord};
use cordee_pathway::ids::{AccountId, EntryId, ObjectionId, PatientId};
use cordee_pathway::patient::PatientQuery;
use cordee_pathway::policy::Category;
use cordee_pathway::store::{AccessLogItem, Consent, Grant};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entries::{EntryOut, VersionOut};
use super::wire::{page_of, parse_enum, parse_ts, ts, ts_opt};
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
pub struct ObjectionOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = schemas::ObjectionKind)]
    pub kind: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub account_id: Option<String>,
    #[schema(value_type = Option<schemas::Category>)]
    pub category: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
}

impl From<ObjectionRecord> for ObjectionOut {
    fn from(o: ObjectionRecord) -> Self {
        let (kind, account_id, category) = match o.objection {
            Objection::Professional { account_id } => {
                ("professional", Some(account_id.to_string()), None)
            }
            Objection::Category { category } => ("category", None, Some(category.to_string())),
        };
        ObjectionOut {
            id: o.id.to_string(),
            kind: kind.into(),
            account_id,
            category,
            created_at: ts(o.created_at),
            created_by: o.created_by.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    /// When the patient was informed of the sharing, and by whom.
    #[schema(format = DateTime)]
    pub informed_at: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub informed_by: Option<String>,
    /// The objections in force that concern you (objections about categories your
    /// profession may not read are not shown).
    pub objections: Vec<ObjectionOut>,
    /// Masked entries you may read (only their author and the médecin traitant do).
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub masked_entries: Vec<String>,
}

impl From<Consent> for ConsentOut {
    fn from(c: Consent) -> Self {
        ConsentOut {
            informed_at: ts_opt(c.informed_at),
            informed_by: c.informed_by.map(|a| a.to_string()),
            objections: c.objections.into_iter().map(Into::into).collect(),
            masked_entries: c.masked_entries.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Explicit changes to the patient's wishes, applied together (all or none).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChanges {
    /// When the patient was informed of the sharing; not in the future
    /// (422 `consent.informed_in_future`).
    #[schema(format = DateTime)]
    pub informed_at: Option<String>,
    /// Objections to record: to a professional (`account_id`) or to a category.
    #[serde(default)]
    #[schema(value_type = Vec<ObjectionIn>)]
    pub add_objections: Vec<ObjectionDto>,
    /// Ids of objections in force to lift.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub lift_objections: Vec<String>,
    /// Entries to mask (visible then only to their author and the médecin traitant).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub mask: Vec<String>,
    /// Masked entries to show again (their author or the médecin traitant only).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub unmask: Vec<String>,
}

crate::ruled!(
    /// Explicit changes: at least one of them.
    ConsentChangesIn: ConsentChanges => utoipa::openapi::schema::AnyOfBuilder::new()
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property(
                    "informed_at",
                    utoipa::openapi::schema::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                            utoipa::openapi::schema::KnownFormat::DateTime,
                        ))),
                )
                .required("informed_at"),
        )
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("add_objections", schemas::non_empty_array())
                .required("add_objections"),
        )
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("lift_objections", schemas::non_empty_array())
                .required("lift_objections"),
        )
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("mask", schemas::non_empty_array())
                .required("mask"),
        )
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .property("unmask", schemas::non_empty_array())
                .required("unmask"),
        )
);

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
                category: parse_enum("category", c, Category::parse, Category::NAMES)?,
            })
        }
        _ => Err(invalid("objection kind must be professional or category")),
    }
}

impl ConsentChanges {
    fn changes(self) -> Result<Vec<ConsentChange>, ApiError> {
        let mut out = Vec::new();
        if let Some(t) = self.informed_at.as_deref() {
            out.push(ConsentChange::Informed(parse_ts("informed_at", t)?));
        }
        for o in &self.add_objections {
            out.push(ConsentChange::Object(objection(o)?));
        }
        // Ids that do not parse are unknown ids: 404, like ids the caller may not see.
        for id in &self.lift_objections {
            out.push(ConsentChange::Lift(ObjectionId::parse(id).ok_or_else(
                || ApiError::not_found("consent.objection_not_found"),
            )?));
        }
        let entry =
            |id: &String| EntryId::parse(id).ok_or_else(|| ApiError::not_found("entry.not_found"));
        for id in &self.mask {
            out.push(ConsentChange::Mask(entry(id)?));
        }
        for id in &self.unmask {
            out.push(ConsentChange::Unmask(entry(id)?));
        }
        Ok(out)
    }
}

/// The patient's information date, objections and masked entries, as far as they
/// concern you.
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

/// Record explicit changes to the patient's wishes: the information date, objections
/// added or lifted, entries masked or unmasked. Nobody changes what concerns entries
/// or categories they may not read; lifting a mask is for the entry's author or the
/// médecin traitant; the médecin traitant (and an entry's author, for its mask) is
/// notified of every change. All changes apply, or none.
#[utoipa::path(put, path = "/v1/patients/{id}/consent", tag = "patient rights", params(("id" = uuid::Uuid, Path)), request_body = ConsentChangesIn,
    responses((status = 200, body = ConsentOut),
        (status = 403, description = "`consent.not_allowed`: only the care team's health professionals and coordinators record the patient's choices; `consent.category_forbidden`: an objection about a category your profession may not read; `consent.unmask_forbidden`: only the entry's author or the médecin traitant lifts a mask."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them; `entry.not_found`: an entry you may not read, or none; `consent.objection_not_found`: an objection you may not see, or none."),
        (status = 409, description = "`consent.objection_exists`: this objection is already recorded."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`consent.no_change`: nothing to change; `consent.invalid_objection`: an objection lacks what its kind names; `consent.unknown_account`: it names no account; `consent.informed_in_future`; `request.invalid_time`: `informed_at` is not an RFC 3339 time; `request.invalid_field`: an objection's `category` is not a category.")))]
async fn put_consent(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<ConsentChanges>,
) -> Result<Json<ConsentOut>, ApiError> {
    let changes = body.changes()?;
    Ok(Json(
        state
            .store
            .change_consent(&actor, id, changes, now)
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
            action: i.action.as_str().into(),
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
        .access_log(&actor, id, before, limit + 1, now)
        .await?;
    let (items, next_cursor) = page_of(items, limit, |i| i.seq.to_string());
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
    /// Waiting-list requests about the patient (issue 14).
    pub waiting_requests: Vec<super::waiting_list::WaitingRequestOut>,
    // Pathways, care plans and tasks (issue 12)
    /// Every care plan with its reviews, tasks and versions.
    pub care_plans: Vec<super::care_plans::PlanExportOut>,
    // Case conferences (issue 13)
    /// The cases discussed in case conferences, with the minutes and actions.
    pub case_conference_cases: Vec<super::case_conferences::CaseOut>,
    /// The corrections added to those cases after validation (addenda).
    pub case_conference_addenda: Vec<super::case_conference_record::AddendumOut>,
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
        waiting_requests: export
            .waiting_requests
            .into_iter()
            .map(Into::into)
            .collect(),
        care_plans: export
            .care_plans
            .into_iter()
            .map(|p| super::care_plans::PlanExportOut::new(p, export.exported_at))
            .collect(),
        // Case conferences (issue 13)
        case_conference_cases: export
            .case_conference_cases
            .into_iter()
            .map(Into::into)
            .collect(),
        case_conference_addenda: export
            .case_conference_addenda
            .into_iter()
            .map(Into::into)
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
