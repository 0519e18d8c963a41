//! Notifications: what an account should know about (added to a team, a break-glass
//! access to a patient they follow, a consent change). Ids and codes only — a
//! notification never carries health data, so it can be pushed anywhere.

use serde::Serialize;

use crate::Millis;
use crate::ids::{AccountId, NotificationId, PatientId};

text_enum! {
    /// What a notification is about.
    pub enum NotificationKind {
        CareTeamAdded = "care_team.added",
        BreakGlassGranted = "break_glass.granted",
        BreakGlassEnded = "break_glass.ended",
        ConsentChanged = "consent.changed",
        IdentityPossibleDuplicate = "identity.possible_duplicate",
        // Directory, organisations and the CPTS (issue 11)
        DirectoryInvitationAccepted = "directory.invitation_accepted",
        // Pathways, care plans and tasks (issue 12)
        CarePlanReviewDue = "care_plan.review_due",
        TaskUnassigned = "task.unassigned",
        // Case conferences (issue 13)
        CaseConferenceInvited = "case_conference.invited",
        CaseConferenceFollowUp = "case_conference.follow_up",
        CaseConferenceTaskAssigned = "case_conference.task_assigned",
        // Waiting list (issue 14)
        WaitingListProposal = "waiting_list.proposal",
        WaitingListPlaced = "waiting_list.placed",
        WaitingListDeclined = "waiting_list.proposal_declined",
        WaitingListLapsed = "waiting_list.proposal_lapsed",
        // Campaigns and the ACI report (issue 15)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub patient_id: Option<PatientId>,
    /// The thing the notification is about (a member id, a grant id, an entry id).
    pub subject_id: Option<String>,
    pub actor_id: Option<AccountId>,
    pub created_at: Millis,
    pub read_at: Option<Millis>,
}

/// A notification to write: to whom, about what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub to: AccountId,
    pub kind: NotificationKind,
    pub patient: Option<PatientId>,
    pub subject: Option<String>,
    pub actor: Option<AccountId>,
}
