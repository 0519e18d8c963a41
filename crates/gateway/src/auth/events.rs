//! The one door every authentication event goes through: the audit chain and a log
//! line, with ids and codes only.
//!
//! Never pass tokens, codes, cookies, ID tokens or claims here: the types only allow
//! ids, provider ids and static reason codes.

use std::net::IpAddr;

use cordee_pathway::audit::{Action, AuditEvent, Outcome, Purpose};
use cordee_pathway::ids::{AccountId, SessionId};

use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthEventKind {
    LoginSucceeded,
    LoginFailed,
    Logout,
    SessionRevoked,
    BearerIssued,
}

impl AuthEventKind {
    /// The audit chain's action for this event.
    pub fn action(self) -> Action {
        match self {
            AuthEventKind::LoginSucceeded => Action::AuthLoginSucceeded,
            AuthEventKind::LoginFailed => Action::AuthLoginFailed,
            AuthEventKind::Logout => Action::AuthLogout,
            AuthEventKind::SessionRevoked => Action::AuthSessionRevoked,
            AuthEventKind::BearerIssued => Action::AuthBearerIssued,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthEventKind::LoginSucceeded => "login.succeeded",
            AuthEventKind::LoginFailed => "login.failed",
            AuthEventKind::Logout => "logout",
            AuthEventKind::SessionRevoked => "session.revoked",
            AuthEventKind::BearerIssued => "bearer.issued",
        }
    }
}

#[derive(Clone, Debug)]
pub struct AuthEvent {
    pub kind: AuthEventKind,
    pub provider_id: Option<String>,
    pub account_id: Option<AccountId>,
    pub session_id: Option<SessionId>,
    /// A problem code such as `auth.id_token_nonce`, for failures.
    pub reason: Option<&'static str>,
    pub client: Option<IpAddr>,
}

impl AuthEvent {
    pub fn new(kind: AuthEventKind) -> AuthEvent {
        AuthEvent {
            kind,
            provider_id: None,
            account_id: None,
            session_id: None,
            reason: None,
            client: None,
        }
    }
}

/// Writes the event to the audit chain (purpose `authentication`) and to the log.
/// The audit append is awaited: the caller answers only once it is durable.
pub async fn record(state: &AppState, event: AuthEvent) {
    let AuthEvent {
        kind,
        provider_id,
        account_id,
        session_id,
        reason,
        client,
    } = event;
    tracing::info!(
        target: "cordee::auth",
        event = kind.as_str(),
        provider = provider_id.as_deref().unwrap_or("-"),
        account = %account_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
        session = %session_id.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
        reason = reason.unwrap_or("-"),
        client = %client.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        "auth event"
    );
    let outcome = match kind {
        AuthEventKind::LoginFailed => Outcome::Failed,
        _ => Outcome::Allowed,
    };
    let mut detail = format!("provider={}", provider_id.as_deref().unwrap_or("-"));
    if let Some(r) = reason {
        detail.push_str(&format!(" reason={r}"));
    }
    if let Some(c) = client {
        detail.push_str(&format!(" client={c}"));
    }
    let mut audit = AuditEvent::new(
        state.now(),
        account_id,
        kind.action(),
        Purpose::Authentication,
        outcome,
    )
    .detail(detail);
    if let Some(s) = session_id {
        audit = audit.resource("session", s);
    }
    if let Err(e) = state.store.audit(audit).await {
        tracing::error!(error = %e, event = kind.as_str(), "authentication event not written to the audit log");
    }
}
