//! A real browser for the web client's tests: Debian's Chromium driven through
//! Debian's ChromeDriver (started here on a free port, one per browser), with a fresh
//! profile each time. Nothing sleeps to let time pass: every wait is for a condition,
//! polled with a bounded timeout.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::TestApp;

const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Browser tests take both cores; running them one at a time keeps them from
/// starving each other (and the gateway they talk to).
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone, Copy)]
pub enum Viewport {
    /// 360×640, a phone, emulated as one (touch, device pixel ratio 1).
    Phone,
    /// 1440×900, a desktop window.
    Desktop,
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start(viewport: Viewport) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver ({e}): install Debian's chromium and chromium-driver (scripts/test.sh does)")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        while !http
            .get(format!("{endpoint}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(started.elapsed() < WAIT, "chromedriver did not start");
            tokio::time::sleep(POLL).await;
        }
        let profile =
            std::env::temp_dir().join(format!("cordee-chromium-{}", uuid::Uuid::now_v7()));
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.display()),
            "--lang=fr-FR".into(),
        ];
        let mut options = json!({});
        match viewport {
            Viewport::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 360, "height": 640, "pixelRatio": 1.0, "touch": true }
                });
            }
            Viewport::Desktop => args.push("--window-size=1440,900".into()),
        }
        options["args"] = json!(args);
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&endpoint)
            .await
            .expect("chromedriver refused to start Chromium");
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// Logs in through the real sandbox login, in the browser, and waits for the app.
    pub async fn login(&self, app: &TestApp, persona: &str) {
        self.login_to(app, persona, "/").await;
        self.wait_for("#messages-title").await;
    }

    /// Logs in and lands on `redirect_to` (a path of the gateway).
    pub async fn login_to(&self, app: &TestApp, persona: &str, redirect_to: &str) {
        let provider = match persona {
            "coord-garcia" | "admin-roux" => "staff-sandbox",
            _ => "psc-sandbox",
        };
        self.client
            .goto(&app.url(&format!(
                "/v1/auth/login?provider={provider}&login_hint={persona}&redirect_to={redirect_to}"
            )))
            .await
            .unwrap();
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} within {WAIT:?}: {e}"))
    }

    /// Clicks as a person would, after scrolling the element clear of the phone's
    /// fixed navigation bar (which would otherwise take the click).
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await;
        self.eval(&format!(
            "document.querySelector({}).scrollIntoView({{ block: 'center' }}); return true;",
            json!(css)
        ))
        .await;
        self.wait_for(css).await.click().await.unwrap();
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `condition` (a JavaScript expression) is true.
    pub async fn wait_until(&self, what: &str, condition: &str) {
        let script = format!("return !!({condition});");
        let started = Instant::now();
        loop {
            if self.eval(&script).await == Value::Bool(true) {
                return;
            }
            assert!(started.elapsed() < WAIT, "waited {WAIT:?} for {what}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// How many elements matching `css` contain `text`.
    pub async fn count_text(&self, css: &str, text: &str) -> u64 {
        let script = format!(
            "return [...document.querySelectorAll({})].filter(e => e.textContent.includes({})).length;",
            json!(css),
            json!(text)
        );
        self.eval(&script).await.as_u64().unwrap_or(0)
    }

    pub async fn wait_text(&self, css: &str, text: &str) {
        let condition = format!(
            "[...document.querySelectorAll({})].some(e => e.textContent.includes({}))",
            json!(css),
            json!(text)
        );
        self.wait_until(&format!("{css} containing {text:?}"), &condition)
            .await;
    }

    /// Saves a PNG of the viewport under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// A test that panics never reaches `close()`: ChromeDriver dies with its handle
/// (`kill_on_drop`), but the Chromium it started would live on. Its processes are
/// the ones whose command line names this browser's own profile folder.
impl Drop for Browser {
    fn drop(&mut self) {
        let marker = format!("--user-data-dir={}", self.profile.display());
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let pid = entry.file_name().to_string_lossy().to_string();
                if !pid.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let ours = cmdline
                    .split(|b| *b == 0)
                    .any(|arg| arg == marker.as_bytes());
                if ours {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &pid])
                        .status();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
