//! The waiting list's story (issue 14): requests and who sees them, duplicates, GP
//! capacity, suggestions, proposals refused without a write, concurrent acceptances
//! (one wins; capacity never overdrawn), the lapse job, indicators, export and
//! erasure.

use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::error::Noun;
use cordee_pathway::ids::{AccountId, RequestId};
use cordee_pathway::notification::NotificationKind;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::store::{
    NewRequest, PatientRef, RequestChange, RequestQuery, RequestView, Store,
};
use cordee_pathway::waiting_list::{
    Capacity, Contact, Fragility, Group, ProposalStatus, RequestStatus, Source, day_of,
    parse_commune,
};
use cordee_pathway::{Error, Millis};

use crate::support::{account, fresh_store, now};

const DAY: i64 = 86_400_000;

fn person(name: &str, born: &str) -> IdentityInput {
    IdentityInput {
        ins_matricule: None,
        ins_oid: None,
        birth_name: name.into(),
        first_names: "Paul".into(),
        used_name: None,
        birth_date: born.into(),
        sex: Sex::Male,
        birth_place_code: None,
    }
}

fn new_request(name: &str, born: &str, commune: &str, fragility: Fragility) -> NewRequest {
    NewRequest {
        patient: PatientRef::Traits(
            person(name, born)
                .validate(IdentityStatus::Provisoire, now())
                .unwrap(),
        ),
        commune: parse_commune(commune).unwrap(),
        source: Source::Mairie,
        fragility,
        contact: Contact {
            phone: Some("03 20 00 00 00".into()),
            ..Contact::default()
        },
        notes: Some("Insuffisance cardiaque, suivi rapproché".into()),
    }
}

