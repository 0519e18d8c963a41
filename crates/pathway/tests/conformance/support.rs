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
    Store::open(handle, Keys::new(keyring, None))
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
