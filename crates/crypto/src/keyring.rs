//! Keys derived from the master key file, and what they are used for: wrapping
//! data keys, blind indexes, audit checkpoints.
//!
//! # Derivation
//!
//! HKDF-SHA256 (RFC 5869), salt `"cordee/v1/hkdf-salt"`, one label (HKDF `info`)
//! per purpose, so no derived key ever serves two purposes:
//!
//! | key                   | input key material | info                                    |
//! |-----------------------|--------------------|-----------------------------------------|
//! | wrapping key, vers. v | KEK secret v       | `"cordee/v1/wrap"` ‖ v (u32 BE)         |
//! | blind-index key       | root secret        | `"cordee/v1/blind-index"`               |
//! | audit-checkpoint key  | root secret        | `"cordee/v1/audit-checkpoint"`          |
//!
//! # Wrapped data-key format (version 1)
//!
//! ```text
//! offset  size  content
//! 0       1     format version = 1
//! 1       4     KEK version, u32 big-endian
//! 5       12    nonce
//! 17      32    encrypted data key
//! 49      16    GCM tag                          (total: 65 bytes)
//! ```
//!
//! AAD: `lp("cordee/v1/wrap") ‖ format u8 ‖ KEK version u32 BE ‖ DEK version u32 BE
//! ‖ lp(owner)`. A wrapped key therefore only unwraps for the owner string (e.g.
//! `"patient:<uuid>"`) and the data-key version it was wrapped for.
//!
//! The data-key version is not stored in the blob: the caller stores it next to
//! the wrapped key (it needs it anyway, to find the key a sealed value's header
//! names) and passes it back to [`Keyring::unwrap`], where the AAD checks it.

use core::fmt;
use std::collections::BTreeMap;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::hmac;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::aead::{DataKey, TAG_LEN};
use crate::blind::{self, BlindIndex};
use crate::encode::{be_u32, lp_len, push_lp};
use crate::keyfile::MasterKeyFile;
use crate::nonce::{self, NONCE_LEN};
use crate::secret::{SECRET_LEN, Secret32};

/// Format byte of wrapped keys produced by this version of the crate.
pub const WRAPPED_FORMAT_V1: u8 = 1;

const WRAPPED_HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Exact length of a version-1 wrapped data key (65 bytes).
pub const WRAPPED_LEN: usize = WRAPPED_HEADER_LEN + SECRET_LEN + TAG_LEN;

const HKDF_SALT: &[u8] = b"cordee/v1/hkdf-salt";
const LABEL_WRAP: &[u8] = b"cordee/v1/wrap";
const LABEL_BLIND_INDEX: &[u8] = b"cordee/v1/blind-index";
const LABEL_AUDIT_CHECKPOINT: &[u8] = b"cordee/v1/audit-checkpoint";

/// The working set of keys derived from a [`MasterKeyFile`].
///
/// Holds only ring key objects (prepared AES key schedules and HMAC states); ring
/// does not let us zeroize those, so they linger in freed memory after drop — the
/// master file's raw secrets, which we do control, are zeroized. `Send + Sync`:
/// build one at start-up and share it.
pub struct Keyring {
    wrap_keys: BTreeMap<u32, LessSafeKey>,
    current: u32,
    blind_key: hmac::Key,
    audit_key: hmac::Key,
}

