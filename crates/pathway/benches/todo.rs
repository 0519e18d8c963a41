//! A nurse's to-do list at the size of a large CPTS (issue 12): `Store::todo` (the
//! one access rule and the matrix by the task's category, in SQL) against the same
//! query with those conditions removed.
//!
//! ```text
//! # SQLite (a fresh file in the temporary folder)
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench todo
//! # PostgreSQL (a fresh database on that server, dropped at the end)
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench todo
//! ```
//!
//! Settings (environment): `CORDEE_BENCH_PATIENTS` (20000), `CORDEE_BENCH_PLANS`
//! (5000 active plans), `CORDEE_BENCH_TASKS_PER_PLAN` (20, so 100,000 tasks),
//! `CORDEE_BENCH_NURSE_TEAMS` (300), `CORDEE_BENCH_ITERATIONS` (500) timed
//! iterations per variant after `CORDEE_BENCH_WARMUP_ITERATIONS` (50),
//! `CORDEE_BENCH_ANALYZE` (0 on SQLite, 1 on PostgreSQL, as in `file_page`),
//! `CORDEE_BENCH_KEEP=1` keeps the database for `explain` by hand.
//!
//! The CPTS: 200 other professionals of five professions. The nurse's 300 patients
//! are created through the store (identity sealed, data key, audit), she joins
//! each care team, the GP opens each one's plan through the store, and the nurse's
//! five tasks per plan are written through `Store::create_task` (content sealed under
//! the patient's key). Their due dates are then spread from 60 days ago to 120 days
//! ahead and a third of them closed (done, declined, cancelled), directly in SQL: the
//! store refuses past due dates, which is what an overdue task has become. The rest
//! of the tables — the other patients, their teams (3 members each), plans and
//! tasks, and the other 15 tasks of the nurse's plans — are inserted in bulk with
//! sealed-size random bytes, never opened. The nurse also left 50 other teams
//! earlier (memberships ended), as a nurse of a few years does.
//!
//! Query: her first page of 50 open tasks, overdue first (`GET /v1/tasks`), as
//! `Store::todo` ("authorised") and as the baseline below: the same statement
//! without the care-team, objection, erasure and matrix conditions, the same
//! decryption and the same audit records of the patients shown. The two alternate,
//! iteration by iteration, and must return the same page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use cordee_crypto::Place;
use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::audit::{Action, AuditEvent, Outcome, Purpose};
use cordee_pathway::calendar::Day;
use cordee_pathway::care_plan::PlanContentInput;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::ids::{AccountId, CarePlanId, PatientId, TaskId};
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{Backend, NewMember, NewPatient, NewPlan, Store};
use cordee_pathway::task::{NewTask, Task, TaskContent, TaskStatus, TodoFilter};
use sqlx::Row;

use common::{Bench, account, env_or, median_f64, ms, percentile};

const PAGE: i64 = 50;
const NURSE_TASKS_PER_PLAN: usize = 5;
const LEFT_TEAMS: usize = 50;
/// Professions of the other professionals, in turn: GP, nurse, pharmacist,
/// physiotherapist, midwife.
const PROFESSIONS: [(&str, TeamRole); 5] = [
    ("10", TeamRole::Medecin),
    ("60", TeamRole::Infirmier),
    ("21", TeamRole::Pharmacien),
    ("70", TeamRole::Kinesitherapeute),
    ("50", TeamRole::SageFemme),
];
const NURSE_CATEGORIES: [Category; 3] = [Category::Soins, Category::Synthese, Category::Social];
const TASK_TITLES: [&str; 6] = [
    "Pansement et surveillance de la plaie",
    "Passage infirmier du soir",
    "Contrôle de la glycémie",
    "Préparer le pilulier",
    "Point sur les aides à domicile",
    "Prise de sang à domicile",
];

/// A small deterministic generator (same data on both databases).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Random bytes the size of a sealed value (never opened).
    fn noise(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() & 0xff) as u8).collect()
    }
}

