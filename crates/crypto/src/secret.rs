//! Raw secret bytes: where they live, how they die, how they compare.
//!
//! Every raw secret this crate holds (data keys, the master file's root and KEK
//! secrets) is a [`Secret32`]. The type exists so that the three rules for secrets
//! are enforced in one place rather than remembered at every use:
//!
//! * **zeroized on drop** — the bytes are overwritten (with `zeroize`, which the
//!   optimiser may not elide) when the value is dropped;
//! * **never moved** — the bytes live in a `Box` that is filled in place, so moving
//!   the owner (returning it, putting it in a map, in an `Arc`…) moves a pointer and
//!   leaves no stale copy of the secret on the stack or in a reallocated buffer;
//! * **never printed** — `Debug` prints `[redacted]`, and there is no `Display`;
//! * **compared in constant time** — `PartialEq` does not stop at the first
//!   differing byte.

use core::fmt;

use ring::rand::SecureRandom;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::CryptoError;

/// Length of every raw secret in this crate (256 bits).
pub(crate) const SECRET_LEN: usize = 32;

/// 32 secret bytes, heap-pinned, zeroized on drop, redacted in `Debug`.
pub(crate) struct Secret32(Box<[u8; SECRET_LEN]>);

impl Secret32 {
    /// Fresh secret from `rng` (always the OS generator in this crate: long-lived
    /// keys are rare, so there is no reason to take them from anywhere else).
    pub(crate) fn random(rng: &dyn SecureRandom) -> Result<Self, CryptoError> {
        let mut secret = Secret32(Box::new([0u8; SECRET_LEN]));
        rng.fill(&mut secret.0[..]).map_err(|_| CryptoError::Rng)?;
        Ok(secret)
    }

    /// Copies exactly [`SECRET_LEN`] bytes; anything else is [`CryptoError::Malformed`].
    /// The caller remains responsible for zeroizing its own copy.
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != SECRET_LEN {
            return Err(CryptoError::Malformed);
        }
        let mut secret = Secret32(Box::new([0u8; SECRET_LEN]));
        secret.0.copy_from_slice(bytes);
        Ok(secret)
    }

    /// The raw bytes, for feeding to a primitive. Keep the borrow short.
    pub(crate) fn expose(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }
}

impl Drop for Secret32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Secret32 {}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret32 {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0[..], &other.0[..])
    }
}

impl Eq for Secret32 {}

/// Constant-time equality of two byte strings.
///
/// The running time depends on the lengths (which are public for every secret in
/// this crate: always 32 bytes) but not on the contents. `black_box` keeps the
/// optimiser from turning the accumulate-all-differences loop back into an early
/// exit. ring's own `constant_time` module is deprecated for outside use, and the
/// `subtle` crate is not wanted as a dependency for one function.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= core::hint::black_box(x ^ y);
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn random_secrets_differ_and_compare() {
        let rng = SystemRandom::new();
        let a = Secret32::random(&rng).unwrap();
        let b = Secret32::random(&rng).unwrap();
        assert_ne!(a, b);
        let a2 = Secret32::from_slice(a.expose()).unwrap();
        assert_eq!(a, a2);
    }

    #[test]
    fn from_slice_checks_length() {
        assert_eq!(
            Secret32::from_slice(&[0u8; 31]),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            Secret32::from_slice(&[0u8; 33]),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn ct_eq_basics() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret32::from_slice(&[0xAB; SECRET_LEN]).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "[redacted]");
    }
}
