//! Fresh databases for tests: a SQLite file in a new temporary folder by default, or
//! a new PostgreSQL database when `CORDEE_TEST_POSTGRES_URL` names a server (the test
//! script sets it for the PostgreSQL pass). A PostgreSQL URL that does not answer is
//! an error, never a silent fall-back to SQLite.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Connection};

pub const POSTGRES_ENV: &str = "CORDEE_TEST_POSTGRES_URL";

/// The system's time, for tests and benchmarks that play the gateway's part (the
/// crate itself never reads the clock).
pub fn wall_clock() -> crate::Millis {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    crate::Millis(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
}

/// A [`crate::time::TimeSource`] reading the system's time, for stores opened by tests.
pub fn wall_time_source() -> crate::time::TimeSource {
    crate::time::TimeSource::new(wall_clock)
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub dir: PathBuf,
    pub backend: crate::store::Backend,
}

impl TestDatabase {
    pub async fn fresh() -> TestDatabase {
        sqlx::any::install_default_drivers();
        let dir =
            std::env::temp_dir().join(format!("cordee-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic_free_abort(&format!("temp dir: {e}")));
        match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("cordee_test_{}", uuid::Uuid::now_v7().simple());
                let options = AnyConnectOptions::from_str(&admin_url).unwrap_or_else(|e| {
                    panic_free_abort(&format!("{POSTGRES_ENV} is not a URL: {e}"))
                });
                let mut conn = options.connect().await.unwrap_or_else(|e| {
                    panic_free_abort(&format!(
                        "{POSTGRES_ENV} is set but PostgreSQL does not answer: {e}"
                    ))
                });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic_free_abort(&format!("create database: {e}")));
                let _ = conn.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    dir,
                    backend: crate::store::Backend::Postgres,
                }
            }
            _ => TestDatabase {
                url: format!("sqlite://{}/cordee.db", dir.display()),
                dir,
                backend: crate::store::Backend::Sqlite,
            },
        }
    }
}

/// Test set-up failures stop the test with a clear message.
#[allow(clippy::panic)]
fn panic_free_abort(message: &str) -> ! {
    panic!("{message}")
}
