//! What a validated case's actions become: tasks of the patient's active care plan
//! (or of a new plan when none is active), with `source = case_conference`, inside the
//! validation's transaction — so a failed validation leaves no task behind.

use super::Store;
use super::tx::Tx;
use crate::calendar::Day;
use crate::case_conference::Case;
use crate::ids::AccountId;
use crate::task::{NewTask, TaskContent, TaskSource};
use crate::{Error, Millis, Result};

impl Store {
    /// Turns a validated case's actions into care-plan tasks; returns how many.
    ///
    /// The conference decided who does what, but a task obeys the care team and the
    /// matrix: an action given to a participant outside the patient's team, or in a
    /// category their profession may not read, becomes an unassigned task for the
    /// plan's referent to assign (the participant was told by the conference's own
    /// notification; the task does not show them what they may not read).
    pub(crate) async fn actions_to_tasks(
        &self,
        tx: &mut Tx,
        case: &Case,
        author: AccountId,
        now: Millis,
    ) -> Result<u64> {
        let mut tasks = Vec::with_capacity(case.actions.len());
        for a in &case.actions {
            let due_on = Day::parse(&a.due_on).ok_or_else(|| {
                Error::invalid(
                    "case_conference.invalid_due_on",
                    "an action's due date is not a date",
                )
            })?;
            let eligible = self
                .check_assignee(tx, case.patient_id, a.assignee_id, a.category, now)
                .await
                .is_ok();
            tasks.push(NewTask {
                content: TaskContent::new(&a.title, "Décidé en concertation pluriprofessionnelle")?,
                category: a.category,
                assignee_id: eligible.then_some(a.assignee_id),
                due_on,
            });
        }
        if !tasks.is_empty() {
            self.add_tasks_to_active_plan(
                tx,
                case.patient_id,
                author,
                &tasks,
                TaskSource::CaseConference,
                now,
            )
            .await?;
        }
        let done = sqlx::query(
            "update case_conference_actions set handed_over_at = $1 where case_id = $2 and patient_id = $3 and handed_over_at is null",
        )
        .bind(now.0)
        .bind(case.id.as_text())
        .bind(case.patient_id.as_text())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected())
    }
}
