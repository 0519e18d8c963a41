//! Reading the ANS public extraction `PS_LibreAcces_Personne_activite`: pipe-separated,
//! a trailing `|` on every line, one line per activity (a professional working in two
//! places has two lines, one after the other).
//!
//! Columns are found by their normalised header name (case, accents, spaces and
//! punctuation ignored: "Code commune (coord. structure)" and "CODE COMMUNE COORD
//! STRUCTURE" are the same column), because the spellings vary between releases. Only
//! the columns listed in [`Column`] are read; the others are ignored. A line is decoded
//! as UTF-8, or as Windows-1252 (older releases) when it is not valid UTF-8.
//!
//! Everything here is pure: the store streams the file through it.

use std::borrow::Cow;
use std::fmt;

use super::{CommuneCode, is_directory_id};
use crate::account::ProfessionCode;
use crate::organisation::{Finess, Siret};
use crate::profile::{NationalId, Specialty};

/// The columns Cordée reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    NationalId,
    Civility,
    LastName,
    FirstName,
    Profession,
    SpecialtyType,
    Specialty,
    Mode,
    Siret,
    Finess,
    StructureId,
    SiteName,
    Enseigne,
    Sector,
    Commune,
}

impl Column {
    pub const ALL: [Column; 15] = [
        Column::NationalId,
        Column::Civility,
        Column::LastName,
        Column::FirstName,
        Column::Profession,
        Column::SpecialtyType,
        Column::Specialty,
        Column::Mode,
        Column::Siret,
        Column::Finess,
        Column::StructureId,
        Column::SiteName,
        Column::Enseigne,
        Column::Sector,
        Column::Commune,
    ];

    /// The name in the current release, as a person reads it.
    pub fn title(self) -> &'static str {
        match self {
            Column::NationalId => "Identification nationale PP",
            Column::Civility => "Code civilité d'exercice",
            Column::LastName => "Nom d'exercice",
            Column::FirstName => "Prénom d'exercice",
            Column::Profession => "Code profession",
            Column::SpecialtyType => "Code type savoir-faire",
            Column::Specialty => "Code savoir-faire",
            Column::Mode => "Code mode exercice",
            Column::Siret => "Numéro SIRET site",
            Column::Finess => "Numéro FINESS site",
            Column::StructureId => "Identifiant technique de la structure",
            Column::SiteName => "Raison sociale site",
            Column::Enseigne => "Enseigne commerciale site",
            Column::Sector => "Code secteur d'activité",
            Column::Commune => "Code commune (coord. structure)",
        }
    }

    /// Normalised spellings seen across releases (see [`header_key`]).
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Column::NationalId => &["identificationnationalepp", "identifiantnationalpp"],
            Column::Civility => &["codecivilitedexercice", "codecivilite"],
            Column::LastName => &["nomdexercice", "nomexercice"],
            Column::FirstName => &["prenomdexercice", "prenomexercice"],
            Column::Profession => &["codeprofession"],
            Column::SpecialtyType => &["codetypesavoirfaire"],
            Column::Specialty => &["codesavoirfaire"],
            Column::Mode => &["codemodeexercice", "codemodedexercice"],
            Column::Siret => &["numerosiretsite", "siretsite"],
            Column::Finess => &["numerofinesssite", "finesssite"],
            Column::StructureId => &[
                "identifianttechniquedelastructure",
                "identifianttechniquestructure",
            ],
            Column::SiteName => &["raisonsocialesite"],
            Column::Enseigne => &["enseignecommercialesite"],
            Column::Sector => &["codesecteurdactivite", "codesecteuractivite"],
            Column::Commune => &["codecommunecoordstructure", "codecommunestructure"],
        }
    }

    /// Without these a line means nothing to the directory.
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::NationalId
                | Column::LastName
                | Column::FirstName
                | Column::Profession
                | Column::Commune
        )
    }

    fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// A header name as columns are matched: accents folded, lower case, only letters and
/// digits kept.
pub fn header_key(name: &str) -> String {
    super::normalise(name).replace(' ', "")
}

