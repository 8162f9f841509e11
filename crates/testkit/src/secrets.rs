//! Checks that secrets stay out of what a binary prints.

use std::path::Path;
use std::process::Command;

/// Panics when `printed` (described as `what`) shows any of `secrets`.
pub fn assert_hidden(what: &str, printed: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!printed.contains(secret), "{what} shows {secret:?}:\n{printed}");
    }
}

/// Runs `binary <subcommand> --help` with `env` set (secrets among them, as a deployment
/// sets them) for each subcommand (`""` for none), and asserts that the help is printed and
/// shows none of `secrets`.
pub fn assert_help_hides(binary: &Path, subcommands: &[&str], env: &[(&str, &str)], secrets: &[&str]) {
    for subcommand in subcommands {
        let output = Command::new(binary)
            .args([*subcommand, "--help"].iter().filter(|a| !a.is_empty()))
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Usage"), "{subcommand} --help printed no help:\n{help}");
        assert_hidden(&format!("{subcommand} --help"), &help, secrets);
    }
}
