//! `orchestrator-core`: talk to the bot in a terminal, replay a stored conversation
//! through the engine and compare its decisions with what was sent, or score the engine
//! on the labelled corpus.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use domain::conversation::ConversationState;
use orchestrator_core::replay::StoredTurn;
use orchestrator_core::{BusinessProfile, Decision, Inbound, InboundKind, decide, eval};

/// The conversation engine's operator tool.
#[derive(Parser)]
#[command(name = "orchestrator-core", version)]
struct Cli {
    /// The business profile (TOML) the bot answers questions from; nothing configured
    /// when unset.
    #[arg(long, global = true, env = "BUSINESS_PROFILE")]
    profile: Option<PathBuf>,
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
    /// Score the engine on the labelled corpus: the share of conversations handled fully
    /// right, each field's accuracy, and every failure. Exits non-zero below the floors.
    Eval {
        /// The folder of `*.toml` corpus files.
        #[arg(long, default_value = "crates/orchestrator-core/eval")]
        corpus: PathBuf,
        /// The lowest acceptable share of conversations fully right, in percent.
        #[arg(long, default_value_t = 0.0)]
        min_full: f64,
        /// The lowest acceptable accuracy of each lead field, in percent.
        #[arg(long, default_value_t = 0.0)]
        min_field: f64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let profile = match &cli.profile {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            BusinessProfile::from_toml(&text)?
        }
        None => BusinessProfile::default(),
    };
    match cli.command {
        Command::Chat => chat(std::io::stdin().lock(), &mut std::io::stdout(), &profile),
        Command::Replay { conversation_id, database_url } => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(replay(conversation_id, &database_url, &profile, &mut std::io::stdout()))
        }
        Command::Eval { corpus, min_full, min_field } => {
            let report = eval::score(&load_corpus(&corpus)?, &profile);
            print!("{report}");
            let (field, weakest) = report.weakest_field();
            anyhow::ensure!(
                100.0 * report.full_share() >= min_full,
                "{:.1} % fully right is below the floor of {min_full} %",
                100.0 * report.full_share()
            );
            anyhow::ensure!(
                100.0 * weakest >= min_field,
                "{field} at {:.1} % is below the floor of {min_field} %",
                100.0 * weakest
            );
            Ok(())
        }
    }
}

/// Every conversation of the `*.toml` files in `dir`, in file-name order.
fn load_corpus(dir: &Path) -> anyhow::Result<Vec<eval::Conversation>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        all.extend(eval::parse(&file.display().to_string(), &text)?);
    }
    Ok(all)
}

fn chat(input: impl BufRead, out: &mut impl Write, profile: &BusinessProfile) -> anyhow::Result<()> {
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
            text => Inbound::text(text),
        };
        let decision = decide(&state, &[inbound], Utc::now(), profile);
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
    for notice in &decision.notices {
        writeln!(out, "staff notified [{}]: {}", notice.kind.as_str(), notice.body)?;
    }
    if let Some(change) = decision.contact {
        writeln!(out, "contact: {change:?}")?;
    }
    writeln!(
        out,
        "state: {} {}",
        serde_json::to_string(&decision.state.known)?,
        serde_json::to_string(&decision.state.engine)?
    )?;
    Ok(())
}

/// A stored message as the replay reads it.
fn stored_turn(turn: &store::transcripts::TranscriptTurn) -> StoredTurn<'_> {
    StoredTurn {
        message_type: turn.inbound.message_type.as_str(),
        text: turn.inbound.text_body.as_deref(),
        received_at: turn.inbound.received_at,
        stored_replies: turn.replies.iter().map(|r| r.body.as_str()).collect(),
    }
}

