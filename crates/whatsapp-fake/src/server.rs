//! The HTTP side: routing, the send endpoint with its validation and faults (read receipts
//! go to [`crate::presence`]), and the inspection endpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use domain::Secret;
use domain::template::{LanguageCode, TemplateSend, check_parameter};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::config::{Cli, Faults};
use crate::state::{RecordedSend, State};
use crate::statuses::StatusPoster;

/// Longest text the Cloud API accepts.
const MAX_TEXT_CHARS: usize = 4096;

/// The connection is dropped without an answer (an injected reset).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

type Answer = Result<Response<Full<Bytes>>, Dropped>;

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    token: Secret,
    poster: Option<StatusPoster>,
}

/// A bound, not yet running, fake.
pub struct Fake {
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Fake {
    /// Binds the listening socket.
    pub async fn bind(cli: &Cli) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(cli.bind_addr).await?;
        let addr = listener.local_addr()?;
        let poster = cli.ingest_url.as_ref().map(|url| StatusPoster {
            http: reqwest::Client::new(),
            ingest_url: url.clone(),
            app_secret: cli.app_secret.clone(),
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(cli.faults.clone())),
            token: cli.access_token.clone(),
            poster,
        });
        tracing::info!(addr = %addr, "listening");
        Ok(Self { listener, addr, shared })
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `stop` completes.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut stop => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            let shared = self.shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                // A dropped connection (reset fault) ends here with an error, on purpose.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
        tracing::info!("stopped");
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().trim_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    match (&parts.method, segments.as_slice()) {
        (&Method::GET, ["healthz"]) => Ok(json_answer(StatusCode::OK, &json!({"status": "ok"}))),
        (&Method::GET, ["_fake", "sends"]) => {
            let sends = shared.state.lock().map(|s| s.sends.clone()).unwrap_or_default();
            Ok(json_answer(StatusCode::OK, &json!(sends)))
        }
        (&Method::DELETE, ["_fake", "sends"]) => {
            if let Ok(mut state) = shared.state.lock() {
                state.sends.clear();
            }
            Ok(json_answer(StatusCode::OK, &json!({"cleared": true})))
        }
        (&Method::GET, ["_fake", "presence"]) => {
            let presence = shared.state.lock().map(|s| s.presence.clone()).unwrap_or_default();
            Ok(json_answer(StatusCode::OK, &json!(presence)))
        }
        (&Method::DELETE, ["_fake", "presence"]) => {
            if let Ok(mut state) = shared.state.lock() {
                state.presence.clear();
            }
            Ok(json_answer(StatusCode::OK, &json!({"cleared": true})))
        }
        (&Method::GET, ["_fake", "faults"]) => {
            let faults = shared.state.lock().map(|s| s.faults.clone()).unwrap_or_default();
            Ok(json_answer(StatusCode::OK, &json!(faults)))
        }
        (&Method::PUT, ["_fake", "faults"]) => Ok(update_faults(&shared, &body)),
        (&Method::POST, [_version, phone_number_id, "messages"]) => {
            let bearer = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
            send(&shared, phone_number_id, bearer.as_deref(), &body).await
        }
        _ => Ok(graph_error(StatusCode::NOT_FOUND, 100, "Unknown path components")),
    }
}

