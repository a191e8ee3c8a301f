//! Hostile build contexts: golb never reads or ships anything outside the
//! context and never follows a symlink out of it. Each context below gives
//! a correct build or a clear error, built the way users build
//! (`buildx build -f golb.toml .`) and checked offline (`golb check`).
//!
//! Files outside the context hold a sentinel; no build log, output or
//! offline report may contain it.
//!
//! Rerun: `cargo test -p golb-e2e --test hostile -- --test-threads=1`.

use golb_e2e::{buildx_golb, harness, run, run_fails, text, ExampleCopy, TempDir};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

const SENTINEL: &str = "SENTINEL-OUTSIDE-THE-CONTEXT";

/// A directory beside the context with files golb must never read.
struct Outside(TempDir);

impl Outside {
    fn new(test: &str) -> Outside {
        let dir = TempDir::new(&format!("{test}-outside"));
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write("secret.txt", format!("{SENTINEL}\n"));
        write(
            "go.mod",
            format!("module example.com/hello\n\ngo 1.26\n// {SENTINEL}\n"),
        );
        write(
            "srv/main.go",
            format!("package main\n\n// {SENTINEL}\nfunc main() {{}}\n"),
        );
        Outside(dir)
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.path().join(name)
    }
}

fn link(target: &Path, at: &Path) {
    let _ = std::fs::remove_dir_all(at);
    let _ = std::fs::remove_file(at);
    std::os::unix::fs::symlink(target, at).unwrap_or_else(|e| panic!("{}: {e}", at.display()));
}

/// `buildx build` exporting to a local directory; returns what it printed,
/// whether it succeeded, and the export directory.
fn build(dir: &Path, test: &str) -> (String, bool, TempDir) {
    let h = harness();
    let out = TempDir::new(&format!("{test}-out"));
    let dest = format!("type=local,dest={}", out.path().display());
    let result = run(&mut buildx_golb(h, dir, &["--output", &dest]));
    (text(&result), result.status.success(), out)
}

/// `golb check` on the context, offline; returns what it printed.
fn golb_check(dir: &Path) -> (String, bool) {
    let out = run(Command::new(harness().golb_binary())
        .arg("check")
        .arg(dir.join("golb.toml")));
    (text(&out), out.status.success())
}

fn assert_no_sentinel(what: &str, printed: &str, export: Option<&Path>) {
    assert!(
        !printed.contains(SENTINEL),
        "{what}: a file outside the context was read:\n{printed}"
    );
    if let Some(dir) = export {
        for file in golb_e2e::files_under(dir) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !golb_e2e::contains(&bytes, SENTINEL.as_bytes()),
                "{what}: {} holds a file from outside the context",
                file.display()
            );
        }
    }
}

#[test]
fn a_go_mod_that_links_outside_the_context_is_refused_by_name() {
    let outside = Outside::new("gomod-link");
    let ex = ExampleCopy::new("hello", "gomod-link");
    link(&outside.path("go.mod"), &ex.path().join("go.mod"));

    let (printed, ok, out) = build(ex.path(), "gomod-link");
    assert!(!ok, "a go.mod out of the context cannot build:\n{printed}");
    assert!(
        printed.contains("go.mod is a symlink that leads outside the build context")
            && printed.contains("replace the link with the file itself"),
        "the error names the link and the fix:\n{printed}"
    );
    assert_no_sentinel("buildx", &printed, Some(out.path()));
    let error = printed
        .lines()
        .find(|l| l.starts_with("ERROR"))
        .unwrap_or("");
    println!("go.mod link: buildx printed {error:?}");

    let (printed, ok) = golb_check(ex.path());
    assert!(!ok, "golb check refuses it too:\n{printed}");
    assert!(
        printed.contains("go.mod is a symlink that leads outside the build context"),
        "{printed}"
    );
    assert_no_sentinel("golb check", &printed, None);
}

#[test]
fn a_package_directory_that_links_outside_is_not_followed() {
    let outside = Outside::new("pkg-link");
    let ex = ExampleCopy::new("hello", "pkg-link");
    link(&outside.path("srv"), &ex.path().join("cmd/server"));

    let (printed, ok, out) = build(ex.path(), "pkg-link");
    assert!(!ok, "the package is not in the context:\n{printed}");
    assert!(
        printed.contains("cmd/server: directory not found") && printed.contains("[[binary]]"),
        "go says the package is missing, at the spec's [[binary]]:\n{printed}"
    );
    assert_no_sentinel("buildx", &printed, Some(out.path()));

    let (printed, ok) = golb_check(ex.path());
    assert!(!ok, "golb check reports the missing package:\n{printed}");
    assert!(printed.contains("cmd/server"), "{printed}");
    assert_no_sentinel("golb check", &printed, None);
}

