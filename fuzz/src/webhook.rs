//! `webhook_envelope`: a raw request body taken through what webhook-ingest does with it:
//! the `X-Hub-Signature-256` check over the exact bytes, `WebhookEnvelope::parse`,
//! `message_values`, then `webhook_ingest::extract::records`, which turns them into the
//! rows the store writes.

use chrono::DateTime;
use domain::webhook::{
    ApiError, ChangeValue, Message, MessageType, Status, StatusKind, WebhookEnvelope, WebhookError,
};
use webhook_ingest::extract::{Policy, records};
use whatsapp::signature::{self, SignatureError};

/// The app secret the body is signed with (the one test services use).
pub const APP_SECRET: &[u8] = b"test-app-secret";

/// Runs every check on one body. Panics (the fuzzer's finding) when an invariant breaks.
pub fn check(body: &[u8]) {
    check_signature(body);
    check_header_as_input(body);
    parse_and_walk(body);
}

/// A signature made for the body verifies; every kind of wrong one is rejected with the
/// right reason.
pub fn check_signature(body: &[u8]) {
    let header = signature::sign(APP_SECRET, body);
    assert!(header.starts_with("sha256=") && header.len() == 7 + 64, "sign() wrote {header:?}");
    assert_eq!(signature::verify(APP_SECRET, body, Some(&header)), Ok(()), "a valid signature was rejected");
    // Header values may arrive padded; verify trims them.
    assert_eq!(signature::verify(APP_SECRET, body, Some(&format!(" {header}\t"))), Ok(()));

    // One hex digit changed, at a place that depends on the body.
    let mut flipped = header.clone().into_bytes();
    let at = 7 + body.iter().fold(body.len(), |acc, b| acc.wrapping_add(usize::from(*b))) % 64;
    flipped[at] = if flipped[at] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap_or_default();
    assert_eq!(signature::verify(APP_SECRET, body, Some(&flipped)), Err(SignatureError::Mismatch));

    // Another secret, the same body.
    assert_eq!(
        signature::verify(b"another-app-secret", body, Some(&header)),
        Err(SignatureError::Mismatch),
        "a signature verified under the wrong secret"
    );
    // The same signature, a body one byte longer or shorter.
    let mut longer = body.to_vec();
    longer.push(b' ');
    assert_eq!(signature::verify(APP_SECRET, &longer, Some(&header)), Err(SignatureError::Mismatch));
    if let Some((_, shorter)) = body.split_last() {
        assert_eq!(signature::verify(APP_SECRET, shorter, Some(&header)), Err(SignatureError::Mismatch));
    }
    // No header, a truncated one, another algorithm.
    assert_eq!(signature::verify(APP_SECRET, body, None), Err(SignatureError::Missing));
    assert_eq!(
        signature::verify(APP_SECRET, body, Some(&header[..header.len() - 2])),
        Err(SignatureError::Malformed)
    );
    let sha1 = header.replacen("sha256=", "sha1=", 1);
    assert_eq!(signature::verify(APP_SECRET, body, Some(&sha1)), Err(SignatureError::Malformed));
}

/// The input used as the header value instead (what `HeaderValue::to_str` would give, or
/// "" as ingest does for a non-ASCII header): never a panic, and accepted only when it is
/// the body's real signature.
pub fn check_header_as_input(input: &[u8]) {
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let header =
        std::str::from_utf8(input).ok().filter(|s| s.bytes().all(|b| b == b'\t' || (32..127).contains(&b)));
    let header = header.unwrap_or("");
    if signature::verify(APP_SECRET, BODY, Some(header)).is_ok() {
        let digest = header.trim().strip_prefix("sha256=").unwrap_or_default();
        let real = signature::sign(APP_SECRET, BODY);
        assert_eq!(real[7..], digest.to_ascii_lowercase(), "forged header {header:?} accepted");
    }
}