/// Decodes one line: UTF-8, or Windows-1252 when the bytes are not UTF-8 (Latin-1
/// with the printable characters of 0x80–0x9F). A UTF-8 byte-order mark is dropped,
/// and so is the line end (`\n` or `\r\n`).
pub fn decode_line(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|b| windows_1252(*b)).collect()),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH
            .get(usize::from(b - 0x80))
            .copied()
            .unwrap_or('\u{FFFD}'),
        _ => char::from(b),
    }
}

/// The fields of a line: split on `|`, without the empty field after the trailing `|`.
fn fields(line: &str, width: Option<usize>) -> Vec<&str> {
    let mut fields: Vec<&str> = line.split('|').collect();
    let trailing = fields.last().is_some_and(|f| f.is_empty());
    let drop = match width {
        None => trailing,
        Some(w) => trailing && fields.len() == w + 1,
    };
    if drop {
        fields.pop();
    }
    fields
}

/// Where each column is in this file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    positions: [Option<usize>; 15],
    width: usize,
}

/// A header without some of the columns the directory needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingColumns(pub Vec<Column>);

impl fmt::Display for MissingColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .0
            .iter()
            .map(|c| format!("\"{}\"", c.title()))
            .collect();
        let (noun, list) = match names.as_slice() {
            [one] => ("the column", one.clone()),
            [init @ .., last] => ("the columns", format!("{} and {last}", init.join(", "))),
            [] => ("no column", String::new()),
        };
        write!(
            f,
            "this file lacks {noun} {list}, which the directory needs; is it the ANS extraction PS_LibreAcces_Personne_activite (pipe-separated, with its header line)?"
        )
    }
}

impl Header {
    pub fn parse(line: &str) -> Result<Header, MissingColumns> {
        let names = fields(line, None);
        let keys: Vec<String> = names.iter().map(|n| header_key(n)).collect();
        let mut positions = [None; 15];
        for column in Column::ALL {
            let found = keys
                .iter()
                .position(|k| column.spellings().contains(&k.as_str()));
            if let Some(slot) = positions.get_mut(column.index()) {
                *slot = found;
            }
        }
        let missing: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|c| c.required() && positions.get(c.index()).copied().flatten().is_none())
            .collect();
        if !missing.is_empty() {
            return Err(MissingColumns(missing));
        }
        Ok(Header {
            positions,
            width: names.len(),
        })
    }

    pub fn has(&self, column: Column) -> bool {
        self.positions
            .get(column.index())
            .copied()
            .flatten()
            .is_some()
    }

    /// Splits a data line and reads every column; `Err` says what is wrong with it.
    pub fn row(&self, line: &str) -> Result<RppsRow, RowError> {
        let fields = fields(line, Some(self.width));
        if fields.len() != self.width {
            // Counted as a reader counts them: without the empty field after a
            // trailing bar.
            let trailing = line.ends_with('|') && fields.len() > 1;
            return Err(RowError::FieldCount {
                found: fields.len() - usize::from(trailing),
                expected: self.width,
            });
        }
        let get = |c: Column| -> Option<&str> {
            let at = self.positions.get(c.index()).copied().flatten()?;
            let v = fields.get(at)?.trim();
            (!v.is_empty()).then_some(v)
        };
        for value in fields.iter() {
            if value.chars().count() > MAX_FIELD_CHARS || value.chars().any(char::is_control) {
                return Err(RowError::Unreadable);
            }
        }
        let raw_id = get(Column::NationalId).ok_or(RowError::NationalId)?;
        let national_id = NationalId::parse(raw_id)
            .filter(is_directory_id)
            .ok_or(RowError::NationalId)?;
        let last_name = get(Column::LastName).ok_or(RowError::LastName)?;
        let profession = get(Column::Profession)
            .and_then(ProfessionCode::parse)
            .ok_or(RowError::Profession)?;
        let commune = get(Column::Commune)
            .map(|c| CommuneCode::parse(c).ok_or(RowError::Commune))
            .transpose()?;
        // Only savoir-faire of type "S" are specialties (DESIGN.md); a file without
        // the type column gives specialties only.
        let specialty = match (self.has(Column::SpecialtyType), get(Column::SpecialtyType)) {
            (true, Some("S")) | (false, _) => get(Column::Specialty).and_then(Specialty::parse),
            _ => None,
        };
        let mode = get(Column::Mode)
            .map(|m| short_code(m).ok_or(RowError::Code(Column::Mode)))
            .transpose()?;
        let sector = get(Column::Sector)
            .map(|s| short_code(s).ok_or(RowError::Code(Column::Sector)))
            .transpose()?;
        let finess = get(Column::Finess)
            .map(|f| Finess::parse(f).ok_or(RowError::Finess))
            .transpose()?;
        let siret = get(Column::Siret)
            .map(|s| Siret::parse(s).ok_or(RowError::Siret))
            .transpose()?;
        let structure_id = get(Column::StructureId)
            .map(|s| structure_id(s).ok_or(RowError::Code(Column::StructureId)))
            .transpose()?;
        let name = get(Column::SiteName)
            .or_else(|| get(Column::Enseigne))
            .map(str::to_string);
        let structure = (structure_id.is_some() || finess.is_some()).then_some(Structure {
            structure_id,
            finess,
            siret,
            name,
            sector,
        });
        Ok(RppsRow {
            national_id,
            civility: get(Column::Civility).and_then(short_code),
            last_name: last_name.to_string(),
            first_name: get(Column::FirstName).unwrap_or_default().to_string(),
            activity: RppsActivity {
                profession,
                specialty,
                mode,
                commune,
                structure,
            },
        })
    }
}

