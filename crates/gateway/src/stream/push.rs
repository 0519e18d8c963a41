//! Notifications for members who are not connected. They carry a conversation id
//! and a count — never a name, a body or anything else about a patient — so they
//! can go through Web Push or a mobile push service. Plug a real sender in by
//! implementing [`PushSender`].

use cordee_pathway::ids::{AccountId, ConversationId};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PushNotice {
    pub conversation_id: ConversationId,
    /// New messages since the last notice for this conversation.
    pub count: u32,
    pub urgent: bool,
}

pub trait PushSender: Send + Sync + 'static {
    fn notify(&self, account: AccountId, notice: PushNotice);
}

/// The default: no push service configured; the notice is only logged (ids only).
pub struct LogOnly;

impl PushSender for LogOnly {
    fn notify(&self, account: AccountId, notice: PushNotice) {
        tracing::debug!(%account, conversation = %notice.conversation_id, count = notice.count, "push notice (no push service configured)");
    }
}
