//! `/v1/waiting-list`: patients without a médecin traitant. Requests (coordinators
//! and health professionals register them), the coordinator's list sorted by
//! priority, suggestions and proposals of GPs, the GP's answer, the indicators.
//! GP capacity declarations are in `gp_capacity.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::ids::{AccountId, PatientId, ProposalId, RequestId};
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::store::{
    NewRequest, PatientRef, ProposalView, RequestChange, RequestCursor, RequestQuery, RequestView,
};
use cordee_pathway::waiting_list::indicators::Counts;
use cordee_pathway::waiting_list::{
    Contact, Fragility, Group, NOTES_MAX, REASON_MAX, RequestStatus, Source, day_of, format_day,
    optional_text, parse_commune, parse_day,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::patients::Identity as IdentityOut;
use super::schemas;
use super::wire::{page_of, parse_cursor, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(indicators))
        .routes(routes!(get_one, update))
        .routes(routes!(suggestions))
        .routes(routes!(propose))
        .routes(routes!(accept))
        .routes(routes!(decline))
}

fn source_schema() -> Object {
    schemas::words(
        Source::NAMES,
        "Where the request came from: the patient (web form, phone), a professional, a CPAM list, a town hall, other",
    )
}

fn status_schema() -> Object {
    schemas::words(RequestStatus::NAMES, "Where the request stands")
}

fn group_schema() -> Object {
    schemas::words(
        Group::NAMES,
        "An indicator group: ALD, 70 or older, CSS/AME precarity, or none of these",
    )
}

fn commune_schema() -> Object {
    schemas::pattern(
        schemas::COMMUNE,
        "INSEE commune code where the patient lives, e.g. 59350",
    )
}

fn date_schema() -> Object {
    schemas::pattern(schemas::DATE, "`YYYY-MM-DD`")
}

fn cursor_schema() -> Object {
    schemas::pattern(
        "^(?:-?[0-9]{1,18}\\.-?[0-9]{1,18}\\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        "The `next_cursor` of the previous page (priority.requested_at.id); empty or absent for the first page \
         (400 `request.invalid_cursor` for anything else).",
    )
}

/// The fragility flags as a client sends them. `age_70_plus` may be sent back as read;
/// it is always computed from the birth date. A flag of another type, or another
/// member, answers 422 `waiting_list.invalid_flag`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FragilityIn {
    pub ald: Option<bool>,
    /// Ignored: computed from the birth date.
    pub age_70_plus: Option<bool>,
    #[schema(schema_with = precarity_schema)]
    pub precarity: Option<String>,
    pub complex_situation: Option<bool>,
    pub lost_gp: Option<bool>,
    pub needs_home_visits: Option<bool>,
}

fn precarity_schema() -> Object {
    schemas::nullable_words(
        cordee_pathway::waiting_list::Precarity::NAMES,
        "`css` (complémentaire santé solidaire), `ame` (aide médicale de l'État) or null",
    )
}

fn nullable_commune_schema() -> Object {
    schemas::nullable_pattern(
        schemas::COMMUNE,
        "INSEE commune code where the patient lives, e.g. 59350",
    )
}

#[derive(Serialize, ToSchema)]
pub struct FragilityOut {
    pub ald: bool,
    /// Computed from the birth date when the request was registered.
    pub age_70_plus: bool,
    #[schema(schema_with = precarity_schema)]
    pub precarity: Option<String>,
    pub complex_situation: bool,
    pub lost_gp: bool,
    pub needs_home_visits: bool,
}

impl From<Fragility> for FragilityOut {
    fn from(f: Fragility) -> Self {
        FragilityOut {
            ald: f.ald,
            age_70_plus: f.age_70_plus,
            precarity: f.precarity.map(|p| p.as_str().to_string()),
            complex_situation: f.complex_situation,
            lost_gp: f.lost_gp,
            needs_home_visits: f.needs_home_visits,
        }
    }
}

/// How to reach the patient (sealed at rest).
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// Blank, or at least 6 digits (spaces, `+`, `.`, `-` and brackets allowed).
    #[schema(
        max_length = 200,
        pattern = "^[ \\t\\n\\r]*$|^[ +.()-]*(?:[0-9][ +.()-]*){6,}$"
    )]
    pub phone: Option<String>,
    /// Blank, or an address with an `@` and no control characters.
    #[schema(
        max_length = 200,
        pattern = "^[ \\t\\n\\r]*$|^[^\\u0000-\\u001f\\u007f-\\u009f]*@[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub email: Option<String>,
    /// Blank, or text without control characters.
    #[schema(
        max_length = 200,
        pattern = "^[ \\t\\n\\r]*$|^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub address: Option<String>,
}

