//! The conversation as customers really write it, through the real services (ingest, the
//! runner, the sender and the Graph API double): every detail of a message is kept,
//! corrections overwrite, opt-outs are final and enforced twice, Arabic is answered in
//! Arabic, questions are answered, and nobody is met with silence after the closing.

use std::time::Duration;

use e2e::Pipeline;
use testkit::payloads::Customer;
use testkit::stack::StackOptions;

const WAIT: Duration = Duration::from_secs(30);

/// A customer of a running pipeline.
struct Chat<'a> {
    p: &'a Pipeline,
    customer: Customer,
    messages: usize,
}

impl<'a> Chat<'a> {
    fn new(p: &'a Pipeline) -> Self {
        Self { p, customer: Customer::unique(), messages: 0 }
    }

    /// Sends `text` and waits until its job is done; returns the replies the phone got for
    /// it (none, or one).
    async fn says(&mut self, text: &str) -> Vec<String> {
        let before = self.bodies().await.len();
        self.p.customer_says(&self.customer, text).await;
        self.messages += 1;
        let done = format!(
            "SELECT count(*) AS n FROM outbound_job j JOIN conversation c ON c.id = j.conversation_id \
             JOIN contact k ON k.id = c.contact_id WHERE k.wa_id = '{}' AND j.status = 'done'",
            self.customer.wa_id
        );
        let jobs = i64::try_from(self.messages).unwrap_or(i64::MAX);
        assert_eq!(self.p.wait_for_count(&done, jobs, WAIT).await, jobs, "the job of {text:?} ran");
        let queued = self.count_of(
            "SELECT count(*) AS n FROM outbound_message_log o {WHERE} AND o.status IN ('queued', 'sending')",
        );
        assert_eq!(self.p.wait_for_count(&queued, 0, WAIT).await, 0, "every reply to {text:?} was sent");
        self.bodies().await.split_off(before)
    }

    /// Replaces `{WHERE}` with a filter on this customer's conversation (aliases o, c, k).
    fn count_of(&self, sql: &str) -> String {
        let filter = format!(
            "JOIN conversation c ON c.id = o.conversation_id JOIN contact k ON k.id = c.contact_id WHERE k.wa_id = '{}'",
            self.customer.wa_id
        );
        sql.replace("{WHERE}", &filter)
    }

    /// What the phone got, oldest first.
    async fn bodies(&self) -> Vec<String> {
        let sends = self.p.stack.sends().await;
        sends
            .iter()
            .filter(|s| {
                s["to"].as_str().map(|to| to.trim_start_matches('+')) == Some(self.customer.wa_id.as_str())
            })
            .filter_map(|s| s["body"].as_str().map(str::to_owned))
            .collect()
    }

    /// A column of this customer's conversation's `known_fields`.
    async fn known(&self, field: &str) -> Option<String> {
        testkit::sql::strings(
            self.p.db.url(),
            &format!(
                "SELECT c.known_fields ->> '{field}' AS s FROM conversation c JOIN contact k ON k.id = c.contact_id \
                 WHERE k.wa_id = '{}' AND c.known_fields ? '{field}'",
                self.customer.wa_id
            ),
        )
        .await
        .pop()
    }

    /// How many notifications of `kind` were raised for this customer.
    async fn notices(&self, kind: &str) -> i64 {
        self.p
            .count(&format!(
                "SELECT count(*) AS n FROM notification o {} AND o.kind = '{kind}'",
                self.count_of("{WHERE}")
            ))
            .await
    }
}

