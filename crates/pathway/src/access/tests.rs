//! The pure decisions as tables, over the whole profession × category matrix. The
//! matrix is written again here from DESIGN.md (not taken from the code), so that a
//! drift in either shows.

use super::*;
use crate::account::{AccountKind, CptsRole, ProfessionCode, ProfessionGroup};
use crate::care_team::{decide_add, decide_remove};
use crate::consent::{Objection, decide_mask, decide_objection, decide_unmask};
use crate::ids::AccountId;

/// DESIGN.md, "Authorisation": rows are categories, columns médecin, sage-femme,
/// dentiste, pharmacien, infirmier, kiné, other auxiliaries, psychologue, staff.
const DESIGN_MATRIX: &str = "
synthese      W W W W W W W W W
medical       W W W R R R - - -
soins         W W R R W W W - -
traitements   W W W W R R - - -
resultats     W W W R R R - - -
social        W W R R W R R W W
administratif W W W W W W W W W
rcp           R R R R R R R - -
";

const COLUMNS: [(ProfessionGroup, Option<&str>); 9] = [
    (ProfessionGroup::Medecin, Some("10")),
    (ProfessionGroup::SageFemme, Some("50")),
    (ProfessionGroup::Dentiste, Some("40")),
    (ProfessionGroup::Pharmacien, Some("21")),
    (ProfessionGroup::Infirmier, Some("60")),
    (ProfessionGroup::Kinesitherapeute, Some("70")),
    (ProfessionGroup::Auxiliaire, Some("91")),
    (ProfessionGroup::Psychologue, Some("93")),
    (ProfessionGroup::Staff, None),
];

fn design() -> Vec<(Category, Vec<Access>)> {
    DESIGN_MATRIX
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let category = Category::parse(words.next().unwrap()).unwrap();
            let cells = words
                .map(|w| match w {
                    "W" => Access::Write,
                    "R" => Access::Read,
                    _ => Access::None,
                })
                .collect();
            (category, cells)
        })
        .collect()
}

fn row(column: usize) -> Vec<(Category, Access)> {
    design()
        .into_iter()
        .map(|(c, cells)| (c, cells[column]))
        .collect()
}

fn actor(code: Option<&str>, roles: &[CptsRole]) -> Actor {
    Actor {
        account_id: AccountId::new(),
        kind: if code.is_some() {
            AccountKind::HealthProfessional
        } else {
            AccountKind::Staff
        },
        profession: code.and_then(ProfessionCode::parse),
        roles: roles.to_vec(),
        session_id: None,
    }
}

fn access(bases: &[Basis], matrix: Vec<(Category, Access)>) -> PatientAccess {
    PatientAccess {
        bases: bases.to_vec(),
        matrix,
        ..PatientAccess::default()
    }
}

#[test]
fn the_seeded_matrix_is_the_design_matrix() {
    for (category, cells) in design() {
        for (column, (group, _)) in COLUMNS.iter().enumerate() {
            assert_eq!(
                crate::policy::default_access(*group, category),
                cells[column],
                "{group} × {category}"
            );
        }
    }
}

#[test]
fn writing_and_reading_over_the_whole_matrix() {
    for (column, (group, code)) in COLUMNS.iter().enumerate() {
        let who = actor(*code, &[]);
        assert_eq!(who.group(), Some(*group));
        for (category, cells) in design() {
            let cell = cells[column];
            let team = access(&[Basis::CareTeam], row(column));
            let may_write = cell == Access::Write && category != Category::Rcp;
            assert_eq!(
                decide_write(&who, &team, category).is_ok(),
                may_write,
                "{group} writes {category}"
            );
            if category == Category::Rcp {
                assert!(matches!(
                    decide_write(&who, &team, category),
                    Err(Error::Forbidden {
                        code: "entry.category_read_only",
                        ..
                    })
                ));
            }
            assert_eq!(
                team.may_read(category),
                cell.can_read(),
                "{group} reads {category}"
            );
            // A thread of a category is for the team members who may read it.
            assert_eq!(
                decide_thread(&team, category).is_ok(),
                cell.can_read(),
                "{group} opens a {category} thread"
            );
            // The patient's objection to the category closes it to everyone.
            let objected = PatientAccess {
                objected_categories: vec![category],
                ..team.clone()
            };
            assert!(!objected.may_read(category), "{group} {category} objected");
            assert!(decide_write(&who, &objected, category).is_err());
            // An objection to the professional closes the whole patient: 404.
            let refused = PatientAccess {
                objected: true,
                ..team.clone()
            };
            assert!(matches!(
                decide_write(&who, &refused, category),
                Err(Error::NotFound { .. })
            ));
            assert!(!refused.may_read(category));
        }
    }
}

