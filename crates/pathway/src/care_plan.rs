//! The patient's care plan (PPS / PPCS, HAS): a named referent, prioritised problems
//! (the patient's own priorities first), the patient's preferences, objectives with
//! the criteria to judge them, the alert procedure, a review date. Sealed under the
//! patient's data key. Every change keeps the previous version; a review records
//! what was achieved and sets the next date.

use serde::{Deserialize, Serialize};

use crate::access::{PatientAccess, Reach};
use crate::account::Actor;
use crate::calendar::Day;
use crate::error::Noun;
use crate::ids::{AccountId, CarePlanId, PathwayId, PatientId, ReviewId};
use crate::policy::Category;
use crate::protocol::{optional_text, required_text};
use crate::{Error, Millis, Result};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_LABEL_CHARS: usize = 500;
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_ITEMS: usize = 30;
/// A review date further than this is not a review date (HAS: at least yearly).
pub const MAX_REVIEW_DAYS: i64 = 366;
/// When a plan is opened without a review date: three months (HAS's usual first).
pub const DEFAULT_REVIEW_DAYS: i64 = 90;
/// The category a plan belongs to in the matrix (the PPS is part of the summary).
pub const PLAN_CATEGORY: Category = Category::Synthese;

text_enum! {
    pub enum PlanStatus {
        Active = "active",
        Suspended = "suspended",
        Closed = "closed",
    }
}

text_enum! {
    /// What a review found of one objective.
    pub enum Achievement {
        Achieved = "achieved",
        Partial = "partial",
        NotAchieved = "not_achieved",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub label: String,
    /// 1 is the most important.
    pub priority: i64,
    /// The patient named this problem as their own priority.
    #[serde(default)]
    pub patient_priority: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    pub label: String,
    pub criteria: String,
}

/// What is sealed: the plan's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContent {
    pub title: String,
    pub problems: Vec<Problem>,
    pub preferences: String,
    pub objectives: Vec<Objective>,
    pub alert_plan: String,
}

/// The content as a request gives it.
#[derive(Clone, Debug, Default)]
pub struct PlanContentInput {
    pub title: String,
    pub problems: Vec<Problem>,
    pub preferences: String,
    pub objectives: Vec<Objective>,
    pub alert_plan: String,
}

impl PlanContent {
    /// Validates and orders the problems: the patient's own priorities first, then by
    /// priority.
    pub fn new(input: PlanContentInput) -> Result<PlanContent> {
        let title = required_text(
            "care_plan.invalid_title",
            "title",
            &input.title,
            MAX_TITLE_CHARS,
        )?;
        if input.problems.len() > MAX_ITEMS || input.objectives.len() > MAX_ITEMS {
            return Err(Error::invalid(
                "care_plan.too_many_items",
                format!("at most {MAX_ITEMS} problems and {MAX_ITEMS} objectives"),
            ));
        }
        let mut problems = Vec::with_capacity(input.problems.len());
        for p in input.problems {
            if !(1..=99).contains(&p.priority) {
                return Err(Error::invalid(
                    "care_plan.invalid_problem",
                    "a problem's priority is 1 (first) to 99",
                ));
            }
            problems.push(Problem {
                label: required_text(
                    "care_plan.invalid_problem",
                    "a problem's label",
                    &p.label,
                    MAX_LABEL_CHARS,
                )?,
                priority: p.priority,
                patient_priority: p.patient_priority,
            });
        }
        problems.sort_by_key(|p| (!p.patient_priority, p.priority));
        let mut objectives = Vec::with_capacity(input.objectives.len());
        for o in input.objectives {
            objectives.push(Objective {
                label: required_text(
                    "care_plan.invalid_objective",
                    "an objective's label",
                    &o.label,
                    MAX_LABEL_CHARS,
                )?,
                criteria: optional_text(
                    "care_plan.invalid_objective",
                    "an objective's criteria",
                    &o.criteria,
                    MAX_LABEL_CHARS,
                )?,
            });
        }
        Ok(PlanContent {
            title,
            problems,
            preferences: optional_text(
                "care_plan.invalid_text",
                "preferences",
                &input.preferences,
                MAX_TEXT_CHARS,
            )?,
            objectives,
            alert_plan: optional_text(
                "care_plan.invalid_text",
                "alert_plan",
                &input.alert_plan,
                MAX_TEXT_CHARS,
            )?,
        })
    }
}

