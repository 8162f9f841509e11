//! `orchestrator-core`: talk to the bot in a terminal, or replay a stored conversation
//! through the engine and compare its decisions with what was sent.

use std::io::{BufRead, Write};

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use domain::conversation::ConversationState;
use orchestrator_core::replay::StoredTurn;
use orchestrator_core::{Decision, Inbound, InboundKind, decide};

/// The conversation engine's operator tool.
#[derive(Parser)]
#[command(name = "orchestrator-core", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Talk to the bot: type as the customer; `/image`, `/location`, `/reaction` send
    /// those message types, `/reset` starts over, `/quit` (or Ctrl-D) ends.
    Chat,
    /// Re-run a stored conversation from its first message and show each decision next to
    /// the reply that was stored.
    Replay {
        /// The `conversation.id`.
        #[arg(long)]
        conversation_id: i64,
        /// Postgres connection URL.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: String,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Chat => chat(std::io::stdin().lock(), &mut std::io::stdout()),
        Command::Replay { conversation_id, database_url } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(replay(conversation_id, &database_url))
        }
    }
}

fn chat(input: impl BufRead, out: &mut impl Write) -> anyhow::Result<()> {
    let mut state = ConversationState::default();
    writeln!(out, "You are the customer. /image /location /reaction /reset /quit")?;
    for line in input.lines() {
        let line = line?;
        let inbound = match line.trim() {
            "/quit" => break,
            "/reset" => {
                state = ConversationState::default();
                writeln!(out, "(new conversation)")?;
                continue;
            }
            "/image" => Inbound { kind: InboundKind::Media, text: None },
            "/location" => Inbound { kind: InboundKind::Unreadable, text: None },
            "/reaction" => Inbound { kind: InboundKind::Ignored, text: None },
            text => Inbound { kind: InboundKind::Text, text: Some(text) },
        };
        let decision = decide(&state, &inbound, Utc::now());
        show(out, &decision)?;
        state = decision.state;
    }
    Ok(())
}

fn show(out: &mut impl Write, decision: &Decision) -> anyhow::Result<()> {
    match &decision.reply {
        Some(reply) => writeln!(out, "bot [{}]: {}", reply.question_key.as_str(), reply.text)?,
        None => writeln!(out, "bot: (no reply)")?,
    }
    if let Some(notice) = &decision.notice {
        writeln!(out, "staff notified [{}]: {}", notice.kind.as_str(), notice.body)?;
    }
    writeln!(
        out,
        "state: {} {}",
        serde_json::to_string(&decision.state.known)?,
        serde_json::to_string(&decision.state.engine)?
    )?;
    Ok(())
}

async fn replay(conversation_id: i64, database_url: &str) -> anyhow::Result<()> {
    let settings = store::PoolSettings {
        application_name: "orchestrator-core",
        max_size: 1,
        timeout: std::time::Duration::from_secs(10),
        statement_timeout: std::time::Duration::from_secs(30),
    };
    let pool = store::build_pool(database_url, &settings)?;
    let transcript =
        store::transcripts::transcript(&pool, conversation_id).await.context("loading the conversation")?;
    anyhow::ensure!(!transcript.is_empty(), "conversation {conversation_id} has no messages");
    let turns: Vec<StoredTurn<'_>> = transcript.iter().map(StoredTurn::from).collect();
    let out = &mut std::io::stdout();
    let replayed = orchestrator_core::replay::replay(&turns);
    for ((stored, turn), result) in transcript.iter().zip(&turns).zip(&replayed) {
        let message = &stored.inbound;
        writeln!(
            out,
            "\n#{} {} {}: {}",
            message.id,
            message.received_at.format("%F %T"),
            message.message_type.as_str(),
            message.text_body.as_deref().unwrap_or("-")
        )?;
        show(out, &result.decision)?;
        let verdict = if result.matches { "✓ matches" } else { "✗ differs" };
        let statuses: Vec<&str> = stored.replies.iter().map(|r| r.status.as_str()).collect();
        writeln!(out, "stored: {:?} {statuses:?} {verdict}", turn.stored_replies)?;
    }
    let differences = replayed.iter().filter(|t| !t.matches).count();
    writeln!(out, "\n{} message(s), {differences} difference(s)", transcript.len())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::chat;

    #[test]
    fn chat_shows_replies_notices_and_state() {
        let input = "Hi, I'm Ahmed from Pakistan and I need a family visa\n/image\n/reaction\nagent\n/quit\nignored\n";
        let mut out = Vec::new();
        chat(input.as_bytes(), &mut out).expect("chat");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.contains("bot [ASK_EMAIL]: Hi 👋 I'm ABCai"), "{out}");
        assert!(out.contains("bot [ASK_EMAIL]: Thanks! I can only read text messages for now."), "{out}");
        assert!(out.contains("bot: (no reply)"), "{out}");
        assert!(out.contains("staff notified [human_requested]"), "{out}");
        assert!(out.contains("\"nationality\":\"Pakistani\""), "{out}");
        assert!(!out.contains("ignored"), "stops at /quit");
    }
}
