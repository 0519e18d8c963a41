//! The audit trail: who read, wrote or was refused what, for which patient, under
//! which purpose. Ids and codes only — never health data, never tokens.

use serde::Serialize;

use crate::Millis;
use crate::ids::{AccountId, PatientId};

text_enum! {
    /// Why the access happened (the legal basis the patient's access log shows).
    pub enum Purpose {
        /// Care by a member of the patient's care team.
        Care = "care",
        /// Emergency access by a professional outside the team.
        BreakGlass = "break_glass",
        /// A case conference discussing the patient, by one of its participants.
        CaseConference = "case_conference",
        /// The patient exercising a right (information, objection, export).
        PatientRight = "patient_right",
        /// CPTS administration (matrix changes, erasure, key rotation).
        Administration = "administration",
        /// Login, logout, session management.
        Authentication = "authentication",
    }
}

text_enum! {
    pub enum Outcome {
        Allowed = "allowed",
        Denied = "denied",
        Failed = "failed",
    }
}

text_enum! {
    /// What happened, as the audit chain records it. One closed list, so that an
    /// access log can be read and filtered without guessing at spellings.
    pub enum Action {
        PatientCreate = "patient.create",
        PatientRead = "patient.read",
        PatientSearch = "patient.search",
        PatientIdentityUpdate = "patient.identity_update",
        /// Identity vigilance: a new or corrected record matches this one.
        PatientPossibleDuplicate = "patient.possible_duplicate",
        PatientErase = "patient.erase",
        PatientExport = "patient.export",
        CareTeamRead = "care_team.read",
        CareTeamAdd = "care_team.add",
        CareTeamRemove = "care_team.remove",
        EntryList = "entry.list",
        EntryRead = "entry.read",
        EntryCreate = "entry.create",
        EntryCorrect = "entry.correct",
        EntryEnteredInError = "entry.entered_in_error",
        AttachmentRead = "attachment.read",
        AttachmentUpload = "attachment.upload",
        BreakGlassGrant = "break_glass.grant",
        BreakGlassLookup = "break_glass.lookup",
        BreakGlassReasonRead = "break_glass.reason_read",
        BreakGlassEnded = "break_glass.ended",
        ConsentRead = "consent.read",
        /// Before explicit consent changes (kept so that older records still read).
        ConsentUpdate = "consent.update",
        ConsentInformation = "consent.information",
        ObjectionAdd = "consent.objection_add",
        ObjectionLift = "consent.objection_lift",
        EntryMask = "consent.mask",
        EntryUnmask = "consent.unmask",
        AccessLogRead = "access_log.read",
        ConversationCreate = "conversation.create",
        ConversationRead = "conversation.read",
        ConversationList = "conversation.list",
        MessageCreate = "message.create",
        MessageList = "message.list",
        MessageEdit = "message.edit",
        MessageDelete = "message.delete",
        MessageHistory = "message.history",
        MessageStream = "message.stream",
        MatrixUpdate = "matrix.update",
        KeysRotate = "keys.rotate",
        JobRun = "job.run",
        // Directory, organisations and the CPTS (issue 11)
        DirectoryImport = "directory.import",
        DirectoryInvite = "directory.invite",
        OrganisationCreate = "organisation.create",
        OrganisationUpdate = "organisation.update",
        OrganisationMerge = "organisation.merge",
        OrganisationLeave = "organisation.leave",
        CptsUpdate = "cpts.update",
        CptsJoin = "cpts.join",
        CptsLeave = "cpts.leave",
        // Pathways, care plans and tasks (issue 12)
        PathwayCreate = "pathway.create",
        PathwayUpdate = "pathway.update",
        CarePlanCreate = "care_plan.create",
        CarePlanRead = "care_plan.read",
        CarePlanList = "care_plan.list",
        CarePlanUpdate = "care_plan.update",
        CarePlanReview = "care_plan.review",
        CarePlanReviewDue = "care_plan.review_due",
        TaskCreate = "task.create",
        TaskRead = "task.read",
        TaskList = "task.list",
        TaskUpdate = "task.update",
        TaskUnassigned = "task.unassigned",
        // Case conferences (issue 13)
        CaseConferenceCreate = "case_conference.create",
        CaseConferenceUpdate = "case_conference.update",
        CaseConferenceParticipantAdd = "case_conference.participant_add",
        CaseConferenceParticipantRemove = "case_conference.participant_remove",
        CaseConferenceAttendance = "case_conference.attendance",
        CaseConferenceCaseAdd = "case_conference.case_add",
        CaseConferenceCaseRead = "case_conference.case_read",
        CaseConferenceMinutes = "case_conference.minutes",
        CaseConferenceValidate = "case_conference.validate",
        CaseConferenceRecordRead = "case_conference.record_read",
        CaseConferenceAddendum = "case_conference.addendum",
        // Waiting list (issue 14)
        WaitingListCreate = "waiting_list.create",
        WaitingListRead = "waiting_list.read",
        WaitingListList = "waiting_list.list",
        WaitingListUpdate = "waiting_list.update",
        WaitingListSuggest = "waiting_list.suggest",
        WaitingListPropose = "waiting_list.propose",
        WaitingListAccept = "waiting_list.accept",
        WaitingListDecline = "waiting_list.decline",
        WaitingListLapse = "waiting_list.lapse",
        WaitingListIndicators = "waiting_list.indicators",
        GpCapacityUpdate = "gp_capacity.update",
        // Campaigns and the ACI report (issue 15)
        AciIndicatorsUpdate = "aci.indicators.update",
        AciAgreementLoad = "aci.agreement.load",
        AciReportRead = "aci.report.read",
        CampaignCreate = "campaign.create",
        CampaignUpdate = "campaign.update",
        CampaignJoin = "campaign.join",
        CampaignLeave = "campaign.leave",
        CampaignRecord = "campaign.record",
        CampaignBroadcast = "campaign.broadcast",
        AuthLoginSucceeded = "auth.login.succeeded",
        AuthLoginFailed = "auth.login.failed",
        AuthLogout = "auth.logout",
        AuthSessionRevoked = "auth.session.revoked",
        AuthBearerIssued = "auth.bearer.issued",
    }
}

