//! The crate's single error type.
//!
//! The variants are part of the API: callers match on them (the gateway, for
//! instance, treats [`CryptoError::UnknownKeyVersion`] as "this blob still needs a
//! key we no longer hold" when it checks that a rotation completed). Messages are
//! deliberately terse: an error never says *why* authentication failed (that would
//! be an oracle) and never contains key material.

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The input is too short, too long or otherwise not shaped like the format it
    /// claims to be (sealed value, wrapped key, place component too long…).
    #[error("malformed cryptographic input")]
    Malformed,

    /// The leading format byte names a format this build does not know.
    #[error("unsupported format version {0}")]
    UnsupportedFormat(u8),

    /// The blob was made with a key version that is not available: a KEK version
    /// absent from the master key file, or a data key of another version.
    #[error("unknown key version {0}")]
    UnknownKeyVersion(u32),

    /// Authentication failed: wrong key, tampered bytes, or bytes moved to another
    /// place / owner. Deliberately says nothing more.
    #[error("decryption failed")]
    OpenFailed,

    /// The operating system's random number generator failed.
    #[error("random number generator failure")]
    Rng,

    /// The master key file could not be parsed or the requested change to it is
    /// not allowed. The message names the line and the problem, never the secret.
    #[error("master key file: {0}")]
    KeyFile(String),
}
