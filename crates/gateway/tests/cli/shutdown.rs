//! SIGTERM: stop accepting, let the request in flight finish, close the database.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};

use crate::support::{Running, scratch};

#[tokio::test]
async fn a_slow_upload_in_flight_completes_after_sigterm() {
    let s = scratch().await;
    // Request starts are logged (tower_http at debug), so the test can see the upload
    // arrive instead of guessing how long that takes.
    let mut gateway = Running::start(&s, &[("CORDEE_LOG", "info,tower_http=debug")]).await;
    let token = gateway.bearer("nurse-bernard").await;
    const STARTED: &str = "started processing request";
    let before = gateway.output().matches(STARTED).count();
    // An upload whose first chunk is sent at once and the rest only when the test
    // says so: it is in flight for as long as the test needs.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first: Result<Bytes, std::io::Error> = Ok(Bytes::from_static(b"%PDF-1.7\n"));
    let rest = async move {
        let _ = released.await;
        stream::iter(vec![
            Ok::<Bytes, std::io::Error>(Bytes::from(vec![b'a'; 100_000])),
            Ok(Bytes::from(vec![b'b'; 100_000])),
        ])
    };
    let body = stream::iter(vec![first]).chain(stream::once(rest).flatten());
    let url = format!("{}/v1/attachments", gateway.base);
    let upload = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/pdf")
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
    });
    gateway
        .wait_output(STARTED, before + 1, Duration::from_secs(10))
        .await;
    gateway.signal("TERM");
    gateway
        .wait_output("shutdown signal received", 1, Duration::from_secs(10))
        .await;
    let _ = release.send(());
    let response = upload.await.unwrap().expect("the in-flight upload was cut");
    assert_eq!(response.status(), 201);
    let meta: serde_json::Value = response.json().await.unwrap();
    assert_eq!(meta["size"], 200_009);
    let status = gateway.wait_exit(Duration::from_secs(25));
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        gateway.output()
    );
    // Once stopped, nothing answers.
    assert!(
        reqwest::get(format!("{}/healthz", gateway.base))
            .await
            .is_err()
    );
    let out = gateway.output();
    assert!(
        out.contains("shutdown signal received") && out.contains("database closed"),
        "{out}"
    );
}
