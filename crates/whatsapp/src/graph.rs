//! The Graph API client: `POST {base}/{version}/{phone_number_id}/messages`, for texts,
//! approved templates, and read receipts with or without a typing indicator.

use std::time::Duration;

use domain::Secret;
use domain::template::TemplateSend;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::errors;

/// A text reply to send.
#[derive(Debug, Clone)]
pub struct TextMessage<'a> {
    /// The business number's Graph API id.
    pub phone_number_id: &'a str,
    /// The customer's WhatsApp id (digits, with or without `+`).
    pub to: &'a str,
    /// The text (at most 4,096 characters).
    pub body: &'a str,
    /// The inbound message this answers, shown as a quoted reply.
    pub reply_to: Option<&'a str>,
    /// Echoed back in status webhooks (`biz_opaque_callback_data`).
    pub callback_data: &'a str,
}

/// An approved template to send: allowed outside the 24-hour customer-service window too.
#[derive(Debug, Clone)]
pub struct TemplateMessage<'a> {
    /// The business number's Graph API id.
    pub phone_number_id: &'a str,
    /// The customer's WhatsApp id (digits, with or without `+`).
    pub to: &'a str,
    /// The template, its language and its body parameters.
    pub template: &'a TemplateSend,
    /// Echoed back in status webhooks (`biz_opaque_callback_data`).
    pub callback_data: &'a str,
}

/// A read receipt for an inbound message: it and every earlier message of the chat show as
/// read (blue ticks).
#[derive(Debug, Clone)]
pub struct ReadReceipt<'a> {
    /// The business number's Graph API id.
    pub phone_number_id: &'a str,
    /// The inbound message's wamid.
    pub message_id: &'a str,
    /// Whether the customer also sees a typing indicator, until our next message or for
    /// 25 seconds.
    pub typing: bool,
}

/// Why a request did not go through (a send: it returned no wamid).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Meta answered with its error envelope.
    #[error("Graph API error {code}: {message}")]
    Api {
        /// Meta's error code.
        code: i64,
        /// Meta's error subcode.
        subcode: Option<i64>,
        /// Meta's message, phone numbers and e-mail addresses masked (it is logged).
        message: String,
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// An HTTP error without Meta's envelope (a proxy's 502, say).
    #[error("HTTP {status} without a Graph API error")]
    Http {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// The request was never sent (no connection could be made): safe to retry.
    #[error("request not sent: {0}")]
    NotSent(String),
    /// The request may have reached Meta, but no answer came (timeout, connection reset,
    /// unreadable answer): the message may have been sent.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// What the caller should do about a [`SendError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Failed in a way that calls for the [`errors::Disposition`].
    Failed(errors::Disposition),
    /// Nobody knows whether the message went out.
    Uncertain,
}

impl SendError {
    /// What to do: by Meta's code when there is one; 5xx and 429 without a code are
    /// transient, other 4xx permanent; unsent requests transient; unknown outcomes uncertain.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Api { code, .. } => Outcome::Failed(errors::disposition(*code)),
            Self::Http { status: 429, .. } => Outcome::Failed(errors::Disposition::Throttled),
            Self::Http { status, .. } if *status >= 500 => Outcome::Failed(errors::Disposition::Transient),
            Self::Http { .. } => Outcome::Failed(errors::Disposition::Permanent),
            Self::NotSent(_) => Outcome::Failed(errors::Disposition::Transient),
            Self::Unknown(_) => Outcome::Uncertain,
        }
    }

    /// The code stored on the row (the HTTP status when Meta sent no code).
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::Http { status, .. } => Some(i64::from(*status)),
            Self::NotSent(_) | Self::Unknown(_) => None,
        }
    }

    /// How long Meta asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } | Self::Http { retry_after, .. } => *retry_after,
            Self::NotSent(_) | Self::Unknown(_) => None,
        }
    }
}

/// Sends messages through the Graph API.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    version: String,
    token: Secret,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .finish()
    }
}

#[derive(Deserialize)]
struct Accepted {
    messages: Vec<AcceptedMessage>,
}

#[derive(Deserialize)]
struct AcceptedMessage {
    id: String,
}

/// The answer to a read receipt.
#[derive(Deserialize)]
struct Acknowledged {
    success: bool,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    code: i64,
    error_subcode: Option<i64>,
    #[serde(default)]
    message: String,
}

