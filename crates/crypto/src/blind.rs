//! Blind indexes: equality search over encrypted identity traits.
//!
//! A blind index is `HMAC-SHA256(k, purpose ‖ 0x00 ‖ normalise(value))` truncated to
//! 128 bits, with `k` derived from the master root secret (see [`crate::Keyring`]).
//! Stored next to the sealed value, it lets the database find rows whose (say)
//! family name equals a query without ever seeing the name. Without the key the
//! index reveals nothing but equality between rows.
//!
//! * **`purpose`** (e.g. `"patient.family_name"`, `"patient.ins"`) separates
//!   indexes of different traits: the same string as a family name and as a first
//!   name gives unrelated indexes, so indexes cannot be correlated across columns.
//!   It must not contain a NUL byte (the separator).
//! * **Normalisation** (see [`normalise`]) makes the match tolerant of how names are
//!   typed in practice — case, accents, spaces, hyphens, apostrophes — which is
//!   what a clinician searching for "Lefèvre-Dupont" expects.

use core::fmt;

use ring::hmac;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Length of a blind index in bytes.
///
/// 128 bits because:
/// * **collisions are negligible**: among `n` distinct values the chance of any
///   two sharing an index is about `n² / 2¹²⁹` — for ten million patients, about
///   10⁻²⁵;
/// * **false positives are harmless anyway**: a match is only a candidate, which the
///   gateway confirms by decrypting the row and comparing;
/// * **shorter would not buy privacy**: truncating further (the "k-anonymity by
///   collisions" trick) would not hide that two rows hold the same value — equal
///   values always give equal indexes, whatever the length — while it would make
///   searches return more unrelated rows to decrypt;
/// * half the HMAC output keeps the column small (16 bytes) and indexable.
pub const BLIND_INDEX_LEN: usize = 16;

/// A truncated HMAC blind index. Not secret by itself (it is stored in the clear),
/// so `Debug` shows its hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlindIndex([u8; BLIND_INDEX_LEN]);

impl BlindIndex {
    /// The raw 16 bytes, for a `BYTEA`/`BLOB` column.
    pub fn as_bytes(&self) -> &[u8; BLIND_INDEX_LEN] {
        &self.0
    }

    /// Rebuilds an index read back from storage; `None` unless exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<BlindIndex> {
        bytes.try_into().ok().map(BlindIndex)
    }

    /// Lower-case hex (32 characters), for text columns and logs.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(BLIND_INDEX_LEN * 2);
        for byte in self.0 {
            for nibble in [byte >> 4, byte & 0x0f] {
                if let Some(&d) = DIGITS.get(usize::from(nibble)) {
                    out.push(char::from(d));
                }
            }
        }
        out
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindIndex({})", self.to_hex())
    }
}

impl fmt::Display for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Computes the index (called through [`crate::Keyring::blind_index`]).
pub(crate) fn compute(key: &hmac::Key, purpose: &str, value: &str) -> BlindIndex {
    debug_assert!(!purpose.contains('\0'), "blind index purpose contains NUL");
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(purpose.as_bytes());
    ctx.update(&[0]);
    ctx.update(normalise(value).as_bytes());
    let tag = ctx.sign();
    let mut out = [0u8; BLIND_INDEX_LEN];
    for (o, t) in out.iter_mut().zip(tag.as_ref()) {
        *o = *t;
    }
    BlindIndex(out)
}

/// The normal form under which two spellings of an identity trait are "the same".
///
/// Steps:
/// 1. Unicode compatibility decomposition (NFKD): `è` → `e` + combining grave,
///    ligatures such as `ﬁ` → `fi`, full-width forms → ASCII;
/// 2. upper case (full Unicode mapping: `ß` → `SS`), then decompose again since
///    upper-casing can produce precomposed letters;
/// 3. drop combining marks — the accents;
/// 4. expand the letters that are ligatures but have no decomposition:
///    `Œ` → `OE`, `Æ` → `AE` (common in French: "Œuvre", "Lætitia");
/// 5. remove whitespace, hyphens and dashes, apostrophes and quote marks — so
///    "Saint-Exupéry", "SAINT EXUPERY" and "Saint Exupery" agree, as do "N'Diaye"
///    and "NDIAYE" — which also trims.
///
/// Other punctuation and letters without a decomposition (`Ø`, `Ł`) are kept.
/// The function is idempotent: `normalise(normalise(x)) == normalise(x)`.
pub fn normalise(value: &str) -> String {
    let upper: String = value.nfkd().collect::<String>().to_uppercase();
    let mut out = String::with_capacity(upper.len());
    for c in upper.nfkd() {
        if is_combining_mark(c) || is_folded(c) {
            continue;
        }
        match c {
            'Œ' => out.push_str("OE"),
            'Æ' => out.push_str("AE"),
            other => out.push(other),
        }
    }
    out
}

