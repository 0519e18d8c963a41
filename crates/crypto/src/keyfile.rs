//! The master key file: the only long-lived secret Cordée needs.
//!
//! # Text format (version 1)
//!
//! ```text
//! # Cordée master key file. SECRET: whoever holds it can decrypt every record.
//! cordee-master-key v1
//! root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
//! kek 1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
//! kek 2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
//! ```
//!
//! * UTF-8 text, one entry per line; blank lines and lines starting with `#` are
//!   ignored; leading/trailing whitespace and `\r\n` line ends are tolerated;
//!   fields are separated by runs of spaces/tabs.
//! * The first entry is the header `cordee-master-key v1`.
//! * Exactly one `root <secret>` line.
//! * One or more `kek <version> <secret>` lines, `version` a decimal `u32` ≥ 1,
//!   each version at most once, in any order. The **highest version is current**:
//!   new data keys are wrapped with it.
//! * `<secret>` is 32 bytes in standard base64 with padding (44 characters).
//!
//! # Why two kinds of secret
//!
//! * The **root** secret feeds HKDF-SHA256 to derive the keys that must stay stable
//!   forever: the blind-index key and the audit-checkpoint key. It does **not**
//!   rotate: rotating it would change every blind index (all searches would miss
//!   until every index column were recomputed from decrypted data) and invalidate
//!   every signed audit checkpoint (the chain's history could no longer be proven).
//! * Each **KEK version** is an independent random secret from which HKDF derives
//!   that version's wrapping key. KEKs do rotate: add a version (it becomes
//!   current), rewrap every data key with it, then remove the old version. Removing
//!   a version is what makes old wrapped keys (e.g. in backups) useless.

use core::fmt;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::secret::{SECRET_LEN, Secret32};

/// First line (entry) of a version-1 key file.
const HEADER: &str = "cordee-master-key v1";

/// Comment written at the top of generated files.
const PREAMBLE: &str = "\
# Cordée master key file. SECRET: whoever holds it can decrypt every record.
# Keep it out of backups of the database. Format: cordee-crypto crate docs.
# `root` never changes; `kek N` lines are wrapping-key versions, highest = current.
";

/// Length of a 32-byte secret in padded base64.
const B64_LEN: usize = 44;

/// The parsed master key file: the root secret and every KEK version.
///
/// Secrets are zeroized on drop and never printed (`Debug` shows only versions).
/// Not `Clone`: there should be one copy of the master key in memory.
#[derive(PartialEq, Eq)]
pub struct MasterKeyFile {
    root: Secret32,
    keks: BTreeMap<u32, Secret32>,
    /// Highest key of `keks`; kept alongside so the invariant "there is always a
    /// current version" does not need an unreachable error path.
    current: u32,
}