/// A médecin généraliste (profession 10, SM54).
async fn gp(store: &Store, name: &str) -> Actor {
    let actor = account(store, name, Some("10"), &[]).await;
    sqlx::query("update accounts set profile = $1 where id = $2")
        .bind(r#"{"exercices":[{"profession":"10","specialty":{"code":"SM54"}}]}"#)
        .bind(actor.account_id.as_text())
        .execute(store.db().writer())
        .await
        .unwrap();
    actor
}

fn capacity(per_month: i64, communes: &[&str], ald: bool, home: bool) -> Capacity {
    let communes: Vec<String> = communes.iter().map(|c| c.to_string()).collect();
    Capacity::validate(true, per_month, &communes, ald, home, None, day_of(now())).unwrap()
}

fn open_list() -> RequestQuery {
    RequestQuery {
        limit: 100,
        ..RequestQuery::default()
    }
}

async fn status_of(store: &Store, coord: &Actor, id: RequestId) -> RequestView {
    store.waiting_request(coord, id, now()).await.unwrap()
}

#[tokio::test]
async fn story_waiting_list() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let nurse = account(s, "Inès Bernard", Some("60"), &[]).await;
    let pharma = account(s, "Paul Petit", Some("21"), &[]).await;
    let surgeon = account(s, "Dr Chirurgien", Some("10"), &[]).await;
    let martin = gp(s, "Dr Martin").await;
    let dubois = gp(s, "Dr Dubois").await;
    let full = gp(s, "Dr Complet").await;

    // A nurse registers a request; age 70+ comes from the birth date, not the input.
    let ald = Fragility {
        ald: true,
        age_70_plus: false,
        ..Fragility::default()
    };
    let req = s
        .create_waiting_request(
            &nurse,
            new_request("Durand", "1950-04-01", "59350", ald),
            now(),
        )
        .await
        .unwrap();
    assert!(req.fragility.age_70_plus && req.fragility.ald);
    assert_eq!(req.priority, 5);
    assert_eq!(req.status, RequestStatus::Waiting);

    // The same person again (accents and case aside) is a duplicate, whoever asks.
    let again = s
        .create_waiting_request(
            &coord,
            new_request("DURAND", "1950-04-01", "59009", Fragility::default()),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), "waiting_list.duplicate");

    // What each reader sees: the coordinator no notes, the requester everything,
    // another professional nothing (404, and not in their list).
    let seen = s.waiting_request(&coord, req.id, now()).await.unwrap();
    assert_eq!(seen.notes, None);
    assert_eq!(seen.contact.phone.as_deref(), Some("03 20 00 00 00"));
    assert_eq!(seen.identity.birth_name, "Durand");
    let own = s.waiting_request(&nurse, req.id, now()).await.unwrap();
    assert!(own.notes.is_some());
    assert!(matches!(
        s.waiting_request(&pharma, req.id, now()).await,
        Err(Error::NotFound {
            what: Noun::WaitingRequest
        })
    ));
    assert!(
        s.waiting_requests(&pharma, &open_list(), now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.waiting_request(&martin, req.id, now()).await.is_err());

    // Capacity: médecins généralistes only.
    let refused = s
        .set_my_capacity(&nurse, capacity(3, &[], true, true), now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "gp_capacity.gps_only");
    assert!(
        s.set_my_capacity(&surgeon, capacity(3, &[], true, true), now())
            .await
            .is_err()
    );
    s.set_my_capacity(&martin, capacity(2, &["59350"], true, false), now())
        .await
        .unwrap();
    s.set_my_capacity(&dubois, capacity(4, &[], true, false), now())
        .await
        .unwrap();
    let mut none = capacity(0, &[], true, false);
    none.accepting = false;
    s.set_my_capacity(&full, none, now()).await.unwrap();
    assert_eq!(s.total_capacity(day_of(now())).await.unwrap(), 6);

    // Suggestions: Martin named the commune, Dubois takes the whole territory.
    let suggested = s.suggestions(&coord, req.id, 10, now()).await.unwrap();
    let ids: Vec<AccountId> = suggested.iter().map(|g| g.account_id).collect();
    assert_eq!(ids, vec![martin.account_id, dubois.account_id]);
    assert!(s.suggestions(&nurse, req.id, 10, now()).await.is_err());

    // Bad proposals write nothing.
    let cases: Vec<(Vec<AccountId>, &str)> = vec![
        (
            vec![
                martin.account_id,
                dubois.account_id,
                full.account_id,
                surgeon.account_id,
            ],
            "waiting_list.too_many_gps",
        ),
        (vec![], "waiting_list.too_many_gps"),
        (vec![nurse.account_id], "waiting_list.not_a_gp"),
        (vec![surgeon.account_id], "waiting_list.not_a_gp"),
        (
            vec![martin.account_id, full.account_id],
            "waiting_list.no_capacity",
        ),
    ];
    for (gps, code) in cases {
        let err = s.propose(&coord, req.id, &gps, now()).await.unwrap_err();
        assert_eq!(err.code(), code, "{gps:?}");
        let still = status_of(s, &coord, req.id).await;
        assert_eq!(still.status, RequestStatus::Waiting);
        assert!(still.proposals.is_empty());
    }
    assert_eq!(
        s.propose(&nurse, req.id, &[martin.account_id], now())
            .await
            .unwrap_err()
            .code(),
        "waiting_list.coordinators_only"
    );

    // Two GPs proposed; each is told and may now read the request.
    let proposals = s
        .propose(
            &coord,
            req.id,
            &[martin.account_id, dubois.account_id],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(proposals.len(), 2);
    assert_eq!(
        status_of(s, &coord, req.id).await.status,
        RequestStatus::Proposed
    );
    let as_martin = s.waiting_request(&martin, req.id, now()).await.unwrap();
    assert!(as_martin.notes.is_some());
    assert_eq!(as_martin.proposals.len(), 1);
    let told = s.notifications(&dubois, None, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == NotificationKind::WaitingListProposal)
    );
    // A third GP is one too many with two pending.
    let third = gp(s, "Dr Tiers").await;
    s.set_my_capacity(&third, capacity(1, &[], true, true), now())
        .await
        .unwrap();
    assert!(
        s.propose(&coord, req.id, &[third.account_id], now())
            .await
            .is_ok()
    );
    let fourth = gp(s, "Dr Quatre").await;
    s.set_my_capacity(&fourth, capacity(1, &[], true, true), now())
        .await
        .unwrap();
    assert_eq!(
        s.propose(&coord, req.id, &[fourth.account_id], now())
            .await
            .unwrap_err()
            .code(),
        "waiting_list.too_many_gps"
    );

    // Someone else's proposal is not found; Martin and Dubois accept at once: one wins.
    let (pm, pd) = (proposals[0].id, proposals[1].id);
    assert!(matches!(
        s.accept_proposal(&dubois, req.id, pm, now()).await,
        Err(Error::NotFound { .. })
    ));
    let (a, b) = tokio::join!(
        {
            let (s, m) = (s.clone(), martin.clone());
            async move { s.accept_proposal(&m, req.id, pm, now()).await }
        },
        {
            let (s, d) = (s.clone(), dubois.clone());
            async move { s.accept_proposal(&d, req.id, pd, now()).await }
        }
    );
    let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{a:?} {b:?}");
    let loser = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("{other:?}"),
    };
    assert!(matches!(loser, Error::Conflict { .. }), "{loser:?}");
    let winner = if status_of(s, &coord, req.id).await.placed_with == Some(martin.account_id) {
        &martin
    } else {
        &dubois
    };
    let placed = status_of(s, &coord, req.id).await;
    assert_eq!(placed.status, RequestStatus::Placed);
    assert!(placed.placed_on.is_some());
    let patient = placed.patient_id.expect("a record was made");
    assert!(
        placed
            .proposals
            .iter()
            .filter(|p| p.gp_id != winner.account_id)
            .all(|p| p.status == ProposalStatus::Lapsed)
    );
    // The winner is the médecin traitant; the record is theirs to read.
    let team = s.care_team(winner, patient, None, 50, now()).await.unwrap();
    assert!(
        team.iter()
            .any(|m| m.account_id == winner.account_id && m.role == TeamRole::MedecinTraitant)
    );
    assert_eq!(
        s.my_capacity(winner, now())
            .await
            .unwrap()
            .unwrap()
            .used_this_month,
        1
    );
    // Coordinator and requester are told.
    for who in [&coord, &nurse] {
        let n = s.notifications(who, None, 20).await.unwrap();
        assert!(
            n.iter()
                .any(|n| n.kind == NotificationKind::WaitingListPlaced),
            "{who:?}"
        );
    }
    // A placed request no longer changes or takes proposals.
    assert_eq!(
        s.update_waiting_request(
            &nurse,
            req.id,
            RequestChange {
                withdraw: true,
                ..RequestChange::default()
            },
            now()
        )
        .await
        .unwrap_err()
        .code(),
        "waiting_list.closed"
    );

    // Indicators: one placed ALD 70+ patient, nothing waiting.
    let today = day_of(now());
    let (ind, extra) = s
        .waiting_indicators(&coord, today, today, now())
        .await
        .unwrap();
    assert_eq!((ind.total.placed, ind.total.waiting), (1, 0));
    assert_eq!(ind.share_ald_placed, Some(1.0));
    assert_eq!(ind.median_waiting_days, Some(0));
    assert!(extra >= 6);
    assert!(
        s.waiting_indicators(&nurse, today, today, now())
            .await
            .is_err()
    );

    // The patient's export carries the request; erasure takes it away.
    let export = s.export_patient(winner, patient, now()).await.unwrap();
    assert_eq!(export.waiting_requests.len(), 1);
    let admin = account(s, "Admin Roux", None, &[CptsRole::Admin]).await;
    s.erase_patient(&admin, patient, now()).await.unwrap();
    assert!(s.waiting_request(&coord, req.id, now()).await.is_err());
}

