//! Reading a large patient file: `Store::query_entries` (the authorised list/search
//! query, authorisation rule in SQL) against the same query with the authorisation
//! conditions removed.
//!
//! ```text
//! # SQLite (a fresh file in the temporary folder)
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench file_page
//! # PostgreSQL (a fresh database on that server, dropped at the end)
//! CORDEE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CARGO_TARGET_DIR=/work/target-bench cargo bench -p cordee-pathway --bench file_page
//! ```
//!
//! Settings (environment): `CORDEE_BENCH_ITERATIONS` (500) timed iterations per query
//! and variant after `CORDEE_BENCH_WARMUP_ITERATIONS` (50); `CORDEE_BENCH_ENTRIES`
//! (10000); `CORDEE_BENCH_ANALYZE` (0 on SQLite, 1 on PostgreSQL) runs `analyze`
//! after seeding — production never runs it on SQLite, and PostgreSQL's autovacuum
//! does it shortly after a file grows; `CORDEE_BENCH_KEEP=1` keeps the database and
//! prints its URL, for `explain` by hand.
//!
//! The file: one patient, 10,000 entries spread evenly over the 8 categories. Seven
//! categories are written through `Store::create_entry` (the GP or the nurse as
//! author, as the matrix allows; each entry sealed, its search terms indexed, its
//! audit record chained); `rcp` cannot be written that way (only the case-conference
//! workflow writes it), so those rows are inserted by the bench with the same
//! sealing (the patient's data key, the same place strings) and the same blind-index
//! terms. Each entry has ~30 words; the word searched for is in 1% of the entries.
//! Beside it, `CORDEE_BENCH_OTHER_PATIENTS` (20) other files of
//! `CORDEE_BENCH_OTHER_ENTRIES` (1000) entries each are inserted in bulk, with ids
//! from the same period, so that the planners see a CPTS's tables rather than one
//! patient's (with one patient only, PostgreSQL rightly prefers sequential scans).
//!
//! The reader is a nurse (profession 60) on the care team. Queries: (a) first page
//! of 50, default filter; (b) first page of 50 of category `soins`; (c) a word
//! search, first page. Each is timed as `Store::query_entries` ("authorised") and as
//! the baseline written below: the same columns, the same join to `entry_versions`,
//! the same decryption of title and body, the same ordering, limit and count — only
//! the membership / break-glass, matrix, objection, masking and erasure conditions
//! removed. The two alternate, iteration by iteration, and must return the same page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cordee_crypto::{DataKey, Place};
use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::file::{
    BI_TERM, Entry, EntryContent, EntryFilter, EntryKind, EntryStatus, term_key,
};
use cordee_pathway::ids::{AccountId, AttachmentId, EntryId, PatientId};
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{
    Backend, EntryPage, MAX_BOUND_ENTRIES, NewMember, NewPatient, Store, placeholders,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use common::{Bench, account, env_or, median_f64, ms, percentile};

const PAGE: i64 = 50;
/// In 1% of the entries; never produced by the vocabulary below.
const RARE_WORD: &str = "escarre";
const SEED_TASKS: usize = 4;

const VOCABULARY: [&str; 96] = [
    "patient",
    "visite",
    "domicile",
    "pansement",
    "plaie",
    "propre",
    "rouge",
    "douleur",
    "tension",
    "arterielle",
    "glycemie",
    "capillaire",
    "insuline",
    "traitement",
    "renouvele",
    "ordonnance",
    "pharmacie",
    "livraison",
    "famille",
    "fille",
    "aidant",
    "fatigue",
    "appetit",
    "poids",
    "stable",
    "baisse",
    "hausse",
    "chute",
    "marche",
    "deambulateur",
    "kinesitherapie",
    "seance",
    "exercices",
    "equilibre",
    "mobilite",
    "toilette",
    "habillage",
    "repas",
    "hydratation",
    "boissons",
    "sommeil",
    "nuit",
    "agitation",
    "confusion",
    "memoire",
    "orientation",
    "humeur",
    "anxiete",
    "moral",
    "isolement",
    "voisin",
    "telephone",
    "rendez",
    "vous",
    "consultation",
    "cardiologue",
    "biologie",
    "prise",
    "sang",
    "resultat",
    "creatinine",
    "hemoglobine",
    "potassium",
    "normal",
    "controle",
    "semaine",
    "prochaine",
    "mardi",
    "jeudi",
    "matin",
    "soir",
    "medecin",
    "traitant",
    "infirmiere",
    "passage",
    "quotidien",
    "surveillance",
    "temperature",
    "fievre",
    "toux",
    "respiration",
    "oxygene",
    "oedeme",
    "jambes",
    "bas",
    "contention",
    "peau",
    "seche",
    "creme",
    "hydratante",
    "aide",
    "menagere",
    "allocation",
    "dossier",
    "transport",
    "ambulance",
];

fn identity() -> IdentityInput {
    IdentityInput {
        ins_matricule: None,
        ins_oid: None,
        birth_name: "Lefèvre".into(),
        first_names: "Jeanne Marie".into(),
        used_name: None,
        birth_date: "1941-05-02".into(),
        sex: Sex::Female,
        birth_place_code: Some("59350".into()),
    }
}

/// Deterministic text for entry `i`: a title of 3 words and a body of ~30.
fn content(i: usize) -> EntryContent {
    let mut x = (i as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1);
    let mut word = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        VOCABULARY[((x >> 33) % VOCABULARY.len() as u64) as usize]
    };
    let title = format!("{} {} {} n°{i}", word(), word(), word());
    let mut body: Vec<&str> = (0..30).map(|_| word()).collect();
    if i % 100 == 37 {
        body.insert(12, RARE_WORD);
    }
    EntryContent::new(&title, &format!("{}.", body.join(" ")), vec![]).unwrap()
}

