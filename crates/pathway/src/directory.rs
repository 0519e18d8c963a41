//! The territory's directory: every professional of the CPTS's communes, whether they
//! have logged in (their entry is bound to their account, by national id) or only
//! appear in the national RPPS extraction (`rpps`). Public professional identity — the
//! Annuaire Santé publishes it — never health data; patients never appear here.
//!
//! Search is by name prefix, accent- and case-insensitive: each entry keeps a search
//! key (`search_key`: family name then given names, folded), and a query is a range
//! on that key, which one index answers on both databases whatever the size.

pub mod rpps;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::ProfessionCode;
use crate::ids::{AccountId, OrganisationId};
use crate::profile::{NationalId, Specialty};

text_enum! {
    /// Where an entry's identity comes from.
    pub enum EntrySource {
        /// The ANS public extraction (`cordee directory import`).
        Rpps = "rpps",
        /// A Pro Santé Connect login of someone the import has not (yet) listed.
        Psc = "psc",
    }
}

/// An INSEE commune code ("code officiel géographique"): five characters, digits, or
/// 2A/2B followed by three digits for Corsica. Not a postal code: Lille is 59350 and
/// its postal codes are 59000, 59160, 59260, 59777, 59800.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommuneCode(String);

impl CommuneCode {
    pub fn parse(text: &str) -> Option<CommuneCode> {
        let t = text.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        let ok = match b {
            [a, b1, rest @ ..] if rest.len() == 3 && rest.iter().all(u8::is_ascii_digit) => {
                (a.is_ascii_digit() && b1.is_ascii_digit())
                    || (*a == b'2' && matches!(b1, b'A' | b'B'))
            }
            _ => false,
        };
        ok.then_some(CommuneCode(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CommuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommuneCode({})", self.0)
    }
}

/// The Luhn check over a string of digits (RPPS numbers, SIREN and SIRET carry one).
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a national id is one the RPPS extraction can carry: "8" + an RPPS number
/// (11 digits whose last is the Luhn key) or "0" + an ADELI number (9 characters).
pub fn is_directory_id(id: &NationalId) -> bool {
    let t = id.as_str();
    match t.as_bytes().first() {
        Some(b'8') => t.len() == 12 && luhn_valid(&t[1..]),
        Some(b'0') => t.len() == 10 && t.bytes().all(|b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

/// Text as search compares it: lower case, accents removed (é → e, œ → oe), every
/// run of spaces and punctuation (hyphens, apostrophes) one space. "Lefèvre-D'Hondt"
/// and "LEFEVRE D HONDT" both give "lefevre d hondt".
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded: Option<&str> = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => Some("a"),
            'ç' => Some("c"),
            'è' | 'é' | 'ê' | 'ë' => Some("e"),
            'ì' | 'í' | 'î' | 'ï' => Some("i"),
            'ñ' => Some("n"),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => Some("o"),
            'ù' | 'ú' | 'û' | 'ü' => Some("u"),
            'ý' | 'ÿ' => Some("y"),
            'œ' => Some("oe"),
            'æ' => Some("ae"),
            'ß' => Some("ss"),
            _ => None,
        };
        if folded.is_none() && !c.is_alphanumeric() {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push(' ');
            gap = false;
        }
        match folded {
            Some(f) => out.push_str(f),
            None => out.push(c),
        }
    }
    out
}

/// The key an entry is found by: family name, then given names.
pub fn search_key(last_name: &str, first_name: &str) -> String {
    let last = normalise(last_name);
    let first = normalise(first_name);
    match (last.is_empty(), first.is_empty()) {
        (_, true) => last,
        (true, false) => first,
        (false, false) => format!("{last} {first}"),
    }
}

/// Past the end of every key that starts with a prefix: U+10FFFF sorts after every
/// character in byte order (SQLite's default, and the `C` collation the PostgreSQL
/// column is declared with), so `key >= p and key < p || U+10FFFF` is a prefix match
/// one index range answers.
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// What `q` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// A name. `prefix`: the key starts with what was typed (family name first,
    /// "dubois pa"). `given_first`: people also type the given name first ("paul
    /// dub"), so each split of the words into given names then the start of the family
    /// name is tried too: the key starts with that family prefix and holds the given
    /// names.
    Name {
        prefix: String,
        given_first: Vec<GivenFirst>,
    },
    /// Digits only: the start of a national id, with or without RPPS's leading "8".
    NationalId(Vec<String>),
}

/// "paul dub": the key starts with `family` ("dub") and holds `given` ("paul") as the
/// start of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenFirst {
    pub family: String,
    pub given: String,
}

