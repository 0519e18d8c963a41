//! A gateway killed with SIGKILL in the middle of validating a case conference with
//! many cases leaves the validation whole or absent — never some cases in the files
//! and others not — the audit chain still verifies, and validating again after a
//! restart produces everything exactly once.
//!
//! "In the middle" is established before the kill, never hoped for with a sleep:
//!
//! - **PostgreSQL.** The validation's last step appends its audit records, which
//!   first takes the audit chain's advisory lock (`pg_advisory_xact_lock`). The test
//!   holds that lock on its own connection, starts the validation, and waits until
//!   `pg_stat_activity` shows the gateway's backend waiting on it *with a
//!   transaction id* — PostgreSQL assigns one at a transaction's first write, so the
//!   entries, tasks and the conference's new status are written and uncommitted.
//!   Then SIGKILL, then the lock is released: the orphaned backend gets it, finds
//!   its client gone and rolls back. The outcome is then necessarily "nothing".
//! - **SQLite.** There is no lock another process can make a single writer wait on
//!   mid-transaction (it holds the write lock from `BEGIN IMMEDIATE`, and readers
//!   never block it in WAL mode). What an outsider can see is the WAL: a transaction
//!   larger than the page cache (2 MiB by default; this one writes several) spills
//!   its pages into the WAL as frames *without* a commit marker before it commits.
//!   The test repeatedly freezes the gateway (SIGSTOP), reads the WAL's frame
//!   headers — frames of the current generation (same salts as the header) after
//!   the last commit frame are pages of a transaction that has not committed — and
//!   SIGKILLs the frozen process as soon as there are some, or lets it go on
//!   (SIGCONT). Because the process is frozen between the look and the kill, the
//!   transaction is provably uncommitted at the kill; the probe's interval only sets
//!   how often it looks. Measured here: with 48 cases the spilled frames appear a few
//!   dozen at a time over the transaction's ~300 ms, well before its commit; a kill
//!   landing while the commit's own frames are being written is as good (no commit
//!   marker yet). If the validation finished before the probe ever saw it in
//!   progress, the test fails rather than pass vacuously. The outcome is then
//!   necessarily "nothing" too: the recovery drops frames without a commit marker.

use std::path::Path;
use std::time::{Duration, Instant};

use cordee_pathway::testing::wall_clock;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection};

use crate::support::{Running, Scratch, cordee, run, scratch, stderr};

