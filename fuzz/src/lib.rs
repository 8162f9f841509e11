//! The checks behind the fuzz targets, kept in a library so that the targets stay thin and
//! `cargo test` can replay the seed corpus and every kept regression input without
//! libFuzzer (see `tests/replay.rs`).

pub mod engine;
pub mod webhook;
