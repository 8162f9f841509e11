//! The approved-template catalogue file (`WHATSAPP_TEMPLATES`), as outbound-sender and the
//! staff console read it.

use std::path::{Path, PathBuf};

use domain::template::{CatalogueError, TemplateCatalogue};

/// `WHATSAPP_TEMPLATES` names a file a service cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    /// The file cannot be read.
    #[error("WHATSAPP_TEMPLATES {}: cannot be read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid catalogue.
    #[error("WHATSAPP_TEMPLATES {}: not a valid template catalogue", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: CatalogueError,
    },
}

/// The catalogue in `path` (empty when there is no file: no template can be sent).
pub fn read_catalogue(path: Option<&Path>) -> Result<TemplateCatalogue, TemplatesError> {
    let Some(path) = path else { return Ok(TemplateCatalogue::default()) };
    let text = std::fs::read_to_string(path)
        .map_err(|source| TemplatesError::Read { path: path.to_owned(), source })?;
    TemplateCatalogue::parse(&text)
        .map_err(|source| TemplatesError::Invalid { path: path.to_owned(), source })
}
