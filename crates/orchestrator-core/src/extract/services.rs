//! The services of the business centre, recognised from the words customers use:
//! English, common misspellings and Arabic. More specific services come first, so
//! "golden visa" is not read as a plain visa.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::normalize::{Normalized, normalize, without_particles};

/// A service and the phrases that name it.
struct Service {
    name: &'static str,
    phrases: &'static [&'static str],
}

const SERVICES: &[Service] = &[
    Service {
        name: "Golden visa",
        phrases: &[
            "golden visa",
            "golden viza",
            "goldan visa",
            "gold visa",
            "golden residency",
            "10 year visa",
            "ten year visa",
            "الإقامة الذهبية",
            "الاقامة الذهبية",
            "تأشيرة ذهبية",
            "تاشيرة ذهبية",
            "فيزا ذهبية",
            "الفيزا الذهبية",
            "الذهبية",
            "اقامه ذهبيه",
            "ذهبيه",
            "تاشيره ذهبيه",
            "10 year",
            "10 years visa",
            "10-year visa",
            "ten years visa",
            "golden",
            "الاقامه الذهبيه",
            "الذهبيه",
            "جولدن",
            "غولدن",
        ],
    },
    Service {
        name: "Investor visa",
        phrases: &[
            "investor visa",
            "investor viza",
            "investment visa",
            "investr visa",
            "partner visa",
            "investor residency",
            "إقامة مستثمر",
            "اقامة مستثمر",
            "تأشيرة مستثمر",
            "فيزا مستثمر",
            "مستثمر",
            "investor",
            "شريك",
            "partner",
        ],
    },
    Service {
        name: "Family visa",
        phrases: &[
            "family visa",
            "family viza",
            "famly visa",
            "faimly visa",
            "familly visa",
            "family residence",
            "family sponsorship",
            "sponsor my wife",
            "sponsor my husband",
            "sponsor my family",
            "sponsor my kids",
            "sponsor my children",
            "dependent visa",
            "dependant visa",
            "wife visa",
            "spouse visa",
            "husband visa",
            "visa for my wife",
            "visa for my husband",
            "visa for my family",
            "visa for my kids",
            "visa for my children",
            "visa for my son",
            "visa for my daughter",
            "إقامة عائلية",
            "اقامة عائلية",
            "تأشيرة عائلية",
            "تاشيرة عائلية",
            "فيزا عائلية",
            "كفالة عائلية",
            "إقامة زوجة",
            "اقامة زوجة",
            "كفالة زوجتي",
            "كفالة الزوجة",
            "مراتي",
            "لمراتي",
            "زوجي",
            "لزوجي",
            "اطفالي",
            "لاطفالي",
            "اولادي",
            "ولادي",
            "عيالي",
            "العيال",
        ],
    },
    Service {
        name: "Employment visa",
        phrases: &[
            "employment visa",
            "employment viza",
            "employmnet visa",
            "employee visa",
            "work visa",
            "work viza",
            "job visa",
            "labour visa",
            "labor visa",
            "staff visa",
            "إقامة عمل",
            "اقامة عمل",
            "تأشيرة عمل",
            "تاشيرة عمل",
            "فيزا عمل",
            "visa 3amal",
            "fiza 3amal",
            "visa shoghl",
            "maid visa",
            "housemaid",
            "maid",
            "nanny",
            "driver visa",
            "domestic worker",
            "visa for my employee",
            "visa for my employees",
            "visa for my staff",
            "visa for my driver",
            "visa for my maid",
            "عمالة",
            "خادمة",
            "خدامة",
            "سائق",
            "عامل",
            "عمال",
            "مربية",
        ],
    },
    Service {
        name: "Visit visa",
        phrases: &[
            "visit visa",
            "visit viza",
            "visiting visa",
            "vist visa",
            "tourist visa",
            "tourist viza",
            "tourism visa",
            "travel visa",
            "transit visa",
            "تأشيرة زيارة",
            "تاشيرة زيارة",
            "فيزا زيارة",
            "زيارة",
            "سياحية",
            "tourist",
            "فيزا سياحه",
            "تأشيرة سياحية",
            "فيزا سياحية",
        ],
    },
    Service {
        name: "Freelance permit",
        phrases: &[
            "freelance permit",
            "freelance visa",
            "freelancer visa",
            "freelance license",
            "freelance licence",
            "freelancing",
            "freelancer",
            "freelance",
            "free lance",
            "فري لانس",
            "فريلانس",
            "عمل حر",
            "العمل الحر",
            "ترخيص عمل حر",
        ],
    },
    Service {
        name: "Work permit",
        phrases: &[
            "work permit",
            "work permt",
            "labour card",
            "labor card",
            "labour permit",
            "labor permit",
            "employment permit",
            "تصريح عمل",
            "بطاقة عمل",
        ],
    },
    Service {
        name: "Free zone business setup",
        phrases: &[
            "free zone",
            "freezone",
            "free-zone",
            "fz company",
            "fze",
            "fzco",
            "منطقة حرة",
            "المنطقة الحرة",
            "المناطق الحرة",
        ],
    },
    Service {
        name: "Mainland business setup",
        phrases: &["mainland", "main land", "ded license", "ded licence", "البر الرئيسي"],
    },
    Service {
        name: "Trade licence renewal",
        phrases: &[
            "licence renewal",
            "license renewal",
            "renew my licence",
            "renew my license",
            "renew licence",
            "renew license",
            "renew trade",
            "renew my trade",
            "renew the license",
            "renew the licence",
            "renew our license",
            "renew our licence",
            "renewal of licence",
            "renewal of license",
            "renewal of trade",
            "renewal of my license",
            "renewal of my licence",
            "licence expired",
            "license expired",
            "license is expiring",
            "licence is expiring",
            "تجديد الرخصة",
            "تجديد رخصة",
            "تجديد رخصتي",
            "تجديد الرخصة التجارية",
            "أجدد الرخصة",
            "اجدد الرخصه",
            "أجدد رخصتي",
        ],
    },
    Service {
        name: "New trade licence",
        phrases: &[
            "new licence",
            "new license",
            "new trade licence",
            "new trade license",
            "trade licence",
            "trade license",
            "business licence",
            "business license",
            "commercial license",
            "commercial licence",
            "open a license",
            "open a licence",
            "get a license",
            "get a licence",
            "رخصة تجارية",
            "رخصة تجارية جديدة",
            "رخصة جديدة",
            "الرخصة التجارية",
            "أفتح رخصة",
            "افتح رخصه",
            "فتح رخصة",
            "استخراج رخصة",
            "رخصة",
            "license",
            "licence",
        ],
    },
    Service {
        name: "Business setup",
        phrases: &[
            "business setup",
            "business set up",
            "busines setup",
            "bussiness setup",
            "business setp",
            "company setup",
            "company set up",
            "company formation",
            "company registration",
            "register a company",
            "register my company",
            "open a company",
            "start a company",
            "start a business",
            "open a business",
            "new company",
            "new business",
            "setup a company",
            "set up a company",
            "establish a company",
            "تأسيس شركة",
            "تاسيس شركة",
            "فتح شركة",
            "تأسيس أعمال",
            "تأسيس الأعمال",
            "تسجيل شركة",
            "اسس شركة",
            "أسس شركة",
            "اسس شركه",
            "شركة",
            "شركة جديدة",
            "افتح شركة",
            "أفتح شركة",
            "llc",
            "trading company",
            "open company",
            "open my company",
            "my own company",
            "my own business",
            "start business",
            "setup company",
            "company set-up",
            "set up my company",
            "set up a business",
        ],
    },
    Service {
        name: "Emirates ID",
        phrases: &[
            "emirates id",
            "emirates i d",
            "emirates identity",
            "emirats id",
            "emirate id",
            "emirtes id",
            "eid card",
            "eid",
            "eida",
            "id card",
            "emirates id renewal",
            "الهوية الإماراتية",
            "الهوية الاماراتية",
            "بطاقة الهوية",
            "الهوية",
            "هوية",
            "الهويه",
            "بطاقه الهويه",
            "هويتي",
            "الهويه الاماراتيه",
        ],
    },
    Service {
        name: "Document attestation",
        phrases: &[
            "attestation",
            "attestaion",
            "atestation",
            "attastation",
            "attest",
            "attested",
            "attest my",
            "get attested",
            "legalization",
            "legalisation",
            "certificate verification",
            "degree verification",
            "تصديق",
            "توثيق",
            "تصديق الشهادات",
            "توثيق الشهادات",
            "معادلة الشهادة",
            "معادلة شهادة",
            "certificate attestation",
            "degree attestation",
            "marriage certificate",
            "birth certificate",
        ],
    },
    Service {
        name: "PRO services",
        phrases: &[
            "pro service",
            "pro services",
            "p.r.o",
            "public relations officer",
            "government services",
            "government paperwork",
            "typing services",
            "typing center",
            "typing centre",
            "mandoob",
            "mandoub",
            "خدمات المندوب",
            "مندوب",
            "معقب",
            "تعقيب",
            "pro",
            "خدمات المعقب",
            "تخليص معاملات",
            "معاملات حكومية",
        ],
    },
    Service {
        name: "Family visa",
        phrases: &[
            "for my wife",
            "for my husband",
            "for my family",
            "for my kids",
            "for my children",
            "for my son",
            "for my daughter",
            "for my parents",
            "for my mother",
            "for my father",
            "for my mom",
            "for my dad",
            "sponsor my",
            "sponsoring my",
            "dependents",
            "dependants",
            "لم شمل",
            "كفالة الأسرة",
            "كفالة اسرتي",
            "كفالة عائلتي",
            "لزوجتي",
            "لزوجي",
            "لأولادي",
            "لاولادي",
            "لعيالي",
            "لأمي",
            "لامي",
            "لأبوي",
            "للوالدين",
            "لعائلتي",
            "زوجتي",
            "biwi",
            "family",
        ],
    },
    Service {
        name: "Residence visa",
        phrases: &[
            "residence visa",
            "residency visa",
            "resident visa",
            "residency",
            "residence permit",
            "iqama",
            "visa renewal",
            "renew my visa",
            "renew visa",
            "renew the visa",
            "visa stamping",
            "إقامة",
            "اقامة",
            "الإقامة",
            "تجديد الإقامة",
            "تجديد الاقامة",
            "تجديد اقامتي",
            "تجديد التأشيرة",
        ],
    },
    Service {
        name: "Visa services",
        phrases: &[
            "visa",
            "viza",
            "visaa",
            "vissa",
            "visa cancellation",
            "cancel my visa",
            "تأشيرة",
            "تاشيرة",
            "فيزا",
            "الفيزا",
            "التأشيرة",
            "الغاء الاقامة",
            "إلغاء الإقامة",
        ],
    },
];