/// Applies the fields given in `body` on top of the faults in force.
fn update_faults(shared: &Shared, body: &[u8]) -> Response<Full<Bytes>> {
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(body) else {
        return json_answer(
            StatusCode::BAD_REQUEST,
            &json!({"error": "expected a JSON object of fault settings"}),
        );
    };
    let Ok(mut state) = shared.state.lock() else {
        return json_answer(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": "state unavailable"}));
    };
    let mut merged = serde_json::to_value(&state.faults).unwrap_or_default();
    if let Value::Object(current) = &mut merged {
        current.extend(changes);
    }
    match serde_json::from_value::<Faults>(merged) {
        Ok(faults) => {
            tracing::info!(?faults, "faults changed");
            state.faults = faults;
            json_answer(StatusCode::OK, &json!(state.faults))
        }
        Err(e) => json_answer(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
    }
}

async fn send(shared: &Shared, phone_number_id: &str, bearer: Option<&str>, body: &[u8]) -> Answer {
    if !bearer.and_then(|b| b.strip_prefix("Bearer ")).is_some_and(|t| shared.token.matches(t)) {
        return Ok(graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token."));
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Ok(graph_error(StatusCode::BAD_REQUEST, 100, "Invalid JSON payload")),
    };
    if request.get("status").is_some() {
        return Ok(crate::presence::mark_read(shared, phone_number_id, &request).await);
    }
    let Valid { to, text, template } = match validate(&request) {
        Ok(valid) => valid,
        Err(Refusal { code, message }) => return Ok(graph_error(StatusCode::BAD_REQUEST, code, &message)),
    };
    let faults = shared.state.lock().map(|s| s.faults.clone()).unwrap_or_default();
    let latency = pick_latency(&faults);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let now = Utc::now();
    let (recorded, fault) = {
        let Ok(mut state) = shared.state.lock() else {
            return Ok(graph_error(StatusCode::INTERNAL_SERVER_ERROR, 2, "Service temporarily unavailable"));
        };
        if !state.within_throughput(phone_number_id, now) {
            return Ok(with_retry_after(
                graph_error(StatusCode::BAD_REQUEST, 130429, "Rate limit hit"),
                &faults,
            ));
        }
        let mut rng = rand::rng();
        if rng.random_bool(faults.error_rate.clamp(0.0, 1.0)) {
            // Names the recipient: the worst a real error text could carry, so that tests see
            // whether it reaches anyone's logs.
            return Ok(injected_error(&faults, &format!("Injected error for recipient {to}")));
        }
        let fault = if rng.random_bool(faults.lost_response_rate.clamp(0.0, 1.0)) {
            "lost"
        } else if rng.random_bool(faults.reset_rate.clamp(0.0, 1.0)) {
            "reset"
        } else {
            "answered"
        };
        let recorded = RecordedSend {
            wamid: state.wamid(),
            phone_number_id: phone_number_id.to_owned(),
            to: to.clone(),
            body: text,
            template,
            reply_to: request.pointer("/context/message_id").and_then(Value::as_str).map(str::to_owned),
            callback_data: request.get("biz_opaque_callback_data").and_then(Value::as_str).map(str::to_owned),
            received_at: now,
            answer: fault.to_owned(),
        };
        state.sends.push(recorded.clone());
        (recorded, fault)
    };
    tracing::info!(wamid = recorded.wamid, answer = fault, "send accepted");
    if let Some(poster) = &shared.poster
        && (fault != "lost" || faults.lost_response_statuses)
    {
        let (poster, send) = (poster.clone(), recorded.clone());
        let delay = Duration::from_millis(faults.status_delay_ms);
        tokio::spawn(async move { poster.post(send, faults.statuses, delay).await });
    }
    match fault {
        "lost" => {
            // The answer never comes; the client gives up.
            tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
            Err(Dropped)
        }
        "reset" => Err(Dropped),
        _ => {
            let digits = to.trim_start_matches('+').to_owned();
            Ok(json_answer(
                StatusCode::OK,
                &json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": digits}],
                    "messages": [{"id": recorded.wamid}],
                }),
            ))
        }
    }
}

/// What an accepted send carries.
struct Valid {
    /// The recipient as sent.
    to: String,
    /// The text of a text send (empty for a template).
    text: String,
    /// The template of a template send.
    template: Option<TemplateSend>,
}

/// A request the Cloud API would refuse: its error code and message.
pub(crate) struct Refusal {
    pub(crate) code: i64,
    pub(crate) message: String,
}

impl Refusal {
    /// `(#100) …`: a parameter is missing or malformed.
    pub(crate) fn invalid(message: &str) -> Self {
        Self { code: 100, message: format!("(#100) {message}") }
    }
}

/// The Cloud API's checks on a send: the recipient, and the text or the template it carries.
fn validate(request: &Value) -> Result<Valid, Refusal> {
    if request.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(Refusal::invalid("The parameter messaging_product is required."));
    }
    let to = request.get("to").and_then(Value::as_str).unwrap_or_default();
    let digits = to.strip_prefix('+').unwrap_or(to);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(Refusal::invalid("Invalid parameter: to"));
    }
    match request.get("type").and_then(Value::as_str).unwrap_or("text") {
        "text" => {
            let text = request.pointer("/text/body").and_then(Value::as_str).unwrap_or_default();
            let length = text.chars().count();
            if length == 0 || length > MAX_TEXT_CHARS {
                return Err(Refusal::invalid(&format!(
                    "Param text['body'] must be 1 to {MAX_TEXT_CHARS} characters"
                )));
            }
            Ok(Valid { to: to.to_owned(), text: text.to_owned(), template: None })
        }
        "template" => {
            let template = validate_template(request.get("template").unwrap_or(&Value::Null))?;
            Ok(Valid { to: to.to_owned(), text: String::new(), template: Some(template) })
        }
        _ => Err(Refusal::invalid("Only text and template messages are supported by this double")),
    }
}

