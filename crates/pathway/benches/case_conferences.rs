//! Case conferences (issue 13): validation of a conference with 30 cases and 15
//! participants (median and p99), and a professional's agenda among 5,000
//! conferences.
//!
//! ```text
//! cargo bench -p cordee-pathway --bench case_conferences
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p cordee-pathway --bench case_conferences
//! ```
//!
//! Settings: `CORDEE_BENCH_ROUNDS` (validations, 20), `CORDEE_BENCH_CASES` (30),
//! `CORDEE_BENCH_PARTICIPANTS` (15), `CORDEE_BENCH_CONFERENCES` (5,000),
//! `CORDEE_BENCH_AGENDAS` (200 agenda reads).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use cordee_pathway::Millis;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::case_conference::{
    Action, AgendaQuery, ConferenceInput, ConferenceKind, Minutes, Quorum,
};
use cordee_pathway::ids::{CaseConferenceId, PatientId};
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{Backend, NewPatient};

use common::{Bench, account, env_or, ms, percentile};

#[tokio::main]
async fn main() {
    let rounds: usize = env_or("CORDEE_BENCH_ROUNDS", 20);
    let cases: usize = env_or("CORDEE_BENCH_CASES", 30);
    let participants: usize = env_or("CORDEE_BENCH_PARTICIPANTS", 15);
    let conferences: usize = env_or("CORDEE_BENCH_CONFERENCES", 5000);
    let agendas: usize = env_or("CORDEE_BENCH_AGENDAS", 200);
    let bench = Bench::open().await;
    let s = &bench.store;
    let backend = match bench.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let now = cordee_pathway::testing::wall_clock();
    let gp = account(s, "Dr Bench", Some("10")).await;
    let professions = ["10", "60", "70", "21", "50", "80", "91"];
    let mut others = Vec::new();
    for i in 1..participants {
        others.push(
            account(
                s,
                &format!("Pro {i}"),
                Some(professions[i % professions.len()]),
            )
            .await,
        );
    }
    let mut patients: Vec<PatientId> = Vec::new();
    for i in 0..cases {
        let identity = IdentityInput {
            ins_matricule: None,
            ins_oid: None,
            birth_name: format!("Banc{}", (b'a' + (i % 26) as u8) as char),
            first_names: "Jeanne".into(),
            used_name: None,
            birth_date: "1940-01-01".into(),
            sex: Sex::Female,
            birth_place_code: None,
        }
        .validate(IdentityStatus::Provisoire, now)
        .unwrap();
        let view = s
            .create_patient(
                &gp,
                NewPatient {
                    identity,
                    status: IdentityStatus::Provisoire,
                    creator_role: Some(TeamRole::MedecinTraitant),
                },
                now,
            )
            .await
            .unwrap();
        patients.push(view.id);
    }

    // Validation: a fresh conference each round, prepared, then validated.
    let mut took = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let c = s
            .create_case_conference(
                &gp,
                ConferenceInput {
                    title: format!("Concertation {round}"),
                    kind: ConferenceKind::Concertation,
                    scheduled_at: now,
                    duration_minutes: 120,
                    place: None,
                    chair_id: None,
                    // Bench accounts carry no PSC profile: no profession is counted.
                    quorum: Quorum {
                        min_participants: 3,
                        min_professions: 0,
                    },
                },
                now,
            )
            .await
            .unwrap();
        for o in &others {
            s.add_case_conference_participant(&gp, c.id, o.account_id, now)
                .await
                .unwrap();
        }
        for who in std::iter::once(&gp).chain(others.iter()) {
            s.set_case_conference_attendance(&gp, c.id, who.account_id, true, now)
                .await
                .unwrap();
        }
        for p in &patients {
            let case = s
                .add_case_conference_case(&gp, c.id, *p, "Quelle prise en charge ?", now)
                .await
                .unwrap();
            s.record_case_minutes(
                &gp,
                c.id,
                case.id,
                Minutes {
                    summary: Some("Synthèse de la discussion.".into()),
                    proposal: Some("Proposition.".into()),
                    decision: Some("Décision partagée.".into()),
                    follow_up_id: Some(gp.account_id),
                    actions: vec![Action {
                        title: "Passage infirmier".into(),
                        category: Category::Soins,
                        assignee_id: others[0].account_id,
                        due_on: "2026-12-31".into(),
                    }],
                },
                now,
            )
            .await
            .unwrap();
        }
        let started = Instant::now();
        s.validate_case_conference(&gp, c.id, now).await.unwrap();
        took.push(started.elapsed());
    }
    let mut samples = took.clone();
    println!(
        "{backend}: validation of a conference with {cases} cases and {participants} participants, {rounds} rounds: median {} ms, p99 {} ms",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.99)),
    );

    // The agenda among many conferences: raw rows (title unsealed: none), the
    // professional on one in ten, spread over a year.
    let me = &others[1];
    let year_ms: i64 = 365 * 24 * 3600 * 1000;
    let mut tx = s.db().writer().begin().await.unwrap();
    for i in 0..conferences {
        let id = CaseConferenceId::new();
        let at = now.0 - year_ms / 2 + (i as i64 * year_ms / conferences as i64);
        sqlx::query(
            "insert into case_conferences (id, kind, scheduled_at, duration_minutes, status, created_by, created_at, chair_id, version, updated_at) \
             values ($1, 'concertation', $2, 60, 'planned', $3, $2, $3, 1, $2)",
        )
        .bind(id.as_text())
        .bind(at)
        .bind(gp.account_id.as_text())
        .execute(&mut *tx)
        .await
        .unwrap();
        let mut invited: Vec<&cordee_pathway::account::Actor> =
            others.iter().skip(2).take(4).collect();
        if i % 10 == 0 {
            invited.push(me);
        }
        for o in invited {
            sqlx::query(
                "insert into case_conference_participants (conference_id, account_id, added_at, display_name) values ($1, $2, $3, 'x')",
            )
            .bind(id.as_text())
            .bind(o.account_id.as_text())
            .bind(at)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    let mut reads: Vec<Duration> = Vec::with_capacity(agendas);
    let mut seen = 0;
    for i in 0..agendas {
        let from = Millis(now.0 - year_ms / 2 + (i as i64 % 12) * year_ms / 12);
        let started = Instant::now();
        let page = s
            .case_conferences(
                me,
                &AgendaQuery {
                    from: Some(from),
                    to: Some(Millis(from.0 + year_ms / 12)),
                    mine: true,
                    after: None,
                    limit: 51,
                },
            )
            .await
            .unwrap();
        reads.push(started.elapsed());
        seen += page.len();
    }
    println!(
        "{backend}: a professional's agenda (a month, mine=true) among {conferences} conferences, {agendas} reads ({:.0} conferences each): median {} ms, p99 {} ms",
        seen as f64 / agendas as f64,
        ms(percentile(&mut reads, 0.5)),
        ms(percentile(&mut reads, 0.99)),
    );
    bench.finish().await;
}