impl GraphClient {
    /// A client for `base_url` (e.g. `https://graph.facebook.com`) and `version` (e.g.
    /// `v25.0`), giving up on a request after `timeout`.
    pub fn new(
        base_url: &str,
        version: &str,
        token: Secret,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            version: version.trim_matches('/').to_owned(),
            token,
        })
    }

    /// `{base}/{version}/{phone_number_id}/messages`, each segment percent-encoded, so a
    /// value cannot reach another Graph path (`..`, `/`, `?` and `#` are escaped).
    pub fn messages_url(&self, phone_number_id: &str) -> String {
        format!("{}/{}/{}/messages", self.base_url, segment(&self.version), segment(phone_number_id))
    }

    /// Sends a text and returns the wamid Meta assigned.
    pub async fn send_text(&self, message: &TextMessage<'_>) -> Result<String, SendError> {
        wamid(&self.post(message.phone_number_id, &text_request(message)).await?)
    }

    /// Sends an approved template and returns the wamid Meta assigned.
    pub async fn send_template(&self, message: &TemplateMessage<'_>) -> Result<String, SendError> {
        wamid(&self.post(message.phone_number_id, &template_request(message)).await?)
    }

    /// Marks an inbound message (and the earlier ones) read, with the typing indicator when
    /// asked.
    pub async fn mark_read(&self, receipt: &ReadReceipt<'_>) -> Result<(), SendError> {
        let answer = self.post(receipt.phone_number_id, &read_request(receipt)).await?;
        let acknowledged: Acknowledged = serde_json::from_slice(&answer)
            .map_err(|e| SendError::Unknown(format!("unreadable success answer: {e}")))?;
        if acknowledged.success {
            Ok(())
        } else {
            Err(SendError::Unknown("the read receipt was answered without success".to_owned()))
        }
    }

    /// POSTs one request to the messages endpoint; returns the body of a 2xx answer.
    async fn post(&self, phone_number_id: &str, body: &Value) -> Result<Vec<u8>, SendError> {
        let url = self.messages_url(phone_number_id);
        let response =
            self.http.post(&url).bearer_auth(self.token.expose()).json(body).send().await.map_err(|e| {
                if e.is_connect() {
                    SendError::NotSent(e.to_string())
                } else {
                    SendError::Unknown(e.to_string())
                }
            })?;
        let status = response.status().as_u16();
        let retry_after =
            errors::retry_after(response.headers().get("retry-after").and_then(|v| v.to_str().ok()));
        let bytes = response.bytes().await.map_err(|e| SendError::Unknown(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok(bytes.to_vec());
        }
        Err(error_answer(&bytes, status, retry_after))
    }
}

/// The wamid of a send's success answer.
fn wamid(answer: &[u8]) -> Result<String, SendError> {
    let accepted: Accepted = serde_json::from_slice(answer)
        .map_err(|e| SendError::Unknown(format!("unreadable success answer: {e}")))?;
    accepted
        .messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .ok_or_else(|| SendError::Unknown("success answer without a message id".to_owned()))
}

/// The recipient as the Graph API takes it: `+` and digits.
fn recipient(to: &str) -> String {
    if to.starts_with('+') { to.to_owned() } else { format!("+{to}") }
}

/// The request body of a text: quoting the message it answers, when there is one.
fn text_request(message: &TextMessage<'_>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient(message.to),
        "type": "text",
        "biz_opaque_callback_data": message.callback_data,
        "text": { "preview_url": false, "body": message.body },
    });
    if let Some(reply_to) = message.reply_to {
        body["context"] = json!({ "message_id": reply_to });
    }
    body
}

/// The request body of a template: its body parameters as text parameters, in order (no
/// `components` for a template without parameters); never quoting a message.
fn template_request(message: &TemplateMessage<'_>) -> Value {
    let template = message.template;
    let mut content = json!({
        "name": template.name,
        "language": { "code": template.language.as_str() },
    });
    if !template.parameters.is_empty() {
        let parameters: Vec<Value> =
            template.parameters.iter().map(|text| json!({ "type": "text", "text": text })).collect();
        content["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient(message.to),
        "type": "template",
        "biz_opaque_callback_data": message.callback_data,
        "template": content,
    })
}

/// The request body of a read receipt: the typing indicator only when asked for.
fn read_request(receipt: &ReadReceipt<'_>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": receipt.message_id,
    });
    if receipt.typing {
        body["typing_indicator"] = json!({ "type": "text" });
    }
    body
}

/// The error of a non-2xx answer: Meta's envelope when the body is one.
fn error_answer(body: &[u8], status: u16, retry_after: Option<Duration>) -> SendError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => SendError::Api {
            code: envelope.error.code,
            subcode: envelope.error.error_subcode,
            message: domain::redact::contact_details(&envelope.error.message).into_owned(),
            status,
            retry_after,
        },
        Err(_) => SendError::Http { status, retry_after },
    }
}