#[tokio::test]
async fn list_sorted_by_priority_with_filters_and_pages() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let t0 = now();
    let plain = Fragility::default();
    let complex = Fragility {
        complex_situation: true,
        precarity: Some(cordee_pathway::waiting_list::Precarity::Ame),
        ..plain
    };
    // An old plain request (waited 150 days: 5 points) outranks a new complex one (5
    // points) by age; a new plain one comes last.
    let old = s
        .create_waiting_request(
            &coord,
            new_request("Ancien", "1980-01-01", "59350", plain),
            Millis(t0.0 - 150 * DAY),
        )
        .await
        .unwrap();
    let hard = s
        .create_waiting_request(
            &coord,
            new_request("Complexe", "1980-01-01", "59009", complex),
            t0,
        )
        .await
        .unwrap();
    let new = s
        .create_waiting_request(
            &coord,
            new_request("Nouveau", "1980-01-01", "59350", plain),
            t0,
        )
        .await
        .unwrap();
    let all = s.waiting_requests(&coord, &open_list(), t0).await.unwrap();
    let order: Vec<RequestId> = all.iter().map(|r| r.id).collect();
    assert_eq!(order, vec![old.id, hard.id, new.id]);
    assert_eq!(
        all.iter().map(|r| r.priority).collect::<Vec<_>>(),
        vec![5, 5, 0]
    );

    // Pages of one follow the same order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .waiting_requests(
                &coord,
                &RequestQuery {
                    after: after.clone(),
                    limit: 1,
                    ..RequestQuery::default()
                },
                t0,
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        seen.push(last.id);
        after = Some(last.cursor());
    }
    assert_eq!(seen, order);

    let lille = RequestQuery {
        commune: Some(parse_commune("59350").unwrap()),
        ..open_list()
    };
    assert_eq!(
        s.waiting_requests(&coord, &lille, t0).await.unwrap().len(),
        2
    );
    let poor = RequestQuery {
        group: Some(Group::CssAme),
        ..open_list()
    };
    let found = s.waiting_requests(&coord, &poor, t0).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![hard.id]
    );
    let others = RequestQuery {
        group: Some(Group::Others),
        ..open_list()
    };
    assert_eq!(
        s.waiting_requests(&coord, &others, t0).await.unwrap().len(),
        2
    );

    // Withdrawing takes a request out of the open list.
    s.update_waiting_request(
        &coord,
        new.id,
        RequestChange {
            withdraw: true,
            ..RequestChange::default()
        },
        t0,
    )
    .await
    .unwrap();
    assert_eq!(
        s.waiting_requests(&coord, &open_list(), t0)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn many_concurrent_acceptances_never_overdraw_capacity() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let doc = gp(s, "Dr Martin").await;
    s.set_my_capacity(&doc, capacity(2, &[], true, true), now())
        .await
        .unwrap();
    let mut pending = Vec::new();
    for i in 0..6 {
        let name = format!("Patient {}", ["A", "B", "C", "D", "E", "F"][i]);
        let r = s
            .create_waiting_request(
                &coord,
                new_request(&name, "1985-06-01", "59350", Fragility::default()),
                now(),
            )
            .await
            .unwrap();
        let p = s
            .propose(&coord, r.id, &[doc.account_id], now())
            .await
            .unwrap();
        pending.push((r.id, p[0].id));
    }
    let mut tasks = Vec::new();
    for (rid, pid) in pending {
        let (s, d) = (s.clone(), doc.clone());
        tasks.push(tokio::spawn(async move {
            s.accept_proposal(&d, rid, pid, now()).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), "waiting_list.no_capacity"),
        }
    }
    assert_eq!(ok, 2);
    let mine = s.my_capacity(&doc, now()).await.unwrap().unwrap();
    assert_eq!((mine.used_this_month, mine.remaining_this_month), (2, 0));
    let placed = s
        .waiting_requests(
            &coord,
            &RequestQuery {
                status: Some(RequestStatus::Placed),
                ..open_list()
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(placed.len(), 2);
}

#[tokio::test]
async fn unanswered_proposals_lapse_and_the_coordinator_is_told() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Nadia Garcia", None, &[CptsRole::Coordinator]).await;
    let doc = gp(s, "Dr Martin").await;
    s.set_my_capacity(&doc, capacity(3, &[], true, true), now())
        .await
        .unwrap();
    let t0 = now();
    let r = s
        .create_waiting_request(
            &coord,
            new_request("Lent", "1985-06-01", "59350", Fragility::default()),
            t0,
        )
        .await
        .unwrap();
    let p = s
        .propose(&coord, r.id, &[doc.account_id], t0)
        .await
        .unwrap();
    // Six days on: nothing lapses; eight days on: it does, once.
    assert_eq!(
        s.lapse_proposals(Millis(t0.0 + 6 * DAY), 7, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.lapse_proposals(Millis(t0.0 + 8 * DAY), 7, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.lapse_proposals(Millis(t0.0 + 9 * DAY), 7, 100)
            .await
            .unwrap(),
        0
    );
    let after = status_of(s, &coord, r.id).await;
    assert_eq!(after.status, RequestStatus::Waiting);
    assert_eq!(after.proposals[0].status, ProposalStatus::Lapsed);
    let told = s.notifications(&coord, None, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == NotificationKind::WaitingListLapsed)
    );
    // A lapsed proposal cannot be accepted any more.
    assert_eq!(
        s.accept_proposal(&doc, r.id, p[0].id, Millis(t0.0 + 9 * DAY))
            .await
            .unwrap_err()
            .code(),
        "waiting_list.proposal_closed"
    );
    // Declining is the GP's too, and goes back to waiting.
    let p2 = s
        .propose(&coord, r.id, &[doc.account_id], t0)
        .await
        .unwrap();
    let declined = s
        .decline_proposal(&doc, r.id, p2[0].id, Some("Patientèle complète".into()), t0)
        .await
        .unwrap();
    assert_eq!(declined.status, ProposalStatus::Declined);
    assert_eq!(
        status_of(s, &coord, r.id).await.status,
        RequestStatus::Waiting
    );
}
