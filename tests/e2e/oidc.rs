//! Proof against a real OpenID provider: the npm package `oidc-provider` (certified by
//! the OpenID Foundation), dressed as PSC by tests/oidc/provider.mjs, runs as a child
//! process; the gateway logs in against it over HTTP with its real relying-party code.
//! Attacks a compliant provider cannot produce come from the script's EVIL_MODE, which
//! alters the ID token of the real token response. Every refusal must leave no session.
//!
//! These tests fail — they never skip — when node or the npm packages are missing:
//! `scripts/test.sh` runs `npm ci` in tests/oidc.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use cordee_gateway::config::{ProviderConfig, ProviderKind};
use cordee_gateway::secret::SecretString;
use reqwest::cookie::Jar;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

use crate::auth::count_sessions;
use crate::support::{TestApp, browser, problem, spawn_app_on};

const CLIENT_ID: &str = "cordee";
const CLIENT_SECRET: &str = "cordee-test-secret-cordee-test-secret";

pub struct IdP {
    pub issuer: String,
    _child: tokio::process::Child,
}

#[derive(Clone, Copy)]
struct Options {
    evil: &'static str,
    token_auth: &'static str,
    userinfo_jwt: bool,
    rotate_key: bool,
}

const COMPLIANT: Options = Options {
    evil: "",
    token_auth: "client_secret_basic",
    userinfo_jwt: false,
    rotate_key: false,
};

async fn start_idp(redirect_uri: &str, options: Options) -> IdP {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "tests/oidc/node_modules is missing: run `npm ci` in tests/oidc (scripts/test.sh does)"
    );
    let mut child = tokio::process::Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("REDIRECT_URI", redirect_uri)
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("TOKEN_AUTH", options.token_auth)
        .env("USERINFO_JWT", if options.userinfo_jwt { "1" } else { "0" })
        .env("EVIL_MODE", options.evil)
        .env("ROTATE_KEY", if options.rotate_key { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the OpenID provider tests");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the OpenID provider exited before listening (run `node tests/oidc/provider.mjs` to see why)");
            if line.starts_with("{\"issuer\"") {
                return line;
            }
        }
    })
    .await
    .expect("the OpenID provider did not start within 30 s");
    let issuer = serde_json::from_str::<Value>(&line).unwrap()["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    // Keep draining stdout so that the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    IdP {
        issuer,
        _child: child,
    }
}

fn psc_entry(issuer: &str, token_auth: &str) -> ProviderConfig {
    ProviderConfig {
        id: "psc".into(),
        name: "Pro Santé Connect (test)".into(),
        kind: ProviderKind::Psc,
        issuer: issuer.into(),
        // None: kind psc defaults to {issuer}/.well-known/wallet-openid-configuration.
        discovery_url: None,
        client_id: CLIENT_ID.into(),
        client_secret: Some(SecretString::new(CLIENT_SECRET)),
        client_secret_file: None,
        token_auth: Some(token_auth.into()),
        scopes: None,
        acr_values: Some("eidas1".into()),
        id_token_algs: None,
        role_claim: None,
        redirect_uri: None,
        post_logout_redirect_uri: None,
        client_cert_file: None,
        client_key_file: None,
    }
}

async fn gateway_with(options: Options) -> (TestApp, IdP) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let idp = start_idp(
        &format!("http://127.0.0.1:{port}/v1/auth/callback"),
        options,
    )
    .await;
    let entry = psc_entry(&idp.issuer, options.token_auth);
    let app = spawn_app_on(listener, |l| l.providers = vec![entry]).await;
    (app, idp)
}

