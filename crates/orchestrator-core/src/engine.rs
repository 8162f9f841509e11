//! The conversation engine: a pure function from the conversation's state and one turn
//! (the customer's messages since the last reply) to the new state, at most one reply,
//! notices for staff and a change to the contact.
//!
//! Every message is read for every field before anything is decided: a request for a
//! person or an opt-out keeps the details of the same message, and a correction
//! overwrites a field and is confirmed.

use chrono::{DateTime, Duration, Utc};
use domain::conversation::{ConversationState, KnownFields, Language, QuestionKey, Stage};
use domain::text_policy::{with_arabic_greeting, with_greeting};

use crate::decision::{ContactChange, Decision, Inbound, InboundKind, Notice, NoticeKind, Reply};
use crate::extract::{Context, EmailFound, Extracted, TimeFound, arabic_demonym, extract};
use crate::intent::{Intents, Question, intents};
use crate::profile::BusinessProfile;
use crate::texts::{self, Texts};

/// How many times an unclear answer is met with the question again before a person takes
/// over.
pub const MAX_REASKS: u8 = 2;

/// The shortest time between two acknowledgements after the closing.
pub const ACK_INTERVAL: Duration = Duration::hours(12);

/// After this long since the closing, a customer who writes starts a new enquiry.
pub const NEW_ENQUIRY_AFTER: Duration = Duration::days(30);

/// The best time to call stored for a customer who can take "any time".
pub const ANY_TIME: &str = "Any time";

/// The best time to call stored for a customer who cannot take calls.
pub const NO_CALLS: &str = "No calls: WhatsApp only";

/// Longest customer text quoted in a staff notice.
const MAX_QUOTED_CHARS: usize = 1000;

