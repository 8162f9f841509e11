//! `GET` (verification handshake) and `POST` (updates) of `/api/webhooks/whatsapp`.

use std::time::Duration;

use actix_web::http::header::{CONTENT_LENGTH, X_CONTENT_TYPE_OPTIONS};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse};
use domain::webhook::{ChangeValue, WebhookEnvelope};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use store::ingest::{Delivery, IngestOutcome};
use telemetry::request_id::RequestId;
use tracing::Instrument;
use whatsapp::signature::{self, SIGNATURE_HEADER};

use crate::budget::{InflightBudget, Reservation};
use crate::error::IngestError;
use crate::extract;
use crate::startup::AppState;

/// The query of Meta's verification handshake.
#[derive(Deserialize)]
pub(crate) struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Longest challenge echoed; Meta's are short decimal numbers.
const MAX_CHALLENGE_LEN: usize = 64;

/// `GET`: answers Meta's `hub.challenge` when the mode is `subscribe` and the token
/// matches `WHATSAPP_VERIFY_TOKEN`; 403 otherwise. Only a challenge of digits is echoed
/// (400 for a missing or any other one), as `text/plain` with `nosniff`.
/// A query that does not parse is refused like a wrong token (403), without parser details.
pub(crate) async fn verify(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = web::Query::<Handshake>::from_query(req.query_string()).map(web::Query::into_inner).ok();
    let query = query.unwrap_or(Handshake { mode: None, verify_token: None, challenge: None });
    let token_matches = match (&state.config.verify_token, &query.verify_token) {
        (Some(expected), Some(given)) => expected.matches(given),
        _ => false,
    };
    if query.mode.as_deref() != Some("subscribe") || !token_matches {
        tracing::warn!("webhook verification refused");
        return HttpResponse::Forbidden().json(json!({ "error": "verification failed" }));
    }
    match query.challenge.as_deref().filter(|c| is_challenge(c)) {
        Some(challenge) => {
            tracing::info!("webhook verified");
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .body(challenge.to_owned())
        }
        None => HttpResponse::BadRequest().json(json!({ "error": "hub.challenge missing or not a number" })),
    }
}

/// Whether `challenge` is one Meta sends: 1 to [`MAX_CHALLENGE_LEN`] ASCII digits.
fn is_challenge(challenge: &str) -> bool {
    (1..=MAX_CHALLENGE_LEN).contains(&challenge.len()) && challenge.bytes().all(|b| b.is_ascii_digit())
}

/// `POST`: verify, store, enqueue, then answer. Items that cannot be stored, or must not
/// be answered, are quarantined in the same transaction; the rest are stored.
pub(crate) async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    request_id: RequestId,
) -> Result<HttpResponse, IngestError> {
    let span = tracing::info_span!("webhook.receive", request_id = %request_id.as_str());
    async move {
        // The reservation holds the body's share of the in-flight budget until the answer.
        let (values, bad_changes, _reservation) =
            authentic_values(&req, payload, &state).await.inspect_err(reject)?;
        let mut extracted = extract::records(&values, &state.policy, request_id.as_str());
        extracted.set_aside_changes(bad_changes);
        drop(values);
        for cause in &extracted.causes {
            metrics::counter!("webhook_quarantined_total", "cause" => cause.label()).increment(1);
        }
        let mut delivery = extracted.delivery;
        let batch = &delivery.batch;
        if batch.messages.is_empty() && batch.statuses.is_empty() && delivery.quarantine.is_empty() {
            tracing::debug!("webhook without messages or statuses acknowledged");
            return Ok(HttpResponse::Ok().json(json!({ "status": "ok" })));
        }
        delivery.batch.traceparent = telemetry::propagation::current_traceparent();
        let (delivery, outcome) = state
            .ingestor
            .commit(delivery)
            .instrument(tracing::info_span!("ingest.persist", request_id = request_id.as_str()))
            .await;
        let outcome = outcome.inspect_err(|e| tracing::error!(error = %e, "webhook not stored"))?;
        log_outcome(&delivery, &outcome, &extracted.causes);
        Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
    }
    .instrument(span)
    .await
}

/// Reads (within the in-flight budget), authenticates and parses the body into its
/// `messages` change values, and those that do not parse (to quarantine).
async fn authentic_values(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Vec<ChangeValue>, Vec<extract::BadChange>, Reservation), IngestError> {
    let config = &state.config;
    let timeout = Duration::from_secs(config.body_timeout_secs);
    if let Err(e) = signature_header(req, state) {
        close_without_draining(payload);
        return Err(e);
    }
    let (body, reservation) = read_body(req, payload, config.max_body_bytes, timeout, &state.budget).await?;
    check_signature(req, &body, state)?;
    let envelope = WebhookEnvelope::parse(&body).map_err(IngestError::BadRequest)?;
    let (values, bad) = change_values(&envelope);
    Ok((values, bad, reservation))
}

