//! Why the store uses sqlx's `Any` driver: the same real query (the latest 50
//! messages of one conversation among 100,000 rows, with their sealed bodies) through
//! `AnyPool` and through the native pool of the database, alternating.
//!
//! ```text
//! cargo bench -p cordee-pathway --bench driver
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p cordee-pathway --bench driver
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use cordee_pathway::testing::TestDatabase;
use sqlx::{AnyPool, Row};

const ROWS: i64 = 100_000;
const ITERATIONS: usize = 2_000;
const QUERY: &str = "select id, seq, sender_id, body, created_at from bench_messages where conversation_id = $1 order by seq desc limit 50";

fn median_p99(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[v.len() / 2], v[(v.len() as f64 * 0.99) as usize])
}

#[tokio::main]
async fn main() {
    let db = TestDatabase::fresh().await;
    let url = if db.url.starts_with("sqlite") {
        format!("{}?mode=rwc", db.url)
    } else {
        db.url.clone()
    };
    sqlx::any::install_default_drivers();
    let any = AnyPool::connect(&url).await.unwrap();
    let blob = if url.starts_with("sqlite") {
        "blob"
    } else {
        "bytea"
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create table bench_messages (id text primary key, conversation_id text not null, seq bigint not null, sender_id text not null, body {blob} not null, created_at bigint not null); \
         create index bench_by_conversation on bench_messages (conversation_id, seq);"
    )))
    .execute(&any)
    .await
    .unwrap();
    let body = vec![7u8; 200];
    let mut tx = any.begin().await.unwrap();
    for n in 0..ROWS {
        // One conversation in ten is the one read.
        let conversation = if n % 10 == 0 {
            "c-read".to_string()
        } else {
            format!("c-{}", n % 97)
        };
        sqlx::query("insert into bench_messages values ($1, $2, $3, $4, $5, $6)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(conversation)
            .bind(n)
            .bind("sender")
            .bind(body.clone())
            .bind(n)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut any_times = Vec::with_capacity(ITERATIONS);
    let mut native_times = Vec::with_capacity(ITERATIONS);
    // The same alternating loop against whichever native pool matches the URL.
    macro_rules! alternate {
        ($native:expr) => {{
            let native = $native;
            for _ in 0..ITERATIONS {
                let t = Instant::now();
                let rows = sqlx::query(QUERY)
                    .bind("c-read")
                    .fetch_all(&any)
                    .await
                    .unwrap();
                let n: i64 = rows.iter().map(|r| r.get::<i64, _>("seq")).sum();
                any_times.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                let rows = sqlx::query(QUERY)
                    .bind("c-read")
                    .fetch_all(&native)
                    .await
                    .unwrap();
                let m: i64 = rows.iter().map(|r| r.get::<i64, _>("seq")).sum();
                native_times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(n, m);
            }
        }};
    }
    if url.starts_with("sqlite") {
        alternate!(sqlx::SqlitePool::connect(&url).await.unwrap());
    } else {
        alternate!(sqlx::PgPool::connect(&url).await.unwrap());
    }
    let (am, ap) = median_p99(any_times);
    let (nm, np) = median_p99(native_times);
    println!(
        "{}: latest 50 of {ROWS} rows, {ITERATIONS} iterations each, alternating",
        db.backend.name()
    );
    println!("  Any driver    median {am:.3} ms  p99 {ap:.3} ms");
    println!("  native driver median {nm:.3} ms  p99 {np:.3} ms");
    println!(
        "  ratio Any/native: median {:.2}x  p99 {:.2}x",
        am / nm,
        ap / np
    );
}
