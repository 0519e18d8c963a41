//! The group commit of sends: one writer task per process commits the messages that
//! arrived meanwhile in one transaction (one fsync for many messages), answers each
//! sender only after the commit, then publishes the events for live delivery.

use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::Store;
use super::sealed::seal_str;
use super::stream::lock_stream;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::conversation::{Message, MessageInput, Sent};
use crate::ids::{AccountId, ConversationId, MessageId, PatientId};
use crate::stream::{StreamEvent, StreamKind, Topic};
use crate::{Error, Millis, Result};

const MAX_BATCH: usize = 256;

/// The messages table and its columns: written here, read by `messages.rs`.
pub(super) const MESSAGES: &str = "messages";
pub(super) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, sender_id, client_id, body, attachments, reply_to, mentions, urgent, version, created_at, edited_at, deleted_at";

/// Attachment and mention ids as one stored column.
fn join_ids<T: ToString>(ids: &[T]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) struct SendJob {
    pub(super) actor: AccountId,
    pub(super) conversation: ConversationId,
    pub(super) key_owner: String,
    pub(super) patient: Option<PatientId>,
    pub(super) input: MessageInput,
    pub(super) now: Millis,
    pub(super) reply: oneshot::Sender<Result<Sent>>,
}

#[derive(Clone, Debug)]
pub struct MessageWriter {
    pub(super) tx: mpsc::Sender<SendJob>,
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

/// The `message.created` events of a group commit, in one statement.
async fn insert_created_events(conn: &mut AnyConnection, events: &[StreamEvent]) -> Result<()> {
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
        let (StreamKind::MessageCreated(m), Topic::Conversation { id, .. }) = (&e.kind, &e.topic)
        else {
            continue;
        };
        query = query
            .bind(e.cursor)
            .bind(id.as_text())
            .bind(m.id.as_text())
            .bind(m.sender_id.as_text())
            .bind(m.created_at.0);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

impl Store {
    /// One group commit: every job's message, event and (for patient threads) audit
    /// record, in one transaction; then their live delivery.
    async fn commit_sends(&self, jobs: &[SendJob]) -> Result<Vec<Result<Sent>>> {
        let mut tx = self.begin().await?;
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
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {MESSAGE_COLUMNS} from messages where sender_id = $1 and client_id = $2"
                )))
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
            sqlx::query(
                "update conversations set last_seq = $1, last_message_at = $2 where id = $3",
            )
            .bind(seq)
            .bind(job.now.0)
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
                        Action::MessageCreate,
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
                topic: Topic::Conversation {
                    id: job.conversation,
                    patient: job.patient,
                },
                kind: StreamKind::MessageCreated(message.clone()),
            });
            results.push(Ok(Sent::Created(message)));
        }
        insert_created_events(&mut tx, &events).await?;
        if !audit.is_empty() {
            self.audit_in(&mut tx, &audit).await?;
        }
        for e in events {
            tx.stream_after_commit(e);
        }
        tx.commit(self).await?;
        Ok(results)
    }
}
