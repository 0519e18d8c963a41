//! The stream's event log: every committed event, in cursor order.
//!
//! Cursors are `max + 1`, taken under the stream lock (PostgreSQL: an advisory lock
//! held until commit; SQLite: its single writer), so committed cursors form an
//! unbroken sequence in commit order, and a reader resuming from a cursor never skips
//! an event that commits later with a smaller number. Events are published after
//! their transaction commits; the order in which two transactions publish does not
//! matter, because the fan-out fills any gap from this log before going on.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tokio::sync::broadcast;

use super::access::Rule;
use super::sql::Sql;
use super::tx::Tx;
use super::{Backend, Store};
use crate::account::Actor;
use crate::conversation::Message;
use crate::error::Noun;
use crate::ids::{AccountId, ConversationId, MessageId, NotificationId, PatientId};
use crate::notification::Notification;
use crate::stream::{AccountEvent, StreamEvent, StreamKind, Topic};
use crate::{Error, Millis, Result};

const STREAM_LOCK: i64 = 0x636f_7264_7374; // "cordst"

/// Takes the stream lock for the rest of the transaction and returns the last
/// committed cursor (the next event is this plus one).
pub(crate) async fn lock_stream(conn: &mut AnyConnection, backend: Backend) -> Result<i64> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(STREAM_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let last: Option<i64> = sqlx::query_scalar("select max(cursor) from stream_events")
        .fetch_one(&mut *conn)
        .await?;
    Ok(last.unwrap_or(0))
}

/// What a stream event row refers to.
pub(crate) struct EventRow<'a> {
    pub cursor: i64,
    pub topic: &'a Topic,
    pub kind: &'a str,
    pub message: Option<MessageId>,
    pub subject: Option<String>,
    pub payload: Option<String>,
    pub actor: Option<AccountId>,
    pub now: Millis,
}

