//! The authorization code flow, from the relying party's side.
//!
//! `begin`: PKCE S256, state and nonce made here and kept server-side (the state is
//! the key; the browser holds only a binding cookie), `acr_values`, `login_hint`.
//! `finish`: the state is taken once, the code exchanged (client_secret_basic or
//! _post), the ID token validated (issuer, audience, expiry, nonce, signature with an
//! allowed asymmetric algorithm, `acr` when configured, `at_hash`), the userinfo read
//! (JSON or signed JWT), the claims mapped, the account upserted, the session opened.

use cordee_pathway::Millis;
use cordee_pathway::session::{LoginFlow, NewSession, Session, SessionKind};
use cordee_pathway::store::Account;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, CsrfToken, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope,
    TokenResponse,
};
use serde::Deserialize;

use super::provider::Provider;
use super::verify::{self, unavailable};
use super::{claims, token};
use crate::config::ProviderKind;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a user has to come back from the provider (PSC with e-CPS may take a while).
const FLOW_TTL_MS: i64 = 10 * 60 * 1000;

pub struct LoginStart {
    pub authorize_url: String,
    /// Value of the flow cookie binding the callback to this browser.
    pub binding: String,
}

/// `redirect_to` must be a path on this site: `/x`, never `//host` or `/\host`
/// (browsers read both as another host), never a scheme.
pub fn local_path(redirect_to: Option<&str>) -> Result<String, ApiError> {
    let Some(path) = redirect_to else {
        return Ok("/".into());
    };
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.chars().count() <= 1024
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(path.to_string())
    } else {
        Err(ApiError::bad_request(
            "auth.redirect_invalid",
            "redirect_to must be a path on this site, starting with a single '/'.",
        ))
    }
}

pub async fn begin(
    state: &AppState,
    provider: &Provider,
    login_hint: Option<&str>,
    redirect_to: String,
    existing_binding: Option<&str>,
    now: Millis,
) -> Result<LoginStart, ApiError> {
    if let Some(hint) = login_hint
        && (hint.chars().count() > 256 || hint.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "auth.login_hint_invalid",
            "login_hint must be at most 256 printable characters.",
        ));
    }
    let discovered = provider.discovered().await.map_err(unavailable)?;
    let client = provider.client(&discovered);
    let state_token = token::random().map_err(ApiError::internal)?;
    let nonce = token::random().map_err(ApiError::internal)?;
    let binding = match existing_binding {
        Some(b) => b.to_string(),
        None => token::random().map_err(ApiError::internal)?,
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (state_for_url, nonce_for_url) = (state_token.clone(), nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state_for_url),
            move || Nonce::new(nonce_for_url),
        )
        .set_pkce_challenge(challenge);
    // openidconnect adds `openid` itself.
    for scope in provider.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for acr in &provider.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    if let Some(hint) = login_hint {
        request = request.set_login_hint(LoginHint::new(hint.to_string()));
    }
    let (url, _, _) = request.url();
    state
        .store
        .save_login_flow(&LoginFlow {
            state_hash: token::hash(&state_token),
            binding_hash: token::hash(&binding),
            provider_id: provider.id.clone(),
            nonce,
            pkce_verifier: verifier.secret().clone(),
            redirect_to,
            created_at: now,
            expires_at: now.plus_millis(FLOW_TTL_MS),
        })
        .await?;
    Ok(LoginStart {
        authorize_url: url.to_string(),
        binding,
    })
}

/// What the provider sends back to `/v1/auth/callback`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` of the login this answers (400 `auth.state_mismatch` otherwise).
    pub state: Option<String>,
    /// RFC 9207: when present it must name the provider the login started with.
    pub iss: Option<String>,
    /// Set when the provider refused (`access_denied`, `login_required`…).
    pub error: Option<String>,
}

pub struct LoginOutcome {
    pub account: Account,
    pub session: Session,
    pub token: String,
    pub redirect_to: String,
}

/// A failed callback: the problem, and the provider when known (for the event log).
pub struct CallbackFailure {
    pub error: ApiError,
    pub provider_id: Option<String>,
}

pub struct CallbackContext<'a> {
    pub binding: Option<&'a str>,
    pub replaces: Option<&'a str>,
    pub user_agent: Option<String>,
    pub now: Millis,
}

pub async fn finish(
    state: &AppState,
    params: CallbackParams,
    ctx: CallbackContext<'_>,
) -> Result<LoginOutcome, CallbackFailure> {
    let fail = |error: ApiError| CallbackFailure {
        error,
        provider_id: None,
    };
    let state_mismatch = || {
        fail(ApiError::bad_request(
            "auth.state_mismatch",
            "This login response does not match a login started in this browser, or it was already used or is too old. Start the login again.",
        ))
    };
    let (Some(state_token), Some(binding)) = (params.state.as_deref(), ctx.binding) else {
        return Err(state_mismatch());
    };
    let flow = state
        .store
        .take_login_flow(&token::hash(state_token), &token::hash(binding), ctx.now)
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(state_mismatch)?;
    let provider_id = flow.provider_id.clone();
    let with_provider = |error: ApiError| CallbackFailure {
        error,
        provider_id: Some(provider_id.clone()),
    };
    let provider = state.auth.providers.get(&flow.provider_id).ok_or_else(|| {
        with_provider(ApiError::bad_request(
            "auth.provider_unknown",
            "The identity provider of this login is no longer configured.",
        ))
    })?;
    complete(state, &provider, &flow, params, &ctx)
        .await
        .map_err(with_provider)
}