/// Every `messages` change value of `envelope` in payload order; those that do not parse
/// are set aside raw.
pub(crate) fn change_values(envelope: &WebhookEnvelope) -> (Vec<ChangeValue>, Vec<extract::BadChange>) {
    let mut values = Vec::new();
    let mut bad = Vec::new();
    for change in envelope.entry.iter().flat_map(|e| &e.changes) {
        match change.messages_value() {
            Ok(Some(value)) => values.push(value),
            Ok(None) => {}
            Err(e) => {
                let (raw, category) = match (&change.value, &e) {
                    (Some(raw), domain::webhook::WebhookError::BadChangeValue(json)) => {
                        (raw.get().to_owned(), format!("{:?}", json.classify()))
                    }
                    (raw, _) => {
                        (raw.as_ref().map(|r| r.get().to_owned()).unwrap_or_default(), "other".to_owned())
                    }
                };
                bad.push(extract::BadChange {
                    raw,
                    reason: format!("change value does not parse ({category} error)"),
                });
            }
        }
    }
    (values, bad)
}

/// Logs and counts a rejected request (no customer data: only the reason).
fn reject(e: &IngestError) {
    let reason = match e {
        IngestError::Unauthorized(_) => "signature",
        IngestError::PayloadTooLarge => "too_large",
        IngestError::BodyTimeout => "body_timeout",
        IngestError::BadRequest(_) => "malformed",
        IngestError::BodyRead(_) => "body_read",
        IngestError::Busy => "busy",
        IngestError::Unavailable(_) | IngestError::Internal(_) => "internal",
    };
    match e {
        IngestError::BadRequest(domain::webhook::WebhookError::Malformed(json))
        | IngestError::BadRequest(domain::webhook::WebhookError::BadChangeValue(json)) => {
            tracing::warn!(reason, line = json.line(), column = json.column(), category = ?json.classify(), "webhook rejected");
        }
        // A flood is counted, not logged line by line.
        IngestError::Busy => tracing::debug!(reason, "webhook rejected"),
        _ => tracing::warn!(reason, error = %e, "webhook rejected"),
    }
    metrics::counter!("webhook_rejected_total", "reason" => reason).increment(1);
}

/// The `X-Hub-Signature-256` header, checked before the body is read: two or more such
/// headers are refused whatever they hold (Meta sends one, and checking one of several
/// would let the others pass), and so is none unless unsigned requests are allowed.
fn signature_header<'r>(req: &'r HttpRequest, state: &AppState) -> Result<Option<&'r str>, IngestError> {
    let mut headers = req.headers().get_all(SIGNATURE_HEADER);
    let header = headers.next().map(|v| v.to_str().unwrap_or(""));
    if headers.next().is_some() {
        return Err(IngestError::Unauthorized(signature::SignatureError::Duplicated));
    }
    if header.is_none() && !state.config.allow_unsigned {
        return Err(IngestError::Unauthorized(signature::SignatureError::Missing));
    }
    Ok(header)
}

/// Checks the signature over the body as received.
fn check_signature(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<(), IngestError> {
    let header = signature_header(req, state)?;
    match (&state.config.app_secret, header) {
        (_, None) if state.config.allow_unsigned => Ok(()),
        (None, Some(_)) if state.config.allow_unsigned => Ok(()),
        (Some(secret), header) => {
            signature::verify(secret.expose().as_bytes(), body, header).map_err(IngestError::Unauthorized)
        }
        (None, _) => Err(IngestError::Unauthorized(signature::SignatureError::Missing)),
    }
}

/// Reads the whole body, refusing more than `limit` bytes (early, from `Content-Length`,
/// when the client declares it), clients that take longer than `timeout`, and bodies the
/// in-flight `budget` has no room for (reserved whole when declared, chunk by chunk when
/// not).
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    timeout: Duration,
    budget: &InflightBudget,
) -> Result<(Bytes, Reservation), IngestError> {
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let read = if declared.is_some_and(|n| n > limit) {
        Err(IngestError::PayloadTooLarge)
    } else {
        match budget.reserve(declared.unwrap_or(0)) {
            None => Err(IngestError::Busy),
            Some(mut reservation) => tokio::time::timeout(
                timeout,
                read_limited(&mut payload, declared, limit, budget, &mut reservation),
            )
            .await
            .unwrap_or(Err(IngestError::BodyTimeout))
            .map(|body| (body, reservation)),
        }
    };
    if read.is_err() {
        close_without_draining(payload);
    }
    read
}

