//! `/v1/patients/{id}/care-plans`: the patient's care plan (PPS), its versions, its
//! reviews and its tasks — through the file's rule (care team or break-glass to
//! read; the team's professionals and coordinator to write).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::calendar::Day;
use cordee_pathway::care_plan::{
    Achievement, CarePlan, MAX_LABEL_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, Objective, Outcome,
    PlanChange, PlanContentInput, PlanStatus, PlanVersion, Problem, Review, ReviewContent,
};
use cordee_pathway::ids::{AccountId, CarePlanId, PathwayId, PatientId, TaskId};
use cordee_pathway::store::NewPlan;
use cordee_pathway::task::{NewTask, TaskContent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::plans_wire::{
    TaskList, TaskOut, day_or_null, day_schema, optional, or_null, parse_day, parse_task_category,
    required, task_category_schema,
};
use super::schemas;
use super::wire::{PageQuery, integral, page_of, parse_cursor, parse_enum, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, change))
        .routes(routes!(versions))
        .routes(routes!(review))
        .routes(routes!(list_tasks, create_task))
}

fn title_schema() -> Object {
    required(MAX_TITLE_CHARS, "1 to 200 characters once trimmed.")
}
fn label_schema() -> Object {
    required(MAX_LABEL_CHARS, "1 to 500 characters once trimmed.")
}
fn criteria_schema() -> Object {
    optional(MAX_LABEL_CHARS, "At most 500 characters.")
}
fn text_schema() -> Object {
    optional(MAX_TEXT_CHARS, "At most 4,000 characters.")
}
fn summary_schema() -> Object {
    required(MAX_TEXT_CHARS, "1 to 4,000 characters once trimmed.")
}
fn detail_schema() -> Object {
    optional(
        cordee_pathway::task::MAX_DETAIL_CHARS,
        "At most 4,000 characters.",
    )
}
fn status_schema() -> Object {
    schemas::words(PlanStatus::NAMES, "`closed` is final.")
}
fn title_or_null() -> RefOr<Schema> {
    or_null(title_schema())
}
fn text_or_null() -> RefOr<Schema> {
    or_null(text_schema())
}
fn status_or_null() -> RefOr<Schema> {
    or_null(status_schema())
}
fn achievement_schema() -> Object {
    schemas::words(
        Achievement::NAMES,
        "What the review found of this objective.",
    )
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemIo {
    #[schema(schema_with = label_schema)]
    pub label: String,
    /// 1 is the most important.
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 1, maximum = 99)]
    pub priority: u32,
    /// The patient named it as their own priority: such problems come first.
    #[serde(default)]
    pub patient_priority: bool,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveIo {
    #[schema(schema_with = label_schema)]
    pub label: String,
    /// How to judge that it is reached.
    #[serde(default)]
    #[schema(schema_with = criteria_schema)]
    pub criteria: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlanIn {
    #[schema(schema_with = title_schema)]
    pub title: String,
    /// Start from a pathway: its steps become dated tasks.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub pathway_id: Option<String>,
    /// The referent, a member of the care team (default: you).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub coordinator_id: Option<String>,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub problems: Vec<ProblemIo>,
    #[serde(default)]
    #[schema(schema_with = text_schema)]
    pub preferences: String,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub objectives: Vec<ObjectiveIo>,
    /// Whom to call, what to do when something intercurrent happens.
    #[serde(default)]
    #[schema(schema_with = text_schema)]
    pub alert_plan: String,
    /// After today, within a year (default: in three months).
    #[serde(default)]
    #[schema(schema_with = day_or_null)]
    pub review_on: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    /// The version you read (409 `care_plan.version_conflict` if it moved).
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 1)]
    pub version: i64,
    #[schema(schema_with = title_or_null)]
    pub title: Option<String>,
    #[schema(max_items = 30)]
    pub problems: Option<Vec<ProblemIo>>,
    #[schema(schema_with = text_or_null)]
    pub preferences: Option<String>,
    #[schema(max_items = 30)]
    pub objectives: Option<Vec<ObjectiveIo>>,
    #[schema(schema_with = text_or_null)]
    pub alert_plan: Option<String>,
    #[schema(schema_with = day_or_null)]
    pub review_on: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub coordinator_id: Option<String>,
    #[schema(schema_with = status_or_null)]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub summary: String,
    pub outcomes: Vec<OutcomeIo>,
    #[schema(schema_with = day_schema)]
    pub next_review_on: String,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIo {
    /// The objective's label.
    #[schema(schema_with = label_schema)]
    pub objective: String,
    #[schema(schema_with = achievement_schema)]
    pub achievement: String,
    #[serde(default)]
    #[schema(schema_with = criteria_schema)]
    pub comment: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    #[schema(schema_with = summary_schema)]
    pub summary: String,
    /// After today, within a year.
    #[schema(schema_with = day_schema)]
    pub next_review_on: String,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub outcomes: Vec<OutcomeIo>,
}

