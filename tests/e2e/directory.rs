//! The territory's directory through the real server: the demo's RPPS extraction
//! imported, searched over HTTP; sandbox personas logging in and being bound to their
//! entry by national id; organisations from their PSC activities; invitations; the
//! CPTS profile and adhesions.

use serde_json::{Value, json};

use crate::support::{TestApp, User, problem, spawn_app};

/// Imports the demo's extraction, as `cordee serve` does on an empty demo.
async fn seed(app: &TestApp) {
    let report = cordee_gateway::directory::seed_demo(&app.state.store, app.clock.now())
        .await
        .unwrap()
        .expect("an empty directory is seeded");
    assert_eq!(report.new, 215);
    // Only an empty directory is seeded.
    assert!(
        cordee_gateway::directory::seed_demo(&app.state.store, app.clock.now())
            .await
            .unwrap()
            .is_none()
    );
}

async fn json_ok(user: &User, path: &str) -> Value {
    let r = user.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["display_name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn directory_search_over_http_ignores_accents_and_filters() {
    let app = spawn_app().await;
    seed(&app).await;
    let nurse = app.login("nurse-bernard").await;

    for q in ["lefevre", "LEFÈVRE", "Lefèvre-", "eloise lefe"] {
        let found = json_ok(&nurse, &format!("/v1/directory?q={}", urlencode(q))).await;
        assert!(
            names(&found).contains(&"Éloïse LEFÈVRE".to_string()),
            "{q}: {found}"
        );
    }
    let found = json_ok(&nurse, "/v1/directory?q=lefevre%20eloise").await;
    assert_eq!(
        found["items"][0],
        json!({
            "national_id": "810002009982",
            "account_id": null,
            "has_account": false,
            "display_name": "Éloïse LEFÈVRE",
            "first_name": "Éloïse",
            "last_name": "LEFÈVRE",
            "civility": "MME",
            "profession": { "code": "70", "label": "Masseur-kinésithérapeute" },
            "specialty": null,
            "mode_exercice": { "code": "L", "label": "Libéral" },
            "organisation_ids": found["items"][0]["organisation_ids"].clone(),
            "commune_code": "59368",
            "cpts_member": false,
            "source": "rpps",
        })
    );
    assert_eq!(
        found["items"][0]["organisation_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Pharmacists of Lille, page by page.
    let mut seen = Vec::new();
    let mut path = "/v1/directory?profession=21&commune=59350&limit=3".to_string();
    loop {
        let page = json_ok(&nurse, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "a cursor never leads to an empty page");
        for e in items {
            assert_eq!(e["profession"]["code"], "21", "{e}");
            seen.push(e["national_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/v1/directory?profession=21&commune=59350&limit=3&cursor={c}")
            }
            None => break,
        }
    }
    assert!(seen.len() > 3, "{seen:?}");
    assert!(seen.contains(&"810001001048".to_string()), "pharma-petit");
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());

    // Bad input answers problem+json with a stable code.
    let bad = nurse.get("/v1/directory?commune=Lille").await;
    let body = problem(bad, 422, "directory.invalid_commune").await;
    assert_eq!(body["field"], "commune");
    problem(
        nurse.get("/v1/directory?profession=%3Cb%3E").await,
        422,
        "directory.invalid_profession",
    )
    .await;
    problem(
        nurse
            .get(&format!("/v1/directory?q={}", "a".repeat(101)))
            .await,
        422,
        "directory.invalid_query",
    )
    .await;
    problem(
        nurse.get("/v1/directory?cursor=nonsense").await,
        400,
        "request.invalid_cursor",
    )
    .await;
    problem(
        nurse.get("/v1/directory/810009999999").await,
        404,
        "directory.not_found",
    )
    .await;
    problem(
        app.get("/v1/directory?q=martin").await,
        401,
        "auth.required",
    )
    .await;
    // Nothing to search by: an empty page, not an error.
    let empty = json_ok(&nurse, "/v1/directory?q=%27%27").await;
    assert_eq!(empty, json!({ "items": [], "next_cursor": null }));
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn first_psc_login_binds_the_imported_entry_by_national_id() {
    let app = spawn_app().await;
    seed(&app).await;
    let nurse = app.login("nurse-bernard").await;
    let card = json_ok(&nurse, "/v1/directory/810001001014").await;
    assert_eq!(card["has_account"], false);

    let gp = app.login("gp-martin").await;
    assert_eq!(gp.national_id, "810001001014");
    let card = json_ok(&nurse, "/v1/directory/810001001014").await;
    assert_eq!(card["account_id"], gp.id.as_str());
    assert_eq!(card["has_account"], true);
    assert_eq!(card["source"], "rpps");
    // Her namesake, a nurse in Loos, is not bound: never by name.
    let namesakes = json_ok(&nurse, "/v1/directory?q=martin%20claire").await;
    let namesakes = namesakes["items"].as_array().unwrap();
    assert_eq!(namesakes.len(), 2);
    let other = namesakes
        .iter()
        .find(|e| e["national_id"] == "810002009990")
        .unwrap();
    assert_eq!(other["has_account"], false);
    assert_eq!(other["account_id"], Value::Null);

    // Dr Dubois's two activities: the cabinet and the hospital the import made.
    let dubois = app.login("gp-dubois").await;
    let mine = json_ok(&dubois, "/v1/organisations?member=me").await;
    let mut orgs: Vec<(String, String)> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert!(
                o["member_ids"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(dubois.id))
            );
            (
                o["name"].as_str().unwrap().to_string(),
                o["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    orgs.sort();
    assert_eq!(
        orgs,
        [
            ("Cabinet du Dr Dubois".to_string(), "cabinet".to_string()),
            (
                "Centre hospitalier de Lambersart".to_string(),
                "etablissement".to_string()
            ),
        ]
    );
    let hospital = json_ok(&dubois, "/v1/organisations?q=lambersart&kind=etablissement").await;
    assert_eq!(hospital["items"].as_array().unwrap().len(), 1, "{hospital}");
    assert_eq!(hospital["items"][0]["source"], "rpps");
    assert_eq!(hospital["items"][0]["finess"], "590000017");
    let card = json_ok(&nurse, "/v1/directory/810001001022").await;
    assert!(
        card["organisation_ids"]
            .as_array()
            .unwrap()
            .contains(&hospital["items"][0]["id"])
    );
    app.stop().await;
}

#[tokio::test]
async fn organisations_are_made_from_psc_activities_at_login() {
    // No import: the login alone makes the entry and the structures.
    let app = spawn_app().await;
    let pharmacist = app.login("pharma-petit").await;
    let mine = json_ok(&pharmacist, "/v1/organisations?member=me").await;
    let officine = &mine["items"][0];
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(officine["name"], "Pharmacie du Beffroi");
    assert_eq!(officine["kind"], "officine");
    assert_eq!(officine["finess"], "590000025");
    assert_eq!(officine["structure_id"], "R10000004");
    assert_eq!(officine["source"], "psc");

    // Two professionals of the MSP meet on one organisation.
    let physio = app.login("physio-moreau").await;
    let gp = app.login("gp-martin").await;
    let msp = json_ok(&gp, "/v1/organisations?q=tilleuls").await;
    assert_eq!(msp["items"].as_array().unwrap().len(), 1);
    let members = msp["items"][0]["member_ids"].as_array().unwrap();
    assert!(members.contains(&json!(physio.id)) && members.contains(&json!(gp.id)));
    assert_eq!(msp["items"][0]["kind"], "cabinet");

    // The login made a directory entry, found by name and profession.
    let found = json_ok(&gp, "/v1/directory?q=moreau&profession=80").await;
    assert_eq!(names(&found), ["Lucas MOREAU"]);
    assert_eq!(found["items"][0]["source"], "psc");
    assert_eq!(found["items"][0]["account_id"], physio.id.as_str());
    assert_eq!(
        found["items"][0]["organisation_ids"][0],
        msp["items"][0]["id"]
    );

    // Leaving the MSP holds across the next login.
    let msp_id = msp["items"][0]["id"].as_str().unwrap().to_string();
    let r = physio
        .delete(&format!("/v1/organisations/{msp_id}/members/me"))
        .await;
    assert_eq!(r.status(), 204);
    problem(
        physio
            .delete(&format!("/v1/organisations/{msp_id}/members/me"))
            .await,
        404,
        "organisation.not_member",
    )
    .await;
    let physio = app.login("physio-moreau").await;
    let mine = json_ok(&physio, "/v1/organisations?member=me").await;
    assert_eq!(mine["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn invitations_link_to_psc_and_acceptance_notifies_the_inviter() {
    let app = spawn_app().await;
    seed(&app).await;
    let nurse = app.login("nurse-bernard").await;
    let r = nurse
        .post_json("/v1/directory/810001001063/invite", &json!({}))
        .await;
    assert_eq!(r.status(), 201);
    let invitation: Value = r.json().await.unwrap();
    assert_eq!(
        invitation["link"],
        format!(
            "{}/v1/auth/login?provider=psc-sandbox&login_hint=810001001063",
            app.base
        )
    );
    assert_eq!(invitation["accepted_at"], Value::Null);
    let again = nurse
        .post_json("/v1/directory/810001001063/invite", &json!({}))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], invitation["id"]);
    problem(
        nurse
            .post_json("/v1/directory/810009999999/invite", &json!({}))
            .await,
        404,
        "directory.not_found",
    )
    .await;

    // The link starts a PSC login.
    let start = app
        .client
        .get(invitation["link"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let location = start.headers()["location"].to_str().unwrap();
    assert!(location.contains("login_hint=810001001063"), "{location}");

    // Her first login accepts it and tells the nurse.
    let midwife = app.login("midwife-leroy").await;
    let notes = json_ok(&nurse, "/v1/notifications").await;
    let accepted: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "directory.invitation_accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "{notes}");
    assert_eq!(accepted[0]["subject_id"], midwife.id.as_str());
    assert_eq!(accepted[0]["patient_id"], Value::Null);
    problem(
        nurse
            .post_json("/v1/directory/810001001063/invite", &json!({}))
            .await,
        409,
        "directory.already_registered",
    )
    .await;
    app.stop().await;
}

fn profile() -> Value {
    json!({
        "name": "CPTS Lille Ouest",
        "population": 80000,
        "contract_signed_on": "2025-03-14",
        "missions": ["parcours", "acces_soins", "crise_sanitaire"],
        "communes": ["59350", "59328", "59368"],
    })
}

#[tokio::test]
async fn cpts_profile_is_written_by_admins_read_by_everyone() {
    let app = spawn_app().await;
    let admin = app.login("admin-roux").await;
    let coordinator = app.login("coord-garcia").await;
    let nurse = app.login("nurse-bernard").await;
    let blank = json_ok(&coordinator, "/v1/cpts").await;
    assert_eq!(blank["name"], Value::Null);
    assert_eq!(blank["size"], Value::Null);

    let r = admin.put_json("/v1/cpts", &profile()).await;
    assert_eq!(r.status(), 200);
    let written: Value = r.json().await.unwrap();
    assert_eq!(written["size"], 3);
    assert_eq!(
        written["missions"],
        json!(["acces_soins", "parcours", "crise_sanitaire"])
    );
    assert_eq!(written["communes"], json!(["59328", "59350", "59368"]));
    assert_eq!(written["updated_by"], admin.id.as_str());
    for reader in [&coordinator, &nurse] {
        let read = json_ok(reader, "/v1/cpts").await;
        assert_eq!(read["name"], "CPTS Lille Ouest");
        assert_eq!(read["size"], 3);
    }

    problem(
        coordinator.put_json("/v1/cpts", &profile()).await,
        403,
        "cpts.admin_only",
    )
    .await;
    let bad = |change: fn(&mut Value)| {
        let mut p = profile();
        change(&mut p);
        p
    };
    let cases: [(Value, &str); 7] = [
        (
            bad(|p| p["population"] = json!(0)),
            "cpts.invalid_population",
        ),
        (bad(|p| p["name"] = json!(" ")), "cpts.invalid_name"),
        (
            bad(|p| p["missions"] = json!(["sport"])),
            "cpts.invalid_mission",
        ),
        (
            bad(|p| p["missions"] = json!(["parcours", "parcours"])),
            "cpts.duplicate_mission",
        ),
        (
            bad(|p| p["communes"] = json!(["Lille"])),
            "cpts.invalid_commune",
        ),
        (
            bad(|p| p["contract_signed_on"] = json!("14/03/2025")),
            "cpts.invalid_date",
        ),
        (bad(|p| p["size"] = json!(2)), "request.invalid_field"),
    ];
    for (body, code) in cases {
        problem(admin.put_json("/v1/cpts", &body).await, 422, code).await;
    }
    // Nothing was written by the refused requests.
    let after = json_ok(&nurse, "/v1/cpts").await;
    assert_eq!(after["population"], 80000);
    assert_eq!(after["updated_at"], written["updated_at"]);

    // Size follows population.
    let mut big = profile();
    big["population"] = json!(175_001);
    let r: Value = admin.put_json("/v1/cpts", &big).await.json().await.unwrap();
    assert_eq!(r["size"], 4);
    app.stop().await;
}

#[tokio::test]
async fn cpts_membership_is_joined_and_left_by_professionals() {
    let app = spawn_app().await;
    seed(&app).await;
    let nurse = app.login("nurse-bernard").await;
    let coordinator = app.login("coord-garcia").await;
    problem(
        nurse.get("/v1/cpts/membership").await,
        404,
        "cpts.not_member",
    )
    .await;
    let r = nurse.post_json("/v1/cpts/membership", &json!({})).await;
    assert_eq!(r.status(), 201);
    let joined: Value = r.json().await.unwrap();
    assert_eq!(joined["profession"]["code"], "60");
    assert_eq!(joined["left_at"], Value::Null);
    problem(
        nurse.post_json("/v1/cpts/membership", &json!({})).await,
        409,
        "cpts.already_member",
    )
    .await;
    problem(
        coordinator
            .post_json("/v1/cpts/membership", &json!({}))
            .await,
        403,
        "cpts.professionals_only",
    )
    .await;
    let cpts = json_ok(&coordinator, "/v1/cpts").await;
    assert_eq!(cpts["members"]["total"], 1);
    assert_eq!(
        cpts["members"]["by_profession"][0]["profession"]["code"],
        "60"
    );
    let card = json_ok(&coordinator, "/v1/directory/810001001030").await;
    assert_eq!(card["cpts_member"], true);

    let r = nurse.delete("/v1/cpts/membership").await;
    assert_eq!(r.status(), 200);
    let left: Value = r.json().await.unwrap();
    assert_eq!(left["id"], joined["id"]);
    assert!(left["left_at"].is_string());
    problem(
        nurse.delete("/v1/cpts/membership").await,
        409,
        "cpts.not_member",
    )
    .await;
    let card = json_ok(&coordinator, "/v1/directory/810001001030").await;
    assert_eq!(card["cpts_member"], false);
    app.stop().await;
}

#[tokio::test]
async fn coordinators_create_edit_and_merge_organisations() {
    let app = spawn_app().await;
    let coordinator = app.login("coord-garcia").await;
    let nurse = app.login("nurse-bernard").await;
    let ehpad = json!({
        "kind": "ehpad",
        "name": "EHPAD Les Hortensias",
        "finess": "590099991",
        "commune_code": "59328",
    });
    problem(
        nurse.post_json("/v1/organisations", &ehpad).await,
        403,
        "organisation.coordinators_only",
    )
    .await;
    let r = coordinator.post_json("/v1/organisations", &ehpad).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["kind"], "ehpad");
    assert_eq!(created["source"], "manual");
    let id = created["id"].as_str().unwrap().to_string();

    let before = json_ok(&coordinator, "/v1/organisations?limit=200").await;
    let cases: [(Value, u16, &str); 5] = [
        (
            json!({ "kind": "hopital", "name": "CH" }),
            422,
            "organisation.invalid_kind",
        ),
        (
            json!({ "kind": "ehpad", "name": "E", }),
            422,
            "organisation.invalid_name",
        ),
        (
            json!({ "kind": "ehpad", "name": "EHPAD", "finess": "59ABC" }),
            422,
            "organisation.invalid_finess",
        ),
        (
            json!({ "kind": "ehpad", "name": "EHPAD", "siret": "73282932000075" }),
            422,
            "organisation.invalid_siret",
        ),
        (ehpad.clone(), 409, "organisation.duplicate"),
    ];
    for (body, status, code) in cases {
        problem(
            coordinator.post_json("/v1/organisations", &body).await,
            status,
            code,
        )
        .await;
    }
    assert_eq!(
        json_ok(&coordinator, "/v1/organisations?limit=200").await,
        before,
        "nothing written by refused requests"
    );

    let r = coordinator
        .put_json(
            &format!("/v1/organisations/{id}"),
            &json!({ "kind": "ehpad", "name": "EHPAD Les Hortensias (Lambersart)", "finess": "590099991" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let typed: Value = coordinator
        .post_json(
            "/v1/organisations",
            &json!({ "kind": "ehpad", "name": "Ehpad Hortensias" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = coordinator
        .post_json(
            &format!("/v1/organisations/{id}/merge"),
            &json!({ "duplicate_id": typed["id"] }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let kept: Value = r.json().await.unwrap();
    assert_eq!(kept["id"], id.as_str());
    let merged = json_ok(
        &nurse,
        &format!("/v1/organisations/{}", typed["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(merged["id"], id.as_str());
    let listed = json_ok(&nurse, "/v1/organisations?q=hortensias").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    problem(
        coordinator
            .post_json(
                &format!("/v1/organisations/{id}/merge"),
                &json!({ "duplicate_id": typed["id"] }),
            )
            .await,
        409,
        "organisation.already_merged",
    )
    .await;
    problem(
        nurse
            .get("/v1/organisations/00000000-0000-7000-8000-000000000000")
            .await,
        404,
        "organisation.not_found",
    )
    .await;
    problem(
        nurse.get("/v1/organisations?kind=hopital").await,
        422,
        "organisation.invalid_kind",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn openapi_documents_the_directory_routes_and_their_constraints() {
    let app = spawn_app().await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/v1/directory", "get"),
        ("/v1/directory/{national_id}", "get"),
        ("/v1/directory/{national_id}/invite", "post"),
        ("/v1/organisations", "get"),
        ("/v1/organisations", "post"),
        ("/v1/organisations/{id}", "get"),
        ("/v1/organisations/{id}", "put"),
        ("/v1/organisations/{id}/merge", "post"),
        ("/v1/organisations/{id}/members/me", "delete"),
        ("/v1/cpts", "get"),
        ("/v1/cpts", "put"),
        ("/v1/cpts/membership", "get"),
        ("/v1/cpts/membership", "post"),
        ("/v1/cpts/membership", "delete"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path}");
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status}"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let kinds = schemas["OrganisationBody"]["properties"]["kind"]["enum"].clone();
    assert!(
        kinds.as_array().unwrap().contains(&json!("ehpad")),
        "{kinds}"
    );
    let missions = &schemas["CptsBody"]["properties"]["missions"]["items"]["enum"];
    assert!(
        missions
            .as_array()
            .unwrap()
            .contains(&json!("crise_sanitaire"))
    );
    assert!(
        schemas["CptsBody"]["properties"]["communes"]["items"]["pattern"].is_string(),
        "{}",
        schemas["CptsBody"]
    );
    let params = doc["paths"]["/v1/directory"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let commune = params.iter().find(|p| p["name"] == "commune").unwrap();
    // A named schema: the filter accepts blank as "any commune".
    let named = commune["schema"]["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_else(|| panic!("{commune}"));
    let pattern = schemas[named]["pattern"].as_str().unwrap_or_default();
    assert!(pattern.contains("[0-9]{5}"), "{named}: {pattern}");
    // Nullable identifiers say so: a client must expect `null`.
    let finess = &schemas["OrganisationOut"]["properties"]["finess"];
    assert!(
        finess["oneOf"]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|a| a["type"] == "null")),
        "{finess}"
    );
    app.stop().await;
}
