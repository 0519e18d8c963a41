//! The waiting list at the size of a large CPTS (issue 14): 5,000 requests and 300
//! GPs with declared capacity; p50/p99 of the coordinator's first page sorted by
//! priority, of the suggestions for one request, and of the indicators over a year.
//!
//! ```text
//! cargo bench -p cordee-pathway --bench waiting_list
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p cordee-pathway --bench waiting_list
//! ```
//!
//! Settings: `CORDEE_BENCH_REQUESTS` (5000), `CORDEE_BENCH_GPS` (300),
//! `CORDEE_BENCH_RUNS` (200 per measure; indicators a quarter of it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use cordee_pathway::Millis;
use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::ids::RequestId;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::store::{Backend, NewRequest, PatientRef, RequestQuery, Store};
use cordee_pathway::waiting_list::{
    Capacity, Contact, Fragility, Precarity, Source, day_of, format_day, parse_commune,
};

use common::{Bench, account, env_or, ms, percentile};

const DAY: i64 = 86_400_000;
const COMMUNES: &[&str] = &[
    "59350", "59328", "59360", "59636", "59368", "59386", "59378", "59527", "59009",
];

/// A small deterministic generator (no dependency, same data on both databases).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn name(i: usize) -> String {
    // Letters only (birth names are letters, spaces, hyphens, apostrophes).
    let mut n = i;
    let mut out = String::from("Bench");
    for _ in 0..4 {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    out
}

async fn gps(store: &Store, count: usize, rng: &mut Lcg, now: Millis) -> Vec<Actor> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let gp = account(store, &format!("Dr {}", name(i)), Some("10")).await;
        sqlx::query("update accounts set profile = $1 where id = $2")
            .bind(r#"{"exercices":[{"profession":"10","specialty":{"code":"SM54"}}]}"#)
            .bind(gp.account_id.as_text())
            .execute(store.db().writer())
            .await
            .unwrap();
        let communes: Vec<String> = if rng.chance(30) {
            Vec::new()
        } else {
            (0..1 + rng.below(3))
                .map(|_| COMMUNES[rng.below(COMMUNES.len() as u64) as usize].to_string())
                .collect()
        };
        let capacity = Capacity::validate(
            !rng.chance(15),
            1 + rng.below(8) as i64,
            &communes,
            rng.chance(70),
            rng.chance(40),
            None,
            day_of(now),
        )
        .unwrap();
        store.set_my_capacity(&gp, capacity, now).await.unwrap();
        out.push(gp);
    }
    out
}

fn stats(label: &str, backend: &str, mut samples: Vec<Duration>) {
    let p50 = percentile(&mut samples, 0.50);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "{backend:<10} | {label:<38} | {:>5} | p50 {:>8} ms | p99 {:>8} ms",
        samples.len(),
        ms(p50),
        ms(p99)
    );
}

#[tokio::main]
async fn main() {
    let requests: usize = env_or("CORDEE_BENCH_REQUESTS", 5000);
    let gp_count: usize = env_or("CORDEE_BENCH_GPS", 300);
    let runs: usize = env_or("CORDEE_BENCH_RUNS", 200);
    let bench = Bench::open().await;
    let store = &bench.store;
    let backend = match bench.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let now = cordee_pathway::testing::wall_clock();
    let mut rng = Lcg(20261129);
    let mut coord = account(store, "Coordination", None).await;
    coord.roles = vec![CptsRole::Coordinator];
    let started = Instant::now();
    gps(store, gp_count, &mut rng, now).await;
    let mut ids: Vec<RequestId> = Vec::with_capacity(requests);
    for i in 0..requests {
        let fragility = Fragility {
            ald: rng.chance(35),
            age_70_plus: false,
            precarity: match rng.below(10) {
                0 => Some(Precarity::Css),
                1 => Some(Precarity::Ame),
                _ => None,
            },
            complex_situation: rng.chance(10),
            lost_gp: rng.chance(30),
            needs_home_visits: rng.chance(15),
        };
        let year = 1930 + rng.below(80);
        let identity = IdentityInput {
            ins_matricule: None,
            ins_oid: None,
            birth_name: name(i),
            first_names: "Camille".into(),
            used_name: None,
            birth_date: format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
            sex: Sex::Female,
            birth_place_code: None,
        }
        .validate(IdentityStatus::Provisoire, now)
        .unwrap();
        let at = Millis(now.0 - rng.below(400) as i64 * DAY - rng.below(DAY as u64) as i64);
        let r = store
            .create_waiting_request(
                &coord,
                NewRequest {
                    patient: PatientRef::Traits(identity),
                    commune: parse_commune(COMMUNES[rng.below(COMMUNES.len() as u64) as usize])
                        .unwrap(),
                    source: Source::Cpam,
                    fragility,
                    contact: Contact {
                        phone: Some("03 20 00 00 00".into()),
                        ..Contact::default()
                    },
                    notes: None,
                },
                at,
            )
            .await
            .unwrap();
        // A third of them placed some days after their request (for the indicators).
        if rng.chance(33) {
            let placed = Millis((r.requested_at.0 + (5 + rng.below(120) as i64) * DAY).min(now.0));
            sqlx::query(
                "update waiting_requests set status = 'placed', placed_at = $1, placed_on = $2 where id = $3",
            )
            .bind(placed.0)
            .bind(format_day(day_of(placed)))
            .bind(r.id.as_text())
            .execute(store.db().writer())
            .await
            .unwrap();
        } else {
            ids.push(r.id);
        }
    }
    println!(
        "{backend}: {requests} requests ({} open) and {gp_count} GPs made in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    store.audit_flush().await;

    let first_page = RequestQuery {
        limit: 51,
        ..RequestQuery::default()
    };
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let page = store
            .waiting_requests(&coord, &first_page, now)
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert_eq!(page.len(), 51);
    }
    stats("first page (50) by priority", backend, samples);

    let filtered = RequestQuery {
        commune: Some(parse_commune("59350").unwrap()),
        group: Some(cordee_pathway::waiting_list::Group::Ald),
        limit: 51,
        ..RequestQuery::default()
    };
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        store
            .waiting_requests(&coord, &filtered, now)
            .await
            .unwrap();
        samples.push(t.elapsed());
    }
    stats("first page, commune + ALD filter", backend, samples);

    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let id = ids[rng.below(ids.len() as u64) as usize];
        let t = Instant::now();
        store.suggestions(&coord, id, 10, now).await.unwrap();
        samples.push(t.elapsed());
    }
    stats("suggestions for one request", backend, samples);

    let to = day_of(now);
    let from = to - time::Duration::days(365);
    let mut samples = Vec::with_capacity(runs / 4);
    for _ in 0..(runs / 4).max(1) {
        let t = Instant::now();
        let (ind, _) = store
            .waiting_indicators(&coord, from, to, now)
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert!(ind.total.placed > 0);
    }
    stats("indicators over a year", backend, samples);
    bench.finish().await;
}
