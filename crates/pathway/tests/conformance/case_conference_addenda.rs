//! Corrections to a validated record, through the store: an addendum, never an
//! edit; who may add one; the chain of hashes from the record through every
//! addendum; a case's correction in the patient's file, export and erasure; two
//! corrections at once both land on one linear chain.

use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::case_conference::addendum::first_broken_link;
use cordee_pathway::case_conference::{ConferenceKind, Minutes};
use cordee_pathway::ids::{CaseConferenceId, CaseId, PatientId};
use cordee_pathway::store::Store;
use cordee_pathway::{Error, Millis};

use crate::case_conferences::{doctor, rcp};
use crate::file::patient_by;
use crate::support::{account, fresh_store, now, open};

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    r.unwrap_err().code()
}

struct Validated {
    gp: Actor,
    nurse: Actor,
    absent: Actor,
    coord: Actor,
    outsider: Actor,
    id: CaseConferenceId,
    case: CaseId,
    patient: PatientId,
    at: Millis,
}

/// A concertation whose chair (the GP, médecin traitant of the patient) and nurse
/// attended, a pharmacist invited but absent, one case; validation is left to the
/// test.
async fn conference(s: &Store) -> Validated {
    let gp = doctor(s, "Dr Martin", "10", Some("SM54")).await;
    let nurse = doctor(s, "Mme Bernard", "60", None).await;
    let kine = doctor(s, "M. Kiné", "70", None).await;
    let absent = doctor(s, "Mme Absente", "21", None).await;
    let outsider = doctor(s, "Dr Ailleurs", "10", Some("SM54")).await;
    let coord = account(s, "Mme Garcia", None, &[CptsRole::Coordinator]).await;
    let p = patient_by(s, &gp, "Rectifié", None, Some(TeamRole::MedecinTraitant)).await;
    let start = now();
    let mut input = rcp(start, None);
    input.kind = ConferenceKind::Concertation;
    let c = s.create_case_conference(&gp, input, now()).await.unwrap();
    for who in [&nurse, &kine, &absent] {
        s.add_case_conference_participant(&gp, c.id, who.account_id, now())
            .await
            .unwrap();
    }
    for who in [&gp, &nurse, &kine] {
        s.set_case_conference_attendance(&gp, c.id, who.account_id, true, now())
            .await
            .unwrap();
    }
    let case = s
        .add_case_conference_case(&gp, c.id, p.id, "Retour à domicile ?", now())
        .await
        .unwrap();
    s.record_case_minutes(
        &gp,
        c.id,
        case.id,
        Minutes {
            summary: Some("Chutes répétées".into()),
            proposal: None,
            decision: Some("Passage IDE quotidien".into()),
            follow_up_id: None,
            actions: vec![],
        },
        now(),
    )
    .await
    .unwrap();
    Validated {
        gp,
        nurse,
        absent,
        coord,
        outsider,
        id: c.id,
        case: case.id,
        patient: p.id,
        at: start.plus_secs(1),
    }
}

async fn rcp_entries(s: &Store, patient: PatientId) -> i64 {
    sqlx::query_scalar("select count(*) from entries where patient_id = $1 and category = 'rcp'")
        .bind(patient.as_text())
        .fetch_one(s.db().reader())
        .await
        .unwrap()
}