#[derive(Serialize, ToSchema)]
pub struct CarePlanOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub patient_id: String,
    pub title: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub pathway_id: Option<String>,
    /// The pathway's version the plan started from.
    pub pathway_version: Option<i64>,
    /// The referent.
    #[schema(value_type = uuid::Uuid)]
    pub coordinator_id: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// The patient's own priorities first, then by priority.
    pub problems: Vec<ProblemIo>,
    pub preferences: String,
    pub objectives: Vec<ObjectiveIo>,
    pub alert_plan: String,
    #[schema(schema_with = day_schema)]
    pub review_on: String,
    /// The review date has passed (Paris) and the plan is not closed.
    pub review_overdue: bool,
    pub version: i64,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The reviews, newest first (single-plan reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<Vec<ReviewOut>>,
    /// The tasks the pathway created (when the plan is opened only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskOut>>,
}

fn problems_out(p: Vec<Problem>) -> Vec<ProblemIo> {
    p.into_iter()
        .map(|p| ProblemIo {
            label: p.label,
            priority: u32::try_from(p.priority).unwrap_or(1),
            patient_priority: p.patient_priority,
        })
        .collect()
}

fn objectives_out(o: Vec<Objective>) -> Vec<ObjectiveIo> {
    o.into_iter()
        .map(|o| ObjectiveIo {
            label: o.label,
            criteria: o.criteria,
        })
        .collect()
}

impl CarePlanOut {
    fn new(p: CarePlan, today: Day) -> CarePlanOut {
        CarePlanOut {
            review_overdue: p.review_overdue(today),
            id: p.id.to_string(),
            patient_id: p.patient_id.to_string(),
            title: p.content.title,
            pathway_id: p.pathway_id.map(|i| i.to_string()),
            pathway_version: p.pathway_version,
            coordinator_id: p.coordinator_id.to_string(),
            status: p.status.as_str().into(),
            problems: problems_out(p.content.problems),
            preferences: p.content.preferences,
            objectives: objectives_out(p.content.objectives),
            alert_plan: p.content.alert_plan,
            review_on: p.review_on.as_text(),
            version: p.version,
            created_by: p.created_by.to_string(),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
            reviews: None,
            tasks: None,
        }
    }
}

