//! The examples beyond hello, each built by the real BuildKit exactly as users
//! build them (`buildx build -f golb.toml .`), exported, and run.

use golb_e2e::{buildx_golb, elf, example_dir, harness, run_ok, TempDir};
use std::process::Command;

/// Builds `examples/<name>` to a local directory and checks the binary at
/// `/usr/local/bin/<binary>`: static, stripped, and stamped through `ldflags`.
/// Returns the build's progress output and the binary.
fn build_and_run(name: &str, binary: &str, stamped: &str) -> (String, Vec<u8>) {
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
    (progress, bytes)
}

/// golb's binary is the one plain `go build` makes on the host with golb's
/// flags, from the host's full module cache: golb's module snapshot leaves
/// out the dependencies' `_test.go` files, its dependency snapshot and
/// GOCACHEPROG stand in for Go's own cache, and none of it changes a byte.
/// (The harness's golang image is the host's Go, so the releases agree.)
#[test]
fn heavy_downloads_its_modules_and_builds_the_hosts_exact_binary() {
    let (progress, ours) = build_and_run("heavy", "server", "heavy 2.0.1");
    assert!(
        progress.contains("[golb] go mod download"),
        "heavy has dependencies to download:\n{progress}"
    );
    let out = TempDir::new("example-heavy-host");
    let host_binary = out.path().join("server");
    run_ok(
        Command::new("go")
            .current_dir(example_dir("heavy"))
            .args([
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-mod=readonly",
                "-ldflags",
                "-s -w -buildid= -X main.version=2.0.1",
                "-o",
            ])
            .arg(&host_binary)
            .arg("./cmd/server")
            .env("CGO_ENABLED", "0")
            .env("GOOS", "linux")
            .env("GOARCH", "amd64")
            .env("GOTOOLCHAIN", "local")
            .env("GOWORK", "off")
            .env_remove("GOFLAGS")
            .env_remove("GOAMD64"),
    );
    let theirs = std::fs::read(&host_binary).unwrap();
    assert!(
        ours == theirs,
        "golb's heavy binary ({} bytes) differs from the host's go build ({} bytes)",
        ours.len(),
        theirs.len()
    );
}

#[test]
fn vendored_builds_from_vendor_without_a_download() {
    let (progress, _) = build_and_run("vendored", "ratelimited", "ratelimited 0.4.0");
    assert!(
        !progress.contains("go mod download"),
        "vendor/ holds every dependency:\n{progress}"
    );
}
