//! HTTP load: a fixed arrival rate (open loop, latency counted from each request's
//! scheduled start, so a slow server cannot hide behind a slow client) and a closed-loop
//! throughput probe.
//!
//! The driver shares the machine's CPUs with the service and Postgres, so it is kept lean:
//! requests are built before the clock starts and sent over hyper's bare HTTP/1.1
//! connections, reused through a small pool.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

/// A request ready to send: body and `X-Hub-Signature-256`.
#[derive(Clone)]
pub struct Prepared {
    /// Body bytes.
    pub body: Bytes,
    /// Signature header value.
    pub signature: String,
}

/// What a load phase measured.
pub struct LoadResult {
    /// Latencies of successful requests, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Requests answered with something other than 200, or not answered.
    pub errors: u64,
    /// Wall time of the phase.
    pub elapsed: Duration,
}

impl LoadResult {
    fn new() -> Self {
        Self { latency_us: histogram(), errors: 0, elapsed: Duration::ZERO }
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.latency_us.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Keep-alive HTTP/1.1 connections to one server.
#[derive(Clone)]
pub struct Client {
    addr: SocketAddr,
    path: Arc<str>,
    idle: Arc<Mutex<Vec<SendRequest<Full<Bytes>>>>>,
}

impl Client {
    /// A client POSTing to `path` on `addr`.
    pub fn new(addr: SocketAddr, path: &str) -> Self {
        Self { addr, path: path.into(), idle: Arc::default() }
    }

    async fn connection(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let reused = self.idle.lock().map_err(|_| anyhow::anyhow!("pool poisoned"))?.pop();
        if let Some(sender) = reused.filter(|s| !s.is_closed()) {
            return Ok(sender);
        }
        let stream = tokio::net::TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// POSTs `request`; true when the answer is 200.
    pub async fn send(&self, request: Prepared) -> bool {
        self.try_send(request).await.unwrap_or(false)
    }

    async fn try_send(&self, request: Prepared) -> anyhow::Result<bool> {
        let mut sender = self.connection().await?;
        sender.ready().await?;
        let http = hyper::Request::post(&*self.path)
            .header("host", "bench")
            .header("content-type", "application/json")
            .header("x-hub-signature-256", request.signature)
            .body(Full::new(request.body))?;
        let response = sender.send_request(http).await?;
        let ok = response.status() == 200;
        response.into_body().collect().await?;
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(sender);
        }
        Ok(ok)
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"))
}

/// Sends `rate` requests a second (taking them from `requests` in order) for as long as
/// there are requests, each at its scheduled time whatever the state of earlier ones.
pub async fn open_loop(client: &Client, requests: Vec<Prepared>, rate: u32) -> LoadResult {
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = Instant::now() + Duration::from_millis(50);
    let mut in_flight = JoinSet::new();
    for (i, request) in requests.into_iter().enumerate() {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let client = client.clone();
        in_flight.spawn(async move {
            let ok = client.send(request).await;
            (ok, scheduled.elapsed())
        });
    }
    let mut result = LoadResult::new();
    while let Some(done) = in_flight.join_next().await {
        match done {
            Ok((true, latency)) => {
                let _ = result.latency_us.record(latency.as_micros().max(1) as u64);
            }
            _ => result.errors += 1,
        }
    }
    result.elapsed = start.elapsed();
    result
}

/// `connections` clients send back to back for `duration` (or until `requests` run out).
pub async fn closed_loop(
    client: &Client,
    requests: Vec<Prepared>,
    connections: usize,
    duration: Duration,
) -> LoadResult {
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for _ in 0..connections {
        let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
        workers.spawn(async move {
            let mut latency = histogram();
            let mut errors = 0;
            while Instant::now() < deadline {
                let Some(request) = requests.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                let sent = Instant::now();
                if client.send(request.clone()).await {
                    let _ = latency.record(sent.elapsed().as_micros().max(1) as u64);
                } else {
                    errors += 1;
                }
            }
            (latency, errors)
        });
    }
    let mut result = LoadResult::new();
    while let Some(done) = workers.join_next().await {
        if let Ok((latency, errors)) = done {
            let _ = result.latency_us.add(latency);
            result.errors += errors;
        }
    }
    result.elapsed = start.elapsed();
    result
}

/// `p50 / p99 / max` in milliseconds.
pub fn percentiles(h: &Histogram<u64>) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "{:.2} / {:.2} / {:.2} ms",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

/// Posts each `(at, wamid, request)` `at` after the start, whatever the state of earlier
/// ones (open loop); returns when each acknowledged request's 200 arrived, by wamid.
pub async fn post_scheduled(
    client: &Client,
    scheduled: Vec<(Duration, String, Prepared)>,
) -> std::collections::HashMap<String, std::time::SystemTime> {
    let start = tokio::time::Instant::now();
    let mut posted = JoinSet::new();
    for (at, wamid, request) in scheduled {
        tokio::time::sleep_until(start + at).await;
        let client = client.clone();
        posted
            .spawn(async move { client.send(request).await.then(|| (wamid, std::time::SystemTime::now())) });
    }
    let mut acks = std::collections::HashMap::new();
    while let Some(done) = posted.join_next().await {
        if let Ok(Some((wamid, at))) = done {
            acks.insert(wamid, at);
        }
    }
    acks
}
