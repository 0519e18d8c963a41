//! Health data never reaches the logs or error messages: markers sent through the
//! API (identity, entries, messages, reasons, a search query, invalid input) are
//! absent from everything the process printed, in JSON log format with debug detail.

use serde_json::{Value, json};

use crate::support::{Running, scratch};

#[tokio::test]
async fn markers_never_reach_logs_or_errors() {
    let s = scratch().await;
    let gateway = Running::start(
        &s,
        &[
            ("CORDEE_LOG_FORMAT", "json"),
            ("CORDEE_LOG", "debug,hyper=info,h2=info,rustls=info"),
        ],
    )
    .await;
    let gp = gateway.bearer("gp-martin").await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", gateway.base))
            .bearer_auth(&gp)
            .json(&body)
            .send()
    };
    let patient: Value = post(
        "/v1/patients",
        json!({ "birth_name": "Zorglubnom", "first_names": "Zorglubprenom", "birth_date": "1941-05-02", "sex": "F", "identity_status": "provisoire" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = patient["id"].as_str().unwrap();
    let r = post(&format!("/v1/patients/{id}/entries"), json!({ "category": "medical", "kind": "note", "title": "Zorglubtitre", "body": "zorglub-corps diabète" })).await.unwrap();
    assert_eq!(r.status(), 201);
    let conv: Value = post("/v1/conversations", json!({ "kind": "patient", "patient_id": id, "category": "medical", "title": "Zorglubfil" })).await.unwrap().json().await.unwrap();
    let r = post(
        &format!(
            "/v1/conversations/{}/messages",
            conv["id"].as_str().unwrap()
        ),
        json!({ "client_id": "z1", "body": "zorglub-message" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    // A search by name and birth date travels in the query string.
    let r = http
        .get(format!(
            "{}/v1/patients?q=Zorglubnom%201941-05-02",
            gateway.base
        ))
        .bearer_auth(&gp)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Invalid input carrying health data: the error names the field, not the value.
    let bad = post("/v1/patients", json!({ "birth_name": "Zorglubnom", "first_names": "x", "birth_date": "1941-05-02", "sex": "Zorglubsexe", "identity_status": "provisoire" })).await.unwrap();
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.unwrap();
    assert!(
        bad.contains("sex") && !bad.to_lowercase().contains("zorglub"),
        "{bad}"
    );
    let bad = post(
        &format!("/v1/patients/{id}/break-glass"),
        json!({ "reason": "zorglub-raison urgence" }),
    )
    .await
    .unwrap();
    assert!(!bad.text().await.unwrap().to_lowercase().contains("zorglub"));

    let out = gateway.output();
    assert!(
        out.lines().count() > 10,
        "the gateway logged its requests:\n{out}"
    );
    assert!(
        out.lines()
            .filter(|l| l.starts_with('{'))
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "JSON log lines"
    );
    let lower = out.to_lowercase();
    for marker in ["zorglub", "1941-05-02", "diabète"] {
        assert!(
            !lower.contains(marker),
            "{marker} appears in the logs:\n{out}"
        );
    }
    // Request ids are echoed in the logs.
    assert!(out.contains("request_id"), "{out}");
}
