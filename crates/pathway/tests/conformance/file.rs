//! The patient coordination file, as a story: a GP opens a file, builds the team,
//! each profession writes and reads what the matrix allows, the patient objects
//! and masks, an outsider breaks the glass, an admin erases.

use cordee_pathway::Error;
use cordee_pathway::account::CptsRole;
use cordee_pathway::audit::Action;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::consent::{ConsentChange, Objection};
use cordee_pathway::file::{EntryContent, EntryFilter, EntryKind};
use cordee_pathway::ids::PatientId;
use cordee_pathway::notification::NotificationKind;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, PatientQuery, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{NewMember, NewPatient};

use crate::support::{account, fresh_store, now};

pub fn ins_for(body: &str) -> String {
    let n: u64 = body
        .replace("2A", "19")
        .replace("2B", "18")
        .parse()
        .unwrap();
    format!("{body}{:02}", 97 - n % 97)
}

pub fn identity(name: &str, ins_body: Option<&str>) -> IdentityInput {
    IdentityInput {
        ins_matricule: ins_body.map(ins_for),
        ins_oid: ins_body.map(|_| "1.2.250.1.213.1.4.8".to_string()),
        birth_name: name.into(),
        first_names: "Jeanne Marie".into(),
        used_name: None,
        birth_date: "1941-05-02".into(),
        sex: Sex::Female,
        birth_place_code: Some("59350".into()),
    }
}

/// A patient created by `creator` from `identity(name, ins_body)`, provisional
/// without an INS and qualified with one.
pub async fn patient_by(
    s: &cordee_pathway::store::Store,
    creator: &cordee_pathway::account::Actor,
    name: &str,
    ins_body: Option<&str>,
    creator_role: Option<TeamRole>,
) -> cordee_pathway::store::PatientView {
    let status = if ins_body.is_some() {
        IdentityStatus::Qualifiee
    } else {
        IdentityStatus::Provisoire
    };
    let identity = identity(name, ins_body).validate(status, now()).unwrap();
    s.create_patient(
        creator,
        NewPatient {
            identity,
            status,
            creator_role,
        },
        now(),
    )
    .await
    .unwrap()
}

fn content(title: &str, body: &str) -> EntryContent {
    EntryContent::new(title, body, vec![]).unwrap()
}

fn all() -> EntryFilter {
    EntryFilter {
        limit: 200,
        ..EntryFilter::default()
    }
}

