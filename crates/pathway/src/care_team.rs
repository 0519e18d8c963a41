//! The care team (équipe de soins) of one patient and its rules.

use crate::access::PatientAccess;
use crate::account::{Actor, CptsRole, ProfessionGroup};
use crate::error::Noun;
use crate::{Error, Result};

text_enum! {
    /// A member's role on the care team.
    pub enum TeamRole {
        MedecinTraitant = "medecin_traitant",
        Medecin = "medecin",
        InfirmierReferent = "infirmier_referent",
        Infirmier = "infirmier",
        Pharmacien = "pharmacien",
        Kinesitherapeute = "kinesitherapeute",
        SageFemme = "sage_femme",
        ChirurgienDentiste = "chirurgien_dentiste",
        Auxiliaire = "auxiliaire",
        Psychologue = "psychologue",
        Coordinateur = "coordinateur",
        Autre = "autre",
    }
}

impl TeamRole {
    /// The role a professional gets by default (for example when creating a patient).
    pub fn default_for(group: Option<ProfessionGroup>) -> TeamRole {
        match group {
            Some(ProfessionGroup::Medecin) => TeamRole::Medecin,
            Some(ProfessionGroup::SageFemme) => TeamRole::SageFemme,
            Some(ProfessionGroup::Dentiste) => TeamRole::ChirurgienDentiste,
            Some(ProfessionGroup::Pharmacien) => TeamRole::Pharmacien,
            Some(ProfessionGroup::Infirmier) => TeamRole::Infirmier,
            Some(ProfessionGroup::Kinesitherapeute) => TeamRole::Kinesitherapeute,
            Some(ProfessionGroup::Auxiliaire) => TeamRole::Auxiliaire,
            Some(ProfessionGroup::Psychologue) => TeamRole::Psychologue,
            Some(ProfessionGroup::Staff) => TeamRole::Coordinateur,
            None => TeamRole::Autre,
        }
    }

    /// Is this role compatible with the member's matrix column? A role never widens
    /// what the profession may see (that is the matrix's job); it must not lie about
    /// the profession either.
    pub fn fits(self, group: Option<ProfessionGroup>) -> bool {
        use ProfessionGroup as G;
        match self {
            TeamRole::MedecinTraitant | TeamRole::Medecin => group == Some(G::Medecin),
            TeamRole::InfirmierReferent | TeamRole::Infirmier => group == Some(G::Infirmier),
            TeamRole::Pharmacien => group == Some(G::Pharmacien),
            TeamRole::Kinesitherapeute => group == Some(G::Kinesitherapeute),
            TeamRole::SageFemme => group == Some(G::SageFemme),
            TeamRole::ChirurgienDentiste => group == Some(G::Dentiste),
            TeamRole::Auxiliaire => group == Some(G::Auxiliaire),
            TeamRole::Psychologue => group == Some(G::Psychologue),
            TeamRole::Coordinateur | TeamRole::Autre => true,
        }
    }
}

/// May `actor` add a member? Any active member who is a health professional or a
/// CPTS coordinator may (break-glass access is for reading in an emergency, not for
/// reshaping the team).
pub fn decide_add(actor: &Actor, access: &PatientAccess) -> Result<()> {
    if !access.can_see_patient() {
        return Err(Error::not_found(Noun::Patient));
    }
    if !access.member() {
        return Err(Error::forbidden(
            "care_team.not_member",
            "only care-team members add members",
        ));
    }
    if !actor.is_health_professional()
        && !actor.has_role(CptsRole::Coordinator)
        && !access.coordinator
    {
        return Err(Error::forbidden(
            "care_team.not_allowed",
            "only health professionals and coordinators add members",
        ));
    }
    Ok(())
}

/// May `actor` remove `target_account` from the team? The médecin traitant and
/// coordinators may remove anyone; anyone may leave.
pub fn decide_remove(actor: &Actor, access: &PatientAccess, target_is_self: bool) -> Result<()> {
    if !access.can_see_patient() {
        return Err(Error::not_found(Noun::Patient));
    }
    let coordinator =
        access.member() && (access.coordinator || actor.has_role(CptsRole::Coordinator));
    if target_is_self || access.medecin_traitant || coordinator {
        Ok(())
    } else {
        Err(Error::forbidden(
            "care_team.not_allowed",
            "only the médecin traitant and coordinators remove other members",
        ))
    }
}
