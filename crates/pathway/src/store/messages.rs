//! Messages and the real-time stream's event log.
//!
//! Sends go through one writer task per process that commits them in groups (one
//! transaction, one fsync for many messages) and answers each sender only after the
//! commit; then the committed events are published for live delivery. Stream
//! cursors are assigned under a lock in commit order, so a reader resuming from a
//! cursor never skips an event that commits later with a smaller number.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::sealed::{open_str, seal_str};
use super::{Backend, Store};
use crate::account::Actor;
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::conversation::{Conversation, Message, MessageInput, Sent, StreamEvent, StreamKind};
use crate::ids::{AccountId, AttachmentId, ConversationId, MessageId, PatientId};
use crate::{Error, Millis, Result};

const STREAM_LOCK: i64 = 0x636f_7264_7374; // "cordst"
const MAX_BATCH: usize = 256;
const MESSAGES: &str = "messages";
const EDITS: &str = "message_edits";

macro_rules! message_columns {
    () => {
        "id, conversation_id, seq, sender_id, client_id, body, attachments, reply_to, mentions, urgent, version, created_at, edited_at, deleted_at"
    };
}

pub(crate) struct SendJob {
    actor: AccountId,
    conversation: ConversationId,
    key_owner: String,
    patient: Option<PatientId>,
    input: MessageInput,
    now: Millis,
    reply: oneshot::Sender<Result<Sent>>,
}

#[derive(Clone, Debug)]
pub struct MessageWriter {
    tx: mpsc::Sender<SendJob>,
}

impl MessageWriter {
    pub(crate) fn channel() -> (MessageWriter, mpsc::Receiver<SendJob>) {
        let (tx, rx) = mpsc::channel(8192);
        (MessageWriter { tx }, rx)
    }
}

