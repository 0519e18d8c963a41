//! Audit append rate: the hash chain against the same rows appended unchained.
//!
//! ```text
//! # SQLite (a fresh file in the temporary folder)
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench audit_append
//! # PostgreSQL (a fresh database on that server, dropped at the end)
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench audit_append
//! ```
//!
//! Settings (environment): `CORDEE_BENCH_RUNS` (10) runs per configuration,
//! `CORDEE_BENCH_SECS` (2) seconds measured per run after `CORDEE_BENCH_WARMUP` (0.5),
//! `CORDEE_BENCH_LATENCY_CALLS` (1000) sequential calls for the latency table,
//! `CORDEE_BENCH_CALLERS` (`1,16,64`) the numbers of concurrent callers,
//! `CORDEE_BENCH_ABLATE=1` adds the chain's steps one at a time (profiling).
//!
//! * `chained` is the real path: `Store::audit` from N concurrent tasks, through the
//!   store's batching writer (group commit): chain lock (advisory lock on
//!   PostgreSQL), head read, canonical bytes + SHA-256 in Rust, one insert per row,
//!   a signed checkpoint every 256 records or 2 s.
//! * `unchained` is the same batching loop (same channel, same "drain up to 512
//!   queued events into one transaction", same `Db::begin`, one insert per row) into
//!   a scratch table of the same shape and indexes, with a dummy 32-byte hash and a
//!   sequence number counted in memory: no lock, no head read, no hashing, no
//!   checkpoint.
//! * with `CORDEE_BENCH_ABLATE=1`, the bench's writer also runs with the chain's
//!   steps switched on one by one; `+all` is a replica of the real path and should
//!   match `chained`; `+all, one trip` sends the lock and the head read as one
//!   simple query (one round trip instead of two) on PostgreSQL.
//!
//! Each configuration runs `CORDEE_BENCH_RUNS` times, the paths one after the other
//! in an order that rotates every run. The table gives the median rate, the median
//! of the per-run ratios to `unchained` ("paired ×": each run against the unchained
//! run next to it, so that drift in the load of a shared machine cancels) and the
//! extra time per row that ratio means (the chain's cost). Then one caller's
//! latency, the two paths alternating call by call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cordee_crypto::{Checkpoint, GENESIS, chain_hash};
use cordee_pathway::audit::{AuditEvent, Outcome, Purpose};
use cordee_pathway::ids::{AccountId, EntryId, PatientId};
use cordee_pathway::store::{Backend, Db, Store};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use common::{Bench, env_or, median_f64, ms, percentile};

/// Same as the store's writer.
const MAX_BATCH: usize = 512;
const CHECKPOINT_EVERY_RECORDS: i64 = 256;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);
/// Not the store's lock: the bench's writers never wait for the store's.
const BENCH_LOCK: i64 = 0x0062_656e_6368;

/// Which of the chain's steps the bench's writer performs.
#[derive(Clone, Copy, Debug)]
struct Steps {
    lock: bool,
    head: bool,
    hash: bool,
    checkpoint: bool,
    /// Lock and head read sent as one simple query (one round trip) on PostgreSQL.
    one_trip: bool,
}

const UNCHAINED: Steps = Steps {
    lock: false,
    head: false,
    hash: false,
    checkpoint: false,
    one_trip: false,
};

type Reply = oneshot::Sender<Result<i64, String>>;

#[derive(Default)]
struct WriterStats {
    batches: AtomicU64,
    rows: AtomicU64,
}

/// The store's batching loop, writing to a scratch table with the chosen steps.
#[derive(Clone)]
struct BenchWriter {
    tx: mpsc::Sender<(Vec<AuditEvent>, Reply)>,
    stats: Arc<WriterStats>,
}

