//! What the pathway, care-plan and task routes share: schemas of their inputs
//! (spelled so that what the document allows is what the domain accepts), days,
//! and the task as the API writes it.

use cordee_pathway::calendar::Day;
use cordee_pathway::policy::Category;
use cordee_pathway::task::Task;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, Schema, Type};

use super::schemas;
use super::wire::ts;
use crate::error::ApiError;
use crate::openapi::schemas::{WS, trimmed_pattern};

/// The categories a task or a pathway step may carry: all but `rcp` (written by the
/// case-conference workflow only).
pub const TASK_CATEGORIES: &[&str] = &[
    "synthese",
    "medical",
    "soins",
    "traitements",
    "resultats",
    "social",
    "administratif",
];

/// A real day `YYYY-MM-DD` (no 30 February), as `Day::parse` reads it.
pub fn day_pattern() -> String {
    let leap = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29";
    let ymd = "[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))";
    format!("^(?:{ymd}|{leap})$")
}

/// `schema` or `null` (a member that may be sent as null: the same as absent).
pub fn or_null(schema: Object) -> RefOr<Schema> {
    RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    ))
}

pub fn day_or_null() -> RefOr<Schema> {
    or_null(day_schema())
}

pub fn day_schema() -> Object {
    schemas::pattern(&day_pattern(), "A day in Paris, `YYYY-MM-DD`.")
}

pub fn parse_day(field: &'static str, text: &str) -> Result<Day, ApiError> {
    Day::parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "request.invalid_field",
            format!("{field} must be a day written YYYY-MM-DD"),
        )
        .with_extra(serde_json::json!({ "field": field }))
    })
}

/// Text of 1 to `max` characters once trimmed.
pub fn required(max: usize, description: &str) -> Object {
    schemas::pattern(&trimmed_pattern(1, max), description)
}

/// Text of at most `max` characters once trimmed (blank allowed).
pub fn optional(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{WS}*$|{}", trimmed_pattern(1, max))))
        .description(Some(description))
        .build()
}

pub fn task_category_schema() -> Object {
    schemas::words(
        TASK_CATEGORIES,
        "A category of the file other than `rcp`; the task obeys the matrix through it.",
    )
}

pub fn parse_task_category(text: &str) -> Result<Category, ApiError> {
    super::wire::parse_enum(
        "category",
        text,
        |c| Category::parse(c).filter(|c| !c.written_by_workflow_only()),
        TASK_CATEGORIES,
    )
}

/// `Some(None)` for an explicit `null`, `None` when the member is absent.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub plan_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub patient_id: String,
    pub title: String,
    pub detail: String,
    #[schema(schema_with = task_category_schema)]
    pub category: String,
    /// `null`: left for the referent to assign.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub assignee_id: Option<String>,
    #[schema(schema_with = day_schema)]
    pub due_on: String,
    #[schema(schema_with = task_status_schema)]
    pub status: String,
    #[schema(schema_with = task_source_schema)]
    pub source: String,
    /// The last note: a decline's reason, a completion note.
    pub note: Option<String>,
    /// Open and due before today (Paris).
    pub overdue: bool,
    /// Send it back with a change (409 `task.version_conflict` if the task moved).
    pub version: i64,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

pub fn task_status_schema() -> Object {
    schemas::words(
        cordee_pathway::task::TaskStatus::NAMES,
        "Where the task is.",
    )
}

pub fn task_source_schema() -> Object {
    schemas::words(
        cordee_pathway::task::TaskSource::NAMES,
        "Where the task came from.",
    )
}

impl TaskOut {
    pub fn new(t: Task, today: Day) -> TaskOut {
        TaskOut {
            overdue: t.overdue(today),
            id: t.id.to_string(),
            plan_id: t.plan_id.to_string(),
            patient_id: t.patient_id.to_string(),
            title: t.content.title,
            detail: t.content.detail,
            category: t.category.as_str().into(),
            assignee_id: t.assignee_id.map(|a| a.to_string()),
            due_on: t.due_on.as_text(),
            status: t.status.as_str().into(),
            source: t.source.as_str().into(),
            note: t.note,
            version: t.version,
            created_by: t.created_by.to_string(),
            created_at: ts(t.created_at),
            updated_at: ts(t.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskOut>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_categories_are_the_files_but_rcp() {
        let expected: Vec<&str> = Category::ALL
            .iter()
            .filter(|c| !c.written_by_workflow_only())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(TASK_CATEGORIES, expected.as_slice());
    }

    #[test]
    fn the_day_pattern_is_what_day_parse_reads() {
        let p = regex::Regex::new(&day_pattern()).unwrap();
        for ok in ["2026-11-29", "2024-02-29", "2000-02-29", "2026-12-31"] {
            assert!(p.is_match(ok) && Day::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-1-01",
            "29/11/2026",
        ] {
            assert!(!p.is_match(bad) && Day::parse(bad).is_none(), "{bad}");
        }
    }
}