impl From<ContactBody> for Contact {
    fn from(c: ContactBody) -> Contact {
        Contact {
            phone: c.phone,
            email: c.email,
            address: c.address,
        }
    }
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> ContactBody {
        ContactBody {
            phone: c.phone,
            email: c.email,
            address: c.address,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProposalOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub request_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub gp_id: String,
    pub gp_name: String,
    #[schema(schema_with = proposal_status_schema)]
    pub status: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
}

fn proposal_status_schema() -> Object {
    schemas::words(
        cordee_pathway::waiting_list::ProposalStatus::NAMES,
        "pending until the GP answers; lapsed when unanswered in time or when another GP accepted",
    )
}

impl From<ProposalView> for ProposalOut {
    fn from(p: ProposalView) -> Self {
        ProposalOut {
            id: p.id.to_string(),
            request_id: p.request_id.to_string(),
            gp_id: p.gp_id.to_string(),
            gp_name: p.gp_name,
            status: p.status.as_str().into(),
            created_at: ts(p.created_at),
            answered_at: ts_opt(p.answered_at),
        }
    }
}

/// A request as its reader may see it. A coordinator never gets the notes.
#[derive(Serialize, ToSchema)]
pub struct WaitingRequestOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// The patient record, once there is one (named at registration, or made when a
    /// GP accepted).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub patient_id: Option<String>,
    pub identity: IdentityOut,
    pub display_name: String,
    #[schema(schema_with = commune_schema)]
    pub commune_code: String,
    #[schema(schema_with = source_schema)]
    pub source: String,
    pub fragility: FragilityOut,
    /// The priority now (see the list's description).
    pub priority: i64,
    #[schema(schema_with = status_schema)]
    pub status: String,
    #[schema(schema_with = date_schema)]
    pub requested_on: String,
    #[schema(format = DateTime)]
    pub requested_at: String,
    #[schema(value_type = uuid::Uuid)]
    pub requested_by: String,
    #[schema(format = Date)]
    pub placed_on: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub placed_with: Option<String>,
    pub contact: ContactBody,
    /// The requester's notes: for the requester and the proposed GPs only.
    pub notes: Option<String>,
    /// Every proposal for coordinators and the requester; a GP sees their own.
    pub proposals: Vec<ProposalOut>,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<RequestView> for WaitingRequestOut {
    fn from(v: RequestView) -> Self {
        WaitingRequestOut {
            id: v.id.to_string(),
            patient_id: v.patient_id.map(|p| p.to_string()),
            display_name: v.identity.display_name(),
            identity: IdentityOut {
                ins_matricule: v.identity.ins_matricule.map(|m| m.as_str().to_string()),
                ins_oid: v.identity.ins_oid,
                birth_name: v.identity.birth_name,
                first_names: v.identity.first_names,
                used_name: v.identity.used_name,
                birth_date: v.identity.birth_date,
                sex: v.identity.sex,
                birth_place_code: v.identity.birth_place_code,
            },
            commune_code: v.commune_code,
            source: v.source.as_str().into(),
            fragility: v.fragility.into(),
            priority: v.priority,
            status: v.status.as_str().into(),
            requested_on: v.requested_on,
            requested_at: ts(v.requested_at),
            requested_by: v.requested_by.to_string(),
            placed_on: v.placed_on,
            placed_with: v.placed_with.map(|a| a.to_string()),
            contact: v.contact.into(),
            notes: v.notes,
            proposals: v.proposals.into_iter().map(ProposalOut::from).collect(),
            updated_at: ts(v.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WaitingRequestList {
    pub items: Vec<WaitingRequestOut>,
    pub next_cursor: Option<String>,
}

/// The identity traits of a person without a record yet (as `POST /v1/patients`,
/// without the INS: the record made at placement is `provisoire`, and the GP
/// qualifies it with the INSi teleservice).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    #[schema(value_type = crate::openapi::schemas::PersonName)]
    pub birth_name: String,
    #[schema(value_type = crate::openapi::schemas::PersonName)]
    pub first_names: String,
    #[schema(value_type = Option<crate::openapi::schemas::OptionalPersonName>)]
    pub used_name: Option<String>,
    #[schema(value_type = crate::openapi::schemas::BirthDate)]
    pub birth_date: String,
    #[schema(value_type = crate::openapi::schemas::Sex, example = "F")]
    pub sex: Sex,
    #[schema(value_type = Option<crate::openapi::schemas::BirthPlaceCode>)]
    pub birth_place_code: Option<String>,
}

/// A new request: `patient_id` (a record you may see) or `identity`, not both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestBody {
    #[schema(value_type = Option<uuid::Uuid>)]
    pub patient_id: Option<String>,
    pub identity: Option<PersonBody>,
    #[schema(schema_with = commune_schema)]
    pub commune_code: String,
    #[schema(schema_with = source_schema)]
    pub source: String,
    #[schema(value_type = FragilityIn)]
    pub fragility: serde_json::Value,
    pub contact: Option<ContactBody>,
    /// Free text for the GP (sealed; never shown to coordinators).
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

fn parse_source(text: &str) -> Result<Source, ApiError> {
    Source::parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "waiting_list.invalid_source",
            format!("source must be one of: {}", Source::NAMES.join(", ")),
        )
        .with_extra(serde_json::json!({ "field": "source" }))
    })
}

fn notes_of(text: Option<String>) -> Result<Option<String>, ApiError> {
    Ok(optional_text(
        text,
        NOTES_MAX,
        "waiting_list.invalid_notes",
    )?)
}

/// Register a request (coordinators and health professionals; audited). Age 70 or
/// more is computed from the birth date.
#[utoipa::path(post, path = "/v1/waiting-list", tag = "waiting-list", request_body = CreateRequestBody,
    responses((status = 201, body = WaitingRequestOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.request_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`patient.not_found`: a `patient_id` you may not see"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`waiting_list.duplicate`: this person already has an open request"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.invalid_patient`, `waiting_list.invalid_commune`, `waiting_list.invalid_source`, `waiting_list.invalid_flag`, `waiting_list.invalid_contact`, `waiting_list.invalid_notes`, `patient.invalid_*`")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CreateRequestBody>,
) -> Result<(StatusCode, Json<WaitingRequestOut>), ApiError> {
    let patient = match (body.patient_id, body.identity) {
        (Some(id), None) => PatientRef::Existing(
            PatientId::parse(&id).ok_or_else(|| ApiError::not_found("patient.not_found"))?,
        ),
        (None, Some(p)) => PatientRef::Traits(
            IdentityInput {
                ins_matricule: None,
                ins_oid: None,
                birth_name: p.birth_name,
                first_names: p.first_names,
                used_name: p.used_name,
                birth_date: p.birth_date,
                sex: p.sex,
                birth_place_code: p.birth_place_code,
            }
            .validate(IdentityStatus::Provisoire, now)?,
        ),
        _ => {
            return Err(ApiError::unprocessable(
                "waiting_list.invalid_patient",
                "give either patient_id or identity",
            ));
        }
    };
    let new = NewRequest {
        patient,
        commune: parse_commune(&body.commune_code)?,
        source: parse_source(&body.source)?,
        fragility: Fragility::parse(&body.fragility, false)?,
        contact: body
            .contact
            .map(Contact::from)
            .unwrap_or_default()
            .validate()?,
        notes: notes_of(body.notes)?,
    };
    let view = state.store.create_waiting_request(&actor, new, now).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestSearch {
    /// Only requests of this commune.
    #[param(schema_with = commune_schema)]
    pub commune: Option<String>,
    /// Only requests in this indicator group.
    #[param(schema_with = group_schema)]
    pub group: Option<String>,
    /// Only requests in this state (default: waiting and proposed).
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

fn invalid(code: &'static str, field: &str, detail: String) -> ApiError {
    ApiError::unprocessable(code, detail).with_extra(serde_json::json!({ "field": field }))
}

/// The waiting list, sorted by priority. Coordinators see every request; anyone else
/// their own requests and those proposed to them.
///
/// Priority = points of the fragility flags + waiting points. Flags: ALD 3, age 70 or
/// more 2 (computed from the birth date), CSS/AME precarity 2, complex situation 3, a
/// GP who left 1, needs home visits 2. Waiting: 1 point per full 30 days since the
/// request, at most 12. Higher first; ties go to the older request.
#[utoipa::path(get, path = "/v1/waiting-list", tag = "waiting-list", params(RequestSearch),
    responses((status = 200, body = WaitingRequestList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.invalid_commune`, `waiting_list.invalid_group`, `waiting_list.invalid_status`")))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(params): ApiQuery<RequestSearch>,
) -> Result<Json<WaitingRequestList>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let commune = match params.commune.as_deref() {
        None => None,
        Some(c) => Some(parse_commune(c)?),
    };
    let group = match params.group.as_deref() {
        None => None,
        Some(g) => Some(Group::parse(g).ok_or_else(|| {
            invalid(
                "waiting_list.invalid_group",
                "group",
                format!("group must be one of: {}", Group::NAMES.join(", ")),
            )
        })?),
    };
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(RequestStatus::parse(s).ok_or_else(|| {
            invalid(
                "waiting_list.invalid_status",
                "status",
                format!("status must be one of: {}", RequestStatus::NAMES.join(", ")),
            )
        })?),
    };
    let query = RequestQuery {
        commune,
        group,
        status,
        after: parse_cursor(params.cursor.as_deref(), RequestCursor::parse)?,
        limit: limit + 1,
    };
    let rows = state.store.waiting_requests(&actor, &query, now).await?;
    let (items, next_cursor) = page_of(rows, limit, |r| r.cursor().encode());
    Ok(Json(WaitingRequestList {
        items: items.into_iter().map(WaitingRequestOut::from).collect(),
        next_cursor,
    }))
}

/// One request (coordinators, its requester, a GP it is proposed to; 404 for anyone
/// else). Audited.
#[utoipa::path(get, path = "/v1/waiting-list/{id}", tag = "waiting-list", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = WaitingRequestOut),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.not_found`")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<RequestId>,
) -> Result<Json<WaitingRequestOut>, ApiError> {
    Ok(Json(
        state.store.waiting_request(&actor, id, now).await?.into(),
    ))
}

