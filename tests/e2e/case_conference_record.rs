//! The validated record over real HTTP: corrections as addenda chained to the
//! record's hash (who may, bad input, the chain checked by recomputing each hash),
//! and the printable French page (escaped, CSP-safe, 404 to outsiders, audited).

use std::time::Duration;

use serde_json::{Value, json};

use crate::file::patient_with_team;
use crate::support::{TestApp, User, problem, spawn_app};

async fn ok(r: reqwest::Response, status: u16, what: &str) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{what}: {body}");
    body
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct Validated {
    pub id: String,
    pub case_id: String,
    pub patient: String,
    pub hash: String,
}

/// A concertation chaired by the GP, the nurse and the pharmacist attending, one
/// case whose summary holds markup; validated unless `validate` is false.
pub async fn validated_conference(
    app: &TestApp,
    coord: &User,
    gp: &User,
    nurse: &User,
    pharma: &User,
    validate: bool,
) -> Validated {
    let patient = patient_with_team(gp, &[nurse]).await;
    let start = app.clock.now().plus_secs(60);
    let c = ok(
        coord
            .post_json(
                "/v1/case-conferences",
                &json!({ "title": "Concertation <maintien> à domicile", "kind": "concertation",
                         "scheduled_at": start.to_rfc3339(), "duration_minutes": 60, "chair_id": gp.id }),
            )
            .await,
        201,
        "create",
    )
    .await;
    let id = c["id"].as_str().unwrap().to_string();
    for who in [nurse, pharma] {
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
    app.clock.advance(Duration::from_secs(120));
    ok(
        gp.put_json(
            &format!("/v1/case-conferences/{id}/cases/{case_id}"),
            &json!({ "summary": "Chutes <script>alert('x')</script> répétées\nisolement",
                     "decision": "Passage IDE quotidien", "follow_up_id": gp.id,
                     "tasks": [{ "title": "Passage IDE", "category": "soins",
                                 "assignee_id": nurse.id, "due_on": "2026-12-15" }] }),
        )
        .await,
        200,
        "minutes",
    )
    .await;
    for who in [gp, nurse, pharma] {
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
    let mut hash = String::new();
    if validate {
        let done = ok(
            gp.post_json(&format!("/v1/case-conferences/{id}/validate"), &json!({}))
                .await,
            200,
            "validate",
        )
        .await;
        hash = done["record_hash"].as_str().unwrap().to_string();
    }
    Validated {
        id,
        case_id,
        patient,
        hash,
    }
}

async fn audited(app: &TestApp, action: &str, resource: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1 and resource_id = $2")
        .bind(action)
        .bind(resource)
        .fetch_one(app.state.store.db().reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn corrections_are_addenda_chained_to_the_record() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let psy = app.login("psy-girard").await;
    let v = validated_conference(&app, &coord, &gp, &nurse, &pharma, false).await;
    let addenda = format!("/v1/case-conferences/{}/addenda", v.id);

    problem(
        gp.post_json(&addenda, &json!({ "text": "Erratum" })).await,
        409,
        "case_conference.not_validated",
    )
    .await;
    ok(
        gp.post_json(
            &format!("/v1/case-conferences/{}/validate", v.id),
            &json!({}),
        )
        .await,
        200,
        "validate",
    )
    .await;
    let hash: String = ok(
        gp.get(&format!("/v1/case-conferences/{}", v.id)).await,
        200,
        "get",
    )
    .await["record_hash"]
        .as_str()
        .unwrap()
        .into();

    // Bad input: a stable code, nothing written.
    for (who, body, status, code) in [
        (
            &gp,
            json!({ "text": "  " }),
            422,
            "case_conference.invalid_addendum",
        ),
        (
            &gp,
            json!({ "text": "é".repeat(3_001) }),
            422,
            "case_conference.invalid_addendum",
        ),
        (
            &gp,
            json!({ "text": "x", "case_id": "pas-un-id" }),
            422,
            "request.invalid_field",
        ),
        (
            &gp,
            json!({ "text": "x", "case_id": uuid::Uuid::now_v7() }),
            422,
            "case_conference.unknown_case",
        ),
        (
            &psy,
            json!({ "text": "x" }),
            404,
            "case_conference.not_found",
        ),
        (
            &coord,
            json!({ "text": "x", "case_id": v.case_id }),
            403,
            "case_conference.addendum_forbidden",
        ),
    ] {
        problem(who.post_json(&addenda, &body).await, status, code).await;
    }
    assert!(
        ok(gp.get(&addenda).await, 200, "list").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let general = ok(
        coord
            .post_json(
                &addenda,
                &json!({ "text": "La séance a commencé à 10h15." }),
            )
            .await,
        201,
        "general",
    )
    .await;
    let about_case = ok(
        nurse
            .post_json(
                &addenda,
                &json!({ "text": "Passage IDE matin <et> soir.", "case_id": v.case_id }),
            )
            .await,
        201,
        "case",
    )
    .await;
    assert_eq!(general["position"], 1);
    assert_eq!(about_case["position"], 2);
    assert_eq!(about_case["patient_id"], v.patient.as_str());

    // The chain, checked from outside: each canonical text hashes to its hash and
    // carries the hash before it.
    let record = ok(
        pharma
            .get(&format!("/v1/case-conferences/{}/record", v.id))
            .await,
        200,
        "record",
    )
    .await;
    assert_eq!(record["hash"], hash.as_str());
    assert_eq!(
        sha256(record["canonical"].as_str().unwrap().as_bytes()),
        hash
    );
    let items = record["addenda"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let mut previous = hash.clone();
    for a in items {
        let canonical = a["canonical"].as_str().unwrap();
        assert_eq!(sha256(canonical.as_bytes()), a["hash"].as_str().unwrap());
        let doc: Value = serde_json::from_str(canonical).unwrap();
        assert_eq!(doc["previous_hash"], previous.as_str());
        assert_eq!(a["previous_hash"], previous.as_str());
        previous = a["hash"].as_str().unwrap().to_string();
    }
    assert_eq!(record["chain_head"], previous.as_str());
    assert_eq!(
        ok(gp.get(&addenda).await, 200, "list").await["items"],
        record["addenda"]
    );

    // The correction is in the patient's file and export.
    let entries = ok(
        gp.get(&format!("/v1/patients/{}/entries", v.patient)).await,
        200,
        "entries",
    )
    .await;
    let rcp: Vec<&Value> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["category"] == "rcp")
        .collect();
    assert_eq!(rcp.len(), 2, "{entries}");
    let export = ok(
        gp.get(&format!("/v1/patients/{}/export", v.patient)).await,
        200,
        "export",
    )
    .await;
    assert_eq!(
        export["case_conference_addenda"][0]["text"],
        "Passage IDE matin <et> soir."
    );
    // Audited, with ids only.
    assert_eq!(
        audited(
            &app,
            "case_conference.addendum",
            about_case["id"].as_str().unwrap()
        )
        .await,
        1
    );
    let details: Vec<Option<String>> = sqlx::query_scalar(
        "select detail from audit_log where action = 'case_conference.addendum'",
    )
    .fetch_all(app.state.store.db().reader())
    .await
    .unwrap();
    assert!(
        details
            .iter()
            .flatten()
            .all(|d| !d.contains("IDE") && !d.contains("10h15"))
    );
}

#[tokio::test]
async fn the_printable_record_is_escaped_french_html_for_its_readers_only() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let psy = app.login("psy-girard").await;
    let v = validated_conference(&app, &coord, &gp, &nurse, &pharma, true).await;
    ok(
        gp.post_json(
            &format!("/v1/case-conferences/{}/addenda", v.id),
            &json!({ "text": "Décision précisée : <b>deux</b> passages.", "case_id": v.case_id }),
        )
        .await,
        201,
        "addendum",
    )
    .await;
    let path = format!("/v1/case-conferences/{}/record?format=html", v.id);

    problem(psy.get(&path).await, 404, "case_conference.not_found").await;
    problem(
        pharma
            .get(&format!("/v1/case-conferences/{}/record?format=pdf", v.id))
            .await,
        422,
        "case_conference.invalid_format",
    )
    .await;
    let before = audited(&app, "case_conference.record_read", &v.id).await;

    let r = pharma.get(&path).await;
    assert_eq!(r.status(), 200);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ctype, "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    // Every user text escaped: the summary's script is text, not markup.
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("Chutes &lt;script&gt;alert('x')&lt;/script&gt; répétées"));
    assert!(page.contains("Concertation &lt;maintien&gt; à domicile"));
    assert!(page.contains("Décision précisée : &lt;b&gt;deux&lt;/b&gt; passages."));
    assert!(!page.contains("style="), "no inline style under the CSP");
    for expected in [
        "<html lang=\"fr\">",
        "Présences",
        "Question posée",
        "Maintien à domicile possible ?",
        "Passage IDE quotidien",
        "Passage IDE — Soins",
        "Rectificatif n° 1",
        "Imprimer / enregistrer en PDF",
        &v.hash,
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    // The stylesheet it links is served.
    let start = page.find("href=\"/assets/").unwrap() + "href=\"".len();
    let css = page[start..].split('"').next().unwrap().to_string();
    assert!(css.ends_with("/report.css"), "{css}");
    assert_eq!(pharma.get(&css).await.status(), 200);
    // Audited as a read, like the JSON.
    assert_eq!(
        audited(&app, "case_conference.record_read", &v.id).await,
        before + 1
    );
}
