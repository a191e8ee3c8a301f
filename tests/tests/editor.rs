//! Editors: taplo (the engine of Even Better TOML) finds docs/golb.schema.json
//! through the repository's `.taplo.toml`, accepts every example spec and
//! marks a misspelt key at its line. scripts/test installs taplo from npm
//! into target/tools.
//!
//! Rerun with `cargo test -p golb-e2e --test editor`.

use golb_e2e::{repo_root, run, text, TempDir};
use std::process::Command;

fn taplo() -> Command {
    let bin = repo_root().join("target/tools/node_modules/.bin/taplo");
    assert!(
        bin.is_file(),
        "{} is missing: npm install --prefix target/tools @taplo/cli@0.7.0 (scripts/test does)",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.current_dir(repo_root());
    cmd
}

#[test]
fn taplo_validates_golb_toml_against_the_schema_through_taplo_toml() {
    let examples: Vec<String> = std::fs::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path().join("golb.toml"))
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    assert!(examples.len() >= 8);
    let out = run(taplo().arg("check").args(&examples));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(".taplo.toml"),
        "the configuration is found: {}",
        text(&out)
    );

    // Inside the repository, so .taplo.toml's rule applies.
    let dir = TempDir::new("editor-taplo");
    let bad = dir.path().join("golb.toml");
    std::fs::write(
        &bad,
        "# syntax=x\n[builder]\ngo = \"1.26\"\nexpose_ports = [8080]\n",
    )
    .unwrap();
    let out = run(taplo().arg("check").arg(&bad));
    assert!(!out.status.success(), "taplo accepted an unknown key");
    let printed = text(&out);
    assert!(
        printed.contains("'expose_ports' was unexpected"),
        "{printed}"
    );
    assert!(
        printed.contains("golb.toml:4:"),
        "marked at its line: {printed}"
    );
}