/// A review date: after today, within a year.
pub fn check_review_on(day: Day, today: Day) -> Result<Day> {
    if day <= today {
        return Err(Error::invalid(
            "care_plan.review_in_past",
            "the review date must be after today",
        ));
    }
    if day > today.plus_days(MAX_REVIEW_DAYS) {
        return Err(Error::invalid(
            "care_plan.review_too_far",
            "the review date must be within a year",
        ));
    }
    Ok(day)
}

/// A plan as readers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CarePlan {
    pub id: CarePlanId,
    pub patient_id: PatientId,
    pub pathway_id: Option<PathwayId>,
    pub pathway_version: Option<i64>,
    pub coordinator_id: AccountId,
    pub status: PlanStatus,
    pub content: PlanContent,
    pub review_on: Day,
    pub version: i64,
    pub created_by: AccountId,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl CarePlan {
    /// The review date has passed and the plan is still followed.
    pub fn review_overdue(&self, today: Day) -> bool {
        self.status != PlanStatus::Closed && self.review_on < today
    }
}

/// A past (or the current) version of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanVersion {
    pub version: i64,
    pub coordinator_id: AccountId,
    pub status: PlanStatus,
    pub content: PlanContent,
    pub review_on: Day,
    pub author_id: AccountId,
    pub created_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub objective: String,
    pub achievement: Achievement,
    #[serde(default)]
    pub comment: String,
}

/// What a review says (sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewContent {
    pub summary: String,
    pub outcomes: Vec<Outcome>,
}