async fn read_limited(
    payload: &mut web::Payload,
    declared: Option<usize>,
    limit: usize,
    budget: &InflightBudget,
    reservation: &mut Reservation,
) -> Result<Bytes, IngestError> {
    let mut body = BytesMut::with_capacity(declared.unwrap_or(4096).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(IngestError::BodyRead)?;
        if body.len() + chunk.len() > limit {
            return Err(IngestError::PayloadTooLarge);
        }
        if body.len() + chunk.len() > reservation.bytes()
            && !budget.grow(reservation, body.len() + chunk.len())
        {
            return Err(IngestError::Busy);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// How long an unread body's reader is kept after an early answer; far longer than writing
/// a short error answer takes.
const EARLY_ANSWER_GRACE: Duration = Duration::from_secs(5);

/// After an early answer (413, 408, 401, 503) the rest of the body is unread. actix-http
/// closes the connection after the answer while the body's reader is alive, but reads a
/// dropped chunked body to its end, however long that is, so a client could keep a
/// connection busy forever. Keeping the reader alive until the answer is out makes it close
/// instead. Meanwhile whatever still arrives is thrown away as it comes (a buffered chunk
/// pins its whole read buffer), and the reader goes as soon as the client does, so a flood
/// of refused uploads holds no memory.
fn close_without_draining(mut payload: web::Payload) {
    actix_web::rt::spawn(async move {
        let discard = async { while let Some(Ok(_)) = payload.next().await {} };
        let _ = tokio::time::timeout(EARLY_ANSWER_GRACE, discard).await;
        drop(payload);
    });
}

/// One info line per delivery (ids and counts, no customer data); one debug line per item.
fn log_outcome(delivery: &Delivery, outcome: &IngestOutcome, causes: &[extract::Cause]) {
    let batch = &delivery.batch;
    let stored_records =
        batch.messages.iter().enumerate().filter(|(i, _)| !outcome.quarantined_messages.contains(i));
    let (mut stored, mut duplicates, mut jobs) = (0u64, 0u64, 0u64);
    for ((_, record), item) in stored_records.zip(&outcome.messages) {
        match item.inbound_message_id {
            Some(inbound_message_id) => {
                stored += 1;
                jobs += u64::from(item.job_id.is_some());
                tracing::debug!(
                    request_id = batch.request_id.as_str(),
                    inbound_message_id,
                    job_id = item.job_id,
                    conversation_id = item.conversation_id,
                    message_type = record.message_type.as_str(),
                    "inbound message stored"
                );
                tracing::trace!(inbound_message_id, from = ?record.wa_id, text = ?record.text_body, "inbound message content");
            }
            None => {
                duplicates += 1;
                tracing::debug!(conversation_id = item.conversation_id, "duplicate inbound message ignored");
            }
        }
    }
    metrics::counter!("webhook_messages_total", "outcome" => "stored").increment(stored);
    metrics::counter!("webhook_messages_total", "outcome" => "duplicate").increment(duplicates);
    let recorded = outcome.statuses.iter().filter(|s| s.event_id.is_some()).count();
    let applied = outcome.statuses.iter().filter(|s| s.outbound_id.is_some()).count();
    metrics::counter!("webhook_statuses_total", "outcome" => "recorded").increment(recorded as u64);
    metrics::counter!("webhook_statuses_total", "outcome" => "duplicate")
        .increment((outcome.statuses.len() - recorded) as u64);
    let refused = outcome.quarantined_messages.len() + outcome.quarantined_statuses.len();
    metrics::counter!("webhook_quarantined_total", "cause" => "refused").increment(refused as u64);
    let not_served = causes.iter().filter(|c| **c == extract::Cause::NotServed).count();
    if batch.messages.is_empty() && outcome.quarantined.is_empty() {
        tracing::info!(
            request_id = batch.request_id.as_str(),
            statuses = outcome.statuses.len(),
            recorded,
            applied,
            "status-only webhook: statuses recorded, nothing enqueued"
        );
    } else {
        tracing::info!(
            request_id = batch.request_id.as_str(),
            messages_stored = stored,
            duplicates,
            jobs_enqueued = jobs,
            statuses = outcome.statuses.len(),
            statuses_recorded = recorded,
            statuses_applied = applied,
            quarantined = outcome.quarantined.len(),
            not_served,
            "delivery stored"
        );
    }
    if causes.len() > not_served || refused > 0 {
        tracing::warn!(
            request_id = batch.request_id.as_str(),
            set_aside = causes.len() - not_served,
            refused_by_postgres = refused,
            "delivery items quarantined"
        );
    }
}
