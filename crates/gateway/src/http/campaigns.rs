//! `/v1/campaigns`: prevention campaigns. Coordinators and admins launch and edit
//! them and broadcast to participants; a member of a structure joins it and records
//! its counts per day and kind (counts only — no field can carry a patient); every
//! logged-in account reads the campaigns and their indicators (per-structure figures
//! only for coordinators and the structure's own members), as JSON or as a printable
//! French report (`report.rs` of this module's sibling `campaign_report`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordee_pathway::campaign::indicators::Indicators;
use cordee_pathway::campaign::{
    ActionInput, ActionKind, ActionRecord, COUNT_MAX, Campaign, CampaignInput, LABEL_MAX,
    Participant, TARGET_MAX, TITLE_MAX, Theme, format_day,
};
use cordee_pathway::conversation::{MessageInput, MessageLimits, Sent};
use cordee_pathway::ids::{CampaignActionId, CampaignId, OrganisationId};
use cordee_pathway::organisation::OrganisationKind;
use cordee_pathway::store::ActionQuery;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::messages::MessageOut;
use super::schemas;
use super::wire::{PageQuery, integral, page_of, parse_cursor, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(participants, join))
        .routes(routes!(leave))
        .routes(routes!(actions, record))
        .routes(routes!(broadcast))
        .routes(routes!(indicators))
        .routes(routes!(report))
}

fn theme_schema() -> Object {
    schemas::words(Theme::NAMES, "What the campaign is about")
}

/// A calendar day. The pattern is strict on months and days; a day a month lacks
/// (`2027-02-30`) is refused with `campaign.invalid_date`.
fn date_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .description(Some("`YYYY-MM-DD`"))
        .build()
}

/// Whitespace `str::trim` removes that is not a control character.
const SPACE: &str = r"[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character that is neither whitespace nor a control character.
const INK: &str = r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character that is not a control character.
const PRINTABLE: &str = r"[^\u0000-\u001f\u007f-\u009f]";

/// No control character anywhere; `min..=max` characters once trimmed — what
/// `CampaignInput::validate` checks.
fn printable_trimmed(min: usize, max: usize) -> String {
    if min >= 2 {
        format!(
            "^{SPACE}*{INK}{PRINTABLE}{{{},{}}}{INK}{SPACE}*$",
            min - 2,
            max - 2
        )
    } else {
        format!(
            "^{SPACE}*{INK}(?:{PRINTABLE}{{0,{}}}{INK})?{SPACE}*$",
            max - 2
        )
    }
}

fn title_schema() -> Object {
    schemas::pattern(
        &printable_trimmed(2, TITLE_MAX),
        "2 to 200 characters once trimmed, no control character",
    )
}

fn label_schema() -> Object {
    schemas::pattern(
        &printable_trimmed(1, LABEL_MAX),
        "What is counted, for people (\"Kits remis\"): 1 to 120 characters once trimmed, no control character",
    )
}

fn description_schema() -> Object {
    schemas::pattern(
        "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]{0,4000}$",
        "At most 4000 characters; line breaks and tabs allowed, no other control character",
    )
}

fn targets_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(100_000_000)),
        ))
        .description(Some(
            "Per action code (one of `action_kinds`), the number aimed at over the whole campaign",
        ))
        .build()
}

/// `{ code: n }` where `n` is a whole number, written `3` or `3.0`.
fn integral_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "integral")] u64);
    let map = BTreeMap::<String, Whole>::deserialize(deserializer)?;
    map.into_iter()
        .map(|(k, Whole(v))| {
            i64::try_from(v)
                .map(|v| (k, v))
                .map_err(|_| serde::de::Error::custom("a target is too large"))
        })
        .collect()
}

fn org_kind_schema() -> Object {
    schemas::words(OrganisationKind::NAMES, "The kind of structure")
}

const CODE_PATTERN: &str = "^[a-z][a-z0-9_]{0,39}$";

fn code_schema() -> Object {
    schemas::pattern(
        CODE_PATTERN,
        "An action code: lowercase letters, digits and `_`, starting with a letter",
    )
}

