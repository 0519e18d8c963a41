//! Notifications: what an account should know about (added to a team, a
//! break-glass access to a patient they follow). Ids and codes only — a
//! notification never carries health data, so it can be pushed anywhere.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::Store;
use crate::account::Actor;
use crate::ids::{AccountId, NotificationId, PatientId};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    /// `care_team.added`, `break_glass.granted`, …
    pub kind: String,
    pub patient_id: Option<PatientId>,
    /// The thing the notification is about (a member id, a grant id).
    pub subject_id: Option<String>,
    pub actor_id: Option<AccountId>,
    pub created_at: Millis,
    pub read_at: Option<Millis>,
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn notify_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        to: AccountId,
        kind: &str,
        patient: Option<PatientId>,
        subject: Option<&str>,
        actor: Option<AccountId>,
        now: Millis,
    ) -> Result<NotificationId> {
        let id = NotificationId::new();
        sqlx::query(
            "insert into notifications (id, account_id, kind, patient_id, subject_id, actor_id, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_text())
        .bind(to.as_text())
        .bind(kind)
        .bind(patient.map(|p| p.as_text()))
        .bind(subject)
        .bind(actor.map(|a| a.as_text()))
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        self.publish(super::Change::Notification { account: to, id });
        Ok(id)
    }

    /// The actor's notifications, newest first.
    pub async fn notifications(
        &self,
        actor: &Actor,
        before: Option<NotificationId>,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "select id, kind, patient_id, subject_id, actor_id, created_at, read_at from notifications \
             where account_id = $1 and id < $2 order by id desc limit $3",
        )
        .bind(actor.account_id.as_text())
        .bind(before.map(|b| b.as_text()).unwrap_or_else(|| "~".into()))
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: NotificationId::parse(&r.try_get::<String, _>("id")?)
                        .ok_or(Error::not_found("notification"))?,
                    kind: r.try_get("kind")?,
                    patient_id: r
                        .try_get::<Option<String>, _>("patient_id")?
                        .and_then(|p| PatientId::parse(&p)),
                    subject_id: r.try_get("subject_id")?,
                    actor_id: r
                        .try_get::<Option<String>, _>("actor_id")?
                        .and_then(|a| AccountId::parse(&a)),
                    created_at: Millis(r.try_get("created_at")?),
                    read_at: r.try_get::<Option<i64>, _>("read_at")?.map(Millis),
                })
            })
            .collect()
    }

    /// Marks the actor's notifications up to `up_to` as read.
    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        up_to: NotificationId,
        now: Millis,
    ) -> Result<u64> {
        let done = sqlx::query("update notifications set read_at = $1 where account_id = $2 and id <= $3 and read_at is null")
            .bind(now.0)
            .bind(actor.account_id.as_text())
            .bind(up_to.as_text())
            .execute(self.db.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
