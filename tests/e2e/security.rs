//! The security review's findings (issue 17), each reproduced through the API: every
//! test here failed on the code the review was run against.

use std::time::Duration;

use serde_json::{Value, json};

use crate::file::{new_patient, patient_with_team};
use crate::messaging::{backlog, connect, next, send};
use crate::support::{User, problem, spawn_app};

async fn json_of(user: &User, path: &str) -> Value {
    let r = user.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn entry_id(user: &User, patient: &str, category: &str) -> String {
    let r = user
        .post_json(
            &format!("/v1/patients/{patient}/entries"),
            &json!({ "category": category, "kind": "note", "title": "Note", "body": "corps" }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn mint(app: &crate::support::TestApp, bearer: &str) -> String {
    let r = app
        .client
        .post(app.url("/v1/auth/tokens"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Finding 1: a token minted from a token minted from a login ends with that login,
/// and so does its stream.
#[tokio::test]
async fn logout_ends_every_token_descended_from_the_login() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let child = nurse.bearer().await;
    let grandchild = mint(&app, &child).await;
    let great = mint(&app, &grandchild).await;
    let mut stream = connect(&app, &great, None).await;
    backlog(&mut stream).await;
    assert_eq!(
        nurse
            .post_json("/v1/auth/logout", &json!({}))
            .await
            .status(),
        200
    );
    for token in [&child, &grandchild, &great] {
        let r = app
            .client
            .get(app.url("/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        problem(r, 401, "auth.session_expired").await;
    }
    assert_eq!(next(&mut stream).await["type"], "session.ended");
    app.stop().await;
}

/// Finding 1, second path: a new login in the same browser replaces its session, and
/// the tokens minted from the replaced one end too.
#[tokio::test]
async fn a_replaced_browser_session_takes_its_tokens_with_it() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let token = nurse.bearer().await;
    let grandchild = mint(&app, &token).await;
    // Log in again in the same browser (same cookie jar).
    let again = app
        .login_with(&nurse.client, "psc-sandbox", "nurse-bernard")
        .await;
    assert_eq!(again.status(), 302);
    for t in [&token, &grandchild] {
        let r = app
            .client
            .get(app.url("/v1/me"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        problem(r, 401, "auth.session_expired").await;
    }
    app.stop().await;
}

/// Finding 3: creating or correcting a patient tells the caller about duplicates
/// only among patients they may see; a hidden match goes to identity vigilance and
/// into the matched patient's access log.
#[tokio::test]
async fn identity_vigilance_is_not_an_existence_oracle() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let outsider = app.login("gp-dubois").await;
    let midwife = app.login("midwife-leroy").await;
    let admin = app.login("admin-roux").await;
    let existing = patient_with_team(&gp, &[]).await;
    // Creating the same identity: accepted, nothing revealed.
    let r = outsider
        .post_json("/v1/patients", &new_patient("Lefèvre"))
        .await;
    assert_eq!(r.status(), 201);
    let probe: Value = r.json().await.unwrap();
    assert_eq!(probe["possible_duplicate"], false);
    // Correcting an own record into the same identity: nothing revealed either.
    let mut other = new_patient("Martin");
    other["ins_matricule"] = json!(crate::file::ins_for("1600175123456"));
    other["creator_role"] = json!("sage_femme");
    let r = midwife.post_json("/v1/patients", &other).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let own: Value = r.json().await.unwrap();
    let mut same = new_patient("Lefèvre");
    same.as_object_mut().unwrap().remove("creator_role");
    let r = midwife
        .put_json(
            &format!("/v1/patients/{}", own["id"].as_str().unwrap()),
            &same,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        r.json::<Value>().await.unwrap()["possible_duplicate"],
        false
    );
    // The first record is not flagged by the probes.
    assert_eq!(
        json_of(&gp, &format!("/v1/patients/{existing}")).await["possible_duplicate"],
        false
    );
    // Identity vigilance (the CPTS admins) is told, with ids only.
    let notes = json_of(&admin, "/v1/notifications").await;
    let told: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["kind"] == "identity.possible_duplicate" && n["patient_id"] == existing.as_str()
        })
        .collect();
    assert_eq!(told.len(), 2, "{notes}");
    assert!(!notes.to_string().contains("Lef"));
    // The matched patient's access log shows who probed.
    let log = json_of(&gp, &format!("/v1/patients/{existing}/access-log")).await;
    for prober in [&outsider, &midwife] {
        assert!(log["items"].as_array().unwrap().iter().any(|i| {
            i["action"] == "patient.possible_duplicate" && i["actor_id"] == prober.id.as_str()
        }));
    }
    app.stop().await;
}

/// Finding 4: nobody changes what concerns entries or categories they may not read;
/// lifting a mask is for its author or the médecin traitant; the médecin traitant
/// hears of every change.
#[tokio::test]
async fn consent_changes_are_explicit_and_bounded_by_what_one_may_read() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let psy = app.login("psy-girard").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&psy, &nurse]).await;
    let consent = format!("/v1/patients/{patient}/consent");
    let medical = entry_id(&gp, &patient, "medical").await;
    let soins = entry_id(&nurse, &patient, "soins").await;
    // The médecin traitant masks a medical entry and records an objection about
    // traitements; the psychologue (who reads neither) cannot undo them.
    let r = gp
        .put_json(
            &consent,
            &json!({ "mask": [medical], "add_objections": [{ "kind": "category", "category": "traitements" }] }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let recorded: Value = r.json().await.unwrap();
    let objection = recorded["objections"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    problem(
        psy.put_json(&consent, &json!({ "unmask": [medical] }))
            .await,
        404,
        "entry.not_found",
    )
    .await;
    problem(
        psy.put_json(&consent, &json!({ "lift_objections": [objection] }))
            .await,
        404,
        "consent.objection_not_found",
    )
    .await;
    problem(
        psy.put_json(
            &consent,
            &json!({ "add_objections": [{ "kind": "category", "category": "medical" }] }),
        )
        .await,
        403,
        "consent.category_forbidden",
    )
    .await;
    // What she is shown: neither the masked entry nor the objection she cannot read.
    let seen = json_of(&psy, &consent).await;
    assert!(
        seen["masked_entries"].as_array().unwrap().is_empty(),
        "{seen}"
    );
    assert!(seen["objections"].as_array().unwrap().is_empty(), "{seen}");
    // An unknown entry id answers like a hidden one: nothing confirms which exist.
    let unknown = uuid::Uuid::now_v7().to_string();
    problem(
        psy.put_json(&consent, &json!({ "mask": [unknown] })).await,
        404,
        "entry.not_found",
    )
    .await;
    // The nurse may mask the soins entry (hers) but not lift the médecin traitant's
    // mask on another entry; masking her own entry tells the médecin traitant.
    let r = nurse.put_json(&consent, &json!({ "mask": [soins] })).await;
    assert_eq!(r.status(), 200);
    // Objecting the médecin traitant out is the patient's right; he is told.
    let r = nurse
        .put_json(
            &consent,
            &json!({ "add_objections": [{ "kind": "professional", "account_id": gp.id }] }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let notes = app
        .state
        .store
        .notifications(
            &cordee_pathway::account::Actor {
                account_id: gp.id.parse().unwrap(),
                kind: cordee_pathway::account::AccountKind::HealthProfessional,
                profession: None,
                roles: vec![],
                session_id: None,
            },
            None,
            50,
        )
        .await
        .unwrap();
    let changes = notes
        .iter()
        .filter(|n| n.kind == cordee_pathway::notification::NotificationKind::ConsentChanged)
        .count();
    assert_eq!(changes, 2, "the mask and the objection: {notes:?}");
    app.stop().await;
}

/// Finding 5: a professional acting under an exercice that may not read a thread's
/// category does not receive it live.
#[tokio::test]
async fn the_stream_follows_the_session_exercice() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let physio = app.login("physio-moreau").await;
    let patient = patient_with_team(&gp, &[&physio]).await;
    // A medical thread: the kinésithérapeute reads medical, the pédicure-podologue
    // (physio-moreau's second exercice) does not.
    let r = gp
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "patient", "patient_id": patient, "category": "medical" }),
        )
        .await;
    let thread = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gp
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "group", "title": "Tournée", "member_ids": [physio.id] }),
        )
        .await;
    let group = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = physio.bearer().await;
    let mut stream = connect(&app, &token, None).await;
    backlog(&mut stream).await;
    // She switches the token's session to her second exercice: the stream resyncs.
    let r = app
        .client
        .put(app.url("/v1/me/exercice"))
        .bearer_auth(&token)
        .json(&json!({ "index": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(next(&mut stream).await["type"], "resync");
    let mut stream = connect(&app, &token, None).await;
    backlog(&mut stream).await;
    assert_eq!(send(&gp, &thread, "m-1", "Bilan").await.status(), 201);
    assert_eq!(send(&gp, &group, "g-1", "marqueur").await.status(), 201);
    loop {
        let frame = next(&mut stream).await;
        if frame["type"] == "message.created" {
            assert_eq!(frame["data"]["body"], "marqueur", "{frame}");
            break;
        }
    }
    // And over REST, as before: not found.
    let r = app
        .client
        .get(app.url(&format!("/v1/conversations/{thread}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(r, 404, "conversation.not_found").await;
    app.stop().await;
}

/// Finding 6: a message's edit history, a thread's details and the conversation list
/// are reads of patient data, in the access log.
#[tokio::test]
async fn reads_of_thread_data_are_in_the_access_log() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let r = gp
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "patient", "patient_id": patient, "title": "Plaie" }),
        )
        .await;
    let thread = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent: Value = send(&gp, &thread, "e-1", "Pansement")
        .await
        .json()
        .await
        .unwrap();
    let message = sent["id"].as_str().unwrap();
    gp.patch_json(
        &format!("/v1/conversations/{thread}/messages/{message}"),
        &json!({ "body": "Pansement refait" }),
    )
    .await;
    assert_eq!(
        nurse
            .get(&format!(
                "/v1/conversations/{thread}/messages/{message}/history"
            ))
            .await
            .status(),
        200
    );
    assert_eq!(
        nurse
            .get(&format!("/v1/conversations/{thread}"))
            .await
            .status(),
        200
    );
    assert_eq!(nurse.get("/v1/conversations").await.status(), 200);
    let log = json_of(&gp, &format!("/v1/patients/{patient}/access-log")).await;
    for action in ["message.history", "conversation.read", "conversation.list"] {
        assert!(
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["action"] == action && i["actor_id"] == nurse.id.as_str()),
            "{action} missing in {log}"
        );
    }
    app.stop().await;
}

/// Finding 7: staff never get clinical categories, whatever an admin writes.
#[tokio::test]
async fn staff_are_never_given_clinical_rights() {
    let app = spawn_app().await;
    let admin = app.login("admin-roux").await;
    for (category, access) in [("medical", "write"), ("soins", "read"), ("rcp", "read")] {
        problem(
            admin
                .put_json(
                    &format!("/v1/access-matrix/staff/{category}"),
                    &json!({ "access": access }),
                )
                .await,
            422,
            "matrix.staff_clinical",
        )
        .await;
    }
    // Their own categories stay theirs to tune.
    assert_eq!(
        admin
            .put_json(
                "/v1/access-matrix/staff/social",
                &json!({ "access": "read" })
            )
            .await
            .status(),
        200
    );
    app.stop().await;
}

/// Finding 8: the access log withholds the ids of entries the reader may not read.
#[tokio::test]
async fn the_access_log_withholds_ids_of_entries_the_reader_may_not_read() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let psy = app.login("psy-girard").await;
    let patient = patient_with_team(&gp, &[&psy]).await;
    let medical = entry_id(&gp, &patient, "medical").await;
    let social = entry_id(&gp, &patient, "social").await;
    let log = json_of(&psy, &format!("/v1/patients/{patient}/access-log")).await;
    let text = log.to_string();
    assert!(
        !text.contains(&medical),
        "medical id shown to the psychologue"
    );
    assert!(
        text.contains(&social),
        "social id hidden from the psychologue"
    );
    let gp_log = json_of(&gp, &format!("/v1/patients/{patient}/access-log")).await;
    assert!(gp_log.to_string().contains(&medical));
    app.stop().await;
}

/// Every kind of refusal on patient data is in the audit chain, with its code.
#[tokio::test]
async fn every_refusal_on_patient_data_is_audited() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let psy = app.login("psy-girard").await;
    let coord = app.login("coord-garcia").await;
    let outsider = app.login("gp-dubois").await;
    let patient = patient_with_team(&gp, &[&nurse, &psy, &coord]).await;
    let p = format!("/v1/patients/{patient}");
    let medical = entry_id(&gp, &patient, "medical").await;
    let nurse_member = json_of(&gp, &format!("{p}/care-team")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["account_id"] == nurse.id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // (who, request, expected status, expected code, action in the trail)
    let refusals: Vec<(&User, reqwest::Response, u16, &str, &str)> = vec![
        (
            &outsider,
            outsider.get(&p).await,
            404,
            "patient.not_found",
            "patient.read",
        ),
        (
            &outsider,
            outsider.get(&format!("{p}/entries")).await,
            404,
            "patient.not_found",
            "entry.list",
        ),
        (
            &psy,
            psy.get(&format!("{p}/entries/{medical}")).await,
            404,
            "entry.not_found",
            "entry.read",
        ),
        (
            &nurse,
            nurse
                .post_json(
                    &format!("{p}/entries"),
                    &json!({ "category": "medical", "kind": "note", "title": "x" }),
                )
                .await,
            403,
            "entry.category_forbidden",
            "entry.create",
        ),
        (
            &nurse,
            nurse
                .put_json(&format!("{p}/entries/{medical}"), &json!({ "title": "x" }))
                .await,
            403,
            "entry.not_author",
            "entry.correct",
        ),
        (
            &outsider,
            outsider
                .post_json(
                    &format!("{p}/care-team"),
                    &json!({ "account_id": outsider.id, "role": "medecin", "reason": "je passe" }),
                )
                .await,
            404,
            "patient.not_found",
            "care_team.add",
        ),
        (
            &psy,
            psy.delete(&format!("{p}/care-team/{nurse_member}")).await,
            403,
            "care_team.not_allowed",
            "care_team.remove",
        ),
        (
            &psy,
            psy.post_json(
                "/v1/conversations",
                &json!({ "kind": "patient", "patient_id": patient, "category": "medical" }),
            )
            .await,
            403,
            "conversation.category_forbidden",
            "conversation.create",
        ),
        (
            &coord,
            coord
                .post_json(
                    &format!("{p}/break-glass"),
                    &json!({ "reason": "je dois voir le dossier" }),
                )
                .await,
            403,
            "break_glass.health_professionals_only",
            "break_glass.grant",
        ),
        (
            &psy,
            psy.put_json(&format!("{p}/consent"), &json!({ "mask": [medical] }))
                .await,
            404,
            "entry.not_found",
            "consent.mask",
        ),
        (
            &nurse,
            nurse.get(&format!("{p}/export")).await,
            403,
            "export.medecin_traitant_only",
            "patient.export",
        ),
        (
            &outsider,
            outsider.get(&format!("{p}/access-log")).await,
            404,
            "patient.not_found",
            "access_log.read",
        ),
    ];
    let mut expected = Vec::new();
    for (who, response, status, code, action) in refusals {
        problem(response, status, code).await;
        expected.push((who.id.clone(), code, action));
    }
    app.state.store.audit_flush().await;
    let trail = app
        .state
        .store
        .audit_for_patient(patient.parse().unwrap(), None, 500)
        .await
        .unwrap();
    for (who, code, action) in expected {
        assert!(
            trail.iter().any(|r| {
                r.event.outcome == cordee_pathway::audit::Outcome::Denied
                    && r.event.action.as_str() == action
                    && r.event.actor_id.map(|a| a.to_string()) == Some(who.clone())
                    && r.event.detail.as_deref() == Some(code)
            }),
            "no denied {action} ({code}) by {who} in the trail"
        );
    }
    app.stop().await;
}

/// Notifications reach the account's devices live, as `notification` frames, and a
/// device resuming from its cursor gets those it missed.
#[tokio::test]
async fn notifications_are_stream_events_of_the_account() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let token = nurse.bearer().await;
    let mut stream = connect(&app, &token, None).await;
    let (_, cursor) = backlog(&mut stream).await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let frame = loop {
        let frame = next(&mut stream).await;
        if frame["type"] == "notification" {
            break frame;
        }
    };
    assert_eq!(frame["data"]["kind"], "care_team.added");
    assert_eq!(frame["data"]["patient_id"], patient.as_str());
    assert!(frame["cursor"].as_i64().unwrap() > cursor);
    // A device that was away gets it on resume; another account never does.
    let mut resumed = connect(&app, &token, Some(cursor)).await;
    let (missed, _) = backlog(&mut resumed).await;
    assert!(
        missed
            .iter()
            .any(|f| f["type"] == "notification" && f["data"]["kind"] == "care_team.added")
    );
    let gp_token = gp.bearer().await;
    let mut other = connect(&app, &gp_token, Some(cursor)).await;
    let (theirs, _) = backlog(&mut other).await;
    assert!(!theirs.iter().any(|f| f["type"] == "notification"));
    app.stop().await;
}

