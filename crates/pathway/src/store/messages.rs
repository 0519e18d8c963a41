//! Messages: sending (through the group commit, `message_writer.rs`), pages, edits
//! with their history, deletion as a tombstone, read positions.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::oneshot;

use super::Store;
use super::message_writer::{MESSAGE_COLUMNS, MESSAGES};
use super::sealed::{open_str, seal_str};
use super::stream::{EventRow, insert_event, lock_stream};
use super::tx::Tx;
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::conversation::{Conversation, Message, MessageInput, Sent};
use crate::error::Noun;
use crate::ids::{AccountId, AttachmentId, ConversationId, MessageId};
use crate::stream::{StreamEvent, StreamKind, Topic};
use crate::{Error, Millis, Result};

const EDITS: &str = "message_edits";

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
            let audience = self.audience(conversation.id, now).await?;
            if let Some(m) = input
                .mentions
                .iter()
                .find(|m| !audience.members.contains(m))
            {
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
        let job = super::message_writer::SendJob {
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

    /// One message row, its key looked up (one query for the conversation).
    pub(crate) async fn message_from_row(&self, row: &AnyRow) -> Result<Message> {
        let conversation_id = ConversationId::parse(&row.try_get::<String, _>("conversation_id")?)
            .ok_or(Error::not_found(Noun::Conversation))?;
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
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {MESSAGE_COLUMNS} from messages where conversation_id = $1 order by seq"
        )))
        .bind(conversation.id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let key = self.data_key(&conversation.key_owner()).await?;
        rows.iter().map(|row| message_with_key(&key, row)).collect()
    }

    /// Messages of a conversation in `seq` order: the newest `limit` before `before`,
    /// or the oldest `limit` after `after` (both exclusive, as message ids); and
    /// whether more lie beyond the page in the direction read.
    pub async fn list_messages(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        after: Option<MessageId>,
        before: Option<MessageId>,
        limit: i64,
        now: Millis,
    ) -> Result<(Vec<Message>, bool)> {
        let limit = limit.max(1);
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
        let page = usize::try_from(limit).unwrap_or(usize::MAX);
        let (rows, more) = if let Some(a) = after_seq {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("select {MESSAGE_COLUMNS} from messages where conversation_id = $1 and seq > $2 and seq < $3 order by seq asc limit $4")))
                .bind(conversation.id.as_text())
                .bind(a)
                .bind(before_seq.unwrap_or(i64::MAX))
                .bind(limit + 1)
                .fetch_all(self.db.reader())
                .await?;
            let more = rows.len() > page;
            (rows, more)
        } else {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "select {MESSAGE_COLUMNS} from messages where conversation_id = $1 and seq < $2 order by seq desc limit $3"
            )))
            .bind(conversation.id.as_text())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit + 1)
            .fetch_all(self.db.reader())
            .await?;
            // Newest first: the extra row, if any, is the oldest.
            let more = rows.len() > page;
            rows.truncate(page);
            rows.reverse();
            (rows, more)
        };
        let key = self.data_key(&conversation.key_owner()).await?;
        let out = rows
            .iter()
            .take(page)
            .map(|row| message_with_key(&key, row))
            .collect::<Result<Vec<_>>>()?;
        if let Some(patient) = conversation.patient_id {
            self.audit(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    Action::MessageList,
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("conversation", conversation.id)
                .detail(format!("returned={}", out.len())),
            )
            .await?;
        }
        Ok((out, more))
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
        let (mut tx, old) = self
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
            tx,
            actor,
            conversation,
            Action::MessageEdit,
            Some(format!("version={version}")),
            StreamKind::MessageUpdated(message.clone()),
            now,
        )
        .await?;
        Ok(message)
    }

    /// Earlier bodies of a message, oldest first. In a patient thread they are
    /// patient data: reading them is audited.
    pub async fn message_history(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        id: MessageId,
        after_version: Option<i64>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<(i64, String, Millis)>> {
        let rows = sqlx::query(
            "select e.version, e.body, e.edited_at from message_edits e join messages m on m.id = e.message_id \
             where e.message_id = $1 and m.conversation_id = $2 and e.version > $3 order by e.version limit $4",
        )
        .bind(id.as_text())
        .bind(conversation.id.as_text())
        .bind(after_version.unwrap_or(0))
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        let key = self.data_key(&conversation.key_owner()).await?;
        if let Some(patient) = conversation.patient_id {
            self.audit(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    Action::MessageHistory,
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("message", id),
            )
            .await?;
        }
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
        let (mut tx, old) = self
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
            tx,
            actor,
            conversation,
            Action::MessageDelete,
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
    ) -> Result<(Tx, Message)> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {MESSAGE_COLUMNS} from messages where id = $1 and conversation_id = $2"
        )))
        .bind(id.as_text())
        .bind(conversation.id.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found(Noun::Message))?;
        let message = self.message_from_row(&row).await?;
        if message.sender_id != actor.account_id {
            return Err(Error::forbidden(
                "message.not_sender",
                format!("only the sender {verb} a message"),
            ));
        }
        Ok((tx, message))
    }

    /// Ends a change to a message: its stream event (cursor under the lock), its
    /// audit record for patient threads, the commit, then live delivery.
    #[allow(clippy::too_many_arguments)]
    async fn commit_change(
        &self,
        mut tx: Tx,
        actor: &Actor,
        conversation: &Conversation,
        action: Action,
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
        let topic = Topic::Conversation {
            id: conversation.id,
            patient: conversation.patient_id,
        };
        insert_event(
            &mut tx,
            EventRow {
                cursor,
                topic: &topic,
                kind: kind.name(),
                message: Some(m.id),
                subject: None,
                payload: None,
                actor: Some(actor.account_id),
                now,
            },
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
        tx.stream_after_commit(StreamEvent {
            cursor,
            topic,
            kind,
        });
        tx.commit(self).await
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
        let mut tx = self.begin().await?;
        let cursor = lock_stream(&mut tx, self.db.backend()).await? + 1;
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
        let topic = Topic::Conversation {
            id: conversation.id,
            patient: conversation.patient_id,
        };
        insert_event(
            &mut tx,
            EventRow {
                cursor,
                topic: &topic,
                kind: "receipt",
                message: Some(up_to),
                subject: None,
                payload: None,
                actor: Some(actor.account_id),
                now,
            },
        )
        .await?;
        tx.stream_after_commit(StreamEvent {
            cursor,
            topic,
            kind: StreamKind::Receipt {
                account_id: actor.account_id,
                up_to_seq: seq,
            },
        });
        tx.commit(self).await?;
        Ok(seq)
    }

    /// The messages the events of one page refer to, read in one statement and each
    /// opened with its conversation's key (looked up once per conversation): a
    /// phone catching up on 500 events costs two statements, not a thousand.
    pub(super) async fn messages_of_events(
        &self,
        rows: &[AnyRow],
    ) -> Result<HashMap<MessageId, Message>> {
        let mut owners: HashMap<String, String> = HashMap::new();
        let mut ids: Vec<String> = Vec::new();
        for row in rows {
            let Some(id) = row.try_get::<Option<String>, _>("message_id")? else {
                continue;
            };
            let Some(conversation) = row.try_get::<Option<String>, _>("conversation_id")? else {
                continue;
            };
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
            MESSAGE_COLUMNS,
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

/// A message row opened with its conversation's (or patient's) data key.
fn message_with_key(key: &cordee_crypto::DataKey, row: &AnyRow) -> Result<Message> {
    let id = MessageId::parse(&row.try_get::<String, _>("id")?)
        .ok_or(Error::not_found(Noun::Message))?;
    let conversation_id = ConversationId::parse(&row.try_get::<String, _>("conversation_id")?)
        .ok_or(Error::not_found(Noun::Conversation))?;
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
            .ok_or(Error::not_found(Noun::Account))?,
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
