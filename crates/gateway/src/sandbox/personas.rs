//! The sandbox's people (fictional). National ids are "8" + an 11-digit RPPS whose
//! last digit is the Luhn key, as real ones are. `gp-dubois` practises in two places
//! and `physio-moreau` holds two professions, so that choosing the active exercice
//! has something to choose from.

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxIdp {
    /// `psc-sandbox`: shaped like Pro Santé Connect.
    Psc,
    /// `staff-sandbox`: a generic OpenID provider with a `groups` claim.
    Staff,
}

impl SandboxIdp {
    pub fn provider_id(self) -> &'static str {
        match self {
            SandboxIdp::Psc => "psc-sandbox",
            SandboxIdp::Staff => "staff-sandbox",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            SandboxIdp::Psc => "psc",
            SandboxIdp::Staff => "staff",
        }
    }

    pub fn parse(path: &str) -> Option<SandboxIdp> {
        match path {
            "psc" => Some(SandboxIdp::Psc),
            "staff" => Some(SandboxIdp::Staff),
            _ => None,
        }
    }
}

pub struct Activity {
    pub mode: &'static str,
    pub structure_id: &'static str,
    pub name: &'static str,
    pub postal_code: &'static str,
    pub sector: &'static str,
    pub finess: &'static str,
}

pub struct Exercice {
    pub profession: &'static str,
    /// A specialty (savoir-faire of type "S"), or "" for none.
    pub specialty: &'static str,
    pub activities: &'static [Activity],
}

pub struct Persona {
    pub hint: &'static str,
    pub idp: SandboxIdp,
    pub who: &'static str,
    pub civility: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    /// PSC personas only.
    pub rpps: &'static str,
    pub exercices: &'static [Exercice],
    /// Staff personas only: the value of their `groups` claim.
    pub group: &'static str,
}

const MSP: Activity = Activity {
    mode: "L",
    structure_id: "R10000001",
    name: "Maison de santé des Tilleuls",
    postal_code: "59000",
    sector: "SA07",
    finess: "",
};

pub const PERSONAS: &[Persona] = &[
    Persona {
        hint: "gp-martin",
        idp: SandboxIdp::Psc,
        who: "médecin généraliste (10, SM54), libérale",
        civility: "DR",
        given_name: "Claire",
        family_name: "Martin",
        rpps: "10001001014",
        exercices: &[Exercice {
            profession: "10",
            specialty: "SM54",
            activities: &[MSP],
        }],
        group: "",
    },
    Persona {
        hint: "gp-dubois",
        idp: SandboxIdp::Psc,
        who: "médecin généraliste, libéral et salarié (deux activités)",
        civility: "DR",
        given_name: "Paul",
        family_name: "Dubois",
        rpps: "10001001022",
        exercices: &[Exercice {
            profession: "10",
            specialty: "SM54",
            activities: &[
                Activity {
                    mode: "L",
                    structure_id: "R10000002",
                    name: "Cabinet du Dr Dubois",
                    postal_code: "59130",
                    sector: "SA07",
                    finess: "",
                },
                Activity {
                    mode: "S",
                    structure_id: "F590000017",
                    name: "Centre hospitalier de Lambersart",
                    postal_code: "59130",
                    sector: "SA01",
                    finess: "590000017",
                },
            ],
        }],
        group: "",
    },
    Persona {
        hint: "nurse-bernard",
        idp: SandboxIdp::Psc,
        who: "infirmière libérale (60)",
        civility: "MME",
        given_name: "Sophie",
        family_name: "Bernard",
        rpps: "10001001030",
        exercices: &[Exercice {
            profession: "60",
            specialty: "",
            activities: &[Activity {
                mode: "L",
                structure_id: "R10000003",
                name: "Cabinet infirmier Bernard",
                postal_code: "59000",
                sector: "SA07",
                finess: "",
            }],
        }],
        group: "",
    },
    Persona {
        hint: "pharma-petit",
        idp: SandboxIdp::Psc,
        who: "pharmacien d'officine (21)",
        civility: "M",
        given_name: "Julien",
        family_name: "Petit",
        rpps: "10001001048",
        exercices: &[Exercice {
            profession: "21",
            specialty: "",
            activities: &[Activity {
                mode: "L",
                structure_id: "R10000004",
                name: "Pharmacie du Beffroi",
                postal_code: "59000",
                sector: "SA33",
                finess: "590000025",
            }],
        }],
        group: "",
    },
    Persona {
        hint: "physio-moreau",
        idp: SandboxIdp::Psc,
        who: "masseur-kinésithérapeute (70) et pédicure-podologue (80) : deux exercices",
        civility: "M",
        given_name: "Lucas",
        family_name: "Moreau",
        rpps: "10001001055",
        exercices: &[
            Exercice {
                profession: "70",
                specialty: "",
                activities: &[MSP],
            },
            Exercice {
                profession: "80",
                specialty: "",
                activities: &[MSP],
            },
        ],
        group: "",
    },
    Persona {
        hint: "midwife-leroy",
        idp: SandboxIdp::Psc,
        who: "sage-femme (50), libérale",
        civility: "MME",
        given_name: "Emma",
        family_name: "Leroy",
        rpps: "10001001063",
        exercices: &[Exercice {
            profession: "50",
            specialty: "",
            activities: &[MSP],
        }],
        group: "",
    },
    // Beyond the contract's list: the other columns of the access matrix, so that the
    // whole matrix can be checked through the API.
    Persona {
        hint: "dentist-lambert",
        idp: SandboxIdp::Psc,
        who: "chirurgien-dentiste (40), libéral",
        civility: "DR",
        given_name: "Louis",
        family_name: "Lambert",
        rpps: "10001001071",
        exercices: &[Exercice {
            profession: "40",
            specialty: "",
            activities: &[MSP],
        }],
        group: "",
    },
    Persona {
        hint: "speech-fournier",
        idp: SandboxIdp::Psc,
        who: "orthophoniste (91), libérale",
        civility: "MME",
        given_name: "Julie",
        family_name: "Fournier",
        rpps: "10001001089",
        exercices: &[Exercice {
            profession: "91",
            specialty: "",
            activities: &[MSP],
        }],
        group: "",
    },
    Persona {
        hint: "psy-girard",
        idp: SandboxIdp::Psc,
        who: "psychologue (93), libéral",
        civility: "M",
        given_name: "Marc",
        family_name: "Girard",
        rpps: "10001001097",
        exercices: &[Exercice {
            profession: "93",
            specialty: "",
            activities: &[MSP],
        }],
        group: "",
    },
    Persona {
        hint: "coord-garcia",
        idp: SandboxIdp::Staff,
        who: "coordinatrice de la CPTS (rôle coordinator)",
        civility: "",
        given_name: "Nadia",
        family_name: "Garcia",
        rpps: "",
        exercices: &[],
        group: "coordinator",
    },
    Persona {
        hint: "admin-roux",
        idp: SandboxIdp::Staff,
        who: "administrateur de la CPTS (rôle admin)",
        civility: "",
        given_name: "Hugo",
        family_name: "Roux",
        rpps: "",
        exercices: &[],
        group: "admin",
    },
];

