//! The examples beyond hello, each built by the real BuildKit exactly as users
//! build them (`buildx build -f golb.toml .`), exported, and run.

use golb_e2e::{buildx_golb, elf, example_dir, harness, run_ok, TempDir};
use std::process::Command;

/// Builds `examples/<name>` to a local directory and checks the binary at
/// `/usr/local/bin/<binary>`: static, stripped, and stamped through `ldflags`.
/// Returns the build's progress output.
fn build_and_run(name: &str, binary: &str, stamped: &str) -> String {
    let h = harness();
    let out = TempDir::new(&format!("example-{name}"));
    let dest = format!("type=local,dest={}", out.path().display());
    let progress = run_ok(&mut buildx_golb(
        h,
        &example_dir(name),
        &["--progress=plain", "--output", &dest],
    ));

    let path = out.path().join("usr/local/bin").join(binary);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}\n{progress}", path.display()));
    let facts = elf::inspect(&bytes).expect("the binary is an ELF file");
    assert!(
        !facts.has_interpreter,
        "{name}: a static binary has no ELF interpreter"
    );
    assert!(
        !facts.has_symbol_table && !facts.has_dwarf,
        "{name}: -s -w strip symbols and DWARF"
    );
    let version = run_ok(Command::new(&path).arg("-version"));
    assert_eq!(
        version.trim(),
        stamped,
        "{name}: the version golb.toml's ldflags stamp"
    );
    assert!(
        out.path().join("etc/passwd").is_file(),
        "{name}: the runtime base is there"
    );
    assert!(
        !out.path().join("src").exists() && !out.path().join("usr/local/go").exists(),
        "{name}: no sources or toolchain"
    );
    progress
}

#[test]
fn heavy_downloads_its_modules_and_stamps_its_version() {
    let progress = build_and_run("heavy", "server", "heavy 2.0.1");
    assert!(
        progress.contains("[golb] go mod download"),
        "heavy has dependencies to download:\n{progress}"
    );
}

#[test]
fn vendored_builds_from_vendor_without_a_download() {
    let progress = build_and_run("vendored", "ratelimited", "ratelimited 0.4.0");
    assert!(
        !progress.contains("go mod download"),
        "vendor/ holds every dependency:\n{progress}"
    );
}
