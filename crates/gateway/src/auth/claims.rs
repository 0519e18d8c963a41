//! From a provider's claims (ID token merged with userinfo) to an `Identity`.
//!
//! PSC: the national id `SubjectNameID` is the account key; every exercice of
//! `SubjectRefPro` is kept, with its profession, its specialty (only when
//! `codeTypeSavoirFaire` is "S") and its activities. The mapping is tolerant of what
//! PSC is known to send: `""` for absent values, numbers where strings are expected,
//! `otherIds` or `otherIDs`, `SubjectRefPro` as a JSON string, no exercice at all.
//! What it cannot use it drops, so a surprise yields fewer rights, never a crash.
//!
//! Generic OIDC (staff): the CPTS role comes from the configured claim; staff never
//! get a profession, whatever the provider sends.

use cordee_pathway::account::{AccountKind, CptsRole, ProfessionCode};
use cordee_pathway::profile::{Activity, Exercice, NationalId, Profile, Specialty};
use cordee_pathway::store::Identity;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimsError {
    /// No `sub`: the provider is broken.
    NoSubject,
    /// PSC sent no usable national id: there is nothing to key the account on.
    NoNationalId,
    /// Staff provider: no recognised CPTS role in the role claim.
    NoRole,
}

impl ClaimsError {
    pub fn code(&self) -> &'static str {
        match self {
            ClaimsError::NoSubject => "auth.identity_missing",
            ClaimsError::NoNationalId => "auth.identity_missing",
            ClaimsError::NoRole => "auth.role_missing",
        }
    }

    pub fn detail(&self) -> &'static str {
        match self {
            ClaimsError::NoSubject => "The identity provider did not say who logged in.",
            ClaimsError::NoNationalId => {
                "Pro Santé Connect did not return a national professional identifier (RPPS or ADELI) for this login."
            }
            ClaimsError::NoRole => {
                "Your account at the CPTS identity provider has no Cordée role (member, coordinator or admin); ask the CPTS administrator."
            }
        }
    }
}

/// A text claim: strings (trimmed, `""` is absent) and numbers (as PSC sometimes sends).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

fn subject(claims: &Map<String, Value>) -> Result<String, ClaimsError> {
    text(claims.get("sub")).ok_or(ClaimsError::NoSubject)
}

pub fn map_psc(provider_id: &str, claims: &Map<String, Value>) -> Result<Identity, ClaimsError> {
    let subject = subject(claims)?;
    let national_id = national_id(claims).ok_or(ClaimsError::NoNationalId)?;
    let ref_pro = ref_pro(claims);
    let mut exercices: Vec<Exercice> = ref_pro
        .as_ref()
        .map(|r| {
            array(r.get("exercices"))
                .iter()
                .filter_map(exercice)
                .collect()
        })
        .unwrap_or_default();
    if exercices.is_empty() {
        // Without SubjectRefPro, SubjectRole ("10^1.2.250.1.213.1.1.5.5") still names
        // the profession(s).
        exercices = array(claims.get("SubjectRole"))
            .iter()
            .filter_map(|role| {
                let code = text(Some(role))?;
                let code = code.split('^').next().unwrap_or_default();
                Some(Exercice {
                    profession: Some(ProfessionCode::parse(code)?),
                    ..Exercice::default()
                })
            })
            .collect();
    }
    let display_name = display_name(claims, exercices.first(), national_id.as_str());
    Ok(Identity {
        kind: AccountKind::HealthProfessional,
        national_id: Some(national_id),
        provider_id: provider_id.to_string(),
        subject,
        display_name,
        profile: Profile { exercices },
        roles: vec![CptsRole::Member],
    })
}

/// `SubjectNameID`, else "8" + RPPS / "0" + ADELI from `otherIds` (or `otherIDs`).
fn national_id(claims: &Map<String, Value>) -> Option<NationalId> {
    if let Some(id) = text(claims.get("SubjectNameID")).and_then(|t| NationalId::parse(&t)) {
        return Some(id);
    }
    let others = claims.get("otherIds").or_else(|| claims.get("otherIDs"));
    array(others).iter().find_map(|other| {
        let prefix = match text(other.get("origine"))?.to_ascii_uppercase().as_str() {
            "RPPS" => "8",
            "ADELI" => "0",
            _ => return None,
        };
        NationalId::parse(&format!("{prefix}{}", text(other.get("identifiant"))?))
    })
}

