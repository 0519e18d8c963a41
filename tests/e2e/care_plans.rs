//! Pathways, care plans and tasks over real HTTP: the coordinator's pathway, the
//! GP's plan from it, the nurse's to-do list and stream, concurrent changes, the
//! matrix by category, bad input with stable codes, the review job on a moved clock.

use std::time::Duration;

use serde_json::{Value, json};

use crate::file::patient_with_team;
use crate::messaging::{backlog, connect};
use crate::support::{User, problem, spawn_app};

async fn json_of(user: &User, path: &str) -> Value {
    let r = user.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

fn day(offset: i64) -> String {
    let now = cordee_pathway::testing::wall_clock();
    cordee_pathway::calendar::Day::today_in_paris(now)
        .plus_days(offset)
        .as_text()
}

fn pathway() -> Value {
    json!({
        "name": "Retour à domicile après hospitalisation",
        "description": "Protocole de la CPTS",
        "steps": [
            { "title": "Visite infirmière à domicile", "category": "soins", "profession_code": "60", "offset_days": 1 },
            { "title": "Bilan partagé de médication", "category": "traitements", "profession_code": "21", "offset_days": 2 },
            { "title": "Consultation de suivi", "category": "medical", "profession_code": "10", "offset_days": 7 }
        ]
    })
}

fn plan(pathway_id: Option<&str>) -> Value {
    json!({
        "title": "PPS retour à domicile",
        "pathway_id": pathway_id,
        "problems": [
            { "label": "Plaie du talon", "priority": 1 },
            { "label": "Rester chez moi", "priority": 2, "patient_priority": true }
        ],
        "preferences": "Passages le matin",
        "objectives": [{ "label": "Cicatrisation", "criteria": "Plaie fermée à 8 semaines" }],
        "alert_plan": "Appeler sa fille"
    })
}

#[tokio::test]
async fn a_plan_from_a_pathway_reaches_the_nurses_todo_list() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let outsider = app.login("gp-dubois").await;

    // Coordinators write pathways; professionals read them.
    problem(
        gp.post_json("/v1/pathways", &pathway()).await,
        403,
        "pathway.coordinators_only",
    )
    .await;
    let r = coord.post_json("/v1/pathways", &pathway()).await;
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    let pid = p["id"].as_str().unwrap();
    assert_eq!(
        json_of(&nurse, "/v1/pathways").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let patient = patient_with_team(&gp, &[&nurse, &pharma, &coord]).await;
    let plans = format!("/v1/patients/{patient}/care-plans");
    problem(
        gp.post_json(&plans, &plan(Some(&uuid::Uuid::now_v7().to_string())))
            .await,
        422,
        "care_plan.unknown_pathway",
    )
    .await;
    problem(
        outsider.post_json(&plans, &plan(Some(pid))).await,
        404,
        "patient.not_found",
    )
    .await;
    let r = gp.post_json(&plans, &plan(Some(pid))).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let plan_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["problems"][0]["label"], "Rester chez moi");
    assert_eq!(created["version"], 1);
    let tasks = created["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    let visit = tasks.iter().find(|t| t["category"] == "soins").unwrap();
    assert_eq!(visit["assignee_id"], nurse.id.as_str());
    assert_eq!(visit["due_on"], day(1));
    let visit_id = visit["id"].as_str().unwrap().to_string();
    let medical_id = tasks.iter().find(|t| t["category"] == "medical").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    problem(
        gp.post_json(&plans, &plan(Some(pid))).await,
        409,
        "care_plan.active_exists",
    )
    .await;

    // The nurse's to-do list and her stream.
    let todo = json_of(&nurse, "/v1/tasks?assignee=me&status=open").await;
    assert_eq!(todo["items"].as_array().unwrap().len(), 1);
    assert_eq!(todo["items"][0]["id"], visit_id.as_str());
    let token = nurse.bearer().await;
    let mut stream = connect(&app, &token, Some(0)).await;
    let (frames, _) = backlog(&mut stream).await;
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "task.assigned" && f["data"]["task_id"] == visit_id.as_str())
    );
    assert!(
        !frames
            .iter()
            .any(|f| f["data"].to_string().contains("Visite")),
        "no health data on the stream"
    );

    // Tasks by hand: each bad input its code, nothing written.
    let add = format!("{plans}/{plan_id}/tasks");
    let cases = [
        (
            json!({ "title": "Pansement", "category": "soins", "assignee_id": uuid::Uuid::now_v7().to_string(), "due_on": day(2) }),
            "task.unknown_assignee",
        ),
        (
            json!({ "title": "Pansement", "category": "soins", "assignee_id": outsider.id, "due_on": day(2) }),
            "task.assignee_not_in_team",
        ),
        (
            json!({ "title": "Courrier", "category": "medical", "assignee_id": coord.id, "due_on": day(2) }),
            "task.category_not_for_assignee",
        ),
        (
            json!({ "title": "Pansement", "category": "soins", "assignee_id": nurse.id, "due_on": day(-1) }),
            "task.due_in_past",
        ),
    ];
    for (body, code) in cases {
        problem(gp.post_json(&add, &body).await, 422, code).await;
    }
    assert_eq!(
        json_of(&gp, &add).await["items"].as_array().unwrap().len(),
        3
    );
    // The matrix by category: the coordinator does not see the medical task.
    problem(
        coord.get(&format!("/v1/tasks/{medical_id}")).await,
        404,
        "task.not_found",
    )
    .await;
    problem(
        outsider.get(&format!("/v1/tasks/{visit_id}")).await,
        404,
        "task.not_found",
    )
    .await;
    assert!(
        json_of(&coord, &add).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Two changes on one version at once: one wins, the other gets 409.
    let url = format!("/v1/tasks/{visit_id}");
    let (accept, start) = (
        json!({ "status": "accepted", "version": 1 }),
        json!({ "status": "in_progress", "version": 1 }),
    );
    let (a, b) = tokio::join!(
        nurse.patch_json(&url, &accept),
        nurse.patch_json(&url, &start)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let task = json_of(&nurse, &url).await;
    assert_eq!(task["version"], 2);
    problem(
        nurse
            .patch_json(&url, &json!({ "status": "declined", "version": 2 }))
            .await,
        422,
        "task.reason_required",
    )
    .await;
    let r = nurse
        .patch_json(
            &url,
            &json!({ "status": "done", "note": "Pansement refait, plaie propre", "version": 2 }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let entries = json_of(
        &gp,
        &format!("/v1/patients/{patient}/entries?category=soins"),
    )
    .await;
    assert!(
        entries["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["title"] == "Tâche réalisée : Visite infirmière à domicile")
    );
    problem(
        nurse
            .patch_json(&url, &json!({ "status": "in_progress", "version": 3 }))
            .await,
        409,
        "task.finished",
    )
    .await;

    // Plan changes keep versions; a stale version is refused; a closed plan is not reviewed.
    let one = format!("{plans}/{plan_id}");
    let r = nurse
        .patch_json(
            &one,
            &json!({ "version": 1, "preferences": "Passages l'après-midi" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    problem(
        gp.patch_json(&one, &json!({ "version": 1, "status": "suspended" }))
            .await,
        409,
        "care_plan.version_conflict",
    )
    .await;
    let r = gp
        .post_json(
            &format!("{one}/reviews"),
            &json!({ "summary": "Plaie en voie de cicatrisation", "next_review_on": day(60),
            "outcomes": [{ "objective": "Cicatrisation", "achievement": "partial" }] }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let read = json_of(&pharma, &one).await;
    assert_eq!(
        (read["version"].as_i64(), read["review_on"].as_str()),
        (Some(3), Some(day(60).as_str()))
    );
    assert_eq!(read["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(
        json_of(&gp, &format!("{one}/versions")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        gp.patch_json(&one, &json!({ "version": 3, "status": "closed" }))
            .await
            .status(),
        200
    );
    problem(
        gp.post_json(
            &format!("{one}/reviews"),
            &json!({ "summary": "Point", "next_review_on": day(30) }),
        )
        .await,
        409,
        "care_plan.closed",
    )
    .await;
    // The patient's export holds the plan, its reviews, tasks and versions.
    let export = json_of(&gp, &format!("/v1/patients/{patient}/export")).await;
    let exported = &export["care_plans"][0];
    assert_eq!(exported["plan"]["id"], plan_id.as_str());
    assert_eq!(exported["plan"]["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(exported["plan"]["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(exported["versions"].as_array().unwrap().len(), 4);
    app.stop().await;
}

/// The review job tells the referent once when the clock passes the review date.
#[tokio::test]
async fn the_review_date_passing_tells_the_referent_once() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let mut body = plan(None);
    body["review_on"] = json!(day(2));
    let r = gp
        .post_json(&format!("/v1/patients/{patient}/care-plans"), &body)
        .await;
    assert_eq!(r.status(), 201);
    let plan_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let due = |ran: &[cordee_gateway::jobs::Ran]| {
        ran.iter()
            .find(|r| r.job == "care_plan_review_due")
            .map(|r| r.outcome.clone())
    };
    assert_eq!(
        due(&cordee_gateway::jobs::run_due(&app.state).await),
        Some(Ok(0))
    );
    app.clock.advance(Duration::from_secs(4 * 86_400));
    assert_eq!(
        due(&cordee_gateway::jobs::run_due(&app.state).await),
        Some(Ok(1))
    );
    app.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        due(&cordee_gateway::jobs::run_due(&app.state).await),
        Some(Ok(0))
    );
    // Days went by: the session did not survive them.
    let gp = app.login("gp-martin").await;
    let read = json_of(&gp, &format!("/v1/patients/{patient}/care-plans/{plan_id}")).await;
    assert_eq!(read["review_overdue"], true);
    let notes = json_of(&gp, "/v1/notifications").await;
    let due: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "care_plan.review_due")
        .collect();
    assert_eq!(due.len(), 1, "{notes}");
    assert_eq!(due[0]["subject_id"], plan_id.as_str());
    let token = gp.bearer().await;
    let mut stream = connect(&app, &token, Some(0)).await;
    let (frames, _) = backlog(&mut stream).await;
    let told: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "care_plan.review_due")
        .collect();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["data"]["plan_id"], plan_id.as_str());
    app.stop().await;
}