async fn complete(
    state: &AppState,
    provider: &Provider,
    flow: &LoginFlow,
    params: CallbackParams,
    ctx: &CallbackContext<'_>,
) -> Result<LoginOutcome, ApiError> {
    if params.error.is_some() {
        return Err(ApiError::unauthorized(
            "auth.provider_denied",
            "The identity provider did not authenticate you (cancelled or refused).",
        ));
    }
    if let Some(iss) = &params.iss
        && iss.trim_end_matches('/') != provider.issuer.as_str().trim_end_matches('/')
    {
        return Err(ApiError::unauthorized(
            "auth.id_token_issuer",
            "The login response comes from another identity provider than the one the login started with.",
        ));
    }
    let code = params.code.ok_or_else(|| {
        ApiError::bad_request("auth.code_missing", "The login response carries no code.")
    })?;
    let discovered = provider.discovered().await.map_err(unavailable)?;
    let client = provider.client(&discovered);
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| {
            unavailable(anyhow::anyhow!(
                "provider {} has no token endpoint: {e}",
                provider.id
            ))
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(&provider.http)
        .await
        .map_err(|e| token_error(&provider.id, e))?;
    let id_token = response.id_token().ok_or_else(|| {
        ApiError::unauthorized(
            "auth.id_token_missing",
            "The identity provider returned no ID token.",
        )
    })?;
    let nonce = Nonce::new(flow.nonce.clone());
    let (id_claims, alg_key) =
        verify::id_token(provider, discovered, id_token, &nonce, ctx.now).await?;
    if let Some(expected) = id_claims.access_token_hash() {
        let actual = AccessTokenHash::from_token(response.access_token(), &alg_key.0, &alg_key.1)
            .map_err(|_| verify::refused("auth.id_token_invalid"))?;
        if actual != *expected {
            return Err(verify::refused("auth.id_token_invalid"));
        }
    }
    let discovered = provider.discovered().await.map_err(unavailable)?;
    let mut merged = match serde_json::to_value(&id_claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let subject = id_claims.subject().clone();
    if let Some(userinfo) =
        verify::userinfo(provider, &discovered, response.access_token(), &subject).await?
    {
        merged.extend(userinfo);
    }
    let identity = match (provider.kind, provider.role_claim.as_deref()) {
        (ProviderKind::Psc, _) => claims::map_psc(&provider.id, &merged),
        (ProviderKind::Oidc, Some(role_claim)) => {
            claims::map_oidc(&provider.id, role_claim, &merged)
        }
        (ProviderKind::Oidc, None) => claims::map_oidc(&provider.id, "groups", &merged),
    }
    .map_err(|e| ApiError::forbidden(e.code(), e.detail()))?;
    let account = state.store.upsert_account(&identity, ctx.now).await?;
    let session_token = token::random().map_err(ApiError::internal)?;
    let settings = &state.settings;
    let lifetime_ms = i64::try_from(settings.session_lifetime_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let replaces = ctx
        .replaces
        .filter(|t| token::looks_like_token(t))
        .map(token::hash);
    // The session this browser carried ends with the login, with every token minted
    // from it; so do their live streams.
    let (session, ended) = state
        .store
        .open_session(
            &NewSession {
                account_id: account.id,
                kind: SessionKind::Browser,
                provider_id: provider.id.clone(),
                id_token: Some(id_token.to_string()),
                exercice_index: 0,
                activity_index: 0,
                user_agent: ctx.user_agent.clone(),
                expires_at: ctx.now.plus_millis(lifetime_ms),
                parent: None,
            },
            &token::hash(&session_token),
            replaces.as_ref(),
            ctx.now,
        )
        .await?;
    for old in ended {
        state.hub.end_session(account.id, old);
    }
    Ok(LoginOutcome {
        account,
        session,
        token: session_token,
        redirect_to: flow.redirect_to.clone(),
    })
}

fn token_error<RE: std::error::Error + Send + Sync + 'static>(
    provider: &str,
    err: RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> ApiError {
    match err {
        // invalid_grant and friends: a replayed, foreign or expired code, or a PKCE
        // verifier that does not match.
        RequestTokenError::ServerResponse(_) => ApiError::unauthorized(
            "auth.code_rejected",
            "The identity provider refused this login code (already used, expired, or not issued for this login).",
        ),
        RequestTokenError::Parse(e, _) => {
            // A token response whose ID token does not even parse is as bad as an
            // invalid one; say so rather than blame the network.
            tracing::warn!(provider, path = %e.path(), "token response did not parse");
            verify::refused("auth.id_token_invalid")
        }
        other => unavailable(anyhow::anyhow!(
            "token request to provider {provider} failed: {other}"
        )),
    }
}
