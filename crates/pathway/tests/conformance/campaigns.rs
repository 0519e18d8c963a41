//! Story of a prevention campaign: a coordinator launches it, a pharmacist joins for
//! their officine and records the day's counts, corrects one (history kept), a
//! coordinator enrols a cabinet and broadcasts, the cabinet leaves (its counts stay),
//! and the indicators add up. Then concurrent corrections, none lost.

use std::collections::BTreeMap;

use cordee_pathway::Error;
use cordee_pathway::account::{Actor, CptsRole};
use cordee_pathway::campaign::{ActionInput, ActionKind, CampaignInput, format_day, paris_day};
use cordee_pathway::conversation::MessageInput;
use cordee_pathway::ids::{CampaignId, OrganisationId};
use cordee_pathway::organisation::{OrganisationInput, OrganisationKind};
use cordee_pathway::store::{ActionQuery, Store};

use crate::support::{account, fresh_store, now};

fn day(offset: i64) -> String {
    format_day(paris_day(now()) + time::Duration::days(offset))
}

fn flu() -> CampaignInput {
    CampaignInput {
        theme: "grippe".into(),
        title: "Vaccination antigrippale".into(),
        description: "Campagne de la CPTS".into(),
        starts_on: day(-20),
        ends_on: day(40),
        action_kinds: vec![
            ActionKind {
                code: "doses".into(),
                label: "Doses administrées".into(),
            },
            ActionKind {
                code: "plus_65".into(),
                label: "Personnes de 65 ans et plus".into(),
            },
        ],
        targets: BTreeMap::from([("doses".to_string(), 200), ("plus_65".to_string(), 100)]),
    }
}

async fn organisation(
    store: &Store,
    coordinator: &Actor,
    kind: &str,
    name: &str,
) -> OrganisationId {
    let input = OrganisationInput::parse(kind, name, None, None, None).unwrap();
    store
        .create_organisation(coordinator, input, now())
        .await
        .unwrap()
        .id
}

async fn add_member(store: &Store, org: OrganisationId, who: &Actor) {
    sqlx::query(
        "insert into organisation_members (organisation_id, account_id, source, joined_at) values ($1, $2, 'manual', 0)",
    )
    .bind(org.as_text())
    .bind(who.account_id.as_text())
    .execute(store.db().writer())
    .await
    .unwrap();
}

