//! `/v1/gp-capacity`: what each médecin généraliste declares they can take (new
//! patients a month, where, ALD, home visits, until when), for the waiting list.

use axum::Json;
use axum::extract::State;
use cordee_pathway::ids::AccountId;
use cordee_pathway::store::CapacityView;
use cordee_pathway::waiting_list::{COMMUNES_MAX, Capacity, PER_MONTH_MAX, day_of};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, Object};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::schemas;
use super::wire::{page_of, parse_cursor, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_mine, put_mine))
        .routes(routes!(list))
}

fn communes_schema() -> Array {
    schemas::list_of(
        schemas::COMMUNE,
        COMMUNES_MAX,
        "INSEE codes of the communes you take patients from; empty: the whole territory",
    )
}

fn date_schema() -> Object {
    schemas::nullable_pattern(
        schemas::DATE,
        "`YYYY-MM-DD`: the last day the declaration holds (today or later); null: until changed",
    )
}

/// A GP's declaration, with this month's places.
#[derive(Serialize, ToSchema)]
pub struct CapacityOut {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: String,
    pub display_name: String,
    /// False before the first declaration.
    pub declared: bool,
    pub accepting: bool,
    pub new_patients_per_month: i64,
    #[schema(schema_with = communes_schema)]
    pub communes: Vec<String>,
    pub accepts_ald: bool,
    pub home_visits: bool,
    #[schema(schema_with = date_schema)]
    pub until: Option<String>,
    pub used_this_month: i64,
    pub remaining_this_month: i64,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

impl From<CapacityView> for CapacityOut {
    fn from(c: CapacityView) -> Self {
        CapacityOut {
            account_id: c.account_id.to_string(),
            display_name: c.display_name,
            declared: true,
            accepting: c.capacity.accepting,
            new_patients_per_month: c.capacity.new_patients_per_month,
            communes: c.capacity.communes.iter().map(|c| c.to_string()).collect(),
            accepts_ald: c.capacity.accepts_ald,
            home_visits: c.capacity.home_visits,
            until: c.capacity.until,
            used_this_month: c.used_this_month,
            remaining_this_month: c.remaining_this_month,
            updated_at: Some(ts(c.updated_at)),
        }
    }
}

/// Your declaration (before the first one: `declared` false, not accepting).
#[utoipa::path(get, path = "/v1/gp-capacity/me", tag = "gp-capacity",
    responses((status = 200, body = CapacityOut)))]
async fn get_mine(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
) -> Result<Json<CapacityOut>, ApiError> {
    Ok(Json(match state.store.my_capacity(&actor, now).await? {
        Some(c) => c.into(),
        None => CapacityOut {
            account_id: actor.account_id.to_string(),
            display_name: String::new(),
            declared: false,
            accepting: false,
            new_patients_per_month: 0,
            communes: Vec::new(),
            accepts_ald: false,
            home_visits: false,
            until: None,
            used_this_month: 0,
            remaining_this_month: 0,
            updated_at: None,
        },
    }))
}

/// The whole declaration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityBody {
    pub accepting: bool,
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "super::wire::integral")]
    pub new_patients_per_month: i64,
    #[schema(schema_with = communes_schema)]
    #[serde(default)]
    pub communes: Vec<String>,
    pub accepts_ald: bool,
    pub home_visits: bool,
    /// Today or later; null: until you change it.
    #[schema(schema_with = date_schema)]
    pub until: Option<String>,
}

/// Declare what you can take (médecins généralistes; audited).
#[utoipa::path(put, path = "/v1/gp-capacity/me", tag = "gp-capacity", request_body = CapacityBody,
    responses((status = 200, body = CapacityOut),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`gp_capacity.gps_only`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`gp_capacity.invalid_count`, `gp_capacity.invalid_commune`, `gp_capacity.invalid_until`")))]
async fn put_mine(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CapacityBody>,
) -> Result<Json<CapacityOut>, ApiError> {
    const _: () = assert!(PER_MONTH_MAX == 100);
    let capacity = Capacity::validate(
        body.accepting,
        body.new_patients_per_month,
        &body.communes,
        body.accepts_ald,
        body.home_visits,
        body.until.as_deref(),
        day_of(now),
    )?;
    Ok(Json(
        state
            .store
            .set_my_capacity(&actor, capacity, now)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CapacityList {
    pub items: Vec<CapacityOut>,
    pub next_cursor: Option<String>,
    /// New patients a month over every declaration that accepts and holds today.
    pub total_new_patients_per_month: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CapacityPage {
    #[param(value_type = Option<crate::openapi::schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// Every GP's declaration and the territory's extra capacity (coordinators).
#[utoipa::path(get, path = "/v1/gp-capacity", tag = "gp-capacity", params(CapacityPage),
    responses((status = 200, body = CapacityList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`request.invalid_cursor`"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`waiting_list.coordinators_only`")))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(page): ApiQuery<CapacityPage>,
) -> Result<Json<CapacityList>, ApiError> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let after = parse_cursor(page.cursor.as_deref(), AccountId::parse)?;
    let rows = state
        .store
        .capacities(&actor, after, limit + 1, now)
        .await?;
    let total = state.store.total_capacity(day_of(now)).await?;
    let (items, next_cursor) = page_of(rows, limit, |c| c.account_id.to_string());
    Ok(Json(CapacityList {
        items: items.into_iter().map(CapacityOut::from).collect(),
        next_cursor,
        total_new_patients_per_month: total,
    }))
}
