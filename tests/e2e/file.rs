//! The coordination file through the HTTP API, as the sandbox personas.

use cordee_pathway::file::EntryContent;
use cordee_pathway::policy::Category;
use serde_json::{Value, json};

use crate::support::{User, problem, spawn_app, spawn_app_with};

/// The default matrix of DESIGN.md, written out again here (not taken from the code)
/// so that the test checks the product against the design. W = write, R = read.
const MATRIX: &[(&str, [&str; 8])] = &[
    // persona          synthese medical soins traitements resultats social administratif rcp
    ("gp-martin", ["W", "W", "W", "W", "W", "W", "W", "R"]),
    ("midwife-leroy", ["W", "W", "W", "W", "W", "W", "W", "R"]),
    ("dentist-lambert", ["W", "W", "R", "W", "W", "R", "W", "R"]),
    ("pharma-petit", ["W", "R", "R", "W", "R", "R", "W", "R"]),
    ("nurse-bernard", ["W", "R", "W", "R", "R", "W", "W", "R"]),
    ("physio-moreau", ["W", "R", "W", "R", "R", "R", "W", "R"]),
    ("speech-fournier", ["W", "-", "W", "-", "-", "R", "W", "R"]),
    ("psy-girard", ["W", "-", "-", "-", "-", "W", "W", "-"]),
    ("coord-garcia", ["W", "-", "-", "-", "-", "W", "W", "-"]),
];
const CATEGORIES: [&str; 8] = [
    "synthese",
    "medical",
    "soins",
    "traitements",
    "resultats",
    "social",
    "administratif",
    "rcp",
];

pub fn ins_for(body: &str) -> String {
    let n: u64 = body.parse().unwrap();
    format!("{body}{:02}", 97 - n % 97)
}

pub fn new_patient(name: &str) -> Value {
    json!({
        "ins_matricule": ins_for("2410559350123"),
        "ins_oid": "1.2.250.1.213.1.4.8",
        "birth_name": name,
        "first_names": "Jeanne Marie",
        "birth_date": "1941-05-02",
        "sex": "F",
        "birth_place_code": "59350",
        "identity_status": "qualifiee",
        "creator_role": "medecin_traitant"
    })
}

