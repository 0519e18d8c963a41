//! Field encryption: AES-256-GCM under a per-patient (or per-conversation) data key,
//! bound to the place the ciphertext is stored.
//!
//! # Sealed format (version 1)
//!
//! ```text
//! offset  size  content
//! 0       1     format version = 1
//! 1       4     data-key version, u32 big-endian
//! 5       12    nonce (random, see `nonce.rs`)
//! 17      n     ciphertext (same length as the plaintext)
//! 17+n    16    GCM tag
//! ```
//!
//! Overhead: [`SEALED_OVERHEAD`] = 33 bytes per value.
//!
//! # Associated data
//!
//! The AAD is not stored; it is rebuilt from the [`Place`] the caller is reading:
//!
//! ```text
//! lp("cordee/v1/field") ‖ format u8 ‖ key version u32 BE ‖ lp(table) ‖ lp(row id) ‖ lp(field)
//! ```
//!
//! where `lp(x)` is `u32 BE len(x) ‖ x`. Because every component is
//! length-prefixed and the encoding starts with its own label, a ciphertext copied
//! into another row, another column or another table — or relabelled with another
//! key version — fails authentication. (The header itself is authenticated too:
//! the format byte and key version are in the AAD and the nonce is the GCM IV.)
//!
//! # Cost
//!
//! GCM authenticates the AAD one 16-byte block at a time, so the place binding
//! costs about one GHASH step per 16 bytes of AAD (≈ 8 ns each on the benchmark
//! machine; a UUID row id is 3 blocks). That is inherent to binding; what the
//! crate adds on top (header, AAD encoding, one allocation) is kept within ~10 %
//! of bare ring at 1 KiB — see `benches/seal.rs`.

use core::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::SystemRandom;
use zeroize::ZeroizeOnDrop;

use crate::CryptoError;
use crate::encode::{be_u32, lp_len, push_lp};
use crate::nonce::{self, NONCE_LEN};
use crate::secret::Secret32;

/// Format byte of sealed values produced by this version of the crate.
pub const SEALED_FORMAT_V1: u8 = 1;

/// Bytes before the ciphertext: format, key version, nonce.
pub(crate) const SEALED_HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// GCM tag length.
pub(crate) const TAG_LEN: usize = 16;

/// Size of a sealed value minus the size of its plaintext (header + tag = 33).
pub const SEALED_OVERHEAD: usize = SEALED_HEADER_LEN + TAG_LEN;

/// Domain-separation label of the field AAD (appears in the AAD through
/// [`AAD_PREFIX`]).
#[cfg(test)]
const AAD_LABEL: &[u8] = b"cordee/v1/field";

/// `lp("cordee/v1/field") ‖ format`: the constant start of every field AAD — the
/// domain-separation label and the format version — spelled out so that `seal`
/// appends it with one fixed-size copy (checked against the label by a test).
const AAD_PREFIX: &[u8; 20] = b"\x00\x00\x00\x0fcordee/v1/field\x01";

/// The first data-key version; what [`DataKey::generate`] uses.
pub const FIRST_DATA_KEY_VERSION: u32 = 1;

/// Where a sealed value lives. Part of the AAD: a value only opens at the place it
/// was sealed for.
///
/// Use the stable, storage-level names (SQL table and column) and the row's
/// primary key as text. For values that are not a row's column (attachments in
/// object storage, say), pick a table/field pair that no column uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Place<'a> {
    /// Table (or collection) name, e.g. `"patient"`.
    pub table: &'a str,
    /// The row's primary key as text, e.g. a UUID.
    pub row_id: &'a str,
    /// Column (or logical field) name, e.g. `"family_name"`.
    pub field: &'a str,
}

impl<'a> Place<'a> {
    /// Shorthand constructor.
    pub fn new(table: &'a str, row_id: &'a str, field: &'a str) -> Self {
        Place {
            table,
            row_id,
            field,
        }
    }

