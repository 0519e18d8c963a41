//! Case conferences through the store: the whole flow (planning, invitations,
//! cases, the participant's window, minutes, quorum, validation into the file,
//! immutability, the record and its hash), objection, and concurrent changes.

use cordee_pathway::Error;
use cordee_pathway::Millis;
use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::case_conference::{
    Action, AgendaQuery, ConferenceInput, ConferenceKind, ConferencePatch, ConferenceStatus,
    Minutes, Quorum,
};
use cordee_pathway::consent::{ConsentChange, Objection};
use cordee_pathway::file::{EntryContent, EntryFilter, EntryKind};
use cordee_pathway::ids::CaseConferenceId;
use cordee_pathway::notification::NotificationKind;
use cordee_pathway::policy::Category;
use cordee_pathway::store::Store;

use crate::file::patient_by;
use crate::support::{account, fresh_store, now, open};

/// A health professional whose PSC exercice says profession and specialty.
pub(crate) async fn doctor(
    s: &Store,
    name: &str,
    profession: &str,
    specialty: Option<&str>,
) -> Actor {
    let actor = account(s, name, Some(profession), &[]).await;
    let exercice = match specialty {
        Some(sp) => serde_json::json!({ "profession": profession, "specialty": { "code": sp } }),
        None => serde_json::json!({ "profession": profession }),
    };
    sqlx::query("update accounts set profile = $1 where id = $2")
        .bind(serde_json::json!({ "exercices": [exercice] }).to_string())
        .bind(actor.account_id.as_text())
        .execute(s.db().writer())
        .await
        .unwrap();
    actor
}

pub(crate) fn rcp(start: Millis, chair: Option<&Actor>) -> ConferenceInput {
    ConferenceInput {
        title: "RCP oncogériatrique".into(),
        kind: ConferenceKind::Rcp,
        scheduled_at: start,
        duration_minutes: 90,
        place: Some("https://visio.example/rcp".into()),
        chair_id: chair.map(|c| c.account_id),
        quorum: Quorum::default_for(ConferenceKind::Rcp),
    }
}

fn code(err: Error) -> &'static str {
    err.code()
}

