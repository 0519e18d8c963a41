#![allow(dead_code)] // shared by many tests; not every test binary uses every helper
//! `spawn_app()`: the real gateway on 127.0.0.1:0 against a fresh database, and a
//! client with one helper per endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use cordee_gateway::Gateway;
use cordee_gateway::config::{Layer, Settings};
use cordee_pathway::testing::TestDatabase;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: Client,
    pub db: TestDatabase,
    pub dir: PathBuf,
    /// The running gateway's state (its store), for tests that seed data directly.
    pub state: cordee_gateway::state::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a gateway whose settings `adjust` may change (TLS, limits, …).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Layer)) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn_app_on(listener, adjust).await
}

/// The sandbox's RSA key, made once per test binary and copied into each test's data
/// folder, so that no test pays for RSA key generation.
fn sandbox_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| cordee_gateway::sandbox::keys::generate_pem().unwrap())
}

/// Starts a gateway on a listener the test already bound (when something else, like
/// an identity provider, must know the gateway's address first).
pub async fn spawn_app_on(listener: TcpListener, adjust: impl FnOnce(&mut Layer)) -> TestApp {
    let db = TestDatabase::fresh().await;
    let addr = listener.local_addr().unwrap();
    let key_file = cordee_gateway::sandbox::keys::path(&db.dir);
    if !key_file.exists() {
        std::fs::write(&key_file, sandbox_key()).unwrap();
    }
    let mut layer = Layer {
        database_url: Some(db.url.clone()),
        listen: Some(addr),
        data_dir: Some(db.dir.clone()),
        demo: Some(true),
        log: Some(std::env::var("CORDEE_TEST_LOG").unwrap_or_else(|_| "warn".into())),
        ..Layer::default()
    };
    adjust(&mut layer);
    let tls = layer.tls_cert.is_some();
    let scheme = if tls { "https" } else { "http" };
    if layer.public_url.is_none() {
        layer.public_url = Some(format!("{scheme}://127.0.0.1:{}", addr.port()));
    }
    let settings = Settings::load(layer, None).unwrap();
    cordee_gateway::telemetry::init(settings.log_format, &settings.log);
    let gateway = Gateway::build(settings).await.unwrap();
    let state = gateway.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.run(listener, async {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let dir = db.dir.clone();
    TestApp {
        addr,
        base: format!("{scheme}://127.0.0.1:{}", addr.port()),
        client,
        db,
        dir,
        state,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Logs in through the PSC sandbox (or the staff sandbox for `coord-garcia` and
    /// `admin-roux`) over HTTP, with `login_hint`, following every redirect as a
    /// browser would; returns a client with its own cookie jar.
    pub async fn login(&self, persona: &str) -> User {
        let provider = match persona {
            "coord-garcia" | "admin-roux" => "staff-sandbox",
            _ => "psc-sandbox",
        };
        let jar = Arc::new(Jar::default());
        let client = browser(&jar);
        let last = self.login_with(&client, provider, persona).await;
        assert_eq!(
            last.status(),
            302,
            "login as {persona} failed: {}",
            last.text().await.unwrap_or_default()
        );
        let url: reqwest::Url = self.base.parse().unwrap();
        let cookies = jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let csrf = cookies
            .split("; ")
            .find_map(|c| c.strip_prefix("cordee_csrf="))
            .expect("no cordee_csrf cookie after login")
            .to_string();
        let me: Value = client
            .get(self.url("/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        User {
            client,
            csrf,
            id: me["id"].as_str().unwrap().to_string(),
            national_id: me["national_id"].as_str().unwrap_or_default().to_string(),
            base: self.base.clone(),
        }
    }

    /// Starts a login with `provider` and follows redirects until the gateway's
    /// callback has answered; returns that answer (302 on success, a problem otherwise).
    pub async fn login_with(&self, client: &Client, provider: &str, hint: &str) -> Response {
        let callback = self.until_callback(client, provider, hint).await;
        client.get(callback).send().await.unwrap()
    }

    /// Starts a login and follows the provider's redirects up to — not including —
    /// the gateway's callback; returns the callback URL (with `code` and `state`).
    pub async fn until_callback(
        &self,
        client: &Client,
        provider: &str,
        hint: &str,
    ) -> reqwest::Url {
        let start = format!(
            "{}/v1/auth/login?provider={provider}&login_hint={hint}",
            self.base
        );
        let mut response = client.get(&start).send().await.unwrap();
        for _ in 0..12 {
            assert!(
                response.status().is_redirection(),
                "login stopped at {} with {}",
                response.url(),
                response.status()
            );
            let location = response.headers()["location"].to_str().unwrap().to_string();
            let next = response.url().join(&location).unwrap();
            if next.path() == "/v1/auth/callback"
                && next.port_or_known_default() == Some(self.addr.port())
            {
                return next;
            }
            response = client.get(next).send().await.unwrap();
        }
        panic!("too many redirects while logging in")
    }

    /// Stops the gateway the way SIGTERM does and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// Reads a problem+json response and checks its shape.
pub async fn problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "expected {status} {code}"
    );
    let ctype = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ctype, "application/problem+json");
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// A client that keeps cookies and does not follow redirects, like a browser whose
/// every step the test wants to see.
pub fn browser(jar: &Arc<Jar>) -> Client {
    Client::builder()
        .cookie_provider(Arc::clone(jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A logged-in user: its own cookie jar, and the CSRF token sent with every request.
pub struct User {
    pub client: Client,
    pub csrf: String,
    /// The account id (`id` of `/v1/me`).
    pub id: String,
    pub national_id: String,
    pub base: String,
}

impl User {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap()
    }

    /// A bearer token for this user's account, from `POST /v1/auth/tokens`.
    pub async fn bearer(&self) -> String {
        let r = self
            .post_json("/v1/auth/tokens", &serde_json::json!({}))
            .await;
        assert_eq!(r.status(), 201, "POST /v1/auth/tokens");
        let body: Value = r.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }
}