    /// Writes the AAD for a value sealed here with data-key `key_version`.
    fn write_aad(&self, out: &mut Vec<u8>, key_version: u32) -> Result<(), CryptoError> {
        out.extend_from_slice(AAD_PREFIX);
        out.extend_from_slice(&key_version.to_be_bytes());
        push_lp(out, self.table.as_bytes())?;
        push_lp(out, self.row_id.as_bytes())?;
        push_lp(out, self.field.as_bytes())
    }

    /// Encoded AAD length.
    fn aad_len(&self) -> usize {
        let components = [
            self.table.as_bytes(),
            self.row_id.as_bytes(),
            self.field.as_bytes(),
        ];
        lp_len(&components).saturating_add(AAD_PREFIX.len() + 4)
    }
}

/// A data key (DEK): 256 secret bits plus the version that identifies it among
/// its owner's keys.
///
/// * Holds the prepared `ring::aead::LessSafeKey` so that repeated seals/opens do
///   not redo the AES key schedule. **ring's expanded key schedule cannot be
///   zeroized by this crate** (ring exposes no way to), so copies of round keys
///   derived from the secret stay in freed memory after drop; the raw 32 bytes we
///   hold ourselves *are* zeroized ([`ZeroizeOnDrop`]).
/// * `Send + Sync`: share it as `Arc<DataKey>` across tasks; sealing takes `&self`.
/// * Not `Clone` on purpose: share it, don't copy the secret around.
/// * `Debug` prints `DataKey { version: 3, .. }`, never the key.
pub struct DataKey {
    version: u32,
    secret: Secret32,
    key: LessSafeKey,
}

impl DataKey {
    /// A new random data key, version [`FIRST_DATA_KEY_VERSION`], from the OS
    /// generator (`ring::rand::SystemRandom`).
    pub fn generate() -> Result<DataKey, CryptoError> {
        Self::generate_with_version(FIRST_DATA_KEY_VERSION)
    }

    /// A new random data key with an explicit version, for when an owner's key is
    /// replaced (re-encrypting its data) and the new key must be told apart from
    /// the old one in sealed headers.
    pub fn generate_with_version(version: u32) -> Result<DataKey, CryptoError> {
        let secret = Secret32::random(&SystemRandom::new())?;
        Self::from_secret(version, secret)
    }

    /// Builds the key from raw secret bytes (used by unwrap and by tests).
    pub(crate) fn from_secret(version: u32, secret: Secret32) -> Result<DataKey, CryptoError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, secret.expose()).map_err(|_| CryptoError::Malformed)?;
        Ok(DataKey {
            version,
            secret,
            key: LessSafeKey::new(unbound),
        })
    }

    /// The version written into every value this key seals.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The raw secret, for wrapping.
    pub(crate) fn secret(&self) -> &Secret32 {
        &self.secret
    }

    /// Encrypts `plaintext` for `place`, with a fresh random nonce. Output format:
    /// see the module docs. Fails only on RNG failure or absurd sizes.
    pub fn seal(&self, place: &Place<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = nonce::fresh()?;
        let sealed_len = plaintext.len().saturating_add(SEALED_HEADER_LEN);
        // One allocation for everything: header ‖ plaintext, then the AAD is written
        // after them (in what becomes the tag's room) and dropped once sealed. This
        // keeps the envelope within a few percent of bare ring at 1 KiB, where a
        // separate AAD buffer was a measurable share of the cost.
        let mut out = Vec::with_capacity(sealed_len.saturating_add(place.aad_len().max(TAG_LEN)));
        out.push(SEALED_FORMAT_V1);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        place.write_aad(&mut out, self.version)?;
        let (sealed, aad) = out
            .split_at_mut_checked(sealed_len)
            .ok_or(CryptoError::Malformed)?;
        let body = sealed
            .get_mut(SEALED_HEADER_LEN..)
            .ok_or(CryptoError::Malformed)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&*aad), body)
            // ring only refuses plaintexts beyond GCM's ~64 GiB limit.
            .map_err(|_| CryptoError::Malformed)?;
        out.truncate(sealed_len);
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a value sealed for `place`.
    ///
    /// Errors: [`CryptoError::Malformed`] (truncated), [`CryptoError::UnsupportedFormat`],
    /// [`CryptoError::UnknownKeyVersion`] (sealed under another version of the
    /// owner's key: fetch that one — see [`sealed_key_version`]),
    /// [`CryptoError::OpenFailed`] (wrong key, tampering, or wrong place).
    pub fn open(&self, place: &Place<'_>, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let header = SealedHeader::parse(sealed)?;
        if header.key_version != self.version {
            return Err(CryptoError::UnknownKeyVersion(header.key_version));
        }
        // Ciphertext ‖ AAD in one buffer (as in `seal`); decrypted in place.
        let body_len = header.body.len();
        let mut buf = Vec::with_capacity(body_len.saturating_add(place.aad_len()));
        buf.extend_from_slice(header.body);
        place.write_aad(&mut buf, self.version)?;
        let (body, aad) = buf
            .split_at_mut_checked(body_len)
            .ok_or(CryptoError::Malformed)?;
        let plain_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(header.nonce),
                Aad::from(&*aad),
                body,
            )
            .map_err(|_| CryptoError::OpenFailed)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

