//! Operations, for admins: queue depth and the oldest waiting item, failed jobs and
//! replies with requeue, staff accounts, and the audit trail.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use store::maintenance::{QueueDepth, WorkQueue};
use store::redrive::Selection;
use store::{StaffAction, StaffRole};

use crate::Console;
use crate::auth::{CsrfForm, Staff};
use crate::error::PageError;
use crate::pages::layout::{self, Section, csrf_field, post_button, time};
use crate::pages::login::{NoFields, redirect};
use crate::pages::words;
use crate::password;

/// `GET /operations`.
pub async fn page(staff: Staff, console: web::Data<Console>) -> Result<HttpResponse, PageError> {
    staff.require_admin()?;
    let pool = &console.pool;
    let jobs = store::maintenance::depth(pool, WorkQueue::OutboundJob).await?;
    let sends = store::maintenance::depth(pool, WorkQueue::OutboundMessageLog).await?;
    let failed_jobs = store::redrive::failed_jobs(pool, 100).await?;
    let failed_sends = store::redrive::failed_sends(pool, 100).await?;
    let users = store::staff::users(pool).await?;
    let trail = store::staff::audit_trail(pool, None, 50).await?;
    let body = html! {
        h1 { "Operations" }
        section.cards {
            (queue_card("Replies to prepare (job-runner)", &jobs))
            (queue_card("Messages to send (outbound-sender)", &sends))
        }
        section.card {
            h2 { "Failed jobs" }
            @if failed_jobs.is_empty() { p.empty { "None." } } @else {
                div.table-wrap { table {
                    thead { tr { th { "Job" } th { "Conversation" } th { "Attempts" } th { "Error" } th { "Failed" } th {} } }
                    tbody { @for job in &failed_jobs { tr {
                        td { (job.id) }
                        td { a href=(format!("/conversations/{}", job.conversation_id)) { (job.conversation_id) } }
                        td { (job.attempts) }
                        td { (job.error.as_deref().unwrap_or("")) }
                        td { @if let Some(at) = job.failed_at { (time(at)) } }
                        td { (post_button(&staff, &format!("/operations/jobs/{}/requeue", job.id), "Requeue", "secondary")) }
                    } } }
                } }
            }
        }
        section.card {
            h2 { "Failed or held messages" }
            @if failed_sends.is_empty() { p.empty { "None." } } @else {
                div.table-wrap { table {
                    thead { tr { th { "Message" } th { "Conversation" } th { "Status" } th { "Reason" } th { "Attempts" } th { "Changed" } th {} } }
                    tbody { @for send in &failed_sends { tr {
                        td { (send.id) }
                        td { a href=(format!("/conversations/{}", send.conversation_id)) { (send.conversation_id) } }
                        td { (send.status.as_str()) }
                        td { (words::failure(send.error_code, send.error_text.as_deref())) }
                        td { (send.attempts) }
                        td { (time(send.updated_at)) }
                        td { (post_button(&staff, &format!("/operations/sends/{}/requeue", send.id), "Requeue", "secondary")) }
                    } } }
                } }
            }
        }
        (users_card(&staff, &users))
        section.card {
            h2 { "Audit trail" }
            div.table-wrap { table {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Conversation" } th { "Detail" } } }
                tbody { @for entry in &trail { tr {
                    td { (time(entry.at)) }
                    td { (entry.actor.as_deref().unwrap_or("command line")) }
                    td { (entry.action.as_str().replace('_', " ")) }
                    td { @if let Some(c) = entry.conversation_id { a href=(format!("/conversations/{c}")) { (c) } } }
                    td { (entry.detail) }
                } } }
            } }
        }
    };
    Ok(layout::page(&staff, Section::Operations, "Operations", body))
}

fn queue_card(title: &str, depth: &QueueDepth) -> Markup {
    html! {
        div.card {
            h2 { (title) }
            dl {
                @for (status, n) in &depth.by_status { dt { (status) } dd { (n) } }
                dt { "Oldest waiting" } dd { (format!("{:.1} s", depth.oldest_due_secs)) }
            }
        }
    }
}

