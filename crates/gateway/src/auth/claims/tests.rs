//! Table-driven checks of the PSC and staff claim mappings.
use super::*;
use serde_json::json;

fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

fn sample() -> Map<String, Value> {
    let text = include_str!("../../../../../tests/oidc/psc-userinfo-sample.json");
    claims(serde_json::from_str(text).unwrap())
}

#[test]
fn the_psc_sample_maps_to_a_general_practitioner() {
    let id = map_psc("psc", &sample()).unwrap();
    assert_eq!(id.kind, AccountKind::HealthProfessional);
    assert_eq!(id.national_id.unwrap().as_str(), "810100000017");
    assert_eq!(id.display_name, "CLAIRE EXEMPLE");
    assert_eq!(id.roles, vec![CptsRole::Member]);
    let e = &id.profile.exercices[0];
    assert_eq!(e.profession.as_ref().unwrap().as_str(), "10");
    assert_eq!(e.profession.as_ref().unwrap().label(), "Médecin");
    assert_eq!(e.specialty.as_ref().unwrap().code, "SM54");
    assert_eq!(e.specialty.as_ref().unwrap().label(), "Médecine générale");
    let a = &e.activities[0];
    assert_eq!(a.mode.as_deref(), Some("L"));
    assert_eq!(a.structure_id.as_deref(), Some("R00000001"));
    assert_eq!(a.finess, None, "empty strings are absent values");
}

