//! The customers: conversations delivered as signed webhooks the way Meta delivers them —
//! several customers' messages batched in one envelope, batches out of order, some delivered
//! twice, every delivery retried until it is acknowledged with a 200.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use testkit::demo::SCRIPT;
use testkit::payloads::{self, Customer};
use tokio::task::JoinSet;

use crate::bench::load::{Client, Prepared};

/// Deliveries that fall in one window may share an envelope.
const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// Most messages in one envelope.
const MAX_BATCH: usize = 4;
/// Share of envelopes swapped with the one before (delivered out of order).
const REORDER: f64 = 0.1;
/// Share of envelopes delivered a second time, a little later.
const DUPLICATE_LATER: f64 = 0.05;
/// Share of envelopes delivered twice at the same moment.
const DUPLICATE_AT_ONCE: f64 = 0.01;
/// A delivery is retried (as Meta does) for this long at most.
const GIVE_UP_AFTER: Duration = Duration::from_secs(600);

/// One POST of one envelope.
struct Delivery {
    at: Duration,
    request: Prepared,
    wamids: Vec<String>,
    duplicate: bool,
}

/// Every delivery, by time from the start.
pub struct Plan {
    deliveries: Vec<Delivery>,
    messages: usize,
    batches: usize,
    reordered: usize,
}

impl Plan {
    /// When the last delivery is due.
    pub fn duration(&self) -> Duration {
        self.deliveries.last().map_or(Duration::ZERO, |d| d.at)
    }
}

/// One message of one customer, before batching.
struct Item {
    at: Duration,
    customer: usize,
    message: Value,
    wamid: String,
}

/// Share of a customer's lines typed as a burst: two or three fragments 100 to 400 ms
/// apart, which form one turn.
const BURST: f64 = 0.5;

/// Lays out `conversations` customers, each sending the first `messages` lines of the
/// script, starting evenly so that lines arrive at about `rate` per second, with a random
/// pause of 0.3 to 4 s between a customer's lines (some type fast). With `bursts`, half of
/// the lines are sent in fragments.
pub fn plan(conversations: usize, messages: usize, rate: f64, bursts: bool, seed: u64) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let customers: Vec<Customer> = (0..conversations).map(|_| Customer::unique()).collect();
    let start_every = Duration::from_secs_f64(messages as f64 / rate.max(0.1));
    let mut items = Vec::with_capacity(conversations * messages);
    for (c, customer) in customers.iter().enumerate() {
        let mut at = start_every.mul_f64(c as f64);
        for line in SCRIPT.iter().take(messages) {
            let fragments =
                if bursts && rng.random_bool(BURST) { fragments(line, &mut rng) } else { vec![*line] };
            for fragment in fragments {
                let wamid = payloads::unique_wamid();
                items.push(Item {
                    at,
                    customer: c,
                    message: payloads::text(customer, &wamid, fragment),
                    wamid,
                });
                at += Duration::from_secs_f64(rng.random_range(0.1..0.4));
            }
            at += Duration::from_secs_f64(rng.random_range(0.3..4.0));
        }
    }
    items.sort_by_key(|i| i.at);

    let mut envelopes: Vec<(Duration, Vec<Item>)> = Vec::new();
    let mut window: Vec<Item> = Vec::new();
    for item in items {
        let same_window = window.first().is_some_and(|w| window_of(w.at) == window_of(item.at));
        if !same_window && !window.is_empty() {
            batch(&mut rng, std::mem::take(&mut window), &mut envelopes);
        }
        window.push(item);
    }
    batch(&mut rng, window, &mut envelopes);

    let mut reordered = 0;
    for i in 1..envelopes.len() {
        if rng.random_bool(REORDER) {
            let (before, after) = envelopes.split_at_mut(i);
            std::mem::swap(&mut before[i - 1].1, &mut after[0].1);
            reordered += 1;
        }
    }
    let batches = envelopes.iter().filter(|(_, items)| items.len() > 1).count();
    let mut deliveries = Vec::new();
    for (at, items) in envelopes {
        let delivery = envelope(at, &customers, items);
        if rng.random_bool(DUPLICATE_AT_ONCE) {
            deliveries.push(delivery.again(at));
        }
        if rng.random_bool(DUPLICATE_LATER) {
            deliveries.push(delivery.again(at + Duration::from_secs_f64(rng.random_range(0.1..3.0))));
        }
        deliveries.push(delivery);
    }
    deliveries.sort_by_key(|d| d.at);
    let messages = deliveries.iter().filter(|d| !d.duplicate).map(|d| d.wamids.len()).sum();
    Plan { deliveries, messages, batches, reordered }
}

