//! The values a template's placeholders are filled with, and what Meta refuses in them.

/// Most spaces in a row Meta accepts in a parameter.
const MAX_SPACES_IN_A_ROW: usize = 4;

/// Why a parameter value cannot be sent: Meta refuses line breaks, tabs and more than four
/// spaces in a row (error 132018), and an empty one would read as a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParameterProblem {
    /// Empty or only whitespace.
    #[error("is empty")]
    Empty,
    /// Has a line break or a tab.
    #[error("has a line break or a tab")]
    LineBreakOrTab,
    /// Has more than four spaces in a row.
    #[error("has more than {MAX_SPACES_IN_A_ROW} spaces in a row")]
    TooManySpaces,
}

/// Whether `value` can fill a placeholder.
pub fn check_parameter(value: &str) -> Result<(), ParameterProblem> {
    if value.trim().is_empty() {
        return Err(ParameterProblem::Empty);
    }
    if value.contains(['\n', '\r', '\t']) {
        return Err(ParameterProblem::LineBreakOrTab);
    }
    if value.contains(&" ".repeat(MAX_SPACES_IN_A_ROW + 1)) {
        return Err(ParameterProblem::TooManySpaces);
    }
    Ok(())
}

/// Why a template cannot be filled with the values given. Never quotes a value (they are
/// customer data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Not one value per placeholder.
    #[error("the template takes {expected} parameter(s), {given} given")]
    Count {
        /// The template's parameters.
        expected: usize,
        /// The values given.
        given: usize,
    },
    /// A value Meta would refuse.
    #[error("parameter {{{{{position}}}}} {problem}")]
    Parameter {
        /// Its placeholder number (from 1).
        position: usize,
        /// What is wrong with it.
        problem: ParameterProblem,
    },
}

/// Checks `values` for a template of `expected` parameters.
pub(super) fn check_all(values: &[String], expected: usize) -> Result<(), RenderError> {
    if values.len() != expected {
        return Err(RenderError::Count { expected, given: values.len() });
    }
    for (index, value) in values.iter().enumerate() {
        check_parameter(value).map_err(|problem| RenderError::Parameter { position: index + 1, problem })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_refusals_are_caught() {
        assert_eq!(check_parameter("Fatima Al Mansoori"), Ok(()));
        assert_eq!(check_parameter("four    spaces"), Ok(()));
        assert_eq!(check_parameter("تأشيرة عائلية"), Ok(()));
        assert_eq!(check_parameter(""), Err(ParameterProblem::Empty));
        assert_eq!(check_parameter("  "), Err(ParameterProblem::Empty));
        assert_eq!(check_parameter("two\nlines"), Err(ParameterProblem::LineBreakOrTab));
        assert_eq!(check_parameter("cr\rhere"), Err(ParameterProblem::LineBreakOrTab));
        assert_eq!(check_parameter("a\ttab"), Err(ParameterProblem::LineBreakOrTab));
        assert_eq!(check_parameter("five     spaces"), Err(ParameterProblem::TooManySpaces));
    }
}