async fn addenda_rows(s: &Store) -> i64 {
    sqlx::query_scalar("select count(*) from case_conference_addenda")
        .fetch_one(s.db().reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_correction_is_a_new_addendum_chained_to_the_record() {
    let f = fresh_store().await;
    let s = &f.store;
    let v = conference(s).await;
    let (id, at) = (v.id, v.at);

    // Before validation there is nothing to correct.
    assert_eq!(
        code(
            s.add_case_conference_addendum(&v.gp, id, None, "Erratum", at)
                .await
        ),
        "case_conference.not_validated"
    );
    s.validate_case_conference(&v.gp, id, at).await.unwrap();
    let record_hash = s
        .case_conference(&v.gp, id)
        .await
        .unwrap()
        .record_hash
        .unwrap();
    assert_eq!(rcp_entries(s, v.patient).await, 1);

    // Bad input and refusals write nothing.
    for (who, case, text, expected) in [
        (&v.gp, None, "   ", "case_conference.invalid_addendum"),
        (
            &v.gp,
            None,
            &*"x".repeat(3_001),
            "case_conference.invalid_addendum",
        ),
        (
            &v.gp,
            Some(CaseId::new()),
            "Erratum",
            "case_conference.unknown_case",
        ),
        // Outside the conference: it does not exist for them.
        (&v.outsider, None, "Erratum", "case_conference.not_found"),
        // Invited but absent: neither about a case nor about the conference.
        (
            &v.absent,
            None,
            "Erratum",
            "case_conference.addendum_forbidden",
        ),
        (
            &v.absent,
            Some(v.case),
            "Erratum",
            "case_conference.addendum_forbidden",
        ),
        // The coordinator organises: not a correction to a patient's case.
        (
            &v.coord,
            Some(v.case),
            "Erratum",
            "case_conference.addendum_forbidden",
        ),
    ] {
        assert_eq!(
            code(
                s.add_case_conference_addendum(who, id, case, text, at)
                    .await
            ),
            expected
        );
    }
    assert_eq!(addenda_rows(s).await, 0);

    // The coordinator corrects the conference; the nurse (attended) a case.
    let first = s
        .add_case_conference_addendum(&v.coord, id, None, "Le Dr Kiné était présent en visio.", at)
        .await
        .unwrap();
    assert_eq!(first.position, 1);
    assert_eq!(first.previous_hash, record_hash);
    assert_eq!(first.entry_id, None);
    let second = s
        .add_case_conference_addendum(
            &v.nurse,
            id,
            Some(v.case),
            "Passage IDE deux fois par jour, pas une.",
            at.plus_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(second.position, 2);
    assert_eq!(second.previous_hash, first.hash);
    assert_eq!(second.patient_id, Some(v.patient));
    // The case's correction is in the patient's file, as a new rcp entry.
    assert_eq!(rcp_entries(s, v.patient).await, 2);
    assert!(second.entry_id.is_some());

    // The record holds both, in order, and the chain checks from the record's hash.
    let view = s.case_conference_record(&v.nurse, id, at).await.unwrap();
    assert_eq!(view.hash, record_hash);
    assert_eq!(view.record.hash().unwrap(), record_hash);
    assert_eq!(view.addenda, vec![first.clone(), second.clone()]);
    assert_eq!(first_broken_link(&view.hash, &view.addenda), None);
    assert_eq!(view.head(), second.hash);
    assert_eq!(
        s.case_conference_addenda(&v.gp, id, at).await.unwrap(),
        view.addenda
    );
    assert_eq!(
        code(s.case_conference_addenda(&v.outsider, id, at).await),
        "case_conference.not_found"
    );
    // Sealed at rest: the text is nowhere in the row.
    let sealed: Vec<u8> =
        sqlx::query_scalar("select text from case_conference_addenda where position = 2")
            .fetch_one(s.db().reader())
            .await
            .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("deux fois"));
    // Audited with ids only.
    let detail: String = sqlx::query_scalar(
        "select detail from audit_log where action = 'case_conference.addendum' and patient_id = $1",
    )
    .bind(v.patient.as_text())
    .fetch_one(s.db().reader())
    .await
    .unwrap();
    assert!(
        detail.contains(&second.hash) && !detail.contains("IDE"),
        "{detail}"
    );

    // The patient's export carries the case's correction, not the conference's.
    let export = s.export_patient(&v.gp, v.patient, now()).await.unwrap();
    assert_eq!(export.case_conference_addenda, vec![second.clone()]);

    // Erasing the patient erases the correction's text; the links still check.
    let admin = account(s, "Admin", None, &[CptsRole::Admin]).await;
    s.erase_patient(&admin, v.patient, now()).await.unwrap();
    let view = s.case_conference_record(&v.gp, id, at).await.unwrap();
    assert_eq!(view.addenda.len(), 2);
    assert_eq!(view.addenda[1].text, None);
    assert_eq!(view.addenda[0].text, first.text);
    assert_eq!(first_broken_link(&view.hash, &view.addenda), None);
    assert_eq!(
        code(
            s.add_case_conference_addendum(&v.gp, id, Some(v.case), "Encore", at)
                .await
        ),
        "patient.erased"
    );
}

#[tokio::test]
async fn corrections_at_once_all_land_on_one_linear_chain() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let s = &f.store;
    let v = conference(s).await;
    s.validate_case_conference(&v.gp, v.id, v.at).await.unwrap();
    // Two stores (two pools, as two gateways would have), four writers at once.
    let (a, b, c, d) = tokio::join!(
        s.add_case_conference_addendum(&v.gp, v.id, None, "Un", v.at),
        other.add_case_conference_addendum(&v.nurse, v.id, Some(v.case), "Deux", v.at),
        s.add_case_conference_addendum(&v.nurse, v.id, None, "Trois", v.at),
        other.add_case_conference_addendum(&v.gp, v.id, Some(v.case), "Quatre", v.at),
    );
    let mut positions: Vec<i64> = [a, b, c, d]
        .into_iter()
        .map(|r| r.unwrap().position)
        .collect();
    positions.sort();
    assert_eq!(positions, vec![1, 2, 3, 4]);
    let view = s.case_conference_record(&v.gp, v.id, v.at).await.unwrap();
    assert_eq!(view.addenda.len(), 4);
    assert_eq!(first_broken_link(&view.hash, &view.addenda), None);
    let head: Option<String> =
        sqlx::query_scalar("select chain_head from case_conferences where id = $1")
            .bind(v.id.as_text())
            .fetch_one(s.db().reader())
            .await
            .unwrap();
    assert_eq!(head.as_deref(), Some(view.head()));
    assert_eq!(
        rcp_entries(s, v.patient).await,
        3,
        "the record's and two corrections"
    );
}
