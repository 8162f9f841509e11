//! One conversation: its transcript with delivery ticks, the lead's details, the 24-hour
//! window, notes; and taking it over, replying, handing it back.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use domain::template::{LanguageCode, TemplateCatalogue, TemplateSend};
use maud::{Markup, html};
use serde::Deserialize;
use store::desk::{Author, Desk, Entry, HandBack, ReplyOutcome, StaffReply};
use telemetry::request_id::RequestId;

use crate::Console;
use crate::auth::{CsrfForm, Staff};
use crate::error::PageError;
use crate::pages::layout::{self, Section, csrf_field, post_button, time};
use crate::pages::login::{NoFields, redirect};
use crate::pages::words;

/// Messages a transcript shows.
pub const TRANSCRIPT_LENGTH: i64 = 200;
/// WhatsApp's longest text message.
pub const MAX_REPLY_CHARS: usize = 4096;
/// The customer service window.
pub const WINDOW: Duration = Duration::hours(24);

/// `GET /conversations/{id}`.
pub async fn page(
    staff: Staff,
    console: web::Data<Console>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let desk = store::desk::desk(&console.pool, id).await?.ok_or(PageError::NotFound)?;
    let transcript = store::desk::transcript(&console.pool, id, TRANSCRIPT_LENGTH).await?;
    let notes = store::desk::notes(&console.pool, id).await?;
    store::desk::mark_read(&console.pool, staff.id(), id).await?;
    let title = name_of(&desk).to_owned();
    let body = html! {
        div.conversation {
            section.thread {
                (header(&staff, &desk))
                div #transcript.transcript data-live=(format!("/conversations/{id}/transcript")) data-scroll="end" {
                    (transcript_markup(&transcript))
                }
                (reply_form(&staff, &desk, &console.templates))
            }
            aside.details {
                (details(&desk))
                (notes_markup(&staff, id, &notes))
            }
        }
    };
    Ok(layout::page(&staff, Section::Inbox, &title, body))
}

/// `GET /conversations/{id}/transcript`: the messages alone, for the live refresh.
pub async fn transcript(
    staff: Staff,
    console: web::Data<Console>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let transcript = store::desk::transcript(&console.pool, id, TRANSCRIPT_LENGTH).await?;
    store::desk::mark_read(&console.pool, staff.id(), id).await?;
    Ok(layout::html_response(StatusCode::OK, transcript_markup(&transcript)))
}

/// `POST /conversations/{id}/take-over`.
pub async fn take_over(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    if !store::desk::take_over(&console.pool, form.staff.id(), id).await? {
        return Err(PageError::NotFound);
    }
    tracing::info!(conversation_id = id, staff_user_id = form.staff.id(), "conversation taken over");
    Ok(redirect(&format!("/conversations/{id}")))
}

/// `POST /conversations/{id}/hand-back`.
pub async fn hand_back(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    match store::desk::hand_back(&console.pool, form.staff.id(), id).await? {
        HandBack::NotFound => return Err(PageError::NotFound),
        HandBack::NotHeld => {}
        HandBack::Resumed { stage } => {
            tracing::info!(
                conversation_id = id,
                staff_user_id = form.staff.id(),
                ?stage,
                "conversation handed back"
            );
        }
    }
    Ok(redirect(&format!("/conversations/{id}")))
}

/// The reply form's fields.
#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    /// Generated with the form: the same form submitted twice is one reply.
    form_token: String,
    /// The text.
    #[serde(default)]
    body: String,
}

/// `POST /conversations/{id}/reply`.
pub async fn reply(
    request_id: RequestId,
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<ReplyForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let CsrfForm { staff, form } = form;
    let form_token = uuid::Uuid::parse_str(&form.form_token)
        .map_err(|_| PageError::BadRequest("the form has no valid token; reload the page".into()))?;
    let body = form.body.trim();
    if body.is_empty() {
        return Err(PageError::BadRequest("write a reply before sending".into()));
    }
    if body.chars().count() > MAX_REPLY_CHARS {
        return Err(PageError::BadRequest(format!("a reply has at most {MAX_REPLY_CHARS} characters")));
    }
    let reply = Outgoing { conversation: id, form_token, body, template: None };
    queue(&console, &staff, &request_id, reply).await
}

/// A reply about to be queued.
struct Outgoing<'a> {
    conversation: i64,
    form_token: uuid::Uuid,
    body: &'a str,
    template: Option<&'a TemplateSend>,
}