/// Characters that carry no identity: separators people type inconsistently.
fn is_folded(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            // hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em
            // dash, horizontal bar, minus sign, soft hyphen
            '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
                | '\u{2212}' | '\u{00AD}'
                // apostrophes and single quotes: ASCII, typographic, modifier letter,
                // grave/acute used as apostrophes, prime
                | '\'' | '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{02BC}' | '`' | '\u{00B4}'
                | '\u{2032}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn french_names() {
        let expected = "LEFEVREDUPONT";
        for v in [
            "Lefèvre-Dupont ",
            "LEFEVRE DUPONT",
            "lefevre dupont",
            "  Lefèvre – Dupont",
            "LEFÈVRE-DUPONT",
            "Le\u{0301}fe\u{0300}vre-dupont", // already decomposed
        ] {
            assert_eq!(normalise(v), expected, "for {v:?}");
        }
        assert_eq!(normalise("N'Diaye"), "NDIAYE");
        assert_eq!(normalise("N’DIAYE"), "NDIAYE");
        assert_eq!(normalise("d\u{2019}Artagnan"), "DARTAGNAN");
        assert_eq!(normalise("Françoise"), "FRANCOISE");
        assert_eq!(normalise("Hélène Noël"), "HELENENOEL");
    }

    #[test]
    fn ligatures_and_special_letters() {
        assert_eq!(normalise("Œuvre"), "OEUVRE");
        assert_eq!(normalise("cœur"), "COEUR");
        assert_eq!(normalise("Lætitia"), "LAETITIA");
        assert_eq!(normalise("Strauß"), "STRAUSS");
        assert_eq!(normalise("STRAUSS"), "STRAUSS");
        assert_eq!(normalise("ﬁne"), "FINE");
        assert_eq!(normalise("Ｄｕｐｏｎｔ"), "DUPONT");
        assert_eq!(normalise("Øre"), "ØRE");
    }

    #[test]
    fn empty_and_blank() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise(" \t-' "), "");
    }

    #[test]
    fn hex_and_bytes() {
        let idx = BlindIndex([0x01, 0xAB, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(idx.to_hex(), "01ab00000000000000000000000000ff");
        assert_eq!(idx.to_string(), idx.to_hex());
        assert_eq!(format!("{idx:?}"), format!("BlindIndex({})", idx.to_hex()));
        assert_eq!(BlindIndex::from_slice(idx.as_bytes()), Some(idx));
        assert_eq!(BlindIndex::from_slice(&[0; 15]), None);
    }

    #[test]
    fn purpose_and_key_separate_indexes() {
        let k1 = hmac::Key::new(hmac::HMAC_SHA256, b"one");
        let k2 = hmac::Key::new(hmac::HMAC_SHA256, b"two");
        let a = compute(&k1, "patient.family_name", "Martin");
        assert_eq!(a, compute(&k1, "patient.family_name", "MARTIN "));
        assert_ne!(a, compute(&k1, "patient.given_name", "Martin"));
        assert_ne!(a, compute(&k2, "patient.family_name", "Martin"));
        // The NUL separator keeps purpose and value apart.
        assert_ne!(compute(&k1, "ab", "C"), compute(&k1, "a", "BC"));
    }

    proptest! {
        #[test]
        fn normalise_is_idempotent(s in "\\PC{0,24}") {
            let once = normalise(&s);
            prop_assert_eq!(normalise(&once), once.clone());
        }

        #[test]
        fn normalised_output_has_no_folded_characters(s in "\\PC{0,24}") {
            let n = normalise(&s);
            prop_assert!(!n.chars().any(|c| is_folded(c) || is_combining_mark(c)));
        }
    }
}
