//! `/v1/auth/*`: providers, login, callback, bearer tokens, logout, own sessions.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordee_pathway::ids::SessionId;
use cordee_pathway::session::{Liveness, NewSession, SessionKind};
use cordee_pathway::store::RevokeReason;
use openidconnect::url::Url;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::events::{self, AuthEvent, AuthEventKind};
use crate::auth::flow::{self, CallbackContext, CallbackParams};
use crate::auth::ratelimit::{self, ClientAddr, LoginRefusal};
use crate::auth::session::{self, Credential, FLOW_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::auth::{CurrentSession, token};
use crate::clock::Now;
use crate::config::ProviderKind;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::http::page;
use crate::http::wire::{PageQuery, page_of, parse_cursor};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers))
        .routes(routes!(login))
        .routes(routes!(callback))
        .routes(routes!(tokens))
        .routes(routes!(logout))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    /// What `/v1/auth/login?provider=` takes.
    pub id: String,
    pub name: String,
    #[schema(value_type = schemas::ProviderKind)]
    pub kind: &'static str,
}

/// This deployment's facts the annotations cannot know: the providers `provider`
/// names.
pub fn document(api: &mut utoipa::openapi::OpenApi, providers: &crate::auth::Providers) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let Some(op) = api
        .paths
        .paths
        .get_mut("/v1/auth/login")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    let ids: Vec<String> = providers.iter().map(|p| p.id.clone()).collect();
    for p in op.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = p
            && p.name == "provider"
            && !ids.is_empty()
        {
            p.schema = Some(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(ids.clone()))
                    .into(),
            ));
        }
    }
}

/// The identity providers users can log in with.
#[utoipa::path(get, path = "/v1/auth/providers", tag = "auth", security(()),
    responses((status = 200, body = [ProviderView])))]
