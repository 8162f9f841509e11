//! What the customer wants from the bot, beside their details: a person, to stop or start
//! again, an answer to a question, or nothing at all (a greeting, thanks, "ok", an emoji).
//! English, Arabic (Gulf and MSA spellings) and romanised Urdu/Hindi.

use crate::extract::normalize::Normalized;

/// A question the bot answers from the business profile (or with fixed words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Question {
    /// Fees or price.
    Fees,
    /// Documents needed.
    Documents,
    /// Where the office is.
    Location,
    /// Opening hours.
    Hours,
    /// Whether the team speaks a language (named in English), or which ones.
    Languages(Option<&'static str>),
    /// Why the bot needs the nationality.
    WhyNationality,
    /// Why the bot needs the e-mail.
    WhyEmail,
}

/// The intents of one turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Intents {
    /// Stop messaging me.
    pub(crate) opt_out: bool,
    /// Start messaging me again.
    pub(crate) opt_in: bool,
    /// Let me talk to a person.
    pub(crate) human: bool,
    /// The questions asked, in a fixed order.
    pub(crate) questions: Vec<Question>,
    /// Nothing but a greeting, thanks, "ok" or emoji.
    pub(crate) small_talk: bool,
    /// The customer corrects something ("sorry", "actually", "I meant", "not X, Y").
    pub(crate) correction: bool,
    /// Yes.
    pub(crate) yes: bool,
    /// No.
    pub(crate) no: bool,
    /// The text asks something (a question mark, or a question word first).
    pub(crate) asks: bool,
}

const OPT_OUT_PHRASES: &[&str] = &[
    "unsubscribe",
    "remove me",
    "remove my number",
    "don't message me",
    "dont message me",
    "do not message me",
    "don't text me",
    "dont text me",
    "do not text me",
    "don't contact me",
    "dont contact me",
    "do not contact me",
    "stop messaging",
    "stop texting",
    "stop sending",
    "stop contacting",
    "stop messages",
    "stop message",
    "stop msg",
    "stop this",
    "wrong number",
    "leave me alone",
    "don't send me",
    "dont send me",
    "do not send me",
    "no more messages",
    "opt out",
    "optout",
    "don't message",
    "dont message",
    "do not message",
    "spam",
    "mat bhejo",
    "message mat karo",
    "msg mat karo",
    "توقف",
    "توقفوا",
    "وقف",
    "لا ترسل",
    "لا ترسلوا",
    "لا تراسلني",
    "لا تراسلوني",
    "لا تتواصل معي",
    "لا تتواصلوا معي",
    "الغاء الاشتراك",
    "رقم خطا",
    "رقم غلط",
    "الرقم غلط",
    "الرقم خطا",
    "لا تكلمني",
    "ايقاف الرسائل",
    "اوقف الرسائل",
    "اوقفوا الرسائل",
    "بطلوا",
    "ابعدوا",
    "ازعاج",
];
/// Whole messages that opt out.
const OPT_OUT_WHOLE: &[&str] = &[
    "stop",
    "stop please",
    "please stop",
    "stop it",
    "stop pls",
    "pls stop",
    "end",
    "quit",
    "cancel",
    "الغاء",
    "غلط",
    "قف",
    "ايقاف",
    "اوقف",
    "اوقفوا",
    "وقفوا",
    "stopp",
];

const OPT_IN_WHOLE: &[&str] = &[
    "start",
    "start again",
    "unstop",
    "resume",
    "subscribe",
    "opt in",
    "yes start",
    "ابدا",
    "ابدأ",
    "اشترك",
    "ابدا من جديد",
    "start please",
    "please start",
];

