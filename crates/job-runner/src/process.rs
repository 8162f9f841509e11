//! Running one claimed job: the engine's decision, committed with the job in one statement,
//! or a retry.

use chrono::Utc;
use domain::conversation::{ConversationState, EngineState, KnownFields, Stage, dedupe_key};
use orchestrator_core::{BusinessProfile, ContactChange, Decision, Inbound, InboundKind, decide};
use store::jobs::{ClaimedJob, Completer, Completion, JobResult, Jobs, NewNotification, NewReply, OptOut};
use store::{Fenced, LeadStatus, NoticeKind, Retry, StoreError};
use tracing::Instrument;

use worker::RetryPolicy;

/// How one job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its result is committed.
    Done,
    /// It failed and will run again later.
    Retried,
    /// It failed on its last attempt.
    Failed,
    /// Another runner holds it now; this runner's work was dropped.
    LeaseLost,
}

/// Runs `job`, committing its result through `completer`, and records how it ended. Never
/// panics and never leaves the job without a fenced transition, except when the database
/// is unreachable, in which case the lease expires and the job runs again.
pub async fn run_job(
    jobs: &Jobs,
    completer: &Completer,
    retry: &RetryPolicy,
    profile: &BusinessProfile,
    job: ClaimedJob,
) -> Outcome {
    let span = tracing::info_span!(
        "job.run",
        job_id = job.id,
        request_id = job.origin.request_id(),
        inbound_message_id = job.inbound_message_id,
        conversation_id = job.conversation_id,
        attempt = job.lease.attempts,
        outbound_key = tracing::field::Empty,
    );
    telemetry::propagation::continue_trace(&span, job.origin.traceparent.as_deref());
    // One turn, one reply: the span continues the first message's trace and links the others'.
    let others = job.messages.iter().filter_map(|m| m.traceparent.as_deref());
    telemetry::propagation::link_traces(
        &span,
        others.filter(|t| Some(*t) != job.origin.traceparent.as_deref()),
    );
    async {
        tracing::info!(attempt = job.lease.attempts, "Processing job");
        metrics::histogram!("job_pickup_latency_seconds").record(job.waited_secs);
        let error = match commit_decision(completer, profile, &job).await {
            Ok(Fenced::Applied(Completion::Done { .. })) => {
                metrics::counter!("jobs_done_total").increment(1);
                return Outcome::Done;
            }
            Ok(Fenced::LeaseLost) => {
                tracing::warn!("lease lost: another runner holds this job; result dropped");
                metrics::counter!("jobs_lease_lost_total").increment(1);
                return Outcome::LeaseLost;
            }
            Ok(Fenced::Applied(Completion::ConversationChanged | Completion::Busy)) => {
                "the conversation changed while the job ran".to_owned()
            }
            Err(e) => e.to_string(),
        };
        schedule_retry(jobs, retry, &job, &error).await
    }
    .instrument(span)
    .await
}

