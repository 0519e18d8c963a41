//! Opaque secrets: session tokens, login states, nonces, flow bindings. 256 bits from
//! the OS, base64url without padding; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cordee_pathway::session::TokenHash;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

/// A fresh 256-bit secret as 43 base64url characters.
pub fn random() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the operating system's random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(secret: &str) -> TokenHash {
    let d = digest::digest(&digest::SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    TokenHash::from_digest(&out)
}

/// The CSRF token of a session, derived from its token so that only someone holding
/// the session (the browser, through its readable cookie) can present it, and a
/// cookie planted by a sibling site cannot be made to match.
pub fn csrf_for(session_token: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"cordee csrf v1\0");
    ctx.update(session_token.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.finish().as_ref())
}

/// Compares secrets through their hashes, so that the time taken says nothing about
/// how many leading characters matched.
pub fn same(a: &str, b: &str) -> bool {
    hash(a) == hash(b)
}

/// A session token is 43 base64url characters; anything else is not worth a query.
pub fn looks_like_token(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_well_formed() {
        let a = random().unwrap();
        let b = random().unwrap();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert!(!looks_like_token("short"));
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let a = random().unwrap();
        let b = random().unwrap();
        assert_eq!(csrf_for(&a), csrf_for(&a));
        assert_ne!(csrf_for(&a), csrf_for(&b));
        assert!(same(&csrf_for(&a), &csrf_for(&a)));
        assert!(!same(&csrf_for(&a), &csrf_for(&b)));
    }
}
