//! The sandbox provider's endpoints: discovery, authorize (with the persona picker),
//! token, userinfo, keys, end session. OAuth errors answer in OAuth's own JSON shape
//! (`{"error": …}`), as a real provider does, since the client reading them is the
//! relying party, not a Cordée client.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use cordee_pathway::Millis;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm};
use openidconnect::url::form_urlencoded;
use openidconnect::{
    AccessToken, Audience, AuthenticationContextClass, AuthorizationCode, EmptyAdditionalClaims,
    IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::personas::{self, PERSONAS, SandboxIdp};
use super::{CODE_TTL_MS, CodeGrant, Sandbox};
use crate::auth::token;
use crate::error::ApiError;
use crate::extract::ApiPath;
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
#[utoipa::path(get, path = "/sandbox/personas", tag = "sandbox", security(()),
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

/// An OAuth error (RFC 6749 §5.2), in OAuth's shape rather than problem+json: the
/// relying party reads it.
#[derive(serde::Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_client`, `invalid_grant`, `unsupported_grant_type`, `invalid_token`.
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(OAuthError {
            error: error.into(),
            error_description: description.into(),
        }),
    )
        .into_response()
}

/// The sandbox's two providers, by the path segment that names them.
fn idp_schema(idps: &[SandboxIdp]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(idps.iter().map(|i| i.path())))
}

/// `psc` only.
struct PscIdp;
impl utoipa::PartialSchema for PscIdp {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(idp_schema(&[SandboxIdp::Psc]).into())
    }
}
impl ToSchema for PscIdp {}

/// `staff` only.
struct StaffIdp;
impl utoipa::PartialSchema for StaffIdp {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(idp_schema(&[SandboxIdp::Staff]).into())
    }
}
impl ToSchema for StaffIdp {}

/// Either provider.
struct AnyIdp;
impl utoipa::PartialSchema for AnyIdp {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(idp_schema(&[SandboxIdp::Psc, SandboxIdp::Staff]).into())
    }
}
impl ToSchema for AnyIdp {}

/// The one client the sandbox knows: Cordée itself.
struct ClientId;
impl utoipa::PartialSchema for ClientId {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([super::CLIENT_ID]))
                .into(),
        )
    }
}
impl ToSchema for ClientId {}

/// What the authorization endpoint reads from its query (as a real provider does;
/// anything else refused with 400 `sandbox.bad_request`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AuthorizeParams {
    #[param(value_type = ClientId, inline)]
    client_id: String,
    /// `{CORDEE_PUBLIC_URL}/v1/auth/callback`, exactly.
    redirect_uri: String,
    #[param(pattern = "^code$")]
    response_type: String,
    /// Space-separated; includes `openid`.
    #[param(pattern = "(?:^| )openid(?: |$)")]
    scope: String,
    /// PKCE: base64url of the SHA-256 of the verifier.
    code_challenge: String,
    #[param(pattern = "^S256$")]
    code_challenge_method: String,
    nonce: String,
    /// Returned with the code.
    state: Option<String>,
    /// A persona (`gp-martin`, `coord-garcia`…); otherwise the picker page is shown.
    login_hint: Option<String>,
}

/// What RP-initiated logout reads from its query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct LogoutParams {
    /// Where to go back to: a URL under `CORDEE_PUBLIC_URL`; otherwise a page says
    /// you are logged out.
    post_logout_redirect_uri: Option<String>,
    /// Returned with the redirect.
    state: Option<String>,
    /// Read and ignored, as the sandbox keeps no session.
    id_token_hint: Option<String>,
    client_id: Option<String>,
}

/// The token request (RFC 6749 §4.1.3), form-encoded. The client authenticates with
/// HTTP Basic (`client_secret_basic`) or these fields (`client_secret_post`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct TokenRequest {
    #[schema(pattern = "^authorization_code$")]
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// This deployment's facts the annotations cannot know: the redirect URI the
/// authorization endpoint accepts.
pub fn document(api: &mut OpenApi, sandbox: &Sandbox) {
    let expected = format!("{}/v1/auth/callback", sandbox.public_url);
    let Some(op) = api
        .paths
        .paths
        .get_mut("/sandbox/{idp}/auth")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    for p in op.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = p
            && p.name == "redirect_uri"
        {
            p.schema = Some(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([expected.clone()]))
                    .into(),
            ));
        }
    }
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
#[utoipa::path(get, path = "/sandbox/{idp}/.well-known/wallet-openid-configuration", tag = "sandbox", security(()),
    params(("idp" = inline(PscIdp), Path)),
    responses((status = 200, description = "Discovery document (demo mode only)", body = Object),
        (status = 404, description = "`route.not_found`: not a sandbox provider that serves this path.")))]
