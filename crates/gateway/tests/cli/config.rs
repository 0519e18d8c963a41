use crate::support::{cordee, run, scratch, stderr, stdout};

const SETTINGS: &[&str] = &[
    "CORDEE_DATABASE_URL",
    "CORDEE_DATABASE_MAX_CONNECTIONS",
    "CORDEE_LISTEN",
    "CORDEE_PUBLIC_URL",
    "CORDEE_TLS_CERT",
    "CORDEE_TLS_KEY",
    "CORDEE_BEHIND_PROXY",
    "CORDEE_MASTER_KEY_FILE",
    "CORDEE_DEMO",
    "CORDEE_DEMO_ALLOW_PUBLIC",
    "CORDEE_DATA_DIR",
    "CORDEE_LOG_FORMAT",
    "CORDEE_LOG",
    "CORDEE_METRICS_LISTEN",
    "CORDEE_BODY_LIMIT",
    "CORDEE_ATTACHMENT_LIMIT",
    "CORDEE_SHUTDOWN_GRACE",
    "CORDEE_SESSION_IDLE_TIMEOUT",
    "CORDEE_SESSION_LIFETIME",
    "CORDEE_LOGIN_RATE_LIMIT",
    "CORDEE_BREAK_GLASS_DURATION",
    "CORDEE_MESSAGE_LIMIT",
    "CORDEE_SEND_RATE_LIMIT",
    "CORDEE_CONFIG",
];

#[test]
fn serve_help_documents_every_setting() {
    let out = run(cordee().args(["serve", "--help"]));
    assert!(out.status.success());
    let help = stdout(&out);
    for name in SETTINGS {
        assert!(
            help.contains(name),
            "`cordee serve --help` does not mention {name}"
        );
    }
}

#[tokio::test]
async fn plaintext_on_a_public_address_is_refused_before_binding() {
    let s = scratch().await;
    let out = run(cordee()
        .arg("serve")
        .env("CORDEE_LISTEN", "0.0.0.0:0")
        .env("CORDEE_DEMO", "false")
        .env("CORDEE_MASTER_KEY_FILE", s.dir.join("none.key"))
        .env("CORDEE_DATABASE_URL", &s.db.url));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("CORDEE_LISTEN")
            && err.contains("loopback")
            && err.contains("CORDEE_TLS_CERT"),
        "{err}"
    );
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one sentence expected: {err}"
    );
}

#[tokio::test]
async fn an_unknown_key_in_the_config_file_is_refused() {
    let s = scratch().await;
    let file = s.dir.join("cordee.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out = run(cordee().args(["serve", "--config"]).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cordee.toml") && err.contains("lisen"),
        "{err}"
    );
}

#[tokio::test]
async fn a_malformed_setting_names_itself() {
    let out = run(cordee().arg("serve").env("CORDEE_LISTEN", "not-an-address"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--listen"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_production_config_without_a_key_is_refused() {
    let s = scratch().await;
    let file = s.dir.join("cordee.toml");
    std::fs::write(&file, format!("database_url = \"{}\"\n", s.db.url)).unwrap();
    let out = run(cordee().args(["serve", "--config"]).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CORDEE_MASTER_KEY_FILE"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn migrate_applies_and_exits() {
    let s = scratch().await;
    let out = run(cordee()
        .arg("migrate")
        .env("CORDEE_DATABASE_URL", &s.db.url)
        .env("CORDEE_DATA_DIR", &s.dir));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 pending"), "{}", stdout(&out));
}
