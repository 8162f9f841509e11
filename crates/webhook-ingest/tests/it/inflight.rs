//! The in-flight body budget: large unauthenticated uploads cannot hold more than their
//! share of it; past it they get 503 with Retry-After, while small deliveries still pass.

use std::time::{Duration, Instant};

use testkit::payloads::{self, Customer, unique_wamid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

const BIG: usize = 3 * 1024 * 1024 - 1;

/// Starts a signed-looking upload of `BIG` bytes and sends only its first kilobyte.
async fn slow_upload(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256={}\r\nContent-Length: {BIG}\r\n\r\n",
        "0".repeat(64)
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&[b' '; 1024]).await.expect("some body");
    stream
}

/// The status line the server answered on `stream`, if it answered within `wait`.
async fn answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(wait, stream.read(&mut buf)).await.ok()?.ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn large_uploads_past_the_budget_get_503_and_small_deliveries_still_pass() {
    let app = TestApp::spawn_with(|c| {
        c.max_inflight_bytes = 4 * 1024 * 1024;
        c.body_timeout_secs = 30;
    })
    .await;
    let mut holding = slow_upload(&app).await;
    // The first upload is being read (nothing answered yet); the second finds no room.
    let mut refused = slow_upload(&app).await;
    let text = answer(&mut refused, Duration::from_secs(5)).await.expect("answered at once");
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.to_ascii_lowercase().contains("retry-after:"), "{text}");
    assert_eq!(answer(&mut holding, Duration::from_millis(200)).await, None, "still reading the first");

    // A delivery of a few kilobytes is answered while the large upload holds its share.
    let customer = Customer::unique();
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
    let started = Instant::now();
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    // Once the upload is gone, its bytes are free again.
    drop(holding);
    drop(refused);
    let body = vec![b' '; BIG];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.post_raw(body.clone(), Some(&format!("sha256={}", "0".repeat(64)))).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 503, "only busy while the dropped upload is being closed");
        assert!(Instant::now() < deadline, "the budget was never given back");
        tokio::task::yield_now().await;
    }
}
