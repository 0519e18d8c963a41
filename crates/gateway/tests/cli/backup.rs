//! `cordee backup`: a checked copy of a live SQLite database, readable with the key.

use std::os::unix::fs::PermissionsExt;

use cordee_pathway::patient::IdentityStatus;
use cordee_pathway::store::{Backend, NewPatient};

use crate::keys::{gp, identity, open_store};
use crate::support::{cordee, run, scratch, stderr, stdout};

#[tokio::test]
async fn backup_copies_a_live_database_that_opens_with_the_key() {
    let s = scratch().await;
    let key = s.dir.join("master.key");
    let copy = s.dir.join("copy.db");
    let env = |c: &mut std::process::Command| -> std::process::Output {
        c.env("CORDEE_MASTER_KEY_FILE", &key)
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DEMO", "false");
        run(c)
    };
    assert!(env(cordee().args(["keys", "init"])).status.success());
    let store = open_store(&s.db.url, &key).await;
    let doctor = gp(&store).await;
    let patient = store
        .create_patient(
            &doctor,
            NewPatient {
                identity: identity("Sauvegarde"),
                status: IdentityStatus::Provisoire,
                creator_role: None,
            },
            cordee_pathway::testing::wall_clock(),
        )
        .await
        .unwrap();

    // The store stays open (a running gateway) while the backup is taken.
    let out = env(cordee().args(["backup", "--to"]).arg(&copy));
    if s.db.backend == Backend::Postgres {
        assert!(!out.status.success());
        assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
        assert!(!copy.exists());
        return;
    }
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("keep a copy of that key"),
        "{}",
        stdout(&out)
    );
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // The copy opens with the same key and holds the patient, sealed and readable.
    let restored = open_store(&format!("sqlite://{}", copy.display()), &key).await;
    let found = restored
        .get_patient(&doctor, patient.id, cordee_pathway::testing::wall_clock())
        .await
        .unwrap();
    assert_eq!(found.identity.birth_name, "Sauvegarde");

    // Never over an existing file.
    restored.db().close().await;
    let again = env(cordee().args(["backup", "--to"]).arg(&copy));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("never overwrites"),
        "{}",
        stderr(&again)
    );
}
