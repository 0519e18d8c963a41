use super::*;
use crate::aci::report::anniversary;

fn euros(e: i64) -> Cents {
    Cents(e * 100)
}

/// Size 1 of the 2019 agreement, as the seed writes it.
fn size_1() -> Agreement {
    let row = |line, fixed, variable| Amount {
        line,
        fixed: euros(fixed),
        variable: euros(variable),
    };
    Agreement {
        version: "2019".into(),
        label: "ACI CPTS 2019".into(),
        effective_from: "2019-08-20".into(),
        advance_bp: 7_500,
        mandatory: vec![Mission::AccesSoins, Mission::Parcours, Mission::Prevention],
        size: 1,
        amounts: vec![
            row(Line::Operating, 50_000, 0),
            row(Line::AccesSoins, 15_000, 15_000),
            row(Line::SoinsNonProgrammes, 10_000, 0),
            row(Line::Parcours, 25_000, 25_000),
            row(Line::Prevention, 10_000, 10_000),
            row(Line::Qualite, 7_500, 7_500),
            row(Line::Accompagnement, 5_000, 5_000),
        ],
    }
}

fn def(code: IndicatorCode, target: i64, weight: i64) -> IndicatorDef {
    IndicatorDef {
        code,
        label: code.as_str().into(),
        target,
        weight,
    }
}

#[test]
fn every_mission_reached_pays_the_whole_table() {
    let a = size_1();
    let missions = Mission::ALL.to_vec();
    let defs = vec![
        def(IndicatorCode::PatientsPlaced, 10, 1),
        def(IndicatorCode::CarePlansActive, 10, 1),
        def(IndicatorCode::CampaignActions, 10, 1),
        def(IndicatorCode::Concertations, 10, 1),
        def(IndicatorCode::Members, 10, 1),
    ];
    let values: Vec<_> = defs.iter().map(|d| (d.code, 50)).collect();
    let r = compute(&ReportInput {
        year: 2025,
        agreement: &a,
        missions: &missions,
        indicators: &defs,
        values: &values,
        contract_signed_on: Some("2021-03-15"),
    });
    assert_eq!(r.maximum, euros(185_000));
    assert_eq!(r.earned, euros(185_000));
    assert_eq!(r.advance, euros(138_750));
    assert_eq!(r.balance, euros(46_250));
    assert_eq!(r.advance_due_on.as_deref(), Some("2025-03-15"));
    let access = r
        .missions
        .iter()
        .find(|m| m.mission == Mission::AccesSoins)
        .unwrap();
    assert_eq!(
        access.fixed,
        euros(25_000),
        "fixed part and the SNP supplement"
    );
    assert_eq!(access.supplement, euros(10_000));
    // The crisis mission has no 2019 amounts: chosen, it is flagged, worth nothing.
    assert!(r.warnings.contains(&"aci.mission_without_amounts"));
}

#[test]
fn variable_parts_follow_weights_and_achievement_capped_at_full() {
    let a = size_1();
    let defs = vec![
        def(IndicatorCode::CarePlansActive, 100, 1),
        def(IndicatorCode::CaseConferences, 6, 2),
        def(IndicatorCode::ConferenceProfessions, 3, 0),
    ];
    // (values of the two weighted indicators, variable earned in cents)
    let table: &[(i64, i64, i64)] = &[
        (0, 0, 0),
        (100, 0, 833_333),
        (50, 0, 416_666),
        (0, 6, 1_666_667),
        (0, 3, 833_333),
        (250, 60, 2_500_000),
        (-5, 6, 1_666_667),
    ];
    for &(plans, conferences, earned) in table {
        let values = vec![
            (IndicatorCode::CarePlansActive, plans),
            (IndicatorCode::CaseConferences, conferences),
            (IndicatorCode::ConferenceProfessions, 3),
        ];
        let r = compute(&ReportInput {
            year: 2025,
            agreement: &a,
            missions: &[Mission::Parcours],
            indicators: &defs,
            values: &values,
            contract_signed_on: Some("2020-01-01"),
        });
        let m = &r.missions[0];
        assert_eq!(m.variable, euros(25_000));
        let shares: Cents = m.indicators.iter().map(|l| l.at_stake).sum();
        assert_eq!(shares, euros(25_000), "the shares add up exactly");
        assert_eq!(
            m.indicators[2].at_stake,
            Cents(0),
            "weight 0 is worth nothing"
        );
        assert_eq!(
            m.variable_earned,
            Cents(earned),
            "{plans} plans, {conferences} RCP"
        );
        assert_eq!(r.earned, euros(50_000 + 25_000) + Cents(earned));
        assert!(r.warnings.contains(&"aci.mandatory_mission_missing"));
    }
}

