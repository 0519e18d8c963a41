//! Entries of the coordination file.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::file::{Entry, EntryContent, EntryFilter, EntryKind, EntryVersion};
use cordee_pathway::ids::{AttachmentId, EntryId, PatientId};
use cordee_pathway::policy::Category;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{parse_cursor, parse_enum, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, correct))
        .routes(routes!(entered_in_error))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// The matrix decides which categories your profession writes.
    #[schema(value_type = schemas::WritableCategory)]
    pub category: String,
    #[schema(value_type = schemas::EntryKind)]
    pub kind: String,
    #[schema(value_type = schemas::EntryTitle)]
    pub title: String,
    /// At most 65,536 bytes of UTF-8 (422 `entry.body_too_long`).
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    #[schema(value_type = schemas::EntryAttachments)]
    pub attachments: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[schema(value_type = schemas::EntryTitle)]
    pub title: String,
    /// At most 65,536 bytes of UTF-8 (422 `entry.body_too_long`).
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    #[schema(value_type = schemas::EntryAttachments)]
    pub attachments: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EntryOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub patient_id: String,
    #[schema(value_type = schemas::Category)]
    pub category: String,
    #[schema(value_type = schemas::EntryKind)]
    pub kind: String,
    pub title: String,
    pub body: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub attachments: Vec<String>,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
    #[schema(value_type = schemas::EntryStatus)]
    pub status: String,
    pub masked: bool,
    /// Every version, newest first (single-entry reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    pub title: String,
    pub body: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub attachments: Vec<String>,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Entry> for EntryOut {
    fn from(e: Entry) -> Self {
        EntryOut {
            id: e.id.to_string(),
            patient_id: e.patient_id.to_string(),
            category: e.category.as_str().into(),
            kind: e.kind.as_str().into(),
            title: e.title,
            body: e.body,
            attachments: e.attachments.iter().map(ToString::to_string).collect(),
            author_id: e.author_id.to_string(),
            created_at: ts(e.created_at),
            updated_at: ts(e.updated_at),
            version: e.version,
            status: e.status.as_str().into(),
            masked: e.masked,
            versions: None,
        }
    }
}

