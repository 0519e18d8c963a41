//! The sandbox provider's endpoints: discovery, authorize (with the persona picker),
//! token, userinfo, keys, end session. OAuth errors answer in OAuth's own JSON shape
//! (`{"error": …}`), as a real provider does, since the client reading them is the
//! relying party, not a Cordée client.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use cordee_pathway::Millis;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm};
use openidconnect::url::form_urlencoded;
use openidconnect::{
    AccessToken, Audience, AuthenticationContextClass, AuthorizationCode, EmptyAdditionalClaims,
    IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::personas::{self, PERSONAS, SandboxIdp};
use super::{CODE_TTL_MS, CodeGrant, Sandbox};
use crate::auth::token;
use crate::error::ApiError;
use crate::http::page;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet_discovery))
        .routes(routes!(standard_discovery))
        .routes(routes!(authorize))
        .routes(routes!(token_endpoint))
        .routes(routes!(userinfo))
        .routes(routes!(jwks))
        .routes(routes!(end_session))
        .routes(routes!(persona_list))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PersonaView {
    /// The `login_hint` that logs in as this persona.
    pub hint: &'static str,
    /// `psc-sandbox` or `staff-sandbox`.
    pub provider: &'static str,
    pub name: String,
    /// Who they are, in French.
    pub who: &'static str,
}

/// The demo personas, for a login screen's one-click buttons (demo mode only).
#[utoipa::path(get, path = "/sandbox/personas", tag = "sandbox",
    responses((status = 200, body = [PersonaView], description = "The personas (demo mode only)")))]
async fn persona_list(State(state): State<AppState>) -> Result<Json<Vec<PersonaView>>, ApiError> {
    sandbox(&state)?;
    Ok(Json(
        PERSONAS
            .iter()
            .map(|p| PersonaView {
                hint: p.hint,
                provider: p.idp.provider_id(),
                name: format!("{} {}", p.given_name, p.family_name),
                who: p.who,
            })
            .collect(),
    ))
}

fn sandbox(state: &AppState) -> Result<&Sandbox, ApiError> {
    state
        .sandbox
        .as_deref()
        .ok_or_else(|| ApiError::not_found("route.not_found"))
}

fn idp(path: &str) -> Result<SandboxIdp, ApiError> {
    SandboxIdp::parse(path).ok_or_else(|| ApiError::not_found("route.not_found"))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn discovery(sandbox: &Sandbox, idp: SandboxIdp) -> serde_json::Value {
    let issuer = sandbox.issuer(idp);
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": ["openid", "scope_all", "profile", "email"],
        "acr_values_supported": match idp {
            SandboxIdp::Psc => json!(["eidas1"]),
            SandboxIdp::Staff => json!([]),
        },
    });
    doc
}

/// PSC-shaped discovery, at PSC's non-standard path (psc-sandbox only).
#[utoipa::path(get, path = "/sandbox/{idp}/.well-known/wallet-openid-configuration", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc`")),
    responses((status = 200, description = "Discovery document (demo mode only)")))]
async fn wallet_discovery(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    match idp(&which)? {
        SandboxIdp::Psc => Ok(Json(discovery(sandbox, SandboxIdp::Psc)).into_response()),
        SandboxIdp::Staff => Err(ApiError::not_found("route.not_found")),
    }
}

/// Standard discovery (staff-sandbox only: PSC does not serve this path).
#[utoipa::path(get, path = "/sandbox/{idp}/.well-known/openid-configuration", tag = "sandbox",
    params(("idp" = String, Path, description = "`staff`")),
    responses((status = 200, description = "Discovery document (demo mode only)")))]
async fn standard_discovery(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    match idp(&which)? {
        SandboxIdp::Staff => Ok(Json(discovery(sandbox, SandboxIdp::Staff)).into_response()),
        SandboxIdp::Psc => Err(ApiError::not_found("route.not_found")),
    }
}

