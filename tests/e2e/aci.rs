//! The ACI report through the real server: indicators written by the coordination,
//! the report in its three formats computed from data created through the API
//! (adhesions), the CSV parsed back, the HTML carrying the figures, rights and bad
//! input.

use serde_json::{Value, json};

use crate::support::{TestApp, User, problem, spawn_app};

async fn profile(admin: &User, population: i64) {
    let r = admin
        .put_json(
            "/v1/cpts",
            &json!({
                "name": "CPTS Lille Métropole Nord",
                "population": population,
                "contract_signed_on": "2023-09-12",
                "missions": ["acces_soins", "parcours", "prevention", "qualite", "accompagnement"],
                "communes": ["59350"],
            }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn members(app: &TestApp) {
    for persona in [
        "nurse-bernard",
        "gp-martin",
        "pharma-petit",
        "physio-moreau",
    ] {
        let user = app.login(persona).await;
        let r = user.post_json("/v1/cpts/membership", &json!({})).await;
        assert_eq!(r.status(), 201, "{persona}");
    }
}

#[tokio::test]
async fn the_report_is_computed_from_the_data_in_three_formats() {
    let app = spawn_app().await;
    let admin = app.login("admin-roux").await;
    let coordinator = app.login("coord-garcia").await;
    // Without a year: this year, in France.
    let r = coordinator.get("/v1/aci/report").await;
    problem(r, 409, "aci.no_profile").await;
    profile(&admin, 85_000).await;
    members(&app).await;

    // The coordination weighs the support mission on adhesions only.
    let set: Value = coordinator
        .get("/v1/aci/indicators")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["version"], 1);
    let mut items: Vec<Value> = set["items"].as_array().unwrap().clone();
    for i in &mut items {
        if i["code"] == "adherents" {
            i["target"] = json!(8);
            i["weight"] = json!(1);
        }
        if i["code"] == "adherents_professions" {
            i["weight"] = json!(0);
        }
    }
    let r = coordinator
        .put_json(
            "/v1/aci/indicators",
            &json!({ "version": 1, "items": items }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let stale = coordinator
        .put_json(
            "/v1/aci/indicators",
            &json!({ "version": 1, "items": items }),
        )
        .await;
    problem(stale, 409, "aci.version_conflict").await;

    let report: Value = coordinator
        .get("/v1/aci/report")
        .await
        .json()
        .await
        .unwrap();
    let year = report["year"].as_i64().unwrap();
    assert!(year >= 2026, "{report}");
    // Size 3 (85,000 inhabitants), 2019 table, five missions chosen: everything but
    // the crisis mission, 315,000 €.
    assert_eq!(report["size"], 3);
    assert_eq!(report["agreement_version"], "2019");
    assert_eq!(report["maximum"], json!(315_000.0));
    let support = report["missions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mission"] == "accompagnement")
        .unwrap();
    assert_eq!(support["variable"], json!(10_000.0));
    let adherents = support["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "adherents")
        .unwrap();
    assert_eq!(adherents["value"], 4, "four members joined through the API");
    assert_eq!(adherents["achievement"], json!(0.5));
    assert_eq!(adherents["earned"], json!(5_000.0));
    assert_eq!(support["variable_earned"], json!(5_000.0));
    assert_eq!(report["advance"], json!(236_250.0));
    let earned = report["earned"].as_f64().unwrap();
    assert!(
        (report["balance"].as_f64().unwrap() - (earned - 236_250.0)).abs() < 0.001,
        "{report}"
    );

    // CSV: a French spreadsheet reads it.
    let r = coordinator
        .get(&format!("/v1/aci/report?year={year}&format=csv"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let rows: Vec<Vec<&str>> = text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').collect())
        .collect();
    assert!(rows.iter().all(|r| r.len() == 9), "{rows:?}");
    assert_eq!(rows[0][0], "Rubrique");
    let max = rows.iter().find(|r| r[0] == "Montant maximal").unwrap();
    assert_eq!(max[6], "315000,00");
    let members_row = rows
        .iter()
        .find(|r| r[1] == "Professionnels de santé adhérents de la CPTS")
        .unwrap();
    assert_eq!(&members_row[2..6], &["4", "8", "1", "50,00"]);

    // HTML: printable, in French, with the figures and its charts inline.
    let r = coordinator
        .get(&format!("/v1/aci/report?year={year}&format=html"))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("315\u{202f}000,00 €"), "the maximum");
    assert!(html.contains("236\u{202f}250,00 €"), "the advance");
    assert!(html.contains("<svg"), "charts");
    assert!(html.contains("12/09/"), "the advance's date");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched elsewhere"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_the_coordination_reads_it_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let coordinator = app.login("coord-garcia").await;
    problem(
        nurse.get("/v1/aci/report").await,
        403,
        "aci.coordinators_only",
    )
    .await;
    problem(
        nurse.get("/v1/aci/indicators").await,
        403,
        "aci.coordinators_only",
    )
    .await;
    problem(
        nurse
            .put_json("/v1/aci/indicators", &json!({ "version": 1, "items": [] }))
            .await,
        403,
        "aci.coordinators_only",
    )
    .await;
    for (query, code) in [
        ("year=2018", "aci.invalid_year"),
        ("year=2999", "aci.invalid_year"),
        ("format=pdf", "aci.invalid_format"),
    ] {
        problem(
            coordinator.get(&format!("/v1/aci/report?{query}")).await,
            422,
            code,
        )
        .await;
    }
    let item = |code: &str, label: &str, target: i64, weight: i64| json!({ "code": code, "label": label, "target": target, "weight": weight });
    for (items, code) in [
        (vec![item("nope", "x", 1, 1)], "aci.unknown_indicator"),
        (vec![item("adherents", " ", 1, 1)], "aci.invalid_label"),
        (vec![item("adherents", "x", 0, 1)], "aci.invalid_target"),
        (vec![item("adherents", "x", 1, 5000)], "aci.invalid_weight"),
        (
            vec![item("adherents", "x", 1, 1), item("adherents", "y", 1, 1)],
            "aci.duplicate_indicator",
        ),
    ] {
        problem(
            coordinator
                .put_json(
                    "/v1/aci/indicators",
                    &json!({ "version": 1, "items": items }),
                )
                .await,
            422,
            code,
        )
        .await;
    }
    let set: Value = coordinator
        .get("/v1/aci/indicators")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["version"], 1, "nothing written");
    assert_eq!(set["items"].as_array().unwrap().len(), 13);
    app.stop().await;
}

#[tokio::test]
async fn the_demo_report_measures_every_module() {
    let app = spawn_app().await;
    assert!(
        cordee_gateway::demo::seed(&app.state.store, app.clock.now())
            .await
            .unwrap()
    );
    let coordinator = app.login("coord-garcia").await;
    let report: Value = coordinator
        .get("/v1/aci/report")
        .await
        .json()
        .await
        .unwrap();
    let value = |code: &str| -> Value {
        report["missions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["indicators"].as_array().unwrap().iter())
            .find(|i| i["code"] == code)
            .map(|i| i["value"].clone())
            .unwrap_or(Value::Null)
    };
    // The demo's modules, as their own routes show them.
    let capacity: Value = coordinator
        .get("/v1/gp-capacity")
        .await
        .json()
        .await
        .unwrap();
    let declared: i64 = capacity["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["accepting"] == true)
        .map(|c| c["new_patients_per_month"].as_i64().unwrap())
        .sum();
    assert!(declared > 0, "{capacity}");
    assert_eq!(value("capacite_medecins"), json!(declared), "{report}");
    assert_eq!(value("adherents"), json!(6), "the demo's six members");
    assert!(
        value("pps_actifs").as_i64().unwrap() >= 1,
        "Mme Durand's plan"
    );
    assert!(
        value("concertations_validees").as_i64().unwrap() >= 1
            || value("rcp_validees").as_i64().unwrap() >= 1,
        "last month's concertation: {report}"
    );
    assert!(
        value("actions_prevention").as_i64().unwrap() > 0,
        "{report}"
    );
    assert!(value("structures_prevention").as_i64().unwrap() >= 1);
    // Every indicator is measured (the crisis one belongs to a mission the demo CPTS
    // did not choose, so it is not in the report).
    for m in report["missions"].as_array().unwrap() {
        for i in m["indicators"].as_array().unwrap() {
            assert!(i["value"].is_i64(), "{i}");
        }
    }
    app.stop().await;
}