async fn rcp_entries(s: &Store, patient: &str) -> i64 {
    sqlx::query_scalar("select count(*) from entries where patient_id = $1 and category = 'rcp'")
        .bind(patient)
        .fetch_one(s.db().reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_whole_flow_from_the_agenda_to_the_sealed_record() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Mme Garcia", None, &[CptsRole::Coordinator]).await;
    let gp = doctor(s, "Dr Martin", "10", Some("SM54")).await;
    let onco = doctor(s, "Dr Onco", "10", Some("SM38")).await;
    let cardio = doctor(s, "Dr Cardio", "10", Some("SM04")).await;
    let nurse = doctor(s, "Mme Bernard", "60", None).await;
    let outsider = doctor(s, "Dr Ailleurs", "10", Some("SM54")).await;
    let p = patient_by(s, &gp, "Lefèvre", None, None).await;
    s.create_entry(
        &gp,
        p.id,
        Category::Medical,
        EntryKind::Note,
        EntryContent::new("Observation", "Bilan", vec![]).unwrap(),
        now(),
    )
    .await
    .unwrap();

    // Planning: the coordinator plans, the GP chairs; invitations notify.
    let start = now().plus_secs(3600);
    let c = s
        .create_case_conference(&coord, rcp(start, Some(&gp)), now())
        .await
        .unwrap();
    assert_eq!(c.status, ConferenceStatus::Planned);
    assert_eq!(c.chair_id, gp.account_id);
    assert_eq!(c.quorum.min_participants, 3);
    assert_eq!(c.place.as_deref(), Some("https://visio.example/rcp"));
    for who in [&onco, &cardio, &nurse] {
        s.add_case_conference_participant(&coord, c.id, who.account_id, now())
            .await
            .unwrap();
    }
    let told = s.notifications(&onco, None, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.kind == NotificationKind::CaseConferenceInvited
                && n.subject_id.as_deref() == Some(&*c.id.as_text()))
    );
    // The agenda: mine for the oncologist, nothing for an outsider, all for the coordinator.
    let agenda = |mine| AgendaQuery {
        from: Some(now()),
        to: Some(start.plus_secs(86_400)),
        mine,
        after: None,
        limit: 50,
    };
    assert_eq!(
        s.case_conferences(&onco, &agenda(true))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.case_conferences(&outsider, &agenda(false))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.case_conferences(&coord, &agenda(false))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        code(s.case_conference(&outsider, c.id).await.unwrap_err()),
        "case_conference.not_found"
    );

    // Cases: the GP (care team) presents; an outsider to the patient cannot.
    let case = s
        .add_case_conference_case(&gp, c.id, p.id, "Chimiothérapie adjuvante ?", now())
        .await
        .unwrap();
    assert_eq!(case.question, "Chimiothérapie adjuvante ?");
    assert!(case.patient_name.starts_with("LEFÈVRE") || case.patient_name.contains("Lef"));
    assert_eq!(
        code(
            s.add_case_conference_case(&onco, c.id, p.id, "?", now())
                .await
                .unwrap_err()
        ),
        "patient.not_found"
    );

    // Before the start, a participant outside the team does not see the case.
    assert_eq!(
        code(
            s.case_conference_case(&onco, c.id, case.id, now())
                .await
                .unwrap_err()
        ),
        "patient.not_found"
    );
    assert!(
        s.case_conference_cases(&onco, c.id, now())
            .await
            .unwrap()
            .is_empty()
    );

    // During the conference: the case (question, identity), not the rest of the file.
    let during = start.plus_secs(60);
    let read = s
        .case_conference_case(&onco, c.id, case.id, during)
        .await
        .unwrap();
    assert_eq!(read.question, "Chimiothérapie adjuvante ?");
    assert_eq!(
        s.case_conference_cases(&onco, c.id, during)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.list_entries(
            &onco,
            p.id,
            &EntryFilter {
                limit: 50,
                ..EntryFilter::default()
            },
            during
        )
        .await
        .is_err()
    );

    // Minutes by the chair; a participant who is not a manager may not write them.
    let minutes = Minutes {
        summary: Some("Discussion : patiente de 82 ans, autonome.".into()),
        proposal: Some("Chimiothérapie allégée".into()),
        decision: Some("Avis favorable, réévaluation à 3 mois".into()),
        follow_up_id: Some(gp.account_id),
        actions: vec![Action {
            title: "Bilan gériatrique".into(),
            category: Category::Soins,
            assignee_id: nurse.account_id,
            due_on: "2026-12-15".into(),
        }],
    };
    assert_eq!(
        code(
            s.record_case_minutes(&onco, c.id, case.id, minutes.clone(), during)
                .await
                .unwrap_err()
        ),
        "case_conference.chair_only"
    );
    let written = s
        .record_case_minutes(&gp, c.id, case.id, minutes, during)
        .await
        .unwrap();
    assert_eq!(written.actions.len(), 1);
    assert_eq!(written.follow_up_id, Some(gp.account_id));

    // Validation: no attendance yet, no quorum — named.
    let err = s
        .validate_case_conference(&gp, c.id, during)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "case_conference.quorum_not_met");
    assert!(
        err.to_string().contains("3 more attending médecin"),
        "{err}"
    );
    assert_eq!(rcp_entries(s, &p.id.as_text()).await, 0);
    for (who, attended) in [(&gp, true), (&onco, true), (&nurse, true), (&cardio, false)] {
        s.set_case_conference_attendance(&gp, c.id, who.account_id, attended, during)
            .await
            .unwrap();
    }
    let err = s
        .validate_case_conference(&gp, c.id, during)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("1 more attending médecin")
            && err.to_string().contains("1 more distinct specialty"),
        "{err}"
    );
    s.set_case_conference_attendance(&gp, c.id, cardio.account_id, true, during)
        .await
        .unwrap();
    let done = s.validate_case_conference(&gp, c.id, during).await.unwrap();
    assert_eq!(done.status, ConferenceStatus::Validated);
    let hash = done.record_hash.clone().unwrap();
    assert_eq!(hash.len(), 64);

    // The case landed in the file as an rcp entry; the task was handed over; the
    // follow-up and the assignee were told.
    assert_eq!(rcp_entries(s, &p.id.as_text()).await, 1);
    let handed: i64 = sqlx::query_scalar(
        "select count(*) from case_conference_actions where handed_over_at is not null",
    )
    .fetch_one(s.db().reader())
    .await
    .unwrap();
    assert_eq!(handed, 1);
    // The action became a task of a care plan opened for the patient (none was
    // active), from the conference; the nurse is not on the patient's team, so the
    // task waits for the referent (the chair) to assign it.
    let tasks: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "select t.source, t.assignee_id, p.coordinator_id from care_plan_tasks t join care_plans p on p.id = t.plan_id where t.patient_id = $1",
    )
    .bind(p.id.as_text())
    .fetch_all(s.db().reader())
    .await
    .unwrap();
    assert_eq!(
        tasks,
        vec![("case_conference".to_string(), None, gp.account_id.as_text())]
    );
    assert!(
        s.notifications(&nurse, None, 10)
            .await
            .unwrap()
            .iter()
            .any(|n| n.kind == NotificationKind::CaseConferenceTaskAssigned
                && n.patient_id == Some(p.id))
    );
    assert!(
        s.notifications(&gp, None, 10)
            .await
            .unwrap()
            .iter()
            .any(|n| n.kind == NotificationKind::CaseConferenceFollowUp)
    );

    // Immutable: any change answers 409 validated.
    let later = during.plus_secs(60);
    assert_eq!(
        code(
            s.add_case_conference_participant(&gp, c.id, outsider.account_id, later)
                .await
                .unwrap_err()
        ),
        "case_conference.validated"
    );
    assert_eq!(
        code(
            s.set_case_conference_attendance(&gp, c.id, onco.account_id, false, later)
                .await
                .unwrap_err()
        ),
        "case_conference.validated"
    );
    assert_eq!(
        code(
            s.validate_case_conference(&gp, c.id, later)
                .await
                .unwrap_err()
        ),
        "case_conference.validated"
    );
    assert_eq!(
        code(
            s.update_case_conference(
                &coord,
                c.id,
                ConferencePatch {
                    title: Some("Autre".into()),
                    ..Default::default()
                },
                later
            )
            .await
            .unwrap_err()
        ),
        "case_conference.validated"
    );

    // After validation the outsider to the team reads the case no more…
    assert_eq!(
        code(
            s.case_conference_case(&onco, c.id, case.id, later)
                .await
                .unwrap_err()
        ),
        "patient.not_found"
    );
    // …but a participant reads the record, whose hash is the one kept.
    let view = s.case_conference_record(&onco, c.id, later).await.unwrap();
    let (record, kept) = (view.record, view.hash);
    assert_eq!(kept, hash);
    assert_eq!(record.hash().unwrap(), hash);
    assert_eq!(record.cases.len(), 1);
    assert_eq!(
        record.cases[0].decision.as_deref(),
        Some("Avis favorable, réévaluation à 3 mois")
    );
    assert_eq!(record.participants.len(), 4);
    assert_eq!(
        code(
            s.case_conference_record(&outsider, c.id, later)
                .await
                .unwrap_err()
        ),
        "case_conference.not_found"
    );

    // rcp entries are still refused through the file API.
    assert_eq!(
        code(
            s.create_entry(
                &gp,
                p.id,
                Category::Rcp,
                EntryKind::Note,
                EntryContent::new("RCP", "x", vec![]).unwrap(),
                later
            )
            .await
            .unwrap_err()
        ),
        "entry.category_read_only"
    );
}

