//! Case conferences over real HTTP: a coordinator plans a concertation, invites,
//! a GP puts a patient on the agenda, a pharmacist outside the care team reads the
//! case during the conference only, the chair writes the minutes, the quorum is
//! checked, validation lands an `rcp` entry in the file, the record's hash holds,
//! and nothing changes afterwards.

use std::time::Duration;

use serde_json::{Value, json};

use crate::file::patient_with_team;
use crate::support::{User, problem, spawn_app};

async fn ok(r: reqwest::Response, status: u16, what: &str) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{what}: {body}");
    body
}

async fn get(user: &User, path: &str) -> Value {
    ok(user.get(path).await, 200, path).await
}

#[tokio::test]
async fn a_concertation_from_the_agenda_to_the_hashed_record() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let psy = app.login("psy-girard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;

    let start = app.clock.now().plus_secs(600);
    let c = ok(
        coord
            .post_json(
                "/v1/case-conferences",
                &json!({
                    "title": "Concertation maintien à domicile",
                    "kind": "concertation",
                    "scheduled_at": start.to_rfc3339(),
                    "duration_minutes": 60,
                    "place": "Maison de santé, salle 2",
                    "chair_id": gp.id,
                }),
            )
            .await,
        201,
        "create",
    )
    .await;
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(
        c["quorum"],
        json!({ "min_participants": 3, "min_professions": 3 })
    );
    assert_eq!(c["status"], "planned");
    for who in [&nurse, &pharma] {
        ok(
            coord
                .post_json(
                    &format!("/v1/case-conferences/{id}/participants"),
                    &json!({ "account_id": who.id }),
                )
                .await,
            200,
            "invite",
        )
        .await;
    }
    // Invited: notified, and on their agenda.
    let notes = get(&pharma, "/v1/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "case_conference.invited"),
        "{notes}"
    );
    let mine = get(&pharma, "/v1/case-conferences?mine=true").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(
        get(&psy, "/v1/case-conferences").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    problem(
        psy.get(&format!("/v1/case-conferences/{id}")).await,
        404,
        "case_conference.not_found",
    )
    .await;
    problem(
        pharma.get("/v1/case-conferences?from=demain").await,
        422,
        "request.invalid_time",
    )
    .await;

    // The GP (médecin traitant) puts the patient on the agenda.
    let case = ok(
        gp.post_json(
            &format!("/v1/case-conferences/{id}/cases"),
            &json!({ "patient_id": patient, "question": "Maintien à domicile possible ?" }),
        )
        .await,
        201,
        "case",
    )
    .await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let case_path = format!("/v1/case-conferences/{id}/cases/{case_id}");

    // Before the start the pharmacist (outside the team) does not see it.
    problem(pharma.get(&case_path).await, 404, "patient.not_found").await;

    // During the conference: the case, not the rest of the file.
    app.clock.advance(Duration::from_secs(660));
    let read = get(&pharma, &case_path).await;
    assert_eq!(read["question"], "Maintien à domicile possible ?");
    assert!(read["patient_name"].as_str().unwrap().len() > 3);
    assert_ne!(
        pharma
            .get(&format!("/v1/patients/{patient}/entries"))
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&pharma, &format!("/v1/case-conferences/{id}/cases")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The chair's minutes.
    let written = ok(
        gp.put_json(
            &case_path,
            &json!({
                "summary": "Patiente isolée, chutes répétées.",
                "proposal": "Passage infirmier quotidien",
                "decision": "Maintien à domicile avec passage IDE",
                "follow_up_id": gp.id,
                "tasks": [{ "title": "Passage IDE quotidien", "category": "soins",
                            "assignee_id": nurse.id, "due_on": "2026-12-15" }],
            }),
        )
        .await,
        200,
        "minutes",
    )
    .await;
    assert_eq!(written["tasks"].as_array().unwrap().len(), 1);
    problem(
        pharma
            .put_json(&case_path, &json!({ "summary": "x" }))
            .await,
        403,
        "case_conference.chair_only",
    )
    .await;

    // Quorum: nobody marked present yet.
    let refused = problem(
        gp.post_json(&format!("/v1/case-conferences/{id}/validate"), &json!({}))
            .await,
        409,
        "case_conference.quorum_not_met",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("3 more attending participant"),
        "{refused}"
    );
    for who in [&gp, &nurse, &pharma] {
        ok(
            gp.put_json(
                &format!(
                    "/v1/case-conferences/{id}/participants/{}/attendance",
                    who.id
                ),
                &json!({ "attended": true }),
            )
            .await,
            200,
            "attendance",
        )
        .await;
    }
    let done = ok(
        gp.post_json(&format!("/v1/case-conferences/{id}/validate"), &json!({}))
            .await,
        200,
        "validate",
    )
    .await;
    assert_eq!(done["status"], "validated");
    let hash = done["record_hash"].as_str().unwrap().to_string();

    // The record: its canonical bytes are the record, and their hash is kept.
    let record = get(&pharma, &format!("/v1/case-conferences/{id}/record")).await;
    assert_eq!(record["hash"], hash);
    assert_eq!(record["algorithm"], "sha256");
    let canonical: Value = serde_json::from_str(record["canonical"].as_str().unwrap()).unwrap();
    assert_eq!(canonical, record["record"]);
    assert_eq!(
        record["record"]["cases"][0]["decision"],
        "Maintien à domicile avec passage IDE"
    );

    // The file holds the rcp entry.
    let entries = get(&gp, &format!("/v1/patients/{patient}/entries")).await;
    assert!(
        entries["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["category"] == "rcp"),
        "{entries}"
    );
    // The assignee was told.
    let notes = get(&nurse, "/v1/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "case_conference.task_assigned"),
        "{notes}"
    );

    // The patient's export holds the case with its minutes.
    let export = get(&gp, &format!("/v1/patients/{patient}/export")).await;
    assert_eq!(
        export["case_conference_cases"][0]["decision"],
        "Maintien à domicile avec passage IDE"
    );

    // Immutable.
    problem(
        coord
            .patch_json(
                &format!("/v1/case-conferences/{id}"),
                &json!({ "title": "Autre" }),
            )
            .await,
        409,
        "case_conference.validated",
    )
    .await;
    problem(
        gp.put_json(&case_path, &json!({ "summary": "x" })).await,
        409,
        "case_conference.validated",
    )
    .await;
    // After validation the pharmacist reads the case no more (the record stays theirs).
    problem(pharma.get(&case_path).await, 404, "patient.not_found").await;
}
