//! Patients and their INS identity traits (Identifiant National de Santé).
//!
//! Traits are validated here, sealed under the patient's data key by the store, and
//! found again through blind indexes of (birth name, birth date) and of the INS
//! matricule — never through plaintext in the database.

use serde::{Deserialize, Serialize};

use crate::{Error, Millis, Result};

text_enum! {
    /// How far the identity has been checked (référentiel national d'identitovigilance).
    pub enum IdentityStatus {
        Provisoire = "provisoire",
        Recuperee = "recuperee",
        Validee = "validee",
        Qualifiee = "qualifiee",
    }
}

impl IdentityStatus {
    /// A recovered or qualified identity comes from the INS teleservice, so it has
    /// a matricule.
    pub fn needs_ins(self) -> bool {
        matches!(self, IdentityStatus::Recuperee | IdentityStatus::Qualifiee)
    }
}

/// The OIDs under which an INS matricule is issued.
pub const INS_OIDS: [(&str, &str); 4] = [
    ("1.2.250.1.213.1.4.8", "NIR"),
    ("1.2.250.1.213.1.4.9", "NIA"),
    ("1.2.250.1.213.1.4.10", "NIR de test"),
    ("1.2.250.1.213.1.4.11", "NIR de démonstration"),
];

/// A matricule INS: 13 characters (sex, year, month, département — `2A`/`2B` for
/// Corsica —, commune, order) and a 2-digit key = 97 − (number mod 97).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InsMatricule(String);