async fn replay(
    conversation_id: i64,
    database_url: &str,
    profile: &BusinessProfile,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
    let turns: Vec<StoredTurn<'_>> = transcript.iter().map(stored_turn).collect();
    let replayed = orchestrator_core::replay::replay(&turns, profile);
    for (n, result) in replayed.iter().enumerate() {
        writeln!(out, "\nturn {} ({} message(s))", n + 1, result.messages.len())?;
        for stored in &transcript[result.messages.clone()] {
            let message = &stored.inbound;
            writeln!(
                out,
                "  #{} {} {}: {}",
                message.id,
                message.received_at.format("%F %T"),
                message.message_type.as_str(),
                message.text_body.as_deref().unwrap_or("-")
            )?;
        }
        show(out, &result.decision)?;
        let verdict = if result.matches { "✓ matches" } else { "✗ differs" };
        let last = &transcript[result.messages.end - 1];
        let bodies: Vec<&str> = last.replies.iter().map(|r| r.body.as_str()).collect();
        let statuses: Vec<&str> = last.replies.iter().map(|r| r.status.as_str()).collect();
        writeln!(out, "stored: {bodies:?} {statuses:?} {verdict}")?;
    }
    let differences = replayed.iter().filter(|t| !t.matches).count();
    writeln!(
        out,
        "\n{} message(s) in {} turn(s), {differences} difference(s)",
        transcript.len(),
        replayed.len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_shows_replies_notices_and_state() {
        let input = "Hi, I'm Ahmed from Pakistan and I need a family visa\n/image\n/reaction\nagent\n/quit\nignored\n";
        let mut out = Vec::new();
        chat(input.as_bytes(), &mut out, &BusinessProfile::default()).expect("chat");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.contains("bot [ASK_EMAIL]: Hi 👋 I'm ABCai"), "{out}");
        assert!(out.contains("bot [ASK_EMAIL]: Thanks! I can only read text messages for now."), "{out}");
        assert!(out.contains("bot: (no reply)"), "{out}");
        assert!(out.contains("staff notified [human_requested]"), "{out}");
        assert!(out.contains("\"nationality\":\"Pakistani\""), "{out}");
        assert!(!out.contains("ignored"), "stops at /quit");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn replay_shows_a_stored_burst_as_one_turn_with_its_one_reply() {
        let db = testkit::TestDb::new().await;
        let reply = domain::text_policy::with_greeting(orchestrator_core::texts::ASK_NAME);
        testkit::sql::execute(db.url(), "INSERT INTO contact (wa_id) VALUES ('971500000900')").await;
        testkit::sql::execute(
            db.url(),
            "INSERT INTO conversation (contact_id, phone_number_id) SELECT id, '123456789012345' FROM contact",
        )
        .await;
        testkit::sql::execute(
            db.url(),
            "INSERT INTO inbound_message (conversation_id, provider_message_id, message_type, text_body, raw)
             SELECT 1, 'wamid.' || n, 'text', t, '{}' FROM (VALUES (1, 'hi'), (2, 'i need'), (3, 'a family visa')) v(n, t)",
        )
        .await;
        testkit::sql::execute(
            db.url(),
            &format!(
                "INSERT INTO outbound_message_log (conversation_id, dedupe_key, question_key, body, reply_to_provider_message_id)
                 VALUES (1, '1:wamid.3:ASK_NAME', 'ASK_NAME', '{}', 'wamid.3')",
                reply.replace('\'', "''")
            ),
        )
        .await;
        let mut out = Vec::new();
        replay(1, db.url(), &BusinessProfile::default(), &mut out).await.expect("replay");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.contains("turn 1 (3 message(s))"), "{out}");
        assert!(out.contains("✓ matches"), "{out}");
        assert!(out.contains("3 message(s) in 1 turn(s), 0 difference(s)"), "{out}");
    }

    #[test]
    fn the_corpus_loads_and_scores() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../orchestrator-core/eval");
        let corpus = load_corpus(&dir).expect("corpus");
        let report = eval::score(&corpus, &BusinessProfile::default());
        assert_eq!(report.conversations, corpus.len());
    }
}
