//! Presence: the customer's newest message marked read, with a typing indicator while the
//! bot prepares the turn's reply, as soon as it is stored.
//!
//! A loop of its own beside the send loop, with its own claims (`conversation_presence`),
//! slots and LISTEN connection: it never holds a reply's slot or waits for one. Per
//! conversation, at most one request is in flight and one is made a second, always for its
//! newest message (marking it read marks the earlier ones too). Each request is made once:
//! a failure is counted and logged, never retried, and changes nothing else.

use std::time::Duration;

use orchestrator_core::InboundKind;
use store::presence::{ClaimedPresence, Ended, FinishWriter, Finisher, Presences};
use store::{DbPool, Fenced};
use telemetry::metrics::Counter;
use tracing::Instrument;
use whatsapp::graph::{GraphClient, ReadReceipt};
use worker::{Queue, Wake};

/// The shortest time between two presence requests of one conversation.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

const REQUESTS_HELP: &str = "Read receipts (with or without a typing indicator), by outcome";

/// The counters presence exports from the sender's start.
pub const COUNTERS: &[Counter] = &[
    Counter { name: "presence_requests_total", labels: &[("outcome", "sent")], help: REQUESTS_HELP },
    Counter { name: "presence_requests_total", labels: &[("outcome", "failed")], help: REQUESTS_HELP },
    Counter { name: "presence_requests_total", labels: &[("outcome", "skipped")], help: REQUESTS_HELP },
];

/// What the customer sees of us while a reply is prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceMode {
    /// Their messages turn read (blue ticks).
    Read,
    /// Read, and "typing…" until the reply (or for 25 s).
    ReadAndTyping,
}

impl PresenceMode {
    /// Whether the typing indicator goes with the read receipt of `claimed`: only when the
    /// bot is about to answer (Meta: "only display a typing indicator if you are going to
    /// respond"): not while staff hold the conversation, not for a message the engine
    /// ignores (reactions, edits, deletions, system notices), and not once the reply is
    /// queued (the indicator could arrive after it).
    fn typing(self, claimed: &ClaimedPresence) -> bool {
        self == Self::ReadAndTyping
            && !claimed.staff_holds
            && !claimed.reply_queued
            && InboundKind::from(&claimed.message_type) != InboundKind::Ignored
    }
}

/// Makes the presence requests conversations are due.
#[derive(Clone)]
pub struct Presence {
    presences: Presences,
    finisher: Finisher,
    client: GraphClient,
    mode: PresenceMode,
    lease: Duration,
    wake: Wake,
}

impl Presence {
    /// Presence in `mode` on `pool` through `client`, each request under `lease`; `wake`
    /// is its loop's, rung when a newer message became due during a request. Requests that
    /// end together end their leases in one commit (call within a Tokio runtime).
    pub fn new(pool: DbPool, client: GraphClient, mode: PresenceMode, lease: Duration, wake: Wake) -> Self {
        let finisher = Finisher::start(pool.clone(), FinishWriter, 1);
        Self { presences: Presences::new(pool), finisher, client, mode, lease, wake }
    }

    async fn request(&self, claimed: ClaimedPresence) {
        let span = tracing::info_span!(
            "presence.request",
            conversation_id = claimed.conversation_id,
            inbound_message_id = claimed.inbound_message_id,
            request_id = claimed.origin.request_id(),
        );
        telemetry::propagation::continue_trace(&span, claimed.origin.traceparent.as_deref());
        async {
            metrics::histogram!("presence_wait_seconds").record(claimed.waited_secs);
            if let Some(reason) = claimed.skipped {
                tracing::info!(reason = reason.as_str(), "presence skipped");
                metrics::counter!("presence_requests_total", "outcome" => "skipped").increment(1);
                return;
            }
            let receipt = ReadReceipt {
                phone_number_id: &claimed.phone_number_id,
                message_id: &claimed.provider_message_id,
                typing: self.mode.typing(&claimed),
            };
            // The span covers the call: a trace's `provider.request` spans are its sends.
            match self.client.mark_read(&receipt).await {
                Ok(()) => {
                    tracing::debug!(typing = receipt.typing, "presence sent");
                    metrics::counter!("presence_requests_total", "outcome" => "sent").increment(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e, error_code = e.code(), typing = receipt.typing, "presence request failed; not retried");
                    metrics::counter!("presence_requests_total", "outcome" => "failed").increment(1);
                }
            }
            self.finish(&claimed).await;
        }
        .instrument(span)
        .await;
    }

    /// Ends the request's lease, and wakes the loop when a newer message waits for it.
    async fn finish(&self, claimed: &ClaimedPresence) {
        match self.finisher.commit(Ended::from(claimed)).await.1 {
            Ok(Fenced::Applied(true)) => self.wake.wake(),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot end a presence request's lease; it expires by itself")
            }
        }
    }
}

impl Queue for Presence {
    type Item = ClaimedPresence;

    fn id(claimed: &ClaimedPresence) -> i64 {
        claimed.conversation_id
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedPresence>, store::StoreError> {
        self.presences
            .claim(limit, MIN_INTERVAL, self.lease)
            .instrument(tracing::info_span!("presence.claim"))
            .await
    }

    async fn run(&self, claimed: ClaimedPresence) {
        self.request(claimed).await;
    }

    /// A request still in flight at shutdown may have reached Meta: it is not made again,
    /// its lease just ends.
    async fn release(&self, claimed: ClaimedPresence) {
        self.finish(&claimed).await;
    }

    /// Nothing to tidy: a lease that expired (its sender died) stops counting by itself.
    async fn upkeep(&self) {}

    async fn next_due(&self) -> Option<Duration> {
        self.presences.next_due(MIN_INTERVAL).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot tell when presence is due next; polling");
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::webhook::MessageType;
    use store::Origin;

    use super::*;

    fn claimed(message_type: &str) -> ClaimedPresence {
        ClaimedPresence {
            conversation_id: 1,
            inbound_message_id: 2,
            provider_message_id: "wamid.IN".to_owned(),
            phone_number_id: "106540352242922".to_owned(),
            message_type: MessageType::from(message_type.to_owned()),
            staff_holds: false,
            reply_queued: false,
            skipped: None,
            claim_token: uuid::Uuid::nil(),
            origin: Origin::default(),
            waited_secs: 0.0,
        }
    }

    #[test]
    fn the_typing_indicator_shows_only_where_the_bot_is_about_to_answer() {
        let mode = PresenceMode::ReadAndTyping;
        assert!(mode.typing(&claimed("text")));
        assert!(mode.typing(&claimed("image")), "media is answered (the question is asked again)");
        assert!(!mode.typing(&claimed("reaction")), "a reaction gets no reply");
        assert!(!mode.typing(&claimed("revoke")), "a deletion gets no reply");
        let held = ClaimedPresence { staff_holds: true, ..claimed("text") };
        assert!(!mode.typing(&held), "staff answer, at their pace");
        let queued = ClaimedPresence { reply_queued: true, ..claimed("text") };
        assert!(!mode.typing(&queued), "the reply is on its way");
        assert!(!PresenceMode::Read.typing(&claimed("text")), "read receipts only");
    }
}
