//! Case conferences (RCP / concertation pluriprofessionnelle): the professionals
//! around complex patients decide together; the validated record is frozen, hashed,
//! and each case lands in its patient's file as an `rcp` entry.
//!
//! This module holds the pure parts: the conference's shape and its validation, who
//! may organise, the quorum (`quorum.rs`) and the canonical record with its hash
//! (`record.rs`). The store (`store/case_conferences.rs`) persists and seals.

pub mod addendum;
pub mod quorum;
pub mod record;

use serde::Serialize;

use crate::account::{Actor, CptsRole};
use crate::ids::{AccountId, CaseConferenceId, CaseId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

pub use quorum::{Attendee, Quorum, Shortfall};

text_enum! {
    /// An oncology-style RCP (doctors of distinct specialties) or a CPTS concertation
    /// (distinct professions).
    pub enum ConferenceKind {
        Rcp = "rcp",
        Concertation = "concertation",
    }
}

text_enum! {
    pub enum ConferenceStatus {
        Planned = "planned",
        Validated = "validated",
        Cancelled = "cancelled",
    }
}

pub const TITLE_MAX: usize = 200;
pub const PLACE_MAX: usize = 500;
/// Characters (not bytes): what a client counts, and what the entry's 64 KiB body holds
/// (question + three texts + the actions, each character at most 4 bytes).
pub const QUESTION_MAX: usize = 1_000;
pub const MINUTES_MAX: usize = 3_000;
pub const ACTIONS_MAX: usize = 20;
/// A conference lasts between 5 minutes and 8 hours.
pub const DURATION_MIN: i64 = 5;
pub const DURATION_MAX: i64 = 480;

/// A conference as the API shows it (no patient data: cases are read apart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conference {
    pub id: CaseConferenceId,
    pub title: String,
    pub kind: ConferenceKind,
    pub scheduled_at: Millis,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub chair_id: AccountId,
    pub quorum: Quorum,
    pub status: ConferenceStatus,
    pub version: i64,
    pub created_by: AccountId,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub validated_at: Option<Millis>,
    pub record_hash: Option<String>,
    pub participants: Vec<Participant>,
    pub case_count: i64,
}

impl Conference {
    /// The agenda's cursor: (scheduled_at, id).
    pub fn cursor(&self) -> ConferenceCursor {
        ConferenceCursor {
            scheduled_at: self.scheduled_at.0,
            id: self.id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub account_id: AccountId,
    pub display_name: String,
    pub profession_code: Option<String>,
    pub specialty_code: Option<String>,
    /// `None` until the chair records attendance.
    pub attended: Option<bool>,
}

/// What a conference is planned as (creation and PATCH).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConferenceInput {
    pub title: String,
    pub kind: ConferenceKind,
    pub scheduled_at: Millis,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub chair_id: Option<AccountId>,
    pub quorum: Quorum,
}

impl ConferenceInput {
    /// Checks sizes; `quorum` defaults are the caller's (see [`Quorum::default_for`]).
    pub fn validate(self) -> Result<ConferenceInput> {
        let title = self.title.trim().to_string();
        if title.is_empty() || title.chars().count() > TITLE_MAX {
            return Err(Error::invalid(
                "case_conference.invalid_title",
                format!("title must be 1 to {TITLE_MAX} characters"),
            ));
        }
        if !(DURATION_MIN..=DURATION_MAX).contains(&self.duration_minutes) {
            return Err(Error::invalid(
                "case_conference.invalid_duration",
                format!("duration_minutes must be {DURATION_MIN} to {DURATION_MAX}"),
            ));
        }
        let place = self
            .place
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        if place
            .as_ref()
            .is_some_and(|p| p.chars().count() > PLACE_MAX)
        {
            return Err(Error::invalid(
                "case_conference.invalid_place",
                format!("place must be at most {PLACE_MAX} characters"),
            ));
        }
        self.quorum.validate()?;
        Ok(ConferenceInput {
            title,
            place,
            ..self
        })
    }
}

/// A PATCH: what is given replaces, the rest stays. `status` may only become
/// `cancelled`; `version`, when given, must be the version the caller read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConferencePatch {
    pub title: Option<String>,
    pub kind: Option<ConferenceKind>,
    pub scheduled_at: Option<Millis>,
    pub duration_minutes: Option<i64>,
    /// `Some(None)`: no place any more.
    pub place: Option<Option<String>>,
    pub chair_id: Option<AccountId>,
    pub quorum: Option<Quorum>,
    pub status: Option<ConferenceStatus>,
    pub version: Option<i64>,
}

