//! Clients that are slow or never finish (slowloris, endless chunked bodies) get their answer
//! (408, 413) within the body timeout, at the body limit, or are disconnected at the header
//! timeout; and nothing they send is stored; after an early answer the connection is
//! closed, the rest of the body unread.
//!
//! Raw TCP, because an HTTP client library would not misbehave on purpose. Every bound is
//! "within the timeout plus 3 s", measured from before the first byte is written, so a busy
//! machine cannot make these tests fail early, only a service that does not cut clients off.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::Instant;

use crate::helpers::TestApp;

/// actix-web's `client_request_timeout`, set in `startup.rs`.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Slack on every upper bound, for a loaded machine.
const SLACK: Duration = Duration::from_secs(3);

/// A request head without its framing header (Content-Length or Transfer-Encoding) and
/// without the blank line that ends it. The signature is wrong: the body is read first.
const HEAD: &str = "POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: ingest\r\n\
                    Content-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\n";

/// What the server did with the connection, seen from the client.
struct Seen {
    /// Everything the server sent.
    text: String,
    /// When the first byte of the answer arrived.
    answered_after: Option<Duration>,
    /// When the server closed (or reset) the connection.
    closed_after: Option<Duration>,
}

impl Seen {
    fn status(&self) -> Option<u16> {
        self.text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect")
}

/// Reads what the server sends until it closes the connection or `deadline` passes.
async fn watch(read: &mut (impl AsyncReadExt + Unpin), started: Instant, deadline: Instant) -> Seen {
    let mut seen = Seen { text: String::new(), answered_after: None, closed_after: None };
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, read.read(&mut buf)).await {
            Err(_) => return seen,
            Ok(Ok(0) | Err(_)) => {
                seen.closed_after = Some(started.elapsed());
                return seen;
            }
            Ok(Ok(n)) => {
                seen.answered_after.get_or_insert_with(|| started.elapsed());
                seen.text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    }
}

/// Writes `piece` every `every` until the server stops taking it (or the test ends).
fn keep_sending(mut write: OwnedWriteHalf, piece: Vec<u8>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while write.write_all(&piece).await.is_ok() {
            if every.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(every).await;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_trickled_slower_than_the_timeout_is_answered_408_in_time() {
    let app = TestApp::spawn_with(|c| c.body_timeout_secs = 1).await;
    let timeout = Duration::from_secs(1);
    let (mut read, mut write) = connect(&app).await.into_split();
    let started = Instant::now();
    write.write_all(format!("{HEAD}Content-Length: 1000\r\n\r\n").as_bytes()).await.expect("head");
    // One byte every 100 ms: the connection is never idle for long, but the 1000 bytes
    // would take 100 s. The timeout covers the whole body, not the gaps between bytes.
    let writer = keep_sending(write, b"x".to_vec(), Duration::from_millis(100));
    let seen = watch(&mut read, started, started + timeout + SLACK).await;
    writer.abort();
    assert_eq!(seen.status(), Some(408), "got: {}", seen.text);
    let answered = seen.answered_after.expect("answered");
    assert!(answered >= timeout, "answered after {answered:?}, before the timeout");
    assert!(seen.closed_after.is_some(), "the connection was closed after the answer");
    assert_eq!(app.stored().await, [0; 5]);
}

/// Starts a chunked POST whose body never ends (64-byte chunks, as fast as the server takes
/// them) on a service with a 16 KiB limit; returns what the client saw within `watch_for`.
async fn endless_chunked_body(watch_for: Duration) -> (TestApp, Seen) {
    let app = TestApp::spawn_with(|c| {
        c.max_body_bytes = 16 * 1024;
        c.body_timeout_secs = 30;
    })
    .await;
    let (mut read, mut write) = connect(&app).await.into_split();
    let started = Instant::now();
    write.write_all(format!("{HEAD}Transfer-Encoding: chunked\r\n\r\n").as_bytes()).await.expect("head");
    let chunk = format!("40\r\n{}\r\n", "x".repeat(64)).into_bytes();
    let writer = keep_sending(write, chunk, Duration::ZERO);
    let seen = watch(&mut read, started, started + watch_for).await;
    writer.abort();
    (app, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_chunked_body_is_answered_413_at_the_size_limit() {
    let (app, seen) = endless_chunked_body(SLACK).await;
    assert_eq!(seen.status(), Some(413), "got: {}", seen.text);
    assert_eq!(app.stored().await, [0; 5]);
}

/// actix-http reads a chunked body its handler dropped to the end, to reuse the connection;
/// after an early answer the service keeps the reader alive so the connection is closed
/// instead, and the body limit bounds what one connection makes the service read.
#[tokio::test(flavor = "multi_thread")]
async fn an_endless_chunked_body_is_not_read_further_after_the_answer() {
    let (_app, seen) = endless_chunked_body(SLACK).await;
    assert_eq!(seen.status(), Some(413), "got: {}", seen.text);
    assert!(seen.closed_after.is_some(), "the connection was closed, the rest of the body unread");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_trickle_of_small_chunks_is_answered_408_at_the_timeout() {
    let app = TestApp::spawn_with(|c| c.body_timeout_secs = 1).await;
    let timeout = Duration::from_secs(1);
    let (mut read, mut write) = connect(&app).await.into_split();
    let started = Instant::now();
    write.write_all(format!("{HEAD}Transfer-Encoding: chunked\r\n\r\n").as_bytes()).await.expect("head");
    // 10 bytes every 50 ms never reaches the 3 MiB limit: only the timeout can end it.
    let writer = keep_sending(write, b"a\r\nxxxxxxxxxx\r\n".to_vec(), Duration::from_millis(50));
    let seen = watch(&mut read, started, started + timeout + SLACK).await;
    writer.abort();
    assert_eq!(seen.status(), Some(408), "got: {}", seen.text);
    assert!(seen.answered_after.expect("answered") >= timeout);
    // (The connection stays open while the client keeps sending: see the known gap above.)
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stalls_inside_its_headers_is_disconnected_after_the_header_timeout() {
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(b"POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: ingest\r\nContent-Ty")
        .await
        .expect("write");
    let seen = watch(&mut stream, started, started + HEADER_TIMEOUT + SLACK).await;
    let closed = seen.closed_after.expect("the server closed the connection");
    assert!(
        closed >= HEADER_TIMEOUT - Duration::from_secs(1),
        "closed after {closed:?}: by the header timeout, not something else"
    );
    // actix answers 408 when it gives up on the head; a bare close would be fine too.
    assert!(seen.text.is_empty() || seen.status() == Some(408), "got: {}", seen.text);
    assert_eq!(app.stored().await, [0; 5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversize_content_length_is_refused_413_before_any_body_is_sent() {
    // A long body timeout: an answer well before it shows the body was never waited for.
    let app = TestApp::spawn_with(|c| {
        c.max_body_bytes = 64 * 1024;
        c.body_timeout_secs = 30;
    })
    .await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream.write_all(format!("{HEAD}Content-Length: 104857600\r\n\r\n").as_bytes()).await.expect("head");
    let seen = watch(&mut stream, started, started + SLACK).await;
    assert_eq!(seen.status(), Some(413), "got: {}", seen.text);
    assert!(seen.closed_after.is_some(), "the connection was closed, the declared body unread");
    assert_eq!(app.stored().await, [0; 5]);
}
