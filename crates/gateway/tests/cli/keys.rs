//! Key management and audit verification, as an operator runs them.

use std::os::unix::fs::PermissionsExt;

use cordee_crypto::{Keyring, MasterKeyFile};
use cordee_pathway::Millis;
use cordee_pathway::account::{AccountKind, Actor, CptsRole, ProfessionCode};
use cordee_pathway::audit::{Action, AuditEvent, Outcome, Purpose};
use cordee_pathway::ids::AccountId;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::store::{Db, DbOptions, Keys, NewPatient, Store};

use crate::support::{cordee, run, scratch, stderr, stdout};

pub async fn open_store(url: &str, key_file: &std::path::Path) -> Store {
    let db = Db::connect(&DbOptions::new(url)).await.unwrap();
    db.migrate().await.unwrap();
    let file = MasterKeyFile::parse(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    Store::open(
        db,
        Keys::new(Keyring::new(&file).unwrap(), None),
        cordee_pathway::testing::wall_time_source(),
    )
}

pub async fn gp(store: &Store) -> Actor {
    let id = AccountId::new();
    sqlx::query(
        "insert into accounts (id, kind, national_id, provider_id, subject, display_name, profile, cpts_roles, created_at, updated_at, profession_codes) \
         values ($1, 'health_professional', $2, 'test', $1, 'Dr Test', '{}', '[]', 0, 0, '10')",
    )
    .bind(id.as_text())
    .bind(format!("8{}", &id.0.simple().to_string()[..11]))
    .execute(store.db().writer())
    .await
    .unwrap();
    Actor {
        account_id: id,
        kind: AccountKind::HealthProfessional,
        profession: ProfessionCode::parse("10"),
        roles: vec![CptsRole::Member],
        session_id: None,
    }
}

pub fn identity(name: &str) -> cordee_pathway::patient::Identity {
    IdentityInput {
        ins_matricule: None,
        ins_oid: None,
        birth_name: name.into(),
        first_names: "Paul".into(),
        used_name: None,
        birth_date: "1950-01-01".into(),
        sex: Sex::Male,
        birth_place_code: None,
    }
    .validate(
        IdentityStatus::Provisoire,
        cordee_pathway::testing::wall_clock(),
    )
    .unwrap()
}

#[tokio::test]
async fn keys_init_writes_a_private_file_and_never_overwrites() {
    let s = scratch().await;
    let path = s.dir.join("keys/master.key");
    let out = run(cordee()
        .args(["keys", "init"])
        .env("CORDEE_MASTER_KEY_FILE", &path)
        .env("CORDEE_DATABASE_URL", &s.db.url));
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&path).unwrap();
    let again = run(cordee()
        .args(["keys", "init"])
        .env("CORDEE_MASTER_KEY_FILE", &path)
        .env("CORDEE_DATABASE_URL", &s.db.url));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("refusing to overwrite"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A key file others can read is refused.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let served = run(cordee()
        .args(["audit", "verify"])
        .env("CORDEE_MASTER_KEY_FILE", &path)
        .env("CORDEE_DATABASE_URL", &s.db.url));
    assert!(stderr(&served).contains("chmod 600"), "{}", stderr(&served));
}

#[tokio::test]
async fn rotation_rewraps_every_key_and_the_old_version_can_be_deleted() {
    let s = scratch().await;
    let key = s.dir.join("master.key");
    let env = |c: &mut std::process::Command| {
        c.env("CORDEE_MASTER_KEY_FILE", &key)
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DEMO", "false");
    };
    let mut init = cordee();
    env(init.args(["keys", "init"]));
    assert!(run(&mut init).status.success());
    let store = open_store(&s.db.url, &key).await;
    let doctor = gp(&store).await;
    let mut patients = Vec::new();
    for i in 0..25 {
        let p = store
            .create_patient(
                &doctor,
                NewPatient {
                    identity: identity(&format!("Patient{}", "x".repeat(i % 3 + 1))),
                    status: IdentityStatus::Provisoire,
                    creator_role: None,
                },
                cordee_pathway::testing::wall_clock(),
            )
            .await
            .unwrap();
        patients.push(p.id);
    }
    assert_eq!(store.data_keys_per_version().await.unwrap(), vec![(1, 25)]);

    // Rotate while this store (a running gateway) keeps serving.
    let mut rotate = cordee();
    env(rotate.args(["keys", "rotate", "--retire"]));
    let out = run(&mut rotate);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("rotation complete: 25 data keys rewrapped"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("master key version 1 retired"),
        "{}",
        stdout(&out)
    );
    let file = MasterKeyFile::parse(&std::fs::read_to_string(&key).unwrap()).unwrap();
    assert_eq!(file.versions(), vec![2], "version 1 is gone from the file");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A fresh process with only version 2 reads every patient.
    let fresh = open_store(&s.db.url, &key).await;
    assert_eq!(fresh.data_keys_per_version().await.unwrap(), vec![(2, 25)]);
    for p in &patients {
        assert!(
            fresh
                .get_patient(&doctor, *p, cordee_pathway::testing::wall_clock())
                .await
                .is_ok()
        );
    }
    // Running it again with nothing to do adds version 3 and retires 2.
    let mut again = cordee();
    env(again.args(["keys", "rotate", "--retire"]));
    assert!(run(&mut again).status.success());
    let fresh = open_store(&s.db.url, &key).await;
    assert!(
        fresh
            .get_patient(&doctor, patients[0], cordee_pathway::testing::wall_clock())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn audit_verify_reports_the_first_broken_record() {
    let s = scratch().await;
    let key = s.dir.join("master.key");
    let mut init = cordee();
    init.args(["keys", "init"])
        .env("CORDEE_MASTER_KEY_FILE", &key)
        .env("CORDEE_DATABASE_URL", &s.db.url);
    assert!(run(&mut init).status.success());
    let store = open_store(&s.db.url, &key).await;
    for n in 0..12 {
        store
            .audit(AuditEvent::new(
                Millis(n),
                None,
                Action::KeysRotate,
                Purpose::Care,
                Outcome::Allowed,
            ))
            .await
            .unwrap();
    }
    store.audit_flush().await;
    let verify = || {
        let mut c = cordee();
        c.args(["audit", "verify"])
            .env("CORDEE_MASTER_KEY_FILE", &key)
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DEMO", "false");
        run(&mut c)
    };
    let ok = verify();
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(
        stdout(&ok).contains("intact: 12 records"),
        "{}",
        stdout(&ok)
    );

    let drop_guards = match store.db().backend() {
        cordee_pathway::store::Backend::Sqlite => "drop trigger audit_log_no_update",
        cordee_pathway::store::Backend::Postgres => "drop trigger audit_log_no_change on audit_log",
    };
    sqlx::raw_sql(drop_guards)
        .execute(store.db().writer())
        .await
        .unwrap();
    sqlx::query("update audit_log set action = 'nothing.to.see' where seq = 5")
        .execute(store.db().writer())
        .await
        .unwrap();
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("BROKEN at record #5"),
        "{}",
        stdout(&broken)
    );
}

/// Deleting the newest records together with their checkpoints leaves a chain that
/// verifies; a head kept elsewhere (`cordee audit head`) catches it.
#[tokio::test]
async fn a_witnessed_head_catches_a_truncated_tail() {
    let s = scratch().await;
    let key = s.dir.join("master.key");
    let cmd = |args: &[&str]| {
        let mut c = cordee();
        c.args(args)
            .env("CORDEE_MASTER_KEY_FILE", &key)
            .env("CORDEE_DATABASE_URL", &s.db.url)
            .env("CORDEE_DEMO", "false");
        run(&mut c)
    };
    assert!(cmd(&["keys", "init"]).status.success());
    let store = open_store(&s.db.url, &key).await;
    let append = |from: i64, to: i64| {
        let store = store.clone();
        async move {
            for n in from..to {
                store
                    .audit(AuditEvent::new(
                        Millis(n),
                        None,
                        Action::KeysRotate,
                        Purpose::Care,
                        Outcome::Allowed,
                    ))
                    .await
                    .unwrap();
            }
            store.audit_flush().await;
        }
    };
    append(0, 20).await;
    let head = cmd(&["audit", "head"]);
    assert!(head.status.success(), "{}", stderr(&head));
    let witness = stdout(&head).trim().to_string();
    assert!(witness.starts_with("20:"), "{witness}");
    append(20, 30).await;

    // The tail is cut back below the witness, checkpoints included.
    let guards = match store.db().backend() {
        cordee_pathway::store::Backend::Sqlite => {
            "drop trigger audit_log_no_update; drop trigger audit_log_no_delete; \
             drop trigger audit_checkpoints_no_update; drop trigger audit_checkpoints_no_delete;"
        }
        cordee_pathway::store::Backend::Postgres => {
            "drop trigger audit_log_no_change on audit_log; drop trigger audit_log_no_truncate on audit_log; \
             drop trigger audit_checkpoints_no_change on audit_checkpoints;"
        }
    };
    sqlx::raw_sql(guards)
        .execute(store.db().writer())
        .await
        .unwrap();
    sqlx::raw_sql(
        "delete from audit_log where seq > 15; delete from audit_checkpoints where seq > 15;",
    )
    .execute(store.db().writer())
    .await
    .unwrap();

    let blind = cmd(&["audit", "verify"]);
    assert_eq!(blind.status.code(), Some(0), "{}", stdout(&blind));
    assert!(stdout(&blind).contains("15 records"), "{}", stdout(&blind));
    let witnessed = cmd(&["audit", "verify", "--witness", &witness]);
    assert_eq!(witnessed.status.code(), Some(1), "{}", stdout(&witnessed));
    assert!(
        stdout(&witnessed).contains("BROKEN at record #20: the witnessed record is gone"),
        "{}",
        stdout(&witnessed)
    );
    let garbled = cmd(&["audit", "verify", "--witness", "twenty"]);
    assert!(!garbled.status.success());
    assert!(
        stderr(&garbled).contains("SEQ:HASH"),
        "{}",
        stderr(&garbled)
    );
}
