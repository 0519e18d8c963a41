//! Leases for background jobs: with several gateways on one database, each run of a
//! job happens once. The instance whose conditional update moves a job's next run
//! claims it (one statement, so two instances cannot both succeed); a lease bounds how
//! long a claimed run may hold the job before another instance may take it up again.

use sqlx::Row;

use super::Store;
use crate::{Millis, Result};

/// A run of a job this instance claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobClaim {
    pub name: String,
    pub holder: String,
    pub started_at: Millis,
}

/// What the database says of a job, for `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub name: String,
    pub next_run_at: Millis,
    pub last_finished_at: Option<Millis>,
    pub last_outcome: Option<String>,
}

impl Store {
    /// Claims job `name` if it is due at `now` and nobody holds it: its next run moves
    /// to `next_run_at` and `holder` holds it for `lease_ms`. `None` when it is not
    /// due or another instance claimed it first.
    pub async fn claim_job(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        next_run_at: Millis,
        lease_ms: i64,
    ) -> Result<Option<JobClaim>> {
        // A job never seen before is due at once.
        sqlx::query(
            "insert into job_runs (name, next_run_at, lease_until) values ($1, $2, 0) on conflict (name) do nothing",
        )
        .bind(name)
        .bind(now.0)
        .execute(self.db.writer())
        .await?;
        let claimed = sqlx::query(
            "update job_runs set next_run_at = $1, lease_until = $2, holder = $3, last_started_at = $4 \
             where name = $5 and next_run_at <= $4 and lease_until <= $4",
        )
        .bind(next_run_at.0)
        .bind(now.plus_millis(lease_ms).0)
        .bind(holder)
        .bind(now.0)
        .bind(name)
        .execute(self.db.writer())
        .await?;
        Ok((claimed.rows_affected() == 1).then(|| JobClaim {
            name: name.to_string(),
            holder: holder.to_string(),
            started_at: now,
        }))
    }

    /// Ends a claimed run: the lease is released and its outcome kept.
    pub async fn finish_job(&self, claim: &JobClaim, now: Millis, outcome: &str) -> Result<()> {
        sqlx::query(
            "update job_runs set lease_until = 0, last_finished_at = $1, last_outcome = $2 where name = $3 and holder = $4",
        )
        .bind(now.0)
        .bind(outcome)
        .bind(&claim.name)
        .bind(&claim.holder)
        .execute(self.db.writer())
        .await?;
        Ok(())
    }

    /// Every job the database knows, by name.
    pub async fn job_states(&self) -> Result<Vec<JobState>> {
        let rows = sqlx::query(
            "select name, next_run_at, last_finished_at, last_outcome from job_runs order by name",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobState {
                    name: r.try_get("name")?,
                    next_run_at: Millis(r.try_get("next_run_at")?),
                    last_finished_at: r.try_get::<Option<i64>, _>("last_finished_at")?.map(Millis),
                    last_outcome: r.try_get("last_outcome")?,
                })
            })
            .collect()
    }
}
