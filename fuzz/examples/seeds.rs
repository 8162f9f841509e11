//! Writes the seed corpus of both fuzz targets:
//!
//! - `corpus/webhook_envelope/seed-pywa-*.json`: the real-world bodies of
//!   `fixtures/pywa-updates` (every case with a `messages` change, and the first case of
//!   each other file), one body per file;
//! - `corpus/webhook_envelope/seed-testkit-*.json`: bodies from testkit's builders, one per
//!   message type, one per delivery status, a batch and some lenient shapes, serialised as
//!   Meta does (`\uXXXX`, `\/`);
//! - `corpus/orchestrator_engine/seed-*.txt`: realistic conversations in the target's
//!   input format (turns separated by `0x1E`).
//!
//! Output is deterministic; files named `seed-*` are replaced, everything else is kept.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --features seeds --example seeds
//! ```

#![allow(clippy::expect_used, reason = "a generator fails loudly")]

use std::fs;
use std::path::{Path, PathBuf};

use abcai_fuzz::engine::{Turn, encode};
use orchestrator_core::InboundKind;
use serde_json::{Value, json};
use testkit::payloads::{self, Customer, Kind};

fn main() {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let webhook_dir = fuzz_dir.join("corpus/webhook_envelope");
    let engine_dir = fuzz_dir.join("corpus/orchestrator_engine");
    clear_seeds(&webhook_dir);
    clear_seeds(&engine_dir);

    let mut n = 0;
    for (name, body) in pywa_cases(&fuzz_dir.join("../fixtures/pywa-updates")) {
        write(&webhook_dir, &format!("seed-pywa-{name}.json"), &serde_json::to_vec(&body).expect("json"));
        n += 1;
    }
    for (name, body) in testkit_bodies() {
        let signed = payloads::signed(&body);
        abcai_fuzz::webhook::check(&signed.body);
        write(&webhook_dir, &format!("seed-testkit-{name}.json"), &signed.body);
        n += 1;
    }
    println!("{n} webhook seeds in {}", webhook_dir.display());

    let conversations = conversations();
    for (name, turns) in &conversations {
        abcai_fuzz::engine::run(turns);
        write(&engine_dir, &format!("seed-{name}.txt"), &encode(turns));
    }
    println!("{} conversation seeds in {}", conversations.len(), engine_dir.display());
}

fn clear_seeds(dir: &Path) {
    fs::create_dir_all(dir).expect("corpus directory");
    for entry in fs::read_dir(dir).expect("corpus directory") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-")) {
            fs::remove_file(&path).expect("remove old seed");
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).expect("write seed");
}

/// Every case of a pywa fixture file that has a `messages` change, and the first case of
/// every other file, in a stable order.
fn pywa_cases(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("fixtures/pywa-updates")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).expect("fixture");
        let file: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("fixture JSON");
        let mut first = true;
        for (case, body) in file {
            let has_messages = body["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["changes"].as_array().into_iter().flatten())
                .any(|c| c["field"] == "messages");
            if has_messages || first {
                cases.push((format!("{stem}-{case}"), body));
            }
            first = false;
        }
    }
    cases
}

