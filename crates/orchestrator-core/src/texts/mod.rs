//! Every text the bot can send, in English and in Arabic. None lists services or gives
//! examples of them. The English question texts are the contract of DESIGN.md section 5.

mod ar;
mod en;

use domain::conversation::{Language, QuestionKey};

pub use en::{ASK_BEST_TIME, ASK_EMAIL, ASK_NAME, ASK_NATIONALITY, ASK_SERVICE, HANDOFF, ONLY_TEXT};

/// The fixed texts of one language.
#[derive(Debug)]
pub struct Texts {
    /// `ASK_SERVICE`.
    pub ask_service: &'static str,
    /// `ASK_NAME`.
    pub ask_name: &'static str,
    /// `ASK_NATIONALITY`.
    pub ask_nationality: &'static str,
    /// `ASK_EMAIL`.
    pub ask_email: &'static str,
    /// `ASK_BEST_TIME`.
    pub ask_best_time: &'static str,
    /// Each question asked again after an unclear answer: first and second time, in
    /// question order.
    pub rephrased: [[&'static str; 2]; 5],
    /// The handoff to a person.
    pub handoff: &'static str,
    /// Said before re-asking when the customer sends something the bot cannot read.
    pub only_text: &'static str,
    /// The one confirmation of an opt-out.
    pub opted_out: &'static str,
    /// Said in front of the pending question when the customer opts back in.
    pub welcome_back: &'static str,
    /// Said in front of a reply to messages that waited too long for it.
    pub sorry_for_the_delay: &'static str,
    /// The short acknowledgement of a message after the closing.
    pub acknowledgement: &'static str,
    /// The answer to a question whose fact is not configured.
    pub not_configured: &'static str,
    /// The answer to "why do you need my nationality?".
    pub why_nationality: &'static str,
    /// The answer to "why do you need my e-mail?".
    pub why_email: &'static str,
    /// The answer to "do you speak Arabic?" when the team does.
    pub speaks_arabic: &'static str,
    /// The start of the answer naming the team's languages.
    pub languages_intro: &'static str,
    /// The start of the answer giving the office's address.
    pub address_intro: &'static str,
    /// The start of the answer giving the opening hours.
    pub hours_intro: &'static str,
    /// Said when the customer has no e-mail address.
    pub no_email_accepted: &'static str,
    /// Said when the customer gives a placeholder address.
    pub placeholder_email: &'static str,
    /// "Did you mean {}?", split around the address.
    pub did_you_mean: [&'static str; 2],
    /// "Got it, I've changed your {field} to {value}.", split around field and value.
    pub changed: [&'static str; 3],
    /// The field names used in `changed`, in question order.
    pub field_names: [&'static str; 5],
    /// The closing, split around the first name ("Thank you, {first}! ").
    pub thanks_by_name: [&'static str; 2],
    /// The closing's thanks when the name is unknown.
    pub thanks: &'static str,
    /// The start of the read-back of the details.
    pub read_back: &'static str,
    /// What happens next, for a customer who can be called.
    pub next_call: &'static str,
    /// What happens next, for a customer who cannot take calls.
    pub next_whatsapp: &'static str,
    /// The invitation to correct the details.
    pub correct_me: &'static str,
    /// The read-back's words for "no e-mail, quotation on WhatsApp".
    pub quotation_on_whatsapp: &'static str,
    /// The read-back's words for "no calls, WhatsApp only".
    pub whatsapp_only: &'static str,
    /// The read-back's words for "any time".
    pub any_time: &'static str,
}

/// The texts of `language`.
pub fn of(language: Language) -> &'static Texts {
    match language {
        Language::En => &en::TEXTS,
        Language::Ar => &ar::TEXTS,
    }
}

/// The question as first asked.
pub fn question(language: Language, key: QuestionKey) -> &'static str {
    let t = of(language);
    match key {
        QuestionKey::AskService => t.ask_service,
        QuestionKey::AskName => t.ask_name,
        QuestionKey::AskNationality => t.ask_nationality,
        QuestionKey::AskEmail => t.ask_email,
        QuestionKey::AskBestTime => t.ask_best_time,
        QuestionKey::Handoff => t.handoff,
        QuestionKey::OptOut => t.opted_out,
        QuestionKey::Closing | QuestionKey::FollowUp => t.acknowledgement,
    }
}

/// The question asked again after an unclear answer (`attempt` 1 or 2).
pub fn rephrased(language: Language, key: QuestionKey, attempt: u8) -> &'static str {
    let t = of(language);
    match QuestionKey::QUESTIONS.iter().position(|q| *q == key) {
        Some(i) => t.rephrased[i][usize::from(attempt > 1)],
        None => question(language, key),
    }
}

/// The name of a field (by its question) in a confirmation of a change.
pub fn field_name(language: Language, key: QuestionKey) -> &'static str {
    let t = of(language);
    QuestionKey::QUESTIONS.iter().position(|q| *q == key).map_or("", |i| t.field_names[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::text_policy::{contains_service_list, sanitize};

    #[test]
    fn the_contract_texts_are_exact_in_both_languages() {
        assert_eq!(question(Language::En, QuestionKey::AskService), "How can I help you today?");
        assert_eq!(question(Language::En, QuestionKey::AskName), "May I know your full name, please?");
        assert_eq!(question(Language::En, QuestionKey::AskNationality), "What is your nationality?");
        assert_eq!(question(Language::Ar, QuestionKey::AskService), "كيف يمكنني مساعدتك اليوم؟");
        assert_eq!(question(Language::Ar, QuestionKey::AskName), "هل يمكنني معرفة اسمك الكامل من فضلك؟");
        assert_eq!(question(Language::Ar, QuestionKey::AskNationality), "ما هي جنسيتك؟");
    }

    #[test]
    fn no_fixed_text_lists_services() {
        for language in [Language::En, Language::Ar] {
            let t = of(language);
            let mut all = vec![
                t.handoff,
                t.only_text,
                t.opted_out,
                t.welcome_back,
                t.acknowledgement,
                t.not_configured,
                t.why_nationality,
                t.why_email,
                t.no_email_accepted,
                t.placeholder_email,
                t.next_call,
                t.next_whatsapp,
                t.correct_me,
            ];
            all.extend(t.rephrased.iter().flatten());
            for text in all {
                assert!(!contains_service_list(text) && !sanitize(text).blocked, "{text}");
            }
        }
    }
}