impl From<EntryVersion> for VersionOut {
    fn from(v: EntryVersion) -> Self {
        VersionOut {
            version: v.version,
            title: v.title,
            body: v.body,
            attachments: v.attachments.iter().map(ToString::to_string).collect(),
            author_id: v.author_id.to_string(),
            created_at: ts(v.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    pub items: Vec<EntryOut>,
    pub next_cursor: Option<String>,
    /// How many entries you may read with these filters (never counts what you may not see).
    pub total: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    #[param(value_type = Option<schemas::CategoryFilter>)]
    pub category: Option<String>,
    /// One word of the title or body.
    pub q: Option<String>,
    #[serde(default)]
    pub include_entered_in_error: bool,
    #[param(value_type = Option<schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

fn attachments(ids: &[String]) -> Result<Vec<AttachmentId>, ApiError> {
    ids.iter()
        .map(|a| {
            AttachmentId::parse(a).ok_or_else(|| {
                ApiError::unprocessable("entry.unknown_attachment", "an attachment id is not valid")
            })
        })
        .collect()
}

/// Entries you may read, newest first.
#[utoipa::path(get, path = "/v1/patients/{id}/entries", tag = "coordination file", params(("id" = uuid::Uuid, Path), EntryQuery),
    responses((status = 200, body = EntryList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`request.invalid_field`: `category` is not a category.")))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> Result<Json<EntryList>, ApiError> {
    let category = q
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| parse_enum("category", c, Category::parse, Category::NAMES))
        .transpose()?;
    let filter = EntryFilter {
        category,
        word: q.q.filter(|w| !w.trim().is_empty()),
        include_entered_in_error: q.include_entered_in_error,
        before: parse_cursor(q.cursor.as_deref(), EntryId::parse)?,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    };
    let page = state.store.list_entries(&actor, id, &filter, now).await?;
    Ok(Json(EntryList {
        items: page.items.into_iter().map(EntryOut::from).collect(),
        next_cursor: page.next.map(|n| n.to_string()),
        total: page.total,
    }))
}

/// Write an entry (the matrix decides which categories your profession writes).
#[utoipa::path(post, path = "/v1/patients/{id}/entries", tag = "coordination file", params(("id" = uuid::Uuid, Path)), request_body = NewEntry,
    responses((status = 201, body = EntryOut),
        (status = 403, description = "`entry.category_forbidden`: your profession does not write this category; `entry.category_read_only`; `entry.category_objected`: the patient objected."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`entry.invalid_title`, `entry.body_too_long`, `entry.too_many_attachments`, `entry.duplicate_attachment`; `entry.unknown_attachment`: an attachment is not an upload of yours.")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<NewEntry>,
) -> Result<(StatusCode, Json<EntryOut>), ApiError> {
    let category = parse_enum("category", &body.category, Category::parse, Category::NAMES)?;
    let kind = parse_enum("kind", &body.kind, EntryKind::parse, EntryKind::NAMES)?;
    let content = EntryContent::new(&body.title, &body.body, attachments(&body.attachments)?)?;
    let entry = state
        .store
        .create_entry(&actor, id, category, kind, content, now)
        .await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

/// One entry with all its versions.
#[utoipa::path(get, path = "/v1/patients/{id}/entries/{entry_id}", tag = "coordination file",
    params(("id" = uuid::Uuid, Path), ("entry_id" = uuid::Uuid, Path)),
    responses((status = 200, body = EntryOut),
        (status = 404, description = "`patient.not_found`, `entry.not_found`: no such patient or entry, or you may not see it."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, entry)): ApiPath<(PatientId, EntryId)>,
) -> Result<Json<EntryOut>, ApiError> {
    let (entry, versions) = state.store.get_entry(&actor, id, entry, now).await?;
    let mut out = EntryOut::from(entry);
    out.versions = Some(versions.into_iter().map(VersionOut::from).collect());
    Ok(Json(out))
}

/// Correct your entry: a new version; the earlier ones stay in the history.
#[utoipa::path(put, path = "/v1/patients/{id}/entries/{entry_id}", tag = "coordination file",
    params(("id" = uuid::Uuid, Path), ("entry_id" = uuid::Uuid, Path)), request_body = Correction,
    responses((status = 200, body = EntryOut),
        (status = 403, description = "`entry.not_author`: only the author corrects an entry; `entry.category_forbidden`, `entry.category_objected`."),
        (status = 404, description = "`patient.not_found`, `entry.not_found`: no such patient or entry, or you may not see it."),
        (status = 409, description = "`entry.version_conflict`: the entry changed meanwhile, or was entered in error."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`entry.invalid_title`, `entry.body_too_long`, `entry.too_many_attachments`, `entry.duplicate_attachment`; `entry.unknown_attachment`: an attachment is not an upload of yours.")))]
async fn correct(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, entry)): ApiPath<(PatientId, EntryId)>,
    ApiJson(body): ApiJson<Correction>,
) -> Result<Json<EntryOut>, ApiError> {
    let content = EntryContent::new(&body.title, &body.body, attachments(&body.attachments)?)?;
    Ok(Json(
        state
            .store
            .correct_entry(&actor, id, entry, content, now)
            .await?
            .into(),
    ))
}

/// Mark your entry as entered in error (it stays in the history, flagged).
#[utoipa::path(post, path = "/v1/patients/{id}/entries/{entry_id}/entered-in-error", tag = "coordination file",
    params(("id" = uuid::Uuid, Path), ("entry_id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Flagged."),
        (status = 403, description = "`entry.not_author`: only the author flags an entry."),
        (status = 404, description = "`patient.not_found`, `entry.not_found`: no such patient or entry, or you may not see it."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn entered_in_error(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, entry)): ApiPath<(PatientId, EntryId)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .mark_entered_in_error(&actor, id, entry, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
