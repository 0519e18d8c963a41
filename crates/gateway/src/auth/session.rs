//! Sessions on the wire: the cookies, the CSRF double-submit check, and the
//! extractors handlers use to know who is calling.
//!
//! Browsers hold `cordee_session` (HttpOnly) and `cordee_csrf` (readable by the page's
//! script, which echoes it in `X-CSRF-Token` on unsafe methods). Other clients send
//! `Authorization: Bearer` and are exempt from CSRF: a browser never attaches a bearer
//! token by itself.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use cordee_pathway::account::Actor;
use cordee_pathway::session::{Liveness, Session, SessionPolicy};
use cordee_pathway::store::Account;

use super::token;
use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cordee_session";
pub const CSRF_COOKIE: &str = "cordee_csrf";
/// Binds a login in progress to the browser that started it (login CSRF defence).
pub const FLOW_COOKIE: &str = "cordee_login";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The first value of a cookie. Several `Cookie` headers (HTTP/2) are all read.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value. Tokens are base64url, so no value ever needs quoting.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u64,
    http_only: bool,
    secure: bool,
) -> Option<HeaderValue> {
    let mut text = format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; SameSite=Lax");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// The `Set-Cookie` headers of a new browser session.
pub fn session_cookies(state: &AppState, token: &str) -> Vec<HeaderValue> {
    let secure = state.settings.cookies_secure();
    let age = state.settings.session_lifetime_secs;
    [
        set_cookie(SESSION_COOKIE, token, "/", age, true, secure),
        set_cookie(
            CSRF_COOKIE,
            &token::csrf_for(token),
            "/",
            age,
            false,
            secure,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The `Set-Cookie` headers that make the browser forget its session.
pub fn clear_session_cookies(state: &AppState) -> Vec<HeaderValue> {
    let secure = state.settings.cookies_secure();
    [
        set_cookie(SESSION_COOKIE, "", "/", 0, true, secure),
        set_cookie(CSRF_COOKIE, "", "/", 0, false, secure),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Cookie,
    Bearer,
}

/// The caller's live session, its account and the actor derived from both.
pub struct CurrentSession {
    pub session: Session,
    pub account: Account,
    pub actor: Actor,
    pub credential: Credential,
}

/// The authenticated caller, for the routes of the domain: 401 `auth.required` with
/// no credentials, 401 `auth.session_expired` when the session ended, 403 `auth.csrf`
/// when a cookie-authenticated unsafe request lacks the CSRF header.
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        CurrentSession::from_request_parts(parts, state)
            .await
            .map(|current| Authenticated(current.actor))
    }
}

pub fn policy(state: &AppState) -> SessionPolicy {
    let ms = |secs: u64| {
        i64::try_from(secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000)
    };
    SessionPolicy {
        idle_ms: ms(state.settings.session_idle_timeout_secs),
        lifetime_ms: ms(state.settings.session_lifetime_secs),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn required() -> ApiError {
    ApiError::unauthorized("auth.required", "Log in first: this route needs a session.")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(crate::clock::Now(now)) = crate::clock::Now::from_request_parts(parts, state).await;
        let (token, credential) = match bearer(&parts.headers) {
            Some(t) => (t, Credential::Bearer),
            None => match cookie(&parts.headers, SESSION_COOKIE) {
                Some(t) => (t, Credential::Cookie),
                None => return Err(required()),
            },
        };
        if !token::looks_like_token(token) {
            return Err(required());
        }
        let (session, account) = state
            .store
            .authenticate(&token::hash(token), now)
            .await?
            .ok_or_else(required)?;
        match session.liveness(policy(state), now) {
            Liveness::Active => {}
            Liveness::Idle | Liveness::Expired | Liveness::Revoked => {
                return Err(ApiError::unauthorized(
                    "auth.session_expired",
                    "Your session has ended; log in again.",
                ));
            }
        }
        if credential == Credential::Cookie && !is_safe(&parts.method) {
            let expected = token::csrf_for(token);
            let header = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let cookie = cookie(&parts.headers, CSRF_COOKIE);
            let ok = match (header, cookie) {
                (Some(h), Some(c)) => token::same(h, c) && token::same(h, &expected),
                _ => false,
            };
            if !ok {
                return Err(ApiError::forbidden(
                    "auth.csrf",
                    "This request needs the X-CSRF-Token header, equal to the cordee_csrf cookie.",
                ));
            }
        }
        if session.needs_touch(now) {
            // Best effort: a failed touch must not fail the request it accompanies.
            if let Err(e) = state.store.touch_session(session.id, now).await {
                tracing::warn!(error = %e, "could not record session use");
            }
        }
        let actor = actor(&account, &session);
        Ok(CurrentSession {
            session,
            account,
            actor,
            credential,
        })
    }
}

/// The actor of a session: the profession follows the exercice chosen for it.
pub fn actor(account: &Account, session: &Session) -> Actor {
    Actor {
        account_id: account.id,
        kind: account.kind,
        profession: match account.kind {
            cordee_pathway::account::AccountKind::Staff => None,
            cordee_pathway::account::AccountKind::HealthProfessional => account
                .profile
                .exercice(session.exercice_index)
                .and_then(|e| e.profession.clone()),
        },
        roles: account.roles.clone(),
        session_id: Some(session.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; cordee_csrf=x"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("cordee_session=tok"),
        );
        assert_eq!(cookie(&headers, "cordee_session"), Some("tok"));
        assert_eq!(cookie(&headers, "cordee_csrf"), Some("x"));
        assert_eq!(cookie(&headers, "cordee"), None);
    }

    #[test]
    fn session_cookie_attributes() {
        let v = set_cookie(SESSION_COOKIE, "t", "/", 60, true, true).unwrap();
        let v = v.to_str().unwrap();
        for part in [
            "cordee_session=t",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
        let csrf = set_cookie(CSRF_COOKIE, "c", "/", 60, false, false).unwrap();
        assert!(!csrf.to_str().unwrap().contains("HttpOnly"));
        assert!(!csrf.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
