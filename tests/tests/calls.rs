//! What `buildx build --call …` asks golb instead of a build: targets,
//! outline and check, answered in the shapes BuildKit's own clients print.

use golb_e2e::{harness, repo_root, run, text, ExampleCopy, Harness};
use std::path::Path;
use std::process::Output;

fn call(h: &Harness, dir: &Path, what: &str, extra: &[&str]) -> Output {
    let mut cmd = h.command("buildx");
    cmd.current_dir(dir)
        .args([
            "build",
            "--progress=plain",
            "-f",
            "golb.toml",
            "--call",
            what,
        ])
        .args(extra)
        .arg(".");
    run(&mut cmd)
}

#[test]
fn call_targets_lists_golbs_targets() {
    let h = harness();
    let out = call(h, &repo_root().join("examples/hello"), "targets", &[]);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    for target in ["image (default)", "binaries", "test", "vet"] {
        assert!(printed.contains(target), "{target} missing:\n{printed}");
    }
}

#[test]
fn call_outline_lists_build_args_and_secrets() {
    let h = harness();
    let out = call(h, &repo_root().join("examples/multi"), "outline", &[]);
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("VERSION") && printed.contains("0.0.0-dev"),
        "the [args] default:\n{printed}"
    );
    assert!(printed.contains("SOURCE_DATE_EPOCH"), "{printed}");
    assert!(
        printed.contains("netrc"),
        "the optional netrc secret:\n{printed}"
    );
}

#[test]
fn call_check_passes_a_good_spec_with_warnings_only() {
    let h = harness();
    let out = call(h, &repo_root().join("examples/hello"), "check", &[]);
    let printed = text(&out);
    assert!(
        out.status.success(),
        "warnings do not fail a check:\n{printed}"
    );
    assert!(printed.contains("UnpinnedImage"), "{printed}");
}

#[test]
fn call_check_finds_go_problems_and_fails() {
    let h = harness();
    let work = ExampleCopy::new("hello", "check-cgo");
    work.write(
        "cmd/server/cgo.go",
        "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc usesC() {}\n",
    );
    let out = call(h, work.path(), "check", &[]);
    let printed = text(&out);
    assert!(
        !out.status.success(),
        "an error finding fails --call check:\n{printed}"
    );
    assert!(printed.contains("CgoImportWithCgoDisabled"), "{printed}");
    assert!(
        printed.contains("cmd/server/cgo.go"),
        "the finding points at the Go file:\n{printed}"
    );
}

#[test]
fn call_check_reports_spec_errors_with_their_lines() {
    let h = harness();
    let work = ExampleCopy::new("hello", "check-spec");
    work.replace(
        "golb.toml",
        "[runtime]\n",
        "[runtime]\nexpose_ports = [1]\n",
    );
    let out = call(h, work.path(), "check", &[]);
    let printed = text(&out);
    assert!(!out.status.success(), "{printed}");
    assert!(
        printed.contains("unknown field `expose_ports`"),
        "{printed}"
    );
    assert!(
        printed.contains(">>> expose_ports = [1]"),
        "the spec line is shown:\n{printed}"
    );
}
