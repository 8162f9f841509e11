//! Test and tooling support shared by every crate's tests, the benchmarks and `cargo xtask`:
//!
//! - [`postgres`]: a throwaway Postgres cluster from the local server binaries (run as an
//!   unprivileged user when the process is root), removed when the process ends;
//! - [`console`]: a browser-like client of the staff console;
//! - [`db`]: a fresh, migrated database per test;
//! - [`service`]: start a service binary on port 0 and learn its address;
//! - [`payloads`]: signed webhook bodies of every message and status type;
//! - [`records`]: rows for `store::ingest` built directly;
//! - [`stack`]: the four services as real processes wired to each other;
//! - [`sql`]: one-line queries for assertions;
//! - [`secrets`]: secrets stay out of `Debug` output and `--help`;
//! - [`demo`]: a scripted customer conversation through a running stack.

pub mod console;
pub mod db;
pub mod demo;
pub mod payloads;
pub mod postgres;
pub mod records;
pub mod secrets;
pub mod service;
pub mod sql;
pub mod stack;

pub use db::TestDb;
pub use postgres::{ClusterOptions, PgCluster, ServerTls};
