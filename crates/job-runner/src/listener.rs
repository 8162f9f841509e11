//! Keeps a LISTEN connection open and wakes the runner on every notification; reconnects
//! with a growing pause when the connection is lost.

use std::time::Duration;

use futures_util::StreamExt;
use store::OUTBOUND_JOB_CHANNEL;
use store::listen::Listener;
use tokio_util::sync::CancellationToken;

use crate::runner::Runner;

/// Listens until `stop` is cancelled.
pub async fn listen(database_url: String, runner: Runner, stop: CancellationToken) {
    let mut pause = Duration::from_millis(500);
    while !stop.is_cancelled() {
        match Listener::connect(&database_url, OUTBOUND_JOB_CHANNEL).await {
            Ok(mut listener) => {
                pause = Duration::from_millis(500);
                // Anything committed while not listening is found by this wake-up.
                runner.wake();
                let mut wake_ups = std::pin::pin!(listener.wake_ups());
                loop {
                    tokio::select! {
                        next = wake_ups.next() => match next {
                            Some(Ok(())) => runner.wake(),
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "notification connection lost; reconnecting");
                                break;
                            }
                            None => break,
                        },
                        () = stop.cancelled() => return,
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for new jobs; polling meanwhile"),
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}
