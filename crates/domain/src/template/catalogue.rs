//! The catalogue of approved templates, read from the operator's TOML text.

use serde::Deserialize;

use super::{LanguageCode, LanguageError, PlaceholderError, RenderError, Template, TemplateSend, body};

/// The file's shape: `[[template]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    template: Vec<Entry>,
}

/// One `[[template]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    language: String,
    body: String,
    #[serde(default)]
    parameters: Vec<String>,
}

/// Why a catalogue could not be read. Names the template at fault (by its position in the
/// file when it has no usable name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// Not TOML, or not `[[template]]` tables of `name`, `language`, `body`, `parameters`.
    #[error("not a template catalogue: {0}")]
    Toml(toml::de::Error),
    /// A template without a name.
    #[error("[[template]] number {position} has an empty name")]
    EmptyName {
        /// Its position in the file (from 1).
        position: usize,
    },
    /// A name with whitespace in it, which no approved template has.
    #[error("[[template]] number {position}: {name:?} is not a template name (it has whitespace)")]
    BadName {
        /// Its position in the file (from 1).
        position: usize,
        /// The name.
        name: String,
    },
    /// A language that is not a Meta language code.
    #[error("template {name}: {error}")]
    Language {
        /// The template.
        name: String,
        /// What is wrong with the code.
        error: LanguageError,
    },
    /// The same name and language twice.
    #[error("template {name} ({language}) is listed twice")]
    Duplicate {
        /// The name.
        name: String,
        /// The language.
        language: LanguageCode,
    },
    /// A template with an empty body.
    #[error("template {name} ({language}) has an empty body")]
    EmptyBody {
        /// The name.
        name: String,
        /// The language.
        language: LanguageCode,
    },
    /// A parameter label that is empty.
    #[error("template {name} ({language}): parameter label {position} is empty")]
    EmptyLabel {
        /// The name.
        name: String,
        /// The language.
        language: LanguageCode,
        /// The label's position (from 1).
        position: usize,
    },
    /// The body's placeholders do not match the labels.
    #[error("template {name} ({language}): {error}")]
    Placeholders {
        /// The name.
        name: String,
        /// The language.
        language: LanguageCode,
        /// What is wrong.
        error: PlaceholderError,
    },
}

/// Why a queued [`TemplateSend`] cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateRefused {
    /// No template of that name and language is configured (never was, or was removed).
    #[error("template {name} ({language}) is not in the approved template catalogue")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The language asked for.
        language: LanguageCode,
    },
    /// The parameters do not fit the template.
    #[error("template {name} ({language}): {error}")]
    Parameters {
        /// The name.
        name: String,
        /// The language.
        language: LanguageCode,
        /// What is wrong with them.
        error: RenderError,
    },
}

/// The approved templates, in the order of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateCatalogue {
    templates: Vec<Template>,
}

impl TemplateCatalogue {
    /// Reads a catalogue from TOML text (`[[template]]` tables with `name`, `language`,
    /// `body` and `parameters`; an empty text is an empty catalogue). Refuses empty or
    /// spaced names, codes that are not Meta language codes, a name and language listed
    /// twice, empty bodies and labels, and bodies whose placeholders are not exactly
    /// `{{1}}` to `{{N}}` for N labels.
    pub fn parse(text: &str) -> Result<Self, CatalogueError> {
        let file: File = toml::from_str(text).map_err(CatalogueError::Toml)?;
        let mut templates: Vec<Template> = Vec::with_capacity(file.template.len());
        for (index, entry) in file.template.into_iter().enumerate() {
            let template = checked(index + 1, entry)?;
            if templates.iter().any(|t| t.name == template.name && t.language == template.language) {
                return Err(CatalogueError::Duplicate { name: template.name, language: template.language });
            }
            templates.push(template);
        }
        Ok(Self { templates })
    }