async fn providers(State(state): State<AppState>) -> Json<Vec<ProviderView>> {
    Json(
        state
            .auth
            .providers
            .iter()
            .map(|p| ProviderView {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: match p.kind {
                    ProviderKind::Psc => "psc",
                    ProviderKind::Oidc => "oidc",
                },
            })
            .collect(),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginParams {
    /// A provider id from `/v1/auth/providers`.
    pub provider: String,
    #[param(value_type = Option<schemas::LoginHint>)]
    pub login_hint: Option<String>,
    #[param(value_type = Option<schemas::LocalPath>)]
    pub redirect_to: Option<String>,
}

/// Starts a login: 302 to the provider's authorization endpoint.
#[utoipa::path(get, path = "/v1/auth/login", tag = "auth", params(LoginParams), security(()),
    responses((status = 302, description = "To the identity provider; sets the `cordee_login` cookie that binds the callback to this browser.",
            headers(("Location" = String, description = "The provider's authorization endpoint"))),
        (status = 400, description = "`auth.provider_unknown`: no such provider; `auth.login_hint_invalid`; `auth.redirect_invalid`: `redirect_to` is not a path on this site."),
        (status = 429, description = "`auth.rate_limited`: too many logins from your address this minute.",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`auth.provider_unavailable`: the provider cannot be reached."),
        (status = 503, description = "`internal.database_busy`: retry in a moment.")))]
async fn login(
    State(state): State<AppState>,
    Now(now): Now,
    client: ClientAddr,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<LoginParams>,
) -> Result<Response, LoginRefusal> {
    ratelimit::limit(&state, &client)?;
    let provider = state.auth.providers.get(&params.provider).ok_or_else(|| {
        ApiError::bad_request(
            "auth.provider_unknown",
            "There is no identity provider with this id; see /v1/auth/providers.",
        )
    })?;
    let redirect_to = flow::local_path(params.redirect_to.as_deref())?;
    // Several logins may be in progress in one browser (two tabs): keep its binding.
    let existing = cookie(&headers, FLOW_COOKIE).filter(|b| token::looks_like_token(b));
    let start = flow::begin(
        &state,
        &provider,
        params.login_hint.as_deref(),
        redirect_to,
        existing,
        now,
    )
    .await?;
    let mut response = page::found(&start.authorize_url);
    if let Some(c) = set_cookie(
        FLOW_COOKIE,
        &start.binding,
        "/v1/auth",
        600,
        true,
        state.settings.cookies_secure(),
    ) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// The provider's redirect back: validates everything, opens the session, sets the
/// cookies and redirects to `redirect_to`.
#[utoipa::path(get, path = "/v1/auth/callback", tag = "auth", params(CallbackParams), security(()),
    responses((status = 302, description = "Logged in; cookies `cordee_session` and `cordee_csrf` set.",
            headers(("Location" = String, description = "`redirect_to` of the login, or `/`"))),
        (status = 400, description = "`auth.state_mismatch`: no login of this browser has this `state` (or it was used, or is too old); `auth.provider_unknown`; `auth.code_missing`."),
        (status = 401, description = "`auth.provider_denied`: the provider refused; `auth.code_rejected`; `auth.id_token_*`: the ID token failed a check; `auth.userinfo_invalid`."),
        (status = 403, description = "`auth.identity_missing`, `auth.role_missing`: the provider's answer does not make a Cordée account."),
        (status = 429, description = "`auth.rate_limited`: too many logins from your address this minute.",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`auth.provider_unavailable`: the provider cannot be reached."),
        (status = 503, description = "`internal.database_busy`: retry in a moment.")))]
async fn callback(
    State(state): State<AppState>,
    Now(now): Now,
    client: ClientAddr,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<CallbackParams>,
) -> Result<Response, LoginRefusal> {
    ratelimit::limit(&state, &client)?;
    let ctx = CallbackContext {
        binding: cookie(&headers, FLOW_COOKIE),
        replaces: cookie(&headers, SESSION_COOKIE),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
        now,
    };
    match flow::finish(&state, params, ctx).await {
        Ok(outcome) => {
            events::record(
                &state,
                AuthEvent {
                    provider_id: Some(outcome.session.provider_id.clone()),
                    account_id: Some(outcome.account.id),
                    session_id: Some(outcome.session.id),
                    client: client.0,
                    ..AuthEvent::new(AuthEventKind::LoginSucceeded)
                },
            )
            .await;
            let mut response = page::found(&outcome.redirect_to);
            for c in session::session_cookies(&state, &outcome.token) {
                response.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(response)
        }
        Err(failure) => {
            events::record(
                &state,
                AuthEvent {
                    provider_id: failure.provider_id,
                    reason: Some(failure.error.code),
                    client: client.0,
                    ..AuthEvent::new(AuthEventKind::LoginFailed)
                },
            )
            .await;
            Err(failure.error.into())
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BearerToken {
    /// The id of the bearer session (see `/v1/auth/sessions`).
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// Send as `Authorization: Bearer …`. Shown once; stored only hashed.
    pub token: String,
    /// The end of the login it derives from.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// A bearer token for the current session's account (CLI, mobile, scripts). It lives
/// no longer than the login it comes from (it expires with it and ends when that login
/// is logged out or revoked) and keeps its chosen exercice.
#[utoipa::path(post, path = "/v1/auth/tokens", tag = "auth",
    responses((status = 201, body = BearerToken)))]
async fn tokens(
    State(state): State<AppState>,
    Now(now): Now,
    current: CurrentSession,
) -> Result<(StatusCode, Json<BearerToken>), ApiError> {
    let secret = token::random().map_err(ApiError::internal)?;
    let parent = &current.session;
    let (session, _) = state
        .store
        .open_session(
            &NewSession {
                account_id: parent.account_id,
                kind: SessionKind::Bearer,
                provider_id: parent.provider_id.clone(),
                id_token: None,
                exercice_index: parent.exercice_index,
                activity_index: parent.activity_index,
                user_agent: None,
                expires_at: parent.expires_at,
                parent: Some(parent.id),
            },
            &token::hash(&secret),
            None,
            now,
        )
        .await?;
    events::record(
        &state,
        AuthEvent {
            provider_id: Some(session.provider_id.clone()),
            account_id: Some(session.account_id),
            session_id: Some(session.id),
            ..AuthEvent::new(AuthEventKind::BearerIssued)
        },
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(BearerToken {
            id: session.id.to_string(),
            token: secret,
            expires_at: session.expires_at.to_rfc3339(),
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoggedOut {
    /// Open it in the browser to end the provider's session too (PSC is SSO across
    /// services); `null` when the provider offers no RP-initiated logout.
    pub end_session_url: Option<String>,
}

/// Ends the current session (and clears the cookies).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    responses((status = 200, body = LoggedOut)))]
async fn logout(
    State(state): State<AppState>,
    Now(now): Now,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let s = &current.session;
    let derived = state
        .store
        .revoke_session(s.account_id, s.id, RevokeReason::Logout, now)
        .await?;
    for ended in std::iter::once(s.id).chain(derived) {
        state.hub.end_session(s.account_id, ended);
    }
    events::record(
        &state,
        AuthEvent {
            provider_id: Some(s.provider_id.clone()),
            account_id: Some(s.account_id),
            session_id: Some(s.id),
            ..AuthEvent::new(AuthEventKind::Logout)
        },
    )
    .await;
    let end_session_url = end_session_url(&state, s).await;
    let mut response = Json(LoggedOut { end_session_url }).into_response();
    if current.credential == Credential::Cookie {
        for c in session::clear_session_cookies(&state) {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    Ok(response)
}

/// The provider's end-session URL with `id_token_hint`, `post_logout_redirect_uri`,
/// `client_id` and a fresh `state`. Best effort: logout succeeds locally regardless.
async fn end_session_url(state: &AppState, s: &cordee_pathway::session::Session) -> Option<String> {
    let id_token = s.id_token.as_deref()?;
    let provider = state.auth.providers.get(&s.provider_id)?;
    let discovered = match provider.discovered().await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(provider = %provider.id, error = %e, "no end-session URL: discovery failed");
            return None;
        }
    };
    let endpoint = discovered.end_session_endpoint()?;
    let mut url: Url = endpoint.url().clone();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair(
            "post_logout_redirect_uri",
            &provider.post_logout_redirect_uri,
        )
        .append_pair("client_id", provider.client_id.as_str())
        .append_pair("state", &token::random().ok()?);
    Some(url.to_string())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = schemas::SessionKind)]
    pub kind: &'static str,
    pub provider_id: String,
    pub user_agent: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The session this request was made with.
    pub current: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
    pub next_cursor: Option<String>,
}

/// The caller's open sessions, newest first.
#[utoipa::path(get, path = "/v1/auth/sessions", tag = "auth", params(PageQuery),
    responses((status = 200, body = SessionList)))]
async fn list_sessions(
    State(state): State<AppState>,
    Now(now): Now,
    current: CurrentSession,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<SessionList>, ApiError> {
    let policy = session::policy(&state);
    let after = parse_cursor(page.cursor.as_deref(), SessionId::parse)?;
    // An account has a handful of sessions: read them all, page here.
    let open: Vec<_> = state
        .store
        .open_sessions(current.account.id, now)
        .await?
        .into_iter()
        .filter(|s| s.liveness(policy, now) == Liveness::Active)
        .collect();
    let start = match after {
        Some(a) => open
            .iter()
            .position(|s| s.id == a)
            .map_or(open.len(), |i| i + 1),
        None => 0,
    };
    let rows: Vec<_> = open.into_iter().skip(start).collect();
    let (rows, next_cursor) = page_of(rows, page.limit(), |s| s.id.to_string());
    let items = rows
        .into_iter()
        .map(|s| SessionView {
            id: s.id.to_string(),
            kind: s.kind.as_str(),
            current: s.id == current.session.id,
            provider_id: s.provider_id,
            user_agent: s.user_agent,
            created_at: s.created_at.to_rfc3339(),
            last_seen_at: s.last_seen_at.to_rfc3339(),
            expires_at: s.expires_at.to_rfc3339(),
        })
        .collect();
    Ok(Json(SessionList { items, next_cursor }))
}

/// Ends one of the caller's sessions (a lost phone, a forgotten browser).
#[utoipa::path(delete, path = "/v1/auth/sessions/{id}", tag = "auth",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Ended"),
        (status = 404, description = "`auth.session_not_found`: no such session of yours.")))]
async fn revoke_session(
    State(state): State<AppState>,
    Now(now): Now,
    current: CurrentSession,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = SessionId::parse(&id).ok_or_else(|| ApiError::not_found("auth.session_not_found"))?;
    let derived = state
        .store
        .revoke_session(current.account.id, id, RevokeReason::Revoked, now)
        .await?;
    for ended in std::iter::once(id).chain(derived) {
        state.hub.end_session(current.account.id, ended);
    }
    events::record(
        &state,
        AuthEvent {
            provider_id: Some(current.session.provider_id.clone()),
            account_id: Some(current.account.id),
            session_id: Some(id),
            ..AuthEvent::new(AuthEventKind::SessionRevoked)
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
