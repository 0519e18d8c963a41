//! Tasks of a care plan: what a named professional of the care team does, by when,
//! in which category (a task obeys the matrix through its category: the plan de
//! soins stays apart from the plan d'aides). The state machine is a pure function.

use serde::Serialize;

use crate::calendar::Day;
use crate::ids::{AccountId, CarePlanId, PatientId, TaskId};
use crate::policy::Category;
use crate::protocol::{optional_text, required_text};
use crate::{Error, Millis, Result};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DETAIL_CHARS: usize = 4000;
pub const MAX_NOTE_CHARS: usize = 4000;

text_enum! {
    pub enum TaskStatus {
        Proposed = "proposed",
        Accepted = "accepted",
        Declined = "declined",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

impl TaskStatus {
    /// Still to be done by someone (what a to-do list shows by default).
    pub fn open(self) -> bool {
        matches!(
            self,
            TaskStatus::Proposed | TaskStatus::Accepted | TaskStatus::InProgress
        )
    }

    pub const OPEN: &'static [TaskStatus] = &[
        TaskStatus::Proposed,
        TaskStatus::Accepted,
        TaskStatus::InProgress,
    ];
}

text_enum! {
    /// Where a task came from.
    pub enum TaskSource {
        Plan = "plan",
        Pathway = "pathway",
        CaseConference = "case_conference",
    }
}

/// What the actor is to the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRole {
    /// The professional the task is assigned to.
    pub assignee: bool,
    /// The plan's referent (coordinator), who organises its tasks.
    pub referent: bool,
}

/// The task's words, sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TaskContent {
    pub title: String,
    pub detail: String,
}

impl TaskContent {
    pub fn new(title: &str, detail: &str) -> Result<TaskContent> {
        Ok(TaskContent {
            title: required_text("task.invalid_title", "title", title, MAX_TITLE_CHARS)?,
            detail: optional_text("task.invalid_detail", "detail", detail, MAX_DETAIL_CHARS)?,
        })
    }
}

/// A task to add to a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    pub content: TaskContent,
    pub category: Category,
    pub assignee_id: Option<AccountId>,
    pub due_on: Day,
}

/// A due date: today or later.
pub fn check_due_on(due: Day, today: Day) -> Result<Day> {
    if due < today {
        return Err(Error::invalid(
            "task.due_in_past",
            "the due date must be today or later",
        ));
    }
    if due > today.plus_days(crate::protocol::MAX_OFFSET_DAYS) {
        return Err(Error::invalid(
            "task.due_too_far",
            "the due date must be within ten years",
        ));
    }
    Ok(due)
}

/// Whether `role` may move a task from `from` to `to`. The assignee accepts,
/// declines, starts and completes; the referent cancels, and reopens a declined task
/// (by reassigning it). Done and cancelled are final.
pub fn decide_transition(from: TaskStatus, to: TaskStatus, role: TaskRole) -> Result<()> {
    use TaskStatus::*;
    let assignee_may = matches!(
        (from, to),
        (Proposed, Accepted)
            | (Proposed, Declined)
            | (Proposed, InProgress)
            | (Proposed, Done)
            | (Accepted, Declined)
            | (Accepted, InProgress)
            | (Accepted, Done)
            | (InProgress, Done)
    );
    let referent_may = matches!(
        (from, to),
        (Proposed, Cancelled)
            | (Accepted, Cancelled)
            | (InProgress, Cancelled)
            | (Declined, Cancelled)
            | (Declined, Proposed)
    );
    if (role.assignee && assignee_may) || (role.referent && referent_may) {
        return Ok(());
    }
    if matches!(from, Done | Cancelled) {
        return Err(Error::conflict(
            "task.finished",
            format!("the task is {from}: it does not change any more"),
        ));
    }
    if assignee_may || referent_may {
        return Err(Error::forbidden(
            "task.not_yours",
            if assignee_may {
                "only the task's assignee does this"
            } else {
                "only the plan's referent does this"
            },
        ));
    }
    Err(Error::conflict(
        "task.invalid_transition",
        format!("a {from} task cannot become {to}"),
    ))
}

/// A declined task needs its reason; a note is at most 4,000 characters.
pub fn check_note(to: TaskStatus, note: Option<&str>) -> Result<Option<String>> {
    let note = note
        .map(|n| optional_text("task.invalid_note", "note", n, MAX_NOTE_CHARS))
        .transpose()?
        .filter(|n| !n.is_empty());
    if to == TaskStatus::Declined && note.is_none() {
        return Err(Error::invalid(
            "task.reason_required",
            "say why you decline the task (note)",
        ));
    }
    Ok(note)
}

