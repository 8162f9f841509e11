//! A template body and its numbered placeholders `{{1}}`..`{{N}}`.

/// A piece of a template body: literal text, or the n-th parameter (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Text shown as it is.
    Text(String),
    /// Replaced by the n-th parameter.
    Parameter(usize),
}

/// What is wrong with the placeholders of a template body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// A `{{` without its `}}`.
    #[error("a `{{{{` is never closed with `}}}}`")]
    Unclosed,
    /// `{{name}}`, `{{ 1 }}`, `{{0}}`: only numbered placeholders are supported.
    #[error(
        "`{{{{{found}}}}}` is not a numbered placeholder such as {{{{1}}}} (named ones are not supported)"
    )]
    NotNumbered {
        /// What stood between the braces.
        found: String,
    },
    /// The placeholders are not exactly `{{1}}` to `{{N}}`, N being the number of labels.
    #[error(
        "the body has {} but {labels} parameter label(s): it must use each of {} and no other",
        list(found),
        expected(*labels)
    )]
    Mismatch {
        /// The distinct placeholder numbers found, in order.
        found: Vec<usize>,
        /// How many parameter labels the template has.
        labels: usize,
    },
}

/// `{{1}}, {{3}}`, or "no placeholder".
fn list(numbers: &[usize]) -> String {
    if numbers.is_empty() {
        return "no placeholder".to_owned();
    }
    numbers.iter().map(|n| format!("{{{{{n}}}}}")).collect::<Vec<_>>().join(", ")
}

/// `{{1}} to {{N}}`.
fn expected(labels: usize) -> String {
    match labels {
        0 => "no placeholder".to_owned(),
        1 => "{{1}}".to_owned(),
        n => format!("{{{{1}}}} to {{{{{n}}}}}"),
    }
}

/// Splits `body` into text and placeholders, checking that they number exactly `1..=labels`
/// (each at least once; a placeholder may repeat).
pub(super) fn parse(body: &str, labels: usize) -> Result<Vec<Segment>, PlaceholderError> {
    let mut segments = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(PlaceholderError::Unclosed)?;
        let inner = &after[..close];
        let number = inner
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0 && n.to_string() == inner)
            .ok_or_else(|| PlaceholderError::NotNumbered { found: inner.to_owned() })?;
        if open > 0 {
            segments.push(Segment::Text(rest[..open].to_owned()));
        }
        segments.push(Segment::Parameter(number));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest.to_owned()));
    }
    let mut found: Vec<usize> = segments
        .iter()
        .filter_map(|s| match s {
            Segment::Parameter(n) => Some(*n),
            Segment::Text(_) => None,
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    if !found.iter().copied().eq(1..=labels) {
        return Err(PlaceholderError::Mismatch { found, labels });
    }
    Ok(segments)
}

/// The body with each placeholder replaced by its value (`values` were checked against the
/// placeholders; a value is inserted as it is and never read as a placeholder itself).
pub(super) fn render(segments: &[Segment], values: &[String]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Text(t) => text.push_str(t),
            Segment::Parameter(n) => text.push_str(values.get(n - 1).map_or("", String::as_str)),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_must_number_one_to_n() {
        assert!(parse("Hello {{1}}, your {{2}} enquiry", 2).is_ok());
        assert!(parse("{{2}} then {{1}}, and {{1}} again", 2).is_ok(), "any order, repeats allowed");
        assert!(parse("No parameters at all", 0).is_ok());
        let mismatch = |found: Vec<usize>, labels| Err(PlaceholderError::Mismatch { found, labels });
        assert_eq!(parse("Hello {{1}}", 2), mismatch(vec![1], 2));
        assert_eq!(parse("Hello {{1}} {{2}}", 1), mismatch(vec![1, 2], 1));
        assert_eq!(parse("Hello {{1}} {{3}}", 2), mismatch(vec![1, 3], 2));
        assert_eq!(parse("Hello", 1), mismatch(vec![], 1));
        assert_eq!(parse("Hello {{1", 1), Err(PlaceholderError::Unclosed));
        for inner in ["name", " 1 ", "0", "01", "+1", ""] {
            let body = format!("Hello {{{{{inner}}}}}");
            assert_eq!(
                parse(&body, 1),
                Err(PlaceholderError::NotNumbered { found: inner.to_owned() }),
                "{body}"
            );
        }
    }

    #[test]
    fn mismatches_say_what_was_found_and_what_is_needed() {
        let error = parse("Hello {{1}} {{3}}", 2).expect_err("mismatch");
        assert_eq!(
            error.to_string(),
            "the body has {{1}}, {{3}} but 2 parameter label(s): it must use each of {{1}} to {{2}} and no other"
        );
    }

    #[test]
    fn values_are_inserted_once_and_never_expanded() {
        let segments = parse("{{1}} and {{2}}, {{1}}.", 2).expect("valid");
        let values = ["{{2}}".to_owned(), "B".to_owned()];
        assert_eq!(render(&segments, &values), "{{2}} and B, {{2}}.");
    }
}
