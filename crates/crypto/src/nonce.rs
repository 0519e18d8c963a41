//! Where AES-GCM nonces come from.
//!
//! # What a nonce must be
//!
//! AES-GCM needs a nonce that is **unique per key**; it does not need to be secret or
//! unpredictable. A repeated nonce under one key leaks the XOR of two plaintexts and
//! lets an attacker forge tags, so uniqueness is the whole game. Keys in Cordée are
//! many (one per patient / conversation) and long-lived, sealed from many tasks and
//! threads, and rewrapped across restarts: there is no single place that could keep
//! a persistent counter per key. So nonces are 96 random bits, and uniqueness is
//! probabilistic: with `n` seals under one key the collision probability is about
//! `n² / 2⁹⁷`, i.e. below 2⁻³² up to 2³² seals per key (NIST SP 800-38D's limit for
//! random nonces). A single patient key will never get near that.
//!
//! # Which generator: the default, a per-thread userspace CSPRNG
//!
//! Asking the OS for 12 bytes (`getrandom(2)` via `ring::rand::SystemRandom`) is a
//! system call per seal. On the benchmark machine (2-core AMD EPYC VM, glibc 2.36,
//! so no vDSO `getrandom`) it costs about 430 ns — more than sealing a whole 1 KiB
//! field (about 300 ns) — so an OS nonce made `seal` of 1 KiB ~2.5× slower than
//! ring with a cheap nonce, far outside the "envelope within 10 % of raw ring"
//! budget (`benches/seal.rs`, `benches/overhead.rs`). So, by default, each thread
//! owns a ChaCha12 generator (`rand::rngs::StdRng`, ~11 ns per nonce) **seeded with
//! 32 bytes from the OS** and **reseeded from the OS every [`RESEED_EVERY`]
//! nonces**. Why this is sound:
//!
//! * ChaCha12 is a cryptographically secure stream cipher used as a PRG: its output
//!   is indistinguishable from random as long as the 256-bit seed is, so collision
//!   odds are the same as with OS nonces. (Nonces only need to be unique, so even
//!   the state leaking would not endanger any key or plaintext: it would only let
//!   an attacker predict nonces, which are public anyway.)
//! * Separate threads have independently seeded generators, so they cannot replay
//!   each other's stream.
//! * Periodic reseeding bounds how long a duplicated state (e.g. a VM snapshot
//!   restored twice) could produce the same nonces.
//!
//! **Caveat — `fork(2)`**: a child created by `fork` without `exec` would inherit the
//! parent's generator state and repeat its next nonces. Cordée is a tokio server that
//! never forks into a process that seals (process spawning is fork+exec). A program
//! that forks and seals in both processes must build this crate with the `os-nonce`
//! feature, which asks the OS for every nonce.

use crate::CryptoError;

/// Length of an AES-GCM nonce in bytes (96 bits, the only size ring accepts).
pub(crate) const NONCE_LEN: usize = ring::aead::NONCE_LEN;

/// A thread's userspace generator is reseeded from the OS after this many nonces.
/// At ~0.5 µs per `getrandom` call the amortised cost is negligible, and no more than
/// this many nonces ever depend on one seed.
pub(crate) const RESEED_EVERY: u32 = 1 << 16;

/// A fresh random nonce from the configured source.
pub(crate) fn fresh() -> Result<[u8; NONCE_LEN], CryptoError> {
    #[cfg(feature = "os-nonce")]
    {
        os()
    }
    #[cfg(not(feature = "os-nonce"))]
    {
        userspace::next()
    }
}

/// A nonce straight from the operating system (one `getrandom` call).
#[cfg_attr(not(feature = "os-nonce"), allow(dead_code))]
pub(crate) fn os() -> Result<[u8; NONCE_LEN], CryptoError> {
    use ring::rand::SecureRandom;
    let mut nonce = [0u8; NONCE_LEN];
    ring::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError::Rng)?;
    Ok(nonce)
}

#[cfg_attr(feature = "os-nonce", allow(dead_code))]
mod userspace {
    use core::cell::RefCell;

    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};
    use ring::rand::SecureRandom;

    use super::{NONCE_LEN, RESEED_EVERY};
    use crate::CryptoError;

    struct ThreadRng {
        rng: StdRng,
        /// Nonces left before the next reseed.
        remaining: u32,
    }

    thread_local! {
        static RNG: RefCell<Option<ThreadRng>> = const { RefCell::new(None) };
    }

    /// Off the hot path: runs once per thread and then every `RESEED_EVERY` nonces.
    #[cold]
    #[inline(never)]
    fn seeded() -> Result<ThreadRng, CryptoError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        ring::rand::SystemRandom::new()
            .fill(&mut seed[..])
            .map_err(|_| CryptoError::Rng)?;
        Ok(ThreadRng {
            rng: StdRng::from_seed(*seed),
            remaining: RESEED_EVERY,
        })
    }

    /// Next nonce from this thread's generator, (re)seeding it from the OS first
    /// when it is new or exhausted. Fails with [`CryptoError::Rng`] if the OS
    /// generator fails or the thread is being torn down — never panics.
    pub(super) fn next() -> Result<[u8; NONCE_LEN], CryptoError> {
        RNG.try_with(|cell| {
            let mut slot = cell.try_borrow_mut().map_err(|_| CryptoError::Rng)?;
            let state = match slot.as_mut() {
                Some(state) if state.remaining > 0 => state,
                _ => slot.insert(seeded()?),
            };
            state.remaining = state.remaining.saturating_sub(1);
            let mut nonce = [0u8; NONCE_LEN];
            state.rng.fill_bytes(&mut nonce);
            Ok(nonce)
        })
        .map_err(|_| CryptoError::Rng)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_do_not_repeat() {
        let mut seen = HashSet::new();
        // Cross a reseed boundary on purpose.
        for _ in 0..(RESEED_EVERY as usize + 1000) {
            assert!(seen.insert(fresh().unwrap()));
        }
        for _ in 0..100 {
            assert!(seen.insert(os().unwrap()));
        }
    }

    #[test]
    fn threads_get_different_streams() {
        let a = std::thread::spawn(|| fresh().unwrap()).join().unwrap();
        let b = std::thread::spawn(|| fresh().unwrap()).join().unwrap();
        assert_ne!(a, b);
    }
}
