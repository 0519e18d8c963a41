//! Story: a nurse logs in, her session is found by token, rotated at the next login,
//! chooses an exercice, expires, is revoked; a login flow is taken exactly once.

use cordee_pathway::account::{AccountKind, CptsRole, ProfessionCode};
use cordee_pathway::error::Noun;
use cordee_pathway::ids::{AccountId, SessionId};
use cordee_pathway::profile::{Exercice, NationalId, Profile};
use cordee_pathway::session::{
    Liveness, LoginFlow, NewSession, SessionKind, SessionPolicy, TokenHash,
};
use cordee_pathway::store::{Identity, RevokeReason};
use cordee_pathway::{Error, Millis};

use crate::support::fresh_store;

fn nurse(name: &str) -> Identity {
    Identity {
        kind: AccountKind::HealthProfessional,
        national_id: NationalId::parse("810100000033"),
        provider_id: "psc".into(),
        subject: "f:abc:810100000033".into(),
        display_name: name.into(),
        profile: Profile {
            exercices: vec![Exercice {
                profession: ProfessionCode::parse("60"),
                ..Exercice::default()
            }],
        },
        roles: vec![CptsRole::Admin],
    }
}

fn hash(byte: u8) -> TokenHash {
    TokenHash::from_digest(&[byte; 32])
}

fn new_session(account: AccountId, expires_at: Millis) -> NewSession {
    NewSession {
        account_id: account,
        kind: SessionKind::Browser,
        provider_id: "psc".into(),
        id_token: Some("header.payload.signature".into()),
        exercice_index: 0,
        activity_index: 0,
        user_agent: Some("test".into()),
        expires_at,
        parent: None,
    }
}

#[tokio::test]
async fn accounts_are_keyed_by_national_id_and_staff_by_subject() {
    let fixture = fresh_store().await;
    let store = &fixture.store;
    let first = store
        .upsert_account(&nurse("Sophie BERNARD"), Millis(1_000))
        .await
        .unwrap();
    assert_eq!(first.kind, AccountKind::HealthProfessional);
    // A health professional's roles come from Cordée, not from the login.
    assert_eq!(first.roles, vec![CptsRole::Member]);

    // Same national id, new subject and name: same account, refreshed.
    let mut again = nurse("Sophie MARTIN-BERNARD");
    again.subject = "f:other:810100000033".into();
    let second = store.upsert_account(&again, Millis(2_000)).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.display_name, "Sophie MARTIN-BERNARD");
    assert_eq!(second.created_at, Millis(1_000));
    assert_eq!(second.updated_at, Millis(2_000));
    let found = store
        .account_by_national_id(&NationalId::parse("810100000033").unwrap())
        .await
        .unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(
        found.profile.exercices[0].profession,
        ProfessionCode::parse("60")
    );

    // Staff: keyed by (provider, subject); roles follow the provider; no profession.
    let staff = Identity {
        kind: AccountKind::Staff,
        national_id: None,
        provider_id: "cpts-idp".into(),
        subject: "u-17".into(),
        display_name: "Nadia Garcia".into(),
        profile: nurse("x").profile,
        roles: vec![CptsRole::Coordinator],
    };
    let a = store.upsert_account(&staff, Millis(3_000)).await.unwrap();
    assert!(
        a.profile.exercices.is_empty(),
        "staff never hold a profession"
    );
    let b = store
        .upsert_account(
            &Identity {
                roles: vec![CptsRole::Admin],
                ..staff.clone()
            },
            Millis(4_000),
        )
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.roles, vec![CptsRole::Admin]);
    let other = store
        .upsert_account(
            &Identity {
                subject: "u-18".into(),
                ..staff
            },
            Millis(4_000),
        )
        .await
        .unwrap();
    assert_ne!(other.id, a.id);

    // A health professional without a national id is refused, nothing written.
    let mut nameless = nurse("x");
    nameless.national_id = None;
    assert!(matches!(
        store.upsert_account(&nameless, Millis(5_000)).await,
        Err(Error::Invalid {
            code: "account.national_id_missing",
            ..
        })
    ));
    assert!(matches!(
        store.account(AccountId::new()).await,
        Err(Error::NotFound {
            what: Noun::Account
        })
    ));
}