#[tokio::test]
async fn a_patient_who_objected_is_refused_with_a_clear_error() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = doctor(s, "Dr Martin", "10", Some("SM54")).await;
    let p = patient_by(s, &gp, "Objecteur", None, None).await;
    s.change_consent(
        &gp,
        p.id,
        vec![ConsentChange::Object(Objection::Category {
            category: Category::Rcp,
        })],
        now(),
    )
    .await
    .unwrap();
    let c = s
        .create_case_conference(&gp, rcp(now().plus_secs(60), None), now())
        .await
        .unwrap();
    let err = s
        .add_case_conference_case(&gp, c.id, p.id, "Avis ?", now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "case_conference.patient_objected");
    assert_eq!(c.case_count, 0);
    assert_eq!(
        s.case_conference(&gp, c.id).await.unwrap().case_count,
        0,
        "nothing changed"
    );
}

#[tokio::test]
async fn plans_are_checked_and_cancelled_conferences_stay_so() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = doctor(s, "Dr Martin", "10", Some("SM54")).await;
    let staff = account(s, "Secrétaire", None, &[]).await;
    let mut bad = rcp(now(), None);
    bad.duration_minutes = 0;
    assert_eq!(
        code(s.create_case_conference(&gp, bad, now()).await.unwrap_err()),
        "case_conference.invalid_duration"
    );
    assert_eq!(
        code(
            s.create_case_conference(&staff, rcp(now(), None), now())
                .await
                .unwrap_err()
        ),
        "case_conference.organisers_only"
    );
    let c = s
        .create_case_conference(&gp, rcp(now(), None), now())
        .await
        .unwrap();
    // A stale version is refused; the current one passes.
    let stale = ConferencePatch {
        title: Some("RCP thoracique".into()),
        version: Some(c.version + 5),
        ..Default::default()
    };
    assert_eq!(
        code(
            s.update_case_conference(&gp, c.id, stale, now())
                .await
                .unwrap_err()
        ),
        "case_conference.version_conflict"
    );
    let ok = s
        .update_case_conference(
            &gp,
            c.id,
            ConferencePatch {
                title: Some("RCP thoracique".into()),
                version: Some(c.version),
                ..Default::default()
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(ok.title, "RCP thoracique");
    assert_eq!(ok.version, c.version + 1);
    let cancelled = s
        .update_case_conference(
            &gp,
            c.id,
            ConferencePatch {
                status: Some(ConferenceStatus::Cancelled),
                ..Default::default()
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, ConferenceStatus::Cancelled);
    assert_eq!(
        code(
            s.add_case_conference_participant(&gp, c.id, staff.account_id, now())
                .await
                .unwrap_err()
        ),
        "case_conference.cancelled"
    );
}

/// A conference whose quorum is met (concertation of three professions), started.
async fn ready(s: &Store) -> (Actor, CaseConferenceId, Millis, Actor) {
    let gp = doctor(s, "Dr Martin", "10", Some("SM54")).await;
    let nurse = doctor(s, "Mme Bernard", "60", None).await;
    let kine = doctor(s, "M. Kiné", "70", None).await;
    let late = doctor(s, "Mme Retard", "21", None).await;
    let p = patient_by(s, &gp, "Concurrent", None, None).await;
    let start = now();
    let mut input = rcp(start, None);
    input.kind = ConferenceKind::Concertation;
    let c = s.create_case_conference(&gp, input, now()).await.unwrap();
    for who in [&nurse, &kine] {
        s.add_case_conference_participant(&gp, c.id, who.account_id, now())
            .await
            .unwrap();
        s.set_case_conference_attendance(&gp, c.id, who.account_id, true, now())
            .await
            .unwrap();
    }
    s.set_case_conference_attendance(&gp, c.id, gp.account_id, true, now())
        .await
        .unwrap();
    s.add_case_conference_case(&gp, c.id, p.id, "Retour à domicile ?", now())
        .await
        .unwrap();
    (gp, c.id, start.plus_secs(1), late)
}

#[tokio::test]
async fn concurrent_validations_of_the_same_conference_one_wins() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let s = &f.store;
    let (gp, id, at, _) = ready(s).await;
    let (a, b) = tokio::join!(
        s.validate_case_conference(&gp, id, at),
        other.validate_case_conference(&gp, id, at)
    );
    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let loser = results.into_iter().find_map(|r| r.err()).unwrap();
    assert_eq!(loser.code(), "case_conference.validated");
    let entries: i64 = sqlx::query_scalar("select count(*) from entries where category = 'rcp'")
        .fetch_one(s.db().reader())
        .await
        .unwrap();
    assert_eq!(entries, 1, "one validation, one entry per case");
}

#[tokio::test]
async fn an_edit_racing_a_validation_is_never_lost() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let s = &f.store;
    let (gp, id, at, late) = ready(s).await;
    let (v, e) = tokio::join!(
        s.validate_case_conference(&gp, id, at),
        other.add_case_conference_participant(&gp, id, late.account_id, at)
    );
    let validated = v.unwrap();
    let view = s.case_conference_record(&gp, id, at).await.unwrap();
    let (record, hash) = (view.record, view.hash);
    assert_eq!(record.hash().unwrap(), hash);
    assert_eq!(validated.record_hash.as_deref(), Some(&*hash));
    let in_record = record
        .participants
        .iter()
        .any(|p| p.account_id == late.account_id.to_string());
    match e {
        // The invitation committed first: the record holds it.
        Ok(_) => assert!(in_record, "an accepted change is in the record"),
        // The validation committed first: the invitation was refused, not lost.
        Err(err) => {
            assert_eq!(err.code(), "case_conference.validated");
            assert!(!in_record);
        }
    }
}

