//! `golb check` as people run it: the real binary on small Go modules, one
//! per Go-aware check, and on every example (which must pass; warnings are
//! allowed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const MAIN: &str = "package main\n\nfunc main() {}\n";
const GO_MOD: &str = "module example.com/hello\n\ngo 1.26\n";

/// A module in a fresh temporary directory, removed when dropped.
struct Module {
    dir: PathBuf,
}

impl Module {
    fn new(files: &[(&str, &str)]) -> Module {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "golb-check-cli-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut all: Vec<(&str, &str)> = files.to_vec();
        if !files.iter().any(|(p, _)| *p == "go.mod") {
            all.push(("go.mod", GO_MOD));
        }
        for (path, text) in all {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a file has a directory"))
                .expect("directory created");
            std::fs::write(&path, text).expect("file written");
        }
        Module { dir }
    }

    fn path(&self, relative: &str) -> String {
        self.dir.join(relative).display().to_string()
    }

    /// Runs `golb check <dir>/golb.toml`: (exit code, stderr).
    fn check(&self) -> (i32, String) {
        golb_check(&self.dir.join("golb.toml"), None)
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn golb_check(spec: &Path, cwd: Option<&Path>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_golb"));
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let out = command.arg("check").arg(spec).output().expect("golb runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A spec with both images pinned, so only the rule under test speaks.
fn pinned_spec(binary: &str) -> String {
    format!(
        "# syntax=golb\n[builder]\ngo = \"1.26\"\nimage = \"golang:1.26@{DIGEST}\"\n\n[runtime]\nbase = \"gcr.io/distroless/static-debian12@{DIGEST}\"\n\n{binary}"
    )
}

const SERVER: &str = "[[binary]]\npackage = \"./cmd/server\"\n";

#[test]
fn a_clean_module_passes_silently() {
    let spec = pinned_spec(SERVER);
    let module = Module::new(&[("golb.toml", &spec), ("cmd/server/main.go", MAIN)]);
    assert_eq!(module.check(), (0, String::new()));
}

#[test]
fn cgo_imports_fail_at_the_go_file_line() {
    let spec = pinned_spec(SERVER);
    let cgo = "package main\n\n// #include <stdlib.h>\nimport \"C\"\n\nfunc main() {}\n";
    let module = Module::new(&[("golb.toml", &spec), ("cmd/server/main.go", cgo)]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    let expected = format!(
        "{}:4: error: cmd/server/main.go imports \"C\"",
        module.path("cmd/server/main.go")
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("(CgoImportWithCgoDisabled)"),
        "{stderr}"
    );
}

#[test]
fn a_go_line_newer_than_the_builder_fails_at_the_go_mod_line() {
    let spec = pinned_spec(SERVER);
    let module = Module::new(&[
        ("golb.toml", &spec),
        ("go.mod", "module example.com/hello\n\ngo 1.27.0\n"),
        ("cmd/server/main.go", MAIN),
    ]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:3: error: go.mod requires go 1.27.0, newer than the builder's Go 1.26",
            module.path("go.mod")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("(GoVersionNewerThanBuilder)"), "{stderr}");
}

#[test]
fn binary_packages_that_are_missing_or_not_main_fail_at_the_spec() {
    let spec = pinned_spec("[[binary]]\npackage = \"./cmd/servr\"\n");
    let module = Module::new(&[("golb.toml", &spec), ("cmd/server/main.go", MAIN)]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    let expected = format!(
        "{}:10:11: error: package \"./cmd/servr\" is not in the build context",
        module.path("golb.toml")
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("(BinaryPackageNotFound)"), "{stderr}");

    let spec = pinned_spec("[[binary]]\npackage = \"./internal/store\"\n");
    let module = Module::new(&[
        ("golb.toml", &spec),
        ("internal/store/store.go", "package store\n"),
    ]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("10:11: error: package \"./internal/store\" is not a main package"),
        "{stderr}"
    );
    assert!(stderr.contains("(BinaryPackageNotMain)"), "{stderr}");
}

#[test]
fn tag_named_images_are_warnings_that_still_pass() {
    let spec = format!("# syntax=golb\n[builder]\ngo = \"1.26\"\n\n{SERVER}");
    let module = Module::new(&[("golb.toml", &spec), ("cmd/server/main.go", MAIN)]);
    let (code, stderr) = module.check();
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let spec_path = module.path("golb.toml");
    assert!(
        lines[0].starts_with(&format!(
            "{spec_path}:1:1: warning: golb's default runtime base"
        )),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{spec_path}:3:6: warning: the builder image golang:1.26"
        )),
        "{stderr}"
    );
    assert!(
        lines.iter().all(|l| l.ends_with("(UnpinnedImage)")),
        "{stderr}"
    );
}

/// go_module refuses the module before the checks run (rule
/// LocalReplaceOutsideContext then speaks only for the lint reply, through
/// checks::module_error_finding); either way the go.mod line is named.
#[test]
fn replacements_outside_the_context_fail_at_the_go_mod_line() {
    let spec = pinned_spec(SERVER);
    let go_mod = "module example.com/hello\n\ngo 1.26\n\nrequire example.com/lib v1.0.0\n\nreplace example.com/lib => ../lib\n";
    let module = Module::new(&[
        ("golb.toml", &spec),
        ("go.mod", go_mod),
        ("cmd/server/main.go", MAIN),
    ]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("go.mod:7: \"../lib\" is outside the build context"),
        "{stderr}"
    );
}

#[test]
fn x_flags_for_packages_not_imported_are_warnings_at_the_flag() {
    let spec = pinned_spec("[[binary]]\npackage = \"./cmd/server\"\nldflags = [\"-X main.version=1\", \"-X example.com/hello/internal/build.Commit=abc\"]\n");
    let module = Module::new(&[("golb.toml", &spec), ("cmd/server/main.go", MAIN)]);
    let (code, stderr) = module.check();
    assert_eq!(code, 0, "{stderr}");
    let expected = format!(
        "{}:11:33: warning: -X example.com/hello/internal/build.Commit",
        module.path("golb.toml")
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("(LinkerFlagXUnknownPackage)"),
        "{stderr}"
    );
}

#[test]
fn spec_errors_are_still_reported_as_before() {
    let spec = "[[binary]]\npackage = \"./cmd/a\"\n[[binary]]\npackage = \"./cmd/b\"\n";
    let module = Module::new(&[
        ("golb.toml", spec),
        ("cmd/a/main.go", MAIN),
        ("cmd/b/main.go", MAIN),
    ]);
    let (code, stderr) = module.check();
    assert_eq!(code, 1, "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "{}:3:1: 2 binaries are built",
            module.path("golb.toml")
        )),
        "{stderr}"
    );
}

#[test]
fn every_example_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("examples")).expect("examples/") {
        let spec = entry.expect("an entry").path().join("golb.toml");
        if !spec.is_file() {
            continue;
        }
        let relative = spec.strip_prefix(root).expect("under the repo");
        let (code, stderr) = golb_check(relative, Some(root));
        assert_eq!(code, 0, "golb check {}:\n{stderr}", relative.display());
        assert!(
            stderr.lines().all(|l| l.contains(": warning: ")),
            "only warnings in {}:\n{stderr}",
            relative.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no examples/*/golb.toml");
}