    /// The template `name` in `language`, if configured.
    pub fn get(&self, name: &str, language: &LanguageCode) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name && t.language == *language)
    }

    /// Every template, in the order of the file.
    pub fn iter(&self) -> std::slice::Iter<'_, Template> {
        self.templates.iter()
    }

    /// How many templates there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The text the customer reads for `send`: refused when its template is not in the
    /// catalogue or its parameters do not fit.
    pub fn render(&self, send: &TemplateSend) -> Result<String, TemplateRefused> {
        let template = self.get(&send.name, &send.language).ok_or_else(|| TemplateRefused::Unknown {
            name: send.name.clone(),
            language: send.language.clone(),
        })?;
        template.render(&send.parameters).map_err(|error| TemplateRefused::Parameters {
            name: send.name.clone(),
            language: send.language.clone(),
            error,
        })
    }
}

impl<'a> IntoIterator for &'a TemplateCatalogue {
    type Item = &'a Template;
    type IntoIter = std::slice::Iter<'a, Template>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The template of the `position`-th entry, checked.
fn checked(position: usize, entry: Entry) -> Result<Template, CatalogueError> {
    let Entry { name, language, body, parameters } = entry;
    if name.trim().is_empty() {
        return Err(CatalogueError::EmptyName { position });
    }
    if name.contains(char::is_whitespace) {
        return Err(CatalogueError::BadName { position, name });
    }
    let language = match LanguageCode::try_from(language) {
        Ok(language) => language,
        Err(error) => return Err(CatalogueError::Language { name, error }),
    };
    if body.trim().is_empty() {
        return Err(CatalogueError::EmptyBody { name, language });
    }
    if let Some(index) = parameters.iter().position(|label| label.trim().is_empty()) {
        return Err(CatalogueError::EmptyLabel { name, language, position: index + 1 });
    }
    let segments = match body::parse(&body, parameters.len()) {
        Ok(segments) => segments,
        Err(error) => return Err(CatalogueError::Placeholders { name, language, error }),
    };
    Ok(Template { name, language, body, parameters, segments })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `[[template]]` table (the values hold no quote or backslash).
    fn one(name: &str, language: &str, body: &str, parameters: &str) -> String {
        format!(
            "[[template]]\nname = \"{name}\"\nlanguage = \"{language}\"\nbody = \"{body}\"\nparameters = {parameters}\n"
        )
    }

    #[test]
    fn the_example_catalogue_parses_with_an_english_and_an_arabic_template() {
        let text = include_str!("../../../../deploy/whatsapp-templates.example.toml");
        let catalogue = TemplateCatalogue::parse(text).expect("example catalogue");
        let languages: Vec<&str> = catalogue.iter().map(|t| t.language().as_str()).collect();
        assert!(languages.contains(&"en") && languages.contains(&"ar"), "{languages:?}");
        for template in &catalogue {
            assert_eq!(template.parameters().len(), 2, "{}", template.name());
        }
    }

    #[test]
    fn templates_are_found_by_name_and_language() {
        let text = [
            one("follow_up", "en", "Hello {{1}}", r#"["name"]"#),
            one("follow_up", "ar", "مرحباً {{1}}", r#"["name"]"#),
            one("reminder", "en_US", "See you soon.", "[]"),
        ]
        .concat();
        let catalogue = TemplateCatalogue::parse(&text).expect("valid");
        assert_eq!(catalogue.len(), 3);
        let code = |c: &str| c.parse::<LanguageCode>().expect("code");
        assert_eq!(catalogue.get("follow_up", &code("ar")).map(Template::body), Some("مرحباً {{1}}"));
        assert_eq!(catalogue.get("follow_up", &code("en")).map(Template::body), Some("Hello {{1}}"));
        assert!(catalogue.get("follow_up", &code("en_US")).is_none(), "languages are not guessed");
        assert!(catalogue.get("reminder", &code("en_US")).is_some_and(|t| t.parameters().is_empty()));
        assert!(TemplateCatalogue::parse("").expect("empty").is_empty());
    }

    #[test]
    fn bad_catalogues_are_refused_naming_the_template() {
        let refused = |text: &str| TemplateCatalogue::parse(text).expect_err("refused");
        let en: LanguageCode = "en".parse().expect("code");

        let twice = [one("a", "en", "Hi", "[]"), one("a", "ar", "Hi", "[]"), one("a", "en", "Hey", "[]")];
        assert_eq!(
            refused(&twice.concat()),
            CatalogueError::Duplicate { name: "a".into(), language: en.clone() }
        );
        assert_eq!(refused(&one("", "en", "Hi", "[]")), CatalogueError::EmptyName { position: 1 });
        assert_eq!(
            refused(&[one("a", "en", "Hi", "[]"), one("  ", "en", "Hi", "[]")].concat()),
            CatalogueError::EmptyName { position: 2 }
        );
        assert_eq!(
            refused(&one("follow up", "en", "Hi", "[]")),
            CatalogueError::BadName { position: 1, name: "follow up".into() }
        );
        assert!(matches!(
            refused(&one("a", "en-US", "Hi", "[]")),
            CatalogueError::Language { name, .. } if name == "a"
        ));
        assert!(matches!(refused(&one("a", "", "Hi", "[]")), CatalogueError::Language { .. }));
        assert_eq!(
            refused(&one("a", "en", " ", "[]")),
            CatalogueError::EmptyBody { name: "a".into(), language: en.clone() }
        );
        assert_eq!(
            refused(&one("a", "en", "Hi {{1}} {{2}}", r#"["name", " "]"#)),
            CatalogueError::EmptyLabel { name: "a".into(), language: en.clone(), position: 2 }
        );
        assert_eq!(
            refused(&one("a", "en", "Hi {{1}} {{3}}", r#"["name", "service"]"#)),
            CatalogueError::Placeholders {
                name: "a".into(),
                language: en.clone(),
                error: PlaceholderError::Mismatch { found: vec![1, 3], labels: 2 },
            }
        );
        assert!(matches!(
            refused(&one("a", "en", "Hi {{1}}", "[]")),
            CatalogueError::Placeholders { error: PlaceholderError::Mismatch { labels: 0, .. }, .. }
        ));
        assert!(matches!(
            refused(&one("a", "en", "Hi {{customer}}", r#"["name"]"#)),
            CatalogueError::Placeholders { error: PlaceholderError::NotNumbered { .. }, .. }
        ));
    }

    #[test]
    fn files_of_another_shape_are_refused() {
        for text in [
            "[[template]]\nname = \"a\"\nlanguage = \"en\"\n",
            "[[template]]\nname = \"a\"\nlanguage = \"en\"\nbody = \"Hi\"\ncategory = \"UTILITY\"\n",
            "[[templates]]\nname = \"a\"\n",
            "not toml at all",
        ] {
            assert!(matches!(TemplateCatalogue::parse(text), Err(CatalogueError::Toml(_))), "{text}");
        }
    }

    #[test]
    fn refusals_of_a_queued_send_say_why_in_plain_words() {
        let catalogue = TemplateCatalogue::parse(&one("a", "en", "Hi {{1}}", r#"["name"]"#)).expect("valid");
        let send = |name: &str, language: &str, parameters: &[&str]| TemplateSend {
            name: name.to_owned(),
            language: language.parse().expect("code"),
            parameters: parameters.iter().map(|p| (*p).to_owned()).collect(),
        };
        assert_eq!(catalogue.render(&send("a", "en", &["Noura"])), Ok("Hi Noura".to_owned()));
        assert_eq!(
            catalogue.render(&send("a", "ar", &["Noura"])).expect_err("unknown").to_string(),
            "template a (ar) is not in the approved template catalogue"
        );
        assert_eq!(
            catalogue.render(&send("a", "en", &["two\nlines"])).expect_err("refused").to_string(),
            "template a (en): parameter {{1}} has a line break or a tab"
        );
    }
}