#[test]
fn what_each_basis_reaches() {
    let cases = [
        // (basis, identity, file, threads, case)
        (Basis::CareTeam, true, true, true, true),
        (Basis::BreakGlass, true, true, false, false),
        (Basis::CaseConference, true, false, false, true),
    ];
    for (basis, identity, file, threads, case) in cases {
        assert_eq!(basis.reaches(Reach::Identity), identity, "{basis}");
        assert_eq!(basis.reaches(Reach::File), file, "{basis}");
        assert_eq!(basis.reaches(Reach::Threads), threads, "{basis}");
        assert_eq!(basis.reaches(Reach::Case), case, "{basis}");
    }
    // A conference participant outside the team reads the case, not the file.
    let nurse = actor(Some("60"), &[]);
    let participant = access(&[Basis::CaseConference], row(4));
    assert!(participant.can_see_patient());
    assert!(participant.readable_categories().is_empty());
    assert!(matches!(
        decide_write(&nurse, &participant, Category::Soins),
        Err(Error::Forbidden {
            code: "entry.no_file_access",
            ..
        })
    ));
    assert_eq!(participant.purpose(), Purpose::CaseConference);
}

#[test]
fn break_glass_is_for_health_professionals_with_a_profession() {
    let cases = [
        (actor(Some("10"), &[]), true),
        (actor(Some("60"), &[]), true),
        (actor(Some("93"), &[]), true),
        // A code outside the matrix grants nothing, emergency included.
        (actor(Some("99"), &[]), false),
        (actor(None, &[CptsRole::Coordinator]), false),
        (actor(None, &[CptsRole::Admin]), false),
    ];
    for (who, open) in cases {
        assert_eq!(Basis::BreakGlass.open_to(&who), open, "{who:?}");
        assert!(Basis::CareTeam.open_to(&who));
    }
    // Through a grant: the file by the matrix, never the team's threads.
    let er_doctor = actor(Some("10"), &[]);
    let grant = access(&[Basis::BreakGlass], row(0));
    assert!(grant.may_read(Category::Medical));
    assert!(decide_write(&er_doctor, &grant, Category::Medical).is_ok());
    assert!(matches!(
        decide_thread(&grant, Category::Soins),
        Err(Error::Forbidden {
            code: "conversation.team_only",
            ..
        })
    ));
    assert_eq!(grant.purpose(), Purpose::BreakGlass);
}

