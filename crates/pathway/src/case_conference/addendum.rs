//! Corrections to a validated record. A validated record is never edited: a
//! correction is an addendum, a record of its own, hashed like the record and
//! chained to it — each addendum's canonical bytes carry the previous hash (the
//! record's for the first), so whoever holds the record and its addenda can check
//! the whole chain, and a removed or reordered addendum breaks it.
//!
//! An addendum may concern one case (it corrects what the patient's file says, so it
//! also lands there as a new `rcp` entry) or the conference as a whole.

use serde::{Deserialize, Serialize};

use super::record::{Record, hash_bytes};
use super::{Conference, ConferenceKind, may_manage};
use crate::account::Actor;
use crate::ids::{AccountId, AddendumId, CaseConferenceId, CaseId, PatientId};
use crate::{Error, Millis, Result};

/// The addendum's format, in its canonical bytes.
pub const FORMAT: &str = "cordee.case_conference.addendum/1";
/// Characters, like the minutes it corrects.
pub const ADDENDUM_MAX: usize = 3_000;

/// The text of a correction, trimmed: 1 to [`ADDENDUM_MAX`] characters.
pub fn text(text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > ADDENDUM_MAX {
        return Err(Error::invalid(
            "case_conference.invalid_addendum",
            format!("text must be 1 to {ADDENDUM_MAX} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Who may add a correction, once the conference is validated (those who may not
/// see the conference get 404 before this is asked):
/// - about a case: a health professional who chaired or attended — they decided
///   it, the law counted them in the patient's équipe de soins for it, and the
///   correction lands in the file as an `rcp` entry, which staff may not read;
/// - about the conference (attendance, date, place…): those, plus whoever manages
///   the conference (its creator, coordinators and admins), who organised it.
pub fn may_add(actor: &Actor, conference: &Conference, about_a_case: bool) -> Result<()> {
    let chair = actor.account_id == conference.chair_id;
    let attended = conference
        .participants
        .iter()
        .any(|p| p.account_id == actor.account_id && p.attended == Some(true));
    let allowed = if about_a_case {
        actor.is_health_professional() && (chair || attended)
    } else {
        chair || attended || may_manage(actor, conference)
    };
    if allowed {
        Ok(())
    } else if about_a_case {
        Err(Error::forbidden(
            "case_conference.addendum_forbidden",
            "a correction to a case is written by a health professional who chaired or attended the conference",
        ))
    } else {
        Err(Error::forbidden(
            "case_conference.addendum_forbidden",
            "a correction is written by the chair, an attending participant or the conference's organisers",
        ))
    }
}

/// What `…/record` shows: the record, the hash kept at validation, and the
/// addenda chained to it, in order. (Here rather than beside [`Record`]: the chain
/// is built on the record, not the other way round.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordView {
    pub record: Record,
    pub hash: String,
    pub addenda: Vec<Addendum>,
}

impl RecordView {
    /// The chain's last hash: the last addendum's, or the record's.
    pub fn head(&self) -> &str {
        self.addenda.last().map_or(self.hash.as_str(), |a| &a.hash)
    }
}

/// The canonical addendum: a fixed-shape JSON document, fields in this order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canonical {
    pub format: String,
    pub conference_id: String,
    /// 1 for the first addendum.
    pub position: i64,
    /// The record's hash for the first addendum, the previous addendum's after.
    pub previous_hash: String,
    pub case_id: Option<String>,
    pub patient_id: Option<String>,
    pub author_id: String,
    pub author_name: String,
    pub created_at: String,
    pub text: String,
}

impl Canonical {
    pub fn bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| Error::corrupt("case conference addendum".into()))
    }

    /// SHA-256 of the canonical bytes, lowercase hex.
    pub fn hash(&self) -> Result<String> {
        Ok(hash_bytes(&self.bytes()?))
    }
}

/// An addendum as it is read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Addendum {
    pub id: AddendumId,
    pub conference_id: CaseConferenceId,
    pub position: i64,
    pub case_id: Option<CaseId>,
    pub patient_id: Option<PatientId>,
    pub author_id: AccountId,
    pub author_name: String,
    pub created_at: Millis,
    /// `None` once the patient it concerns was erased (its hash stays, the text
    /// cannot be read any more).
    pub text: Option<String>,
    /// The `rcp` entry it became in the patient's file.
    pub entry_id: Option<String>,
    pub previous_hash: String,
    pub hash: String,
}

