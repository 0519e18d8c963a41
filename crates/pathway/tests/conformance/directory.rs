//! Story: the RPPS extraction of a territory of the Nord is imported (every header
//! variant, bad lines, a re-run, the next release, the communes of the territory) and
//! searched. What follows — logins, invitations, organisations, the CPTS — is in
//! `directory_members.rs`.

use std::collections::{BTreeMap, BTreeSet};

use cordee_pathway::account::{CptsRole, ProfessionCode};
use cordee_pathway::cpts::ProfileInput;
use cordee_pathway::directory::{CommuneCode, DirectoryQuery, Search};
use cordee_pathway::organisation::OrganisationQuery;
use cordee_pathway::profile::NationalId;
use cordee_pathway::store::{ImportOptions, ImportReport, Store};
use cordee_pathway::{Error, Millis};
use sqlx::Row;

use crate::support::{account, fresh_store};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/rpps/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn import_at(
    store: &Store,
    name: &str,
    communes: Option<&[&str]>,
    now: i64,
) -> Result<ImportReport, Error> {
    let bytes = fixture(name);
    let options = ImportOptions {
        communes: communes.map(|c| c.iter().map(|c| CommuneCode::parse(c).unwrap()).collect()),
        // Small batches, so that a professional's lines and the gone sweep cross
        // transaction boundaries.
        batch_lines: 40,
    };
    store
        .import_rpps(bytes.as_slice(), &options, Millis(now))
        .await
}

pub async fn import(store: &Store, name: &str) -> ImportReport {
    import_at(store, name, None, 1_000).await.unwrap()
}

pub fn nid(text: &str) -> NationalId {
    NationalId::parse(text).unwrap()
}

/// The fixture read independently of the importer: national id → (professions,
/// communes) over its lines.
fn lines_of(name: &str) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let text = String::from_utf8(fixture(name)).unwrap();
    let mut people: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('|').collect();
        let p = people.entry(f[2].to_string()).or_default();
        p.0.insert(f[9].to_string());
        p.1.insert(f[36].to_string());
    }
    people
}

fn query(q: Option<&str>) -> DirectoryQuery {
    DirectoryQuery {
        search: q.and_then(Search::parse),
        limit: 1000,
        ..DirectoryQuery::default()
    }
}

/// What an import leaves in the tables, to compare before and after a re-run.
pub async fn snapshot(store: &Store) -> (Vec<(String, i64, String)>, i64, i64) {
    let rows = sqlx::query(
        "select national_id, updated_at, coalesce(fingerprint, '') as f from directory_entries order by national_id",
    )
    .fetch_all(store.db().reader())
    .await
    .unwrap();
    let entries = rows
        .iter()
        .map(|r| (r.get("national_id"), r.get("updated_at"), r.get("f")))
        .collect();
    let activities: i64 = sqlx::query_scalar("select count(*) from directory_activities")
        .fetch_one(store.db().reader())
        .await
        .unwrap();
    let organisations: i64 = sqlx::query_scalar("select count(*) from organisations")
        .fetch_one(store.db().reader())
        .await
        .unwrap();
    (entries, activities, organisations)
}

#[tokio::test]
async fn directory_import_reads_the_fixture_and_a_rerun_changes_nothing() {
    let f = fresh_store().await;
    let store = &f.store;
    let people = lines_of("territoire.txt");
    let first = import_at(store, "territoire.txt", None, 1_000)
        .await
        .unwrap();
    assert_eq!(first.read, 260);
    assert_eq!(first.malformed, 0);
    assert_eq!(first.new, people.len() as u64);
    assert_eq!((first.updated, first.kept, first.gone), (0, 0, 0));
    assert_eq!(first.scope, "*");
    assert!(first.organisations_new > 100, "{first:?}");
    let before = snapshot(store).await;
    assert_eq!(before.0.len(), people.len());

    let again = import_at(store, "territoire.txt", None, 2_000)
        .await
        .unwrap();
    assert_eq!(
        (
            again.new,
            again.updated,
            again.kept,
            again.gone,
            again.organisations_new
        ),
        (0, 0, people.len() as u64, 0, 0)
    );
    // Nothing rewritten: every entry still carries the first run's time.
    assert_eq!(snapshot(store).await, before);

    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'directory.import'")
            .fetch_one(store.db().reader())
            .await
            .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn directory_next_release_moves_one_professional_and_removes_another() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let lille = store.directory_entry(&nid("810002009974")).await.unwrap();
    assert_eq!(lille.commune_code.unwrap().as_str(), "59350");

    let next = import_at(store, "territoire_suivant.txt", None, 5_000)
        .await
        .unwrap();
    let total = lines_of("territoire.txt").len() as u64;
    assert_eq!(
        (next.new, next.updated, next.kept, next.gone),
        (0, 1, total - 2, 1)
    );
    // Anne DELEBARRE moved to La Madeleine, into a cabinet the import made.
    let moved = store.directory_entry(&nid("810002009974")).await.unwrap();
    assert_eq!(moved.commune_code.unwrap().as_str(), "59368");
    assert_eq!(moved.organisation_ids.len(), 1);
    let cabinet = store.organisation(moved.organisation_ids[0]).await.unwrap();
    assert_eq!(cabinet.name, "Cabinet infirmier du Romarin");
    assert_ne!(moved.organisation_ids, lille.organisation_ids);
    // Grégoire VERHAEGHE left.
    assert!(matches!(
        store.directory_entry(&nid("810002009966")).await,
        Err(Error::NotFound { .. })
    ));
    let namesakes = store
        .directory(&query(Some("verhaeghe gregoire")))
        .await
        .unwrap();
    assert!(
        namesakes
            .iter()
            .all(|e| e.national_id.as_str() != "810002009966")
    );
}

