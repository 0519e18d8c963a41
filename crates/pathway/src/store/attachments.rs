//! Attachments (photos, PDF): each has its own data key, its bytes are sealed in
//! chunks as they arrive and opened chunk by chunk as they leave, so neither an
//! upload nor a download holds the whole file in memory or a write lock for long.
//! Erasing a patient destroys the keys of the attachments bound to them.

use std::sync::Arc;

use cordee_crypto::DataKey;
use serde::Serialize;
use sqlx::Row;

use super::Store;
use super::access::{Audited, Gate};
use super::sealed::{attachment_owner, open, seal};
use crate::access::{PatientAccess, Reach};
use crate::account::Actor;
use crate::attachment::sniff;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::error::Noun;
use crate::ids::{AccountId, AttachmentId, EntryId, MessageId, PatientId};
use crate::{Error, Millis, Result};

const CHUNKS: &str = "attachment_chunks";

/// An upload in progress.
pub struct Upload {
    pub id: AttachmentId,
    pub content_type: &'static str,
    key: Arc<DataKey>,
    uploader: AccountId,
    chunks: i64,
    size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    pub content_type: String,
    pub size: i64,
    pub chunks: i64,
    pub uploader_id: AccountId,
    pub patient_id: Option<PatientId>,
    pub entry_id: Option<EntryId>,
    pub message_id: Option<MessageId>,
    pub created_at: Millis,
}

