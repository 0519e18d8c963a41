#![allow(dead_code)] // shared by many tests; not every test binary uses every helper
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cordee_pathway::testing::TestDatabase;

pub fn cordee() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cordee"));
    // Only what the test sets reaches the binary.
    for (key, _) in std::env::vars() {
        if key.starts_with("CORDEE_") {
            cmd.env_remove(key);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub struct Scratch {
    pub db: TestDatabase,
    pub dir: PathBuf,
}

pub async fn scratch() -> Scratch {
    let db = TestDatabase::fresh().await;
    let dir = db.dir.clone();
    Scratch { db, dir }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `url` until it answers 200 or the deadline passes.
pub async fn wait_ready(url: &str, deadline: Duration) -> Duration {
    let start = Instant::now();
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status() == 200
        {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < deadline,
            "{url} not ready after {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `cordee serve` process on a free port, its output going to a file.
pub struct Running {
    pub child: std::process::Child,
    pub base: String,
    pub log: PathBuf,
}

impl Running {
    pub async fn start(s: &Scratch, extra: &[(&str, &str)]) -> Running {
        let port = free_port();
        let log = s.dir.join(format!("cordee-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = cordee();
        cmd.arg("serve")
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DATA_DIR", &s.dir)
            .env("CORDEE_LISTEN", format!("127.0.0.1:{port}"))
            .env("CORDEE_DEMO", "true")
            .env("CORDEE_LOG", "info")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&format!("{base}/readyz"), Duration::from_secs(30)).await;
        Running { child, base, log }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (after a signal), at most `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < deadline,
                "cordee did not exit within {deadline:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `needle` appears in the output `times` times, at most `deadline`.
    pub async fn wait_output(&self, needle: &str, times: usize, deadline: Duration) {
        let start = Instant::now();
        while self.output().matches(needle).count() < times {
            assert!(
                start.elapsed() < deadline,
                "no {needle:?} ×{times} in the output after {deadline:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Logs in through the PSC sandbox and returns a bearer token.
    pub async fn bearer(&self, persona: &str) -> String {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        let r = client
            .get(format!(
                "{}/v1/auth/login?provider=psc-sandbox&login_hint={persona}",
                self.base
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "login: {}", r.status());
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.base.parse().unwrap();
        let cookies = jar.cookies(&url).unwrap();
        let csrf = cookies
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("cordee_csrf="))
            .unwrap()
            .to_string();
        let token: serde_json::Value = client
            .post(format!("{}/v1/auth/tokens", self.base))
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["token"].as_str().unwrap().to_string()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