#[tokio::test]
async fn directory_header_variants_import_the_same_professionals() {
    let reference = fresh_store().await;
    import(&reference.store, "territoire.txt").await;
    let ids = [
        "810001001014",
        "810001001022",
        "810001001030",
        "810001001048",
        "810001001055",
        "810001001063",
        "810002009982",
    ];
    let summary = |e: cordee_pathway::directory::DirectoryEntry| {
        (
            e.display_name,
            e.search_key,
            e.profession,
            e.specialty,
            e.mode,
            e.commune_code,
            e.organisation_ids.len(),
        )
    };
    for file in ["variante_ancienne_cp1252.txt", "variante_majuscules.txt"] {
        let f = fresh_store().await;
        let report = import(&f.store, file).await;
        assert_eq!(
            (report.new, report.malformed),
            (ids.len() as u64, 0),
            "{file}"
        );
        for id in ids {
            let got = f.store.directory_entry(&nid(id)).await.unwrap();
            let want = reference.store.directory_entry(&nid(id)).await.unwrap();
            assert_eq!(summary(got), summary(want), "{file}: {id}");
        }
        // Accents survive the Windows-1252 release.
        let lefevre = f.store.directory_entry(&nid("810002009982")).await.unwrap();
        assert_eq!(lefevre.display_name, "Éloïse LEFÈVRE", "{file}");
    }
}

#[tokio::test]
async fn directory_malformed_lines_are_reported_by_number_and_skipped() {
    let f = fresh_store().await;
    let report = import(&f.store, "lignes_invalides.txt").await;
    assert_eq!((report.read, report.malformed, report.new), (9, 5, 3));
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 5, 7, 8, 9]);
    let reasons: Vec<&str> = report.problems.iter().map(|p| p.reason.as_str()).collect();
    assert!(reasons[0].contains("RPPS"), "{reasons:?}");
    assert!(reasons[1].contains("fields"), "{reasons:?}");
    assert!(reasons[2].contains("commune"), "{reasons:?}");
    assert!(reasons[3].contains("Nom d'exercice"), "{reasons:?}");
    assert!(reasons[4].contains("FINESS"), "{reasons:?}");
    // The good lines of a professional around a bad one are kept.
    let dubois = f.store.directory_entry(&nid("810001001022")).await.unwrap();
    assert_eq!(dubois.organisation_ids.len(), 2);
}

