//! Messaging through HTTP and the WebSocket stream.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::file::patient_with_team;
use crate::support::{TestApp, User, problem, spawn_app};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn connect(app: &TestApp, token: &str, since: Option<i64>) -> Socket {
    let url = match since {
        Some(c) => format!("{}/v1/stream?since={c}", app.base.replace("http", "ws")),
        None => format!("{}/v1/stream", app.base.replace("http", "ws")),
    };
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
}

/// The next JSON frame (pings are answered by the client library).
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("no frame within 10 s");
        match frame {
            Some(Ok(Ws::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Ws::Ping(_) | Ws::Pong(_))) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Frames up to `ready`: the backlog.
pub async fn backlog(socket: &mut Socket) -> (Vec<Value>, i64) {
    let mut events = Vec::new();
    loop {
        let frame = next(socket).await;
        if frame["type"] == "ready" {
            return (events, frame["cursor"].as_i64().unwrap());
        }
        events.push(frame);
    }
}

pub async fn send(
    user: &User,
    conversation: &str,
    client_id: &str,
    body: &str,
) -> reqwest::Response {
    user.post_json(
        &format!("/v1/conversations/{conversation}/messages"),
        &json!({ "client_id": client_id, "body": body }),
    )
    .await
}

/// `by` removes `who` from `patient`'s care team.
async fn remove_from_team(by: &User, patient: &str, who: &User) {
    let team: Value = by
        .get(&format!("/v1/patients/{patient}/care-team"))
        .await
        .json()
        .await
        .unwrap();
    let member = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["account_id"] == who.id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = by
        .delete(&format!("/v1/patients/{patient}/care-team/{member}"))
        .await;
    assert_eq!(r.status(), 204);
}

/// A `soins` thread about `patient`, titled "Plaie", opened by `user`.
async fn patient_thread(user: &User, patient: &str) -> String {
    let r = user
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "patient", "patient_id": patient, "category": "soins", "title": "Plaie" }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn group(owner: &User, members: &[&User]) -> String {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let r = owner
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "group", "title": "Équipe du mardi", "member_ids": ids }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn concurrent_senders_one_order_delivered_to_every_member() {
    let app = spawn_app().await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let c = app.login("pharma-petit").await;
    let conv = group(&a, &[&b, &c]).await;
    let mut sockets = Vec::new();
    for u in [&a, &b, &c] {
        let mut s = connect(&app, &u.bearer().await, None).await;
        backlog(&mut s).await;
        sockets.push(s);
    }
    let mut tasks = Vec::new();
    for (n, u) in [a.client.clone(), b.client.clone(), c.client.clone()]
        .into_iter()
        .enumerate()
    {
        let (url, csrf) = (
            a.url(&format!("/v1/conversations/{conv}/messages")),
            [&a, &b, &c][n].csrf.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let r = u
                    .post(&url)
                    .header("x-csrf-token", &csrf)
                    .json(&json!({ "client_id": format!("{n}-{i}"), "body": format!("{n}-{i}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut orders = Vec::new();
    for s in &mut sockets {
        let mut seqs = Vec::new();
        while seqs.len() < 60 {
            let f = next(s).await;
            assert_eq!(f["type"], "message.created");
            seqs.push(f["data"]["seq"].as_i64().unwrap());
        }
        orders.push(seqs);
    }
    let expected: Vec<i64> = (1..=60).collect();
    for o in &orders {
        assert_eq!(o, &expected, "every member sees one order");
    }
    app.stop().await;
}

#[tokio::test]
async fn reconnect_and_resume_no_loss_no_duplicate() {
    let app = spawn_app().await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let conv = group(&a, &[&b]).await;
    let token = b.bearer().await;
    let mut s = connect(&app, &token, None).await;
    let (_, start) = backlog(&mut s).await;
    for i in 0..5 {
        assert_eq!(
            send(&a, &conv, &format!("a{i}"), &format!("m{i}"))
                .await
                .status(),
            201
        );
    }
    let mut last = start;
    for _ in 0..5 {
        let f = next(&mut s).await;
        last = f["cursor"].as_i64().unwrap();
    }
    s.close(None).await.ok();
    drop(s);
    // Offline: more messages, an edit, a receipt.
    for i in 5..12 {
        assert_eq!(
            send(&a, &conv, &format!("a{i}"), &format!("m{i}"))
                .await
                .status(),
            201
        );
    }
    let mut s = connect(&app, &token, Some(last)).await;
    let (missed, ready_at) = backlog(&mut s).await;
    let bodies: Vec<&str> = missed
        .iter()
        .map(|f| f["data"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        (5..12)
            .map(|i| format!("m{i}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(
        missed
            .windows(2)
            .all(|w| w[0]["cursor"].as_i64() < w[1]["cursor"].as_i64())
    );
    // Then live, with no duplicate of what the backlog gave.
    assert_eq!(send(&a, &conv, "a12", "m12").await.status(), 201);
    let live = next(&mut s).await;
    assert_eq!(live["data"]["body"], "m12");
    assert!(live["cursor"].as_i64().unwrap() > ready_at);
    app.stop().await;
}

#[tokio::test]
async fn retries_with_the_same_client_id_create_one_message() {
    let app = spawn_app().await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let conv = group(&a, &[&b]).await;
    let first = send(&a, &conv, "retry-1", "Passage à 18 h").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let mut retries = Vec::new();
    for _ in 0..5 {
        let (client, url, csrf) = (
            a.client.clone(),
            a.url(&format!("/v1/conversations/{conv}/messages")),
            a.csrf.clone(),
        );
        retries.push(tokio::spawn(async move {
            client
                .post(url)
                .header("x-csrf-token", csrf)
                .json(&json!({ "client_id": "retry-1", "body": "Passage à 18 h" }))
                .send()
                .await
                .unwrap()
        }));
    }
    for r in retries {
        let r = r.await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["id"], first["id"]);
    }
    let list: Value = b
        .get(&format!("/v1/conversations/{conv}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Limits answer with clear codes.
    let long = "x".repeat(16 * 1024 + 1);
    problem(
        send(&a, &conv, "too-long", &long).await,
        422,
        "message.too_large",
    )
    .await;
    problem(
        send(&a, &conv, "", "x").await,
        422,
        "message.invalid_client_id",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn non_members_neither_fetch_nor_stream() {
    let app = spawn_app().await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let outsider = app.login("gp-dubois").await;
    let conv = group(&a, &[&b]).await;
    problem(
        outsider.get(&format!("/v1/conversations/{conv}")).await,
        404,
        "conversation.not_found",
    )
    .await;
    problem(
        outsider
            .get(&format!("/v1/conversations/{conv}/messages"))
            .await,
        404,
        "conversation.not_found",
    )
    .await;
    problem(
        send(&outsider, &conv, "o1", "hello").await,
        404,
        "conversation.not_found",
    )
    .await;
    let mut spy = connect(&app, &outsider.bearer().await, Some(0)).await;
    let (seen, _) = backlog(&mut spy).await;
    assert!(seen.is_empty());
    assert_eq!(send(&a, &conv, "a1", "secret de soin").await.status(), 201);
    // A direct message to the outsider arrives; the group's never does.
    let direct: Value = a
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "direct", "member_ids": [outsider.id] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        send(&a, direct["id"].as_str().unwrap(), "d1", "bonjour")
            .await
            .status(),
        201
    );
    let f = next(&mut spy).await;
    assert_eq!(f["data"]["body"], "bonjour");
    // Without a session: 401.
    let r = reqwest::get(app.url("/v1/stream")).await.unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn leaving_the_care_team_stops_delivery_at_once() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&nurse, &patient).await;
    let mut s = connect(&app, &nurse.bearer().await, None).await;
    backlog(&mut s).await;
    assert_eq!(send(&gp, &thread, "g1", "avant").await.status(), 201);
    assert_eq!(next(&mut s).await["data"]["body"], "avant");
    // The nurse leaves the team; the very next message does not reach her.
    remove_from_team(&gp, &patient, &nurse).await;
    assert_eq!(send(&gp, &thread, "g2", "après").await.status(), 201);
    // A marker the nurse does receive proves the stream is alive and in order.
    let direct: Value = gp
        .post_json(
            "/v1/conversations",
            &json!({ "kind": "direct", "member_ids": [nurse.id] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        send(&gp, direct["id"].as_str().unwrap(), "d1", "marqueur")
            .await
            .status(),
        201
    );
    assert_eq!(
        next(&mut s).await["data"]["body"],
        "marqueur",
        "the thread message after leaving was not delivered"
    );
    problem(
        nurse
            .get(&format!("/v1/conversations/{thread}/messages"))
            .await,
        404,
        "conversation.not_found",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn edits_deletes_and_receipts_reach_the_stream() {
    let app = spawn_app().await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let conv = group(&a, &[&b]).await;
    let mut s = connect(&app, &b.bearer().await, None).await;
    backlog(&mut s).await;
    let m: Value = send(&a, &conv, "a1", "RDV 9 h").await.json().await.unwrap();
    let id = m["id"].as_str().unwrap();
    assert_eq!(next(&mut s).await["type"], "message.created");
    let r = a
        .patch_json(
            &format!("/v1/conversations/{conv}/messages/{id}"),
            &json!({ "body": "RDV 10 h" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let f = next(&mut s).await;
    assert_eq!(
        (
            f["type"].as_str(),
            f["data"]["body"].as_str(),
            f["data"]["version"].as_i64()
        ),
        (Some("message.updated"), Some("RDV 10 h"), Some(2))
    );
    problem(
        b.patch_json(
            &format!("/v1/conversations/{conv}/messages/{id}"),
            &json!({ "body": "x" }),
        )
        .await,
        403,
        "message.not_sender",
    )
    .await;
    let history: Value = a
        .get(&format!("/v1/conversations/{conv}/messages/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][0]["body"], "RDV 9 h");
    assert_eq!(
        b.post_json(
            &format!("/v1/conversations/{conv}/read"),
            &json!({ "up_to": id })
        )
        .await
        .status(),
        200
    );
    let mut a_socket = connect(&app, &a.bearer().await, Some(0)).await;
    let (a_backlog, _) = backlog(&mut a_socket).await;
    assert!(
        a_backlog
            .iter()
            .any(|f| f["type"] == "receipt" && f["data"]["account_id"] == b.id.as_str())
    );
    assert_eq!(
        a.delete(&format!("/v1/conversations/{conv}/messages/{id}"))
            .await
            .status(),
        200
    );
    // b also receives its own receipt (cursor order), then the deletion.
    let mut saw_delete = false;
    for _ in 0..2 {
        let f = next(&mut s).await;
        if f["type"] == "message.deleted" {
            assert_eq!(f["data"]["body"], "");
            saw_delete = true;
        }
    }
    assert!(saw_delete);
    let conv_view: Value = b
        .get(&format!("/v1/conversations/{conv}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conv_view["unread"], 0);
    app.stop().await;
}

#[tokio::test]
async fn sends_per_minute_are_limited_per_account() {
    let app = crate::support::spawn_app_with(|l| l.send_rate_limit = Some(3)).await;
    let a = app.login("gp-martin").await;
    let b = app.login("nurse-bernard").await;
    let conv = group(&a, &[&b]).await;
    for i in 0..3 {
        assert_eq!(send(&a, &conv, &format!("r{i}"), "x").await.status(), 201);
    }
    let body = problem(
        send(&a, &conv, "r3", "x").await,
        429,
        "message.rate_limited",
    )
    .await;
    assert!(body["retry_after"].as_u64().unwrap() >= 1);
    // Another account is not affected.
    assert_eq!(send(&b, &conv, "b0", "x").await.status(), 201);
    app.stop().await;
}

/// A lost phone: its session revoked from the laptop, or logged out, stops receiving
/// at once (not at its next heartbeat, 25 s later); the laptop's stream goes on.
#[tokio::test]
async fn ending_a_session_ends_its_streams_at_once() {
    let app = spawn_app().await;
    let laptop = app.login("gp-martin").await;
    let phone = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let conv = group(&laptop, &[&nurse]).await;
    let issued: Value = phone
        .post_json("/v1/auth/tokens", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let (phone_session, phone_token) = (
        issued["id"].as_str().unwrap(),
        issued["token"].as_str().unwrap(),
    );
    let mut phone_socket = connect(&app, phone_token, None).await;
    backlog(&mut phone_socket).await;
    let laptop_token = laptop.bearer().await;
    let mut laptop_socket = connect(&app, &laptop_token, None).await;
    backlog(&mut laptop_socket).await;

    let r = laptop
        .delete(&format!("/v1/auth/sessions/{phone_session}"))
        .await;
    assert_eq!(r.status(), 204);
    let frame = tokio::time::timeout(Duration::from_secs(5), next(&mut phone_socket))
        .await
        .expect("the revoked session's stream was not ended within 5 s");
    assert_eq!(frame["type"], "session.ended", "{frame}");
    let after = tokio::time::timeout(Duration::from_secs(5), phone_socket.next())
        .await
        .expect("the socket stayed open");
    assert!(
        matches!(after, None | Some(Ok(Ws::Close(_))) | Some(Err(_))),
        "{after:?}"
    );

    // The laptop's stream is untouched: the nurse's message reaches it.
    assert_eq!(
        send(&nurse, &conv, "n-1", "Passage à 18 h").await.status(),
        201
    );
    let frame = next(&mut laptop_socket).await;
    assert_eq!(frame["type"], "message.created");
    assert_eq!(frame["data"]["body"], "Passage à 18 h");

    // Logging out (here with the bearer token itself) ends that session's stream too.
    let r = reqwest::Client::new()
        .post(app.url("/v1/auth/logout"))
        .bearer_auth(&laptop_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let frame = tokio::time::timeout(Duration::from_secs(5), next(&mut laptop_socket))
        .await
        .expect("the logged-out session's stream was not ended within 5 s");
    assert_eq!(frame["type"], "session.ended", "{frame}");
    app.stop().await;
}

/// Receiving a patient thread's messages on the stream is a read of the patient's
/// file: the access log shows it, once per connection and thread (not per message),
/// and group conversations leave nothing there.
#[tokio::test]
async fn stream_deliveries_of_patient_threads_are_in_the_access_log() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&gp, &patient).await;
    let streamed = |log: &Value| -> usize {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                i["action"] == "message.stream"
                    && i["actor_id"] == nurse.id.as_str()
                    && i["resource_id"] == thread.as_str()
            })
            .count()
    };
    let log_path = format!("/v1/patients/{patient}/access-log");
    let access_log = || async { gp.get(&log_path).await.json::<Value>().await.unwrap() };

    let token = nurse.bearer().await;
    let mut socket = connect(&app, &token, None).await;
    backlog(&mut socket).await;
    assert_eq!(streamed(&access_log().await), 0, "nothing delivered yet");
    for n in 0..3 {
        assert_eq!(
            send(&gp, &thread, &format!("g{n}"), "pansement")
                .await
                .status(),
            201
        );
        assert_eq!(next(&mut socket).await["type"], "message.created");
    }
    assert_eq!(
        streamed(&access_log().await),
        1,
        "one record for the connection"
    );

    // A reconnection that replays the backlog is a new read.
    drop(socket);
    let mut socket = connect(&app, &token, Some(0)).await;
    let (events, _) = backlog(&mut socket).await;
    assert!(events.len() >= 3);
    assert_eq!(streamed(&access_log().await), 2);
    app.stop().await;
}

/// Heartbeats find dead devices: one that stops answering pings is dropped after a
/// missed pong, while one that keeps reading (and so answers them) stays connected.
#[tokio::test]
async fn a_device_that_stops_answering_pings_is_dropped() {
    let app = crate::support::spawn_app_with(|l| l.stream_heartbeat = Some(1)).await;
    let nurse = app.login("nurse-bernard").await;
    let token = nurse.bearer().await;
    let mut silent = connect(&app, &token, None).await;
    backlog(&mut silent).await;
    let mut alive = connect(&app, &token, None).await;
    backlog(&mut alive).await;

    // The live device reads (the client library answers pings) for 3.5 heartbeats.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut pings = 0;
    while let Ok(frame) = tokio::time::timeout_at(deadline, alive.next()).await {
        match frame {
            Some(Ok(Ws::Ping(_))) => pings += 1,
            other => panic!("the live device got {other:?}"),
        }
    }
    assert!(pings >= 2, "{pings} pings in 3.5 s at one per second");

    // The silent one read nothing meanwhile: its pings went unanswered.
    let mut ended = false;
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(2), silent.next()).await {
            Ok(Some(Ok(Ws::Ping(_) | Ws::Pong(_)))) => continue,
            Ok(None | Some(Err(_)) | Some(Ok(Ws::Close(_)))) => {
                ended = true;
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(ended, "the silent device is still connected");

    // The live one is still served.
    let conv = group(&nurse, &[]).await;
    assert_eq!(
        send(&nurse, &conv, "n-1", "toujours là").await.status(),
        201
    );
    loop {
        let frame = next(&mut alive).await;
        if frame["type"] == "message.created" {
            assert_eq!(frame["data"]["body"], "toujours là");
            break;
        }
    }
    app.stop().await;
}

/// A patient's threads are part of the file: the export carries them, messages in
/// order and deletions as tombstones.
#[tokio::test]
async fn the_patient_export_carries_the_patient_threads() {
    let app = spawn_app().await;
    let gp = app.login("gp-martin").await;
    let nurse = app.login("nurse-bernard").await;
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&nurse, &patient).await;
    assert_eq!(
        send(&nurse, &thread, "n-1", "Plaie propre").await.status(),
        201
    );
    let oops: Value = send(&nurse, &thread, "n-2", "mauvais patient")
        .await
        .json()
        .await
        .unwrap();
    let r = nurse
        .delete(&format!(
            "/v1/conversations/{thread}/messages/{}",
            oops["id"].as_str().unwrap()
        ))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        send(&gp, &thread, "g-1", "Je passe demain").await.status(),
        201
    );

    let export: Value = gp
        .get(&format!("/v1/patients/{patient}/export"))
        .await
        .json()
        .await
        .unwrap();
    let threads = export["conversations"].as_array().unwrap();
    assert_eq!(threads.len(), 1, "{export}");
    assert_eq!(threads[0]["id"], thread.as_str());
    assert_eq!(threads[0]["title"], "Plaie");
    let messages = threads[0]["messages"].as_array().unwrap();
    let bodies: Vec<&str> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["Plaie propre", "", "Je passe demain"]);
    assert!(messages[1]["deleted_at"].is_string(), "{}", messages[1]);
    app.stop().await;
}

/// Two gateway instances on one database: a message sent through one reaches a
/// device connected to the other (read back from the database within a second or
/// so), in order, and the member list follows team changes made on either.
#[tokio::test]
async fn two_instances_deliver_each_others_messages() {
    let first = spawn_app().await;
    let (url, dir) = (first.db.url.clone(), first.dir.clone());
    let second = crate::support::spawn_app_with(|l| {
        l.database_url = Some(url);
        l.data_dir = Some(dir);
    })
    .await;
    let gp = first.login("gp-martin").await;
    let nurse = second.login("nurse-bernard").await;
    let conv = group(&gp, &[&nurse]).await;
    let mut socket = connect(&second, &nurse.bearer().await, None).await;
    backlog(&mut socket).await;
    for n in 0..3 {
        let body = format!("message {n}");
        assert_eq!(
            send(&gp, &conv, &format!("g-{n}"), &body).await.status(),
            201
        );
    }
    let mut bodies = Vec::new();
    while bodies.len() < 3 {
        let frame = next(&mut socket).await;
        if frame["type"] == "message.created" {
            bodies.push(frame["data"]["body"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(bodies, vec!["message 0", "message 1", "message 2"]);

    // The nurse leaves a patient's team through the first instance: the second, where
    // her device is, stops delivering that thread once it has re-read the audience.
    let patient = patient_with_team(&gp, &[&nurse]).await;
    let thread = patient_thread(&gp, &patient).await;
    let gp_on_second = second.login("gp-martin").await;
    assert_eq!(
        send(&gp_on_second, &thread, "t-1", "avant").await.status(),
        201
    );
    loop {
        let frame = next(&mut socket).await;
        if frame["type"] == "message.created" && frame["data"]["body"] == "avant" {
            break;
        }
    }
    remove_from_team(&gp, &patient, &nurse).await;
    // The second instance trusts the audience it read for a second of its clock.
    second.clock.advance(Duration::from_millis(1500));
    assert_eq!(
        send(&gp_on_second, &thread, "t-2", "après").await.status(),
        201
    );
    assert_eq!(
        send(&gp_on_second, &conv, "g-marker", "marqueur")
            .await
            .status(),
        201
    );
    loop {
        let frame = next(&mut socket).await;
        if frame["type"] == "message.created" {
            assert_eq!(frame["data"]["body"], "marqueur", "{frame}");
            break;
        }
    }
    second.stop().await;
    first.stop().await;
}
