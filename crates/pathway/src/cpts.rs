//! The CPTS itself: its profile (name, population and the ACI size derived from it,
//! contract date, missions, communes), the adhesion of professionals, and who may do
//! what with the directory and the structures of the territory.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::account::{Actor, CptsRole, ProfessionCode};
use crate::directory::CommuneCode;
use crate::ids::{AccountId, MembershipId};
use crate::{Error, Millis, Result};

text_enum! {
    /// The missions of the ACI contract a CPTS chooses (API.md).
    pub enum Mission {
        AccesSoins = "acces_soins",
        Parcours = "parcours",
        Prevention = "prevention",
        CriseSanitaire = "crise_sanitaire",
        Qualite = "qualite",
        Accompagnement = "accompagnement",
    }
}

/// The ACI size (1 to 4) of a CPTS serving `population` people: under 40,000; 40,000
/// to under 80,000; 80,000 to 175,000; over 175,000. The agreement's bands meet at
/// 80,000; Cordée puts that population in size 3, the band it opens.
pub fn size_for_population(population: i64) -> u8 {
    match population {
        p if p < 40_000 => 1,
        p if p < 80_000 => 2,
        p if p <= 175_000 => 3,
        _ => 4,
    }
}

/// The profile as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CptsProfile {
    pub name: String,
    /// People living in the territory (the ACI size follows from it).
    pub population: i64,
    /// `YYYY-MM-DD`: when the ACI contract was signed, if it is.
    pub contract_signed_on: Option<String>,
    pub missions: Vec<Mission>,
    pub communes: Vec<CommuneCode>,
    pub updated_at: Millis,
    pub updated_by: Option<AccountId>,
}

impl CptsProfile {
    pub fn size(&self) -> u8 {
        size_for_population(self.population)
    }
}

pub const NAME_MAX: usize = 200;
pub const POPULATION_MAX: i64 = 10_000_000;
pub const COMMUNES_MAX: usize = 500;

/// What an admin writes, before checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProfileInput {
    pub name: String,
    pub population: i64,
    pub contract_signed_on: Option<String>,
    pub missions: Vec<String>,
    pub communes: Vec<String>,
}

/// A checked profile, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub name: String,
    pub population: i64,
    pub contract_signed_on: Option<String>,
    pub missions: Vec<Mission>,
    pub communes: Vec<CommuneCode>,
}

impl ProfileInput {
    pub fn validate(self) -> Result<ProfileUpdate> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "cpts.invalid_name",
                format!("name must be 1 to {NAME_MAX} printable characters"),
            ));
        }
        if !(1..=POPULATION_MAX).contains(&self.population) {
            return Err(Error::invalid(
                "cpts.invalid_population",
                format!("population must be a whole number from 1 to {POPULATION_MAX}"),
            ));
        }
        let contract_signed_on = self
            .contract_signed_on
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                Date::parse(d, format_description!("[year]-[month]-[day]"))
                    .map(|_| d.to_string())
                    .map_err(|_| {
                        Error::invalid(
                            "cpts.invalid_date",
                            "contract_signed_on must be a date written YYYY-MM-DD",
                        )
                    })
            })
            .transpose()?;
        let mut missions = Vec::with_capacity(self.missions.len());
        for word in &self.missions {
            let mission = Mission::parse(word).ok_or_else(|| {
                Error::invalid(
                    "cpts.invalid_mission",
                    format!("missions must be among: {}", Mission::NAMES.join(", ")),
                )
            })?;
            if missions.contains(&mission) {
                return Err(Error::invalid(
                    "cpts.duplicate_mission",
                    format!("the mission {mission} is listed twice"),
                ));
            }
            missions.push(mission);
        }
        missions.sort();
        if self.communes.len() > COMMUNES_MAX {
            return Err(Error::invalid(
                "cpts.too_many_communes",
                format!("a CPTS lists at most {COMMUNES_MAX} communes"),
            ));
        }
        let mut communes = Vec::with_capacity(self.communes.len());
        for text in &self.communes {
            let code = CommuneCode::parse(text).ok_or_else(|| {
                Error::invalid(
                    "cpts.invalid_commune",
                    "communes must be INSEE commune codes (5 characters, e.g. 59350 for Lille)",
                )
            })?;
            if !communes.contains(&code) {
                communes.push(code);
            }
        }
        communes.sort();
        Ok(ProfileUpdate {
            name: name.to_string(),
            population: self.population,
            contract_signed_on,
            missions,
            communes,
        })
    }
}

/// A professional's adhesion to the CPTS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub id: MembershipId,
    pub account_id: AccountId,
    /// The profession they joined under (the session's active exercice).
    pub profession: Option<ProfessionCode>,
    pub joined_at: Millis,
    pub left_at: Option<Millis>,
}