#[tokio::test]
async fn directory_a_file_without_the_needed_columns_is_refused_whole() {
    let f = fresh_store().await;
    match import_at(&f.store, "colonnes_manquantes.txt", None, 1_000).await {
        Err(Error::Invalid { code, detail }) => {
            assert_eq!(code, "directory.import_columns");
            assert!(
                detail.contains("\"Code profession\" and \"Code commune (coord. structure)\""),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    let empty = f
        .store
        .import_rpps(&b""[..], &ImportOptions::default(), Millis(1))
        .await;
    assert!(matches!(
        empty,
        Err(Error::Invalid {
            code: "directory.import_empty",
            ..
        })
    ));
    assert!(f.store.directory_is_empty().await.unwrap());
}

#[tokio::test]
async fn directory_import_keeps_the_communes_of_the_territory() {
    let people = lines_of("territoire.txt");
    let only_outside = people
        .values()
        .filter(|(_, communes)| communes.iter().all(|c| c == "59009"))
        .count() as u64;
    let partly_outside: Vec<&String> = people
        .iter()
        .filter(|(_, (_, c))| c.contains("59009") && c.len() > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(only_outside > 0 && !partly_outside.is_empty());
    let territory = [
        "59350", "59328", "59368", "59378", "59527", "59386", "59636", "59360",
    ];

    // With the CPTS profile's communes (no --communes).
    let f = fresh_store().await;
    let store = &f.store;
    let admin = account(store, "Hugo Roux", None, &[CptsRole::Admin]).await;
    store
        .set_cpts_profile(
            &admin,
            ProfileInput {
                name: "CPTS Lille Ouest".into(),
                population: 95_000,
                contract_signed_on: None,
                missions: vec![],
                communes: territory.iter().map(|c| c.to_string()).collect(),
            }
            .validate()
            .unwrap(),
            Millis(10),
        )
        .await
        .unwrap();
    let report = import(store, "territoire.txt").await;
    assert_eq!(
        report.scope,
        "59328,59350,59360,59368,59378,59386,59527,59636"
    );
    assert_eq!(report.outside, only_outside);
    assert_eq!(report.new, people.len() as u64 - only_outside);
    let ascq = DirectoryQuery {
        commune: CommuneCode::parse("59009"),
        limit: 1000,
        ..DirectoryQuery::default()
    };
    assert!(store.directory(&ascq).await.unwrap().is_empty());
    for id in partly_outside {
        assert!(store.directory_entry(&nid(id)).await.is_ok(), "{id}");
    }

    // Another scope's import does not remove what this one listed.
    let lille = import_at(store, "territoire.txt", Some(&["59350"]), 2_000)
        .await
        .unwrap();
    assert_eq!(lille.gone, 0);
    assert_eq!(
        store.directory(&query(None)).await.unwrap().len() as u64,
        report.new
    );
}

#[tokio::test]
async fn directory_search_by_name_profession_commune_and_pages() {
    let f = fresh_store().await;
    let store = &f.store;
    import(store, "territoire.txt").await;
    let people = lines_of("territoire.txt");
    let names = |entries: &[cordee_pathway::directory::DirectoryEntry]| -> Vec<String> {
        entries.iter().map(|e| e.display_name.clone()).collect()
    };

    // Without accents, in capitals, given name first: the same Lefèvre.
    for q in ["lefevre", "LEFÈVRE", "Lefevre elo", "éloïse lefe"] {
        let found = store.directory(&query(Some(q))).await.unwrap();
        assert!(
            names(&found).contains(&"Éloïse LEFÈVRE".to_string()),
            "{q}: {:?}",
            names(&found)
        );
    }
    let prefix = store.directory(&query(Some("le"))).await.unwrap();
    assert!(prefix.iter().all(|e| e.search_key.starts_with("le")));
    assert!(prefix.len() > 5);
    let two = store
        .directory(&query(Some("Martin Claire")))
        .await
        .unwrap();
    let ids: Vec<&str> = two.iter().map(|e| e.national_id.as_str()).collect();
    assert_eq!(ids, ["810001001014", "810002009990"]);
    let by_rpps = store.directory(&query(Some("10001001014"))).await.unwrap();
    assert_eq!(names(&by_rpps), ["Claire MARTIN"]);

    // By profession and by commune, against the file read independently.
    let pharmacists = DirectoryQuery {
        profession: ProfessionCode::parse("21"),
        limit: 1000,
        ..DirectoryQuery::default()
    };
    let expected = people.values().filter(|(p, _)| p.contains("21")).count();
    assert_eq!(store.directory(&pharmacists).await.unwrap().len(), expected);
    let loos = DirectoryQuery {
        commune: CommuneCode::parse("59360"),
        search: Search::parse("m"),
        limit: 1000,
        ..DirectoryQuery::default()
    };
    let found = store.directory(&loos).await.unwrap();
    let expected: BTreeSet<&String> = people
        .iter()
        .filter(|(_, (_, c))| c.contains("59360"))
        .map(|(id, _)| id)
        .collect();
    assert!(!found.is_empty());
    for e in &found {
        assert!(expected.contains(&e.national_id.as_str().to_string()));
        assert!(e.search_key.starts_with('m'));
    }

    // By organisation: the MSP of the personas.
    let msp = store
        .organisations(&OrganisationQuery {
            q: Some("maison de sante".into()),
            limit: 10,
            ..OrganisationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(msp.len(), 1);
    let at_msp = DirectoryQuery {
        organisation: Some(msp[0].id),
        limit: 1000,
        ..DirectoryQuery::default()
    };
    let found = store.directory(&at_msp).await.unwrap();
    assert_eq!(
        names(&found),
        ["Emma LEROY", "Claire MARTIN", "Lucas MOREAU"]
    );

    // Pages of 20 walk the whole directory once, in key order, no empty page.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .directory(&DirectoryQuery {
                after: after.clone(),
                limit: 21,
                ..DirectoryQuery::default()
            })
            .await
            .unwrap();
        let more = page.len() > 20;
        let page: Vec<_> = page.into_iter().take(20).collect();
        assert!(!page.is_empty());
        after = page.last().map(|e| e.cursor());
        seen.extend(
            page.into_iter()
                .map(|e| (e.search_key, e.national_id.as_str().to_string())),
        );
        if !more {
            break;
        }
    }
    assert_eq!(seen.len(), people.len());
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
}
