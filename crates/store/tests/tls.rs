//! Connections over TLS: `sslmode=require` (or `verify-*`) gets an encrypted connection to a
//! server whose certificate chains to a trusted root and names the host, and nothing else.
//! The pool, the LISTEN connection and the migrations all go through it.

#![expect(clippy::expect_used, reason = "a test fails loudly on any unexpected error")]

use std::path::PathBuf;
use std::sync::OnceLock;

use diesel::QueryableByName;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use store::{Connector, PoolSettings};
use testkit::{ClusterOptions, PgCluster, ServerTls, TestDb};

/// A cluster presenting a certificate for `localhost`, issued by a private root whose PEM
/// file is `ca_file`.
struct TlsCluster {
    cluster: PgCluster,
    ca_file: PathBuf,
}

impl TlsCluster {
    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.cluster.port())
    }

    fn trusted(&self) -> String {
        format!("sslrootcert={}", self.ca_file.display())
    }
}

/// One TLS cluster for this test binary (the throwaway cluster's watcher removes it at exit).
fn tls_cluster() -> &'static TlsCluster {
    static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
        let server_key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &ca)
            .expect("server certificate");
        let tls = ServerTls { cert_pem: server.pem(), key_pem: server_key.serialize_pem() };
        let cluster = PgCluster::start(&ClusterOptions { tls: Some(tls), ..ClusterOptions::default() })
            .expect("TLS cluster starts");
        let ca_file = cluster.dir().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write CA");
        TlsCluster { cluster, ca_file }
    })
}

async fn cluster() -> &'static TlsCluster {
    tokio::task::spawn_blocking(tls_cluster).await.expect("join")
}

#[derive(QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

/// The error of a connection attempt that must fail.
async fn refusal(url: &str) -> store::StoreError {
    match store::connect::connect(url).await {
        Ok(_) => panic!("connected, but should have been refused"),
        Err(e) => e,
    }
}

async fn is_encrypted(conn: &mut AsyncPgConnection) -> bool {
    diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Encrypted>(conn)
        .await
        .expect("pg_stat_ssl")
        .ssl
}

#[tokio::test(flavor = "multi_thread")]
async fn require_with_a_trusted_root_connects_encrypted() {
    let tls = cluster().await;
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = tls.url("localhost", &format!("sslmode={mode}&{}", tls.trusted()));
        let mut conn = store::connect::connect(&url).await.expect("connects over TLS");
        assert!(is_encrypted(&mut conn).await, "{mode}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pool_the_listener_and_migrations_use_tls() {
    let tls = cluster().await;
    let url = tls.url("localhost", &format!("sslmode=verify-full&{}", tls.trusted()));
    store::migrations::run_pending(&url).await.expect("migrates over TLS");
    let settings = PoolSettings {
        application_name: "tls-test",
        max_size: 2,
        timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(5),
    };
    let pool = store::build_pool(&url, &settings).expect("pool");
    let mut conn = store::connection(&pool).await.expect("pooled connection");
    assert!(is_encrypted(&mut conn).await);
    store::listen::Listener::connect(&url, store::OUTBOUND_JOB_CHANNEL).await.expect("listens over TLS");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_from_an_unknown_issuer_is_refused() {
    let tls = cluster().await;
    // The system roots do not include the private root.
    let e = refusal(&tls.url("localhost", "sslmode=require")).await;
    assert!(e.to_string().contains("invalid peer certificate: UnknownIssuer"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_another_host_is_refused() {
    let tls = cluster().await;
    // The certificate names `localhost`, not the address.
    let url = tls.url("127.0.0.1", &format!("sslmode=verify-full&{}", tls.trusted()));
    let e = refusal(&url).await;
    assert!(e.to_string().contains("not valid for name \"127.0.0.1\""), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_sslmode_the_connection_is_plain() {
    let tls = cluster().await;
    let mut conn = store::connect::connect(&tls.url("localhost", "")).await.expect("connects");
    assert!(!is_encrypted(&mut conn).await);
    assert!(!Connector::new(&tls.url("localhost", "")).expect("parses").uses_tls());
}

#[tokio::test(flavor = "multi_thread")]
async fn require_against_a_server_without_tls_fails() {
    let db = TestDb::new().await;
    let separator = if db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}sslmode=require", db.url());
    // The shared test cluster has no TLS.
    let e = refusal(&url).await;
    assert!(e.to_string().contains("TLS") || e.to_string().contains("SSL"), "{e}");
}