/// (case, change to the sample, expected national id, expected professions)
#[test]
fn psc_variants_table() {
    type Edit = fn(&mut Map<String, Value>);
    type Case<'a> = (
        &'a str,
        Edit,
        Result<&'a str, ClaimsError>,
        Vec<Option<&'a str>>,
    );
    let cases: Vec<Case> = vec![
        ("as sent", |_| {}, Ok("810100000017"), vec![Some("10")]),
        (
            "no SubjectNameID, otherIds RPPS",
            |c| {
                c.remove("SubjectNameID");
            },
            Ok("810100000017"),
            vec![Some("10")],
        ),
        (
            "no SubjectNameID, otherIDs spelling, ADELI",
            |c| {
                c.remove("SubjectNameID");
                let others = c.remove("otherIds").unwrap();
                c.insert("otherIDs".into(), others);
                c["otherIDs"][0]["origine"] = json!("ADELI");
                c["otherIDs"][0]["identifiant"] = json!("751234567");
            },
            Ok("0751234567"),
            vec![Some("10")],
        ),
        (
            "no identifier at all",
            |c| {
                c.remove("SubjectNameID");
                c.remove("otherIds");
            },
            Err(ClaimsError::NoNationalId),
            vec![],
        ),
        (
            "empty SubjectNameID and no otherIds",
            |c| {
                c["SubjectNameID"] = json!("");
                c.remove("otherIds");
            },
            Err(ClaimsError::NoNationalId),
            vec![],
        ),
        (
            "unknown profession code is kept",
            |c| c["SubjectRefPro"]["exercices"][0]["codeProfession"] = json!("99"),
            Ok("810100000017"),
            vec![Some("99")],
        ),
        (
            "empty profession code",
            |c| c["SubjectRefPro"]["exercices"][0]["codeProfession"] = json!(""),
            Ok("810100000017"),
            vec![None],
        ),
        (
            "numeric profession code",
            |c| c["SubjectRefPro"]["exercices"][0]["codeProfession"] = json!(60),
            Ok("810100000017"),
            vec![Some("60")],
        ),
        (
            "no SubjectRefPro: SubjectRole names the profession",
            |c| {
                c.remove("SubjectRefPro");
            },
            Ok("810100000017"),
            vec![Some("10")],
        ),
        (
            "nothing about the profession at all",
            |c| {
                c.remove("SubjectRefPro");
                c.remove("SubjectRole");
            },
            Ok("810100000017"),
            vec![],
        ),
        (
            "SubjectRefPro as a JSON string, two exercices",
            |c| {
                let mut rp = c["SubjectRefPro"].clone();
                let mut second = rp["exercices"][0].clone();
                second["codeProfession"] = json!("70");
                second["codeTypeSavoirFaire"] = json!("");
                rp["exercices"].as_array_mut().unwrap().push(second);
                c["SubjectRefPro"] = json!(rp.to_string());
            },
            Ok("810100000017"),
            vec![Some("10"), Some("70")],
        ),
        (
            "exercices is not a list",
            |c| c["SubjectRefPro"]["exercices"] = json!("oops"),
            Ok("810100000017"),
            vec![Some("10")],
        ),
        (
            "no sub",
            |c| {
                c.remove("sub");
            },
            Err(ClaimsError::NoSubject),
            vec![],
        ),
    ];
    for (name, edit, national, professions) in cases {
        let mut c = sample();
        edit(&mut c);
        let got = map_psc("psc", &c);
        match (got, national) {
            (Ok(id), Ok(want)) => {
                assert_eq!(id.national_id.unwrap().as_str(), want, "{name}");
                let codes: Vec<Option<&str>> = id
                    .profile
                    .exercices
                    .iter()
                    .map(|e| e.profession.as_ref().map(|p| p.as_str()))
                    .collect();
                assert_eq!(codes, professions, "{name}");
            }
            (Err(e), Err(want)) => assert_eq!(e, want, "{name}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn specialty_only_when_the_savoir_faire_is_a_specialty() {
    for (kind, want) in [("S", Some("SM54")), ("C", None), ("", None)] {
        let mut c = sample();
        c["SubjectRefPro"]["exercices"][0]["codeTypeSavoirFaire"] = json!(kind);
        let id = map_psc("psc", &c).unwrap();
        let got = id.profile.exercices[0]
            .specialty
            .as_ref()
            .map(|s| s.code.as_str());
        assert_eq!(got, want, "codeTypeSavoirFaire {kind:?}");
    }
}

#[test]
fn unknown_codes_grant_no_clinical_rights() {
    let mut c = sample();
    c["SubjectRefPro"]["exercices"][0]["codeProfession"] = json!("99");
    let id = map_psc("psc", &c).unwrap();
    let code = id.profile.exercices[0].profession.clone().unwrap();
    assert_eq!(code.label(), "unknown");
    assert_eq!(code.group(), None);
}

#[test]
fn staff_roles_table() {
    type Case<'a> = (Value, &'a str, Result<Vec<CptsRole>, ClaimsError>);
    let cases: Vec<Case> = vec![
        (
            json!({"groups": ["coordinator"]}),
            "groups",
            Ok(vec![CptsRole::Coordinator]),
        ),
        (
            json!({"groups": ["/cpts/admin", "/cpts/member", "other"]}),
            "groups",
            Ok(vec![CptsRole::Member, CptsRole::Admin]),
        ),
        (
            json!({"roles": "cpts:Admin"}),
            "roles",
            Ok(vec![CptsRole::Admin]),
        ),
        (
            json!({"realm_access": {"roles": ["member"]}}),
            "realm_access.roles",
            Ok(vec![CptsRole::Member]),
        ),
        (
            json!({"groups": ["everyone"]}),
            "groups",
            Err(ClaimsError::NoRole),
        ),
        (json!({}), "groups", Err(ClaimsError::NoRole)),
        (json!({"groups": 3}), "groups", Err(ClaimsError::NoRole)),
    ];
    for (mut extra, claim, want) in cases {
        extra["sub"] = json!("u-1");
        extra["name"] = json!("Nadia Garcia");
        let got = map_oidc("staff", claim, &claims(extra.clone())).map(|i| i.roles);
        assert_eq!(got, want, "{extra}");
    }
}

#[test]
fn staff_never_get_a_profession() {
    // Even a staff provider that forwards PSC-shaped claims yields no exercice.
    let mut c = sample();
    c.insert("groups".into(), json!(["admin"]));
    let id = map_oidc("staff", "groups", &c).unwrap();
    assert_eq!(id.kind, AccountKind::Staff);
    assert!(id.profile.exercices.is_empty());
    assert!(id.national_id.is_none());
    assert_eq!(id.display_name, "CLAIRE EXEMPLE");
}
