//! The inbox: conversations by the customer's latest message, with filters, unread
//! counts, search and keyset pages; the list refreshes itself on new activity.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use store::Keyset;
use store::inbox::{InboxFilter, InboxQuery, InboxRow};

use crate::Console;
use crate::auth::Staff;
use crate::error::PageError;
use crate::pages::layout::{self, Section, time};
use crate::pages::{keyset, words};

/// Conversations on one page.
pub const PAGE_SIZE: i64 = 50;

/// The inbox's query string.
#[derive(Debug, Default, Deserialize)]
pub struct InboxParams {
    /// Which conversations.
    #[serde(default)]
    pub filter: InboxFilter,
    /// Name or number.
    #[serde(default)]
    pub q: Option<String>,
    /// `{unix micros}.{id}` of the last row of the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

impl InboxParams {
    fn query(&self) -> Result<InboxQuery, PageError> {
        let after = keyset::after(self.after.as_deref())?;
        Ok(InboxQuery { filter: self.filter, search: self.q.clone(), after, limit: PAGE_SIZE })
    }

    /// The query string of these parameters (without the cursor).
    fn base(&self) -> String {
        let mut pairs = vec![("filter", self.filter.as_str().to_owned())];
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            pairs.push(("q", q.to_owned()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn cursor_of(row: &InboxRow) -> String {
    Keyset { at: row.activity_at, id: row.id }.to_param()
}

/// `GET /inbox`.
pub async fn page(
    staff: Staff,
    console: web::Data<Console>,
    params: web::Query<InboxParams>,
) -> Result<HttpResponse, PageError> {
    let rows = store::inbox::page(&console.pool, staff.id(), &params.query()?).await?;
    let counts = store::inbox::counts(&console.pool, staff.id()).await?;
    let base = params.base();
    let body = html! {
        div.inbox-head {
            h1 { "Inbox" }
            @if counts.needs_person_unread > 0 {
                span.badge.attention { (counts.needs_person_unread) " waiting for a person" }
            }
        }
        nav.filters aria-label="Filters" {
            @for filter in InboxFilter::ALL {
                @let href = format!("/inbox?{}", filter_query(filter, params.q.as_deref()));
                a href=(href) aria-current=[(filter == params.filter).then_some("page")] { (filter_label(filter)) }
            }
        }
        form.search method="get" action="/inbox" role="search" {
            input type="hidden" name="filter" value=(params.filter.as_str());
            input type="search" name="q" value=(params.q.as_deref().unwrap_or("")) placeholder="Name or number" aria-label="Search by name or number";
            button type="submit" { "Search" }
        }
        div #inbox-rows data-live=(format!("/inbox/rows?{base}&{}", after_param(params.after.as_deref()))) {
            (rows_markup(&rows, &base))
        }
    };
    Ok(layout::page(&staff, Section::Inbox, "Inbox", body))
}

/// `GET /inbox/rows`: the list alone, for the live refresh.
pub async fn rows(
    staff: Staff,
    console: web::Data<Console>,
    params: web::Query<InboxParams>,
) -> Result<HttpResponse, PageError> {
    let rows = store::inbox::page(&console.pool, staff.id(), &params.query()?).await?;
    Ok(layout::html_response(actix_web::http::StatusCode::OK, rows_markup(&rows, &params.base())))
}

fn after_param(after: Option<&str>) -> String {
    after.map(|a| serde_urlencoded::to_string([("after", a)]).unwrap_or_default()).unwrap_or_default()
}

fn filter_query(filter: InboxFilter, q: Option<&str>) -> String {
    InboxParams { filter, q: q.map(str::to_owned), after: None }.base()
}

fn filter_label(filter: InboxFilter) -> &'static str {
    match filter {
        InboxFilter::NeedsPerson => "Needs a person",
        InboxFilter::Qualified => "Qualified",
        InboxFilter::InProgress => "In progress",
        InboxFilter::OptedOut => "Opted out",
        InboxFilter::All => "All",
    }
}

fn rows_markup(rows: &[InboxRow], base: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "No conversations here." }
        } @else {
            ul.conversations {
                @for row in rows {
                    li.unread[row.unread > 0] {
                        a href=(format!("/conversations/{}", row.id)) {
                            div.line {
                                span.name dir="auto" { (display_name(row)) }
                                span.number { (row.wa_id.as_deref().map(|n| format!("+{n}")).unwrap_or_default()) }
                                span.when { (time(row.activity_at)) }
                            }
                            div.line {
                                span.preview dir="auto" { (row.preview.as_deref().unwrap_or("")) }
                                @if row.unread > 0 {
                                    span.count aria-label=(format!("{} unread", row.unread)) {
                                        @if row.unread >= 100 { "99+" } @else { (row.unread) }
                                    }
                                }
                            }
                            div.line.tags {
                                span.stage.(row.stage.as_str()) {
                                    @if row.opted_out { "Opted out" } @else { (words::stage(&row.stage)) }
                                }
                                @if let Some(holder) = &row.held_by {
                                    span.held { "Held by " (holder) }
                                }
                            }
                        }
                    }
                }
            }
            @if rows.len() as i64 == PAGE_SIZE {
                @if let Some(last) = rows.last() {
                    a.more href=(format!("/inbox?{base}&{}", after_param(Some(&cursor_of(last))))) { "Older conversations →" }
                }
            }
        }
    }
}

/// The name staff know the customer by: the one they gave, their profile name, or "Customer".
pub fn display_name(row: &InboxRow) -> &str {
    row.lead_name.as_deref().or(row.profile_name.as_deref()).unwrap_or("Customer")
}
