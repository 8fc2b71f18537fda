//! Tests that need a program from outside Rust (here aiosmtpd, a python SMTP server): on CI every
//! one is installed (`.ci/run` sees to it), so a missing one fails the test; on a newcomer's
//! machine the test says what it skipped and passes. A copy of devices/tests/tools/mod.rs.
#![allow(dead_code)]

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false` (CI services set
/// `CI=true`, and so does `.ci/run`).
pub fn on_ci() -> bool {
    is_ci(std::env::var("CI").ok().as_deref())
}

fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|value| !matches!(value.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// For a test that needs `tool`: `true` when it is `present`; when it is not, a failure on CI, or
/// a notice and `false` (the test then returns early).
pub fn available(present: bool, tool: &str, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(!on_ci(), "{tool} is missing, and a CI run must not skip what needs it ({install})");
    eprintln!("SKIPPED: {tool} is missing ({install})");
    false
}

#[test]
fn ci_is_any_value_of_the_variable_but_empty_zero_or_false() {
    for value in ["true", "1", "yes", "TRUE"] {
        assert!(is_ci(Some(value)), "{value}");
    }
    for value in [None, Some(""), Some("0"), Some("false"), Some("False")] {
        assert!(!is_ci(value), "{value:?}");
    }
}
