//! The engine on the labelled corpus in `eval/`: it must stay above the floors (set just
//! under what it reaches: every conversation and every field right today).

use std::path::Path;

use orchestrator_core::{BusinessProfile, eval};

/// The lowest acceptable share of conversations handled fully right.
const MIN_FULL: f64 = 0.97;
/// The lowest acceptable accuracy of each lead field.
const MIN_FIELD: f64 = 0.99;

#[test]
fn the_corpus_stays_above_the_floors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("eval folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut corpus = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        corpus.extend(eval::parse(&file.display().to_string(), &text).expect("parse"));
    }
    let profile = BusinessProfile::from_toml(include_str!("../../../deploy/business-profile.example.toml"))
        .expect("example profile");
    let report = eval::score(&corpus, &profile);
    println!("{report}");
    assert!(report.full_share() >= MIN_FULL, "{:.3} fully right", report.full_share());
    let (field, weakest) = report.weakest_field();
    assert!(weakest >= MIN_FIELD, "{field} at {weakest:.3}");
}
