//! Secrets and the database URL never show in `Debug` output or in `--help`.

use std::path::Path;

use clap::Parser;
use testkit::secrets::{assert_help_hides, assert_hidden};
use webhook_ingest::{Cli, Command as Subcommand};

const DATABASE_URL: &str = "postgres://ingest:db-pw-5b1e@db.internal:5432/abc";
const APP_SECRET: &str = "app-secret-9d2c41";
const VERIFY_TOKEN: &str = "verify-token-e07a13";
const SECRETS: [&str; 3] = ["db-pw-5b1e", APP_SECRET, VERIFY_TOKEN];

#[test]
fn debug_output_of_the_configuration_redacts_every_secret() {
    let cli = Cli::try_parse_from([
        "webhook-ingest",
        "serve",
        "--database-url",
        DATABASE_URL,
        "--app-secret",
        APP_SECRET,
        "--verify-token",
        VERIFY_TOKEN,
    ])
    .expect("parses");
    let Subcommand::Serve(config) = &cli.command else { panic!("serve expected") };
    assert_eq!(config.db.database_url.expose(), DATABASE_URL);
    assert_eq!(config.app_secret.as_ref().map(|s| s.expose()), Some(APP_SECRET));
    assert_hidden("Cli", &format!("{cli:?} {cli:#?}"), &SECRETS);

    let cli =
        Cli::try_parse_from(["webhook-ingest", "migrate", "--database-url", DATABASE_URL]).expect("parses");
    assert_hidden("migrate", &format!("{cli:?}"), &SECRETS);
}

#[test]
fn help_does_not_print_secret_values_taken_from_the_environment() {
    let env = [
        ("DATABASE_URL", DATABASE_URL),
        ("WHATSAPP_APP_SECRET", APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
    ];
    assert_help_hides(Path::new(env!("CARGO_BIN_EXE_webhook-ingest")), &["serve", "migrate"], &env, &SECRETS);
}
