//! A headless Chromium for one test, with its own chromedriver and profile.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};

/// Desktop and phone viewports of the screenshots.
const SIZES: [(&str, u32, u32); 2] = [("desktop", 1366, 900), ("phone", 390, 844)];

pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    _profile: TempDir,
}

/// A test that ends early (a failed assertion) cannot close its session: chromedriver is
/// started as the leader of a process group of its own, which Chromium joins, and the whole
/// group is killed, so no browser outlives its test.
impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let driver = tokio::process::Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_path} (install chromium-driver): {e}"));
        let profile =
            TempDir(std::env::temp_dir().join(format!("console-chromium-{}", uuid::Uuid::new_v4())));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=en-GB",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls().expect("tls").capabilities(capabilities.clone()).connect(&url).await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "chromedriver at {url} never answered: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        client.set_window_size(SIZES[0].1, SIZES[0].2).await.expect("window size");
        Self { client, driver, _profile: profile }
    }

    /// Ends the session: chromedriver closes the browser.
    pub async fn close(self) {
        self.client.clone().close().await.expect("the session ends");
    }

    /// Saves `{name}-desktop.png` and `{name}-phone.png` of the current page in
    /// `CONSOLE_SCREENSHOTS_DIR`, when it is set.
    pub async fn screenshots(&self, name: &str) {
        let Ok(dir) = std::env::var("CONSOLE_SCREENSHOTS_DIR") else { return };
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        for (size, width, height) in SIZES {
            self.client.set_window_size(width, height).await.expect("window size");
            self.client.refresh().await.expect("reload at this size");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(PathBuf::from(&dir).join(format!("{name}-{size}.png")), png).expect("saved");
        }
        self.client.set_window_size(SIZES[0].1, SIZES[0].2).await.expect("window size");
    }
}
