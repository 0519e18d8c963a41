//! Notifications: written in the transaction of what they announce, delivered on the
//! stream (a `notification` event of the account) once it commits.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use super::tx::Tx;
use crate::account::Actor;
use crate::error::Noun;
use crate::ids::{AccountId, NotificationId, PatientId};
use crate::notification::{Notice, Notification, NotificationKind};
use crate::stream::StreamKind;
use crate::{Error, Millis, Result};

const COLUMNS: &str = "id, kind, patient_id, subject_id, actor_id, created_at, read_at";

impl Store {
    /// Writes a notification in `tx`; the account's devices get it once `tx` commits.
    pub(crate) async fn notify_in(
        &self,
        tx: &mut Tx,
        notice: Notice,
        now: Millis,
    ) -> Result<NotificationId> {
        let id = NotificationId::new();
        sqlx::query(
            "insert into notifications (id, account_id, kind, patient_id, subject_id, actor_id, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_text())
        .bind(notice.to.as_text())
        .bind(notice.kind.as_str())
        .bind(notice.patient.map(|p| p.as_text()))
        .bind(notice.subject.clone())
        .bind(notice.actor.map(|a| a.as_text()))
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        let notification = Notification {
            id,
            kind: notice.kind,
            patient_id: notice.patient,
            subject_id: notice.subject,
            actor_id: notice.actor,
            created_at: now,
            read_at: None,
        };
        self.account_event(
            tx,
            notice.to,
            StreamKind::Notification(notification),
            Some(id.as_text()),
            now,
        )
        .await?;
        tx.after_commit(super::Change::Notification {
            account: notice.to,
            id,
        });
        Ok(id)
    }

    /// The actor's notifications, newest first: up to `limit` (ask for one more than
    /// a page to know whether another follows).
    pub async fn notifications(
        &self,
        actor: &Actor,
        before: Option<NotificationId>,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from notifications where account_id = $1 and id < $2 order by id desc limit $3"
        )))
        .bind(actor.account_id.as_text())
        .bind(before.map(|b| b.as_text()).unwrap_or_else(|| "~".into()))
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(notification_from_row).collect()
    }

    pub(crate) async fn notifications_by_id(&self, ids: &[String]) -> Result<Vec<Notification>> {
        let sql = format!(
            "select {COLUMNS} from notifications where id in ({})",
            super::placeholders(1, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.clone());
        }
        let rows = q.persistent(false).fetch_all(self.db.reader()).await?;
        rows.iter().map(notification_from_row).collect()
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

fn notification_from_row(r: &AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: NotificationId::parse(&r.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::Notification))?,
        kind: NotificationKind::parse(&r.try_get::<String, _>("kind")?)
            .ok_or(Error::not_found(Noun::Notification))?,
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
}