impl ConferencePatch {
    /// The conference as planned once this patch applies to `current`, checked.
    pub fn apply(self, current: &Conference) -> Result<ConferenceInput> {
        if let Some(status) = self.status
            && status != ConferenceStatus::Cancelled
            && status != current.status
        {
            return Err(Error::invalid(
                "case_conference.invalid_status",
                "status may only be set to cancelled; validation is POST …/validate",
            ));
        }
        ConferenceInput {
            title: self.title.unwrap_or_else(|| current.title.clone()),
            kind: self.kind.unwrap_or(current.kind),
            scheduled_at: self.scheduled_at.unwrap_or(current.scheduled_at),
            duration_minutes: self.duration_minutes.unwrap_or(current.duration_minutes),
            place: self.place.unwrap_or_else(|| current.place.clone()),
            chair_id: Some(self.chair_id.unwrap_or(current.chair_id)),
            quorum: self.quorum.unwrap_or(current.quorum),
        }
        .validate()
    }
}

/// The agenda's position: conferences in (scheduled_at, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConferenceCursor {
    pub scheduled_at: i64,
    pub id: CaseConferenceId,
}

impl ConferenceCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.scheduled_at, self.id)
    }

    pub fn parse(text: &str) -> Option<ConferenceCursor> {
        let (at, id) = text.split_once('.')?;
        Some(ConferenceCursor {
            scheduled_at: at.parse().ok()?,
            id: CaseConferenceId::parse(id)?,
        })
    }
}

/// The agenda's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgendaQuery {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Only conferences the actor takes part in (participant or chair).
    pub mine: bool,
    pub after: Option<ConferenceCursor>,
    pub limit: i64,
}

/// One action decided for a case: becomes a task of the patient's care plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Action {
    pub title: String,
    pub category: Category,
    pub assignee_id: AccountId,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// What the chair writes for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minutes {
    pub summary: Option<String>,
    pub proposal: Option<String>,
    pub decision: Option<String>,
    pub follow_up_id: Option<AccountId>,
    pub actions: Vec<Action>,
}

fn long_text(code: &'static str, field: &str, text: Option<String>) -> Result<Option<String>> {
    let text = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MINUTES_MAX)
    {
        return Err(Error::invalid(
            code,
            format!("{field} must be at most {MINUTES_MAX} characters"),
        ));
    }
    Ok(text)
}

/// A calendar date `YYYY-MM-DD`.
pub fn valid_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.len() == 10 && time::Date::parse(text, &format).is_ok()
}

impl Minutes {
    pub fn validate(self) -> Result<Minutes> {
        if self.actions.len() > ACTIONS_MAX {
            return Err(Error::invalid(
                "case_conference.too_many_tasks",
                format!("at most {ACTIONS_MAX} tasks per case"),
            ));
        }
        let mut actions = Vec::with_capacity(self.actions.len());
        for a in self.actions {
            let title = a.title.trim().to_string();
            if title.is_empty() || title.chars().count() > TITLE_MAX {
                return Err(Error::invalid(
                    "case_conference.invalid_task",
                    format!("a task's title must be 1 to {TITLE_MAX} characters"),
                ));
            }
            if !valid_date(&a.due_on) {
                return Err(Error::invalid(
                    "case_conference.invalid_task",
                    "a task's due_on must be a date YYYY-MM-DD",
                ));
            }
            actions.push(Action { title, ..a });
        }
        Ok(Minutes {
            summary: long_text("case_conference.invalid_minutes", "summary", self.summary)?,
            proposal: long_text("case_conference.invalid_minutes", "proposal", self.proposal)?,
            decision: long_text("case_conference.invalid_minutes", "decision", self.decision)?,
            follow_up_id: self.follow_up_id,
            actions,
        })
    }
}

/// The question asked about a patient, checked.
pub fn question(text: &str) -> Result<String> {
    let q = text.trim();
    if q.is_empty() || q.chars().count() > QUESTION_MAX {
        return Err(Error::invalid(
            "case_conference.invalid_question",
            format!("question must be 1 to {QUESTION_MAX} characters"),
        ));
    }
    Ok(q.to_string())
}

/// A case on a conference's agenda, with what the participants read of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    pub id: CaseId,
    pub conference_id: CaseConferenceId,
    pub patient_id: PatientId,
    /// The patient's identity as the file shows it (used or birth name, first names,
    /// birth date).
    pub patient_name: String,
    pub patient_birth_date: String,
    pub presenter_id: AccountId,
    pub question: String,
    pub summary: Option<String>,
    pub proposal: Option<String>,
    pub decision: Option<String>,
    pub follow_up_id: Option<AccountId>,
    pub actions: Vec<Action>,
    /// The `rcp` entry written at validation.
    pub entry_id: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Who organises: coordinators and admins (staff) and health professionals.
