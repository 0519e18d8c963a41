//! Delivering a patient thread's events is a read of that patient's data, so it is
//! audited like one. A connection appends a `message.stream` record for a patient
//! thread before the first event it delivers there, then again at most once per
//! [`WINDOW_MS`] while it keeps delivering: a record per delivered message would be
//! twenty records per message sent to a care team, and the access log would drown
//! in them.

use std::collections::HashMap;

use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::audit::{Action, AuditEvent, Outcome, Purpose};
use cordee_pathway::ids::{ConversationId, PatientId};

/// At most one read record per connection and thread in this long (15 minutes).
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// The patient threads this connection has delivered from, and when that was last
/// audited.
#[derive(Default)]
pub struct Reads {
    audited: HashMap<ConversationId, Millis>,
}

impl Reads {
    /// The record due before delivering an event of `conversation`, if any.
    pub fn due(
        &mut self,
        actor: &Actor,
        conversation: Option<ConversationId>,
        patient: Option<PatientId>,
        now: Millis,
    ) -> Option<AuditEvent> {
        let (conversation, patient) = (conversation?, patient?);
        if let Some(at) = self.audited.get(&conversation)
            && now.0 - at.0 < WINDOW_MS
        {
            return None;
        }
        self.audited.insert(conversation, now);
        Some(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::MessageStream,
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("conversation", conversation),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordee_pathway::account::{AccountKind, ProfessionCode};
    use cordee_pathway::ids::AccountId;

    #[test]
    fn once_per_thread_and_window_and_never_for_other_threads() {
        let actor = Actor {
            account_id: AccountId::new(),
            kind: AccountKind::HealthProfessional,
            profession: ProfessionCode::parse("60"),
            roles: vec![],
            session_id: None,
        };
        let (thread, group, patient) = (
            ConversationId::new(),
            ConversationId::new(),
            PatientId::new(),
        );
        let mut reads = Reads::default();
        let t0 = Millis(1_000_000);
        assert!(reads.due(&actor, Some(thread), Some(patient), t0).is_some());
        assert!(
            reads
                .due(
                    &actor,
                    Some(thread),
                    Some(patient),
                    t0.plus_millis(WINDOW_MS / 2)
                )
                .is_none()
        );
        assert!(reads.due(&actor, Some(group), None, t0).is_none());
        assert!(
            reads
                .due(
                    &actor,
                    Some(thread),
                    Some(patient),
                    t0.plus_millis(WINDOW_MS)
                )
                .is_some()
        );
    }
}
