//! Who may see and write what: the categories of the coordination file, the
//! profession × category matrix, and the pure decisions built on them. The SQL in
//! the store applies the same rules inside its queries; these functions decide
//! before a write and are what the tables in the tests check.

use serde::{Deserialize, Serialize};

use crate::account::{Actor, ProfessionGroup};
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Summary, PPS.
    Synthese,
    /// Observations, diagnoses, letters.
    Medical,
    /// Nursing and rehabilitation notes, wound photos, vitals.
    Soins,
    /// Prescriptions, dispensations.
    Traitements,
    /// Biology, imaging.
    Resultats,
    /// Social situation, aids.
    Social,
    /// Contacts, appointments, logistics.
    Administratif,
    /// Case-conference conclusions (written only by the case-conference workflow).
    Rcp,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Synthese,
        Category::Medical,
        Category::Soins,
        Category::Traitements,
        Category::Resultats,
        Category::Social,
        Category::Administratif,
        Category::Rcp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Synthese => "synthese",
            Category::Medical => "medical",
            Category::Soins => "soins",
            Category::Traitements => "traitements",
            Category::Resultats => "resultats",
            Category::Social => "social",
            Category::Administratif => "administratif",
            Category::Rcp => "rcp",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Categories no one writes through the file API.
    pub fn written_by_workflow_only(self) -> bool {
        self == Category::Rcp
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    None,
    Read,
    Write,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<Access> {
        [Access::None, Access::Read, Access::Write]
            .into_iter()
            .find(|a| a.as_str() == text)
    }

    pub fn can_read(self) -> bool {
        self >= Access::Read
    }

    pub fn can_write(self) -> bool {
        self == Access::Write
    }
}

/// The facts about one actor and one patient that the decisions need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientAccess {
    /// An active care-team membership.
    pub member: bool,
    /// The active médecin traitant of this patient.
    pub medecin_traitant: bool,
    /// A team member with the role `coordinateur`.
    pub coordinator: bool,
    /// An active break-glass grant.
    pub break_glass: bool,
    /// The patient objected to this professional.
    pub objected: bool,
    /// Categories the patient objected to.
    pub objected_categories: Vec<Category>,
}

impl PatientAccess {
    /// May the actor know this patient exists at all? (Otherwise: 404.)
    pub fn can_see_patient(&self) -> bool {
        (self.member || self.break_glass) && !self.objected
    }

    pub fn purpose(&self) -> crate::audit::Purpose {
        if self.member {
            crate::audit::Purpose::Care
        } else {
            crate::audit::Purpose::BreakGlass
        }
    }
}

/// May `actor` write an entry of `category` for this patient, given the matrix?
pub fn decide_write(
    actor: &Actor,
    access: &PatientAccess,
    category: Category,
    matrix: Access,
) -> Result<()> {
    if !access.can_see_patient() {
        return Err(Error::not_found("patient"));
    }
    if category.written_by_workflow_only() {
        return Err(Error::forbidden(
            "entry.category_read_only",
            "rcp entries are written by the case-conference workflow only",
        ));
    }
    if actor.group().is_none() || !matrix.can_write() {
        return Err(Error::forbidden(
            "entry.category_forbidden",
            format!(
                "your profession may not write {} entries",
                category.as_str()
            ),
        ));
    }
    if access.objected_categories.contains(&category) {
        return Err(Error::forbidden(
            "entry.category_objected",
            format!(
                "the patient objected to sharing {} entries",
                category.as_str()
            ),
        ));
    }
    Ok(())
}

/// The default matrix of DESIGN.md, as the first migration seeds it; used by the
/// conformance tests to check the seed.
pub fn default_access(group: ProfessionGroup, category: Category) -> Access {
    use Access::{None as N, Read as R, Write as W};
    use ProfessionGroup as G;
    let column = match group {
        G::Medecin => 0,
        G::SageFemme => 1,
        G::Dentiste => 2,
        G::Pharmacien => 3,
        G::Infirmier => 4,
        G::Kinesitherapeute => 5,
        G::Auxiliaire => 6,
        G::Psychologue => 7,
        G::Staff => 8,
    };
    let row: [Access; 9] = match category {
        Category::Synthese => [W, W, W, W, W, W, W, W, W],
        Category::Medical => [W, W, W, R, R, R, N, N, N],
        Category::Soins => [W, W, R, R, W, W, W, N, N],
        Category::Traitements => [W, W, W, W, R, R, N, N, N],
        Category::Resultats => [W, W, W, R, R, R, N, N, N],
        Category::Social => [W, W, R, R, W, R, R, W, W],
        Category::Administratif => [W, W, W, W, W, W, W, W, W],
        Category::Rcp => [R, R, R, R, R, R, R, N, N],
    };
    row.get(column).copied().unwrap_or(N)
}
