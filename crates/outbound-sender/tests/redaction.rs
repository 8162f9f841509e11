//! The access token and the database URL never show in `Debug` output or in `--help`.

use std::path::Path;

use clap::Parser;
use outbound_sender::Cli;
use testkit::secrets::{assert_help_hides, assert_hidden};

const DATABASE_URL: &str = "postgres://sender:db-pw-c83a@db.internal:5432/abc";
const ACCESS_TOKEN: &str = "EAAG-access-token-0f4b2d";
const SECRETS: [&str; 2] = ["db-pw-c83a", ACCESS_TOKEN];

#[test]
fn debug_output_of_the_configuration_redacts_every_secret() {
    let cli = Cli::try_parse_from([
        "outbound-sender",
        "serve",
        "--database-url",
        DATABASE_URL,
        "--access-token",
        ACCESS_TOKEN,
    ])
    .expect("parses");
    assert_hidden("serve", &format!("{cli:?} {cli:#?}"), &SECRETS);
    let cli =
        Cli::try_parse_from(["outbound-sender", "migrate", "--database-url", DATABASE_URL]).expect("parses");
    assert_hidden("migrate", &format!("{cli:?}"), &SECRETS);
}

#[test]
fn help_does_not_print_secret_values_taken_from_the_environment() {
    let env = [("DATABASE_URL", DATABASE_URL), ("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)];
    assert_help_hides(
        Path::new(env!("CARGO_BIN_EXE_outbound-sender")),
        &["serve", "migrate"],
        &env,
        &SECRETS,
    );
}
