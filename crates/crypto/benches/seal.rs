//! Envelope overhead: `DataKey::seal`/`open` against ring's AES-256-GCM called
//! directly on the same bytes.
//!
//! Baselines, per size (1 KiB, 1 MiB):
//! * `ring_userspace_nonce` — the reference for the "within 10 %" target: ring's
//!   `LessSafeKey::seal_in_place_append_tag` with a nonce from **the same source the
//!   crate uses by default** (a per-thread ChaCha12 `StdRng` seeded from the OS and
//!   reseeded every 65 536 nonces — replicated here since the crate keeps its
//!   generator private), empty AAD, plaintext copied into a fresh `Vec` (the
//!   envelope copies it too);
//! * `ring_os_nonce` — the same with a `SystemRandom` nonce per seal, the reference
//!   when the crate is built with `--features os-nonce`;
//! * `ring_counter_nonce` — a counter nonce: what raw AES-GCM costs with a free
//!   nonce. Not a fair baseline (the envelope cannot use counters), shown to make
//!   the nonce's own cost visible.
//!
//! `envelope` is `DataKey::seal`/`open`: header, AAD built from a `Place` (and
//! authenticated), nonce from the crate's configured source. Its label says which
//! source was compiled in. Run both configurations:
//!
//! ```text
//! cargo bench -p cordee-crypto --bench seal -- --warm-up-time 1 --measurement-time 3
//! cargo bench -p cordee-crypto --bench seal --features os-nonce -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cell::RefCell;
use std::hint::black_box;

use cordee_crypto::{DataKey, Place};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (1 << 20, "1MiB")];

const ENVELOPE: &str = if cfg!(feature = "os-nonce") {
    "envelope_os_nonce"
} else {
    "envelope_userspace_nonce"
};

const PLACE: Place<'static> = Place {
    table: "message",
    row_id: "0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90",
    field: "body",
};

thread_local! {
    static RNG: RefCell<(StdRng, u32)> = RefCell::new(seeded());
}

fn seeded() -> (StdRng, u32) {
    let mut seed = [0u8; 32];
    SystemRandom::new().fill(&mut seed).unwrap();
    (StdRng::from_seed(seed), 1 << 16)
}

/// Same algorithm as the crate's default nonce source.
fn userspace_nonce() -> [u8; NONCE_LEN] {
    RNG.with(|cell| {
        let mut state = cell.borrow_mut();
        if state.1 == 0 {
            *state = seeded();
        }
        state.1 -= 1;
        let mut nonce = [0u8; NONCE_LEN];
        state.0.fill_bytes(&mut nonce);
        nonce
    })
}

fn os_nonce(rng: &SystemRandom) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).unwrap();
    nonce
}

fn counter_nonce(counter: &mut u64) -> [u8; NONCE_LEN] {
    *counter += 1;
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

fn ring_seal(key: &LessSafeKey, nonce: [u8; NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(plaintext.len() + 16);
    buf.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .unwrap();
    buf
}

fn ring_open(key: &LessSafeKey, nonce: [u8; NONCE_LEN], sealed: &[u8]) -> Vec<u8> {
    let mut buf = sealed.to_vec();
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .unwrap()
        .len();
    buf.truncate(len);
    buf
}

fn ring_key() -> LessSafeKey {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).unwrap())
}

fn bench_seal(c: &mut Criterion) {
    let dek = DataKey::generate().unwrap();
    let raw = ring_key();
    let os = SystemRandom::new();
    let mut counter = 0u64;
    for (size, label) in SIZES {
        let data = vec![0x5Au8; size];
        let mut group = c.benchmark_group(format!("seal_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(ENVELOPE), |b| {
            b.iter(|| dek.seal(&PLACE, black_box(&data)).unwrap())
        });
        group.bench_function(BenchmarkId::from_parameter("ring_userspace_nonce"), |b| {
            b.iter(|| ring_seal(&raw, userspace_nonce(), black_box(&data)))
        });
        group.bench_function(BenchmarkId::from_parameter("ring_os_nonce"), |b| {
            b.iter(|| ring_seal(&raw, os_nonce(&os), black_box(&data)))
        });
        group.bench_function(BenchmarkId::from_parameter("ring_counter_nonce"), |b| {
            b.iter(|| ring_seal(&raw, counter_nonce(&mut counter), black_box(&data)))
        });
        group.finish();
    }
}

fn bench_open(c: &mut Criterion) {
    let dek = DataKey::generate().unwrap();
    let raw = ring_key();
    for (size, label) in SIZES {
        let data = vec![0x5Au8; size];
        let sealed = dek.seal(&PLACE, &data).unwrap();
        let nonce = userspace_nonce();
        let raw_sealed = ring_seal(&raw, nonce, &data);
        let mut group = c.benchmark_group(format!("open_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter("envelope"), |b| {
            b.iter(|| dek.open(&PLACE, black_box(&sealed)).unwrap())
        });
        group.bench_function(BenchmarkId::from_parameter("ring"), |b| {
            b.iter(|| ring_open(&raw, nonce, black_box(&raw_sealed)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_seal, bench_open);
criterion_main!(benches);