#[test]
fn unmeasured_indicators_earn_nothing_and_missing_dates_are_flagged() {
    let a = size_1();
    let defs = vec![def(IndicatorCode::PatientsPlaced, 10, 1)];
    let r = compute(&ReportInput {
        year: 2025,
        agreement: &a,
        missions: &[Mission::AccesSoins, Mission::Parcours, Mission::Prevention],
        indicators: &defs,
        values: &[],
        contract_signed_on: None,
    });
    assert_eq!(r.missions[0].indicators[0].value, None);
    assert_eq!(r.missions[0].variable_earned, Cents(0));
    assert!(r.warnings.contains(&"aci.no_contract_date"));
    assert!(r.warnings.contains(&"aci.mission_without_indicators"));
    assert!(!r.warnings.contains(&"aci.mandatory_mission_missing"));
    let later = compute(&ReportInput {
        year: 2025,
        agreement: &a,
        missions: &[],
        indicators: &defs,
        values: &[],
        contract_signed_on: Some("2026-06-01"),
    });
    assert!(later.warnings.contains(&"aci.contract_after_year"));
    assert_eq!(later.maximum, euros(50_000), "operating only");
}

#[test]
fn anniversaries_of_the_29th_of_february() {
    assert_eq!(
        anniversary("2020-02-29", 2025).as_deref(),
        Some("2025-02-28")
    );
    assert_eq!(
        anniversary("2020-02-29", 2028).as_deref(),
        Some("2028-02-29")
    );
    assert_eq!(
        anniversary("2021-11-30", 2025).as_deref(),
        Some("2025-11-30")
    );
}

#[test]
fn definitions_are_checked() {
    for (code, label, target, weight, err) in [
        ("nope", "x", 1, 1, "aci.unknown_indicator"),
        ("adherents", " ", 1, 1, "aci.invalid_label"),
        ("adherents", "a\u{1}", 1, 1, "aci.invalid_label"),
        ("adherents", "x", 0, 1, "aci.invalid_target"),
        ("adherents", "x", 1, -1, "aci.invalid_weight"),
        ("adherents", "x", 1, 1_001, "aci.invalid_weight"),
    ] {
        let e = IndicatorDef::parse(code, label, target, weight).unwrap_err();
        assert_eq!(e.code(), err, "{code} {label:?} {target} {weight}");
    }
    let ok = IndicatorDef::parse("adherents", " Adhérents ", 40, 2).unwrap();
    assert_eq!(ok.label, "Adhérents");
    let twice = vec![ok.clone(), ok];
    assert_eq!(
        check_set(&twice).unwrap_err().code(),
        "aci.duplicate_indicator"
    );
    assert_eq!(
        check_year(2018, 2026).unwrap_err().code(),
        "aci.invalid_year"
    );
    assert_eq!(check_year(2027, 2026).unwrap(), 2027);
    assert!(check_year(2028, 2026).is_err());
    for code in IndicatorCode::ALL {
        // Every indicator belongs to a mission that has a line of its own.
        let line = mission_line(code.mission());
        assert_eq!(line.mission(), Some(code.mission()));
    }
}
