//! `/v1/pathways`: the territorial pathway protocols. Coordinators and admins write
//! them (each edit a new version), every member reads them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::ids::PathwayId;
use cordee_pathway::protocol::{
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_OFFSET_DAYS, MAX_STEPS, Protocol, ProtocolContent,
    StepInput,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::plans_wire::{optional, required, task_category_schema};
use super::schemas;
use super::wire::{PageQuery, integral, page_of, parse_cursor, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, replace))
}

fn name_schema() -> Object {
    required(MAX_NAME_CHARS, "1 to 200 characters once trimmed.")
}

fn description_schema() -> Object {
    optional(MAX_DESCRIPTION_CHARS, "At most 4,000 characters.")
}

fn step_title_schema() -> Object {
    required(MAX_NAME_CHARS, "1 to 200 characters once trimmed.")
}

fn profession_or_null() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    super::plans_wire::or_null(profession_schema())
}

fn profession_schema() -> Object {
    schemas::words(
        &[
            "10", "21", "40", "50", "60", "70", "80", "91", "92", "93", "94", "95", "96",
        ],
        "The TRE_G15 profession expected to do it (10 médecin, 21 pharmacien, 60 infirmier…).",
    )
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIn {
    #[schema(schema_with = step_title_schema)]
    pub title: String,
    #[schema(schema_with = task_category_schema)]
    pub category: String,
    /// `null`: any member of the team; the referent assigns it.
    #[serde(default)]
    #[schema(schema_with = profession_or_null)]
    pub profession_code: Option<String>,
    /// Days after the plan starts.
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 3650)]
    pub offset_days: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayIn {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: String,
    /// 1 to 50 steps; they are kept ordered by delay.
    #[schema(min_items = 1, max_items = 50)]
    pub steps: Vec<StepIn>,
}

#[derive(Serialize, ToSchema)]
pub struct PathwayOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<StepIn>,
    /// Each edit makes a new version; plans keep the one they started from.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(value_type = uuid::Uuid)]
    pub updated_by: String,
}

impl From<Protocol> for PathwayOut {
    fn from(p: Protocol) -> Self {
        PathwayOut {
            id: p.id.to_string(),
            name: p.name,
            description: p.description,
            steps: p
                .steps
                .into_iter()
                .map(|s| StepIn {
                    title: s.title,
                    category: s.category.as_str().into(),
                    profession_code: s.profession_code.map(|c| c.as_str().to_string()),
                    offset_days: u32::try_from(s.offset_days).unwrap_or(0),
                })
                .collect(),
            version: p.version,
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
            updated_by: p.updated_by.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PathwayList {
    pub items: Vec<PathwayOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A past version (default: the current one).
    #[param(minimum = 1)]
    pub version: Option<i64>,
}

// The document's limits (`min_items`, `maximum`) are the domain's.
const _: () = assert!(MAX_STEPS == 50 && MAX_OFFSET_DAYS == 3650);

fn content(body: PathwayIn) -> Result<ProtocolContent, ApiError> {
    let steps: Vec<StepInput> = body
        .steps
        .into_iter()
        .map(|s| StepInput {
            title: s.title,
            category: s.category,
            profession_code: s.profession_code,
            offset_days: i64::from(s.offset_days),
        })
        .collect();
    Ok(ProtocolContent::new(&body.name, &body.description, &steps)?)
}

/// The CPTS's pathways (current versions).
#[utoipa::path(get, path = "/v1/pathways", tag = "care plans", params(PageQuery),
    responses((status = 200, body = PathwayList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned.")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<PathwayList>, ApiError> {
    let after = parse_cursor(page.cursor.as_deref(), PathwayId::parse)?;
    let limit = page.limit();
    let rows = state.store.pathways(after, limit + 1).await?;
    let (rows, next_cursor) = page_of(rows, limit, |p| p.id.to_string());
    Ok(Json(PathwayList {
        items: rows.into_iter().map(PathwayOut::from).collect(),
        next_cursor,
    }))
}

/// Write a pathway (coordinators and admins).
#[utoipa::path(post, path = "/v1/pathways", tag = "care plans", request_body = PathwayIn,
    responses((status = 201, body = PathwayOut),
        (status = 403, description = "`pathway.coordinators_only`: coordinators and admins write pathways."),
        (status = 422, description = "`pathway.invalid_name`, `pathway.invalid_description`, `pathway.invalid_steps`, `pathway.invalid_step`.")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<PathwayIn>,
) -> Result<(StatusCode, Json<PathwayOut>), ApiError> {
    cordee_pathway::protocol::decide_write(&actor)?;
    let p = state
        .store
        .create_pathway(&actor, content(body)?, now)
        .await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// One pathway, at its current version or the one asked for.
#[utoipa::path(get, path = "/v1/pathways/{id}", tag = "care plans", params(("id" = uuid::Uuid, Path), VersionQuery),
    responses((status = 200, body = PathwayOut),
        (status = 404, description = "`pathway.not_found`: no such pathway or version.")))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiPath(id): ApiPath<PathwayId>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<Json<PathwayOut>, ApiError> {
    Ok(Json(state.store.pathway(id, q.version).await?.into()))
}

/// Edit a pathway: a new version (coordinators and admins).
#[utoipa::path(put, path = "/v1/pathways/{id}", tag = "care plans", params(("id" = uuid::Uuid, Path)), request_body = PathwayIn,
    responses((status = 200, body = PathwayOut),
        (status = 403, description = "`pathway.coordinators_only`: coordinators and admins write pathways."),
        (status = 404, description = "`pathway.not_found`: no such pathway."),
        (status = 409, description = "`pathway.version_conflict`: edited by someone else at the same moment."),
        (status = 422, description = "`pathway.invalid_name`, `pathway.invalid_description`, `pathway.invalid_steps`, `pathway.invalid_step`.")))]
async fn replace(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PathwayId>,
    ApiJson(body): ApiJson<PathwayIn>,
) -> Result<Json<PathwayOut>, ApiError> {
    cordee_pathway::protocol::decide_write(&actor)?;
    Ok(Json(
        state
            .store
            .update_pathway(&actor, id, content(body)?, now)
            .await?
            .into(),
    ))
}
