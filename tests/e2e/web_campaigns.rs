//! Campaign screens in a real browser: the pharmacist, on a phone, joins a campaign
//! for their officine and records the day's counts at the counter (then corrects
//! one); the coordinator's dashboard shows the indicators with their chart, enrols
//! a structure and broadcasts; a coordinator launches a campaign from the form.
//! Phone screenshots are saved like web.rs's ones.

use cordee_pathway::campaign::{format_day, paris_day};
use serde_json::{Value, json};

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::{TestApp, User, spawn_app};

fn day(app: &TestApp, offset: i64) -> String {
    let mut d = paris_day(app.clock.now());
    for _ in 0..offset.abs() {
        d = if offset > 0 {
            d.next_day().unwrap()
        } else {
            d.previous_day().unwrap()
        };
    }
    format_day(d)
}

async fn trod_campaign(app: &TestApp, coordinator: &User) -> Value {
    let r = coordinator
        .post_json(
            "/v1/campaigns",
            &json!({
                "theme": "trod_angine",
                "title": "TROD angine en officine",
                "description": "Tests rapides d’orientation diagnostique de l’angine",
                "starts_on": day(app, -10),
                "ends_on": day(app, 60),
                "action_kinds": [
                    { "code": "tests_realises", "label": "Tests réalisés" },
                    { "code": "tests_positifs", "label": "Tests positifs" }
                ],
                "targets": { "tests_realises": 200 }
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Sets a field's value as typing would (date and number fields take locale input
/// from `send_keys`; the value itself is what the form reads).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser.wait_for(css).await;
    let script = format!(
        "const e = document.querySelector({}); e.value = {}; e.dispatchEvent(new Event('input', {{ bubbles: true }})); e.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;",
        json!(css),
        json!(value)
    );
    browser.eval(&script).await;
}

async fn actions(user: &User, campaign: &str) -> Vec<Value> {
    let r: Value = user
        .get(&format!("/v1/campaigns/{campaign}/actions"))
        .await
        .json()
        .await
        .unwrap();
    r["items"].as_array().unwrap().clone()
}

async fn assert_fits_the_phone(browser: &Browser, name: &str) {
    let width = browser
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(width.as_u64().unwrap() <= 360, "{name} is {width} px wide");
}

#[tokio::test]
async fn the_pharmacist_joins_and_records_the_day_at_the_counter_on_a_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let coordinator = app.login("coord-garcia").await;
    let pharmacist = app.login("pharma-petit").await;
    let campaign = trod_campaign(&app, &coordinator).await;
    let id = campaign["id"].as_str().unwrap();

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "pharma-petit").await;
    phone.goto(&app.url("/#/campagnes")).await;
    phone.wait_for(&format!("a[data-campaign='{id}']")).await;
    phone.wait_text(".tag", "En cours").await;
    let list = phone.screenshot("20-campagnes").await;
    assert_fits_the_phone(&phone, "20-campagnes").await;

    // Join for the officine, then the day's counts in big fields.
    phone.click(&format!("a[data-campaign='{id}']")).await;
    phone.click("button[data-join]").await;
    set_value(&phone, "input[data-kind='tests_realises']", "12").await;
    set_value(&phone, "input[data-kind='tests_positifs']", "3").await;
    let counter = phone.screenshot("21-campagne-saisie-du-jour").await;
    assert_fits_the_phone(&phone, "21-campagne-saisie-du-jour").await;
    phone.click("form.counter button[type=submit]").await;
    phone.wait_text(".notice", "Enregistré.").await;
    let recorded = actions(&pharmacist, id).await;
    assert_eq!(recorded.len(), 2);
    let today = day(&app, 0);
    assert!(recorded.iter().all(|a| a["on"] == today.as_str()));
    let realised = recorded
        .iter()
        .find(|a| a["kind"] == "tests_realises")
        .unwrap();
    assert_eq!(realised["count"], 12);

    // A correction: the field shows what was recorded; a new value corrects it.
    phone
        .wait_text("form.counter .hint", "Déjà saisi : 12")
        .await;
    set_value(&phone, "input[data-kind='tests_realises']", "14").await;
    phone.click("form.counter button[type=submit]").await;
    phone
        .wait_text("form.counter .hint", "Déjà saisi : 14")
        .await;
    let recorded = actions(&pharmacist, id).await;
    let realised = recorded
        .iter()
        .find(|a| a["kind"] == "tests_realises")
        .unwrap();
    assert_eq!(realised["count"], 14);
    assert_eq!(realised["version"], 2);
    assert_eq!(realised["history"][0]["count"], 12);
    let positives = recorded
        .iter()
        .find(|a| a["kind"] == "tests_positifs")
        .unwrap();
    assert_eq!(
        positives["version"], 1,
        "an unchanged count is not sent again"
    );
    phone.close().await;
    for s in [&list, &counter] {
        assert!(std::fs::metadata(s).unwrap().len() > 1000);
    }
    app.stop().await;
}

#[tokio::test]
async fn the_coordinator_launches_follows_and_broadcasts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let coordinator = app.login("coord-garcia").await;
    let pharmacist = app.login("pharma-petit").await;
    let nurse = app.login("nurse-bernard").await;
    let campaign = trod_campaign(&app, &coordinator).await;
    let id = campaign["id"].as_str().unwrap();
    let conversation = campaign["conversation_id"].as_str().unwrap();
    let mine: Value = pharmacist
        .get("/v1/organisations?member=me")
        .await
        .json()
        .await
        .unwrap();
    let officine = mine["items"][0]["id"].as_str().unwrap();
    let r = pharmacist
        .post_json(
            &format!("/v1/campaigns/{id}/participants"),
            &json!({ "organisation_id": officine }),
        )
        .await;
    assert_eq!(r.status(), 201);
    for (on, n) in [(day(&app, 0), 9), (day(&app, -8), 5)] {
        let r = pharmacist
            .post_json(
                &format!("/v1/campaigns/{id}/actions"),
                &json!({ "organisation_id": officine, "kind": "tests_realises", "count": n, "on": on }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "coord-garcia").await;
    phone.goto(&app.url(&format!("/#/campagnes/{id}"))).await;
    phone.wait_for("#indicators-title").await;
    phone.wait_for("svg.week-chart rect").await;
    phone
        .wait_text(".campaign-progress", "14 sur 200 (7 %)")
        .await;
    phone
        .wait_text(&format!("li[data-structure='{officine}']"), "14 actions")
        .await;
    let dashboard = phone.screenshot("22-campagne-tableau-de-bord").await;
    assert_fits_the_phone(&phone, "22-campagne-tableau-de-bord").await;

    // Enrol the nurse's cabinet by name.
    let cabinet: Value = nurse
        .get("/v1/organisations?member=me")
        .await
        .json()
        .await
        .unwrap();
    let cabinet_name = cabinet["items"][0]["name"].as_str().unwrap().to_string();
    let cabinet_id = cabinet["items"][0]["id"].as_str().unwrap().to_string();
    set_value(&phone, "form[role=search] input[name=q]", &cabinet_name).await;
    phone.click("form[role=search] button[type=submit]").await;
    phone
        .wait_text("form[role=search] .row-title", &cabinet_name)
        .await;
    phone.click("form[role=search] li button").await;
    phone
        .wait_for(&format!("li[data-structure='{cabinet_id}']"))
        .await;

    // A broadcast lands in the campaign's conversation, for the nurse too.
    set_value(
        &phone,
        "textarea[name=body]",
        "Nouveaux TROD disponibles à la CPTS",
    )
    .await;
    phone.click("form.card button.primary[type=submit]").await;
    phone.wait_text(".notice", "Message envoyé").await;
    let messages: Value = nurse
        .get(&format!("/v1/conversations/{conversation}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        messages["items"][0]["body"],
        "Nouveaux TROD disponibles à la CPTS"
    );

    // Launching from the form: the theme's usual kinds are proposed.
    phone.goto(&app.url("/#/nouvelle-campagne")).await;
    phone.wait_for("#new-campaign").await;
    set_value(&phone, "select[name=theme]", "depistage_colorectal").await;
    phone
        .wait_until(
            "the colorectal kinds",
            "[...document.querySelectorAll('.kind-row input')].some(i => i.value === 'Kits remis')",
        )
        .await;
    let form = phone.screenshot("23-nouvelle-campagne").await;
    assert_fits_the_phone(&phone, "23-nouvelle-campagne").await;
    set_value(&phone, "input[name=title]", "Mars bleu").await;
    set_value(&phone, "input[name=starts_on]", &day(&app, 1)).await;
    set_value(&phone, "input[name=ends_on]", &day(&app, 31)).await;
    phone.click("form.card button.primary[type=submit]").await;
    phone.wait_for("#dashboard-title").await;
    phone.wait_text("#dashboard-title", "Mars bleu").await;
    let list: Value = coordinator.get("/v1/campaigns").await.json().await.unwrap();
    let made = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Mars bleu")
        .unwrap();
    assert_eq!(made["theme"], "depistage_colorectal");
    assert_eq!(made["action_kinds"][0]["code"], "kits_remis");
    assert_eq!(made["action_kinds"][0]["label"], "Kits remis");
    phone.close().await;
    for s in [&dashboard, &form] {
        assert!(std::fs::metadata(s).unwrap().len() > 1000);
    }
    app.stop().await;
}