/// The job that ends emergency accesses runs when the clock passes the end (no
/// waiting): the professional is told once, in the audit chain too.
#[tokio::test]
async fn an_ended_emergency_access_is_announced_once_by_the_job() {
    let app = crate::support::spawn_app_with(|l| l.break_glass_duration = Some(600)).await;
    let gp = app.login("gp-martin").await;
    let outsider = app.login("gp-dubois").await;
    let patient = patient_with_team(&gp, &[]).await;
    let r = outsider
        .post_json(
            &format!("/v1/patients/{patient}/break-glass"),
            &json!({ "reason": "patient inconscient aux urgences" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let ended = |notes: &Value| {
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "break_glass.ended")
            .count()
    };
    let ran = cordee_gateway::jobs::run_due(&app.state).await;
    assert!(ran.iter().any(|r| r.job == "break_glass_ended"));
    assert_eq!(ended(&json_of(&outsider, "/v1/notifications").await), 0);
    app.clock.advance(Duration::from_secs(601));
    let ran = cordee_gateway::jobs::run_due(&app.state).await;
    assert!(ran.contains(&cordee_gateway::jobs::Ran {
        job: "break_glass_ended",
        outcome: Ok(1)
    }));
    assert_eq!(ended(&json_of(&outsider, "/v1/notifications").await), 1);
    // Not due again until its next period, and never told twice.
    assert!(cordee_gateway::jobs::run_due(&app.state).await.is_empty());
    app.clock.advance(Duration::from_secs(61));
    cordee_gateway::jobs::run_due(&app.state).await;
    assert_eq!(ended(&json_of(&outsider, "/v1/notifications").await), 1);
    let admin = app.login("admin-roux").await;
    let metrics = admin.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("cordee_job_runs_total{job=\"break_glass_ended\",outcome=\"ok\"}"));
    app.stop().await;
}
