//! The quorum: checked against attendance at validation, as a pure function.
//!
//! An `rcp` counts the attending médecins (profession 10) and their distinct
//! specialties (oncology RCP: at least 3 doctors of different specialties); a
//! `concertation` counts every attending participant and their distinct professions
//! (a CPTS concertation typically needs 3 professions). A participant whose
//! specialty or profession is unknown counts as a participant, never as a distinct
//! specialty or profession.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::ConferenceKind;
use crate::{Error, Result};

/// The médecin's profession code (TRE_G15).
pub const MEDECIN: &str = "10";
pub const MAX_PARTICIPANTS: i64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quorum {
    /// `rcp`: attending médecins; `concertation`: attending participants.
    pub min_participants: i64,
    /// `rcp`: distinct specialties among them; `concertation`: distinct professions.
    pub min_professions: i64,
}

impl Quorum {
    /// The defaults: 3 médecins of 3 specialties; 3 distinct professions.
    pub fn default_for(_kind: ConferenceKind) -> Quorum {
        Quorum {
            min_participants: 3,
            min_professions: 3,
        }
    }

    pub fn validate(self) -> Result<Quorum> {
        if !(1..=MAX_PARTICIPANTS).contains(&self.min_participants)
            || !(0..=self.min_participants).contains(&self.min_professions)
        {
            return Err(Error::invalid(
                "case_conference.invalid_quorum",
                format!(
                    "quorum.min_participants must be 1 to {MAX_PARTICIPANTS}, and min_professions 0 to min_participants"
                ),
            ));
        }
        Ok(self)
    }
}

/// One participant as the quorum sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attendee {
    pub profession_code: Option<String>,
    pub specialty_code: Option<String>,
    pub attended: bool,
}

/// What is missing for the quorum (zeros when it is met).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    pub kind: ConferenceKind,
    pub participants: i64,
    pub professions: i64,
}

impl Shortfall {
    pub fn is_met(&self) -> bool {
        self.participants == 0 && self.professions == 0
    }

