//! What sessions allow and how they end: CSRF, bearer tokens, logout, own session
//! list, rotation at login, idle and absolute expiry, login rate limit.

use std::sync::Arc;

use reqwest::cookie::Jar;
use serde_json::{Value, json};

use crate::auth::set_cookies;
use crate::support::{browser, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn unsafe_cookie_requests_need_the_csrf_header_and_bearer_ones_do_not() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let body = json!({ "index": 0 });
    let r = nurse
        .client
        .put(nurse.url("/v1/me/exercice"))
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(r, 403, "auth.csrf").await;
    let r = nurse
        .client
        .put(nurse.url("/v1/me/exercice"))
        .header("x-csrf-token", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(r, 403, "auth.csrf").await;
    assert_eq!(nurse.put_json("/v1/me/exercice", &body).await.status(), 200);

    // A bearer token: no cookie, no CSRF header, accepted.
    let token = nurse.bearer().await;
    let bare = reqwest::Client::new();
    let r = bare
        .put(app.url("/v1/me/exercice"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = bare
        .get(app.url("/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], nurse.id.as_str());
    // Minting a token is itself an unsafe request.
    let r = nurse
        .client
        .post(nurse.url("/v1/auth/tokens"))
        .send()
        .await
        .unwrap();
    problem(r, 403, "auth.csrf").await;
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_the_provider_end_session_url() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let token = nurse.bearer().await;
    let r = nurse.post_json("/v1/auth/logout", &json!({})).await;
    assert_eq!(r.status(), 200);
    let cleared = set_cookies(&r).join("\n");
    assert!(
        cleared.contains("cordee_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let body: Value = r.json().await.unwrap();
    let url = reqwest::Url::parse(body["end_session_url"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), "/sandbox/psc/logout");
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(params["id_token_hint"].split('.').count(), 3);
    assert_eq!(params["post_logout_redirect_uri"], format!("{}/", app.base));
    assert!(params["state"].len() >= 32);
    // The provider sends the browser back with the state.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains(&params["state"])
    );

    problem(nurse.get("/v1/me").await, 401, "auth.required").await;
    // The bearer token minted from this login ended with it: otherwise whoever held
    // the session for a moment could mint a token that outlives its revocation.
    let r = reqwest::Client::new()
        .get(app.url("/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(r, 401, "auth.session_expired").await;

    // A token logs itself out without an end-session URL (it has no ID token).
    let nurse = app.login("nurse-bernard").await;
    let token = nurse.bearer().await;
    let r = reqwest::Client::new()
        .post(app.url("/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["end_session_url"], Value::Null);
    let r = reqwest::Client::new()
        .get(app.url("/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(r, 401, "auth.session_expired").await;
    assert_eq!(
        nurse.get("/v1/me").await.status(),
        200,
        "the login itself goes on"
    );
    app.stop().await;
}

#[tokio::test]
async fn users_list_and_revoke_their_own_sessions_only() {
    let app = spawn_app().await;
    let laptop = app.login("gp-martin").await;
    let phone = app.login("gp-martin").await;
    let other = app.login("nurse-bernard").await;
    let list: Value = laptop.get("/v1/auth/sessions").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(list["next_cursor"], Value::Null);
    let current: Vec<&Value> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let phone_session = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone else's session, a random id, a malformed id: all 404.
    let r = other
        .delete(&format!("/v1/auth/sessions/{phone_session}"))
        .await;
    problem(r, 404, "auth.session_not_found").await;
    let r = laptop
        .delete(&format!("/v1/auth/sessions/{}", uuid::Uuid::now_v7()))
        .await;
    problem(r, 404, "auth.session_not_found").await;
    problem(
        laptop.delete("/v1/auth/sessions/nope").await,
        404,
        "auth.session_not_found",
    )
    .await;
    assert_eq!(phone.get("/v1/me").await.status(), 200);

    let r = laptop
        .delete(&format!("/v1/auth/sessions/{phone_session}"))
        .await;
    assert_eq!(r.status(), 204);
    problem(phone.get("/v1/me").await, 401, "auth.session_expired").await;
    assert_eq!(laptop.get("/v1/me").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_new_login_in_the_same_browser_rotates_the_session() {
    let app = spawn_app().await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    assert_eq!(
        app.login_with(&client, "psc-sandbox", "gp-martin")
            .await
            .status(),
        302
    );
    let url: reqwest::Url = app.base.parse().unwrap();
    let first = session_cookie(&jar, &url);
    let mut stream = crate::messaging::connect(&app, &first, None).await;
    crate::messaging::backlog(&mut stream).await;
    assert_eq!(
        app.login_with(&client, "psc-sandbox", "gp-martin")
            .await
            .status(),
        302
    );
    let second = session_cookie(&jar, &url);
    assert_ne!(first, second);
    // The replaced session's live stream ends with it.
    let frame = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        crate::messaging::next(&mut stream),
    )
    .await
    .expect("the replaced session's stream was not ended within 5 s");
    assert_eq!(frame["type"], "session.ended", "{frame}");
    let r = reqwest::Client::new()
        .get(app.url("/v1/me"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    problem(r, 401, "auth.session_expired").await;
    assert_eq!(
        client.get(app.url("/v1/me")).send().await.unwrap().status(),
        200
    );
    app.stop().await;
}

fn session_cookie(jar: &Jar, url: &reqwest::Url) -> String {
    use reqwest::cookie::CookieStore;
    let all = jar.cookies(url).unwrap();
    all.to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("cordee_session="))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn idle_and_absolute_expiry_end_sessions() {
    let app = spawn_app_with(|l| {
        l.session_idle_timeout = Some(3);
        l.session_lifetime = Some(3600);
    })
    .await;
    let nurse = app.login("nurse-bernard").await;
    assert_eq!(nurse.get("/v1/me").await.status(), 200);
    app.clock.advance(std::time::Duration::from_millis(3100));
    problem(nurse.get("/v1/me").await, 401, "auth.session_expired").await;
    app.stop().await;

    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    sqlx::query("update sessions set expires_at = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // A change made outside this gateway (another instance, an operator) is seen once
    // the remembered session lapses: at most 2 s (changes made through this gateway
    // are seen at once).
    app.clock.advance(std::time::Duration::from_millis(2100));
    problem(nurse.get("/v1/me").await, 401, "auth.session_expired").await;
    app.stop().await;
}

#[tokio::test]
async fn login_is_rate_limited_per_address() {
    let app = spawn_app_with(|l| l.login_rate_limit = Some(2)).await;
    let url = app.url("/v1/auth/login?provider=psc-sandbox&login_hint=gp-martin");
    for _ in 0..2 {
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 302);
    }
    let r = app.client.get(&url).send().await.unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    problem(r, 429, "auth.rate_limited").await;
    // The callback counts too.
    let r = app.get("/v1/auth/callback?state=x&code=y").await;
    problem(r, 429, "auth.rate_limited").await;
    app.stop().await;
}

/// A bearer token lives no longer than the login it was issued from: logging out,
/// or revoking that login from another device, ends the token too.
#[tokio::test]
async fn ending_a_login_ends_the_tokens_issued_from_it() {
    let app = spawn_app().await;
    let laptop = app.login("gp-martin").await;
    let phone = app.login("gp-martin").await;
    let me_with = |token: String| {
        let url = app.url("/v1/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let laptop_token = laptop.bearer().await;
    let phone_token = phone.bearer().await;
    assert_eq!(me_with(laptop_token.clone()).await.status(), 200);
    assert_eq!(me_with(phone_token.clone()).await.status(), 200);

    // The phone's login is revoked from the laptop: its token ends with it.
    let sessions: Value = laptop.get("/v1/auth/sessions").await.json().await.unwrap();
    let phone_login = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false && s["kind"] == "browser")
        .unwrap_or_else(|| panic!("{sessions}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        laptop
            .delete(&format!("/v1/auth/sessions/{phone_login}"))
            .await
            .status(),
        204
    );
    problem(me_with(phone_token).await, 401, "auth.session_expired").await;
    assert_eq!(me_with(laptop_token.clone()).await.status(), 200);

    // Logging out of the laptop ends the laptop's token.
    let r = laptop.post_json("/v1/auth/logout", &json!({})).await;
    assert_eq!(r.status(), 200);
    problem(me_with(laptop_token).await, 401, "auth.session_expired").await;
    app.stop().await;
}
