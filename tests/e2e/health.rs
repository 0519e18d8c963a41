use crate::support::{problem, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], app.db.backend.name());
    app.stop().await;
}

#[tokio::test]
async fn readyz_reports_pending_migrations() {
    let app = spawn_app().await;
    // Forget the last migration: the gateway must say it is not ready.
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let body = problem(app.get("/readyz").await, 503, "ready.migrations_pending").await;
    assert!(body["detail"].as_str().unwrap().contains("cordee migrate"));
    app.stop().await;
}

#[tokio::test]
async fn request_ids_are_unique_and_echo_a_given_one() {
    let app = spawn_app().await;
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let app = spawn_app().await;
    let r = app.get("/v1/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["paths"]["/readyz"]["get"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    let admin = app.login("admin-roux").await;
    let text = admin.get("/metrics").await.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("cordee_http_requests_total")
                && l.contains("route=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no healthz counter in\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{line}");
    assert!(text.contains("cordee_http_request_duration_seconds_bucket"));
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_open_streams() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let mut socket = crate::messaging::connect(&app, &nurse.bearer().await, None).await;
    crate::messaging::backlog(&mut socket).await;
    let admin = app.login("admin-roux").await;
    let text = admin.get("/metrics").await.text().await.unwrap();
    let open: f64 = text
        .lines()
        .find(|l| l.starts_with("cordee_stream_connections "))
        .unwrap_or_else(|| panic!("no stream gauge in\n{text}"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The recorder is process-wide: other tests' streams may be counted too.
    assert!(open >= 1.0, "{open}");
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_for_admins_on_the_main_listener() {
    let app = spawn_app().await;
    problem(app.get("/metrics").await, 401, "auth.required").await;
    let nurse = app.login("nurse-bernard").await;
    problem(nurse.get("/metrics").await, 403, "metrics.admin_only").await;
    let admin = app.login("admin-roux").await;
    let r = admin.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cordee_http_requests_total")
    );
    app.stop().await;
}

/// Strangers choose methods and paths; the label values they can reach are bounded.
#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let admin = app.login("admin-roux").await;
    let strange = |n: usize| {
        let method = reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap();
        app.client
            .request(method, app.url(&format!("/no/such/path/{n}")))
            .send()
    };
    // The first stranger creates the `other` and `unmatched` series.
    strange(0).await.unwrap();
    let count = |text: &str| {
        text.lines()
            .filter(|l| l.contains("method=\"other\"") || l.contains("route=\"unmatched\""))
            .count()
    };
    let before = admin.get("/metrics").await.text().await.unwrap();
    for n in 1..=300 {
        let r = strange(n).await.unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let after = admin.get("/metrics").await.text().await.unwrap();
    assert_eq!(count(&before), count(&after), "{after}");
    assert!(!after.contains("BREW") && !after.contains("/no/such/path"));
    app.stop().await;
}
