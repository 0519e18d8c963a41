//! The canonical record of a validated conference and its hash.
//!
//! The record is a fixed-shape JSON document (struct fields in declaration order,
//! lists sorted, no maps), so the same conference always gives the same bytes; its
//! SHA-256 is kept with the conference when it is validated, and anyone holding the
//! record can recompute it.

use serde::{Deserialize, Serialize};

use super::{Action, Case, Conference, Quorum};
use crate::{Error, Millis, Result};

/// The record's format, in the document itself.
pub const FORMAT: &str = "cordee.case_conference.record/1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub format: String,
    pub conference_id: String,
    pub title: String,
    pub kind: String,
    pub scheduled_at: String,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub chair_id: String,
    pub quorum: Quorum,
    pub validated_at: String,
    pub validated_by: String,
    pub participants: Vec<RecordParticipant>,
    pub cases: Vec<RecordCase>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordParticipant {
    pub account_id: String,
    pub display_name: String,
    pub profession_code: Option<String>,
    pub specialty_code: Option<String>,
    pub attended: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCase {
    pub case_id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub patient_birth_date: String,
    pub presenter_id: String,
    pub question: String,
    pub summary: Option<String>,
    pub proposal: Option<String>,
    pub decision: Option<String>,
    pub follow_up_id: Option<String>,
    pub actions: Vec<Action>,
}

impl Record {
    /// The record of `conference` (its participants) and `cases`, validated by
    /// `validated_by` at `at`. Participants sorted by account id, cases by id (the
    /// order they were put on the agenda).
    pub fn build(
        conference: &Conference,
        cases: &[Case],
        validated_by: crate::ids::AccountId,
        at: Millis,
    ) -> Record {
        let mut participants: Vec<RecordParticipant> = conference
            .participants
            .iter()
            .map(|p| RecordParticipant {
                account_id: p.account_id.to_string(),
                display_name: p.display_name.clone(),
                profession_code: p.profession_code.clone(),
                specialty_code: p.specialty_code.clone(),
                attended: p.attended.unwrap_or(false),
            })
            .collect();
        participants.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut cases: Vec<RecordCase> = cases
            .iter()
            .map(|c| RecordCase {
                case_id: c.id.to_string(),
                patient_id: c.patient_id.to_string(),
                patient_name: c.patient_name.clone(),
                patient_birth_date: c.patient_birth_date.clone(),
                presenter_id: c.presenter_id.to_string(),
                question: c.question.clone(),
                summary: c.summary.clone(),
                proposal: c.proposal.clone(),
                decision: c.decision.clone(),
                follow_up_id: c.follow_up_id.map(|f| f.to_string()),
                actions: c.actions.clone(),
            })
            .collect();
        cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        Record {
            format: FORMAT.into(),
            conference_id: conference.id.to_string(),
            title: conference.title.clone(),
            kind: conference.kind.as_str().into(),
            scheduled_at: conference.scheduled_at.to_rfc3339(),
            duration_minutes: conference.duration_minutes,
            place: conference.place.clone(),
            chair_id: conference.chair_id.to_string(),
            quorum: conference.quorum,
            validated_at: at.to_rfc3339(),
            validated_by: validated_by.to_string(),
            participants,
            cases,
        }
    }

    /// The canonical bytes: compact JSON of the fixed shape above.
    pub fn canonical(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| Error::corrupt("case conference record".into()))
    }

    /// SHA-256 of the canonical bytes, lowercase hex.
    pub fn hash(&self) -> Result<String> {
        Ok(hash_bytes(&self.canonical()?))
    }
}

/// SHA-256, lowercase hex.
pub fn hash_bytes(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_conference::{ConferenceKind, ConferenceStatus, Participant};
    use crate::ids::{AccountId, CaseConferenceId, CaseId, PatientId};

    fn conference() -> Conference {
        Conference {
            id: CaseConferenceId::new(),
            title: "RCP".into(),
            kind: ConferenceKind::Rcp,
            scheduled_at: Millis(1_700_000_000_000),
            duration_minutes: 60,
            place: None,
            chair_id: AccountId::new(),
            quorum: Quorum::default_for(ConferenceKind::Rcp),
            status: ConferenceStatus::Planned,
            version: 1,
            created_by: AccountId::new(),
            created_at: Millis(0),
            updated_at: Millis(0),
            validated_at: None,
            record_hash: None,
            participants: vec![
                Participant {
                    account_id: AccountId::new(),
                    display_name: "Dr B".into(),
                    profession_code: Some("10".into()),
                    specialty_code: None,
                    attended: Some(true),
                },
                Participant {
                    account_id: AccountId::new(),
                    display_name: "Dr A".into(),
                    profession_code: Some("10".into()),
                    specialty_code: None,
                    attended: None,
                },
            ],
            case_count: 0,
        }
    }

    fn case(c: &Conference) -> Case {
        Case {
            id: CaseId::new(),
            conference_id: c.id,
            patient_id: PatientId::new(),
            patient_name: "DUPONT Jeanne".into(),
            patient_birth_date: "1940-01-01".into(),
            presenter_id: c.chair_id,
            question: "Chimiothérapie ?".into(),
            summary: Some("Synthèse".into()),
            proposal: None,
            decision: Some("Avis favorable".into()),
            follow_up_id: None,
            actions: vec![],
            entry_id: None,
            created_at: Millis(0),
            updated_at: Millis(0),
        }
    }

    #[test]
    fn the_same_conference_gives_the_same_hash_whatever_the_order() {
        let c = conference();
        let (a, b) = (case(&c), case(&c));
        let by = c.chair_id;
        let one = Record::build(&c, &[a.clone(), b.clone()], by, Millis(5));
        let mut reversed = c.clone();
        reversed.participants.reverse();
        let two = Record::build(&reversed, &[b, a.clone()], by, Millis(5));
        assert_eq!(one.hash().unwrap(), two.hash().unwrap());
        assert_eq!(one.hash().unwrap().len(), 64);
        // Any change changes the hash.
        let mut changed = a;
        changed.decision = Some("Avis défavorable".into());
        let three = Record::build(&c, &[changed], by, Millis(5));
        assert_ne!(one.hash().unwrap(), three.hash().unwrap());
        // The canonical bytes read back to the same record.
        let back: Record = serde_json::from_slice(&one.canonical().unwrap()).unwrap();
        assert_eq!(back, one);
    }

    #[test]
    fn sha256_of_a_known_text() {
        assert_eq!(
            hash_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