pub(crate) async fn insert_event(conn: &mut AnyConnection, row: EventRow<'_>) -> Result<()> {
    let (conversation, account) = match row.topic {
        Topic::Conversation { id, .. } => (Some(id.as_text()), None),
        Topic::Account(a) => (None, Some(a.as_text())),
    };
    sqlx::query(
        "insert into stream_events (cursor, conversation_id, account_id, kind, message_id, subject_id, payload, actor_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.cursor)
    .bind(conversation)
    .bind(account)
    .bind(row.kind)
    .bind(row.message.map(|m| m.as_text()))
    .bind(row.subject)
    .bind(row.payload)
    .bind(row.actor.map(|a| a.as_text()))
    .bind(row.now.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const EVENT_COLUMNS: &str = "e.cursor, e.conversation_id, e.account_id, c.patient_id, e.kind, e.message_id, e.subject_id, e.payload, e.actor_id";

impl Store {
    /// Writes an account's event (a notification…) in `tx`: its cursor now, its
    /// delivery once `tx` commits.
    pub(crate) async fn account_event(
        &self,
        tx: &mut Tx,
        account: AccountId,
        kind: StreamKind,
        subject: Option<String>,
        now: Millis,
    ) -> Result<()> {
        let cursor = lock_stream(tx, self.db.backend()).await? + 1;
        let topic = Topic::Account(account);
        let payload = match &kind {
            StreamKind::Account { payload, .. } => Some(payload.to_string()),
            _ => None,
        };
        insert_event(
            tx,
            EventRow {
                cursor,
                topic: &topic,
                kind: kind.name(),
                message: None,
                subject,
                payload,
                actor: None,
                now,
            },
        )
        .await?;
        tx.stream_after_commit(StreamEvent {
            cursor,
            topic,
            kind,
        });
        Ok(())
    }

    /// Tells one account that something happened to it (see [`AccountEvent`]): ids and
    /// codes in `payload`, delivered once `tx` commits.
    #[allow(dead_code)] // the CPTS modules call it (tasks, proposals, reviews)
    pub(crate) async fn account_event_in(
        &self,
        tx: &mut Tx,
        account: AccountId,
        name: AccountEvent,
        subject: Option<String>,
        payload: serde_json::Value,
        now: Millis,
    ) -> Result<()> {
        self.account_event(
            tx,
            account,
            StreamKind::Account { name, payload },
            subject,
            now,
        )
        .await
    }

    /// Every committed event with `after < cursor <= up_to` (at most `limit`), in
    /// cursor order, whoever may read it: for the live fan-out, which decides the
    /// audience itself.
    pub async fn stream_between(
        &self,
        after: i64,
        up_to: i64,
        limit: i64,
    ) -> Result<Vec<StreamEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {EVENT_COLUMNS} from stream_events e left join conversations c on c.id = e.conversation_id \
             where e.cursor > $1 and e.cursor <= $2 order by e.cursor limit $3"
        )))
        .bind(after)
        .bind(up_to)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        self.events_from_rows(&rows).await
    }

    /// Committed events after `since` that the actor may read now — in the
    /// conversations they read, or their own — in cursor order: what a reconnecting
    /// device missed.
    pub async fn stream_since(
        &self,
        actor: &Actor,
        since: i64,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<StreamEvent>> {
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(&format!(
            "select {EVENT_COLUMNS} from stream_events e left join conversations c on c.id = e.conversation_id where e.cursor > "
        ));
        q.push_bind(since).push(" and (e.account_id = ");
        q.push_bind(actor.account_id.as_text());
        let visible = rule.conversation(&mut q, "c");
        q.push(" or (e.conversation_id is not null and ")
            .push(&visible)
            .push(")) order by e.cursor limit ")
            .push_bind(limit);
        let rows = q.query().fetch_all(self.db.reader()).await?;
        self.events_from_rows(&rows).await
    }

    /// The messages and notifications a page of event rows refers to, each read in
    /// one statement: a phone catching up on 500 events costs three statements, not a
    /// thousand.
    async fn events_from_rows(&self, rows: &[AnyRow]) -> Result<Vec<StreamEvent>> {
        let messages = self.messages_of_events(rows).await?;
        let notifications = self.notifications_of_events(rows).await?;
        rows.iter()
            .map(|row| event_from_row(row, &messages, &notifications))
            .collect()
    }

    /// Committed stream events, as they commit (this process only).
    pub fn stream(&self) -> broadcast::Receiver<Arc<StreamEvent>> {
        self.stream.subscribe()
    }

    pub(crate) fn publish_stream(&self, event: Arc<StreamEvent>) {
        let _ = self.stream.send(event);
    }

    /// The newest cursor (a client with nothing stored starts here).
    pub async fn stream_head(&self) -> Result<i64> {
        let last: Option<i64> = sqlx::query_scalar("select max(cursor) from stream_events")
            .fetch_one(self.db.reader())
            .await?;
        Ok(last.unwrap_or(0))
    }

    async fn notifications_of_events(
        &self,
        rows: &[AnyRow],
    ) -> Result<HashMap<NotificationId, Notification>> {
        let mut ids = Vec::new();
        for row in rows {
            if row.try_get::<String, _>("kind")? == "notification"
                && let Some(id) = row.try_get::<Option<String>, _>("subject_id")?
            {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self.notifications_by_id(&ids).await?;
        Ok(found.into_iter().map(|n| (n.id, n)).collect())
    }
}

/// A stream event row and what it refers to.
fn event_from_row(
    row: &AnyRow,
    messages: &HashMap<MessageId, Message>,
    notifications: &HashMap<NotificationId, Notification>,
) -> Result<StreamEvent> {
    let cursor: i64 = row.try_get("cursor")?;
    let text = |name: &str| -> Result<Option<String>> { Ok(row.try_get(name)?) };
    let topic = match (text("conversation_id")?, text("account_id")?) {
        (Some(c), _) => Topic::Conversation {
            id: ConversationId::parse(&c).ok_or(Error::not_found(Noun::Conversation))?,
            patient: text("patient_id")?.and_then(|p| PatientId::parse(&p)),
        },
        (None, Some(a)) => {
            Topic::Account(AccountId::parse(&a).ok_or(Error::not_found(Noun::Account))?)
        }
        (None, None) => return Err(Error::not_found(Noun::Record)),
    };
    let kind: String = row.try_get("kind")?;
    let message = text("message_id")?
        .and_then(|m| MessageId::parse(&m))
        .and_then(|id| messages.get(&id).cloned());
    let actor = text("actor_id")?.and_then(|a| AccountId::parse(&a));
    let notification = text("subject_id")?
        .and_then(|n| NotificationId::parse(&n))
        .and_then(|id| notifications.get(&id).cloned());
    if let Some(name) = AccountEvent::parse(&kind) {
        let payload = text("payload")?
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or(serde_json::Value::Null);
        return Ok(StreamEvent {
            cursor,
            topic,
            kind: StreamKind::Account { name, payload },
        });
    }
    let kind = match (kind.as_str(), message, actor, notification) {
        ("message.created", Some(m), _, _) => StreamKind::MessageCreated(m),
        ("message.updated", Some(m), _, _) => StreamKind::MessageUpdated(m),
        ("message.deleted", Some(m), _, _) => StreamKind::MessageDeleted(m),
        ("receipt", Some(m), Some(a), _) => StreamKind::Receipt {
            account_id: a,
            up_to_seq: m.seq,
        },
        ("notification", _, _, Some(n)) => StreamKind::Notification(n),
        _ => StreamKind::ConversationUpdated,
    };
    Ok(StreamEvent {
        cursor,
        topic,
        kind,
    })
}
