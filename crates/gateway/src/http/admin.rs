//! CPTS administration: the access matrix.

use axum::Json;
use axum::extract::State;
use cordee_pathway::account::ProfessionGroup;
use cordee_pathway::policy::{Access, Category};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{MatrixPage, page_of, parse_enum};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_matrix))
        .routes(routes!(set_cell))
}

#[derive(Serialize, ToSchema)]
pub struct MatrixCell {
    #[schema(value_type = schemas::ProfessionGroup)]
    pub profession_group: String,
    #[schema(value_type = schemas::Category)]
    pub category: String,
    #[schema(value_type = schemas::AccessLevel)]
    pub access: String,
}

#[derive(Serialize, ToSchema)]
pub struct Matrix {
    pub items: Vec<MatrixCell>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAccess {
    /// `rcp` is read-only for everyone (422 `matrix.rcp_read_only` for `write`).
    #[schema(value_type = schemas::AccessLevel)]
    pub access: String,
}

/// The profession × category matrix in force.
#[utoipa::path(get, path = "/v1/access-matrix", tag = "administration", params(MatrixPage), responses((status = 200, body = Matrix)))]
async fn get_matrix(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiQuery(page): ApiQuery<MatrixPage>,
) -> Result<Json<Matrix>, ApiError> {
    let page = page.page();
    // 72 cells at most: read them all, page here. The cursor is the last cell's
    // `group/category`.
    let cells: Vec<MatrixCell> = state
        .store
        .access_matrix()
        .await?
        .into_iter()
        .map(|(g, c, a)| MatrixCell {
            profession_group: g.as_str().into(),
            category: c.as_str().into(),
            access: a.as_str().into(),
        })
        .collect();
    let key = |c: &MatrixCell| format!("{}/{}", c.profession_group, c.category);
    let start = match page.cursor.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cells
            .iter()
            .position(|c| key(c) == cursor)
            .map(|i| i + 1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid_cursor",
                    "cursor is not one this API returned",
                )
            })?,
    };
    let rest: Vec<MatrixCell> = cells.into_iter().skip(start).collect();
    let (items, next_cursor) = page_of(rest, page.limit(), key);
    Ok(Json(Matrix { items, next_cursor }))
}

/// Change one cell of the matrix (CPTS admin; audited).
#[utoipa::path(put, path = "/v1/access-matrix/{profession_group}/{category}", tag = "administration",
    params(("profession_group" = schemas::ProfessionGroup, Path), ("category" = schemas::Category, Path)), request_body = SetAccess,
    responses((status = 200, body = MatrixCell),
        (status = 403, description = "`matrix.admin_only`: only a CPTS admin changes the matrix."),
        (status = 422, description = "`request.invalid_field`: the path names no profession group or category; `matrix.rcp_read_only`: `rcp` is written by case conferences only.")))]
async fn set_cell(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((group, category)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetAccess>,
) -> Result<Json<MatrixCell>, ApiError> {
    let g = parse_enum(
        "profession_group",
        &group,
        ProfessionGroup::parse,
        ProfessionGroup::NAMES,
    )?;
    let c = parse_enum("category", &category, Category::parse, Category::NAMES)?;
    let a = parse_enum("access", &body.access, Access::parse, Access::NAMES)?;
    state.store.set_access(&actor, g, c, a, now).await?;
    Ok(Json(MatrixCell {
        profession_group: group,
        category,
        access: body.access,
    }))
}
