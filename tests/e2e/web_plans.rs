//! The care-plan screens in a real browser: the nurse's "Mes tâches" on a phone
//! (the demo's plan gives her tasks, overdue first), a task accepted from its screen,
//! the plan tab of the patient; phone screenshots of each.

use serde_json::Value;

use crate::browser::{Browser, ONE_AT_A_TIME, Viewport};
use crate::support::{TestApp, User, spawn_app};

#[tokio::test]
async fn mes_taches_on_a_phone_and_the_plan_screen() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let (nurse, todo) = demo_nurse_todo(&app).await;
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

    // A task the referent gives her while the list is open appears without a reload
    // (the stream's `task.assigned`).
    let gp = app.login("gp-martin").await;
    let nurse_id: Value = nurse.get("/v1/me").await.json().await.unwrap();
    let tomorrow = cordee_pathway::calendar::Day::today_in_paris(app.clock.now())
        .plus_days(1)
        .as_text();
    let given = gp
        .post_json(
            &format!(
                "/v1/patients/{patient}/care-plans/{}/tasks",
                items[0]["plan_id"].as_str().unwrap()
            ),
            &serde_json::json!({
                "title": "Contrôler les œdèmes des chevilles",
                "category": "soins",
                "assignee_id": nurse_id["id"],
                "due_on": tomorrow,
            }),
        )
        .await;
    assert_eq!(given.status(), 201);
    phone
        .wait_text("a[data-task]", "Contrôler les œdèmes des chevilles")
        .await;

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

