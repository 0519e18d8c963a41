//! Envelope overhead: `DataKey::seal`/`open` against ring's AES-256-GCM called
//! directly on the same plaintext.
//!
//! Per size (1 KiB, 1 MiB), the seal group has:
//!
//! * `envelope_<source>_nonce` — `DataKey::seal`: header, AAD built from a `Place`,
//!   nonce from the crate's compiled-in source (`userspace` by default, `os` with
//!   `--features os-nonce`);
//! * `ring_aad_same_nonce` — **the reference for the "within 10 %" target**:
//!   `LessSafeKey::seal_in_place_append_tag` on a `Vec` holding a copy of the
//!   plaintext (the envelope copies it too), with the *same AAD bytes* (prebuilt
//!   once, outside the loop) and a nonce from *the very same source* as the
//!   envelope (the crate's own generator, through the doc-hidden
//!   `cordee_crypto::__bench_nonce`). It isolates what the crate adds: header,
//!   AAD encoding, bookkeeping;
//! * `ring_aad_os_nonce` — the same with one `SystemRandom` call per nonce: what
//!   the envelope would cost with OS nonces (the `os-nonce` feature);
//! * `ring_noaad_same_nonce` — empty AAD: the difference with `ring_aad_same_nonce`
//!   is GCM's own cost of authenticating the place binding (one GHASH block per
//!   16 AAD bytes), which no correct binding can avoid;
//! * `ring_noaad_counter_nonce` — empty AAD, counter nonce: raw AES-GCM with a free
//!   nonce. Not a fair baseline (the envelope cannot use counters: keys are shared
//!   across threads and restarts); shown to make the nonce's cost visible.
//!
//! The open group compares `envelope` with `ring_aad` and `ring_noaad` (open takes
//! no nonce).
//!
//! ```text
//! cargo bench -p cordee-crypto --bench seal -- --warm-up-time 1 --measurement-time 3
//! cargo bench -p cordee-crypto --bench seal --features os-nonce -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::hint::black_box;

use common::{
    ENVELOPE, PLACE, SIZES, counter_nonce, crate_nonce, os_nonce, place_aad, ring_key, ring_open,
    ring_seal,
};
use cordee_crypto::DataKey;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ring::rand::SystemRandom;

fn bench_seal(c: &mut Criterion) {
    let dek = DataKey::generate().unwrap();
    let raw = ring_key();
    let aad = place_aad();
    let os = SystemRandom::new();
    let mut counter = 0u64;
    for (size, label) in SIZES {
        let data = vec![0x5Au8; size];
        let mut group = c.benchmark_group(format!("seal_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(ENVELOPE), |b| {
            b.iter(|| dek.seal(&PLACE, black_box(&data)).unwrap())
        });
        group.bench_function(BenchmarkId::from_parameter("ring_aad_same_nonce"), |b| {
            b.iter(|| ring_seal(&raw, crate_nonce(), &aad, black_box(&data)))
        });
        group.bench_function(BenchmarkId::from_parameter("ring_aad_os_nonce"), |b| {
            b.iter(|| ring_seal(&raw, os_nonce(&os), &aad, black_box(&data)))
        });
        group.bench_function(BenchmarkId::from_parameter("ring_noaad_same_nonce"), |b| {
            b.iter(|| ring_seal(&raw, crate_nonce(), &[], black_box(&data)))
        });
        group.bench_function(
            BenchmarkId::from_parameter("ring_noaad_counter_nonce"),
            |b| b.iter(|| ring_seal(&raw, counter_nonce(&mut counter), &[], black_box(&data))),
        );
        group.finish();
    }
}

fn bench_open(c: &mut Criterion) {
    let dek = DataKey::generate().unwrap();
    let raw = ring_key();
    let aad = place_aad();
    for (size, label) in SIZES {
        let data = vec![0x5Au8; size];
        let sealed = dek.seal(&PLACE, &data).unwrap();
        let nonce = crate_nonce();
        let raw_aad = ring_seal(&raw, nonce, &aad, &data);
        let raw_noaad = ring_seal(&raw, nonce, &[], &data);
        let mut group = c.benchmark_group(format!("open_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter("envelope"), |b| {
            b.iter(|| dek.open(&PLACE, black_box(&sealed)).unwrap())
        });
        group.bench_function(BenchmarkId::from_parameter("ring_aad"), |b| {
            b.iter(|| ring_open(&raw, nonce, &aad, black_box(&raw_aad)))
        });
        group.bench_function(BenchmarkId::from_parameter("ring_noaad"), |b| {
            b.iter(|| ring_open(&raw, nonce, &[], black_box(&raw_noaad)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_seal, bench_open);
criterion_main!(benches);
