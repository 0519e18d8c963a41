//! Persistence. `Db` owns the dialect; everything else is written once, with `$N`
//! placeholders, for both SQLite and PostgreSQL. One file per aggregate, each an
//! `impl Store` block.

mod audit;
mod db;
mod keys;

use std::sync::Arc;

pub use audit::AuditWriter;
pub use db::{Backend, Db, DbOptions, Readiness};
pub use keys::{KeyringLoader, Keys, RewrapProgress};

/// The store the whole application goes through.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    keys: Arc<Keys>,
    audit: AuditWriter,
}

impl Store {
    /// Opens the store and starts its audit writer (needs a Tokio runtime).
    pub fn open(db: Db, keys: Keys) -> Store {
        let keys = Arc::new(keys);
        let audit = AuditWriter::start(db.clone(), Arc::clone(&keys));
        Store { db, keys, audit }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Flushes the audit writer (final checkpoint) and closes the database.
    pub async fn close(&self) {
        self.audit_flush().await;
        self.db.close().await;
    }
}
