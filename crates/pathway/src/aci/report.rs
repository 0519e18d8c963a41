//! The year's report as a pure function of the agreement's table, the CPTS's chosen
//! missions, the indicator definitions and their measured values.
//!
//! The rule (the contract's default, configurable through the weights and targets):
//! each mission's variable part is shared among its indicators by weight; each share
//! is paid in proportion to the indicator's achievement (value / target), capped at
//! 100%. The advance is the agreement's share (75% in 2019) of the year's maximum; the
//! balance is what was earned minus the advance (negative: to be paid back).

use super::{Agreement, Cents, IndicatorCode, IndicatorDef, Line, mission_line};
use crate::cpts::Mission;

pub struct ReportInput<'a> {
    pub year: i32,
    pub agreement: &'a Agreement,
    pub missions: &'a [Mission],
    pub indicators: &'a [IndicatorDef],
    /// Measured values; an indicator absent here was not measured and earns nothing.
    pub values: &'a [(IndicatorCode, i64)],
    /// `YYYY-MM-DD`.
    pub contract_signed_on: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorLine {
    pub code: IndicatorCode,
    pub label: String,
    pub value: Option<i64>,
    pub target: i64,
    pub weight: i64,
    /// value / target, capped at 100%, in basis points.
    pub achievement_bp: i64,
    pub at_stake: Cents,
    pub earned: Cents,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissionLine {
    pub mission: Mission,
    /// The mission's fixed part, the unscheduled-care supplement included.
    pub fixed: Cents,
    /// The unscheduled-care supplement alone (access to care only).
    pub supplement: Cents,
    pub variable: Cents,
    pub variable_earned: Cents,
    pub indicators: Vec<IndicatorLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub year: i32,
    pub agreement_version: String,
    pub agreement_label: String,
    pub size: u8,
    pub operating: Cents,
    pub missions: Vec<MissionLine>,
    /// Operating, fixed and variable parts of the chosen missions.
    pub maximum: Cents,
    pub earned: Cents,
    pub advance: Cents,
    pub balance: Cents,
    /// When the advance is due: the contract's anniversary in the year.
    pub advance_due_on: Option<String>,
    /// Stable codes of what the coordinator should look at.
    pub warnings: Vec<&'static str>,
}

fn amount(agreement: &Agreement, line: Line) -> Option<(Cents, Cents)> {
    agreement
        .amounts
        .iter()
        .find(|a| a.line == line)
        .map(|a| (a.fixed, a.variable))
}

/// `part × num / den`, rounded down, without overflow for any euro amount.
fn share(part: Cents, num: i64, den: i64) -> Cents {
    if den <= 0 {
        return Cents(0);
    }
    Cents(((part.0 as i128 * num as i128) / den as i128) as i64)
}

pub fn compute(input: &ReportInput) -> Report {
    let a = input.agreement;
    let mut warnings = Vec::new();
    let operating = amount(a, Line::Operating)
        .map(|(f, _)| f)
        .unwrap_or_default();
    let mut missions = Vec::new();
    for &mission in input.missions {
        let main = amount(a, mission_line(mission));
        if main.is_none() && !warnings.contains(&"aci.mission_without_amounts") {
            warnings.push("aci.mission_without_amounts");
        }
        let (fixed, variable) = main.unwrap_or_default();
        let supplement = if mission == Mission::AccesSoins {
            amount(a, Line::SoinsNonProgrammes)
                .map(|(f, _)| f)
                .unwrap_or_default()
        } else {
            Cents(0)
        };
        let defs: Vec<&IndicatorDef> = input
            .indicators
            .iter()
            .filter(|d| d.code.mission() == mission)
            .collect();
        let total_weight: i64 = defs.iter().map(|d| d.weight).sum();
        if total_weight == 0 && variable.0 > 0 {
            warnings.push("aci.mission_without_indicators");
        }
        // The remainder of the rounding goes to the last weighted indicator, so that
        // the shares add up to the variable part exactly.
        let last_weighted = defs.iter().rposition(|d| d.weight > 0);
        let mut given = Cents(0);
        let mut indicators = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            let at_stake = if Some(i) == last_weighted {
                Cents(variable.0 - given.0)
            } else {
                share(variable, d.weight, total_weight)
            };
            given = given + at_stake;
            let value = input
                .values
                .iter()
                .find(|(c, _)| *c == d.code)
                .map(|(_, v)| *v);
            let reached = value.unwrap_or(0).clamp(0, d.target);
            let achievement_bp = (reached as i128 * 10_000 / d.target.max(1) as i128) as i64;
            indicators.push(IndicatorLine {
                code: d.code,
                label: d.label.clone(),
                value,
                target: d.target,
                weight: d.weight,
                achievement_bp,
                at_stake,
                earned: share(at_stake, reached, d.target),
            });
        }
        let variable_earned = indicators.iter().map(|l| l.earned).sum();
        missions.push(MissionLine {
            mission,
            fixed: fixed + supplement,
            supplement,
            variable,
            variable_earned,
            indicators,
        });
    }
    for m in &a.mandatory {
        if !input.missions.contains(m) {
            warnings.push("aci.mandatory_mission_missing");
            break;
        }
    }
    let advance_due_on = match input.contract_signed_on {
        None => {
            warnings.push("aci.no_contract_date");
            None
        }
        Some(date) => {
            let signed_year: Option<i32> = date.get(..4).and_then(|y| y.parse().ok());
            if signed_year.is_some_and(|y| y > input.year) {
                warnings.push("aci.contract_after_year");
            }
            anniversary(date, input.year)
        }
    };
    let maximum = operating + missions.iter().map(|m| m.fixed + m.variable).sum::<Cents>();
    let earned = operating
        + missions
            .iter()
            .map(|m| m.fixed + m.variable_earned)
            .sum::<Cents>();
    let advance = share(maximum, a.advance_bp, 10_000);
    Report {
        year: input.year,
        agreement_version: a.version.clone(),
        agreement_label: a.label.clone(),
        size: a.size,
        operating,
        missions,
        maximum,
        earned,
        advance,
        balance: Cents(earned.0 - advance.0),
        advance_due_on,
        warnings,
    }
}

/// The contract's anniversary in `year`; a contract signed on 29 February has its
/// anniversary on the 28th in other years.
pub fn anniversary(signed_on: &str, year: i32) -> Option<String> {
    let month: u32 = signed_on.get(5..7)?.parse().ok()?;
    let mut day: u32 = signed_on.get(8..10)?.parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if month == 2 && day == 29 && !leap {
        day = 28;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}