/// What changes in a request: any member given replaces what was.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequestBody {
    #[schema(schema_with = nullable_commune_schema)]
    pub commune_code: Option<String>,
    #[schema(value_type = Option<FragilityIn>)]
    pub fragility: Option<serde_json::Value>,
    pub contact: Option<ContactBody>,
    /// The requester's notes; an empty string clears them.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// `withdrawn` withdraws the request (its pending proposals lapse).
    #[schema(schema_with = withdraw_schema)]
    pub status: Option<String>,
}

fn withdraw_schema() -> Object {
    schemas::nullable_words(&["withdrawn"], "Withdraw the request")
}

/// Change or withdraw a request (its requester or a coordinator; the notes are the
/// requester's). A placed or withdrawn request no longer changes.
#[utoipa::path(patch, path = "/v1/waiting-list/{id}", tag = "waiting-list", params(("id" = uuid::Uuid, Path)),
    request_body = UpdateRequestBody,
    responses((status = 200, body = WaitingRequestOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.update_forbidden`, `waiting_list.notes_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`waiting_list.closed`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.invalid_commune`, `waiting_list.invalid_flag`, `waiting_list.invalid_contact`, `waiting_list.invalid_notes`, `waiting_list.invalid_status`")))]
async fn update(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(body): ApiJson<UpdateRequestBody>,
) -> Result<Json<WaitingRequestOut>, ApiError> {
    let withdraw = match body.status.as_deref() {
        None => false,
        Some("withdrawn") => true,
        Some(_) => {
            return Err(invalid(
                "waiting_list.invalid_status",
                "status",
                "status can only be set to withdrawn".into(),
            ));
        }
    };
    let change = RequestChange {
        commune: body
            .commune_code
            .as_deref()
            .map(parse_commune)
            .transpose()?,
        fragility: body
            .fragility
            .as_ref()
            .map(|f| Fragility::parse(f, false))
            .transpose()?,
        contact: body
            .contact
            .map(|c| Contact::from(c).validate())
            .transpose()?,
        notes: body.notes.map(|n| notes_of(Some(n))).transpose()?,
        withdraw,
    };
    Ok(Json(
        state
            .store
            .update_waiting_request(&actor, id, change, now)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionOut {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
    pub display_name: String,
    pub remaining_this_month: i64,
    pub new_patients_per_month: i64,
    /// The GP named the request's commune (otherwise they take the whole territory).
    pub commune_match: bool,
    /// Proposals this GP has not answered yet.
    pub pending_proposals: i64,
    pub accepts_ald: bool,
    pub home_visits: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<SuggestionOut>,
    /// Always null: the ranking is one page (`limit`).
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionParams {
    /// How many GPs, 1 to 50 (default 10); values outside are brought within.
    pub limit: Option<i64>,
}

/// The médecins généralistes that fit a request, best first (coordinators): a
/// declaration that holds today with places left this month, ALD and home visits
/// when the request needs them, the request's commune or the whole territory. Ranked
/// by commune named, then the share of the month still free (load spread), fewer
/// pending proposals, more places left. GPs already asked are left out.
#[utoipa::path(get, path = "/v1/waiting-list/{id}/suggestions", tag = "waiting-list",
    params(("id" = uuid::Uuid, Path), SuggestionParams),
    responses((status = 200, body = SuggestionList),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.not_found`")))]
async fn suggestions(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<RequestId>,
    ApiQuery(params): ApiQuery<SuggestionParams>,
) -> Result<Json<SuggestionList>, ApiError> {
    let limit = usize::try_from(params.limit.unwrap_or(10).clamp(1, 50)).unwrap_or(10);
    let items = state.store.suggestions(&actor, id, limit, now).await?;
    Ok(Json(SuggestionList {
        items: items
            .into_iter()
            .map(|s| SuggestionOut {
                account_id: s.account_id.to_string(),
                display_name: s.display_name,
                remaining_this_month: s.remaining,
                new_patients_per_month: s.new_patients_per_month,
                commune_match: s.commune_match,
                pending_proposals: s.pending,
                accepts_ald: s.accepts_ald,
                home_visits: s.home_visits,
            })
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// 1 to 3 médecins généralistes (account ids), pending proposals included.
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 3)]
    pub gp_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<ProposalOut>,
}

/// Propose 1 to 3 GPs for a request (coordinators); each is notified (notification
/// `waiting_list.proposal` and stream event `waiting_list.proposal`).
#[utoipa::path(post, path = "/v1/waiting-list/{id}/proposals", tag = "waiting-list",
    params(("id" = uuid::Uuid, Path)), request_body = ProposeBody,
    responses((status = 201, body = ProposalList),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`waiting_list.closed`, `waiting_list.already_proposed`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.too_many_gps`, `waiting_list.not_a_gp`, `waiting_list.no_capacity`")))]
async fn propose(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<RequestId>,
    ApiJson(body): ApiJson<ProposeBody>,
) -> Result<(StatusCode, Json<ProposalList>), ApiError> {
    let mut gps = Vec::with_capacity(body.gp_ids.len());
    for g in &body.gp_ids {
        gps.push(AccountId::parse(g).ok_or_else(|| {
            ApiError::unprocessable(
                "waiting_list.not_a_gp",
                "gp_ids must be account ids of médecins généralistes",
            )
        })?);
    }
    let items = state.store.propose(&actor, id, &gps, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(ProposalList {
            items: items.into_iter().map(ProposalOut::from).collect(),
        }),
    ))
}

/// Accept a proposal (the proposed GP): the patient is placed with you. You join the
/// care team as médecin traitant (the record is made if there was none), the other
/// proposals lapse, a place of your month is used; the coordinator and the requester
/// are told. Two acceptances at once: one wins, the other is 409.
#[utoipa::path(post, path = "/v1/waiting-list/{id}/proposals/{proposal_id}/accept", tag = "waiting-list",
    params(("id" = uuid::Uuid, Path), ("proposal_id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProposalOut),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.proposal_not_found`: not a proposal to you"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`waiting_list.proposal_closed`, `waiting_list.already_placed`, `waiting_list.no_capacity`, `care_team.medecin_traitant_exists`")))]