fn review_out(r: Review) -> ReviewOut {
    ReviewOut {
        id: r.id.to_string(),
        summary: r.content.summary,
        outcomes: r
            .content
            .outcomes
            .into_iter()
            .map(|o| OutcomeIo {
                objective: o.objective,
                achievement: o.achievement.as_str().into(),
                comment: o.comment,
            })
            .collect(),
        next_review_on: r.next_review_on.as_text(),
        author_id: r.author_id.to_string(),
        created_at: ts(r.created_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CarePlanList {
    pub items: Vec<CarePlanOut>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PlanVersionOut {
    pub version: i64,
    pub title: String,
    #[schema(value_type = uuid::Uuid)]
    pub coordinator_id: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub problems: Vec<ProblemIo>,
    pub preferences: String,
    pub objectives: Vec<ObjectiveIo>,
    pub alert_plan: String,
    #[schema(schema_with = day_schema)]
    pub review_on: String,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PlanVersionList {
    pub items: Vec<PlanVersionOut>,
    /// Every version is on the one page.
    pub next_cursor: Option<String>,
}

impl From<PlanVersion> for PlanVersionOut {
    fn from(v: PlanVersion) -> Self {
        PlanVersionOut {
            version: v.version,
            title: v.content.title,
            coordinator_id: v.coordinator_id.to_string(),
            status: v.status.as_str().into(),
            problems: problems_out(v.content.problems),
            preferences: v.content.preferences,
            objectives: objectives_out(v.content.objectives),
            alert_plan: v.content.alert_plan,
            review_on: v.review_on.as_text(),
            author_id: v.author_id.to_string(),
            created_at: ts(v.created_at),
        }
    }
}

/// A plan in the patient's export: with its reviews and tasks, and every version.
#[derive(Serialize, ToSchema)]
pub struct PlanExportOut {
    pub plan: CarePlanOut,
    pub versions: Vec<PlanVersionOut>,
}

impl PlanExportOut {
    pub fn new(p: cordee_pathway::store::PlanExport, now: cordee_pathway::Millis) -> PlanExportOut {
        let today = Day::today_in_paris(now);
        let mut plan = CarePlanOut::new(p.plan, today);
        plan.reviews = Some(p.reviews.into_iter().map(review_out).collect());
        plan.tasks = Some(
            p.tasks
                .into_iter()
                .map(|t| TaskOut::new(t, today))
                .collect(),
        );
        PlanExportOut {
            plan,
            versions: p.versions.into_iter().map(PlanVersionOut::from).collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskIn {
    #[schema(schema_with = title_schema)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = detail_schema)]
    pub detail: String,
    #[schema(schema_with = task_category_schema)]
    pub category: String,
    /// A member of the care team whose profession reads the category; `null`: the
    /// referent assigns it later.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assignee_id: Option<String>,
    /// Today or later.
    #[schema(schema_with = day_schema)]
    pub due_on: String,
}

fn account_id(
    field: &'static str,
    code: &'static str,
    text: Option<&str>,
) -> Result<Option<AccountId>, ApiError> {
    text.map(|t| {
        AccountId::parse(t).ok_or_else(|| {
            ApiError::unprocessable(code, format!("{field} is not an account id"))
                .with_extra(serde_json::json!({ "field": field }))
        })
    })
    .transpose()
}

fn problems_in(p: Vec<ProblemIo>) -> Vec<Problem> {
    p.into_iter()
        .map(|p| Problem {
            label: p.label,
            priority: i64::from(p.priority),
            patient_priority: p.patient_priority,
        })
        .collect()
}

fn objectives_in(o: Vec<ObjectiveIo>) -> Vec<Objective> {
    o.into_iter()
        .map(|o| Objective {
            label: o.label,
            criteria: o.criteria,
        })
        .collect()
}

const PATIENT_404: &str = "`patient.not_found`: no such patient, or you may not see them.";

/// The patient's care plans, newest first.
#[utoipa::path(get, path = "/v1/patients/{id}/care-plans", tag = "care plans", params(("id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = CarePlanList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 403, description = "`patient.reach_forbidden`, `care_plan.no_file_access`: your access does not include the file."),
        (status = 404, description = PATIENT_404),
        (status = 410, description = "`patient.erased`.")))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<CarePlanList>, ApiError> {
    let before = parse_cursor(page.cursor.as_deref(), CarePlanId::parse)?;
    let limit = page.limit();
    let rows = state
        .store
        .care_plans(&actor, id, before, limit + 1, now)
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, |p| p.id.to_string());
    let today = Day::today_in_paris(now);
    Ok(Json(CarePlanList {
        items: rows
            .into_iter()
            .map(|p| CarePlanOut::new(p, today))
            .collect(),
        next_cursor,
    }))
}

/// Open a care plan (the care team's health professionals and coordinator); from a
/// pathway, its steps become dated tasks.
#[utoipa::path(post, path = "/v1/patients/{id}/care-plans", tag = "care plans", params(("id" = uuid::Uuid, Path)), request_body = NewPlanIn,
    responses((status = 201, body = CarePlanOut),
        (status = 403, description = "`care_plan.team_only`: the care team's professionals and coordinator write the plan; `patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = PATIENT_404),
        (status = 409, description = "`care_plan.active_exists`: the patient has an active plan for this pathway."),
        (status = 410, description = "`patient.erased`."),
        (status = 422, description = "`care_plan.unknown_pathway`; `care_plan.referent_not_in_team`; `care_plan.review_in_past`, `care_plan.review_too_far`; `care_plan.invalid_title`, `care_plan.invalid_problem`, `care_plan.invalid_objective`, `care_plan.invalid_text`, `care_plan.too_many_items`.")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<NewPlanIn>,
) -> Result<(StatusCode, Json<CarePlanOut>), ApiError> {
    let pathway_id = match body.pathway_id.as_deref() {
        None => None,
        Some(p) => Some(PathwayId::parse(p).ok_or_else(|| {
            ApiError::unprocessable(
                "care_plan.unknown_pathway",
                "pathway_id is not a pathway of the CPTS",
            )
        })?),
    };
    let new = NewPlan {
        content: PlanContentInput {
            title: body.title,
            problems: problems_in(body.problems),
            preferences: body.preferences,
            objectives: objectives_in(body.objectives),
            alert_plan: body.alert_plan,
        },
        pathway_id,
        coordinator_id: account_id(
            "coordinator_id",
            "care_plan.referent_not_in_team",
            body.coordinator_id.as_deref(),
        )?,
        review_on: body
            .review_on
            .as_deref()
            .map(|d| parse_day("review_on", d))
            .transpose()?,
    };
    let (plan, tasks) = state.store.create_care_plan(&actor, id, new, now).await?;
    let today = Day::today_in_paris(now);
    let mut out = CarePlanOut::new(plan, today);
    out.tasks = Some(tasks.into_iter().map(|t| TaskOut::new(t, today)).collect());
    Ok((StatusCode::CREATED, Json(out)))
}

/// One care plan with its reviews.
#[utoipa::path(get, path = "/v1/patients/{id}/care-plans/{plan_id}", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path)),
    responses((status = 200, body = CarePlanOut),
        (status = 403, description = "`patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 410, description = "`patient.erased`.")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
) -> Result<Json<CarePlanOut>, ApiError> {
    let (plan, reviews) = state.store.care_plan(&actor, id, plan, now).await?;
    let mut out = CarePlanOut::new(plan, Day::today_in_paris(now));
    out.reviews = Some(reviews.into_iter().map(review_out).collect());
    Ok(Json(out))
}

/// Change a care plan: a new version, the previous one kept.
#[utoipa::path(patch, path = "/v1/patients/{id}/care-plans/{plan_id}", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path)), request_body = PlanPatch,
    responses((status = 200, body = CarePlanOut),
        (status = 403, description = "`care_plan.team_only`, `patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 409, description = "`care_plan.version_conflict`: the plan changed since `version`; `care_plan.closed`: a closed plan does not change; `care_plan.active_exists`: another plan of the pathway is active."),
        (status = 410, description = "`patient.erased`."),
        (status = 422, description = "`care_plan.referent_not_in_team`; `care_plan.review_in_past`, `care_plan.review_too_far`; `care_plan.invalid_title`, `care_plan.invalid_problem`, `care_plan.invalid_objective`, `care_plan.invalid_text`, `care_plan.too_many_items`.")))]
async fn change(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
    ApiJson(body): ApiJson<PlanPatch>,
) -> Result<Json<CarePlanOut>, ApiError> {
    let status = body
        .status
        .as_deref()
        .map(|s| parse_enum("status", s, PlanStatus::parse, PlanStatus::NAMES))
        .transpose()?;
    let review_on = body
        .review_on
        .as_deref()
        .map(|d| parse_day("review_on", d))
        .transpose()?;
    let coordinator_id = account_id(
        "coordinator_id",
        "care_plan.referent_not_in_team",
        body.coordinator_id.as_deref(),
    )?;
    let touches_content = body.title.is_some()
        || body.problems.is_some()
        || body.preferences.is_some()
        || body.objectives.is_some()
        || body.alert_plan.is_some();
    let content = if touches_content {
        // The fields not sent keep their current value.
        let (current, _) = state.store.care_plan(&actor, id, plan, now).await?;
        let c = current.content;
        Some(PlanContentInput {
            title: body.title.unwrap_or(c.title),
            problems: body.problems.map(problems_in).unwrap_or(c.problems),
            preferences: body.preferences.unwrap_or(c.preferences),
            objectives: body.objectives.map(objectives_in).unwrap_or(c.objectives),
            alert_plan: body.alert_plan.unwrap_or(c.alert_plan),
        })
    } else {
        None
    };
    let change = PlanChange {
        content,
        status,
        review_on,
        coordinator_id,
        version: body.version,
    };
    let plan = state
        .store
        .update_care_plan(&actor, id, plan, change, now)
        .await?;
    Ok(Json(CarePlanOut::new(plan, Day::today_in_paris(now))))
}

/// Every version of the plan, newest first.
#[utoipa::path(get, path = "/v1/patients/{id}/care-plans/{plan_id}/versions", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path)),
    responses((status = 200, body = PlanVersionList),
        (status = 403, description = "`patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 410, description = "`patient.erased`.")))]
async fn versions(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
) -> Result<Json<PlanVersionList>, ApiError> {
    let versions = state
        .store
        .care_plan_versions(&actor, id, plan, now)
        .await?;
    Ok(Json(PlanVersionList {
        items: versions.into_iter().map(PlanVersionOut::from).collect(),
        next_cursor: None,
    }))
}

/// Review the plan: what was achieved per objective, and the next date.
#[utoipa::path(post, path = "/v1/patients/{id}/care-plans/{plan_id}/reviews", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path)), request_body = ReviewIn,
    responses((status = 201, body = ReviewOut),
        (status = 403, description = "`care_plan.team_only`, `patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 409, description = "`care_plan.closed`: a closed plan is not reviewed."),
        (status = 410, description = "`patient.erased`."),
        (status = 422, description = "`care_plan.review_in_past`, `care_plan.review_too_far`; `care_plan.invalid_review`.")))]
async fn review(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> Result<(StatusCode, Json<ReviewOut>), ApiError> {
    let next = parse_day("next_review_on", &body.next_review_on)?;
    let outcomes = body
        .outcomes
        .into_iter()
        .map(|o| {
            Ok(Outcome {
                objective: o.objective,
                achievement: parse_enum(
                    "achievement",
                    &o.achievement,
                    Achievement::parse,
                    Achievement::NAMES,
                )?,
                comment: o.comment,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let content = ReviewContent::new(&body.summary, outcomes)?;
    let review = state
        .store
        .review_care_plan(&actor, id, plan, content, next, now)
        .await?;
    Ok((StatusCode::CREATED, Json(review_out(review))))
}

/// The plan's tasks you may read (by their category), in creation order.
#[utoipa::path(get, path = "/v1/patients/{id}/care-plans/{plan_id}/tasks", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = TaskList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 403, description = "`patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 410, description = "`patient.erased`.")))]
async fn list_tasks(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let after = parse_cursor(page.cursor.as_deref(), TaskId::parse)?;
    let limit = page.limit();
    let rows = state
        .store
        .plan_tasks(&actor, id, plan, after, limit + 1, now)
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, |t| t.id.to_string());
    let today = Day::today_in_paris(now);
    Ok(Json(TaskList {
        items: rows.into_iter().map(|t| TaskOut::new(t, today)).collect(),
        next_cursor,
    }))
}

/// Add a task to the plan, for a member of the care team.
#[utoipa::path(post, path = "/v1/patients/{id}/care-plans/{plan_id}/tasks", tag = "care plans",
    params(("id" = uuid::Uuid, Path), ("plan_id" = uuid::Uuid, Path)), request_body = NewTaskIn,
    responses((status = 201, body = TaskOut),
        (status = 403, description = "`care_plan.team_only`, `task.category_forbidden`: your profession may not read this category; `patient.reach_forbidden`, `care_plan.no_file_access`."),
        (status = 404, description = "`patient.not_found`, `care_plan.not_found`: no such patient or plan, or you may not see it."),
        (status = 409, description = "`care_plan.closed`: a closed plan takes no new task."),
        (status = 410, description = "`patient.erased`."),
        (status = 422, description = "`task.unknown_assignee`, `task.assignee_not_in_team`, `task.category_not_for_assignee`: the assignee's profession may not read the category; `task.due_in_past`, `task.due_too_far`; `task.invalid_title`, `task.invalid_detail`.")))]
async fn create_task(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, plan)): ApiPath<(PatientId, CarePlanId)>,
    ApiJson(body): ApiJson<NewTaskIn>,
) -> Result<(StatusCode, Json<TaskOut>), ApiError> {
    let task = NewTask {
        content: TaskContent::new(&body.title, &body.detail)?,
        category: parse_task_category(&body.category)?,
        assignee_id: account_id(
            "assignee_id",
            "task.unknown_assignee",
            body.assignee_id.as_deref(),
        )?,
        due_on: parse_day("due_on", &body.due_on)?,
    };
    let task = state.store.create_task(&actor, id, plan, task, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(TaskOut::new(task, Day::today_in_paris(now))),
    ))
}