/// The checks on a template: a name, a language code, and body parameters of type text
/// that Meta would accept (132018 otherwise). The double knows no approved templates, so
/// any name is sent.
fn validate_template(template: &Value) -> Result<TemplateSend, Refusal> {
    let name = template.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Err(Refusal::invalid("The parameter template['name'] is required."));
    }
    let code = template.pointer("/language/code").and_then(Value::as_str).unwrap_or_default();
    let language = code
        .parse::<LanguageCode>()
        .map_err(|_| Refusal::invalid("Invalid parameter: template['language']['code']"))?;
    let mut parameters = Vec::new();
    for component in template.get("components").and_then(Value::as_array).into_iter().flatten() {
        if component.get("type").and_then(Value::as_str) != Some("body") {
            return Err(Refusal::invalid("Only body components are supported by this double"));
        }
        for parameter in component.get("parameters").and_then(Value::as_array).into_iter().flatten() {
            let text = match (parameter.get("type").and_then(Value::as_str), parameter.get("text")) {
                (Some("text"), Some(Value::String(text))) => text,
                _ => return Err(Refusal::invalid("Only text parameters are supported by this double")),
            };
            if let Err(problem) = check_parameter(text) {
                let message = format!(
                    "(#132018) There was an issue with the parameters in your template: parameter {} {problem}",
                    parameters.len() + 1
                );
                return Err(Refusal { code: 132018, message });
            }
            parameters.push(text.clone());
        }
    }
    Ok(TemplateSend { name: name.to_owned(), language, parameters })
}

fn pick_latency(faults: &Faults) -> Duration {
    let (min, max) = (faults.latency_min_ms, faults.latency_max_ms.max(faults.latency_min_ms));
    Duration::from_millis(if max > min { rand::rng().random_range(min..=max) } else { min })
}

pub(crate) fn json_answer(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    if let Ok(value) = "application/json".parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// Adds the `Retry-After` the faults ask for, if any.
fn with_retry_after(mut answer: Response<Full<Bytes>>, faults: &Faults) -> Response<Full<Bytes>> {
    if faults.retry_after_secs > 0
        && let Ok(value) = hyper::header::HeaderValue::from_str(&faults.retry_after_secs.to_string())
    {
        answer.headers_mut().insert(hyper::header::RETRY_AFTER, value);
    }
    answer
}

/// An injected error: a code of `faults.error_codes` picked at random (a 500 for the
/// transient ones, else a 400) with `message`, and the `Retry-After` the faults ask for.
pub(crate) fn injected_error(faults: &Faults, message: &str) -> Response<Full<Bytes>> {
    let mut rng = rand::rng();
    let code = faults.error_codes.get(rng.random_range(0..faults.error_codes.len().max(1))).copied();
    let code = code.unwrap_or(131000);
    let status = if matches!(code, 131000 | 2 | 131016 | 133004) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    with_retry_after(graph_error(status, code, message), faults)
}

/// Meta's error envelope.
pub(crate) fn graph_error(status: StatusCode, code: i64, message: &str) -> Response<Full<Bytes>> {
    let trace: u64 = rand::rng().random();
    json_answer(
        status,
        &json!({"error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_subcode": 2494010,
            "fbtrace_id": format!("A{trace:016x}"),
        }}),
    )
}
