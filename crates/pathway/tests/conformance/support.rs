#![allow(dead_code)]

use cordee_crypto::{Keyring, MasterKeyFile};
use cordee_pathway::store::{Backend, Db, DbOptions, Keys, Store};
use cordee_pathway::testing::TestDatabase;

pub struct Fixture {
    pub store: Store,
    pub db: TestDatabase,
    pub key_text: String,
}

pub async fn fresh_store() -> Fixture {
    let db = TestDatabase::fresh().await;
    let file = MasterKeyFile::generate().unwrap();
    let key_text = file.to_text().to_string();
    let store = open(&db.url, &key_text).await;
    Fixture {
        store,
        db,
        key_text,
    }
}

/// Another store on the same database (a second gateway instance).
pub async fn open(url: &str, key_text: &str) -> Store {
    let handle = Db::connect(&DbOptions::new(url)).await.unwrap();
    handle.migrate().await.unwrap();
    let keyring = Keyring::new(&MasterKeyFile::parse(key_text).unwrap()).unwrap();
    Store::open(
        handle,
        Keys::new(keyring, None),
        cordee_pathway::testing::wall_time_source(),
    )
}

/// Runs raw SQL as an intruder with database access would (tests only).
pub async fn intrude(store: &Store, sql: &'static str) {
    sqlx::raw_sql(sql)
        .execute(store.db().writer())
        .await
        .unwrap();
}

/// Removes the append-only guards, as an intruder would before editing the log.
pub async fn drop_audit_guards(store: &Store) {
    match store.db().backend() {
        Backend::Sqlite => {
            intrude(
                store,
                "drop trigger audit_log_no_update; drop trigger audit_log_no_delete; \
                 drop trigger audit_checkpoints_no_update; drop trigger audit_checkpoints_no_delete;",
            )
            .await
        }
        Backend::Postgres => {
            intrude(
                store,
                "drop trigger audit_log_no_change on audit_log; drop trigger audit_log_no_truncate on audit_log; \
                 drop trigger audit_checkpoints_no_change on audit_checkpoints;",
            )
            .await
        }
    }
}

use cordee_pathway::Millis;
use cordee_pathway::account::{AccountKind, Actor, CptsRole, ProfessionCode};
use cordee_pathway::ids::AccountId;

/// Creates an account row directly (the login flow is tested elsewhere) and returns
/// the actor as a session would present it.
pub async fn account(
    store: &Store,
    name: &str,
    profession: Option<&str>,
    roles: &[CptsRole],
) -> Actor {
    let id = AccountId::new();
    let kind = if profession.is_some() {
        AccountKind::HealthProfessional
    } else {
        AccountKind::Staff
    };
    let national = profession.map(|_| format!("8{:011}", rand_digits()));
    sqlx::query(
        "insert into accounts (id, kind, national_id, provider_id, subject, display_name, profile, cpts_roles, created_at, updated_at, profession_codes) \
         values ($1, $2, $3, 'test', $4, $5, '{}', $6, 0, 0, $7)",
    )
    .bind(id.as_text())
    .bind(kind.as_str())
    .bind(national)
    .bind(id.as_text())
    .bind(name)
    .bind(serde_json::to_string(&roles).unwrap())
    .bind(profession.unwrap_or(""))
    .execute(store.db().writer())
    .await
    .unwrap();
    Actor {
        account_id: id,
        kind,
        profession: profession.and_then(ProfessionCode::parse),
        roles: if roles.is_empty() {
            vec![CptsRole::Member]
        } else {
            roles.to_vec()
        },
        session_id: None,
    }
}

fn rand_digits() -> u64 {
    u64::from(uuid::Uuid::now_v7().as_u128() as u32) * 7 % 100_000_000_000
}

pub fn now() -> Millis {
    cordee_pathway::testing::wall_clock()
}
