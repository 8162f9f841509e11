//! The page shell every console page shares, and small pieces of markup used across pages.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::auth::Staff;

/// Which section of the console a page belongs to (highlighted in the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Conversations.
    Inbox,
    /// Notifications.
    Notifications,
    /// Qualified leads.
    Leads,
    /// Failed work, queues and accounts (admins).
    Operations,
}

/// A whole page for `staff`, titled `title`.
pub fn page(staff: &Staff, section: Section, title: &str, body: Markup) -> HttpResponse {
    let links: &[(Section, &str, &str)] = &[
        (Section::Inbox, "/inbox", "Inbox"),
        (Section::Notifications, "/notifications", "Notifications"),
        (Section::Leads, "/leads", "Leads"),
        (Section::Operations, "/operations", "Operations"),
    ];
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-csrf=(staff.csrf()) {
                header.top {
                    a.brand href="/inbox" { "ABCai console" }
                    nav {
                        @for (s, href, label) in links {
                            @if *s != Section::Operations || staff.is_admin() {
                                a href=(href) aria-current=[(*s == section).then_some("page")] { (label) }
                            }
                        }
                    }
                    form.logout method="post" action="/logout" {
                        (csrf_field(staff))
                        span.who { (staff.email()) }
                        button type="submit" { "Log out" }
                    }
                }
                main { (body) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

/// The `<head>` of every page.
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · ABCai console" }
            link rel="stylesheet" href=(crate::assets::STYLESHEET);
            script src=(crate::assets::SCRIPT) defer {}
        }
    }
}

/// An HTML response.
pub fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(markup.into_string())
}

/// The page a failure shows (no session needed).
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(status.canonical_reason().unwrap_or("Error")))
            body {
                main.narrow {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
                    p { (message) }
                    p { a href="/inbox" { "Back to the inbox" } }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf()); }
}

/// A time, in UTC for the server and turned into the reader's local time by the script.
pub fn time(at: DateTime<Utc>) -> Markup {
    html! { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M UTC")) } }
}

/// A POST button that carries the CSRF token.
pub fn post_button(staff: &Staff, action: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(staff))
            button.(class) type="submit" { (label) }
        }
    }
}