/// One kind of action the campaign counts.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CampaignActionKind)]
pub struct KindIo {
    #[schema(schema_with = code_schema)]
    pub code: String,
    #[schema(schema_with = label_schema)]
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(schema_with = theme_schema)]
    pub theme: String,
    pub title: String,
    pub description: String,
    #[schema(schema_with = date_schema)]
    pub starts_on: String,
    #[schema(schema_with = date_schema)]
    pub ends_on: String,
    pub action_kinds: Vec<KindIo>,
    /// Per action code, the number aimed at over the whole campaign.
    pub targets: BTreeMap<String, i64>,
    /// The participants' group conversation (broadcasts land there).
    #[schema(value_type = uuid::Uuid)]
    pub conversation_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Campaign> for CampaignOut {
    fn from(c: Campaign) -> Self {
        CampaignOut {
            id: c.id.to_string(),
            theme: c.theme.as_str().into(),
            title: c.title,
            description: c.description,
            starts_on: format_day(c.starts_on),
            ends_on: format_day(c.ends_on),
            action_kinds: c
                .action_kinds
                .into_iter()
                .map(|k| KindIo {
                    code: k.code,
                    label: k.label,
                })
                .collect(),
            targets: c.targets,
            conversation_id: c.conversation_id.to_string(),
            created_by: c.created_by.to_string(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<CampaignOut>,
    pub next_cursor: Option<String>,
}

/// The campaigns, newest first (every logged-in account reads them).
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", params(PageQuery),
    responses((status = 200, body = CampaignList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<CampaignList>, ApiError> {
    let limit = page.limit();
    let after = parse_cursor(page.cursor.as_deref(), CampaignId::parse)?;
    let rows = state.store.campaigns(after, limit + 1).await?;
    let (items, next_cursor) = page_of(rows, limit, |c| c.id.to_string());
    Ok(Json(CampaignList {
        items: items.into_iter().map(CampaignOut::from).collect(),
        next_cursor,
    }))
}

/// What a coordinator writes about a campaign.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    #[schema(schema_with = theme_schema)]
    pub theme: String,
    #[schema(schema_with = title_schema)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: String,
    #[schema(schema_with = date_schema)]
    pub starts_on: String,
    /// On or after `starts_on`, at most 400 days later.
    #[schema(schema_with = date_schema)]
    pub ends_on: String,
    /// 1 to 20 kinds with distinct codes.
    #[schema(min_items = 1, max_items = 20)]
    pub action_kinds: Vec<KindIo>,
    #[serde(default, deserialize_with = "integral_map")]
    #[schema(schema_with = targets_schema)]
    pub targets: BTreeMap<String, i64>,
}

impl CampaignBody {
    fn input(self) -> CampaignInput {
        const _: () = assert!(TITLE_MAX == 200 && LABEL_MAX == 120);
        CampaignInput {
            theme: self.theme,
            title: self.title,
            description: self.description,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            action_kinds: self
                .action_kinds
                .into_iter()
                .map(|k| ActionKind {
                    code: k.code,
                    label: k.label,
                })
                .collect(),
            targets: self.targets,
        }
    }
}

const CAMPAIGN_INVALID: &str = "`campaign.invalid_theme`, `campaign.invalid_title`, `campaign.invalid_description`, `campaign.invalid_date`, `campaign.invalid_period` (ends before it starts, or lasts over 400 days), `campaign.invalid_action_kinds`, `campaign.invalid_targets`";

/// Launch a campaign (coordinators and admins; audited). Its group conversation is
/// made with it.
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", request_body = CampaignBody,
    responses((status = 201, body = CampaignOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.coordinators_only`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = CAMPAIGN_INVALID)))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, Json<CampaignOut>), ApiError> {
    cordee_pathway::campaign::decide(&actor, cordee_pathway::campaign::Act::Manage)?;
    let draft = body.input().validate()?;
    let campaign = state.store.create_campaign(&actor, draft, now).await?;
    Ok((StatusCode::CREATED, Json(campaign.into())))
}

/// One campaign.
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "campaigns", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CampaignOut),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`")))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignOut>, ApiError> {
    Ok(Json(state.store.campaign(id).await?.into()))
}

/// Edit a campaign (coordinators and admins; audited). Kinds with recorded counts
/// stay; the period keeps every recorded day.
#[utoipa::path(put, path = "/v1/campaigns/{id}", tag = "campaigns", params(("id" = uuid::Uuid, Path)), request_body = CampaignBody,
    responses((status = 200, body = CampaignOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`campaign.kind_in_use`: a removed kind has counts; `campaign.period_excludes_records`: counts lie outside the new period"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = CAMPAIGN_INVALID)))]
async fn update(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<Json<CampaignOut>, ApiError> {
    cordee_pathway::campaign::decide(&actor, cordee_pathway::campaign::Act::Manage)?;
    let draft = body.input().validate()?;
    Ok(Json(
        state
            .store
            .update_campaign(&actor, id, draft, now)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantOut {
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    pub name: String,
    #[schema(schema_with = org_kind_schema)]
    pub kind: String,
    #[schema(value_type = uuid::Uuid)]
    pub joined_by: String,
    #[schema(format = DateTime)]
    pub joined_at: String,
    /// Set once it left; its counts stay.
    #[schema(format = DateTime)]
    pub left_at: Option<String>,
}

impl From<Participant> for ParticipantOut {
    fn from(p: Participant) -> Self {
        ParticipantOut {
            organisation_id: p.organisation_id.to_string(),
            name: p.name,
            kind: p.kind.as_str().into(),
            joined_by: p.joined_by.to_string(),
            joined_at: ts(p.joined_at),
            left_at: ts_opt(p.left_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<ParticipantOut>,
    pub next_cursor: Option<String>,
}

/// The structures that joined (those that left too, with `left_at`), in joining
/// order; the cursor is the last organisation id of the previous page.
#[utoipa::path(get, path = "/v1/campaigns/{id}/participants", tag = "campaigns", params(("id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = ParticipantList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`")))]
async fn participants(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<ParticipantList>, ApiError> {
    let limit = page.limit();
    let after = parse_cursor(page.cursor.as_deref(), OrganisationId::parse)?;
    state.store.campaign(id).await?;
    let all = state.store.campaign_participants(id).await?;
    let start = match after {
        None => 0,
        Some(a) => all
            .iter()
            .position(|p| p.organisation_id == a)
            .map(|i| i + 1)
            .unwrap_or(all.len()),
    };
    let rows: Vec<Participant> = all.into_iter().skip(start).collect();
    let (items, next_cursor) = page_of(rows, limit, |p| p.organisation_id.to_string());
    Ok(Json(ParticipantList {
        items: items.into_iter().map(ParticipantOut::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    /// The structure that joins: one you belong to (any, for a coordinator).
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
}

fn organisation_field(text: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "request.invalid_field",
            "organisation_id must be an organisation id",
        )
        .with_extra(serde_json::json!({ "field": "organisation_id" }))
    })
}

/// A structure joins the campaign: a member of it (the pharmacist of an officine),
/// or a coordinator enrolling it. Its members join the campaign's conversation.
/// Joining again after leaving resumes (audited).
#[utoipa::path(post, path = "/v1/campaigns/{id}/participants", tag = "campaigns", params(("id" = uuid::Uuid, Path)), request_body = JoinBody,
    responses((status = 201, body = ParticipantOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.not_member_of_organisation`: you do not belong to that structure"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`, `organisation.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`campaign.already_participating`")))]
async fn join(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<(StatusCode, Json<ParticipantOut>), ApiError> {
    let org = organisation_field(&body.organisation_id)?;
    let p = state.store.join_campaign(&actor, id, org, now).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// A structure leaves the campaign (a member of it, or a coordinator withdraws it);
/// what it recorded stays and still counts (audited).
#[utoipa::path(delete, path = "/v1/campaigns/{id}/participants/{organisation_id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path), ("organisation_id" = uuid::Uuid, Path)),
    responses((status = 204),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.not_member_of_organisation`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`, `campaign.participant_not_found`: the structure does not take part")))]
async fn leave(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, org)): ApiPath<(CampaignId, OrganisationId)>,
) -> Result<StatusCode, ApiError> {
    state.store.leave_campaign(&actor, id, org, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[schema(as = CampaignActionRevision)]
pub struct RevisionOut {
    pub version: i64,
    pub count: i64,
    #[schema(value_type = uuid::Uuid)]
    pub recorded_by: String,
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CampaignAction)]
pub struct ActionOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    #[schema(schema_with = code_schema)]
    pub kind: String,
    pub count: i64,
    #[schema(schema_with = date_schema)]
    pub on: String,
    /// 1, then one more for each correction.
    pub version: i64,
    #[schema(value_type = uuid::Uuid)]
    pub recorded_by: String,
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// Earlier versions, oldest first: who wrote what, when.
    pub history: Vec<RevisionOut>,
}

impl From<ActionRecord> for ActionOut {
    fn from(a: ActionRecord) -> Self {
        ActionOut {
            id: a.id.to_string(),
            organisation_id: a.organisation_id.to_string(),
            kind: a.kind,
            count: a.count,
            on: format_day(a.on),
            version: a.version,
            recorded_by: a.recorded_by.to_string(),
            recorded_at: ts(a.recorded_at),
            history: a
                .history
                .into_iter()
                .map(|h| RevisionOut {
                    version: h.version,
                    count: h.count,
                    recorded_by: h.recorded_by.to_string(),
                    recorded_at: ts(h.recorded_at),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CampaignActionList {
    pub items: Vec<ActionOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// Only this structure's counts.
    #[param(value_type = Option<uuid::Uuid>)]
    pub organisation_id: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<crate::openapi::schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// A campaign's counts in recording order: a coordinator sees every structure's,
/// others those of the structures they belong to.
#[utoipa::path(get, path = "/v1/campaigns/{id}/actions", tag = "campaigns", params(("id" = uuid::Uuid, Path), ActionsQuery),
    responses((status = 200, body = CampaignActionList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`request.invalid_field`: organisation_id is not an id")))]
async fn actions(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> Result<Json<CampaignActionList>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let organisation_id = q
        .organisation_id
        .as_deref()
        .map(organisation_field)
        .transpose()?;
    let query = ActionQuery {
        organisation_id,
        after: parse_cursor(q.cursor.as_deref(), CampaignActionId::parse)?,
        limit: limit + 1,
    };
    let rows = state.store.campaign_actions(&actor, id, &query).await?;
    let (items, next_cursor) = page_of(rows, limit, |a| a.id.to_string());
    Ok(Json(CampaignActionList {
        items: items.into_iter().map(ActionOut::from).collect(),
        next_cursor,
    }))
}

/// A count: counts only, never a patient — any other member is refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// A participating structure you belong to.
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    /// One of the campaign's action codes.
    #[schema(schema_with = code_schema)]
    pub kind: String,
    /// How many, that day (0 to 1,000,000).
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub count: i64,
    /// The day (in France), within the campaign's period, today or earlier.
    #[schema(schema_with = date_schema)]
    pub on: String,
}

/// Record a structure's count of one kind of action on one day (a member of the
/// participating structure; audited). A second record for the same structure, day
/// and kind corrects it: 200, with the earlier versions in `history`.
#[utoipa::path(post, path = "/v1/campaigns/{id}/actions", tag = "campaigns", params(("id" = uuid::Uuid, Path)), request_body = ActionBody,
    responses((status = 201, body = ActionOut, description = "Recorded."),
        (status = 200, body = ActionOut, description = "Corrected: `version` grew and `history` holds what it said before."),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.not_member_of_organisation`: you do not belong to that structure"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`campaign.not_participating`: the structure has not joined (or left)"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`campaign.unknown_kind`, `campaign.invalid_count`, `campaign.invalid_date`, `campaign.outside_period`, `campaign.future_day`; `request.invalid_field`: a member other than those documented (no patient data is taken)")))]
async fn record(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(body): ApiJson<ActionBody>,
) -> Result<Response, ApiError> {
    const _: () = assert!(COUNT_MAX == 1_000_000 && TARGET_MAX == 100_000_000);
    let org = organisation_field(&body.organisation_id)?;
    let done = state
        .store
        .record_campaign_action(
            &actor,
            id,
            &ActionInput::new(org, &body.kind, body.count, &body.on),
            now,
        )
        .await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ActionOut::from(done.record))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastBody {
    /// The message to every participant's members.
    #[schema(value_type = crate::openapi::schemas::NonBlank)]
    pub body: String,
    /// Makes retries idempotent (default: a new one each time).
    #[schema(value_type = Option<crate::openapi::schemas::ClientId>)]
    pub client_id: Option<String>,
}

/// Post a coordinator's message to every participant's members, in the campaign's
/// group conversation (coordinators and admins; audited).
#[utoipa::path(post, path = "/v1/campaigns/{id}/broadcasts", tag = "campaigns", params(("id" = uuid::Uuid, Path)), request_body = BroadcastBody,
    responses((status = 201, body = MessageOut, description = "Posted."),
        (status = 200, body = MessageOut, description = "Already posted with this `client_id` (a retry)."),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`campaign.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`message.client_id_reused`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`message.empty`, `message.too_large`, `message.invalid_client_id`")))]
async fn broadcast(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(body): ApiJson<BroadcastBody>,
) -> Result<Response, ApiError> {
    cordee_pathway::campaign::decide(&actor, cordee_pathway::campaign::Act::Manage)?;
    let limits = MessageLimits {
        max_body_bytes: state.settings.message_limit,
        ..MessageLimits::default()
    };
    let input = MessageInput {
        client_id: body
            .client_id
            .unwrap_or_else(|| format!("campaign-{}", uuid::Uuid::now_v7())),
        body: body.body,
        attachments: Vec::new(),
        reply_to: None,
        mentions: Vec::new(),
        urgent: false,
    }
    .validate(&limits)?;
    let sent = state
        .store
        .broadcast_campaign(&actor, id, input, now)
        .await?;
    let status = match sent {
        Sent::Created(_) => StatusCode::CREATED,
        Sent::Existing(_) => StatusCode::OK,
    };
    Ok((status, Json(MessageOut::from(sent.message()))).into_response())
}

#[derive(Serialize, ToSchema)]
#[schema(as = CampaignKindTotal)]
pub struct KindTotalOut {
    #[schema(schema_with = code_schema)]
    pub code: String,
    pub label: String,
    pub count: i64,
    pub target: Option<i64>,
    /// `count / target` (1 = reached; may exceed 1); null without a target.
    pub achievement: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CampaignStructureTotal)]
pub struct StructureOut {
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    pub name: String,
    #[schema(schema_with = org_kind_schema)]
    pub kind: String,
    /// False once it left (its counts still count).
    pub participating: bool,
    /// Per action code.
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CampaignWeekTotal)]
pub struct WeekOut {
    /// ISO week, e.g. `2026-W43`.
    #[schema(pattern = "^[0-9]{4}-W[0-9]{2}$")]
    pub week: String,
    /// Its Monday.
    #[schema(schema_with = date_schema)]
    pub starts_on: String,
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
}

/// Indicators computed from the recorded counts.
#[derive(Serialize, ToSchema)]
pub struct CampaignIndicators {
    #[schema(value_type = uuid::Uuid)]
    pub campaign_id: String,
    /// Per kind of action, with progress towards its target.
    pub totals: Vec<KindTotalOut>,
    /// Per structure, most active first (a non-coordinator sees only their own).
    pub by_structure: Vec<StructureOut>,
    /// Per ISO week with counts, in order.
    pub by_week: Vec<WeekOut>,
    /// Participating structures by kind of structure.
    pub participants_by_kind: BTreeMap<String, i64>,
    /// Participating structures.
    pub participants: i64,
}

pub fn indicators_out(campaign: &Campaign, i: Indicators) -> CampaignIndicators {
    CampaignIndicators {
        campaign_id: campaign.id.to_string(),
        totals: i
            .totals
            .into_iter()
            .map(|t| KindTotalOut {
                code: t.code,
                label: t.label,
                count: t.count,
                target: t.target,
                achievement: t.achievement,
            })
            .collect(),
        by_structure: i
            .by_structure
            .into_iter()
            .map(|s| StructureOut {
                organisation_id: s.organisation_id.to_string(),
                name: s.name,
                kind: s.kind.as_str().into(),
                participating: s.participating,
                counts: s.counts,
                total: s.total,
            })
            .collect(),
        by_week: i
            .by_week
            .into_iter()
            .map(|w| WeekOut {
                week: w.week,
                starts_on: format_day(w.starts_on),
                counts: w.counts,
                total: w.total,
            })
            .collect(),
        participants_by_kind: i
            .participants_by_kind
            .into_iter()
            .map(|(k, n)| (k.as_str().to_string(), n))
            .collect(),
        participants: i.participants,
    }
}

/// A campaign's indicators, computed from the recorded counts.
#[utoipa::path(get, path = "/v1/campaigns/{id}/indicators", tag = "campaigns", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CampaignIndicators),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`")))]
async fn indicators(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignIndicators>, ApiError> {
    let (campaign, i) = state.store.campaign_indicators(&actor, id).await?;
    Ok(Json(indicators_out(&campaign, i)))
}

/// The printable report of a campaign, in French: period, participants, totals
/// against targets and the weekly chart (inline SVG; no script, no external
/// resource).
#[utoipa::path(get, path = "/v1/campaigns/{id}/report", tag = "campaigns", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = String, content_type = "text/html", description = "An HTML page to print"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`campaign.not_found`")))]
async fn report(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Response, ApiError> {
    let (campaign, i) = state.store.campaign_indicators(&actor, id).await?;
    let html = super::campaign_report::render(&campaign, &i, now);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
