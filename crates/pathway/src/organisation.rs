//! The structures of the territory: officines, cabinets, MSP, centres de santé,
//! laboratories, SSIAD, HAD, EHPAD, hospitals, the DAC. They come from the activities
//! of professionals (at login, from Pro Santé Connect; from the RPPS import) or are
//! created by coordinators; a coordinator merges duplicates.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::directory::{CommuneCode, luhn_valid, normalise};
use crate::ids::{AccountId, OrganisationId};
use crate::{Error, Millis, Result};

text_enum! {
    /// What kind of structure (API.md).
    pub enum OrganisationKind {
        Officine = "officine",
        Cabinet = "cabinet",
        Msp = "msp",
        CentreSante = "centre_sante",
        Laboratoire = "laboratoire",
        Ssiad = "ssiad",
        Had = "had",
        Ehpad = "ehpad",
        Etablissement = "etablissement",
        Dac = "dac",
        Autre = "autre",
    }
}

impl OrganisationKind {
    /// The kind an activity's sector (TRE_R02 secteur d'activité) says. Only the
    /// sectors whose meaning is certain are mapped; the rest are `autre` until a
    /// coordinator says what they are.
    pub fn from_sector(sector: Option<&str>) -> OrganisationKind {
        match sector.map(str::trim).unwrap_or_default() {
            // Établissement public de santé, hôpital militaire, privé PSPH, privé non PSPH.
            "SA01" | "SA02" | "SA03" | "SA04" => OrganisationKind::Etablissement,
            "SA05" => OrganisationKind::CentreSante,
            // Cabinet individuel, cabinet de groupe.
            "SA07" | "SA08" => OrganisationKind::Cabinet,
            "SA33" => OrganisationKind::Officine,
            _ => OrganisationKind::Autre,
        }
    }
}

text_enum! {
    /// Who made an organisation.
    pub enum OrganisationSource {
        /// From a professional's PSC activity at login.
        Psc = "psc",
        /// From the RPPS import.
        Rpps = "rpps",
        /// Created by a coordinator or an admin.
        Manual = "manual",
    }
}

/// A FINESS number (site or legal entity): nine characters, the département (two
/// digits, or 2A/2B) then seven digits. The last digit is a check key, but its rule is
/// not one Cordée can vouch for, so only the shape is checked.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Finess(String);

impl Finess {
    pub fn parse(text: &str) -> Option<Finess> {
        let t = text.trim().to_ascii_uppercase();
        let ok = t.len() == 9
            && t.get(2..)
                .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit()))
            && t.get(..2)
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()) || d == "2A" || d == "2B");
        ok.then_some(Finess(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Finess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Finess({})", self.0)
    }
}

/// A SIRET number: 14 digits (SIREN + NIC) with a Luhn key. La Poste's
/// establishments (SIREN 356 000 000) use a sum of digits divisible by 5 instead.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Siret(String);

impl Siret {
    pub fn parse(text: &str) -> Option<Siret> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let ok = if t.starts_with("356000000") {
            t.bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_valid(&t)
        };
        ok.then_some(Siret(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Siret({})", self.0)
    }
}

/// An organisation as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub kind: OrganisationKind,
    pub name: String,
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
    /// PSC's and the RPPS's technical structure id, when it came from there.
    pub structure_id: Option<String>,
    pub commune_code: Option<CommuneCode>,
    pub source: OrganisationSource,
    /// Accounts linked to it (from their PSC activities, or added), who have not left.
    pub member_ids: Vec<AccountId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a coordinator writes when creating or editing an organisation, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganisationInput {
    pub kind: OrganisationKind,
    pub name: String,
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
    pub commune_code: Option<CommuneCode>,
}

pub const NAME_MAX: usize = 200;

impl OrganisationInput {
    /// Checks the raw fields; every refusal names the field.
    pub fn parse(
        kind: &str,
        name: &str,
        finess: Option<&str>,
        siret: Option<&str>,
        commune_code: Option<&str>,
    ) -> Result<OrganisationInput> {
        let kind = OrganisationKind::parse(kind).ok_or_else(|| {
            Error::invalid(
                "organisation.invalid_kind",
                format!(
                    "kind must be one of: {}",
                    OrganisationKind::NAMES.join(", ")
                ),
            )
        })?;
        let name = name.trim();
        if name.chars().count() < 2
            || name.chars().count() > NAME_MAX
            || name.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "organisation.invalid_name",
                format!("name must be 2 to {NAME_MAX} printable characters"),
            ));
        }
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let finess = present(finess)
            .map(|f| {
                Finess::parse(f).ok_or_else(|| {
                    Error::invalid(
                        "organisation.invalid_finess",
                        "finess must be 9 characters: the département (2 digits, 2A or 2B) then 7 digits",
                    )
                })
            })
            .transpose()?;
        let siret = present(siret)
            .map(|s| {
                Siret::parse(s).ok_or_else(|| {
                    Error::invalid(
                        "organisation.invalid_siret",
                        "siret must be 14 digits with a valid check key",
                    )
                })
            })
            .transpose()?;
        let commune_code = present(commune_code)
            .map(|c| {
                CommuneCode::parse(c).ok_or_else(|| {
                    Error::invalid(
                        "organisation.invalid_commune",
                        "commune_code must be an INSEE commune code (5 characters, e.g. 59350)",
                    )
                })
            })
            .transpose()?;
        Ok(OrganisationInput {
            kind,
            name: name.to_string(),
            finess,
            siret,
            commune_code,
        })
    }
}

