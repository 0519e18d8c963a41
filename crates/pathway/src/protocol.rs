//! Territorial pathways (parcours): protocols the CPTS agreed on, as ordered steps
//! — what, in which category, by which profession, how many days after the start.
//! Not health data. Every edit makes a new version; a care plan keeps the version
//! it started from.

use serde::Serialize;

use crate::account::{Actor, CptsRole, ProfessionCode};
use crate::ids::{AccountId, PathwayId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_STEPS: usize = 50;
pub const MAX_OFFSET_DAYS: i64 = 3650;

/// One step of a protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Step {
    pub title: String,
    pub category: Category,
    pub profession_code: Option<ProfessionCode>,
    pub offset_days: i64,
}

/// A protocol's content, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolContent {
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

/// A step as a request gives it, before validation.
#[derive(Clone, Debug, Default)]
pub struct StepInput {
    pub title: String,
    pub category: String,
    pub profession_code: Option<String>,
    pub offset_days: i64,
}

/// Text whose trimmed length is 1 to `max` characters.
pub(crate) fn required_text(
    code: &'static str,
    field: &str,
    text: &str,
    max: usize,
) -> Result<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(Error::invalid(
            code,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Text of at most `max` characters (trimmed, may be empty).
pub(crate) fn optional_text(
    code: &'static str,
    field: &str,
    text: &str,
    max: usize,
) -> Result<String> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(Error::invalid(
            code,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// A category a task or step may carry: any but `rcp`, which only the
/// case-conference workflow writes.
pub fn task_category(code: &'static str, text: &str) -> Result<Category> {
    match Category::parse(text) {
        Some(c) if !c.written_by_workflow_only() => Ok(c),
        _ => Err(Error::invalid(
            code,
            "category must be a category of the file other than rcp",
        )),
    }
}

impl ProtocolContent {
    pub fn new(name: &str, description: &str, steps: &[StepInput]) -> Result<ProtocolContent> {
        let name = required_text("pathway.invalid_name", "name", name, MAX_NAME_CHARS)?;
        let description = optional_text(
            "pathway.invalid_description",
            "description",
            description,
            MAX_DESCRIPTION_CHARS,
        )?;
        if steps.is_empty() || steps.len() > MAX_STEPS {
            return Err(Error::invalid(
                "pathway.invalid_steps",
                format!("a pathway has 1 to {MAX_STEPS} steps"),
            ));
        }
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            let title = required_text(
                "pathway.invalid_step",
                "a step's title",
                &s.title,
                MAX_NAME_CHARS,
            )?;
            let category = task_category("pathway.invalid_step", &s.category)?;
            let profession_code = match s.profession_code.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(code) => Some(
                    ProfessionCode::parse(code)
                        .filter(|c| c.group().is_some())
                        .ok_or_else(|| {
                            Error::invalid(
                                "pathway.invalid_step",
                                "a step's profession_code must be a TRE_G15 profession code (10, 21, 60…)",
                            )
                        })?,
                ),
            };
            if !(0..=MAX_OFFSET_DAYS).contains(&s.offset_days) {
                return Err(Error::invalid(
                    "pathway.invalid_step",
                    format!("a step's offset_days must be 0 to {MAX_OFFSET_DAYS}"),
                ));
            }
            out.push(Step {
                title,
                category,
                profession_code,
                offset_days: s.offset_days,
            });
        }
        // Ordered by delay; equal delays keep the order given.
        out.sort_by_key(|s| s.offset_days);
        Ok(ProtocolContent {
            name,
            description,
            steps: out,
        })
    }
}

/// A protocol as readers see it (its current version, or the one asked for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Protocol {
    pub id: PathwayId,
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub updated_by: AccountId,
}

/// Coordinators and admins write protocols; every member reads them.
pub fn decide_write(actor: &Actor) -> Result<()> {
    if actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "pathway.coordinators_only",
            "coordinators and admins of the CPTS write pathways",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(title: &str, category: &str, code: Option<&str>, offset: i64) -> StepInput {
        StepInput {
            title: title.into(),
            category: category.into(),
            profession_code: code.map(Into::into),
            offset_days: offset,
        }
    }

    #[test]
    fn steps_are_checked_and_ordered_by_delay() {
        let c = ProtocolContent::new(
            " Retour à domicile ",
            "",
            &[
                step("Consultation MG", "medical", Some("10"), 7),
                step("Visite IDE", "soins", Some("60"), 1),
                step("Aides à domicile", "social", None, 1),
            ],
        )
        .unwrap();
        assert_eq!(c.name, "Retour à domicile");
        let titles: Vec<&str> = c.steps.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Visite IDE", "Aides à domicile", "Consultation MG"]
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_code() {
        let ok = step("Visite", "soins", Some("60"), 1);
        let cases: Vec<(&str, &str, Vec<StepInput>, &str)> = vec![
            ("", "", vec![ok.clone()], "pathway.invalid_name"),
            ("P", "", vec![], "pathway.invalid_steps"),
            (
                "P",
                "",
                vec![step("", "soins", None, 1)],
                "pathway.invalid_step",
            ),
            (
                "P",
                "",
                vec![step("V", "rcp", None, 1)],
                "pathway.invalid_step",
            ),
            (
                "P",
                "",
                vec![step("V", "soin", None, 1)],
                "pathway.invalid_step",
            ),
            (
                "P",
                "",
                vec![step("V", "soins", Some("99"), 1)],
                "pathway.invalid_step",
            ),
            (
                "P",
                "",
                vec![step("V", "soins", None, -1)],
                "pathway.invalid_step",
            ),
            (
                "P",
                "",
                vec![step("V", "soins", None, 4000)],
                "pathway.invalid_step",
            ),
        ];
        for (name, description, steps, code) in cases {
            let err = ProtocolContent::new(name, description, &steps).unwrap_err();
            assert_eq!(err.code(), code, "{name} {steps:?}");
        }
    }
}
