//! The patient's wishes about sharing: when they were informed, their objections (to
//! a professional, to a category), and the entries they asked to mask. Changes are
//! explicit — one objection added or lifted, one entry masked or unmasked — and each
//! is decided here: nobody changes what concerns entries or categories they may not
//! read, and lifting a mask is for the entry's author or the médecin traitant.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::access::{PatientAccess, Reach};
use crate::account::{Actor, CptsRole};
use crate::error::Noun;
use crate::ids::{AccountId, EntryId, ObjectionId};
use crate::policy::Category;
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Objection {
    /// The patient does not want this professional to see their file.
    Professional { account_id: AccountId },
    /// The patient does not want this category shared.
    Category { category: Category },
}

/// An objection in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectionRecord {
    pub id: ObjectionId,
    pub objection: Objection,
    pub created_at: Millis,
    pub created_by: AccountId,
}

/// One explicit change to the patient's wishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentChange {
    /// When the patient was informed of the sharing.
    Informed(Millis),
    Object(Objection),
    Lift(ObjectionId),
    Mask(EntryId),
    Unmask(EntryId),
}

/// Who records the patient's wishes at all: care-team members who are health
/// professionals or coordinators, not someone reading through break-glass or a case
/// conference.
pub fn may_record(actor: &Actor, access: &PatientAccess) -> Result<()> {
    if access.member()
        && (actor.is_health_professional()
            || access.coordinator
            || actor.has_role(CptsRole::Coordinator))
    {
        Ok(())
    } else {
        Err(Error::forbidden(
            "consent.not_allowed",
            "only care-team professionals and coordinators record the patient's wishes",
        ))
    }
}

/// Whether a category concerns the actor: the matrix lets them read it in this file
/// (an objection to the category itself aside, or it could never be lifted).
pub fn concerns(access: &PatientAccess, category: Category) -> bool {
    access.reaches(Reach::File) && access.matrix(category).can_read()
}

/// May the actor add or lift this objection? Category objections only by those the
/// category concerns.
pub fn decide_objection(
    actor: &Actor,
    access: &PatientAccess,
    objection: &Objection,
) -> Result<()> {
    may_record(actor, access)?;
    match objection {
        Objection::Category { category } if !concerns(access, *category) => Err(Error::forbidden(
            "consent.category_forbidden",
            format!(
                "your profession may not read {category} entries, so you do not record objections about them"
            ),
        )),
        _ => Ok(()),
    }
}

/// May the actor mask an entry? The entry must be one they may read (otherwise it is
/// "not found" for them, as everywhere else).
pub fn decide_mask(
    actor: &Actor,
    access: &PatientAccess,
    category: Category,
    masked: bool,
    author: AccountId,
) -> Result<()> {
    may_record(actor, access)?;
    if !access.may_read_entry(category, masked, author == actor.account_id) {
        return Err(Error::not_found(Noun::Entry));
    }
    Ok(())
}

/// May the actor lift a mask? Only the entry's author or the médecin traitant (those
/// who can still read it).
pub fn decide_unmask(
    actor: &Actor,
    access: &PatientAccess,
    category: Category,
    author: AccountId,
) -> Result<()> {
    decide_mask(actor, access, category, true, author)?;
    if author != actor.account_id && !access.medecin_traitant {
        return Err(Error::forbidden(
            "consent.unmask_forbidden",
            "only the entry's author or the médecin traitant lifts a mask",
        ));
    }
    Ok(())
}

/// What a reader is shown of the objections: category objections only for categories
/// that concern them; objections to professionals (who is on the team) to all who
/// record the patient's wishes.
pub fn shows_objection(access: &PatientAccess, objection: &Objection) -> bool {
    match objection {
        Objection::Category { category } => concerns(access, *category),
        Objection::Professional { .. } => true,
    }
}
