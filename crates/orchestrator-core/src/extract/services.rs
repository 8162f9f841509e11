//! The services of the business centre, recognised from the words customers use:
//! English, common misspellings and Arabic. More specific services come first, so
//! "golden visa" is not read as a plain visa.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::normalize::{Normalized, normalize};

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
            "visa for my parents",
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
            "lisence renewal",
            "renew my licence",
            "renew my license",
            "renew licence",
            "renew license",
            "renew trade",
            "renewal of licence",
            "renewal of license",
            "renewal of trade",
            "trade licence",
            "trade license",
            "trade lisence",
            "تجديد الرخصة",
            "تجديد رخصة",
            "الرخصة التجارية",
            "رخصة تجارية",
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
            "id card",
            "الهوية الإماراتية",
            "الهوية الاماراتية",
            "بطاقة الهوية",
            "الهوية",
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
            "legalization",
            "legalisation",
            "certificate verification",
            "degree verification",
            "تصديق",
            "توثيق",
            "تصديق الشهادات",
            "توثيق الشهادات",
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
        ],
    },
    Service {
        name: "Visa services",
        phrases: &[
            "visa",
            "viza",
            "visaa",
            "vissa",
            "residence permit",
            "residency",
            "residence visa",
            "visa renewal",
            "visa cancellation",
            "تأشيرة",
            "تاشيرة",
            "فيزا",
            "إقامة",
            "اقامة",
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
    SERVICES.iter().map(|s| (s.name, s.phrases.iter().map(|p| normalize(p)).collect())).collect()
});

/// Every word of every service phrase, built once.
static SERVICE_WORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    NORMALIZED.iter().flat_map(|(_, phrases)| phrases).flat_map(|p| p.split(' ')).map(str::to_owned).collect()
});

/// The service `text` names, if any.
pub(crate) fn service(text: &Normalized) -> Option<&'static str> {
    let corrected = Normalized::new(
        &text
            .words()
            .map(|w| SPELLINGS.iter().find(|(wrong, _)| *wrong == w).map_or(w, |(_, right)| right))
            .collect::<Vec<_>>()
            .join(" "),
    );
    NORMALIZED
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| corrected.contains_normalized(p)))
        .map(|(n, _)| *n)
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
    fn words_inside_other_words_do_not_match() {
        assert_eq!(of("my provisional answer"), None);
        assert_eq!(of("hello there"), None);
    }
}
