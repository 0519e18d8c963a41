//! Conversations and messages: patient threads (the care team, filtered by the
//! matrix for the thread's category), direct conversations between two
//! professionals, and named groups with admins.

use serde::Serialize;

use crate::ids::{AccountId, AttachmentId, ConversationId, MessageId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

text_enum! {
    pub enum ConversationKind {
        Patient = "patient",
        Direct = "direct",
        Group = "group",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub patient_id: Option<PatientId>,
    pub category: Option<Category>,
    pub title: Option<String>,
    pub created_by: AccountId,
    pub created_at: Millis,
    /// Sequence number of the newest message.
    pub last_seq: i64,
    /// When the last message was sent (creation time before the first).
    pub last_message_at: Millis,
    /// The reader's own state.
    pub last_read_seq: i64,
    pub unread: i64,
    pub muted: bool,
    /// The reader administers this group.
    pub admin: bool,
}

impl Conversation {
    /// Whose data key seals this conversation's messages.
    /// Where a list of conversations (newest activity first) goes on after this one.
    pub fn list_cursor(&self) -> String {
        format!("{}.{}", self.last_message_at.0, self.id)
    }

    /// The position a [`Conversation::list_cursor`] names; `None` for other text.
    pub fn parse_list_cursor(text: &str) -> Option<(Millis, ConversationId)> {
        let (at, id) = text.split_once('.')?;
        Some((Millis(at.parse().ok()?), ConversationId::parse(id)?))
    }

    pub fn key_owner(&self) -> String {
        match (self.kind, self.patient_id) {
            (ConversationKind::Patient, Some(p)) => format!("patient:{p}"),
            _ => format!("conversation:{}", self.id),
        }
    }
}

/// Limits that make every message a clear yes or no.
#[derive(Clone, Copy, Debug)]
pub struct MessageLimits {
    pub max_body_bytes: usize,
    pub max_attachments: usize,
    pub max_mentions: usize,
}

impl Default for MessageLimits {
    fn default() -> Self {
        MessageLimits {
            max_body_bytes: 16 * 1024,
            max_attachments: 10,
            max_mentions: 50,
        }
    }
}

/// A message as a client sends it, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageInput {
    pub client_id: String,
    pub body: String,
    pub attachments: Vec<AttachmentId>,
    pub reply_to: Option<MessageId>,
    pub mentions: Vec<AccountId>,
    pub urgent: bool,
}

impl MessageInput {
    pub fn validate(self, limits: &MessageLimits) -> Result<MessageInput> {
        let cid = self.client_id.trim();
        if cid.is_empty() || cid.len() > 64 || !cid.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid(
                "message.invalid_client_id",
                "client_id must be 1 to 64 printable ASCII characters",
            ));
        }
        if self.body.len() > limits.max_body_bytes {
            return Err(Error::invalid(
                "message.too_large",
                format!("a message body is at most {} bytes", limits.max_body_bytes),
            ));
        }
        if self.body.trim().is_empty() && self.attachments.is_empty() {
            return Err(Error::invalid(
                "message.empty",
                "a message needs a body or an attachment",
            ));
        }
        if self.attachments.len() > limits.max_attachments {
            return Err(Error::invalid(
                "message.too_many_attachments",
                format!("at most {} attachments per message", limits.max_attachments),
            ));
        }
        if self.mentions.len() > limits.max_mentions {
            return Err(Error::invalid(
                "message.too_many_mentions",
                format!("at most {} mentions", limits.max_mentions),
            ));
        }
        Ok(MessageInput {
            client_id: cid.to_string(),
            ..self
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub client_id: String,
    pub sender_id: AccountId,
    /// Empty once deleted (the tombstone keeps who and when).
    pub body: String,
    pub attachments: Vec<AttachmentId>,
    pub reply_to: Option<MessageId>,
    pub mentions: Vec<AccountId>,
    pub urgent: bool,
    pub version: i64,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
}

/// What a send produced: a new message, or the one an earlier try with the same
/// `client_id` created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    Created(Message),
    Existing(Message),
}

impl Sent {
    pub fn message(&self) -> &Message {
        match self {
            Sent::Created(m) | Sent::Existing(m) => m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> MessageInput {
        MessageInput {
            client_id: "c1".into(),
            body: "Pansement fait".into(),
            attachments: vec![],
            reply_to: None,
            mentions: vec![],
            urgent: false,
        }
    }

    #[test]
    fn limits_are_enforced_with_codes() {
        let limits = MessageLimits {
            max_body_bytes: 10,
            ..MessageLimits::default()
        };
        let long = MessageInput {
            body: "x".repeat(11),
            ..input()
        };
        assert!(matches!(
            long.validate(&limits),
            Err(Error::Invalid {
                code: "message.too_large",
                ..
            })
        ));
        let empty = MessageInput {
            body: "  ".into(),
            ..input()
        };
        assert!(matches!(
            empty.validate(&MessageLimits::default()),
            Err(Error::Invalid {
                code: "message.empty",
                ..
            })
        ));
        let bad_id = MessageInput {
            client_id: "".into(),
            ..input()
        };
        assert!(bad_id.validate(&MessageLimits::default()).is_err());
        assert!(input().validate(&MessageLimits::default()).is_ok());
    }
}
