//! A scripted customer conversation through a running stack, as the customer's phone
//! would show it: each message goes in as a signed webhook; whether it turned read and
//! "typing…" showed is read back from the read receipts the Graph API double received, each
//! reply from its sends, and the reply's delivery ticks from the status the status webhooks
//! left on `outbound_message_log`.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use store::SendStatus;

use crate::payloads::{self, Customer, unique_wamid};

/// What a customer types, from the first message to the handoff.
pub const SCRIPT: [&str; 6] = [
    "Hello",
    "I need a family visa for my wife and kids",
    "Ahmed Khan",
    "Pakistani",
    "ahmed.khan@outlook.com",
    "Tomorrow after 5pm",
];

/// Where the stack runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// webhook-ingest's base URL.
    pub ingest_url: String,
    /// whatsapp-fake's base URL.
    pub fake_url: String,
    /// The pipeline's database.
    pub database_url: String,
    /// The app secret ingest verifies signatures with.
    pub app_secret: String,
}

/// A reply as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The text.
    pub body: String,
    /// Its delivery status once read, or where it stopped (`None`: no such row).
    pub status: Option<SendStatus>,
}

/// One message of the customer and the replies to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// What the customer wrote.
    pub customer: String,
    /// Whether their message turned read (blue ticks).
    pub read: bool,
    /// Whether "typing…" showed while the reply was prepared.
    pub typing: bool,
    /// What came back.
    pub replies: Vec<Reply>,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Ingest did not accept a webhook.
    #[error("webhook-ingest answered {0} to the customer's message (is the stack running?)")]
    NotAccepted(u16),
    /// No reply reached the Graph API double in time.
    #[error("no reply to {0:?} reached the Graph API within {1:?}")]
    NoReply(String, Duration),
}

/// How long a reply, and then its read receipt, may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Sends `script` as a new customer, calling `on_turn` as each turn completes (reply read,
/// or its ticks stopped moving); returns the whole transcript.
pub async fn run(
    target: &Target,
    script: &[&str],
    mut on_turn: impl FnMut(&Turn),
) -> Result<Vec<Turn>, DemoError> {
    let http = reqwest::Client::new();
    let customer = Customer { name: "Ahmed".to_owned(), ..Customer::unique() };
    let mut transcript = Vec::new();
    let mut seen = 0;
    for line in script {
        let wamid = unique_wamid();
        let envelope = payloads::single_message(&customer, payloads::text(&customer, &wamid, line));
        let signed = payloads::signed_with(&envelope, &target.app_secret);
        let status = http
            .post(format!("{}/api/webhooks/whatsapp", target.ingest_url))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signed.signature)
            .body(signed.body)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        if status != 200 {
            return Err(DemoError::NotAccepted(status));
        }
        let sends = wait_for_sends(&http, target, &customer, seen + 1).await;
        if sends.len() <= seen {
            return Err(DemoError::NoReply((*line).to_owned(), REPLY_TIMEOUT));
        }
        let mut replies = Vec::new();
        for send in &sends[seen..] {
            let body = send["body"].as_str().unwrap_or_default().to_owned();
            let status = wait_until_read(target, send["callback_data"].as_str().unwrap_or_default()).await;
            replies.push(Reply { body, status });
        }
        seen = sends.len();
        // Presence goes out as soon as the message is stored, before the reply.
        let receipt = read_receipt(&http, target, &wamid).await;
        let read = receipt.is_some();
        let typing = receipt.is_some_and(|r| r["typing"] == true);
        let turn = Turn { customer: (*line).to_owned(), read, typing, replies };
        on_turn(&turn);
        transcript.push(turn);
    }
    Ok(transcript)
}

/// The sends to `customer` the double received, once there are at least `n` (or the
/// timeout passed).
async fn wait_for_sends(
    http: &reqwest::Client,
    target: &Target,
    customer: &Customer,
    n: usize,
) -> Vec<Value> {
    let to = format!("+{}", customer.wa_id);
    let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
    loop {
        let all = match http.get(format!("{}/_fake/sends", target.fake_url)).send().await {
            Ok(r) => r.json::<Vec<Value>>().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mine: Vec<Value> = all.into_iter().filter(|s| s["to"] == to.as_str()).collect();
        if mine.len() >= n || tokio::time::Instant::now() >= deadline {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The read receipt the double received for the message `wamid`, if any.
async fn read_receipt(http: &reqwest::Client, target: &Target, wamid: &str) -> Option<Value> {
    let all = match http.get(format!("{}/_fake/presence", target.fake_url)).send().await {
        Ok(r) => r.json::<Vec<Value>>().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    all.into_iter().find(|r| r["message_id"] == wamid)
}

/// The reply's delivery status once it is `read`, or the last one seen at the timeout.
async fn wait_until_read(target: &Target, callback_data: &str) -> Option<SendStatus> {
    let id = callback_data.strip_prefix("outbound:").and_then(|id| id.parse::<i64>().ok())?;
    let sql = format!("SELECT status AS s FROM outbound_message_log WHERE id = {id}");
    let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
    loop {
        let stored = crate::sql::strings(&target.database_url, &sql).await.pop();
        let status = stored.and_then(|s| s.parse::<SendStatus>().ok());
        if status == Some(SendStatus::Read) || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// WhatsApp's ticks for a status.
pub fn ticks(status: Option<SendStatus>) -> &'static str {
    match status {
        Some(SendStatus::Sent) => "✓",
        Some(SendStatus::Delivered) => "✓✓",
        Some(SendStatus::Read) => "✓✓ read",
        Some(SendStatus::Failed | SendStatus::Superseded) => "! not delivered",
        Some(SendStatus::Queued | SendStatus::Sending | SendStatus::Uncertain) | None => "… sending",
    }
}

impl fmt::Display for Turn {
    /// The turn as a chat: the customer's line on the right with its ticks, "typing…" if it
    /// showed, each reply on the left with its ticks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:>60}  ◀ customer", self.customer)?;
        writeln!(f, "{:>60}", ticks(Some(if self.read { SendStatus::Read } else { SendStatus::Delivered })))?;
        if self.typing {
            writeln!(f, "  ABCai is typing…")?;
        }
        for reply in &self.replies {
            let mut lines = reply.body.lines();
            writeln!(f, "  ABCai ▶ {}", lines.next().unwrap_or_default())?;
            for line in lines {
                writeln!(f, "{}", format!("          {line}").trim_end())?;
            }
            writeln!(f, "          {}", ticks(reply.status))?;
        }
        Ok(())
    }
}
