//! `/v1/case-conferences`: RCP and concertations pluriprofessionnelles — the agenda,
//! participants and attendance, cases (read through the patient access rule), the
//! chair's minutes and validation into the patients' files. The validated record,
//! its addenda and its printable page are in `case_conference_record.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::case_conference::{
    ACTIONS_MAX, Action, AgendaQuery, Case, Conference, ConferenceCursor, ConferenceInput,
    ConferenceKind, ConferencePatch, ConferenceStatus, DURATION_MAX, DURATION_MIN, MINUTES_MAX,
    Minutes, PLACE_MAX, Participant, QUESTION_MAX, Quorum, TITLE_MAX,
};
use cordee_pathway::ids::{AccountId, CaseConferenceId, CaseId, PatientId};
use cordee_pathway::policy::Category;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::schemas;
use super::wire::{integral, parse_cursor, parse_ts, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas as doc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(add_participant))
        .routes(routes!(remove_participant))
        .routes(routes!(attendance))
        .routes(routes!(list_cases, add_case))
        .routes(routes!(get_case, put_case))
        .routes(routes!(validate))
        .merge(super::case_conference_record::router())
}

fn kind_schema() -> Object {
    schemas::words(
        ConferenceKind::NAMES,
        "`rcp`: counts attending médecins and their distinct specialties; `concertation`: attending participants and their distinct professions",
    )
}

fn status_schema() -> Object {
    schemas::words(
        ConferenceStatus::NAMES,
        "`planned` until validated or cancelled",
    )
}

fn cancel_schema() -> Object {
    schemas::words(
        &["cancelled"],
        "Cancels the conference (validation is POST …/validate)",
    )
}

fn category_schema() -> Object {
    schemas::words(
        Category::NAMES,
        "The task's category (the matrix applies to it)",
    )
}

fn text_schema(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(doc::trimmed_pattern(1, max)))
        .description(Some(description))
        .build()
}

fn title_schema() -> Object {
    text_schema(TITLE_MAX, "1 to 200 characters once trimmed")
}

fn question_schema() -> Object {
    text_schema(
        QUESTION_MAX,
        "The question asked: 1 to 1,000 characters once trimmed",
    )
}

fn long_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MINUTES_MAX))
        .description(Some("At most 3,000 characters; blank means none"))
        .build()
}

fn place_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(PLACE_MAX))
        .description(Some(
            "A room or a visio link, at most 500 characters; blank means none",
        ))
        .build()
}

fn cursor_schema() -> Object {
    schemas::pattern(
        "^(?:-?[0-9]{1,18}\\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        "The `next_cursor` of the previous page; empty or absent for the first page (400 `request.invalid_cursor` otherwise)",
    )
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct QuorumBody {
    /// `rcp`: attending médecins needed; `concertation`: attending participants.
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 1, maximum = 100)]
    pub min_participants: i64,
    /// `rcp`: distinct specialties among them; `concertation`: distinct professions.
    /// At most `min_participants` (422 `case_conference.invalid_quorum`).
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 100)]
    pub min_professions: i64,
}

impl From<Quorum> for QuorumBody {
    fn from(q: Quorum) -> Self {
        QuorumBody {
            min_participants: q.min_participants,
            min_professions: q.min_professions,
        }
    }
}

