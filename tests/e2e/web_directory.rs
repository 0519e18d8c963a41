//! The directory's screens in a real browser: searching the territory's professionals
//! without accents, a professional's card with their structures, inviting one who
//! has no account (the link logs in with Pro Santé Connect), writing to one who has,
//! and the CPTS profile an admin writes and a professional joins.

use serde_json::Value;

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::spawn_app;

#[tokio::test]
async fn a_nurse_finds_a_professional_invites_one_and_writes_to_another() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    cordee_gateway::directory::seed_demo(&app.state.store, app.clock.now())
        .await
        .unwrap()
        .expect("an empty directory is seeded");
    // The GP logs in once, so that her entry has an account to write to.
    let gp = app.login("gp-martin").await;
    let gp_me: Value = gp.get("/v1/me").await.json().await.unwrap();
    let gp_nid = gp_me["national_id"].as_str().unwrap().to_string();

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "nurse-bernard").await;
    phone.goto(&app.url("/#/annuaire")).await;
    phone.wait_for("a[data-professional]").await;
    // Accents and case ignored: "lefevre" finds Éloïse LEFÈVRE, who has no account.
    let q = phone.wait_for("input[name='q']").await;
    q.send_keys("lefevre eloise").await.unwrap();
    phone
        .wait_for("form[role='search'] button[type='submit']")
        .await
        .click()
        .await
        .unwrap();
    phone
        .wait_for("a[data-professional='810002009982']")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("#pro-name", "Éloïse LEFÈVRE").await;
    phone
        .wait_text("[data-card]", "Pas encore inscrit sur Cordée")
        .await;
    phone.wait_text("[data-card]", "Structures").await;
    phone.screenshot("20-annuaire-fiche").await;
    phone
        .wait_for("[data-card] button.primary")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("[data-card]", "Invitation créée").await;
    let link = phone
        .eval("return document.querySelector('[data-card] input[readonly]').value")
        .await;
    let link = link.as_str().unwrap();
    assert!(
        link.contains("/v1/auth/login?provider=") && link.contains("login_hint=810002009982"),
        "{link}"
    );
    // The invitation is the API's: the nurse's own list would show it again (same
    // invitation on a second call).
    let nurse = app.login("nurse-bernard").await;
    let again = nurse
        .post_json("/v1/directory/810002009982/invite", &serde_json::json!({}))
        .await;
    assert_eq!(again.status(), 200, "the browser's invitation exists");

    // A professional with an account: "Écrire" opens a direct conversation.
    phone.goto(&app.url(&format!("/#/annuaire/{gp_nid}"))).await;
    phone.wait_for(&format!("[data-card='{gp_nid}']")).await;
    phone.wait_text("#pro-name", "Claire").await;
    phone
        .wait_for("[data-card] button.primary")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_for("form.composer textarea").await;
    let url = phone.client.current_url().await.unwrap();
    assert!(
        url.fragment().unwrap_or("").starts_with("/messages/"),
        "{url}"
    );
    let conversations: Value = gp.get("/v1/conversations").await.json().await.unwrap();
    assert!(
        conversations["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "direct"),
        "{conversations}"
    );
    phone.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_admin_writes_the_cpts_profile_and_a_pharmacist_joins() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let desktop = Browser::start(Viewport::Desktop).await;
    desktop.login(&app, "admin-roux").await;
    desktop.goto(&app.url("/#/cpts")).await;
    desktop
        .wait_text("[data-cpts]", "Profil non renseigné")
        .await;
    let name = desktop.wait_for("input[name='name']").await;
    name.send_keys("CPTS Lille Métropole Nord").await.unwrap();
    desktop
        .wait_for("input[name='population']")
        .await
        .send_keys("85000")
        .await
        .unwrap();
    desktop
        .wait_for("input[name='m-parcours']")
        .await
        .click()
        .await
        .unwrap();
    desktop
        .wait_for("textarea[name='communes']")
        .await
        .send_keys("59350 59368")
        .await
        .unwrap();
    desktop
        .wait_for("form[aria-labelledby='cpts-edit-title'] button[type='submit']")
        .await
        .click()
        .await
        .unwrap();
    desktop
        .wait_text("[role='status']", "Profil enregistré")
        .await;
    // Size 3 from 85,000 inhabitants, computed by the server.
    desktop.wait_text("[data-cpts]", "Taille 3").await;
    desktop.close().await;

    let pharma = app.login("pharma-petit").await;
    let cpts: Value = pharma.get("/v1/cpts").await.json().await.unwrap();
    assert_eq!(cpts["name"], "CPTS Lille Métropole Nord");
    assert_eq!(cpts["missions"], serde_json::json!(["parcours"]));
    assert_eq!(cpts["members"]["total"], 0);

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "pharma-petit").await;
    phone.goto(&app.url("/#/cpts")).await;
    phone.wait_text("#adhesion-title", "Mon adhésion").await;
    phone
        .wait_for("section[aria-labelledby='adhesion-title'] button.primary")
        .await
        .click()
        .await
        .unwrap();
    phone
        .wait_text(
            "section[aria-labelledby='adhesion-title']",
            "Adhérent·e depuis",
        )
        .await;
    // The profile's counts follow the adhesion without a reload.
    phone.wait_text("[data-cpts]", "Adhérents : 1").await;
    phone.screenshot("21-cpts").await;
    let cpts: Value = pharma.get("/v1/cpts").await.json().await.unwrap();
    assert_eq!(cpts["members"]["total"], 1, "{cpts}");
    assert_eq!(
        cpts["members"]["by_profession"][0]["profession"]["label"],
        "Pharmacien"
    );
    phone.close().await;
    app.stop().await;
}

/// The phone's bottom bar: four screens chosen for the person and "Plus", which lists
/// every screen; a wide screen's side bar shows them all.
#[tokio::test]
async fn the_phone_bar_fits_each_profession_and_plus_lists_the_rest() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let visible = "return [...document.querySelectorAll('.nav a')].filter((a) => a.offsetParent !== null).map((a) => a.textContent.trim())";
    let expect = [
        (
            "nurse-bernard",
            ["Messagerie", "Patients", "Tâches", "Notifications", "Plus"],
        ),
        (
            "pharma-petit",
            ["Messagerie", "Patients", "Tâches", "Campagnes", "Plus"],
        ),
        (
            "gp-martin",
            ["Messagerie", "Patients", "Tâches", "Attente", "Plus"],
        ),
    ];
    for (persona, bar) in expect {
        let phone = Browser::start(Viewport::Phone).await;
        phone.login(&app, persona).await;
        phone.wait_for(".nav a.more").await;
        let shown = phone.eval(visible).await;
        let shown: Vec<String> = shown
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.as_str()
                    .unwrap()
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .collect()
            })
            .collect();
        let bar: Vec<String> = bar.iter().map(|b| b.to_string()).collect();
        assert_eq!(shown, bar, "{persona}");
        if persona == "nurse-bernard" {
            phone.goto(&app.url("/#/plus")).await;
            for screen in ["Campagnes", "Attente", "Annuaire", "RCP", "Compte"] {
                phone.wait_text("#main", screen).await;
            }
            phone.screenshot("25-plus").await;
        }
        phone.close().await;
    }
    let desktop = Browser::start(Viewport::Desktop).await;
    desktop.login(&app, "nurse-bernard").await;
    desktop.wait_for(".nav a").await;
    let shown = desktop.eval(visible).await;
    assert_eq!(shown.as_array().unwrap().len(), 9, "{shown}");
    desktop.close().await;
    app.stop().await;
}
