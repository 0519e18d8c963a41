//! The audit trail: who read, wrote or was refused what, for which patient, under
//! which purpose. Ids and codes only — never health data, never tokens.

use serde::Serialize;

use crate::Millis;
use crate::ids::{AccountId, PatientId};

/// Why the access happened (the legal basis the patient's access log shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Care by a member of the patient's care team.
    Care,
    /// Emergency access by a professional outside the team.
    BreakGlass,
    /// The patient exercising a right (information, objection, export).
    PatientRight,
    /// CPTS administration (matrix changes, erasure, key rotation).
    Administration,
    /// Login, logout, session management.
    Authentication,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Care => "care",
            Purpose::BreakGlass => "break_glass",
            Purpose::PatientRight => "patient_right",
            Purpose::Administration => "administration",
            Purpose::Authentication => "authentication",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        [
            Purpose::Care,
            Purpose::BreakGlass,
            Purpose::PatientRight,
            Purpose::Administration,
            Purpose::Authentication,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Allowed, Outcome::Denied, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// One thing that happened. `action` is a dotted code (`entry.read`,
/// `auth.login`); `detail` holds codes only (a refusal reason, a client address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub at: Millis,
    pub actor_id: Option<AccountId>,
    pub action: String,
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
        action: &str,
        purpose: Purpose,
        outcome: Outcome,
    ) -> AuditEvent {
        AuditEvent {
            at,
            actor_id,
            action: action.to_string(),
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
            self.action.as_bytes().to_vec(),
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
        let a = AuditEvent::new(Millis(1), None, "x", Purpose::Care, Outcome::Allowed);
        let b = a.clone().detail("");
        assert_ne!(a.canonical(1, "id"), b.canonical(1, "id"));
        assert_ne!(a.canonical(1, "id"), a.canonical(2, "id"));
    }
}