/// Decides and commits; the job is `done` when this returns `Done`.
async fn commit_decision(
    completer: &Completer,
    profile: &BusinessProfile,
    job: &ClaimedJob,
) -> Result<Fenced<Completion>, StoreError> {
    let request_id = job.origin.request_id();
    let turn: Vec<Inbound<'_>> = job
        .messages
        .iter()
        .map(|m| Inbound { kind: InboundKind::from(&m.message_type), text: m.text_body.as_deref() })
        .collect();
    metrics::histogram!("turn_messages").record(turn.len() as f64);
    let now = Utc::now();
    let newest_sent_at = job.messages.iter().filter_map(|m| m.provider_timestamp).max();
    let mut decision = tracing::info_span!("orchestrator.decide", request_id, messages = turn.len())
        .in_scope(|| {
            orchestrator_core::lateness::apply(
                &job.state,
                decide(&job.state, &turn, now, profile),
                newest_sent_at,
                now,
            )
        });
    if job.staff_holds && decision.contact.is_none() {
        tracing::info!("staff hold the conversation; the bot stays silent");
        decision = held_by_staff(&job.state, decision);
    }
    tracing::info!(
        question_key = decision.reply.as_ref().map(|r| r.question_key.as_str()),
        notices = ?decision.notices.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
        stage = ?decision.state.engine.stage,
        "Orchestrator completed"
    );
    let reply = decision.reply.as_ref().map(|r| NewReply {
        dedupe_key: dedupe_key(job.conversation_id, &job.inbound_provider_message_id, Some(r.question_key)),
        question_key: r.question_key,
        body: r.text.clone(),
    });
    if let Some(reply) = &reply {
        tracing::Span::current().record("outbound_key", reply.dedupe_key.as_str());
    }
    let outbound_key = reply.as_ref().map(|r| r.dedupe_key.clone());
    let result = JobResult {
        job: job.clone(),
        // The sender continues this job's trace, so one message is one trace end to end.
        traceparent: telemetry::propagation::current_traceparent(),
        state: decision.state.clone(),
        reply,
        notifications: decision
            .notices
            .iter()
            .map(|n| NewNotification {
                kind: notice_kind(n.kind),
                dedupe_key: format!("{}:{}:{}", n.kind.as_str(), job.conversation_id, n.dedupe_suffix),
                title: n.title.clone(),
                body: n.body.clone(),
            })
            .collect(),
        contact: decision.contact.map(|change| match change {
            ContactChange::OptedOut => OptOut::OptedOut,
            ContactChange::OptedIn => OptOut::OptedIn,
        }),
        lead: lead_status(decision.state.engine.stage),
    };
    let (_, completion) =
        completer.commit(result).instrument(tracing::info_span!("outbound.enqueue", request_id)).await;
    let completion = completion?;
    match (completion, &outbound_key) {
        (Fenced::Applied(Completion::Done { outbound_id: Some(outbound_id), superseded }), Some(key)) => {
            tracing::info!(outbound_id, outbound_key = key.as_str(), superseded, "outbound message queued");
            if let Some(newest) = job.messages.iter().map(|m| m.received_at).max() {
                let delay = (Utc::now() - newest).num_microseconds().unwrap_or(0) as f64 / 1e6;
                metrics::histogram!("turn_reply_delay_seconds").record(delay.max(0.0));
            }
            if superseded > 0 {
                metrics::counter!("outbound_superseded_total").increment(superseded.unsigned_abs());
            }
        }
        (Fenced::Applied(Completion::Done { outbound_id: None, .. }), Some(key)) => {
            tracing::warn!(outbound_key = key.as_str(), "Duplicate outbound blocked");
            metrics::counter!("outbound_duplicates_blocked_total").increment(1);
        }
        _ => {}
    }
    Ok(completion)
}

/// What a turn changes while staff hold the conversation: the bot sends nothing and raises
/// nothing, but keeps what the customer told it (and their language), so that after the
/// hand-back it asks only for what is still missing. An opt-out is not held back: the
/// caller applies it as usual.
fn held_by_staff(before: &ConversationState, decision: Decision) -> Decision {
    let known =
        KnownFields { first_greeting_sent_at: before.known.first_greeting_sent_at, ..decision.state.known };
    let engine = EngineState { language: decision.state.engine.language, ..before.engine.clone() };
    Decision { state: ConversationState { known, engine }, reply: None, notices: Vec::new(), contact: None }
}

/// The lead's status once the conversation has left qualification.
fn lead_status(stage: Stage) -> Option<LeadStatus> {
    match stage {
        Stage::Qualifying => None,
        Stage::Qualified => Some(LeadStatus::Qualified),
        Stage::HandedOff => Some(LeadStatus::HandedOff),
        Stage::OptedOut => Some(LeadStatus::Closed),
    }
}

/// The notification kind of an engine notice.
fn notice_kind(kind: orchestrator_core::NoticeKind) -> NoticeKind {
    match kind {
        orchestrator_core::NoticeKind::LeadQualified => NoticeKind::LeadQualified,
        orchestrator_core::NoticeKind::HumanRequested => NoticeKind::HumanRequested,
        orchestrator_core::NoticeKind::OptedOut => NoticeKind::OptedOut,
        orchestrator_core::NoticeKind::CustomerFollowup => NoticeKind::CustomerFollowup,
        orchestrator_core::NoticeKind::StaleInbound => NoticeKind::StaleInbound,
    }
}

async fn schedule_retry(jobs: &Jobs, policy: &RetryPolicy, job: &ClaimedJob, error: &str) -> Outcome {
    let delay = policy.delay_after(u32::try_from(job.lease.attempts).unwrap_or(1));
    match jobs.retry(job, delay, error).await {
        Ok(Fenced::Applied(Retry::Requeued)) => {
            tracing::warn!(error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
            metrics::counter!("jobs_retried_total").increment(1);
            Outcome::Retried
        }
        Ok(Fenced::Applied(Retry::Failed)) => {
            tracing::error!(error, attempts = job.lease.attempts, "job failed on its last attempt");
            metrics::counter!("jobs_failed_total").increment(1);
            Outcome::Failed
        }
        Ok(Fenced::LeaseLost) => Outcome::LeaseLost,
        Err(e) => {
            // The lease will expire and the job will be claimed again.
            tracing::error!(error = %e, "could not record the failure; the lease will expire");
            Outcome::Retried
        }
    }
}