/// Queues a staff reply (once per form) and goes back to the conversation.
async fn queue(
    console: &Console,
    staff: &Staff,
    request_id: &RequestId,
    reply: Outgoing<'_>,
) -> Result<HttpResponse, PageError> {
    let traceparent = telemetry::propagation::current_traceparent();
    let id = reply.conversation;
    let row = StaffReply {
        author: staff.id(),
        conversation: id,
        form_token: reply.form_token,
        body: reply.body,
        template: reply.template,
        request_id: Some(request_id.as_str()),
        traceparent: traceparent.as_deref(),
    };
    match store::desk::reply(&console.pool, &row).await? {
        ReplyOutcome::Queued { id: outbound_id } => {
            tracing::info!(
                conversation_id = id,
                outbound_id,
                staff_user_id = staff.id(),
                "staff reply queued"
            );
        }
        ReplyOutcome::AlreadyQueued => {
            tracing::info!(conversation_id = id, "staff reply already queued for this form");
            metrics::counter!("console_replies_total", "outcome" => "duplicate").increment(1);
        }
        ReplyOutcome::WindowClosed => {
            return Err(PageError::BadRequest(
                "the customer's 24-hour window has closed: only an approved template can be sent".into(),
            ));
        }
        ReplyOutcome::OptedOut => {
            return Err(PageError::BadRequest("the customer opted out: nothing can be sent to them".into()));
        }
        ReplyOutcome::NotFound => return Err(PageError::NotFound),
    }
    Ok(redirect(&format!("/conversations/{id}")))
}

/// `POST /conversations/{id}/template`: an approved template, with its parameters `p1`…`pN`.
pub async fn send_template(
    request_id: RequestId,
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { staff, form } = form;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let form_token = field("form_token")
        .and_then(|t| uuid::Uuid::parse_str(&t).ok())
        .ok_or_else(|| PageError::BadRequest("the form has no valid token; reload the page".into()))?;
    let language: LanguageCode = field("language")
        .unwrap_or_default()
        .parse()
        .map_err(|_| PageError::BadRequest("choose one of the approved templates".into()))?;
    let name = field("template").unwrap_or_default();
    let template = console
        .templates
        .get(&name, &language)
        .ok_or_else(|| PageError::BadRequest("that template is not approved for this number".into()))?;
    let values: Vec<String> =
        (1..=template.parameters().len()).map(|n| field(&format!("p{n}")).unwrap_or_default()).collect();
    let filled = template.fill(values).map_err(|e| PageError::BadRequest(e.to_string()))?;
    let reply = Outgoing {
        conversation: id.into_inner(),
        form_token,
        body: &filled.body,
        template: Some(&filled.send),
    };
    queue(&console, &staff, &request_id, reply).await
}

/// The note form's fields.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

/// `POST /conversations/{id}/notes`.
pub async fn add_note(
    console: web::Data<Console>,
    id: web::Path<i64>,
    form: CsrfForm<NoteForm>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let body = form.form.body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(PageError::BadRequest("a note has 1 to 4000 characters".into()));
    }
    if !store::desk::add_note(&console.pool, form.staff.id(), id, body).await? {
        return Err(PageError::NotFound);
    }
    Ok(redirect(&format!("/conversations/{id}#notes")))
}

fn name_of(desk: &Desk) -> &str {
    desk.known.name.as_deref().or(desk.profile_name.as_deref()).unwrap_or("Customer")
}

fn header(staff: &Staff, desk: &Desk) -> Markup {
    let stage = if desk.opted_out_at.is_some() { "opted_out" } else { stage_of(desk) };
    html! {
        div.thread-head {
            a.back href="/inbox" aria-label="Back to the inbox" { "←" }
            div {
                h1 dir="auto" { (name_of(desk)) }
                p.number {
                    (desk.wa_id.as_deref().map(|n| format!("+{n}")).unwrap_or_default())
                    @if let Some(profile) = desk.profile_name.as_deref().filter(|p| Some(*p) != desk.known.name.as_deref()) {
                        " · WhatsApp name " bdi { (profile) }
                    }
                }
            }
            span.stage.(stage) { (words::stage(stage)) }
            div.actions {
                @match &desk.held_by {
                    Some(holder) => {
                        span.held { "Held by " (if holder == staff.email() { "you" } else { holder }) }
                        (post_button(staff, &format!("/conversations/{}/hand-back", desk.id), "Hand back to the bot", "secondary"))
                        @if holder != staff.email() {
                            (post_button(staff, &format!("/conversations/{}/take-over", desk.id), "Take over", "primary"))
                        }
                    }
                    None => {
                        span.held { "The bot is answering" }
                        (post_button(staff, &format!("/conversations/{}/take-over", desk.id), "Take over", "primary"))
                    }
                }
            }
        }
    }
}

fn stage_of(desk: &Desk) -> &'static str {
    match desk.engine.stage {
        domain::conversation::Stage::Qualifying => "qualifying",
        domain::conversation::Stage::Qualified => "qualified",
        domain::conversation::Stage::HandedOff => "handed_off",
        domain::conversation::Stage::OptedOut => "opted_out",
    }
}

