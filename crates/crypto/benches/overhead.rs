//! Envelope overhead measured by **interleaved A/B rounds**, for shared or busy
//! machines where criterion's medians drift with other load (the criterion
//! numbers of `benches/seal.rs` move by ±20 % while other builds run).
//!
//! Each round times a batch of every variant back to back; the minimum over the
//! rounds is each variant's best undisturbed time, and since all variants got
//! the same chances the ratio of minima is the overhead. The baselines are the
//! same as in `seal.rs`: bare ring with the same AAD bytes and a nonce from the
//! same source as the envelope.
//!
//! ```text
//! cargo bench -p cordee-crypto --bench overhead
//! cargo bench -p cordee-crypto --bench overhead --features os-nonce
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{ENVELOPE, PLACE, SIZES, crate_nonce, place_aad, ring_key, ring_open, ring_seal};
use cordee_crypto::DataKey;

const ROUNDS: usize = 40;

/// Mean time per call of `f` over `n` calls, in nanoseconds.
fn batch(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then a
    // single short round is enough to check that the code runs.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { ROUNDS } else { 1 };
    let dek = DataKey::generate().unwrap();
    let raw = ring_key();
    let aad = place_aad();
    let envelope_nonce = if cfg!(feature = "os-nonce") {
        "os"
    } else {
        "userspace"
    };
    println!(
        "{ENVELOPE} vs bare ring with the same AAD and the same ({envelope_nonce}) nonce source"
    );
    println!(
        "{:<6} {:<5} {:>12} {:>12} {:>8}",
        "size", "op", "envelope", "ring", "ratio"
    );
    for (size, label) in SIZES {
        let data = vec![0x5Au8; size];
        let sealed = dek.seal(&PLACE, &data).unwrap();
        let nonce = crate_nonce();
        let raw_sealed = ring_seal(&raw, nonce, &aad, &data);
        let n = match (full, size > 64 * 1024) {
            (false, _) => 2,
            (true, true) => 100,
            (true, false) => 20_000,
        };
        let mut best = [f64::MAX; 4];
        for _ in 0..rounds {
            let times = [
                batch(n, || {
                    black_box(dek.seal(&PLACE, black_box(&data)).unwrap());
                }),
                batch(n, || {
                    black_box(ring_seal(&raw, crate_nonce(), &aad, black_box(&data)));
                }),
                batch(n, || {
                    black_box(dek.open(&PLACE, black_box(&sealed)).unwrap());
                }),
                batch(n, || {
                    black_box(ring_open(&raw, nonce, &aad, black_box(&raw_sealed)));
                }),
            ];
            for (b, t) in best.iter_mut().zip(times) {
                *b = b.min(t);
            }
        }
        for (op, env, ring) in [("seal", best[0], best[1]), ("open", best[2], best[3])] {
            println!(
                "{label:<6} {op:<5} {:>9.0} ns {:>9.0} ns {:>8.3}",
                env,
                ring,
                env / ring
            );
        }
    }
}
