//! Nothing readable at rest: health data written through the store with known
//! markers never appears in the raw SQLite file (and its WAL) or in a PostgreSQL
//! dump of the database.

use cordee_pathway::care_team::TeamRole;
use cordee_pathway::consent::ConsentChange;
use cordee_pathway::conversation::{ConversationKind, MessageInput};
use cordee_pathway::file::{EntryContent, EntryKind};
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{Backend, NewConversation, NewMember, NewPatient};

use crate::file::ins_for;
use crate::support::{account, fresh_store, now};

const MARKERS: [&str; 9] = [
    "Zorglubmarkername",
    "Zorglubmarkerfirst",
    "Zorglubmarkerused",
    "ZORGLUBTITLE",
    "zorglub-body-diabete",
    "zorglub-reason-team",
    "zorglub-breakglass",
    "zorglub-message-body",
    "zorglub-pdf-content",
];

#[tokio::test]
async fn markers_never_reach_the_database_in_clear() {
    let f = fresh_store().await;
    let s = &f.store;
    let gp = account(s, "Dr Martin", Some("10"), &[]).await;
    let nurse = account(s, "Mme Bernard", Some("60"), &[]).await;
    let outsider = account(s, "Dr Dubois", Some("10"), &[]).await;
    let ins_body = "1550359350777";
    let identity = IdentityInput {
        ins_matricule: Some(ins_for(ins_body)),
        ins_oid: Some("1.2.250.1.213.1.4.8".into()),
        birth_name: MARKERS[0].into(),
        first_names: MARKERS[1].into(),
        used_name: Some(MARKERS[2].into()),
        birth_date: "1955-03-21".into(),
        sex: Sex::Male,
        birth_place_code: Some("59350".into()),
    }
    .validate(IdentityStatus::Qualifiee, now())
    .unwrap();
    let p = s
        .create_patient(
            &gp,
            NewPatient {
                identity,
                status: IdentityStatus::Qualifiee,
                creator_role: Some(TeamRole::MedecinTraitant),
            },
            now(),
        )
        .await
        .unwrap();
    s.add_member(
        &gp,
        p.id,
        NewMember {
            account_id: nurse.account_id,
            role: TeamRole::Infirmier,
            reason: MARKERS[5].into(),
            end_at: None,
        },
        now(),
    )
    .await
    .unwrap();
    let pdf = format!("%PDF-1.4\n{}\n%%EOF", MARKERS[8]);
    let mut upload = s.begin_upload(&gp, pdf.as_bytes(), now()).await.unwrap();
    s.upload_chunk(&mut upload, pdf.as_bytes()).await.unwrap();
    let attachment = s.finish_upload(upload, now()).await.unwrap();
    let entry = s
        .create_entry(
            &gp,
            p.id,
            Category::Medical,
            EntryKind::Document,
            EntryContent::new(MARKERS[3], MARKERS[4], vec![attachment.id]).unwrap(),
            now(),
        )
        .await
        .unwrap();
    s.correct_entry(
        &gp,
        p.id,
        entry.id,
        EntryContent::new(
            MARKERS[3],
            &format!("{} v2", MARKERS[4]),
            vec![attachment.id],
        )
        .unwrap(),
        now(),
    )
    .await
    .unwrap();
    s.break_glass(&outsider, p.id, MARKERS[6], 600, now())
        .await
        .unwrap();
    let thread = s
        .create_conversation(
            &nurse,
            NewConversation {
                kind: ConversationKind::Patient,
                patient_id: Some(p.id),
                category: Some(Category::Soins),
                title: Some(MARKERS[3].into()),
                member_ids: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    let input = MessageInput {
        client_id: "m1".into(),
        body: MARKERS[7].into(),
        attachments: vec![],
        reply_to: None,
        mentions: vec![],
        urgent: true,
    };
    let sent = s.send_message(&nurse, &thread, input, now()).await.unwrap();
    s.edit_message(
        &nurse,
        &thread,
        sent.message().id,
        &format!("{} edited", MARKERS[7]),
        10_000,
        now(),
    )
    .await
    .unwrap();
    s.change_consent(&gp, p.id, vec![ConsentChange::Informed(now())], now())
        .await
        .unwrap();
    // Reads write audit records too; make sure they are in the file.
    s.get_entry(&nurse, p.id, entry.id, now()).await.ok();
    s.audit_flush().await;

    let raw: Vec<u8> = match s.db().backend() {
        Backend::Sqlite => {
            let path = f.db.url.trim_start_matches("sqlite://").to_string();
            s.db().close().await;
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            assert!(
                bytes.len() > 50_000,
                "the database file holds the data ({} bytes)",
                bytes.len()
            );
            bytes
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg(&f.db.url)
                .output()
                .expect("pg_dump must be installed for this test");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("entry_versions"),
                "the dump holds the tables"
            );
            out.stdout
        }
    };
    let haystack = String::from_utf8_lossy(&raw).to_lowercase();
    for marker in MARKERS {
        assert!(
            !haystack.contains(&marker.to_lowercase()),
            "{marker} found in clear at rest"
        );
    }
    for clear in [ins_for(ins_body), "1955-03-21".to_string()] {
        assert!(!haystack.contains(&clear), "{clear} found in clear at rest");
    }
}
