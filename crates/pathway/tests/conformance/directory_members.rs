//! Story, after the import (`directory.rs`): professionals log in and are bound to
//! their entry by national id, with the organisations of their PSC activities; members
//! invite those without an account; coordinators organise the structures; an admin
//! writes the CPTS profile; professionals join and leave.

use cordee_pathway::account::{AccountKind, Actor, CptsRole, ProfessionCode};
use cordee_pathway::cpts::{Mission, ProfileInput};
use cordee_pathway::directory::{DirectoryQuery, EntrySource, Search};
use cordee_pathway::ids::OrganisationId;
use cordee_pathway::organisation::{OrganisationInput, OrganisationKind, OrganisationQuery};
use cordee_pathway::profile::{Activity, Exercice, NationalId, Profile, Specialty};
use cordee_pathway::store::{INVITATION_ACCEPTED, Identity, Store};
use cordee_pathway::{Error, Millis};

use crate::directory::{import, nid, snapshot};
use crate::support::{account, fresh_store};

fn activity(
    structure: &str,
    name: &str,
    sector: &str,
    finess: Option<&str>,
    mode: &str,
) -> Activity {
    Activity {
        mode: Some(mode.into()),
        structure_id: Some(structure.into()),
        structure_name: Some(name.into()),
        finess: finess.map(str::to_string),
        siret: None,
        postal_code: Some("59000".into()),
        sector: Some(sector.into()),
    }
}

fn psc(
    national_id: &str,
    last: &str,
    first: &str,
    profession: &str,
    activities: Vec<Activity>,
) -> Identity {
    Identity {
        kind: AccountKind::HealthProfessional,
        national_id: NationalId::parse(national_id),
        provider_id: "psc".into(),
        subject: format!("f:test:{national_id}"),
        display_name: format!("{first} {last}"),
        profile: Profile {
            exercices: vec![Exercice {
                profession: ProfessionCode::parse(profession),
                specialty: (profession == "10").then(|| Specialty::parse("SM54").unwrap()),
                first_name: Some(first.to_uppercase()),
                last_name: Some(last.to_uppercase()),
                activities,
                ..Exercice::default()
            }],
        },
        roles: vec![CptsRole::Member],
    }
}

fn actor_of(account: &cordee_pathway::store::Account) -> Actor {
    Actor {
        account_id: account.id,
        kind: account.kind,
        profession: account
            .profile
            .exercices
            .first()
            .and_then(|e| e.profession.clone()),
        roles: account.roles.clone(),
        session_id: None,
    }
}

async fn organisations_with(store: &Store, column: &str, value: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select id from organisations where {column} = $1"
    )))
    .bind(value)
    .fetch_all(store.db().reader())
    .await
    .unwrap()
}

