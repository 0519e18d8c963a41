#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
//! Cordée's cryptographic primitives: envelope encryption of patient data, blind
//! indexes for searching it, and the tamper-evident audit chain.
//!
//! The crate is pure computation: no I/O, no async, no database, and no idea what
//! a patient is. Every primitive is ring's (AES-256-GCM, HKDF-SHA256, HMAC-SHA256,
//! SHA-256); this crate only decides formats, bindings and key separation.
//!
//! # Pieces
//!
//! | what | where | used for |
//! |------|-------|----------|
//! | [`MasterKeyFile`] | the one secret file on the server | root secret + versioned KEKs |
//! | [`Keyring`] | derived from it at start-up | wrap/unwrap data keys, blind indexes, audit MACs |
//! | [`DataKey`] | one per patient / conversation, stored wrapped | seal/open fields at a [`Place`] |
//! | [`BlindIndex`], [`normalise`] | stored next to sealed identity traits | equality search |
//! | [`canonical`], [`chain_hash`], [`verify_chain`], [`Checkpoint`] | the audit table | tamper evidence |
//!
//! ```
//! use cordee_crypto::{DataKey, Keyring, MasterKeyFile, Place};
//!
//! # fn main() -> Result<(), cordee_crypto::CryptoError> {
//! let file = MasterKeyFile::generate()?;           // once, at install time
//! let keyring = Keyring::new(&file)?;              // at every start-up
//!
//! let dek = DataKey::generate()?;                  // new patient
//! let wrapped = keyring.wrap(&dek, "patient:0190f5c2")?; // store with dek.version()
//!
//! let place = Place { table: "patient", row_id: "0190f5c2", field: "family_name" };
//! let sealed = dek.seal(&place, "Lefèvre".as_bytes())?;
//!
//! let dek = keyring.unwrap(&wrapped, "patient:0190f5c2", 1)?;
//! assert_eq!(dek.open(&place, &sealed)?, "Lefèvre".as_bytes());
//! let index = keyring.blind_index("patient.family_name", "LEFEVRE");
//! assert_eq!(index, keyring.blind_index("patient.family_name", "lefèvre "));
//! # Ok(()) }
//! ```
//!
//! # Formats
//!
//! All integers are big-endian. `lp(x)` means `u32 BE len(x) ‖ x`.
//!
//! **Sealed value** (format 1), see [`DataKey::seal`]:
//!
//! ```text
//! [format u8 = 1][data-key version u32][nonce 12][ciphertext n][tag 16]
//! AAD = lp("cordee/v1/field") ‖ 0x01 ‖ key version u32 ‖ lp(table) ‖ lp(row id) ‖ lp(field)
//! ```
//!
//! **Wrapped data key** (format 1, always 65 bytes), see [`Keyring::wrap`]:
//!
//! ```text
//! [format u8 = 1][KEK version u32][nonce 12][encrypted key 32][tag 16]
//! AAD = lp("cordee/v1/wrap") ‖ 0x01 ‖ KEK version u32 ‖ data-key version u32 ‖ lp(owner)
//! ```
//!
//! The data-key version is bound by the AAD but not stored in the blob; store it
//! next to the wrapped key and pass it to [`Keyring::unwrap`].
//!
//! **Master key file** (text, version 1), see [`MasterKeyFile`]:
//!
//! ```text
//! # comments and blank lines are ignored
//! cordee-master-key v1
//! root <32 bytes, padded standard base64>
//! kek 1 <32 bytes, padded standard base64>
//! kek 2 <…>            (one line per KEK version; the highest is current)
//! ```
//!
//! **Key derivation** (HKDF-SHA256, salt `"cordee/v1/hkdf-salt"`): wrapping key v =
//! HKDF(KEK v, info `"cordee/v1/wrap"` ‖ v u32); blind-index key = HKDF(root,
//! `"cordee/v1/blind-index"`); audit-checkpoint key = HKDF(root,
//! `"cordee/v1/audit-checkpoint"`). Root-derived keys never rotate (see
//! [`MasterKeyFile`]).
//!
//! **Blind index**: first 16 bytes of HMAC-SHA256(blind-index key, purpose ‖ 0x00 ‖
//! [`normalise`]d value).
//!
//! **Audit chain**: `canonical = 0x01 ‖ lp(field)…`; `hash[n] = SHA-256(hash[n-1] ‖
//! canonical[n])`, `hash[0] =` [`GENESIS`]; checkpoint MAC = HMAC-SHA256(audit key,
//! `lp("cordee/v1/audit-checkpoint-message") ‖ seq i64 ‖ head`).
//!
//! # Secrets
//!
//! Raw secrets are zeroized on drop, kept in place on the heap (no stray copies
//! when their owner moves), compared in constant time, and never printed: `Debug`
//! of [`DataKey`], [`MasterKeyFile`] and [`Keyring`] shows versions only. ring's
//! prepared key objects (AES key schedules, HMAC states) cannot be zeroized from
//! outside ring; that is the accepted price of not re-expanding keys on every use.
//!
//! # Nonces
//!
//! 96-bit random nonces from a per-thread ChaCha generator seeded and periodically
//! reseeded from the OS (the `os-nonce` feature asks the OS for every nonce
//! instead); the reasoning and the fork caveat are in `src/nonce.rs`.

mod aead;
mod blind;
mod chain;
mod encode;
mod error;
mod keyfile;
mod keyring;
mod nonce;
mod secret;

pub use aead::{
    DataKey, FIRST_DATA_KEY_VERSION, Place, SEALED_FORMAT_V1, SEALED_OVERHEAD, sealed_key_version,
};
pub use blind::{BLIND_INDEX_LEN, BlindIndex, normalise};
pub use chain::{
    BreakReason, CANONICAL_VERSION, ChainBreak, Checkpoint, GENESIS, canonical, chain_hash,
    checkpoint_bytes, verify_chain, verify_chain_from,
};
pub use error::CryptoError;
pub use keyfile::MasterKeyFile;
pub use keyring::{Keyring, WRAPPED_FORMAT_V1, WRAPPED_LEN};

/// A fresh AES-GCM nonce from the crate's configured source. **Not API**: exposed
/// only so that `benches/` can give bare ring the very same nonce source as the
/// envelope (a fair baseline). Hidden from the docs; may change at any time.
#[doc(hidden)]
pub fn __bench_nonce() -> Result<[u8; 12], CryptoError> {
    nonce::fresh()
}