/// Enough cases that the transaction outgrows SQLite's page cache (see above).
const CASES: usize = 48;
const ACTIONS: usize = 20;
/// The audit chain's advisory lock (`store/audit.rs`).
const CHAIN_LOCK: i64 = 0x636f_7264_6565;

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let out: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {out}");
        out
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        self.send(token, reqwest::Method::POST, path, body).await
    }

    async fn put(&self, token: &str, path: &str, body: Value) -> Value {
        self.send(token, reqwest::Method::PUT, path, body).await
    }

    async fn me(&self, token: &str) -> String {
        let me: Value = self
            .http
            .get(format!("{}/v1/me", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        me["id"].as_str().unwrap().to_string()
    }
}

/// Text of `n` characters, different per case so that nothing is shared.
fn prose(seed: usize, n: usize) -> String {
    let words = [
        "patiente",
        "chutes",
        "isolement",
        "traitement",
        "domicile",
        "réévaluation",
        "infirmier",
        "douleur",
        "autonomie",
        "aidant",
    ];
    let mut out = String::with_capacity(n + 16);
    let mut i = seed;
    while out.chars().count() < n {
        out.push_str(words[i % words.len()]);
        out.push(' ');
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    out.chars().take(n).collect()
}

/// `i` in letters (names are letters only): 0 → "a", 27 → "cb".
fn letters(i: usize) -> String {
    i.to_string()
        .bytes()
        .map(|d| char::from(b'a' + (d - b'0')))
        .collect()
}

/// A started concertation (quorum met: a GP, a nurse and a pharmacist attended)
/// with `CASES` cases, each with long minutes and `ACTIONS` actions.
async fn conference(api: &Api, gp: &str, nurse: &str, pharma: &str) -> String {
    let nurse_id = api.me(nurse).await;
    let pharma_id = api.me(pharma).await;
    let gp_id = api.me(gp).await;
    let started = cordee_pathway::Millis(wall_clock().0 - 10 * 60 * 1000);
    let c = api
        .post(
            gp,
            "/v1/case-conferences",
            json!({ "title": "Concertation du jeudi", "kind": "concertation",
                    "scheduled_at": started.to_rfc3339(), "duration_minutes": 120 }),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    for who in [&nurse_id, &pharma_id] {
        api.post(
            gp,
            &format!("/v1/case-conferences/{id}/participants"),
            json!({ "account_id": who }),
        )
        .await;
    }
    for who in [&gp_id, &nurse_id, &pharma_id] {
        api.put(
            gp,
            &format!("/v1/case-conferences/{id}/participants/{who}/attendance"),
            json!({ "attended": true }),
        )
        .await;
    }
    for i in 0..CASES {
        let p = api
            .post(
                gp,
                "/v1/patients",
                json!({ "birth_name": format!("Patiente-{}", letters(i)), "first_names": "Jeanne",
                        "birth_date": "1940-03-04", "sex": "F", "identity_status": "provisoire",
                        "creator_role": "medecin_traitant" }),
            )
            .await;
        let case = api
            .post(
                gp,
                &format!("/v1/case-conferences/{id}/cases"),
                json!({ "patient_id": p["id"], "question": prose(i, 900) }),
            )
            .await;
        let tasks: Vec<Value> = (0..ACTIONS)
            .map(|a| {
                json!({ "title": prose(i * 100 + a, 180), "category": "soins",
                        "assignee_id": nurse_id, "due_on": "2027-01-15" })
            })
            .collect();
        api.put(
            gp,
            &format!(
                "/v1/case-conferences/{id}/cases/{}",
                case["id"].as_str().unwrap()
            ),
            json!({ "summary": prose(i + 1, 2_800), "proposal": prose(i + 2, 2_800),
                    "decision": prose(i + 3, 2_800), "follow_up_id": nurse_id, "tasks": tasks }),
        )
        .await;
    }
    id
}

/// What a validation writes, counted in the database.
#[derive(Debug, PartialEq, Eq)]
struct Written {
    status: String,
    record_hash: Option<String>,
    rcp_entries: i64,
    cases_entered: i64,
    tasks: i64,
    notifications: i64,
    validate_audits: i64,
}

impl Written {
    fn nothing() -> Written {
        Written {
            status: "planned".into(),
            record_hash: None,
            rcp_entries: 0,
            cases_entered: 0,
            tasks: 0,
            notifications: 0,
            validate_audits: 0,
        }
    }

    fn everything(&self) -> bool {
        self.status == "validated"
            && self.record_hash.as_ref().is_some_and(|h| h.len() == 64)
            && self.rcp_entries == CASES as i64
            && self.cases_entered == CASES as i64
            && self.tasks == (CASES * ACTIONS) as i64
            // One follow-up notice per case (the nurse is also the assignee: told once).
            && self.notifications == CASES as i64
            // One per case and one for the conference.
            && self.validate_audits == CASES as i64 + 1
    }
}

async fn written(url: &str, id: &str) -> Written {
    let mut db = AnyConnection::connect(url).await.unwrap();
    let one = async |db: &mut AnyConnection, sql: &str| -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(id)
            .fetch_one(&mut *db)
            .await
            .unwrap()
    };
    let (status, record_hash): (String, Option<String>) =
        sqlx::query_as("select status, record_hash from case_conferences where id = $1")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    let out = Written {
        status,
        record_hash,
        rcp_entries: one(&mut db, "select count(*) from entries where category = 'rcp' and patient_id in (select patient_id from case_conference_cases where conference_id = $1)").await,
        cases_entered: one(&mut db, "select count(*) from case_conference_cases where conference_id = $1 and entry_id is not null and record is not null").await,
        tasks: one(&mut db, "select count(*) from care_plan_tasks where source = 'case_conference' and patient_id in (select patient_id from case_conference_cases where conference_id = $1)").await,
        notifications: one(&mut db, "select count(*) from notifications where kind in ('case_conference.follow_up', 'case_conference.task_assigned') and patient_id in (select patient_id from case_conference_cases where conference_id = $1)").await,
        validate_audits: one(&mut db, "select count(*) from audit_log where action = 'case_conference.validate' and (resource_id = $1 or detail like '%conference=' || $1 || '%')").await,
    };
    db.close().await.unwrap();
    out
}

fn audit_verifies(s: &Scratch) {
    let out = run(cordee()
        .args(["audit", "verify"])
        .env("CORDEE_DATABASE_URL", &s.db.url)
        .env("CORDEE_MASTER_KEY_FILE", s.dir.join("master.key")));
    assert!(out.status.success(), "audit verify: {}", stderr(&out));
}

/// Frames of the WAL's current generation after its last commit frame: pages of a
/// transaction that has not committed (format: sqlite.org/fileformat2.html#walformat).
fn uncommitted_wal_frames(wal: &Path) -> usize {
    let Ok(bytes) = std::fs::read(wal) else {
        return 0;
    };
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let (Some(page), Some(salt1), Some(salt2)) = (word(8), word(16), word(20)) else {
        return 0;
    };
    let mut after_commit = 0;
    let mut at = 32;
    while let (Some(commit), Some(s1), Some(s2)) = (word(at + 4), word(at + 8), word(at + 12)) {
        if (s1, s2) != (salt1, salt2) {
            break; // a frame left from an earlier generation: the log ends here
        }
        after_commit = if commit != 0 { 0 } else { after_commit + 1 };
        at += 24 + page as usize;
    }
    after_commit
}

/// Polls `check` every few milliseconds until it yields, at most `deadline`.
async fn until<T>(deadline: Duration, what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < deadline, "{what} after {deadline:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn sigkill_during_a_validation_leaves_all_or_nothing() {
    sqlx::any::install_default_drivers();
    let s = scratch().await;
    // The scheduler off: the one writer's open transaction at the kill is then the
    // validation's (nothing else in this test writes while it runs).
    let mut gateway = Running::start(&s, &[("CORDEE_JOB_TICK", "0")]).await;
    let api = Api {
        http: reqwest::Client::new(),
        base: gateway.base.clone(),
    };
    let gp = gateway.bearer("gp-martin").await;
    let nurse = gateway.bearer("nurse-bernard").await;
    let pharma = gateway.bearer("pharma-petit").await;
    let id = conference(&api, &gp, &nurse, &pharma).await;
    assert_eq!(written(&s.db.url, &id).await, Written::nothing());

    let validate = {
        let url = format!("{}/v1/case-conferences/{id}/validate", gateway.base);
        let (http, gp) = (api.http.clone(), gp.clone());
        move || {
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(gp)
                    .json(&json!({}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        }
    };
    let pending = match s.db.backend {
        cordee_pathway::store::Backend::Postgres => {
            let mut holder = AnyConnection::connect(&s.db.url).await.unwrap();
            sqlx::query("select pg_advisory_lock($1)")
                .bind(CHAIN_LOCK)
                .execute(&mut holder)
                .await
                .unwrap();
            let pending = validate();
            let mut watcher = AnyConnection::connect(&s.db.url).await.unwrap();
            let (pid, query): (i32, String) = until(
                Duration::from_secs(60),
                "the validation never waited on the audit lock with writes done",
                async || {
                    sqlx::query_as(
                        "select pid, query from pg_stat_activity where datname = current_database() \
                         and wait_event_type = 'Lock' and wait_event = 'advisory' and backend_xid is not null",
                    )
                    .fetch_optional(&mut watcher)
                    .await
                    .unwrap()
                },
            )
            .await;
            assert!(query.contains("pg_advisory_xact_lock"), "{query}");
            gateway.signal("KILL");
            gateway.wait_exit(Duration::from_secs(10));
            sqlx::query("select pg_advisory_unlock($1)")
                .bind(CHAIN_LOCK)
                .execute(&mut holder)
                .await
                .unwrap();
            // The orphaned backend gets the lock, finds its client gone, rolls back.
            until(
                Duration::from_secs(30),
                "the killed gateway's backend is still there",
                async || {
                    let left: i64 =
                        sqlx::query_scalar("select count(*) from pg_stat_activity where pid = $1")
                            .bind(pid)
                            .fetch_one(&mut watcher)
                            .await
                            .unwrap();
                    (left == 0).then_some(())
                },
            )
            .await;
            pending
        }
        cordee_pathway::store::Backend::Sqlite => {
            let wal = s.dir.join("cordee.db-wal");
            let pending = validate();
            let frames = until(
                Duration::from_secs(120),
                "the validation was never seen uncommitted in the WAL",
                async || {
                    gateway.signal("STOP");
                    let frames = uncommitted_wal_frames(&wal);
                    if frames > 0 {
                        gateway.signal("KILL");
                        return Some(frames);
                    }
                    gateway.signal("CONT");
                    assert!(
                        !pending.is_finished(),
                        "the validation finished before the probe saw it in progress"
                    );
                    None
                },
            )
            .await;
            gateway.wait_exit(Duration::from_secs(10));
            eprintln!("killed with {frames} uncommitted WAL frames");
            pending
        }
    };
    // Never acknowledged: the client saw the connection die.
    assert!(pending.await.unwrap().is_err());
    drop(gateway);

    // All or nothing, read straight from the database, and the chain verifies.
    let after = written(&s.db.url, &id).await;
    assert!(
        after == Written::nothing() || after.everything(),
        "a partial validation survived the crash: {after:?}"
    );
    eprintln!("after the crash: {after:?}");
    audit_verifies(&s);

    // Validating again after a restart produces everything, exactly once.
    let restarted = Running::start(&s, &[]).await;
    let api = Api {
        http: api.http,
        base: restarted.base.clone(),
    };
    let gp = restarted.bearer("gp-martin").await;
    let path = format!("/v1/case-conferences/{id}/validate");
    if after == Written::nothing() {
        let started = Instant::now();
        let done = api.post(&gp, &path, json!({})).await;
        eprintln!(
            "validation of {CASES} cases after restart: {:?}",
            started.elapsed()
        );
        assert_eq!(done["status"], "validated");
    }
    let r = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(&gp)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "validated once only");
    let done = written(&s.db.url, &id).await;
    assert!(done.everything(), "{done:?}");
    drop(restarted);
    audit_verifies(&s);
}