async fn pipeline() -> Pipeline {
    Pipeline::start(StackOptions::default()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_first_message_is_a_full_lead_and_call_me_after_5_is_a_time() {
    let p = pipeline().await;
    let mut ravi = Chat::new(&p);
    let replies = ravi
        .says("Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5")
        .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("Ravi"), "the closing thanks him by name: {replies:?}");
    assert_eq!(ravi.known("service").await.as_deref(), Some("Golden visa"));
    assert_eq!(ravi.known("name").await.as_deref(), Some("Ravi Shankar"));
    assert_eq!(ravi.known("nationality").await.as_deref(), Some("Indian"));
    assert_eq!(ravi.known("email").await.as_deref(), Some("ravi.shankar@gmail.com"));
    assert!(ravi.known("bestTimeToCall").await.is_some_and(|t| t.contains("after 5")));
    assert_eq!(ravi.notices("lead_qualified").await, 1);
    assert_eq!(ravi.notices("human_requested").await, 0, "'call me' is not a request for a person");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opt_out_is_confirmed_once_stored_and_final_until_start() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    chat.says("hi").await;
    chat.says("I need a family visa").await;
    let confirmation = chat.says("stop").await;
    assert_eq!(confirmation.len(), 1, "one confirmation: {confirmation:?}");
    assert!(chat.known("name").await.is_none(), "'stop' is never a name");
    let opted_out = format!(
        "SELECT count(*) AS n FROM contact WHERE wa_id = '{}' AND opted_out_at IS NOT NULL",
        chat.customer.wa_id
    );
    assert_eq!(p.count(&opted_out).await, 1, "the contact is marked opted out");
    assert_eq!(chat.notices("opted_out").await, 1, "staff are told");
    assert!(chat.says("STOP").await.is_empty(), "nothing more is sent");
    assert!(chat.says("hello?").await.is_empty(), "nothing more is sent");
    assert!(!chat.says("START").await.is_empty(), "opting back in is answered");
    assert_eq!(p.count(&opted_out).await, 0, "the opt-out is cleared");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sender_refuses_an_opted_out_customer_on_its_own() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    chat.says("hello").await;
    p.count(&format!(
        "WITH o AS (UPDATE contact SET opted_out_at = now() WHERE wa_id = '{}' RETURNING id) SELECT count(*) AS n FROM o",
        chat.customer.wa_id
    ))
    .await;
    let sent_before = p.stack.sends().await.len();
    // A reply written while the engine did not know yet (or by a bug): the sender must not send it.
    p.count(&format!(
        "WITH q AS (INSERT INTO outbound_message_log (conversation_id, dedupe_key, body) \
         SELECT c.id, 'crafted-after-opt-out', 'Are you still there?' FROM conversation c \
         JOIN contact k ON k.id = c.contact_id WHERE k.wa_id = '{}' RETURNING id) \
         SELECT count(*) AS n FROM q, pg_notify('outbound_message_queued', '')",
        chat.customer.wa_id
    ))
    .await;
    let refused = "SELECT count(*) AS n FROM outbound_message_log \
                   WHERE dedupe_key = 'crafted-after-opt-out' AND status = 'failed' AND error_text LIKE '%opted out%'";
    assert_eq!(p.wait_for_count(refused, 1, WAIT).await, 1);
    assert_eq!(p.stack.sends().await.len(), sent_before, "no request reached the Graph API");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arabic_customer_is_answered_in_arabic_and_a_new_licence_is_not_a_renewal() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    let replies = chat.says("أبغى أفتح رخصة تجارية").await;
    assert_eq!(
        replies,
        ["مرحباً 👋 أنا ABCai من مركز العين للأعمال.\n\nهل يمكنني معرفة اسمك الكامل من فضلك؟"],
        "the Arabic greeting and name question of the design"
    );
    assert_eq!(chat.known("service").await.as_deref(), Some("New trade licence"));
    assert_eq!(chat.says("محمد العلي").await, ["ما هي جنسيتك؟"]);
    chat.says("سعودي").await;
    assert_eq!(chat.known("nationality").await.as_deref(), Some("Saudi"), "stored canonical for staff");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrections_overwrite_the_field_and_are_confirmed() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    chat.says("Hello, I need a family visa").await;
    chat.says("Ahmed Hassan").await;
    let replies = chat.says("sorry, my full name is Ahmed Hassan Ali").await;
    assert_eq!(chat.known("name").await.as_deref(), Some("Ahmed Hassan Ali"));
    assert!(replies.len() == 1 && replies[0].contains("Ahmed Hassan Ali"), "confirmed: {replies:?}");
    chat.says("Egyptian").await;
    chat.says("john.smiht@gmail.com").await;
    chat.says("sorry typo, john.smith@gmail.com").await;
    assert_eq!(chat.known("email").await.as_deref(), Some("john.smith@gmail.com"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_is_answered_and_never_stored_as_an_answer() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    for text in ["Hi, I need a visit visa", "Maria Santos", "Filipino", "maria.santos@yahoo.com"] {
        chat.says(text).await;
    }
    let replies = chat.says("how much will it cost?").await;
    assert!(chat.known("bestTimeToCall").await.is_none(), "a question is not a time");
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].contains("What is the best time to call you?"),
        "the pending question follows: {replies:?}"
    );
    let replies = chat.says("where is your office?").await;
    assert!(!replies[0].contains("didn't catch your name"), "{replies:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_outside_the_list_is_kept_and_qualification_goes_on() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    let replies = chat.says("I need VAT registration for my company").await;
    assert!(chat.known("service").await.is_some_and(|s| s.starts_with("Other:")), "kept as Other");
    assert!(replies[0].ends_with("May I know your full name, please?"), "{replies:?}");
    assert_eq!(chat.notices("human_requested").await, 0, "no handoff for an unknown service");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_closing_a_new_message_is_acknowledged_and_staff_are_told() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    chat.says(
        "Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5",
    )
    .await;
    let replies = chat.says("hello again, I also need a family visa for my wife").await;
    assert_eq!(replies.len(), 1, "never met with silence: {replies:?}");
    assert_eq!(chat.notices("customer_followup").await, 1, "staff are told what was asked");
    let body = testkit::sql::strings(
        p.db.url(),
        "SELECT body AS s FROM notification WHERE kind = 'customer_followup'",
    )
    .await;
    assert!(body.iter().any(|b| b.contains("family visa")), "the notice carries what they asked: {body:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arabic_opt_out_is_confirmed_in_arabic_and_final() {
    let p = pipeline().await;
    let mut chat = Chat::new(&p);
    chat.says("السلام عليكم، أبغى فيزا عائلية").await;
    let confirmation = chat.says("لا تراسلني").await;
    assert_eq!(confirmation.len(), 1, "one confirmation: {confirmation:?}");
    assert!(confirmation[0].contains("ابدأ"), "in Arabic, saying how to come back: {confirmation:?}");
    assert_eq!(chat.notices("opted_out").await, 1);
    assert!(chat.says("توقف").await.is_empty(), "nothing more is sent");
    assert!(!chat.says("ابدأ").await.is_empty(), "opting back in is answered");
}
