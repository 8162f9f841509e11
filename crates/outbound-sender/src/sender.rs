//! Sending one claimed reply, and ending it in exactly one fenced state.

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::callback::outbound_callback_data;
use domain::template::{TemplateCatalogue, TemplateRefused, TemplateSend};
use domain::text_policy::sanitize;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use store::outbound::sent::{Sent, SentRecorder, SentWriter};
use store::outbound::{ClaimedSend, SendFailure, Sends, UncertainPolicy};
use store::{DbPool, Fenced, Retry, StoreError};
use telemetry::metrics::Counter;
use tracing::Instrument;
use whatsapp::errors::Disposition;
use whatsapp::graph::{GraphClient, Outcome, SendError, TemplateMessage, TextMessage};
use worker::{Queue, RetryPolicy};

/// The counters a sender exports from its start.
pub const COUNTERS: &[Counter] = &[
    Counter { name: "outbound_claimed_total", labels: &[], help: "Replies claimed for sending" },
    Counter { name: "outbound_sent_total", labels: &[], help: "Replies the Graph API accepted" },
    Counter {
        name: "outbound_retried_total",
        labels: &[],
        help: "Sends queued again after a transient error",
    },
    Counter { name: "outbound_failed_total", labels: &[], help: "Replies failed for good (staff notified)" },
    Counter {
        name: "outbound_uncertain_total",
        labels: &[],
        help: "Sends with no answer from the Graph API",
    },
    Counter {
        name: "outbound_refused_opted_out_total",
        labels: &[],
        help: "Replies not sent because the customer opted out",
    },
    Counter {
        name: "outbound_service_lists_blocked_total",
        labels: &[],
        help: "Service lists removed by the sanitizer before sending",
    },
];

/// How sends are made and ended.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// Lease of a claim (outlasts the HTTP timeout).
    pub lease: Duration,
    /// How long an uncertain send waits for a status webhook.
    pub uncertain_window: Duration,
    /// What happens after that.
    pub uncertain_policy: UncertainPolicy,
    /// Retry delays of transient errors.
    pub retry: RetryPolicy,
    /// Pause of a business number after a throughput error without Retry-After.
    pub throttle_pause: Duration,
    /// Pause of a business number after an access-token error.
    pub auth_pause: Duration,
    /// Sends per second per business number from this process.
    pub rate_per_second: u32,
    /// The approved templates a queued template must be one of.
    pub templates: TemplateCatalogue,
    /// Connections recording sends Meta accepted (results that arrive while they are busy
    /// share a commit).
    pub committers: usize,
}