/// One thing that happened. `action` is a dotted code (`entry.read`,
/// `auth.login`); `detail` holds codes only (a refusal reason, a client address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub at: Millis,
    pub actor_id: Option<AccountId>,
    pub action: Action,
    pub patient_id: Option<PatientId>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub purpose: Purpose,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

impl AuditEvent {
    pub fn new(
        at: Millis,
        actor_id: Option<AccountId>,
        action: Action,
        purpose: Purpose,
        outcome: Outcome,
    ) -> AuditEvent {
        AuditEvent {
            at,
            actor_id,
            action,
            patient_id: None,
            resource_type: None,
            resource_id: None,
            purpose,
            outcome,
            detail: None,
        }
    }

    pub fn patient(mut self, patient_id: PatientId) -> AuditEvent {
        self.patient_id = Some(patient_id);
        self
    }

    pub fn resource(mut self, kind: &str, id: impl ToString) -> AuditEvent {
        self.resource_type = Some(kind.to_string());
        self.resource_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> AuditEvent {
        self.detail = Some(detail.into());
        self
    }

    /// The bytes the chain hashes for this event at `seq` with record id `id`.
    /// Field order and rendering are part of the chain's meaning: never change them
    /// for canonical version 1.
    pub fn canonical(&self, seq: i64, id: &str) -> Vec<u8> {
        let opt = |v: Option<String>| -> Vec<u8> {
            match v {
                None => vec![0],
                Some(s) => {
                    let mut out = Vec::with_capacity(s.len() + 1);
                    out.push(1);
                    out.extend_from_slice(s.as_bytes());
                    out
                }
            }
        };
        let fields: [Vec<u8>; 11] = [
            seq.to_be_bytes().to_vec(),
            id.as_bytes().to_vec(),
            self.at.0.to_be_bytes().to_vec(),
            opt(self.actor_id.map(|a| a.as_text())),
            self.action.as_str().as_bytes().to_vec(),
            opt(self.patient_id.map(|p| p.as_text())),
            opt(self.resource_type.clone()),
            opt(self.resource_id.clone()),
            self.purpose.as_str().as_bytes().to_vec(),
            self.outcome.as_str().as_bytes().to_vec(),
            opt(self.detail.clone()),
        ];
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        cordee_crypto::canonical(&refs)
    }
}

/// A stored audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    pub event: AuditEvent,
    pub hash: [u8; 32],
}

/// What `cordee audit verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    Intact {
        records: i64,
        checkpoints: i64,
        head_seq: i64,
    },
    Broken {
        seq: i64,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_bytes_distinguish_absent_from_empty() {
        let a = AuditEvent::new(
            Millis(1),
            None,
            Action::EntryRead,
            Purpose::Care,
            Outcome::Allowed,
        );
        let b = a.clone().detail("");
        assert_ne!(a.canonical(1, "id"), b.canonical(1, "id"));
        assert_ne!(a.canonical(1, "id"), a.canonical(2, "id"));
    }
}