impl From<QuorumBody> for Quorum {
    fn from(q: QuorumBody) -> Self {
        Quorum {
            min_participants: q.min_participants,
            min_professions: q.min_professions,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConferenceParticipantOut)]
pub struct ParticipantOut {
    #[schema(format = Uuid)]
    pub account_id: String,
    pub display_name: String,
    /// TRE_G15 profession code when invited (`10` médecin, `60` infirmier…).
    pub profession_code: Option<String>,
    /// Specialty code (e.g. SM54) when invited.
    pub specialty_code: Option<String>,
    /// `null` until the chair records attendance.
    pub attended: Option<bool>,
}

impl From<Participant> for ParticipantOut {
    fn from(p: Participant) -> Self {
        ParticipantOut {
            account_id: p.account_id.to_string(),
            display_name: p.display_name,
            profession_code: p.profession_code,
            specialty_code: p.specialty_code,
            attended: p.attended,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConferenceOut {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    pub duration_minutes: i64,
    pub place: Option<String>,
    #[schema(format = Uuid)]
    pub chair_id: String,
    pub quorum: QuorumBody,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// Bumped by every change; send it back in PATCH to refuse a stale edit.
    pub version: i64,
    #[schema(format = Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub validated_at: Option<String>,
    /// SHA-256 (hex) of the validated record.
    pub record_hash: Option<String>,
    pub participants: Vec<ParticipantOut>,
    pub case_count: i64,
}

impl From<Conference> for ConferenceOut {
    fn from(c: Conference) -> Self {
        ConferenceOut {
            id: c.id.to_string(),
            title: c.title,
            kind: c.kind.as_str().into(),
            scheduled_at: ts(c.scheduled_at),
            duration_minutes: c.duration_minutes,
            place: c.place,
            chair_id: c.chair_id.to_string(),
            quorum: c.quorum.into(),
            status: c.status.as_str().into(),
            version: c.version,
            created_by: c.created_by.to_string(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            validated_at: ts_opt(c.validated_at),
            record_hash: c.record_hash,
            participants: c.participants.into_iter().map(Into::into).collect(),
            case_count: c.case_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConferenceList {
    pub items: Vec<ConferenceOut>,
    pub next_cursor: Option<String>,
}

fn mine_schema() -> Object {
    schemas::words(
        &["true", "false"],
        "`true`: only the conferences you take part in or chair",
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaParams {
    /// From this time (inclusive), RFC 3339.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Until this time (exclusive), RFC 3339.
    #[param(format = DateTime)]
    pub to: Option<String>,
    #[param(schema_with = mine_schema)]
    pub mine: Option<String>,
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// The agenda, in time order: conferences you take part in, chair or created
/// (coordinators and admins: all, unless `mine=true`).
#[utoipa::path(get, path = "/v1/case-conferences", tag = "case conferences", params(AgendaParams),
    responses((status = 200, body = ConferenceList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`, a malformed query"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`request.invalid_time`, `request.invalid_field`")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(params): ApiQuery<AgendaParams>,
) -> Result<Json<ConferenceList>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let from = params
        .from
        .as_deref()
        .map(|t| parse_ts("from", t))
        .transpose()?;
    let to = params
        .to
        .as_deref()
        .map(|t| parse_ts("to", t))
        .transpose()?;
    let mine = match params.mine.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "request.invalid_field",
                "mine must be true or false",
            )
            .with_extra(serde_json::json!({ "field": "mine" })));
        }
    };
    let query = AgendaQuery {
        from,
        to,
        mine,
        after: parse_cursor(params.cursor.as_deref(), ConferenceCursor::parse)?,
        limit: limit + 1,
    };
    let mut rows = state.store.case_conferences(&actor, &query).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|c| c.cursor().encode())
    } else {
        None
    };
    Ok(Json(ConferenceList {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferenceBody {
    #[schema(schema_with = title_schema)]
    pub title: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: i64,
    #[serde(default)]
    #[schema(schema_with = place_schema)]
    pub place: Option<String>,
    /// Defaults to you; the chair joins the participants.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub chair_id: Option<String>,
    /// Defaults: `rcp` 3 médecins of 3 distinct specialties; `concertation` 3
    /// participants of 3 distinct professions.
    #[serde(default)]
    pub quorum: Option<QuorumBody>,
}

fn account_field(field: &'static str, text: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "request.invalid_field",
            format!("{field} must be an account id"),
        )
        .with_extra(serde_json::json!({ "field": field }))
    })
}

fn kind_field(text: &str) -> Result<ConferenceKind, ApiError> {
    super::wire::parse_enum("kind", text, ConferenceKind::parse, ConferenceKind::NAMES)
}

/// Plan a conference (coordinators, admins and health professionals; audited). The
/// chair is invited; participants are added next.
#[utoipa::path(post, path = "/v1/case-conferences", tag = "case conferences", request_body = ConferenceBody,
    responses((status = 201, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.organisers_only`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_title`, `case_conference.invalid_duration`, `case_conference.invalid_place`, `case_conference.invalid_quorum`, `case_conference.unknown_account`, `request.invalid_time`, `request.invalid_field`")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<ConferenceBody>,
) -> Result<(StatusCode, Json<ConferenceOut>), ApiError> {
    let kind = kind_field(&body.kind)?;
    let input = ConferenceInput {
        title: body.title,
        kind,
        scheduled_at: parse_ts("scheduled_at", &body.scheduled_at)?,
        duration_minutes: body.duration_minutes,
        place: body.place,
        chair_id: body
            .chair_id
            .as_deref()
            .map(|c| account_field("chair_id", c))
            .transpose()?,
        quorum: body
            .quorum
            .map(Quorum::from)
            .unwrap_or_else(|| Quorum::default_for(kind)),
    };
    let c = state
        .store
        .create_case_conference(&actor, input, now)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One conference (participants and managers; 404 otherwise).
#[utoipa::path(get, path = "/v1/case-conferences/{id}", tag = "case conferences", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`")))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
) -> Result<Json<ConferenceOut>, ApiError> {
    Ok(Json(state.store.case_conference(&actor, id).await?.into()))
}

/// An optional integer as JSON Schema means one (`3` or `3.0`); null reads as absent.
fn integral_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "integral")] i64);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// A member that may be absent but, when present, is not null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// `null` and absence differ: `"place": null` removes the place.
fn some_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferencePatchBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = title_schema)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[serde(default)]
    #[schema(format = DateTime)]
    pub scheduled_at: Option<String>,
    #[serde(default, deserialize_with = "integral_opt")]
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: Option<i64>,
    #[serde(default, deserialize_with = "some_nullable")]
    #[schema(schema_with = place_schema)]
    pub place: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub chair_id: Option<String>,
    #[serde(default)]
    pub quorum: Option<QuorumBody>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = cancel_schema)]
    pub status: Option<String>,
    /// The version you read (409 `case_conference.version_conflict` if it changed).
    #[serde(default, deserialize_with = "integral_opt")]
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

/// Change the plan or cancel (creator, chair, coordinators, admins; audited). 409
/// once validated.
#[utoipa::path(patch, path = "/v1/case-conferences/{id}", tag = "case conferences", params(("id" = uuid::Uuid, Path)), request_body = ConferencePatchBody,
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.managers_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`, `case_conference.version_conflict`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_quorum`, `case_conference.unknown_account`, `request.invalid_time`, `request.invalid_field`")))]
async fn update(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiJson(body): ApiJson<ConferencePatchBody>,
) -> Result<Json<ConferenceOut>, ApiError> {
    let patch = ConferencePatch {
        title: body.title,
        kind: body.kind.as_deref().map(kind_field).transpose()?,
        scheduled_at: body
            .scheduled_at
            .as_deref()
            .map(|t| parse_ts("scheduled_at", t))
            .transpose()?,
        duration_minutes: body.duration_minutes,
        place: body.place,
        chair_id: body
            .chair_id
            .as_deref()
            .map(|c| account_field("chair_id", c))
            .transpose()?,
        quorum: body.quorum.map(Quorum::from),
        status: body
            .status
            .as_deref()
            .map(|s| {
                super::wire::parse_enum(
                    "status",
                    s,
                    |s| (s == "cancelled").then_some(ConferenceStatus::Cancelled),
                    &["cancelled"],
                )
            })
            .transpose()?,
        version: body.version,
    };
    Ok(Json(
        state
            .store
            .update_case_conference(&actor, id, patch, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantBody {
    /// The `id` of an account (from the directory or `/v1/me`).
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
}

/// Invite a professional (managers; audited). They are notified.
#[utoipa::path(post, path = "/v1/case-conferences/{id}/participants", tag = "case conferences", params(("id" = uuid::Uuid, Path)), request_body = ParticipantBody,
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.managers_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.unknown_account`, `request.invalid_field`")))]
async fn add_participant(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiJson(body): ApiJson<ParticipantBody>,
) -> Result<Json<ConferenceOut>, ApiError> {
    let account = account_field("account_id", &body.account_id)?;
    Ok(Json(
        state
            .store
            .add_case_conference_participant(&actor, id, account, now)
            .await?
            .into(),
    ))
}

/// Withdraw an invitation (managers; audited).
#[utoipa::path(delete, path = "/v1/case-conferences/{id}/participants/{account_id}", tag = "case conferences",
    params(("id" = uuid::Uuid, Path), ("account_id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.managers_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`, `case_conference.participant_not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`")))]
async fn remove_participant(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, account)): ApiPath<(CaseConferenceId, AccountId)>,
) -> Result<Json<ConferenceOut>, ApiError> {
    Ok(Json(
        state
            .store
            .remove_case_conference_participant(&actor, id, account, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    pub attended: bool,
}

/// Record whether a participant attended (managers; audited).
#[utoipa::path(put, path = "/v1/case-conferences/{id}/participants/{account_id}/attendance", tag = "case conferences",
    params(("id" = uuid::Uuid, Path), ("account_id" = uuid::Uuid, Path)), request_body = AttendanceBody,
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.managers_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`, `case_conference.participant_not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`")))]
async fn attendance(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, account)): ApiPath<(CaseConferenceId, AccountId)>,
    ApiJson(body): ApiJson<AttendanceBody>,
) -> Result<Json<ConferenceOut>, ApiError> {
    Ok(Json(
        state
            .store
            .set_case_conference_attendance(&actor, id, account, body.attended, now)
            .await?
            .into(),
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    #[schema(schema_with = title_schema)]
    pub title: String,
    #[schema(schema_with = category_schema)]
    pub category: String,
    #[schema(value_type = uuid::Uuid)]
    pub assignee_id: String,
    #[schema(value_type = doc::IsoDate)]
    pub due_on: String,
}

impl From<Action> for TaskBody {
    fn from(a: Action) -> Self {
        TaskBody {
            title: a.title,
            category: a.category.as_str().into(),
            assignee_id: a.assignee_id.to_string(),
            due_on: a.due_on,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub conference_id: String,
    #[schema(format = Uuid)]
    pub patient_id: String,
    /// The patient's identity: NAME First names.
    pub patient_name: String,
    pub patient_birth_date: String,
    /// Who put the case on the agenda and presents it.
    #[schema(format = Uuid)]
    pub presenter_id: String,
    pub question: String,
    pub summary: Option<String>,
    pub proposal: Option<String>,
    pub decision: Option<String>,
    #[schema(format = Uuid)]
    pub follow_up_id: Option<String>,
    pub tasks: Vec<TaskBody>,
    /// The `rcp` entry written in the patient's file at validation.
    #[schema(format = Uuid)]
    pub entry_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Case> for CaseOut {
    fn from(c: Case) -> Self {
        CaseOut {
            id: c.id.to_string(),
            conference_id: c.conference_id.to_string(),
            patient_id: c.patient_id.to_string(),
            patient_name: c.patient_name,
            patient_birth_date: c.patient_birth_date,
            presenter_id: c.presenter_id.to_string(),
            question: c.question,
            summary: c.summary,
            proposal: c.proposal,
            decision: c.decision,
            follow_up_id: c.follow_up_id.map(|f| f.to_string()),
            tasks: c.actions.into_iter().map(Into::into).collect(),
            entry_id: c.entry_id,
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseOut>,
    pub next_cursor: Option<String>,
}

fn case_cursor_schema() -> Object {
    schemas::pattern(
        "^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        "The `next_cursor` of the previous page; empty or absent for the first page",
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseParams {
    #[param(schema_with = case_cursor_schema)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// The cases you may read: during the conference (start → validation) its
/// participants read them even outside the care team — question, identity, minutes,
/// not the rest of the file; otherwise the file's rule applies.
#[utoipa::path(get, path = "/v1/case-conferences/{id}/cases", tag = "case conferences", params(("id" = uuid::Uuid, Path), CaseParams),
    responses((status = 200, body = CaseList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`")))]
async fn list_cases(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiQuery(params): ApiQuery<CaseParams>,
) -> Result<Json<CaseList>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200) as usize;
    let after = parse_cursor(params.cursor.as_deref(), CaseId::parse)?;
    let cases = state.store.case_conference_cases(&actor, id, now).await?;
    let mut items: Vec<Case> = cases
        .into_iter()
        .filter(|c| after.is_none_or(|a| c.id > a))
        .collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|c| c.id.to_string())
    } else {
        None
    };
    Ok(Json(CaseList {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    #[schema(value_type = uuid::Uuid)]
    pub patient_id: String,
    #[schema(schema_with = question_schema)]
    pub question: String,
}

/// Put a patient on the agenda: you present, and must have access to the patient's
/// file (audited). A patient who objected to their case being discussed (objection
/// to the `rcp` category) is refused.
#[utoipa::path(post, path = "/v1/case-conferences/{id}/cases", tag = "case conferences", params(("id" = uuid::Uuid, Path)), request_body = CaseBody,
    responses((status = 201, body = CaseOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.patient_objected`, `patient.reach_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`, `patient.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`, `case_conference.duplicate_case`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_question`, `request.invalid_field`")))]
async fn add_case(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiJson(body): ApiJson<CaseBody>,
) -> Result<(StatusCode, Json<CaseOut>), ApiError> {
    let patient = PatientId::parse(&body.patient_id).ok_or_else(|| {
        ApiError::unprocessable("request.invalid_field", "patient_id must be a patient id")
            .with_extra(serde_json::json!({ "field": "patient_id" }))
    })?;
    let case = state
        .store
        .add_case_conference_case(&actor, id, patient, &body.question, now)
        .await?;
    Ok((StatusCode::CREATED, Json(case.into())))
}

/// One case (audited as a read of the patient's data).
#[utoipa::path(get, path = "/v1/case-conferences/{id}/cases/{case_id}", tag = "case conferences",
    params(("id" = uuid::Uuid, Path), ("case_id" = uuid::Uuid, Path)),
    responses((status = 200, body = CaseOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`patient.reach_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.case_not_found`, `patient.not_found`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`")))]
async fn get_case(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, case)): ApiPath<(CaseConferenceId, CaseId)>,
) -> Result<Json<CaseOut>, ApiError> {
    Ok(Json(
        state
            .store
            .case_conference_case(&actor, id, case, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesBody {
    #[serde(default)]
    #[schema(schema_with = long_schema)]
    pub summary: Option<String>,
    #[serde(default)]
    #[schema(schema_with = long_schema)]
    pub proposal: Option<String>,
    #[serde(default)]
    #[schema(schema_with = long_schema)]
    pub decision: Option<String>,
    /// The professional who follows the decision up (notified at validation).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub follow_up_id: Option<String>,
    /// Actions: at validation they become tasks of the patient's care plan.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tasks: Vec<TaskBody>,
}

/// The chair's minutes for a case (chair, creator, coordinators; audited). Replaces
/// what was written before. 409 once validated.
#[utoipa::path(put, path = "/v1/case-conferences/{id}/cases/{case_id}", tag = "case conferences",
    params(("id" = uuid::Uuid, Path), ("case_id" = uuid::Uuid, Path)), request_body = MinutesBody,
    responses((status = 200, body = CaseOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.chair_only`, `patient.reach_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.case_not_found`, `case_conference.not_found`, `patient.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.validated`, `case_conference.cancelled`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_task`, `case_conference.too_many_tasks`, `case_conference.invalid_minutes`, `case_conference.unknown_account`, `request.invalid_field`")))]
async fn put_case(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, case)): ApiPath<(CaseConferenceId, CaseId)>,
    ApiJson(body): ApiJson<MinutesBody>,
) -> Result<Json<CaseOut>, ApiError> {
    if body.tasks.len() > ACTIONS_MAX {
        return Err(ApiError::unprocessable(
            "case_conference.too_many_tasks",
            format!("at most {ACTIONS_MAX} tasks per case"),
        ));
    }
    let mut actions = Vec::with_capacity(body.tasks.len());
    for t in body.tasks {
        actions.push(Action {
            title: t.title,
            category: super::wire::parse_enum(
                "tasks[].category",
                &t.category,
                Category::parse,
                Category::NAMES,
            )?,
            assignee_id: account_field("tasks[].assignee_id", &t.assignee_id)?,
            due_on: t.due_on,
        });
    }
    let minutes = Minutes {
        summary: body.summary,
        proposal: body.proposal,
        decision: body.decision,
        follow_up_id: body
            .follow_up_id
            .as_deref()
            .map(|f| account_field("follow_up_id", f))
            .transpose()?,
        actions,
    };
    Ok(Json(
        state
            .store
            .record_case_minutes(&actor, id, case, minutes, now)
            .await?
            .into(),
    ))
}

/// Validate (chair, creator, coordinators): the quorum is checked against attendance
/// (409 `case_conference.quorum_not_met`, naming what is missing); then, in one
/// transaction, the record is frozen and hashed, each case lands in its patient's
/// file as an `rcp` entry, its tasks join the care plan, the follow-up professional
/// and assignees are notified. Any later change answers 409
/// `case_conference.validated`.
#[utoipa::path(post, path = "/v1/case-conferences/{id}/validate", tag = "case conferences", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConferenceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.managers_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.quorum_not_met`, `case_conference.not_started`, `case_conference.validated`, `case_conference.cancelled`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`: a case's patient was erased")))]
async fn validate(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
) -> Result<Json<ConferenceOut>, ApiError> {
    Ok(Json(
        state
            .store
            .validate_case_conference(&actor, id, now)
            .await?
            .into(),
    ))
}

// The schemas above spell the domain's limits.
const _: () = assert!(
    TITLE_MAX == 200
        && QUESTION_MAX == 1_000
        && MINUTES_MAX == 3_000
        && PLACE_MAX == 500
        && ACTIONS_MAX == 20
        && DURATION_MIN == 5
        && DURATION_MAX == 480
);