/// A task as readers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub plan_id: CarePlanId,
    pub patient_id: PatientId,
    pub content: TaskContent,
    pub category: Category,
    pub assignee_id: Option<AccountId>,
    pub due_on: Day,
    pub status: TaskStatus,
    pub source: TaskSource,
    /// The last note (a decline's reason, a completion note).
    pub note: Option<String>,
    pub version: i64,
    pub created_by: AccountId,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Task {
    pub fn overdue(&self, today: Day) -> bool {
        self.status.open() && self.due_on < today
    }
}

/// A change to a task: a new status (with its note), a new assignee, a new date.
#[derive(Clone, Debug, Default)]
pub struct TaskChange {
    pub status: Option<TaskStatus>,
    pub note: Option<String>,
    /// `Some(None)`: leave unassigned.
    pub assignee_id: Option<Option<AccountId>>,
    pub due_on: Option<Day>,
    pub version: i64,
}

/// Filters of the to-do list.
#[derive(Clone, Debug)]
pub struct TodoFilter {
    pub statuses: Vec<TaskStatus>,
    pub due_before: Option<Day>,
    /// `(due_on, id)` of the last task of the previous page.
    pub after: Option<(Day, TaskId)>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskStatus::*;

    const ASSIGNEE: TaskRole = TaskRole {
        assignee: true,
        referent: false,
    };
    const REFERENT: TaskRole = TaskRole {
        assignee: false,
        referent: true,
    };
    const OTHER: TaskRole = TaskRole {
        assignee: false,
        referent: false,
    };

    #[test]
    fn the_state_machine_as_a_table() {
        // (from, to, who, expected: None = allowed, Some(code))
        let cases = [
            (Proposed, Accepted, ASSIGNEE, None),
            (Proposed, Declined, ASSIGNEE, None),
            (Proposed, InProgress, ASSIGNEE, None),
            (Accepted, InProgress, ASSIGNEE, None),
            (Accepted, Done, ASSIGNEE, None),
            (InProgress, Done, ASSIGNEE, None),
            (Accepted, Declined, ASSIGNEE, None),
            (
                InProgress,
                Declined,
                ASSIGNEE,
                Some("task.invalid_transition"),
            ),
            (Proposed, Cancelled, REFERENT, None),
            (InProgress, Cancelled, REFERENT, None),
            (Declined, Cancelled, REFERENT, None),
            (Declined, Proposed, REFERENT, None),
            (Proposed, Cancelled, ASSIGNEE, Some("task.not_yours")),
            (Proposed, Accepted, REFERENT, Some("task.not_yours")),
            (Proposed, Accepted, OTHER, Some("task.not_yours")),
            (Done, InProgress, ASSIGNEE, Some("task.finished")),
            (Cancelled, Proposed, REFERENT, Some("task.finished")),
            (Done, Cancelled, REFERENT, Some("task.finished")),
            (
                Accepted,
                Proposed,
                ASSIGNEE,
                Some("task.invalid_transition"),
            ),
            (
                Declined,
                Accepted,
                ASSIGNEE,
                Some("task.invalid_transition"),
            ),
        ];
        let both = TaskRole {
            assignee: true,
            referent: true,
        };
        for (from, to, who, expected) in cases {
            let got = decide_transition(from, to, who).err().map(|e| e.code());
            assert_eq!(got, expected, "{from} -> {to} by {who:?}");
            if expected.is_none() {
                assert!(
                    decide_transition(from, to, both).is_ok(),
                    "{from} -> {to} by both"
                );
            }
        }
    }

    #[test]
    fn declining_needs_a_reason() {
        assert_eq!(
            check_note(Declined, None).unwrap_err().code(),
            "task.reason_required"
        );
        assert_eq!(
            check_note(Declined, Some("  ")).unwrap_err().code(),
            "task.reason_required"
        );
        assert_eq!(
            check_note(Declined, Some(" absente ")).unwrap(),
            Some("absente".into())
        );
        assert_eq!(check_note(Done, None).unwrap(), None);
    }

    #[test]
    fn due_dates_are_today_or_later() {
        let today = Day::parse("2026-11-29").unwrap();
        assert!(check_due_on(today, today).is_ok());
        assert_eq!(
            check_due_on(today.plus_days(-1), today).unwrap_err().code(),
            "task.due_in_past"
        );
    }
}
