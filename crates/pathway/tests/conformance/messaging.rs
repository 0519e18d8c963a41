//! Messaging as a story: a patient thread follows the care team, direct and group
//! conversations list their members, sends are idempotent, edits keep history,
//! deletes leave tombstones, and the stream replays exactly what a reader missed.

use cordee_pathway::Error;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::conversation::{ConversationKind, MessageInput, Sent};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{NewConversation, NewMember};
use cordee_pathway::stream::StreamKind;

use crate::file::patient_by;
use crate::support::{account, fresh_store, now};

fn msg(client_id: &str, body: &str) -> MessageInput {
    MessageInput {
        client_id: client_id.into(),
        body: body.into(),
        attachments: vec![],
        reply_to: None,
        mentions: vec![],
        urgent: false,
    }
}

/// A group conversation of `owner` with `members`.
async fn group_of(
    s: &cordee_pathway::store::Store,
    owner: &cordee_pathway::account::Actor,
    title: &str,
    members: &[&cordee_pathway::account::Actor],
) -> cordee_pathway::conversation::Conversation {
    s.create_conversation(
        owner,
        NewConversation {
            kind: ConversationKind::Group,
            patient_id: None,
            category: None,
            title: Some(title.into()),
            member_ids: members.iter().map(|m| m.account_id).collect(),
        },
        now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn story_messaging() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "Mme Bernard", Some("60"), &[]).await;
    let psy = account(s, "Mme Psy", Some("93"), &[]).await;
    let outsider = account(s, "Dr Dubois", Some("10"), &[]).await;
    let p = patient_by(s, &gp, "Durand", None, Some(TeamRole::MedecinTraitant)).await;
    let nurse_member = s
        .add_member(
            &gp,
            p.id,
            NewMember {
                account_id: nurse.account_id,
                role: TeamRole::Infirmier,
                reason: "soins".into(),
                end_at: None,
            },
            now(),
        )
        .await
        .unwrap();
    s.add_member(
        &gp,
        p.id,
        NewMember {
            account_id: psy.account_id,
            role: TeamRole::Psychologue,
            reason: "suivi".into(),
            end_at: None,
        },
        now(),
    )
    .await
    .unwrap();

    let head = s.stream_head().await.unwrap();
    let thread = s
        .create_conversation(
            &nurse,
            NewConversation {
                kind: ConversationKind::Patient,
                patient_id: Some(p.id),
                category: Some(Category::Soins),
                title: Some("Plaie".into()),
                member_ids: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(thread.title.as_deref(), Some("Plaie"));
    // Members: the team filtered by the matrix (a psychologue does not read soins).
    let mut recipients = s.audience(thread.id, now()).await.unwrap().members;
    recipients.sort();
    let mut expected = vec![gp.account_id, nurse.account_id];
    expected.sort();
    assert_eq!(recipients, expected);
    assert!(matches!(
        s.conversation_for(&psy, thread.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.conversation_for(&outsider, thread.id, now()).await,
        Err(Error::NotFound { .. })
    ));

    // Sends: ordered, idempotent on client_id.
    let first = s
        .send_message(&nurse, &thread, msg("n-1", "Pansement fait"), now())
        .await
        .unwrap();
    let again = s
        .send_message(&nurse, &thread, msg("n-1", "Pansement fait"), now())
        .await
        .unwrap();
    assert!(matches!(first, Sent::Created(_)));
    assert!(matches!(again, Sent::Existing(ref m) if m.id == first.message().id));
    let second = s
        .send_message(&gp, &thread, msg("g-1", "Merci, je passe demain"), now())
        .await
        .unwrap();
    assert_eq!((first.message().seq, second.message().seq), (1, 2));
    let (list, more) = s
        .list_messages(&gp, &thread, None, None, 50, now())
        .await
        .unwrap();
    assert!(!more);
    assert_eq!(
        list.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["Pansement fait", "Merci, je passe demain"]
    );

    // Edit keeps history; delete leaves a tombstone; only the sender may.
    assert!(matches!(
        s.edit_message(&gp, &thread, first.message().id, "x", 1000, now())
            .await,
        Err(Error::Forbidden { .. })
    ));
    let edited = s
        .edit_message(
            &nurse,
            &thread,
            first.message().id,
            "Pansement fait, RAS",
            1000,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    let history = s
        .message_history(&nurse, &thread, first.message().id, None, 50, now())
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(),
        vec!["Pansement fait"]
    );
    let deleted = s
        .delete_message(&gp, &thread, second.message().id, now())
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some() && deleted.body.is_empty());

    // Read receipts and unread counts.
    let gp_view = s.conversation_for(&gp, thread.id, now()).await.unwrap();
    assert_eq!(gp_view.unread, 2);
    s.mark_read(&gp, &thread, second.message().id, now())
        .await
        .unwrap();
    assert_eq!(
        s.conversation_for(&gp, thread.id, now())
            .await
            .unwrap()
            .unread,
        0
    );

    // The stream replays, in order, what the nurse missed since `head`.
    let events = s.stream_since(&nurse, head, 100, now()).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        vec![
            "message.created",
            "message.created",
            "message.updated",
            "message.deleted",
            "receipt"
        ]
    );
    assert!(events.windows(2).all(|w| w[0].cursor < w[1].cursor));
    assert!(
        s.stream_since(&psy, head, 100, now())
            .await
            .unwrap()
            .is_empty(),
        "not a member, nothing streamed"
    );

    // Leaving the team leaves the thread at once.
    s.remove_member(&nurse, p.id, nurse_member, now())
        .await
        .unwrap();
    assert!(
        !s.audience(thread.id, now())
            .await
            .unwrap()
            .members
            .contains(&nurse.account_id)
    );
    assert!(matches!(
        s.conversation_for(&nurse, thread.id, now()).await,
        Err(Error::NotFound { .. })
    ));

    // Direct: one per pair; group: admins manage members.
    let direct = s
        .create_conversation(
            &gp,
            NewConversation {
                kind: ConversationKind::Direct,
                patient_id: None,
                category: None,
                title: None,
                member_ids: vec![outsider.account_id],
            },
            now(),
        )
        .await
        .unwrap();
    let direct_again = s
        .create_conversation(
            &outsider,
            NewConversation {
                kind: ConversationKind::Direct,
                patient_id: None,
                category: None,
                title: None,
                member_ids: vec![gp.account_id],
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(direct.id, direct_again.id);
    s.send_message(
        &outsider,
        &direct_again,
        msg("o-1", "Bonjour confrère"),
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.conversation_for(&nurse, direct.id, now()).await,
        Err(Error::NotFound { .. })
    ));
    let group = group_of(s, &gp, "CPTS", &[&nurse]).await;
    assert!(group.admin);
    let nurse_group = s.conversation_for(&nurse, group.id, now()).await.unwrap();
    assert!(!nurse_group.admin);
    assert!(matches!(
        s.add_group_members(&nurse, group.id, vec![psy.account_id], now())
            .await,
        Err(Error::Forbidden { .. })
    ));
    s.add_group_members(&gp, group.id, vec![psy.account_id], now())
        .await
        .unwrap();
    assert!(s.conversation_for(&psy, group.id, now()).await.is_ok());
    s.remove_group_member(&psy, group.id, psy.account_id, now())
        .await
        .unwrap();
    assert!(s.conversation_for(&psy, group.id, now()).await.is_err());
}

#[tokio::test]
async fn concurrent_senders_keep_one_order_per_conversation() {
    let f = fresh_store().await;
    let s = &f.store;
    let a = account(s, "A", Some("10"), &[]).await;
    let b = account(s, "B", Some("60"), &[]).await;
    let group = group_of(s, &a, "g", &[&b]).await;
    let head = s.stream_head().await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..20 {
        let (s, actor, conv) = (
            s.clone(),
            if t % 2 == 0 { a.clone() } else { b.clone() },
            group.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                s.send_message(
                    &actor,
                    &conv,
                    msg(&format!("{t}-{n}"), &format!("{t}-{n}")),
                    now(),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (messages, _) = s
        .list_messages(&a, &group, None, None, 200, now())
        .await
        .unwrap();
    assert_eq!(messages.len(), 200);
    assert_eq!(
        messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<i64>>()
    );
    let events = s.stream_since(&b, head, 1000, now()).await.unwrap();
    assert_eq!(events.len(), 200);
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| match &e.kind {
            StreamKind::MessageCreated(m) => m.seq,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<i64>>(),
        "cursor order is sequence order"
    );
}

/// Live delivery keeps a device's cursor and drops what is older. Transactions commit
/// in cursor order but may publish out of it (two tasks woken in another order), so
/// the contract is: every event is published once, after its commit, and when one
/// arrives ahead of an earlier cursor, that earlier event is already committed and
/// can be read from the log — which is what the fan-out does. Checked here the way
/// the fan-out reads, while sends (the group-commit writer), receipts and edits
/// commit from different tasks at once.
#[tokio::test]
async fn every_event_is_published_and_gaps_are_already_in_the_log() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "Mme Bernard", Some("60"), &[]).await;
    let group = group_of(s, &gp, "Tournée", &[&nurse]).await;
    let first = s
        .send_message(&gp, &group, msg("seed", "début"), now())
        .await
        .unwrap();
    let mut live = s.stream();
    let reader = s.clone();
    let start = first_cursor(s).await;
    let consumer = tokio::spawn(async move {
        let mut delivered = start;
        let mut in_order = Vec::new();
        while in_order.len() < 4 * 60 + 2 * 60 + 60 {
            let event = live.recv().await.unwrap();
            if event.cursor > delivered + 1 {
                // Arrived ahead: the events in between must already be in the log.
                let gap = reader
                    .stream_between(delivered, event.cursor - 1, 1000)
                    .await
                    .unwrap();
                assert_eq!(
                    gap.iter().map(|e| e.cursor).collect::<Vec<_>>(),
                    (delivered + 1..event.cursor).collect::<Vec<_>>(),
                    "a skipped cursor was not committed when a later one was published"
                );
                in_order.extend(gap.iter().map(|e| e.cursor));
                delivered = event.cursor - 1;
            }
            if event.cursor > delivered {
                in_order.push(event.cursor);
                delivered = event.cursor;
            }
        }
        in_order
    });
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (s, gp, group) = (s.clone(), gp.clone(), group.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..60 {
                s.send_message(&gp, &group, msg(&format!("{t}-{i}"), "suite"), now())
                    .await
                    .unwrap();
            }
        }));
    }
    for _ in 0..2 {
        let (s, nurse, group, up_to) =
            (s.clone(), nurse.clone(), group.clone(), first.message().id);
        tasks.push(tokio::spawn(async move {
            for _ in 0..60 {
                s.mark_read(&nurse, &group, up_to, now()).await.unwrap();
            }
        }));
    }
    {
        let (s, gp, group, id) = (s.clone(), gp.clone(), group.clone(), first.message().id);
        tasks.push(tokio::spawn(async move {
            for i in 0..60 {
                s.edit_message(&gp, &group, id, &format!("début {i}"), 4096, now())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let cursors = consumer.await.unwrap();
    assert_eq!(
        cursors,
        (start + 1..=start + 4 * 60 + 2 * 60 + 60).collect::<Vec<_>>(),
        "every event delivered once, in cursor order"
    );
}

async fn first_cursor(s: &cordee_pathway::store::Store) -> i64 {
    s.stream_head().await.unwrap()
}
