//! Changes other parts of the process react to (the real-time stream): published
//! after the change commits, never before.

use tokio::sync::broadcast;

use super::Store;
use crate::ids::{AccountId, ConversationId, NotificationId, PatientId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A patient's care team changed: conversation memberships follow it.
    TeamChanged(PatientId),
    /// A conversation's membership changed (group members added or removed).
    ConversationChanged(ConversationId),
    /// The access matrix changed: who reads patient threads may have changed.
    MatrixChanged,
    /// A notification was written for an account.
    Notification {
        account: AccountId,
        id: NotificationId,
    },
}

impl Store {
    /// Subscribes to changes made through this store (one process).
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    pub(crate) fn publish(&self, change: Change) {
        // Before anyone hears of the change, nothing remembered may outlive it.
        if !matches!(change, Change::Notification { .. }) {
            self.posting_memo.invalidate();
        }
        // No receiver is fine: nobody is streaming.
        let _ = self.changes.send(change);
    }
}
