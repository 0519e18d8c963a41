//! The case-conference screens in a real browser: the agenda on a phone, a
//! conference with its participants and its case, attendance ticked by the chair,
//! the quorum refused in French then validation, the record with its hash, a
//! correction added as an addendum, and the server's printable page.

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::file::patient_with_team;
use crate::support::spawn_app;

/// Clicks through script: on a phone the bottom navigation may cover the element.
async fn click(browser: &Browser, css: &str) {
    browser.wait_for(css).await;
    browser
        .eval(&format!(
            "document.querySelector({}).click(); return true",
            json!(css)
        ))
        .await;
}

#[tokio::test]
async fn the_chair_runs_a_concertation_from_the_agenda_to_the_printable_record() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let start = app.clock.now().plus_secs(300);
    let c: Value = coord
        .post_json(
            "/v1/case-conferences",
            &json!({ "title": "Concertation maintien à domicile", "kind": "concertation",
                     "scheduled_at": start.to_rfc3339(), "duration_minutes": 60,
                     "place": "MSP du Vieux-Lille, salle 2", "chair_id": gp.id }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap().to_string();
    for who in [&nurse, &pharma] {
        let r = coord
            .post_json(
                &format!("/v1/case-conferences/{id}/participants"),
                &json!({ "account_id": who.id }),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = gp
        .post_json(
            &format!("/v1/case-conferences/{id}/cases"),
            &json!({ "patient_id": patient, "question": "Maintien à domicile possible ?" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.clock.advance(Duration::from_secs(360));

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "gp-martin").await;
    phone.goto(&app.url("/#/concertations")).await;
    phone
        .wait_text(
            &format!("a[data-conference='{id}']"),
            "Concertation maintien à domicile",
        )
        .await;
    phone.screenshot("30-concertations-agenda").await;
    phone
        .wait_for(&format!("a[data-conference='{id}']"))
        .await
        .click()
        .await
        .unwrap();
    phone
        .wait_text("[data-case]", "Maintien à domicile possible ?")
        .await;
    phone
        .wait_text("[data-conference-view]", "Participants")
        .await;
    phone.screenshot("31-concertation").await;

    // The chair writes the minutes.
    phone
        .wait_for("[data-case] textarea[name='decision']")
        .await
        .send_keys("Maintien à domicile avec passage infirmier")
        .await
        .unwrap();
    click(&phone, "[data-case] form.minutes button[type='submit']").await;
    let cases = format!("/v1/case-conferences/{id}/cases");
    for _ in 0..100 {
        let page: Value = gp.get(&cases).await.json().await.unwrap();
        if page["items"][0]["decision"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Nobody marked present: the quorum is refused, in French.
    phone.eval("window.confirm = () => true; return true").await;
    click(&phone, "button[data-validate]").await;
    phone
        .wait_text(
            "[data-conference-view] .error",
            "Quorum non atteint : il manque 3 participant(s) présent(s)",
        )
        .await;
    // Attendance ticked by the chair.
    for who in [&gp.id, &nurse.id, &pharma.id] {
        click(
            &phone,
            &format!("[data-participant='{who}'] input[type='checkbox']"),
        )
        .await;
        phone
            .wait_until(
                "attendance saved",
                &format!("document.querySelector(\"[data-participant='{who}'] input:checked:not([disabled])\")"),
            )
            .await;
    }
    phone.eval("window.confirm = () => true; return true").await;
    click(&phone, "button[data-validate]").await;
    phone.wait_for("[data-status='validated']").await;

    // The printable record, with its hash.
    phone
        .goto(&app.url(&format!("/#/concertations/{id}/compte-rendu")))
        .await;
    phone
        .wait_text(
            "article.record",
            "Maintien à domicile avec passage infirmier",
        )
        .await;
    let hash = phone
        .eval("return document.querySelector('[data-hash]').textContent")
        .await;
    let kept: Value = gp
        .get(&format!("/v1/case-conferences/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hash, kept["record_hash"]);
    phone.screenshot("32-concertation-compte-rendu").await;

    // A correction to the case: a new addendum under the record, never an edit.
    let case_id = phone
        .eval("return document.querySelector('[data-addendum-form] select[name=about] option:last-child').value")
        .await;
    assert!(case_id.as_str().unwrap().len() == 36, "{case_id}");
    phone
        .eval(&format!(
            "const s = document.querySelector('[data-addendum-form] select[name=about]'); s.value = {case_id}; return true"
        ))
        .await;
    phone
        .wait_for("[data-addendum-form] textarea[name='text']")
        .await
        .send_keys("Passage infirmier matin et soir, pas seulement le matin.")
        .await
        .unwrap();
    click(&phone, "[data-addendum-form] button[type='submit']").await;
    phone
        .wait_text(
            "[data-addendum='1']",
            "Passage infirmier matin et soir, pas seulement le matin.",
        )
        .await;
    phone
        .wait_text("[data-addendum='1']", "concerne le cas de")
        .await;
    let record: Value = gp
        .get(&format!("/v1/case-conferences/{id}/record"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["addenda"][0]["case_id"], case_id);
    assert_eq!(record["addenda"][0]["previous_hash"], kept["record_hash"]);
    // Nothing wider than the phone, the 64-digit hashes included.
    let width = phone
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(width.as_u64().unwrap() <= 360, "{width}");
    phone.screenshot("33-concertation-rectificatif").await;

    // The printable page the link opens: the server's French HTML, with the correction.
    let printable = phone
        .eval("return document.querySelector('[data-printable]').getAttribute('href')")
        .await;
    phone.goto(&app.url(printable.as_str().unwrap())).await;
    phone.wait_text("body.record", "Rectificatif n° 1").await;
    phone
        .wait_text("body.record", "Imprimer / enregistrer en PDF")
        .await;
    phone
        .wait_text("body.record", "Maintien à domicile avec passage infirmier")
        .await;
    phone.screenshot("34-concertation-version-imprimable").await;
    phone.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_demo_has_a_validated_concertation_and_an_rcp_next_week() {
    let app = spawn_app().await;
    let now = app.clock.now();
    assert!(
        cordee_gateway::demo::seed(&app.state.store, now)
            .await
            .unwrap()
    );
    let gp = app.login("gp-martin").await;
    let agenda: Value = gp.get("/v1/case-conferences").await.json().await.unwrap();
    let items = agenda["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{agenda}");
    assert_eq!(items[0]["status"], "validated");
    assert_eq!(items[1]["status"], "planned");
    assert_eq!(items[1]["kind"], "rcp");
    assert_eq!(items[1]["case_count"], 2);
    let id = items[0]["id"].as_str().unwrap();
    let record: Value = gp
        .get(&format!("/v1/case-conferences/{id}/record"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["hash"], items[0]["record_hash"]);
    // The demo's correction follows the record in the chain.
    let addenda = record["addenda"].as_array().unwrap();
    assert_eq!(addenda.len(), 1, "{record}");
    assert_eq!(addenda[0]["previous_hash"], record["hash"]);
    assert_eq!(record["chain_head"], addenda[0]["hash"]);
    assert!(
        addenda[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Rectificatif")
    );
    let nurse = app.login("nurse-bernard").await;
    let mine: Value = nurse
        .get("/v1/case-conferences?mine=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}

/// The agenda follows the stream: a conference the nurse is invited to while her
/// agenda is open appears without a reload.
#[tokio::test]
async fn an_invitation_appears_on_the_open_agenda() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "nurse-bernard").await;
    phone.goto(&app.url("/#/concertations")).await;
    phone.wait_for("#cc-title").await;
    phone
        .wait_until(
            "the agenda loaded",
            "!document.querySelector('main [role=status]')",
        )
        .await;
    assert_eq!(phone.count_text("a[data-conference]", "").await, 0);
    let created: Value = coord
        .post_json(
            "/v1/case-conferences",
            &json!({ "title": "Concertation plaies chroniques", "kind": "concertation",
                     "scheduled_at": app.clock.now().plus_secs(86_400).to_rfc3339(),
                     "duration_minutes": 45, "chair_id": gp.id }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let invited = coord
        .post_json(
            &format!("/v1/case-conferences/{id}/participants"),
            &json!({ "account_id": nurse.id }),
        )
        .await;
    assert_eq!(invited.status(), 200);
    phone
        .wait_text("a[data-conference]", "Concertation plaies chroniques")
        .await;
    phone.close().await;
    app.stop().await;
}
