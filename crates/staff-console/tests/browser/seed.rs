//! Conversations as the bot leaves them, for the browser tests and the screenshots.

use domain::webhook::StatusKind;
use store::ingest::IngestBatch;
use testkit::records;

use crate::helpers::Console;

pub const NOTICE_TITLE: &str = "Lead qualified: Ravi Shankar";

/// The conversations [`showcase`] made.
pub struct Showcase {
    pub english: i64,
    pub arabic: i64,
}

/// A bot message of `conversation`, already `status`.
async fn bot_says(console: &Console, conversation: i64, key: &str, body: &str, status: &str) {
    let body = body.replace('\'', "''");
    console
        .execute(&format!(
            "INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body, status)
             VALUES ({conversation}, '{conversation}:{key}:{}', '{key}', '{body}', '{status}')",
            uuid::Uuid::new_v4()
        ))
        .await;
}

/// An English and an Arabic conversation, a few others, a notification and a lead.
pub async fn showcase(console: &Console) -> Showcase {
    for (number, name, text) in [
        ("971502223344", "Maria Santos", "Hi po, magkano ang family visa?"),
        ("971503334455", "Imran Qureshi", "bhai golden visa ka process kya hai"),
        ("971504445566", "John Miller", "Can I set up a freezone company?"),
    ] {
        let id = console.customer_says(number, Some(name), text).await;
        bot_says(
            console,
            id,
            "ASK_NAME",
            "Hi 👋 I'm ABCai from Al Ain Business Center.\n\nMay I know your full name, please?",
            "read",
        )
        .await;
    }
    let english = console.customer_says("971505556677", Some("Ravi"), "Hi, I need a golden visa").await;
    bot_says(
        console,
        english,
        "ASK_NAME",
        "Hi 👋 I'm ABCai from Al Ain Business Center.\n\nMay I know your full name, please?",
        "read",
    )
    .await;
    console.customer_says("971505556677", None, "Ravi Shankar").await;
    bot_says(console, english, "ASK_NATIONALITY", "What is your nationality?", "read").await;
    console.customer_says("971505556677", None, "Indian").await;
    bot_says(
        console,
        english,
        "ASK_EMAIL",
        "Thank you, Ravi. What is your e-mail address, so we can send you the quotation?",
        "delivered",
    )
    .await;
    console.customer_says("971505556677", None, "ravi.shankar@gmail.com").await;
    bot_says(console, english, "ASK_BEST_TIME", "When is the best time to call you?", "sent").await;
    console.customer_says("971505556677", None, "after 5pm please").await;
    console
        .execute(&format!(
            "UPDATE conversation SET known_fields = '{{\"service\":\"Golden visa\",\"name\":\"Ravi Shankar\",\"nationality\":\"Indian\",\"email\":\"ravi.shankar@gmail.com\",\"bestTimeToCall\":\"after 5pm please\"}}',
                 engine_state = '{{\"stage\":\"qualified\"}}' WHERE id = {english}"
        ))
        .await;
    console
        .execute(&format!(
            "INSERT INTO lead (conversation_id, status, service, name, nationality, email, best_time_to_call)
             VALUES ({english}, 'qualified', 'Golden visa', 'Ravi Shankar', 'Indian', 'ravi.shankar@gmail.com', 'after 5pm please')"
        ))
        .await;
    console
        .execute(&format!(
            "INSERT INTO notification (kind, conversation_id, title, body)
             VALUES ('lead_qualified', {english}, '{NOTICE_TITLE}', 'Golden visa · Indian · ravi.shankar@gmail.com · call after 5pm please')"
        ))
        .await;
    bot_says(
        console,
        english,
        "CLOSING",
        "Thank you, Ravi. A member of our team will contact you shortly.",
        "delivered",
    )
    .await;

    let arabic = console.customer_says("971506667788", Some("فاطمة"), "مرحبا، أريد تأشيرة عائلية").await;
    bot_says(
        console,
        arabic,
        "ASK_NAME",
        "مرحباً 👋 أنا ABCai من مركز العين للأعمال.\n\nهل يمكنني معرفة اسمك الكامل من فضلك؟",
        "read",
    )
    .await;
    console.customer_says("971506667788", None, "فاطمة الزهراء").await;
    bot_says(console, arabic, "ASK_NATIONALITY", "ما هي جنسيتك؟", "delivered").await;
    console.customer_says("971506667788", None, "أريد التحدث مع موظف").await;
    console
        .execute(&format!(
            "UPDATE conversation SET known_fields = '{{\"service\":\"Family visa\",\"name\":\"فاطمة الزهراء\"}}',
                 engine_state = '{{\"stage\":\"handed_off\",\"language\":\"ar\"}}' WHERE id = {arabic}"
        ))
        .await;
    console
        .execute(&format!(
            "INSERT INTO notification (kind, conversation_id, title, body)
             VALUES ('human_requested', {arabic}, 'A customer asked for a person', 'فاطمة الزهراء asked to talk to a member of staff')"
        ))
        .await;
    bot_says(console, arabic, "HANDOFF", "شكراً لك. سيتواصل معك أحد أعضاء فريقنا قريباً.", "read").await;
    Showcase { english, arabic }
}

/// Marks the reply `body` sent, then stores Meta's `delivered` status for it as
/// webhook-ingest would (which tells open pages).
pub async fn delivered(console: &Console, body: &str) {
    let wamid = format!("wamid.{}", uuid::Uuid::new_v4().simple());
    let body = body.replace('\'', "''");
    console
        .execute(&format!(
            "UPDATE outbound_message_log SET status = 'sent', provider_message_id = '{wamid}', sent_at = now() WHERE body = '{body}'"
        ))
        .await;
    let batch = IngestBatch {
        request_id: "req-status".to_owned(),
        ..records::status_delivery(vec![records::status(&wamid, StatusKind::Delivered)])
    };
    store::ingest::ingest(&console.pool, &batch).await.expect("status stored");
}