async fn wallet_discovery(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    match idp(&which)? {
        SandboxIdp::Psc => Ok(Json(discovery(sandbox, SandboxIdp::Psc)).into_response()),
        SandboxIdp::Staff => Err(ApiError::not_found("route.not_found")),
    }
}

/// Standard discovery (staff-sandbox only: PSC does not serve this path).
#[utoipa::path(get, path = "/sandbox/{idp}/.well-known/openid-configuration", tag = "sandbox", security(()),
    params(("idp" = inline(StaffIdp), Path)),
    responses((status = 200, description = "Discovery document (demo mode only)", body = Object),
        (status = 404, description = "`route.not_found`: not a sandbox provider that serves this path.")))]
async fn standard_discovery(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    match idp(&which)? {
        SandboxIdp::Staff => Ok(Json(discovery(sandbox, SandboxIdp::Staff)).into_response()),
        SandboxIdp::Psc => Err(ApiError::not_found("route.not_found")),
    }
}

/// Authorization endpoint: with a `login_hint` naming a persona, redirects back with
/// a code at once; otherwise shows the persona picker.
#[utoipa::path(get, path = "/sandbox/{idp}/auth", tag = "sandbox", security(()),
    params(("idp" = inline(AnyIdp), Path), AuthorizeParams),
    responses((status = 302, description = "Back to the relying party with a code",
            headers(("Location" = String, description = "`redirect_uri` with `code`, `state` and `iss`"))),
        (status = 200, description = "Persona picker (HTML)", content_type = "text/html"),
        (status = 400, description = "`sandbox.bad_request`: an OAuth parameter is missing or wrong."),
        (status = 404, description = "`route.not_found`: not a sandbox provider.")))]
async fn authorize(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
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
#[utoipa::path(post, path = "/sandbox/{idp}/token", tag = "sandbox", security(()),
    params(("idp" = inline(AnyIdp), Path)),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Tokens: `access_token`, `token_type`, `expires_in`, `id_token`, `scope`", body = Object),
        (status = 400, description = "`invalid_grant`, `unsupported_grant_type`", body = OAuthError),
        (status = 401, description = "`invalid_client`: the client did not authenticate", body = OAuthError),
        (status = 404, description = "`route.not_found`: not a sandbox provider.")))]
async fn token_endpoint(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    let idp = idp(&which)?;
    // Read as bytes: a body that is not UTF-8 is a wrong form, not a plain-text 400.
    let form: Vec<(String, String)> = form_urlencoded::parse(&body)
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
#[utoipa::path(get, path = "/sandbox/{idp}/userinfo", tag = "sandbox", security(()),
    params(("idp" = inline(AnyIdp), Path)),
    responses((status = 200, description = "Claims of the persona the sandbox's access token was issued for", body = Object),
        (status = 401, description = "`invalid_token`: not a sandbox access token (`Authorization: Bearer …`)", body = OAuthError),
        (status = 404, description = "`route.not_found`: not a sandbox provider.")))]
async fn userinfo(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
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
#[utoipa::path(get, path = "/sandbox/{idp}/jwks", tag = "sandbox", security(()),
    params(("idp" = inline(AnyIdp), Path)),
    responses((status = 200, description = "JSON Web Key Set", body = Object),
        (status = 404, description = "`route.not_found`: not a sandbox provider.")))]
async fn jwks(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
) -> Result<Response, ApiError> {
    let sandbox = sandbox(&state)?;
    idp(&which)?;
    Ok(Json(json!({ "keys": [sandbox.key.jwk] })).into_response())
}

/// RP-initiated logout: back to the registered post-logout URI (one of ours) with `state`.
#[utoipa::path(get, path = "/sandbox/{idp}/logout", tag = "sandbox", security(()),
    params(("idp" = inline(AnyIdp), Path), LogoutParams),
    responses((status = 302, description = "Back to Cordée",
            headers(("Location" = String, description = "`post_logout_redirect_uri` with `state`"))),
        (status = 200, description = "Logged out (HTML)", content_type = "text/html"),
        (status = 404, description = "`route.not_found`: not a sandbox provider.")))]
async fn end_session(
    State(state): State<AppState>,
    ApiPath(which): ApiPath<String>,
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
