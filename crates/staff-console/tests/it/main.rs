//! staff-console over HTTP against a real Postgres: every action, as staff use it.

#![expect(clippy::expect_used, reason = "tests fail loudly")]

mod access;
mod conversation;
mod helpers;
mod pages;