/// `line` cut at word boundaries into two or three fragments (fewer when it has fewer words).
fn fragments<'a>(line: &'a str, rng: &mut StdRng) -> Vec<&'a str> {
    let cuts: Vec<usize> = line.match_indices(' ').map(|(i, _)| i).collect();
    if cuts.is_empty() {
        return vec![line];
    }
    let pieces = rng.random_range(1..=2).min(cuts.len());
    let mut chosen: Vec<usize> = cuts.choose_multiple(rng, pieces).copied().collect();
    chosen.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in chosen {
        parts.push(line[start..cut].trim());
        start = cut;
    }
    parts.push(line[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

fn window_of(at: Duration) -> u128 {
    at.as_millis() / BATCH_WINDOW.as_millis()
}

/// Shuffles one window's messages and cuts them into envelopes of 1 to [`MAX_BATCH`].
fn batch(rng: &mut StdRng, mut window: Vec<Item>, envelopes: &mut Vec<(Duration, Vec<Item>)>) {
    window.shuffle(rng);
    while !window.is_empty() {
        let take = rng.random_range(1..=MAX_BATCH).min(window.len());
        let items: Vec<Item> = window.drain(..take).collect();
        let at = items.iter().map(|i| i.at).max().unwrap_or_default();
        envelopes.push((at, items));
    }
}

/// One signed envelope holding `items`, one entry per message (as Meta batches them).
fn envelope(at: Duration, customers: &[Customer], items: Vec<Item>) -> Delivery {
    let wamids = items.iter().map(|i| i.wamid.clone()).collect();
    let entries = items
        .into_iter()
        .map(|i| vec![payloads::messages_change(&customers[i.customer], vec![i.message])])
        .collect();
    let signed = payloads::signed(&payloads::envelope(entries));
    Delivery {
        at,
        request: Prepared { body: Bytes::from(signed.body), signature: signed.signature },
        wamids,
        duplicate: false,
    }
}

impl Delivery {
    fn again(&self, at: Duration) -> Self {
        Self { at, request: self.request.clone(), wamids: self.wamids.clone(), duplicate: true }
    }
}

/// What the driver did.
#[derive(Debug, Default)]
pub struct Driven {
    /// When each inbound wamid was first acknowledged.
    pub accepted: HashMap<String, SystemTime>,
    /// Messages planned.
    pub messages: usize,
    /// POSTs planned, duplicates included.
    pub deliveries: usize,
    /// Extra deliveries of an envelope already planned.
    pub duplicates: usize,
    /// Envelopes holding more than one message.
    pub batches: usize,
    /// Envelopes swapped with the one before.
    pub reordered: usize,
    /// Answers other than 200 (or none), each followed by a retry.
    pub refused: usize,
    /// Deliveries never acknowledged within the give-up time.
    pub gave_up: usize,
}

/// Delivers `plan` to webhook-ingest at `addr`, each POST at its time, each retried until
/// it is answered 200.
pub async fn deliver(addr: SocketAddr, plan: Plan) -> Driven {
    let client = Client::new(addr, "/api/webhooks/whatsapp");
    let accepted: Arc<Mutex<HashMap<String, SystemTime>>> = Arc::default();
    let refused = Arc::new(AtomicUsize::new(0));
    let gave_up = Arc::new(AtomicUsize::new(0));
    let mut driven = Driven {
        messages: plan.messages,
        deliveries: plan.deliveries.len(),
        duplicates: plan.deliveries.iter().filter(|d| d.duplicate).count(),
        batches: plan.batches,
        reordered: plan.reordered,
        ..Driven::default()
    };
    let start = tokio::time::Instant::now();
    let mut posting = JoinSet::new();
    for delivery in plan.deliveries {
        tokio::time::sleep_until(start + delivery.at).await;
        let (client, accepted, refused, gave_up) =
            (client.clone(), accepted.clone(), refused.clone(), gave_up.clone());
        posting.spawn(async move {
            let deadline = tokio::time::Instant::now() + GIVE_UP_AFTER;
            let mut pause = Duration::from_millis(100);
            while !client.send(delivery.request.clone()).await {
                refused.fetch_add(1, Ordering::Relaxed);
                if tokio::time::Instant::now() >= deadline {
                    gave_up.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            let now = SystemTime::now();
            if let Ok(mut accepted) = accepted.lock() {
                for wamid in delivery.wamids {
                    accepted.entry(wamid).or_insert(now);
                }
            }
        });
    }
    while posting.join_next().await.is_some() {}
    driven.accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
    driven.refused = refused.load(Ordering::Relaxed);
    driven.gave_up = gave_up.load(Ordering::Relaxed);
    driven
}
