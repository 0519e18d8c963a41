//! A gateway killed with SIGKILL while messages are being sent loses none that it
//! acknowledged; after a restart they are all there, in one order, and the stream
//! replays them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::{Running, scratch};

#[tokio::test]
async fn sigkill_loses_no_acknowledged_message() {
    let s = scratch().await;
    let limits = [("CORDEE_SEND_RATE_LIMIT", "100000")];
    let gateway = Running::start(&s, &limits).await;
    let gp = gateway.bearer("gp-martin").await;
    let nurse = gateway.bearer("nurse-bernard").await;
    let http = reqwest::Client::new();
    let nurse_id: Value = http
        .get(format!("{}/v1/me", gateway.base))
        .bearer_auth(&nurse)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conv: Value = http
        .post(format!("{}/v1/conversations", gateway.base))
        .bearer_auth(&gp)
        .json(&json!({ "kind": "group", "title": "garde", "member_ids": [nurse_id["id"]] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conv = conv["id"].as_str().unwrap().to_string();

    let acked: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(HashSet::new()));
    let mut senders = Vec::new();
    for t in 0..8 {
        let (http, acked, url, token) = (
            http.clone(),
            Arc::clone(&acked),
            format!("{}/v1/conversations/{conv}/messages", gateway.base),
            if t % 2 == 0 {
                gp.clone()
            } else {
                nurse.clone()
            },
        );
        senders.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let r = http.post(&url).bearer_auth(&token).json(&json!({ "client_id": format!("{t}-{i}"), "body": format!("message {t}-{i}") })).send().await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let m: Value = r.json().await.unwrap();
                        acked.lock().await.insert(m["id"].as_str().unwrap().to_string());
                    }
                    // The gateway died under us: whatever was not acknowledged may be lost.
                    _ => return,
                }
            }
        }));
    }
    // Let a good number of sends be acknowledged, then kill without warning.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acked.lock().await.len() >= 300 {
            break;
        }
    }
    gateway.signal("KILL");
    for s in senders {
        s.await.unwrap();
    }
    drop(gateway);
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= 300);

    let restarted = Running::start(&s, &limits).await;
    let token = restarted.bearer("nurse-bernard").await;
    // Page backwards from the newest message.
    let mut stored: Vec<Value> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let url = match &before {
            Some(b) => format!(
                "{}/v1/conversations/{conv}/messages?limit=200&before={b}",
                restarted.base
            ),
            None => format!(
                "{}/v1/conversations/{conv}/messages?limit=200",
                restarted.base
            ),
        };
        let page: Value = http
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        before = items.first().map(|m| m["id"].as_str().unwrap().to_string());
        let mut older = items;
        older.extend(stored);
        stored = older;
    }
    let ids: HashSet<String> = stored
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|a| !ids.contains(*a)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages lost after SIGKILL",
        lost.len()
    );
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "one gap-free order"
    );
}