const HUMAN_PHRASES: &[&str] = &[
    "talk to",
    "speak to",
    "speak with",
    "talk with",
    "connect me",
    "customer service",
    "customer care",
    "customer support",
    "real person",
    "live agent",
    "human being",
    "human agent",
    "a human",
    "an agent",
    "the agent",
    "your agent",
    "someone call",
    "someone to call",
    "somebody call",
    "can someone",
    "need someone",
    "want someone",
    "call me now",
    "call me asap",
    "call me please",
    "please call me",
    "call me back",
    "call back",
    "talk to someone",
    "a person",
    "your manager",
    "the manager",
    "representative",
    "sales person",
    "salesperson",
    "consultant",
    "موظف",
    "موظفه",
    "انسان",
    "شخص حقيقي",
    "خدمه العملاء",
    "المدير",
    "مسؤول",
    "ابي اكلم",
    "ابغي اكلم",
    "اريد التحدث",
    "اريد ان اتحدث",
    "ابي احد",
    "ابغي احد",
    "احد يكلمني",
    "حد يكلمني",
    "اتصلوا علي",
    "اتصلوا بي",
    "اتصل بي",
    "كلموني",
    "كلمني",
    "اكلم احد",
    "اكلم شخص",
    "baat karni",
    "baat karo",
    "kisi se baat",
    "call karo",
    "call karein",
    "makausap",
    "kausap",
    "tao ang kausap",
    "ng agent",
    "a7ad ykalimni",
    "ykalimni",
    "kalimni",
    "insaan se baat",
    "kisi insaan",
    "insan se baat",
];
/// Words that ask for a person in a short message ("agent", "human?").
const HUMAN_WORDS: &[&str] = &[
    "agent",
    "human",
    "person",
    "representative",
    "operator",
    "staff",
    "someone",
    "somebody",
    "manager",
    "موظف",
    "شخص",
    "احد",
];

const GREETINGS_AND_ACKS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hii",
    "hiii",
    "helo",
    "hallo",
    "salam",
    "salaam",
    "salams",
    "assalam",
    "assalamu",
    "asalam",
    "alaikum",
    "alaykum",
    "walaikum",
    "aoa",
    "slm",
    "marhaba",
    "marhaban",
    "ahlan",
    "good",
    "morning",
    "afternoon",
    "evening",
    "day",
    "ok",
    "okay",
    "okey",
    "okk",
    "k",
    "kk",
    "fine",
    "great",
    "thanks",
    "thank",
    "you",
    "thx",
    "tnx",
    "ty",
    "thnx",
    "welcome",
    "sure",
    "noted",
    "cool",
    "nice",
    "perfect",
    "alright",
    "got",
    "it",
    "again",
    "there",
    "sir",
    "madam",
    "dear",
    "bro",
    "team",
    "abcai",
    "السلام",
    "عليكم",
    "وعليكم",
    "ورحمه",
    "الله",
    "وبركاته",
    "مرحبا",
    "مرحبه",
    "هلا",
    "اهلا",
    "اهلين",
    "صباح",
    "مساء",
    "الخير",
    "النور",
    "تمام",
    "طيب",
    "زين",
    "اوكي",
    "اوك",
    "ماشي",
    "شكرا",
    "مشكور",
    "مشكورين",
    "يعطيك",
    "العافيه",
    "جزاك",
    "خيرا",
    "حياك",
    "hai",
    "shukriya",
    "shukria",
    "acha",
    "theek",
    "salamat",
    "po",
    "🙏",
    "👍",
    "😊",
    "🙂",
    "👋",
    "❤️",
    "mubarak",
    "eid",
    "ramadan",
    "kareem",
];

const CORRECTION_CUES: &[&str] = &[
    "sorry",
    "actually",
    "i meant",
    "i mean",
    "correction",
    "correct is",
    "correct one",
    "oops",
    "typo",
    "my mistake",
    "wrong",
    "not",
    "no it's",
    "no its",
    "change",
    "update",
    "instead",
    "mistake",
    "عفوا",
    "اقصد",
    "قصدي",
    "تصحيح",
    "مو",
    "مش",
    "ليس",
    "غلطت",
    "الصحيح",
    "خطا",
    "sorry galti",
    "galti",
    "nahi nahi",
    "no wait",
    "make it",
];

const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "yes please",
    "correct",
    "right",
    "that's right",
    "thats right",
    "exactly",
    "sure",
    "ok",
    "okay",
    "yes correct",
    "yes it is",
    "haan",
    "ha",
    "ji",
    "نعم",
    "ايوه",
    "ايوا",
    "اي",
    "صح",
    "صحيح",
    "تمام",
    "بالضبط",
    "oo",
    "opo",
];
const NO: &[&str] =
    &["no", "nope", "nah", "not", "wrong", "incorrect", "no it's not", "لا", "غلط", "خطا", "nahi", "hindi"];