fn users_card(staff: &Staff, users: &[store::staff::StaffUser]) -> Markup {
    html! {
        section.card {
            h2 { "Staff accounts" }
            div.table-wrap { table {
                thead { tr { th { "E-mail" } th { "Role" } th { "Since" } th { "State" } th {} } }
                tbody { @for user in users { tr {
                    td { (user.email) }
                    td { (user.role.as_str()) }
                    td { (time(user.created_at)) }
                    td { @if user.disabled_at.is_some() { "Disabled" } @else { "Active" } }
                    td {
                        @if user.id != staff.id() {
                            @if user.disabled_at.is_some() {
                                (post_button(staff, &format!("/operations/users/{}/enable", user.id), "Enable", "secondary"))
                            } @else {
                                (post_button(staff, &format!("/operations/users/{}/disable", user.id), "Disable", "danger"))
                            }
                        }
                    }
                } } }
            } }
            h3 { "Add an account or set a new password" }
            form.user-form method="post" action="/operations/users" {
                (csrf_field(staff))
                label { "E-mail" input type="email" name="email" required; }
                label { "Role" select name="role" { option value="agent" { "Agent" } option value="admin" { "Admin" } } }
                label { "Password (" (password::MIN_LENGTH) "+ characters)" input type="password" name="password" minlength=(password::MIN_LENGTH) autocomplete="new-password" required; }
                button.primary type="submit" { "Save account" }
            }
        }
    }
}

/// `POST /operations/jobs/{id}/requeue`.
pub async fn requeue_job(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    requeue(&console, &form.staff, Requeued::Job, id.into_inner()).await
}

/// `POST /operations/sends/{id}/requeue`.
pub async fn requeue_send(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    requeue(&console, &form.staff, Requeued::Send, id.into_inner()).await
}

/// What an admin sends round again.
#[derive(Debug, Clone, Copy)]
enum Requeued {
    /// A failed job.
    Job,
    /// A failed or held message.
    Send,
}

async fn requeue(
    console: &Console,
    staff: &Staff,
    what: Requeued,
    id: i64,
) -> Result<HttpResponse, PageError> {
    staff.require_admin()?;
    let which = Selection::Ids(std::slice::from_ref(&id));
    let (requeued, action, noun) = match what {
        Requeued::Job => {
            (store::redrive::requeue_jobs(&console.pool, which).await?, StaffAction::RequeueJob, "job")
        }
        Requeued::Send => {
            (store::redrive::requeue_sends(&console.pool, which).await?, StaffAction::RequeueSend, "message")
        }
    };
    let detail = format!("{noun} {id}: {}", if requeued.is_empty() { "not failed" } else { "requeued" });
    store::staff::audit(&console.pool, staff.id(), action, None, &detail).await?;
    Ok(redirect("/operations"))
}

/// The account form's fields.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    email: String,
    role: StaffRole,
    password: String,
}

/// `POST /operations/users`.
pub async fn save_user(
    console: web::Data<Console>,
    form: CsrfForm<UserForm>,
) -> Result<HttpResponse, PageError> {
    form.staff.require_admin()?;
    let CsrfForm { staff, form } = form;
    let email = form.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(PageError::BadRequest("give the account's e-mail address".into()));
    }
    let _permit = console.password_checks.acquire().await.map_err(|_| PageError::Unavailable)?;
    let hash = web::block(move || password::hash(&form.password))
        .await
        .map_err(|_| PageError::Unavailable)?
        .map_err(|e| PageError::BadRequest(e.to_string()))?;
    store::staff::save_user(&console.pool, Some(staff.id()), &email, &hash, form.role).await?;
    Ok(redirect("/operations"))
}

/// `POST /operations/users/{id}/disable`.
pub async fn disable_user(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_disabled(console, id.into_inner(), form, true).await
}

/// `POST /operations/users/{id}/enable`.
pub async fn enable_user(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_disabled(console, id.into_inner(), form, false).await
}

async fn set_disabled(
    console: web::Data<Console>,
    id: i64,
    form: CsrfForm<NoFields>,
    disabled: bool,
) -> Result<HttpResponse, PageError> {
    form.staff.require_admin()?;
    if id == form.staff.id() {
        return Err(PageError::BadRequest("you cannot disable your own account".into()));
    }
    if !store::staff::set_disabled(&console.pool, form.staff.id(), id, disabled).await? {
        return Err(PageError::NotFound);
    }
    Ok(redirect("/operations"))
}