pub(crate) async fn run(store: Store, mut rx: mpsc::Receiver<SendJob>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match store.commit_sends(&jobs).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // One bad send (a race on a client id between instances) must not
                // fail the others: retry each on its own.
                tracing::warn!(error = %e, size = jobs.len(), "message batch failed; retrying one by one");
                for job in jobs {
                    let single = std::slice::from_ref(&job);
                    let mut results = store
                        .commit_sends(single)
                        .await
                        .unwrap_or_else(|e| vec![Err(e)]);
                    let result = results
                        .pop()
                        .unwrap_or_else(|| Err(Error::Unavailable("message not stored".into())));
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Publication order: a device keeps the highest cursor it has seen and drops older
/// frames, so events must be published in cursor order. The database's stream lock
/// orders the commits but not the publications after them: a task woken late after
/// its commit (both cores busy) could publish cursor 7 after another task's 8, and
/// devices would silently drop 7. Each stream-writing path therefore holds
/// `Store::stream_order` from before its transaction begins (never while holding a
/// transaction, so it cannot deadlock with the single SQLite writer) until it has
/// published.
type StreamOrder = tokio::sync::OwnedMutexGuard<()>;

/// Takes the stream lock for the rest of `tx` and returns the last cursor.
pub(crate) async fn lock_stream(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
) -> Result<i64> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(STREAM_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let last: Option<i64> = sqlx::query_scalar("select max(cursor) from stream_events")
        .fetch_one(&mut **tx)
        .await?;
    Ok(last.unwrap_or(0))
}

pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    cursor: i64,
    conversation: ConversationId,
    kind: &str,
    message: Option<MessageId>,
    actor: AccountId,
    now: Millis,
) -> Result<()> {
    sqlx::query("insert into stream_events (cursor, conversation_id, kind, message_id, actor_id, created_at) values ($1, $2, $3, $4, $5, $6)")
        .bind(cursor)
        .bind(conversation.as_text())
        .bind(kind)
        .bind(message.map(|m| m.as_text()))
        .bind(actor.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The `message.created` events of a group commit, in one statement.
async fn insert_created_events(
    tx: &mut Transaction<'static, Any>,
    events: &[StreamEvent],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    // Placeholders only; every value is bound.
    let mut sql = String::from(
        "insert into stream_events (cursor, conversation_id, kind, message_id, actor_id, created_at) values ",
    );
    for i in 0..events.len() {
        let b = i * 5;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, 'message.created', ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5
        ));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for e in events {
        let StreamKind::MessageCreated(m) = &e.kind else {
            continue;
        };
        query = query
            .bind(e.cursor)
            .bind(e.conversation_id.as_text())
            .bind(m.id.as_text())
            .bind(m.sender_id.as_text())
            .bind(m.created_at.0);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

fn join_ids<T: ToString>(ids: &[T]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Sends a message; returns once it is committed. A retry with the same
    /// `client_id` returns the message the first try created.
    pub async fn send_message(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        input: MessageInput,
        now: Millis,
    ) -> Result<Sent> {
        if let Some(reply_to) = input.reply_to {
            let same: i64 = sqlx::query_scalar(
                "select count(*) from messages where id = $1 and conversation_id = $2",
            )
            .bind(reply_to.as_text())
            .bind(conversation.id.as_text())
            .fetch_one(self.db.reader())
            .await?;
            if same == 0 {
                return Err(Error::invalid(
                    "message.unknown_reply_to",
                    "reply_to is not a message of this conversation",
                ));
            }
        }
        if !input.mentions.is_empty() {
            let members = self.recipients(conversation.id, now).await?;
            if let Some(m) = input.mentions.iter().find(|m| !members.contains(m)) {
                return Err(Error::invalid(
                    "message.unknown_mention",
                    format!("{m} is not a member of this conversation"),
                ));
            }
        }
        for a in &input.attachments {
            let free: i64 = sqlx::query_scalar(
                "select count(*) from attachments where id = $1 and uploader_id = $2 and completed_at is not null \
                 and patient_id is null and entry_id is null and message_id is null",
            )
            .bind(a.as_text())
            .bind(actor.account_id.as_text())
            .fetch_one(self.db.reader())
            .await?;
            if free == 0 {
                return Err(Error::invalid(
                    "message.unknown_attachment",
                    format!("attachment {a} is not one of your uploads that is free to attach"),
                ));
            }
        }
        let (reply, answer) = oneshot::channel();
        let job = SendJob {
            actor: actor.account_id,
            conversation: conversation.id,
            key_owner: conversation.key_owner(),
            patient: conversation.patient_id,
            input,
            now,
            reply,
        };
        let unavailable = || Error::Unavailable("the message could not be stored".into());
        self.messages
            .tx
            .send(job)
            .await
            .map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }

    /// One group commit: every job's message, event and (for patient threads) audit
    /// record, in one transaction; then their live delivery.
    async fn commit_sends(&self, jobs: &[SendJob]) -> Result<Vec<Result<Sent>>> {
        let order = self.stream_order.lock().await;
        let mut tx = self.db.begin().await?;
        let mut cursor = lock_stream(&mut tx, self.db.backend()).await?;
        let mut results = Vec::with_capacity(jobs.len());
        let mut events = Vec::new();
        let mut audit = Vec::new();
        for job in jobs {
            let id = MessageId::new();
            let key = self.data_key_in(&mut tx, &job.key_owner).await?;
            let body = seal_str(&key, MESSAGES, &id.as_text(), "body", &job.input.body)?;
            // One statement: the next sequence number and the row, unless this
            // client id was used before (a retry), in which case nothing is written.
            let seq: Option<i64> = sqlx::query_scalar(
                "insert into messages (id, conversation_id, seq, sender_id, client_id, body, attachments, reply_to, mentions, urgent, version, created_at) \
                 select $1, c.id, c.last_seq + 1, $3, $4, $5, $6, $7, $8, $9, 1, $10 from conversations c where c.id = $2 \
                 on conflict (sender_id, client_id) do nothing returning seq",
            )
            .bind(id.as_text())
            .bind(job.conversation.as_text())
            .bind(job.actor.as_text())
            .bind(&job.input.client_id)
            .bind(body)
            .bind(join_ids(&job.input.attachments))
            .bind(job.input.reply_to.map(|r| r.as_text()))
            .bind(join_ids(&job.input.mentions))
            .bind(i64::from(job.input.urgent))
            .bind(job.now.0)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(seq) = seq else {
                let row = sqlx::query(concat!(
                    "select ",
                    message_columns!(),
                    " from messages where sender_id = $1 and client_id = $2"
                ))
                .bind(job.actor.as_text())
                .bind(&job.input.client_id)
                .fetch_one(&mut *tx)
                .await?;
                let existing = self.message_from_row(&row).await?;
                results.push(if existing.conversation_id == job.conversation {
                    Ok(Sent::Existing(existing))
                } else {
                    Err(Error::conflict(
                        "message.client_id_reused",
                        "this client_id was used for another conversation",
                    ))
                });
                continue;
            };
            sqlx::query("update conversations set last_seq = $1 where id = $2")
                .bind(seq)
                .bind(job.conversation.as_text())
                .execute(&mut *tx)
                .await?;
            let mut bound = 0u64;
            for a in &job.input.attachments {
                bound += sqlx::query(
                    "update attachments set message_id = $1, patient_id = $2 where id = $3 and uploader_id = $4 \
                     and patient_id is null and entry_id is null and message_id is null",
                )
                .bind(id.as_text())
                .bind(job.patient.map(|p| p.as_text()))
                .bind(a.as_text())
                .bind(job.actor.as_text())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            if bound != job.input.attachments.len() as u64 {
                return Err(Error::invalid(
                    "message.unknown_attachment",
                    "an attachment was attached elsewhere meanwhile",
                ));
            }
            cursor += 1;
            if let Some(patient) = job.patient {
                audit.push(
                    AuditEvent::new(
                        job.now,
                        Some(job.actor),
                        "message.create",
                        Purpose::Care,
                        Outcome::Allowed,
                    )
                    .patient(patient)
                    .resource("message", id),
                );
            }
            let message = Message {
                id,
                conversation_id: job.conversation,
                seq,
                client_id: job.input.client_id.clone(),
                sender_id: job.actor,
                body: job.input.body.clone(),
                attachments: job.input.attachments.clone(),
                reply_to: job.input.reply_to,
                mentions: job.input.mentions.clone(),
                urgent: job.input.urgent,
                version: 1,
                created_at: job.now,
                edited_at: None,
                deleted_at: None,
            };
            events.push(StreamEvent {
                cursor,
                conversation_id: job.conversation,
                patient_id: job.patient,
                kind: StreamKind::MessageCreated(message.clone()),
            });
            results.push(Ok(Sent::Created(message)));
        }
        insert_created_events(&mut tx, &events).await?;
        if !audit.is_empty() {
            self.audit_in(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        for e in events {
            self.publish_stream(e);
        }
        drop(order);
        Ok(results)
    }

    /// One message row, its key looked up (one query for the conversation).
    pub(crate) async fn message_from_row(&self, row: &AnyRow) -> Result<Message> {
        let conversation_id = ConversationId::parse(&row.try_get::<String, _>("conversation_id")?)
            .ok_or(Error::not_found("conversation"))?;
        let key = self
            .data_key(&self.key_owner_of(conversation_id).await?)
            .await?;
        message_with_key(&key, row)
    }

    async fn key_owner_of(&self, conversation: ConversationId) -> Result<String> {
        let patient: Option<Option<String>> =
            sqlx::query_scalar("select patient_id from conversations where id = $1")
                .bind(conversation.as_text())
                .fetch_optional(self.db.reader())
                .await?;
        Ok(key_owner(conversation, patient.flatten().as_deref()))
    }

    /// Every message of a conversation in order (for the patient's export).
    pub(crate) async fn all_messages(&self, conversation: &Conversation) -> Result<Vec<Message>> {
        let rows = sqlx::query(concat!(
            "select ",
            message_columns!(),
            " from messages where conversation_id = $1 order by seq"
        ))
        .bind(conversation.id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let key = self.data_key(&conversation.key_owner()).await?;
        rows.iter().map(|row| message_with_key(&key, row)).collect()
    }

    /// Messages of a conversation by sequence: the newest `limit` before `before`, or
    /// the oldest `limit` after `after` (both exclusive, as message ids).
    pub async fn list_messages(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        after: Option<MessageId>,
        before: Option<MessageId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<Message>> {
        let limit = limit.clamp(1, 200);
        let seq_of = |id: Option<MessageId>| async move {
            match id {
                None => Ok::<Option<i64>, Error>(None),
                Some(id) => sqlx::query_scalar::<_, i64>(
                    "select seq from messages where id = $1 and conversation_id = $2",
                )
                .bind(id.as_text())
                .bind(conversation.id.as_text())
                .fetch_optional(self.db.reader())
                .await?
                .map(Some)
                .ok_or(Error::invalid(
                    "message.unknown_cursor",
                    "after/before must be a message of this conversation",
                )),
            }
        };
        let after_seq = seq_of(after).await?;
        let before_seq = seq_of(before).await?;
        let rows = if let Some(a) = after_seq {
            sqlx::query(concat!("select ", message_columns!(), " from messages where conversation_id = $1 and seq > $2 and seq < $3 order by seq asc limit $4"))
                .bind(conversation.id.as_text())
                .bind(a)
                .bind(before_seq.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?
        } else {
            let mut rows = sqlx::query(concat!(
                "select ",
                message_columns!(),
                " from messages where conversation_id = $1 and seq < $2 order by seq desc limit $3"
            ))
            .bind(conversation.id.as_text())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
            rows.reverse();
            rows
        };
        let key = self.data_key(&conversation.key_owner()).await?;
        let out = rows
            .iter()
            .map(|row| message_with_key(&key, row))
            .collect::<Result<Vec<_>>>()?;
        if let Some(patient) = conversation.patient_id {
            self.audit(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    "message.list",
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("conversation", conversation.id)
                .detail(format!("returned={}", out.len())),
            )
            .await?;
        }
        Ok(out)
    }

    /// Edits the sender's own message; the earlier body is kept in the history.
    pub async fn edit_message(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        id: MessageId,
        body: &str,
        max_bytes: usize,
        now: Millis,
    ) -> Result<Message> {
        if body.trim().is_empty() || body.len() > max_bytes {
            return Err(Error::invalid(
                "message.too_large",
                format!("a message body is 1 to {max_bytes} bytes"),
            ));
        }
        let (order, mut tx, old) = self
            .senders_message(actor, conversation, id, "edits")
            .await?;
        if old.deleted_at.is_some() {
            return Err(Error::conflict(
                "message.deleted",
                "a deleted message cannot be edited",
            ));
        }
        let key = self.data_key_in(&mut tx, &conversation.key_owner()).await?;
        sqlx::query("insert into message_edits (message_id, version, body, edited_at) values ($1, $2, $3, $4)")
            .bind(id.as_text())
            .bind(old.version)
            .bind(seal_str(&key, EDITS, &format!("{id}:{}", old.version), "body", &old.body)?)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "update messages set body = $1, version = version + 1, edited_at = $2 where id = $3",
        )
        .bind(seal_str(&key, MESSAGES, &id.as_text(), "body", body)?)
        .bind(now.0)
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        let version = old.version + 1;
        let message = Message {
            body: body.to_string(),
            version,
            edited_at: Some(now),
            ..old
        };
        self.commit_change(
            order,
            tx,
            actor,
            conversation,
            "message.edit",
            Some(format!("version={version}")),
            StreamKind::MessageUpdated(message.clone()),
            now,
        )
        .await?;
        Ok(message)
    }

    /// Earlier bodies of a message, oldest first.
    pub async fn message_history(
        &self,
        conversation: &Conversation,
        id: MessageId,
    ) -> Result<Vec<(i64, String, Millis)>> {
        let rows = sqlx::query(
            "select e.version, e.body, e.edited_at from message_edits e join messages m on m.id = e.message_id \
             where e.message_id = $1 and m.conversation_id = $2 order by e.version",
        )
        .bind(id.as_text())
        .bind(conversation.id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let key = self.data_key(&conversation.key_owner()).await?;
        rows.iter()
            .map(|r| {
                let v: i64 = r.try_get("version")?;
                let body = open_str(
                    &key,
                    EDITS,
                    &format!("{id}:{v}"),
                    "body",
                    &r.try_get::<Vec<u8>, _>("body")?,
                )?;
                Ok((v, body, Millis(r.try_get("edited_at")?)))
            })
            .collect()
    }

    /// Deletes the sender's message: the body and its history are destroyed, a
    /// tombstone (who, when, position) stays.
    pub async fn delete_message(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        id: MessageId,
        now: Millis,
    ) -> Result<Message> {
        let (order, mut tx, old) = self
            .senders_message(actor, conversation, id, "deletes")
            .await?;
        if old.deleted_at.is_some() {
            return Ok(old);
        }
        sqlx::query("delete from message_edits where message_id = $1")
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("update messages set body = $1, deleted_at = $2 where id = $3")
            .bind(Vec::<u8>::new())
            .bind(now.0)
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        let message = Message {
            body: String::new(),
            deleted_at: Some(now),
            ..old
        };
        self.commit_change(
            order,
            tx,
            actor,
            conversation,
            "message.delete",
            None,
            StreamKind::MessageDeleted(message.clone()),
            now,
        )
        .await?;
        Ok(message)
    }

    /// Opens the transaction of a change to a message and checks that the actor sent
    /// it. `verb` completes "only the sender … a message".
    async fn senders_message(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        id: MessageId,
        verb: &str,
    ) -> Result<(StreamOrder, Transaction<'static, Any>, Message)> {
        let order = self.stream_order.clone().lock_owned().await;
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(concat!(
            "select ",
            message_columns!(),
            " from messages where id = $1 and conversation_id = $2"
        ))
        .bind(id.as_text())
        .bind(conversation.id.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found("message"))?;
        let message = self.message_from_row(&row).await?;
        if message.sender_id != actor.account_id {
            return Err(Error::forbidden(
                "message.not_sender",
                format!("only the sender {verb} a message"),
            ));
        }
        Ok((order, tx, message))
    }

    /// Ends a change to a message: its stream event (cursor under the lock), its
    /// audit record for patient threads, the commit, then live delivery.
    #[allow(clippy::too_many_arguments)]
    async fn commit_change(
        &self,
        order: StreamOrder,
        mut tx: Transaction<'static, Any>,
        actor: &Actor,
        conversation: &Conversation,
        action: &str,
        detail: Option<String>,
        kind: StreamKind,
        now: Millis,
    ) -> Result<()> {
        let (StreamKind::MessageUpdated(m) | StreamKind::MessageDeleted(m)) = &kind else {
            return Err(Error::invalid(
                "message.unknown_change",
                "not a change to a message",
            ));
        };
        let cursor = lock_stream(&mut tx, self.db.backend()).await? + 1;
        insert_event(
            &mut tx,
            cursor,
            conversation.id,
            kind.name(),
            Some(m.id),
            actor.account_id,
            now,
        )
        .await?;
        if let Some(patient) = conversation.patient_id {
            let mut event = AuditEvent::new(
                now,
                Some(actor.account_id),
                action,
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("message", m.id);
            if let Some(d) = detail {
                event = event.detail(d);
            }
            self.audit_in(&mut tx, &[event]).await?;
        }
        tx.commit().await?;
        self.publish_stream(StreamEvent {
            cursor,
            conversation_id: conversation.id,
            patient_id: conversation.patient_id,
            kind,
        });
        drop(order);
        Ok(())
    }

    /// Moves the actor's read position forward and tells the other members.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        up_to: MessageId,
        now: Millis,
    ) -> Result<i64> {
        let seq: i64 =
            sqlx::query_scalar("select seq from messages where id = $1 and conversation_id = $2")
                .bind(up_to.as_text())
                .bind(conversation.id.as_text())
                .fetch_optional(self.db.reader())
                .await?
                .ok_or(Error::invalid(
                    "message.unknown_cursor",
                    "up_to must be a message of this conversation",
                ))?;
        let order = self.stream_order.lock().await;
        let mut tx = self.db.begin().await?;
        let mut cursor = lock_stream(&mut tx, self.db.backend()).await?;
        sqlx::query(
            "insert into conversation_members (conversation_id, account_id, role, joined_at, last_read_seq) values ($1, $2, 'member', $3, $4) \
             on conflict (conversation_id, account_id) do update set last_read_seq = excluded.last_read_seq \
             where conversation_members.last_read_seq < excluded.last_read_seq",
        )
        .bind(conversation.id.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        cursor += 1;
        insert_event(
            &mut tx,
            cursor,
            conversation.id,
            "receipt",
            Some(up_to),
            actor.account_id,
            now,
        )
        .await?;
        tx.commit().await?;
        self.publish_stream(StreamEvent {
            cursor,
            conversation_id: conversation.id,
            patient_id: conversation.patient_id,
            kind: StreamKind::Receipt {
                account_id: actor.account_id,
                up_to_seq: seq,
            },
        });
        drop(order);
        Ok(seq)
    }

    /// Every committed event with `after < cursor <= up_to` (at most `limit`), in
    /// cursor order, whoever may read it: for the live fan-out, which decides the
    /// audience itself. Committed cursors always form an unbroken sequence (each is
    /// `max + 1` taken under the stream lock, held until commit), so a range read
    /// from here never skips one that will commit later.
    pub async fn stream_between(
        &self,
        after: i64,
        up_to: i64,
        limit: i64,
    ) -> Result<Vec<StreamEvent>> {
        let rows = sqlx::query(
            "select e.cursor, e.conversation_id, c.patient_id, e.kind, e.message_id, e.actor_id from stream_events e \
             join conversations c on c.id = e.conversation_id where e.cursor > $1 and e.cursor <= $2 order by e.cursor limit $3",
        )
        .bind(after)
        .bind(up_to)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        let messages = self.messages_of_events(&rows).await?;
        rows.iter()
            .map(|row| event_from_row(row, &messages))
            .collect()
    }

    /// Committed events after `since` in the conversations the actor may read now,
    /// in cursor order: what a reconnecting client missed.
    pub async fn stream_since(
        &self,
        actor: &Actor,
        since: i64,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<StreamEvent>> {
        let rows = sqlx::query(concat!(
            "select e.cursor, e.conversation_id, c.patient_id, e.kind, e.message_id, e.actor_id from stream_events e ",
            "join conversations c on c.id = e.conversation_id where e.cursor > $4 and ",
            crate::visible_conversation_sql!(),
            " order by e.cursor limit $5"
        ))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(super::conversations::group_param(actor))
        .bind(since)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        let messages = self.messages_of_events(&rows).await?;
        rows.iter()
            .map(|row| event_from_row(row, &messages))
            .collect()
    }

    /// The messages the events of one page refer to, read in one statement and each
    /// opened with its conversation's key (looked up once per conversation): a
    /// phone catching up on 500 events costs two statements, not a thousand.
    async fn messages_of_events(&self, rows: &[AnyRow]) -> Result<HashMap<MessageId, Message>> {
        let mut owners: HashMap<String, String> = HashMap::new();
        let mut ids: Vec<String> = Vec::new();
        for row in rows {
            let Some(id) = row.try_get::<Option<String>, _>("message_id")? else {
                continue;
            };
            let conversation: String = row.try_get("conversation_id")?;
            let patient: Option<String> = row.try_get("patient_id")?;
            owners.entry(conversation.clone()).or_insert_with(|| {
                ConversationId::parse(&conversation)
                    .map(|c| key_owner(c, patient.as_deref()))
                    .unwrap_or_default()
            });
            ids.push(id);
        }
        ids.sort_unstable();
        ids.dedup();
        let mut out = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "select {} from messages where id in ({})",
            message_columns!(),
            super::placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(id.clone());
        }
        let found = query.persistent(false).fetch_all(self.db.reader()).await?;
        let mut keys: HashMap<String, Arc<cordee_crypto::DataKey>> = HashMap::new();
        for row in &found {
            let conversation: String = row.try_get("conversation_id")?;
            let Some(owner) = owners.get(&conversation) else {
                continue;
            };
            let key = match keys.get(owner) {
                Some(k) => Arc::clone(k),
                None => {
                    let k = self.data_key(owner).await?;
                    keys.insert(owner.clone(), Arc::clone(&k));
                    k
                }
            };
            let message = message_with_key(&key, row)?;
            out.insert(message.id, message);
        }
        Ok(out)
    }
}

/// A stream event row (with its conversation's `patient_id`) and the message it
/// refers to, if any.
fn event_from_row(row: &AnyRow, messages: &HashMap<MessageId, Message>) -> Result<StreamEvent> {
    let cursor: i64 = row.try_get("cursor")?;
    let conversation_id = ConversationId::parse(&row.try_get::<String, _>("conversation_id")?)
        .ok_or(Error::not_found("conversation"))?;
    let kind: String = row.try_get("kind")?;
    let message_id = row
        .try_get::<Option<String>, _>("message_id")?
        .and_then(|m| MessageId::parse(&m));
    let actor = row
        .try_get::<Option<String>, _>("actor_id")?
        .and_then(|a| AccountId::parse(&a));
    let message = message_id.and_then(|id| messages.get(&id).cloned());
    let kind = match (kind.as_str(), message, actor) {
        ("message.created", Some(m), _) => StreamKind::MessageCreated(m),
        ("message.updated", Some(m), _) => StreamKind::MessageUpdated(m),
        ("message.deleted", Some(m), _) => StreamKind::MessageDeleted(m),
        ("receipt", Some(m), Some(a)) => StreamKind::Receipt {
            account_id: a,
            up_to_seq: m.seq,
        },
        _ => StreamKind::ConversationUpdated,
    };
    let patient_id = row
        .try_get::<Option<String>, _>("patient_id")?
        .and_then(|p| PatientId::parse(&p));
    Ok(StreamEvent {
        cursor,
        conversation_id,
        patient_id,
        kind,
    })
}

impl Store {
    /// Committed stream events, as they commit (this process only).
    pub fn stream(&self) -> broadcast::Receiver<Arc<StreamEvent>> {
        self.stream.subscribe()
    }

    fn publish_stream(&self, event: StreamEvent) {
        let _ = self.stream.send(Arc::new(event));
    }

    /// The newest cursor (a client with nothing stored starts here).
    pub async fn stream_head(&self) -> Result<i64> {
        let last: Option<i64> = sqlx::query_scalar("select max(cursor) from stream_events")
            .fetch_one(self.db.reader())
            .await?;
        Ok(last.unwrap_or(0))
    }
}

/// A message row opened with its conversation's (or patient's) data key.
fn message_with_key(key: &cordee_crypto::DataKey, row: &AnyRow) -> Result<Message> {
    let id =
        MessageId::parse(&row.try_get::<String, _>("id")?).ok_or(Error::not_found("message"))?;
    let conversation_id = ConversationId::parse(&row.try_get::<String, _>("conversation_id")?)
        .ok_or(Error::not_found("conversation"))?;
    let deleted_at = row.try_get::<Option<i64>, _>("deleted_at")?.map(Millis);
    let body = if deleted_at.is_some() {
        String::new()
    } else {
        open_str(
            key,
            MESSAGES,
            &id.as_text(),
            "body",
            &row.try_get::<Vec<u8>, _>("body")?,
        )?
    };
    let ids = |text: String| -> Vec<String> {
        text.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    Ok(Message {
        id,
        conversation_id,
        seq: row.try_get("seq")?,
        client_id: row.try_get("client_id")?,
        sender_id: AccountId::parse(&row.try_get::<String, _>("sender_id")?)
            .ok_or(Error::not_found("account"))?,
        body,
        attachments: ids(row.try_get("attachments")?)
            .iter()
            .filter_map(|a| AttachmentId::parse(a))
            .collect(),
        reply_to: row
            .try_get::<Option<String>, _>("reply_to")?
            .and_then(|r| MessageId::parse(&r)),
        mentions: ids(row.try_get("mentions")?)
            .iter()
            .filter_map(|a| AccountId::parse(a))
            .collect(),
        urgent: row.try_get::<i64, _>("urgent")? != 0,
        version: row.try_get("version")?,
        created_at: Millis(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(Millis),
        deleted_at,
    })
}

/// Whose data key seals a conversation's messages: its patient's, or its own.
fn key_owner(conversation: ConversationId, patient: Option<&str>) -> String {
    match patient {
        Some(p) => format!("patient:{p}"),
        None => format!("conversation:{conversation}"),
    }
}
