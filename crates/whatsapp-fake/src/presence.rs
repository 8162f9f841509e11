//! Read receipts and typing indicators (`"status": "read"` on the messages endpoint): checked
//! as the Cloud API checks them, answered `{"success": true}`, recorded for
//! `GET /_fake/presence`, and failed or slowed on request (`FAKE_PRESENCE_*`).

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use rand::Rng;
use serde_json::{Value, json};

use crate::server::{Refusal, Shared, graph_error, injected_error, json_answer};
use crate::state::RecordedPresence;

/// Answers a read receipt for `phone_number_id` (never by dropping the connection).
pub(crate) async fn mark_read(
    shared: &Shared,
    phone_number_id: &str,
    request: &Value,
) -> Response<Full<Bytes>> {
    let (message_id, typing) = match validate(request) {
        Ok(valid) => valid,
        Err(Refusal { code, message }) => return graph_error(StatusCode::BAD_REQUEST, code, &message),
    };
    let faults = shared.state.lock().map(|s| s.faults.clone()).unwrap_or_default();
    if faults.presence_latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.presence_latency_ms)).await;
    }
    if rand::rng().random_bool(faults.presence_error_rate.clamp(0.0, 1.0)) {
        return injected_error(&faults, &format!("Injected error for message {message_id}"));
    }
    let recorded = RecordedPresence {
        phone_number_id: phone_number_id.to_owned(),
        message_id,
        typing,
        received_at: Utc::now(),
    };
    tracing::info!(message_id = recorded.message_id, typing, "read receipt accepted");
    if let Ok(mut state) = shared.state.lock() {
        state.presence.push(recorded);
    }
    json_answer(StatusCode::OK, &json!({"success": true}))
}

/// The message id, and whether a typing indicator is asked for.
fn validate(request: &Value) -> Result<(String, bool), Refusal> {
    if request.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(Refusal::invalid("The parameter messaging_product is required."));
    }
    if request.get("status").and_then(Value::as_str) != Some("read") {
        return Err(Refusal::invalid("Invalid parameter: status must be read"));
    }
    let message_id = request.get("message_id").and_then(Value::as_str).unwrap_or_default();
    if message_id.is_empty() {
        return Err(Refusal::invalid("The parameter message_id is required."));
    }
    let typing = match request.get("typing_indicator") {
        None => false,
        Some(indicator) if indicator.get("type").and_then(Value::as_str) == Some("text") => true,
        Some(_) => return Err(Refusal::invalid("Invalid parameter: typing_indicator['type'] must be text")),
    };
    Ok((message_id.to_owned(), typing))
}