/// A page request on the organisations.
#[derive(Clone, Debug, Default)]
pub struct OrganisationQuery {
    /// Words of the name, folded (see `directory::normalise`); matched anywhere in it.
    pub q: Option<String>,
    pub kind: Option<OrganisationKind>,
    /// Only those this account belongs to.
    pub member: Option<AccountId>,
    pub after: Option<OrganisationCursor>,
    /// Rows asked of the store: the page size plus one.
    pub limit: i64,
}

/// Where a page of organisations starts: after this (name key, id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganisationCursor {
    pub key: String,
    pub id: OrganisationId,
}

impl OrganisationCursor {
    /// `ID~HEX(KEY)`.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.id, crate::directory::key_to_hex(&self.key))
    }

    pub fn parse(text: &str) -> Option<OrganisationCursor> {
        let (id, hex) = text.split_once('~')?;
        Some(OrganisationCursor {
            key: crate::directory::key_from_hex(hex, 2048)?,
            id: OrganisationId::parse(id)?,
        })
    }
}

impl Organisation {
    pub fn cursor(&self) -> OrganisationCursor {
        OrganisationCursor {
            key: normalise(&self.name),
            id: self.id,
        }
    }
}

/// The organisation a merge keeps, and whether it may happen.
pub fn decide_merge(
    target: OrganisationId,
    duplicate: OrganisationId,
    duplicate_merged_into: Option<OrganisationId>,
) -> Result<()> {
    if target == duplicate {
        return Err(Error::invalid(
            "organisation.merge_self",
            "an organisation cannot be merged into itself",
        ));
    }
    if duplicate_merged_into.is_some() {
        return Err(Error::conflict(
            "organisation.already_merged",
            "that organisation was already merged into another one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_map_to_kinds() {
        let cases = [
            (Some("SA33"), OrganisationKind::Officine),
            (Some("SA07"), OrganisationKind::Cabinet),
            (Some("SA08"), OrganisationKind::Cabinet),
            (Some(" SA05 "), OrganisationKind::CentreSante),
            (Some("SA01"), OrganisationKind::Etablissement),
            (Some("SA04"), OrganisationKind::Etablissement),
            (Some("SA99"), OrganisationKind::Autre),
            (Some(""), OrganisationKind::Autre),
            (None, OrganisationKind::Autre),
        ];
        for (sector, kind) in cases {
            assert_eq!(OrganisationKind::from_sector(sector), kind, "{sector:?}");
        }
    }

    #[test]
    fn finess_and_siret_are_checked() {
        for ok in ["590000017", "2A0001234", "2b0001234"] {
            assert!(Finess::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "59000001", "5900000170", "2C0001234", "59000001X"] {
            assert!(Finess::parse(bad).is_none(), "{bad}");
        }
        // 732 829 320 00074: a valid SIRET (Luhn); one digit off is not.
        for ok in ["73282932000074", "732 829 320 00074", "35600000000051"] {
            assert!(Siret::parse(ok).is_some(), "{ok}");
        }
        for bad in ["73282932000075", "7328293200007", "7328293200007A", ""] {
            assert!(Siret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn organisation_input_names_the_field_that_failed() {
        let ok = OrganisationInput::parse(
            "ehpad",
            " EHPAD Les Hortensias ",
            Some("590000017"),
            Some(""),
            Some("59350"),
        )
        .unwrap();
        assert_eq!(ok.name, "EHPAD Les Hortensias");
        assert_eq!(ok.siret, None);
        // (kind, name, finess, siret, commune, expected code)
        type Case = (
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            &'static str,
        );
        let cases: [Case; 6] = [
            (
                "hopital",
                "CH",
                None,
                None,
                None,
                "organisation.invalid_kind",
            ),
            ("ehpad", "x", None, None, None, "organisation.invalid_name"),
            (
                "ehpad",
                "a\u{7}",
                None,
                None,
                None,
                "organisation.invalid_name",
            ),
            (
                "ehpad",
                "EHPAD",
                Some("12"),
                None,
                None,
                "organisation.invalid_finess",
            ),
            (
                "ehpad",
                "EHPAD",
                None,
                Some("73282932000075"),
                None,
                "organisation.invalid_siret",
            ),
            (
                "ehpad",
                "EHPAD",
                None,
                None,
                Some("59000 Lille"),
                "organisation.invalid_commune",
            ),
        ];
        for (kind, name, finess, siret, commune, code) in cases {
            match OrganisationInput::parse(kind, name, finess, siret, commune) {
                Err(Error::Invalid { code: c, .. }) => assert_eq!(c, code, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn merges_need_two_live_organisations() {
        let a = OrganisationId::new();
        let b = OrganisationId::new();
        assert!(decide_merge(a, b, None).is_ok());
        assert!(matches!(
            decide_merge(a, a, None),
            Err(Error::Invalid {
                code: "organisation.merge_self",
                ..
            })
        ));
        assert!(matches!(
            decide_merge(a, b, Some(a)),
            Err(Error::Conflict {
                code: "organisation.already_merged",
                ..
            })
        ));
    }
}
