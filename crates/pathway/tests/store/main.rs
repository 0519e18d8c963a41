//! The store conformance suite: scripted stories run against whichever database the
//! environment selects (SQLite by default, PostgreSQL with CORDEE_TEST_POSTGRES_URL).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod accounts_sessions;

use cordee_pathway::store::{Db, DbOptions, Store};
use cordee_pathway::testing::TestDatabase;

pub async fn fresh_store() -> (Store, TestDatabase) {
    let db = TestDatabase::fresh().await;
    let conn = Db::connect(&DbOptions::new(db.url.clone())).await.unwrap();
    conn.migrate().await.unwrap();
    (Store::new(conn), db)
}
