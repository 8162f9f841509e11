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
use tokio::sync::{Notify, mpsc};

/// A service binary running as a child process. Killed when dropped.
#[derive(Debug)]
pub struct ChildService {
    addr: SocketAddr,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    new_line: Arc<Notify>,
}

impl ChildService {
    /// Runs `binary args…` with `BIND_ADDR=127.0.0.1:0`, `LOG_FORMAT=json` and `envs`, and
    /// waits (up to 30 s) for it to report the address it listens on.
    pub async fn start(binary: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::io::Result<Self> {
        Self::spawn(binary, args, envs, Logs::Keep).await
    }

    /// Like [`ChildService::start`], but drops the service's log lines instead of keeping
    /// them (benchmarks, where keeping them would cost the driver CPU).
    pub async fn start_quiet(binary: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::io::Result<Self> {
        Self::spawn(binary, args, envs, Logs::Discard).await
    }

    /// Like [`ChildService::start`], and also prints every log line to stdout as
    /// `[echo_as] LEVEL message key=value…`, for a developer watching the stack.
    pub async fn start_echoing(
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        echo_as: &str,
    ) -> std::io::Result<Self> {
        Self::spawn(binary, args, envs, Logs::Echo(echo_as.to_owned())).await
    }

    async fn spawn(binary: &Path, args: &[&str], envs: &[(&str, &str)], mode: Logs) -> std::io::Result<Self> {
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
        let new_line = Arc::new(Notify::new());
        let (addr_tx, mut addr_rx) = mpsc::channel(1);
        let sink = LineSink { logs: logs.clone(), new_line: new_line.clone(), addr_tx, mode };
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect_lines(out, sink.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect_lines(err, sink));
        }
        let addr = tokio::time::timeout(Duration::from_secs(30), addr_rx.recv()).await.ok().flatten();
        match addr {
            Some(addr) => Ok(Self { addr, child, logs, new_line }),
            None => {
                let printed = logs.lock().map(|l| l.join("\n")).unwrap_or_default();
                Err(std::io::Error::other(format!(
                    "{} did not report a listening address; it printed:\n{printed}",
                    binary.display()
                )))
            }
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
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

    /// Waits (up to `timeout`) until a log line containing `needle` has been printed;
    /// services write logs in the background, so a line may trail the response it is about.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.new_line.notified();
            if self.logs().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
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

/// Where a service's output lines go.
#[derive(Clone)]
struct LineSink {
    logs: Arc<Mutex<Vec<String>>>,
    new_line: Arc<Notify>,
    addr_tx: mpsc::Sender<SocketAddr>,
    mode: Logs,
}

async fn collect_lines(stream: impl AsyncRead + Unpin, sink: LineSink) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = listening_addr(&line) {
            let _ = sink.addr_tx.try_send(addr);
        }
        if let Logs::Echo(name) = &sink.mode {
            println!("[{name}] {}", readable(&line));
        }
        if sink.mode != Logs::Discard
            && let Ok(mut logs) = sink.logs.lock()
        {
            logs.push(line);
        }
        sink.new_line.notify_waiters();
    }
}

/// What happens to a service's log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Logs {
    /// Kept for [`ChildService::logs`].
    Keep,
    /// Kept and printed, prefixed with the name.
    Echo(String),
    /// Read and dropped.
    Discard,
}

/// A JSON log line as `LEVEL message key=value…` (other lines unchanged).
fn readable(line: &str) -> String {
    let Ok(serde_json::Value::Object(event)) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_owned();
    };
    let level = event.get("level").and_then(|l| l.as_str()).unwrap_or("");
    let mut out = format!("{level:>5}");
    if let Some(serde_json::Value::Object(fields)) = event.get("fields") {
        if let Some(message) = fields.get("message").and_then(|m| m.as_str()) {
            out.push(' ');
            out.push_str(message);
        }
        for (key, value) in fields.iter().filter(|(k, _)| *k != "message") {
            out.push_str(&format!(
                " {key}={}",
                value.as_str().map_or_else(|| value.to_string(), str::to_owned)
            ));
        }
    }
    out
}

/// The `addr` of a JSON `listening` log event.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("listening") {
        return None;
    }
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = event.get("fields")?;
    if fields.get("message")?.as_str()? != "listening" {
        return None;
    }
    fields.get("addr")?.as_str()?.parse().ok()
}

/// The directory of the workspace's binaries, next to the running test or tool
/// (`target/<profile>/`). `cargo test --workspace` builds every service binary before
/// running tests.
pub fn workspace_bin_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("cannot find the running executable: {e}"));
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The path of the workspace binary `name`.
///
/// # Panics
/// When the binary has not been built.
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let path = workspace_bin_dir().join(name);
    assert!(path.is_file(), "{} is not built; run `cargo build --workspace` first", path.display());
    path
}
