//! Customers who write in bursts of fragments, posted at a fixed message rate, and what their
//! phones show: how soon a fragment turned read with "typing…", and when the turn's reply came.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hdrhistogram::Histogram;
use serde_json::Value;
use testkit::payloads::{self, Customer};

use crate::bench::load::Prepared;
use crate::sends;

/// What a customer types, a fragment at a time: a burst of `k` fragments is the first `k`.
const FRAGMENTS: [&str; 4] = ["hi", "i need", "a family visa", "for my wife and kids"];

/// The most fragments a burst can have.
pub const MAX_FRAGMENTS: u32 = FRAGMENTS.len() as u32;

/// One customer's burst: where replies go and the wamids of its fragments, in order.
pub struct Burst {
    /// The recipient of replies as the Graph API receives it (`+` and digits).
    to: String,
    wamids: Vec<String>,
}

/// A fragment to post: when after the phase starts, its wamid, the request.
pub type Scheduled = (Duration, String, Prepared);

/// `messages` fragments from new customers who write 1, 2, … `max_fragments` fragments in
/// turn, `gap` apart; customers start evenly so that fragments arrive at `rate` a second.
pub fn schedule(messages: u64, rate: u32, max_fragments: u32, gap: Duration) -> (Vec<Burst>, Vec<Scheduled>) {
    let mean_fragments = f64::from(max_fragments + 1) / 2.0;
    let customer_interval = Duration::from_secs_f64(mean_fragments / f64::from(rate));
    let (mut bursts, mut scheduled) = (Vec::new(), Vec::new());
    let mut left = messages;
    for c in 0u32.. {
        if left == 0 {
            break;
        }
        let customer = Customer::unique();
        let fragments = (1 + c % max_fragments).min(u32::try_from(left).unwrap_or(u32::MAX));
        let start = customer_interval * c;
        let mut wamids = Vec::new();
        for (j, text) in FRAGMENTS.iter().take(fragments as usize).enumerate() {
            let wamid = format!("wamid.e2e.turn.{c}.{j}");
            let envelope = payloads::single_message(&customer, payloads::text(&customer, &wamid, text));
            let signed = payloads::signed(&envelope);
            let request = Prepared { body: Bytes::from(signed.body), signature: signed.signature };
            scheduled.push((start + gap * j as u32, wamid.clone(), request));
            wamids.push(wamid);
        }
        left -= u64::from(fragments);
        bursts.push(Burst { to: format!("+{}", customer.wa_id), wamids });
    }
    scheduled.sort_by_key(|s| s.0);
    (bursts, scheduled)
}

/// Whether every burst's last fragment has had its reply (a reply in context of it).
pub fn all_answered(bursts: &[Burst], sends: &[Value]) -> bool {
    let answered: std::collections::HashSet<&str> =
        sends.iter().filter_map(|s| s["reply_to"].as_str()).collect();
    bursts.iter().all(|b| b.wamids.last().is_none_or(|last| answered.contains(last.as_str())))
}

/// What the latency phase measured, per turn.
pub struct TurnFigures {
    /// Fragments acknowledged by ingest.
    pub messages: usize,
    /// Replies the phase's customers received.
    pub replies: usize,
    /// Bursts whose last fragment got no reply.
    pub unanswered: usize,
    /// From a burst's first fragment's 200 to its first read receipt, microseconds.
    pub first_presence_us: Histogram<u64>,
    /// Read receipts the phase's customers were sent.
    pub presence_requests: usize,
    /// From the end of the quiet period (the last fragment's 200 plus `quiet`) to the reply to
    /// the last fragment, microseconds.
    pub reply_us: Histogram<u64>,
}

/// Measures each burst against the sends and read receipts the Graph API double received.
pub fn measure(
    bursts: &[Burst],
    acks: &HashMap<String, SystemTime>,
    sends: &[Value],
    presence: &[Value],
    quiet: Duration,
) -> TurnFigures {
    let mut sends_to: HashMap<&str, Vec<&Value>> = HashMap::new();
    for send in sends {
        if let Some(to) = send["to"].as_str() {
            sends_to.entry(to).or_default().push(send);
        }
    }
    // Per fragment: its first read receipt and how many it had.
    let mut receipts: HashMap<&str, (SystemTime, usize)> = HashMap::new();
    for receipt in presence {
        if let (Some(id), Some(at)) = (receipt["message_id"].as_str(), sends::received_at(receipt)) {
            let entry = receipts.entry(id).or_insert((at, 0));
            *entry = (entry.0.min(at), entry.1 + 1);
        }
    }
    let mut figures = TurnFigures {
        messages: 0,
        replies: 0,
        unanswered: 0,
        first_presence_us: histogram(),
        presence_requests: 0,
        reply_us: histogram(),
    };
    for burst in bursts {
        let acked: Vec<(&str, SystemTime)> =
            burst.wamids.iter().filter_map(|w| Some((w.as_str(), *acks.get(w)?))).collect();
        let (Some(&(_, first_ack)), Some(&(last, last_ack))) = (acked.first(), acked.last()) else {
            continue;
        };
        figures.messages += acked.len();
        let replies = sends_to.get(burst.to.as_str()).map_or(&[][..], Vec::as_slice);
        figures.replies += replies.len();
        match replies.iter().find(|s| s["reply_to"] == last).and_then(|s| sends::received_at(s)) {
            Some(replied) => record_since(&mut figures.reply_us, last_ack + quiet, replied),
            None => figures.unanswered += 1,
        }
        let burst_receipts: Vec<&(SystemTime, usize)> =
            acked.iter().filter_map(|(w, _)| receipts.get(w)).collect();
        figures.presence_requests += burst_receipts.iter().map(|r| r.1).sum::<usize>();
        if let Some(seen) = burst_receipts.iter().map(|r| r.0).min() {
            record_since(&mut figures.first_presence_us, first_ack, seen);
        }
    }
    figures
}

/// Records `to - from`; an event that came first (a read receipt can reach the double
/// before the webhook's 200 reaches the driver) counts as 1 µs.
fn record_since(histogram: &mut Histogram<u64>, from: SystemTime, to: SystemTime) {
    let micros = to.duration_since(from).map_or(1, |d| d.as_micros().max(1) as u64);
    let _ = histogram.record(micros);
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"))
}
