//! CPTS administration: the access matrix.

use axum::Json;
use axum::extract::State;
use cordee_pathway::account::ProfessionGroup;
use cordee_pathway::policy::{Access, Category};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entries::CATEGORIES;
use super::wire::parse_enum;
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::openapi::schemas;
use crate::state::AppState;

const GROUPS: [&str; 9] = [
    "medecin",
    "sage_femme",
    "dentiste",
    "pharmacien",
    "infirmier",
    "kinesitherapeute",
    "auxiliaire",
    "psychologue",
    "staff",
];
const ACCESS: [&str; 3] = ["none", "read", "write"];

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
#[utoipa::path(get, path = "/v1/access-matrix", tag = "administration", responses((status = 200, body = Matrix)))]
async fn get_matrix(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
) -> Result<Json<Matrix>, ApiError> {
    let cells = state.store.access_matrix().await?;
    Ok(Json(Matrix {
        items: cells
            .into_iter()
            .map(|(g, c, a)| MatrixCell {
                profession_group: g.as_str().into(),
                category: c.as_str().into(),
                access: a.as_str().into(),
            })
            .collect(),
        next_cursor: None,
    }))
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
    let g = parse_enum("profession_group", &group, ProfessionGroup::parse, &GROUPS)?;
    let c = parse_enum("category", &category, Category::parse, &CATEGORIES)?;
    let a = parse_enum("access", &body.access, Access::parse, &ACCESS)?;
    state.store.set_access(&actor, g, c, a, now).await?;
    Ok(Json(MatrixCell {
        profession_group: group,
        category,
        access: body.access,
    }))
}
