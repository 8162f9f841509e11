//! Qualified leads: a table, and the same as a CSV file.

use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;
use store::leads::LeadRow;
use store::{Keyset, StaffAction};

use crate::Console;
use crate::auth::Staff;
use crate::error::PageError;
use crate::pages::keyset;
use crate::pages::layout::{self, Section, time};

/// Leads on one page.
pub const PAGE_SIZE: i64 = 100;
/// Most leads one export holds.
pub const EXPORT_LIMIT: i64 = 100_000;

/// The table's query string.
#[derive(Debug, Default, Deserialize)]
pub struct LeadParams {
    /// `{unix micros}.{id}` of the last lead of the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// `GET /leads`.
pub async fn page(
    staff: Staff,
    console: web::Data<Console>,
    params: web::Query<LeadParams>,
) -> Result<HttpResponse, PageError> {
    let leads =
        store::leads::qualified(&console.pool, keyset::after(params.after.as_deref())?, PAGE_SIZE).await?;
    let body = html! {
        div.inbox-head {
            h1 { "Qualified leads" }
            a.button.secondary href="/leads.csv" download { "Export CSV" }
        }
        @if leads.is_empty() {
            p.empty { "No qualified leads yet." }
        } @else {
            div.table-wrap {
                table.leads {
                    thead { tr { th { "Name" } th { "Number" } th { "Service" } th { "Nationality" } th { "E-mail" } th { "Best time" } th { "Qualified" } } }
                    tbody {
                        @for lead in &leads {
                            tr {
                                td dir="auto" { a href=(format!("/conversations/{}", lead.conversation_id)) { (lead.name.as_deref().unwrap_or("—")) } }
                                td { (lead.wa_id.as_deref().map(|n| format!("+{n}")).unwrap_or_default()) }
                                td dir="auto" { (lead.service.as_deref().unwrap_or("—")) }
                                td dir="auto" { (lead.nationality.as_deref().unwrap_or("—")) }
                                td dir="auto" { (lead.email.as_deref().unwrap_or("—")) }
                                td dir="auto" { (lead.best_time_to_call.as_deref().unwrap_or("—")) }
                                td { (time(lead.updated_at)) }
                            }
                        }
                    }
                }
            }
            @if leads.len() as i64 == PAGE_SIZE {
                @if let Some(last) = leads.last() {
                    a.more href=(format!("/leads?after={}", Keyset { at: last.updated_at, id: last.id }.to_param())) { "Older leads →" }
                }
            }
        }
    };
    Ok(layout::page(&staff, Section::Leads, "Leads", body))
}

/// `GET /leads.csv`: every qualified lead, newest first.
pub async fn export(staff: Staff, console: web::Data<Console>) -> Result<HttpResponse, PageError> {
    let leads = store::leads::qualified(&console.pool, None, EXPORT_LIMIT).await?;
    store::staff::audit(
        &console.pool,
        staff.id(),
        StaffAction::ExportLeads,
        None,
        &format!("{} leads", leads.len()),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("content-disposition", "attachment; filename=\"qualified-leads.csv\""))
        .insert_header(("cache-control", "no-store"))
        .body(csv(&leads)))
}

/// The leads as CSV (RFC 4180), with a UTF-8 byte-order mark so spreadsheets read Arabic.
pub fn csv(leads: &[LeadRow]) -> String {
    let mut out = String::from(
        "\u{feff}name,number,service,nationality,email,best_time_to_call,qualified_at,conversation_id\r\n",
    );
    for lead in leads {
        let fields = [
            lead.name.as_deref(),
            lead.wa_id.as_deref(),
            lead.service.as_deref(),
            lead.nationality.as_deref(),
            lead.email.as_deref(),
            lead.best_time_to_call.as_deref(),
        ];
        for field in fields {
            out.push_str(&cell(field.unwrap_or("")));
            out.push(',');
        }
        out.push_str(&lead.updated_at.to_rfc3339());
        out.push(',');
        out.push_str(&lead.conversation_id.to_string());
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell: quoted when needed, and a text a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab, CR) prefixed with `'` so it stays text.
fn cell(text: &str) -> String {
    let text =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("Ahmed Khan"), "Ahmed Khan");
        assert_eq!(cell("Khan, Ahmed"), "\"Khan, Ahmed\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }
}