/// `SubjectRefPro` is an object, but some PSC versions send it as a JSON string.
fn ref_pro(claims: &Map<String, Value>) -> Option<Map<String, Value>> {
    match claims.get("SubjectRefPro")? {
        Value::Object(map) => Some(map.clone()),
        Value::String(s) => match serde_json::from_str(s) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        },
        _ => None,
    }
}

fn exercice(value: &Value) -> Option<Exercice> {
    let e = value.as_object()?;
    let specialty = match text(e.get("codeTypeSavoirFaire")).as_deref() {
        Some("S") => text(e.get("codeSavoirFaire")).and_then(|c| Specialty::parse(&c)),
        _ => None,
    };
    Some(Exercice {
        profession: text(e.get("codeProfession")).and_then(|c| ProfessionCode::parse(&c)),
        category: text(e.get("codeCategorieProfessionnelle")),
        specialty,
        civility: text(e.get("codeCiviliteDexercice")),
        first_name: text(e.get("prenomDexercice")),
        last_name: text(e.get("nomDexercice")),
        activities: array(e.get("activities"))
            .iter()
            .filter_map(activity)
            .collect(),
    })
}

fn activity(value: &Value) -> Option<Activity> {
    let a = value.as_object()?;
    Some(Activity {
        mode: text(a.get("codeModeExercice")),
        structure_id: text(a.get("identifiantTechniqueDeLaStructure")),
        structure_name: text(a.get("raisonSocialeSite")),
        finess: text(a.get("numeroFinessSite")),
        siret: text(a.get("numeroSiretSite")),
        postal_code: text(a.get("codePostal")),
        sector: text(a.get("codeSecteurDactivite")),
    })
}

fn display_name(claims: &Map<String, Value>, first: Option<&Exercice>, fallback: &str) -> String {
    let joined = |given: Option<String>, family: Option<String>| match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (one, other) => one.or(other),
    };
    text(claims.get("name"))
        .or_else(|| {
            joined(
                text(claims.get("given_name")),
                text(claims.get("family_name")),
            )
        })
        .or_else(|| first.and_then(|e| joined(e.first_name.clone(), e.last_name.clone())))
        .or_else(|| text(claims.get("preferred_username")))
        .unwrap_or_else(|| fallback.to_string())
}

pub fn map_oidc(
    provider_id: &str,
    role_claim: &str,
    claims: &Map<String, Value>,
) -> Result<Identity, ClaimsError> {
    let subject = subject(claims)?;
    let mut roles: Vec<CptsRole> = Vec::new();
    for role in role_values(claims, role_claim)
        .iter()
        .filter_map(|v| role(v))
    {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    if roles.is_empty() {
        return Err(ClaimsError::NoRole);
    }
    roles.sort_by_key(|r| match r {
        CptsRole::Member => 0,
        CptsRole::Coordinator => 1,
        CptsRole::Admin => 2,
    });
    let display_name = text(claims.get("name"))
        .or_else(|| {
            match (
                text(claims.get("given_name")),
                text(claims.get("family_name")),
            ) {
                (Some(g), Some(f)) => Some(format!("{g} {f}")),
                (one, other) => one.or(other),
            }
        })
        .or_else(|| text(claims.get("preferred_username")))
        .or_else(|| text(claims.get("email")))
        .unwrap_or_else(|| subject.clone());
    Ok(Identity {
        kind: AccountKind::Staff,
        national_id: None,
        provider_id: provider_id.to_string(),
        subject,
        display_name,
        profile: Profile::default(),
        roles,
    })
}

/// The values at a dotted path (`realm_access.roles`), as strings.
fn role_values(claims: &Map<String, Value>, path: &str) -> Vec<String> {
    let mut node: Option<&Value> = None;
    for (i, part) in path.split('.').enumerate() {
        node = if i == 0 {
            claims.get(part)
        } else {
            node.and_then(|n| n.get(part))
        };
    }
    match node {
        Some(Value::Array(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
        Some(Value::String(s)) => s.split([' ', ',']).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// `admin`, `/cpts/admin`, `cpts:Admin` → admin.
fn role(value: &str) -> Option<CptsRole> {
    let last = value.rsplit(['/', ':']).next().unwrap_or(value);
    CptsRole::parse(&last.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
