//! The English texts.

use super::Texts;

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

pub(super) const TEXTS: Texts = Texts {
    ask_service: ASK_SERVICE,
    ask_name: ASK_NAME,
    ask_nationality: ASK_NATIONALITY,
    ask_email: ASK_EMAIL,
    ask_best_time: ASK_BEST_TIME,
    rephrased: [
        [
            "Could you tell me a little about what you need?",
            "Please describe in a few words what you would like help with.",
        ],
        [
            "Sorry, I didn't catch your name. What is your full name?",
            "Please type your full name as it appears on your passport.",
        ],
        [
            "Sorry, I didn't get that. Which country's passport do you hold?",
            "Please type your nationality, for example Indian or Egyptian.",
        ],
        [
            "That doesn't look like an email address. Could you type it again?",
            "Please send your email address, or write \"no email\" and we will send your quotation here on WhatsApp.",
        ],
        [
            "When would be a good time for our team to call you?",
            "Please tell me a day or time that suits you for a call.",
        ],
    ],
    handoff: HANDOFF,
    only_text: ONLY_TEXT,
    opted_out: "Understood. You will not receive any more messages from us. If you change your mind, just send START.",
    welcome_back: "Welcome back!",
    sorry_for_the_delay: "Sorry for the late reply.",
    acknowledgement: "Thank you for your message. Our team has your details and will get back to you soon.",
    not_configured: "Our team will tell you when they call.",
    why_nationality: "The requirements and fees depend on your nationality, so our team needs it to prepare an accurate quotation.",
    why_email: "We use it only to send you your quotation.",
    speaks_arabic: "Yes, we speak Arabic.",
    languages_intro: "Our team speaks",
    address_intro: "Our office:",
    hours_intro: "Our opening hours:",
    no_email_accepted: "No problem, we will send your quotation here on WhatsApp.",
    placeholder_email: "That looks like a sample address. Which email address should we send your quotation to?",
    did_you_mean: ["Did you mean ", "? Please reply yes, or type your email address again."],
    changed: ["Got it, I've changed your ", " to ", "."],
    field_names: ["request", "name", "nationality", "email", "best time to call"],
    thanks_by_name: ["Thank you, ", "!"],
    thanks: "Thank you!",
    read_back: "Here is what I have:",
    next_call: "Our team will prepare your quotation and call you at the time you chose.",
    next_whatsapp: "Our team will prepare your quotation and we will send it here on WhatsApp.",
    correct_me: "If anything needs changing, just tell me here.",
    quotation_on_whatsapp: "quotation on WhatsApp",
    whatsapp_only: "WhatsApp only",
    any_time: "any time",
};
