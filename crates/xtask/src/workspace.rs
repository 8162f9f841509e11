//! Where the workspace is, building its binaries, and the Postgres a task runs on.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use testkit::{ClusterOptions, PgCluster};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

/// Cargo's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Builds `packages` and returns the directory holding their binaries.
pub fn build(release: bool, packages: &[&str]) -> anyhow::Result<PathBuf> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.arg("build").current_dir(root());
    if release {
        command.arg("--release");
    }
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(target_dir().join(if release { "release" } else { "debug" }))
}

/// Builds every binary of the workspace in debug mode (the same feature selection as
/// `cargo build --workspace`, so nothing is rebuilt after it) and returns their directory.
pub fn build_all() -> anyhow::Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--workspace", "--bins"])
        .current_dir(root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(target_dir().join("debug"))
}

/// A database for a task: `DATABASE_URL` when set, else a throwaway cluster under
/// `target/<name>` (kept alive by the returned handle).
pub fn database(name: &str, durable: bool) -> anyhow::Result<(String, Option<PgCluster>)> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        return Ok((url, None));
    }
    let options =
        ClusterOptions { durable, parent_dir: Some(target_dir().join(name)), ..ClusterOptions::default() };
    let cluster = PgCluster::start(&options).context("starting the embedded Postgres")?;
    Ok((cluster.url("postgres"), Some(cluster)))
}
