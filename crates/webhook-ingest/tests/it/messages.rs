//! Inbound messages: every type stored with its job, batches handled whole, duplicates once.

use serde_json::Value;
use testkit::payloads::{self, Customer, Kind, unique_wamid};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn the_verification_handshake_answers_the_challenge_only_for_the_right_token() {
    let app = TestApp::spawn().await;
    let get = |query: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/webhooks/whatsapp?{query}"));
        async move { client.get(url).send().await.expect("sent") }
    };

    let ok = get("hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.expect("body"), "1158201444");

    let wrong = get("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444").await;
    assert_eq!(wrong.status(), 403);
    assert!(!wrong.text().await.expect("body").contains("1158201444"));

    let wrong_mode = get("hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1").await;
    assert_eq!(wrong_mode.status(), 403);
    assert_eq!(get("hub.challenge=1").await.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_message_type_is_stored_with_one_job() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    for kind in Kind::ALL {
        let wamid = unique_wamid();
        let envelope = payloads::single_message(&customer, payloads::message(kind, &customer, &wamid));
        let response = app.post_signed(&envelope).await;
        assert_eq!(response.status(), 200, "{kind:?}");
        assert!(response.headers().contains_key("x-request-id"));

        let stored = app
            .count(&format!(
                "SELECT count(*) AS n FROM inbound_message m JOIN outbound_job j ON j.inbound_message_id = m.id \
                 WHERE m.provider_message_id = '{wamid}' AND m.message_type = '{}' \
                 AND j.status = 'queued' AND j.inbound_provider_message_id = '{wamid}'",
                kind.type_name()
            ))
            .await;
        assert_eq!(stored, 1, "{kind:?} stored with its job");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM contact").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM conversation").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, Kind::ALL.len() as i64);
}

#[tokio::test(flavor = "multi_thread")]
async fn message_content_sender_and_raw_json_are_kept() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let message = payloads::text(&customer, &wamid, "Hi, I'm Ahmed from Pakistan, café \u{0} ok");
    let response = app.post_signed(&payloads::single_message(&customer, message)).await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();

    let checks = format!(
        "SELECT count(*) AS n FROM inbound_message m \
         JOIN conversation v ON v.id = m.conversation_id JOIN contact c ON c.id = v.contact_id \
         JOIN outbound_job j ON j.inbound_message_id = m.id \
         WHERE m.provider_message_id = '{wamid}' \
           AND m.text_body = 'Hi, I''m Ahmed from Pakistan, café \u{FFFD} ok' \
           AND m.raw->>'id' = '{wamid}' AND m.raw->'text'->>'body' LIKE 'Hi, I''m Ahmed%' \
           AND m.provider_timestamp IS NOT NULL AND m.request_id = '{request_id}' \
           AND j.request_id = '{request_id}' \
           AND c.wa_id = '{}' AND c.user_id = '{}' AND c.profile_name = 'Test Customer' \
           AND v.phone_number_id = '{}' AND v.last_inbound_at IS NOT NULL",
        customer.wa_id,
        customer.user_id,
        payloads::PHONE_NUMBER_ID
    );
    assert_eq!(app.count(&checks).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_three_entries_stores_every_message() {
    let app = TestApp::spawn().await;
    let customers = [Customer::unique(), Customer::unique(), Customer::unique()];
    let entries: Vec<Vec<Value>> = customers
        .iter()
        .map(|c| {
            let messages = vec![
                payloads::text(c, &unique_wamid(), "first"),
                payloads::text(c, &unique_wamid(), "second"),
            ];
            vec![payloads::messages_change(c, messages)]
        })
        .collect();
    let response = app.post_signed(&payloads::envelope(entries)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 6);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job WHERE status = 'queued'").await, 6);
    assert_eq!(app.count("SELECT count(*) AS n FROM conversation").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_payload_five_times_at_once_yields_one_message_and_one_job() {
    let app = TestApp::spawn().await;
    let customer = Customer::unique();
    let wamid = unique_wamid();
    let envelope = payloads::single_message(&customer, payloads::text(&customer, &wamid, "hello"));
    let deliveries = (0..5).map(|_| app.post_signed(&envelope));
    let responses = futures_util::future::join_all(deliveries).await;
    for response in responses {
        assert_eq!(response.status(), 200, "a duplicate delivery is acknowledged");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM contact").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_real_world_fixture_is_accepted() {
    let app = TestApp::spawn().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pywa-updates");
    let mut expected_messages = 0;
    let mut placeholder_numbers = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let cases: serde_json::Map<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        for (name, mut body) in cases {
            // The fixtures reuse one wamid; give each message its own so none is a duplicate.
            for entry in body["entry"].as_array_mut().into_iter().flatten() {
                for change in entry["changes"].as_array_mut().into_iter().flatten() {
                    if change["field"] != "messages" {
                        continue;
                    }
                    // One fixture keeps pywa's `<BUSINESS_PHONE_NUMBER_ID>`: not a number id,
                    // so its messages are quarantined.
                    let number = change["value"]["metadata"]["phone_number_id"].as_str().unwrap_or_default();
                    let real_number = webhook_ingest::extract::is_business_number(number);
                    for m in change["value"]["messages"].as_array_mut().into_iter().flatten() {
                        m["id"] = Value::String(unique_wamid());
                        if real_number {
                            expected_messages += 1;
                        } else {
                            placeholder_numbers += 1;
                        }
                    }
                }
            }
            let response = app.post_signed(&body).await;
            assert_eq!(response.status(), 200, "{}/{name}", path.display());
        }
    }
    assert!(expected_messages > 30);
    assert_eq!(app.count("SELECT count(*) AS n FROM inbound_message").await, expected_messages);
    let quarantined = app.count("SELECT count(*) AS n FROM quarantine WHERE item_kind = 'message'").await;
    assert_eq!(quarantined, placeholder_numbers);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbound_job").await, expected_messages);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_jsonb_would_refuse_are_stored_with_replacement_characters() {
    let app = TestApp::spawn().await;
    // Found by the fuzzer: half an emoji (`\ud83d` alone) in a text, and in an object key.
    // With NUL escapes, Postgres `jsonb` refuses them; refusing the delivery would make Meta
    // redeliver it for days.
    let bodies: [&[u8]; 3] = [
        include_bytes!("../../../../fuzz/regressions/webhook_envelope/lone-surrogate-in-text.json"),
        include_bytes!("../../../../fuzz/regressions/webhook_envelope/lone-surrogate-in-raw-json.json"),
        br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"A"},"wa_id":"971500000043"}],"messages":[{"from":"971500000043","id":"wamid.NUL","timestamp":"1790000000","type":"text","text":{"body":"nul \u0000 here"}}]}}]}]}"#,
    ];
    for body in bodies {
        // The fuzzer's business number is empty, which is quarantined; give it a real one.
        let body = String::from_utf8_lossy(body)
            .replace(r#""phone_number_id":"""#, r#""phone_number_id":"106540352242922""#)
            .into_bytes();
        let body = body.as_slice();
        let signature = payloads::sign_bytes(body);
        let response = app.post_raw(body.to_vec(), Some(&signature)).await;
        assert_eq!(response.status(), 200, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM inbound_message m JOIN outbound_job j ON j.inbound_message_id = m.id \
             WHERE m.raw::text LIKE '%\u{FFFD}%'"
        )
        .await,
        3,
        "each message stored, with its job, the bad escape replaced"
    );
}