/// Bytes escaped in a path segment: everything but unreserved characters (RFC 3986), and
/// `.` too, so `..` never reads as a parent segment.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// `value` as one percent-encoded path segment; a version like `v25.0` keeps its dot.
fn segment(value: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(value, SEGMENT).to_string();
    // A dot between alphanumerics cannot form `.` or `..`; keep it readable.
    if value.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric())) {
        value.to_owned()
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Disposition;

    #[test]
    fn path_segments_of_the_send_url_are_escaped() {
        let client =
            GraphClient::new("https://graph.example/", "v25.0", Secret::new("t"), Duration::from_secs(1))
                .expect("client");
        assert_eq!(
            client.messages_url("106540352242922"),
            "https://graph.example/v25.0/106540352242922/messages"
        );
        assert_eq!(
            client.messages_url("../../v1/me?x="),
            "https://graph.example/v25.0/%2E%2E%2F%2E%2E%2Fv1%2Fme%3Fx%3D/messages"
        );
        assert_eq!(client.messages_url(".."), "https://graph.example/v25.0/%2E%2E/messages");
        assert_eq!(client.messages_url("1#frag"), "https://graph.example/v25.0/1%23frag/messages");
    }

    #[test]
    fn a_template_request_carries_name_language_and_body_parameters_in_order() {
        let template = TemplateSend {
            name: "follow_up_en".to_owned(),
            language: "en".parse().expect("code"),
            parameters: vec!["Fatima".to_owned(), "family visa".to_owned()],
        };
        let message = TemplateMessage {
            phone_number_id: "106540352242922",
            to: "971500000001",
            template: &template,
            callback_data: "outbound:7",
        };
        assert_eq!(
            template_request(&message),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "+971500000001",
                "type": "template",
                "biz_opaque_callback_data": "outbound:7",
                "template": {
                    "name": "follow_up_en",
                    "language": {"code": "en"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": "Fatima"},
                        {"type": "text", "text": "family visa"},
                    ]}],
                },
            })
        );
        let bare = TemplateSend { parameters: Vec::new(), ..template.clone() };
        let request = template_request(&TemplateMessage { template: &bare, ..message });
        assert!(request["template"].get("components").is_none(), "{request}");
    }

    #[test]
    fn a_text_request_quotes_the_message_it_answers() {
        let message = TextMessage {
            phone_number_id: "1",
            to: "+971500000001",
            body: "Hi",
            reply_to: Some("wamid.IN"),
            callback_data: "outbound:8",
        };
        let request = text_request(&message);
        assert_eq!(request["to"], "+971500000001");
        assert_eq!(request["context"], json!({"message_id": "wamid.IN"}));
        assert_eq!(request["text"], json!({"preview_url": false, "body": "Hi"}));
        assert!(text_request(&TextMessage { reply_to: None, ..message }).get("context").is_none());
    }

    #[test]
    fn a_read_receipt_asks_for_the_typing_indicator_only_when_told() {
        let receipt = ReadReceipt { phone_number_id: "1", message_id: "wamid.IN", typing: true };
        assert_eq!(
            read_request(&receipt),
            json!({
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": "wamid.IN",
                "typing_indicator": {"type": "text"},
            })
        );
        assert_eq!(
            read_request(&ReadReceipt { typing: false, ..receipt }),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"})
        );
    }

    #[test]
    fn meta_error_messages_are_kept_with_contact_details_masked() {
        let body = br#"{"error":{"message":"(#131030) Recipient +15551234567 not in allowed list",
            "type":"OAuthException","code":131030,"error_subcode":2494010,"fbtrace_id":"x"}}"#;
        let e = error_answer(body, 400, None);
        assert_eq!(e.to_string(), "Graph API error 131030: (#131030) Recipient <number> not in allowed list");
        assert!(matches!(e, SendError::Api { code: 131030, subcode: Some(2494010), status: 400, .. }));
        assert!(matches!(
            error_answer(b"<html>bad gateway</html>", 502, None),
            SendError::Http { status: 502, .. }
        ));
    }

    #[test]
    fn outcomes_follow_codes_then_statuses() {
        let api = |code| SendError::Api {
            code,
            subcode: None,
            message: String::new(),
            status: 400,
            retry_after: None,
        };
        assert_eq!(api(131026).outcome(), Outcome::Failed(Disposition::Permanent));
        assert_eq!(api(130429).outcome(), Outcome::Failed(Disposition::Throttled));
        let http = |status| SendError::Http { status, retry_after: None };
        assert_eq!(http(502).outcome(), Outcome::Failed(Disposition::Transient));
        assert_eq!(http(429).outcome(), Outcome::Failed(Disposition::Throttled));
        assert_eq!(http(404).outcome(), Outcome::Failed(Disposition::Permanent));
        assert_eq!(SendError::NotSent("refused".into()).outcome(), Outcome::Failed(Disposition::Transient));
        assert_eq!(SendError::Unknown("timeout".into()).outcome(), Outcome::Uncertain);
    }
}