#[tokio::test]
async fn sessions_are_created_found_rotated_expired_and_revoked() {
    let fixture = fresh_store().await;
    let store = &fixture.store;
    let account = store
        .upsert_account(&nurse("S B"), Millis(0))
        .await
        .unwrap()
        .id;
    let policy = SessionPolicy {
        idle_ms: 1_800_000,
        lifetime_ms: 43_200_000,
    };

    // Create and find by token hash only.
    let first = store
        .open_session(
            &new_session(account, Millis(43_200_000)),
            &hash(1),
            None,
            Millis(0),
        )
        .await
        .unwrap()
        .0;
    let found = store.session_by_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(found.id_token.as_deref(), Some("header.payload.signature"));
    assert_eq!(found.liveness(policy, Millis(1_000)), Liveness::Active);
    assert!(store.session_by_token(&hash(9)).await.unwrap().is_none());

    // Touch moves last_seen forward, never backward.
    store.touch_session(first.id, Millis(60_000)).await.unwrap();
    store.touch_session(first.id, Millis(30_000)).await.unwrap();
    assert_eq!(
        store.session(first.id).await.unwrap().last_seen_at,
        Millis(60_000)
    );

    // Idle and absolute expiry are decided from the stored times.
    let s = store.session(first.id).await.unwrap();
    assert_eq!(
        s.liveness(policy, Millis(60_000 + 1_800_000)),
        Liveness::Idle
    );
    assert_eq!(s.liveness(policy, Millis(43_200_000)), Liveness::Expired);

    // Rotation: a new login in the same browser ends the old session atomically.
    let second = store
        .open_session(
            &new_session(account, Millis(50_000_000)),
            &hash(2),
            Some(&hash(1)),
            Millis(70_000),
        )
        .await
        .unwrap()
        .0;
    assert_ne!(second.id, first.id);
    let old = store.session_by_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!(old.liveness(policy, Millis(70_001)), Liveness::Revoked);

    // The exercice choice is remembered.
    store.choose_exercice(second.id, 1, 2).await.unwrap();
    let s = store.session(second.id).await.unwrap();
    assert_eq!((s.exercice_index, s.activity_index), (1, 2));

    // A bearer session beside it; the list shows open sessions only, newest first.
    let mut bearer = new_session(account, Millis(50_000_000));
    bearer.kind = SessionKind::Bearer;
    let third = store
        .open_session(&bearer, &hash(3), None, Millis(80_000))
        .await
        .unwrap()
        .0;
    let open: Vec<SessionId> = store
        .open_sessions(account, Millis(90_000))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(open, vec![third.id, second.id]);

    // Revoke: only the owner, only once; someone else's id is NotFound.
    let stranger = store
        .upsert_account(
            &Identity {
                national_id: NationalId::parse("810100000041"),
                subject: "f:def:810100000041".into(),
                ..nurse("other")
            },
            Millis(0),
        )
        .await
        .unwrap()
        .id;
    assert!(matches!(
        store
            .revoke_session(stranger, third.id, RevokeReason::Revoked, Millis(95_000))
            .await,
        Err(Error::NotFound {
            what: Noun::Session
        })
    ));
    store
        .revoke_session(account, third.id, RevokeReason::Revoked, Millis(95_000))
        .await
        .unwrap();
    assert!(
        store
            .revoke_session(account, third.id, RevokeReason::Revoked, Millis(96_000))
            .await
            .is_err()
    );
    assert_eq!(
        store
            .open_sessions(account, Millis(97_000))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store.choose_exercice(third.id, 0, 0).await.is_err(),
        "a revoked session stays as it ended"
    );

    // Two sessions cannot share a token hash.
    assert!(matches!(
        store
            .open_session(&new_session(account, Millis(1)), &hash(2), None, Millis(0))
            .await,
        Err(Error::Conflict { .. })
    ));

    // Purge drops what ended before the cut-off.
    let purged = store.purge_sessions(Millis(100_000)).await.unwrap();
    assert_eq!(purged, 2, "the replaced and the revoked one");
    assert!(store.session_by_token(&hash(1)).await.unwrap().is_none());
    assert!(store.session_by_token(&hash(2)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_login_flow_is_taken_once_by_its_own_browser_before_it_expires() {
    let fixture = fresh_store().await;
    let store = &fixture.store;
    let flow = |state: u8, expires: i64| LoginFlow {
        state_hash: hash(state),
        binding_hash: hash(100),
        provider_id: "psc".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        redirect_to: "/".into(),
        created_at: Millis(0),
        expires_at: Millis(expires),
    };
    store.save_login_flow(&flow(1, 600_000)).await.unwrap();
    // Another browser (other binding) gets nothing and does not consume it.
    assert!(
        store
            .take_login_flow(&hash(1), &hash(101), Millis(1))
            .await
            .unwrap()
            .is_none()
    );
    let taken = store
        .take_login_flow(&hash(1), &hash(100), Millis(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.provider_id, "psc");
    assert_eq!(taken.pkce_verifier, "v");
    // Replay: gone.
    assert!(
        store
            .take_login_flow(&hash(1), &hash(100), Millis(2))
            .await
            .unwrap()
            .is_none()
    );

    // Expired: refused, and consumed all the same.
    store.save_login_flow(&flow(2, 10)).await.unwrap();
    assert!(
        store
            .take_login_flow(&hash(2), &hash(100), Millis(10))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_login_flow(&hash(2), &hash(100), Millis(5))
            .await
            .unwrap()
            .is_none()
    );

    // Abandoned flows are purged.
    store.save_login_flow(&flow(3, 10)).await.unwrap();
    store.save_login_flow(&flow(4, 1_000)).await.unwrap();
    assert_eq!(store.purge_login_flows(Millis(500)).await.unwrap(), 1);
    assert!(
        store
            .take_login_flow(&hash(4), &hash(100), Millis(600))
            .await
            .unwrap()
            .is_some()
    );
}
