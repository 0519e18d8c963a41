//! The router: every route, the OpenAPI document generated from them, and the
//! layers every request goes through (request id, logs, metrics, body limit, panic
//! guard, security headers).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, not_found_route};
use crate::http;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cordée",
        description = "Secure coordination for the health professionals of a CPTS: messaging, the shared patient coordination file, and the CPTS missions.",
        license(name = "AGPL-3.0-only")
    ),
    tags(
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "auth", description = "Login with Pro Santé Connect or the CPTS staff provider, sessions, bearer tokens, the current user"),
        (name = "sandbox", description = "The PSC sandbox: a demo OpenID provider, served in demo mode only"),
        (name = "patients", description = "Patients and their INS identity"),
        (name = "care team", description = "The équipe de soins of a patient"),
        (name = "coordination file", description = "Entries visible by profession and category"),
        (name = "attachments", description = "Photos and PDF, sealed"),
        (name = "patient rights", description = "Break-glass, information, objections, masking, access log, export"),
        (name = "administration", description = "The access matrix"),
        (name = "notifications", description = "What you should know about (no health data)"),
        (name = "messaging", description = "Patient threads, direct and group conversations, the real-time stream"),
        (name = "directory", description = "The professionals of the territory (RPPS import and logins): search, cards, invitations"),
        (name = "organisations", description = "The structures of the territory: officines, cabinets, MSP, EHPAD, hospitals…"),
        (name = "cpts", description = "The CPTS's profile and the adhesion of professionals"),
        (name = "aci", description = "The ACI contract: indicator definitions and the year's report (amounts, indicators, advance and balance)"),
        // Campaigns (issue 15)
        (name = "campaigns", description = "Prevention campaigns: structures join, record counts per day and kind (never a patient), indicators and a printable report"),
        // Waiting list (issue 14)
        (name = "waiting-list", description = "Patients without a médecin traitant: requests sorted by priority (fragility points + 1 point per 30 days waited, at most 12; see docs/waiting_list.md), suggestions and proposals of GPs, placement, indicators"),
        (name = "gp-capacity", description = "What each médecin généraliste declares they can take for the waiting list"),
        // Pathways, care plans and tasks (issue 12)
        (name = "care plans", description = "Territorial pathways, the patient's care plan (PPS), its reviews and tasks"),
        // Case conferences (issue 13)
        (name = "case conferences", description = "RCP and concertations: agenda, participants, cases, minutes, validation into the files, the hashed record"),
    )
)]
struct ApiDoc;

/// All routes with their OpenAPI description. The sandbox's routes exist (and are
/// documented) only in demo mode.
fn api_routes(demo: bool) -> OpenApiRouter<AppState> {
    let routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(http::health::router())
        .merge(crate::web::router())
        .merge(http::auth::router())
        .merge(http::me::router())
        .merge(http::patients::router())
        .merge(http::care_team::router())
        .merge(http::entries::router())
        .merge(http::attachments::router())
        .merge(http::rights::router())
        .merge(http::admin::router())
        .merge(http::notifications::router())
        .merge(http::messages::router())
        .merge(http::directory::router())
        .merge(http::organisations::router())
        .merge(http::cpts::router())
        .merge(http::aci::router())
        // Campaigns (issue 15)
        .merge(http::campaigns::router())
        // Waiting list (issue 14)
        .merge(http::waiting_list::router())
        .merge(http::gp_capacity::router())
        // Pathways, care plans and tasks (issue 12)
        .merge(http::pathways::router())
        .merge(http::care_plans::router())
        .merge(http::tasks::router())
        // Case conferences (issue 13)
        .merge(http::case_conferences::router())
        .merge(crate::stream::router());
    if demo {
        routes.merge(crate::sandbox::router())
    } else {
        routes
    }
}

/// The OpenAPI document of every route, as served on `/v1/openapi.json` outside demo mode.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = api_routes(false).split_for_parts();
    crate::openapi::conform(&mut api);
    api
}

pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request is counted.
    let _ = crate::metrics::handle();
    let (routes, mut api) = api_routes(state.sandbox.is_some()).split_for_parts();
    crate::openapi::conform(&mut api);
    http::auth::document(&mut api, &state.auth.providers);
    if let Some(sandbox) = &state.sandbox {
        crate::sandbox::document(&mut api, sandbox);
    }
    let api_json = Arc::new(api.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let body_limit = state.settings.body_limit;
    // Browsers ignore HSTS over plain HTTP, and a loopback demo must stay reachable.
    let hsts = HeaderValue::from_static(
        if state.settings.tls.is_some() || state.settings.behind_proxy {
            "max-age=31536000"
        } else {
            "max-age=0"
        },
    );
    let mut router = routes.route(
        "/v1/openapi.json",
        get(move || {
            let body = Arc::clone(&api_json);
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    body.as_str().to_owned(),
                )
            }
        }),
    );
    if state.settings.metrics_listen.is_none() {
        router = router.route("/metrics", get(http::health::metrics_for_admins));
    }
    let csp = HeaderValue::from_str(&crate::web::content_security_policy(
        &state.settings.public_url,
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    router
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(move |req, next| {
            reject_oversized(req, next, body_limit)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_failure(())
                .on_response(
                    |response: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            latency_ms = latency.as_millis() as u64,
                            "response"
                        );
                    },
                ),
        )
        // Responses carry health data: no caching, no sniffing, no framing, no referrer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // The web client's pages and every other response: scripts, styles and
        // connections from this origin only.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
}

/// The router of the separate metrics listener, when one is configured.
pub fn metrics_router() -> Router {
    Router::new().route("/metrics", get(http::health::metrics))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
        "This route does not accept that method.",
    )
}

/// A declared Content-Length over the limit is refused before any byte is read,
/// whatever the route does with its body; chunked bodies are cut by `DefaultBodyLimit`.
async fn reject_oversized(req: Request, next: middleware::Next, limit: usize) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 && !is_streamed_upload(&req) => {
            ApiError::too_large(limit).into_response()
        }
        _ => next.run(req).await,
    }
}

/// Routes that stream large bodies check their own limit.
fn is_streamed_upload(req: &Request) -> bool {
    req.method() == Method::POST && req.uri().path() == "/v1/attachments"
}

fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str())
        .unwrap_or("unmatched");
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}