fn nurse_writes(category: Category) -> bool {
    matches!(
        category,
        Category::Synthese | Category::Soins | Category::Social | Category::Administratif
    )
}

/// An `rcp` entry as the case-conference workflow would store it: sealed under the
/// patient's data key with the store's place strings, with its search terms.
async fn insert_rcp(store: &Store, author: &Actor, patient: PatientId, content: &EntryContent) {
    let key = store.data_key(&format!("patient:{patient}")).await.unwrap();
    let id = EntryId::new();
    let place = format!("{id}:1");
    let now = cordee_pathway::testing::wall_clock();
    let mut tx = store.db().begin().await.unwrap();
    sqlx::query(
        "insert into entries (id, patient_id, category, kind, author_id, created_at, updated_at, version, status, masked) \
         values ($1, $2, 'rcp', 'document', $3, $4, $4, 1, 'active', 0)",
    )
    .bind(id.as_text())
    .bind(patient.as_text())
    .bind(author.account_id.as_text())
    .bind(now.0)
    .execute(&mut *tx)
    .await
    .unwrap();
    let seal = |field: &str, text: &str| {
        key.seal(
            &Place::new("entry_versions", &place, field),
            text.as_bytes(),
        )
        .unwrap()
    };
    sqlx::query(
        "insert into entry_versions (entry_id, version, title, body, attachments, author_id, created_at) values ($1, 1, $2, $3, '', $4, $5)",
    )
    .bind(id.as_text())
    .bind(seal("title", &content.title))
    .bind(seal("body", &content.body))
    .bind(author.account_id.as_text())
    .bind(now.0)
    .execute(&mut *tx)
    .await
    .unwrap();
    for word in content.search_words() {
        sqlx::query(
            "insert into entry_terms (entry_id, term) values ($1, $2) on conflict do nothing",
        )
        .bind(id.as_text())
        .bind(
            store
                .blind_index(BI_TERM, &term_key(patient, &word))
                .as_bytes()
                .to_vec(),
        )
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Writes `entries` entries, categories in turn, from a few concurrent tasks.
async fn seed(store: &Store, gp: &Actor, nurse: &Actor, patient: PatientId, entries: usize) {
    let progress = env_or("CORDEE_BENCH_PROGRESS", 0) == 1;
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..SEED_TASKS {
        let (store, gp, nurse) = (store.clone(), gp.clone(), nurse.clone());
        let written = Arc::clone(&written);
        tasks.push(tokio::spawn(async move {
            for i in (t..entries).step_by(SEED_TASKS) {
                let n = written.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if progress && n.is_multiple_of(1000) {
                    eprintln!(
                        "seed: {n} entries at {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                let category = Category::ALL[i % Category::ALL.len()];
                let text = content(i);
                if category == Category::Rcp {
                    insert_rcp(&store, &gp, patient, &text).await;
                    continue;
                }
                let author = if nurse_writes(category) && i % 2 == 1 {
                    &nurse
                } else {
                    &gp
                };
                let kind = if i % 5 == 0 {
                    EntryKind::Observation
                } else {
                    EntryKind::Note
                };
                store
                    .create_entry(
                        author,
                        patient,
                        category,
                        kind,
                        text,
                        cordee_pathway::testing::wall_clock(),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Pseudo-random bytes (sealed values of other files: never opened, not compressible).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Other patients' files, so that the tables hold a CPTS rather than one patient:
/// `per_patient` entries each, ids (UUIDv7) spread over the period the main file
/// was written in, sealed-size titles and bodies, ~30 search terms each. Inserted in
/// bulk, 100 entries per transaction; never read.
async fn seed_others(
    store: &Store,
    author: &Actor,
    patients: usize,
    per_patient: usize,
    period: (Millis, Millis),
) {
    let mut others = Vec::with_capacity(patients);
    for n in 0..patients {
        let mut who = identity();
        who.birth_name = format!(
            "Autre {}{}",
            char::from(b'a' + u8::try_from(n / 26 % 26).unwrap()),
            char::from(b'a' + u8::try_from(n % 26).unwrap())
        );
        let view = store
            .create_patient(
                author,
                NewPatient {
                    identity: who
                        .validate(
                            IdentityStatus::Provisoire,
                            cordee_pathway::testing::wall_clock(),
                        )
                        .unwrap(),
                    status: IdentityStatus::Provisoire,
                    creator_role: Some(TeamRole::MedecinTraitant),
                },
                cordee_pathway::testing::wall_clock(),
            )
            .await
            .unwrap();
        others.push(view.id);
    }
    let total = patients * per_patient;
    let span = u64::try_from((period.1.0 - period.0.0).max(1)).unwrap();
    let start = u64::try_from(period.0.0).unwrap();
    let rows: Vec<(usize, PatientId)> = (0..total).map(|k| (k, others[k % patients])).collect();
    for chunk in rows.chunks(100) {
        let mut entries = Vec::new();
        for &(k, patient) in chunk {
            let at = start + span * k as u64 / total as u64;
            let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                at / 1000,
                u32::try_from(at % 1000).unwrap() * 1_000_000,
            ));
            entries.push((
                k,
                patient,
                id.as_hyphenated().to_string(),
                i64::try_from(at).unwrap(),
            ));
        }
        let mut tx = store.db().begin().await.unwrap();
        let values = |width: usize, count: usize| -> String {
            (0..count)
                .map(|r| {
                    let cells: Vec<String> =
                        (1..=width).map(|c| format!("${}", r * width + c)).collect();
                    format!("({})", cells.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "insert into entries (id, patient_id, category, kind, author_id, created_at, updated_at, version, status, masked) values {}",
            values(10, entries.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (k, patient, id, at) in &entries {
            q = q
                .bind(id.clone())
                .bind(patient.as_text())
                .bind(Category::ALL[k % Category::ALL.len()].as_str())
                .bind("note")
                .bind(author.account_id.as_text())
                .bind(*at)
                .bind(*at)
                .bind(1i64)
                .bind("active")
                .bind(0i64);
        }
        q.execute(&mut *tx).await.unwrap();
        let sql = format!(
            "insert into entry_versions (entry_id, version, title, body, attachments, author_id, created_at) values {}",
            values(7, entries.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (k, _, id, at) in &entries {
            q = q
                .bind(id.clone())
                .bind(1i64)
                .bind(noise(60, *k as u64))
                .bind(noise(260, !(*k as u64)))
                .bind("")
                .bind(author.account_id.as_text())
                .bind(*at);
        }
        q.execute(&mut *tx).await.unwrap();
        let mut terms = Vec::new();
        for (k, patient, id, _) in &entries {
            for word in content(*k).search_words() {
                terms.push((
                    id.clone(),
                    store
                        .blind_index(BI_TERM, &term_key(*patient, &word))
                        .as_bytes()
                        .to_vec(),
                ));
            }
        }
        let sql = format!(
            "insert into entry_terms (entry_id, term) values {}",
            values(2, terms.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, term) in terms {
            q = q.bind(id).bind(term);
        }
        q.execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
}

const COLUMNS: &str = "e.id, e.category, e.kind, e.author_id, e.created_at, e.updated_at, e.version, e.status, e.masked, v.title, v.body, v.attachments";

/// `Store::query_entries` without the authorisation conditions: same statements
/// otherwise, same decoding and decryption.
async fn baseline(store: &Store, patient: PatientId, filter: &EntryFilter) -> EntryPage {
    let limit = filter.page_size();
    let category = filter.category.map(|c| c.as_str()).unwrap_or("");
    let before = filter.before_key();
    let include_eie = i64::from(filter.include_entered_in_error);
    let term = filter.word.as_deref().map(|w| {
        let word = w.trim().to_lowercase();
        store
            .blind_index(BI_TERM, &term_key(patient, &word))
            .as_bytes()
            .to_vec()
    });
    let reader = store.db().reader();
    let keep_plan =
        !(store.db().plans_with_values() && (filter.word.is_some() || filter.category.is_some()));
    let (rows, total): (Vec<AnyRow>, i64) = match term {
        None => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version \
                 where e.patient_id = $1 and ($3 = 1 or e.status = 'active') and ($5 = '' or e.category = $5) and e.id < $2 \
                 order by e.id desc limit $4"
            )))
            .bind(patient.as_text())
            .bind(&before)
            .bind(include_eie)
            .bind(limit + 1)
            .bind(category)
            .persistent(keep_plan)
            .fetch_all(reader)
            .await
            .unwrap();
            let total: i64 = sqlx::query_scalar(
                "select count(*) from entries e where e.patient_id = $1 and ($2 = 1 or e.status = 'active') and ($3 = '' or e.category = $3)",
            )
            .bind(patient.as_text())
            .bind(include_eie)
            .bind(category)
            .persistent(keep_plan)
            .fetch_one(reader)
            .await
            .unwrap();
            (rows, total)
        }
        Some(term) => {
            // The store's two steps (see `store/word_search.rs`): the term's entries,
            // then the page and count over them when they are few.
            let ids: Vec<String> = sqlx::query_scalar(
                "select entry_id from entry_terms where term = $1 order by entry_id desc limit $2",
            )
            .bind(&term)
            .bind(MAX_BOUND_ENTRIES as i64 + 1)
            .fetch_all(reader)
            .await
            .unwrap();
            if !ids.is_empty() && ids.len() <= MAX_BOUND_ENTRIES {
                let list = |start: usize| placeholders(start, ids.len());
                let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version \
                     where e.patient_id = $1 and e.id in ({}) \
                     and ($3 = 1 or e.status = 'active') and ($5 = '' or e.category = $5) and e.id < $2 \
                     order by e.id desc limit $4",
                    list(6)
                )))
                .bind(patient.as_text())
                .bind(&before)
                .bind(include_eie)
                .bind(limit + 1)
                .bind(category);
                let mut total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select count(*) from entries e where e.patient_id = $1 and e.id in ({}) \
                     and ($2 = 1 or e.status = 'active') and ($3 = '' or e.category = $3)",
                    list(4)
                )))
                .bind(patient.as_text())
                .bind(include_eie)
                .bind(category);
                for id in &ids {
                    rows = rows.bind(id.clone());
                    total = total.bind(id.clone());
                }
                let rows = rows.persistent(false).fetch_all(reader).await.unwrap();
                let total: i64 = total.persistent(false).fetch_one(reader).await.unwrap();
                (rows, total)
            } else {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version \
                 where e.patient_id = $1 and e.id in (select t.entry_id from entry_terms t where t.term = $6) \
                 and ($3 = 1 or e.status = 'active') and ($5 = '' or e.category = $5) and e.id < $2 \
                 order by e.id desc limit $4"
            )))
            .bind(patient.as_text())
            .bind(&before)
            .bind(include_eie)
            .bind(limit + 1)
            .bind(category)
            .bind(term.clone())
            .persistent(keep_plan)
            .fetch_all(reader)
            .await
            .unwrap();
                let total: i64 = sqlx::query_scalar(
                    "select count(*) from entries e where e.patient_id = $1 \
                 and e.id in (select t.entry_id from entry_terms t where t.term = $4) \
                 and ($2 = 1 or e.status = 'active') and ($3 = '' or e.category = $3)",
                )
                .bind(patient.as_text())
                .bind(include_eie)
                .bind(category)
                .bind(term)
                .persistent(keep_plan)
                .fetch_one(reader)
                .await
                .unwrap();
                (rows, total)
            }
        }
    };
    let limit = usize::try_from(limit).unwrap();
    let has_more = rows.len() > limit;
    let key = store.data_key(&format!("patient:{patient}")).await.unwrap();
    let items: Vec<Entry> = rows
        .iter()
        .take(limit)
        .map(|row| entry_from_row(&key, patient, row))
        .collect();
    let next = if has_more {
        items.last().map(|e| e.id)
    } else {
        None
    };
    EntryPage { items, total, next }
}

/// The store's decoding of a row, title and body opened.
fn entry_from_row(key: &Arc<DataKey>, patient: PatientId, row: &AnyRow) -> Entry {
    let id = EntryId::parse(&row.try_get::<String, _>("id").unwrap()).unwrap();
    let version: i64 = row.try_get("version").unwrap();
    let place = format!("{id}:{version}");
    let open = |field: &str| {
        let sealed: Vec<u8> = row.try_get(field).unwrap();
        String::from_utf8(
            key.open(&Place::new("entry_versions", &place, field), &sealed)
                .unwrap(),
        )
        .unwrap()
    };
    Entry {
        id,
        patient_id: patient,
        category: Category::parse(&row.try_get::<String, _>("category").unwrap()).unwrap(),
        kind: EntryKind::parse(&row.try_get::<String, _>("kind").unwrap())
            .unwrap_or(EntryKind::Note),
        title: open("title"),
        body: open("body"),
        attachments: row
            .try_get::<String, _>("attachments")
            .unwrap()
            .split(',')
            .filter_map(AttachmentId::parse)
            .collect(),
        author_id: AccountId::parse(&row.try_get::<String, _>("author_id").unwrap()).unwrap(),
        created_at: Millis(row.try_get("created_at").unwrap()),
        updated_at: Millis(row.try_get("updated_at").unwrap()),
        version,
        status: EntryStatus::parse(&row.try_get::<String, _>("status").unwrap())
            .unwrap_or(EntryStatus::Active),
        masked: row.try_get::<i64, _>("masked").unwrap() != 0,
    }
}

struct Timing {
    median: Duration,
    p99: Duration,
}

fn timing(samples: &mut [Duration]) -> Timing {
    Timing {
        median: percentile(samples, 0.5),
        p99: percentile(samples, 0.99),
    }
}

#[tokio::main]
async fn main() {
    let iterations: usize = env_or("CORDEE_BENCH_ITERATIONS", 500);
    let warmup: usize = env_or("CORDEE_BENCH_WARMUP_ITERATIONS", 50);
    let entries: usize = env_or("CORDEE_BENCH_ENTRIES", 10_000);
    let keep = env_or("CORDEE_BENCH_KEEP", 0) == 1;
    let other_patients: usize = env_or("CORDEE_BENCH_OTHER_PATIENTS", 20);
    let other_entries: usize = env_or("CORDEE_BENCH_OTHER_ENTRIES", 1_000);

    let bench = Bench::open().await;
    let backend = bench.backend();
    let analyze = env_or(
        "CORDEE_BENCH_ANALYZE",
        i32::from(backend == Backend::Postgres),
    ) == 1;
    let store = bench.store.clone();
    let gp = account(&store, "Dr Martin", Some("10")).await;
    let nurse = account(&store, "Mme Bernard", Some("60")).await;
    let patient = store
        .create_patient(
            &gp,
            NewPatient {
                identity: identity()
                    .validate(
                        IdentityStatus::Provisoire,
                        cordee_pathway::testing::wall_clock(),
                    )
                    .unwrap(),
                status: IdentityStatus::Provisoire,
                creator_role: Some(TeamRole::MedecinTraitant),
            },
            cordee_pathway::testing::wall_clock(),
        )
        .await
        .unwrap()
        .id;
    store
        .add_member(
            &gp,
            patient,
            NewMember {
                account_id: nurse.account_id,
                role: TeamRole::InfirmierReferent,
                reason: "soins à domicile".into(),
                end_at: None,
            },
            cordee_pathway::testing::wall_clock(),
        )
        .await
        .unwrap();

    let started = Instant::now();
    let from = cordee_pathway::testing::wall_clock();
    seed(&store, &gp, &nurse, patient, entries).await;
    let seeded = started.elapsed();
    let others_started = Instant::now();
    seed_others(
        &store,
        &gp,
        other_patients,
        other_entries,
        (from, cordee_pathway::testing::wall_clock()),
    )
    .await;
    let others_seeded = others_started.elapsed();
    if analyze {
        sqlx::raw_sql("analyze")
            .execute(store.db().writer())
            .await
            .unwrap();
    }
    let reader = store.db().reader();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(reader)
            .await
            .unwrap()
    };
    let (all_entries, all_terms) = (
        count("select count(*) from entries").await,
        count("select count(*) from entry_terms").await,
    );
    println!(
        "file_page on {} — the file: {entries} entries through the store in {:.1} s ({:.0} entries/s, {SEED_TASKS} tasks); \
         {other_patients} other patients × {other_entries} entries in bulk in {:.1} s; \
         tables: {all_entries} entries, {all_terms} search terms; analyze: {}",
        backend.name(),
        seeded.as_secs_f64(),
        entries as f64 / seeded.as_secs_f64(),
        others_seeded.as_secs_f64(),
        if analyze { "yes" } else { "no" },
    );
    println!(
        "reader: nurse (60) on the care team; {iterations} timed iterations per query and variant, alternating, after {warmup} warm-up"
    );

    let queries: [(&str, EntryFilter); 3] = [
        (
            "first page",
            EntryFilter {
                limit: PAGE,
                ..EntryFilter::default()
            },
        ),
        (
            "category soins",
            EntryFilter {
                category: Some(Category::Soins),
                limit: PAGE,
                ..EntryFilter::default()
            },
        ),
        (
            "word search (1%)",
            EntryFilter {
                word: Some(RARE_WORD.into()),
                limit: PAGE,
                ..EntryFilter::default()
            },
        ),
    ];

    println!();
    println!(
        "  {:<18} {:>5} {:>6}  {:>11} {:>9}  {:>11} {:>9}  {:>9} {:>9} {:>9}",
        "query",
        "rows",
        "total",
        "auth med ms",
        "p99 ms",
        "base med ms",
        "p99 ms",
        "ratio med",
        "ratio p99",
        "paired"
    );
    for (name, filter) in &queries {
        let now = cordee_pathway::testing::wall_clock();
        let authorised = store
            .query_entries(&nurse, patient, filter, now)
            .await
            .unwrap();
        let plain = baseline(&store, patient, filter).await;
        assert_eq!(
            authorised, plain,
            "{name}: the baseline must return the same page"
        );
        let mut auth_samples = Vec::with_capacity(iterations);
        let mut base_samples = Vec::with_capacity(iterations);
        for n in 0..(warmup + iterations) {
            // Alternate which goes first, so that neither always finds the other's
            // pages warm.
            for authorised_turn in [n % 2 == 0, n % 2 == 1] {
                let t = Instant::now();
                if authorised_turn {
                    std::hint::black_box(
                        store
                            .query_entries(&nurse, patient, filter, now)
                            .await
                            .unwrap(),
                    );
                } else {
                    std::hint::black_box(baseline(&store, patient, filter).await);
                }
                let elapsed = t.elapsed();
                if n >= warmup {
                    if authorised_turn {
                        auth_samples.push(elapsed);
                    } else {
                        base_samples.push(elapsed);
                    }
                }
            }
        }
        // Each iteration's authorised time over the baseline time measured next to
        // it: robust to drift in the load of the (shared) machine.
        let paired: Vec<f64> = auth_samples
            .iter()
            .zip(&base_samples)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        let paired = median_f64(&paired);
        let (a, b) = (timing(&mut auth_samples), timing(&mut base_samples));
        println!(
            "  {:<18} {:>5} {:>6}  {:>11} {:>9}  {:>11} {:>9}  {:>8.2}× {:>8.2}× {:>8.2}×",
            name,
            authorised.items.len(),
            authorised.total,
            ms(a.median),
            ms(a.p99),
            ms(b.median),
            ms(b.p99),
            a.median.as_secs_f64() / b.median.as_secs_f64(),
            a.p99.as_secs_f64() / b.p99.as_secs_f64(),
            paired,
        );
    }

    if keep {
        println!();
        println!(
            "kept: {} (patient {patient}, nurse {})",
            bench.db.url, nurse.account_id
        );
        store.close().await;
    } else {
        bench.finish().await;
    }
}