impl GivenFirst {
    /// The `like` pattern for the given names (the folded key holds no `%` or `_`).
    pub fn pattern(&self) -> String {
        format!("% {}%", self.given)
    }
}

/// The shortest id prefix searched (shorter ones would match most of a national
/// import and say nothing).
const MIN_ID_DIGITS: usize = 5;
const MAX_QUERY_CHARS: usize = 100;
/// Given-first splits are tried for the first words only, and for family prefixes of
/// three characters or more: each is one more index range to read, filtered by the
/// given names, and a short prefix is a long range ("dupont ma" read as given name
/// "dupont" would read every key starting with "ma").
const MAX_SPLIT_WORDS: usize = 4;
const MIN_FAMILY_PREFIX: usize = 3;

impl Search {
    /// `None` when `q` holds nothing to search by (only punctuation, too long, too
    /// few digits); the caller answers with an empty page.
    pub fn parse(q: &str) -> Option<Search> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return None;
        }
        let norm = normalise(q);
        if norm.is_empty() {
            return None;
        }
        if norm.bytes().all(|b| b.is_ascii_digit()) {
            if norm.len() < MIN_ID_DIGITS {
                return None;
            }
            let mut ids = vec![norm.clone()];
            if !norm.starts_with('8') && !norm.starts_with('0') {
                ids.push(format!("8{norm}"));
            }
            return Some(Search::NationalId(ids));
        }
        let words: Vec<&str> = norm.split(' ').collect();
        let given_first = (1..words.len().min(MAX_SPLIT_WORDS))
            .filter_map(|k| {
                let (given, family) = (words.get(..k)?, words.get(k..)?);
                let family = family.join(" ");
                (family.len() >= MIN_FAMILY_PREFIX).then(|| GivenFirst {
                    family,
                    given: given.join(" "),
                })
            })
            .collect();
        Some(Search::Name {
            prefix: norm,
            given_first,
        })
    }
}

/// Where a page of the directory starts: after this (key, national id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryCursor {
    pub key: String,
    pub national_id: NationalId,
}

impl DirectoryCursor {
    /// `NATIONAL_ID~HEX(KEY)`: opaque to clients, readable in logs, no escaping.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.national_id, key_to_hex(&self.key))
    }

    pub fn parse(text: &str) -> Option<DirectoryCursor> {
        let (id, hex) = text.split_once('~')?;
        Some(DirectoryCursor {
            key: key_from_hex(hex, 1024)?,
            national_id: NationalId::parse(id)?,
        })
    }
}

