//! Pathways, care plans and tasks, as a story: a coordinator writes a pathway, a GP
//! opens the patient's plan from it, the tasks land on the right professionals,
//! each sees what the matrix lets them see, two changes at once never lose one,
//! reviews and versions are kept, leaving the team hands tasks back, the review job
//! tells the referent once.

use cordee_pathway::Error;
use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::calendar::Day;
use cordee_pathway::care_plan::{
    Achievement, Objective, Outcome, PlanChange, PlanContentInput, PlanStatus, Problem,
    ReviewContent,
};
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::file::EntryFilter;
use cordee_pathway::ids::{AccountId, PatientId};
use cordee_pathway::policy::Category;
use cordee_pathway::protocol::{ProtocolContent, StepInput};
use cordee_pathway::store::{NewMember, NewPlan, Store};
use cordee_pathway::stream::{AccountEvent, StreamKind, Topic};
use cordee_pathway::task::{NewTask, TaskChange, TaskContent, TaskStatus, TodoFilter};

use crate::file::patient_by;
use crate::support::{account, fresh_store, now};

fn step(title: &str, category: &str, code: Option<&str>, offset: i64) -> StepInput {
    StepInput {
        title: title.into(),
        category: category.into(),
        profession_code: code.map(Into::into),
        offset_days: offset,
    }
}

fn code(r: Result<impl std::fmt::Debug, Error>) -> &'static str {
    r.expect_err("should be refused").code()
}

fn content(title: &str) -> PlanContentInput {
    PlanContentInput {
        title: title.into(),
        problems: vec![
            Problem {
                label: "Plaie du talon".into(),
                priority: 1,
                patient_priority: false,
            },
            Problem {
                label: "Rester à domicile".into(),
                priority: 2,
                patient_priority: true,
            },
        ],
        preferences: "Passages le matin".into(),
        objectives: vec![Objective {
            label: "Cicatrisation".into(),
            criteria: "Plaie fermée à 8 semaines".into(),
        }],
        alert_plan: "Appeler sa fille au 06…".into(),
    }
}

fn today() -> Day {
    Day::today_in_paris(now())
}

async fn member(s: &Store, by: &Actor, patient: PatientId, who: &Actor, role: TeamRole) {
    s.add_member(
        by,
        patient,
        NewMember {
            account_id: who.account_id,
            role,
            reason: "suivi du retour à domicile".into(),
            end_at: None,
        },
        now(),
    )
    .await
    .unwrap();
}

fn task(title: &str, category: Category, assignee: Option<AccountId>, due: Day) -> NewTask {
    NewTask {
        content: TaskContent::new(title, "").unwrap(),
        category,
        assignee_id: assignee,
        due_on: due,
    }
}

fn open_todo() -> TodoFilter {
    TodoFilter {
        statuses: TaskStatus::OPEN.to_vec(),
        due_before: None,
        after: None,
        limit: 50,
    }
}

async fn account_events(s: &Store, to: AccountId, name: AccountEvent) -> usize {
    let events = s.stream_between(0, i64::MAX, 100_000).await.unwrap();
    events
        .iter()
        .filter(|e| e.topic == Topic::Account(to))
        .filter(|e| matches!(&e.kind, StreamKind::Account { name: n, .. } if *n == name))
        .count()
}

