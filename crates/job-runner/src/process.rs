//! Running one claimed job: the engine's decision, committed with the job in one statement,
//! or a retry.

use chrono::Utc;
use domain::conversation::{ConversationState, Stage, dedupe_key};
use orchestrator_core::{BusinessProfile, Decision, Inbound, InboundKind, decide};
use store::jobs::{
    self, ClaimedJob, Completer, Completion, JobResult, LeadUpdate, NewNotification, NewReply, Retry,
};
use store::{DbPool, StoreError};
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
pub async fn run_job(pool: &DbPool, completer: &Completer, retry: &RetryPolicy, job: ClaimedJob) -> Outcome {
    let span = tracing::info_span!(
        "job.run",
        job_id = job.id,
        request_id = job.request_id.as_deref().unwrap_or(""),
        inbound_message_id = job.inbound_message_id,
        conversation_id = job.conversation_id,
        attempt = job.attempts,
        outbound_key = tracing::field::Empty,
    );
    telemetry::propagation::continue_trace(&span, job.traceparent.as_deref());
    async {
        tracing::info!(attempt = job.attempts, "Processing job");
        metrics::histogram!("job_pickup_latency_seconds").record(job.waited_secs);
        let error = match commit_decision(completer, &job).await {
            Ok(Completion::Done { .. }) => {
                metrics::counter!("jobs_done_total").increment(1);
                return Outcome::Done;
            }
            Ok(Completion::LeaseLost) => {
                tracing::warn!("lease lost: another runner holds this job; result dropped");
                metrics::counter!("jobs_lease_lost_total").increment(1);
                return Outcome::LeaseLost;
            }
            Ok(Completion::ConversationChanged | Completion::Busy) => {
                "the conversation changed while the job ran".to_owned()
            }
            Err(e) => e.to_string(),
        };
        schedule_retry(pool, retry, &job, &error).await
    }
    .instrument(span)
    .await
}

/// Decides and commits; the job is `done` when this returns `Done`.
async fn commit_decision(completer: &Completer, job: &ClaimedJob) -> Result<Completion, StoreError> {
    let request_id = job.request_id.as_deref().unwrap_or("");
    let state = ConversationState {
        known: parse_or_default(&job.known_fields, "known_fields"),
        engine: parse_or_default(&job.engine_state, "engine_state"),
    };
    let kind = InboundKind::from(&domain::webhook::MessageType::from(job.message_type.clone()));
    let inbound = Inbound { kind, text: job.text_body.as_deref() };
    let decision = tracing::info_span!("orchestrator.decide", request_id)
        .in_scope(|| decide(&state, &[inbound], Utc::now(), &BusinessProfile::default()));
    tracing::info!(
        question_key = decision.reply.as_ref().map(|r| r.question_key.as_str()),
        notice = decision.notices.first().map(|n| n.kind.as_str()),
        stage = ?decision.state.engine.stage,
        "Orchestrator completed"
    );
    let reply = decision.reply.as_ref().map(|r| NewReply {
        dedupe_key: dedupe_key(job.conversation_id, &job.inbound_provider_message_id, Some(r.question_key)),
        question_key: r.question_key.as_str().to_owned(),
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
        known_fields: serde_json::to_string(&decision.state.known).unwrap_or_else(|_| "{}".to_owned()),
        engine_state: serde_json::to_string(&decision.state.engine).unwrap_or_else(|_| "{}".to_owned()),
        reply,
        notification: decision.notices.first().map(|n| NewNotification {
            kind: n.kind.as_str().to_owned(),
            dedupe_key: format!("{}:{}:{}", n.kind.as_str(), job.conversation_id, n.dedupe_suffix),
            title: n.title.clone(),
            body: n.body.clone(),
        }),
        lead: lead_update(&decision),
    };
    let (_, completion) =
        completer.commit(result).instrument(tracing::info_span!("outbound.enqueue", request_id)).await;
    let completion = completion?;
    match (completion, &outbound_key) {
        (Completion::Done { outbound_id: Some(outbound_id) }, Some(key)) => {
            tracing::info!(outbound_id, outbound_key = key.as_str(), "outbound message queued");
        }
        (Completion::Done { outbound_id: None }, Some(key)) => {
            tracing::warn!(outbound_key = key.as_str(), "Duplicate outbound blocked");
            metrics::counter!("outbound_duplicates_blocked_total").increment(1);
        }
        _ => {}
    }
    Ok(completion)
}

/// The lead row once the conversation has left qualification.
fn lead_update(decision: &Decision) -> Option<LeadUpdate> {
    let status = match decision.state.engine.stage {
        Stage::Qualifying => return None,
        Stage::Qualified => "qualified",
        Stage::HandedOff => "handed_off",
        Stage::OptedOut => "opted_out",
    };
    let known = &decision.state.known;
    Some(LeadUpdate {
        status: status.to_owned(),
        service: known.service.clone(),
        name: known.name.clone(),
        nationality: known.nationality.clone(),
        email: known.email.clone(),
        best_time_to_call: known.best_time_to_call.clone(),
    })
}

async fn schedule_retry(pool: &DbPool, policy: &RetryPolicy, job: &ClaimedJob, error: &str) -> Outcome {
    let delay = policy.delay_after(u32::try_from(job.attempts).unwrap_or(1));
    let retried = async {
        let mut conn = store::connection(pool).await?;
        jobs::retry(&mut conn, job, delay, error).await
    }
    .await;
    match retried {
        Ok(Retry::Requeued) => {
            tracing::warn!(error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
            metrics::counter!("jobs_retried_total").increment(1);
            Outcome::Retried
        }
        Ok(Retry::Failed) => {
            tracing::error!(error, attempts = job.attempts, "job failed on its last attempt");
            metrics::counter!("jobs_failed_total").increment(1);
            Outcome::Failed
        }
        Ok(Retry::LeaseLost) => Outcome::LeaseLost,
        Err(e) => {
            // The lease will expire and the job will be claimed again.
            tracing::error!(error = %e, "could not record the failure; the lease will expire");
            Outcome::Retried
        }
    }
}

fn parse_or_default<T: serde::de::DeserializeOwned + Default>(json: &str, column: &str) -> T {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(column, error = %e, "conversation state unreadable; starting from empty");
        T::default()
    })
}
