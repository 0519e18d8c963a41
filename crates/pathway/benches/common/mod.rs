//! What both store benchmarks share: a fresh store on the database the environment
//! names (as the conformance suite does), accounts inserted directly, and the few
//! statistics the tables print.

#![allow(dead_code)]

use std::str::FromStr;
use std::time::Duration;

use cordee_crypto::{Keyring, MasterKeyFile};
use cordee_pathway::account::{AccountKind, Actor, CptsRole, ProfessionCode};
use cordee_pathway::ids::AccountId;
use cordee_pathway::store::{Backend, Db, DbOptions, Keys, Store};
use cordee_pathway::testing::{POSTGRES_ENV, TestDatabase};
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// A store on a fresh database; [`Bench::finish`] removes the database again.
pub struct Bench {
    pub store: Store,
    pub db: TestDatabase,
}

impl Bench {
    pub async fn open() -> Bench {
        let db = TestDatabase::fresh().await;
        let handle = Db::connect(&DbOptions::new(&db.url)).await.unwrap();
        handle.migrate().await.unwrap();
        let keyring = Keyring::new(&MasterKeyFile::generate().unwrap()).unwrap();
        let store = Store::open(
            handle,
            Keys::new(keyring, None),
            cordee_pathway::testing::wall_time_source(),
        );
        Bench { store, db }
    }

    pub fn backend(&self) -> Backend {
        self.store.db().backend()
    }

    /// Closes the store and drops the PostgreSQL database or the SQLite folder.
    pub async fn finish(self) {
        self.store.close().await;
        match self.db.backend {
            Backend::Sqlite => {
                let _ = std::fs::remove_dir_all(&self.db.dir);
            }
            Backend::Postgres => {
                let admin = std::env::var(POSTGRES_ENV).unwrap();
                let name = self.db.url.rsplit_once('/').unwrap().1.to_string();
                let mut conn = AnyConnectOptions::from_str(&admin)
                    .unwrap()
                    .connect()
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name}"
                )))
                .execute(&mut conn)
                .await
                .unwrap();
                let _ = conn.close().await;
                let _ = std::fs::remove_dir_all(&self.db.dir);
            }
        }
    }
}

/// Creates an account row directly (login is not what is measured) and returns the
/// actor a session would present.
pub async fn account(store: &Store, name: &str, profession: Option<&str>) -> Actor {
    let id = AccountId::new();
    let kind = if profession.is_some() {
        AccountKind::HealthProfessional
    } else {
        AccountKind::Staff
    };
    let national = profession.map(|_| format!("8{:011}", id.0.as_u128() % 100_000_000_000));
    sqlx::query(
        "insert into accounts (id, kind, national_id, provider_id, subject, display_name, profile, cpts_roles, created_at, updated_at, profession_codes) \
         values ($1, $2, $3, 'bench', $4, $5, '{}', '[]', 0, 0, $6)",
    )
    .bind(id.as_text())
    .bind(kind.as_str())
    .bind(national)
    .bind(id.as_text())
    .bind(name)
    .bind(profession.unwrap_or(""))
    .execute(store.db().writer())
    .await
    .unwrap();
    Actor {
        account_id: id,
        kind,
        profession: profession.and_then(ProfessionCode::parse),
        roles: vec![CptsRole::Member],
        session_id: None,
    }
}

/// The value below which `q` of the samples fall (nearest rank); sorts `samples`.
pub fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

pub fn median_f64(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// A setting from the environment, or its default.
pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
