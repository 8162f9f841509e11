//! Every text the bot can send. None lists services or gives examples of them.

use domain::conversation::{KnownFields, QuestionKey};

/// `ASK_SERVICE`.
pub const ASK_SERVICE: &str = "How can I help you today?";
/// `ASK_NAME`.
pub const ASK_NAME: &str = "May I know your full name, please?";
/// `ASK_NATIONALITY`.
pub const ASK_NATIONALITY: &str = "What is your nationality?";
/// `ASK_EMAIL`.
pub const ASK_EMAIL: &str = "What is your email address? We will send your quotation there.";
/// `ASK_BEST_TIME`.
pub const ASK_BEST_TIME: &str = "What is the best time to call you?";
/// `HANDOFF`.
pub const HANDOFF: &str = "Thank you. A member of our team will contact you shortly.";
/// Said before re-asking when the customer sends something the bot cannot read.
pub const ONLY_TEXT: &str = "Thanks! I can only read text messages for now.";

/// The question as first asked.
pub fn question(key: QuestionKey) -> &'static str {
    match key {
        QuestionKey::AskService => ASK_SERVICE,
        QuestionKey::AskName => ASK_NAME,
        QuestionKey::AskNationality => ASK_NATIONALITY,
        QuestionKey::AskEmail => ASK_EMAIL,
        QuestionKey::AskBestTime => ASK_BEST_TIME,
        QuestionKey::Handoff => HANDOFF,
        QuestionKey::Closing => CLOSING_WITHOUT_NAME,
    }
}

/// The question asked again after an unclear answer (`attempt` 1 or 2).
pub fn rephrased(key: QuestionKey, attempt: u8) -> &'static str {
    let [first, second] = match key {
        QuestionKey::AskService => [
            "Could you tell me a little about what you need?",
            "Please describe in a few words what you would like help with.",
        ],
        QuestionKey::AskName => [
            "Sorry, I didn't catch your name. What is your full name?",
            "Please type your full name as it appears on your passport.",
        ],
        QuestionKey::AskNationality => [
            "Sorry, I didn't get that. Which country's passport do you hold?",
            "Please type your nationality, for example Indian or Egyptian.",
        ],
        QuestionKey::AskEmail => [
            "That doesn't look like an email address. Could you type it again?",
            "Please send your email address, like name@example.com.",
        ],
        QuestionKey::AskBestTime => [
            "When would be a good time for our team to call you?",
            "Please tell me a day or time that suits you for a call.",
        ],
        QuestionKey::Closing | QuestionKey::Handoff => [question(key), question(key)],
    };
    if attempt <= 1 { first } else { second }
}

const CLOSING_WITHOUT_NAME: &str =
    "Thank you! Our team will prepare your quotation and call you at the time you chose.";

/// The closing message, thanking the customer by first name.
pub fn closing(known: &KnownFields) -> String {
    match known.name.as_deref().and_then(|n| n.split_whitespace().next()) {
        Some(first) => {
            format!(
                "Thank you, {first}! Our team will prepare your quotation and call you at the time you chose."
            )
        }
        None => CLOSING_WITHOUT_NAME.to_owned(),
    }
}
