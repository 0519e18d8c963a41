//! One list contract: every list takes `cursor` and `limit`, answers
//! `{ items, next_cursor }`, and never hands out a cursor to an empty page.

use serde_json::{Value, json};

use crate::file::patient_with_team;
use crate::support::{User, problem, spawn_app};

/// Walks a list page by page; returns the page sizes.
async fn walk(user: &User, path: &str, limit: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = user.get(&url).await;
        assert_eq!(r.status(), 200, "{url}");
        let page: Value = r.json().await.unwrap();
        let items = page["items"].as_array().unwrap().len();
        sizes.push(items);
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items, limit, "{url}: a cursor after a short page");
                cursor = Some(c.to_string());
            }
            None => return sizes,
        }
        assert!(sizes.len() < 50, "{url}: no end");
    }
}

#[tokio::test]
async fn lists_page_with_cursors_that_never_lead_to_an_empty_page() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    for n in 0..4 {
        let r = gp
            .post_json(
                "/v1/conversations",
                &json!({ "kind": "group", "title": format!("Groupe {n}"), "member_ids": [nurse.id] }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    // Exactly a page, then pages of a divisor and of a non-divisor.
    assert_eq!(walk(&nurse, "/v1/conversations", 4).await, vec![4]);
    assert_eq!(walk(&nurse, "/v1/conversations", 2).await, vec![2, 2]);
    assert_eq!(walk(&nurse, "/v1/conversations", 3).await, vec![3, 1]);
    let patient = patient_with_team(&gp, &[&nurse, &pharma]).await;
    assert_eq!(
        walk(&gp, &format!("/v1/patients/{patient}/care-team"), 3).await,
        vec![3]
    );
    assert_eq!(
        walk(&gp, &format!("/v1/patients/{patient}/care-team"), 2).await,
        vec![2, 1]
    );
    assert_eq!(walk(&nurse, "/v1/notifications", 1).await, vec![1]);
    assert_eq!(walk(&gp, "/v1/access-matrix", 72).await, vec![72]);
    assert_eq!(walk(&gp, "/v1/access-matrix", 50).await, vec![50, 22]);
    assert_eq!(walk(&gp, "/v1/auth/sessions", 1).await, vec![1]);
    // The newest conversation first: last activity decides, not message counts.
    let r = gp
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "group", "title": "Dernier", "member_ids": [nurse.id] }),
        )
        .await;
    let newest: Value = r.json().await.unwrap();
    let first: Value = nurse
        .get("/v1/conversations?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["id"], newest["id"]);
    problem(
        nurse.get("/v1/conversations?cursor=garbage").await,
        400,
        "request.invalid_cursor",
    )
    .await;
    app.stop().await;
}
