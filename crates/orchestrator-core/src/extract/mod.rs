//! Reading lead details out of what customers write. Every message is read for every
//! field; the question just asked only widens what counts (a bare name after the name
//! question, a bare hour after the time question).

mod countries;
mod email;
mod names;
mod nationality;
pub(crate) mod normalize;
mod services;
mod time;

use domain::conversation::QuestionKey;

pub(crate) use email::EmailFound;
pub(crate) use time::TimeFound;

/// Details found in one turn.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    /// A canonical service, or "Other: <the customer's words>".
    pub(crate) service: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) nationality: Option<&'static str>,
    pub(crate) email: Option<EmailFound>,
    pub(crate) best_time: Option<TimeFound>,
}

/// How the text is to be read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context {
    /// The question the customer is answering.
    pub(crate) asked: Option<QuestionKey>,
    /// A bare name counts (the name question was asked, or the customer corrects it).
    pub(crate) bare_name: bool,
    /// The text asks a question, so a bare time in it is not an answer.
    pub(crate) question: bool,
    /// "Other: …" is taken only while the service is still being asked for.
    pub(crate) service_open: bool,
}

/// Everything `text` says.
pub(crate) fn extract(full_text: &str, context: Context) -> Extracted {
    // Only the e-mail is read from an address ("juma.kaabi@gmail.com" is not a Friday).
    let without_emails: String = full_text
        .split_inclusive(char::is_whitespace)
        .map(|w| if w.contains('@') { ", " } else { w })
        .collect();
    let text = without_emails.as_str();
    let normalized = normalize::Normalized::new(text);
    let asked = context.asked;
    let service = services::service(&normalized).map(str::to_owned).or_else(|| {
        context
            .service_open
            .then(|| services::other(text, asked == Some(QuestionKey::AskService) && !context.question))
            .flatten()
    });
    Extracted {
        service,
        name: names::name(full_text, context.bare_name),
        nationality: nationality::nationality(text, asked == Some(QuestionKey::AskNationality)),
        email: email::email(full_text, asked == Some(QuestionKey::AskEmail)),
        best_time: time::best_time(text, asked == Some(QuestionKey::AskBestTime) && !context.question),
    }
}

/// The Arabic demonym of a canonical nationality, for Arabic read-backs.
pub(crate) fn arabic_demonym(demonym: &str) -> Option<&'static str> {
    nationality::arabic_demonym(demonym)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_can_fill_every_field() {
        let found = extract(
            "Hi, golden visa please. I'm Ravi Shankar from India, email ravi.shankar@gmail.com, call me after 5",
            Context { service_open: true, ..Context::default() },
        );
        assert_eq!(found.service.as_deref(), Some("Golden visa"));
        assert_eq!(found.name.as_deref(), Some("Ravi Shankar"));
        assert_eq!(found.nationality, Some("Indian"));
        assert_eq!(found.email, Some(EmailFound::Address("ravi.shankar@gmail.com".into())));
        assert_eq!(found.best_time, Some(TimeFound::At("after 5".into())));
    }

    #[test]
    fn name_and_nationality_in_one_answer() {
        let found = extract(
            "Ahmed Ali, Jordanian",
            Context { asked: Some(QuestionKey::AskName), bare_name: true, ..Context::default() },
        );
        assert_eq!((found.name.as_deref(), found.nationality), (Some("Ahmed Ali"), Some("Jordanian")));
    }
}
