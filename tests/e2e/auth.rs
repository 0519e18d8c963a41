//! Logging in through the PSC sandbox over real HTTP, and what sessions allow.

use std::sync::Arc;

use reqwest::cookie::Jar;
use serde_json::{Value, json};

use crate::support::{TestApp, browser, problem, spawn_app, spawn_app_with};

pub async fn count_sessions(app: &TestApp) -> i64 {
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn nurse_bernard_logs_in_and_me_shows_an_infirmiere() {
    let app = spawn_app().await;
    let nurse = app.login("nurse-bernard").await;
    let r = nurse.get("/v1/me").await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["id"], nurse.id.as_str());
    assert_eq!(me["national_id"], "810001001030");
    assert_eq!(me["kind"], "health_professional");
    assert_eq!(me["display_name"], "SOPHIE BERNARD");
    assert_eq!(
        me["profession"],
        json!({ "code": "60", "label": "Infirmier" })
    );
    assert_eq!(me["specialty"], Value::Null);
    assert_eq!(me["cpts_roles"], json!(["member"]));
    assert_eq!(
        me["exercices"][0]["activities"][0]["mode"]["label"],
        "Libéral"
    );
    assert_eq!(me["active_exercice"], 0);
    assert_eq!(count_sessions(&app).await, 1);

    // The session token is stored only as its SHA-256.
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let stored: String = sqlx::query_scalar("select token_hash from sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(stored.len(), 64);
    assert!(stored.chars().all(|c| c.is_ascii_hexdigit()));
    app.stop().await;
}

#[tokio::test]
async fn a_general_practitioner_has_a_specialty() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let me: Value = gp.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["profession"]["code"], "10");
    assert_eq!(
        me["specialty"],
        json!({ "code": "SM54", "label": "Médecine générale" })
    );
    assert_eq!(me["national_id"], gp.national_id.as_str());
    assert!(gp.national_id.starts_with('8') && gp.national_id.len() == 12);
    app.stop().await;
}

#[tokio::test]
async fn login_sets_the_promised_cookies_and_lands_on_redirect_to() {
    let app = spawn_app().await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let r = client
        .get(app.url("/v1/auth/login?provider=psc-sandbox&login_hint=gp-martin&redirect_to=/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let flow_cookie = set_cookies(&r).join("\n");
    assert!(flow_cookie.contains("cordee_login=") && flow_cookie.contains("HttpOnly"));
    let to_provider = r.headers()["location"].to_str().unwrap().to_string();
    for part in [
        "code_challenge_method=S256",
        "acr_values=eidas1",
        "login_hint=gp-martin",
        "nonce=",
        "state=",
        "scope=openid+scope_all",
    ] {
        assert!(to_provider.contains(part), "{to_provider} lacks {part}");
    }
    let r = client.get(&to_provider).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    let r = client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/v1/me");
    let cookies = set_cookies(&r);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("cordee_session="))
        .unwrap();
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("cordee_csrf="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        !csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax"),
        "{csrf}"
    );
    // Plain HTTP on loopback: Secure would make the browser drop them.
    assert!(!session.contains("Secure"));
    let r = client.get(app.url("/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn without_a_session_routes_answer_401() {
    let app = spawn_app().await;
    problem(app.get("/v1/me").await, 401, "auth.required").await;
    let r = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    problem(r, 401, "auth.required").await;
    let r = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth("A".repeat(43))
        .send()
        .await
        .unwrap();
    problem(r, 401, "auth.required").await;
    app.stop().await;
}

#[tokio::test]
async fn the_active_exercice_follows_the_choice_of_the_session() {
    let app = spawn_app().await;
    let physio = app.login("physio-moreau").await;
    let me: Value = physio.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["exercices"].as_array().unwrap().len(), 2);
    assert_eq!(me["profession"]["code"], "70");
    let r = physio
        .put_json("/v1/me/exercice", &json!({ "index": 1 }))
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        me["profession"],
        json!({ "code": "80", "label": "Pédicure-podologue" })
    );
    // Remembered by the session, and by a bearer token minted from it.
    let me: Value = physio.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["active_exercice"], 1);
    let token = physio.bearer().await;
    let me: Value = reqwest::Client::new()
        .get(app.url("/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["profession"]["code"], "80");
    let r = physio
        .put_json("/v1/me/exercice", &json!({ "index": 2 }))
        .await;
    problem(r, 422, "me.exercice_unknown").await;

    let gp = app.login("gp-dubois").await;
    let r = gp
        .put_json("/v1/me/exercice", &json!({ "index": 0, "activity": 1 }))
        .await;
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["active_activity"], 1);
    assert_eq!(me["exercices"][0]["activities"][1]["mode"]["code"], "S");
    let r = gp
        .put_json("/v1/me/exercice", &json!({ "index": 0, "activity": 2 }))
        .await;
    problem(r, 422, "me.exercice_unknown").await;
    app.stop().await;
}

#[tokio::test]
async fn staff_log_in_with_their_role_and_no_profession() {
    let app = spawn_app().await;
    let coord = app.login("coord-garcia").await;
    let me: Value = coord.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["national_id"], Value::Null);
    assert_eq!(me["profession"], Value::Null);
    assert_eq!(me["exercices"], json!([]));
    assert_eq!(me["cpts_roles"], json!(["coordinator"]));
    let r = coord
        .put_json("/v1/me/exercice", &json!({ "index": 0 }))
        .await;
    problem(r, 422, "me.exercice_unknown").await;
    let admin = app.login("admin-roux").await;
    let me: Value = admin.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["cpts_roles"], json!(["admin"]));
    assert_ne!(admin.id, coord.id);
    app.stop().await;
}

