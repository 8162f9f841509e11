//! The database URL holds a password: it never shows in `Debug` output, nor in the errors
//! a failed connection produces (they end up in logs).

use std::time::Duration;

use clap::Parser;
use store::migrations::MigrateArgs;
use store::{DbArgs, PoolSettings, StoreError};

const PASSWORD: &str = "pw-7f3a9c-secret";

/// A URL with a password, to a port nothing listens on (1 is privileged and unused).
fn unreachable_url() -> String {
    format!("postgres://abc_user:{PASSWORD}@127.0.0.1:1/abc_db")
}

fn assert_redacted(what: &str, printed: &str) {
    assert!(!printed.contains(PASSWORD), "{what} shows the password: {printed}");
    assert!(!printed.contains("127.0.0.1:1/abc_db"), "{what} shows the URL: {printed}");
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Parser)]
struct MigrateCli {
    #[command(flatten)]
    migrate: MigrateArgs,
}

#[test]
fn db_args_and_migrate_args_redact_the_url() {
    let url = unreachable_url();
    let db = Cli::try_parse_from(["x", "--database-url", &url]).expect("parses");
    assert_eq!(db.db.database_url.expose(), url, "the value itself is kept");
    assert_redacted("DbArgs", &format!("{db:?} {db:#?}"));
    let migrate = MigrateCli::try_parse_from(["x", "--database-url", &url]).expect("parses");
    assert_eq!(migrate.migrate.database_url.expose(), url);
    assert_redacted("MigrateArgs", &format!("{migrate:?} {migrate:#?}"));
}

fn assert_error_redacted(what: &str, e: &StoreError) {
    assert_redacted(what, &format!("{e} | {e:?} | {}", source_chain(e)));
}

/// The error and its whole `source()` chain, as `anyhow`'s `{:#}` prints it at the top of a binary.
fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_errors_never_carry_the_url() {
    let settings = PoolSettings {
        application_name: "redaction-test",
        max_size: 1,
        timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(2),
    };
    // Refused connection: through the pool, the migration harness and LISTEN.
    let url = unreachable_url();
    let pool = store::build_pool(&url, &settings).expect("a pool builds without connecting");
    let e = store::connection(&pool).await.err().expect("nothing listens there");
    assert!(e.is_unavailable(), "{e:?}");
    assert_error_redacted("pool error", &e);
    let e = store::migrations::run_pending(&url).await.expect_err("nothing listens there");
    assert_error_redacted("migration error", &e);
    let e = store::listen::Listener::connect(&url, store::OUTBOUND_JOB_CHANNEL).await.err().expect("refused");
    assert_error_redacted("listen error", &e);

    // A URL that does not parse (bad port, unknown option, unknown sslmode) is refused at
    // once, and not echoed either.
    for bad in [
        format!("postgres://abc_user:{PASSWORD}@127.0.0.1:notaport/abc_db"),
        format!("postgres://abc_user:{PASSWORD}@127.0.0.1:1/abc_db?bogus_option=1"),
        format!("postgres://abc_user:{PASSWORD}@127.0.0.1:1/abc_db?sslmode=always"),
    ] {
        let e = store::build_pool(&bad, &settings).err().expect("does not parse");
        assert!(matches!(e, StoreError::Config(_)), "{e:?}");
        assert_error_redacted("pool error on a bad URL", &e);
        let e = store::migrations::run_pending(&bad).await.expect_err("does not parse");
        assert_error_redacted("migration error on a bad URL", &e);
        let e =
            store::listen::Listener::connect(&bad, store::OUTBOUND_JOB_CHANNEL).await.err().expect("refused");
        assert_error_redacted("listen error on a bad URL", &e);
    }
}