#[tokio::test]
async fn directory_login_binds_the_entry_by_national_id_and_links_organisations() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let before = snapshot(store).await;

    // Dr Dubois: two activities, both structures already made by the import.
    let dubois = store
        .upsert_account(
            &psc(
                "810001001022",
                "Dubois",
                "Paul",
                "10",
                vec![
                    activity("R10000002", "Cabinet du Dr Dubois", "SA07", None, "L"),
                    activity(
                        "F590000017",
                        "Centre hospitalier de Lambersart",
                        "SA01",
                        Some("590000017"),
                        "S",
                    ),
                ],
            ),
            Millis(3_000),
        )
        .await
        .unwrap();
    let entry = store.directory_entry(&nid("810001001022")).await.unwrap();
    assert_eq!(entry.account_id, Some(dubois.id));
    // The register's data stays: the import's source, name and commune.
    assert_eq!(entry.source, EntrySource::Rpps);
    assert_eq!(entry.display_name, "Paul DUBOIS");
    assert_eq!(
        organisations_with(store, "structure_id", "F590000017")
            .await
            .len(),
        1
    );
    let hospital =
        OrganisationId::parse(&organisations_with(store, "structure_id", "F590000017").await[0])
            .unwrap();
    let hospital = store.organisation(hospital).await.unwrap();
    assert_eq!(hospital.kind, OrganisationKind::Etablissement);
    assert_eq!(hospital.member_ids, vec![dubois.id]);
    assert!(entry.organisation_ids.contains(&hospital.id));
    // No organisation was made: both existed.
    assert_eq!(snapshot(store).await.2, before.2);

    // Dr Martin: bound by national id; the other Claire MARTIN (a nurse) is not.
    let martin = store
        .upsert_account(
            &psc(
                "810001001014",
                "Martin",
                "Claire",
                "10",
                vec![activity(
                    "R10000001",
                    "Maison de santé des Tilleuls",
                    "SA07",
                    None,
                    "L",
                )],
            ),
            Millis(3_000),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .directory_entry(&nid("810001001014"))
            .await
            .unwrap()
            .account_id,
        Some(martin.id)
    );
    assert_eq!(
        store
            .directory_entry(&nid("810002009990"))
            .await
            .unwrap()
            .account_id,
        None
    );

    // Dr Lambert is not in the import: the login makes the entry, and a new
    // structure (kind from its sector) beside the MSP the import knew.
    let lambert = store
        .upsert_account(
            &psc(
                "810001001071",
                "Lambert",
                "Louis",
                "40",
                vec![
                    activity(
                        "R10000001",
                        "Maison de santé des Tilleuls",
                        "SA07",
                        None,
                        "L",
                    ),
                    activity(
                        "R55555555",
                        "Pharmacie Lambert",
                        "SA33",
                        Some("590055555"),
                        "L",
                    ),
                ],
            ),
            Millis(3_000),
        )
        .await
        .unwrap();
    let entry = store.directory_entry(&nid("810001001071")).await.unwrap();
    assert_eq!(entry.source, EntrySource::Psc);
    assert_eq!(entry.account_id, Some(lambert.id));
    assert_eq!(entry.profession.as_ref().map(|p| p.as_str()), Some("40"));
    assert_eq!(entry.organisation_ids.len(), 2);
    assert_eq!(
        organisations_with(store, "structure_id", "R10000001")
            .await
            .len(),
        1
    );
    let made =
        OrganisationId::parse(&organisations_with(store, "structure_id", "R55555555").await[0])
            .unwrap();
    let made = store.organisation(made).await.unwrap();
    assert_eq!(made.kind, OrganisationKind::Officine);
    assert_eq!(made.finess.as_ref().map(|f| f.as_str()), Some("590055555"));
    let dentists = DirectoryQuery {
        profession: ProfessionCode::parse("40"),
        search: Search::parse("lamb"),
        limit: 10,
        ..DirectoryQuery::default()
    };
    assert_eq!(store.directory(&dentists).await.unwrap().len(), 1);

    // Leaving an organisation holds across the next login.
    let lambert_actor = actor_of(&lambert);
    store
        .leave_organisation(&lambert_actor, made.id, Millis(4_000))
        .await
        .unwrap();
    assert!(matches!(
        store
            .leave_organisation(&lambert_actor, made.id, Millis(4_001))
            .await,
        Err(Error::NotFound {
            what: cordee_pathway::error::Noun::OrganisationMembership
        })
    ));
    let again = psc(
        "810001001071",
        "Lambert",
        "Louis",
        "40",
        vec![activity(
            "R55555555",
            "Pharmacie Lambert",
            "SA33",
            Some("590055555"),
            "L",
        )],
    );
    store.upsert_account(&again, Millis(5_000)).await.unwrap();
    assert!(
        store
            .organisation(made.id)
            .await
            .unwrap()
            .member_ids
            .is_empty()
    );
    let mine = store
        .organisations(&OrganisationQuery {
            member: Some(lambert.id),
            limit: 10,
            ..OrganisationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "the MSP only");
}

#[tokio::test]
async fn directory_invitations_are_idempotent_and_accepted_at_first_login() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let nurse = account(store, "Sophie Bernard", Some("60"), &[]).await;
    let coordinator = account(store, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let leroy = nid("810001001063");

    let first = store.invite(&nurse, &leroy, Millis(1_000)).await.unwrap();
    assert!(first.created);
    let again = store.invite(&nurse, &leroy, Millis(2_000)).await.unwrap();
    assert!(!again.created);
    assert_eq!((again.id, again.created_at), (first.id, Millis(1_000)));
    let other = store
        .invite(&coordinator, &leroy, Millis(2_000))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert!(matches!(
        store
            .invite(&nurse, &nid("810009999999"), Millis(2_000))
            .await,
        Err(Error::NotFound { .. })
    ));

    let emma = store
        .upsert_account(
            &psc(
                "810001001063",
                "Leroy",
                "Emma",
                "50",
                vec![activity(
                    "R10000001",
                    "Maison de santé des Tilleuls",
                    "SA07",
                    None,
                    "L",
                )],
            ),
            Millis(9_000),
        )
        .await
        .unwrap();
    for inviter in [&nurse, &coordinator] {
        let notes = store.notifications(inviter, None, 10).await.unwrap();
        let accepted: Vec<_> = notes
            .iter()
            .filter(|n| n.kind == INVITATION_ACCEPTED)
            .collect();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].subject_id, Some(emma.id.to_string()));
        assert_eq!(accepted[0].actor_id, Some(emma.id));
        assert_eq!(accepted[0].patient_id, None);
    }
    // The invitation answers with its acceptance; a second login notifies nobody.
    let seen = store.invite(&nurse, &leroy, Millis(9_500)).await;
    assert!(matches!(
        seen,
        Err(Error::Conflict {
            code: "directory.already_registered",
            ..
        })
    ));
    store
        .upsert_account(
            &psc("810001001063", "Leroy", "Emma", "50", vec![]),
            Millis(10_000),
        )
        .await
        .unwrap();
    let notes = store.notifications(&nurse, None, 10).await.unwrap();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.kind == INVITATION_ACCEPTED)
            .count(),
        1
    );
}