/// Misspellings customers often make, and the word they meant.
const SPELLINGS: &[(&str, &str)] = &[
    ("viza", "visa"),
    ("visaa", "visa"),
    ("vissa", "visa"),
    ("visas", "visa"),
    ("famly", "family"),
    ("faimly", "family"),
    ("familly", "family"),
    ("famliy", "family"),
    ("goldan", "golden"),
    ("gloden", "golden"),
    ("emirats", "emirates"),
    ("emirtes", "emirates"),
    ("emarates", "emirates"),
    ("investr", "investor"),
    ("invester", "investor"),
    ("permt", "permit"),
    ("permits", "permit"),
    ("employmnet", "employment"),
    ("employement", "employment"),
    ("vist", "visit"),
    ("visiting", "visit"),
    ("busines", "business"),
    ("bussiness", "business"),
    ("buisness", "business"),
    ("licence", "license"),
    ("lisence", "license"),
    ("licens", "license"),
    ("atestation", "attestation"),
    ("attestaion", "attestation"),
    ("attastation", "attestation"),
    ("freelancer", "freelance"),
    ("freezone", "free zone"),
];

/// Every service with its phrases normalised, built once.
static NORMALIZED: LazyLock<Vec<(&'static str, Vec<String>)>> = LazyLock::new(|| {
    SERVICES.iter().map(|s| (s.name, s.phrases.iter().map(|p| without_particles(p)).collect())).collect()
});

