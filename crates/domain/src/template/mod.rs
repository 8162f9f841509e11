//! Approved WhatsApp message templates: the operator's catalogue, the preview text a
//! template renders to, and [`TemplateSend`], what a queued reply asks to send
//! (`outbound_message_log.template`).
//!
//! Outside the customer's 24-hour service window WhatsApp delivers only templates Meta
//! approved beforehand, each known by a name and a language. A template's body numbers its
//! parameters `{{1}}` to `{{N}}`; the staff form shows one label per parameter.

mod body;
mod catalogue;
mod language;
mod parameter;

use serde::{Deserialize, Serialize};

pub use body::PlaceholderError;
pub use catalogue::{CatalogueError, TemplateCatalogue, TemplateRefused};
pub use language::{LanguageCode, LanguageError};
pub use parameter::{ParameterProblem, RenderError, check_parameter};

/// One approved template of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    name: String,
    language: LanguageCode,
    body: String,
    parameters: Vec<String>,
    segments: Vec<body::Segment>,
}

impl Template {
    /// The name approved at Meta.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The language of this translation.
    pub fn language(&self) -> &LanguageCode {
        &self.language
    }

    /// The body as approved, with its placeholders.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// One label per placeholder, `{{1}}` first, for the staff form.
    pub fn parameters(&self) -> &[String] {
        &self.parameters
    }

    /// The text the customer reads with `values` in the placeholders. Refuses a wrong number
    /// of values and values Meta would refuse (see [`check_parameter`]).
    pub fn render(&self, values: &[String]) -> Result<String, RenderError> {
        parameter::check_all(values, self.parameters.len())?;
        Ok(body::render(&self.segments, values))
    }

    /// This template filled with `values`: the preview text for the row's `body` and the
    /// [`TemplateSend`] for its `template` column.
    pub fn fill(&self, values: Vec<String>) -> Result<FilledTemplate, RenderError> {
        let body = self.render(&values)?;
        let send =
            TemplateSend { name: self.name.clone(), language: self.language.clone(), parameters: values };
        Ok(FilledTemplate { body, send })
    }
}

/// The template a queued reply is sent as: the JSON in `outbound_message_log.template`
/// (`{"name": …, "language": …, "parameters": […]}`; NULL there for a free-form text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSend {
    /// The template's name as approved at Meta.
    pub name: String,
    /// The translation to send.
    pub language: LanguageCode,
    /// The values of the body's placeholders, `{{1}}` first.
    pub parameters: Vec<String>,
}

/// A template filled in, ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledTemplate {
    /// What the customer reads: `outbound_message_log.body`, so the transcript shows it.
    pub body: String,
    /// What is sent: `outbound_message_log.template`.
    pub send: TemplateSend,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> TemplateCatalogue {
        TemplateCatalogue::parse(
            r#"
            [[template]]
            name = "follow_up_en"
            language = "en"
            body = "Hello {{1}}, following up on your {{2}} enquiry."
            parameters = ["customer name", "service"]
            "#,
        )
        .expect("valid")
    }

    fn values(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn render_substitutes_the_parameters_in_order() {
        let catalogue = catalogue();
        let template = catalogue.get("follow_up_en", &"en".parse().expect("code")).expect("listed");
        assert_eq!(
            template.render(&values(&["Fatima", "family visa"])),
            Ok("Hello Fatima, following up on your family visa enquiry.".to_owned())
        );
    }

    #[test]
    fn render_refuses_what_meta_would_refuse() {
        let catalogue = catalogue();
        let template = catalogue.iter().next().expect("one template");
        let refused = |given: &[&str]| template.render(&values(given)).expect_err("refused");
        assert_eq!(refused(&["Fatima"]), RenderError::Count { expected: 2, given: 1 });
        assert_eq!(refused(&["Fatima", "visa", "extra"]), RenderError::Count { expected: 2, given: 3 });
        let parameter = |position, problem| RenderError::Parameter { position, problem };
        assert_eq!(refused(&["Fatima", ""]), parameter(2, ParameterProblem::Empty));
        assert_eq!(refused(&[" ", "visa"]), parameter(1, ParameterProblem::Empty));
        assert_eq!(refused(&["Fatima\nAli", "visa"]), parameter(1, ParameterProblem::LineBreakOrTab));
        assert_eq!(refused(&["Fatima", "family\tvisa"]), parameter(2, ParameterProblem::LineBreakOrTab));
        assert_eq!(refused(&["Fatima", "family     visa"]), parameter(2, ParameterProblem::TooManySpaces));
        assert_eq!(
            refused(&["Fatima", "family     visa"]).to_string(),
            "parameter {{2}} has more than 4 spaces in a row",
            "the value itself is never quoted"
        );
    }

    #[test]
    fn fill_gives_the_preview_and_the_column_value() {
        let catalogue = catalogue();
        let template = catalogue.iter().next().expect("one template");
        let filled = template.fill(values(&["Omar", "work permit"])).expect("valid");
        assert_eq!(filled.body, "Hello Omar, following up on your work permit enquiry.");
        let column = serde_json::to_value(&filled.send).expect("json");
        assert_eq!(
            column,
            serde_json::json!({"name": "follow_up_en", "language": "en", "parameters": ["Omar", "work permit"]})
        );
        assert_eq!(serde_json::from_value::<TemplateSend>(column).expect("round trip"), filled.send);
        assert_eq!(catalogue.render(&filled.send), Ok(filled.body));
        assert!(template.fill(values(&["Omar"])).is_err());
    }

    #[test]
    fn a_template_send_is_read_strictly() {
        let read = |json: serde_json::Value| serde_json::from_value::<TemplateSend>(json);
        assert!(read(serde_json::json!({"name": "x", "language": "en", "parameters": []})).is_ok());
        assert!(read(serde_json::json!({"name": "x", "language": "en-US", "parameters": []})).is_err());
        assert!(read(serde_json::json!({"name": "x", "language": "en"})).is_err(), "parameters missing");
        assert!(
            read(serde_json::json!({"name": "x", "language": "en", "parameters": [], "header": 1})).is_err()
        );
        assert!(read(serde_json::json!("follow_up_en")).is_err());
    }
}
