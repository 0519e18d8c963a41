//! The tamper-evident audit chain.
//!
//! Each audit record is reduced to canonical bytes ([`canonical`]), and its hash
//! chains it to its predecessor: `hash[n] = SHA-256(hash[n-1] ‖ canonical[n])`,
//! starting from [`GENESIS`]. Sequence numbers run 1, 2, 3… without gaps. Editing,
//! deleting, inserting or reordering a record breaks every later hash, and
//! [`verify_chain`] reports the first broken link.
//!
//! What a hash chain alone cannot show is **truncation** (dropping the newest
//! records and nothing else) or a **wholesale rewrite** by someone who recomputes
//! every hash. Both are caught by **checkpoints**: periodically the gateway MACs
//! `(seq, head)` with the audit-checkpoint key ([`checkpoint_bytes`] +
//! [`Keyring::audit_mac`], or [`Checkpoint::sign`]) and keeps the result. The key
//! is derived from the master key, which the database does not hold, so someone
//! with write access to the database alone can neither forge a checkpoint nor
//! rewrite history under an existing one.
//!
//! Hashes here are public values, so comparisons need not be constant-time; MAC
//! verification is (`ring::hmac::verify`).

use ring::digest::{Context, SHA256};

use crate::Keyring;

/// Version byte that starts every [`canonical`] encoding.
pub const CANONICAL_VERSION: u8 = 1;

/// The "previous hash" of record 1: `SHA-256("cordee/v1/audit-genesis")`.
///
/// A labelled hash rather than all zeros so that a chain can never be confused
/// with another structure that happens to start from zeros, while staying a
/// constant anyone can recompute (see the test `genesis_is_the_labelled_hash`).
pub const GENESIS: [u8; 32] = [
    0x52, 0xbb, 0xd6, 0xed, 0x35, 0x44, 0x13, 0x9b, 0x34, 0x4d, 0x3e, 0x0b, 0xa7, 0x97, 0x67, 0xed,
    0x38, 0xc2, 0xa7, 0x22, 0x57, 0xa6, 0xf3, 0x71, 0x8e, 0x79, 0x7e, 0xac, 0x78, 0xfe, 0x31, 0x58,
];

const CHECKPOINT_LABEL: &[u8] = b"cordee/v1/audit-checkpoint-message";
// A short constant, so the cast is lossless (asserted at compile time).
const CHECKPOINT_LABEL_LEN: u32 = CHECKPOINT_LABEL.len() as u32;
const _: () = assert!(CHECKPOINT_LABEL.len() < 256);

/// Canonical bytes of an audit record: `CANONICAL_VERSION ‖ lp(field₁) ‖ lp(field₂) …`,
/// where `lp(x)` is the length of `x` as a big-endian `u32`, then `x`.
///
/// Length prefixes make the encoding injective: different field lists never give
/// the same bytes, whatever the fields contain. The caller fixes the field order
/// (actor, action, patient id, …) and how each is rendered to bytes; both are part
/// of the chain's meaning and must never change for a given version.
///
/// A field of 4 GiB or more (which no audit record has) is encoded as the escape
/// `0xFFFF_FFFF` followed by its length as a `u64`, which keeps the encoding
/// injective without any failure path.
pub fn canonical(fields: &[&[u8]]) -> Vec<u8> {
    let capacity = fields
        .iter()
        .map(|f| f.len().saturating_add(4))
        .fold(1usize, usize::saturating_add);
    let mut out = Vec::with_capacity(capacity);
    out.push(CANONICAL_VERSION);
    for field in fields {
        match u32::try_from(field.len()) {
            Ok(len) if len != u32::MAX => out.extend_from_slice(&len.to_be_bytes()),
            _ => {
                out.extend_from_slice(&u32::MAX.to_be_bytes());
                out.extend_from_slice(
                    &u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes(),
                );
            }
        }
        out.extend_from_slice(field);
    }
    out
}

