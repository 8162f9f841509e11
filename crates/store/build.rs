//! Rebuild when a migration is added, so the embedded set is always complete.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