fn identity(n: usize) -> IdentityInput {
    IdentityInput {
        ins_matricule: None,
        ins_oid: None,
        birth_name: format!(
            "Patient {}{}{}",
            char::from(b'a' + u8::try_from(n / 676 % 26).unwrap()),
            char::from(b'a' + u8::try_from(n / 26 % 26).unwrap()),
            char::from(b'a' + u8::try_from(n % 26).unwrap())
        ),
        first_names: "Jeanne".into(),
        used_name: None,
        birth_date: "1941-05-02".into(),
        sex: Sex::Female,
        birth_place_code: Some("59350".into()),
    }
}

fn clock() -> Millis {
    cordee_pathway::testing::wall_clock()
}

/// `($1, $2, …), (…)` for `count` rows of `width` values.
fn values(width: usize, count: usize) -> String {
    (0..count)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The nurse's patients, teams, plans and her tasks, through the store; returns
/// her tasks' ids.
async fn seed_nurse(
    store: &Store,
    gp: &Actor,
    nurse: &Actor,
    teams: usize,
    rng: &mut Lcg,
) -> (Vec<PatientId>, Vec<(CarePlanId, PatientId)>, Vec<TaskId>) {
    let today = Day::today_in_paris(clock());
    let mut patients = Vec::with_capacity(teams);
    let mut plans = Vec::with_capacity(teams);
    let mut tasks = Vec::with_capacity(teams * NURSE_TASKS_PER_PLAN);
    for n in 0..teams {
        let patient = store
            .create_patient(
                gp,
                NewPatient {
                    identity: identity(n)
                        .validate(IdentityStatus::Provisoire, clock())
                        .unwrap(),
                    status: IdentityStatus::Provisoire,
                    creator_role: Some(TeamRole::MedecinTraitant),
                },
                clock(),
            )
            .await
            .unwrap()
            .id;
        store
            .add_member(
                gp,
                patient,
                NewMember {
                    account_id: nurse.account_id,
                    role: TeamRole::InfirmierReferent,
                    reason: "soins à domicile".into(),
                    end_at: None,
                },
                clock(),
            )
            .await
            .unwrap();
        let (plan, _) = store
            .create_care_plan(
                gp,
                patient,
                NewPlan {
                    content: PlanContentInput {
                        title: "Retour à domicile après hospitalisation".into(),
                        ..PlanContentInput::default()
                    },
                    ..NewPlan::default()
                },
                clock(),
            )
            .await
            .unwrap();
        for k in 0..NURSE_TASKS_PER_PLAN {
            let title = TASK_TITLES[rng.below(TASK_TITLES.len() as u64) as usize];
            let task = store
                .create_task(
                    gp,
                    patient,
                    plan.id,
                    NewTask {
                        content: TaskContent::new(title, "Voir le plan de soins.").unwrap(),
                        category: NURSE_CATEGORIES[k % NURSE_CATEGORIES.len()],
                        assignee_id: Some(nurse.account_id),
                        due_on: today,
                    },
                    clock(),
                )
                .await
                .unwrap();
            tasks.push(task.id);
        }
        patients.push(patient);
        plans.push((plan.id, patient));
    }
    // Due dates from 60 days ago to 120 ahead; a third closed, the rest open in
    // each state.
    let mut tx = store.db().begin().await.unwrap();
    for id in &tasks {
        let due = today.plus_days(rng.below(181) as i64 - 60);
        let status = match rng.below(9) {
            0 => "done",
            1 => "declined",
            2 => "cancelled",
            3 | 4 => "accepted",
            5 => "in_progress",
            _ => "proposed",
        };
        sqlx::query("update care_plan_tasks set due_on = $1, status = $2 where id = $3")
            .bind(due.as_text())
            .bind(status)
            .bind(id.as_text())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (patients, plans, tasks)
}

/// Inserts `rows` (each a list of cells) into `table` by chunks of one statement.
async fn bulk(store: &Store, table: &str, columns: &str, rows: Vec<Vec<Cell>>) {
    let width = columns.split(',').count();
    // SQLite binds at most 32,766 values per statement.
    let per = (30_000 / width).min(1_000);
    for chunk in rows.chunks(per) {
        let sql = format!(
            "insert into {table} ({columns}) values {}",
            values(width, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for cell in row {
                q = match cell {
                    Cell::Text(t) => q.bind(t.clone()),
                    Cell::Null => q.bind(None::<i64>),
                    Cell::Int(i) => q.bind(*i),
                    Cell::Bytes(b) => q.bind(b.clone()),
                };
            }
        }
        q.execute(store.db().writer()).await.unwrap();
    }
}

enum Cell {
    Text(String),
    /// A null bigint (the only nulls inserted: ends of memberships).
    Null,
    Int(i64),
    Bytes(Vec<u8>),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// Everything else, in bulk: the other patients with teams, the other active
/// plans, every plan's other tasks, the nurse's ended memberships.
#[allow(clippy::too_many_arguments)]
async fn seed_others(
    store: &Store,
    gp: &Actor,
    others: &[(Actor, TeamRole)],
    nurse: &Actor,
    patients: usize,
    plans: usize,
    tasks_per_plan: usize,
    nurse_plans: &[(CarePlanId, PatientId)],
    rng: &mut Lcg,
) {
    let now = clock();
    let today = Day::today_in_paris(now);
    let count = patients.saturating_sub(nurse_plans.len());
    let ids: Vec<PatientId> = (0..count).map(|_| PatientId::new()).collect();
    let rows = ids
        .iter()
        .map(|p| {
            vec![
                text(p.as_text()),
                Cell::Bytes(rng.noise(180)),
                text("provisoire"),
                Cell::Bytes(rng.noise(32)),
                text(gp.account_id.as_text()),
                Cell::Int(now.0),
            ]
        })
        .collect();
    bulk(
        store,
        "patients",
        "id, identity, identity_status, bi_name_date, created_by, created_at",
        rows,
    )
    .await;
    // Three members each; the first a GP (the médecin traitant).
    let mut team: Vec<Vec<AccountId>> = Vec::with_capacity(count);
    let mut rows = Vec::with_capacity(count * 3 + LEFT_TEAMS);
    for p in &ids {
        let mut members: Vec<AccountId> = Vec::new();
        for k in 0..3 {
            let (who, role) = loop {
                let (who, role) = &others[rng.below(others.len() as u64) as usize];
                let gp_first = (k == 0) == (*role == TeamRole::Medecin);
                if gp_first && !members.contains(&who.account_id) {
                    break (who, *role);
                }
            };
            members.push(who.account_id);
            let role = if k == 0 {
                TeamRole::MedecinTraitant
            } else {
                role
            };
            rows.push(vec![
                text(uuid::Uuid::now_v7().to_string()),
                text(p.as_text()),
                text(who.account_id.as_text()),
                text(role.as_str()),
                text(gp.account_id.as_text()),
                Cell::Int(now.0 - 86_400_000),
                Cell::Null,
                Cell::Null,
            ]);
        }
        team.push(members);
    }
    for p in ids.iter().take(LEFT_TEAMS) {
        rows.push(vec![
            text(uuid::Uuid::now_v7().to_string()),
            text(p.as_text()),
            text(nurse.account_id.as_text()),
            text(TeamRole::Infirmier.as_str()),
            text(gp.account_id.as_text()),
            Cell::Int(now.0 - 400 * 86_400_000),
            Cell::Int(now.0 - 30 * 86_400_000),
            Cell::Null,
        ]);
    }
    bulk(
        store,
        "care_team_members",
        "id, patient_id, account_id, role, added_by, start_at, end_at, removed_at",
        rows,
    )
    .await;
    // The other active plans, then 20 tasks for every plan (15 more for the
    // nurse's, whose other tasks go to the GP who opened them).
    let other_plans = plans.saturating_sub(nurse_plans.len()).min(count);
    let plan_rows: Vec<(CarePlanId, usize)> =
        (0..other_plans).map(|n| (CarePlanId::new(), n)).collect();
    let rows = plan_rows
        .iter()
        .map(|(plan, n)| {
            vec![
                text(plan.as_text()),
                text(ids[*n].as_text()),
                text(team[*n][0].as_text()),
                text("active"),
                text(today.plus_days(30).as_text()),
                Cell::Int(1),
                text(team[*n][0].as_text()),
                Cell::Int(now.0),
                Cell::Int(now.0),
            ]
        })
        .collect();
    bulk(
        store,
        "care_plans",
        "id, patient_id, coordinator_id, status, review_on, version, created_by, created_at, updated_at",
        rows,
    )
    .await;
    let mut rows = Vec::with_capacity(plans * tasks_per_plan);
    let task_row = |plan: CarePlanId, patient: PatientId, assignee: AccountId, rng: &mut Lcg| {
        let status = [
            "proposed",
            "accepted",
            "in_progress",
            "done",
            "done",
            "cancelled",
        ][rng.below(6) as usize];
        let category = Category::ALL[rng.below(6) as usize];
        vec![
            text(TaskId::new().as_text()),
            text(plan.as_text()),
            text(patient.as_text()),
            text(category.as_str()),
            text(assignee.as_text()),
            text(today.plus_days(rng.below(181) as i64 - 60).as_text()),
            text(status),
            text("plan"),
            Cell::Bytes(rng.noise(110)),
            Cell::Int(1),
            text(assignee.as_text()),
            Cell::Int(now.0),
            Cell::Int(now.0),
        ]
    };
    for (plan, n) in &plan_rows {
        for _ in 0..tasks_per_plan {
            let assignee = team[*n][rng.below(3) as usize];
            rows.push(task_row(*plan, ids[*n], assignee, rng));
        }
    }
    for (plan, patient) in nurse_plans {
        for _ in NURSE_TASKS_PER_PLAN..tasks_per_plan {
            rows.push(task_row(*plan, *patient, gp.account_id, rng));
        }
    }
    bulk(
        store,
        "care_plan_tasks",
        "id, plan_id, patient_id, category, assignee_id, due_on, status, source, content, version, created_by, created_at, updated_at",
        rows,
    )
    .await;
}

const COLUMNS: &str = "t.id, t.plan_id, t.patient_id, t.category, t.assignee_id, t.due_on, t.status, t.source, t.content, t.note, t.version, t.created_by, t.created_at, t.updated_at";

/// `Store::todo` without the access rule and the matrix: the same statement
/// otherwise, the same decryption, the same audit records.
async fn baseline(store: &Store, actor: &Actor, filter: &TodoFilter, now: Millis) -> Vec<Task> {
    let statuses: Vec<String> = filter
        .statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from care_plan_tasks t where t.assignee_id = $1 and t.status in ({}) \
         order by t.due_on, t.id limit $2",
        statuses.join(", ")
    )))
    .bind(actor.account_id.as_text())
    .bind(filter.limit)
    .fetch_all(store.db().reader())
    .await
    .unwrap();
    let mut tasks = Vec::with_capacity(rows.len());
    let mut patients: Vec<PatientId> = Vec::new();
    for r in &rows {
        let patient = PatientId::parse(&r.try_get::<String, _>("patient_id").unwrap()).unwrap();
        let key = store.data_key(&format!("patient:{patient}")).await.unwrap();
        tasks.push(task_from_row(&key, r));
        if !patients.contains(&patient) {
            patients.push(patient);
        }
    }
    let events = patients
        .into_iter()
        .map(|p| {
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::TaskList,
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(p)
            .resource("task_list", actor.account_id)
        })
        .collect();
    store.audit_all(events).await.unwrap();
    tasks
}

/// The store's decoding of a row, content and note opened.
fn task_from_row(key: &cordee_crypto::DataKey, r: &sqlx::any::AnyRow) -> Task {
    let id = TaskId::parse(&r.try_get::<String, _>("id").unwrap()).unwrap();
    let place = id.as_text();
    let open = |field: &str, sealed: &[u8]| {
        key.open(&Place::new("care_plan_tasks", &place, field), sealed)
            .unwrap()
    };
    let note: Option<Vec<u8>> = r.try_get("note").unwrap();
    let account = |c: &str| AccountId::parse(&r.try_get::<String, _>(c).unwrap()).unwrap();
    Task {
        id,
        plan_id: CarePlanId::parse(&r.try_get::<String, _>("plan_id").unwrap()).unwrap(),
        patient_id: PatientId::parse(&r.try_get::<String, _>("patient_id").unwrap()).unwrap(),
        content: serde_json::from_slice(&open(
            "content",
            &r.try_get::<Vec<u8>, _>("content").unwrap(),
        ))
        .unwrap(),
        category: Category::parse(&r.try_get::<String, _>("category").unwrap()).unwrap(),
        assignee_id: r
            .try_get::<Option<String>, _>("assignee_id")
            .unwrap()
            .and_then(|a| AccountId::parse(&a)),
        due_on: Day::parse(&r.try_get::<String, _>("due_on").unwrap()).unwrap(),
        status: TaskStatus::parse(&r.try_get::<String, _>("status").unwrap()).unwrap(),
        source: cordee_pathway::task::TaskSource::parse(&r.try_get::<String, _>("source").unwrap())
            .unwrap(),
        note: note.map(|n| String::from_utf8(open("note", &n)).unwrap()),
        version: r.try_get("version").unwrap(),
        created_by: account("created_by"),
        created_at: Millis(r.try_get("created_at").unwrap()),
        updated_at: Millis(r.try_get("updated_at").unwrap()),
    }
}

#[tokio::main]
async fn main() {
    let iterations: usize = env_or("CORDEE_BENCH_ITERATIONS", 500);
    let warmup: usize = env_or("CORDEE_BENCH_WARMUP_ITERATIONS", 50);
    let patients: usize = env_or("CORDEE_BENCH_PATIENTS", 20_000);
    let plans: usize = env_or("CORDEE_BENCH_PLANS", 5_000);
    let tasks_per_plan: usize = env_or("CORDEE_BENCH_TASKS_PER_PLAN", 20);
    let teams: usize = env_or("CORDEE_BENCH_NURSE_TEAMS", 300);
    let keep = env_or("CORDEE_BENCH_KEEP", 0) == 1;

    let bench = Bench::open().await;
    let backend = bench.backend();
    let analyze = env_or(
        "CORDEE_BENCH_ANALYZE",
        i32::from(backend == Backend::Postgres),
    ) == 1;
    let store = bench.store.clone();
    let mut rng = Lcg(20_261_129);
    let gp = account(&store, "Dr Martin", Some("10")).await;
    let nurse = account(&store, "Mme Bernard", Some("60")).await;
    let mut others = Vec::new();
    for n in 0..200 {
        let (code, role) = PROFESSIONS[n % PROFESSIONS.len()];
        others.push((account(&store, &format!("Pro {n}"), Some(code)).await, role));
    }

    let started = Instant::now();
    let (_, nurse_plans, nurse_tasks) = seed_nurse(&store, &gp, &nurse, teams, &mut rng).await;
    let seeded_nurse = started.elapsed();
    let started = Instant::now();
    seed_others(
        &store,
        &gp,
        &others,
        &nurse,
        patients,
        plans,
        tasks_per_plan,
        &nurse_plans,
        &mut rng,
    )
    .await;
    let seeded_others = started.elapsed();
    if analyze {
        sqlx::raw_sql("analyze")
            .execute(store.db().writer())
            .await
            .unwrap();
    }
    let reader = store.db().reader();
    let count = |sql: String| async move {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(reader)
            .await
            .unwrap()
    };
    let nurse_id = nurse.account_id.as_text();
    let today = Day::today_in_paris(clock()).as_text();
    println!(
        "todo on {} — the nurse's {teams} patients, plans and {} tasks through the store in {:.1} s; \
         the rest in bulk in {:.1} s; tables: {} patients, {} team memberships ({} hers, {} ended), \
         {} active plans, {} tasks ({} hers, {} open, {} open and overdue); analyze: {}",
        backend.name(),
        nurse_tasks.len(),
        seeded_nurse.as_secs_f64(),
        seeded_others.as_secs_f64(),
        count("select count(*) from patients".into()).await,
        count("select count(*) from care_team_members".into()).await,
        count(format!("select count(*) from care_team_members where account_id = '{nurse_id}' and end_at is null")).await,
        count(format!("select count(*) from care_team_members where account_id = '{nurse_id}' and end_at is not null")).await,
        count("select count(*) from care_plans where status = 'active'".into()).await,
        count("select count(*) from care_plan_tasks".into()).await,
        count(format!("select count(*) from care_plan_tasks where assignee_id = '{nurse_id}'")).await,
        count(format!("select count(*) from care_plan_tasks where assignee_id = '{nurse_id}' and status in ('proposed', 'accepted', 'in_progress')")).await,
        count(format!("select count(*) from care_plan_tasks where assignee_id = '{nurse_id}' and status in ('proposed', 'accepted', 'in_progress') and due_on < '{today}'")).await,
        if analyze { "yes" } else { "no" },
    );
    println!(
        "reader: the nurse (60); first page of {PAGE} open tasks, overdue first; {iterations} timed iterations per variant, alternating, after {warmup} warm-up"
    );

    // As `GET /v1/tasks` asks: one more than the page, to know there is a next.
    let filter = TodoFilter {
        statuses: TaskStatus::OPEN.to_vec(),
        due_before: None,
        after: None,
        limit: PAGE + 1,
    };
    let now = clock();
    let authorised = store.todo(&nurse, &filter, now).await.unwrap();
    let plain = baseline(&store, &nurse, &filter, now).await;
    assert_eq!(authorised, plain, "the baseline must return the same page");
    assert_eq!(authorised.len(), usize::try_from(PAGE + 1).unwrap());
    let today = Day::today_in_paris(now);
    let overdue = authorised.iter().filter(|t| t.due_on < today).count();
    let mut auth_samples: Vec<Duration> = Vec::with_capacity(iterations);
    let mut base_samples: Vec<Duration> = Vec::with_capacity(iterations);
    for n in 0..(warmup + iterations) {
        for authorised_turn in [n % 2 == 0, n % 2 == 1] {
            let t = Instant::now();
            if authorised_turn {
                std::hint::black_box(store.todo(&nurse, &filter, now).await.unwrap());
            } else {
                std::hint::black_box(baseline(&store, &nurse, &filter, now).await);
            }
            let elapsed = t.elapsed();
            if n >= warmup {
                if authorised_turn {
                    auth_samples.push(elapsed);
                } else {
                    base_samples.push(elapsed);
                }
            }
        }
    }
    let paired: Vec<f64> = auth_samples
        .iter()
        .zip(&base_samples)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
        .collect();
    let paired = median_f64(&paired);
    let (a50, a99) = (
        percentile(&mut auth_samples, 0.5),
        percentile(&mut auth_samples, 0.99),
    );
    let (b50, b99) = (
        percentile(&mut base_samples, 0.5),
        percentile(&mut base_samples, 0.99),
    );
    println!();
    println!(
        "  {:>5} {:>7}  {:>11} {:>9}  {:>11} {:>9}  {:>9} {:>9} {:>9}",
        "rows",
        "overdue",
        "auth med ms",
        "p99 ms",
        "base med ms",
        "p99 ms",
        "ratio med",
        "ratio p99",
        "paired"
    );
    println!(
        "  {:>5} {:>7}  {:>11} {:>9}  {:>11} {:>9}  {:>8.2}× {:>8.2}× {:>8.2}×",
        authorised.len(),
        overdue,
        ms(a50),
        ms(a99),
        ms(b50),
        ms(b99),
        a50.as_secs_f64() / b50.as_secs_f64(),
        a99.as_secs_f64() / b99.as_secs_f64(),
        paired,
    );

    if keep {
        println!();
        println!("kept: {} (nurse {})", bench.db.url, nurse.account_id);
        store.close().await;
    } else {
        bench.finish().await;
    }
}
