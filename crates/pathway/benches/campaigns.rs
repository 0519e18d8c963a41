//! Campaign indicators at territory size (issue 15): 100 structures recording every
//! day of a year, three kinds each, in 5 campaigns (547,500 counts), then p50/p99 of
//! `Store::campaign_indicators` (as a coordinator: every structure's totals) and of
//! one correction.
//!
//! ```text
//! cargo bench -p cordee-pathway --bench campaigns
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p cordee-pathway --bench campaigns
//! ```
//!
//! Settings: `CORDEE_BENCH_STRUCTURES` (100), `CORDEE_BENCH_CAMPAIGNS` (5),
//! `CORDEE_BENCH_DAYS` (365), `CORDEE_BENCH_CALLS` (200 indicator calls).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cordee_pathway::account::CptsRole;
use cordee_pathway::campaign::{ActionInput, ActionKind, CampaignInput, format_day, paris_day};
use cordee_pathway::ids::{CampaignActionId, OrganisationId};
use cordee_pathway::organisation::OrganisationInput;
use cordee_pathway::store::{Backend, Store};
use cordee_pathway::testing::wall_clock;

use common::{Bench, account, env_or, ms, percentile};

const KINDS: [&str; 3] = ["doses", "plus_65", "professionnels"];

/// Writes the year of counts directly, 500 rows a statement (recording is not what
/// is measured here; the conformance tests cover it).
async fn fill(
    store: &Store,
    campaign: &str,
    orgs: &[OrganisationId],
    recorder: &str,
    days: &[String],
) {
    let mut rows: Vec<(String, String, String, &str, i64)> = Vec::new();
    for (o, org) in orgs.iter().enumerate() {
        for (d, day) in days.iter().enumerate() {
            for (k, kind) in KINDS.iter().enumerate() {
                let count = ((o * 7 + d * 3 + k) % 13) as i64;
                rows.push((
                    CampaignActionId::new().as_text(),
                    org.as_text(),
                    day.clone(),
                    kind,
                    count,
                ));
            }
        }
    }
    let mut tx = store.db().writer().begin().await.unwrap();
    for chunk in rows.chunks(500) {
        let mut sql = String::from(
            "insert into campaign_actions (id, campaign_id, organisation_id, on_day, kind, count, version, recorded_by, recorded_at) values ",
        );
        let mut n = 0;
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, 1, ${}, 0)",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            ));
            n += 7;
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, org, day, kind, count) in chunk {
            q = q
                .bind(id.clone())
                .bind(campaign.to_string())
                .bind(org.clone())
                .bind(day.clone())
                .bind(kind.to_string())
                .bind(*count)
                .bind(recorder.to_string());
        }
        q.persistent(false).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::main]
async fn main() {
    let structures: usize = env_or("CORDEE_BENCH_STRUCTURES", 100);
    let campaigns: usize = env_or("CORDEE_BENCH_CAMPAIGNS", 5);
    let days: i64 = env_or("CORDEE_BENCH_DAYS", 365);
    let calls: usize = env_or("CORDEE_BENCH_CALLS", 200);
    let bench = Bench::open().await;
    let store = &bench.store;
    let backend = match bench.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let now = wall_clock();
    let coordinator = {
        let mut c = account(store, "Coordinatrice", None).await;
        c.roles = vec![CptsRole::Coordinator];
        sqlx::query("update accounts set cpts_roles = '[\"coordinator\"]' where id = $1")
            .bind(c.account_id.as_text())
            .execute(store.db().writer())
            .await
            .unwrap();
        c
    };
    let pharmacist = account(store, "Pharmacien", Some("21")).await;
    let mut orgs = Vec::with_capacity(structures);
    for i in 0..structures {
        let input =
            OrganisationInput::parse("officine", &format!("Pharmacie {i:03}"), None, None, None)
                .unwrap();
        orgs.push(
            store
                .create_organisation(&coordinator, input, now)
                .await
                .unwrap()
                .id,
        );
    }
    let today = paris_day(now);
    let first = today - time::Duration::days(days - 1);
    let day_list: Vec<String> = (0..days)
        .map(|d| format_day(first + time::Duration::days(d)))
        .collect();
    let started = Instant::now();
    let mut ids = Vec::new();
    for c in 0..campaigns {
        let input = CampaignInput {
            theme: "grippe".into(),
            title: format!("Campagne {c}"),
            description: String::new(),
            starts_on: format_day(first),
            ends_on: format_day(today),
            action_kinds: KINDS
                .iter()
                .map(|k| ActionKind {
                    code: k.to_string(),
                    label: k.to_string(),
                })
                .collect(),
            targets: BTreeMap::from([("doses".to_string(), 100_000)]),
        };
        let campaign = store
            .create_campaign(&coordinator, input.validate().unwrap(), now)
            .await
            .unwrap();
        for org in &orgs {
            store
                .join_campaign(&coordinator, campaign.id, *org, now)
                .await
                .unwrap();
        }
        fill(
            store,
            &campaign.id.as_text(),
            &orgs,
            &coordinator.account_id.as_text(),
            &day_list,
        )
        .await;
        ids.push(campaign.id);
    }
    let rows = structures as i64 * days * KINDS.len() as i64 * campaigns as i64;
    println!(
        "{backend}: {structures} structures × {days} days × {} kinds × {campaigns} campaigns = {rows} counts, written in {:.1} s",
        KINDS.len(),
        started.elapsed().as_secs_f64()
    );
    if bench.backend() == Backend::Postgres {
        sqlx::query("vacuum analyze campaign_actions")
            .execute(store.db().writer())
            .await
            .unwrap();
    }

    // Warm-up, then the measured calls, round-robin over the campaigns.
    for id in &ids {
        store.campaign_indicators(&coordinator, *id).await.unwrap();
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(calls);
    for i in 0..calls {
        let id = ids[i % ids.len()];
        let t = Instant::now();
        let (_, ind) = store.campaign_indicators(&coordinator, id).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(ind.by_structure.len(), structures);
    }
    let p50 = percentile(&mut samples, 0.50);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "{backend}: indicators of one campaign ({} counts), {calls} calls: p50 {} ms, p99 {} ms",
        rows / campaigns as i64,
        ms(p50),
        ms(p99)
    );

    // One correction (the upsert, its version row, its audit record) for a member.
    let org = orgs[0];
    sqlx::query("insert into organisation_members (organisation_id, account_id, source, joined_at) values ($1, $2, 'manual', 0)")
        .bind(org.as_text())
        .bind(pharmacist.account_id.as_text())
        .execute(store.db().writer())
        .await
        .unwrap();
    let mut samples: Vec<Duration> = Vec::with_capacity(calls);
    for i in 0..calls {
        let input = ActionInput::new(
            org,
            KINDS[i % 3],
            i as i64,
            &day_list[day_list.len() - 1 - (i % 30)],
        );
        let t = Instant::now();
        let done = store
            .record_campaign_action(&pharmacist, ids[0], &input, now)
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert!(!done.created);
    }
    let p50 = percentile(&mut samples, 0.50);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "{backend}: a correction, {calls} calls: p50 {} ms, p99 {} ms",
        ms(p50),
        ms(p99)
    );
    bench.finish().await;
}
