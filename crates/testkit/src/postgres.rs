//! A throwaway Postgres cluster started from the local server binaries.
//!
//! `initdb` refuses to run as root, so when this process is root the cluster runs as the
//! `postgres` system user (`PG_RUN_AS` overrides the user). Each cluster gets its own data
//! directory and free port. A detached watcher stops the cluster and deletes its directory
//! as soon as the process that started it exits, even on a crash or SIGKILL, so nothing
//! is left behind.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A failure to start or control a cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The server binaries were not found.
    #[error(
        "PostgreSQL server binaries not found: put `initdb` and `pg_ctl` on PATH, install the \
         `postgresql` package, or set PG_BIN_DIR"
    )]
    BinariesNotFound,
    /// A command could not be run or failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command.
        command: String,
        /// What it printed, or why it could not run.
        detail: String,
    },
    /// A file-system operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How to run a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Keep `fsync` on (benchmarks); off is faster for tests.
    pub durable: bool,
    /// `max_connections`.
    pub max_connections: u32,
    /// Where the data directory goes; the system's temporary directory when `None`, or when
    /// the server's user cannot reach this one (a checkout inside a directory only root may
    /// enter, when the cluster runs as an unprivileged user).
    pub parent_dir: Option<PathBuf>,
    /// Extra `-c name=value` server settings.
    pub settings: Vec<(String, String)>,
    /// Accept TLS connections with this certificate (plain text is still accepted).
    pub tls: Option<ServerTls>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self { durable: false, max_connections: 500, parent_dir: None, settings: Vec::new(), tls: None }
    }
}

/// The certificate chain and private key (both PEM) a TLS-enabled cluster presents.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The server certificate, then any intermediates.
    pub cert_pem: String,
    /// The certificate's private key.
    pub key_pem: String,
}

/// A running throwaway cluster. Dropping it stops the server and deletes its files.
#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    port: u16,
    bin_dir: PathBuf,
    run_as: Option<String>,
    server_options: String,
}

/// The superuser of every throwaway cluster.
pub const SUPERUSER: &str = "postgres";

impl PgCluster {
    /// Creates and starts a cluster. Blocks for the second or two `initdb` takes.
    pub fn start(options: &ClusterOptions) -> Result<Self, ClusterError> {
        let bin_dir = find_bin_dir().ok_or(ClusterError::BinariesNotFound)?;
        let run_as = run_as_user();
        let parent = options
            .parent_dir
            .clone()
            .filter(|dir| reachable_by(run_as.as_deref(), dir))
            .unwrap_or_else(std::env::temp_dir);
        fs::create_dir_all(&parent)?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = parent.join(format!("pg-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir)?;
        let mut cluster = Self { dir, port: 0, bin_dir, run_as, server_options: String::new() };
        cluster.give_dir_to_server_user()?;
        spawn_reaper(&cluster)?;
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data_dir_str(),
                "--auth=trust",
                "--username",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let tls_settings = match &options.tls {
            Some(tls) => cluster.install_certificate(tls)?,
            None => Vec::new(),
        };
        let mut last_error = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            cluster.server_options = server_options(options, &tls_settings, cluster.port, &cluster.dir);
            match cluster.pg_ctl_start() {
                Ok(()) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(ClusterError::BinariesNotFound))
    }

    /// The port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The cluster's own directory (data, socket and server log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory holding the server binaries (`pgbench`, `psql` live there too).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Stops the server at once, as a crash or outage would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.run("pg_ctl", &["stop", "-D", &self.data_dir_str(), "-m", "immediate", "-w"])
    }

    /// Starts the server again on the same port after [`PgCluster::stop`].
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.pg_ctl_start()
    }

    fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "start",
                "-D",
                &self.data_dir_str(),
                "-w",
                "-t",
                "60",
                "-l",
                &log.to_string_lossy(),
                "-o",
                &self.server_options,
            ],
        )
    }

    fn data_dir_str(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    /// Writes the certificate and key where the server reads them (the key readable by the
    /// server user only, as Postgres demands) and returns the settings that turn TLS on.
    fn install_certificate(&self, tls: &ServerTls) -> Result<Vec<(String, String)>, ClusterError> {
        use std::os::unix::fs::PermissionsExt;
        let cert = self.dir.join("server.crt");
        let key = self.dir.join("server.key");
        fs::write(&cert, &tls.cert_pem)?;
        fs::write(&key, &tls.key_pem)?;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600))?;
        if let Some(user) = &self.run_as {
            run_command(Command::new("chown").arg(user).arg(&cert).arg(&key))?;
        }
        Ok(vec![
            ("ssl".to_owned(), "on".to_owned()),
            ("ssl_cert_file".to_owned(), cert.to_string_lossy().into_owned()),
            ("ssl_key_file".to_owned(), key.to_string_lossy().into_owned()),
        ])
    }

    fn give_dir_to_server_user(&self) -> Result<(), ClusterError> {
        if let Some(user) = &self.run_as {
            run_command(Command::new("chown").arg(user).arg(&self.dir))?;
        }
        Ok(())
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), ClusterError> {
        let binary = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        command.args(args).current_dir(&self.dir);
        run_command(&mut command)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Best effort: the reaper removes what is left if this fails.
        let _ = self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The cluster shared by every test of this process, started on first use.
pub fn shared() -> Result<&'static PgCluster, String> {
    static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| PgCluster::start(&ClusterOptions::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

fn server_options(options: &ClusterOptions, tls: &[(String, String)], port: u16, dir: &Path) -> String {
    // Without fsync a commit still reaches the OS before it is acknowledged, so an
    // immediate stop (an outage test) loses nothing; only an OS crash would.
    let durability = if options.durable {
        "-c fsync=on -c synchronous_commit=on"
    } else {
        "-c fsync=off -c synchronous_commit=on -c full_page_writes=off"
    };
    let mut s = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections={} {durability}",
        dir.display(),
        options.max_connections
    );
    for (name, value) in options.settings.iter().chain(tls) {
        s.push_str(&format!(" -c {name}={value}"));
    }
    s
}

/// Whether `user` (this process's own user when `None`) can enter `dir`, creating it first.
fn reachable_by(user: Option<&str>, dir: &Path) -> bool {
    let Some(user) = user else { return true };
    fs::create_dir_all(dir).is_ok()
        && Command::new("runuser")
            .args(["-u", user, "--", "test", "-x"])
            .arg(dir)
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}

fn run_command(command: &mut Command) -> Result<(), ClusterError> {
    let described = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ClusterError::Command { command: described.clone(), detail: e.to_string() })?;
    if output.status.success() {
        return Ok(());
    }
    Err(ClusterError::Command {
        command: described,
        detail: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// `PG_BIN_DIR`, else the directory of `initdb` on PATH, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    });
    if let Some(dir) = on_path {
        // Follow a symlinked initdb to the directory that also holds pgbench and psql.
        return fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .or(Some(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// The user the server runs as: `PG_RUN_AS`, else `postgres` when this process is root.
fn run_as_user() -> Option<String> {
    if let Ok(user) = std::env::var("PG_RUN_AS") {
        return Some(user);
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    (String::from_utf8_lossy(&uid.stdout).trim() == "0").then(|| SUPERUSER.to_owned())
}

fn free_port() -> Result<u16, ClusterError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts a detached watcher (its own session, so Ctrl-C of the test run does not kill it)
/// that waits for this process to exit, then stops the cluster and deletes its files.
fn spawn_reaper(cluster: &PgCluster) -> Result<(), ClusterError> {
    let pg_ctl = cluster.bin_dir.join("pg_ctl");
    let data = cluster.data_dir_str();
    let stop = match &cluster.run_as {
        Some(user) => format!("runuser -u {user} -- '{}' stop -D '{data}' -m immediate", pg_ctl.display()),
        None => format!("'{}' stop -D '{data}' -m immediate", pg_ctl.display()),
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         if [ -d '{dir}' ]; then {stop} >/dev/null 2>&1; rm -rf '{dir}'; fi",
        pid = std::process::id(),
        dir = cluster.dir.display(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(())
}