impl BenchWriter {
    async fn start(store: &Store, table: &str, steps: Steps) -> BenchWriter {
        let blob = match store.db().backend() {
            Backend::Sqlite => "blob",
            Backend::Postgres => "bytea",
        };
        let ddl = format!(
            "create table {table} (seq bigint primary key, id text not null unique, at bigint not null, \
             actor_id text, action text not null, patient_id text, resource_type text, resource_id text, \
             purpose text not null, outcome text not null, detail text, hash {blob} not null); \
             create index {table}_by_patient on {table} (patient_id, seq); \
             create index {table}_by_actor on {table} (actor_id, seq); \
             create table {table}_checkpoints (seq bigint primary key, hash {blob} not null, mac {blob} not null, at bigint not null);"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(store.db().writer())
            .await
            .unwrap();
        let (tx, rx) = mpsc::channel(4096);
        let stats = Arc::new(WriterStats::default());
        tokio::spawn(run_writer(
            store.clone(),
            table.to_string(),
            steps,
            rx,
            Arc::clone(&stats),
        ));
        BenchWriter { tx, stats }
    }

    async fn append(&self, event: AuditEvent) -> Result<i64, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((vec![event], reply))
            .await
            .map_err(|_| "writer gone".to_string())?;
        answer.await.map_err(|_| "writer gone".to_string())?
    }
}

