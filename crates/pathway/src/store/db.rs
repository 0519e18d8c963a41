//! The one place where SQLite and PostgreSQL differ.
//!
//! Business queries are written once with `$N` placeholders against sqlx's `Any`
//! driver; this module owns everything dialect-specific: connection set-up
//! (SQLite pragmas), pool shape, and which migration folder applies.
//!
//! SQLite allows one writer at a time. Rather than letting concurrent writers spin on
//! `SQLITE_BUSY` (and deadlock when a read transaction upgrades to a write), writes go
//! through a pool of exactly one connection, so they queue fairly in the pool, while
//! reads use a separate pool of read-only connections (WAL lets them run beside the
//! writer). On PostgreSQL both are the same pool.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::{Error, Result};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Connection settings for [`Db::connect`].
#[derive(Clone)]
pub struct DbOptions {
    pub url: String,
    /// Upper bound of the PostgreSQL pool and of the SQLite read pool.
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl DbOptions {
    pub fn new(url: impl Into<String>) -> DbOptions {
        DbOptions {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    read: AnyPool,
    write: AnyPool,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub database_reachable: bool,
    pub pending_migrations: usize,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database_reachable && self.pending_migrations == 0
    }
}

impl Db {
    pub async fn connect(options: &DbOptions) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&options.url).ok_or_else(|| {
            Error::invalid(
                "config.database_url",
                "the database URL must start with sqlite:// or postgres://",
            )
        })?;
        match backend {
            Backend::Sqlite => Self::connect_sqlite(options).await,
            Backend::Postgres => Self::connect_postgres(options).await,
        }
    }

    async fn connect_sqlite(options: &DbOptions) -> Result<Db> {
        let url = sqlite_url_creating_file(&options.url)?;
        let connect = AnyConnectOptions::from_str(&url)?;
        // FULL, not NORMAL: with NORMAL a power cut can lose the last commits, and a
        // message acknowledged to a nurse must survive one. Group commits pay for it.
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("pragma journal_mode = wal").await?;
                    conn.execute("pragma synchronous = full").await?;
                    conn.execute("pragma busy_timeout = 10000").await?;
                    Ok(())
                })
            })
            .connect_with(connect.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("pragma busy_timeout = 10000").await?;
                    // A reader that tries to write is a bug; make SQLite refuse it.
                    conn.execute("pragma query_only = on").await?;
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        Ok(Db {
            backend: Backend::Sqlite,
            read,
            write,
        })
    }

    async fn connect_postgres(options: &DbOptions) -> Result<Db> {
        let connect = AnyConnectOptions::from_str(&options.url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(Db {
            backend: Backend::Postgres,
            read: pool.clone(),
            write: pool,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether statements whose best plan depends on their values (a search term's
    /// rarity, an optional filter) should be sent unnamed, so that the database
    /// plans them with those values every time. PostgreSQL swaps a prepared
    /// statement's plan for a generic one after five calls, and the generic plan
    /// can be worse by an order of magnitude; SQLite's plan does not depend on the
    /// values, so re-preparing would only cost.
    pub fn plans_with_values(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Pool for statements that write; on SQLite it holds the single writer connection.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock
    /// is taken at once (waiting up to the busy timeout), because a deferred
    /// transaction that reads and then writes fails with `SQLITE_BUSY`, without
    /// waiting, when another process (say `cordee keys rotate` beside a running
    /// gateway) is writing the same file.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("begin immediate").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        self.backend.migrator().run(&self.write).await?;
        Ok(())
    }

    /// Names of the migrations this build carries, in order (the same in both folders).
    pub fn migration_names(backend: Backend) -> Vec<(i64, String)> {
        backend
            .migrator()
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    pub async fn readiness(&self) -> Readiness {
        if sqlx::query("select 1").execute(&self.read).await.is_err() {
            return Readiness {
                database_reachable: false,
                pending_migrations: usize::MAX,
            };
        }
        let applied: Vec<i64> = sqlx::query_scalar(
            "select version from _sqlx_migrations where success = true order by version",
        )
        .fetch_all(&self.read)
        .await
        .unwrap_or_default();
        let pending = self
            .backend
            .migrator()
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count();
        Readiness {
            database_reachable: true,
            pending_migrations: pending,
        }
    }

    /// Writes a consistent copy of a SQLite database to `to`, which must not exist,
    /// while gateways keep writing (`VACUUM INTO` reads one snapshot of the WAL
    /// database), then checks the copy (`integrity_check`, migrations present) and
    /// makes it private (0600). Returns its size in bytes. PostgreSQL has its own
    /// tools (`pg_dump`, a provider's snapshots): refused there with a clear error.
    pub async fn backup_to(&self, to: &Path) -> Result<u64> {
        if self.backend != Backend::Sqlite {
            return Err(Error::invalid(
                "backup.postgres",
                "cordee backup copies SQLite databases; back up PostgreSQL with pg_dump or your provider's snapshots",
            ));
        }
        if to.exists() {
            return Err(Error::conflict(
                "backup.exists",
                format!(
                    "{} exists already; a backup never overwrites a file",
                    to.display()
                ),
            ));
        }
        let target = to
            .to_str()
            .ok_or_else(|| Error::invalid("backup.path", "the backup path must be valid UTF-8"))?;
        // On the writer connection: readers are `query_only`, which refuses to
        // create the copy. It only reads the source (a snapshot; WAL lets other
        // processes go on writing).
        sqlx::query("vacuum into $1")
            .bind(target)
            .execute(&self.write)
            .await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::Unavailable(format!("cannot restrict the backup: {e}")))?;
        }
        let copy = Db::connect(&DbOptions::new(format!("sqlite://{target}"))).await?;
        let verdict: String = sqlx::query_scalar("pragma integrity_check")
            .fetch_one(&copy.read)
            .await?;
        let pending = copy.readiness().await.pending_migrations;
        copy.close().await;
        if verdict != "ok" || pending > 0 {
            return Err(Error::Unavailable(format!(
                "the backup at {target} failed its check ({verdict}; {pending} migrations missing)"
            )));
        }
        Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
    }

    /// Closes both pools, waiting for connections in use to be returned; SQLite
    /// checkpoints its WAL when the last connection closes.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// `sqlite://path` opens an existing file only; Cordée creates it (and its folder)
/// on first start so that `cordee serve` works with no set-up.
fn sqlite_url_creating_file(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Err(Error::invalid(
            "config.database_url",
            "an in-memory SQLite database would lose every record at restart; give a file path",
        ));
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::invalid(
                "config.database_url",
                format!(
                    "cannot create the folder {} for the SQLite database: {e}",
                    parent.display()
                ),
            )
        })?;
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => format!("sqlite://{path}?{q}"),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = std::env::temp_dir().join(format!("cordee-url-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let out = sqlite_url_creating_file(&url).unwrap();
        assert!(out.ends_with("x.db?mode=rwc"), "{out}");
        assert!(dir.is_dir());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn both_folders_hold_the_same_numbered_migrations() {
        let sqlite = Db::migration_names(Backend::Sqlite);
        let postgres = Db::migration_names(Backend::Postgres);
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite, postgres,
            "migrations/sqlite and migrations/postgres must match"
        );
        let versions: Vec<i64> = sqlite.iter().map(|(v, _)| *v).collect();
        assert_eq!(
            versions,
            (1..=versions.len() as i64).collect::<Vec<_>>(),
            "numbered 0001, 0002, … without gaps"
        );
    }

    #[test]
    fn memory_sqlite_is_refused() {
        assert!(sqlite_url_creating_file("sqlite::memory:").is_err());
    }
}
