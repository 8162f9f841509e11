//! Start a service binary on port 0 and learn the address it bound.
//!
//! Every service logs a `listening` event carrying `addr` once its socket is bound; with
//! `LOG_FORMAT=json` that is one JSON line, which this module waits for. Everything the
//! service prints is kept, so a test can assert on its logs.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A service binary running as a child process. Killed when dropped.
#[derive(Debug)]
pub struct ChildService {
    addr: SocketAddr,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl ChildService {
    /// Runs `binary args…` with `BIND_ADDR=127.0.0.1:0`, `LOG_FORMAT=json` and `envs`, and
    /// waits (up to 30 s) for it to report the address it listens on.
    pub async fn start(binary: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::io::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, mut addr_rx) = mpsc::channel(1);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect_lines(out, logs.clone(), addr_tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect_lines(err, logs.clone(), addr_tx));
        }
        let addr = tokio::time::timeout(Duration::from_secs(30), addr_rx.recv()).await.ok().flatten();
        match addr {
            Some(addr) => Ok(Self { addr, child, logs }),
            None => {
                let printed = logs.lock().map(|l| l.join("\n")).unwrap_or_default();
                Err(std::io::Error::other(format!(
                    "{} did not report a listening address; it printed:\n{printed}",
                    binary.display()
                )))
            }
        }
    }

    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every line the service printed so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn terminate(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(pid) = self.child.id() {
            Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
        }
        self.child.wait().await
    }

    /// Kills the process at once (SIGKILL) and waits for it.
    pub async fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill().await
    }
}

async fn collect_lines(
    stream: impl AsyncRead + Unpin,
    logs: Arc<Mutex<Vec<String>>>,
    addr_tx: mpsc::Sender<SocketAddr>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = listening_addr(&line) {
            let _ = addr_tx.try_send(addr);
        }
        if let Ok(mut logs) = logs.lock() {
            logs.push(line);
        }
    }
}

/// The `addr` of a JSON `listening` log event.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = event.get("fields")?;
    if fields.get("message")?.as_str()? != "listening" {
        return None;
    }
    fields.get("addr")?.as_str()?.parse().ok()
}