#[test]
fn a_file_source_reached_through_a_symlink_is_copied_only_from_inside() {
    let outside = Outside::new("file-link");

    // A link to a file outside, and a directory link to outside on the way:
    // BuildKit resolves links inside the context, where there is nothing.
    for (case, at, target) in [
        ("file", "config/site.conf", outside.path("secret.txt")),
        ("dir", "config", outside.0.path().to_path_buf()),
    ] {
        let ex = ExampleCopy::new("assets", &format!("file-link-{case}"));
        if case == "dir" {
            std::fs::copy(outside.path("secret.txt"), outside.path("site.conf")).expect("copy");
        }
        link(&target, &ex.path().join(at));
        let (printed, ok, out) = build(ex.path(), &format!("file-link-{case}"));
        assert!(
            !ok,
            "{case}: a [[file]] out of the context is refused:\n{printed}"
        );
        assert!(
            printed.contains("\"/config/site.conf\": not found") && printed.contains("[[file]]"),
            "{case}: the error names the source, at the spec's [[file]]:\n{printed}"
        );
        assert_no_sentinel(case, &printed, Some(out.path()));
    }

    // A link to a file inside the context is copied as that file, as
    // Dockerfile COPY copies it: the image holds the content, not a link.
    let ex = ExampleCopy::new("assets", "file-link-inside");
    std::fs::rename(
        ex.path().join("config/site.conf"),
        ex.path().join("config/real.conf"),
    )
    .expect("rename");
    link(Path::new("real.conf"), &ex.path().join("config/site.conf"));
    let (printed, ok, out) = build(ex.path(), "file-link-inside");
    assert!(ok, "a link inside the context builds:\n{printed}");
    let copied = out.path().join("etc/site/site.conf");
    let meta = std::fs::symlink_metadata(&copied).expect("the [[file]] is in the image");
    assert!(
        meta.is_file(),
        "{}: a regular file, not a link",
        copied.display()
    );
    assert_eq!(
        std::fs::read(&copied).expect("read"),
        std::fs::read(golb_e2e::example_dir("assets").join("config/site.conf")).expect("read")
    );
}

#[test]
fn fifty_thousand_files_build() {
    let ex = ExampleCopy::new("hello", "many-files");
    let data = ex.path().join("data");
    for i in 0..50_000 {
        let dir = data.join(format!("{:03}", i / 500));
        if i % 500 == 0 {
            std::fs::create_dir_all(&dir).expect("mkdir");
        }
        std::fs::write(dir.join(format!("f{i}.txt")), i.to_string()).expect("write");
    }
    let started = std::time::Instant::now();
    let (printed, ok, out) = build(ex.path(), "many-files");
    let took = started.elapsed();
    assert!(ok, "50,000 files in the context:\n{printed}");
    assert!(
        out.path().join("usr/local/bin/server").is_file(),
        "{printed}"
    );
    // The figure docs/reliability.md records.
    println!("50,000 files: built in {:.1} s", took.as_secs_f64());
}

#[test]
fn long_and_non_utf8_file_names_build() {
    let ex = ExampleCopy::new("hello", "odd-names");
    let pkg = ex.path().join("cmd/server");
    // The longest name Linux allows, a name that is not UTF-8, and a path
    // of about 3,000 bytes.
    std::fs::write(pkg.join(format!("{}.txt", "a".repeat(251))), "x").expect("write");
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(pkg.join(latin1), "x").expect("write");
    let mut deep = ex.path().join("deep");
    for _ in 0..15 {
        deep = deep.join("d".repeat(200));
    }
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(deep.join("f".repeat(200)), "x").expect("write");

    let (printed, ok, out) = build(ex.path(), "odd-names");
    assert!(ok, "odd names in the context:\n{printed}");
    assert!(
        out.path().join("usr/local/bin/server").is_file(),
        "{printed}"
    );
    let (printed, ok) = golb_check(ex.path());
    assert!(ok, "golb check reads the package around them:\n{printed}");
}

#[test]
fn a_go_file_that_is_not_utf8_is_go_s_error_at_the_file() {
    let ex = ExampleCopy::new("hello", "go-not-utf8");
    ex.write(
        "cmd/server/bad.go",
        b"package main\n\nvar s = \"caf\xe9\"\n",
    );
    let (printed, ok, _out) = build(ex.path(), "go-not-utf8");
    assert!(!ok, "Go refuses it:\n{printed}");
    assert!(
        printed.contains("cmd/server/bad.go:3:") && printed.contains("invalid UTF-8 encoding"),
        "go's error names the file and line:\n{printed}"
    );
    let (printed, _) = golb_check(ex.path());
    assert!(!printed.contains("panicked"), "{printed}");
}

#[test]
fn a_spec_that_is_not_utf8_is_an_error_at_its_line_and_nothing_is_written() {
    let h = harness();
    let ex = ExampleCopy::new("hello", "spec-not-utf8");
    ex.replace(
        "golb.toml",
        "expose = [8080]",
        "expose = [8080]\nworkdir = \"/caf\u{e9}\"",
    );
    let mut bytes = std::fs::read(ex.path().join("golb.toml")).expect("read");
    let at = bytes
        .windows(2)
        .position(|w| w == "é".as_bytes())
        .expect("the é");
    bytes.splice(at..at + 2, [0xe9]);
    std::fs::write(ex.path().join("golb.toml"), &bytes).expect("write");
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let expected = format!("golb.toml:{line}:16: the spec is not UTF-8 text (byte 0xe9");

    let printed = run_fails(&mut buildx_golb(h, ex.path(), &[]));
    assert!(printed.contains(&expected), "{expected}\n{printed}");
    assert!(printed.contains("re-save it as UTF-8"), "{printed}");

    let (printed, ok) = golb_check(ex.path());
    let shown = ex.path().join("golb.toml").display().to_string();
    assert!(
        !ok && printed.contains(&expected.replacen("golb.toml", &shown, 1)),
        "{printed}"
    );

    // `golb llb` fails before writing: no half Definition on stdout.
    let out = run(Command::new(h.golb_binary())
        .arg("llb")
        .arg(ex.path().join("golb.toml")));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing is half-written");
}
