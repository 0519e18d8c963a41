//! A professional's identity as the national directory (RPPS/ADELI, through Pro Santé
//! Connect) describes it: the national id and every exercice (profession, specialty)
//! with its activities (where and how they practise). Stored as JSON on the account;
//! professional identity is not health data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::ProfessionCode;

/// The national identifier of a health professional, PSC's `SubjectNameID`: "8" + RPPS
/// (11 digits) or "0" + ADELI (9 characters). Ids of structure staff ("3", FINESS,
/// "/", local id) also occur, so the check is on shape, not on one format: PSC is
/// the authority on what an id is.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NationalId(String);

impl NationalId {
    pub fn parse(text: &str) -> Option<NationalId> {
        let t = text.trim();
        let shape_ok = (2..=40).contains(&t.len())
            && t.starts_with(|c: char| c.is_ascii_digit())
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '/');
        shape_ok.then(|| NationalId(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.0)
    }
}

/// Everything the provider told us about how this person practises.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub exercices: Vec<Exercice>,
}

/// One profession exercised by the person (a person may hold two, e.g. nurse and
/// physiotherapist), with the activities (places, modes) where they exercise it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercice {
    /// `None` when the provider sent no usable code: the exercice then grants no
    /// clinical rights. Unknown but well-formed codes are kept (label "unknown").
    pub profession: Option<ProfessionCode>,
    /// Professional category (TRE_R09: "C" civil, "M" military, "E" student…).
    pub category: Option<String>,
    pub specialty: Option<Specialty>,
    pub civility: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default)]
    pub activities: Vec<Activity>,
}

/// A "savoir-faire" of type S (specialty, TRE_R38).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specialty {
    pub code: String,
}

impl Specialty {
    pub fn parse(text: &str) -> Option<Specialty> {
        let t = text.trim();
        (!t.is_empty() && t.len() <= 16 && t.chars().all(|c| c.is_ascii_alphanumeric())).then(
            || Specialty {
                code: t.to_string(),
            },
        )
    }

    /// Labels of the specialties a CPTS meets most; others show as "unknown" but are
    /// kept, so that a later table can name them.
    pub fn label(&self) -> &'static str {
        match self.code.as_str() {
            "SM54" => "Médecine générale",
            "SM26" => "Qualifié en médecine générale",
            "SM53" => "Spécialiste en médecine générale",
            "SM04" => "Cardiologie et maladies vasculaires",
            "SM15" => "Dermatologie et vénéréologie",
            "SM19" => "Endocrinologie et métabolisme",
            "SM24" => "Gériatrie",
            "SM32" => "Neurologie",
            "SM40" => "Pédiatrie",
            "SM42" => "Psychiatrie",
            "SM20" => "Gynécologie médicale",
            "SM21" => "Gynécologie-obstétrique",
            "SM38" => "Oncologie médicale",
            "SM39" => "Ophtalmologie",
            "SM45" => "Radiodiagnostic et imagerie médicale",
            _ => "unknown",
        }
    }
}

/// Where and how an exercice is practised.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// TRE_R23 mode: "L" libéral, "S" salarié, "B" bénévole.
    pub mode: Option<String>,
    /// PSC's technical structure id (`identifiantTechniqueDeLaStructure`).
    pub structure_id: Option<String>,
    pub structure_name: Option<String>,
    pub finess: Option<String>,
    pub siret: Option<String>,
    pub postal_code: Option<String>,
    /// TRE_R02 activity sector, e.g. "SA07" (cabinet individuel).
    pub sector: Option<String>,
}

/// The label of a mode of practice code.
pub fn mode_label(code: &str) -> &'static str {
    match code {
        "L" => "Libéral",
        "S" => "Salarié",
        "B" => "Bénévole",
        _ => "unknown",
    }
}

impl Profile {
    pub fn exercice(&self, index: usize) -> Option<&Exercice> {
        self.exercices.get(index)
    }

    /// Whether `(exercice, activity)` names something this profile has. An exercice
    /// without activities accepts activity 0 only.
    pub fn has_choice(&self, exercice: usize, activity: usize) -> bool {
        match self.exercices.get(exercice) {
            Some(e) if e.activities.is_empty() => activity == 0,
            Some(e) => activity < e.activities.len(),
            None => exercice == 0 && activity == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_ids_are_checked_for_shape_only() {
        assert!(NationalId::parse("810100000017").is_some());
        assert!(NationalId::parse("0751234567").is_some());
        assert!(NationalId::parse("3750100019/A12").is_some());
        for bad in ["", "8", "abc", "8 1010", "8101000000<script>"] {
            assert!(NationalId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn choices_stay_inside_the_profile() {
        let profile = Profile {
            exercices: vec![Exercice {
                activities: vec![Activity::default(), Activity::default()],
                ..Exercice::default()
            }],
        };
        assert!(profile.has_choice(0, 1));
        assert!(!profile.has_choice(0, 2));
        assert!(!profile.has_choice(1, 0));
        // No exercice at all (staff, or a professional PSC knows nothing about).
        assert!(Profile::default().has_choice(0, 0));
        assert!(!Profile::default().has_choice(1, 0));
    }
}