/// The intents of `text`, read in the light of whether the bot just asked when to call
/// ("call me" then names a time, not a request for a person) and whether the text names a
/// time at all.
pub(crate) fn intents(text: &str, names_time: bool) -> Intents {
    let n = Normalized::new(text);
    let words: Vec<&str> = n.words().collect();
    let short = words.len() <= 4;
    let whole = |list: &[&str]| list.iter().any(|p| n.is_exactly(p));
    let any = |list: &[&str]| list.iter().any(|p| n.contains_phrase(p));
    let opt_out = whole(OPT_OUT_WHOLE) || any(OPT_OUT_PHRASES) || (short && n.contains_phrase("stop"));
    let opt_in = whole(OPT_IN_WHOLE);
    let call_words = [
        "call me",
        "please call me",
        "call me please",
        "اتصلوا علي",
        "اتصلوا بي",
        "اتصل بي",
        "كلموني",
        "كلمني",
        "call karo",
        "call karein",
    ];
    let human_phrase =
        HUMAN_PHRASES.iter().any(|p| n.contains_phrase(p) && !(names_time && call_words.contains(p)));
    let human = !opt_out && (human_phrase || (short && HUMAN_WORDS.iter().any(|w| n.contains_phrase(w))));
    let asks = text.contains('?')
        || text.contains('؟')
        || words.first().is_some_and(|w| {
            [
                "what",
                "how",
                "where",
                "when",
                "why",
                "which",
                "do",
                "does",
                "can",
                "is",
                "are",
                "kya",
                "kitna",
                "كم",
                "وين",
                "اين",
                "متى",
                "ليش",
                "لماذا",
                "هل",
                "كيف",
                "شو",
                "ايش",
            ]
            .contains(w)
        });
    let emoji_only = !text.trim().is_empty() && !text.chars().any(char::is_alphanumeric);
    let small_talk =
        emoji_only || (!words.is_empty() && words.iter().all(|w| GREETINGS_AND_ACKS.contains(w)));
    Intents {
        opt_out,
        opt_in,
        human,
        questions: questions(&n, asks),
        small_talk,
        correction: any(CORRECTION_CUES),
        yes: whole(YES)
            || words.first().is_some_and(|w| {
                ["yes", "yeah", "yep", "correct", "نعم", "ايوه", "صح", "haan", "oo", "opo"].contains(w)
            }),
        no: whole(NO) || words.first().is_some_and(|w| ["no", "nope", "لا"].contains(w)) && words.len() <= 3,
        asks,
    }
}