/// Authorization endpoint: with a `login_hint` naming a persona, redirects back with
/// a code at once; otherwise shows the persona picker.
#[utoipa::path(get, path = "/sandbox/{idp}/auth", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc` or `staff`")),
    responses((status = 302, description = "Back to the relying party with a code"),
               (status = 200, description = "Persona picker (HTML)")))]
async fn authorize(
    State(state): State<AppState>,
    Path(which): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    let idp = idp(&which)?;
    let query = query.unwrap_or_default();
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let bad = |what: &str| {
        Err(ApiError::bad_request(
            "sandbox.bad_request",
            format!("The sandbox refuses this authorization request: {what}."),
        ))
    };
    let expected_redirect = format!("{}/v1/auth/callback", sandbox.public_url);
    let redirect_uri = param("redirect_uri").unwrap_or_default();
    if param("client_id").as_deref() != Some(super::CLIENT_ID) {
        return bad("unknown client_id");
    }
    if redirect_uri != expected_redirect {
        return bad("redirect_uri is not the one registered");
    }
    if param("response_type").as_deref() != Some("code") {
        return bad("response_type must be code");
    }
    if !param("scope")
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == "openid")
    {
        return bad("scope must include openid");
    }
    let (Some(challenge), Some("S256")) = (
        param("code_challenge"),
        param("code_challenge_method").as_deref(),
    ) else {
        return bad("PKCE with S256 is required");
    };
    let Some(nonce) = param("nonce") else {
        return bad("a nonce is required");
    };
    let hint = param("login_hint").unwrap_or_default();
    let Some(persona) = personas::find(idp, &hint) else {
        return Ok(picker(idp, &query).into_response());
    };
    let code = token::random().map_err(ApiError::internal)?;
    let now = state.now();
    sandbox.issue_code(
        code.clone(),
        CodeGrant {
            idp,
            persona,
            redirect_uri: redirect_uri.clone(),
            nonce,
            code_challenge: challenge,
            expires: now.plus_millis(CODE_TTL_MS),
        },
        now,
    );
    let mut back = form_urlencoded::Serializer::new(String::new());
    back.append_pair("code", &code);
    if let Some(s) = param("state") {
        back.append_pair("state", &s);
    }
    back.append_pair("iss", &sandbox.issuer(idp));
    Ok(page::found(&format!("{redirect_uri}?{}", back.finish())))
}

fn picker(idp: SandboxIdp, query: &str) -> Html<String> {
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "login_hint")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut items = String::new();
    for p in PERSONAS.iter().filter(|p| p.idp == idp) {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("login_hint", p.hint);
        items.push_str(&format!(
            "<li><a href=\"auth?{}\"><strong>{}</strong></a> — {} {}, {}</li>\n",
            page::escape(&q.finish()),
            page::escape(p.hint),
            page::escape(p.given_name),
            page::escape(p.family_name),
            page::escape(p.who),
        ));
    }
    page::html(
        "Sandbox: choose a persona",
        &format!(
            "<p>This is the demo sandbox of {}. It authenticates nobody: pick who you want to be.</p>\n<ul>\n{items}</ul>",
            match idp {
                SandboxIdp::Psc => "Pro Santé Connect",
                SandboxIdp::Staff => "the CPTS staff provider",
            }
        ),
    )
}

/// Token endpoint: authorization code + PKCE, client_secret_basic or _post.
#[utoipa::path(post, path = "/sandbox/{idp}/token", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc` or `staff`")),
    responses((status = 200, description = "Tokens"), (status = 400, description = "OAuth error")))]