#[tokio::test]
async fn a_care_plan_from_a_pathway_to_its_review() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Coordinatrice", None, &[CptsRole::Coordinator]).await;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "IDE Bernard", Some("60"), &[]).await;
    let pharma = account(s, "Pharmacien Petit", Some("21"), &[]).await;
    let psy = account(s, "Psychologue", Some("93"), &[]).await;
    let outsider = account(s, "Dr Dehors", Some("10"), &[]).await;

    // The pathway: coordinators write it, versions are kept.
    let steps = vec![
        step("Consultation de suivi", "medical", Some("10"), 7),
        step("Visite infirmière", "soins", Some("60"), 1),
        step("Bilan de médication", "traitements", Some("21"), 2),
        step("Évaluation des aides", "social", None, 3),
    ];
    let protocol =
        ProtocolContent::new("Retour à domicile après hospitalisation", "", &steps).unwrap();
    assert_eq!(
        code(s.create_pathway(&gp, protocol.clone(), now()).await),
        "pathway.coordinators_only"
    );
    let p = s
        .create_pathway(&coord, protocol.clone(), now())
        .await
        .unwrap();
    let p2 = s
        .update_pathway(&coord, p.id, protocol, now())
        .await
        .unwrap();
    assert_eq!(p2.version, 2);
    assert_eq!(s.pathway(p.id, Some(1)).await.unwrap().version, 1);
    assert_eq!(s.pathways(None, 10).await.unwrap().len(), 1);

    // The team.
    let patient = patient_by(s, &gp, "Durand", None, Some(TeamRole::MedecinTraitant))
        .await
        .id;
    member(s, &gp, patient, &nurse, TeamRole::Infirmier).await;
    member(s, &gp, patient, &pharma, TeamRole::Pharmacien).await;
    member(s, &gp, patient, &coord, TeamRole::Coordinateur).await;
    member(s, &gp, patient, &psy, TeamRole::Psychologue).await;

    // Bad input: nothing written.
    let bad = NewPlan {
        content: content("PPS"),
        pathway_id: Some(cordee_pathway::ids::PathwayId::new()),
        ..NewPlan::default()
    };
    assert_eq!(
        code(s.create_care_plan(&gp, patient, bad, now()).await),
        "care_plan.unknown_pathway"
    );
    let bad = NewPlan {
        content: content("PPS"),
        review_on: Some(today()),
        ..NewPlan::default()
    };
    assert_eq!(
        code(s.create_care_plan(&gp, patient, bad, now()).await),
        "care_plan.review_in_past"
    );
    let bad = NewPlan {
        content: content("PPS"),
        coordinator_id: Some(outsider.account_id),
        ..NewPlan::default()
    };
    assert_eq!(
        code(s.create_care_plan(&gp, patient, bad, now()).await),
        "care_plan.referent_not_in_team"
    );
    let new = NewPlan {
        content: content("PPS"),
        ..NewPlan::default()
    };
    assert_eq!(
        code(s.create_care_plan(&outsider, patient, new, now()).await),
        "patient.not_found"
    );
    assert!(
        s.care_plans(&gp, patient, None, 10, now())
            .await
            .unwrap()
            .is_empty()
    );

    // Opened from the pathway: each step a dated task, proposed to the one
    // professional of the expected profession.
    let new = NewPlan {
        content: content("PPS retour à domicile"),
        pathway_id: Some(p.id),
        ..NewPlan::default()
    };
    let (plan, tasks) = s
        .create_care_plan(&gp, patient, new.clone(), now())
        .await
        .unwrap();
    assert_eq!(plan.pathway_version, Some(2));
    assert_eq!(plan.coordinator_id, gp.account_id);
    assert_eq!(
        plan.content.problems[0].label, "Rester à domicile",
        "the patient's priority first"
    );
    assert_eq!(tasks.len(), 4);
    let by_title = |t: &str| tasks.iter().find(|x| x.content.title == t).unwrap().clone();
    let visit = by_title("Visite infirmière");
    assert_eq!(visit.assignee_id, Some(nurse.account_id));
    assert_eq!(visit.due_on, today().plus_days(1));
    assert_eq!(
        by_title("Bilan de médication").assignee_id,
        Some(pharma.account_id)
    );
    assert_eq!(
        by_title("Consultation de suivi").assignee_id,
        Some(gp.account_id)
    );
    assert_eq!(by_title("Évaluation des aides").assignee_id, None);
    assert_eq!(
        account_events(s, nurse.account_id, AccountEvent::TaskAssigned).await,
        1
    );
    // A second active plan of the same pathway.
    assert_eq!(
        code(
            s.create_care_plan(&nurse, patient, new.clone(), now())
                .await
        ),
        "care_plan.active_exists"
    );

    // The matrix by category: the coordinator (staff) does not see the medical,
    // care and treatment tasks; they do not exist for her.
    let seen: Vec<String> = s
        .plan_tasks(&coord, patient, plan.id, None, 50, now())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.content.title)
        .collect();
    assert_eq!(seen, ["Évaluation des aides"]);
    assert_eq!(
        code(s.task(&coord, visit.id, now()).await),
        "task.not_found"
    );
    assert_eq!(
        code(s.task(&outsider, visit.id, now()).await),
        "task.not_found"
    );
    assert_eq!(
        s.plan_tasks(&gp, patient, plan.id, None, 50, now())
            .await
            .unwrap()
            .len(),
        4
    );

    // Tasks by hand: each bad input its code.
    let due = today().plus_days(3);
    let cases = [
        (
            task("Pansement", Category::Soins, Some(AccountId::new()), due),
            "task.unknown_assignee",
        ),
        (
            task("Pansement", Category::Soins, Some(outsider.account_id), due),
            "task.assignee_not_in_team",
        ),
        (
            task("Lettre", Category::Medical, Some(psy.account_id), due),
            "task.category_not_for_assignee",
        ),
        (
            task(
                "Pansement",
                Category::Soins,
                Some(nurse.account_id),
                today().plus_days(-1),
            ),
            "task.due_in_past",
        ),
    ];
    for (t, expected) in cases {
        assert_eq!(
            code(s.create_task(&gp, patient, plan.id, t, now()).await),
            expected
        );
    }
    assert_eq!(
        s.plan_tasks(&gp, patient, plan.id, None, 50, now())
            .await
            .unwrap()
            .len(),
        4
    );

    // The nurse's to-do list; two changes on one version: one wins, one gets 409.
    let todo = s.todo(&nurse, &open_todo(), now()).await.unwrap();
    assert_eq!(todo.iter().map(|t| t.id).collect::<Vec<_>>(), [visit.id]);
    let accept = TaskChange {
        status: Some(TaskStatus::Accepted),
        version: 1,
        ..TaskChange::default()
    };
    let start = TaskChange {
        status: Some(TaskStatus::InProgress),
        version: 1,
        ..TaskChange::default()
    };
    let (a, b) = tokio::join!(
        s.update_task(&nurse, visit.id, accept, now()),
        s.update_task(&nurse, visit.id, start, now())
    );
    let codes: Vec<&str> = [&a, &b]
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.code()))
        .collect();
    assert_eq!(codes, ["task.version_conflict"], "{a:?} {b:?}");
    let current = s.task(&nurse, visit.id, now()).await.unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(
        account_events(s, gp.account_id, AccountEvent::TaskUpdated).await,
        1,
        "the referent is told"
    );
    // The referent may not complete the nurse's task; the nurse does, and the file says so.
    let done = |v| TaskChange {
        status: Some(TaskStatus::Done),
        note: Some("Plaie propre, pansement refait".into()),
        version: v,
        ..TaskChange::default()
    };
    assert_eq!(
        code(s.update_task(&gp, visit.id, done(2), now()).await),
        "task.not_yours"
    );
    let finished = s
        .update_task(&nurse, visit.id, done(2), now())
        .await
        .unwrap();
    assert_eq!(finished.status, TaskStatus::Done);
    assert_eq!(
        code(s.update_task(&nurse, visit.id, done(3), now()).await),
        "task.finished"
    );
    let entries = s
        .list_entries(
            &gp,
            patient,
            &EntryFilter {
                limit: 50,
                ..EntryFilter::default()
            },
            now(),
        )
        .await
        .unwrap();
    assert!(
        entries
            .items
            .iter()
            .any(|e| e.title == "Tâche réalisée : Visite infirmière"
                && e.category == Category::Soins)
    );

    // Declining needs a reason; the referent reassigns.
    let med = by_title("Bilan de médication");
    let decline = |note: Option<&str>| TaskChange {
        status: Some(TaskStatus::Declined),
        note: note.map(Into::into),
        version: 1,
        ..TaskChange::default()
    };
    assert_eq!(
        code(s.update_task(&pharma, med.id, decline(None), now()).await),
        "task.reason_required"
    );
    let declined = s
        .update_task(
            &pharma,
            med.id,
            decline(Some("Absent cette semaine")),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(declined.note.as_deref(), Some("Absent cette semaine"));
    let reassign = TaskChange {
        assignee_id: Some(Some(gp.account_id)),
        version: 2,
        ..TaskChange::default()
    };
    assert_eq!(
        code(
            s.update_task(&pharma, med.id, reassign.clone(), now())
                .await
        ),
        "task.not_yours"
    );
    let back = s.update_task(&gp, med.id, reassign, now()).await.unwrap();
    assert_eq!(
        (back.status, back.assignee_id),
        (TaskStatus::Proposed, Some(gp.account_id))
    );

    // Plan changes keep versions; a stale version gets 409.
    let change = |v| PlanChange {
        status: Some(PlanStatus::Suspended),
        version: v,
        ..PlanChange::default()
    };
    let suspended = s
        .update_care_plan(&nurse, patient, plan.id, change(1), now())
        .await
        .unwrap();
    assert_eq!(suspended.version, 2);
    assert_eq!(
        code(
            s.update_care_plan(&gp, patient, plan.id, change(1), now())
                .await
        ),
        "care_plan.version_conflict"
    );
    // Another active plan of the pathway now; reactivating the first is refused.
    let (second, _) = s
        .create_care_plan(&gp, patient, new.clone(), now())
        .await
        .unwrap();
    let reactivate = PlanChange {
        status: Some(PlanStatus::Active),
        version: 2,
        ..PlanChange::default()
    };
    assert_eq!(
        code(
            s.update_care_plan(&gp, patient, plan.id, reactivate, now())
                .await
        ),
        "care_plan.active_exists"
    );

    // A review records outcomes and sets the next date; a closed plan is not reviewed.
    let review = ReviewContent::new(
        "Plaie en voie de cicatrisation",
        vec![Outcome {
            objective: "Cicatrisation".into(),
            achievement: Achievement::Partial,
            comment: String::new(),
        }],
    )
    .unwrap();
    let next = today().plus_days(60);
    s.review_care_plan(&gp, patient, plan.id, review.clone(), next, now())
        .await
        .unwrap();
    let (read, reviews) = s.care_plan(&nurse, patient, plan.id, now()).await.unwrap();
    assert_eq!((read.review_on, read.version, reviews.len()), (next, 3, 1));
    let versions = s
        .care_plan_versions(&gp, patient, plan.id, now())
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(versions[2].status, PlanStatus::Active);
    let close = PlanChange {
        status: Some(PlanStatus::Closed),
        version: 3,
        ..PlanChange::default()
    };
    s.update_care_plan(&gp, patient, plan.id, close, now())
        .await
        .unwrap();
    assert_eq!(
        code(
            s.review_care_plan(&gp, patient, plan.id, review, next, now())
                .await
        ),
        "care_plan.closed"
    );

    // Leaving the team hands the leaver's open tasks back to the referent.
    let t = s
        .create_task(
            &gp,
            patient,
            second.id,
            task(
                "Surveillance tension",
                Category::Soins,
                Some(nurse.account_id),
                due,
            ),
            now(),
        )
        .await
        .unwrap();
    let before = account_events(s, gp.account_id, AccountEvent::TaskUpdated).await;
    let members = s.care_team(&gp, patient, None, 50, now()).await.unwrap();
    let nurse_member = members
        .iter()
        .find(|m| m.account_id == nurse.account_id)
        .unwrap()
        .id;
    s.remove_member(&gp, patient, nurse_member, now())
        .await
        .unwrap();
    let after = s.task(&gp, t.id, now()).await.unwrap();
    assert_eq!(
        (after.assignee_id, after.status),
        (None, TaskStatus::Proposed)
    );
    assert!(account_events(s, gp.account_id, AccountEvent::TaskUpdated).await > before);
    assert!(
        s.todo(&nurse, &open_todo(), now())
            .await
            .unwrap()
            .is_empty()
    );

    // The review job tells the referent once when the date has passed.
    let later = now().plus_secs(100 * 86_400);
    assert_eq!(s.notify_due_reviews(now(), 100).await.unwrap(), 0);
    assert_eq!(s.notify_due_reviews(later, 100).await.unwrap(), 1);
    assert_eq!(
        s.notify_due_reviews(later.plus_secs(86_400), 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        account_events(s, gp.account_id, AccountEvent::CarePlanReviewDue).await,
        1
    );
}

#[tokio::test]
async fn case_conferences_add_tasks_to_the_active_plan_or_open_one() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "IDE Bernard", Some("60"), &[]).await;
    let patient = patient_by(s, &gp, "Lefèvre", None, Some(TeamRole::MedecinTraitant))
        .await
        .id;
    member(s, &gp, patient, &nurse, TeamRole::Infirmier).await;
    let t = task(
        "Surveillance glycémie",
        Category::Soins,
        Some(nurse.account_id),
        today().plus_days(2),
    );
    let (plan, added) = s
        .add_tasks_to_active_plan_for_tests(patient, gp.account_id, std::slice::from_ref(&t), now())
        .await
        .unwrap();
    assert_eq!(
        added[0].source,
        cordee_pathway::task::TaskSource::CaseConference
    );
    let (again, _) = s
        .add_tasks_to_active_plan_for_tests(patient, gp.account_id, &[t], now())
        .await
        .unwrap();
    assert_eq!(plan, again, "the active plan takes them");
    assert_eq!(s.todo(&nurse, &open_todo(), now()).await.unwrap().len(), 2);
    assert_eq!(
        s.care_plans(&nurse, patient, None, 10, now())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn two_plans_opened_at_once_for_one_pathway_leave_one_active() {
    let f = fresh_store().await;
    let s = &f.store;
    let coord = account(s, "Coordinatrice", None, &[CptsRole::Coordinator]).await;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "IDE Bernard", Some("60"), &[]).await;
    let protocol = ProtocolContent::new(
        "Plaie chronique",
        "",
        &[step("Pansement", "soins", Some("60"), 0)],
    )
    .unwrap();
    let p = s.create_pathway(&coord, protocol, now()).await.unwrap();
    let patient = patient_by(s, &gp, "Moreau", None, Some(TeamRole::MedecinTraitant))
        .await
        .id;
    member(s, &gp, patient, &nurse, TeamRole::Infirmier).await;
    let new = NewPlan {
        content: content("PPS plaie"),
        pathway_id: Some(p.id),
        ..NewPlan::default()
    };
    let (a, b) = tokio::join!(
        s.create_care_plan(&gp, patient, new.clone(), now()),
        s.create_care_plan(&nurse, patient, new.clone(), now())
    );
    let codes: Vec<&str> = [a.as_ref().err(), b.as_ref().err()]
        .into_iter()
        .flatten()
        .map(|e| e.code())
        .collect();
    assert_eq!(codes, ["care_plan.active_exists"], "{a:?} {b:?}");
    assert_eq!(
        s.care_plans(&gp, patient, None, 10, now())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn erasure_takes_the_plans_with_the_patients_key() {
    let f = fresh_store().await;
    let s = &f.store;
    let admin = account(s, "Admin", None, &[CptsRole::Admin]).await;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let patient = patient_by(s, &gp, "Petit", None, Some(TeamRole::MedecinTraitant))
        .await
        .id;
    let new = NewPlan {
        content: content("PPS"),
        ..NewPlan::default()
    };
    let (plan, _) = s.create_care_plan(&gp, patient, new, now()).await.unwrap();
    s.erase_patient(&admin, patient, now()).await.unwrap();
    assert_eq!(
        code(s.care_plan(&gp, patient, plan.id, now()).await),
        "patient.erased"
    );
    // The sealed words stay in the table, unreadable without the destroyed key.
    let sealed: i64 =
        sqlx::query_scalar("select count(*) from care_plan_versions where plan_id = $1")
            .bind(plan.id.as_text())
            .fetch_one(s.db().reader())
            .await
            .unwrap();
    assert_eq!(sealed, 1);
}
