//! What a validated case's actions become. Care plans and their tasks live on another
//! branch: for now the actions stay recorded in `case_conference_actions` (sealed
//! under the patient's key) and are marked as handed over at validation.

use super::Store;
use super::tx::Tx;
use crate::ids::{CaseId, PatientId};
use crate::{Millis, Result};

impl Store {
    /// Hands a validated case's actions over, inside the validation's transaction.
    /// Returns how many actions were handed over.
    // lead: wire to care plans at merge (each action → a task of the patient's active
    // care plan, or of a new plan when none is active, `source = case_conference`).
    pub(crate) async fn actions_to_tasks(
        &self,
        tx: &mut Tx,
        case: CaseId,
        patient: PatientId,
        now: Millis,
    ) -> Result<u64> {
        let done = sqlx::query(
            "update case_conference_actions set handed_over_at = $1 where case_id = $2 and patient_id = $3 and handed_over_at is null",
        )
        .bind(now.0)
        .bind(case.as_text())
        .bind(patient.as_text())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected())
    }
}
