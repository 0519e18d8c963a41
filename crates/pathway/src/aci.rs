//! The ACI contract of a CPTS (accord conventionnel interprofessionnel, 2019, and its
//! avenants): what the CPTS may be paid for a year, for its size and chosen missions,
//! and what it earned from its indicators. Amounts are data (`aci_amounts`, one table
//! per agreement version, see migration 0014), never constants here.

mod report;
#[cfg(test)]
mod tests;

use crate::account::{Actor, CptsRole};
use crate::cpts::Mission;
use crate::{Error, Result};

pub use report::{IndicatorLine, MissionLine, Report, ReportInput, compute};

/// Euro cents: amounts are exact, and serialise as euros (`12500.5`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(pub i64);

impl Cents {
    pub fn euros(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, o: Cents) -> Cents {
        Cents(self.0 + o.0)
    }
}

impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        Cents(iter.map(|c| c.0).sum())
    }
}

text_enum! {
    /// A line of the agreement's table: the operating amount, a mission, or the
    /// unscheduled-care supplement of the access-to-care mission.
    pub enum Line {
        Operating = "fonctionnement",
        AccesSoins = "acces_soins",
        SoinsNonProgrammes = "soins_non_programmes",
        Parcours = "parcours",
        Prevention = "prevention",
        CriseSanitaire = "crise_sanitaire",
        Qualite = "qualite",
        Accompagnement = "accompagnement",
    }
}

impl Line {
    /// The mission a line pays for; `None` for the operating amount, paid to every
    /// CPTS with a contract.
    pub fn mission(self) -> Option<Mission> {
        match self {
            Line::Operating => None,
            Line::AccesSoins | Line::SoinsNonProgrammes => Some(Mission::AccesSoins),
            Line::Parcours => Some(Mission::Parcours),
            Line::Prevention => Some(Mission::Prevention),
            Line::CriseSanitaire => Some(Mission::CriseSanitaire),
            Line::Qualite => Some(Mission::Qualite),
            Line::Accompagnement => Some(Mission::Accompagnement),
        }
    }
}

/// One row of an agreement's table, for one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    pub line: Line,
    pub fixed: Cents,
    pub variable: Cents,
}

/// An agreement version (`2019`, `avenant-2`, …) with its table for one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    pub version: String,
    pub label: String,
    /// `YYYY-MM-DD`: contract years starting on or after it use this version.
    pub effective_from: String,
    /// Share of the year's maximum paid in advance, in basis points (7500 = 75%).
    pub advance_bp: i64,
    pub mandatory: Vec<Mission>,
    pub size: u8,
    pub amounts: Vec<Amount>,
}

text_enum! {
    /// The indicators Cordée computes from its own data.
    pub enum IndicatorCode {
        /// Patients placed with a médecin traitant from the waiting list in the year.
        PatientsPlaced = "patients_places",
        /// Of those, patients in ALD or aged 70 or more.
        PatientsPlacedFragile = "patients_places_fragiles",
        /// New patients a month the GPs declare they can take (at the end of the year).
        GpCapacity = "capacite_medecins",
        /// Care plans active at some point in the year.
        CarePlansActive = "pps_actifs",
        /// Care-plan reviews done by their due date in the year.
        CarePlansReviewedOnTime = "pps_revus_a_temps",
        /// Validated case conferences (RCP) in the year.
        CaseConferences = "rcp_validees",
        /// Distinct professions among those who attended them.
        ConferenceProfessions = "rcp_professions",
        /// Validated concertations (quality and relevance work) in the year.
        Concertations = "concertations_validees",
        /// Actions recorded in prevention campaigns in the year.
        CampaignActions = "actions_prevention",
        /// Structures that took part in a campaign in the year.
        CampaignStructures = "structures_prevention",
        /// Heat-wave and epidemic campaigns run in the year.
        CrisisCampaigns = "campagnes_crise",
        /// CPTS members at the end of the year.
        Members = "adherents",
        /// Distinct professions among them.
        MemberProfessions = "adherents_professions",
    }
}

