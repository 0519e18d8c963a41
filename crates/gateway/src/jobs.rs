//! Background jobs: timed work that no request triggers (telling a professional their
//! emergency access ended, purging ended sessions and abandoned logins; the CPTS
//! modules add review dates, reminders, lapses).
//!
//! Every tick the scheduler looks at the gateway's clock and runs each job that is
//! due. With several gateways on one database, each run happens once: a job is run by
//! the instance whose claim in the database succeeds (`Store::claim_job`, one
//! conditional update — no consensus of our own). Tests move the clock and call
//! [`run_due`] instead of waiting for a tick.

use std::time::{Duration, Instant};

use cordee_pathway::Millis;

use crate::state::AppState;

/// A kind of timed work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub name: &'static str,
    /// How often it runs (by the gateway's clock).
    pub every_ms: i64,
    /// How long a claimed run may take before another instance may claim the job.
    pub lease_ms: i64,
}

const MINUTE: i64 = 60_000;

/// Every job, in the order a tick runs them.
pub const JOBS: &[Job] = &[
    Job {
        name: "break_glass_ended",
        every_ms: MINUTE,
        lease_ms: 5 * MINUTE,
    },
    Job {
        name: "purge_login_flows",
        every_ms: 10 * MINUTE,
        lease_ms: 5 * MINUTE,
    },
    Job {
        name: "purge_sessions",
        every_ms: 60 * MINUTE,
        lease_ms: 10 * MINUTE,
    },
    // Waiting list (issue 14)
    Job {
        name: "waiting_list_lapse",
        every_ms: 10 * MINUTE,
        lease_ms: 5 * MINUTE,
    },
    // Pathways, care plans and tasks (issue 12)
    Job {
        name: "care_plan_review_due",
        every_ms: 10 * MINUTE,
        lease_ms: 5 * MINUTE,
    },
];

/// How long ended sessions stay listed before they are purged.
const SESSION_KEEP_MS: i64 = 7 * 24 * 60 * MINUTE;
/// Grants told of per run (the rest wait for the next run).
const BATCH: i64 = 500;

/// What one run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub job: &'static str,
    /// Items handled (notifications sent, rows purged), or the error.
    pub outcome: Result<u64, String>,
}

/// Runs every job due at the clock's time that this instance can claim.
pub async fn run_due(state: &AppState) -> Vec<Ran> {
    let mut ran = Vec::new();
    for job in JOBS {
        let now = state.clock.now();
        let claim = match state
            .store
            .claim_job(
                job.name,
                &state.instance_id,
                now,
                now.plus_millis(job.every_ms),
                job.lease_ms,
            )
            .await
        {
            Ok(Some(claim)) => claim,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(job = job.name, error = %e, "cannot claim a job");
                continue;
            }
        };
        let started = Instant::now();
        let outcome = run(state, job, now).await.map_err(|e| e.to_string());
        let finished = state.clock.now();
        let label = if outcome.is_ok() { "ok" } else { "error" };
        metrics::counter!("cordee_job_runs_total", "job" => job.name, "outcome" => label)
            .increment(1);
        metrics::histogram!("cordee_job_duration_seconds", "job" => job.name)
            .record(started.elapsed().as_secs_f64());
        match &outcome {
            Ok(n) => {
                metrics::counter!("cordee_job_items_total", "job" => job.name).increment(*n);
                metrics::gauge!("cordee_job_last_success_timestamp_seconds", "job" => job.name)
                    .set(finished.0 as f64 / 1000.0);
            }
            Err(e) => tracing::error!(job = job.name, error = %e, "job failed"),
        }
        if let Err(e) = state.store.finish_job(&claim, finished, label).await {
            tracing::warn!(job = job.name, error = %e, "cannot record a job's end");
        }
        ran.push(Ran {
            job: job.name,
            outcome,
        });
    }
    ran
}

async fn run(state: &AppState, job: &Job, now: Millis) -> cordee_pathway::Result<u64> {
    match job.name {
        "break_glass_ended" => state.store.notify_ended_grants(now, BATCH).await,
        "purge_login_flows" => state.store.purge_login_flows(now).await,
        "purge_sessions" => {
            state
                .store
                .purge_sessions(now.plus_millis(-SESSION_KEEP_MS))
                .await
        }
        // Waiting list (issue 14)
        "waiting_list_lapse" => {
            let days = i64::try_from(state.settings.waiting_proposal_days).unwrap_or(7);
            state.store.lapse_proposals(now, days, BATCH).await
        }
        // Pathways, care plans and tasks (issue 12)
        "care_plan_review_due" => state.store.notify_due_reviews(now, BATCH).await,
        _ => Ok(0),
    }
}

/// Starts the scheduler (unless the tick is 0); it stops when the gateway shuts down.
pub fn start(state: AppState) {
    let tick = state.settings.job_tick_secs;
    if tick == 0 {
        return;
    }
    let mut closing = state.closing.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(tick));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    run_due(&state).await;
                }
                _ = closing.changed() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_unique_and_leases_cover_a_run() {
        let mut names: Vec<&str> = JOBS.iter().map(|j| j.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JOBS.len());
        for job in JOBS {
            assert!(job.every_ms > 0 && job.lease_ms > 0, "{job:?}");
        }
    }
}