impl Addendum {
    /// The canonical document this addendum's hash covers (`None` once erased).
    pub fn canonical(&self) -> Option<Canonical> {
        Some(Canonical {
            format: FORMAT.into(),
            conference_id: self.conference_id.to_string(),
            position: self.position,
            previous_hash: self.previous_hash.clone(),
            case_id: self.case_id.map(|c| c.to_string()),
            patient_id: self.patient_id.map(|p| p.to_string()),
            author_id: self.author_id.to_string(),
            author_name: self.author_name.clone(),
            created_at: self.created_at.to_rfc3339(),
            text: self.text.clone()?,
        })
    }
}

/// Checks a chain: the first addendum follows `record_hash`, each next one the
/// previous, and every readable addendum hashes to what was kept. Returns the
/// position of the first broken link.
pub fn first_broken_link(record_hash: &str, addenda: &[Addendum]) -> Option<i64> {
    let mut previous = record_hash;
    for (i, a) in addenda.iter().enumerate() {
        let hash_ok = match a.canonical() {
            Some(c) => c.hash().ok().as_deref() == Some(a.hash.as_str()),
            // Erased: only the link can be checked.
            None => true,
        };
        if a.position != i as i64 + 1 || a.previous_hash != previous || !hash_ok {
            return Some(a.position);
        }
        previous = &a.hash;
    }
    None
}

/// The title of the `rcp` entry a case's correction becomes.
pub fn entry_title(conference: &Conference) -> String {
    let kind = match conference.kind {
        ConferenceKind::Rcp => "RCP",
        ConferenceKind::Concertation => "concertation",
    };
    let date = conference
        .scheduled_at
        .to_rfc3339()
        .chars()
        .take(10)
        .collect::<String>();
    let title = format!("Rectificatif — {kind} du {date} — {}", conference.title);
    title.chars().take(super::TITLE_MAX).collect()
}

/// The body of that entry: what it corrects and the correction.
pub fn entry_body(record_hash: &str, text: &str) -> String {
    format!("Rectificatif au compte rendu validé (empreinte SHA-256 {record_hash}) :\n\n{text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addendum(position: i64, previous: &str, text: &str) -> Addendum {
        let mut a = Addendum {
            id: AddendumId::new(),
            conference_id: CaseConferenceId::new(),
            position,
            case_id: None,
            patient_id: None,
            author_id: AccountId::new(),
            author_name: "Dr Martin".into(),
            created_at: Millis(1_700_000_000_000),
            text: Some(text.into()),
            entry_id: None,
            previous_hash: previous.into(),
            hash: String::new(),
        };
        a.hash = a.canonical().unwrap().hash().unwrap();
        a
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("  corrigé ").unwrap(), "corrigé");
        for bad in ["", "   ", &"é".repeat(ADDENDUM_MAX + 1)] {
            assert_eq!(
                text(bad).unwrap_err().code(),
                "case_conference.invalid_addendum"
            );
        }
        assert!(text(&"é".repeat(ADDENDUM_MAX)).is_ok());
    }

    #[test]
    fn the_chain_breaks_where_it_is_changed() {
        let record = "a".repeat(64);
        let one = addendum(1, &record, "Présence du Dr X omise");
        let two = addendum(2, &one.hash, "Date corrigée");
        assert_eq!(
            first_broken_link(&record, &[one.clone(), two.clone()]),
            None
        );
        // A changed text, a dropped link, a swapped order: each is found.
        let mut edited = one.clone();
        edited.text = Some("Autre chose".into());
        assert_eq!(first_broken_link(&record, &[edited, two.clone()]), Some(1));
        assert_eq!(
            first_broken_link(&record, std::slice::from_ref(&two)),
            Some(2)
        );
        assert_eq!(
            first_broken_link(&record, &[two.clone(), one.clone()]),
            Some(2)
        );
        // The hash covers the previous hash: the same text on another chain differs.
        let elsewhere = addendum(1, &"b".repeat(64), "Présence du Dr X omise");
        assert_ne!(elsewhere.hash, one.hash);
        // An erased text keeps its link checkable.
        let mut erased = one;
        erased.text = None;
        assert_eq!(first_broken_link(&record, &[erased, two]), None);
    }
}
