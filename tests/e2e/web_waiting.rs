//! The waiting list's screens in a real browser (issue 14), on the demo data: the
//! coordinator's list sorted by priority, proposing a suggested GP, and Dr Martin
//! accepting a proposal on the phone; phone screenshots of each screen.

use serde_json::Value;

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::{User, spawn_app};

async fn request_id(coord: &User, birth_name: &str) -> String {
    let list: Value = coord
        .get("/v1/waiting-list?limit=100")
        .await
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["identity"]["birth_name"] == birth_name)
        .unwrap_or_else(|| panic!("{birth_name} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn no_sideways_scroll(browser: &Browser, name: &str) {
    let width = browser
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(width.as_u64().unwrap() <= 360, "{name} is {width} px wide");
}

#[tokio::test]
async fn waiting_list_screens_on_the_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    assert!(
        cordee_gateway::demo::seed(&app.state.store, app.clock.now())
            .await
            .unwrap()
    );
    let coord_api = app.login("coord-garcia").await;
    let vasseur = request_id(&coord_api, "Vasseur").await;
    let boulanger = request_id(&coord_api, "Boulanger").await;
    let list: Value = coord_api
        .get("/v1/waiting-list")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        12,
        "a dozen demo requests"
    );
    let mut shots = Vec::new();

    // The coordinator's list, highest priority first.
    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "coord-garcia").await;
    phone.goto(&app.url("/#/attente")).await;
    phone.wait_for("a[data-request]").await;
    let priorities = phone
        .eval("return [...document.querySelectorAll('a[data-request] [data-priority]')].map(e => Number(e.dataset.priority));")
        .await;
    let priorities: Vec<i64> = priorities
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    assert_eq!(priorities.len(), 12);
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1]),
        "{priorities:?}"
    );
    phone.wait_text("#waiting-title", "Liste d’attente").await;
    no_sideways_scroll(&phone, "liste").await;
    shots.push(phone.screenshot("20-liste-attente").await);

    // A request without proposal: Dr Martin is suggested; propose him.
    phone
        .goto(&app.url(&format!("/#/attente/{boulanger}")))
        .await;
    phone.wait_for("#wl-suggest").await;
    phone
        .wait_text("label[data-suggestion]", "place(s) ce mois-ci")
        .await;
    no_sideways_scroll(&phone, "demande").await;
    shots.push(phone.screenshot("21-demande-suggestions").await);
    phone
        .wait_for("label[data-suggestion] input")
        .await
        .click()
        .await
        .unwrap();
    phone
        .wait_for("section[aria-labelledby=wl-suggest] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_for("[data-proposal]").await;
    phone
        .wait_text("[data-proposal]", "En attente de réponse")
        .await;

    // The request form.
    phone.goto(&app.url("/#/nouvelle-demande")).await;
    phone.wait_for("#wr-title").await;
    no_sideways_scroll(&phone, "formulaire").await;
    shots.push(phone.screenshot("22-nouvelle-demande").await);
    phone.close().await;

    // Dr Martin, on the phone: the proposals made to him; he accepts one.
    let gp = Browser::start(Viewport::Phone).await;
    gp.login(&app, "gp-martin").await;
    gp.goto(&app.url("/#/attente")).await;
    gp.wait_text("a[data-request]", "proposé à vous").await;
    gp.goto(&app.url(&format!("/#/attente/{vasseur}"))).await;
    gp.wait_for("#wl-accept").await;
    no_sideways_scroll(&gp, "proposition").await;
    shots.push(gp.screenshot("23-proposition-medecin").await);
    gp.wait_for("#wl-accept").await.click().await.unwrap();
    gp.wait_text("[data-proposal]", "Acceptée").await;
    // His capacity: one place of the month used.
    gp.goto(&app.url("/#/disponibilites")).await;
    gp.wait_text("#cap-month", "1 place(s) utilisée(s)").await;
    no_sideways_scroll(&gp, "disponibilités").await;
    shots.push(gp.screenshot("24-mes-disponibilites").await);
    gp.close().await;

    // The placement is real: the request is placed and Dr Martin is médecin traitant.
    let placed: Value = coord_api
        .get(&format!("/v1/waiting-list/{vasseur}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(placed["status"], "placed", "{placed}");
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