async fn run_writer(
    store: Store,
    table: String,
    steps: Steps,
    mut rx: mpsc::Receiver<(Vec<AuditEvent>, Reply)>,
    stats: Arc<WriterStats>,
) {
    let insert = format!(
        "insert into {table} (seq, id, at, actor_id, action, patient_id, resource_type, resource_id, purpose, outcome, detail, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    let head_sql = format!("select seq, hash from {table} order by seq desc limit 1");
    let checkpoint_sql = format!(
        "insert into {table}_checkpoints (seq, hash, mac, at) values ($1, $2, $3, $4) on conflict (seq) do nothing"
    );
    let db: Db = store.db().clone();
    let keyring = store.keyring();
    let mut memory_seq = 0i64;
    let mut memory_hash = GENESIS;
    let mut last_checkpoint_seq = -1i64;
    let mut last_checkpoint_at = Instant::now();
    while let Some(first) = rx.recv().await {
        let mut count = first.0.len();
        let mut batch = vec![first];
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(cmd) => {
                    count += cmd.0.len();
                    batch.push(cmd);
                }
                Err(_) => break,
            }
        }
        let all: Vec<AuditEvent> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let result: anyhow::Result<i64> = async {
            let mut tx = db.begin().await?;
            let postgres = db.backend() == Backend::Postgres;
            if steps.lock && postgres && !steps.one_trip {
                sqlx::query("select pg_advisory_xact_lock($1)")
                    .bind(BENCH_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            let (mut seq, mut hash) = if steps.head {
                let head = if steps.one_trip && postgres {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "select from pg_advisory_xact_lock({BENCH_LOCK}); {head_sql}"
                    )))
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .find(|row| !row.columns().is_empty())
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(head_sql.as_str()))
                        .fetch_optional(&mut *tx)
                        .await?
                };
                match head {
                    None => (0, GENESIS),
                    Some(row) => {
                        let bytes: Vec<u8> = row.try_get("hash")?;
                        (
                            row.try_get("seq")?,
                            <[u8; 32]>::try_from(bytes.as_slice()).unwrap(),
                        )
                    }
                }
            } else {
                (memory_seq, memory_hash)
            };
            for event in &all {
                seq += 1;
                let id = uuid::Uuid::now_v7().to_string();
                if steps.hash {
                    hash = chain_hash(&hash, &event.canonical(seq, &id));
                }
                sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
                    .bind(seq)
                    .bind(id)
                    .bind(event.at.0)
                    .bind(event.actor_id.map(|a| a.as_text()))
                    .bind(event.action.as_str())
                    .bind(event.patient_id.map(|p| p.as_text()))
                    .bind(event.resource_type.as_deref())
                    .bind(event.resource_id.as_deref())
                    .bind(event.purpose.as_str())
                    .bind(event.outcome.as_str())
                    .bind(event.detail.as_deref())
                    .bind(hash.to_vec())
                    .execute(&mut *tx)
                    .await?;
            }
            let checkpoint = steps.checkpoint
                && (last_checkpoint_at.elapsed() >= CHECKPOINT_EVERY
                    || seq - last_checkpoint_seq.max(0) >= CHECKPOINT_EVERY_RECORDS);
            if checkpoint {
                let cp = Checkpoint::sign(&keyring, seq, &hash);
                sqlx::query(sqlx::AssertSqlSafe(checkpoint_sql.as_str()))
                    .bind(seq)
                    .bind(cp.head.to_vec())
                    .bind(cp.mac.to_vec())
                    .bind(cordee_pathway::testing::wall_clock().0)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if checkpoint {
                last_checkpoint_seq = seq;
                last_checkpoint_at = Instant::now();
            }
            memory_seq = seq;
            memory_hash = hash;
            Ok(seq)
        }
        .await;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.rows.fetch_add(all.len() as u64, Ordering::Relaxed);
        match result {
            Ok(head) => {
                let mut seq = head - all.len() as i64;
                for (events, reply) in batch {
                    seq += events.len() as i64;
                    let _ = reply.send(Ok(seq));
                }
            }
            Err(e) => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Where a caller appends.
#[derive(Clone)]
enum Path {
    Store(Store),
    Bench(BenchWriter),
}

impl Path {
    async fn append(&self, event: AuditEvent) {
        match self {
            Path::Store(store) => {
                store.audit(event).await.unwrap();
            }
            Path::Bench(writer) => {
                writer.append(event).await.unwrap();
            }
        }
    }

    fn stats(&self) -> Option<(u64, u64)> {
        match self {
            Path::Store(_) => None,
            Path::Bench(w) => Some((
                w.stats.batches.load(Ordering::Relaxed),
                w.stats.rows.load(Ordering::Relaxed),
            )),
        }
    }
}

/// A read of one entry by one professional: what most standalone records are.
fn event(actor: AccountId, patient: PatientId) -> AuditEvent {
    AuditEvent::new(
        cordee_pathway::testing::wall_clock(),
        Some(actor),
        cordee_pathway::audit::Action::EntryRead,
        Purpose::Care,
        Outcome::Allowed,
    )
    .patient(patient)
    .resource("entry", EntryId::new())
}

struct Rate {
    rows_per_s: f64,
    mean_batch: Option<f64>,
}

/// Rows/s appended by `callers` tasks, each awaiting one `append` at a time.
async fn rate(path: &Path, callers: usize, warmup: Duration, measure: Duration) -> Rate {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(callers);
    for _ in 0..callers {
        let (path, done, stop) = (path.clone(), Arc::clone(&done), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let (actor, patient) = (AccountId::new(), PatientId::new());
            while !stop.load(Ordering::Relaxed) {
                path.append(event(actor, patient)).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(warmup).await;
    let (c0, s0, t0) = (done.load(Ordering::Relaxed), path.stats(), Instant::now());
    tokio::time::sleep(measure).await;
    let (c1, s1, t1) = (done.load(Ordering::Relaxed), path.stats(), Instant::now());
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let mean_batch = match (s0, s1) {
        (Some((b0, r0)), Some((b1, r1))) if b1 > b0 => Some((r1 - r0) as f64 / (b1 - b0) as f64),
        _ => None,
    };
    Rate {
        rows_per_s: (c1 - c0) as f64 / (t1 - t0).as_secs_f64(),
        mean_batch,
    }
}

#[tokio::main]
async fn main() {
    let runs: usize = env_or("CORDEE_BENCH_RUNS", 10);
    let secs: f64 = env_or("CORDEE_BENCH_SECS", 2.0);
    let warmup = Duration::from_secs_f64(env_or("CORDEE_BENCH_WARMUP", 0.5));
    let measure = Duration::from_secs_f64(secs);
    let latency_calls: usize = env_or("CORDEE_BENCH_LATENCY_CALLS", 1000);
    let ablate = env_or("CORDEE_BENCH_ABLATE", 0) == 1;
    let callers_list: Vec<usize> = std::env::var("CORDEE_BENCH_CALLERS")
        .unwrap_or_else(|_| "1,16,64".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();

    let bench = Bench::open().await;
    let backend = bench.backend();
    let store = bench.store.clone();

    let mut paths: Vec<(String, Path)> = vec![
        ("chained".into(), Path::Store(store.clone())),
        (
            "unchained".into(),
            Path::Bench(BenchWriter::start(&store, "bench_unchained", UNCHAINED).await),
        ),
    ];
    if ablate {
        let ladder = [
            (
                "+lock",
                Steps {
                    lock: true,
                    ..UNCHAINED
                },
            ),
            (
                "+lock+head",
                Steps {
                    lock: true,
                    head: true,
                    ..UNCHAINED
                },
            ),
            (
                "+lock+head+hash",
                Steps {
                    lock: true,
                    head: true,
                    hash: true,
                    ..UNCHAINED
                },
            ),
            (
                "+all",
                Steps {
                    lock: true,
                    head: true,
                    hash: true,
                    checkpoint: true,
                    ..UNCHAINED
                },
            ),
            (
                "+all, one trip",
                Steps {
                    lock: true,
                    head: true,
                    hash: true,
                    checkpoint: true,
                    one_trip: true,
                },
            ),
        ];
        for (i, (name, steps)) in ladder.into_iter().enumerate() {
            let writer = BenchWriter::start(&store, &format!("bench_step{i}"), steps).await;
            paths.push((name.into(), Path::Bench(writer)));
        }
    }

    println!(
        "audit_append on {} — {runs} runs × {secs} s per configuration (after {} s warm-up), tokio {} worker threads",
        backend.name(),
        warmup.as_secs_f64(),
        tokio::runtime::Handle::current().metrics().num_workers(),
    );

    // Throughput: runs interleaved (the order rotates each run) so that drift in the
    // machine's load spreads over every path.
    for &callers in &callers_list {
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
        let mut batches: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
        for run in 0..runs {
            for k in 0..paths.len() {
                let i = (k + run) % paths.len();
                let r = rate(&paths[i].1, callers, warmup, measure).await;
                rates[i].push(r.rows_per_s);
                if let Some(b) = r.mean_batch {
                    batches[i].push(b);
                }
            }
        }
        println!();
        println!("callers = {callers}");
        println!(
            "  {:<16} {:>13} {:>11} {:>13} {:>10}  runs (rows/s)",
            "path", "median rows/s", "paired ×", "time/row +%", "mean batch"
        );
        for (i, (name, _)) in paths.iter().enumerate() {
            // Each run's rate over the unchained rate of the same run (measured
            // back to back), so that slow drift in the machine's load cancels.
            let paired: Vec<f64> = rates[i].iter().zip(&rates[1]).map(|(r, u)| r / u).collect();
            let ratio = median_f64(&paired);
            let batch = if batches[i].is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}", median_f64(&batches[i]))
            };
            let runs_text: Vec<String> = rates[i].iter().map(|r| format!("{r:.0}")).collect();
            println!(
                "  {:<16} {:>13.0} {:>10.3}× {:>12.1}% {:>10}  {}",
                name,
                median_f64(&rates[i]),
                ratio,
                (1.0 / ratio - 1.0) * 100.0,
                batch,
                runs_text.join(" ")
            );
        }
    }

    // Latency of one call from a single caller, the paths alternating call by call.
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); paths.len()];
    let (actor, patient) = (AccountId::new(), PatientId::new());
    for n in 0..(latency_calls + 100) {
        for (i, (_, path)) in paths.iter().enumerate() {
            let started = Instant::now();
            path.append(event(actor, patient)).await;
            if n >= 100 {
                samples[i].push(started.elapsed());
            }
        }
    }
    println!();
    println!("single caller, one call at a time ({latency_calls} calls each, alternating)");
    println!(
        "  {:<16} {:>10} {:>10} {:>10} {:>11}",
        "path", "median ms", "p99 ms", "max ms", "vs unch."
    );
    let unchained_median = percentile(&mut samples[1], 0.5);
    for (i, (name, _)) in paths.iter().enumerate() {
        let s = &mut samples[i];
        let (p50, p99) = (percentile(s, 0.5), percentile(s, 0.99));
        println!(
            "  {:<16} {:>10} {:>10} {:>10} {:>10.3}×",
            name,
            ms(p50),
            ms(p99),
            ms(*s.last().unwrap()),
            p50.as_secs_f64() / unchained_median.as_secs_f64()
        );
    }

    // The chain the bench wrote must still verify.
    let verdict = store.verify_audit().await.unwrap();
    println!();
    println!("verify_audit after the run: {verdict:?}");
    drop(paths);
    bench.finish().await;
}
