//! The figures of docs/RELIABILITY.md ("Hardening figures"), measured on a release build:
//!
//! ```text
//! cargo build --release -p webhook-ingest
//! MEASURE_BINARY=target/release/webhook-ingest \
//!     cargo test -p webhook-ingest --test it measure -- --ignored --nocapture
//! ```
//!
//! Ignored by default: it floods the service for a while and needs the release binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use testkit::TestDb;
use testkit::payloads::{self, Customer, unique_wamid};
use testkit::service::ChildService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::count;

const UPLOAD: usize = 3 * 1024 * 1024;
const FLOOD_CONNECTIONS: usize = 200;
const FLOOD_FOR: Duration = Duration::from_secs(15);

/// Resident and peak resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One slow uploader: sends a 3 MiB body in 64 KiB pieces every 100 ms (about 5 s per
/// body, inside the body timeout), reconnecting after each answer, until `stop`.
async fn slow_uploader(addr: String, stop: Arc<AtomicBool>, refused: Arc<AtomicU64>) {
    let head = format!(
        "POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256={}\r\nContent-Length: {}\r\n\r\n",
        "0".repeat(64),
        UPLOAD - 1
    );
    let piece = vec![b' '; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let Ok(stream) = TcpStream::connect(&addr).await else { continue };
        let (mut reader, mut stream) = stream.into_split();
        if stream.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let mut sent = 0;
        let mut answer = vec![0; 512];
        while sent < UPLOAD - 1 && !stop.load(Ordering::Relaxed) {
            let n = piece.len().min(UPLOAD - 1 - sent);
            tokio::select! {
                read = reader.read(&mut answer) => {
                    if matches!(read, Ok(n) if n > 0 && answer.starts_with(b"HTTP/1.1 503")) {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                written = stream.write_all(&piece[..n]) => {
                    if written.is_err() { break; }
                    sent += n;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: needs MEASURE_BINARY (a release build) and a minute"]
async fn measure() {
    let binary = PathBuf::from(std::env::var("MEASURE_BINARY").expect("MEASURE_BINARY"));
    // A relative path is relative to the workspace root (tests run in the crate's directory).
    let binary = if binary.is_relative() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(binary)
    } else {
        binary
    };
    let db = TestDb::new().await;
    let env = [
        ("DATABASE_URL", db.url()),
        ("WHATSAPP_APP_SECRET", payloads::APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", payloads::VERIFY_TOKEN),
        ("RUST_LOG", "info"),
    ];
    let service = ChildService::start(&binary, &["serve"], &env).await.expect("starts");
    let pid = service.pid().expect("pid");
    let addr = service.addr().to_string();
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        let signature = payloads::sign_bytes(&body);
        client
            .post(service.url("/api/webhooks/whatsapp"))
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
    };
    let (idle, _) = rss_kib(pid);

    // 1. The flood, with good deliveries every 50 ms throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let uploaders: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|_| tokio::spawn(slow_uploader(addr.clone(), stop.clone(), refused.clone())))
        .collect();
    let started = Instant::now();
    let mut peak = 0;
    let mut latencies = Vec::new();
    let mut good_failed = 0;
    while started.elapsed() < FLOOD_FOR {
        let customer = Customer::unique();
        let envelope = payloads::single_message(&customer, payloads::text(&customer, &unique_wamid(), "hi"));
        let sent = Instant::now();
        let status = post(payloads::meta_bytes(&envelope)).await.expect("sent").status();
        latencies.push(sent.elapsed());
        good_failed += usize::from(status != 200);
        peak = peak.max(rss_kib(pid).0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for uploader in uploaders {
        let _ = uploader.await;
    }
    let (_, hwm) = rss_kib(pid);
    // Give the closing connections and the allocator the moment they take.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (after, _) = rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (later, _) = rss_kib(pid);
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    let p50 = latencies[latencies.len() / 2];

    // 2. /metrics before and after 1,000 made-up methods.
    let metrics_size = || async {
        let text =
            client.get(service.url("/metrics")).send().await.expect("sent").text().await.expect("body");
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        (text.len(), series)
    };
    let _ = client
        .request(
            reqwest::Method::from_bytes(format!("W{}", "X".repeat(2000)).as_bytes()).expect("m"),
            service.url("/api/webhooks/whatsapp"),
        )
        .send()
        .await;
    // The first scrape adds the series of `GET /metrics` itself.
    let _ = metrics_size().await;
    let before_methods = metrics_size().await;
    for n in 0..1000 {
        let method = reqwest::Method::from_bytes(format!("M{n}{}", "X".repeat(2000)).as_bytes()).expect("m");
        let _ = client.request(method, service.url("/api/webhooks/whatsapp")).send().await;
    }
    let after_methods = metrics_size().await;

    // 3. 100 good messages and one Postgres cannot store.
    let customer = Customer::unique();
    let mut messages: Vec<_> =
        (0..100).map(|n| payloads::text(&customer, &unique_wamid(), &format!("m{n}"))).collect();
    let mut poisoned = payloads::text(&customer, &unique_wamid(), "poisoned");
    poisoned["extra"] = serde_json::json!("POISON");
    messages.insert(50, poisoned);
    let envelope = payloads::envelope(vec![vec![payloads::messages_change(&customer, messages)]]);
    let body =
        String::from_utf8(payloads::meta_bytes(&envelope)).expect("utf-8").replace("\"POISON\"", "1e200000");
    let status = post(body.into_bytes()).await.expect("sent").status();
    let stored = count(&db, "SELECT count(*) AS n FROM inbound_message WHERE text_body LIKE 'm%'").await;
    let quarantined = count(&db, "SELECT count(*) AS n FROM quarantine WHERE sqlstate = '22003'").await;

    // 4. 90,000 minimal messages in one delivery (under the 3 MiB limit).
    let items: Vec<String> = (0..90_000).map(|n| format!(r#"{{"id":"z{n}","from":"1"}}"#)).collect();
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{"metadata":{{"phone_number_id":"{}"}},"messages":[{}]}}}}]}}]}}"#,
        payloads::PHONE_NUMBER_ID,
        items.join(",")
    );
    let size = body.len();
    let sent = Instant::now();
    let huge_status = post(body.into_bytes()).await.expect("sent").status();
    let huge_took = sent.elapsed();
    let huge_stored =
        count(&db, "SELECT count(*) AS n FROM inbound_message WHERE provider_message_id LIKE 'z%'").await;
    let huge_quarantined =
        count(&db, "SELECT count(*) AS n FROM quarantine WHERE reason LIKE 'over the limit%'").await;
    let log_bytes: usize = service.logs().iter().map(String::len).sum();

    println!("| measure | figure |");
    println!("|---|---|");
    println!("| RSS idle | {} MiB |", idle / 1024);
    println!(
        "| RSS peak under {FLOOD_CONNECTIONS} slow 3 MiB uploads for {}s (sampled / VmHWM) | {} / {} MiB |",
        FLOOD_FOR.as_secs(),
        peak / 1024,
        hwm / 1024
    );
    println!("| RSS 3 s / 10 s after the flood | {} / {} MiB |", after / 1024, later / 1024);
    println!("| uploads answered 503 + Retry-After | {} |", refused.load(Ordering::Relaxed));
    println!(
        "| good deliveries during the flood | {} sent, {} not 200, p50 {:.1} ms, p99 {:.1} ms |",
        latencies.len(),
        good_failed,
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!(
        "| /metrics before / after 1,000 made-up methods | {} / {} bytes, {} / {} series |",
        before_methods.0, after_methods.0, before_methods.1, after_methods.1
    );
    println!(
        "| 100 good messages + 1 poisoned (1e200000) | {status}, {stored} stored, {quarantined} quarantined |"
    );
    println!(
        "| one delivery of 90,000 messages ({} KiB) | {huge_status} in {:.1} s, {huge_stored} stored, {huge_quarantined} quarantined; {} KiB of logs for the whole run |",
        size / 1024,
        huge_took.as_secs_f64(),
        log_bytes / 1024
    );
}