#[tokio::test]
async fn a_psc_shaped_login_against_a_certified_provider() {
    let (app, idp) = gateway_with(COMPLIANT).await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let r = app.login_with(&client, "psc", "nurse").await;
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    let me: Value = client
        .get(app.url("/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["national_id"], "810101010109");
    assert_eq!(me["kind"], "health_professional");
    assert_eq!(me["profession"]["label"], "Infirmier");
    assert_eq!(count_sessions(&app).await, 1);

    // RP-initiated logout points at the provider's end_session_endpoint.
    let csrf = {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = app.base.parse().unwrap();
        let all = jar.cookies(&url).unwrap().to_str().unwrap().to_string();
        all.split("; ")
            .find_map(|c| c.strip_prefix("cordee_csrf=").map(str::to_string))
            .unwrap()
    };
    let r = client
        .post(app.url("/v1/auth/logout"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let end = reqwest::Url::parse(body["end_session_url"].as_str().unwrap()).unwrap();
    assert!(
        end.as_str()
            .starts_with(&format!("{}/session/end", idp.issuer)),
        "{end}"
    );
    let q: std::collections::HashMap<_, _> = end.query_pairs().into_owned().collect();
    assert!(q.contains_key("id_token_hint") && q.contains_key("state"));
    assert_eq!(q["post_logout_redirect_uri"], format!("{}/", app.base));
    // The provider accepts the request (it answers with its logout confirmation page).
    assert_eq!(client.get(end).send().await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn client_secret_post_and_a_signed_userinfo() {
    let (app, _idp) = gateway_with(Options {
        token_auth: "client_secret_post",
        userinfo_jwt: true,
        ..COMPLIANT
    })
    .await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let r = app.login_with(&client, "psc", "gp").await;
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    let me: Value = client
        .get(app.url("/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["national_id"], "810100000017");
    assert_eq!(me["display_name"], "CLAIRE EXEMPLE");
    assert_eq!(me["specialty"]["code"], "SM54");
    app.stop().await;
}

#[tokio::test]
async fn a_key_rotation_is_picked_up_from_an_unknown_kid() {
    let (app, _idp) = gateway_with(Options {
        rotate_key: true,
        ..COMPLIANT
    })
    .await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    // Discovery fetched the keys without test-key-2; the ID token is signed with it.
    let r = app.login_with(&client, "psc", "nurse").await;
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    assert_eq!(count_sessions(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_professional_without_profession_gets_an_account_without_clinical_rights() {
    let (app, _idp) = gateway_with(COMPLIANT).await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    assert_eq!(
        app.login_with(&client, "psc", "noprofession")
            .await
            .status(),
        302
    );
    let me: Value = client
        .get(app.url("/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "health_professional");
    assert_eq!(me["profession"], Value::Null);
    assert_eq!(me["exercices"], serde_json::json!([]));
    app.stop().await;
}

/// Logs in as `hint` and expects the callback to be refused with `code`, leaving no
/// session behind.
async fn expect_refusal(app: &TestApp, hint: &str, status: u16, code: &str) {
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let r = app.login_with(&client, "psc", hint).await;
    let body = problem(r, status, code).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("eyJ"),
        "a token leaked into the problem: {detail}"
    );
    assert_eq!(
        count_sessions(app).await,
        0,
        "{code}: a session was created"
    );
    let r = client.get(app.url("/v1/me")).send().await.unwrap();
    problem(r, 401, "auth.required").await;
}

async fn refused_when(evil: &'static str, code: &str) {
    let (app, _idp) = gateway_with(Options { evil, ..COMPLIANT }).await;
    expect_refusal(&app, "nurse", 401, code).await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    refused_when("wrong_nonce", "auth.id_token_nonce").await;
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    refused_when("wrong_issuer", "auth.id_token_issuer").await;
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    refused_when("wrong_audience", "auth.id_token_audience").await;
}

#[tokio::test]
async fn an_untrusted_extra_audience_is_refused() {
    refused_when("extra_audience", "auth.id_token_audience").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    refused_when("expired", "auth.id_token_expired").await;
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    refused_when("bad_signature", "auth.id_token_signature").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_real_kid_is_refused() {
    refused_when("forged_same_kid", "auth.id_token_signature").await;
}

#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_refused_after_a_key_refresh() {
    refused_when("foreign_key", "auth.id_token_signature").await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    refused_when("alg_none", "auth.id_token_alg").await;
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    refused_when("hs256_client_secret", "auth.id_token_alg").await;
}

#[tokio::test]
async fn a_missing_or_wrong_acr_is_refused() {
    // A compliant provider may log someone in at a lower level than asked.
    let (app, _idp) = gateway_with(COMPLIANT).await;
    expect_refusal(&app, "nurse-noacr", 401, "auth.acr_insufficient").await;
    expect_refusal(&app, "nurse-lowacr", 401, "auth.acr_insufficient").await;
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let (app, _idp) = gateway_with(COMPLIANT).await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let first = app.until_callback(&client, "psc", "nurse").await;
    assert_eq!(
        client.get(first.clone()).send().await.unwrap().status(),
        302
    );
    assert_eq!(count_sessions(&app).await, 1);

    // The same callback again: its state was used up.
    let r = client.get(first.clone()).send().await.unwrap();
    problem(r, 400, "auth.state_mismatch").await;

    // The used code under a fresh state of this browser: the provider refuses it.
    let code = first
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let fresh = app.until_callback(&client, "psc", "nurse").await;
    let mut replay = fresh.clone();
    let pairs: Vec<(String, String)> = fresh
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                code.clone()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    replay.query_pairs_mut().clear().extend_pairs(pairs);
    let r = client.get(replay).send().await.unwrap();
    problem(r, 401, "auth.code_rejected").await;
    assert_eq!(count_sessions(&app).await, 1, "no second session");
    app.stop().await;
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_refused() {
    let (app, idp) = gateway_with(COMPLIANT).await;
    // Another relying party's login at the same provider yields a code...
    let outsider = browser(&Arc::new(Jar::default()));
    let verifier = "a".repeat(50);
    let challenge = {
        use base64::Engine;
        let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
    };
    let mut url = reqwest::Url::parse(&format!("{}/auth", idp.issuer)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "other-client")
        .append_pair("redirect_uri", &app.url("/v1/auth/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid scope_all")
        .append_pair("state", "theirs")
        .append_pair("nonce", "theirs")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("login_hint", "nurse");
    let mut r = outsider.get(url).send().await.unwrap();
    let foreign_code = loop {
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let next = r.url().join(&location).unwrap();
        if next.path() == "/v1/auth/callback" {
            break next
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
        }
        r = outsider.get(next).send().await.unwrap();
    };
    // ...which, slipped into a login of ours, the provider will not redeem for us.
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let ours = app.until_callback(&client, "psc", "nurse").await;
    let pairs: Vec<(String, String)> = ours
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                foreign_code.clone()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut injected = ours.clone();
    injected.query_pairs_mut().clear().extend_pairs(pairs);
    problem(
        client.get(injected).send().await.unwrap(),
        401,
        "auth.code_rejected",
    )
    .await;
    assert_eq!(count_sessions(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_state_mismatch_is_refused() {
    let (app, _idp) = gateway_with(COMPLIANT).await;
    let jar = Arc::new(Jar::default());
    let client = browser(&jar);
    let callback = app.until_callback(&client, "psc", "nurse").await;
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut tampered = callback.clone();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    problem(
        client.get(tampered).send().await.unwrap(),
        400,
        "auth.state_mismatch",
    )
    .await;
    assert_eq!(count_sessions(&app).await, 0);
    // The genuine state still works: the refusal was about the state alone.
    assert_eq!(client.get(callback).send().await.unwrap().status(), 302);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let entry = psc_entry(&issuer, "client_secret_basic");
    let app = spawn_app_on(listener, |l| l.providers = vec![entry]).await;
    let r = app.get("/v1/auth/login?provider=psc").await;
    problem(r, 502, "auth.provider_unavailable").await;
    app.stop().await;
}
