//! Load tool for the messaging gateway (a measuring tool, not a test).
//!
//! Against a running demo gateway (the PSC sandbox provides the accounts
//! `load-1`, `load-2`, …), it logs in accounts, creates group conversations of
//! `--members` accounts, opens `--clients` WebSocket devices, and has `--senders`
//! tasks send messages at `--rate` per second (0 = as fast as acknowledgements
//! allow, with `--inflight` sends outstanding per sender). It reports messages
//! acknowledged per second, deliveries per second, send→deliver latency (p50, p99)
//! and, given `--gateway-pid`, the gateway's resident memory per connection.
//!
//! ```text
//! CORDEE_LOGIN_RATE_LIMIT=1000000 CORDEE_SEND_RATE_LIMIT=1000000 cargo run --release -p cordee-gateway -- serve &
//! cargo run --release -p cordee-gateway --example load -- --url http://127.0.0.1:8443 \
//!     --accounts 40 --members 20 --conversations 10 --clients 40 --senders 8 --rate 0 --seconds 20
//! # a phone coming back: each of --clients devices in turn replays everything (since=0):
//! cargo run --release -p cordee-gateway --example load -- --catch-up --clients 5 --accounts 40
//! # idle connections and memory:
//! cargo run --release -p cordee-gateway --example load -- --idle --clients 5000 --accounts 50 --gateway-pid $(pgrep -f 'cordee serve')
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Clone, Debug)]
struct Args {
    url: String,
    accounts: usize,
    members: usize,
    conversations: usize,
    clients: usize,
    senders: usize,
    rate: f64,
    inflight: usize,
    seconds: u64,
    idle: bool,
    catch_up: bool,
    gateway_pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8443".into(),
        accounts: 40,
        members: 20,
        conversations: 10,
        clients: 40,
        senders: 8,
        rate: 0.0,
        inflight: 16,
        seconds: 20,
        idle: false,
        catch_up: false,
        gateway_pid: None,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        match raw[i].as_str() {
            "--url" => a.url = value,
            "--accounts" => a.accounts = value.parse().unwrap(),
            "--members" => a.members = value.parse().unwrap(),
            "--conversations" => a.conversations = value.parse().unwrap(),
            "--clients" => a.clients = value.parse().unwrap(),
            "--senders" => a.senders = value.parse().unwrap(),
            "--rate" => a.rate = value.parse().unwrap(),
            "--inflight" => a.inflight = value.parse().unwrap(),
            "--seconds" => a.seconds = value.parse().unwrap(),
            "--gateway-pid" => a.gateway_pid = Some(value.parse().unwrap()),
            "--idle" => {
                a.idle = true;
                i += 1;
                continue;
            }
            "--catch-up" => {
                a.catch_up = true;
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

struct Account {
    id: String,
    token: String,
}

/// Logs in through the sandbox like a browser, then trades the session for a bearer token.
async fn login(base: &str, hint: &str) -> Account {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "{base}/v1/auth/login?provider=psc-sandbox&login_hint={hint}"
        ))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "login {hint}: {}",
        r.status()
    );
    let url: reqwest::Url = base.parse().unwrap();
    let cookies = jar
        .cookies(&url)
        .map(|c| c.to_str().unwrap().to_string())
        .unwrap_or_default();
    let csrf = cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("cordee_csrf="))
        .expect("no csrf cookie: is the gateway in demo mode?")
        .to_string();
    let token: Value = client
        .post(format!("{base}/v1/auth/tokens"))
        .header("x-csrf-token", csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().expect("no token").to_string();
    let me: Value = reqwest::Client::new()
        .get(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Account {
        id: me["id"].as_str().unwrap().to_string(),
        token,
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    eprintln!("logging in {} accounts…", a.accounts);
    let mut accounts = Vec::new();
    for n in 1..=a.accounts {
        accounts.push(login(&a.url, &format!("load-{n}")).await);
    }
    let accounts = Arc::new(accounts);

    if a.catch_up {
        catch_up(&a, &accounts).await;
        return;
    }
    let baseline = a.gateway_pid.and_then(rss_kib);
    let deliveries = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u64>::with_capacity(1 << 20)));
    let ws_base = a.url.replacen("http", "ws", 1);
    eprintln!("opening {} WebSocket clients…", a.clients);
    let mut sockets = Vec::new();
    for c in 0..a.clients {
        let account = &accounts[c % accounts.len()];
        let mut request = format!("{ws_base}/v1/stream")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", account.token).parse().unwrap(),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("client {c}: {e}"));
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let (Some(pid), Some(before)) = (a.gateway_pid, baseline) {
        let after = rss_kib(pid).unwrap_or(before);
        println!(
            "connections: {}  gateway RSS before {} KiB, after {} KiB  =>  {:.1} KiB per connection",
            a.clients,
            before,
            after,
            (after.saturating_sub(before)) as f64 / a.clients as f64
        );
    }
    if a.idle {
        tokio::time::sleep(Duration::from_secs(a.seconds)).await;
        if let (Some(pid), Some(before)) = (a.gateway_pid, baseline) {
            let after = rss_kib(pid).unwrap_or(before);
            println!(
                "after {} s idle: {:.1} KiB per connection",
                a.seconds,
                (after.saturating_sub(before)) as f64 / a.clients as f64
            );
        }
        return;
    }
    for socket in sockets {
        let (deliveries, latencies) = (Arc::clone(&deliveries), Arc::clone(&latencies));
        tokio::spawn(async move {
            let mut socket = socket;
            let mut local = Vec::with_capacity(4096);
            while let Some(Ok(frame)) = socket.next().await {
                if let Ws::Text(text) = frame {
                    // Cheap parsing: the tool shares the machine with the gateway.
                    if text.contains("\"type\":\"message.created\"") {
                        let sent = text
                            .split_once("\"body\":\"")
                            .and_then(|(_, rest)| rest.split(' ').next())
                            .and_then(|t| t.parse::<u64>().ok());
                        if let Some(sent) = sent {
                            deliveries.fetch_add(1, Ordering::Relaxed);
                            local.push(now_micros().saturating_sub(sent));
                            if local.len() >= 1024 {
                                latencies.lock().await.append(&mut local);
                            }
                        }
                    } else if text.contains("\"type\":\"resync\"") {
                        eprintln!("a client was told to resync (fell behind)");
                    }
                }
            }
            latencies.lock().await.append(&mut local);
        });
    }

    eprintln!(
        "creating {} conversations of {} members…",
        a.conversations, a.members
    );
    let mut conversations = Vec::new();
    for c in 0..a.conversations {
        let owner = &accounts[c % accounts.len()];
        let members: Vec<&str> = (1..a.members)
            .map(|k| accounts[(c + k) % accounts.len()].id.as_str())
            .collect();
        let r: Value = http
            .post(format!("{}/v1/conversations", a.url))
            .bearer_auth(&owner.token)
            .json(&json!({ "kind": "group", "title": format!("load {c}"), "member_ids": members }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        conversations.push((
            c % accounts.len(),
            r["id"]
                .as_str()
                .expect("conversation not created")
                .to_string(),
        ));
    }
    let conversations = Arc::new(conversations);

    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let per_sender_interval = if a.rate > 0.0 {
        Some(Duration::from_secs_f64(a.senders as f64 / a.rate))
    } else {
        None
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..a.senders {
        for slot in 0..(if per_sender_interval.is_some() {
            1
        } else {
            a.inflight
        }) {
            let (http, accounts, conversations, acked, errors, url) = (
                http.clone(),
                Arc::clone(&accounts),
                Arc::clone(&conversations),
                Arc::clone(&acked),
                Arc::clone(&errors),
                a.url.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                let mut tick = per_sender_interval.map(tokio::time::interval);
                while Instant::now() < deadline {
                    if let Some(t) = tick.as_mut() {
                        t.tick().await;
                    }
                    let (owner, conv) = &conversations[(s + n as usize) % conversations.len()];
                    let sender = &accounts[*owner];
                    let body = format!("{} load message from sender {s}", now_micros());
                    let r = http
                        .post(format!("{url}/v1/conversations/{conv}/messages"))
                        .bearer_auth(&sender.token)
                        .json(&json!({ "client_id": format!("{s}-{slot}-{n}-{}", now_micros()), "body": body }))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => {
                            if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("send failed: {} {}", r.status(), r.text().await.unwrap_or_default());
                            }
                        }
                        Err(e) => {
                            if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("send failed: {e}");
                            }
                        }
                    }
                    n += 1;
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let acked = acked.load(Ordering::Relaxed);
    let delivered = deliveries.load(Ordering::Relaxed);
    let mut lat = latencies.lock().await.clone();
    lat.sort_unstable();
    println!(
        "sent+acknowledged: {acked} in {elapsed:.1} s = {:.0} messages/s; errors {}; deliveries {delivered} = {:.0}/s ({:.1} per message)",
        acked as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        delivered as f64 / elapsed,
        delivered as f64 / acked.max(1) as f64
    );
    println!(
        "send→deliver latency over {} deliveries: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    if let Some(pid) = a.gateway_pid {
        println!("gateway RSS at the end: {} KiB", rss_kib(pid).unwrap_or(0));
    }
}

/// Devices reconnecting with `since=0`, one after another: the time until `ready`,
/// i.e. to replay every event the account may see.
async fn catch_up(a: &Args, accounts: &[Account]) {
    let ws_base = a.url.replacen("http", "ws", 1);
    let mut times = Vec::new();
    for c in 0..a.clients {
        let account = &accounts[c % accounts.len()];
        let mut request = format!("{ws_base}/v1/stream?since=0")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", account.token).parse().unwrap(),
        );
        let started = Instant::now();
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut events = 0u64;
        while let Some(Ok(frame)) = socket.next().await {
            if let Ws::Text(text) = frame {
                if text.contains("\"type\":\"ready\"") {
                    break;
                }
                events += 1;
            }
        }
        let elapsed = started.elapsed();
        println!(
            "catch-up {c}: {events} events in {:.1} ms ({:.0} events/s)",
            elapsed.as_secs_f64() * 1000.0,
            events as f64 / elapsed.as_secs_f64()
        );
        times.push(elapsed.as_micros() as u64);
    }
    times.sort_unstable();
    println!("catch-up median {:.1} ms", percentile(&times, 0.5));
}