#[tokio::test]
async fn organisations_are_created_edited_and_merged_by_coordinators_only() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let coordinator = account(store, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let nurse = account(store, "Sophie Bernard", Some("60"), &[]).await;
    let ehpad = || {
        OrganisationInput::parse(
            "ehpad",
            "EHPAD Les Hortensias",
            Some("590099991"),
            None,
            Some("59328"),
        )
        .unwrap()
    };
    assert!(matches!(
        store.create_organisation(&nurse, ehpad(), Millis(1)).await,
        Err(Error::Forbidden {
            code: "organisation.coordinators_only",
            ..
        })
    ));
    let created = store
        .create_organisation(&coordinator, ehpad(), Millis(2))
        .await
        .unwrap();
    assert_eq!(created.kind, OrganisationKind::Ehpad);
    // The same FINESS again: refused, nothing written.
    let count = snapshot(store).await.2;
    assert!(matches!(
        store
            .create_organisation(&coordinator, ehpad(), Millis(3))
            .await,
        Err(Error::Conflict {
            code: "organisation.duplicate",
            ..
        })
    ));
    assert_eq!(snapshot(store).await.2, count);

    // A duplicate typed in by hand, then merged into the one the import made.
    let pharmacy = store
        .organisations(&OrganisationQuery {
            q: Some("beffroi".into()),
            limit: 10,
            ..OrganisationQuery::default()
        })
        .await
        .unwrap()
        .remove(0);
    let petit = store
        .upsert_account(
            &psc(
                "810001001048",
                "Petit",
                "Julien",
                "21",
                vec![activity(
                    "R10000004",
                    "Pharmacie du Beffroi",
                    "SA33",
                    Some("590000025"),
                    "L",
                )],
            ),
            Millis(4),
        )
        .await
        .unwrap();
    let typed = store
        .create_organisation(
            &coordinator,
            OrganisationInput::parse(
                "officine",
                "Pharmacie Beffroi (Lille)",
                None,
                None,
                Some("59350"),
            )
            .unwrap(),
            Millis(5),
        )
        .await
        .unwrap();
    let edited = store
        .update_organisation(
            &coordinator,
            typed.id,
            OrganisationInput::parse(
                "officine",
                "Pharmacie du Beffroi, Lille",
                None,
                Some("73282932000074"),
                Some("59350"),
            )
            .unwrap(),
            Millis(6),
        )
        .await
        .unwrap();
    assert_eq!(
        edited.siret.as_ref().map(|s| s.as_str()),
        Some("73282932000074")
    );
    let kept = store
        .merge_organisations(&coordinator, pharmacy.id, typed.id, Millis(7))
        .await
        .unwrap();
    assert_eq!(kept.id, pharmacy.id);
    assert_eq!(kept.member_ids, vec![petit.id]);
    // The target keeps its own identifiers; the merged id answers with the target.
    assert_eq!(kept.siret, pharmacy.siret);
    assert_eq!(store.organisation(typed.id).await.unwrap().id, pharmacy.id);
    let listed = store
        .organisations(&OrganisationQuery {
            q: Some("beffroi".into()),
            limit: 10,
            ..OrganisationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(
        store
            .merge_organisations(&coordinator, pharmacy.id, typed.id, Millis(8))
            .await,
        Err(Error::Conflict {
            code: "organisation.already_merged",
            ..
        })
    ));
    assert!(matches!(
        store
            .merge_organisations(&coordinator, pharmacy.id, pharmacy.id, Millis(8))
            .await,
        Err(Error::Invalid {
            code: "organisation.merge_self",
            ..
        })
    ));
    assert!(matches!(
        store
            .merge_organisations(&nurse, pharmacy.id, created.id, Millis(8))
            .await,
        Err(Error::Forbidden { .. })
    ));

    // Identifiers the target lacks move over: the EHPAD typed first with its FINESS
    // merged into one typed without.
    let bare = store
        .create_organisation(
            &coordinator,
            OrganisationInput::parse("ehpad", "Résidence Les Hortensias", None, None, None)
                .unwrap(),
            Millis(9),
        )
        .await
        .unwrap();
    let merged = store
        .merge_organisations(&coordinator, bare.id, created.id, Millis(10))
        .await
        .unwrap();
    assert_eq!(
        merged.finess.as_ref().map(|f| f.as_str()),
        Some("590099991")
    );
    match store
        .create_organisation(&coordinator, ehpad(), Millis(11))
        .await
    {
        Err(Error::Conflict { code, detail }) => {
            assert_eq!(code, "organisation.duplicate");
            assert!(detail.contains(&bare.id.to_string()), "{detail}");
        }
        other => panic!("{other:?}"),
    }

    // Every change is in the audit log, ids only.
    let records = store
        .audit_by_actor(coordinator.account_id, None, 50)
        .await
        .unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "organisation.merge",
            "organisation.create",
            "organisation.merge",
            "organisation.update",
            "organisation.create",
            "organisation.create"
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| !r.event.detail.as_deref().unwrap_or("").contains("Beffroi"))
    );
}