/// The transcript's messages, oldest first.
pub fn transcript_markup(entries: &[Entry]) -> Markup {
    html! {
        @if entries.is_empty() {
            p.empty { "No messages yet." }
        }
        ol.messages {
            @for entry in entries {
                @let side = match entry.author { Author::Customer => "customer", Author::Bot => "bot", Author::Staff(_) => "staff" };
                li.message.(side) {
                    div.bubble {
                        div.author {
                            @match &entry.author {
                                Author::Customer => "Customer",
                                Author::Bot => "Bot",
                                Author::Staff(Some(email)) => (email),
                                Author::Staff(None) => "Staff",
                            }
                            @if let Some(template) = &entry.template { " · template " (template) }
                        }
                        @match (&entry.text, &entry.message_type) {
                            (Some(text), _) => p.text dir="auto" { (text) },
                            (None, Some(kind)) => p.text.kind { "[" (kind) "]" },
                            (None, None) => p.text.kind { "[no text]" },
                        }
                        div.meta {
                            (time(entry.at))
                            @if let Some(status) = entry.status {
                                @let (mark, class, label) = words::ticks(status);
                                " " span.ticks.(class) title=(label) aria-label=(label) { (mark) }
                                @if status == store::SendStatus::Failed {
                                    span.reason { (words::failure(entry.error_code, entry.error_text.as_deref())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reply_form(staff: &Staff, desk: &Desk, templates: &TemplateCatalogue) -> Markup {
    let open = window_left(desk).is_some();
    html! {
        @if desk.opted_out_at.is_some() {
            p.notice { "The customer opted out: nothing can be sent to them until they write START." }
        } @else if open {
            form.reply method="post" action=(format!("/conversations/{}/reply", desk.id)) data-once {
                (csrf_field(staff))
                input type="hidden" name="form_token" value=(uuid::Uuid::new_v4());
                label.visually-hidden for="reply-body" { "Reply" }
                textarea #reply-body name="body" rows="3" maxlength=(MAX_REPLY_CHARS) dir="auto" required placeholder="Write a reply…" {}
                button.primary type="submit" { "Send" }
            }
            @if desk.held_by.is_none() {
                p.hint { "Sending a reply takes the conversation over from the bot." }
            }
        } @else {
            p.notice { "The 24-hour window has closed: only an approved template can be sent." }
            @if templates.is_empty() {
                p.hint { "No templates are configured (WHATSAPP_TEMPLATES)." }
            }
            @for template in templates {
                form.template method="post" action=(format!("/conversations/{}/template", desk.id)) data-once {
                    (csrf_field(staff))
                    input type="hidden" name="form_token" value=(uuid::Uuid::new_v4());
                    input type="hidden" name="template" value=(template.name());
                    input type="hidden" name="language" value=(template.language().as_str());
                    p.template-name { (template.name()) " (" (template.language().as_str()) ")" }
                    p.preview dir="auto" { (template.body()) }
                    @for (n, label) in template.parameters().iter().enumerate() {
                        label { (label) input type="text" name=(format!("p{}", n + 1)) required dir="auto"; }
                    }
                    button.primary type="submit" { "Send template" }
                }
            }
        }
    }
}

/// How long the 24-hour window has left, if it is open.
fn window_left(desk: &Desk) -> Option<Duration> {
    let left = desk.last_inbound_at? + WINDOW - Utc::now();
    (left > Duration::zero()).then_some(left)
}

fn details(desk: &Desk) -> Markup {
    let known = &desk.known;
    let field = |value: Option<&String>| value.cloned().unwrap_or_else(|| "—".to_owned());
    html! {
        section.card {
            h2 { "Details" }
            dl {
                dt { "Service" } dd dir="auto" { (field(known.service.as_ref())) }
                dt { "Name" } dd dir="auto" { (field(known.name.as_ref())) }
                dt { "Nationality" } dd dir="auto" { (field(known.nationality.as_ref())) }
                dt { "E-mail" } dd dir="auto" {
                    @if known.email_declined && known.email.is_none() { "None (quotation on WhatsApp)" } @else { (field(known.email.as_ref())) }
                }
                dt { "Best time to call" } dd dir="auto" { (field(known.best_time_to_call.as_ref())) }
                dt { "Language" } dd { (if desk.engine.language == domain::conversation::Language::Ar { "Arabic" } else { "English" }) }
                @if let Some(status) = desk.lead_status {
                    dt { "Lead" } dd { (status.as_str().replace('_', " ")) }
                }
            }
        }
        section.card {
            h2 { "24-hour window" }
            @match window_left(desk) {
                Some(left) => p.window.open { "Open: " (words::duration(left)) " left" },
                None => p.window.closed { "Closed: only templates can be sent" },
            }
            @if let Some(at) = desk.last_inbound_at {
                p.hint { "Customer's last message " (time(at)) }
            }
        }
    }
}

fn notes_markup(staff: &Staff, id: i64, notes: &[store::desk::Note]) -> Markup {
    html! {
        section.card #notes {
            h2 { "Notes for colleagues" }
            form method="post" action=(format!("/conversations/{id}/notes")) {
                (csrf_field(staff))
                label.visually-hidden for="note-body" { "Note" }
                textarea #note-body name="body" rows="2" maxlength="4000" dir="auto" required placeholder="Only staff see notes" {}
                button.secondary type="submit" { "Add note" }
            }
            ul.notes {
                @for note in notes {
                    li {
                        p dir="auto" { (note.body) }
                        p.hint { (note.author.as_deref().unwrap_or("Staff")) " · " (time(note.created_at)) }
                    }
                }
            }
        }
    }
}
