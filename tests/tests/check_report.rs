//! `golb check --format json|github` as CI runs it: the harness's golb
//! binary on an example and on a spec with a mistake. The renderers' details
//! are unit-tested in frontend/src/check_report.rs.
//!
//! Rerun with `cargo test -p golb-e2e --test check_report`.

use golb_e2e::{harness, run, ExampleCopy};
use std::process::Command;

#[test]
fn check_formats_json_and_github_annotations_with_exit_codes() {
    let h = harness();
    let copy = ExampleCopy::new("multi", "check-report");
    let spec = copy.path().join("golb.toml");

    // A good spec: warnings only (unpinned images), exit 0, on stdout.
    let out = run(Command::new(h.golb_binary())
        .arg("check")
        .arg(&spec)
        .args(["--format", "github"]));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().all(|l| l.starts_with("::warning file=")),
        "{stdout}"
    );
    assert!(
        stdout.contains("title=golb check%3A UnpinnedImage::"),
        "{stdout}"
    );

    // A package that does not exist: an error annotation at its line, exit 1.
    copy.replace(
        "golb.toml",
        "package = \"./cmd/migrate\"",
        "package = \"./cmd/migrat\"",
    );
    let line = std::fs::read_to_string(&spec)
        .unwrap()
        .lines()
        .position(|l| l.contains("./cmd/migrat\""))
        .unwrap()
        + 1;
    let out = run(Command::new(h.golb_binary())
        .arg("check")
        .arg(&spec)
        .args(["--format", "github"]));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let error = stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no error annotation:\n{stdout}"));
    assert!(
        error.contains(&format!("file={},line={line},col=11", spec.display())),
        "{error}"
    );
    assert!(error.contains("BinaryPackageNotFound"), "{error}");

    let out = run(Command::new(h.golb_binary())
        .arg("check")
        .arg(&spec)
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
    assert_eq!(json["errors"], 1, "{json:#}");
    let found = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "BinaryPackageNotFound")
        .expect("the finding");
    assert_eq!(found["line"], line);
    assert_eq!(found["severity"], "error");

    // A TOML mistake is reported in the same format before any check runs.
    copy.write("golb.toml", "# syntax=x\n[builder]\ngoo = \"1.26\"\n");
    let out = run(Command::new(h.golb_binary())
        .arg("check")
        .arg(&spec)
        .args(["--format", "json"]));
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["diagnostics"][0]["line"], 3, "{json:#}");
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