impl Upload {
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Store {
    /// Starts an upload from its first bytes, which decide its type (magic bytes,
    /// not the declared Content-Type).
    pub async fn begin_upload(&self, actor: &Actor, first: &[u8], now: Millis) -> Result<Upload> {
        let content_type = sniff(first).ok_or_else(|| {
            Error::invalid(
                "attachment.unsupported_type",
                "only JPEG, PNG, WebP, HEIC/HEIF images and PDF documents are accepted",
            )
        })?;
        let id = AttachmentId::new();
        let mut tx = self.begin().await?;
        let key = self
            .create_data_key(&mut tx, &attachment_owner(id), now)
            .await?;
        sqlx::query(
            "insert into attachments (id, uploader_id, content_type, size, chunks, created_at) values ($1, $2, $3, 0, 0, $4)",
        )
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .bind(content_type)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit(self).await?;
        Ok(Upload {
            id,
            content_type,
            key,
            uploader: actor.account_id,
            chunks: 0,
            size: 0,
        })
    }

    /// Seals and stores the next chunk (each its own short transaction).
    pub async fn upload_chunk(&self, upload: &mut Upload, bytes: &[u8]) -> Result<()> {
        let n = upload.chunks;
        let sealed = seal(
            &upload.key,
            CHUNKS,
            &format!("{}:{n}", upload.id),
            "data",
            bytes,
        )?;
        sqlx::query("insert into attachment_chunks (attachment_id, n, data) values ($1, $2, $3)")
            .bind(upload.id.as_text())
            .bind(n)
            .bind(sealed)
            .execute(self.db.writer())
            .await?;
        upload.chunks += 1;
        upload.size += bytes.len() as u64;
        Ok(())
    }

    /// Completes the upload: from now on it can be attached and served.
    pub async fn finish_upload(&self, upload: Upload, now: Millis) -> Result<AttachmentMeta> {
        let size = i64::try_from(upload.size).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        sqlx::query(
            "update attachments set size = $1, chunks = $2, completed_at = $3 where id = $4",
        )
        .bind(size)
        .bind(upload.chunks)
        .bind(now.0)
        .bind(upload.id.as_text())
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(upload.uploader),
                Action::AttachmentUpload,
                Purpose::Care,
                Outcome::Allowed,
            )
            .resource("attachment", upload.id)
            .detail(format!("type={} size={size}", upload.content_type))],
        )
        .await?;
        tx.commit(self).await?;
        Ok(AttachmentMeta {
            id: upload.id,
            content_type: upload.content_type.to_string(),
            size,
            chunks: upload.chunks,
            uploader_id: upload.uploader,
            patient_id: None,
            entry_id: None,
            message_id: None,
            created_at: now,
        })
    }

    async fn attachment_meta(&self, id: AttachmentId) -> Result<Option<AttachmentMeta>> {
        let row = sqlx::query(
            "select id, content_type, size, chunks, uploader_id, patient_id, entry_id, message_id, created_at \
             from attachments where id = $1 and completed_at is not null",
        )
        .bind(id.as_text())
        .fetch_optional(self.db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let opt =
            |name: &str| -> Result<Option<String>> { Ok(row.try_get::<Option<String>, _>(name)?) };
        Ok(Some(AttachmentMeta {
            id,
            content_type: row.try_get("content_type")?,
            size: row.try_get("size")?,
            chunks: row.try_get("chunks")?,
            uploader_id: AccountId::parse(&row.try_get::<String, _>("uploader_id")?)
                .ok_or(Error::not_found(Noun::Attachment))?,
            patient_id: opt("patient_id")?.and_then(|p| PatientId::parse(&p)),
            entry_id: opt("entry_id")?.and_then(|e| EntryId::parse(&e)),
            message_id: opt("message_id")?.and_then(|m| MessageId::parse(&m)),
            created_at: Millis(row.try_get("created_at")?),
        }))
    }

    /// The attachment if the actor may read what holds it: the entry (file rules),
    /// the message (conversation access), or, while unattached, the uploader. Reads
    /// of a patient's attachments are audited, and so are refusals.
    pub async fn attachment_for_read(
        &self,
        actor: &Actor,
        id: AttachmentId,
        now: Millis,
    ) -> Result<AttachmentMeta> {
        let meta = self
            .attachment_meta(id)
            .await?
            .ok_or(Error::not_found(Noun::Attachment))?;
        let Some(patient) = meta.patient_id else {
            return match meta.message_id {
                Some(message)
                    if self
                        .message_attachment_readable(actor, message, now)
                        .await? =>
                {
                    Ok(meta)
                }
                None if meta.uploader_id == actor.account_id => Ok(meta),
                _ => Err(Error::not_found(Noun::Attachment)),
            };
        };
        self.patient_read(
            actor,
            patient,
            Action::AttachmentRead,
            Gate::Reach(Reach::Identity),
            now,
            async |_: &PatientAccess| {
                let readable = match (meta.entry_id, meta.message_id) {
                    (Some(entry), _) => {
                        let mut conn = self.db.reader().acquire().await?;
                        self.readable_entry(&mut conn, actor, patient, entry, now)
                            .await?
                            .is_some()
                    }
                    (None, Some(message)) => {
                        self.message_attachment_readable(actor, message, now)
                            .await?
                    }
                    (None, None) => false,
                };
                if !readable {
                    return Err(Error::not_found(Noun::Attachment));
                }
                Ok(Audited::new(meta.clone()).resource("attachment", id))
            },
        )
        .await
        // The caller asked for an attachment: whatever hides it, it is not found.
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::not_found(Noun::Attachment),
            other => other,
        })
    }

    /// Chunk `n` of an attachment the caller was allowed to read.
    pub async fn attachment_chunk(&self, meta: &AttachmentMeta, n: i64) -> Result<Vec<u8>> {
        let key = self.data_key(&attachment_owner(meta.id)).await?;
        let sealed: Vec<u8> = sqlx::query_scalar(
            "select data from attachment_chunks where attachment_id = $1 and n = $2",
        )
        .bind(meta.id.as_text())
        .bind(n)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(Error::Crypto(cordee_crypto::CryptoError::Malformed))?;
        open(&key, CHUNKS, &format!("{}:{n}", meta.id), "data", &sealed)
    }
}

impl Store {
    /// A message's attachment is readable by whoever may read the conversation.
    pub(crate) async fn message_attachment_readable(
        &self,
        actor: &Actor,
        message: MessageId,
        now: Millis,
    ) -> Result<bool> {
        let conversation: Option<String> = sqlx::query_scalar(
            "select conversation_id from messages where id = $1 and deleted_at is null",
        )
        .bind(message.as_text())
        .fetch_optional(self.db.reader())
        .await?;
        match conversation.and_then(|c| crate::ids::ConversationId::parse(&c)) {
            Some(c) => Ok(self.conversation_for(actor, c, now).await.is_ok()),
            None => Ok(false),
        }
    }
}

impl Store {
    /// Drops an upload that will not complete (too large, interrupted).
    pub async fn abort_upload(&self, upload: Upload, now: Millis) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from attachment_chunks where attachment_id = $1")
            .bind(upload.id.as_text())
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from attachments where id = $1 and completed_at is null")
            .bind(upload.id.as_text())
            .execute(&mut *tx)
            .await?;
        self.destroy_data_key(&mut tx, &attachment_owner(upload.id), now)
            .await?;
        tx.commit(self).await?;
        Ok(())
    }
}