async fn token_endpoint(
    State(state): State<AppState>,
    Path(which): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    let idp = idp(&which)?;
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (client_id, secret) = match basic_auth(&headers) {
        Some(pair) => pair,
        None => (
            field("client_id").unwrap_or_default(),
            field("client_secret").unwrap_or_default(),
        ),
    };
    if client_id != super::CLIENT_ID || !token::same(&secret, &sandbox.client_secret) {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ));
    }
    if field("grant_type").as_deref() != Some("authorization_code") {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "authorization_code only",
        ));
    }
    let now = state.now();
    let Some(grant) = field("code").and_then(|c| sandbox.take_code(&c, now)) else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code",
        ));
    };
    let verifier = field("code_verifier").unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    if grant.idp != idp
        || field("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str())
        || challenge != grant.code_challenge
    {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code, redirect_uri or code_verifier mismatch",
        ));
    }
    let code = field("code").unwrap_or_default();
    let access_token = token::random().map_err(ApiError::internal)?;
    let id_token = sign_id_token(sandbox, idp, &grant, &access_token, &code, now)
        .map_err(ApiError::internal)?;
    sandbox.issue_access_token(access_token.clone(), idp, grant.persona, now);
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": super::ACCESS_TOKEN_TTL_MS / 1000,
        "id_token": id_token,
        "scope": "openid scope_all",
    }))
    .into_response())
}

fn sign_id_token(
    sandbox: &Sandbox,
    idp: SandboxIdp,
    grant: &CodeGrant,
    access_token: &str,
    code: &str,
    now: Millis,
) -> anyhow::Result<String> {
    // The gateway's clock, so that a test that moves it forward still logs in.
    let now = DateTime::<Utc>::from_timestamp_millis(now.0)
        .ok_or_else(|| anyhow::anyhow!("the clock is out of range"))?;
    let mut claims = CoreIdTokenClaims::new(
        IssuerUrl::new(sandbox.issuer(idp))?,
        vec![Audience::new(super::CLIENT_ID.into())],
        now + chrono::Duration::minutes(5),
        now,
        StandardClaims::new(SubjectIdentifier::new(grant.persona.subject())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(grant.nonce.clone())))
    .set_auth_time(Some(now));
    if idp == SandboxIdp::Psc {
        claims =
            claims.set_auth_context_ref(Some(AuthenticationContextClass::new("eidas1".into())));
    }
    let token = CoreIdToken::new(
        claims,
        &sandbox.key.key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access_token.to_string())),
        Some(&AuthorizationCode::new(code.to_string())),
    )?;
    Ok(token.to_string())
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Userinfo: the persona's claims for a valid access token.
#[utoipa::path(get, path = "/sandbox/{idp}/userinfo", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc` or `staff`")),
    responses((status = 200, description = "Claims"), (status = 401, description = "Bad token")))]
async fn userinfo(
    State(state): State<AppState>,
    Path(which): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    let idp = idp(&which)?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match sandbox.persona_for_token(idp, token, state.now()) {
        Some(persona) => Ok(Json(persona.userinfo()).into_response()),
        None => Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown or expired access token",
        )),
    }
}

/// The public key set (one RS256 key, with its `kid`).
#[utoipa::path(get, path = "/sandbox/{idp}/jwks", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc` or `staff`")),
    responses((status = 200, description = "JSON Web Key Set")))]
async fn jwks(
    State(state): State<AppState>,
    Path(which): Path<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    idp(&which)?;
    Ok(Json(json!({ "keys": [sandbox.key.jwk] })).into_response())
}

/// RP-initiated logout: back to the registered post-logout URI (one of ours) with `state`.
#[utoipa::path(get, path = "/sandbox/{idp}/logout", tag = "sandbox",
    params(("idp" = String, Path, description = "`psc` or `staff`")),
    responses((status = 302, description = "Back to Cordée"), (status = 200, description = "Logged out (HTML)")))]
async fn end_session(
    State(state): State<AppState>,
    Path(which): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    idp(&which)?;
    let query = query.unwrap_or_default();
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match param("post_logout_redirect_uri") {
        Some(uri) if uri.starts_with(&format!("{}/", sandbox.public_url)) => {
            let mut target = uri;
            if let Some(s) = param("state") {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("state", &s);
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&q.finish());
            }
            Ok(page::found(&target))
        }
        _ => Ok(
            page::html("Logged out", "<p>You are logged out of the sandbox.</p>").into_response(),
        ),
    }
}
