//! Persistence. `Db` owns the dialect; everything else is written once, with `$N`
//! placeholders, for both SQLite and PostgreSQL. One file per aggregate, each an
//! `impl Store` block.

mod accounts;
mod db;
mod sessions;

pub use accounts::{Account, Identity};
pub use db::{Backend, Db, DbOptions, Readiness};
pub use sessions::RevokeReason;

/// The store the whole application goes through.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Store {
        Store { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
