//! The access rule's bases, through the store: the case-conference participant (a
//! basis added in one place, before any route uses it) and the jobs' leases.

use cordee_pathway::Error;
use cordee_pathway::Millis;
use cordee_pathway::access::Basis;
use cordee_pathway::file::{EntryContent, EntryFilter, EntryKind};
use cordee_pathway::ids::{AccountId, PatientId};
use cordee_pathway::policy::Category;
use cordee_pathway::store::Store;

use crate::file::patient_by;
use crate::support::{account, fresh_store, now, open};

/// A conference (raw rows: the module that writes them comes later) that discusses
/// `patient`, starts at `at`, with `participant` on it.
async fn conference(
    s: &Store,
    creator: AccountId,
    patient: PatientId,
    participant: AccountId,
    at: Millis,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "insert into case_conferences (id, kind, scheduled_at, duration_minutes, status, created_by, created_at) \
         values ($1, 'concertation', $2, 60, 'planned', $3, $2)",
    )
    .bind(&id)
    .bind(at.0)
    .bind(creator.as_text())
    .execute(s.db().writer())
    .await
    .unwrap();
    sqlx::query(
        "insert into case_conference_participants (conference_id, account_id, added_at) values ($1, $2, $3)",
    )
    .bind(&id)
    .bind(participant.as_text())
    .bind(at.0)
    .execute(s.db().writer())
    .await
    .unwrap();
    sqlx::query(
        "insert into case_conference_cases (id, conference_id, patient_id, presenter_id, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&id)
    .bind(patient.as_text())
    .bind(creator.as_text())
    .bind(at.0)
    .execute(s.db().writer())
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_conference_participant_reads_the_case_only_during_the_conference() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "Mme Bernard", Some("60"), &[]).await;
    let p = patient_by(s, &gp, "Lefèvre", None, None).await;
    s.create_entry(
        &gp,
        p.id,
        Category::Soins,
        EntryKind::Note,
        EntryContent::new("Plaie", "Pansement", vec![]).unwrap(),
        now(),
    )
    .await
    .unwrap();
    let start = now().plus_secs(3600);
    let id = conference(s, gp.account_id, p.id, nurse.account_id, start).await;

    // Before the conference starts: an outsider like any other.
    assert!(matches!(
        s.get_patient(&nurse, p.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    // During it: the identity (and, through the module, the case) — not the file.
    let during = start.plus_secs(60);
    let view = s.get_patient(&nurse, p.id, during).await.unwrap();
    assert_eq!(view.identity.birth_name, "Lefèvre");
    let filter = EntryFilter {
        limit: 50,
        ..EntryFilter::default()
    };
    assert!(matches!(
        s.list_entries(&nurse, p.id, &filter, during).await,
        Err(Error::Forbidden {
            code: "patient.reach_forbidden",
            ..
        })
    ));
    assert!(matches!(
        s.create_entry(
            &nurse,
            p.id,
            Category::Soins,
            EntryKind::Note,
            EntryContent::new("x", "y", vec![]).unwrap(),
            during,
        )
        .await,
        Err(Error::Forbidden { .. })
    ));
    // Listed among the patients she may see while it runs, with its purpose logged.
    let listed = s
        .list_patients(&nurse, None, None, 10, during)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|v| v.id).collect::<Vec<_>>(), vec![p.id]);
    s.audit_flush().await;
    let trail = s.audit_for_patient(p.id, None, 50).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|r| r.event.actor_id == Some(nurse.account_id)
                && r.event.purpose == Basis::CaseConference.purpose())
    );
    // Once validated, the window is closed.
    sqlx::query(
        "update case_conferences set status = 'validated', validated_at = $1 where id = $2",
    )
    .bind(during.0)
    .bind(&id)
    .execute(s.db().writer())
    .await
    .unwrap();
    assert!(matches!(
        s.get_patient(&nurse, p.id, during.plus_secs(60)).await,
        Err(Error::NotFound { .. })
    ));
    // A participant removed from a running conference loses it at once.
    let second = conference(s, gp.account_id, p.id, nurse.account_id, start).await;
    assert!(s.get_patient(&nurse, p.id, during).await.is_ok());
    sqlx::query("update case_conference_participants set removed_at = $1 where conference_id = $2")
        .bind(during.0)
        .bind(&second)
        .execute(s.db().writer())
        .await
        .unwrap();
    assert!(s.get_patient(&nurse, p.id, during).await.is_err());
}

#[tokio::test]
async fn two_instances_run_each_job_once() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let t = Millis(1_000_000);
    let next = t.plus_secs(60);
    let a = f.store.claim_job("demo", "a", t, next, 30_000);
    let b = other.claim_job("demo", "b", t, next, 30_000);
    let (a, b) = tokio::join!(a, b);
    let claims = [a.unwrap(), b.unwrap()];
    assert_eq!(
        claims.iter().filter(|c| c.is_some()).count(),
        1,
        "{claims:?}"
    );
    // Not due again before its next run, even once released.
    let claim = claims.into_iter().flatten().next().unwrap();
    f.store
        .finish_job(&claim, t.plus_secs(1), "ok")
        .await
        .unwrap();
    assert!(
        other
            .claim_job("demo", "b", t.plus_secs(30), next, 30_000)
            .await
            .unwrap()
            .is_none()
    );
    // Due at its next time: one instance again.
    let later = next.plus_secs(1);
    assert!(
        other
            .claim_job("demo", "b", later, later.plus_secs(60), 30_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        f.store
            .claim_job("demo", "a", later, later.plus_secs(60), 30_000)
            .await
            .unwrap()
            .is_none()
    );
    let states = f.store.job_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].last_outcome.as_deref(), Some("ok"));
}
