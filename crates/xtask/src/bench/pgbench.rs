//! The database's own ceiling: `pgbench` running the very statement webhook-ingest commits.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

/// SQL expressions standing in for the statement's parameters `$1`…`$12`: a thousand
/// customers, a unique wamid per transaction, a realistic message.
const PARAMETERS: [&str; 12] = [
    "'9715' || :customer",
    "'AE.' || :customer",
    "'Bench Customer'",
    "'106540352242922'",
    "'15550783881'",
    "now()",
    "'wamid.pgbench.' || :client_id || '.' || :unique",
    "'text'",
    "'Hello, I need a family visa'",
    "'{\"from\":\"971500000000\",\"id\":\"wamid.pgbench\",\"timestamp\":\"1764000000\",\"type\":\"text\",\"text\":{\"body\":\"Hello, I need a family visa\"}}'::jsonb",
    "'0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'",
    "'00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'",
];

/// The pgbench script: the ingest statement with its parameters filled in, on one line
/// (pgbench reads a command per line), its `--` comments left out so they do not swallow
/// the rest of it.
pub fn script() -> String {
    let mut sql = store::ingest::INGEST_MESSAGE_BY_WA_ID_SQL
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _comment)| code))
        .collect::<Vec<_>>()
        .join("\n");
    // Highest first, so `$1` does not eat the start of `$12`.
    for (i, expression) in PARAMETERS.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), expression);
    }
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("\\set customer random(1, 1000)\n\\set unique random(1, 1000000000000000)\n{one_line};\n")
}

/// Runs the script with `clients` connections for `seconds` and returns transactions per
/// second.
pub fn run(pgbench: &Path, url: &str, script_path: &Path, clients: u32, seconds: u64) -> anyhow::Result<f64> {
    let output = Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
        .args(["-T", &seconds.to_string(), "-f"])
        .arg(script_path)
        .arg(url)
        .output()
        .with_context(|| format!("running {}", pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .with_context(|| format!("no tps in pgbench output: {stdout}"))
}

/// Runs the script at `rate` transactions a second (Poisson arrivals, as pgbench schedules
/// them) with `clients` connections for `seconds`; returns each transaction's latency from
/// its scheduled start, in microseconds, as the load driver counts a request's.
pub fn open_loop(
    pgbench: &Path,
    url: &str,
    script_path: &Path,
    clients: u32,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<Histogram<u64>> {
    let log_dir = script_path.with_extension("log.d");
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir)?;
    let output = Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
        .args(["-R", &rate.to_string(), "-T", &seconds.to_string(), "-l", "--log-prefix"])
        .arg(log_dir.join("tx"))
        .arg("-f")
        .arg(script_path)
        .arg(url)
        .output()
        .with_context(|| format!("running {}", pgbench.display()))?;
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut latency = Histogram::new_with_bounds(1, 60_000_000, 3)?;
    for log in std::fs::read_dir(&log_dir)? {
        let text = std::fs::read_to_string(log?.path())?;
        for line in text.lines() {
            // client, transaction, latency (µs), script, epoch s, µs, schedule lag (µs).
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(Ok(time)), Some(Ok(lag))) =
                (fields.get(2).map(|f| f.parse::<u64>()), fields.get(6).map(|f| f.parse::<u64>()))
            else {
                continue;
            };
            latency.record((time + lag).max(1))?;
        }
    }
    std::fs::remove_dir_all(&log_dir)?;
    if latency.is_empty() {
        bail!("pgbench logged no transactions");
    }
    Ok(latency)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_is_the_whole_statement_on_one_line_without_comments() {
        let script = super::script();
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), 3, "two \\set lines and the statement: {script}");
        let statement = lines[2];
        assert!(!statement.contains("--"), "a comment would swallow the rest of the line: {statement}");
        assert!(statement.starts_with("WITH sent AS ("), "{statement}");
        assert!(statement.ends_with("AS notified;"), "the statement reaches its end: {statement}");
        assert!(!statement.contains('$'), "every parameter is filled in: {statement}");
    }
}