impl MasterKeyFile {
    /// A new file: random root secret and KEK version 1, from the OS generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let root = Secret32::random(&rng)?;
        let mut keks = BTreeMap::new();
        keks.insert(1, Secret32::random(&rng)?);
        Ok(MasterKeyFile {
            root,
            keks,
            current: 1,
        })
    }

    /// Parses the text format (see the module docs). Errors are
    /// [`CryptoError::KeyFile`] naming the line and the problem; they never quote
    /// the line's content, which could be secret.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut seen_header = false;
        let mut root = None;
        let mut keks = BTreeMap::new();

        for (index, raw) in text.lines().enumerate() {
            let line_no = index.saturating_add(1);
            let err = |what: &str| CryptoError::KeyFile(format!("line {line_no}: {what}"));
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let keyword = words.next().unwrap_or_default();

            if !seen_header {
                if keyword != "cordee-master-key" {
                    return Err(err("expected the header `cordee-master-key v1`"));
                }
                if words.next() != Some("v1") || words.next().is_some() {
                    return Err(err(
                        "unsupported header: this build reads `cordee-master-key v1`",
                    ));
                }
                seen_header = true;
                continue;
            }

            match keyword {
                "root" => {
                    let secret = words
                        .next()
                        .ok_or_else(|| err("`root` needs a base64 secret"))?;
                    if words.next().is_some() {
                        return Err(err("unexpected text after the root secret"));
                    }
                    if root.is_some() {
                        return Err(err("duplicate `root` line"));
                    }
                    root = Some(decode_secret(secret).ok_or_else(|| {
                        err("root secret must be 32 bytes in padded standard base64")
                    })?);
                }
                "kek" => {
                    let version = words
                        .next()
                        .and_then(|v| v.parse::<u32>().ok())
                        .filter(|v| *v >= 1)
                        .ok_or_else(|| err("`kek` needs a version number from 1 to 4294967295"))?;
                    let secret = words
                        .next()
                        .ok_or_else(|| err("`kek` needs a base64 secret after the version"))?;
                    if words.next().is_some() {
                        return Err(err("unexpected text after the kek secret"));
                    }
                    if keks.contains_key(&version) {
                        return Err(err(&format!("duplicate kek version {version}")));
                    }
                    let secret = decode_secret(secret).ok_or_else(|| {
                        err("kek secret must be 32 bytes in padded standard base64")
                    })?;
                    keks.insert(version, secret);
                }
                _ => return Err(err("unknown entry (expected `root` or `kek`)")),
            }
        }

        if !seen_header {
            return Err(CryptoError::KeyFile(
                "empty file: expected the header `cordee-master-key v1`".into(),
            ));
        }
        let root = root.ok_or_else(|| CryptoError::KeyFile("missing `root` line".into()))?;
        let current = keks
            .keys()
            .next_back()
            .copied()
            .ok_or_else(|| CryptoError::KeyFile("no `kek` line".into()))?;
        Ok(MasterKeyFile {
            root,
            keks,
            current,
        })
    }

    /// Serialises to the text format. The result is zeroized on drop; write it
    /// out (with restrictive permissions) and let it go.
    pub fn to_text(&self) -> Zeroizing<String> {
        // Reserve everything up front so the buffer never reallocates (which would
        // leave an unzeroized copy of the secrets behind).
        let line_max = "kek 4294967295 ".len() + B64_LEN + 1;
        let capacity = PREAMBLE.len() + HEADER.len() + 1 + line_max * (self.keks.len() + 1);
        let mut out = Zeroizing::new(String::with_capacity(capacity));
        out.push_str(PREAMBLE);
        out.push_str(HEADER);
        out.push_str("\nroot ");
        push_secret(&mut out, &self.root);
        for (version, secret) in &self.keks {
            out.push_str("\nkek ");
            out.push_str(&version.to_string());
            out.push(' ');
            push_secret(&mut out, secret);
        }
        out.push('\n');
        out
    }

    /// Adds a new random KEK version (current + 1), which becomes current.
    /// Returns the new version.
    pub fn add_version(&mut self) -> Result<u32, CryptoError> {
        let next = self
            .current
            .checked_add(1)
            .ok_or_else(|| CryptoError::KeyFile("KEK version space exhausted".into()))?;
        let secret = Secret32::random(&SystemRandom::new())?;
        self.keks.insert(next, secret);
        self.current = next;
        Ok(next)
    }

    /// Removes an old KEK version (after every key wrapped with it was rewrapped).
    /// Refuses to remove the current version — which is also the last one left:
    /// that would make the file unable to wrap anything.
    pub fn remove_version(&mut self, version: u32) -> Result<(), CryptoError> {
        if version == self.current {
            return Err(CryptoError::KeyFile(format!(
                "refusing to remove KEK version {version}: it is the current version"
            )));
        }
        // Dropping the removed secret zeroizes it.
        self.keks
            .remove(&version)
            .map(drop)
            .ok_or(CryptoError::UnknownKeyVersion(version))
    }

    /// The KEK versions present, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keks.keys().copied().collect()
    }

    /// The current (highest) KEK version.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    pub(crate) fn root(&self) -> &Secret32 {
        &self.root
    }

    pub(crate) fn keks(&self) -> impl Iterator<Item = (u32, &Secret32)> {
        self.keks.iter().map(|(v, s)| (*v, s))
    }
}

impl fmt::Debug for MasterKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeyFile")
            .field("versions", &self.versions())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// Decodes a padded-base64 32-byte secret via a zeroized scratch buffer.
fn decode_secret(text: &str) -> Option<Secret32> {
    if text.len() != B64_LEN {
        return None;
    }
    let mut buf = Zeroizing::new([0u8; 48]);
    let len = STANDARD.decode_slice(text, &mut buf[..]).ok()?;
    Secret32::from_slice(buf.get(..len)?).ok()
}

/// Appends a secret in padded base64 via a zeroized scratch buffer.
fn push_secret(out: &mut String, secret: &Secret32) {
    let mut buf = Zeroizing::new([0u8; B64_LEN]);
    // A 32-byte input always encodes to exactly B64_LEN ASCII characters.
    if let Ok(len) = STANDARD.encode_slice(secret.expose(), &mut buf[..])
        && let Some(Ok(text)) = buf.get(..len).map(core::str::from_utf8)
    {
        out.push_str(text);
    }
}

