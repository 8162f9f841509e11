//! The `after` parameter of the paged lists.

use store::Keyset;

use crate::error::PageError;

/// The page position in `after`, if any; a link that is not one is a clear error.
pub fn after(param: Option<&str>) -> Result<Option<Keyset>, PageError> {
    match param.filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(text) => Keyset::parse(text).map(Some).ok_or_else(|| {
            PageError::BadRequest("the page link is not valid; go back to the first page".into())
        }),
    }
}