/// Every word of every service phrase, built once.
static SERVICE_WORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    NORMALIZED.iter().flat_map(|(_, phrases)| phrases).flat_map(|p| p.split(' ')).map(str::to_owned).collect()
});

/// Things customers ask for that are not among the services, taken out before matching
/// so their words ("licence" in "driving licence") do not name a service.
const OUTSIDE: &[&str] = &[
    "eid mubarak",
    "driving licence",
    "driving license",
    "driver license",
    "driver licence",
    "driving lisence",
    "رخصة قيادة",
    "رخصة سواقة",
    "رخصه القياده",
];

/// Outside phrases normalised, built once.
static OUTSIDE_NORMALIZED: LazyLock<Vec<String>> =
    LazyLock::new(|| OUTSIDE.iter().map(|p| normalize(p)).collect());

/// Requests outside the list that win over the general words beside them ("corporate
/// tax registration for my LLC" is not a business setup).
const OUTSIDE_REQUESTS: &[&str] =
    &["vat", "corporate tax", "tax registration", "bank account", "ضريبه", "ضريبة", "حساب بنكي"];

/// Words that mark a renewal ("renew my trade licence", "تجديد الرخصة").
const RENEWAL: &[&str] = &[
    "renew",
    "renewal",
    "renewing",
    "expired",
    "expiring",
    "ajadid",
    "ajaddid",
    "tajdeed",
    "tajdid",
    "تجديد",
    "اجدد",
    "جدد",
];

