//! Opening one Postgres connection, in plain text or over verified TLS.
//!
//! The URL speaks libpq's language: `sslmode=require`, `verify-ca` or `verify-full` make the
//! connection TLS-only, and the server certificate is always checked (chain and host name)
//! against the system's trusted roots, or only against the PEM file named by `sslrootcert`.
//! Without `sslmode`, or with `disable`, `allow` or `prefer`, the connection is plain text.

use std::str::FromStr;
use std::sync::Arc;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_platform_verifier::BuilderVerifierExt;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// How to reach the database, parsed once from a connection URL and reused for every
/// connection.
#[derive(Clone)]
pub struct Connector {
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password; say only what the connection will do.
        f.debug_struct("Connector").field("tls", &self.tls.is_some()).finish_non_exhaustive()
    }
}

impl Connector {
    /// Parses `database_url` and, when it asks for TLS, loads the trusted roots.
    ///
    /// Fails with [`StoreError::Config`] on a malformed URL, an unknown `sslmode` or an
    /// unreadable `sslrootcert`; the message never repeats the URL (it holds the password).
    pub fn new(database_url: &str) -> Result<Self, StoreError> {
        let (url, tls_options) = split_tls_options(database_url)?;
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| StoreError::Config(format!("DATABASE_URL is not a valid Postgres URL: {e}")))?;
        // A key=value string keeps the driver's own `sslmode` (it knows `require`).
        let tls = if tls_options.required || config.get_ssl_mode() == SslMode::Require {
            config.ssl_mode(SslMode::Require);
            Some(MakeRustlsConnect::new(client_config(tls_options.root_cert.as_deref())?))
        } else {
            config.ssl_mode(SslMode::Disable);
            None
        };
        Ok(Self { config, tls })
    }

    /// Whether connections are TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Opens a connection.
    pub async fn connect(&self) -> Result<AsyncPgConnection, ConnectionError> {
        let bad = |e: tokio_postgres::Error| ConnectionError::BadConnection(with_causes(&e));
        match &self.tls {
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await.map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            None => {
                let (client, connection) = self.config.connect(tokio_postgres::NoTls).await.map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

/// Opens one connection to `database_url` (see [`Connector`]).
pub async fn connect(database_url: &str) -> Result<AsyncPgConnection, StoreError> {
    Connector::new(database_url)?.connect().await.map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// An error and its causes on one line (the driver's own message is only the outermost,
/// e.g. "error performing TLS handshake" without saying why).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

/// The TLS wishes of a URL, in libpq's terms.
#[derive(Debug, Default)]
struct TlsOptions {
    required: bool,
    root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL (the driver knows neither
/// `verify-*` nor `sslrootcert`) and returns the rest, every other parameter exactly as it
/// was written. A key=value connection string is returned as it is: the driver reads its
/// `sslmode` itself.
fn split_tls_options(database_url: &str) -> Result<(String, TlsOptions), StoreError> {
    let mut options = TlsOptions::default();
    let is_url = database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
    let Some((base, query)) = database_url.split_once('?').filter(|_| is_url) else {
        return Ok((database_url.to_owned(), options));
    };
    let mut kept = Vec::new();
    for parameter in query.split('&') {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        match key {
            "sslmode" => {
                options.required = match value.as_ref() {
                    "disable" | "allow" | "prefer" => false,
                    "require" | "verify-ca" | "verify-full" => true,
                    other => {
                        return Err(StoreError::Config(format!(
                            "DATABASE_URL has sslmode={other}; expected disable, allow, prefer, require, \
                             verify-ca or verify-full"
                        )));
                    }
                }
            }
            "sslrootcert" => options.root_cert = Some(value.into_owned()),
            _ => kept.push(parameter),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, options))
}

/// A rustls client configuration trusting `root_cert` (a PEM file) alone, or the system's
/// roots when it is `None`.
fn client_config(root_cert: Option<&str>) -> Result<ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS set-up failed: {e}")))?;
    let config = match root_cert {
        Some(path) => builder.with_root_certificates(root_store(path)?).with_no_client_auth(),
        None => builder
            .with_platform_verifier()
            .map_err(|e| StoreError::Config(format!("cannot load the system's trusted roots: {e}")))?
            .with_no_client_auth(),
    };
    Ok(config)
}

/// The certificates of the PEM file `path`.
fn root_store(path: &str) -> Result<rustls::RootCertStore, StoreError> {
    let unreadable = |e: &dyn std::fmt::Display| StoreError::Config(format!("sslrootcert {path}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        roots.add(cert.map_err(|e| unreadable(&e))?).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(StoreError::Config(format!("sslrootcert {path}: no certificate in the file")));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_the_url() {
        let (url, options) = split_tls_options(
            "postgres://u:p@h:5/db?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://u:p@h:5/db?connect_timeout=3");
        assert!(options.required);
        assert_eq!(options.root_cert.as_deref(), Some("/ca.pem"));
    }

    #[test]
    fn plain_modes_do_not_require_tls() {
        for mode in ["disable", "allow", "prefer"] {
            let (url, options) = split_tls_options(&format!("postgres://h/db?sslmode={mode}"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(url, "postgres://h/db");
            assert!(!options.required, "{mode}");
        }
    }

    #[test]
    fn an_unknown_sslmode_is_a_clear_error_without_the_password() {
        let e = Connector::new("postgres://u:hunter2@h/db?sslmode=sometimes").expect_err("refused");
        let message = e.to_string();
        assert!(message.contains("sslmode=sometimes"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn a_missing_root_certificate_file_is_a_clear_error() {
        let e = Connector::new("postgres://h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem")
            .expect_err("refused");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn a_key_value_string_keeps_its_sslmode() {
        let plain = Connector::new("host=h dbname=db user=u").unwrap_or_else(|e| panic!("{e}"));
        assert!(!plain.uses_tls());
        let tls = Connector::new("host=h dbname=db sslmode=require").unwrap_or_else(|e| panic!("{e}"));
        assert!(tls.uses_tls());
    }
}
