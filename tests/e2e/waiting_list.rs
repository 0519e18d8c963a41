//! The waiting list through the real server (issue 14): a nurse registers a request,
//! the coordinator sees it sorted by priority, asks for suggestions, proposes GPs;
//! two GPs accept at once and one wins; bad input answers problem+json with stable
//! codes and writes nothing; an unanswered proposal lapses when the clock moves on.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestApp, User, problem, spawn_app};

async fn json_of(r: reqwest::Response, status: u16, what: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "{what}");
    r.json().await.unwrap()
}

fn request_body(name: &str, born: &str, commune: &str) -> Value {
    json!({
        "identity": {
            "birth_name": name,
            "first_names": "Lucien",
            "birth_date": born,
            "sex": "M"
        },
        "commune_code": commune,
        "source": "mairie",
        "fragility": { "ald": true, "precarity": "css", "needs_home_visits": false },
        "contact": { "phone": "03 20 11 22 33" },
        "notes": "Diabète de type 2, dernier suivi il y a un an"
    })
}

async fn declare(user: &User, per_month: i64) {
    let r = user
        .put_json(
            "/v1/gp-capacity/me",
            &json!({
                "accepting": true,
                "new_patients_per_month": per_month,
                "communes": [],
                "accepts_ald": true,
                "home_visits": true,
                "until": null
            }),
        )
        .await;
    let body = json_of(r, 200, "PUT /v1/gp-capacity/me").await;
    assert_eq!(body["declared"], true);
    assert_eq!(body["remaining_this_month"], per_month);
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.store.db().reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn waiting_list_over_http() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let martin = app.login("gp-martin").await;
    let dubois = app.login("gp-dubois").await;

    // Capacity: médecins généralistes only.
    problem(
        nurse
            .put_json(
                "/v1/gp-capacity/me",
                &json!({"accepting": true, "new_patients_per_month": 2, "communes": [], "accepts_ald": true, "home_visits": false, "until": null}),
            )
            .await,
        403,
        "gp_capacity.gps_only",
    )
    .await;
    declare(&martin, 3).await;
    declare(&dubois, 3).await;
    let all = json_of(
        coord.get("/v1/gp-capacity").await,
        200,
        "GET /v1/gp-capacity",
    )
    .await;
    assert_eq!(all["total_new_patients_per_month"], 6);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    problem(
        martin.get("/v1/gp-capacity").await,
        403,
        "waiting_list.coordinators_only",
    )
    .await;

    // Bad input: stable codes, nothing written.
    let mut bad = request_body("Moreau", "1948-02-03", "5935");
    problem(
        nurse.post_json("/v1/waiting-list", &bad).await,
        422,
        "waiting_list.invalid_commune",
    )
    .await;
    bad = request_body("Moreau", "1948-02-03", "59350");
    bad["fragility"]["ald"] = json!("oui");
    problem(
        nurse.post_json("/v1/waiting-list", &bad).await,
        422,
        "waiting_list.invalid_flag",
    )
    .await;
    bad = request_body("Moreau", "1948-02-03", "59350");
    bad["source"] = json!("facebook");
    problem(
        nurse.post_json("/v1/waiting-list", &bad).await,
        422,
        "waiting_list.invalid_source",
    )
    .await;
    assert_eq!(
        count(&app, "select count(*) from waiting_requests").await,
        0
    );

    // The request; age 70+ computed; the same person again is a duplicate.
    let created = json_of(
        nurse
            .post_json(
                "/v1/waiting-list",
                &request_body("Moreau", "1948-02-03", "59350"),
            )
            .await,
        201,
        "POST /v1/waiting-list",
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["fragility"]["age_70_plus"], true);
    assert_eq!(created["priority"], 7);
    assert_eq!(created["status"], "waiting");
    problem(
        coord
            .post_json(
                "/v1/waiting-list",
                &request_body("MOREAU", "1948-02-03", "59009"),
            )
            .await,
        409,
        "waiting_list.duplicate",
    )
    .await;

    // The coordinator's list: identity, contact, flags, priority; never the notes.
    let list = json_of(coord.get("/v1/waiting-list?group=ald").await, 200, "list").await;
    let item = &list["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["notes"], Value::Null);
    assert_eq!(item["contact"]["phone"], "03 20 11 22 33");
    assert_eq!(item["identity"]["birth_name"], "Moreau");
    let empty = json_of(
        coord.get("/v1/waiting-list?group=others").await,
        200,
        "others",
    )
    .await;
    assert_eq!(empty["items"], json!([]));
    problem(
        coord.get("/v1/waiting-list?commune=abc").await,
        422,
        "waiting_list.invalid_commune",
    )
    .await;
    // The requester sees the notes; another professional gets 404.
    let own = json_of(
        nurse.get(&format!("/v1/waiting-list/{id}")).await,
        200,
        "own",
    )
    .await;
    assert!(own["notes"].is_string());
    problem(
        pharma.get(&format!("/v1/waiting-list/{id}")).await,
        404,
        "waiting_list.not_found",
    )
    .await;
    let none = json_of(pharma.get("/v1/waiting-list").await, 200, "pharma list").await;
    assert_eq!(none["items"], json!([]));

    // Suggestions, then bad proposals (nothing written), then two GPs.
    let s = json_of(
        coord
            .get(&format!("/v1/waiting-list/{id}/suggestions"))
            .await,
        200,
        "suggestions",
    )
    .await;
    let suggested: Vec<&str> = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(suggested.len(), 2);
    assert!(suggested.contains(&martin.id.as_str()) && suggested.contains(&dubois.id.as_str()));
    problem(
        martin
            .get(&format!("/v1/waiting-list/{id}/suggestions"))
            .await,
        403,
        "waiting_list.coordinators_only",
    )
    .await;
    let proposals = format!("/v1/waiting-list/{id}/proposals");
    let four = json!({"gp_ids": [martin.id, dubois.id, nurse.id, pharma.id]});
    problem(
        coord.post_json(&proposals, &four).await,
        422,
        "waiting_list.too_many_gps",
    )
    .await;
    problem(
        coord
            .post_json(&proposals, &json!({"gp_ids": [nurse.id]}))
            .await,
        422,
        "waiting_list.not_a_gp",
    )
    .await;
    assert_eq!(
        count(&app, "select count(*) from waiting_proposals").await,
        0
    );
    let made = json_of(
        coord
            .post_json(&proposals, &json!({"gp_ids": [martin.id, dubois.id]}))
            .await,
        201,
        "propose",
    )
    .await;
    let items = made["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let pid = |who: &User| {
        items
            .iter()
            .find(|p| p["gp_id"] == who.id.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (pm, pd) = (pid(&martin), pid(&dubois));
    // The proposed GP is told and now sees the request, notes included.
    let n = json_of(martin.get("/v1/notifications").await, 200, "notifications").await;
    assert!(n.to_string().contains("waiting_list.proposal"), "{n}");
    let seen = json_of(
        martin.get(&format!("/v1/waiting-list/{id}")).await,
        200,
        "gp read",
    )
    .await;
    assert!(seen["notes"].is_string());
    // Another GP's proposal is not theirs to answer.
    problem(
        dubois
            .post_json(&format!("{proposals}/{pm}/accept"), &json!({}))
            .await,
        404,
        "waiting_list.proposal_not_found",
    )
    .await;

    // Both accept at once: exactly one places the patient, the other gets 409.
    let (accept_m, accept_d) = (
        format!("{proposals}/{pm}/accept"),
        format!("{proposals}/{pd}/accept"),
    );
    let nobody = json!({});
    let (a, b) = tokio::join!(
        martin.post_json(&accept_m, &nobody),
        dubois.post_json(&accept_d, &nobody)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let placed = json_of(
        coord.get(&format!("/v1/waiting-list/{id}")).await,
        200,
        "placed",
    )
    .await;
    assert_eq!(placed["status"], "placed");
    let winner = if placed["placed_with"] == martin.id.as_str() {
        &martin
    } else {
        &dubois
    };
    let patient = placed["patient_id"].as_str().unwrap();
    // The winner is the médecin traitant of a record made for the patient.
    let team = json_of(
        winner
            .get(&format!("/v1/patients/{patient}/care-team"))
            .await,
        200,
        "team",
    )
    .await;
    assert!(team.to_string().contains("medecin_traitant"), "{team}");
    let mine = json_of(winner.get("/v1/gp-capacity/me").await, 200, "mine").await;
    assert_eq!(mine["used_this_month"], 1);
    let told = json_of(nurse.get("/v1/notifications").await, 200, "nurse told").await;
    assert!(told.to_string().contains("waiting_list.placed"), "{told}");

    // Indicators over the year.
    let ind = json_of(
        coord.get("/v1/waiting-list/indicators").await,
        200,
        "indicators",
    )
    .await;
    assert_eq!(ind["total"]["placed"], 1);
    assert_eq!(ind["share_ald_placed"], 1.0);
    assert_eq!(ind["extra_capacity_per_month"], 6);
    problem(
        coord
            .get("/v1/waiting-list/indicators?from=2026-12-01&to=2026-01-01")
            .await,
        422,
        "waiting_list.invalid_period",
    )
    .await;
    problem(
        nurse.get("/v1/waiting-list/indicators").await,
        403,
        "waiting_list.coordinators_only",
    )
    .await;

    // A proposal unanswered for more than the setting's 7 days lapses, and the
    // coordinator is told.
    let second = json_of(
        nurse
            .post_json(
                "/v1/waiting-list",
                &request_body("Lambert", "1990-07-08", "59009"),
            )
            .await,
        201,
        "second",
    )
    .await;
    let second_id = second["id"].as_str().unwrap();
    json_of(
        coord
            .post_json(
                &format!("/v1/waiting-list/{second_id}/proposals"),
                &json!({"gp_ids": [dubois.id]}),
            )
            .await,
        201,
        "second proposal",
    )
    .await;
    app.clock.advance(Duration::from_secs(8 * 24 * 3600));
    let ran = cordee_gateway::jobs::run_due(&app.state).await;
    let lapse = ran.iter().find(|r| r.job == "waiting_list_lapse").unwrap();
    assert_eq!(lapse.outcome, Ok(1));
    let coord = app.login("coord-garcia").await;
    let after = json_of(
        coord.get(&format!("/v1/waiting-list/{second_id}")).await,
        200,
        "lapsed",
    )
    .await;
    assert_eq!(after["status"], "waiting");
    assert_eq!(after["proposals"][0]["status"], "lapsed");
    let n = json_of(coord.get("/v1/notifications").await, 200, "coord told").await;
    assert!(
        n.to_string().contains("waiting_list.proposal_lapsed"),
        "{n}"
    );

    // The OpenAPI document names every route.
    let doc = json_of(app.get("/v1/openapi.json").await, 200, "openapi").await;
    for path in [
        "/v1/waiting-list",
        "/v1/waiting-list/{id}",
        "/v1/waiting-list/{id}/suggestions",
        "/v1/waiting-list/{id}/proposals",
        "/v1/waiting-list/{id}/proposals/{proposal_id}/accept",
        "/v1/waiting-list/{id}/proposals/{proposal_id}/decline",
        "/v1/waiting-list/indicators",
        "/v1/gp-capacity",
        "/v1/gp-capacity/me",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}
