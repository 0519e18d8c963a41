#![allow(dead_code)] // shared by many tests; not every test binary uses every helper
//! `spawn_app()`: the real gateway on 127.0.0.1:0 against a fresh database, and a
//! client with one helper per endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;

use cordee_gateway::Gateway;
use cordee_gateway::config::{Layer, Settings};
use cordee_pathway::testing::TestDatabase;
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
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a gateway whose settings `adjust` may change (TLS, limits, …).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Layer)) -> TestApp {
    let db = TestDatabase::fresh().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
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
