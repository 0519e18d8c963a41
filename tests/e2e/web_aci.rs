//! The ACI report screen in a real browser, on the demo's CPTS: the coordinator sees
//! the year's amounts and indicators, changes a target, and the printable report
//! opens with the same figures.

use serde_json::Value;

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::spawn_app;

#[tokio::test]
async fn the_coordinator_reads_the_aci_report_and_sets_a_target() {
    let _one = ONE_AT_A_TIME.lock().await;
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
    // The demo CPTS: 85,000 inhabitants (size 3), five missions of the 2019 table.
    assert_eq!(report["maximum"], serde_json::json!(315_000.0), "{report}");

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "coord-garcia").await;
    phone.goto(&app.url("/#/aci")).await;
    phone
        .wait_text("[data-total='maximum']", "315\u{202f}000,00\u{a0}€")
        .await;
    phone
        .wait_text(
            "[data-aci='report']",
            "Professionnels de santé adhérents de la CPTS",
        )
        .await;
    phone.screenshot("30-rapport-aci").await;

    // The coordination lowers the members' target: the report follows.
    let target = phone.wait_for("input[name='target-adherents']").await;
    target.clear().await.unwrap();
    target.send_keys("6").await.unwrap();
    phone
        .click("form[aria-labelledby='ind-title'] button[type='submit']")
        .await;
    phone
        .wait_text("[role='status']", "Indicateurs enregistrés")
        .await;
    let set: Value = coordinator
        .get("/v1/aci/indicators")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["version"], 2);
    let adherents = set["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "adherents")
        .unwrap();
    assert_eq!(adherents["target"], 6);
    // Six demo members of a target of 6: the support mission's share is earned.
    let report: Value = coordinator
        .get("/v1/aci/report")
        .await
        .json()
        .await
        .unwrap();
    let support = report["missions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mission"] == "accompagnement")
        .unwrap();
    let line = support["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "adherents")
        .unwrap();
    assert_eq!(line["value"], 6, "{line}");
    assert_eq!(line["achievement"], serde_json::json!(1.0));

    // The printable report, as the link opens it (same session cookie).
    phone.goto(&app.url("/v1/aci/report?format=html")).await;
    phone.wait_text("h1", "Rapport ACI").await;
    phone.wait_text(".totals", "315\u{202f}000,00 €").await;
    phone.screenshot("31-rapport-aci-imprimable").await;
    phone.close().await;
    app.stop().await;
}