impl Keyring {
    /// Derives every key from the master key file. The file itself is not kept:
    /// a server can drop its `MasterKeyFile` (zeroizing the raw secrets) once the
    /// keyring is built; only a rotation tool needs to keep it to edit and save it.
    pub fn new(file: &MasterKeyFile) -> Result<Keyring, CryptoError> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT);
        // HKDF-Expand can only fail for outputs longer than 255 hash blocks.
        let derivation = |_| CryptoError::KeyFile("key derivation failed".into());

        let root = salt.extract(file.root().expose());
        let blind_key = hmac::Key::from(
            root.expand(&[LABEL_BLIND_INDEX], hmac::HMAC_SHA256)
                .map_err(derivation)?,
        );
        let audit_key = hmac::Key::from(
            root.expand(&[LABEL_AUDIT_CHECKPOINT], hmac::HMAC_SHA256)
                .map_err(derivation)?,
        );

        let mut wrap_keys = BTreeMap::new();
        for (version, secret) in file.keks() {
            let prk = salt.extract(secret.expose());
            let version_bytes = version.to_be_bytes();
            let info = [LABEL_WRAP, &version_bytes[..]];
            let okm = prk.expand(&info, &AES_256_GCM).map_err(derivation)?;
            wrap_keys.insert(version, LessSafeKey::new(UnboundKey::from(okm)));
        }

        Ok(Keyring {
            wrap_keys,
            current: file.current_version(),
            blind_key,
            audit_key,
        })
    }

    /// The KEK version [`Keyring::wrap`] uses.
    pub fn current_kek_version(&self) -> u32 {
        self.current
    }

    /// The KEK versions this keyring can unwrap, ascending.
    pub fn kek_versions(&self) -> Vec<u32> {
        self.wrap_keys.keys().copied().collect()
    }

    /// Wraps `dek` for `owner` (e.g. `"patient:<uuid>"`) with the current KEK.
    /// Store the result together with `dek.version()`.
    pub fn wrap(&self, dek: &DataKey, owner: &str) -> Result<Vec<u8>, CryptoError> {
        let key = self
            .wrap_keys
            .get(&self.current)
            .ok_or(CryptoError::UnknownKeyVersion(self.current))?;
        let nonce = nonce::fresh()?;
        let aad = wrap_aad(self.current, dek.version(), owner)?;

        // Exact capacity: the plaintext key is copied in and encrypted in place,
        // and no reallocation may leave a plaintext copy behind.
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.push(WRAPPED_FORMAT_V1);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(dek.secret().expose());
        let body = out
            .get_mut(WRAPPED_HEADER_LEN..)
            .ok_or(CryptoError::Malformed)?;
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                body,
            )
            .map_err(|_| CryptoError::Malformed)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Unwraps a data key wrapped for `owner` with data-key version `dek_version`.
    ///
    /// Errors: [`CryptoError::Malformed`] (wrong length),
    /// [`CryptoError::UnsupportedFormat`], [`CryptoError::UnknownKeyVersion`] with
    /// the **KEK** version when this keyring no longer (or never) had it, and
    /// [`CryptoError::OpenFailed`] for a wrong master key, tampering, another
    /// owner or another data-key version.
    pub fn unwrap(
        &self,
        wrapped: &[u8],
        owner: &str,
        dek_version: u32,
    ) -> Result<DataKey, CryptoError> {
        let header = WrappedHeader::parse(wrapped)?;
        let key = self
            .wrap_keys
            .get(&header.kek_version)
            .ok_or(CryptoError::UnknownKeyVersion(header.kek_version))?;
        let aad = wrap_aad(header.kek_version, dek_version, owner)?;

        let mut buf = Zeroizing::new([0u8; SECRET_LEN + TAG_LEN]);
        if header.body.len() != buf.len() {
            return Err(CryptoError::Malformed);
        }
        buf.copy_from_slice(header.body);
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(header.nonce),
                Aad::from(&aad[..]),
                &mut buf[..],
            )
            .map_err(|_| CryptoError::OpenFailed)?;
        DataKey::from_secret(dek_version, Secret32::from_slice(plain)?)
    }

    /// Unwraps with whatever KEK version `wrapped` names and wraps again with the
    /// current one: the rotation step. The data itself is untouched.
    pub fn rewrap(
        &self,
        wrapped: &[u8],
        owner: &str,
        dek_version: u32,
    ) -> Result<Vec<u8>, CryptoError> {
        let dek = self.unwrap(wrapped, owner, dek_version)?;
        self.wrap(&dek, owner)
    }

    /// The KEK version a wrapped key was made with, from its header alone: lets
    /// a rotation job find what still needs rewrapping without any key.
    pub fn wrapped_version(wrapped: &[u8]) -> Result<u32, CryptoError> {
        WrappedHeader::parse(wrapped).map(|h| h.kek_version)
    }

    /// Blind index of `value` for `purpose`: see [`BlindIndex`] and [`crate::normalise`].
    pub fn blind_index(&self, purpose: &str, value: &str) -> BlindIndex {
        blind::compute(&self.blind_key, purpose, value)
    }

    /// HMAC-SHA256 of `bytes` with the audit-checkpoint key. Use on
    /// [`crate::checkpoint_bytes`] to sign a chain head.
    pub fn audit_mac(&self, bytes: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.audit_key, bytes);
        let mut out = [0u8; 32];
        for (o, t) in out.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        out
    }

    /// Checks `mac` against [`Keyring::audit_mac`] of `bytes`, in constant time
    /// (`ring::hmac::verify`).
    pub fn verify_audit_mac(&self, bytes: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.audit_key, bytes, mac).is_ok()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("kek_versions", &self.kek_versions())
            .field("current_kek_version", &self.current)
            .finish_non_exhaustive()
    }
}

fn wrap_aad(kek_version: u32, dek_version: u32, owner: &str) -> Result<Vec<u8>, CryptoError> {
    let owner = owner.as_bytes();
    let mut aad = Vec::with_capacity(lp_len(&[LABEL_WRAP, owner]).saturating_add(9));
    push_lp(&mut aad, LABEL_WRAP)?;
    aad.push(WRAPPED_FORMAT_V1);
    aad.extend_from_slice(&kek_version.to_be_bytes());
    aad.extend_from_slice(&dek_version.to_be_bytes());
    push_lp(&mut aad, owner)?;
    Ok(aad)
}

struct WrappedHeader<'a> {
    kek_version: u32,
    nonce: [u8; NONCE_LEN],
    body: &'a [u8],
}

impl<'a> WrappedHeader<'a> {
    fn parse(wrapped: &'a [u8]) -> Result<Self, CryptoError> {
        match wrapped.first() {
            None => return Err(CryptoError::Malformed),
            Some(&WRAPPED_FORMAT_V1) => {}
            Some(&other) => return Err(CryptoError::UnsupportedFormat(other)),
        }
        if wrapped.len() != WRAPPED_LEN {
            return Err(CryptoError::Malformed);
        }
        let (header, body) = wrapped
            .split_at_checked(WRAPPED_HEADER_LEN)
            .ok_or(CryptoError::Malformed)?;
        let kek_version = be_u32(header.get(1..5).ok_or(CryptoError::Malformed)?)?;
        let nonce: [u8; NONCE_LEN] = header
            .get(5..WRAPPED_HEADER_LEN)
            .ok_or(CryptoError::Malformed)?
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(WrappedHeader {
            kek_version,
            nonce,
            body,
        })
    }
}

#[cfg(test)]
mod tests;