pub fn find(idp: SandboxIdp, hint: &str) -> Option<&'static Persona> {
    PERSONAS
        .iter()
        .find(|p| p.idp == idp && p.hint == hint)
        .or_else(|| {
            (idp == SandboxIdp::Psc)
                .then(|| load_persona(hint))
                .flatten()
        })
}

/// The load tool's accounts: `load-1` … `load-10000`, infirmiers libéraux made on
/// first use. They are leaked on purpose (at most 10,000 small records, demo mode
/// only) so that every persona has the same `'static` shape.
fn load_persona(hint: &str) -> Option<&'static Persona> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static MADE: OnceLock<Mutex<HashMap<u32, &'static Persona>>> = OnceLock::new();
    let n: u32 = hint
        .strip_prefix("load-")?
        .parse()
        .ok()
        .filter(|n| (1..=10_000).contains(n))?;
    let mut made = MADE
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .ok()?;
    if let Some(p) = made.get(&n) {
        return Some(p);
    }
    let base = format!("2000{n:06}");
    let rpps: &'static str = Box::leak(format!("{base}{}", luhn_key(&base)).into_boxed_str());
    let persona: &'static Persona = Box::leak(Box::new(Persona {
        hint: Box::leak(hint.to_string().into_boxed_str()),
        idp: SandboxIdp::Psc,
        who: "infirmier libéral (60), compte de test de charge",
        civility: "M",
        given_name: "Charge",
        family_name: Box::leak(format!("Test{n}").into_boxed_str()),
        rpps,
        exercices: &[Exercice {
            profession: "60",
            specialty: "",
            activities: &[MSP],
        }],
        group: "",
    }));
    made.insert(n, persona);
    Some(persona)
}