/// `SHA-256(prev ‖ canonical)`: the hash stored with a record.
pub fn chain_hash(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(prev);
    ctx.update(canonical);
    let digest = ctx.finish();
    let mut out = [0u8; 32];
    for (o, d) in out.iter_mut().zip(digest.as_ref()) {
        *o = *d;
    }
    out
}

/// The bytes a checkpoint MAC covers: `lp("cordee/v1/audit-checkpoint-message") ‖
/// seq (i64 BE) ‖ head`. Binding `seq` means a checkpoint taken at record N cannot
/// vouch for a chain cut back to N-1.
pub fn checkpoint_bytes(seq: i64, head: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + CHECKPOINT_LABEL.len() + 8 + 32);
    out.extend_from_slice(&CHECKPOINT_LABEL_LEN.to_be_bytes());
    out.extend_from_slice(CHECKPOINT_LABEL);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(head);
    out
}

/// A signed statement "the chain had `head` as its hash at record `seq`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Sequence number of the last record covered.
    pub seq: i64,
    /// That record's chain hash.
    pub head: [u8; 32],
    /// `Keyring::audit_mac(checkpoint_bytes(seq, head))`.
    pub mac: [u8; 32],
}

impl Checkpoint {
    /// MACs `(seq, head)` with the audit-checkpoint key.
    pub fn sign(keyring: &Keyring, seq: i64, head: &[u8; 32]) -> Checkpoint {
        Checkpoint {
            seq,
            head: *head,
            mac: keyring.audit_mac(&checkpoint_bytes(seq, head)),
        }
    }

    /// True when the MAC is genuine (constant-time check). The caller then checks
    /// that the chain's record `seq` really has hash `head`.
    pub fn verify(&self, keyring: &Keyring) -> bool {
        keyring.verify_audit_mac(&checkpoint_bytes(self.seq, &self.head), &self.mac)
    }
}

/// Where and why a chain failed to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at record {seq}: {reason}")]
pub struct ChainBreak {
    /// Sequence number of the first record that does not fit.
    pub seq: i64,
    /// What was wrong with it.
    pub reason: BreakReason,
}

/// Why a record does not fit the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    /// The record's sequence number is not the previous one plus one: a record was
    /// deleted or inserted before it, or records were reordered.
    #[error("expected sequence number {expected}")]
    OutOfSequence {
        /// The sequence number that should have come next.
        expected: i64,
    },
    /// The stored hash is not `SHA-256(previous hash ‖ canonical bytes)`: this
    /// record's bytes (or the previous record's) were altered.
    #[error("hash mismatch")]
    HashMismatch,
}

/// Verifies a whole chain from its first record (seq 1, previous hash
/// [`GENESIS`]); returns the head hash (`GENESIS` for an empty chain).
///
/// `records` yields `(seq, canonical bytes, stored hash)` in storage order.
pub fn verify_chain<'a>(
    records: impl Iterator<Item = (i64, &'a [u8], &'a [u8; 32])>,
) -> Result<[u8; 32], ChainBreak> {
    verify_chain_from(0, &GENESIS, records)
}