/// Words of the services worth correcting when misspelt ("freelnce", "attestaton").
const KEY_WORDS: &[&str] = &[
    "family",
    "golden",
    "investor",
    "employment",
    "freelance",
    "attestation",
    "business",
    "license",
    "licence",
    "renewal",
    "residence",
    "residency",
    "emirates",
    "tourist",
    "mainland",
    "sponsor",
    "company",
    "permit",
    "visiting",
    "formation",
    "setup",
];

/// The service `text` names, if any: the earliest one named, a specific service before a
/// general one ("visa", "business setup"), a longer phrase before one inside it.
pub(crate) fn service(text: &Normalized) -> Option<&'static str> {
    let mut corrected = format!(" {} ", text.words().map(corrected_word).collect::<Vec<_>>().join(" "));
    for outside in OUTSIDE_NORMALIZED.iter() {
        corrected = corrected.replace(&format!(" {outside} "), " , ");
    }
    let corrected = Normalized::new(&without_particles(&corrected));
    if OUTSIDE_REQUESTS.iter().any(|p| corrected.contains_phrase(p)) {
        return None;
    }
    // (entry, start, end) of the earliest match of each entry.
    let mut found: Vec<(usize, usize, usize)> = Vec::new();
    for (i, (_, phrases)) in NORMALIZED.iter().enumerate() {
        let earliest =
            phrases.iter().filter_map(|p| corrected.find_normalized(p).map(|s| (s, s + p.len()))).min();
        if let Some((start, end)) = earliest {
            found.push((i, start, end));
        }
    }
    let inside_another = |&(i, s, e): &(usize, usize, usize)| {
        found.iter().any(|&(j, s2, e2)| j != i && s2 <= s && e <= e2 && e2 - s2 > e - s)
    };
    let kept: Vec<(usize, usize, usize)> = found.iter().copied().filter(|f| !inside_another(f)).collect();
    let specific: Vec<(usize, usize, usize)> =
        kept.iter().copied().filter(|(i, _, _)| !is_generic(*i)).collect();
    let pool = if specific.is_empty() { &kept } else { &specific };
    let (entry, _, _) = pool.iter().min_by_key(|(i, s, _)| (*s, *i))?;
    let name = NORMALIZED[*entry].0;
    let renewal = RENEWAL.iter().any(|w| corrected.contains_phrase(w));
    Some(if name == "New trade licence" && renewal { "Trade licence renewal" } else { name })
}