#[tokio::test]
async fn login_refuses_open_redirects_and_unknown_providers() {
    let app = spawn_app().await;
    for target in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil",
    ] {
        let r = app
            .client
            .get(app.url("/v1/auth/login"))
            .query(&[("provider", "psc-sandbox"), ("redirect_to", target)])
            .send()
            .await
            .unwrap();
        problem(r, 400, "auth.redirect_invalid").await;
    }
    problem(
        app.get("/v1/auth/login?provider=nope").await,
        400,
        "auth.provider_unknown",
    )
    .await;
    problem(
        app.get("/v1/auth/login").await,
        400,
        "request.invalid_query",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn callbacks_that_do_not_match_a_login_of_this_browser_are_refused() {
    let app = spawn_app().await;
    // A made-up state.
    let r = app
        .get("/v1/auth/callback?state=made-up&code=whatever")
        .await;
    problem(r, 400, "auth.state_mismatch").await;

    // A genuine callback URL, opened by another browser (no flow cookie): refused.
    let jar = Arc::new(Jar::default());
    let victim = browser(&jar);
    let r = victim
        .get(app.url("/v1/auth/login?provider=psc-sandbox&login_hint=gp-martin"))
        .send()
        .await
        .unwrap();
    let r = victim
        .get(r.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    let attacker = browser(&Arc::new(Jar::default()));
    problem(
        attacker.get(&callback).send().await.unwrap(),
        400,
        "auth.state_mismatch",
    )
    .await;
    assert_eq!(count_sessions(&app).await, 0);

    // The rightful browser succeeds once; replaying the same callback fails.
    assert_eq!(victim.get(&callback).send().await.unwrap().status(), 302);
    let r = victim.get(&callback).send().await.unwrap();
    problem(r, 400, "auth.state_mismatch").await;
    assert_eq!(count_sessions(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_home_page_is_the_web_client_and_the_personas_and_providers_are_listed() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let script = page
        .split("<script type=\"module\" src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the shell loads the client");
    let asset = app.get(script).await;
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let stale = script.replace("/assets/", "/assets/0");
    assert_eq!(
        app.get(&stale).await.status(),
        404,
        "an old build id is not served"
    );
    let personas: Value = app.get("/sandbox/personas").await.json().await.unwrap();
    assert!(
        personas
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["hint"] == "nurse-bernard" && p["provider"] == "psc-sandbox")
    );
    let providers: Value = app.get("/v1/auth/providers").await.json().await.unwrap();
    assert_eq!(
        providers,
        json!([
            { "id": "psc-sandbox", "name": "Pro Santé Connect (bac à sable)", "kind": "psc" },
            { "id": "staff-sandbox", "name": "Équipe CPTS (bac à sable)", "kind": "oidc" },
        ])
    );
    app.stop().await;
}

#[tokio::test]
async fn the_sandbox_is_shaped_like_psc() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/sandbox/psc/.well-known/wallet-openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}/sandbox/psc", app.base));
    assert_eq!(doc["acr_values_supported"], json!(["eidas1"]));
    assert_eq!(
        app.get("/sandbox/psc/.well-known/openid-configuration")
            .await
            .status(),
        404,
        "PSC has no discovery at the standard path"
    );
    assert_eq!(
        app.get("/sandbox/staff/.well-known/openid-configuration")
            .await
            .status(),
        200
    );
    let jwks: Value = app.get("/sandbox/psc/jwks").await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0]["kid"].is_string());
    // Without login_hint: the persona picker.
    let r = app.get("/v1/auth/login?provider=psc-sandbox").await;
    let picker = app
        .client
        .get(r.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for hint in ["gp-martin", "nurse-bernard", "midwife-leroy"] {
        assert!(picker.contains(&format!("login_hint={hint}")), "{hint}");
    }
    assert!(!picker.contains("coord-garcia"));
    app.stop().await;
}