/// Decides the reply to a turn (the customer's messages since the last reply, oldest
/// first) in a conversation in `state`, at `now`, with the business facts of `profile`.
/// A turn of one message behaves exactly as that message does.
pub fn decide(
    state: &ConversationState,
    turn: &[Inbound<'_>],
    now: DateTime<Utc>,
    profile: &BusinessProfile,
) -> Decision {
    let unchanged = || Decision { state: state.clone(), reply: None, notices: Vec::new(), contact: None };
    let messages: Vec<&Inbound<'_>> = turn.iter().filter(|m| m.kind != InboundKind::Ignored).collect();
    if messages.is_empty() {
        return unchanged();
    }
    let text = messages
        .iter()
        .filter_map(|m| m.text.map(str::trim).filter(|t| !t.is_empty()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut run = Run {
        state: state.clone(),
        now,
        profile,
        notices: Vec::new(),
        contact: None,
        media_only: text.is_empty()
            && messages.iter().any(|m| matches!(m.kind, InboundKind::Media | InboundKind::Unreadable)),
        welcome: messages.iter().any(|m| m.kind == InboundKind::Welcome),
        text,
    };
    if state.engine.stage == Stage::OptedOut {
        if !intents(&run.text, false).opt_in {
            return unchanged();
        }
        run.begin();
        let reply = run.opt_in();
        return run.finish(Some(reply));
    }
    run.begin();
    let reply = run.step();
    run.finish(reply)
}

/// One turn being decided.
struct Run<'a> {
    state: ConversationState,
    now: DateTime<Utc>,
    profile: &'a BusinessProfile,
    notices: Vec<Notice>,
    contact: Option<ContactChange>,
    /// Every message of the turn was a picture, voice note, location, ...
    media_only: bool,
    /// The customer opened the chat.
    welcome: bool,
    /// The turn's texts, oldest first, one per line.
    text: String,
}

/// A field set or changed in this turn: its question, and whether it had another value.
type Learnt = (QuestionKey, bool);

impl Run<'_> {
    fn begin(&mut self) {
        self.state.engine.turns += 1;
        if let Some(language) = language_of(&self.text) {
            self.state.engine.language = language;
        }
    }

    fn t(&self) -> &'static Texts {
        texts::of(self.state.engine.language)
    }

    fn step(&mut self) -> Option<Reply> {
        let engine = &self.state.engine;
        let returning = matches!(engine.stage, Stage::Qualified | Stage::HandedOff)
            && engine.closed_at.is_some_and(|closed| self.now - closed > NEW_ENQUIRY_AFTER);
        if returning {
            self.new_enquiry();
        }
        match self.state.engine.stage {
            Stage::Qualifying => Some(self.qualify(returning)),
            Stage::Qualified => self.after_closing(),
            Stage::HandedOff => self.after_handoff(),
            Stage::OptedOut => None,
        }
    }

    /// A customer back long after their closing: what is still true is kept.
    fn new_enquiry(&mut self) {
        let (known, engine) = (&mut self.state.known, &mut self.state.engine);
        known.service = None;
        known.best_time_to_call = None;
        engine.stage = Stage::Qualifying;
        engine.closed_at = None;
        engine.last_ack_at = None;
        engine.asked = None;
        engine.unclear_answers = 0;
        engine.suggested_email = None;
    }

    fn read(&self, asked: Option<QuestionKey>, service_open: bool) -> (Extracted, Intents) {
        let first = intents(&self.text, false);
        let other_intent = first.asks || !first.questions.is_empty() || first.opt_out || first.human;
        let bare_name = !other_intent
            && (asked == Some(QuestionKey::AskName)
                || (first.correction
                    && asked == Some(QuestionKey::AskNationality)
                    && self.state.known.name.is_some()));
        let context = Context { asked, bare_name, question: !first.questions.is_empty(), service_open };
        let found = extract(&self.text, context);
        let intents = intents(&self.text, found.best_time.is_some());
        (found, intents)
    }

    fn qualify(&mut self, returning: bool) -> Reply {
        let asked = self.state.engine.asked.or_else(|| self.state.known.next_question());
        let service_open = self.state.known.service.is_none() || asked == Some(QuestionKey::AskService);
        let (mut found, intents) = self.read(asked, service_open);
        if intents.opt_out || intents.human {
            // "I want to talk to someone" is not a service, "call me now" not a time.
            found.service = found.service.filter(|s| !s.starts_with("Other:"));
            found.best_time = None;
        }
        if intents.opt_out {
            return self.opt_out(found);
        }
        let mut parts: Vec<String> = Vec::new();
        if returning {
            parts.push(self.t().welcome_back.to_owned());
        }
        let mut email_reply = None;
        let mut learnt = Vec::new();
        if let Some(suggested) = self.state.engine.suggested_email.take() {
            if intents.yes && found.email.is_none() {
                learnt.push(self.set_email(suggested));
            } else if intents.no && found.email.is_none() {
                email_reply = Some(self.t().rephrased[3][0].to_owned());
            }
        }
        let email_event = self.learn(found, asked, intents.correction, &mut learnt);
        if let Some(event) = email_event {
            email_reply = Some(event);
        }
        if intents.human {
            return self.hand_off("The customer asked to talk to a person.");
        }
        parts.extend(self.confirmations(&learnt));
        parts.extend(intents.questions.iter().map(|q| self.answer(*q)));
        let progressed = !learnt.is_empty() || email_reply.is_some();
        if let Some(text) = email_reply {
            let email_due = self.state.known.next_question() == Some(QuestionKey::AskEmail);
            let doubtful = self.state.engine.suggested_email.is_some()
                || !self.state.known.answers(QuestionKey::AskEmail);
            if !doubtful {
                parts.push(text);
            } else if email_due {
                // A doubtful address is taken up when its turn comes, never out of order.
                parts.push(text);
                self.state.engine.unclear_answers = 0;
                self.state.engine.asked = Some(QuestionKey::AskEmail);
                return self.reply(QuestionKey::AskEmail, parts);
            }
        }
        let understood = progressed || !intents.questions.is_empty() || intents.small_talk || self.welcome;
        if self.media_only {
            parts.push(self.t().only_text.to_owned());
        } else if !understood
            && let Some(question) = self.state.engine.asked.filter(|q| !self.state.known.answers(*q))
        {
            self.state.engine.unclear_answers += 1;
            if self.state.engine.unclear_answers > MAX_REASKS {
                let reason = format!("The bot could not understand the answers to {}.", question.as_str());
                return self.hand_off(&reason);
            }
            self.state.engine.asked = Some(question);
            parts.push(
                texts::rephrased(self.state.engine.language, question, self.state.engine.unclear_answers)
                    .to_owned(),
            );
            return self.reply(question, parts);
        }
        if progressed {
            self.state.engine.unclear_answers = 0;
        }
        match self.state.known.next_question() {
            Some(question) => {
                self.state.engine.asked = Some(question);
                let t = self.t();
                let text = match (&self.state.engine.suggested_email, question) {
                    (Some(suggested), QuestionKey::AskEmail) => {
                        format!("{}{suggested}{}", t.did_you_mean[0], t.did_you_mean[1])
                    }
                    _ => texts::question(self.state.engine.language, question).to_owned(),
                };
                parts.push(text);
                self.reply(question, parts)
            }
            None => self.close(parts),
        }
    }

    /// Fills and corrects the fields from what was found; returns the words to say about
    /// an e-mail that needs another look.
    fn learn(
        &mut self,
        found: Extracted,
        asked: Option<QuestionKey>,
        correction: bool,
        learnt: &mut Vec<Learnt>,
    ) -> Option<String> {
        let known = &mut self.state.known;
        if let Some(service) = found.service {
            let replaces = match known.service.as_deref() {
                None => true,
                Some(current) if current == service => false,
                Some(current) => {
                    let generic = ["Visa services", "Business setup"].contains(&service.as_str())
                        || service.starts_with("Other:");
                    let vague = ["Visa services", "Business setup"].contains(&current)
                        || current.starts_with("Other:");
                    !generic && (vague || correction || asked == Some(QuestionKey::AskService))
                }
            };
            if replaces {
                learnt.push((QuestionKey::AskService, known.service.is_some()));
                known.service = Some(service);
            }
        }
        if let Some(name) = found.name.filter(|n| known.name.as_ref() != Some(n)) {
            learnt.push((QuestionKey::AskName, known.name.is_some()));
            known.name = Some(name);
        }
        if let Some(nationality) = found.nationality.filter(|n| known.nationality.as_deref() != Some(*n)) {
            learnt.push((QuestionKey::AskNationality, known.nationality.is_some()));
            known.nationality = Some(nationality.to_owned());
        }
        let time = found.best_time.map(|t| match t {
            TimeFound::At(t) => t,
            TimeFound::Any => ANY_TIME.to_owned(),
            TimeFound::NoCalls => NO_CALLS.to_owned(),
        });
        if let Some(time) = time.filter(|t| known.best_time_to_call.as_ref() != Some(t)) {
            learnt.push((QuestionKey::AskBestTime, known.best_time_to_call.is_some()));
            known.best_time_to_call = Some(time);
        }
        let t = self.t();
        match found.email {
            Some(EmailFound::Address(address)) => {
                if self.state.known.email.as_ref() != Some(&address) {
                    learnt.push(self.set_email(address));
                }
                None
            }
            Some(EmailFound::Suggest(suggested)) => {
                let text = format!("{}{suggested}{}", t.did_you_mean[0], t.did_you_mean[1]);
                self.state.engine.suggested_email = Some(suggested);
                Some(text)
            }
            Some(EmailFound::Placeholder) => Some(t.placeholder_email.to_owned()),
            Some(EmailFound::Declined)
                if self.state.known.email.is_none() && !self.state.known.email_declined =>
            {
                self.state.known.email_declined = true;
                Some(t.no_email_accepted.to_owned())
            }
            Some(EmailFound::Declined) | None => None,
        }
    }

    fn set_email(&mut self, address: String) -> Learnt {
        let known = &mut self.state.known;
        let had = known.email.is_some();
        known.email = Some(address);
        known.email_declined = false;
        (QuestionKey::AskEmail, had)
    }

    /// "Got it, I've changed your … to …." for every field that had another value.
    fn confirmations(&self, learnt: &[Learnt]) -> Vec<String> {
        let language = self.state.engine.language;
        let t = self.t();
        learnt
            .iter()
            .filter(|(_, had)| *had)
            .map(|(key, _)| {
                let value = display(&self.state.known, *key, language).unwrap_or_default();
                format!(
                    "{}{}{}{value}{}",
                    t.changed[0],
                    texts::field_name(language, *key),
                    t.changed[1],
                    t.changed[2]
                )
            })
            .collect()
    }

    fn answer(&self, question: Question) -> String {
        let t = self.t();
        let ar = self.state.engine.language == Language::Ar;
        let p = self.profile;
        let pick = |en: &Option<String>, ar_text: &Option<String>| {
            if ar { ar_text.clone().or_else(|| en.clone()) } else { en.clone() }
        };
        let fact = match question {
            Question::Fees => pick(&p.fees, &p.fees_ar),
            Question::Documents => pick(&p.documents, &p.documents_ar),
            Question::Location => pick(&p.address, &p.address_ar).map(|a| format!("{} {a}", t.address_intro)),
            Question::Hours => pick(&p.hours, &p.hours_ar).map(|h| format!("{} {h}", t.hours_intro)),
            Question::Languages(Some("Arabic")) if p.speaks("Arabic") == Some(true) => {
                Some(t.speaks_arabic.to_owned())
            }
            Question::Languages(_) => p.languages.as_ref().filter(|l| !l.is_empty()).map(|languages| {
                let names: Vec<&str> =
                    languages.iter().map(|l| if ar { arabic_language(l) } else { l.as_str() }).collect();
                let list = if ar { names.join("، ") } else { names.join(", ") };
                format!("{} {list}.", t.languages_intro)
            }),
            Question::WhyNationality => Some(t.why_nationality.to_owned()),
            Question::WhyEmail => Some(t.why_email.to_owned()),
        };
        fact.unwrap_or_else(|| t.not_configured.to_owned())
    }

    fn close(&mut self, mut parts: Vec<String>) -> Reply {
        let engine = &mut self.state.engine;
        engine.stage = Stage::Qualified;
        engine.asked = None;
        engine.unclear_answers = 0;
        engine.closed_at = Some(self.now);
        self.notice(NoticeKind::LeadQualified, "New qualified lead", summary(&self.state));
        parts.push(closing(&self.state.known, self.state.engine.language));
        self.reply(QuestionKey::Closing, parts)
    }

    fn after_closing(&mut self) -> Option<Reply> {
        let (found, intents) = self.read(Some(QuestionKey::AskBestTime), false);
        if intents.opt_out {
            return Some(self.opt_out(found));
        }
        let mut learnt = Vec::new();
        if let Some(suggested) = self.state.engine.suggested_email.take()
            && intents.yes
            && found.email.is_none()
        {
            learnt.push(self.set_email(suggested));
        }
        let service_mentioned =
            found.service.clone().filter(|s| self.state.known.service.as_ref() != Some(s));
        let found = if intents.correction { found } else { Extracted { service: None, ..found } };
        let email_text = self.learn(found, None, intents.correction, &mut learnt);
        let mut parts = self.confirmations(&learnt);
        let changed = !parts.is_empty();
        parts.extend(intents.questions.iter().map(|q| self.answer(*q)));
        parts.extend(email_text);
        let mut body =
            format!("The customer wrote after the closing: \"{}\".", quoted(&self.text, self.media_only));
        if changed {
            body.push_str(" They corrected their details.");
        }
        if let Some(service) = service_mentioned.filter(|_| !intents.correction) {
            body.push_str(&format!(" They also ask about: {service}."));
        }
        if intents.human {
            body.push_str(" They ask to talk to a person.");
        }
        body.push_str(&format!(" {}", summary(&self.state)));
        self.notice(NoticeKind::CustomerFollowup, "A customer wrote again", body);
        if parts.is_empty() {
            let due = self.state.engine.last_ack_at.is_none_or(|at| self.now - at >= ACK_INTERVAL);
            if !due {
                return None;
            }
            self.state.engine.last_ack_at = Some(self.now);
            let t = self.t();
            parts.push(if intents.human { t.handoff } else { t.acknowledgement }.to_owned());
        } else if changed {
            parts.push(closing(&self.state.known, self.state.engine.language));
        }
        Some(self.reply(QuestionKey::FollowUp, parts))
    }

    fn after_handoff(&mut self) -> Option<Reply> {
        let (found, intents) = self.read(None, false);
        if intents.opt_out {
            return Some(self.opt_out(found));
        }
        self.fill_missing(found);
        let body = format!(
            "The customer wrote after the handoff: \"{}\". {}",
            quoted(&self.text, self.media_only),
            summary(&self.state)
        );
        self.notice(NoticeKind::CustomerFollowup, "A customer wrote again", body);
        None
    }

    /// Keeps what a message says about fields still unknown, and nothing else.
    fn fill_missing(&mut self, found: Extracted) {
        let known = &mut self.state.known;
        known.service = known.service.take().or(found.service);
        known.name = known.name.take().or(found.name);
        known.nationality = known.nationality.take().or(found.nationality.map(str::to_owned));
        if let Some(EmailFound::Address(address)) = found.email {
            known.email = known.email.take().or(Some(address));
        }
        let time = found.best_time.map(|t| match t {
            TimeFound::At(t) => t,
            TimeFound::Any => ANY_TIME.to_owned(),
            TimeFound::NoCalls => NO_CALLS.to_owned(),
        });
        known.best_time_to_call = known.best_time_to_call.take().or(time);
    }

    fn opt_out(&mut self, found: Extracted) -> Reply {
        self.fill_missing(found);
        let engine = &mut self.state.engine;
        engine.stage_before_opt_out = Some(engine.stage);
        engine.stage = Stage::OptedOut;
        engine.asked = None;
        engine.suggested_email = None;
        self.contact = Some(ContactChange::OptedOut);
        let body =
            format!("The customer opted out: \"{}\". {}", quoted(&self.text, false), summary(&self.state));
        self.notice(NoticeKind::OptedOut, "A customer opted out", body);
        self.reply(QuestionKey::OptOut, vec![self.t().opted_out.to_owned()])
    }

    fn opt_in(&mut self) -> Reply {
        let engine = &mut self.state.engine;
        engine.stage = engine.stage_before_opt_out.take().unwrap_or_default();
        self.contact = Some(ContactChange::OptedIn);
        let t = self.t();
        let mut parts = vec![t.welcome_back.to_owned()];
        match self.state.engine.stage {
            Stage::Qualifying | Stage::OptedOut => {
                self.state.engine.stage = Stage::Qualifying;
                let question = self.state.known.next_question().unwrap_or(QuestionKey::AskService);
                self.state.engine.asked = Some(question);
                parts.push(texts::question(self.state.engine.language, question).to_owned());
                self.reply(question, parts)
            }
            Stage::Qualified => {
                parts.push(t.acknowledgement.to_owned());
                self.reply(QuestionKey::FollowUp, parts)
            }
            Stage::HandedOff => {
                parts.push(t.handoff.to_owned());
                self.reply(QuestionKey::FollowUp, parts)
            }
        }
    }

    fn hand_off(&mut self, reason: &str) -> Reply {
        let engine = &mut self.state.engine;
        engine.stage = Stage::HandedOff;
        engine.asked = None;
        engine.closed_at = Some(self.now);
        engine.suggested_email = None;
        let body = format!(
            "{reason} They wrote: \"{}\". {}",
            quoted(&self.text, self.media_only),
            summary(&self.state)
        );
        self.notice(NoticeKind::HumanRequested, "A customer needs a person", body);
        self.reply(QuestionKey::Handoff, vec![self.t().handoff.to_owned()])
    }

    fn notice(&mut self, kind: NoticeKind, title: &str, body: String) {
        let dedupe_suffix = self.state.engine.turns.to_string();
        self.notices.push(Notice { kind, title: title.to_owned(), body, dedupe_suffix });
    }

    fn reply(&self, question_key: QuestionKey, parts: Vec<String>) -> Reply {
        let separator = if parts.iter().any(|p| p.contains('\n')) { "\n\n" } else { " " };
        Reply { question_key, text: parts.join(separator) }
    }

    /// The decision, with the greeting in front of the conversation's first reply.
    fn finish(mut self, reply: Option<Reply>) -> Decision {
        let reply = reply.map(|reply| {
            if self.state.known.first_greeting_sent_at.is_some() {
                return reply;
            }
            self.state.known.first_greeting_sent_at = Some(self.now);
            let text = match self.state.engine.language {
                Language::En => with_greeting(&reply.text),
                Language::Ar => with_arabic_greeting(&reply.text),
            };
            Reply { text, ..reply }
        });
        Decision { state: self.state, reply, notices: self.notices, contact: self.contact }
    }
}