impl ZeroizeOnDrop for DataKey {}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The data-key version a sealed value needs, read from its header without any
/// key, so the caller knows which of the owner's keys to fetch and unwrap.
pub fn sealed_key_version(sealed: &[u8]) -> Result<u32, CryptoError> {
    SealedHeader::parse(sealed).map(|h| h.key_version)
}

/// A parsed sealed-value header and the ciphertext+tag that follows it.
struct SealedHeader<'a> {
    key_version: u32,
    nonce: [u8; NONCE_LEN],
    body: &'a [u8],
}

impl<'a> SealedHeader<'a> {
    fn parse(sealed: &'a [u8]) -> Result<Self, CryptoError> {
        // The format byte is checked first: a future format may be shaped
        // differently, and must be reported as unsupported, not malformed.
        match sealed.first() {
            None => return Err(CryptoError::Malformed),
            Some(&SEALED_FORMAT_V1) => {}
            Some(&other) => return Err(CryptoError::UnsupportedFormat(other)),
        }
        let (header, body) = sealed
            .split_at_checked(SEALED_HEADER_LEN)
            .ok_or(CryptoError::Malformed)?;
        if body.len() < TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let key_version = be_u32(header.get(1..5).ok_or(CryptoError::Malformed)?)?;
        let nonce: [u8; NONCE_LEN] = header
            .get(5..SEALED_HEADER_LEN)
            .ok_or(CryptoError::Malformed)?
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(SealedHeader {
            key_version,
            nonce,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PLACE: Place<'static> = Place {
        table: "patient",
        row_id: "0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90",
        field: "family_name",
    };

    fn key(version: u32, byte: u8) -> DataKey {
        DataKey::from_secret(version, Secret32::from_slice(&[byte; 32]).unwrap()).unwrap()
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn data_key_is_send_and_sync() {
        assert_send_sync::<DataKey>();
        assert_send_sync::<std::sync::Arc<DataKey>>();
    }

    #[test]
    fn layout_is_as_documented() {
        let k = key(0x0102_0304, 7);
        let sealed = k.seal(&PLACE, b"Dupont").unwrap();
        assert_eq!(sealed.len(), 6 + SEALED_OVERHEAD);
        assert_eq!(sealed[0], 1);
        assert_eq!(&sealed[1..5], &[1, 2, 3, 4]);
        assert_eq!(sealed_key_version(&sealed), Ok(0x0102_0304));
        assert_eq!(k.open(&PLACE, &sealed).unwrap(), b"Dupont");
    }

    #[test]
    fn generate_gives_distinct_keys() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert_eq!(a.version(), FIRST_DATA_KEY_VERSION);
        assert_ne!(a.secret(), b.secret());
        assert_eq!(DataKey::generate_with_version(9).unwrap().version(), 9);
        let sealed = a.seal(&PLACE, b"x").unwrap();
        assert_eq!(b.open(&PLACE, &sealed), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let k = key(1, 1);
        assert_ne!(k.seal(&PLACE, b"a").unwrap(), k.seal(&PLACE, b"a").unwrap());
    }

    #[test]
    fn one_mebibyte_round_trip() {
        let k = DataKey::generate().unwrap();
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let sealed = k.seal(&PLACE, &data).unwrap();
        assert_eq!(sealed.len(), data.len() + SEALED_OVERHEAD);
        assert_eq!(k.open(&PLACE, &sealed).unwrap(), data);
    }

    #[test]
    fn header_errors() {
        let k = key(1, 1);
        assert_eq!(k.open(&PLACE, b""), Err(CryptoError::Malformed));
        assert_eq!(k.open(&PLACE, &[1; 10]), Err(CryptoError::Malformed));
        // Header present but shorter than a tag.
        assert_eq!(
            k.open(&PLACE, &[1; SEALED_HEADER_LEN + TAG_LEN - 1]),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            k.open(&PLACE, &[2; 3]),
            Err(CryptoError::UnsupportedFormat(2))
        );
        let mut sealed = k.seal(&PLACE, b"abc").unwrap();
        sealed[0] = 0;
        assert_eq!(
            k.open(&PLACE, &sealed),
            Err(CryptoError::UnsupportedFormat(0))
        );
        assert_eq!(sealed_key_version(b""), Err(CryptoError::Malformed));
    }

    #[test]
    fn other_key_version_is_reported() {
        let k1 = key(1, 1);
        let k2 = key(2, 2);
        let sealed = k1.seal(&PLACE, b"abc").unwrap();
        assert_eq!(
            k2.open(&PLACE, &sealed),
            Err(CryptoError::UnknownKeyVersion(1))
        );
    }

    #[test]
    fn key_version_is_authenticated() {
        // Same secret, relabelled version: only the AAD differs, and it must fail.
        let k1 = key(1, 5);
        let k2 = key(2, 5);
        let mut sealed = k1.seal(&PLACE, b"abc").unwrap();
        sealed[1..5].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(k2.open(&PLACE, &sealed), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn moved_to_another_row_fails() {
        let k = key(1, 1);
        let sealed = k.seal(&PLACE, b"Martin").unwrap();
        let other_row = Place {
            row_id: "0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e91",
            ..PLACE
        };
        assert_eq!(k.open(&other_row, &sealed), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn long_places_work() {
        let k = key(1, 1);
        let long = "x".repeat(100_000);
        let place = Place::new("t", &long, "f");
        let sealed = k.seal(&place, b"v").unwrap();
        assert_eq!(k.open(&place, &sealed).unwrap(), b"v");
        let longer = format!("{long}y");
        assert_eq!(
            k.open(&Place::new("t", &longer, "f"), &sealed),
            Err(CryptoError::OpenFailed)
        );
    }

    #[test]
    fn aad_prefix_is_label_and_format() {
        let mut expected = Vec::new();
        push_lp(&mut expected, AAD_LABEL).unwrap();
        expected.push(SEALED_FORMAT_V1);
        assert_eq!(&AAD_PREFIX[..], &expected[..]);
    }

    #[test]
    fn aad_layout_is_as_documented() {
        let mut aad = Vec::new();
        Place::new("tb", "r", "f")
            .write_aad(&mut aad, 0x0A0B_0C0D)
            .unwrap();
        let mut expected = vec![0, 0, 0, 15];
        expected.extend_from_slice(b"cordee/v1/field");
        expected.extend_from_slice(&[1, 0x0A, 0x0B, 0x0C, 0x0D]);
        expected.extend_from_slice(&[0, 0, 0, 2, b't', b'b', 0, 0, 0, 1, b'r', 0, 0, 0, 1, b'f']);
        assert_eq!(aad, expected);
    }

    #[test]
    fn components_cannot_be_shifted() {
        // "ab"/"c" and "a"/"bc" must be different places.
        let k = key(1, 1);
        let sealed = k.seal(&Place::new("t", "ab", "c"), b"v").unwrap();
        assert_eq!(
            k.open(&Place::new("t", "a", "bc"), &sealed),
            Err(CryptoError::OpenFailed)
        );
        assert_eq!(k.open(&Place::new("t", "ab", "c"), &sealed).unwrap(), b"v");
    }

    #[test]
    fn debug_hides_the_key() {
        let k = key(3, 0xAB);
        let shown = format!("{k:?}");
        assert_eq!(shown, "DataKey { version: 3, .. }");
    }

    fn place_strategy() -> impl Strategy<Value = (String, String, String)> {
        ("[a-z_]{0,12}", "[0-9a-f-]{0,36}", "\\PC{0,12}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip_any_size(
            data in prop::collection::vec(any::<u8>(), 0..=64 * 1024),
            (t, r, f) in place_strategy(),
        ) {
            let k = key(7, 9);
            let place = Place::new(&t, &r, &f);
            let sealed = k.seal(&place, &data).unwrap();
            prop_assert_eq!(sealed.len(), data.len() + SEALED_OVERHEAD);
            prop_assert_eq!(k.open(&place, &sealed).unwrap(), data);
        }

        /// Flipping any single bit anywhere — format byte, key version, nonce,
        /// ciphertext or tag — makes the value fail to open.
        #[test]
        fn any_bit_flip_fails(
            data in prop::collection::vec(any::<u8>(), 0..256),
            bit in any::<prop::sample::Index>(),
        ) {
            let k = key(7, 9);
            let mut sealed = k.seal(&PLACE, &data).unwrap();
            let i = bit.index(sealed.len() * 8);
            sealed[i / 8] ^= 1 << (i % 8);
            prop_assert!(k.open(&PLACE, &sealed).is_err());
        }

        /// Changing any AAD component — table, row id, field, key version —
        /// makes the value fail to open, with the right key.
        #[test]
        fn changing_any_place_component_fails(
            data in prop::collection::vec(any::<u8>(), 0..64),
            which in 0usize..4,
            suffix in "[a-z0-9]{1,4}",
        ) {
            let k = key(7, 9);
            let sealed = k.seal(&PLACE, &data).unwrap();
            let (t, r, f) = (
                format!("{}{suffix}", PLACE.table),
                format!("{}{suffix}", PLACE.row_id),
                format!("{}{suffix}", PLACE.field),
            );
            let result = match which {
                0 => k.open(&Place { table: &t, ..PLACE }, &sealed),
                1 => k.open(&Place { row_id: &r, ..PLACE }, &sealed),
                2 => k.open(&Place { field: &f, ..PLACE }, &sealed),
                _ => {
                    // Key version: same secret under another version number,
                    // header rewritten to match, so only the AAD differs.
                    let other = key(8, 9);
                    let mut relabelled = sealed.clone();
                    relabelled[1..5].copy_from_slice(&8u32.to_be_bytes());
                    other.open(&PLACE, &relabelled)
                }
            };
            prop_assert_eq!(result, Err(CryptoError::OpenFailed));
        }
    }

    /// Every bit of header, nonce, ciphertext and tag, exhaustively, for one small
    /// value (complements the sampled property above).
    #[test]
    fn every_single_bit_flip_fails_exhaustively() {
        let k = key(7, 9);
        let sealed = k.seal(&PLACE, b"Lefevre").unwrap();
        for i in 0..sealed.len() * 8 {
            let mut t = sealed.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert!(k.open(&PLACE, &t).is_err(), "bit {i} flip accepted");
        }
    }
}