/// A failure in the middle of a validation (the second case's entry cannot be
/// written) leaves nothing: no entry, no handed-over action, still planned, no hash.
#[tokio::test]
async fn a_validation_that_fails_midway_leaves_everything_as_it_was() {
    use cordee_pathway::store::Backend;
    let f = fresh_store().await;
    let s = &f.store;
    let (gp, id, at, _) = ready(s).await;
    let second = patient_by(s, &gp, "Deuxième", None, None).await;
    s.add_case_conference_case(&gp, id, second.id, "Avis ?", now())
        .await
        .unwrap();
    let trap = match s.db().backend() {
        Backend::Sqlite => format!(
            "create trigger trap before insert on entries when new.patient_id = '{}' \
             begin select raise(abort, 'trap'); end;",
            second.id
        ),
        Backend::Postgres => format!(
            "create function trap() returns trigger language plpgsql as $$ begin \
             if new.patient_id = '{}' then raise exception 'trap'; end if; return new; end $$; \
             create trigger trap before insert on entries for each row execute function trap();",
            second.id
        ),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(trap))
        .execute(s.db().writer())
        .await
        .unwrap();
    assert!(s.validate_case_conference(&gp, id, at).await.is_err());
    let c = s.case_conference(&gp, id).await.unwrap();
    assert_eq!(c.status, ConferenceStatus::Planned);
    assert_eq!(c.record_hash, None);
    let entries: i64 = sqlx::query_scalar("select count(*) from entries where category = 'rcp'")
        .fetch_one(s.db().reader())
        .await
        .unwrap();
    assert_eq!(entries, 0, "the first case's entry rolled back too");
    let notified: i64 = sqlx::query_scalar(
        "select count(*) from notifications where kind in ('case_conference.follow_up', 'case_conference.task_assigned')",
    )
    .fetch_one(s.db().reader())
    .await
    .unwrap();
    assert_eq!(notified, 0);
    let entered: i64 =
        sqlx::query_scalar("select count(*) from case_conference_cases where entry_id is not null")
            .fetch_one(s.db().reader())
            .await
            .unwrap();
    assert_eq!(entered, 0);
}
