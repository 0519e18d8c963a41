//! The audit chain: appends from many tasks and two store instances never fork it;
//! every kind of tampering is found.

use cordee_pathway::Millis;
use cordee_pathway::audit::{Action, AuditEvent, AuditVerdict, Outcome, Purpose};
use cordee_pathway::ids::{AccountId, PatientId};

use crate::support::{drop_audit_guards, fresh_store, intrude, open};

fn read_event(actor: AccountId, patient: PatientId, n: i64) -> AuditEvent {
    AuditEvent::new(
        Millis(1_700_000_000_000 + n),
        Some(actor),
        Action::EntryRead,
        Purpose::Care,
        Outcome::Allowed,
    )
    .patient(patient)
    .resource("entry", format!("e{n}"))
}

#[tokio::test]
async fn story_append_query_verify() {
    let f = fresh_store().await;
    let store = &f.store;
    let (alice, bob) = (AccountId::new(), AccountId::new());
    let (p1, p2) = (PatientId::new(), PatientId::new());
    assert_eq!(
        store.verify_audit().await.unwrap(),
        AuditVerdict::Intact {
            records: 0,
            checkpoints: 0,
            head_seq: 0
        }
    );

    let s1 = store.audit(read_event(alice, p1, 1)).await.unwrap();
    let s2 = store.audit(read_event(bob, p1, 2)).await.unwrap();
    let s3 = store
        .audit(
            AuditEvent::new(
                Millis(3),
                Some(alice),
                Action::EntryRead,
                Purpose::BreakGlass,
                Outcome::Denied,
            )
            .patient(p2),
        )
        .await
        .unwrap();
    assert_eq!((s1, s2, s3), (1, 2, 3));

    let for_p1 = store.audit_for_patient(p1, None, 10).await.unwrap();
    assert_eq!(
        for_p1.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![2, 1],
        "newest first"
    );
    assert_eq!(for_p1[0].event, read_event(bob, p1, 2));
    let page = store.audit_for_patient(p1, Some(2), 10).await.unwrap();
    assert_eq!(page.len(), 1);
    let by_alice = store.audit_by_actor(alice, None, 10).await.unwrap();
    assert_eq!(by_alice.len(), 2);
    assert_eq!(by_alice[0].event.purpose, Purpose::BreakGlass);
    assert_eq!(by_alice[0].event.outcome, Outcome::Denied);

    store.audit_flush().await;
    match store.verify_audit().await.unwrap() {
        AuditVerdict::Intact {
            records: 3,
            head_seq: 3,
            checkpoints,
        } => assert!(checkpoints >= 1),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let f = fresh_store().await;
    f.store
        .audit(read_event(AccountId::new(), PatientId::new(), 1))
        .await
        .unwrap();
    let upd = sqlx::query("update audit_log set action = 'x'")
        .execute(f.store.db().writer())
        .await;
    assert!(upd.is_err(), "update must be refused");
    let del = sqlx::query("delete from audit_log")
        .execute(f.store.db().writer())
        .await;
    assert!(del.is_err(), "delete must be refused");
}

#[tokio::test]
async fn concurrent_appends_from_two_instances_never_fork() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let patient = PatientId::new();
    let mut tasks = Vec::new();
    for t in 0..40 {
        let store = if t % 2 == 0 {
            f.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let actor = AccountId::new();
            for n in 0..10 {
                store
                    .audit(read_event(actor, patient, t * 100 + n))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    f.store.audit_flush().await;
    other.audit_flush().await;
    match f.store.verify_audit().await.unwrap() {
        AuditVerdict::Intact {
            records, head_seq, ..
        } => {
            assert_eq!(records, 400);
            assert_eq!(head_seq, 400);
        }
        broken => panic!("{broken:?}"),
    }
}

/// Each instance's writer remembers the head it last wrote; when the other instance
/// has appended since, the remembered head is stale and must not be chained onto.
#[tokio::test]
async fn alternating_instances_rechain_onto_each_others_records() {
    let f = fresh_store().await;
    let other = open(&f.db.url, &f.key_text).await;
    let (actor, patient) = (AccountId::new(), PatientId::new());
    for n in 0..12 {
        let store = if n % 3 == 0 { &other } else { &f.store };
        let seq = store.audit(read_event(actor, patient, n)).await.unwrap();
        assert_eq!(seq, n + 1, "record {n} was not appended at the head");
    }
    f.store.audit_flush().await;
    other.audit_flush().await;
    match f.store.verify_audit().await.unwrap() {
        AuditVerdict::Intact {
            records, head_seq, ..
        } => assert_eq!((records, head_seq), (12, 12)),
        broken => panic!("{broken:?}"),
    }
}

async fn chain_of(n: i64) -> crate::support::Fixture {
    let f = fresh_store().await;
    let (actor, patient) = (AccountId::new(), PatientId::new());
    for i in 1..=n {
        f.store.audit(read_event(actor, patient, i)).await.unwrap();
    }
    f.store.audit_flush().await;
    drop_audit_guards(&f.store).await;
    f
}

fn broken_at(verdict: AuditVerdict) -> i64 {
    match verdict {
        AuditVerdict::Broken { seq, .. } => seq,
        intact => panic!("tampering not detected: {intact:?}"),
    }
}

#[tokio::test]
async fn editing_a_field_is_detected() {
    let f = chain_of(10).await;
    intrude(
        &f.store,
        "update audit_log set outcome = 'denied' where seq = 4",
    )
    .await;
    assert_eq!(broken_at(f.store.verify_audit().await.unwrap()), 4);
}

#[tokio::test]
async fn deleting_a_row_is_detected() {
    let f = chain_of(10).await;
    intrude(&f.store, "delete from audit_log where seq = 6").await;
    assert_eq!(broken_at(f.store.verify_audit().await.unwrap()), 7);
}

#[tokio::test]
async fn reordering_rows_is_detected() {
    let f = chain_of(10).await;
    intrude(
        &f.store,
        "update audit_log set seq = -3 where seq = 3; update audit_log set seq = 3 where seq = 5; update audit_log set seq = 5 where seq = -3;",
    )
    .await;
    assert_eq!(broken_at(f.store.verify_audit().await.unwrap()), 3);
}

#[tokio::test]
async fn truncating_the_tail_is_detected() {
    let f = chain_of(10).await;
    intrude(&f.store, "delete from audit_log where seq > 7").await;
    match f.store.verify_audit().await.unwrap() {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 8);
            assert!(reason.contains("removed from the end"), "{reason}");
        }
        intact => panic!("truncation not detected: {intact:?}"),
    }
}

#[tokio::test]
async fn a_forged_checkpoint_is_detected() {
    let f = chain_of(5).await;
    intrude(&f.store, "update audit_checkpoints set seq = seq + 1").await;
    assert!(matches!(
        f.store.verify_audit().await.unwrap(),
        AuditVerdict::Broken { .. }
    ));
}
