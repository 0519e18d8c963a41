//! Prevention campaigns over real HTTP: who may launch, join, leave and record; bad
//! input refused with its code and nothing changed (including any field that could
//! carry a patient); corrections with history, even when concurrent; broadcasts in
//! the campaign's conversation; indicators and the printable report computed from
//! data created through the API.

use cordee_pathway::campaign::{format_day, paris_day};
use serde_json::{Value, json};

use crate::support::{TestApp, User, problem, spawn_app};

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

fn mars_bleu(app: &TestApp) -> Value {
    json!({
        "theme": "depistage_colorectal",
        "title": "Mars bleu",
        "description": "Remise de kits de dépistage en officine",
        "starts_on": day(app, -30),
        "ends_on": day(app, 30),
        "action_kinds": [
            { "code": "kits_remis", "label": "Kits remis" },
            { "code": "tests_realises", "label": "Tests réalisés" }
        ],
        "targets": { "kits_remis": 100 }
    })
}

async fn json_of(r: reqwest::Response, status: u16, what: &str) -> Value {
    let got = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(got, status, "{what}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn my_organisation(user: &User) -> String {
    let mine = json_of(user.get("/v1/organisations?member=me").await, 200, "mine").await;
    mine["items"][0]["id"].as_str().unwrap().to_string()
}

async fn count_rows(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(app.state.store.db().reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn campaigns_over_http_rights_bad_input_and_indicators() {
    let app = spawn_app().await;
    let coordinator = app.login("coord-garcia").await;
    let pharmacist = app.login("pharma-petit").await;
    let nurse = app.login("nurse-bernard").await;
    let officine = my_organisation(&pharmacist).await;
    let cabinet = my_organisation(&nurse).await;

    // Launching: coordinators only, with checked fields.
    problem(
        pharmacist
            .post_json("/v1/campaigns", &mars_bleu(&app))
            .await,
        403,
        "campaign.coordinators_only",
    )
    .await;
    let bad = [
        ("theme", json!("rougeole"), "campaign.invalid_theme"),
        ("ends_on", json!(day(&app, -31)), "campaign.invalid_period"),
        ("starts_on", json!("2027-02-30"), "campaign.invalid_date"),
        ("action_kinds", json!([]), "campaign.invalid_action_kinds"),
        ("targets", json!({ "autre": 3 }), "campaign.invalid_targets"),
        ("patient_id", json!("x"), "request.invalid_field"),
    ];
    for (field, value, code) in bad {
        let mut body = mars_bleu(&app);
        body[field] = value;
        problem(
            coordinator.post_json("/v1/campaigns", &body).await,
            422,
            code,
        )
        .await;
    }
    assert_eq!(count_rows(&app, "campaigns").await, 0, "nothing was made");
    let campaign = json_of(
        coordinator
            .post_json("/v1/campaigns", &mars_bleu(&app))
            .await,
        201,
        "create",
    )
    .await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let conversation = campaign["conversation_id"].as_str().unwrap().to_string();
    let listed = json_of(pharmacist.get("/v1/campaigns").await, 200, "list").await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    problem(
        pharmacist
            .get(&format!("/v1/campaigns/{}", uuid::Uuid::now_v7()))
            .await,
        404,
        "campaign.not_found",
    )
    .await;
    problem(
        pharmacist.get("/v1/campaigns/pas-un-id").await,
        404,
        "resource.not_found",
    )
    .await;

    // Joining: for a structure you belong to; a coordinator enrols any.
    let participants = format!("/v1/campaigns/{id}/participants");
    problem(
        pharmacist
            .post_json(&participants, &json!({ "organisation_id": cabinet }))
            .await,
        403,
        "campaign.not_member_of_organisation",
    )
    .await;
    let joined = json_of(
        pharmacist
            .post_json(&participants, &json!({ "organisation_id": officine }))
            .await,
        201,
        "join",
    )
    .await;
    assert_eq!(joined["kind"], "officine");
    problem(
        pharmacist
            .post_json(&participants, &json!({ "organisation_id": officine }))
            .await,
        409,
        "campaign.already_participating",
    )
    .await;

    // Recording: counts only; corrections keep history.
    let actions = format!("/v1/campaigns/{id}/actions");
    let count = |org: &str, kind: &str, n: i64, on: String| json!({ "organisation_id": org, "kind": kind, "count": n, "on": on });
    let mut with_patient = count(&officine, "kits_remis", 1, day(&app, 0));
    with_patient["patient_name"] = json!("Dupont");
    problem(
        pharmacist.post_json(&actions, &with_patient).await,
        422,
        "request.invalid_field",
    )
    .await;
    let bad = [
        (
            count(&officine, "inconnu", 1, day(&app, 0)),
            "campaign.unknown_kind",
        ),
        (
            count(&officine, "kits_remis", -2, day(&app, 0)),
            "request.invalid_field",
        ),
        (
            count(&officine, "kits_remis", 2_000_000, day(&app, 0)),
            "campaign.invalid_count",
        ),
        (
            count(&officine, "kits_remis", 1, day(&app, 1)),
            "campaign.future_day",
        ),
        (
            count(&officine, "kits_remis", 1, day(&app, -31)),
            "campaign.outside_period",
        ),
        (
            count(&officine, "kits_remis", 1, "demain".into()),
            "campaign.invalid_date",
        ),
    ];
    for (body, code) in bad {
        problem(pharmacist.post_json(&actions, &body).await, 422, code).await;
    }
    problem(
        nurse
            .post_json(&actions, &count(&cabinet, "kits_remis", 1, day(&app, 0)))
            .await,
        409,
        "campaign.not_participating",
    )
    .await;
    problem(
        nurse
            .post_json(&actions, &count(&officine, "kits_remis", 1, day(&app, 0)))
            .await,
        403,
        "campaign.not_member_of_organisation",
    )
    .await;
    assert_eq!(
        count_rows(&app, "campaign_actions").await,
        0,
        "nothing was recorded"
    );
    json_of(
        pharmacist
            .post_json(&actions, &count(&officine, "kits_remis", 8, day(&app, 0)))
            .await,
        201,
        "record",
    )
    .await;
    json_of(
        pharmacist
            .post_json(
                &actions,
                &count(&officine, "tests_realises", 3, day(&app, -7)),
            )
            .await,
        201,
        "record",
    )
    .await;
    let corrected = json_of(
        pharmacist
            .post_json(&actions, &count(&officine, "kits_remis", 10, day(&app, 0)))
            .await,
        200,
        "correct",
    )
    .await;
    assert_eq!(corrected["version"], 2);
    assert_eq!(corrected["history"][0]["count"], 8);
    assert_eq!(
        corrected["history"][0]["recorded_by"],
        pharmacist.id.as_str()
    );

    // The coordinator enrols the nurse's cabinet, which records too.
    json_of(
        coordinator
            .post_json(&participants, &json!({ "organisation_id": cabinet }))
            .await,
        201,
        "enrol",
    )
    .await;
    json_of(
        nurse
            .post_json(&actions, &count(&cabinet, "kits_remis", 4, day(&app, -1)))
            .await,
        201,
        "nurse records",
    )
    .await;
    let theirs = json_of(pharmacist.get(&actions).await, 200, "pharmacist's counts").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 2);
    let all = json_of(
        coordinator.get(&format!("{actions}?limit=2")).await,
        200,
        "all",
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = json_of(
        coordinator
            .get(&format!("{actions}?limit=2&cursor={cursor}"))
            .await,
        200,
        "rest",
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    // Broadcasts reach the participants' members in the campaign's conversation.
    let broadcasts = format!("/v1/campaigns/{id}/broadcasts");
    problem(
        pharmacist
            .post_json(&broadcasts, &json!({ "body": "x" }))
            .await,
        403,
        "campaign.coordinators_only",
    )
    .await;
    problem(
        coordinator
            .post_json(&broadcasts, &json!({ "body": "  " }))
            .await,
        422,
        "message.empty",
    )
    .await;
    let sent = json_of(
        coordinator
            .post_json(
                &broadcasts,
                &json!({ "body": "Nouveaux kits disponibles à la CPTS" }),
            )
            .await,
        201,
        "broadcast",
    )
    .await;
    assert_eq!(sent["conversation_id"], conversation.as_str());
    for reader in [&pharmacist, &nurse] {
        let messages = json_of(
            reader
                .get(&format!("/v1/conversations/{conversation}/messages"))
                .await,
            200,
            "messages",
        )
        .await;
        assert_eq!(
            messages["items"][0]["body"],
            "Nouveaux kits disponibles à la CPTS"
        );
    }

    // The cabinet leaves: its count stays, it records no more.
    let leave = format!("{participants}/{cabinet}");
    problem(
        pharmacist.delete(&leave).await,
        403,
        "campaign.not_member_of_organisation",
    )
    .await;
    assert_eq!(nurse.delete(&leave).await.status(), 204);
    problem(
        nurse.delete(&leave).await,
        404,
        "campaign.participant_not_found",
    )
    .await;
    problem(
        nurse
            .post_json(&actions, &count(&cabinet, "kits_remis", 1, day(&app, 0)))
            .await,
        409,
        "campaign.not_participating",
    )
    .await;

    // Indicators from what was recorded through the API.
    let ind = json_of(
        coordinator
            .get(&format!("/v1/campaigns/{id}/indicators"))
            .await,
        200,
        "indicators",
    )
    .await;
    assert_eq!(ind["totals"][0]["code"], "kits_remis");
    assert_eq!(ind["totals"][0]["count"], 14);
    assert_eq!(ind["totals"][0]["target"], 100);
    assert_eq!(ind["totals"][0]["achievement"], 0.14);
    assert_eq!(ind["totals"][1]["count"], 3);
    assert!(ind["totals"][1]["target"].is_null());
    assert_eq!(ind["participants"], 1);
    assert_eq!(ind["participants_by_kind"]["officine"], 1);
    assert_eq!(ind["by_structure"].as_array().unwrap().len(), 2);
    assert_eq!(ind["by_structure"][0]["total"], 13);
    assert_eq!(ind["by_structure"][1]["participating"], false);
    let weeks: i64 = ind["by_week"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["total"].as_i64().unwrap())
        .sum();
    assert_eq!(weeks, 17);
    let mine = json_of(
        pharmacist
            .get(&format!("/v1/campaigns/{id}/indicators"))
            .await,
        200,
        "theirs",
    )
    .await;
    assert_eq!(
        mine["by_structure"].as_array().unwrap().len(),
        1,
        "only their own structure"
    );

    // The printable report has the figures and its chart, nothing external.
    let r = coordinator.get(&format!("/v1/campaigns/{id}/report")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    for needle in [
        "Mars bleu",
        "Kits remis",
        "14",
        "100",
        "14 %",
        "<svg",
        "Officines : 1",
        "Dépistage du cancer colorectal",
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));

    // Editing: coordinators only; a kind with counts stays.
    let mut edit = mars_bleu(&app);
    edit["title"] = json!("Mars bleu 2027");
    problem(
        pharmacist
            .put_json(&format!("/v1/campaigns/{id}"), &edit)
            .await,
        403,
        "campaign.coordinators_only",
    )
    .await;
    let edited = json_of(
        coordinator
            .put_json(&format!("/v1/campaigns/{id}"), &edit)
            .await,
        200,
        "edit",
    )
    .await;
    assert_eq!(edited["title"], "Mars bleu 2027");
    edit["action_kinds"] = json!([{ "code": "kits_remis", "label": "Kits remis" }]);
    problem(
        coordinator
            .put_json(&format!("/v1/campaigns/{id}"), &edit)
            .await,
        409,
        "campaign.kind_in_use",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn concurrent_corrections_over_http_lose_nothing() {
    let app = spawn_app().await;
    let coordinator = app.login("coord-garcia").await;
    let pharmacist = app.login("pharma-petit").await;
    let officine = my_organisation(&pharmacist).await;
    let campaign = json_of(
        coordinator
            .post_json("/v1/campaigns", &mars_bleu(&app))
            .await,
        201,
        "create",
    )
    .await;
    let id = campaign["id"].as_str().unwrap();
    json_of(
        pharmacist
            .post_json(
                &format!("/v1/campaigns/{id}/participants"),
                &json!({ "organisation_id": officine }),
            )
            .await,
        201,
        "join",
    )
    .await;
    let actions = format!("/v1/campaigns/{id}/actions");
    let today = day(&app, 0);
    let calls = (1..=8).map(|n| {
        let body =
            json!({ "organisation_id": officine, "kind": "kits_remis", "count": n, "on": today });
        let pharmacist = &pharmacist;
        let actions = &actions;
        async move { pharmacist.post_json(actions, &body).await }
    });
    let responses = futures_util::future::join_all(calls).await;
    let mut versions = Vec::new();
    for r in responses {
        assert!(matches!(r.status().as_u16(), 200 | 201));
        let body: Value = r.json().await.unwrap();
        versions.push(body["version"].as_i64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());
    let list = json_of(pharmacist.get(&actions).await, 200, "list").await;
    assert_eq!(list["items"][0]["version"], 8);
    assert_eq!(list["items"][0]["history"].as_array().unwrap().len(), 7);
    app.stop().await;
}

#[tokio::test]
async fn the_demo_ships_a_flu_and_a_mars_bleu_campaign_with_recorded_days() {
    let app = spawn_app().await;
    let now = app.clock.now();
    assert!(
        cordee_gateway::demo::seed(&app.state.store, now)
            .await
            .unwrap()
    );
    let pharmacist = app.login("pharma-petit").await;
    let coordinator = app.login("coord-garcia").await;
    let list = json_of(pharmacist.get("/v1/campaigns").await, 200, "list").await;
    let items = list["items"].as_array().unwrap();
    let flu = items
        .iter()
        .find(|c| {
            c["title"]
                .as_str()
                .unwrap()
                .starts_with("Vaccination antigrippale ")
        })
        .unwrap();
    assert_eq!(flu["theme"], "grippe");
    assert_eq!(flu["action_kinds"][0]["label"], "Doses administrées");
    let mars = items
        .iter()
        .find(|c| c["title"].as_str().unwrap().starts_with("Mars bleu"))
        .unwrap();
    assert_eq!(mars["theme"], "depistage_colorectal");
    assert_eq!(mars["action_kinds"][0]["label"], "Kits remis");
    let officine = my_organisation(&pharmacist).await;
    for c in [flu, mars] {
        let id = c["id"].as_str().unwrap();
        let p = json_of(
            pharmacist
                .get(&format!("/v1/campaigns/{id}/participants"))
                .await,
            200,
            "participants",
        )
        .await;
        assert!(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["organisation_id"] == officine.as_str())
        );
    }
    let id = flu["id"].as_str().unwrap();
    let ind = json_of(
        coordinator
            .get(&format!("/v1/campaigns/{id}/indicators"))
            .await,
        200,
        "indicators",
    )
    .await;
    assert!(ind["totals"][0]["count"].as_i64().unwrap() > 0);
    assert_eq!(ind["participants"], 2);
    let mine = json_of(
        pharmacist
            .get(&format!("/v1/campaigns/{id}/actions?limit=200"))
            .await,
        200,
        "actions",
    )
    .await;
    assert!(!mine["items"].as_array().unwrap().is_empty());
    app.stop().await;
}