/// Sends queued replies.
#[derive(Clone)]
pub struct Sender {
    sends: Sends,
    recorder: SentRecorder,
    client: GraphClient,
    settings: Arc<SendSettings>,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl Sender {
    /// A sender on `pool` through `client`; starts its committers (call within a Tokio
    /// runtime).
    pub fn new(pool: DbPool, client: GraphClient, settings: SendSettings) -> Self {
        let rate = NonZeroU32::new(settings.rate_per_second).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(rate)));
        let recorder = SentRecorder::start(pool.clone(), SentWriter, settings.committers);
        Self { sends: Sends::new(pool), recorder, client, settings: Arc::new(settings), limiter }
    }

    async fn send(&self, send: ClaimedSend) {
        let span = tracing::info_span!(
            "outbound.send",
            outbound_id = send.id,
            outbound_key = send.dedupe_key.as_str(),
            request_id = send.origin.request_id(),
            conversation_id = send.conversation_id,
            attempt = send.lease.attempts,
        );
        telemetry::propagation::continue_trace(&span, send.origin.traceparent.as_deref());
        async {
            metrics::histogram!("outbound_queue_wait_seconds").record(send.waited_secs);
            if let Err(e) = self.deliver(&send).await {
                // The lease will expire and upkeep will mark the send uncertain.
                tracing::error!(error = %e, "cannot record the outcome of a send");
            }
        }
        .instrument(span)
        .await;
    }

    async fn deliver(&self, send: &ClaimedSend) -> Result<(), StoreError> {
        let Some(wa_id) = send.wa_id.as_deref() else {
            let failure = SendFailure { code: None, text: "the customer has no phone number to send to" };
            return self.fail(send, &failure).await;
        };
        if send.opted_out {
            // The engine stays silent after an opt-out; this is the second check (invariant 11).
            tracing::warn!("not sent: the customer opted out");
            metrics::counter!("outbound_refused_opted_out_total").increment(1);
            let _ = self.sends.refuse_opted_out(send).await?;
            return Ok(());
        }
        match &send.template {
            Ok(None) => self.deliver_text(send, wa_id).await,
            Ok(Some(template)) => self.deliver_template(send, wa_id, template).await,
            Err(unreadable) => {
                let text = format!("{unreadable}: not sent");
                self.fail(send, &SendFailure { code: None, text: &text }).await
            }
        }
    }

    /// A free-form text: only inside the 24-hour window, and sanitized.
    async fn deliver_text(&self, send: &ClaimedSend, wa_id: &str) -> Result<(), StoreError> {
        if !send.in_service_window {
            let failure = SendFailure {
                code: Some(131047),
                text: "outside the 24-hour customer-service window: not sent (a template is needed)",
            };
            return self.fail(send, &failure).await;
        }
        let sanitized = sanitize(&send.body);
        if sanitized.blocked {
            tracing::warn!(request_id = send.origin.request_id(), "Blocked service list");
            metrics::counter!("outbound_service_lists_blocked_total").increment(1);
        }
        let callback = outbound_callback_data(send.id);
        let message = TextMessage {
            phone_number_id: &send.phone_number_id,
            to: wa_id,
            body: &sanitized.text,
            reply_to: send.reply_to_provider_message_id.as_deref(),
            callback_data: &callback,
        };
        self.call(send, "text", self.client.send_text(&message)).await
    }

    /// An approved template: allowed whatever the window, when the catalogue lists it and
    /// its parameters fit.
    async fn deliver_template(
        &self,
        send: &ClaimedSend,
        wa_id: &str,
        template: &TemplateSend,
    ) -> Result<(), StoreError> {
        if let Err(refused) = self.settings.templates.render(template) {
            let text = match &refused {
                TemplateRefused::Unknown { .. } => format!("{refused} (WHATSAPP_TEMPLATES): not sent"),
                TemplateRefused::Parameters { .. } => format!("{refused}: not sent"),
            };
            return self.fail(send, &SendFailure { code: None, text: &text }).await;
        }
        let callback = outbound_callback_data(send.id);
        let message = TemplateMessage {
            phone_number_id: &send.phone_number_id,
            to: wa_id,
            template,
            callback_data: &callback,
        };
        self.call(send, "template", self.client.send_template(&message)).await
    }

    /// Makes the Graph API call `request` (not started yet) at the business number's pace,
    /// and ends the send by its answer.
    async fn call(
        &self,
        send: &ClaimedSend,
        message_type: &'static str,
        request: impl Future<Output = Result<String, SendError>>,
    ) -> Result<(), StoreError> {
        let request_id = send.origin.request_id();
        self.limiter.until_key_ready(&send.phone_number_id).await;
        tracing::info!(request_id, outbound_key = send.dedupe_key.as_str(), message_type, "Sending outbound");
        let started = Instant::now();
        let result = request.instrument(tracing::info_span!("provider.request", request_id)).await;
        metrics::histogram!("outbound_send_duration_seconds").record(started.elapsed().as_secs_f64());
        match result {
            Ok(wamid) => {
                let sent = Sent { id: send.id, claim_token: send.lease.claim_token, wamid };
                if self.recorder.commit(sent).await.1?.is_applied() {
                    tracing::info!("outbound sent");
                    metrics::counter!("outbound_sent_total").increment(1);
                } else {
                    tracing::warn!("sent, but another sender holds the row now: it may be sent twice");
                }
                Ok(())
            }
            Err(error) => self.handle_error(send, &error).await,
        }
    }

    async fn handle_error(&self, send: &ClaimedSend, error: &SendError) -> Result<(), StoreError> {
        let code = error.code().and_then(|c| i32::try_from(c).ok());
        let code_label = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
        let outcome = error.outcome();
        let disposition = match outcome {
            Outcome::Uncertain => "uncertain",
            Outcome::Failed(d) => d.as_str(),
        };
        metrics::counter!("provider_errors_total", "code" => code_label, "disposition" => disposition)
            .increment(1);
        let text = error.to_string();
        let failure = SendFailure { code, text: &text };
        match outcome {
            Outcome::Uncertain => {
                tracing::warn!(error = %text, "no answer from the Graph API: the send is uncertain");
                metrics::counter!("outbound_uncertain_total").increment(1);
                // A status webhook may have settled it already: then there is nothing to mark.
                let _ = self.sends.mark_uncertain(send, self.settings.uncertain_window, &text).await?;
            }
            Outcome::Failed(Disposition::Transient) => {
                let backoff =
                    self.settings.retry.delay_after(u32::try_from(send.lease.attempts).unwrap_or(1));
                let delay = error.retry_after().map_or(backoff, |asked| asked.max(backoff));
                self.retry(send, delay, &failure, false).await?;
            }
            Outcome::Failed(Disposition::Throttled) => {
                let pause = error.retry_after().unwrap_or(self.settings.throttle_pause);
                tracing::warn!(error = %text, pause_ms = pause.as_millis() as u64, "throughput limit: pausing this business number");
                let reason = SendFailure { code, text: "throughput limit" };
                self.sends.pause_number(&send.phone_number_id, pause, &reason).await?;
                self.retry(send, pause, &failure, true).await?;
            }
            Outcome::Failed(Disposition::Permanent) => self.fail(send, &failure).await?,
            Outcome::Failed(Disposition::Auth) => {
                tracing::error!(
                    error = %text,
                    pause_secs = self.settings.auth_pause.as_secs(),
                    "ACCESS TOKEN REJECTED by the Graph API: sending is paused for this business number; \
                     fix WHATSAPP_ACCESS_TOKEN"
                );
                let reason = SendFailure { code, text: "access token rejected" };
                self.sends.pause_number(&send.phone_number_id, self.settings.auth_pause, &reason).await?;
                self.fail(send, &failure).await?;
            }
        }
        Ok(())
    }

    async fn retry(
        &self,
        send: &ClaimedSend,
        delay: Duration,
        failure: &SendFailure<'_>,
        throttled: bool,
    ) -> Result<(), StoreError> {
        match self.sends.retry(send, delay, failure, throttled).await? {
            Fenced::Applied(Retry::Requeued) => {
                tracing::warn!(
                    error = failure.text,
                    retry_in_ms = delay.as_millis() as u64,
                    "send failed; will retry"
                );
                metrics::counter!("outbound_retried_total").increment(1);
            }
            Fenced::Applied(Retry::Failed) => {
                tracing::error!(error = failure.text, "send failed on its last attempt");
                metrics::counter!("outbound_failed_total").increment(1);
            }
            Fenced::LeaseLost => tracing::warn!("the row is no longer ours"),
        }
        Ok(())
    }

    async fn fail(&self, send: &ClaimedSend, failure: &SendFailure<'_>) -> Result<(), StoreError> {
        if self.sends.fail(send, failure).await?.is_applied() {
            tracing::error!(
                error = failure.text,
                error_code = failure.code,
                "send failed for good; staff notified"
            );
            metrics::counter!("outbound_failed_total").increment(1);
        }
        Ok(())
    }
}