async fn audited(store: &Store, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1")
        .bind(action)
        .fetch_one(store.db().reader())
        .await
        .unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    match r {
        Err(e) => e.code(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

struct Cast {
    coordinator: Actor,
    pharmacist: Actor,
    nurse: Actor,
    officine: OrganisationId,
    cabinet: OrganisationId,
}

async fn cast(store: &Store) -> Cast {
    let coordinator = account(store, "Garcia", None, &[CptsRole::Coordinator]).await;
    let pharmacist = account(store, "Petit", Some("21"), &[]).await;
    let nurse = account(store, "Bernard", Some("60"), &[]).await;
    let officine = organisation(store, &coordinator, "officine", "Pharmacie du Beffroi").await;
    let cabinet = organisation(store, &coordinator, "cabinet", "Cabinet infirmier").await;
    add_member(store, officine, &pharmacist).await;
    add_member(store, cabinet, &nurse).await;
    Cast {
        coordinator,
        pharmacist,
        nurse,
        officine,
        cabinet,
    }
}

#[tokio::test]
async fn campaigns_are_joined_recorded_corrected_and_counted() {
    let f = fresh_store().await;
    let store = &f.store;
    let Cast {
        coordinator,
        pharmacist,
        nurse,
        officine,
        cabinet,
    } = cast(store).await;

    // Only coordinators launch and edit.
    assert_eq!(
        code(
            store
                .create_campaign(&pharmacist, flu().validate().unwrap(), now())
                .await
        ),
        "campaign.coordinators_only"
    );
    let campaign = store
        .create_campaign(&coordinator, flu().validate().unwrap(), now())
        .await
        .unwrap();
    let id = campaign.id;
    assert_eq!(store.campaigns(None, 10).await.unwrap().len(), 1);
    assert_eq!(
        code(store.campaign(CampaignId::new()).await),
        "campaign.not_found"
    );

    // The pharmacist joins for the officine, not for the cabinet; the coordinator
    // enrols the cabinet.
    assert_eq!(
        code(store.join_campaign(&pharmacist, id, cabinet, now()).await),
        "campaign.not_member_of_organisation"
    );
    let joined = store
        .join_campaign(&pharmacist, id, officine, now())
        .await
        .unwrap();
    assert_eq!(joined.kind, OrganisationKind::Officine);
    assert_eq!(
        code(store.join_campaign(&pharmacist, id, officine, now()).await),
        "campaign.already_participating"
    );
    assert_eq!(
        code(
            store
                .join_campaign(&coordinator, id, OrganisationId::new(), now())
                .await
        ),
        "organisation.not_found"
    );
    store
        .join_campaign(&coordinator, id, cabinet, now())
        .await
        .unwrap();
    assert_eq!(store.campaign_participants(id).await.unwrap().len(), 2);

    // Joining put both structures' members in the campaign's conversation.
    store
        .conversation_for(&pharmacist, campaign.conversation_id, now())
        .await
        .unwrap();
    store
        .conversation_for(&nurse, campaign.conversation_id, now())
        .await
        .unwrap();

    // Recording: members of participating structures, within the period, not ahead.
    let first = store
        .record_campaign_action(
            &pharmacist,
            id,
            &ActionInput::new(officine, "doses", 12, &day(0)),
            now(),
        )
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.record.version, 1);
    store
        .record_campaign_action(
            &pharmacist,
            id,
            &ActionInput::new(officine, "plus_65", 7, &day(-1)),
            now(),
        )
        .await
        .unwrap();
    store
        .record_campaign_action(
            &nurse,
            id,
            &ActionInput::new(cabinet, "doses", 5, &day(-8)),
            now(),
        )
        .await
        .unwrap();
    let cases = [
        (
            &pharmacist,
            cabinet,
            "doses",
            1,
            day(0),
            "campaign.not_member_of_organisation",
        ),
        (
            &coordinator,
            officine,
            "doses",
            1,
            day(0),
            "campaign.not_member_of_organisation",
        ),
        (
            &pharmacist,
            officine,
            "autre",
            1,
            day(0),
            "campaign.unknown_kind",
        ),
        (
            &pharmacist,
            officine,
            "doses",
            -1,
            day(0),
            "campaign.invalid_count",
        ),
        (
            &pharmacist,
            officine,
            "doses",
            1,
            day(1),
            "campaign.future_day",
        ),
        (
            &pharmacist,
            officine,
            "doses",
            1,
            day(-21),
            "campaign.outside_period",
        ),
        (
            &pharmacist,
            officine,
            "doses",
            1,
            "hier".to_string(),
            "campaign.invalid_date",
        ),
    ];
    for (who, org, kind, count, on, expected) in cases {
        let r = store
            .record_campaign_action(who, id, &ActionInput::new(org, kind, count, &on), now())
            .await;
        assert_eq!(code(r), expected, "{kind} {count} {on}");
    }

    // A correction keeps who wrote what before.
    let corrected = store
        .record_campaign_action(
            &pharmacist,
            id,
            &ActionInput::new(officine, "doses", 15, &day(0)),
            now(),
        )
        .await
        .unwrap();
    assert!(!corrected.created);
    assert_eq!(corrected.record.id, first.record.id);
    assert_eq!(corrected.record.version, 2);
    assert_eq!(corrected.record.count, 15);
    assert_eq!(corrected.record.history.len(), 1);
    assert_eq!(corrected.record.history[0].count, 12);
    assert_eq!(
        corrected.record.history[0].recorded_by,
        pharmacist.account_id
    );

    // Lists: the coordinator sees every count, a member those of their structures.
    let all = ActionQuery {
        limit: 100,
        ..ActionQuery::default()
    };
    assert_eq!(
        store
            .campaign_actions(&coordinator, id, &all)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .campaign_actions(&pharmacist, id, &all)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .campaign_actions(&nurse, id, &all)
            .await
            .unwrap()
            .len(),
        1
    );
    let page = ActionQuery {
        limit: 2,
        ..ActionQuery::default()
    };
    let first_page = store
        .campaign_actions(&coordinator, id, &page)
        .await
        .unwrap();
    let next = ActionQuery {
        after: first_page.last().map(|a| a.id),
        limit: 2,
        ..ActionQuery::default()
    };
    assert_eq!(
        store
            .campaign_actions(&coordinator, id, &next)
            .await
            .unwrap()
            .len(),
        1
    );

    // The coordinator broadcasts to every participant's members.
    let sent = store
        .broadcast_campaign(
            &coordinator,
            id,
            MessageInput {
                client_id: "broadcast-1".into(),
                body: "Les vaccins arrivent lundi".into(),
                attachments: vec![],
                reply_to: None,
                mentions: vec![],
                urgent: false,
            },
            now(),
        )
        .await
        .unwrap();
    let conversation = store
        .conversation_for(&pharmacist, campaign.conversation_id, now())
        .await
        .unwrap();
    let (messages, _) = store
        .list_messages(&pharmacist, &conversation, None, None, 10, now())
        .await
        .unwrap();
    assert!(messages.iter().any(|m| m.id == sent.message().id));
    assert_eq!(
        code(
            store
                .broadcast_campaign(
                    &pharmacist,
                    id,
                    MessageInput {
                        client_id: "x".into(),
                        body: "x".into(),
                        attachments: vec![],
                        reply_to: None,
                        mentions: vec![],
                        urgent: false,
                    },
                    now(),
                )
                .await
        ),
        "campaign.coordinators_only"
    );

    // The cabinet leaves: its counts stay, its nurse leaves the conversation and
    // records no more.
    assert_eq!(
        code(store.leave_campaign(&pharmacist, id, cabinet, now()).await),
        "campaign.not_member_of_organisation"
    );
    store
        .leave_campaign(&nurse, id, cabinet, now())
        .await
        .unwrap();
    assert_eq!(
        code(store.leave_campaign(&nurse, id, cabinet, now()).await),
        "campaign.participant_not_found"
    );
    assert!(
        store
            .conversation_for(&nurse, campaign.conversation_id, now())
            .await
            .is_err()
    );
    assert_eq!(
        code(
            store
                .record_campaign_action(
                    &nurse,
                    id,
                    &ActionInput::new(cabinet, "doses", 1, &day(0)),
                    now()
                )
                .await
        ),
        "campaign.not_participating"
    );

    // Indicators from the data.
    let (_, ind) = store.campaign_indicators(&coordinator, id).await.unwrap();
    assert_eq!(ind.totals[0].code, "doses");
    assert_eq!(ind.totals[0].count, 20);
    assert_eq!(ind.totals[0].achievement, Some(0.1));
    assert_eq!(ind.totals[1].count, 7);
    assert_eq!(ind.by_structure.len(), 2);
    assert_eq!(ind.by_structure[0].organisation_id, officine);
    assert_eq!(ind.by_structure[0].total, 22);
    assert!(!ind.by_structure[1].participating);
    assert_eq!(ind.by_structure[1].total, 5);
    assert_eq!(ind.by_week.iter().map(|w| w.total).sum::<i64>(), 27);
    assert_eq!(ind.participants, 1);
    assert_eq!(
        ind.participants_by_kind.get(&OrganisationKind::Officine),
        Some(&1)
    );
    // A member sees the totals and, per structure, only their own.
    let (_, theirs) = store.campaign_indicators(&pharmacist, id).await.unwrap();
    assert_eq!(theirs.totals[0].count, 20);
    assert_eq!(theirs.by_structure.len(), 1);

    // Edits keep recorded kinds and days.
    let mut edit = flu();
    edit.action_kinds.truncate(1);
    edit.targets.remove("plus_65");
    assert_eq!(
        code(
            store
                .update_campaign(&coordinator, id, edit.validate().unwrap(), now())
                .await
        ),
        "campaign.kind_in_use"
    );
    let mut edit = flu();
    edit.starts_on = day(-2);
    assert_eq!(
        code(
            store
                .update_campaign(&coordinator, id, edit.validate().unwrap(), now())
                .await
        ),
        "campaign.period_excludes_records"
    );
    let mut edit = flu();
    edit.title = "Vaccination antigrippale 2026-2027".into();
    let edited = store
        .update_campaign(&coordinator, id, edit.validate().unwrap(), now())
        .await
        .unwrap();
    assert_eq!(edited.title, "Vaccination antigrippale 2026-2027");
    assert_eq!(
        code(
            store
                .update_campaign(&nurse, id, flu().validate().unwrap(), now())
                .await
        ),
        "campaign.coordinators_only"
    );

    // Every change is in the audit chain.
    for (action, n) in [
        ("campaign.create", 1),
        ("campaign.update", 1),
        ("campaign.join", 2),
        ("campaign.leave", 1),
        ("campaign.record", 4),
        ("campaign.broadcast", 1),
    ] {
        assert_eq!(audited(store, action).await, n, "{action}");
    }
}

#[tokio::test]
async fn concurrent_corrections_lose_no_update() {
    let f = fresh_store().await;
    let store = &f.store;
    let Cast {
        coordinator,
        pharmacist,
        officine,
        ..
    } = cast(store).await;
    let id = store
        .create_campaign(&coordinator, flu().validate().unwrap(), now())
        .await
        .unwrap()
        .id;
    store
        .join_campaign(&pharmacist, id, officine, now())
        .await
        .unwrap();
    let today = day(0);
    let calls = (1..=12).map(|n| {
        let pharmacist = pharmacist.clone();
        let today = today.clone();
        async move {
            store
                .record_campaign_action(
                    &pharmacist,
                    id,
                    &ActionInput::new(officine, "doses", n, &today),
                    now(),
                )
                .await
        }
    });
    let results = futures_join_all(calls).await;
    let mut versions: Vec<i64> = results
        .into_iter()
        .map(|r| r.unwrap().record.version)
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        (1..=12).collect::<Vec<i64>>(),
        "each call got its own version"
    );
    let all = ActionQuery {
        limit: 10,
        ..ActionQuery::default()
    };
    let records = store
        .campaign_actions(&coordinator, id, &all)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].version, 12);
    assert_eq!(records[0].history.len(), 11);
    let mut counts: Vec<i64> = records[0].history.iter().map(|h| h.count).collect();
    counts.push(records[0].count);
    counts.sort();
    assert_eq!(
        counts,
        (1..=12).collect::<Vec<i64>>(),
        "every count is in the history"
    );
}

/// Runs the futures concurrently (tokio tasks would need 'static borrows).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(futures.len());
    let mut pending: Vec<_> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(done.into_iter().flatten());
    outputs
}