fn questions(n: &Normalized, asks: bool) -> Vec<Question> {
    let any = |list: &[&str]| list.iter().any(|p| n.contains_phrase(p));
    let mut found = Vec::new();
    if any(&[
        "how much",
        "price",
        "prices",
        "pricing",
        "cost",
        "costs",
        "fee",
        "fees",
        "charges",
        "charge",
        "rate",
        "rates",
        "kitna",
        "kitne",
        "kitni",
        "kharcha",
        "paise",
        "kitne paise",
        "السعر",
        "سعر",
        "الاسعار",
        "التكلفه",
        "تكلفه",
        "الرسوم",
        "رسوم",
        "بكم",
        "كم يكلف",
        "كم تكلف",
        "كم السعر",
        "كم الرسوم",
        "magkano",
    ]) {
        found.push(Question::Fees);
    }
    if any(&[
        "documents",
        "document",
        "docs",
        "papers",
        "requirements",
        "required",
        "what do i need",
        "what i need",
        "what is needed",
        "what's needed",
        "المستندات",
        "مستندات",
        "الاوراق",
        "اوراق",
        "الوثائق",
        "المطلوب",
        "الشروط",
        "kaghzat",
        "documents chahiye",
    ]) && (asks || any(&["what", "which", "required", "requirements", "المطلوب", "ايش", "شو", "ما هي"]))
    {
        found.push(Question::Documents);
    }
    if any(&[
        "where is your office",
        "where are you",
        "where is the office",
        "where r u",
        "your office",
        "your location",
        "location",
        "address",
        "located",
        "directions",
        "office kahan",
        "kahan hai",
        "وين مكتبكم",
        "وين المكتب",
        "وين موقعكم",
        "وين انتم",
        "وينكم",
        "اين مكتبكم",
        "اين المكتب",
        "موقعكم",
        "العنوان",
        "عنوانكم",
        "مكانكم",
        "اين تقع",
        "وين تقع",
        "لوكيشن",
        "saan",
    ]) && (asks || any(&["address", "location", "located", "العنوان", "عنوانكم", "موقعكم", "لوكيشن"]))
    {
        found.push(Question::Location);
    }
    if any(&[
        "opening hours",
        "working hours",
        "office hours",
        "business hours",
        "timings",
        "timing",
        "what time do you",
        "when do you open",
        "when are you open",
        "are you open",
        "open today",
        "open tomorrow",
        "open on",
        "what time you open",
        "when do you close",
        "what time do you close",
        "closing time",
        "open now",
        "مواعيد",
        "الدوام",
        "دوامكم",
        "متى تفتحون",
        "متي تفتحون",
        "ساعات العمل",
        "اوقات العمل",
        "مفتوحين",
        "تفتحون",
        "تسكرون",
        "تقفلون",
    ]) && asks
    {
        found.push(Question::Hours);
    }
    let language = [
        ("arabic", "Arabic"),
        ("عربي", "Arabic"),
        ("العربيه", "Arabic"),
        ("urdu", "Urdu"),
        ("اردو", "Urdu"),
        ("hindi", "Hindi"),
        ("english", "English"),
        ("انجليزي", "English"),
        ("tagalog", "Tagalog"),
        ("malayalam", "Malayalam"),
    ]
    .into_iter()
    .find(|(w, _)| n.contains_phrase(w))
    .map(|(_, l)| l);
    if any(&[
        "speak",
        "speaks",
        "talk in",
        "languages",
        "language",
        "bolte",
        "tatakallam",
        "تتكلمون",
        "تتكلم",
        "تتحدث",
        "تتحدثون",
        "تحكي",
        "تحكون",
        "يتكلم",
        "لغه",
        "اللغات",
    ]) && (asks || language.is_some())
    {
        found.push(Question::Languages(language));
    }
    let why = any(&["why", "لماذا", "ليش", "ليه", "leh", "kyun", "kyu", "what for"]);
    if why && any(&["nationality", "passport", "country", "جنسيه", "الجنسيه", "جنسيتي", "جواز"])
    {
        found.push(Question::WhyNationality);
    }
    if why && any(&["email", "e mail", "mail", "ايميل", "الايميل", "البريد", "بريدي", "ايميلي"])
    {
        found.push(Question::WhyEmail);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_outs_in_both_languages() {
        for text in [
            "STOP",
            "stop",
            "Unsubscribe",
            "don't message me again",
            "wrong number",
            "توقف",
            "لا تراسلني",
            "please stop",
            "قف",
            "إيقاف",
            "أوقف",
            "أوقفوا الرسائل من فضلكم",
        ] {
            assert!(intents(text, false).opt_out, "{text}");
        }
        for text in [
            "I want to stop my company",
            "family visa",
            "is there a bus stop near your office",
            "ايقاف ترخيص الشركة",
        ] {
            assert!(!intents(text, false).opt_out, "{text}");
        }
        assert!(intents("START", false).opt_in);
        assert!(intents("ابدأ", false).opt_in);
    }

    #[test]
    fn requests_for_a_person_but_not_a_time_to_call() {
        for text in [
            "agent",
            "Can I talk to a human?",
            "please call me",
            "I want to speak to someone",
            "موظف",
            "ابي اكلم احد",
        ] {
            assert!(intents(text, false).human, "{text}");
        }
        assert!(!intents("call me after 5", true).human);
        assert!(!intents("I am a real estate agent and need a freelance permit", false).human);
        assert!(!intents("family visa", false).human);
    }

    #[test]
    fn questions_are_recognised() {
        assert_eq!(intents("how much will it cost?", false).questions, [Question::Fees]);
        assert_eq!(intents("where is your office?", false).questions, [Question::Location]);
        assert_eq!(intents("what documents do I need", false).questions, [Question::Documents]);
        assert_eq!(intents("What are your opening hours?", false).questions, [Question::Hours]);
        assert_eq!(intents("do you speak Arabic?", false).questions, [Question::Languages(Some("Arabic"))]);
        assert_eq!(intents("why do you need my nationality?", false).questions, [Question::WhyNationality]);
        assert_eq!(intents("كم السعر؟", false).questions, [Question::Fees]);
        assert_eq!(intents("وين مكتبكم", false).questions, [Question::Location]);
        assert!(intents("I need a golden visa", false).questions.is_empty());
    }

    #[test]
    fn small_talk() {
        for text in ["hi", "Hello!", "thanks", "ok", "👍", "السلام عليكم", "good morning"] {
            assert!(intents(text, false).small_talk, "{text}");
        }
        assert!(!intents("hi I need a visa", false).small_talk);
    }
}