/// Parses like ingest, then walks every value, message and status and their accessors.
pub fn parse_and_walk(body: &[u8]) {
    let envelope = match WebhookEnvelope::parse(body) {
        Ok(envelope) => envelope,
        Err(e) => return describe_rejection(&e),
    };
    assert_eq!(envelope.object, domain::webhook::WHATSAPP_BUSINESS_ACCOUNT);
    for entry in &envelope.entry {
        let _ = entry.id.as_deref().map(str::len);
        for change in &entry.changes {
            match change.messages_value() {
                Ok(Some(_)) => assert_eq!(change.field, "messages"),
                Ok(None) => assert!(change.field != "messages" || change.value.is_none()),
                Err(e) => describe_rejection(&e),
            }
        }
    }
    let values = match envelope.message_values() {
        Ok(values) => values,
        Err(e) => return describe_rejection(&e),
    };
    // Everything that parsed can be printed (the debug log lines do).
    let _ = format!("{values:?}");

    let policy = Policy { phone_number_ids: Vec::new(), max_items: usize::MAX };
    let extracted = records(&values, &policy, "req-fuzz");
    let (messages, statuses) = (&extracted.delivery.batch.messages, &extracted.delivery.batch.statuses);
    let quarantined = extracted.delivery.quarantine.len();
    assert_eq!(extracted.causes.len(), quarantined, "one cause per quarantined item");
    let messages_in: usize = values.iter().map(|v| v.messages.len()).sum();
    let statuses_in: usize = values.iter().map(|v| v.statuses.len()).sum();
    assert!(messages.len() <= messages_in && statuses.len() <= statuses_in, "nothing stored twice");
    assert!(
        messages.len() + statuses.len() + quarantined >= messages_in + statuses_in,
        "every item that parsed is stored or quarantined, never dropped"
    );

    for value in &values {
        walk_value(value);
    }
    for m in messages {
        assert!(m.wa_id.is_some() || m.user_id.is_some(), "stored a message without a sender");
        assert_raw_json(&m.raw_json);
        let _ = (
            &m.profile_name,
            &m.display_phone_number,
            m.text_body.as_deref().map(str::len),
            m.provider_timestamp,
        );
        let _ = (m.provider_message_id.len(), m.message_type.as_str().len());
    }
    for s in statuses {
        assert_raw_json(&s.raw_json);
        if let Some(id) = s.callback_outbound_id {
            assert!(id > 0, "callback data {:?} gave row id {id}", s.biz_opaque_callback_data);
        }
        let _ = (s.provider_message_id.len(), s.status.as_str().len(), s.provider_timestamp);
        let _ = (&s.recipient_id, s.error_code, s.error_text.as_deref());
    }
}

/// What ingest logs when it answers 400: the error text and, for JSON errors, where.
fn describe_rejection(e: &WebhookError) {
    let _ = e.to_string();
    if let WebhookError::Malformed(json) | WebhookError::BadChangeValue(json) = e {
        let _ = (json.line(), json.column(), json.classify());
    }
}

/// The raw JSON ingest stores in a `jsonb` column must be JSON that Postgres accepts:
/// a strict parser takes it (`jsonb` refuses `\u0000` and unpaired surrogate escapes, as
/// serde_json refuses the latter). Numbers beyond `f64` are fine for `jsonb`, so only
/// serde_json's range errors are tolerated.
pub fn assert_raw_json(raw: &str) {
    assert!(
        matches!(domain::storable_json(raw), std::borrow::Cow::Borrowed(_)),
        "captured raw JSON keeps a NUL or unpaired surrogate escape: {raw:?}"
    );
    if let Err(e) = serde_json::from_str::<serde_json::Value>(raw) {
        assert!(
            e.to_string().contains("number out of range"),
            "captured raw JSON is not storable as jsonb ({e}): {raw:?}"
        );
    }
}

