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