/// Bodies from testkit's builders, with fixed ids and timestamps so the output is stable.
fn testkit_bodies() -> Vec<(String, Value)> {
    let customer = Customer {
        wa_id: "971500000042".to_owned(),
        user_id: "AE.500000042".to_owned(),
        name: "Ahmed Khan".to_owned(),
    };
    let fixed = |mut v: Value| {
        v["timestamp"] = json!("1790000000");
        v
    };
    let mut bodies = Vec::new();
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        let message = fixed(payloads::message(kind, &customer, &format!("wamid.SEED{i:02}")));
        bodies.push((
            format!("message-{i:02}-{kind:?}").to_lowercase(),
            payloads::single_message(&customer, message),
        ));
    }
    let arabic = fixed(payloads::text(&customer, "wamid.SEEDAR", "السلام عليكم، اريد تأشيرة عائلية"));
    bodies.push(("message-text-arabic".to_owned(), payloads::single_message(&customer, arabic)));

    for (i, status) in ["sent", "delivered", "read", "played", "failed"].into_iter().enumerate() {
        let s = fixed(payloads::status(
            "wamid.OURS",
            status,
            &customer.wa_id,
            Some(&format!("outbound:{}", i + 1)),
        ));
        bodies.push((
            format!("status-{status}"),
            payloads::envelope(vec![vec![payloads::statuses_change(vec![s])]]),
        ));
    }
    let no_callback = fixed(payloads::status("wamid.OURS", "delivered", &customer.wa_id, None));
    bodies.push((
        "status-without-callback".to_owned(),
        payloads::envelope(vec![vec![payloads::statuses_change(vec![no_callback])]]),
    ));

    // Several entries and changes in one body, messages and statuses mixed.
    let batch = payloads::envelope(vec![
        vec![
            payloads::messages_change(
                &customer,
                vec![
                    fixed(payloads::text(&customer, "wamid.SEEDB1", "Hi, I'm Ahmed from Pakistan")),
                    fixed(payloads::message(Kind::Image, &customer, "wamid.SEEDB2")),
                ],
            ),
            payloads::statuses_change(vec![fixed(payloads::status(
                "wamid.OURS",
                "read",
                &customer.wa_id,
                Some("outbound:7"),
            ))]),
        ],
        vec![payloads::messages_change(
            &customer,
            vec![fixed(payloads::text(&customer, "wamid.SEEDB3", "family visa"))],
        )],
    ]);
    bodies.push(("batch".to_owned(), batch));

    // Shapes ingest must accept leniently: numbers for strings, null lists, a sender known
    // only by its business-scoped id, a message whose body does not match its type, no
    // business number.
    let mut lenient = fixed(payloads::text(&customer, "wamid.SEEDL1", "hello"));
    lenient["timestamp"] = json!(1_790_000_000);
    lenient["from"] = json!(971_500_000_042_i64);
    let mut bsuid_only = fixed(payloads::text(&customer, "wamid.SEEDL2", "username only"));
    bsuid_only.as_object_mut().expect("object").remove("from");
    let mut mismatched = fixed(payloads::message(Kind::Text, &customer, "wamid.SEEDL3"));
    mismatched["text"] = json!("not an object");
    let mut change = payloads::messages_change(&customer, vec![lenient, bsuid_only, mismatched]);
    change["value"]["statuses"] = Value::Null;
    change["value"]["errors"] = json!([{"code": 131000, "title": "Something went wrong"}]);
    bodies.push(("lenient".to_owned(), payloads::envelope(vec![vec![change]])));
    let mut no_number = payloads::messages_change(
        &customer,
        vec![fixed(payloads::text(&customer, "wamid.SEEDL4", "who am I writing to?"))],
    );
    no_number["value"]["metadata"] = Value::Null;
    bodies.push(("no-business-number".to_owned(), payloads::envelope(vec![vec![no_number]])));
    bodies
}

fn text(t: &str) -> Turn {
    Turn { kind: InboundKind::Text, text: Some(t.to_owned()) }
}

fn other(kind: InboundKind, t: Option<&str>) -> Turn {
    Turn { kind, text: t.map(str::to_owned) }
}

/// Realistic conversations: happy paths in English and Arabic, everything in one line,
/// media, unclear answers, hand-offs.
fn conversations() -> Vec<(&'static str, Vec<Turn>)> {
    vec![
        (
            "walkthrough",
            vec![
                text("Hello"),
                text("I need a family visa for my wife"),
                text("Ahmed Khan"),
                text("Pakistani"),
                text("ahmed.khan@example.com"),
                text("Tomorrow after 5pm"),
            ],
        ),
        (
            "all-in-one",
            vec![
                text("Hi, I'm Ahmed from Pakistan and I need a family visa"),
                text("my email is Ahmed.Khan+visa@Example.co.uk"),
                text("any time after 4 pm, Sunday to Thursday"),
            ],
        ),
        (
            "arabic",
            vec![
                text("السلام عليكم"),
                text("اريد تأشيرة عائلية"),
                text("اسمي محمد العلي"),
                text("انا مصري"),
                text("mohamed.ali@example.ae"),
                text("بعد الساعة الخامسة مساء"),
            ],
        ),
        (
            "golden-visa-misspelt",
            vec![text("hii i want goldan visa pls"), text("my name is sara al mansoori"), text("Jordan")],
        ),
        ("business-setup", vec![text("Looking for a freelance permit and business setup in the free zone")]),
        (
            "media-then-text",
            vec![
                other(InboundKind::Welcome, None),
                other(InboundKind::Media, Some("my passport")),
                other(InboundKind::Media, None),
                text("work permit renewal"),
                other(InboundKind::Unreadable, None),
                text("Priya Sharma"),
            ],
        ),
        (
            "ignored-and-empty",
            vec![
                other(InboundKind::Ignored, Some("👍")),
                other(InboundKind::Text, None),
                text("   "),
                text("I'm interested in an investor visa"),
            ],
        ),
        (
            "unclear-then-handoff",
            vec![text("trade licence"), text("???"), text("123"), text("..."), text("hello?")],
        ),
        ("asks-for-a-person", vec![text("Can I talk to a human?"), text("please call me")]),
        (
            "call-me-as-time",
            vec![
                text("I need a golden visa, I'm John Smith from the UK"),
                text("john@example.com"),
                text("call me at 10:30 am tomorrow"),
            ],
        ),
        ("email-first", vec![text("maria.santos@example.ph I am Filipino, need emirates id renewal")]),
        (
            "multiline",
            vec![text("Hi\nMy name is Omar\nI'm from Syria\nI need a visa for my kids\nomar@example.com")],
        ),
        ("services-slashed", vec![text("visa/permit/setup (which one do I need?)")]),
    ]
}