impl InsMatricule {
    pub fn parse(text: &str) -> Result<InsMatricule> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let invalid =
            |why: &str| Error::invalid("patient.invalid_ins", format!("ins_matricule {why}"));
        if compact.len() != 15 || !compact.is_ascii() {
            return Err(invalid("must have 15 characters"));
        }
        let (body, key) = compact.split_at(13);
        if !matches!(body.chars().next(), Some('1' | '2' | '3' | '4' | '7' | '8')) {
            return Err(invalid("must start with 1, 2, 3, 4, 7 or 8"));
        }
        // Corsica: 2A counts as 19, 2B as 18 in the key computation.
        let numeric = match (body.get(..5), body.get(5..7), body.get(7..)) {
            (Some(head), Some("2A"), Some(tail)) => format!("{head}19{tail}"),
            (Some(head), Some("2B"), Some(tail)) => format!("{head}18{tail}"),
            _ => body.to_string(),
        };
        let number: u64 = numeric
            .parse()
            .map_err(|_| invalid("has characters that are not digits"))?;
        let key: u64 = key.parse().map_err(|_| invalid("key must be two digits"))?;
        if 97 - number % 97 != key {
            return Err(invalid("key does not match (check the digits)"));
        }
        Ok(InsMatricule(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_enum! {
    pub enum Sex {
        Male = "M",
        Female = "F",
        /// Indéterminé.
        Undetermined = "I",
    }
}

/// The traits as a client sends them; `validate` turns them into [`Identity`].
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdentityInput {
    pub ins_matricule: Option<String>,
    pub ins_oid: Option<String>,
    pub birth_name: String,
    pub first_names: String,
    pub used_name: Option<String>,
    /// `YYYY-MM-DD`
    pub birth_date: String,
    pub sex: Sex,
    pub birth_place_code: Option<String>,
}

/// Validated identity traits: what is sealed in `patients.identity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub ins_matricule: Option<InsMatricule>,
    pub ins_oid: Option<String>,
    pub birth_name: String,
    pub first_names: String,
    pub used_name: Option<String>,
    pub birth_date: String,
    pub sex: Sex,
    pub birth_place_code: Option<String>,
}

impl IdentityInput {
    pub fn validate(self, status: IdentityStatus, now: Millis) -> Result<Identity> {
        let ins_matricule = non_empty(self.ins_matricule)
            .map(|m| InsMatricule::parse(&m))
            .transpose()?;
        let ins_oid = non_empty(self.ins_oid);
        match (&ins_matricule, &ins_oid) {
            (Some(_), None) => {
                return Err(Error::invalid(
                    "patient.invalid_ins",
                    "ins_oid is required with ins_matricule",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "patient.invalid_ins",
                    "ins_oid given without ins_matricule",
                ));
            }
            (Some(_), Some(oid)) if !INS_OIDS.iter().any(|(o, _)| o == oid) => {
                return Err(Error::invalid(
                    "patient.invalid_ins",
                    "ins_oid is not an INS OID (1.2.250.1.213.1.4.8 to .11)",
                ));
            }
            _ => {}
        }
        if status.needs_ins() && ins_matricule.is_none() {
            return Err(Error::invalid(
                "patient.invalid_ins",
                format!(
                    "an identity with status {} needs its ins_matricule and ins_oid",
                    status.as_str()
                ),
            ));
        }
        let birth_name = name(&self.birth_name, "birth_name")?;
        let first_names = name(&self.first_names, "first_names")?;
        let used_name = non_empty(self.used_name)
            .map(|n| name(&n, "used_name"))
            .transpose()?;
        let birth_date = birth_date(&self.birth_date, now)?;
        let birth_place_code = non_empty(self.birth_place_code)
            .map(|c| {
                let c = c.trim().to_ascii_uppercase();
                let ok = c.len() == 5
                    && c.chars()
                        .all(|ch| ch.is_ascii_digit() || ch == 'A' || ch == 'B');
                ok.then_some(c).ok_or_else(|| {
                    Error::invalid(
                        "patient.invalid_birth_place",
                        "birth_place_code must be a 5-character INSEE code",
                    )
                })
            })
            .transpose()?;
        Ok(Identity {
            ins_matricule,
            ins_oid,
            birth_name,
            first_names,
            used_name,
            birth_date,
            sex: self.sex,
            birth_place_code,
        })
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn name(value: &str, field: &str) -> Result<String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.chars().count() <= 100
        && v.chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'');
    if ok {
        Ok(v.to_string())
    } else {
        Err(Error::invalid(
            "patient.invalid_name",
            format!("{field} must be 1 to 100 letters, spaces, hyphens or apostrophes"),
        ))
    }
}

fn birth_date(value: &str, now: Millis) -> Result<String> {
    let bad = || {
        Error::invalid(
            "patient.invalid_birth_date",
            "birth_date must be a real date YYYY-MM-DD, not in the future",
        )
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value.trim(), &format).map_err(|_| bad())?;
    let midnight = date
        .midnight()
        .assume_utc()
        .unix_timestamp()
        .saturating_mul(1000);
    if midnight > now.0 || date.year() < 1890 {
        return Err(bad());
    }
    date.format(&format).map_err(|_| bad())
}

impl Identity {
    /// Blind index input for (birth name, birth date); the normalisation (case,
    /// accents, spaces, hyphens) happens in the crypto crate.
    pub fn name_date_key(&self) -> String {
        name_date_key(&self.birth_name, &self.birth_date)
    }

    /// What lists and messages show.
    pub fn display_name(&self) -> String {
        let family = self.used_name.as_deref().unwrap_or(&self.birth_name);
        let first = self.first_names.split_whitespace().next().unwrap_or("");
        format!("{} {}", family.to_uppercase(), first)
    }
}

pub fn name_date_key(birth_name: &str, birth_date: &str) -> String {
    format!("{birth_name}|{birth_date}")
}

/// Blind index purposes: one namespace each, so equal strings in different fields
/// never share an index value.
pub const BI_NAME_DATE: &str = "patient.birth_name_date";
pub const BI_INS: &str = "patient.ins";

/// What `GET /v1/patients?q=` can mean: an INS matricule, or a birth name followed
/// by a birth date (`DUPONT 1950-03-12` or `DUPONT 12/03/1950`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatientQuery {
    Ins(InsMatricule),
    NameDate {
        birth_name: String,
        birth_date: String,
    },
}

impl PatientQuery {
    pub fn parse(q: &str) -> Result<PatientQuery> {
        let q = q.trim();
        if let Ok(ins) = InsMatricule::parse(q) {
            return Ok(PatientQuery::Ins(ins));
        }
        let unsupported = || {
            Error::invalid(
                "patient.invalid_query",
                "search by INS matricule, or by birth name and birth date (DUPONT 1950-03-12 or DUPONT 12/03/1950)",
            )
        };
        let (name, date) = q.rsplit_once(' ').ok_or_else(unsupported)?;
        let date = match date.split('/').collect::<Vec<_>>().as_slice() {
            [d, m, y] => format!("{y}-{m}-{d}"),
            _ => date.to_string(),
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(&date, &format).map_err(|_| unsupported())?;
        Ok(PatientQuery::NameDate {
            birth_name: name.trim().to_string(),
            birth_date: date.format(&format).map_err(|_| unsupported())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Millis {
        Millis(1_795_000_000_000)
    }

    fn input() -> IdentityInput {
        IdentityInput {
            ins_matricule: Some("2 55 08 2A 004 001 11".into()),
            ins_oid: Some("1.2.250.1.213.1.4.8".into()),
            birth_name: "Lefèvre-Dupont".into(),
            first_names: "Marie Claire".into(),
            used_name: None,
            birth_date: "1955-08-14".into(),
            sex: Sex::Female,
            birth_place_code: Some("2a004".into()),
        }
    }

    fn key_for(body: &str) -> String {
        let numeric = body.replace("2A", "19").replace("2B", "18");
        let n: u64 = numeric.parse().unwrap();
        format!("{}{:02}", body, 97 - n % 97)
    }

    #[test]
    fn ins_key_is_checked_including_corsica() {
        let good = key_for("2550819004001");
        assert!(InsMatricule::parse(&good).is_ok(), "{good}");
        let corsica = key_for("255082A004001");
        assert!(InsMatricule::parse(&corsica).is_ok(), "{corsica}");
        let mut bad = good.clone();
        bad.replace_range(13..15, if &good[13..15] == "01" { "02" } else { "01" });
        assert!(InsMatricule::parse(&bad).is_err());
        assert!(InsMatricule::parse("123").is_err());
        assert!(
            InsMatricule::parse(&key_for("5550819004001")).is_err(),
            "sex digit 5 is not valid"
        );
    }

    #[test]
    fn traits_are_validated() {
        let mut i = input();
        i.ins_matricule = Some(key_for("255082A004001"));
        let id = i
            .clone()
            .validate(IdentityStatus::Qualifiee, now())
            .unwrap();
        assert_eq!(id.birth_place_code.as_deref(), Some("2A004"));

        let mut future = i.clone();
        future.birth_date = "2099-01-01".into();
        assert!(future.validate(IdentityStatus::Provisoire, now()).is_err());

        let mut bad_date = i.clone();
        bad_date.birth_date = "1955-02-30".into();
        assert!(
            bad_date
                .validate(IdentityStatus::Provisoire, now())
                .is_err()
        );

        let mut no_ins = i.clone();
        no_ins.ins_matricule = None;
        no_ins.ins_oid = None;
        assert!(
            no_ins
                .clone()
                .validate(IdentityStatus::Qualifiee, now())
                .is_err()
        );
        assert!(no_ins.validate(IdentityStatus::Provisoire, now()).is_ok());

        let mut digits = i;
        digits.birth_name = "R2D2".into();
        assert!(digits.validate(IdentityStatus::Provisoire, now()).is_err());
    }

    #[test]
    fn queries_parse() {
        assert_eq!(
            PatientQuery::parse("Dupont 12/03/1950").unwrap(),
            PatientQuery::NameDate {
                birth_name: "Dupont".into(),
                birth_date: "1950-03-12".into()
            }
        );
        assert!(matches!(
            PatientQuery::parse(&key_for("2550819004001")).unwrap(),
            PatientQuery::Ins(_)
        ));
        assert!(PatientQuery::parse("Dupont").is_err());
    }
}