/// Every typed accessor of a `messages` value.
fn walk_value(value: &ChangeValue) {
    let _ = value.messaging_product.as_deref();
    if let Some(m) = &value.metadata {
        let _ = (m.display_phone_number.as_deref(), m.phone_number_id.as_deref());
    }
    for c in &value.contacts {
        let _ =
            (c.wa_id.as_deref(), c.user_id.as_deref(), c.profile.as_ref().and_then(|p| p.name.as_deref()));
    }
    for e in &value.errors {
        walk_error(e);
    }
    for captured in &value.messages {
        let message = &captured.item;
        walk_message(message);
        let _ = value.contact_for(message);
    }
    for captured in &value.statuses {
        walk_status(&captured.item);
    }
}

fn walk_message(m: &Message) {
    let kind = m.kind.as_str();
    match &m.kind {
        MessageType::Missing => assert_eq!(kind, "unknown"),
        MessageType::Other(name) => assert_eq!(kind, name),
        known => assert_eq!(&MessageType::from(kind.to_owned()), known, "type name does not round-trip"),
    }
    if let Some(text) = m.text() {
        let _ = text.chars().count();
    }
    let _ = m.timestamp.and_then(unix_seconds);
    for media in [&m.image, &m.audio, &m.video, &m.document, &m.sticker].into_iter().flatten() {
        let _ = (&media.id, &media.mime_type, &media.sha256, &media.caption, &media.filename);
        let _ = (media.voice, media.animated, &media.url);
    }
    if let Some(l) = &m.location {
        let _ = (l.latitude, l.longitude, &l.name, &l.address, &l.url);
    }
    for c in m.contacts.iter().flatten() {
        let _ = c.0.to_string();
    }
    if let Some(i) = &m.interactive {
        for r in [&i.button_reply, &i.list_reply].into_iter().flatten() {
            let _ = (&r.id, &r.title, &r.description);
        }
        let _ = (&i.kind, i.nfm_reply.as_ref().map(ToString::to_string));
    }
    if let Some(b) = &m.button {
        let _ = (&b.payload, &b.text);
    }
    if let Some(r) = &m.reaction {
        let _ = (&r.message_id, &r.emoji);
    }
    if let Some(o) = &m.order {
        let _ = (&o.catalog_id, &o.text);
        for item in &o.product_items {
            let _ = (&item.product_retailer_id, &item.quantity, &item.item_price, &item.currency);
        }
    }
    if let Some(s) = &m.system {
        let _ = (&s.body, &s.wa_id, &s.kind);
    }
    let _ = m.unsupported.as_ref().map(|u| &u.kind);
    for e in &m.errors {
        walk_error(e);
    }
    if let Some(c) = &m.context {
        let _ = (&c.from, &c.id, c.forwarded, c.frequently_forwarded);
    }
    if let Some(r) = &m.referral {
        let _ = (&r.source_url, &r.source_id, &r.source_type, &r.headline, &r.body, &r.ctwa_clid);
    }
}

fn walk_status(s: &Status) {
    let name = s.status.as_str();
    match &s.status {
        StatusKind::Missing => assert_eq!(name, "unknown"),
        StatusKind::Other(other) => {
            assert_eq!(name, other);
            assert_eq!(store::SendStatus::reached_by(&s.status), None);
        }
        known => {
            assert_eq!(&StatusKind::from(name.to_owned()), known, "status name does not round-trip");
            assert!(store::SendStatus::reached_by(&s.status).is_some());
        }
    }
    let _ = (&s.recipient_type, s.timestamp.and_then(unix_seconds));
    if let Some(c) = &s.conversation {
        let _ = (
            &c.id,
            c.expiration_timestamp.and_then(unix_seconds),
            c.origin.as_ref().map(ToString::to_string),
        );
    }
    if let Some(p) = &s.pricing {
        let _ = (p.billable, &p.pricing_model, &p.kind, &p.category);
    }
    for e in &s.errors {
        walk_error(e);
    }
}

/// Every field of an API error, as ingest reads them.
fn walk_error(e: &ApiError) {
    let _ = (e.code, &e.title, &e.message, e.error_data.as_ref().map(|d| &d.details));
}

fn unix_seconds(seconds: i64) -> Option<DateTime<chrono::Utc>> {
    DateTime::from_timestamp(seconds, 0)
}