async fn accept(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, proposal)): ApiPath<(RequestId, ProposalId)>,
) -> Result<Json<ProposalOut>, ApiError> {
    Ok(Json(
        state
            .store
            .accept_proposal(&actor, id, proposal, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// Why (sealed; optional).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Decline a proposal (the proposed GP); the coordinator is told.
#[utoipa::path(post, path = "/v1/waiting-list/{id}/proposals/{proposal_id}/decline", tag = "waiting-list",
    params(("id" = uuid::Uuid, Path), ("proposal_id" = uuid::Uuid, Path)), request_body = DeclineBody,
    responses((status = 200, body = ProposalOut),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`waiting_list.proposal_not_found`: not a proposal to you"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`waiting_list.proposal_closed`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.invalid_reason`")))]
async fn decline(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, proposal)): ApiPath<(RequestId, ProposalId)>,
    ApiJson(body): ApiJson<DeclineBody>,
) -> Result<Json<ProposalOut>, ApiError> {
    let reason = optional_text(body.reason, REASON_MAX, "waiting_list.invalid_reason")?;
    Ok(Json(
        state
            .store
            .decline_proposal(&actor, id, proposal, reason, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// First day (default: a year before `to`).
    #[param(schema_with = date_schema)]
    pub from: Option<String>,
    /// Last day, included (default: today).
    #[param(schema_with = date_schema)]
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CountsOut {
    /// Requests still waiting at the end of the period.
    pub waiting: i64,
    /// Requests placed during the period.
    pub placed: i64,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        CountsOut {
            waiting: c.waiting,
            placed: c.placed,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupCounts {
    #[schema(schema_with = group_schema)]
    pub group: String,
    pub waiting: i64,
    pub placed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CommuneCounts {
    #[schema(schema_with = commune_schema)]
    pub commune_code: String,
    pub waiting: i64,
    pub placed: i64,
}

/// The waiting list's indicators over a period, computed from the requests.
#[derive(Serialize, ToSchema)]
pub struct IndicatorsOut {
    #[schema(schema_with = date_schema)]
    pub from: String,
    #[schema(schema_with = date_schema)]
    pub to: String,
    pub total: CountsOut,
    /// A request counts in every group its flags name; `others` when none.
    pub by_group: Vec<GroupCounts>,
    /// Days from request to placement of those placed in the period (nearest rank).
    pub median_waiting_days: Option<i64>,
    pub p90_waiting_days: Option<i64>,
    /// Placed ÷ (placed + still waiting) for ALD patients; null when there are none.
    pub share_ald_placed: Option<f64>,
    pub share_70_plus_placed: Option<f64>,
    /// New patients a month the GPs declared they can take (declarations that
    /// accept and hold on `from`).
    pub extra_capacity_per_month: i64,
    pub by_commune: Vec<CommuneCounts>,
}

/// Indicators (coordinators): waiting and placed by group and commune, waiting days,
/// the share of ALD and 70+ patients placed, the extra capacity declared.
#[utoipa::path(get, path = "/v1/waiting-list/indicators", tag = "waiting-list", params(Period),
    responses((status = 200, body = IndicatorsOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.coordinators_only`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`waiting_list.invalid_period`: dates `YYYY-MM-DD`, `from` not after `to`, at most 10 years")))]
async fn indicators(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<IndicatorsOut>, ApiError> {
    let bad = || {
        ApiError::unprocessable(
            "waiting_list.invalid_period",
            "from and to must be dates YYYY-MM-DD, from not after to, at most 10 years apart",
        )
    };
    let day = |t: Option<&str>| -> Result<Option<time::Date>, ApiError> {
        match t {
            None => Ok(None),
            Some(t) => parse_day(t).map(Some).ok_or_else(bad),
        }
    };
    let to = day(period.to.as_deref())?.unwrap_or_else(|| day_of(now));
    let from = match day(period.from.as_deref())? {
        Some(f) => f,
        None => to.checked_sub(time::Duration::days(365)).ok_or_else(bad)?,
    };
    if from > to || (to - from).whole_days() > 3660 {
        return Err(bad());
    }
    let (i, capacity) = state
        .store
        .waiting_indicators(&actor, from, to, now)
        .await?;
    Ok(Json(IndicatorsOut {
        from: format_day(from),
        to: format_day(to),
        total: i.total.into(),
        by_group: i
            .by_group
            .into_iter()
            .map(|(g, c)| GroupCounts {
                group: g.as_str().into(),
                waiting: c.waiting,
                placed: c.placed,
            })
            .collect(),
        median_waiting_days: i.median_waiting_days,
        p90_waiting_days: i.p90_waiting_days,
        share_ald_placed: i.share_ald_placed,
        share_70_plus_placed: i.share_70_plus_placed,
        extra_capacity_per_month: capacity,
        by_commune: i
            .by_commune
            .into_iter()
            .map(|(c, n)| CommuneCounts {
                commune_code: c,
                waiting: n.waiting,
                placed: n.placed,
            })
            .collect(),
    }))
}
