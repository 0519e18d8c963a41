//! The web client in a real browser (Chromium through ChromeDriver): login through
//! the sandbox, live messages and photos between two browsers, the file as the matrix
//! allows it, the French "not found", phone screenshots, and the conversation
//! screen's weight and time to first message.

use base64::Engine;
use serde_json::{Value, json};

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::file::{new_patient, patient_with_team};
use crate::support::{User, spawn_app};

/// A 1×1 PNG: small, and a real image the browser decodes.
const PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async fn patient_thread(user: &User, patient: &str) -> String {
    let r = user
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "patient", "patient_id": patient, "category": "soins", "title": "Suivi à domicile" }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn write_entry(user: &User, patient: &str, category: &str, title: &str) {
    let r = user
        .post_json(
            &format!("/v1/patients/{patient}/entries"),
            &json!({ "category": category, "kind": "note", "title": title, "body": "Texte de l’entrée" }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_persona_logs_in_through_the_sandbox_and_lands_in_the_app() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let browser = Browser::start(Viewport::Desktop).await;
    browser.goto(&app.url("/")).await;
    // The login screen lists the personas; one click runs the real OpenID flow.
    browser
        .wait_for("a[data-persona='nurse-bernard']")
        .await
        .click()
        .await
        .unwrap();
    let title = browser.wait_for("#messages-title").await;
    assert_eq!(title.text().await.unwrap(), "Messagerie");
    browser.wait_text(".topbar", "Sophie Bernard").await;
    browser.wait_text(".topbar", "Infirmier").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/", "landed in the app, not on /v1/me");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_message_and_a_photo_sent_in_one_browser_appear_in_the_other() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&gp, &patient).await;

    let gp_browser = Browser::start(Viewport::Desktop).await;
    let nurse_browser = Browser::start(Viewport::Phone).await;
    gp_browser.login(&app, "gp-martin").await;
    nurse_browser.login(&app, "nurse-bernard").await;
    let conversation = app.url(&format!("/#/messages/{thread}"));
    gp_browser.goto(&conversation).await;
    nurse_browser.goto(&conversation).await;
    gp_browser.wait_for("#conv-title").await;
    nurse_browser.wait_for("#conv-title").await;
    // Both streams are up before anything is sent.
    for b in [&gp_browser, &nurse_browser] {
        b.wait_until("the stream", "!document.querySelector('.offline')")
            .await;
    }

    let text = "Pansement refait, la plaie bourgeonne bien";
    let composer = gp_browser.wait_for(".composer textarea").await;
    composer.send_keys(text).await.unwrap();
    gp_browser
        .wait_for(".composer button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    // Live in the other browser, without reload.
    nurse_browser.wait_text("article.msg .msg-body", text).await;
    // In the sender's: optimistic, then the stored message, shown once.
    gp_browser
        .wait_until(
            "the sent message stored",
            "document.querySelectorAll('article.msg[data-message]:not([data-message=\"\"])').length === 1",
        )
        .await;
    assert_eq!(gp_browser.count_text("article.msg", text).await, 1);
    assert_eq!(nurse_browser.count_text("article.msg", text).await, 1);

    // A photo from the nurse's gallery shows as a thumbnail in the GP's browser.
    let png = app.dir.join("plaie.png");
    std::fs::write(
        &png,
        base64::engine::general_purpose::STANDARD
            .decode(PIXEL_PNG)
            .unwrap(),
    )
    .unwrap();
    let gallery = nurse_browser.wait_for("input[data-role='gallery']").await;
    gallery.send_keys(png.to_str().unwrap()).await.unwrap();
    nurse_browser
        .wait_text(".composer", "1 photo(s) jointe(s)")
        .await;
    nurse_browser
        .wait_for(".composer button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    gp_browser
        .wait_until(
            "the photo's thumbnail, decoded",
            "[...document.querySelectorAll('img[data-attachment]')].some(i => i.complete && i.naturalWidth === 1 && i.src.startsWith('blob:'))",
        )
        .await;
    // A click opens it full size.
    gp_browser
        .wait_for("button.thumb")
        .await
        .click()
        .await
        .unwrap();
    gp_browser.wait_for(".overlay img").await;

    gp_browser.close().await;
    nurse_browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_file_shows_only_what_the_nurse_may_read_and_outsiders_get_not_found() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let admin = app.login("admin-roux").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    // DESIGN.md's matrix lets infirmiers read every category; the CPTS admin closes
    // one (medical) so that there is something she may not read.
    let r = admin
        .put_json(
            "/v1/access-matrix/infirmier/medical",
            &json!({ "access": "none" }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let patient = patient_with_team(&gp, &[&nurse]).await;
    write_entry(
        &gp,
        &patient,
        "medical",
        "Compte rendu de consultation cardiologique",
    )
    .await;
    write_entry(&gp, &patient, "soins", "Protocole de pansement").await;

    let browser = Browser::start(Viewport::Desktop).await;
    browser.login(&app, "nurse-bernard").await;
    browser
        .goto(&app.url(&format!("/#/patients/{patient}")))
        .await;
    browser
        .wait_text("article.entry h3", "Protocole de pansement")
        .await;
    browser.wait_text("#patient-name", "LEFÈVRE").await;
    assert_eq!(
        browser.count_text("article.entry", "cardiologique").await,
        0,
        "the nurse sees a medical entry"
    );
    assert_eq!(
        browser
            .eval(
                "return document.querySelectorAll('article.entry[data-category=medical]').length;"
            )
            .await,
        json!(0)
    );
    // Nor is the category offered.
    assert_eq!(
        browser
            .eval("return [...document.querySelectorAll('select[name=category-filter] option')].map(o => o.value).includes('medical');")
            .await,
        json!(false)
    );
    browser.close().await;

    // The GP sees both; an outsider gets the one French sentence, as for an id that
    // does not exist.
    let outsider = Browser::start(Viewport::Phone).await;
    outsider.login(&app, "pharma-petit").await;
    for id in [patient.clone(), uuid::Uuid::now_v7().to_string()] {
        outsider
            .goto(&app.url(&format!("/?n={id}#/patients/{id}")))
            .await;
        outsider
            .wait_text(
                "[data-not-found]",
                "Patient introuvable ou accès non autorisé",
            )
            .await;
        assert_eq!(outsider.count_text("body", "Lefèvre").await, 0);
    }
    outsider.close().await;
    app.stop().await;
}

#[tokio::test]
async fn phone_screenshots_of_the_main_screens() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let now = app.clock.now();
    assert!(
        cordee_gateway::demo::seed(&app.state.store, now)
            .await
            .unwrap()
    );
    // The demo data is made once: a second start writes nothing.
    assert!(
        !cordee_gateway::demo::seed(&app.state.store, now)
            .await
            .unwrap()
    );
    let nurse = app.login("nurse-bernard").await;
    let patients: Value = nurse.get("/v1/patients").await.json().await.unwrap();
    assert_eq!(patients["items"].as_array().unwrap().len(), 2, "{patients}");
    let jeanne = patients["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["birth_name"] == "Lefebvre")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let conversations: Value = nurse.get("/v1/conversations").await.json().await.unwrap();
    let thread = conversations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "patient" && c["patient_id"] == jeanne.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let phone = Browser::start(Viewport::Phone).await;
    phone.goto(&app.url("/")).await;
    phone.wait_for("a[data-persona='nurse-bernard']").await;
    let mut shots = vec![phone.screenshot("01-connexion").await];
    phone.login(&app, "nurse-bernard").await;
    phone.wait_for("a[data-conversation]").await;
    shots.push(phone.screenshot("02-messagerie").await);
    let screens = [
        (
            format!("#/messages/{thread}"),
            "article.msg",
            "03-conversation",
        ),
        (
            "#/nouvelle-conversation".to_string(),
            "form",
            "04-nouvelle-conversation",
        ),
        ("#/patients".to_string(), "a[data-patient]", "05-patients"),
        (
            format!("#/patients/{jeanne}"),
            "article.entry",
            "06-patient-dossier",
        ),
        (
            format!("#/patients/{jeanne}/equipe"),
            "#team-title",
            "07-equipe-de-soins",
        ),
        (
            format!("#/patients/{jeanne}/consentement"),
            "#objections-title",
            "08-consentement",
        ),
        (
            format!("#/patients/{jeanne}/journal"),
            "#log-title",
            "09-journal",
        ),
        (
            "#/nouveau-patient".to_string(),
            "#new-patient",
            "10-nouveau-patient",
        ),
        (
            "#/notifications".to_string(),
            "#notif-title",
            "11-notifications",
        ),
        ("#/compte".to_string(), "#sessions-title", "12-compte"),
    ];
    for (hash, ready, name) in screens {
        phone.goto(&app.url(&format!("/{hash}"))).await;
        phone.wait_for(ready).await;
        shots.push(phone.screenshot(name).await);
        // Nothing wider than the phone: no sideways scrolling on any main screen.
        let width = phone
            .eval("return document.documentElement.scrollWidth;")
            .await;
        assert!(width.as_u64().unwrap() <= 360, "{name} is {width} px wide");
    }
    phone.close().await;
    // And the two panes of a desktop screen.
    let desktop = Browser::start(Viewport::Desktop).await;
    desktop.login(&app, "nurse-bernard").await;
    desktop
        .goto(&app.url(&format!("/#/messages/{thread}")))
        .await;
    desktop.wait_for("article.msg").await;
    desktop.wait_for("a[data-conversation]").await;
    shots.push(desktop.screenshot("13-bureau-messagerie").await);
    desktop
        .goto(&app.url(&format!("/#/patients/{jeanne}")))
        .await;
    desktop.wait_for("article.entry").await;
    shots.push(desktop.screenshot("14-bureau-patient").await);
    desktop.close().await;
    for s in &shots {
        assert!(
            std::fs::metadata(s).unwrap().len() > 1000,
            "{}",
            s.display()
        );
    }
    println!(
        "screenshots: {}",
        shots
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_conversation_screen_is_light_and_shows_its_first_message_quickly() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&gp, &patient).await;
    for i in 0..20 {
        let r = gp
            .post_json(
                &format!("/v1/conversations/{thread}/messages"),
                &json!({ "client_id": format!("m{i}"), "body": format!("Passage {i} : constantes normales, pansement fait.") }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let phone = Browser::start(Viewport::Phone).await;
    // Log in landing on a page without the client, so that the conversation screen is
    // then loaded with a cold cache, as a first visit would be.
    phone.login_to(&app, "nurse-bernard", "/healthz").await;
    phone.wait_text("body", "ok").await;
    phone.goto(&app.url(&format!("/#/messages/{thread}"))).await;
    phone.wait_text("article.msg", "Passage 19").await;
    phone
        .wait_until(
            "the first-message mark",
            "performance.getEntriesByName('cordee:first-message').length > 0",
        )
        .await;
    let measured = phone
        .eval(
            "const nav = performance.getEntriesByType('navigation')[0];
             const all = [nav, ...performance.getEntriesByType('resource')];
             return {
               transferred: all.reduce((n, e) => n + (e.transferSize || 0), 0),
               encoded: all.reduce((n, e) => n + (e.encodedBodySize || 0), 0),
               requests: all.length,
               first_message_ms: performance.getEntriesByName('cordee:first-message')[0].startTime,
             };",
        )
        .await;
    let transferred = measured["transferred"].as_f64().unwrap();
    let encoded = measured["encoded"].as_f64().unwrap();
    let first = measured["first_message_ms"].as_f64().unwrap();
    println!(
        "conversation screen: {:.1} KB transferred ({:.1} KB of bodies) in {} requests; first message visible after {:.0} ms",
        transferred / 1024.0,
        encoded / 1024.0,
        measured["requests"],
        first
    );
    assert!(
        encoded > 10_000.0,
        "the measure saw the client's files: {measured}"
    );
    assert!(
        transferred < 150.0 * 1024.0,
        "page weight over 150 KB: {measured}"
    );
    phone.close().await;
    app.stop().await;
}

#[tokio::test]
async fn patient_search_takes_its_terms_in_the_body_and_answers_like_the_get() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let other = app.login("gp-dubois").await;
    let patient = patient_with_team(&gp, &[]).await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let r = gp
        .post_json(
            "/v1/patients/search",
            &json!({ "q": "LEFÈVRE 02/05/1941", "limit": 10 }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let by_body: Value = r.json().await.unwrap();
    assert_eq!(ids(&by_body), vec![patient.clone()]);
    let by_query: Value = gp
        .client
        .get(gp.url("/v1/patients"))
        .query(&[("q", "LEFÈVRE 02/05/1941"), ("limit", "10")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_body, by_query);
    let ins = new_patient("x")["ins_matricule"]
        .as_str()
        .unwrap()
        .to_string();
    let by_ins: Value = gp
        .post_json("/v1/patients/search", &json!({ "q": ins }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&by_ins), vec![patient.clone()]);
    // Outside the team: nothing, as with the GET.
    let theirs: Value = other
        .post_json("/v1/patients/search", &json!({ "q": "LEFÈVRE 02/05/1941" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(ids(&theirs).is_empty());
    let r = gp
        .post_json("/v1/patients/search", &json!({ "q": "LEFÈVRE" }))
        .await;
    crate::support::problem(r, 422, "patient.invalid_query").await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/v1/patients/search"]["post"].is_object());
    app.stop().await;
}