/// The language of a text: Arabic when Arabic letters outnumber Latin ones (e-mail
/// addresses aside), English when there are Latin letters, none for digits and emoji.
fn language_of(text: &str) -> Option<Language> {
    let words = text.split_whitespace().filter(|w| !w.contains('@'));
    let (mut arabic, mut latin) = (0usize, 0usize);
    for c in words.flat_map(str::chars) {
        if ('\u{0600}'..='\u{06FF}').contains(&c) || ('\u{0750}'..='\u{077F}').contains(&c) {
            arabic += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    if arabic > 0 && arabic * 2 >= latin {
        Some(Language::Ar)
    } else if latin > 0 {
        Some(Language::En)
    } else {
        None
    }
}

/// A field's value as the customer is shown it.
fn display(known: &KnownFields, key: QuestionKey, language: Language) -> Option<String> {
    let t = texts::of(language);
    let ar = language == Language::Ar;
    match key {
        QuestionKey::AskService => known.service.as_deref().map(|s| {
            let s = s.strip_prefix("Other: ").unwrap_or(s);
            if ar { arabic_service(s).unwrap_or(s).to_owned() } else { s.to_owned() }
        }),
        QuestionKey::AskName => known.name.clone(),
        QuestionKey::AskNationality => known
            .nationality
            .as_deref()
            .map(|n| if ar { arabic_demonym(n).unwrap_or(n).to_owned() } else { n.to_owned() }),
        QuestionKey::AskEmail => {
            known.email.clone().or_else(|| known.email_declined.then(|| t.quotation_on_whatsapp.to_owned()))
        }
        QuestionKey::AskBestTime => known.best_time_to_call.as_deref().map(|time| match time {
            ANY_TIME => t.any_time.to_owned(),
            NO_CALLS => t.whatsapp_only.to_owned(),
            other => other.to_owned(),
        }),
        QuestionKey::Closing | QuestionKey::Handoff | QuestionKey::OptOut | QuestionKey::FollowUp => None,
    }
}

/// The closing: thanks, the details read back, what happens next.
fn closing(known: &KnownFields, language: Language) -> String {
    let t = texts::of(language);
    let thanks = match known.name.as_deref().and_then(|n| n.split_whitespace().next()) {
        Some(first) => format!("{}{first}{}", t.thanks_by_name[0], t.thanks_by_name[1]),
        None => t.thanks.to_owned(),
    };
    let order = [
        QuestionKey::AskName,
        QuestionKey::AskService,
        QuestionKey::AskNationality,
        QuestionKey::AskEmail,
        QuestionKey::AskBestTime,
    ];
    let details: Vec<String> = order.iter().filter_map(|k| display(known, *k, language)).collect();
    let separator = if language == Language::Ar { "، " } else { ", " };
    let next =
        if known.best_time_to_call.as_deref() == Some(NO_CALLS) { t.next_whatsapp } else { t.next_call };
    format!("{thanks} {} {}. {next} {}", t.read_back, details.join(separator), t.correct_me)
}

/// The lead's details for staff, in English.
fn summary(state: &ConversationState) -> String {
    let known = &state.known;
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
    let email = known.email.clone().unwrap_or_else(|| {
        if known.email_declined {
            "none (send the quotation on WhatsApp)".to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    format!(
        "Service: {}. Name: {}. Nationality: {}. Email: {email}. Best time to call: {}. Language: {}.",
        field(&known.service),
        field(&known.name),
        field(&known.nationality),
        field(&known.best_time_to_call),
        state.engine.language.as_str()
    )
}

/// The customer's words for a notice, shortened.
fn quoted(text: &str, media: bool) -> String {
    if text.is_empty() {
        return if media { "(a picture, voice note or other media)" } else { "(no text)" }.to_owned();
    }
    text.chars().take(MAX_QUOTED_CHARS).collect()
}

fn arabic_service(service: &str) -> Option<&'static str> {
    Some(match service {
        "Golden visa" => "الإقامة الذهبية",
        "Investor visa" => "تأشيرة مستثمر",
        "Family visa" => "تأشيرة عائلية",
        "Employment visa" => "تأشيرة عمل",
        "Visit visa" => "تأشيرة زيارة",
        "Residence visa" => "الإقامة",
        "Freelance permit" => "تصريح العمل الحر",
        "Work permit" => "تصريح عمل",
        "Free zone business setup" => "تأسيس شركة في منطقة حرة",
        "Mainland business setup" => "تأسيس شركة في البر الرئيسي",
        "New trade licence" => "رخصة تجارية جديدة",
        "Trade licence renewal" => "تجديد الرخصة التجارية",
        "Business setup" => "تأسيس شركة",
        "Emirates ID" => "الهوية الإماراتية",
        "Document attestation" => "تصديق المستندات",
        "PRO services" => "خدمات المعقب",
        "Visa services" => "خدمات التأشيرات",
        _ => return None,
    })
}

fn arabic_language(language: &str) -> &str {
    match language.to_ascii_lowercase().as_str() {
        "english" => "الإنجليزية",
        "arabic" => "العربية",
        "urdu" => "الأردية",
        "hindi" => "الهندية",
        "tagalog" => "التاغالوغية",
        "malayalam" => "المالايالامية",
        "french" => "الفرنسية",
        "russian" => "الروسية",
        _ => language,
    }
}