#[tokio::test]
async fn outside_demo_mode_there_is_no_sandbox() {
    let app = spawn_app_with(|l| {
        let key = l.data_dir.clone().unwrap().join("master.key");
        cordee_gateway::keys::init(&key).unwrap();
        l.demo = Some(false);
        l.master_key_file = Some(key);
    })
    .await;
    assert_eq!(
        app.get("/sandbox/psc/.well-known/wallet-openid-configuration")
            .await
            .status(),
        404
    );
    let providers: Value = app.get("/v1/auth/providers").await.json().await.unwrap();
    assert_eq!(providers, json!([]));
    problem(
        app.get("/v1/auth/login?provider=psc-sandbox").await,
        400,
        "auth.provider_unknown",
    )
    .await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/v1/auth/login"]["get"].is_object());
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| !p.starts_with("/sandbox"))
    );
    app.stop().await;
}

#[tokio::test]
async fn openapi_documents_the_auth_routes() {
    let app = spawn_app().await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/v1/auth/providers", "get"),
        ("/v1/auth/login", "get"),
        ("/v1/auth/callback", "get"),
        ("/v1/auth/tokens", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/auth/sessions", "get"),
        ("/v1/auth/sessions/{id}", "delete"),
        ("/v1/me", "get"),
        ("/v1/me/exercice", "put"),
        ("/", "get"),
        ("/sandbox/{idp}/token", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_callback_naming_another_issuer_is_refused() {
    // RFC 9207: the `iss` of the authorization response must be the provider the
    // login started with (mix-up attack defence).
    let app = spawn_app().await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let callback = app
        .until_callback(&client, "psc-sandbox", "gp-martin")
        .await;
    assert!(callback.query_pairs().any(|(k, _)| k == "iss"));
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "iss" {
                "https://evil.example".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut mixed_up = callback.clone();
    mixed_up.query_pairs_mut().clear().extend_pairs(pairs);
    problem(
        client.get(mixed_up).send().await.unwrap(),
        401,
        "auth.id_token_issuer",
    )
    .await;
    assert_eq!(count_sessions(&app).await, 0);
    app.stop().await;
}