#[tokio::test]
async fn cpts_profile_is_written_by_admins_and_membership_by_professionals() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let admin = account(store, "Hugo Roux", None, &[CptsRole::Admin]).await;
    let coordinator = account(store, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let input = ProfileInput {
        name: "CPTS Lille Ouest".into(),
        population: 80_000,
        contract_signed_on: Some("2025-03-14".into()),
        missions: vec!["parcours".into(), "acces_soins".into()],
        communes: vec!["59350".into(), "59328".into()],
    };
    assert!(store.cpts_profile().await.unwrap().is_none());
    assert!(matches!(
        store
            .set_cpts_profile(&coordinator, input.clone().validate().unwrap(), Millis(1))
            .await,
        Err(Error::Forbidden {
            code: "cpts.admin_only",
            ..
        })
    ));
    assert!(store.cpts_profile().await.unwrap().is_none());
    let profile = store
        .set_cpts_profile(&admin, input.validate().unwrap(), Millis(2))
        .await
        .unwrap();
    assert_eq!(profile.size(), 3);
    let read = store.cpts_profile().await.unwrap().unwrap();
    assert_eq!(read, profile);
    assert_eq!(read.missions, vec![Mission::AccesSoins, Mission::Parcours]);

    // Professionals join under their session's profession, and leave.
    let leroy = store
        .upsert_account(
            &psc("810001001063", "Leroy", "Emma", "50", vec![]),
            Millis(3),
        )
        .await
        .unwrap();
    let midwife = actor_of(&leroy);
    assert!(matches!(
        store.join_cpts(&coordinator, Millis(4)).await,
        Err(Error::Forbidden {
            code: "cpts.professionals_only",
            ..
        })
    ));
    let joined = store.join_cpts(&midwife, Millis(4)).await.unwrap();
    assert_eq!(joined.profession, ProfessionCode::parse("50"));
    assert!(matches!(
        store.join_cpts(&midwife, Millis(5)).await,
        Err(Error::Conflict {
            code: "cpts.already_member",
            ..
        })
    ));
    assert!(
        store
            .directory_entry(&nid("810001001063"))
            .await
            .unwrap()
            .cpts_member
    );
    assert_eq!(
        store.cpts_member_counts().await.unwrap(),
        vec![(ProfessionCode::parse("50"), 1)]
    );
    let left = store.leave_cpts(&midwife, Millis(6)).await.unwrap();
    assert_eq!(left.left_at, Some(Millis(6)));
    assert!(
        !store
            .directory_entry(&nid("810001001063"))
            .await
            .unwrap()
            .cpts_member
    );
    assert!(matches!(
        store.leave_cpts(&midwife, Millis(7)).await,
        Err(Error::Conflict {
            code: "cpts.not_member",
            ..
        })
    ));
    // Joining again starts a new adhesion; the old one is kept.
    store.join_cpts(&midwife, Millis(8)).await.unwrap();
    let adhesions: i64 =
        sqlx::query_scalar("select count(*) from cpts_memberships where account_id = $1")
            .bind(leroy.id.as_text())
            .fetch_one(store.db().reader())
            .await
            .unwrap();
    assert_eq!(adhesions, 2);
}