/// Verifies the records that follow a known-good point: `prev_seq` and its hash
/// `prev_head` (e.g. a verified [`Checkpoint`]), so that a verifier need not
/// rescan the whole history every time. `verify_chain` is `verify_chain_from(0,
/// &GENESIS, …)`.
pub fn verify_chain_from<'a>(
    prev_seq: i64,
    prev_head: &[u8; 32],
    records: impl Iterator<Item = (i64, &'a [u8], &'a [u8; 32])>,
) -> Result<[u8; 32], ChainBreak> {
    let mut head = *prev_head;
    let mut last = prev_seq;
    for (seq, bytes, stored) in records {
        let expected = last.checked_add(1).ok_or(ChainBreak {
            seq,
            reason: BreakReason::OutOfSequence { expected: last },
        })?;
        if seq != expected {
            return Err(ChainBreak {
                seq,
                reason: BreakReason::OutOfSequence { expected },
            });
        }
        let computed = chain_hash(&head, bytes);
        if &computed != stored {
            return Err(ChainBreak {
                seq,
                reason: BreakReason::HashMismatch,
            });
        }
        head = computed;
        last = seq;
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKeyFile;

    /// A chain of `n` records with distinct contents.
    fn build(n: i64) -> Vec<(i64, Vec<u8>, [u8; 32])> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let actor = format!("8{:010}", 1000 + seq);
                let bytes = canonical(&[actor.as_bytes(), b"read", b"patient:42", b"care"]);
                let hash = chain_hash(&prev, &bytes);
                prev = hash;
                (seq, bytes, hash)
            })
            .collect()
    }

    fn verify(records: &[(i64, Vec<u8>, [u8; 32])]) -> Result<[u8; 32], ChainBreak> {
        verify_chain(records.iter().map(|(s, b, h)| (*s, &b[..], h)))
    }

    #[test]
    fn genesis_is_the_labelled_hash() {
        let d = ring::digest::digest(&SHA256, b"cordee/v1/audit-genesis");
        assert_eq!(d.as_ref(), &GENESIS[..]);
    }

    #[test]
    fn canonical_layout() {
        assert_eq!(canonical(&[]), vec![1]);
        assert_eq!(
            canonical(&[b"ab", b""]),
            vec![1, 0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]
        );
        // Injective where naive concatenation would not be.
        assert_ne!(canonical(&[b"ab", b"c"]), canonical(&[b"a", b"bc"]));
        assert_ne!(canonical(&[b""]), canonical(&[]));
    }

    #[test]
    fn chain_hash_is_sha256_of_concatenation() {
        let mut input = GENESIS.to_vec();
        input.extend_from_slice(b"xyz");
        let d = ring::digest::digest(&SHA256, &input);
        assert_eq!(&chain_hash(&GENESIS, b"xyz")[..], d.as_ref());
    }

    #[test]
    fn intact_chain_verifies_to_its_head() {
        assert_eq!(verify(&[]), Ok(GENESIS));
        let chain = build(10);
        assert_eq!(verify(&chain), Ok(chain[9].2));
        // Resuming from record 4 gives the same head.
        let resumed = verify_chain_from(
            4,
            &chain[3].2,
            chain[4..].iter().map(|(s, b, h)| (*s, &b[..], h)),
        );
        assert_eq!(resumed, Ok(chain[9].2));
    }

    #[test]
    fn edited_field_is_detected() {
        let mut chain = build(10);
        chain[4].1 = canonical(&[b"81234567890", b"write", b"patient:42", b"care"]);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 5,
                reason: BreakReason::HashMismatch
            })
        );
    }

    #[test]
    fn edited_field_with_recomputed_hash_breaks_the_next_link() {
        let mut chain = build(10);
        chain[4].1 = canonical(&[b"81234567890", b"write"]);
        chain[4].2 = chain_hash(&chain[3].2, &chain[4].1);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 6,
                reason: BreakReason::HashMismatch
            })
        );
    }

    #[test]
    fn edited_stored_hash_is_detected() {
        let mut chain = build(5);
        chain[2].2[0] ^= 1;
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 3,
                reason: BreakReason::HashMismatch
            })
        );
    }

    #[test]
    fn deleted_record_is_detected() {
        let mut chain = build(10);
        chain.remove(6);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 8,
                reason: BreakReason::OutOfSequence { expected: 7 }
            })
        );
        // Deleting the first record too.
        let mut chain = build(3);
        chain.remove(0);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 2,
                reason: BreakReason::OutOfSequence { expected: 1 }
            })
        );
    }

    #[test]
    fn deleted_and_renumbered_record_is_detected() {
        let mut chain = build(10);
        chain.remove(6);
        for (i, rec) in chain.iter_mut().enumerate() {
            rec.0 = i as i64 + 1;
        }
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 7,
                reason: BreakReason::HashMismatch
            })
        );
    }

    #[test]
    fn reordered_records_are_detected() {
        let mut chain = build(10);
        chain.swap(3, 4);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 5,
                reason: BreakReason::OutOfSequence { expected: 4 }
            })
        );
        // Swapping contents but keeping sequence numbers in order.
        let mut chain = build(10);
        let (a, b) = (chain[3].clone(), chain[4].clone());
        chain[3] = (4, b.1, b.2);
        chain[4] = (5, a.1, a.2);
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 4,
                reason: BreakReason::HashMismatch
            })
        );
    }

    #[test]
    fn inserted_record_is_detected() {
        let mut chain = build(5);
        let bytes = canonical(&[b"intruder"]);
        let hash = chain_hash(&chain[1].2, &bytes);
        chain.insert(2, (3, bytes, hash));
        assert_eq!(
            verify(&chain),
            Err(ChainBreak {
                seq: 3,
                reason: BreakReason::OutOfSequence { expected: 4 }
            })
        );
    }

    #[test]
    fn checkpoints_catch_truncation() {
        let keyring = Keyring::new(&MasterKeyFile::generate().unwrap()).unwrap();
        let chain = build(10);
        let head = verify(&chain).unwrap();
        let bytes = checkpoint_bytes(10, &head);
        let mac = keyring.audit_mac(&bytes);
        assert!(keyring.verify_audit_mac(&bytes, &mac));

        // Truncated to 9 records: the chain itself still verifies…
        let truncated = verify(&chain[..9]).unwrap();
        // …but the checkpoint for record 10 does not vouch for it.
        assert!(!keyring.verify_audit_mac(&checkpoint_bytes(9, &truncated), &mac));
        assert!(!keyring.verify_audit_mac(&checkpoint_bytes(9, &head), &mac));
        assert!(!keyring.verify_audit_mac(&checkpoint_bytes(10, &truncated), &mac));

        // Tampered or foreign MACs fail.
        let mut bad = mac;
        bad[31] ^= 1;
        assert!(!keyring.verify_audit_mac(&bytes, &bad));
        assert!(!keyring.verify_audit_mac(&bytes, &mac[..16]));
        let other = Keyring::new(&MasterKeyFile::generate().unwrap()).unwrap();
        assert!(!other.verify_audit_mac(&bytes, &mac));

        // The struct helper agrees.
        let cp = Checkpoint::sign(&keyring, 10, &head);
        assert_eq!(cp.mac, mac);
        assert!(cp.verify(&keyring));
        assert!(
            !Checkpoint {
                seq: 9,
                head: truncated,
                ..cp
            }
            .verify(&keyring)
        );
        assert!(!cp.verify(&other));
    }

    proptest::proptest! {
        /// Any single edit, deletion (other than of the newest records: that is
        /// truncation, caught by checkpoints) or swap of adjacent records is found.
        #[test]
        fn any_tampering_is_detected(
            n in 2i64..40,
            op in 0u8..4,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            bit in 0usize..512,
        ) {
            let mut chain = build(n);
            let len = chain.len();
            match op {
                0 => {
                    let rec = &mut chain[at.index(len)];
                    let b = bit % (rec.1.len() * 8);
                    rec.1[b / 8] ^= 1 << (b % 8);
                }
                1 => {
                    let rec = &mut chain[at.index(len)];
                    rec.2[(bit / 8) % 32] ^= 1 << (bit % 8);
                }
                2 => {
                    chain.remove(at.index(len - 1));
                }
                _ => {
                    let i = at.index(len - 1);
                    chain.swap(i, i + 1);
                }
            }
            proptest::prop_assert!(verify(&chain).is_err());
        }
    }

    #[test]
    fn checkpoint_bytes_layout() {
        let b = checkpoint_bytes(0x0102, &[7; 32]);
        assert_eq!(b.len(), 4 + CHECKPOINT_LABEL.len() + 8 + 32);
        assert_eq!(&b[..4], &CHECKPOINT_LABEL_LEN.to_be_bytes());
        assert_ne!(checkpoint_bytes(1, &[0; 32]), checkpoint_bytes(2, &[0; 32]));
    }
}