const MAX_FIELD_CHARS: usize = 300;

/// Codes of the nomenclatures (civility, mode, sector): a few letters and digits.
fn short_code(text: &str) -> Option<String> {
    (text.len() <= 8 && text.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| text.into())
}

fn structure_id(text: &str) -> Option<String> {
    (text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'.')))
    .then(|| text.into())
}

/// Why a line was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowError {
    FieldCount { found: usize, expected: usize },
    Unreadable,
    NationalId,
    LastName,
    Profession,
    Commune,
    Finess,
    Siret,
    Code(Column),
    TooManyActivities,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::FieldCount { found, expected } => {
                write!(f, "{found} fields where the header has {expected}")
            }
            RowError::Unreadable => write!(
                f,
                "a field is longer than {MAX_FIELD_CHARS} characters or holds control characters"
            ),
            RowError::NationalId => write!(
                f,
                "\"{}\" is missing or is not \"8\" + an RPPS number with its check digit (or \"0\" + ADELI)",
                Column::NationalId.title()
            ),
            RowError::LastName => write!(f, "\"{}\" is empty", Column::LastName.title()),
            RowError::Profession => write!(
                f,
                "\"{}\" is missing or not a code",
                Column::Profession.title()
            ),
            RowError::Commune => write!(
                f,
                "\"{}\" is not an INSEE commune code",
                Column::Commune.title()
            ),
            RowError::Finess => write!(f, "\"{}\" is not a FINESS number", Column::Finess.title()),
            RowError::Siret => write!(
                f,
                "\"{}\" is not a SIRET number (14 digits, check key)",
                Column::Siret.title()
            ),
            RowError::Code(column) => write!(f, "\"{}\" is not a code", column.title()),
            RowError::TooManyActivities => write!(
                f,
                "more than {MAX_ACTIVITIES} activities for one professional; the rest are ignored"
            ),
        }
    }
}

/// One line: who, and one activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RppsRow {
    pub national_id: NationalId,
    pub civility: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub activity: RppsActivity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RppsActivity {
    pub profession: ProfessionCode,
    pub specialty: Option<Specialty>,
    pub mode: Option<String>,
    pub commune: Option<CommuneCode>,
    pub structure: Option<Structure>,
}

/// The place of an activity, as the extraction describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure {
    pub structure_id: Option<String>,
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
    pub name: Option<String>,
    /// TRE_R02 sector, e.g. "SA33" (pharmacie d'officine).
    pub sector: Option<String>,
}

