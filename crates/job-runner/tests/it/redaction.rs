//! Tokens and the database URL never show in `Debug` output or in `--help`.

use std::path::Path;

use clap::Parser;
use job_runner::Cli;
use testkit::secrets::{assert_help_hides, assert_hidden};

const DATABASE_URL: &str = "postgres://runner:db-pw-41c9@db.internal:5432/abc";
const RUNNER_TOKEN: &str = "runner-token-8e2f70";
const CRON_SECRET: &str = "cron-secret-b35d19";
const SECRETS: [&str; 3] = ["db-pw-41c9", RUNNER_TOKEN, CRON_SECRET];

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
        assert_hidden(args[0], &format!("{cli:?} {cli:#?}"), &SECRETS);
    }
}

#[test]
fn help_does_not_print_secret_values_taken_from_the_environment() {
    let env =
        [("DATABASE_URL", DATABASE_URL), ("JOB_RUNNER_TOKEN", RUNNER_TOKEN), ("CRON_SECRET", CRON_SECRET)];
    assert_help_hides(
        Path::new(env!("CARGO_BIN_EXE_job-runner")),
        &["serve", "run-once", "migrate", "prune", "failed", "requeue"],
        &env,
        &SECRETS,
    );
}
