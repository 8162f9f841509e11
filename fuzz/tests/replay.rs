//! Replays the committed seed corpus and every kept regression input through the same
//! checks the fuzz targets run, without libFuzzer (plain `cargo test`).

use std::fs;
use std::path::PathBuf;

fn files(dir: &str, seeds_only: bool) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(entries) = fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| !seeds_only || p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-")))
        .collect();
    files.sort();
    files
}

fn replay(dir: &str, seeds_only: bool, check: fn(&[u8])) -> usize {
    let files = files(dir, seeds_only);
    for path in &files {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("replaying {}", path.display());
        check(&bytes);
    }
    files.len()
}

#[test]
fn webhook_seeds_pass() {
    assert!(replay("corpus/webhook_envelope", true, abcai_fuzz::webhook::check) > 0, "no seeds");
}

#[test]
fn engine_seeds_pass() {
    assert!(replay("corpus/orchestrator_engine", true, abcai_fuzz::engine::check) > 0, "no seeds");
}

#[test]
fn webhook_regressions_pass() {
    replay("regressions/webhook_envelope", false, abcai_fuzz::webhook::check);
}

#[test]
fn engine_regressions_pass() {
    replay("regressions/orchestrator_engine", false, abcai_fuzz::engine::check);
}
