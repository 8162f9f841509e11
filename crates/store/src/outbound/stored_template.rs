//! `outbound_message_log.template` as a claim reads it: NULL for a free-form text, else the
//! [`TemplateSend`] to send, or [`UnreadableTemplate`] for JSON of another shape (the row
//! can never be sent, and fails; loading the claim itself never fails over it).

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Jsonb, Nullable};
use domain::template::TemplateSend;

/// The `template` column holds JSON that is not a [`TemplateSend`]. Quotes none of it (it
/// may hold customer data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the row's template is unreadable: expected {{\"name\": …, \"language\": a Meta language code, \
     \"parameters\": [texts]}}"
)]
pub struct UnreadableTemplate;

/// What the column reads as.
pub(crate) struct TemplateColumn(Result<Option<TemplateSend>, UnreadableTemplate>);

impl FromSql<Nullable<Jsonb>, Pg> for TemplateColumn {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let json = <serde_json::Value as FromSql<Jsonb, Pg>>::from_sql(value)?;
        Ok(Self(serde_json::from_value(json).map(Some).map_err(|_| UnreadableTemplate)))
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(Self(Ok(None))),
        }
    }
}

impl From<TemplateColumn> for Result<Option<TemplateSend>, UnreadableTemplate> {
    fn from(column: TemplateColumn) -> Self {
        column.0
    }
}
