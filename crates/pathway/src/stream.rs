//! The real-time stream: every event a device may receive, in one cursor order. An
//! event belongs to a conversation (its members, by the access rule) or to one
//! account (a notification; tasks and proposals next). A device resuming from its
//! last cursor gets exactly what it missed.

use crate::conversation::Message;
use crate::ids::{AccountId, ConversationId, PatientId};
use crate::notification::Notification;

/// Who an event is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    /// The conversation's readers. `patient` is set for patient threads: delivering
    /// their events is a read of that patient's data, and audited as one.
    Conversation {
        id: ConversationId,
        patient: Option<PatientId>,
    },
    /// One account, whatever conversations it reads.
    Account(AccountId),
}

/// One event of the real-time stream, in cursor order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEvent {
    pub cursor: i64,
    pub topic: Topic,
    pub kind: StreamKind,
}

impl StreamEvent {
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self.topic {
            Topic::Conversation { id, .. } => Some(id),
            Topic::Account(_) => None,
        }
    }

    pub fn patient_id(&self) -> Option<PatientId> {
        match self.topic {
            Topic::Conversation { patient, .. } => patient,
            Topic::Account(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamKind {
    MessageCreated(Message),
    MessageUpdated(Message),
    MessageDeleted(Message),
    Receipt {
        account_id: AccountId,
        up_to_seq: i64,
    },
    ConversationUpdated,
    Notification(Notification),
    /// Something that happened to one account (a task assigned, a review due, a
    /// proposal received): its ids and codes, never health data — the client reads
    /// the thing itself through the API, where the access rule applies.
    Account {
        name: AccountEvent,
        payload: serde_json::Value,
    },
}

text_enum! {
    /// The kinds of account events. Each module adds its own under its heading.
    pub enum AccountEvent {
        // Pathways, care plans and tasks (issue 12)
        TaskAssigned = "task.assigned",
        TaskUpdated = "task.updated",
        CarePlanReviewDue = "care_plan.review_due",
        // Case conferences (issue 13)
        CaseConferenceInvited = "case_conference.invited",
        CaseConferenceUpdated = "case_conference.updated",
        // Waiting list (issue 14)
        ProposalReceived = "waiting_list.proposal",
        ProposalUpdated = "waiting_list.proposal_updated",
        // Campaigns (issue 15)
        CampaignUpdated = "campaign.updated",
    }
}

impl StreamKind {
    /// The frame's `type`, as stored in `stream_events.kind`.
    pub fn name(&self) -> &'static str {
        match self {
            StreamKind::MessageCreated(_) => "message.created",
            StreamKind::MessageUpdated(_) => "message.updated",
            StreamKind::MessageDeleted(_) => "message.deleted",
            StreamKind::Receipt { .. } => "receipt",
            StreamKind::ConversationUpdated => "conversation.updated",
            StreamKind::Notification(_) => "notification",
            StreamKind::Account { name, .. } => name.as_str(),
        }
    }
}
