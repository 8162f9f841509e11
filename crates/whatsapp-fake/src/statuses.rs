//! Signed status webhooks for accepted sends, posted the way Meta posts them.

use std::time::Duration;

use domain::Secret;
use serde_json::json;

use crate::state::RecordedSend;

/// How long a status webhook is retried before the fake gives up on it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(180);

/// Where and how status webhooks go.
#[derive(Clone)]
pub(crate) struct StatusPoster {
    pub(crate) http: reqwest::Client,
    pub(crate) ingest_url: String,
    pub(crate) app_secret: Secret,
}

impl StatusPoster {
    /// Posts `statuses` for `send`, one webhook each, `delay` apart; each is retried while
    /// ingest does not answer 200, with a growing pause, for up to [`GIVE_UP_AFTER`] (Meta
    /// retries for days; an outage of ingest or Postgres must not lose a status).
    pub(crate) async fn post(&self, send: RecordedSend, statuses: Vec<String>, delay: Duration) {
        for status in statuses {
            tokio::time::sleep(delay).await;
            let body = self.body(&send, &status);
            let signature = whatsapp::signature::sign(self.app_secret.expose().as_bytes(), &body);
            let mut pause = Duration::from_millis(200);
            let give_up = tokio::time::Instant::now() + GIVE_UP_AFTER;
            while tokio::time::Instant::now() < give_up {
                let sent = self
                    .http
                    .post(&self.ingest_url)
                    .header("content-type", "application/json")
                    .header(whatsapp::signature::SIGNATURE_HEADER, &signature)
                    .body(body.clone())
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    break;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }

    fn body(&self, send: &RecordedSend, status: &str) -> Vec<u8> {
        let mut item = json!({
            "id": send.wamid,
            "status": status,
            "timestamp": chrono::Utc::now().timestamp().to_string(),
            "recipient_id": send.to.trim_start_matches('+'),
        });
        if let Some(data) = &send.callback_data {
            item["biz_opaque_callback_data"] = json!(data);
        }
        if status != "failed" {
            item["pricing"] = json!({"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"});
        }
        let envelope = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "fake-waba", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550000000", "phone_number_id": send.phone_number_id},
                "statuses": [item],
            }}]}],
        });
        envelope.to_string().into_bytes()
    }
}
