use crate::support::{problem, spawn_app};

#[tokio::test]
async fn unknown_route_is_a_problem() {
    let app = spawn_app().await;
    problem(app.get("/v1/nope").await, 404, "route.not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_method_is_a_problem() {
    let app = spawn_app().await;
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    problem(r, 405, "route.method_not_allowed").await;
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = crate::support::spawn_app_with(|l| l.body_limit = Some(64 * 1024)).await;
    let gp = app.login("gp-martin").await;
    let big = serde_json::json!({ "birth_name": "x".repeat(70 * 1024) });
    // Declared length over the limit.
    let r = gp.post_json("/v1/patients", &big).await;
    problem(r, 413, "request.too_large").await;
    // Streamed without a length: cut while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b' '; 8 * 1024])).collect();
    let r = gp
        .client
        .post(gp.url("/v1/patients"))
        .header("x-csrf-token", &gp.csrf)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    problem(r, 413, "request.too_large").await;
    app.stop().await;
}

#[tokio::test]
async fn a_wrongly_typed_field_is_named() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let r = gp
        .post_json("/v1/patients", &serde_json::json!({ "birth_name": 42 }))
        .await;
    let body = problem(r, 422, "request.invalid_field").await;
    assert_eq!(body["field"], "birth_name", "{body}");
    let r = gp
        .client
        .post(gp.url("/v1/patients"))
        .header("x-csrf-token", &gp.csrf)
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(r, 415, "request.unsupported_media_type").await;
    app.stop().await;
}

#[tokio::test]
async fn the_stream_refuses_a_plain_request_as_a_problem() {
    // axum's own refusal is plain text; the document promises problem+json.
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    problem(gp.get("/v1/stream").await, 400, "stream.websocket_required").await;
    app.stop().await;
}

#[tokio::test]
async fn message_cursors_are_cursors() {
    // `after`/`before` read like every list's cursor: empty is none, a malformed one 400.
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let r = gp
        .post_json(
            "/v1/conversations",
            &serde_json::json!({ "kind": "direct", "member_ids": [nurse.id] }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let conv = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let empty = gp
        .get(&format!("/v1/conversations/{conv}/messages?after=&before="))
        .await;
    assert_eq!(empty.status(), 200);
    problem(
        gp.get(&format!("/v1/conversations/{conv}/messages?after=nope"))
            .await,
        400,
        "request.invalid_cursor",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_body_must_be_an_object_even_where_serde_would_read_an_array() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    // Serde reads a struct from a sequence of its fields; no client means that.
    let r = gp
        .post_json("/v1/patients/search", &serde_json::json!([null, null, 5]))
        .await;
    let body = problem(r, 422, "request.invalid_field").await;
    assert_eq!(body["detail"], "The JSON body must be an object.", "{body}");
    // Still JSON syntax first, and an object still passes.
    let r = gp
        .client
        .post(gp.url("/v1/patients/search"))
        .header("x-csrf-token", &gp.csrf)
        .header("content-type", "application/json")
        .body("{\"q\": ")
        .send()
        .await
        .unwrap();
    problem(r, 400, "request.malformed_json").await;
    let r = gp
        .post_json("/v1/patients/search", &serde_json::json!({ "limit": 5.0 }))
        .await;
    assert_eq!(r.status(), 200);
    app.stop().await;
}
