//! Persistence. `Db` owns the dialect; the rest is written once for both databases.

mod db;

pub use db::{Backend, Db, DbOptions, Readiness};
