//! Sessions and logins in progress: what is stored, and the pure rules that decide
//! whether a session still holds (`now` comes from the caller).

use std::fmt;

use crate::Millis;
use crate::ids::{AccountId, SessionId};

/// A session token is used at most this often to refresh `last_seen_at`, so that a
/// busy client does not turn every read into a database write.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// The SHA-256 of a session token or login state, in lowercase hex. The token itself
/// never reaches the store.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn from_digest(digest: &[u8; 32]) -> TokenHash {
        use std::fmt::Write;
        let mut text = String::with_capacity(64);
        for byte in digest {
            let _ = write!(text, "{byte:02x}");
        }
        TokenHash(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Even the hash stays out of logs: it is the lookup key of a live session.
        f.write_str("TokenHash([redacted])")
    }
}

text_enum! {
    pub enum SessionKind {
        /// Cookie session of a browser, with the CSRF double-submit check.
        Browser = "browser",
        /// Bearer token for the CLI, mobile apps and scripts.
        Bearer = "bearer",
    }
}

/// What a new session starts with.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub account_id: AccountId,
    pub kind: SessionKind,
    pub provider_id: String,
    pub id_token: Option<String>,
    pub exercice_index: usize,
    pub activity_index: usize,
    pub user_agent: Option<String>,
    pub expires_at: Millis,
    /// The login a bearer token was issued from: ending it ends the token.
    pub parent: Option<SessionId>,
}

#[derive(Clone)]
pub struct Session {
    pub id: SessionId,
    pub account_id: AccountId,
    pub kind: SessionKind,
    pub provider_id: String,
    pub id_token: Option<String>,
    pub exercice_index: usize,
    pub activity_index: usize,
    pub user_agent: Option<String>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("kind", &self.kind)
            .field("provider_id", &self.provider_id)
            .field("exercice_index", &self.exercice_index)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// Idle timeout and absolute lifetime, from the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_ms: i64,
    pub lifetime_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Active,
    /// Unused for longer than the idle timeout.
    Idle,
    /// Past its absolute end.
    Expired,
    Revoked,
}

impl Session {
    pub fn liveness(&self, policy: SessionPolicy, now: Millis) -> Liveness {
        if self.revoked_at.is_some() {
            Liveness::Revoked
        } else if now >= self.expires_at {
            Liveness::Expired
        } else if now >= self.last_seen_at.plus_millis(policy.idle_ms) {
            Liveness::Idle
        } else {
            Liveness::Active
        }
    }

    /// Whether this request should refresh `last_seen_at` (at most once a minute).
    pub fn needs_touch(&self, now: Millis) -> bool {
        now >= self.last_seen_at.plus_millis(TOUCH_INTERVAL_MS)
    }
}

/// A login in progress, between the redirect to the provider and its callback.
#[derive(Clone)]
pub struct LoginFlow {
    pub state_hash: TokenHash,
    /// Hash of the value of the browser's flow cookie: the callback must come back
    /// to the browser that started the login.
    pub binding_hash: TokenHash,
    pub provider_id: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_to: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

impl fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginFlow")
            .field("provider_id", &self.provider_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(last_seen: i64, expires: i64, revoked: Option<i64>) -> Session {
        Session {
            id: SessionId::new(),
            account_id: AccountId::new(),
            kind: SessionKind::Browser,
            provider_id: "psc".into(),
            id_token: None,
            exercice_index: 0,
            activity_index: 0,
            user_agent: None,
            created_at: Millis(0),
            last_seen_at: Millis(last_seen),
            expires_at: Millis(expires),
            revoked_at: revoked.map(Millis),
        }
    }

    #[test]
    fn liveness_table() {
        let policy = SessionPolicy {
            idle_ms: 1_000,
            lifetime_ms: 10_000,
        };
        let cases = [
            // (last_seen, expires, revoked, now, expected)
            (0, 10_000, None, 999, Liveness::Active),
            (0, 10_000, None, 1_000, Liveness::Idle),
            (9_500, 10_000, None, 9_999, Liveness::Active),
            (9_500, 10_000, None, 10_000, Liveness::Expired),
            (0, 10_000, Some(5), 10, Liveness::Revoked),
        ];
        for (seen, exp, rev, now, want) in cases {
            assert_eq!(
                session(seen, exp, rev).liveness(policy, Millis(now)),
                want,
                "seen {seen} now {now}"
            );
        }
    }

    #[test]
    fn touch_at_most_once_a_minute() {
        let s = session(1_000, i64::MAX, None);
        assert!(!s.needs_touch(Millis(1_000 + TOUCH_INTERVAL_MS - 1)));
        assert!(s.needs_touch(Millis(1_000 + TOUCH_INTERVAL_MS)));
    }

    #[test]
    fn token_hash_is_lowercase_hex_and_hidden_from_debug() {
        let h = TokenHash::from_digest(&[0xab; 32]);
        assert_eq!(h.as_str().len(), 64);
        assert!(h.as_str().starts_with("abab"));
        assert!(!format!("{h:?}").contains("abab"));
    }
}
