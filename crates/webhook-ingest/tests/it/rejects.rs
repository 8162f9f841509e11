//! Bad input is answered as DESIGN.md section 7 says, and nothing of it is stored.

use std::time::Duration;

use testkit::payloads::{self, Customer, unique_wamid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;

fn one_message() -> serde_json::Value {
    let customer = Customer::unique();
    payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_signature_is_401_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let text = payloads::text(&customer, &unique_wamid(), "café/ok");
    let envelope = payloads::single_message(&customer, text);
    let wrong = payloads::signed_with(&envelope, "not-the-app-secret");
    let response = app.post_raw(wrong.body.clone(), Some(&wrong.signature)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.post_raw(wrong.body.clone(), None).await.status(), 401);
    assert_eq!(app.post_raw(wrong.body.clone(), Some("sha256=00")).await.status(), 401);

    // A body altered after signing (one escaped character decoded) fails too.
    let good = payloads::signed(&envelope);
    let altered = String::from_utf8(good.body.clone()).expect("ascii").replace("\\/", "/");
    assert_ne!(altered.as_bytes(), good.body.as_slice());
    let sent = app.post_raw(altered.into_bytes(), Some(&good.signature)).await;
    assert_eq!(sent.status(), 401);
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_requests_pass_only_when_allowed_and_wrong_signatures_never() {
    let app = TestApp::spawn_with(|c| c.allow_unsigned = true).await;
    let envelope = one_message();
    let unsigned = payloads::meta_bytes(&envelope);
    assert_eq!(app.post_raw(unsigned, None).await.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 1);

    let wrong = payloads::signed_with(&one_message(), "not-the-app-secret");
    assert_eq!(app.post_raw(wrong.body, Some(&wrong.signature)).await.status(), 401);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_400_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let bodies: [&[u8]; 4] = [
        b"not json at all",
        b"{\"object\": \"whatsapp_business_account\", \"entry\": [",
        b"{\"object\": \"page\", \"entry\": []}",
        b"[1, 2, 3]",
    ];
    for body in bodies {
        let signature = whatsapp::signature::sign(payloads::APP_SECRET.as_bytes(), body);
        let response = app.post_raw(body.to_vec(), Some(&signature)).await;
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
        let text = response.text().await.expect("body");
        assert_eq!(text, r#"{"error":"not a WhatsApp webhook"}"#, "no parser details leak");
    }
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_body_is_413_whether_declared_or_streamed() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 64 * 1024).await;
    let mut envelope = one_message();
    envelope["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] =
        serde_json::Value::String("x".repeat(70 * 1024));
    let signed = payloads::signed(&envelope);
    let declared = app.post_raw(signed.body.clone(), Some(&signed.signature)).await;
    assert_eq!(declared.status(), 413);

    // Without Content-Length (chunked), the limit applies while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        signed.body.chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
    let streamed = app
        .client
        .post(app.url("/api/webhooks/whatsapp"))
        .header("x-hub-signature-256", &signed.signature)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .expect("sent");
    assert_eq!(streamed.status(), 413);
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_body_is_cut_off() {
    let app = TestApp::spawn_with(|c| c.body_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000\r\n\
                Content-Length: 1000\r\n\r\n{\"object\":";
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "the server closed the connection in time");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "got: {text}");
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_of_other_fields_are_acknowledged_and_ignored() {
    let app = TestApp::spawn().await;
    let envelope = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": {"event": "ACCOUNT_DELETED"}},
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    ]}]});
    assert_eq!(app.post_signed(&envelope).await.status(), 200);
    assert_eq!(app.stored().await, [0; 5]);
}
