//! The ACI contract: the seed's 2019 tables for the four sizes (every amount of the
//! table appears below), a loaded avenant taking over from its date, the indicator
//! set written by coordinators with optimistic concurrency, and the report computed
//! from the store's data.

use cordee_pathway::Error;
use cordee_pathway::Millis;
use cordee_pathway::account::CptsRole;
use cordee_pathway::aci::{Amount, Cents, IndicatorCode, IndicatorDef, Line};
use cordee_pathway::cpts::{Mission, ProfileInput};
use cordee_pathway::store::AgreementTables;

use crate::support::{account, fresh_store};

fn euros(e: i64) -> Cents {
    Cents(e * 100)
}

/// The 2019 table (ACI CPTS of 20 June 2019), size by size: operating; access to care
/// fixed, variable and the unscheduled-care supplement; pathways; prevention;
/// quality; support to professionals (fixed = variable for each mission).
const TABLE_2019: [(u8, [i64; 9], i64); 4] = [
    (
        1,
        [
            50_000, 15_000, 15_000, 10_000, 25_000, 10_000, 7_500, 5_000, 0,
        ],
        185_000,
    ),
    (
        2,
        [
            62_500, 17_500, 17_500, 12_000, 35_000, 15_000, 10_000, 7_500, 0,
        ],
        244_500,
    ),
    (
        3,
        [
            75_000, 25_000, 25_000, 15_000, 45_000, 17_500, 15_000, 10_000, 0,
        ],
        315_000,
    ),
    (
        4,
        [
            90_000, 30_000, 30_000, 20_000, 50_000, 20_000, 20_000, 15_000, 0,
        ],
        380_000,
    ),
];

#[tokio::test]
async fn the_2019_tables_of_the_four_sizes() {
    let fx = fresh_store().await;
    let store = &fx.store;
    for (size, t, total) in TABLE_2019 {
        let a = store.aci_agreement(2024, size).await.unwrap().unwrap();
        assert_eq!(a.version, "2019");
        assert_eq!(a.advance_bp, 7_500);
        assert_eq!(
            a.mandatory,
            vec![Mission::AccesSoins, Mission::Parcours, Mission::Prevention]
        );
        let get = |line| a.amounts.iter().find(|x| x.line == line).unwrap();
        assert_eq!(get(Line::Operating).fixed, euros(t[0]), "size {size}");
        assert_eq!(get(Line::AccesSoins).fixed, euros(t[1]), "size {size}");
        assert_eq!(get(Line::AccesSoins).variable, euros(t[2]), "size {size}");
        assert_eq!(
            get(Line::SoinsNonProgrammes).fixed,
            euros(t[3]),
            "size {size}"
        );
        for (line, amount) in [
            (Line::Parcours, t[4]),
            (Line::Prevention, t[5]),
            (Line::Qualite, t[6]),
            (Line::Accompagnement, t[7]),
        ] {
            assert_eq!(get(line).fixed, euros(amount), "size {size} {line}");
            assert_eq!(get(line).variable, euros(amount), "size {size} {line}");
        }
        assert!(
            a.amounts.iter().all(|x| x.line != Line::CriseSanitaire),
            "2019 has no crisis mission"
        );
        let sum: Cents = a.amounts.iter().map(|x| x.fixed + x.variable).sum();
        assert_eq!(sum, euros(total), "size {size}");
        assert_eq!(t[8], 0);
    }
    // Before the agreement, nothing applies.
    assert!(store.aci_agreement(2018, 1).await.unwrap().is_none());
}

fn avenant() -> AgreementTables {
    let sizes = (1..=4u8)
        .map(|size| {
            let base = i64::from(size) * 10_000;
            (
                size,
                vec![
                    Amount {
                        line: Line::Operating,
                        fixed: euros(100_000 + base),
                        variable: Cents(0),
                    },
                    Amount {
                        line: Line::CriseSanitaire,
                        fixed: euros(base),
                        variable: euros(base),
                    },
                ],
            )
        })
        .collect();
    AgreementTables {
        version: "avenant-2".into(),
        label: "Avenant 2".into(),
        effective_from: "2022-04-01".into(),
        advance_bp: 7_500,
        mandatory: vec![Mission::AccesSoins, Mission::CriseSanitaire],
        sizes,
    }
}

#[tokio::test]
async fn a_loaded_avenant_takes_over_from_its_date_and_is_loaded_once() {
    let fx = fresh_store().await;
    let store = &fx.store;
    store
        .load_aci_agreement(&avenant(), Millis(1))
        .await
        .unwrap();
    assert_eq!(
        store.aci_agreement(2021, 3).await.unwrap().unwrap().version,
        "2019"
    );
    let a = store.aci_agreement(2023, 3).await.unwrap().unwrap();
    assert_eq!(a.version, "avenant-2");
    assert_eq!(a.amounts.len(), 2);
    assert!(matches!(
        store.load_aci_agreement(&avenant(), Millis(2)).await,
        Err(Error::Conflict {
            code: "aci.agreement_exists",
            ..
        })
    ));
}

fn def(code: IndicatorCode, target: i64, weight: i64) -> IndicatorDef {
    IndicatorDef {
        code,
        label: format!("Indicateur {}", code.as_str()),
        target,
        weight,
    }
}

