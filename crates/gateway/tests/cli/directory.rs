//! `cordee directory import` as an operator runs it, and the demo's directory on the
//! first start of `cordee serve`.

use crate::support::{Running, cordee, run, scratch, stderr, stdout};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rpps")
        .join(name)
}

#[tokio::test]
async fn directory_import_prints_its_counts_and_refuses_the_wrong_file() {
    let s = scratch().await;
    let key = s.dir.join("master.key");
    let env = |c: &mut std::process::Command| -> std::process::Output {
        c.env("CORDEE_MASTER_KEY_FILE", &key)
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DEMO", "false");
        run(c)
    };
    assert!(env(cordee().args(["keys", "init"])).status.success());
    // Before the schema exists: a sentence saying what to do.
    let early = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("territoire.txt")));
    assert!(!early.status.success());
    assert!(
        stderr(&early).contains("cordee migrate"),
        "{}",
        stderr(&early)
    );
    assert!(env(cordee().arg("migrate")).status.success());

    let first = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("territoire.txt"))
        .args(["--communes", "59350,59328"]));
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(out.contains("(communes 59328,59350)"), "{out}");
    assert!(out.contains("read             260 lines"), "{out}");
    let again = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("territoire.txt"))
        .args(["--communes", "59328,59350"]));
    let out = stdout(&again);
    assert!(out.contains("new                0"), "{out}");
    assert!(out.contains("updated            0"), "{out}");
    assert!(out.contains("gone               0"), "{out}");
    assert!(!out.contains("kept               0"), "{out}");

    // Malformed lines: listed with their numbers, the rest imported, exit 0.
    let bad = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("lignes_invalides.txt")));
    assert!(bad.status.success());
    let err = stderr(&bad);
    for line in ["line 3:", "line 5:", "line 7:", "line 8:", "line 9:"] {
        assert!(err.contains(line), "{err}");
    }
    assert!(stdout(&bad).contains("malformed          5 lines"));

    // Not the extraction: refused with the missing columns named, non-zero exit.
    let wrong = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("colonnes_manquantes.txt")));
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("\"Code profession\" and \"Code commune (coord. structure)\""),
        "{}",
        stderr(&wrong)
    );
    let typo = env(cordee()
        .args(["directory", "import"])
        .arg(fixture("territoire.txt"))
        .args(["--communes", "59350,Lille"]));
    assert!(!typo.status.success());
    assert!(stderr(&typo).contains("--communes"), "{}", stderr(&typo));
}

#[tokio::test]
async fn the_demo_imports_its_directory_on_first_start() {
    let s = scratch().await;
    let server = Running::start(&s, &[]).await;
    assert!(
        server
            .output()
            .contains("Demo directory: 215 professionals"),
        "{}",
        server.output()
    );
    let token = server.bearer("nurse-bernard").await;
    let found: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/directory?q=lefevre", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["items"][0]["display_name"], "Éloïse LEFÈVRE",
        "{found}"
    );
}
