//! Tokens and the database URL never show in `Debug` output or in `--help`.

use std::process::Command;

use clap::Parser;
use job_runner::Cli;

const DATABASE_URL: &str = "postgres://runner:db-pw-41c9@db.internal:5432/abc";
const RUNNER_TOKEN: &str = "runner-token-8e2f70";
const CRON_SECRET: &str = "cron-secret-b35d19";
const SECRETS: [&str; 3] = ["db-pw-41c9", RUNNER_TOKEN, CRON_SECRET];

fn assert_hidden(what: &str, printed: &str) {
    for secret in SECRETS {
        assert!(!printed.contains(secret), "{what} shows {secret:?}:\n{printed}");
    }
}

#[test]
fn debug_output_of_every_subcommand_redacts_every_secret() {
    let db = ["--database-url", DATABASE_URL];
    let serve = ["serve", "--runner-token", RUNNER_TOKEN, "--cron-secret", CRON_SECRET];
    for args in [
        &serve[..],
        &["run-once"][..],
        &["migrate"][..],
        &["prune"][..],
        &["failed"][..],
        &["requeue", "--all-failed-jobs"][..],
    ] {
        let argv = std::iter::once("job-runner").chain(args.iter().copied()).chain(db);
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_hidden(args[0], &format!("{cli:?} {cli:#?}"));
    }
}

#[test]
fn help_does_not_print_secret_values_taken_from_the_environment() {
    for subcommand in ["serve", "run-once", "migrate", "prune", "failed", "requeue"] {
        let output = Command::new(env!("CARGO_BIN_EXE_job-runner"))
            .args([subcommand, "--help"])
            .env("DATABASE_URL", DATABASE_URL)
            .env("JOB_RUNNER_TOKEN", RUNNER_TOKEN)
            .env("CRON_SECRET", CRON_SECRET)
            .output()
            .expect("runs");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("DATABASE_URL"), "{help}");
        assert_hidden(subcommand, &help);
    }
}
