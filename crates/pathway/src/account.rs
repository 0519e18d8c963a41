//! Who acts: health professionals (identified by their national id from Pro Santé
//! Connect) and CPTS staff (who never hold a profession).

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, SessionId};

text_enum! {
    pub enum AccountKind {
        HealthProfessional = "health_professional",
        Staff = "staff",
    }
}

text_enum! {
    /// A CPTS role, from the staff provider's role claim (health professionals are
    /// `member`s).
    pub enum CptsRole {
        Member = "member",
        Coordinator = "coordinator",
        Admin = "admin",
    }
}

/// A profession code from the TRE_G15 nomenclature ("10" médecin, "60" infirmier…).
/// Unknown codes are kept as they came, so that they can be shown, but they map to
/// no profession group and therefore grant no clinical rights.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfessionCode(String);

impl ProfessionCode {
    /// Accepts any non-empty code of at most 8 ASCII alphanumerics; `None` for
    /// empty strings (PSC sends `""` for absent values).
    pub fn parse(text: &str) -> Option<ProfessionCode> {
        let t = text.trim();
        (!t.is_empty() && t.len() <= 8 && t.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| ProfessionCode(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn label(&self) -> &'static str {
        match self.0.as_str() {
            "10" => "Médecin",
            "21" => "Pharmacien",
            "40" => "Chirurgien-dentiste",
            "50" => "Sage-femme",
            "60" => "Infirmier",
            "70" => "Masseur-kinésithérapeute",
            "80" => "Pédicure-podologue",
            "91" => "Orthophoniste",
            "92" => "Orthoptiste",
            "93" => "Psychologue",
            "94" => "Ergothérapeute",
            "95" => "Diététicien",
            "96" => "Psychomotricien",
            _ => "unknown",
        }
    }

    pub fn group(&self) -> Option<ProfessionGroup> {
        ProfessionGroup::of(self.as_str())
    }
}

text_enum! {
    /// The columns of the authorisation matrix (see DESIGN.md).
    pub enum ProfessionGroup {
        Medecin = "medecin",
        SageFemme = "sage_femme",
        Dentiste = "dentiste",
        Pharmacien = "pharmacien",
        Infirmier = "infirmier",
        Kinesitherapeute = "kinesitherapeute",
        Auxiliaire = "auxiliaire",
        Psychologue = "psychologue",
        /// Non-health CPTS staff.
        Staff = "staff",
    }
}

impl ProfessionGroup {
    /// The group of a TRE_G15 profession code; `None` for codes outside the matrix.
    pub fn of(code: &str) -> Option<ProfessionGroup> {
        Some(match code {
            "10" => ProfessionGroup::Medecin,
            "50" => ProfessionGroup::SageFemme,
            "40" => ProfessionGroup::Dentiste,
            "21" => ProfessionGroup::Pharmacien,
            "60" => ProfessionGroup::Infirmier,
            "70" => ProfessionGroup::Kinesitherapeute,
            "80" | "91" | "92" | "94" | "95" | "96" => ProfessionGroup::Auxiliaire,
            "93" => ProfessionGroup::Psychologue,
            _ => return None,
        })
    }
}

/// The authenticated caller of a request, as the gateway hands it to the domain:
/// the account, the profession of the exercice chosen for this session, and the
/// CPTS roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub kind: AccountKind,
    pub profession: Option<ProfessionCode>,
    pub roles: Vec<CptsRole>,
    pub session_id: Option<SessionId>,
}

impl Actor {
    /// The matrix column this actor reads: staff follow the staff column whatever
    /// their team; a health professional without a known profession has none.
    pub fn group(&self) -> Option<ProfessionGroup> {
        match self.kind {
            AccountKind::Staff => Some(ProfessionGroup::Staff),
            AccountKind::HealthProfessional => self.profession.as_ref().and_then(|p| p.group()),
        }
    }

    pub fn has_role(&self, role: CptsRole) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_health_professional(&self) -> bool {
        self.kind == AccountKind::HealthProfessional
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profession_codes_map_to_matrix_columns() {
        let cases = [
            ("10", Some(ProfessionGroup::Medecin)),
            ("60", Some(ProfessionGroup::Infirmier)),
            ("91", Some(ProfessionGroup::Auxiliaire)),
            ("93", Some(ProfessionGroup::Psychologue)),
            ("99", None),
        ];
        for (code, group) in cases {
            assert_eq!(
                ProfessionCode::parse(code).unwrap().group(),
                group,
                "{code}"
            );
        }
        assert_eq!(ProfessionCode::parse(""), None);
        assert_eq!(ProfessionCode::parse("99").unwrap().label(), "unknown");
    }

    #[test]
    fn staff_never_get_a_clinical_column() {
        let actor = Actor {
            account_id: AccountId::new(),
            kind: AccountKind::Staff,
            profession: ProfessionCode::parse("10"),
            roles: vec![CptsRole::Coordinator],
            session_id: None,
        };
        assert_eq!(actor.group(), Some(ProfessionGroup::Staff));
    }
}
