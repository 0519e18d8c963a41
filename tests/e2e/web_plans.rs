//! The care-plan screens in a real browser: the nurse's "Mes tâches" on a phone
//! (the demo's plan gives her tasks, overdue first), a task accepted from its screen,
//! the plan tab of the patient; phone screenshots of each.

use serde_json::Value;

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::spawn_app;

#[tokio::test]
async fn mes_taches_on_a_phone_and_the_plan_screen() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    assert!(
        cordee_gateway::demo::seed(&app.state.store, app.clock.now())
            .await
            .unwrap()
    );
    let nurse = app.login("nurse-bernard").await;
    let todo: Value = nurse.get("/v1/tasks").await.json().await.unwrap();
    let items = todo["items"].as_array().unwrap();
    assert!(!items.is_empty(), "the demo gives the nurse tasks: {todo}");
    let first = items[0]["id"].as_str().unwrap().to_string();
    let patient = items[0]["patient_id"].as_str().unwrap().to_string();

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "nurse-bernard").await;
    phone.goto(&app.url("/#/taches")).await;
    phone.wait_for("a[data-task]").await;
    phone.wait_text("#tasks-title", "Mes tâches").await;
    let mut shots = vec![phone.screenshot("plans-01-mes-taches").await];
    let width = phone
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "Mes tâches is {width} px wide"
    );

    // The task's screen: accept it.
    phone
        .wait_for(&format!("a[data-task='{first}']"))
        .await
        .click()
        .await
        .unwrap();
    phone.wait_for("[data-task-view]").await;
    shots.push(phone.screenshot("plans-02-tache").await);
    phone
        .wait_for("button[data-action='accept']")
        .await
        .click()
        .await
        .unwrap();
    phone.wait_text("[data-task-status]", "Acceptée").await;
    let task: Value = nurse
        .get(&format!("/v1/tasks/{first}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"], "accepted");

    // The plan tab of the patient: problems, objectives, tasks, review date.
    phone
        .goto(&app.url(&format!("/#/patients/{patient}/plan")))
        .await;
    phone.wait_for("[data-plan]").await;
    phone
        .wait_text("#plan-title", "PPS insuffisance cardiaque")
        .await;
    phone.wait_text("[data-plan]", "Priorité du patient").await;
    phone.wait_for("a[data-plan-task]").await;
    shots.push(phone.screenshot("plans-03-plan-de-soins").await);
    let width = phone
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "the plan is {width} px wide"
    );
    phone.close().await;
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

/// The coordinator writes a pathway from the browser; a professional reads it.
#[tokio::test]
async fn a_coordinator_writes_a_pathway_in_the_browser() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let desktop = Browser::start(Viewport::Desktop).await;
    desktop.login(&app, "coord-garcia").await;
    desktop.goto(&app.url("/#/parcours")).await;
    desktop
        .wait_for("button[data-action='new-pathway']")
        .await
        .click()
        .await
        .unwrap();
    let form = desktop.wait_for("[data-pathway-editor]").await;
    form.find(fantoccini::Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Plaie chronique")
        .await
        .unwrap();
    form.find(fantoccini::Locator::Css("input[name='step-title-0']"))
        .await
        .unwrap()
        .send_keys("Photo et mesure de la plaie")
        .await
        .unwrap();
    form.find(fantoccini::Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    desktop
        .wait_until(
            "saved or refused",
            "document.querySelector('[data-pathway]') || document.querySelector('.error')",
        )
        .await;
    let shown = desktop
        .eval("return document.querySelector('main').innerText;")
        .await;
    assert!(
        shown
            .as_str()
            .unwrap()
            .contains("Photo et mesure de la plaie"),
        "{shown}"
    );
    desktop.close().await;
    let nurse = app.login("nurse-bernard").await;
    let list: Value = nurse.get("/v1/pathways").await.json().await.unwrap();
    assert_eq!(list["items"][0]["name"], "Plaie chronique");
    assert_eq!(list["items"][0]["steps"][0]["category"], "soins");
    app.stop().await;
}