// Compile-time check of the constant above.
const _: () = assert!(B64_LEN == SECRET_LEN.div_ceil(3) * 4);

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    fn file(body: &str) -> Result<MasterKeyFile, CryptoError> {
        MasterKeyFile::parse(body)
    }

    fn key_file_error(r: Result<MasterKeyFile, CryptoError>) -> String {
        match r {
            Err(CryptoError::KeyFile(m)) => m,
            other => panic!("expected a KeyFile error, got {other:?}"),
        }
    }

    #[test]
    fn generate_round_trips_through_text() {
        let mut f = MasterKeyFile::generate().unwrap();
        assert_eq!(f.versions(), vec![1]);
        assert_eq!(f.add_version().unwrap(), 2);
        assert_eq!(f.current_version(), 2);
        let text = f.to_text();
        assert!(text.starts_with('#'));
        let parsed = MasterKeyFile::parse(&text).unwrap();
        assert_eq!(parsed, f);
        assert_eq!(parsed.versions(), vec![1, 2]);
        assert_eq!(parsed.current_version(), 2);
        assert_eq!(*parsed.to_text(), *text);
    }

    #[test]
    fn documented_example_parses() {
        let text = format!(
            "# comment\n\n  cordee-master-key   v1 \r\nroot {ZERO}\r\nkek 2 {ZERO}\n\tkek 1 {ZERO}\n"
        );
        let f = file(&text).unwrap();
        assert_eq!(f.versions(), vec![1, 2]);
        assert_eq!(f.current_version(), 2);
    }

    #[test]
    fn generated_files_differ() {
        let a = MasterKeyFile::generate().unwrap();
        let b = MasterKeyFile::generate().unwrap();
        assert_ne!(a, b);
        assert_ne!(*a.to_text(), *b.to_text());
    }

    #[test]
    fn parse_errors_are_clear_and_never_echo_secrets() {
        // A "secret" that is valid base64 of the wrong length, with a marker.
        let marker = "U0VDUkVUU0VDUkVUU0VDUkVUU0VDUkVU";
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty file"),
            ("# only a comment\n".into(), "empty file"),
            (format!("root {ZERO}\n"), "line 1: expected the header"),
            (
                "cordee-master-key v2\n".into(),
                "line 1: unsupported header",
            ),
            ("cordee-master-key v1\n".into(), "missing `root`"),
            (
                format!("cordee-master-key v1\nroot {ZERO}\n"),
                "no `kek` line",
            ),
            (
                format!("cordee-master-key v1\nroot {marker}\n"),
                "line 2: root secret must be 32 bytes",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nroot {ZERO}\n"),
                "line 3: duplicate `root`",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO} {marker}\n"),
                "line 2: unexpected text",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nkek 0 {ZERO}\n"),
                "line 3: `kek` needs a version",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nkek x {ZERO}\n"),
                "line 3: `kek` needs a version",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nkek 1\n"),
                "line 3: `kek` needs a base64 secret",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nkek 1 {marker}\n"),
                "line 3: kek secret must be 32 bytes",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\nkek 1 {ZERO}\nkek 1 {ZERO}\n"),
                "line 4: duplicate kek version 1",
            ),
            (
                format!("cordee-master-key v1\nroot {ZERO}\n{marker}\n"),
                "line 3: unknown entry",
            ),
            (
                format!("cordee-master-key v1\nroot {}\n", &ZERO[..43]),
                "line 2: root secret",
            ),
            (
                format!("cordee-master-key v1\nroot {}!\n", &ZERO[..43]),
                "line 2: root secret",
            ),
        ];
        for (text, expected) in cases {
            let message = key_file_error(file(&text));
            assert!(
                message.contains(expected),
                "for {text:?}: got {message:?}, expected {expected:?}"
            );
            assert!(!message.contains(marker), "secret echoed: {message}");
            assert!(!message.contains("AAAA"), "secret echoed: {message}");
        }
    }

    #[test]
    fn remove_version_rules() {
        let mut f = MasterKeyFile::generate().unwrap();
        // The only version is the current one.
        assert!(matches!(f.remove_version(1), Err(CryptoError::KeyFile(_))));
        f.add_version().unwrap();
        f.add_version().unwrap();
        assert!(matches!(f.remove_version(3), Err(CryptoError::KeyFile(_))));
        assert_eq!(f.remove_version(7), Err(CryptoError::UnknownKeyVersion(7)));
        f.remove_version(1).unwrap();
        assert_eq!(f.versions(), vec![2, 3]);
        assert_eq!(f.current_version(), 3);
        let reparsed = MasterKeyFile::parse(&f.to_text()).unwrap();
        assert_eq!(reparsed.versions(), vec![2, 3]);
    }

    #[test]
    fn add_version_refuses_overflow() {
        let text = format!("cordee-master-key v1\nroot {ZERO}\nkek 4294967295 {ZERO}\n");
        let mut f = file(&text).unwrap();
        assert!(matches!(f.add_version(), Err(CryptoError::KeyFile(_))));
        assert_eq!(f.current_version(), u32::MAX);
    }
}
