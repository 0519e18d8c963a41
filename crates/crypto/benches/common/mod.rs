//! Shared by the `seal` (criterion) and `overhead` (interleaved A/B) benches: the
//! place, its AAD, the nonce sources and the bare-ring calls used as baselines.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use cordee_crypto::Place;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

pub const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (1 << 20, "1MiB")];

pub const ENVELOPE: &str = if cfg!(feature = "os-nonce") {
    "envelope_os_nonce"
} else {
    "envelope_userspace_nonce"
};

/// A realistic place: UUIDv7 row id, short table and column names.
pub const PLACE: Place<'static> = Place {
    table: "message",
    row_id: "0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90",
    field: "body",
};

/// The AAD `DataKey::seal` builds for `PLACE` and data-key version 1 (format
/// documented in the crate docs).
pub fn place_aad() -> Vec<u8> {
    fn lp(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut aad = Vec::new();
    lp(&mut aad, b"cordee/v1/field");
    aad.push(1);
    aad.extend_from_slice(&1u32.to_be_bytes());
    lp(&mut aad, PLACE.table.as_bytes());
    lp(&mut aad, PLACE.row_id.as_bytes());
    lp(&mut aad, PLACE.field.as_bytes());
    aad
}

/// A nonce from exactly the source the envelope uses (the crate's configured
/// one: per-thread ChaCha by default, the OS with `--features os-nonce`).
pub fn crate_nonce() -> [u8; NONCE_LEN] {
    cordee_crypto::__bench_nonce().unwrap()
}

pub fn os_nonce(rng: &SystemRandom) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).unwrap();
    nonce
}

pub fn counter_nonce(counter: &mut u64) -> [u8; NONCE_LEN] {
    *counter += 1;
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

pub fn ring_seal(
    key: &LessSafeKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(plaintext.len() + 16);
    buf.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .unwrap();
    buf
}

pub fn ring_open(key: &LessSafeKey, nonce: [u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut buf = sealed.to_vec();
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .unwrap()
        .len();
    buf.truncate(len);
    buf
}

pub fn ring_key() -> LessSafeKey {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).unwrap())
}