/// The Luhn check digit of `digits`.
fn luhn_key(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .filter_map(|(i, c)| c.to_digit(10).map(|d| (i, d)))
        .map(|(i, d)| {
            if i % 2 == 0 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

impl Persona {
    /// The ID token subject: PSC's shape is "f:<uuid>:<national id>"; staff get their hint.
    pub fn subject(&self) -> String {
        match self.idp {
            SandboxIdp::Psc => format!("f:cordee-sandbox:{}", self.national_id()),
            SandboxIdp::Staff => format!("staff-{}", self.hint),
        }
    }

    pub fn national_id(&self) -> String {
        format!("8{}", self.rpps)
    }

    /// The userinfo answer, PSC-shaped (`SubjectRefPro`, `""` for absent values,
    /// upper-case names as the directory writes them) or staff-shaped.
    pub fn userinfo(&self) -> Value {
        match self.idp {
            SandboxIdp::Psc => self.psc_userinfo(),
            SandboxIdp::Staff => json!({
                "sub": self.subject(),
                "name": format!("{} {}", self.given_name, self.family_name),
                "given_name": self.given_name,
                "family_name": self.family_name,
                "email": format!("{}@cpts.example", self.hint),
                "groups": [format!("/cpts/{}", self.group)],
            }),
        }
    }

    fn psc_userinfo(&self) -> Value {
        let given = self.given_name.to_uppercase();
        let family = self.family_name.to_uppercase();
        let exercices: Vec<Value> = self
            .exercices
            .iter()
            .map(|e| {
                json!({
                    "codeProfession": e.profession,
                    "codeCategorieProfessionnelle": "C",
                    "codeCiviliteDexercice": self.civility,
                    "nomDexercice": family,
                    "prenomDexercice": given,
                    "codeTypeSavoirFaire": if e.specialty.is_empty() { "" } else { "S" },
                    "codeSavoirFaire": e.specialty,
                    "activities": e.activities.iter().map(|a| json!({
                        "codeModeExercice": a.mode,
                        "codeSecteurDactivite": a.sector,
                        "identifiantTechniqueDeLaStructure": a.structure_id,
                        "raisonSocialeSite": a.name,
                        "codePostal": a.postal_code,
                        "numeroFinessSite": a.finess,
                        "numeroSiretSite": "",
                        "codeRole": "",
                        "codeGenreActivite": "GENR01",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let first_structure = self.exercices.first().and_then(|e| e.activities.first());
        json!({
            "sub": self.subject(),
            "SubjectNameID": self.national_id(),
            "preferred_username": self.national_id(),
            "given_name": given,
            "family_name": family,
            "email_verified": false,
            "SubjectRole": self.exercices.iter()
                .map(|e| format!("{}^1.2.250.1.213.1.1.5.5", e.profession))
                .collect::<Vec<_>>(),
            "SubjectOrganization": first_structure.map(|a| a.name).unwrap_or_default(),
            "SubjectOrganizationID": first_structure.map(|a| a.structure_id).unwrap_or_default(),
            "authMode": "EXPORT",
            "otherIds": [{ "identifiant": self.rpps, "origine": "RPPS", "qualite": 1 }],
            "SubjectRefPro": { "codeCivilite": self.civility, "exercices": exercices },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_of_the_contract_exists_once() {
        let names = [
            ("gp-martin", SandboxIdp::Psc),
            ("gp-dubois", SandboxIdp::Psc),
            ("nurse-bernard", SandboxIdp::Psc),
            ("pharma-petit", SandboxIdp::Psc),
            ("physio-moreau", SandboxIdp::Psc),
            ("midwife-leroy", SandboxIdp::Psc),
            ("dentist-lambert", SandboxIdp::Psc),
            ("speech-fournier", SandboxIdp::Psc),
            ("psy-girard", SandboxIdp::Psc),
            ("coord-garcia", SandboxIdp::Staff),
            ("admin-roux", SandboxIdp::Staff),
        ];
        for (hint, idp) in names {
            assert!(find(idp, hint).is_some(), "{hint}");
        }
        assert_eq!(PERSONAS.len(), names.len());
    }

    #[test]
    fn load_personas_are_made_on_demand_and_stay_the_same() {
        let a = find(SandboxIdp::Psc, "load-17").unwrap();
        let b = find(SandboxIdp::Psc, "load-17").unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(a.exercices.first().unwrap().profession, "60");
        assert!(find(SandboxIdp::Psc, "load-0").is_none());
        assert!(find(SandboxIdp::Psc, "load-10001").is_none());
        assert!(find(SandboxIdp::Staff, "load-1").is_none());
        assert_ne!(a.rpps, find(SandboxIdp::Psc, "load-18").unwrap().rpps);
    }

    #[test]
    fn rpps_numbers_carry_a_valid_luhn_key() {
        let load: Vec<&Persona> = ["load-1", "load-42", "load-9999"]
            .iter()
            .filter_map(|h| find(SandboxIdp::Psc, h))
            .collect();
        for p in PERSONAS
            .iter()
            .chain(load)
            .filter(|p| p.idp == SandboxIdp::Psc)
        {
            assert_eq!(p.rpps.len(), 11, "{}", p.hint);
            let sum: u32 = p
                .rpps
                .chars()
                .rev()
                .enumerate()
                .map(|(i, c)| {
                    let d = c.to_digit(10).unwrap();
                    if i % 2 == 1 {
                        let d = d * 2;
                        if d > 9 { d - 9 } else { d }
                    } else {
                        d
                    }
                })
                .sum();
            assert_eq!(sum % 10, 0, "{}", p.hint);
        }
    }

    #[test]
    fn sandbox_userinfo_maps_through_the_real_claim_mapping() {
        let nurse = find(SandboxIdp::Psc, "nurse-bernard").unwrap();
        let Value::Object(claims) = nurse.userinfo() else {
            panic!()
        };
        let id = crate::auth::claims::map_psc("psc-sandbox", &claims).unwrap();
        assert_eq!(id.national_id.unwrap().as_str(), "810001001030");
        assert_eq!(
            id.profile.exercices[0].profession.as_ref().unwrap().label(),
            "Infirmier"
        );
    }
}