/// Whether the entry at `i` only names a service in general: plain visa or business
/// setup.
fn is_generic(i: usize) -> bool {
    let name = NORMALIZED[i].0;
    ["Visa services", "Business setup"].contains(&name)
}

/// A word as meant: known misspellings and small typos of service words corrected.
fn corrected_word(word: &str) -> &str {
    if let Some((_, right)) = SPELLINGS.iter().find(|(wrong, _)| *wrong == word) {
        return right;
    }
    let len = word.chars().count();
    if len < 6 || !word.is_ascii() || SERVICE_WORDS.contains(word) {
        return word;
    }
    let limit = if len >= 8 { 2 } else { 1 };
    KEY_WORDS
        .iter()
        .filter(|k| k.chars().next() == word.chars().next())
        .map(|k| (strsim::osa_distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map_or(word, |(_, k)| k)
}

/// Phrases after which customers name what they want.
const WANT_CUES: &[&str] = &[
    "i need",
    "i want",
    "i would like",
    "i'd like",
    "i am looking for",
    "i'm looking for",
    "im looking for",
    "looking for",
    "need help with",
    "help with",
    "help me with",
    "interested in",
    "need",
    "want",
    "inquiry about",
    "enquiry about",
    "asking about",
    "regarding",
    "about",
    "for",
    "i need to",
    "mujhe",
    "chahiye",
    "اريد",
    "أريد",
    "احتاج",
    "أحتاج",
    "ابغى",
    "أبغى",
    "ابغي",
    "ابي",
    "أبي",
    "ودي",
    "بدي",
    "عايز",
    "عاوز",
    "محتاج",
    "ممكن",
    "بخصوص",
    "عن",
];

/// Words that make a bare answer to the service question a request for something.
const BUSINESS_WORDS: &[&str] = &[
    "vat",
    "tax",
    "corporate",
    "bank",
    "account",
    "driving",
    "insurance",
    "registration",
    "register",
    "trademark",
    "translation",
    "certificate",
    "medical",
    "health",
    "typing",
    "license",
    "licence",
    "permit",
    "company",
    "business",
    "contract",
    "tenancy",
    "ejari",
    "cancellation",
    "cancel",
    "audit",
    "accounting",
    "bookkeeping",
    "loan",
    "mortgage",
    "passport",
    "police",
    "clearance",
    "court",
    "ضريبه",
    "ضريبة",
    "حساب",
    "بنكي",
    "قياده",
    "تامين",
    "تسجيل",
    "ترجمه",
    "شهاده",
    "عقد",
    "ايجار",
    "محاسبه",
    "تدقيق",
    "قرض",
];

/// Longest "Other:" request kept.
const MAX_OTHER_CHARS: usize = 80;

/// What the customer asks for when it is none of the services ("Other: VAT registration
/// for my company"), if the text reads as a request. With `bare_allowed` (the service
/// question was just asked), a short answer naming something businesslike counts too.
pub(crate) fn other(text: &str, bare_allowed: bool) -> Option<String> {
    for clause in text.split(['.', ',', '!', '?', ';', '\n', '،', '؟']) {
        let pairs: Vec<(&str, String)> = clause
            .split_whitespace()
            .map(|w| (w, normalize(w)))
            .filter(|(_, n)| !n.is_empty() && !n.contains(' '))
            .collect();
        let words: Vec<&str> = pairs.iter().map(|(_, n)| n.as_str()).collect();
        let cue_end = WANT_CUES.iter().find_map(|cue| {
            let cue = normalize(cue);
            let cue: Vec<&str> = cue.split(' ').collect();
            (0..words.len()).find(|&i| words[i..].starts_with(&cue)).map(|i| i + cue.len())
        });
        let business = words.iter().any(|w| BUSINESS_WORDS.contains(w));
        let start = match cue_end {
            Some(end) if business || words.len().saturating_sub(end) >= 2 => end,
            _ if bare_allowed && business && words.len() <= 8 => 0,
            _ => continue,
        };
        let skip = words[start..]
            .iter()
            .take_while(|w| ["a", "an", "the", "some", "to", "get", "do", "make"].contains(w))
            .count();
        let rest: Vec<&str> = pairs[start + skip..].iter().map(|(w, _)| *w).collect();
        if !rest.iter().any(|w| w.chars().any(char::is_alphabetic)) {
            continue;
        }
        let words: String = rest.join(" ").chars().take(MAX_OTHER_CHARS).collect();
        return Some(format!("Other: {}", words.trim()));
    }
    None
}

/// Whether `word` (normalised) is part of some service phrase; such words are never names.
pub(crate) fn is_service_word(word: &str) -> bool {
    SERVICE_WORDS.contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Option<&'static str> {
        service(&Normalized::new(text))
    }

    #[test]
    fn specific_services_win_over_plain_visa() {
        assert_eq!(of("I need a GOLDEN visa please"), Some("Golden visa"));
        assert_eq!(of("Hi, I'm Ahmed from Pakistan and I need a family visa"), Some("Family visa"));
        assert_eq!(of("I want a visa"), Some("Visa services"));
    }

    #[test]
    fn misspellings_and_arabic_are_understood() {
        assert_eq!(of("famly viza"), Some("Family visa"));
        assert_eq!(of("emirats id renewal"), Some("Emirates ID"));
        assert_eq!(of("company formation in a freezone"), Some("Free zone business setup"));
        assert_eq!(of("أريد تأسيس شركة"), Some("Business setup"));
        assert_eq!(of("الإقامة الذهبية"), Some("Golden visa"));
        assert_eq!(of("أحتاج تصريح عمل"), Some("Work permit"));
    }

    #[test]
    fn every_required_service_is_covered() {
        let cases = [
            ("family visa", "Family visa"),
            ("employment visa", "Employment visa"),
            ("golden visa", "Golden visa"),
            ("investor visa", "Investor visa"),
            ("visit visa", "Visit visa"),
            ("work permit", "Work permit"),
            ("freelance permit", "Freelance permit"),
            ("mainland company", "Mainland business setup"),
            ("free zone company", "Free zone business setup"),
            ("business setup", "Business setup"),
            ("trade licence renewal", "Trade licence renewal"),
            ("emirates id", "Emirates ID"),
            ("document attestation", "Document attestation"),
            ("pro services", "PRO services"),
        ];
        for (text, expected) in cases {
            assert_eq!(of(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn a_new_licence_is_not_a_renewal() {
        assert_eq!(of("أبغى أفتح رخصة تجارية"), Some("New trade licence"));
        assert_eq!(of("I need a new trade license"), Some("New trade licence"));
        assert_eq!(of("تجديد الرخصة التجارية"), Some("Trade licence renewal"));
        assert_eq!(of("renew my trade licence"), Some("Trade licence renewal"));
        assert_eq!(of("I need a 10 year visa"), Some("Golden visa"));
        assert_eq!(of("EID renewal"), Some("Emirates ID"));
        assert_eq!(of("PRO"), Some("PRO services"));
        assert_eq!(of("iqama renewal"), Some("Residence visa"));
        assert_eq!(of("Eid Mubarak!"), None);
        assert_eq!(of("I need a driving licence"), None);
    }

    #[test]
    fn requests_outside_the_list_are_kept_in_the_customers_words() {
        assert_eq!(
            other("I need VAT registration for my company", false).as_deref(),
            Some("Other: VAT registration for my company")
        );
        assert_eq!(other("VAT registration", true).as_deref(), Some("Other: VAT registration"));
        assert_eq!(other("ضريبة القيمة المضافة", true).as_deref(), Some("Other: ضريبة القيمة المضافة"));
        assert_eq!(other("hmm", true), None);
        assert_eq!(other("hello there", true), None);
    }

    #[test]
    fn words_inside_other_words_do_not_match() {
        assert_eq!(of("my provisional answer"), None);
        assert_eq!(of("hello there"), None);
    }
}
