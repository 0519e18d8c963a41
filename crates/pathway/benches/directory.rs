//! The RPPS import at national size, then name-prefix search among its entries
//! (issue 11): rows per second and peak memory of the import, p50/p99 of searches.
//!
//! ```text
//! scripts/rpps_synthetic.py bench --rows 1000000 --out /tmp/rpps-1m.txt
//! CORDEE_BENCH_RPPS=/tmp/rpps-1m.txt cargo bench -p cordee-pathway --bench directory
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CORDEE_BENCH_RPPS=/tmp/rpps-1m.txt cargo bench -p cordee-pathway --bench directory
//! ```
//!
//! Settings: `CORDEE_BENCH_RPPS` (the file, required), `CORDEE_BENCH_SEARCHES` (2000
//! per kind), `CORDEE_BENCH_BATCH` (lines per transaction, 500), `CORDEE_BENCH_RERUN`
//! (1: import the file a second time, which must report everything kept).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use cordee_pathway::directory::{DirectoryQuery, Search};
use cordee_pathway::store::{Backend, ImportOptions, Store};

use common::{Bench, env_or, ms, percentile};

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn import(
    store: &Store,
    file: &str,
    batch: usize,
) -> (cordee_pathway::store::ImportReport, Duration) {
    let opened = tokio::fs::File::open(file).await.unwrap();
    let reader = tokio::io::BufReader::with_capacity(256 * 1024, opened);
    let options = ImportOptions {
        communes: None,
        batch_lines: batch,
    };
    let started = Instant::now();
    let report = store
        .import_rpps(reader, &options, cordee_pathway::testing::wall_clock())
        .await
        .unwrap();
    (report, started.elapsed())
}

#[tokio::main]
async fn main() {
    let file = std::env::var("CORDEE_BENCH_RPPS")
        .expect("CORDEE_BENCH_RPPS must name an extraction (scripts/rpps_synthetic.py bench)");
    let searches: usize = env_or("CORDEE_BENCH_SEARCHES", 2000);
    let batch: usize = env_or("CORDEE_BENCH_BATCH", 500);
    let bench = Bench::open().await;
    let store = &bench.store;
    let backend = match bench.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "{backend}: importing {file} ({:.0} MB), {batch} lines per transaction",
        size as f64 / 1e6
    );
    let before = peak_rss_mib();
    let (report, took) = import(store, &file, batch).await;
    let after = peak_rss_mib();
    let secs = took.as_secs_f64();
    println!(
        "import: {} lines, {} professionals new, {} organisations in {secs:.1} s: {:.0} lines/s, {:.0} professionals/s",
        report.read,
        report.new,
        report.organisations_new,
        report.read as f64 / secs,
        report.new as f64 / secs,
    );
    println!("peak RSS: {before:.1} MiB before the import, {after:.1} MiB after");
    if env_or("CORDEE_BENCH_RERUN", 0) == 1 {
        let (again, took) = import(store, &file, batch).await;
        assert_eq!((again.new, again.updated, again.gone), (0, 0, 0));
        println!(
            "re-run: {} kept in {:.1} s: {:.0} lines/s; peak RSS {:.1} MiB",
            again.kept,
            took.as_secs_f64(),
            again.read as f64 / took.as_secs_f64(),
            peak_rss_mib()
        );
    }

    // Queries drawn from the names imported, so common names are asked as often as
    // they occur.
    let keys: Vec<String> = sqlx::query_scalar("select search_key from directory_entries")
        .fetch_all(store.db().reader())
        .await
        .unwrap();
    // xorshift64: reproducible draws without a dependency.
    let mut state: u64 = 0x5935_0059_3500_5935;
    let mut draw = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    type MakeQuery = fn(&str) -> String;
    let kinds: [(&str, MakeQuery); 4] = [
        ("3 letters of a family name", |k| {
            k.chars().take(3).collect()
        }),
        ("a whole family name", |k| {
            k.split(' ').next().unwrap().to_string()
        }),
        ("family name, 2 letters of the given name", |k| {
            let mut w = k.split(' ');
            let family = w.next().unwrap();
            let given: String = w.next().unwrap_or("").chars().take(2).collect();
            format!("{family} {given}")
        }),
        ("given name first, 3 letters of the family", |k| {
            let mut w = k.split(' ');
            let family: String = w.next().unwrap().chars().take(3).collect();
            format!("{} {family}", w.next().unwrap_or(""))
        }),
    ];
    print_plan(store, &kinds[0].1(&keys[0])).await;
    println!("| query | p50 | p99 | mean rows returned |");
    println!("|---|---:|---:|---:|");
    for (label, make) in kinds {
        let mut times = Vec::with_capacity(searches);
        let mut rows = 0usize;
        for _ in 0..searches {
            let key = &keys[draw(keys.len())];
            let query = DirectoryQuery {
                search: Search::parse(&make(key)),
                limit: 51,
                ..DirectoryQuery::default()
            };
            let started = Instant::now();
            let found = store.directory(&query).await.unwrap();
            times.push(started.elapsed());
            rows += found.len();
        }
        let p50 = percentile(&mut times, 0.50);
        let p99 = percentile(&mut times, 0.99);
        println!(
            "| {label} | {} ms | {} ms | {:.1} |",
            ms(p50),
            ms(p99),
            rows as f64 / searches as f64
        );
    }
    bench.finish().await;
}

/// How the database answers a prefix (one index range, no sort).
async fn print_plan(store: &Store, prefix: &str) {
    let end = format!("{prefix}\u{10FFFF}");
    let sql = "select national_id from directory_entries e where e.search_key >= $1 and e.search_key < $2 order by e.search_key, e.national_id limit 51";
    let explain = match store.db().backend() {
        Backend::Sqlite => format!("explain query plan {sql}"),
        Backend::Postgres => format!("explain {sql}"),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
        .bind(prefix)
        .bind(end)
        .fetch_all(store.db().reader())
        .await
        .unwrap();
    use sqlx::Row;
    for row in rows {
        let line: String = match store.db().backend() {
            Backend::Sqlite => row.try_get("detail").unwrap_or_default(),
            Backend::Postgres => row.try_get(0).unwrap_or_default(),
        };
        println!("plan: {line}");
    }
}
