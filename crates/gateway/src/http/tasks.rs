//! `/v1/tasks`: a professional's to-do list across patients (overdue first), one
//! task, and its changes (accept, decline with a reason, start, done; the referent
//! reassigns and cancels).

use axum::Json;
use axum::extract::State;
use cordee_pathway::calendar::Day;
use cordee_pathway::ids::{AccountId, TaskId};
use cordee_pathway::task::{MAX_NOTE_CHARS, TaskChange, TaskStatus, TodoFilter};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::plans_wire::{
    TaskList, TaskOut, day_or_null, day_pattern, day_schema, optional, or_null, parse_day, present,
};
use super::schemas;
use super::wire::{integral, page_of, parse_enum};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(todo))
        .routes(routes!(get_one, change))
}

fn assignee_param() -> Object {
    schemas::words(&["me"], "`me`: the tasks assigned to you (the default).")
}

const STATUS_FILTERS: &[&str] = &[
    "open",
    "all",
    "proposed",
    "accepted",
    "declined",
    "in_progress",
    "done",
    "cancelled",
];

fn status_param() -> Object {
    schemas::words(
        STATUS_FILTERS,
        "`open` (default): proposed, accepted or in progress; `all`; or one status.",
    )
}

fn cursor_param() -> Object {
    let day = day_pattern();
    let day = day.trim_start_matches('^').trim_end_matches('$');
    schemas::pattern(
        &format!(
            "^$|^{day}_[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}$"
        ),
        "The `next_cursor` of the previous page: the last task's due day and id.",
    )
}

fn note_schema() -> Object {
    optional(
        MAX_NOTE_CHARS,
        "At most 4,000 characters; required to decline (the reason).",
    )
}

fn task_status_or_null() -> RefOr<Schema> {
    or_null(task_status_schema())
}

fn note_or_null() -> RefOr<Schema> {
    or_null(note_schema())
}

fn task_status_schema() -> Object {
    schemas::words(TaskStatus::NAMES, "The new status.")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TodoQuery {
    #[param(schema_with = assignee_param)]
    pub assignee: Option<String>,
    #[param(schema_with = status_param)]
    pub status: Option<String>,
    /// Only tasks due strictly before this day.
    #[param(schema_with = day_schema)]
    pub due_before: Option<String>,
    #[param(schema_with = cursor_param)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// The version you read (409 `task.version_conflict` if the task moved).
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 1)]
    pub version: i64,
    #[schema(schema_with = task_status_or_null)]
    pub status: Option<String>,
    #[schema(schema_with = note_or_null)]
    pub note: Option<String>,
    /// The referent reassigns (`null`: unassigned); the task is proposed again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assignee_id: Option<Option<String>>,
    #[schema(schema_with = day_or_null)]
    pub due_on: Option<String>,
}

fn parse_after(cursor: Option<&str>) -> Result<Option<(Day, TaskId)>, ApiError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) => c
            .split_once('_')
            .and_then(|(d, i)| Some((Day::parse(d)?, TaskId::parse(i)?)))
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid_cursor",
                    "cursor is not one this API returned",
                )
            }),
    }
}

/// Your to-do list across patients: overdue first, then by due day. Only what you
/// may read now (the file's rule, the matrix by each task's category).
#[utoipa::path(get, path = "/v1/tasks", tag = "care plans", params(TodoQuery),
    responses((status = 200, body = TaskList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 422, description = "`request.invalid_field`: `assignee`, `status` or `due_before` is not one the API reads.")))]
async fn todo(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(q): ApiQuery<TodoQuery>,
) -> Result<Json<TaskList>, ApiError> {
    if let Some(a) = q.assignee.as_deref() {
        parse_enum("assignee", a, |a| (a == "me").then_some(()), &["me"])?;
    }
    let statuses = match q.status.as_deref().unwrap_or("open") {
        "open" => TaskStatus::OPEN.to_vec(),
        "all" => TaskStatus::ALL.to_vec(),
        s => vec![parse_enum("status", s, TaskStatus::parse, STATUS_FILTERS)?],
    };
    let due_before = q
        .due_before
        .as_deref()
        .map(|d| parse_day("due_before", d))
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let filter = TodoFilter {
        statuses,
        due_before,
        after: parse_after(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = state.store.todo(&actor, &filter, now).await?;
    let (rows, next_cursor) = page_of(rows, limit, |t| format!("{}_{}", t.due_on, t.id));
    let today = Day::today_in_paris(now);
    Ok(Json(TaskList {
        items: rows.into_iter().map(|t| TaskOut::new(t, today)).collect(),
        next_cursor,
    }))
}

/// One task, if you may read it.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "care plans", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TaskOut),
        (status = 403, description = "`patient.reach_forbidden`: your access to the patient does not include the file."),
        (status = 404, description = "`task.not_found`: no such task, or you may not see it."),
        (status = 410, description = "`patient.erased`.")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<TaskId>,
) -> Result<Json<TaskOut>, ApiError> {
    let task = state.store.task(&actor, id, now).await?;
    Ok(Json(TaskOut::new(task, Day::today_in_paris(now))))
}

/// Change a task: the assignee accepts, declines (with a reason in `note`), starts,
/// completes (a note lands in the file); the referent reassigns and cancels.
#[utoipa::path(patch, path = "/v1/tasks/{id}", tag = "care plans", params(("id" = uuid::Uuid, Path)), request_body = TaskPatch,
    responses((status = 200, body = TaskOut),
        (status = 403, description = "`task.not_yours`: only the assignee (or the referent) does this; `patient.reach_forbidden`."),
        (status = 404, description = "`task.not_found`: no such task, or you may not see it."),
        (status = 409, description = "`task.version_conflict`: the task changed since `version`; `task.finished`: done or cancelled; `task.invalid_transition`."),
        (status = 410, description = "`patient.erased`."),
        (status = 422, description = "`task.reason_required`: a decline needs its reason; `task.invalid_note`; `task.unknown_assignee`, `task.assignee_not_in_team`, `task.category_not_for_assignee`; `task.due_in_past`, `task.due_too_far`.")))]
async fn change(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(body): ApiJson<TaskPatch>,
) -> Result<Json<TaskOut>, ApiError> {
    let status = body
        .status
        .as_deref()
        .map(|s| parse_enum("status", s, TaskStatus::parse, TaskStatus::NAMES))
        .transpose()?;
    let assignee_id = match body.assignee_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(a)) => Some(Some(AccountId::parse(&a).ok_or_else(|| {
            ApiError::unprocessable("task.unknown_assignee", "assignee_id is not an account id")
        })?)),
    };
    let change = TaskChange {
        status,
        note: body.note,
        assignee_id,
        due_on: body
            .due_on
            .as_deref()
            .map(|d| parse_day("due_on", d))
            .transpose()?,
        version: body.version,
    };
    let task = state.store.update_task(&actor, id, change, now).await?;
    Ok(Json(TaskOut::new(task, Day::today_in_paris(now))))
}
