//! SIGTERM: stop accepting, let the request in flight finish, close the database.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};

use crate::support::{Running, scratch};

#[tokio::test]
async fn a_slow_upload_in_flight_completes_after_sigterm() {
    let s = scratch().await;
    let mut gateway = Running::start(&s, &[]).await;
    let token = gateway.bearer("nurse-bernard").await;
    // A 3-chunk upload that takes about 1.5 s to arrive.
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"%PDF-1.7\n")),
        Ok(Bytes::from(vec![b'a'; 100_000])),
        Ok(Bytes::from(vec![b'b'; 100_000])),
    ];
    let body = stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c
    });
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
    tokio::time::sleep(Duration::from_millis(700)).await;
    gateway.signal("TERM");
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