/// A patient created by `gp` (médecin traitant) with `members` on the team.
pub async fn patient_with_team(gp: &User, members: &[&User]) -> String {
    let r = gp.post_json("/v1/patients", &new_patient("Lefèvre")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let p: Value = r.json().await.unwrap();
    let id = p["id"].as_str().unwrap().to_string();
    for m in members {
        let role = if m.national_id.is_empty() {
            "coordinateur"
        } else {
            "autre"
        };
        let r = gp
            .post_json(
                &format!("/v1/patients/{id}/care-team"),
                &json!({ "account_id": m.id, "role": role, "reason": "suivi coordonné" }),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    id
}

async fn entry(user: &User, patient: &str, category: &str, title: &str) -> reqwest::Response {
    user.post_json(
        &format!("/v1/patients/{patient}/entries"),
        &json!({ "category": category, "kind": "note", "title": title, "body": "corps" }),
    )
    .await
}

async fn list(user: &User, path: &str) -> Value {
    let r = user.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn every_profession_reads_and_writes_what_the_matrix_allows() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let mut users = Vec::new();
    for (persona, _) in MATRIX {
        users.push(if *persona == "gp-martin" {
            app.login("gp-martin").await
        } else {
            app.login(persona).await
        });
    }
    let members: Vec<&User> = users.iter().skip(1).collect();
    let patient = patient_with_team(&gp, &members).await;

    // Writes: 201 where W, 403 otherwise (rcp: nobody through this API).
    let mut written: Vec<(String, &str)> = Vec::new();
    for ((persona, row), user) in MATRIX.iter().zip(&users) {
        for (category, access) in CATEGORIES.iter().zip(row) {
            let r = entry(user, &patient, category, &format!("{persona} {category}")).await;
            if *access == "W" && *category != "rcp" {
                assert_eq!(r.status(), 201, "{persona} must write {category}");
                let e: Value = r.json().await.unwrap();
                written.push((e["id"].as_str().unwrap().to_string(), category));
            } else {
                let code = if *category == "rcp" {
                    "entry.category_read_only"
                } else {
                    "entry.category_forbidden"
                };
                problem(r, 403, code).await;
            }
        }
    }
    // rcp entries come from the case-conference workflow only; one, as it would write.
    let rcp = app
        .state
        .store
        .insert_workflow_entry_for_tests(
            patient.parse().unwrap(),
            gp.id.parse().unwrap(),
            Category::Rcp,
            &EntryContent::new("Conclusions de la RCP", "Avis rendu", vec![]).unwrap(),
            app.clock.now(),
        )
        .await
        .unwrap();
    written.push((rcp.to_string(), "rcp"));
    // Patient threads obey the matrix for their category: open where the profession
    // reads it (rcp included), 403 otherwise.
    for ((persona, row), user) in MATRIX.iter().zip(&users) {
        for (category, access) in CATEGORIES.iter().zip(row) {
            let r = user
                .post_json(
                    "/v1/conversations",
                    &json!({ "kind": "patient", "patient_id": patient, "category": category }),
                )
                .await;
            if *access == "-" {
                problem(r, 403, "conversation.category_forbidden").await;
            } else {
                assert_eq!(r.status(), 201, "{persona} opens a {category} thread");
            }
        }
    }
    // Reads: each profession sees exactly the categories it may read, in lists,
    // counts and single fetches.
    for ((persona, row), user) in MATRIX.iter().zip(&users) {
        let page = list(user, &format!("/v1/patients/{patient}/entries?limit=200")).await;
        let seen: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = written
            .iter()
            .filter(|(_, c)| row[CATEGORIES.iter().position(|x| x == c).unwrap()] != "-")
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(
            page["total"].as_u64().unwrap() as usize,
            expected.len(),
            "{persona} count"
        );
        let mut seen_sorted = seen.clone();
        seen_sorted.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(seen_sorted, expected_sorted, "{persona} list");
        for (id, category) in &written {
            let r = user
                .get(&format!("/v1/patients/{patient}/entries/{id}"))
                .await;
            let may = row[CATEGORIES.iter().position(|x| x == category).unwrap()] != "-";
            if may {
                assert_eq!(r.status(), 200, "{persona} reads {category}");
            } else {
                problem(r, 404, "entry.not_found").await;
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn outsiders_get_404_and_learn_nothing_from_counts_or_cursors() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let coord = app.login("coord-garcia").await;
    let outsider = app.login("gp-dubois").await;
    let patient = patient_with_team(&gp, &[&coord]).await;
    // 30 entries: medical and social interleaved; the coordinator (staff) reads social only.
    let mut social = Vec::new();
    let mut any_medical = String::new();
    for i in 0..30 {
        let category = if i % 3 == 0 { "social" } else { "medical" };
        let e: Value = entry(&gp, &patient, category, &format!("n{i}"))
            .await
            .json()
            .await
            .unwrap();
        if category == "social" {
            social.push(e["id"].as_str().unwrap().to_string());
        } else {
            any_medical = e["id"].as_str().unwrap().to_string();
        }
    }
    // Pages of 4: full pages, the cursor only ever names visible entries, nothing hidden counted.
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/patients/{patient}/entries?limit=4&cursor={c}"),
            None => format!("/v1/patients/{patient}/entries?limit=4"),
        };
        let page = list(&coord, &path).await;
        assert_eq!(page["total"], 10);
        let items = page["items"].as_array().unwrap();
        assert!(
            items.len() == 4 || page["next_cursor"].is_null(),
            "a short page only at the end"
        );
        seen.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert!(
                    social.contains(&c.to_string()),
                    "the cursor names a visible entry"
                );
                cursor = Some(c.to_string());
            }
            None => break,
        }
    }
    seen.sort();
    social.sort();
    assert_eq!(seen, social);

    // The outsider: the patient, its entries, an entry, the team: all 404, same as an id that does not exist.
    let unknown = uuid::Uuid::now_v7().to_string();
    for path in [
        format!("/v1/patients/{patient}"),
        format!("/v1/patients/{patient}/entries"),
        format!("/v1/patients/{patient}/entries/{any_medical}"),
        format!("/v1/patients/{patient}/care-team"),
        format!("/v1/patients/{patient}/access-log"),
        format!("/v1/patients/{unknown}"),
        format!("/v1/patients/{unknown}/entries"),
    ] {
        let body = problem(outsider.get(&path).await, 404, "patient.not_found").await;
        assert!(!body.to_string().contains("Lef"), "{path}: {body}");
    }
    problem(
        outsider.get("/v1/patients/not-a-uuid").await,
        404,
        "resource.not_found",
    )
    .await;
    let write = entry(&outsider, &patient, "medical", "x").await;
    problem(write, 404, "patient.not_found").await;
    // Search by exact INS finds it for the team, not for the outsider.
    let ins = ins_for("2410559350123");
    assert_eq!(
        list(&gp, &format!("/v1/patients?q={ins}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        list(&outsider, &format!("/v1/patients?q={ins}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Staff never see clinical categories, even on the team.
    problem(
        coord
            .get(&format!("/v1/patients/{patient}/entries/{any_medical}"))
            .await,
        404,
        "entry.not_found",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn objection_masking_break_glass_expiry_and_erasure() {
    let app = spawn_app_with(|l| l.break_glass_duration = Some(2)).await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let pharma = app.login("pharma-petit").await;
    let outsider = app.login("gp-dubois").await;
    let admin = app.login("admin-roux").await;
    let patient = patient_with_team(&gp, &[&nurse, &pharma]).await;
    let soins: Value = entry(&nurse, &patient, "soins", "Plaie")
        .await
        .json()
        .await
        .unwrap();
    let medical: Value = entry(&gp, &patient, "medical", "Bilan")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/patients/{patient}");

    // Objections and masking.
    let consent = json!({
        "informed_at": "2026-01-05T10:00:00Z",
        "add_objections": [{ "kind": "professional", "account_id": pharma.id }, { "kind": "category", "category": "soins" }],
        "mask": [medical["id"]]
    });
    let r = gp.put_json(&format!("{path}/consent"), &consent).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let c = list(&gp, &format!("{path}/consent")).await;
    assert_eq!(c["objections"].as_array().unwrap().len(), 2);
    assert_eq!(c["informed_at"], "2026-01-05T10:00:00Z");
    problem(pharma.get(&path).await, 404, "patient.not_found").await;
    let nurse_sees = list(&nurse, &format!("{path}/entries")).await;
    assert_eq!(
        nurse_sees["total"], 0,
        "soins objected, medical masked: {nurse_sees}"
    );
    problem(
        nurse
            .get(&format!("{path}/entries/{}", soins["id"].as_str().unwrap()))
            .await,
        404,
        "entry.not_found",
    )
    .await;
    assert_eq!(
        list(&gp, &format!("{path}/entries")).await["total"],
        1,
        "the médecin traitant sees the masked entry"
    );
    let bad = gp
        .put_json(
            &format!("{path}/consent"),
            &json!({ "add_objections": [{ "kind": "category", "category": "astrology" }] }),
        )
        .await;
    problem(bad, 422, "request.invalid_field").await;
    problem(
        gp.put_json(&format!("{path}/consent"), &json!({})).await,
        422,
        "consent.no_change",
    )
    .await;
    let lift: Vec<Value> = c["objections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    let r = gp
        .put_json(
            &format!("{path}/consent"),
            &json!({ "lift_objections": lift, "unmask": [medical["id"]] }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let cleared: Value = r.json().await.unwrap();
    assert!(cleared["objections"].as_array().unwrap().is_empty());
    assert!(cleared["masked_entries"].as_array().unwrap().is_empty());

    // Break-glass: a reason, access for the configured time (2 s here), the team notified.
    problem(
        outsider
            .post_json(
                &format!("{path}/break-glass"),
                &json!({ "reason": "court" }),
            )
            .await,
        422,
        "break_glass.reason_required",
    )
    .await;
    let r = outsider
        .post_json(
            &format!("{path}/break-glass"),
            &json!({ "reason": "appel SAMU, patiente inconsciente" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(outsider.get(&path).await.status(), 200);
    let notes = list(&gp, "/v1/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "break_glass.granted")
    );
    assert!(
        !notes.to_string().contains("SAMU"),
        "notifications carry no health data"
    );
    let log = list(&gp, &format!("{path}/access-log")).await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["purpose"] == "break_glass" && i["actor_id"] == outsider.id.as_str())
    );
    app.clock.advance(std::time::Duration::from_millis(2300));
    problem(outsider.get(&path).await, 404, "patient.not_found").await;

    // Export by the médecin traitant only.
    let export = gp.get(&format!("{path}/export")).await;
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let export: Value = export.json().await.unwrap();
    assert_eq!(export["entries"].as_array().unwrap().len(), 2);
    problem(
        nurse.get(&format!("{path}/export")).await,
        403,
        "export.medecin_traitant_only",
    )
    .await;

    // Erasure by a CPTS admin: gone for good.
    problem(gp.delete(&path).await, 403, "patient.erase_forbidden").await;
    assert_eq!(admin.delete(&path).await.status(), 204);
    problem(gp.get(&path).await, 410, "patient.erased").await;
    problem(
        gp.get(&format!("{path}/entries")).await,
        410,
        "patient.erased",
    )
    .await;
    problem(outsider.get(&path).await, 404, "patient.not_found").await;
    app.stop().await;
}

async fn upload(user: &User, bytes: Vec<u8>, content_type: &str) -> reqwest::Response {
    user.client
        .post(user.url("/v1/attachments"))
        .header("x-csrf-token", &user.csrf)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn attachments_are_typed_by_content_limited_and_served_to_readers_only() {
    let app = spawn_app_with(|l| l.attachment_limit = Some(3 * 1024 * 1024)).await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let psy = app.login("psy-girard").await;
    let outsider = app.login("gp-dubois").await;
    let patient = patient_with_team(&gp, &[&nurse, &psy]).await;

    // Declared as an image, but HTML: refused by its bytes.
    problem(
        upload(
            &nurse,
            b"<html><script>alert(1)</script>".to_vec(),
            "image/png",
        )
        .await,
        422,
        "attachment.unsupported_type",
    )
    .await;
    // Too large, whether declared or streamed.
    let mut big = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    big.resize(3 * 1024 * 1024 + 1, 7);
    problem(
        upload(&nurse, big, "image/png").await,
        413,
        "request.too_large",
    )
    .await;

    // A 2.5 MiB photo (three chunks), declared wrongly: typed by its magic bytes.
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.extend((0..2_500_000u32).map(|i| (i % 251) as u8));
    let r = upload(&nurse, photo.clone(), "text/plain").await;
    assert_eq!(r.status(), 201);
    let meta: Value = r.json().await.unwrap();
    assert_eq!(meta["content_type"], "image/jpeg");
    let id = meta["id"].as_str().unwrap().to_string();
    // Before it is attached, only the uploader can fetch it.
    problem(
        gp.get(&format!("/v1/attachments/{id}")).await,
        404,
        "attachment.not_found",
    )
    .await;
    let r = nurse
        .post_json(&format!("/v1/patients/{patient}/entries"), &json!({ "category": "soins", "kind": "photo", "title": "Plaie J3", "attachments": [id] }))
        .await;
    assert_eq!(r.status(), 201);
    // Readers of the entry get the bytes back, with safe headers.
    let r = gp.get(&format!("/v1/attachments/{id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"{id}.jpg\"").as_str()
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo);
    // A psychologue may not read soins; an outsider may not know the patient.
    problem(
        psy.get(&format!("/v1/attachments/{id}")).await,
        404,
        "attachment.not_found",
    )
    .await;
    problem(
        outsider.get(&format!("/v1/attachments/{id}")).await,
        404,
        "attachment.not_found",
    )
    .await;
    // An attachment cannot be attached twice.
    let again = gp
        .post_json(
            &format!("/v1/patients/{patient}/entries"),
            &json!({ "category": "soins", "kind": "photo", "title": "x", "attachments": [id] }),
        )
        .await;
    problem(again, 422, "entry.unknown_attachment").await;
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_clear_problem_and_changes_nothing() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let mut bad_ins = new_patient("Durand");
    bad_ins["ins_matricule"] = json!("241055935012399");
    problem(
        gp.post_json("/v1/patients", &bad_ins).await,
        422,
        "patient.invalid_ins",
    )
    .await;
    let mut bad_sex = new_patient("Durand");
    bad_sex["sex"] = json!("X");
    let body = problem(
        gp.post_json("/v1/patients", &bad_sex).await,
        422,
        "request.invalid_field",
    )
    .await;
    assert_eq!(body["field"], "sex");
    let mut future = new_patient("Durand");
    future["birth_date"] = json!("2999-01-01");
    problem(
        gp.post_json("/v1/patients", &future).await,
        422,
        "patient.invalid_birth_date",
    )
    .await;
    let r = gp
        .client
        .post(gp.url("/v1/patients"))
        .header("x-csrf-token", &gp.csrf)
        .header("content-type", "application/json")
        .body("{\"birth_name\": ")
        .send()
        .await
        .unwrap();
    problem(r, 400, "request.malformed_json").await;
    // Nothing was created by any of these.
    assert_eq!(
        list(&gp, "/v1/patients").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.stop().await;
}

/// `POST /v1/break-glass` as `user`.
async fn break_glass(user: &User, query: &str, reason: &str) -> reqwest::Response {
    user.post_json(
        "/v1/break-glass",
        &json!({ "query": query, "reason": reason }),
    )
    .await
}

/// An on-call doctor at the bedside has the patient's INS, not a Cordée id: emergency
/// access by identity finds the patient, grants, notifies the team and audits every
/// lookup — and answers 404 for a patient who does not exist or objected to them.
#[tokio::test]
async fn break_glass_by_identity_finds_the_patient_and_tells_the_team() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let outsider = app.login("gp-dubois").await;
    let coordinator = app.login("coord-garcia").await;
    let patient = patient_with_team(&gp, &[]).await;
    let ins = ins_for("2410559350123");
    let reason = "appel du 15, patiente inconsciente";

    // Outsiders cannot find the patient by searching.
    assert_eq!(
        list(&outsider, &format!("/v1/patients?q={ins}")).await["items"],
        json!([])
    );
    // Refusals change nothing.
    problem(
        break_glass(&outsider, &ins, "vite").await,
        422,
        "break_glass.reason_required",
    )
    .await;
    problem(
        break_glass(&coordinator, &ins, reason).await,
        403,
        "break_glass.health_professionals_only",
    )
    .await;
    let r = break_glass(&outsider, "pas un patient", reason).await;
    assert!(
        r.status() == 400 || r.status() == 422,
        "a malformed query is a client error: {}",
        r.status()
    );
    problem(
        break_glass(&outsider, &ins_for("1850275123456"), reason).await,
        404,
        "patient.not_found",
    )
    .await;
    problem(
        outsider.get(&format!("/v1/patients/{patient}")).await,
        404,
        "patient.not_found",
    )
    .await;

    // Found by birth name and date.
    let r = break_glass(&outsider, "LEFEVRE 02/05/1941", reason).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let grant: Value = r.json().await.unwrap();
    assert_eq!(grant["patient_id"], patient.as_str());
    assert_eq!(
        outsider
            .get(&format!("/v1/patients/{patient}"))
            .await
            .status(),
        200
    );
    let notes = list(&gp, "/v1/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "break_glass.granted")
    );
    let log = list(&gp, &format!("/v1/patients/{patient}/access-log")).await;
    assert!(log["items"].as_array().unwrap().iter().any(|i| {
        i["action"] == "break_glass.grant"
            && i["purpose"] == "break_glass"
            && i["actor_id"] == outsider.id.as_str()
    }));

    // A patient who objected to this professional is not found, even by identity.
    let consent =
        json!({ "add_objections": [{ "kind": "professional", "account_id": outsider.id }] });
    let r = gp
        .put_json(&format!("/v1/patients/{patient}/consent"), &consent)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    problem(
        break_glass(&outsider, &ins, reason).await,
        404,
        "patient.not_found",
    )
    .await;

    // Lookups are limited per account (5 a minute; four were counted above).
    let lookup = || async { break_glass(&outsider, &ins_for("1850275123456"), reason).await };
    problem(lookup().await, 404, "patient.not_found").await;
    problem(lookup().await, 429, "break_glass.rate_limited").await;
    app.stop().await;
}

/// Correcting an identity: a provisional record gets its INS after an INSi check and
/// becomes qualified; search follows the new traits, duplicates are flagged, the
/// change is in the access log, and bad input or outsiders change nothing.
#[tokio::test]
async fn the_care_team_corrects_an_identity_and_search_follows() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let outsider = app.login("gp-dubois").await;
    let ins = ins_for("2410559350123");
    let provisional = json!({
        "birth_name": "Lefevr",
        "first_names": "Jeanne",
        "birth_date": "1941-05-02",
        "sex": "F",
        "identity_status": "provisoire",
        "creator_role": "medecin_traitant"
    });
    let r = gp.post_json("/v1/patients", &provisional).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let patient = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gp
        .post_json(
            &format!("/v1/patients/{patient}/care-team"),
            &json!({ "account_id": nurse.id, "role": "infirmier", "reason": "pansements" }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let path = format!("/v1/patients/{patient}");
    let mut qualified = new_patient("Lefèvre");
    qualified.as_object_mut().unwrap().remove("creator_role");

    // Outsiders learn nothing; bad input changes nothing.
    problem(
        outsider.put_json(&path, &qualified).await,
        404,
        "patient.not_found",
    )
    .await;
    let mut bad = qualified.clone();
    bad["ins_matricule"] = json!("241055935012300");
    problem(
        nurse.put_json(&path, &bad).await,
        422,
        "patient.invalid_ins",
    )
    .await;
    let mut unknown = qualified.clone();
    unknown["creator_role"] = json!("medecin_traitant");
    assert_eq!(nurse.put_json(&path, &unknown).await.status(), 422);
    let current: Value = gp.get(&path).await.json().await.unwrap();
    assert_eq!(current["birth_name"], "Lefevr");
    assert_eq!(current["identity_status"], "provisoire");

    let r = nurse.put_json(&path, &qualified).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["birth_name"], "Lefèvre");
    assert_eq!(updated["identity_status"], "qualifiee");
    assert_eq!(updated["ins_matricule"], ins.as_str());
    assert_eq!(updated["possible_duplicate"], false);
    let found = list(&gp, &format!("/v1/patients?q={ins}")).await;
    assert_eq!(found["items"][0]["id"], patient.as_str());
    assert_eq!(
        list(&gp, "/v1/patients?q=LEFEVR%2002/05/1941").await["items"],
        json!([]),
        "the old traits no longer find the record"
    );

    // A second record corrected to the same INS: both are flagged.
    let r = gp
        .post_json(
            "/v1/patients",
            &json!({ "birth_name": "Martin", "first_names": "Paul", "birth_date": "1950-03-12",
                     "sex": "M", "identity_status": "provisoire" }),
        )
        .await;
    let other = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gp
        .put_json(&format!("/v1/patients/{other}"), &qualified)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["possible_duplicate"], true);
    let first: Value = gp.get(&path).await.json().await.unwrap();
    assert_eq!(first["possible_duplicate"], true);

    let log = list(&gp, &format!("{path}/access-log")).await;
    assert!(log["items"].as_array().unwrap().iter().any(|i| {
        i["action"] == "patient.identity_update" && i["actor_id"] == nurse.id.as_str()
    }));
    app.stop().await;
}
