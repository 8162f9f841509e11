//! Live updates: one LISTEN connection per console process turns every new message and
//! delivery tick into a server-sent event to each open page, which then reloads its live
//! part. An event carries nothing but "something changed": no customer data.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use tokio::sync::broadcast;
use worker::CancellationToken;

use crate::Console;
use crate::auth::Staff;

/// The channels whose notifications mean a page may have changed: a new inbound message
/// (its job was queued), a new outbound message, a delivery status.
pub const CHANNELS: [&str; 3] =
    [store::OUTBOUND_JOB_CHANNEL, store::jobs::OUTBOUND_MESSAGE_CHANNEL, store::MESSAGE_STATUS_CHANNEL];

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Fans notifications out to the open pages.
#[derive(Debug, Clone)]
pub struct Activity {
    sender: broadcast::Sender<()>,
}

impl Default for Activity {
    fn default() -> Self {
        Self { sender: broadcast::channel(16).0 }
    }
}

impl Activity {
    /// Listens until `stop`, telling every open page about each notification.
    pub async fn listen(&self, database_url: String, stop: CancellationToken) {
        let sender = self.sender.clone();
        worker::listen_all(&database_url, &CHANNELS, move || drop(sender.send(())), stop).await;
    }
}

/// `GET /events`: a `text/event-stream` of `activity` events until the console stops.
pub async fn stream(_staff: Staff, console: web::Data<Console>) -> HttpResponse {
    let receiver = console.activity.sender.subscribe();
    let stop = console.stop.clone();
    let events = stream::unfold((receiver, stop, true), |(mut receiver, stop, first)| async move {
        if first {
            return Some((
                Ok::<_, actix_web::Error>(Bytes::from_static(b"retry: 2000\n\n")),
                (receiver, stop, false),
            ));
        }
        let chunk = tokio::select! {
            received = receiver.recv() => match received {
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Many notifications in a burst are one event.
                    while receiver.try_recv().is_ok() {}
                    Bytes::from_static(b"event: activity\ndata: {}\n\n")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            () = tokio::time::sleep(KEEP_ALIVE) => Bytes::from_static(b": keep-alive\n\n"),
            () = stop.cancelled() => return None,
        };
        Some((Ok(chunk), (receiver, stop, false)))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events)
}