impl IndicatorCode {
    pub fn mission(self) -> Mission {
        use IndicatorCode::*;
        match self {
            PatientsPlaced | PatientsPlacedFragile | GpCapacity => Mission::AccesSoins,
            CarePlansActive | CarePlansReviewedOnTime | CaseConferences | ConferenceProfessions => {
                Mission::Parcours
            }
            CampaignActions | CampaignStructures => Mission::Prevention,
            CrisisCampaigns => Mission::CriseSanitaire,
            Concertations => Mission::Qualite,
            Members | MemberProfessions => Mission::Accompagnement,
        }
    }
}

/// An indicator as the contract writes it: what counts, the target, and its weight
/// in its mission's variable part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorDef {
    pub code: IndicatorCode,
    pub label: String,
    pub target: i64,
    pub weight: i64,
}

pub const LABEL_MAX: usize = 200;
pub const TARGET_MAX: i64 = 1_000_000_000;
pub const WEIGHT_MAX: i64 = 1_000;

impl IndicatorDef {
    /// Checks one definition as a coordinator writes it.
    pub fn parse(code: &str, label: &str, target: i64, weight: i64) -> Result<IndicatorDef> {
        let code = IndicatorCode::parse(code).ok_or_else(|| {
            Error::invalid(
                "aci.unknown_indicator",
                format!("code must be one of: {}", IndicatorCode::NAMES.join(", ")),
            )
        })?;
        let label = label.trim();
        if label.is_empty()
            || label.chars().count() > LABEL_MAX
            || label.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "aci.invalid_label",
                format!("label must be 1 to {LABEL_MAX} printable characters"),
            ));
        }
        if !(1..=TARGET_MAX).contains(&target) {
            return Err(Error::invalid(
                "aci.invalid_target",
                format!("target must be 1 to {TARGET_MAX}"),
            ));
        }
        if !(0..=WEIGHT_MAX).contains(&weight) {
            return Err(Error::invalid(
                "aci.invalid_weight",
                format!("weight must be 0 to {WEIGHT_MAX}"),
            ));
        }
        Ok(IndicatorDef {
            code,
            label: label.to_string(),
            target,
            weight,
        })
    }
}

/// Checks a whole set of definitions: each code at most once.
pub fn check_set(defs: &[IndicatorDef]) -> Result<()> {
    for (i, d) in defs.iter().enumerate() {
        if defs.iter().skip(i + 1).any(|o| o.code == d.code) {
            return Err(Error::invalid(
                "aci.duplicate_indicator",
                format!("{} appears twice", d.code.as_str()),
            ));
        }
    }
    Ok(())
}

/// Only coordinators and admins read the report and write the indicators: it is the
/// CPTS's funding, not a member's business.
pub fn decide(actor: &Actor) -> Result<()> {
    if actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "aci.coordinators_only",
            "only CPTS coordinators and administrators see the ACI report and its indicators",
        ))
    }
}

/// A report year: from the first contracts (2019) to next year.
pub fn check_year(year: i32, current_year: i32) -> Result<i32> {
    if (2019..=current_year + 1).contains(&year) {
        Ok(year)
    } else {
        Err(Error::invalid(
            "aci.invalid_year",
            format!("year must be 2019 to {}", current_year + 1),
        ))
    }
}

/// The French label of a line, as the report prints it.
pub fn line_label(line: Line) -> &'static str {
    match line {
        Line::Operating => "Fonctionnement",
        Line::AccesSoins => "Accès aux soins",
        Line::SoinsNonProgrammes => "Soins non programmés",
        Line::Parcours => "Parcours pluriprofessionnels",
        Line::Prevention => "Prévention",
        Line::CriseSanitaire => "Réponse aux crises sanitaires graves",
        Line::Qualite => "Qualité et pertinence des soins",
        Line::Accompagnement => "Accompagnement des professionnels de santé",
    }
}

/// The line that holds a mission's fixed and variable parts.
pub fn mission_line(mission: Mission) -> Line {
    match mission {
        Mission::AccesSoins => Line::AccesSoins,
        Mission::Parcours => Line::Parcours,
        Mission::Prevention => Line::Prevention,
        Mission::CriseSanitaire => Line::CriseSanitaire,
        Mission::Qualite => Line::Qualite,
        Mission::Accompagnement => Line::Accompagnement,
    }
}
