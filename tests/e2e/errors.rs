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