/// Things people do with the directory, the structures and the CPTS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ReadDirectory,
    Invite,
    ReadProfile,
    EditProfile,
    JoinOrLeave,
    ManageOrganisations,
}

/// Who may do what (DESIGN.md, API.md): every logged-in member reads the directory
/// and the profile and invites; health professionals join and leave the CPTS
/// themselves; coordinators and admins organise the structures; admins edit the
/// profile.
pub fn decide(actor: &Actor, action: Action) -> Result<()> {
    let staff_role = actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin);
    match action {
        Action::ReadDirectory | Action::Invite | Action::ReadProfile => Ok(()),
        Action::EditProfile if actor.has_role(CptsRole::Admin) => Ok(()),
        Action::EditProfile => Err(Error::forbidden(
            "cpts.admin_only",
            "only a CPTS administrator edits the CPTS profile",
        )),
        Action::JoinOrLeave if actor.is_health_professional() => Ok(()),
        Action::JoinOrLeave => Err(Error::forbidden(
            "cpts.professionals_only",
            "only health professionals join the CPTS; staff take part through their role",
        )),
        Action::ManageOrganisations if staff_role => Ok(()),
        Action::ManageOrganisations => Err(Error::forbidden(
            "organisation.coordinators_only",
            "only CPTS coordinators and administrators create, edit and merge organisations",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountKind;

    #[test]
    fn size_follows_population() {
        let cases = [
            (1, 1),
            (39_999, 1),
            (40_000, 2),
            (79_999, 2),
            (80_000, 3),
            (175_000, 3),
            (175_001, 4),
            (2_000_000, 4),
        ];
        for (population, size) in cases {
            assert_eq!(size_for_population(population), size, "{population}");
        }
    }

    fn actor(kind: AccountKind, roles: &[CptsRole]) -> Actor {
        Actor {
            account_id: AccountId::new(),
            kind,
            profession: None,
            roles: roles.to_vec(),
            session_id: None,
        }
    }

    #[test]
    fn who_may_do_what() {
        use AccountKind::{HealthProfessional as Hp, Staff};
        use CptsRole::{Admin, Coordinator, Member};
        let nurse = actor(Hp, &[Member]);
        let coordinator = actor(Staff, &[Coordinator]);
        let admin = actor(Staff, &[Admin]);
        let member_staff = actor(Staff, &[Member]);
        // (action, nurse, coordinator, admin, staff member)
        let table = [
            (Action::ReadDirectory, true, true, true, true),
            (Action::Invite, true, true, true, true),
            (Action::ReadProfile, true, true, true, true),
            (Action::EditProfile, false, false, true, false),
            (Action::JoinOrLeave, true, false, false, false),
            (Action::ManageOrganisations, false, true, true, false),
        ];
        for (action, n, c, a, s) in table {
            for (who, allowed) in [
                (&nurse, n),
                (&coordinator, c),
                (&admin, a),
                (&member_staff, s),
            ] {
                assert_eq!(decide(who, action).is_ok(), allowed, "{action:?} {who:?}");
            }
        }
    }

    fn input() -> ProfileInput {
        ProfileInput {
            name: "CPTS Lille Ouest".into(),
            population: 95_000,
            contract_signed_on: Some("2025-03-14".into()),
            missions: vec!["prevention".into(), "acces_soins".into()],
            communes: vec!["59350".into(), "59328".into(), "59350".into()],
        }
    }

    #[test]
    fn profile_input_is_checked() {
        let ok = input().validate().unwrap();
        assert_eq!(ok.missions, vec![Mission::AccesSoins, Mission::Prevention]);
        assert_eq!(
            ok.communes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["59328", "59350"]
        );
        type Change = fn(&mut ProfileInput);
        let cases: [(Change, &str); 8] = [
            (|i| i.name = "  ".into(), "cpts.invalid_name"),
            (|i| i.population = 0, "cpts.invalid_population"),
            (|i| i.population = -5, "cpts.invalid_population"),
            (
                |i| i.contract_signed_on = Some("14/03/2025".into()),
                "cpts.invalid_date",
            ),
            (
                |i| i.contract_signed_on = Some("2025-02-30".into()),
                "cpts.invalid_date",
            ),
            (|i| i.missions.push("sport".into()), "cpts.invalid_mission"),
            (
                |i| i.missions.push("prevention".into()),
                "cpts.duplicate_mission",
            ),
            (
                |i| i.communes.push("59000 Lille".into()),
                "cpts.invalid_commune",
            ),
        ];
        for (change, code) in cases {
            let mut i = input();
            change(&mut i);
            match i.validate() {
                Err(Error::Invalid { code: c, .. }) => assert_eq!(c, code),
                other => panic!("{code}: {other:?}"),
            }
        }
        let mut no_date = input();
        no_date.contract_signed_on = Some(String::new());
        assert_eq!(no_date.validate().unwrap().contract_signed_on, None);
    }
}