pub fn may_organise(actor: &Actor) -> Result<()> {
    if actor.is_health_professional()
        || actor.has_role(CptsRole::Coordinator)
        || actor.has_role(CptsRole::Admin)
    {
        Ok(())
    } else {
        Err(Error::forbidden(
            "case_conference.organisers_only",
            "case conferences are organised by coordinators, admins and health professionals",
        ))
    }
}

/// Who may change a conference (plan, participants, attendance, minutes, validate):
/// its creator, its chair, and the CPTS's coordinators and admins.
pub fn may_manage(actor: &Actor, conference: &Conference) -> bool {
    actor.account_id == conference.created_by
        || actor.account_id == conference.chair_id
        || actor.has_role(CptsRole::Coordinator)
        || actor.has_role(CptsRole::Admin)
}

/// Who may see a conference at all (otherwise 404): managers and participants.
pub fn may_see(actor: &Actor, conference: &Conference) -> bool {
    may_manage(actor, conference)
        || conference
            .participants
            .iter()
            .any(|p| p.account_id == actor.account_id)
}

/// The title of the `rcp` entry a case becomes.
pub fn entry_title(conference: &Conference) -> String {
    let kind = match conference.kind {
        ConferenceKind::Rcp => "RCP",
        ConferenceKind::Concertation => "Concertation pluriprofessionnelle",
    };
    let date = conference
        .scheduled_at
        .to_rfc3339()
        .chars()
        .take(10)
        .collect::<String>();
    let mut title = format!("{kind} du {date} — {}", conference.title);
    if title.chars().count() > TITLE_MAX {
        title = title.chars().take(TITLE_MAX).collect();
    }
    title
}

/// The body of the `rcp` entry: question, summary, proposal, decision, actions.
pub fn entry_body(case: &Case) -> String {
    let mut body = format!("Question : {}\n", case.question);
    if let Some(s) = &case.summary {
        body.push_str(&format!("\nSynthèse : {s}\n"));
    }
    if let Some(p) = &case.proposal {
        body.push_str(&format!("\nProposition : {p}\n"));
    }
    if let Some(d) = &case.decision {
        body.push_str(&format!("\nDécision : {d}\n"));
    }
    if !case.actions.is_empty() {
        body.push_str("\nActions :\n");
        for a in &case.actions {
            body.push_str(&format!("- {} (échéance {})\n", a.title, a.due_on));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ConferenceInput {
        ConferenceInput {
            title: " RCP gériatrique ".into(),
            kind: ConferenceKind::Rcp,
            scheduled_at: Millis(1_700_000_000_000),
            duration_minutes: 60,
            place: Some("  ".into()),
            chair_id: None,
            quorum: Quorum::default_for(ConferenceKind::Rcp),
        }
    }

    #[test]
    fn input_is_trimmed_and_checked() {
        let ok = input().validate().unwrap();
        assert_eq!(ok.title, "RCP gériatrique");
        assert_eq!(ok.place, None);
        let bad = ConferenceInput {
            duration_minutes: 0,
            ..input()
        };
        assert_eq!(
            bad.validate().unwrap_err().code(),
            "case_conference.invalid_duration"
        );
        let bad = ConferenceInput {
            title: "".into(),
            ..input()
        };
        assert_eq!(
            bad.validate().unwrap_err().code(),
            "case_conference.invalid_title"
        );
    }

    #[test]
    fn cursor_round_trips() {
        let c = ConferenceCursor {
            scheduled_at: 42,
            id: CaseConferenceId::new(),
        };
        assert_eq!(ConferenceCursor::parse(&c.encode()), Some(c));
        assert_eq!(ConferenceCursor::parse("x.y"), None);
    }

    #[test]
    fn minutes_check_tasks() {
        let m = Minutes {
            summary: Some(" ".into()),
            proposal: None,
            decision: Some("Avis gériatrique".into()),
            follow_up_id: None,
            actions: vec![Action {
                title: "Bilan".into(),
                category: Category::Soins,
                assignee_id: AccountId::new(),
                due_on: "2026-13-01".into(),
            }],
        };
        assert_eq!(
            m.clone().validate().unwrap_err().code(),
            "case_conference.invalid_task"
        );
        let mut ok = m;
        ok.actions[0].due_on = "2026-12-01".into();
        let ok = ok.validate().unwrap();
        assert_eq!(ok.summary, None);
    }
}
