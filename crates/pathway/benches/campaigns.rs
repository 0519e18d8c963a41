//! Campaign indicators at territory size (issue 15): 100 structures recording every
//! day of a year, three kinds each, in 5 campaigns (547,500 counts), then p50/p99 of
//! `Store::campaign_indicators` (as a coordinator: every structure's totals) and of
//! one correction. Then the ACI report over that year with, besides, a year of the
//! other modules for 20,000 patients (`CORDEE_BENCH_PATIENTS`): a quarter of them on
//! the waiting list (a third of those placed this year), a plan each for another
//! quarter with two versions and a review, and 300 validated conferences of 10
//! attendees; p50/p99 of `Store::aci_report`.
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
    aci_report(store, &coordinator, now, backend, bench.backend()).await;
    bench.finish().await;
}

/// Inserts `rows` with one statement per 200 rows: `cols` columns, each row's values
/// as strings or integers.
async fn insert(store: &Store, table: &str, cols: &[&str], rows: &[Vec<Value>]) {
    let mut tx = store.db().writer().begin().await.unwrap();
    for chunk in rows.chunks(200) {
        let mut sql = format!("insert into {table} ({}) values ", cols.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let marks: Vec<String> = (0..cols.len()).map(|c| format!("${}", n + c + 1)).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            n += cols.len();
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for v in row {
                q = match v {
                    Value::Text(t) => q.bind(t.clone()),
                    Value::Int(i) => q.bind(*i),
                    Value::Bytes(b) => q.bind(b.clone()),
                };
            }
        }
        q.persistent(false).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

enum Value {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
}

fn t(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

async fn aci_report(
    store: &Store,
    coordinator: &cordee_pathway::account::Actor,
    now: cordee_pathway::Millis,
    backend: &str,
    kind: Backend,
) {
    use cordee_pathway::ids::{CaseConferenceId, PatientId};
    let patients: usize = env_or("CORDEE_BENCH_PATIENTS", 20_000);
    let calls: usize = env_or("CORDEE_BENCH_REPORT_CALLS", 50);
    let year = paris_day(now).year();
    let started = Instant::now();
    let author = coordinator.account_id.as_text();
    let mut gps = Vec::new();
    for i in 0..20 {
        let code = if i % 2 == 0 { "10" } else { "60" };
        let a = account(store, &format!("Pro {i}"), Some(code)).await;
        store.join_cpts(&a, now).await.unwrap();
        gps.push(a.account_id.as_text());
    }
    let ids: Vec<String> = (0..patients).map(|_| PatientId::new().as_text()).collect();
    let rows: Vec<Vec<Value>> = ids
        .iter()
        .map(|id| {
            vec![
                t(id.clone()),
                t("provisoire"),
                t(author.clone()),
                Value::Int(now.0),
            ]
        })
        .collect();
    insert(
        store,
        "patients",
        &["id", "identity_status", "created_by", "created_at"],
        &rows,
    )
    .await;
    // The waiting list: a quarter of the patients, a third of those placed this year.
    let day_ms = 86_400_000;
    let rows: Vec<Vec<Value>> = ids
        .iter()
        .take(patients / 4)
        .enumerate()
        .map(|(i, id)| {
            let placed = i % 3 == 0;
            vec![
                t(uuid::Uuid::now_v7().to_string()),
                t(id.clone()),
                t("59350"),
                t("cpam"),
                Value::Int((i % 2) as i64),
                Value::Int((i % 5 == 0) as i64),
                Value::Int(0),
                Value::Int(0),
                Value::Int(0),
                Value::Int(3),
                t(if placed { "placed" } else { "waiting" }),
                t(author.clone()),
                Value::Int(now.0 - 200 * day_ms),
                t(format!("{year}-01-15")),
                if placed {
                    Value::Int(now.0 - (i % 200) as i64 * day_ms)
                } else {
                    Value::Int(0)
                },
                Value::Int(now.0),
            ]
        })
        .collect();
    insert(
        store,
        "waiting_requests",
        &[
            "id",
            "patient_id",
            "commune_code",
            "source",
            "ald",
            "age_70_plus",
            "complex_situation",
            "lost_gp",
            "needs_home_visits",
            "fragility_points",
            "status",
            "requested_by",
            "requested_at",
            "requested_on",
            "placed_at",
            "updated_at",
        ],
        &rows,
    )
    .await;
    sqlx::query("update waiting_requests set placed_at = null where status <> 'placed'")
        .execute(store.db().writer())
        .await
        .unwrap();
    // Care plans for another quarter: two versions and one review each, this year.
    let blob = || Value::Bytes(vec![0u8; 64]);
    let plans: Vec<(String, &String)> = ids
        .iter()
        .skip(patients / 4)
        .take(patients / 4)
        .map(|p| (uuid::Uuid::now_v7().to_string(), p))
        .collect();
    let created = now.0 - 150 * day_ms;
    let rows: Vec<Vec<Value>> = plans
        .iter()
        .map(|(id, p)| {
            vec![
                t(id.clone()),
                t((*p).clone()),
                t(author.clone()),
                t("active"),
                t(format!("{year}-12-31")),
                Value::Int(2),
                t(author.clone()),
                Value::Int(created),
                Value::Int(now.0),
            ]
        })
        .collect();
    insert(
        store,
        "care_plans",
        &[
            "id",
            "patient_id",
            "coordinator_id",
            "status",
            "review_on",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ],
        &rows,
    )
    .await;
    let mut rows = Vec::new();
    for (id, _) in &plans {
        for v in 1..=2i64 {
            rows.push(vec![
                t(id.clone()),
                Value::Int(v),
                t(author.clone()),
                t("active"),
                t(format!("{year}-12-31")),
                blob(),
                t(author.clone()),
                Value::Int(created + v * day_ms),
            ]);
        }
    }
    insert(
        store,
        "care_plan_versions",
        &[
            "plan_id",
            "version",
            "coordinator_id",
            "status",
            "review_on",
            "content",
            "author_id",
            "created_at",
        ],
        &rows,
    )
    .await;
    let rows: Vec<Vec<Value>> = plans
        .iter()
        .map(|(id, p)| {
            vec![
                t(uuid::Uuid::now_v7().to_string()),
                t(id.clone()),
                t((*p).clone()),
                blob(),
                t(format!("{year}-12-31")),
                t(author.clone()),
                Value::Int(now.0 - 30 * day_ms),
            ]
        })
        .collect();
    insert(
        store,
        "care_plan_reviews",
        &[
            "id",
            "plan_id",
            "patient_id",
            "content",
            "next_review_on",
            "author_id",
            "created_at",
        ],
        &rows,
    )
    .await;
    // 300 validated conferences, 10 attendees each.
    let mut conferences = Vec::new();
    let mut attendees = Vec::new();
    for c in 0..300i64 {
        let id = CaseConferenceId::new().as_text();
        let at = now.0 - (c % 200) * day_ms;
        conferences.push(vec![
            t(id.clone()),
            t(if c % 2 == 0 { "rcp" } else { "concertation" }),
            Value::Int(at),
            Value::Int(60),
            t("validated"),
            Value::Int(at + 3_600_000),
            t(author.clone()),
            Value::Int(at - day_ms),
        ]);
        for g in 0..10usize {
            let who = &gps[(c as usize + g) % gps.len()];
            attendees.push(vec![
                t(id.clone()),
                t(who.clone()),
                Value::Int(at),
                t(if g % 2 == 0 { "10" } else { "60" }),
                Value::Int(1),
            ]);
        }
    }
    insert(
        store,
        "case_conferences",
        &[
            "id",
            "kind",
            "scheduled_at",
            "duration_minutes",
            "status",
            "validated_at",
            "created_by",
            "created_at",
        ],
        &conferences,
    )
    .await;
    insert(
        store,
        "case_conference_participants",
        &[
            "conference_id",
            "account_id",
            "added_at",
            "profession_code",
            "attended",
        ],
        &attendees,
    )
    .await;
    if kind == Backend::Postgres {
        sqlx::query("analyze")
            .execute(store.db().writer())
            .await
            .unwrap();
    }
    println!(
        "{backend}: the other modules' year for {patients} patients written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The profile the report needs (size 3, every 2019 mission), as an admin.
    let admin = {
        let mut a = account(store, "Admin", None).await;
        a.roles = vec![CptsRole::Admin];
        a
    };
    let profile = cordee_pathway::cpts::ProfileInput {
        name: "CPTS du banc".into(),
        population: 120_000,
        contract_signed_on: Some("2023-03-01".into()),
        missions: [
            "acces_soins",
            "parcours",
            "prevention",
            "qualite",
            "accompagnement",
        ]
        .map(String::from)
        .to_vec(),
        communes: vec!["59350".into()],
    };
    store
        .set_cpts_profile(&admin, profile.validate().unwrap(), now)
        .await
        .unwrap();
    let first = store.aci_report(coordinator, year, now).await.unwrap();
    assert!(first.report.maximum.0 > 0);
    let mut samples: Vec<Duration> = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let out = store.aci_report(coordinator, year, now).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(out.report.maximum, first.report.maximum);
    }
    let p50 = percentile(&mut samples, 0.50);
    let p99 = percentile(&mut samples, 0.99);
    let measured: Vec<String> = store
        .aci_values(year)
        .await
        .unwrap()
        .iter()
        .map(|(c, v)| format!("{}={v}", c.as_str()))
        .collect();
    println!(
        "{backend}: ACI report {year}, {calls} calls: p50 {} ms, p99 {} ms ({})",
        ms(p50),
        ms(p99),
        measured.join(" ")
    );
}