impl Structure {
    /// What identifies the structure across files and logins: its technical id, else
    /// its FINESS. (A SIRET alone does not: the practitioners of a group practice can
    /// share one.)
    pub fn key(&self) -> Option<StructureKey> {
        match (&self.structure_id, &self.finess) {
            (Some(id), _) => Some(StructureKey::Technical(id.clone())),
            (None, Some(f)) => Some(StructureKey::Finess(f.clone())),
            (None, None) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StructureKey {
    Technical(String),
    Finess(Finess),
}

/// A professional: the lines of one national id, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RppsPerson {
    pub national_id: NationalId,
    pub civility: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub activities: Vec<RppsActivity>,
}

/// More activities than anyone has: the rest of a run of lines with one id is
/// reported, so that a broken file cannot make one professional grow without bound.
pub const MAX_ACTIVITIES: usize = 64;

impl RppsPerson {
    /// Keeps only the activities in `communes` (all of them when `None`); `None` when
    /// nothing is left.
    pub fn within(mut self, communes: Option<&[CommuneCode]>) -> Option<RppsPerson> {
        if let Some(communes) = communes {
            self.activities
                .retain(|a| a.commune.as_ref().is_some_and(|c| communes.contains(c)));
        }
        (!self.activities.is_empty()).then_some(self)
    }

    /// A digest of everything the directory stores about this person, to tell
    /// `kept` from `updated` without comparing column by column (FNV-1a, 64 bits:
    /// a change detector, not a security measure).
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |text: &str| {
            for b in text.bytes().chain(std::iter::once(0x1f)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        feed(self.national_id.as_str());
        feed(self.civility.as_deref().unwrap_or(""));
        feed(&self.last_name);
        feed(&self.first_name);
        for a in &self.activities {
            feed(a.profession.as_str());
            feed(a.specialty.as_ref().map(|s| s.code.as_str()).unwrap_or(""));
            feed(a.mode.as_deref().unwrap_or(""));
            feed(a.commune.as_ref().map(|c| c.as_str()).unwrap_or(""));
            let s = a.structure.as_ref();
            feed(s.and_then(|s| s.structure_id.as_deref()).unwrap_or(""));
            feed(
                s.and_then(|s| s.finess.as_ref())
                    .map(|f| f.as_str())
                    .unwrap_or(""),
            );
            feed(
                s.and_then(|s| s.siret.as_ref())
                    .map(|f| f.as_str())
                    .unwrap_or(""),
            );
            feed(s.and_then(|s| s.name.as_deref()).unwrap_or(""));
            feed(s.and_then(|s| s.sector.as_deref()).unwrap_or(""));
        }
        format!("{h:016x}")
    }
}

/// Gathers consecutive lines of one national id into a person. The extraction lists a
/// professional's activities together; a person met again later in the file comes out
/// a second time and the import merges it.
#[derive(Debug, Default)]
pub struct Grouper {
    current: Option<RppsPerson>,
}

impl Grouper {
    /// Adds a line; returns the previous person when this line starts another, and
    /// `Err` when the line is one activity too many (it is dropped).
    pub fn push(&mut self, row: RppsRow) -> Result<Option<RppsPerson>, RowError> {
        if let Some(current) = self.current.as_mut()
            && current.national_id == row.national_id
        {
            if current.activities.contains(&row.activity) {
                return Ok(None);
            }
            if current.activities.len() >= MAX_ACTIVITIES {
                return Err(RowError::TooManyActivities);
            }
            current.activities.push(row.activity);
            return Ok(None);
        }
        let done = self.current.take();
        self.current = Some(RppsPerson {
            national_id: row.national_id,
            civility: row.civility,
            last_name: row.last_name,
            first_name: row.first_name,
            activities: vec![row.activity],
        });
        Ok(done)
    }

    pub fn finish(&mut self) -> Option<RppsPerson> {
        self.current.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|Numéro FINESS établissement juridique|Identifiant technique de la structure|Raison sociale site|Enseigne commerciale site|Complément destinataire (coord. structure)|Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|Mention distribution (coord. structure)|Bureau cedex (coord. structure)|Code postal (coord. structure)|Code commune (coord. structure)|Libellé commune (coord. structure)|Code pays (coord. structure)|Libellé pays (coord. structure)|Téléphone (coord. structure)|Téléphone 2 (coord. structure)|Télécopie (coord. structure)|Adresse e-mail (coord. structure)|Code Département (structure)|Libellé Département (structure)|Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|Code section tableau pharmaciens|Libellé section tableau pharmaciens|Code rôle|Libellé rôle|Code genre activité|Libellé genre activité|";

    const MARTIN: &str = "8|10001001014|810001001014|DR|Docteur|MME|Madame|MARTIN|Claire|10|Médecin|C|Civil|S|Spécialité ordinale|SM54|Médecine générale|L|Libéral|||||R10000001|Maison de santé des Tilleuls||||12||R|Rue|des Tilleuls|||59000|59350|Lille|99000|France|0320000000||||59|Nord|||SA07|Cabinet individuel|||||GENR01|Activité standard|";

    #[test]
    fn header_spellings_match_after_normalising() {
        let cases = [
            (
                "Code commune (coord. structure)",
                "codecommunecoordstructure",
            ),
            ("CODE COMMUNE COORD STRUCTURE", "codecommunecoordstructure"),
            ("Prénom d'exercice", "prenomdexercice"),
            ("PRENOM D EXERCICE", "prenomdexercice"),
            ("  Numéro FINESS  site ", "numerofinesssite"),
            ("Code secteur d'activité", "codesecteurdactivite"),
        ];
        for (name, key) in cases {
            assert_eq!(header_key(name), key, "{name}");
        }
        for column in Column::ALL {
            assert!(
                column
                    .spellings()
                    .contains(&header_key(column.title()).as_str()),
                "{column:?}: its own title must match"
            );
        }
    }

    #[test]
    fn the_current_release_reads() {
        let header = Header::parse(CURRENT).unwrap();
        assert_eq!(header.width, 56);
        let row = header.row(MARTIN).unwrap();
        assert_eq!(row.national_id.as_str(), "810001001014");
        assert_eq!(row.last_name, "MARTIN");
        assert_eq!(row.first_name, "Claire");
        assert_eq!(row.civility.as_deref(), Some("DR"));
        let a = &row.activity;
        assert_eq!(a.profession.as_str(), "10");
        assert_eq!(a.specialty.as_ref().unwrap().code, "SM54");
        assert_eq!(a.mode.as_deref(), Some("L"));
        assert_eq!(a.commune.as_ref().unwrap().as_str(), "59350");
        let s = a.structure.as_ref().unwrap();
        assert_eq!(s.structure_id.as_deref(), Some("R10000001"));
        assert_eq!(s.name.as_deref(), Some("Maison de santé des Tilleuls"));
        assert_eq!(s.sector.as_deref(), Some("SA07"));
    }

    #[test]
    fn variant_headers_find_the_same_columns() {
        // Upper case without accents, other order, no trailing bar, CRLF, BOM.
        let upper = "\u{FEFF}NOM D EXERCICE|PRENOM D EXERCICE|IDENTIFICATION NATIONALE PP|CODE PROFESSION|CODE COMMUNE COORD STRUCTURE\r";
        let h = Header::parse(&decode_line(upper.as_bytes())).unwrap();
        let row = h.row("LEFÈVRE|Éloïse|810002000015|60|59328").unwrap();
        assert_eq!(row.first_name, "Éloïse");
        assert_eq!(row.activity.structure, None);
        assert_eq!(row.activity.specialty, None);
    }

    #[test]
    fn missing_columns_are_named_in_one_sentence() {
        let err = Header::parse("Identification nationale PP|Nom d'exercice|Prénom d'exercice|")
            .unwrap_err();
        assert_eq!(err.0, vec![Column::Profession, Column::Commune]);
        let text = err.to_string();
        assert!(
            text.contains(
                "the columns \"Code profession\" and \"Code commune (coord. structure)\""
            ),
            "{text}"
        );
        let one = MissingColumns(vec![Column::Commune]).to_string();
        assert!(
            one.starts_with("this file lacks the column \"Code commune"),
            "{one}"
        );
    }

    #[test]
    fn rows_are_validated() {
        let h = Header::parse(
            "Identification nationale PP|Nom d'exercice|Prénom d'exercice|Code profession|Code commune (coord. structure)|Numéro FINESS site|Numéro SIRET site|Code mode exercice|",
        )
        .unwrap();
        let cases: [(&str, Result<(), RowError>); 13] = [
            ("810001001014|MARTIN|Claire|10|59350||||", Ok(())),
            ("810001001014|MARTIN||10|59350||||", Ok(())),
            ("810001001014|MARTIN|Claire|10|||||", Ok(())),
            (
                "810001001014|MARTIN|Claire|10|59350|590000017|73282932000074|L|",
                Ok(()),
            ),
            (
                "810001001014|MARTIN|Claire|10|59350||",
                Err(RowError::FieldCount {
                    found: 6,
                    expected: 8,
                }),
            ),
            (
                "810001001015|MARTIN|Claire|10|59350||||",
                Err(RowError::NationalId),
            ),
            ("|MARTIN|Claire|10|59350||||", Err(RowError::NationalId)),
            ("810001001014||Claire|10|59350||||", Err(RowError::LastName)),
            (
                "810001001014|MARTIN|Claire||59350||||",
                Err(RowError::Profession),
            ),
            (
                "810001001014|MARTIN|Claire|10|Lille||||",
                Err(RowError::Commune),
            ),
            (
                "810001001014|MARTIN|Claire|10|59350|5900||L|",
                Err(RowError::Finess),
            ),
            (
                "810001001014|MARTIN|Claire|10|59350||73282932000075||",
                Err(RowError::Siret),
            ),
            (
                "810001001014|MARTIN|Cla\u{7}ire|10|59350||||",
                Err(RowError::Unreadable),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(h.row(line).map(|_| ()), expected, "{line}");
        }
    }

    #[test]
    fn windows_1252_lines_decode() {
        let bytes = b"LEF\xC8VRE|\xC9lo\xEFse|C\x9Cur\r\n";
        assert_eq!(decode_line(bytes), "LEFÈVRE|Éloïse|Cœur");
        assert_eq!(decode_line("Lefèvre\n".as_bytes()), "Lefèvre");
    }

    fn row(id: &str, commune: &str) -> RppsRow {
        RppsRow {
            national_id: NationalId::parse(id).unwrap(),
            civility: None,
            last_name: "X".into(),
            first_name: "Y".into(),
            activity: RppsActivity {
                profession: ProfessionCode::parse("60").unwrap(),
                specialty: None,
                mode: None,
                commune: CommuneCode::parse(commune),
                structure: None,
            },
        }
    }

    #[test]
    fn consecutive_lines_make_one_person() {
        let mut g = Grouper::default();
        assert_eq!(g.push(row("810001001014", "59350")), Ok(None));
        assert_eq!(g.push(row("810001001014", "59328")), Ok(None));
        // The same activity twice is one activity.
        assert_eq!(g.push(row("810001001014", "59328")), Ok(None));
        let first = g.push(row("810001001022", "59350")).unwrap().unwrap();
        assert_eq!(first.activities.len(), 2);
        let second = g.finish().unwrap();
        assert_eq!(second.national_id.as_str(), "810001001022");
        assert_eq!(g.finish(), None);

        let lille = [CommuneCode::parse("59350").unwrap()];
        let kept = first.clone().within(Some(&lille)).unwrap();
        assert_eq!(kept.activities.len(), 1);
        assert_ne!(kept.fingerprint(), first.fingerprint());
        assert_eq!(first.fingerprint(), first.clone().fingerprint());
        let elsewhere = [CommuneCode::parse("59009").unwrap()];
        assert_eq!(first.within(Some(&elsewhere)), None);
    }

    #[test]
    fn one_person_cannot_grow_without_bound() {
        let mut g = Grouper::default();
        for n in 0..MAX_ACTIVITIES {
            let mut r = row("810001001014", "59350");
            r.activity.mode = Some(n.to_string());
            assert_eq!(g.push(r), Ok(None));
        }
        assert_eq!(
            g.push(row("810001001014", "59009")),
            Err(RowError::TooManyActivities)
        );
    }
}