#[test]
fn care_team_changes() {
    let gp = actor(Some("10"), &[]);
    let staff_coordinator = actor(None, &[CptsRole::Coordinator]);
    let staff_admin = actor(None, &[CptsRole::Admin]);
    let member = access(&[Basis::CareTeam], row(0));
    let team_coordinator = PatientAccess {
        coordinator: true,
        ..access(&[Basis::CareTeam], row(8))
    };
    let medecin_traitant = PatientAccess {
        medecin_traitant: true,
        ..member.clone()
    };
    let by_grant = access(&[Basis::BreakGlass], row(0));
    let outsider = access(&[], row(0));
    // (actor, access, may add, may remove someone else, may leave)
    let cases = [
        (&gp, &member, true, false, true),
        (&gp, &medecin_traitant, true, true, true),
        (&staff_coordinator, &team_coordinator, true, true, true),
        (
            &staff_admin,
            &access(&[Basis::CareTeam], row(8)),
            false,
            false,
            true,
        ),
        (&gp, &by_grant, false, false, true),
        (&gp, &outsider, false, false, false),
    ];
    for (i, (who, facts, add, remove_other, leave)) in cases.into_iter().enumerate() {
        assert_eq!(decide_add(who, facts).is_ok(), add, "case {i}: add");
        assert_eq!(
            decide_remove(who, facts, false).is_ok(),
            remove_other,
            "case {i}: remove another"
        );
        assert_eq!(
            decide_remove(who, facts, true).is_ok(),
            leave,
            "case {i}: leave"
        );
    }
    assert!(matches!(
        decide_add(&gp, &outsider),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn objections_and_masking() {
    // Every profession, every category: an objection about a category is recorded by
    // those who may read it, and only them.
    for (column, (group, code)) in COLUMNS.iter().enumerate() {
        let who = actor(*code, &[]);
        let team = access(&[Basis::CareTeam], row(column));
        for (category, cells) in design() {
            let objection = Objection::Category { category };
            let recordable = who.is_health_professional() && cells[column].can_read();
            assert_eq!(
                decide_objection(&who, &team, &objection).is_ok(),
                recordable,
                "{group} objects to {category}"
            );
        }
    }
    let psychologue = actor(Some("93"), &[]);
    let psy_team = access(&[Basis::CareTeam], row(7));
    let author = AccountId::new();
    // She may not read medical: masking or unmasking a medical entry is not found.
    assert!(matches!(
        decide_mask(&psychologue, &psy_team, Category::Medical, false, author),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        decide_unmask(&psychologue, &psy_team, Category::Medical, author),
        Err(Error::NotFound { .. })
    ));
    // Objections to a professional (the médecin traitant included) are the patient's
    // right, recorded by any professional of the team.
    assert!(
        decide_objection(
            &psychologue,
            &psy_team,
            &Objection::Professional {
                account_id: AccountId::new()
            }
        )
        .is_ok()
    );
    // Lifting a mask: the author or the médecin traitant.
    let gp = actor(Some("10"), &[]);
    let nurse = actor(Some("60"), &[]);
    let gp_team = access(&[Basis::CareTeam], row(0));
    let mt_team = PatientAccess {
        medecin_traitant: true,
        ..gp_team.clone()
    };
    let nurse_team = access(&[Basis::CareTeam], row(4));
    // (actor, access, entry author, may mask, may unmask)
    let cases = [
        (&gp, &mt_team, AccountId::new(), true, true),
        (&nurse, &nurse_team, nurse.account_id, true, true),
        // Another professional who may read the category masks it but cannot lift
        // the mask (once masked, it is not even visible to them).
        (&gp, &gp_team, AccountId::new(), true, false),
    ];
    for (i, (who, facts, by, mask, unmask)) in cases.into_iter().enumerate() {
        assert_eq!(
            decide_mask(who, facts, Category::Soins, false, by).is_ok(),
            mask,
            "case {i}: mask"
        );
        assert_eq!(
            decide_unmask(who, facts, Category::Soins, by).is_ok(),
            unmask,
            "case {i}: unmask"
        );
    }
    // A masked entry is for its author and the médecin traitant.
    assert!(mt_team.may_read_entry(Category::Soins, true, false));
    assert!(nurse_team.may_read_entry(Category::Soins, true, true));
    assert!(!gp_team.may_read_entry(Category::Soins, true, false));
    assert!(gp_team.may_read_entry(Category::Soins, false, false));
    // Break-glass and conference participants do not record the patient's wishes.
    let grant = access(&[Basis::BreakGlass], row(0));
    assert!(
        decide_objection(
            &gp,
            &grant,
            &Objection::Category {
                category: Category::Soins
            }
        )
        .is_err()
    );
}