/// The referent edits the plan from the screen: a problem (the patient's own
/// priority, so shown first) and an objective are added, a new version is kept and
/// listed; an edit made from a plan another change overtook is refused with the
/// French conflict message and changes nothing; then the referent takes a task
/// back from the nurse ("à attribuer") from the task's screen.
#[tokio::test]
async fn the_referent_edits_the_plan_and_reassigns_a_task_in_the_browser() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let (nurse, todo) = demo_nurse_todo(&app).await;
    let task = todo["items"][0].clone();
    let (task_id, patient) = (
        task["id"].as_str().unwrap().to_string(),
        task["patient_id"].as_str().unwrap().to_string(),
    );
    let gp = app.login("gp-martin").await;
    let plan_path = format!(
        "/v1/patients/{patient}/care-plans/{}",
        task["plan_id"].as_str().unwrap()
    );
    let before: Value = gp.get(&plan_path).await.json().await.unwrap();
    let gp_id: Value = gp.get("/v1/me").await.json().await.unwrap();
    assert_eq!(
        before["coordinator_id"], gp_id["id"],
        "the demo's GP is the referent"
    );

    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "gp-martin").await;
    phone
        .goto(&app.url(&format!("/#/patients/{patient}/plan")))
        .await;
    phone.click("button[data-action='edit-plan']").await;
    phone.wait_for("[data-plan-edit]").await;
    phone.click("button[data-action='add-problem']").await;
    type_in_last(
        &phone,
        "[data-problem-row]",
        &[("problem", "Peur de tomber la nuit")],
    )
    .await;
    phone
        .click("[data-problem-row]:last-of-type input[name='patient_priority']")
        .await;
    phone.click("button[data-action='add-objective']").await;
    type_in_last(
        &phone,
        "[data-objective-row]",
        &[
            ("objective", "Se lever seule la nuit"),
            ("criteria", "Aucune chute en un mois"),
        ],
    )
    .await;
    let width = phone
        .eval("return document.documentElement.scrollWidth;")
        .await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "the plan editor is {width} px wide"
    );
    let shot = phone.screenshot("plans-04-modifier-le-plan").await;
    phone.click("button[data-action='save-plan']").await;
    phone.wait_for("button[data-action='edit-plan']").await;
    phone
        .wait_text("[data-plan]", "Peur de tomber la nuit")
        .await;
    let after: Value = gp.get(&plan_path).await.json().await.unwrap();
    assert_eq!(
        after["version"].as_i64().unwrap(),
        before["version"].as_i64().unwrap() + 1
    );
    let problems = after["problems"].as_array().unwrap();
    assert_eq!(
        problems.len(),
        before["problems"].as_array().unwrap().len() + 1
    );
    assert!(
        problems
            .iter()
            .any(|p| p["label"] == "Peur de tomber la nuit" && p["patient_priority"] == true),
        "{after}"
    );
    assert!(
        after["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["label"] == "Se lever seule la nuit"
                && o["criteria"] == "Aucune chute en un mois"),
        "{after}"
    );
    // Every problem the patient named comes before the others.
    let own: Vec<bool> = problems
        .iter()
        .map(|p| p["patient_priority"] == true)
        .collect();
    assert!(own.windows(2).all(|w| w[0] || !w[1]), "{after}");
    phone.click("button[data-action='plan-history']").await;
    phone.wait_for("[data-plan-versions]").await;
    let listed = phone
        .eval("return document.querySelectorAll('[data-plan-versions] li').length;")
        .await;
    assert_eq!(
        listed.as_i64().unwrap(),
        after["version"].as_i64().unwrap(),
        "every version is listed"
    );

    // Overtaken: the form holds version N, someone saves N+1 meanwhile.
    phone.click("button[data-action='edit-plan']").await;
    let title = phone.wait_for("[data-plan-edit] input[name='title']").await;
    let moved = gp
        .patch_json(
            &plan_path,
            &serde_json::json!({ "version": after["version"], "preferences": "Rester chez elle." }),
        )
        .await;
    assert_eq!(moved.status(), 200);
    title.clear().await.unwrap();
    title.send_keys("Titre écrasé").await.unwrap();
    phone.click("button[data-action='save-plan']").await;
    phone
        .wait_text("[data-plan-edit] .error", "modifié entre-temps")
        .await;
    let kept: Value = gp.get(&plan_path).await.json().await.unwrap();
    assert_eq!(kept["title"], after["title"]);
    assert_eq!(kept["preferences"], "Rester chez elle.");
    // Reloading starts the form again from the version that won.
    phone.click("button[data-action='reload-plan']").await;
    phone
        .wait_until(
            "the form on the current version",
            "(document.querySelector('[data-plan-edit] textarea[name=preferences]') || {}).value === 'Rester chez elle.'",
        )
        .await;

    // A review: the new objective partly reached, the next date in two months.
    phone.click("button[data-action='cancel-edit']").await;
    phone.wait_for("[data-review-form]").await;
    let next = cordee_pathway::calendar::Day::today_in_paris(app.clock.now())
        .plus_days(60)
        .as_text();
    phone
        .eval(&format!(
            "const row = [...document.querySelectorAll('[data-outcome-row]')].find(r => r.textContent.includes('Se lever seule la nuit'));
             row.querySelector('select').value = 'partial';
             row.querySelector('input').value = 'Une chute évitée de justesse';
             const f = document.querySelector('[data-review-form]');
             f.querySelector('textarea[name=summary]').value = 'Revue à un mois : pesée quotidienne tenue.';
             f.querySelector('input[name=next]').value = '{next}';
             return true;"
        ))
        .await;
    phone.click("button[data-action='review']").await;
    phone
        .wait_text("[data-plan-reviews]", "Partiellement atteint")
        .await;
    let reviewed: Value = gp.get(&plan_path).await.json().await.unwrap();
    assert_eq!(reviewed["review_on"], next.as_str(), "{reviewed}");
    let review = reviewed["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["summary"] == "Revue à un mois : pesée quotidienne tenue.")
        .unwrap_or_else(|| panic!("{reviewed}"))
        .clone();
    let outcomes = review["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1, "only the objective evaluated: {review}");
    assert_eq!(outcomes[0]["objective"], "Se lever seule la nuit");
    assert_eq!(outcomes[0]["achievement"], "partial");
    assert_eq!(outcomes[0]["comment"], "Une chute évitée de justesse");

    // The task's screen: the referent takes it back.
    phone.goto(&app.url(&format!("/#/taches/{task_id}"))).await;
    phone.wait_for("[data-reassign]").await;
    phone
        .eval("const s = document.querySelector('[data-reassign] select[name=assignee]'); s.value = ''; s.dispatchEvent(new Event('change')); return true;")
        .await;
    phone.click("button[data-action='reassign']").await;
    phone
        .wait_until(
            "the task's new version on its screen",
            &format!(
                "Number((document.querySelector('[data-task-view]') || {{}}).dataset?.taskVersion) > {}",
                task["version"]
            ),
        )
        .await;
    let moved: Value = gp
        .get(&format!("/v1/tasks/{task_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(moved["assignee_id"].is_null(), "{moved}");
    assert_eq!(moved["status"], "proposed");
    assert!(moved["version"].as_i64().unwrap() > task["version"].as_i64().unwrap());
    // The nurse no longer has it; she sees no reassign card on her other task.
    let todo: Value = nurse.get("/v1/tasks").await.json().await.unwrap();
    assert!(
        todo["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != task_id.as_str())
    );
    phone.close().await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    app.stop().await;
}

/// "Mes tâches" shows 50 tasks, overdue first, and the next ones on demand: none
/// lost, none twice.
#[tokio::test]
async fn mes_taches_pages_by_fifty() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let (nurse, todo) = demo_nurse_todo(&app).await;
    let nurse_id: Value = nurse.get("/v1/me").await.json().await.unwrap();
    let first = todo["items"][0].clone();
    let already = todo["items"].as_array().unwrap().len();
    let gp = app.login("gp-martin").await;
    let today = cordee_pathway::calendar::Day::today_in_paris(app.clock.now());
    for n in 0..52 {
        let r = gp
            .post_json(
                &format!(
                    "/v1/patients/{}/care-plans/{}/tasks",
                    first["patient_id"].as_str().unwrap(),
                    first["plan_id"].as_str().unwrap()
                ),
                &serde_json::json!({
                    "title": format!("Passage du soir n°{n}"),
                    "category": "soins",
                    "assignee_id": nurse_id["id"],
                    "due_on": today.plus_days(n + 1).as_text(),
                }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let total = already + 52;
    let phone = Browser::start(Viewport::Phone).await;
    phone.login(&app, "nurse-bernard").await;
    phone.goto(&app.url("/#/taches")).await;
    phone.wait_for("button[data-action='more-tasks']").await;
    let count = || async {
        phone
            .eval("return document.querySelectorAll('a[data-task]').length;")
            .await
            .as_u64()
            .unwrap()
    };
    assert_eq!(count().await, 50);
    phone.click("button[data-action='more-tasks']").await;
    phone
        .wait_until(
            "the next page",
            &format!("document.querySelectorAll('a[data-task]').length === {total}"),
        )
        .await;
    let distinct = phone
        .eval("return new Set([...document.querySelectorAll('a[data-task]')].map(a => a.dataset.task)).size;")
        .await;
    assert_eq!(distinct.as_u64().unwrap(), total as u64);
    assert_eq!(
        phone
            .eval("return document.querySelectorAll(\"button[data-action='more-tasks']\").length;")
            .await
            .as_u64()
            .unwrap(),
        0,
        "no more pages"
    );
    phone.close().await;
    app.stop().await;
}

/// Types, as a person would, into the named inputs of the last row matching `row`.
async fn type_in_last(browser: &Browser, row: &str, fields: &[(&str, &str)]) {
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css(row))
        .await
        .unwrap();
    let last = rows.last().unwrap();
    for (name, text) in fields {
        last.find(fantoccini::Locator::Css(&format!("input[name='{name}']")))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
}

/// The demo seeded, the nurse logged in, and her to-do list as the API gives it.
async fn demo_nurse_todo(app: &TestApp) -> (User, Value) {
    assert!(
        cordee_gateway::demo::seed(&app.state.store, app.clock.now())
            .await
            .unwrap()
    );
    let nurse = app.login("nurse-bernard").await;
    let todo: Value = nurse.get("/v1/tasks").await.json().await.unwrap();
    (nurse, todo)
}