/// A cursor's sort key as hex (the directory's and the organisations' cursors).
pub(crate) fn key_to_hex(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The key back from at most `max` hex digits. A forged key only moves the page
/// start: bytes that are not UTF-8 are read lossily rather than refused.
pub(crate) fn key_from_hex(hex: &str, max: usize) -> Option<String> {
    if !hex.len().is_multiple_of(2) || hex.len() > max {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A page request on the directory.
#[derive(Clone, Debug, Default)]
pub struct DirectoryQuery {
    pub search: Option<Search>,
    pub profession: Option<ProfessionCode>,
    pub commune: Option<CommuneCode>,
    pub organisation: Option<OrganisationId>,
    pub after: Option<DirectoryCursor>,
    /// Rows asked of the store: the page size plus one (see `page_of`).
    pub limit: i64,
}

/// One professional as the directory shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub national_id: NationalId,
    pub account_id: Option<AccountId>,
    pub civility: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    /// The profession and specialty of the first activity listed.
    pub profession: Option<ProfessionCode>,
    pub specialty: Option<Specialty>,
    /// TRE_R23 mode of the first activity: L libéral, S salarié, B bénévole.
    pub mode: Option<String>,
    pub commune_code: Option<CommuneCode>,
    /// From the activities (import or login) and the account's memberships.
    pub organisation_ids: Vec<OrganisationId>,
    pub cpts_member: bool,
    pub source: EntrySource,
    pub search_key: String,
}

impl DirectoryEntry {
    pub fn cursor(&self) -> DirectoryCursor {
        DirectoryCursor {
            key: self.search_key.clone(),
            national_id: self.national_id.clone(),
        }
    }
}

/// The display name the directory writes: given names, then the family name as the
/// register writes it ("Claire MARTIN").
pub fn display_name(first_name: &str, last_name: &str) -> String {
    match (first_name.trim(), last_name.trim()) {
        ("", last) => last.to_string(),
        (first, "") => first.to_string(),
        (first, last) => format!("{first} {last}"),
    }
}

/// Given names as the register writes them ("Jean-Baptiste") when they come in
/// capitals, as Pro Santé Connect sends them ("JEAN-BAPTISTE"). Mixed case is kept.
pub fn given_name_case(text: &str) -> String {
    if text.chars().any(char::is_lowercase) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphanumeric();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_folded() {
        let cases = [
            ("Lefèvre-D'Hondt", "lefevre d hondt"),
            ("LEFEVRE  D HONDT", "lefevre d hondt"),
            ("  Éloïse ", "eloise"),
            ("Cœur", "coeur"),
            ("Ñúñez", "nunez"),
            ("Saint-André-lez-Lille", "saint andre lez lille"),
            ("--", ""),
            ("O'Brien", "o brien"),
            ("ÇA", "ca"),
        ];
        for (text, expected) in cases {
            assert_eq!(normalise(text), expected, "{text}");
        }
        assert_eq!(search_key("MARTIN", "Claire"), "martin claire");
        assert_eq!(search_key("DUBOIS", ""), "dubois");
    }

    fn given(family: &str, given: &str) -> GivenFirst {
        GivenFirst {
            family: family.into(),
            given: given.into(),
        }
    }

    #[test]
    fn queries_become_key_prefixes() {
        let name = |prefix: &str, given_first: Vec<GivenFirst>| {
            Some(Search::Name {
                prefix: prefix.into(),
                given_first,
            })
        };
        let cases = [
            ("Lefè", name("lefe", vec![])),
            (
                "claire mar",
                name("claire mar", vec![given("mar", "claire")]),
            ),
            (
                "Éloïse LEFE",
                name("eloise lefe", vec![given("lefe", "eloise")]),
            ),
            // A short family prefix would read a long stretch of the index.
            ("paul du", name("paul du", vec![])),
            (
                "marie le go",
                name("marie le go", vec![given("le go", "marie")]),
            ),
            ("  ", None),
            ("1234", None),
            (
                "10001001014",
                Some(Search::NationalId(vec![
                    "10001001014".into(),
                    "810001001014".into(),
                ])),
            ),
            (
                "810001001014",
                Some(Search::NationalId(vec!["810001001014".into()])),
            ),
        ];
        for (q, expected) in cases {
            assert_eq!(Search::parse(q), expected, "{q:?}");
        }
        assert_eq!(Search::parse(&"a".repeat(101)), None);
        assert_eq!(Search::parse("'"), None);
        assert_eq!(given("dub", "paul").pattern(), "% paul%");
    }

    #[test]
    fn given_names_in_capitals_are_written_as_the_register_does() {
        let cases = [
            ("LUCAS", "Lucas"),
            ("JEAN-BAPTISTE", "Jean-Baptiste"),
            ("ÉLOÏSE", "Éloïse"),
            ("MARIE CLAIRE", "Marie Claire"),
            ("Anne-Sophie", "Anne-Sophie"),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(given_name_case(text), expected, "{text}");
        }
    }

    #[test]
    fn commune_codes_are_insee_codes() {
        for ok in ["59350", "2A004", "2b033", "97411"] {
            assert!(CommuneCode::parse(ok).is_some(), "{ok}");
        }
        assert_eq!(CommuneCode::parse("2b033").unwrap().as_str(), "2B033");
        for bad in ["", "5935", "593500", "2C004", "59 35", "A9350", "5935O"] {
            assert!(CommuneCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn directory_ids_carry_their_key() {
        let cases = [
            ("810001001014", true),
            ("810001001015", false),
            ("81000100101", false),
            ("0591234567", true),
            ("3750100019/A12", false),
        ];
        for (id, ok) in cases {
            assert_eq!(is_directory_id(&NationalId::parse(id).unwrap()), ok, "{id}");
        }
    }

    #[test]
    fn cursors_round_trip() {
        let cursor = DirectoryCursor {
            key: "lefevre d hondt marie".into(),
            national_id: NationalId::parse("810001001014").unwrap(),
        };
        assert_eq!(DirectoryCursor::parse(&cursor.encode()), Some(cursor));
        for bad in [
            "",
            "810001001014",
            "810001001014~6",
            "x~61",
            "810001001014~zz",
        ] {
            assert_eq!(DirectoryCursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prefix_end_is_past_every_continuation() {
        let end = prefix_end("dub");
        for key in ["dub", "dubois paul", "dubé", "dub\u{FFFF}"] {
            assert!(key >= "dub" && key < end.as_str(), "{key}");
        }
        assert!("duc" > end.as_str());
    }
}