impl Queue for Sender {
    type Item = ClaimedSend;

    fn id(send: &ClaimedSend) -> i64 {
        send.id
    }

    async fn claim(&self, limit: usize) -> Result<Vec<ClaimedSend>, StoreError> {
        let span = tracing::info_span!("outbound.claim", requested = limit);
        async {
            let claimed = self.sends.claim(limit, self.settings.lease).await?;
            metrics::counter!("outbound_claimed_total").increment(claimed.len() as u64);
            Ok(claimed)
        }
        .instrument(span)
        .await
    }

    async fn run(&self, send: ClaimedSend) {
        self.send(send).await;
    }

    /// A send still in flight at shutdown may have reached Meta: it becomes uncertain.
    async fn release(&self, send: ClaimedSend) {
        let marked =
            self.sends.mark_uncertain(&send, self.settings.uncertain_window, "stopped during the send");
        if let Err(e) = marked.await {
            tracing::warn!(outbound_id = send.id, error = %e, "cannot mark uncertain; upkeep will");
        }
    }

    async fn upkeep(&self) {
        match self.sends.upkeep(self.settings.uncertain_window, self.settings.uncertain_policy).await {
            Ok(upkeep) if upkeep.stalled + upkeep.unsettled > 0 => {
                tracing::warn!(
                    stalled = upkeep.stalled,
                    unsettled = upkeep.unsettled,
                    policy = ?self.settings.uncertain_policy,
                    "uncertain sends handled"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sender upkeep failed"),
        }
    }
}