    /// Says what is missing, in words (no names: counts only).
    pub fn describe(&self) -> String {
        let (who, distinct) = match self.kind {
            ConferenceKind::Rcp => ("attending médecin(s)", "distinct specialty(ies)"),
            ConferenceKind::Concertation => ("attending participant(s)", "distinct profession(s)"),
        };
        let mut parts = Vec::new();
        if self.participants > 0 {
            parts.push(format!("{} more {who}", self.participants));
        }
        if self.professions > 0 {
            parts.push(format!("{} more {distinct}", self.professions));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The quorum against attendance: what is missing.
pub fn check(kind: ConferenceKind, quorum: Quorum, attendees: &[Attendee]) -> Shortfall {
    let present = attendees.iter().filter(|a| a.attended);
    let (count, distinct) = match kind {
        ConferenceKind::Rcp => {
            let doctors: Vec<&Attendee> = present
                .filter(|a| a.profession_code.as_deref() == Some(MEDECIN))
                .collect();
            let specialties: BTreeSet<&str> = doctors
                .iter()
                .filter_map(|a| a.specialty_code.as_deref())
                .filter(|s| !s.is_empty())
                .collect();
            (doctors.len() as i64, specialties.len() as i64)
        }
        ConferenceKind::Concertation => {
            let all: Vec<&Attendee> = present.collect();
            let professions: BTreeSet<&str> = all
                .iter()
                .filter_map(|a| a.profession_code.as_deref())
                .filter(|s| !s.is_empty())
                .collect();
            (all.len() as i64, professions.len() as i64)
        }
    };
    Shortfall {
        kind,
        participants: (quorum.min_participants - count).max(0),
        professions: (quorum.min_professions - distinct).max(0),
    }
}

/// The quorum, or 409 `case_conference.quorum_not_met` naming what is missing.
pub fn require(kind: ConferenceKind, quorum: Quorum, attendees: &[Attendee]) -> Result<()> {
    let shortfall = check(kind, quorum, attendees);
    if shortfall.is_met() {
        Ok(())
    } else {
        Err(Error::conflict(
            "case_conference.quorum_not_met",
            format!("the quorum is not met: {}", shortfall.describe()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(profession: Option<&str>, specialty: Option<&str>, attended: bool) -> Attendee {
        Attendee {
            profession_code: profession.map(str::to_string),
            specialty_code: specialty.map(str::to_string),
            attended,
        }
    }

    const RCP: ConferenceKind = ConferenceKind::Rcp;
    const CONC: ConferenceKind = ConferenceKind::Concertation;

    /// (kind, quorum, attendees, missing participants, missing professions)
    #[test]
    fn the_quorum_table() {
        let d = |s: &str| a(Some("10"), Some(s), true);
        let q33 = Quorum::default_for(RCP);
        let q21 = Quorum {
            min_participants: 2,
            min_professions: 1,
        };
        let cases: Vec<(ConferenceKind, Quorum, Vec<Attendee>, i64, i64)> = vec![
            // rcp: three doctors of three specialties
            (RCP, q33, vec![d("SM54"), d("SM38"), d("SM04")], 0, 0),
            // rcp: three doctors, two specialties
            (RCP, q33, vec![d("SM54"), d("SM54"), d("SM04")], 0, 1),
            // rcp: a nurse does not count as a doctor
            (
                RCP,
                q33,
                vec![d("SM54"), d("SM38"), a(Some("60"), None, true)],
                1,
                1,
            ),
            // rcp: absent doctors do not count
            (
                RCP,
                q33,
                vec![d("SM54"), d("SM38"), a(Some("10"), Some("SM04"), false)],
                1,
                1,
            ),
            // rcp: a doctor without a known specialty counts as a doctor only
            (
                RCP,
                q33,
                vec![d("SM54"), d("SM38"), a(Some("10"), None, true)],
                0,
                1,
            ),
            // rcp: nobody
            (RCP, q33, vec![], 3, 3),
            // rcp with a smaller quorum
            (RCP, q21, vec![d("SM54"), d("SM54")], 0, 0),
            // concertation: three professions
            (
                CONC,
                q33,
                vec![
                    a(Some("10"), Some("SM54"), true),
                    a(Some("60"), None, true),
                    a(Some("70"), None, true),
                ],
                0,
                0,
            ),
            // concertation: three people, two professions
            (
                CONC,
                q33,
                vec![
                    a(Some("10"), Some("SM54"), true),
                    a(Some("10"), Some("SM38"), true),
                    a(Some("60"), None, true),
                ],
                0,
                1,
            ),
            // concertation: staff count as participants, not as a profession
            (
                CONC,
                q33,
                vec![
                    a(Some("10"), None, true),
                    a(Some("60"), None, true),
                    a(None, None, true),
                ],
                0,
                1,
            ),
            // concertation: absentees
            (
                CONC,
                q33,
                vec![
                    a(Some("10"), None, true),
                    a(Some("60"), None, false),
                    a(Some("70"), None, false),
                ],
                2,
                2,
            ),
        ];
        for (i, (kind, quorum, attendees, parts, profs)) in cases.into_iter().enumerate() {
            let s = check(kind, quorum, &attendees);
            assert_eq!(
                (s.participants, s.professions),
                (parts, profs),
                "row {i}: {kind} {attendees:?}"
            );
            assert_eq!(
                require(kind, quorum, &attendees).is_ok(),
                parts + profs == 0
            );
        }
    }

    #[test]
    fn the_refusal_names_what_is_missing() {
        let err = require(RCP, Quorum::default_for(RCP), &[]).unwrap_err();
        assert_eq!(err.code(), "case_conference.quorum_not_met");
        let text = err.to_string();
        assert!(text.contains("3 more attending médecin"), "{text}");
        assert!(text.contains("3 more distinct specialty"), "{text}");
    }

    #[test]
    fn quorums_are_checked() {
        for (p, d, ok) in [
            (3, 3, true),
            (0, 0, false),
            (2, 3, false),
            (101, 1, false),
            (1, 0, true),
        ] {
            let q = Quorum {
                min_participants: p,
                min_professions: d,
            };
            assert_eq!(q.validate().is_ok(), ok, "{p} {d}");
        }
    }
}
