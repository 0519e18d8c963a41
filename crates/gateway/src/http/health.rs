//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentSession;
use crate::error::ApiError;
use crate::state::AppState;
use cordee_pathway::account::CptsRole;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready`
    pub status: &'static str,
    /// `sqlite` or `postgres`
    pub database: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = Ready),
        (status = 503, description = "`ready.database_unreachable`; `ready.migrations_pending`: run `cordee migrate`.")))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let readiness = state.db.readiness().await;
    if !readiness.database_reachable {
        return Err(ApiError::unavailable(
            "ready.database_unreachable",
            "The database cannot be reached.",
        ));
    }
    if readiness.pending_migrations > 0 {
        return Err(ApiError::unavailable(
            "ready.migrations_pending",
            format!(
                "{} database migrations are not applied; run `cordee migrate`.",
                readiness.pending_migrations
            ),
        ));
    }
    Ok(Json(Ready {
        status: "ready",
        database: state.db.backend().name(),
    }))
}

/// Prometheus text exposition, on the separate metrics listener (not part of the
/// OpenAPI document).
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
}

/// The same on the main listener, for CPTS admins only: per-route counts (emergency
/// accesses among them) are the operator's business, not the world's. Scrapers use
/// `CORDEE_METRICS_LISTEN` on an internal address instead.
pub async fn metrics_for_admins(current: CurrentSession) -> Result<impl IntoResponse, ApiError> {
    if !current.actor.has_role(CptsRole::Admin) {
        return Err(ApiError::forbidden(
            "metrics.admin_only",
            "Metrics are for the CPTS's administrators (or on the metrics listener).",
        ));
    }
    Ok(metrics().await)
}
