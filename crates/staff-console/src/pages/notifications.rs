//! Notifications: what staff must act on. Mark read, or snooze for an hour, until
//! tomorrow morning, or until a chosen time; a snoozed notification comes back by itself.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, NaiveTime, TimeZone, Utc};
use maud::html;
use serde::Deserialize;
use store::StaffAction;
use store::notifications::Filter;

use crate::Console;
use crate::auth::{CsrfForm, Staff};
use crate::error::PageError;
use crate::pages::layout::{self, Section, csrf_field, post_button, time};
use crate::pages::login::{NoFields, redirect};
use crate::pages::words;

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// Show notifications already read too.
    #[serde(default)]
    pub all: bool,
}

/// `GET /notifications`.
pub async fn page(
    staff: Staff,
    console: web::Data<Console>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let filter = Filter { include_read: params.all, include_snoozed: false };
    let notices = store::notifications::list(&console.pool, filter, 200).await?;
    let body = html! {
        h1 { "Notifications" }
        nav.filters {
            a href="/notifications" aria-current=[(!params.all).then_some("page")] { "Unread" }
            a href="/notifications?all=true" aria-current=[params.all.then_some("page")] { "All" }
        }
        @if notices.is_empty() {
            p.empty { "Nothing needs you right now." }
        }
        ul.notices {
            @for n in &notices {
                li.notice.read[n.read_at.is_some()] data-kind=(n.kind.as_str()) {
                    div.notice-head {
                        span.kind { (words::notice(n.kind)) }
                        span.when { (time(n.created_at)) }
                    }
                    p.title { (n.title) }
                    p.body dir="auto" { (n.body) }
                    div.notice-actions {
                        @if let Some(conversation) = n.conversation_id {
                            a href=(format!("/conversations/{conversation}")) { "Open conversation" }
                        }
                        @if n.read_at.is_none() {
                            (post_button(&staff, &format!("/notifications/{}/read", n.id), "Mark read", "secondary"))
                        }
                        form.snooze method="post" action=(format!("/notifications/{}/snooze", n.id)) {
                            (csrf_field(&staff))
                            input type="hidden" name="tz_offset_minutes" value="0" data-tz-offset;
                            button.secondary type="submit" name="for" value="hour" { "Snooze 1 h" }
                            button.secondary type="submit" name="for" value="tomorrow" { "Until tomorrow" }
                            label.visually-hidden for=(format!("until-{}", n.id)) { "Snooze until" }
                            input id=(format!("until-{}", n.id)) type="datetime-local" name="until";
                            button.secondary type="submit" name="for" value="chosen" { "Snooze until" }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&staff, Section::Notifications, "Notifications", body))
}

/// `POST /notifications/{id}/read`.
pub async fn mark_read(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    if !store::notifications::mark_read(&console.pool, id).await? {
        return Err(PageError::NotFound);
    }
    store::staff::audit(
        &console.pool,
        form.staff.id(),
        StaffAction::ReadNotification,
        None,
        &format!("notification {id}"),
    )
    .await?;
    Ok(redirect("/notifications"))
}

/// How long to snooze.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnoozeFor {
    /// One hour.
    Hour,
    /// Until 08:00 tomorrow, in the member of staff's time zone.
    Tomorrow,
    /// Until the time in the form.
    Chosen,
}

/// The snooze form's fields.
#[derive(Debug, Deserialize)]
pub struct SnoozeForm {
    #[serde(rename = "for")]
    snooze_for: SnoozeFor,
    /// `YYYY-MM-DDTHH:MM` in the browser's time zone.
    #[serde(default)]
    until: String,
    /// The browser's offset from UTC (minutes east), filled in by the script; UTC without it.
    #[serde(default)]
    tz_offset_minutes: i32,
}

/// `POST /notifications/{id}/snooze`.
pub async fn snooze(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<SnoozeForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let until = snooze_until(&form.form, Utc::now())?;
    if !store::notifications::snooze(&console.pool, id, until).await? {
        return Err(PageError::NotFound);
    }
    let detail = format!("notification {id} until {}", until.to_rfc3339());
    store::staff::audit(&console.pool, form.staff.id(), StaffAction::SnoozeNotification, None, &detail)
        .await?;
    Ok(redirect("/notifications"))
}

/// When a snooze ends.
pub fn snooze_until(form: &SnoozeForm, now: DateTime<Utc>) -> Result<DateTime<Utc>, PageError> {
    let zone = FixedOffset::east_opt(form.tz_offset_minutes.clamp(-14 * 60, 14 * 60) * 60)
        .ok_or_else(|| PageError::BadRequest("the time zone is not valid".into()))?;
    let until = match form.snooze_for {
        SnoozeFor::Hour => now + Duration::hours(1),
        SnoozeFor::Tomorrow => {
            let tomorrow = (now.with_timezone(&zone) + Duration::days(1)).date_naive();
            local(zone, tomorrow.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default()))?
        }
        SnoozeFor::Chosen => {
            let chosen = NaiveDateTime::parse_from_str(&form.until, "%Y-%m-%dT%H:%M")
                .map_err(|_| PageError::BadRequest("choose the date and time to snooze until".into()))?;
            local(zone, chosen)?
        }
    };
    if until <= now || until > now + Duration::days(366) {
        return Err(PageError::BadRequest("choose a time in the future, within a year".into()));
    }
    Ok(until)
}

fn local(zone: FixedOffset, at: NaiveDateTime) -> Result<DateTime<Utc>, PageError> {
    zone.from_local_datetime(&at)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| PageError::BadRequest("that time does not exist".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(snooze_for: SnoozeFor, until: &str, tz: i32) -> SnoozeForm {
        SnoozeForm { snooze_for, until: until.to_owned(), tz_offset_minutes: tz }
    }

    #[test]
    fn tomorrow_means_eight_in_the_morning_where_staff_are() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T21:30:00Z").expect("time").with_timezone(&Utc);
        let until = snooze_until(&form(SnoozeFor::Tomorrow, "", 240), now).expect("until");
        // 21:30 UTC is 01:30 on 2 December in Dubai: tomorrow is 3 December, 08:00 there.
        assert_eq!(until.to_rfc3339(), "2026-12-03T04:00:00+00:00");
    }

    #[test]
    fn a_chosen_time_is_read_in_the_browsers_zone_and_must_be_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").expect("time").with_timezone(&Utc);
        let until = snooze_until(&form(SnoozeFor::Chosen, "2026-12-01T16:00", 240), now).expect("until");
        assert_eq!(until.to_rfc3339(), "2026-12-01T12:00:00+00:00");
        assert!(
            snooze_until(&form(SnoozeFor::Chosen, "2026-12-01T13:00", 240), now).is_err(),
            "09:00 UTC is past"
        );
        assert!(snooze_until(&form(SnoozeFor::Chosen, "", 0), now).is_err());
        assert_eq!(snooze_until(&form(SnoozeFor::Hour, "", 0), now).expect("hour"), now + Duration::hours(1));
    }
}