impl ReviewContent {
    pub fn new(summary: &str, outcomes: Vec<Outcome>) -> Result<ReviewContent> {
        let summary = required_text(
            "care_plan.invalid_review",
            "summary",
            summary,
            MAX_TEXT_CHARS,
        )?;
        if outcomes.len() > MAX_ITEMS {
            return Err(Error::invalid(
                "care_plan.invalid_review",
                format!("at most {MAX_ITEMS} outcomes"),
            ));
        }
        let mut out = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            out.push(Outcome {
                objective: required_text(
                    "care_plan.invalid_review",
                    "an outcome's objective",
                    &o.objective,
                    MAX_LABEL_CHARS,
                )?,
                achievement: o.achievement,
                comment: optional_text(
                    "care_plan.invalid_review",
                    "an outcome's comment",
                    &o.comment,
                    MAX_LABEL_CHARS,
                )?,
            });
        }
        Ok(ReviewContent {
            summary,
            outcomes: out,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub id: ReviewId,
    pub plan_id: CarePlanId,
    pub content: ReviewContent,
    pub next_review_on: Day,
    pub author_id: AccountId,
    pub created_at: Millis,
}

/// A change to a plan: each `None` keeps what is there.
#[derive(Clone, Debug, Default)]
pub struct PlanChange {
    pub content: Option<PlanContentInput>,
    pub status: Option<PlanStatus>,
    pub review_on: Option<Day>,
    pub coordinator_id: Option<AccountId>,
    /// The version the change was made on (409 if the plan moved since).
    pub version: i64,
}

/// May the actor read the patient's plans? The plan is part of the summary
/// (`synthese`), which the matrix opens to everyone with a basis that reaches the file.
pub fn decide_read(access: &PatientAccess) -> Result<()> {
    if !access.reaches(Reach::File) {
        return Err(Error::forbidden(
            "care_plan.no_file_access",
            "your access to this patient does not include the coordination file",
        ));
    }
    if !access.may_read(PLAN_CATEGORY) {
        return Err(Error::not_found(Noun::CarePlan));
    }
    Ok(())
}

/// May the actor open or change a plan? A health professional of the care team, or
/// the team's coordinator (break-glass reads, it does not organise care).
pub fn decide_write(actor: &Actor, access: &PatientAccess) -> Result<()> {
    decide_read(access)?;
    if !access.member() || !(actor.is_health_professional() || access.coordinator) {
        return Err(Error::forbidden(
            "care_plan.team_only",
            "the care team's health professionals and its coordinator write the care plan",
        ));
    }
    if !access.matrix(PLAN_CATEGORY).can_write() {
        return Err(Error::forbidden(
            "care_plan.team_only",
            "your profession may not write the care plan",
        ));
    }
    Ok(())
}

/// Whether a plan may move from `from` to `to`: closed is final.
pub fn decide_status(from: PlanStatus, to: PlanStatus) -> Result<()> {
    if from == PlanStatus::Closed && to != PlanStatus::Closed {
        return Err(Error::conflict(
            "care_plan.closed",
            "the plan is closed; open a new one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Basis;
    use crate::account::{AccountKind, CptsRole, ProfessionCode};
    use crate::policy::Access;

    fn input() -> PlanContentInput {
        PlanContentInput {
            title: " PPS ".into(),
            problems: vec![
                Problem {
                    label: "Plaie".into(),
                    priority: 1,
                    patient_priority: false,
                },
                Problem {
                    label: "Rester chez moi".into(),
                    priority: 2,
                    patient_priority: true,
                },
                Problem {
                    label: "Isolement".into(),
                    priority: 3,
                    patient_priority: false,
                },
            ],
            preferences: "Visites le matin".into(),
            objectives: vec![Objective {
                label: "Cicatrisation".into(),
                criteria: "Plaie fermée à 8 semaines".into(),
            }],
            alert_plan: "Appeler la fille".into(),
        }
    }

    #[test]
    fn the_patients_own_priorities_come_first() {
        let c = PlanContent::new(input()).unwrap();
        let labels: Vec<&str> = c.problems.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["Rester chez moi", "Plaie", "Isolement"]);
        assert_eq!(c.title, "PPS");
    }

    #[test]
    fn bad_content_is_refused_with_a_code() {
        type Spoil = fn(&mut PlanContentInput);
        let cases: [(Spoil, &str); 5] = [
            (|i| i.title = "  ".into(), "care_plan.invalid_title"),
            (|i| i.problems[0].priority = 0, "care_plan.invalid_problem"),
            (
                |i| i.problems[0].label = String::new(),
                "care_plan.invalid_problem",
            ),
            (
                |i| i.objectives[0].label = "x".repeat(501),
                "care_plan.invalid_objective",
            ),
            (
                |i| i.alert_plan = "x".repeat(4001),
                "care_plan.invalid_text",
            ),
        ];
        for (spoil, code) in cases {
            let mut i = input();
            spoil(&mut i);
            assert_eq!(PlanContent::new(i).unwrap_err().code(), code);
        }
    }

    #[test]
    fn review_dates_are_after_today_and_within_a_year() {
        let today = Day::parse("2026-11-29").unwrap();
        assert!(check_review_on(today, today).is_err());
        assert!(check_review_on(today.plus_days(1), today).is_ok());
        assert!(check_review_on(today.plus_days(366), today).is_ok());
        assert_eq!(
            check_review_on(today.plus_days(367), today)
                .unwrap_err()
                .code(),
            "care_plan.review_too_far"
        );
    }

    #[test]
    fn who_writes_the_plan() {
        let actor = |kind, code: Option<&str>| Actor {
            account_id: AccountId::new(),
            kind,
            profession: code.and_then(ProfessionCode::parse),
            roles: vec![CptsRole::Member],
            session_id: None,
        };
        let access = |bases: Vec<Basis>, coordinator: bool| PatientAccess {
            bases,
            coordinator,
            matrix: vec![(Category::Synthese, Access::Write)],
            ..PatientAccess::default()
        };
        let nurse = actor(AccountKind::HealthProfessional, Some("60"));
        let staff = actor(AccountKind::Staff, None);
        let cases = [
            (&nurse, access(vec![Basis::CareTeam], false), None),
            (
                &nurse,
                access(vec![Basis::BreakGlass], false),
                Some("care_plan.team_only"),
            ),
            (&staff, access(vec![Basis::CareTeam], true), None),
            (
                &staff,
                access(vec![Basis::CareTeam], false),
                Some("care_plan.team_only"),
            ),
            (
                &nurse,
                access(vec![Basis::CaseConference], false),
                Some("care_plan.no_file_access"),
            ),
        ];
        for (who, facts, code) in cases {
            assert_eq!(
                decide_write(who, &facts).err().map(|e| e.code()),
                code,
                "{who:?} {facts:?}"
            );
        }
    }

    #[test]
    fn a_closed_plan_stays_closed() {
        use PlanStatus::*;
        for (from, to, ok) in [
            (Active, Suspended, true),
            (Suspended, Active, true),
            (Active, Closed, true),
            (Closed, Active, false),
            (Closed, Suspended, false),
        ] {
            assert_eq!(decide_status(from, to).is_ok(), ok, "{from} -> {to}");
        }
    }
}
