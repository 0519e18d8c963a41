//! The patient access rule: on what basis an actor may see a patient, how far each
//! basis reaches, and the pure decisions built on the facts the store reads in one
//! query. The store builds every SQL condition on patient data from the same bases
//! (`store/access.rs`), so that lists, counts, searches and fetches agree with
//! these decisions; the tables in the tests check both.

use crate::account::Actor;
use crate::audit::Purpose;
use crate::policy::{Access, Category};
use crate::{Error, Result};

text_enum! {
    /// Why an actor may see a patient at all (DESIGN.md, "Authorisation").
    pub enum Basis {
        /// An active care-team membership.
        CareTeam = "care_team",
        /// An active emergency grant (health professionals only).
        BreakGlass = "break_glass",
        /// A participant of a case conference that discusses this patient, from its
        /// start until its validation (CSP L.1110-12 counts them in the équipe de soins
        /// for that case).
        CaseConference = "case_conference",
    }
}

text_enum! {
    /// What part of a patient's data a basis opens.
    pub enum Reach {
        /// Knowing the patient exists: identity traits.
        Identity = "identity",
        /// The coordination file, category by category through the matrix.
        File = "file",
        /// The patient's threads (the care team's conversations).
        Threads = "threads",
        /// A case put on a case conference's agenda.
        Case = "case",
    }
}

impl Basis {
    /// Whether this basis opens `reach`. Break-glass reads the file in an emergency;
    /// it does not join the team's conversations. A conference participant reads the
    /// case and the identity, not the rest of the file.
    pub fn reaches(self, reach: Reach) -> bool {
        match self {
            Basis::CareTeam => true,
            Basis::BreakGlass => matches!(reach, Reach::Identity | Reach::File),
            Basis::CaseConference => matches!(reach, Reach::Identity | Reach::Case),
        }
    }

    /// Whether this basis can hold for `actor` at all, whatever the tables say.
    pub fn open_to(self, actor: &Actor) -> bool {
        match self {
            Basis::BreakGlass => actor.is_health_professional() && actor.group().is_some(),
            Basis::CareTeam | Basis::CaseConference => true,
        }
    }

    /// The legal basis an access log shows for a read under this basis.
    pub fn purpose(self) -> Purpose {
        match self {
            Basis::CareTeam => Purpose::Care,
            Basis::BreakGlass => Purpose::BreakGlass,
            Basis::CaseConference => Purpose::CaseConference,
        }
    }
}

/// The facts about one actor and one patient that the decisions need, as the store
/// reads them in one query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientAccess {
    /// The bases that hold now, in [`Basis::ALL`] order.
    pub bases: Vec<Basis>,
    /// The active médecin traitant of this patient.
    pub medecin_traitant: bool,
    /// A team member with the role `coordinateur`.
    pub coordinator: bool,
    /// The patient objected to this professional.
    pub objected: bool,
    /// Categories the patient objected to sharing.
    pub objected_categories: Vec<Category>,
    /// The actor's row of the matrix (categories absent: no access).
    pub matrix: Vec<(Category, Access)>,
}

impl PatientAccess {
    pub fn holds(&self, basis: Basis) -> bool {
        self.bases.contains(&basis)
    }

    /// An active care-team membership.
    pub fn member(&self) -> bool {
        self.holds(Basis::CareTeam)
    }

    /// Whether some basis that holds opens `reach` (and the patient did not object to
    /// this professional).
    pub fn reaches(&self, reach: Reach) -> bool {
        !self.objected && self.bases.iter().any(|b| b.reaches(reach))
    }

    /// May the actor know this patient exists at all? (Otherwise: 404.)
    pub fn can_see_patient(&self) -> bool {
        self.reaches(Reach::Identity)
    }

    /// The matrix cell of the actor for `category`.
    pub fn matrix(&self, category: Category) -> Access {
        self.matrix
            .iter()
            .find(|(c, _)| *c == category)
            .map(|(_, a)| *a)
            .unwrap_or(Access::None)
    }

    /// May the actor read `category` in this patient's file (before masking)?
    pub fn may_read(&self, category: Category) -> bool {
        self.reaches(Reach::File)
            && self.matrix(category).can_read()
            && !self.objected_categories.contains(&category)
    }

    /// The categories the actor reads in this file, in [`Category::ALL`] order.
    pub fn readable_categories(&self) -> Vec<Category> {
        if !self.reaches(Reach::File) {
            return Vec::new();
        }
        readable_in_matrix(&self.matrix, &self.objected_categories)
    }

    /// May the actor read this entry, masking included? A masked entry is for its
    /// author and the médecin traitant only.
    pub fn may_read_entry(&self, category: Category, masked: bool, is_author: bool) -> bool {
        self.may_read(category) && (!masked || is_author || self.medecin_traitant)
    }

    /// The purpose an access is recorded under: the strongest basis that holds.
    pub fn purpose(&self) -> Purpose {
        [Basis::CareTeam, Basis::CaseConference, Basis::BreakGlass]
            .into_iter()
            .find(|b| self.holds(*b))
            .map(Basis::purpose)
            .unwrap_or(Purpose::Care)
    }
}

/// The categories a matrix row lets its reader read, less those the patient objected
/// to, in [`Category::ALL`] order.
pub fn readable_in_matrix(matrix: &[(Category, Access)], objected: &[Category]) -> Vec<Category> {
    Category::ALL
        .iter()
        .copied()
        .filter(|c| matrix.iter().any(|(m, a)| m == c && a.can_read()) && !objected.contains(c))
        .collect()
}

/// May `actor` write an entry of `category` for this patient?
pub fn decide_write(actor: &Actor, access: &PatientAccess, category: Category) -> Result<()> {
    if !access.can_see_patient() {
        return Err(Error::not_found(crate::error::Noun::Patient));
    }
    if !access.reaches(Reach::File) {
        return Err(Error::forbidden(
            "entry.no_file_access",
            "your access to this patient does not include the coordination file",
        ));
    }
    if category.written_by_workflow_only() {
        return Err(Error::forbidden(
            "entry.category_read_only",
            "rcp entries are written by the case-conference workflow only",
        ));
    }
    if actor.group().is_none() || !access.matrix(category).can_write() {
        return Err(Error::forbidden(
            "entry.category_forbidden",
            format!("your profession may not write {category} entries"),
        ));
    }
    if access.objected_categories.contains(&category) {
        return Err(Error::forbidden(
            "entry.category_objected",
            format!("the patient objected to sharing {category} entries"),
        ));
    }
    Ok(())
}

/// May `actor` open a thread of `category` about this patient? Threads are the care
/// team's, and a thread of a category shows only to those who may read it.
pub fn decide_thread(access: &PatientAccess, category: Category) -> Result<()> {
    if !access.can_see_patient() {
        return Err(Error::not_found(crate::error::Noun::Patient));
    }
    if !access.reaches(Reach::Threads) {
        return Err(Error::forbidden(
            "conversation.team_only",
            "patient threads are for the care team",
        ));
    }
    if !access.may_read(category) {
        return Err(Error::forbidden(
            "conversation.category_forbidden",
            format!("your profession may not read {category} exchanges about this patient"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
