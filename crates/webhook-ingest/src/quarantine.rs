//! `webhook-ingest quarantine list | redrive --id N`: the operator's view of quarantined
//! delivery items, and storing one again once the cause is fixed.

use anyhow::{Context, bail};
use domain::webhook::WebhookEnvelope;
use store::quarantine::{QuarantinedItem, Redriven};

use crate::config::{QuarantineAction, QuarantineArgs};
use crate::extract::{self, Policy};

/// Runs the subcommand, printing to stdout.
pub async fn run(args: QuarantineArgs) -> anyhow::Result<()> {
    let pool = store::build_pool(args.db.database_url.expose(), &args.db.pool_settings("webhook-ingest"))?;
    store::migrations::ensure_current(&pool).await.context("database is not ready for this version")?;
    match args.action {
        QuarantineAction::List { limit } => {
            for item in store::quarantine::list(&pool, limit).await? {
                println!("{}", summary(&item));
            }
            Ok(())
        }
        QuarantineAction::Redrive { id } => {
            let Some(item) = store::quarantine::get(&pool, id).await? else {
                bail!("no quarantined item {id}")
            };
            if item.redriven_at.is_some() {
                println!("item {id} was already redriven");
                return Ok(());
            }
            let envelope = rebuilt_envelope(&item);
            let envelope =
                WebhookEnvelope::parse(envelope.as_bytes()).context("the rebuilt delivery does not parse")?;
            let (values, bad) = crate::routes::change_values(&envelope);
            if let Some(still) = bad.first() {
                let mut conn = store::connection(&pool).await?;
                store::quarantine::record_failed_redrive(&mut conn, id, &still.reason).await?;
                bail!("item {id} is still refused: {}", still.reason);
            }
            // Redrives run with the same allow-list and no item limit.
            let served = crate::config::served_numbers(&args.phone_number_ids);
            let policy = Policy { phone_number_ids: served, max_items: usize::MAX };
            let request_id = format!("redrive-{id}");
            let extracted = extract::records(&values, &policy, &request_id);
            if let Some(still) = extracted.delivery.quarantine.first() {
                let mut conn = store::connection(&pool).await?;
                store::quarantine::record_failed_redrive(&mut conn, id, &still.reason).await?;
                bail!("item {id} is still refused: {}", still.reason);
            }
            match store::quarantine::redrive(&pool, id, &extracted.delivery.batch).await {
                Ok(Redriven::Stored(outcome)) => {
                    let stored = outcome.messages.iter().filter(|m| m.inbound_message_id.is_some()).count();
                    let recorded = outcome.statuses.iter().filter(|s| s.event_id.is_some()).count();
                    println!(
                        "item {id} redriven: {stored} message(s) stored, {recorded} status(es) recorded"
                    );
                    Ok(())
                }
                Ok(Redriven::AlreadyRedriven) => {
                    println!("item {id} was already redriven");
                    Ok(())
                }
                Err(e) => bail!("item {id} is still refused: {}", store::quarantine::describe(&e).0),
            }
        }
    }
}

/// One line per item; never its content (customer data).
fn summary(item: &QuarantinedItem) -> String {
    let state = match (&item.redriven_at, &item.last_redrive_error) {
        (Some(at), _) => format!("redriven {}", at.to_rfc3339()),
        (None, Some(error)) => format!("pending (last redrive: {error})"),
        (None, None) => "pending".to_owned(),
    };
    format!(
        "{}\t{}\t{}\t{}\t{} bytes\t{}\t{}\trequest {}",
        item.id,
        item.created_at.to_rfc3339(),
        item.item_kind,
        item.phone_number_id.as_deref().unwrap_or("-"),
        item.raw.len(),
        item.reason,
        state,
        item.request_id
    )
}

/// A one-item delivery carrying the quarantined item with its change's metadata and
/// contacts, as Meta would have sent it alone.
fn rebuilt_envelope(item: &QuarantinedItem) -> String {
    if item.item_kind == "change" {
        return format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{}}}]}}]}}"#,
            item.raw
        );
    }
    let list = if item.item_kind == "status" { "statuses" } else { "messages" };
    let metadata = serde_json::json!({
        "phone_number_id": item.phone_number_id,
        "display_phone_number": item.display_phone_number,
    });
    let contacts = item.contacts.as_deref().unwrap_or("[]");
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{metadata},"contacts":{contacts},"{list}":[{raw}]}}}}]}}]}}"#,
        raw = item.raw
    )
}