#[tokio::test]
async fn story_patient_file() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "Mme Bernard", Some("60"), &[]).await;
    let pharma = account(s, "M. Petit", Some("21"), &[]).await;
    let psy = account(s, "Mme Psy", Some("93"), &[]).await;
    let outsider = account(s, "Dr Dubois", Some("10"), &[]).await;
    let coord = account(s, "Mme Garcia", None, &[CptsRole::Coordinator]).await;
    let admin = account(s, "M. Roux", None, &[CptsRole::Admin]).await;

    // Creation: the GP becomes médecin traitant; identity is found by blind index.
    let identity_in = identity("Lefèvre", Some("2410559350123"));
    let id = identity_in
        .clone()
        .validate(IdentityStatus::Qualifiee, now())
        .unwrap();
    let p = s
        .create_patient(
            &gp,
            NewPatient {
                identity: id.clone(),
                status: IdentityStatus::Qualifiee,
                creator_role: Some(TeamRole::MedecinTraitant),
            },
            now(),
        )
        .await
        .unwrap();
    assert!(!p.possible_duplicate);
    let found = s
        .list_patients(
            &gp,
            Some(&PatientQuery::parse("LEFEVRE 02/05/1941").unwrap()),
            None,
            10,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(found.iter().map(|v| v.id).collect::<Vec<_>>(), vec![p.id]);
    assert_eq!(found[0].identity.birth_name, "Lefèvre");
    let by_ins = s
        .list_patients(
            &gp,
            Some(&PatientQuery::parse(&ins_for("2410559350123")).unwrap()),
            None,
            10,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(by_ins.len(), 1);

    // A second record for the same person by someone who may not see the first is
    // accepted and tells its creator nothing (no oracle): identity vigilance (the
    // CPTS admins) hears of it, and the matched patient's log shows the match.
    let dup = s
        .create_patient(
            &outsider,
            NewPatient {
                identity: id.clone(),
                status: IdentityStatus::Qualifiee,
                creator_role: None,
            },
            now(),
        )
        .await
        .unwrap();
    assert!(!dup.possible_duplicate, "the outsider learns nothing");
    assert!(
        !s.get_patient(&gp, p.id, now())
            .await
            .unwrap()
            .possible_duplicate,
        "the first record is not flagged by a stranger's probe"
    );
    let vigilance = s.notifications(&admin, None, 10).await.unwrap();
    assert!(
        vigilance
            .iter()
            .any(|n| n.kind == NotificationKind::IdentityPossibleDuplicate
                && n.patient_id == Some(p.id)
                && n.subject_id.as_deref() == Some(dup.id.to_string().as_str()))
    );
    let trail = s.audit_for_patient(p.id, None, 50).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|r| r.event.action == Action::PatientPossibleDuplicate
                && r.event.actor_id == Some(outsider.account_id))
    );
    // A duplicate the creator may see is flagged on both records.
    let own_dup = s
        .create_patient(
            &gp,
            NewPatient {
                identity: id,
                status: IdentityStatus::Qualifiee,
                creator_role: None,
            },
            now(),
        )
        .await
        .unwrap();
    assert!(own_dup.possible_duplicate);
    assert!(
        s.get_patient(&gp, p.id, now())
            .await
            .unwrap()
            .possible_duplicate
    );

    // Outsiders: 404, and the search does not reveal the file.
    assert!(matches!(
        s.get_patient(&outsider, p.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        s.list_patients(
            &outsider,
            Some(&PatientQuery::parse("LEFEVRE 1941-05-02").unwrap()),
            None,
            10,
            now()
        )
        .await
        .unwrap()
        .iter()
        .all(|v| v.id != p.id)
    );

    // The team.
    for (who, role) in [
        (&nurse, TeamRole::InfirmierReferent),
        (&pharma, TeamRole::Pharmacien),
        (&psy, TeamRole::Psychologue),
        (&coord, TeamRole::Coordinateur),
    ] {
        s.add_member(
            &gp,
            p.id,
            NewMember {
                account_id: who.account_id,
                role,
                reason: "suivi à domicile".into(),
                end_at: None,
            },
            now(),
        )
        .await
        .unwrap();
    }
    let wrong_role = s
        .add_member(
            &gp,
            p.id,
            NewMember {
                account_id: outsider.account_id,
                role: TeamRole::MedecinTraitant,
                reason: "relais".into(),
                end_at: None,
            },
            now(),
        )
        .await;
    assert!(
        matches!(
            wrong_role,
            Err(Error::Conflict {
                code: "care_team.medecin_traitant_exists",
                ..
            })
        ),
        "{wrong_role:?}"
    );
    let mismatch = s
        .add_member(
            &gp,
            p.id,
            NewMember {
                account_id: outsider.account_id,
                role: TeamRole::Infirmier,
                reason: "relais".into(),
                end_at: None,
            },
            now(),
        )
        .await;
    assert!(matches!(
        mismatch,
        Err(Error::Invalid {
            code: "care_team.role_mismatch",
            ..
        })
    ));
    let team = s.care_team(&nurse, p.id, None, 100, now()).await.unwrap();
    assert_eq!(team.len(), 5);
    assert_eq!(
        team.iter()
            .find(|m| m.account_id == nurse.account_id)
            .unwrap()
            .reason
            .as_deref(),
        Some("suivi à domicile")
    );

    // Writing follows the matrix.
    let medical = s
        .create_entry(
            &gp,
            p.id,
            Category::Medical,
            EntryKind::Observation,
            content("Bilan", "HTA équilibrée"),
            now(),
        )
        .await
        .unwrap();
    let soins = s
        .create_entry(
            &nurse,
            p.id,
            Category::Soins,
            EntryKind::Note,
            content("Plaie talon", "Pansement refait, plaie propre"),
            now(),
        )
        .await
        .unwrap();
    let social = s
        .create_entry(
            &coord,
            p.id,
            Category::Social,
            EntryKind::Note,
            content("APA", "Dossier APA déposé"),
            now(),
        )
        .await
        .unwrap();
    let denied = s
        .create_entry(
            &nurse,
            p.id,
            Category::Medical,
            EntryKind::Note,
            content("x", "y"),
            now(),
        )
        .await;
    assert!(matches!(
        denied,
        Err(Error::Forbidden {
            code: "entry.category_forbidden",
            ..
        })
    ));
    let rcp = s
        .create_entry(
            &gp,
            p.id,
            Category::Rcp,
            EntryKind::Note,
            content("x", "y"),
            now(),
        )
        .await;
    assert!(matches!(
        rcp,
        Err(Error::Forbidden {
            code: "entry.category_read_only",
            ..
        })
    ));

    // Reading follows the matrix, and so do counts.
    let ids = |page: &cordee_pathway::store::EntryPage| {
        page.items.iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let gp_page = s.list_entries(&gp, p.id, &all(), now()).await.unwrap();
    assert_eq!(
        (gp_page.total, ids(&gp_page)),
        (3, vec![social.id, soins.id, medical.id])
    );
    let psy_page = s.list_entries(&psy, p.id, &all(), now()).await.unwrap();
    assert_eq!(
        (psy_page.total, ids(&psy_page)),
        (1, vec![social.id]),
        "psychologue sees social only"
    );
    let coord_page = s.list_entries(&coord, p.id, &all(), now()).await.unwrap();
    assert_eq!(
        ids(&coord_page),
        vec![social.id],
        "staff never see clinical categories"
    );
    assert!(matches!(
        s.get_entry(&psy, p.id, medical.id, now()).await,
        Err(Error::NotFound { .. })
    ));

    // Search by word, inside the same rule.
    let search = |word: &str| EntryFilter {
        word: Some(word.into()),
        limit: 50,
        ..EntryFilter::default()
    };
    assert_eq!(
        ids(&s
            .list_entries(&nurse, p.id, &search("PANSEMENT"), now())
            .await
            .unwrap()),
        vec![soins.id]
    );
    assert_eq!(
        s.list_entries(&psy, p.id, &search("pansement"), now())
            .await
            .unwrap()
            .total,
        0
    );

    // Pagination: a page boundary never counts what the reader cannot see.
    for i in 0..5 {
        s.create_entry(
            &gp,
            p.id,
            Category::Medical,
            EntryKind::Note,
            content(&format!("m{i}"), "x"),
            now(),
        )
        .await
        .unwrap();
    }
    let first = s
        .list_entries(
            &nurse,
            p.id,
            &EntryFilter {
                limit: 2,
                ..EntryFilter::default()
            },
            now(),
        )
        .await
        .unwrap();
    let second = s
        .list_entries(
            &nurse,
            p.id,
            &EntryFilter {
                limit: 2,
                before: first.next,
                ..EntryFilter::default()
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(second.items.len() <= 2);
    let pharma_page = s
        .list_entries(
            &pharma,
            p.id,
            &EntryFilter {
                limit: 2,
                ..EntryFilter::default()
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        pharma_page.total, 8,
        "a pharmacien reads medical, soins and social"
    );

    // Corrections keep history; entered in error stays in the history.
    let corrected = s
        .correct_entry(
            &nurse,
            p.id,
            soins.id,
            content("Plaie talon", "Pansement refait, plaie bourgeonnante"),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(corrected.version, 2);
    let (entry, versions) = s.get_entry(&gp, p.id, soins.id, now()).await.unwrap();
    assert_eq!(entry.body, "Pansement refait, plaie bourgeonnante");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(versions[1].body, "Pansement refait, plaie propre");
    assert!(matches!(
        s.correct_entry(&gp, p.id, soins.id, content("a", "b"), now())
            .await,
        Err(Error::Forbidden {
            code: "entry.not_author",
            ..
        })
    ));
    s.mark_entered_in_error(&coord, p.id, social.id, now())
        .await
        .unwrap();
    assert!(!ids(&s.list_entries(&gp, p.id, &all(), now()).await.unwrap()).contains(&social.id));
    let with_eie = EntryFilter {
        include_entered_in_error: true,
        limit: 200,
        ..EntryFilter::default()
    };
    assert!(ids(&s.list_entries(&gp, p.id, &with_eie, now()).await.unwrap()).contains(&social.id));

    // Patient rights: objection to the pharmacist, to a category; masking.
    let consent = s
        .change_consent(
            &gp,
            p.id,
            vec![
                ConsentChange::Informed(now()),
                ConsentChange::Object(Objection::Professional {
                    account_id: pharma.account_id,
                }),
                ConsentChange::Object(Objection::Category {
                    category: Category::Soins,
                }),
                ConsentChange::Mask(medical.id),
            ],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(consent.objections.len(), 2);
    assert!(matches!(
        s.get_patient(&pharma, p.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        !ids(&s.list_entries(&nurse, p.id, &all(), now()).await.unwrap()).contains(&soins.id),
        "soins objected"
    );
    assert!(
        !ids(&s
            .list_entries(&nurse, p.id, &with_eie, now())
            .await
            .unwrap())
        .contains(&medical.id),
        "masked"
    );
    assert!(
        ids(&s.list_entries(&gp, p.id, &all(), now()).await.unwrap()).contains(&medical.id),
        "médecin traitant sees masked"
    );
    let mut lift: Vec<ConsentChange> = consent
        .objections
        .iter()
        .map(|o| ConsentChange::Lift(o.id))
        .collect();
    lift.push(ConsentChange::Unmask(medical.id));
    s.change_consent(&gp, p.id, lift, now()).await.unwrap();

    // Break-glass: an outsider states a reason and is let in for a while; the team is told.
    assert!(matches!(
        s.break_glass(&coord, p.id, "urgence à domicile ce soir", 3600, now())
            .await,
        Err(Error::Forbidden { .. })
    ));
    let grant = s
        .break_glass(
            &outsider,
            p.id,
            "appelé en urgence, patiente inconsciente",
            3600,
            now(),
        )
        .await
        .unwrap();
    assert!(s.get_patient(&outsider, p.id, now()).await.is_ok());
    assert_eq!(
        s.list_entries(&outsider, p.id, &all(), now())
            .await
            .unwrap()
            .total,
        7
    );
    let later = now().plus_secs(3601);
    assert!(
        matches!(
            s.get_patient(&outsider, p.id, later).await,
            Err(Error::NotFound { .. })
        ),
        "grant expired"
    );
    let gp_notes = s.notifications(&gp, None, 10).await.unwrap();
    assert!(
        gp_notes
            .iter()
            .any(|n| n.kind == NotificationKind::BreakGlassGranted
                && n.subject_id.as_deref() == Some(grant.id.to_string().as_str()))
    );
    assert_eq!(
        s.break_glass_reason(&gp, p.id, grant.id, now())
            .await
            .unwrap(),
        "appelé en urgence, patiente inconsciente"
    );

    // The access log shows who read what, under which grant.
    let log = s.access_log(&gp, p.id, None, 500, now()).await.unwrap();
    assert!(log.iter().any(|l| l.actor_id == Some(outsider.account_id)
        && l.purpose == cordee_pathway::audit::Purpose::BreakGlass));
    assert!(
        log.iter()
            .any(|l| l.actor_id == Some(nurse.account_id) && l.action == Action::EntryList)
    );

    // Export for the patient by the médecin traitant only.
    let export = s.export_patient(&gp, p.id, now()).await.unwrap();
    assert_eq!(export.entries.len(), 8);
    assert!(matches!(
        s.export_patient(&nurse, p.id, now()).await,
        Err(Error::Forbidden { .. })
    ));

    // Leaving the team: the nurse may leave, and then sees nothing.
    let nurse_member = s
        .care_team(&gp, p.id, None, 100, now())
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.account_id == nurse.account_id)
        .unwrap();
    assert!(matches!(
        s.remove_member(&psy, p.id, nurse_member.id, now()).await,
        Err(Error::Forbidden { .. })
    ));
    s.remove_member(&nurse, p.id, nurse_member.id, now())
        .await
        .unwrap();
    assert!(matches!(
        s.list_entries(&nurse, p.id, &all(), now()).await,
        Err(Error::NotFound { .. })
    ));

    // Erasure: the key is destroyed; former members are told "erased".
    assert!(matches!(
        s.erase_patient(&gp, p.id, now()).await,
        Err(Error::Forbidden { .. })
    ));
    s.erase_patient(&admin, p.id, now()).await.unwrap();
    assert!(matches!(
        s.get_patient(&gp, p.id, now()).await,
        Err(Error::Erased)
    ));
    assert!(matches!(
        s.list_entries(&gp, p.id, &all(), now()).await,
        Err(Error::Erased)
    ));
    assert!(matches!(
        s.data_key(&format!("patient:{}", p.id)).await,
        Err(Error::Erased)
    ));
    assert!(matches!(
        s.get_patient(&outsider, p.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.get_patient(&gp, PatientId::new(), now()).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn refusals_are_audited_and_the_chain_stays_intact() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let outsider = account(s, "Dr Dubois", Some("10"), &[]).await;
    let p = patient_by(s, &gp, "Durand", None, None).await;
    assert!(s.get_patient(&outsider, p.id, now()).await.is_err());
    let trail = s
        .audit_by_actor(outsider.account_id, None, 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        trail[0].event.outcome,
        cordee_pathway::audit::Outcome::Denied
    );
    assert_eq!(trail[0].event.patient_id, Some(p.id));
    s.audit_flush().await;
    assert!(matches!(
        s.verify_audit().await.unwrap(),
        cordee_pathway::audit::AuditVerdict::Intact { .. }
    ));
}

/// A word in few entries is searched over the term's bound list of entries; a word
/// in more than `MAX_BOUND_ENTRIES` over the term as a sub-query. Both answer by the
/// same rule: the same totals, pages that never hold a hidden entry, cursors that
/// walk the whole result once.
#[tokio::test]
async fn word_search_follows_the_rule_for_rare_and_common_words() {
    use cordee_pathway::store::MAX_BOUND_ENTRIES;
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let psy = account(s, "Mme Psy", Some("93"), &[]).await;
    let p = patient_by(s, &gp, "Lefèvre", None, Some(TeamRole::MedecinTraitant)).await;
    s.add_member(
        &gp,
        p.id,
        NewMember {
            account_id: psy.account_id,
            role: TeamRole::Psychologue,
            reason: "soutien".into(),
            end_at: None,
        },
        now(),
    )
    .await
    .unwrap();
    // Medical entries are hidden from the psychologue; social ones are not.
    let common = MAX_BOUND_ENTRIES + 20;
    let mut writes = Vec::new();
    for i in 0..common {
        let (s, gp) = (s.clone(), gp.clone());
        let category = if i % 2 == 0 {
            Category::Medical
        } else {
            Category::Social
        };
        let rare = if i % 100 == 1 { " talonnette" } else { "" };
        writes.push(tokio::spawn(async move {
            s.create_entry(
                &gp,
                p.id,
                category,
                EntryKind::Note,
                content(&format!("n{i}"), &format!("visite escarre{rare}")),
                now(),
            )
            .await
            .unwrap()
        }));
    }
    for w in writes {
        w.await.unwrap();
    }
    let search = |word: &str, before| EntryFilter {
        word: Some(word.into()),
        limit: 50,
        before,
        ..EntryFilter::default()
    };
    // Walks every page; returns (total of the first page, ids seen, categories seen).
    let walk = |who: cordee_pathway::account::Actor, word: &'static str| async move {
        let (mut seen, mut categories, mut before, mut total) =
            (Vec::new(), std::collections::HashSet::new(), None, None);
        loop {
            let page = s
                .list_entries(&who, p.id, &search(word, before), now())
                .await
                .unwrap();
            total.get_or_insert(page.total);
            assert_eq!(page.total, total.unwrap(), "the total moved between pages");
            for e in &page.items {
                seen.push(e.id);
                categories.insert(e.category);
            }
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        (total.unwrap(), seen, categories)
    };

    let (total, seen, categories) = walk(psy.clone(), "escarre").await;
    let expected = i64::try_from(common / 2).unwrap();
    assert_eq!(total, expected);
    assert_eq!(seen.len(), common / 2);
    assert_eq!(categories, [Category::Social].into());
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, seen, "pages are newest first, without repeats");
    let (total, _, _) = walk(gp.clone(), "escarre").await;
    assert_eq!(total, i64::try_from(common).unwrap());

    // `talonnette` is in entries 1, 101, 201, …: all odd, hence social.
    let rare = i64::try_from(common.div_ceil(100)).unwrap();
    let (total, seen, categories) = walk(psy.clone(), "talonnette").await;
    assert_eq!((total, seen.len()), (rare, usize::try_from(rare).unwrap()));
    assert_eq!(categories, [Category::Social].into());
    let (total, _, _) = walk(gp.clone(), "talonnette").await;
    assert_eq!(total, rare);
    // With a category filter, through both paths.
    let medical_only = |word: &str| EntryFilter {
        category: Some(Category::Medical),
        ..search(word, None)
    };
    for word in ["escarre", "talonnette"] {
        let page = s
            .list_entries(&psy, p.id, &medical_only(word), now())
            .await
            .unwrap();
        assert_eq!((page.total, page.items.len()), (0, 0), "{word}");
    }
    let page = s
        .list_entries(&gp, p.id, &medical_only("escarre"), now())
        .await
        .unwrap();
    assert_eq!(page.total, expected);
    assert!(page.items.iter().all(|e| e.category == Category::Medical));
}

/// Emergency access by identity: misses and ambiguous matches are audited (with no
/// patient id, since none was found), a unique match is granted.
#[tokio::test]
async fn break_glass_by_identity_audits_misses_and_grants_unique_matches() {
    use cordee_pathway::audit::Outcome;
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let outsider = account(s, "Dr Dubois", Some("10"), &[]).await;
    let reason = "appel du 15, patiente inconsciente";
    let mut ids = Vec::new();
    for ins in ["2410559350123", "2410559350124"] {
        // Two records with the same birth name and date, different INS.
        let p = patient_by(
            s,
            &gp,
            "Lefèvre",
            Some(ins),
            Some(TeamRole::MedecinTraitant),
        )
        .await;
        ids.push(p.id);
    }
    let query = |q: &str| PatientQuery::parse(q).unwrap();
    let miss = s
        .break_glass_by_identity(
            &outsider,
            &query(&ins_for("1850275123456")),
            reason,
            3600,
            now(),
        )
        .await;
    assert!(matches!(miss, Err(Error::NotFound { .. })), "{miss:?}");
    let ambiguous = s
        .break_glass_by_identity(&outsider, &query("LEFEVRE 02/05/1941"), reason, 3600, now())
        .await;
    assert!(
        matches!(
            ambiguous,
            Err(Error::Conflict {
                code: "break_glass.ambiguous",
                ..
            })
        ),
        "{ambiguous:?}"
    );
    let grant = s
        .break_glass_by_identity(
            &outsider,
            &query(&ins_for("2410559350124")),
            reason,
            3600,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(grant.patient_id, ids[1]);
    assert!(s.get_patient(&outsider, ids[1], now()).await.is_ok());
    assert!(s.get_patient(&outsider, ids[0], now()).await.is_err());

    let trail = s
        .audit_by_actor(outsider.account_id, None, 10)
        .await
        .unwrap();
    let lookups: Vec<_> = trail
        .iter()
        .filter(|r| r.event.action == Action::BreakGlassLookup)
        .collect();
    assert_eq!(lookups.len(), 2, "{trail:?}");
    assert!(
        lookups
            .iter()
            .all(|r| r.event.outcome == Outcome::Denied && r.event.patient_id.is_none())
    );
    assert!(
        trail.iter().any(
            |r| r.event.action == Action::BreakGlassGrant && r.event.patient_id == Some(ids[1])
        )
    );
}