#[tokio::test]
async fn coordinators_write_the_indicators_and_concurrent_writers_never_lose_an_update() {
    let fx = fresh_store().await;
    let store = &fx.store;
    let nurse = account(store, "Sophie Bernard", Some("60"), &[]).await;
    let coordinator = account(store, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let (seeded, version) = store.aci_indicators().await.unwrap();
    assert_eq!(seeded.len(), IndicatorCode::ALL.len(), "every code seeded");
    assert_eq!(version, 1);
    assert!(matches!(
        store
            .set_aci_indicators(&nurse, vec![], version, Millis(1))
            .await,
        Err(Error::Forbidden {
            code: "aci.coordinators_only",
            ..
        })
    ));
    let twice = vec![
        def(IndicatorCode::Members, 10, 1),
        def(IndicatorCode::Members, 20, 1),
    ];
    assert!(matches!(
        store
            .set_aci_indicators(&coordinator, twice, version, Millis(1))
            .await,
        Err(Error::Invalid {
            code: "aci.duplicate_indicator",
            ..
        })
    ));
    assert_eq!(store.aci_indicators().await.unwrap(), (seeded.clone(), 1));

    // Eight writers from the same version: exactly one wins, the others get 409.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let coordinator = coordinator.clone();
        tasks.push(tokio::spawn(async move {
            store
                .set_aci_indicators(
                    &coordinator,
                    vec![def(IndicatorCode::Members, 10 + i, 1)],
                    1,
                    Millis(10 + i),
                )
                .await
        }));
    }
    let mut won = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(set) => won.push((i, set)),
            Err(Error::Conflict {
                code: "aci.version_conflict",
                ..
            }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one writer wins");
    let (i, (defs, version)) = &won[0];
    assert_eq!(*version, 2);
    assert_eq!(defs[0].target, 10 + *i as i64);
    assert_eq!(store.aci_indicators().await.unwrap(), (defs.clone(), 2));
}

#[tokio::test]
async fn the_report_counts_members_from_the_data_for_each_size() {
    let fx = fresh_store().await;
    let store = &fx.store;
    let admin = account(store, "Hugo Roux", None, &[CptsRole::Admin]).await;
    let coordinator = account(store, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let nurse = account(store, "Sophie Bernard", Some("60"), &[]).await;
    let gp = account(store, "Claire Martin", Some("10"), &[]).await;
    let pharmacist = account(store, "Julien Petit", Some("21"), &[]).await;
    // 2025-06-01 (Paris): all three join; the pharmacist leaves in 2026.
    let june_2025 = Millis(1_748_736_000_000);
    for who in [&nurse, &gp, &pharmacist] {
        store.join_cpts(who, june_2025).await.unwrap();
    }
    store
        .leave_cpts(&pharmacist, Millis(1_771_000_000_000))
        .await
        .unwrap();
    assert!(matches!(
        store.aci_report(&coordinator, 2025, june_2025).await,
        Err(Error::Conflict {
            code: "aci.no_profile",
            ..
        })
    ));
    let (_, version) = store.aci_indicators().await.unwrap();
    store
        .set_aci_indicators(
            &coordinator,
            vec![
                def(IndicatorCode::Members, 4, 3),
                def(IndicatorCode::MemberProfessions, 3, 1),
            ],
            version,
            Millis(5),
        )
        .await
        .unwrap();
    for (population, size, total) in [
        (30_000, 1u8, 185_000),
        (60_000, 2, 244_500),
        (120_000, 3, 315_000),
        (200_000, 4, 380_000),
    ] {
        let profile = ProfileInput {
            name: "CPTS du Val".into(),
            population,
            contract_signed_on: Some("2024-02-29".into()),
            missions: Mission::ALL
                .iter()
                .filter(|m| **m != Mission::CriseSanitaire)
                .map(|m| m.as_str().into())
                .collect(),
            communes: vec!["59350".into()],
        };
        store
            .set_cpts_profile(&admin, profile.validate().unwrap(), Millis(6))
            .await
            .unwrap();
        let out = store
            .aci_report(&coordinator, 2025, june_2025)
            .await
            .unwrap();
        let r = out.report;
        assert_eq!(r.size, size);
        assert_eq!(r.maximum, euros(total), "size {size}");
        let support = r
            .missions
            .iter()
            .find(|m| m.mission == Mission::Accompagnement)
            .unwrap();
        // 3 members of 4 and 3 professions of 3, weights 3:1.
        assert_eq!(support.indicators[0].value, Some(3));
        assert_eq!(support.indicators[1].value, Some(3));
        let variable = support.variable.0;
        let first = variable * 3 / 4;
        let expected = first * 3 / 4 + (variable - first);
        assert_eq!(support.variable_earned, Cents(expected), "size {size}");
        // Missions without weighted indicators earn no variable part.
        let access = r
            .missions
            .iter()
            .find(|m| m.mission == Mission::AccesSoins)
            .unwrap();
        assert_eq!(access.variable_earned, Cents(0));
        assert!(r.warnings.contains(&"aci.mission_without_indicators"));
        assert_eq!(r.advance, Cents(r.maximum.0 * 3 / 4));
        assert_eq!(r.balance, Cents(r.earned.0 - r.advance.0));
        assert_eq!(r.advance_due_on.as_deref(), Some("2025-02-28"));
    }
    // At the end of 2026 the pharmacist has left.
    let values = store.aci_values(2026).await.unwrap();
    assert!(values.contains(&(IndicatorCode::Members, 2)), "{values:?}");
    assert!(matches!(
        store.aci_report(&nurse, 2025, june_2025).await,
        Err(Error::Forbidden {
            code: "aci.coordinators_only",
            ..
        })
    ));
    // The read is audited as an aggregate, without any name.
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select action, detail from audit_log where action = 'aci.report.read'")
            .fetch_all(store.db().reader())
            .await
            .unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|(_, d)| {
        d.as_deref()
            .is_some_and(|d| d.starts_with("aggregate year=2025"))
    }));
}
