use super::*;
use crate::init::{self, detect};

/// A directory tree written to a temporary directory, removed when dropped.
struct Tree(PathBuf);

impl Tree {
    fn new(name: &str, files: &[(&str, &str)]) -> Tree {
        let dir = std::env::temp_dir().join(format!("golb-cgo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Tree(dir)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MAIN: &str = "package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\n\t\"github.com/Acme/sqlite\"\n)\n\nfunc main() { fmt.Println(sqlite.Version(), net.IPv4len) }\n";
const GO_MOD: &str =
    "module example.com/notes\n\ngo 1.26\n\nrequire github.com/Acme/sqlite v1.2.3\n";

/// The module with a main package at cmd/notes that imports
/// github.com/Acme/sqlite, and a module cache holding `dependency`'s files
/// under that module (case-encoded, as Go stores it).
fn module_and_cache(name: &str, dependency: &[(&str, &str)]) -> (Tree, Tree) {
    let repo = Tree::new(
        &format!("{name}-repo"),
        &[("go.mod", GO_MOD), ("cmd/notes/main.go", MAIN)],
    );
    let files: Vec<(String, &str)> = dependency
        .iter()
        .map(|(path, text)| (format!("github.com/!acme/sqlite@v1.2.3/{path}"), *text))
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let cache = Tree::new(&format!("{name}-cache"), &files);
    (repo, cache)
}

fn host(cache: &Tree) -> Host {
    Host {
        module_cache: Some(cache.0.clone()),
        arch: Some("amd64".into()),
    }
}

fn report(repo: &Tree, host: &Host) -> (CgoReport, String) {
    let repository = detect::inspect(&repo.0, &[]).unwrap();
    let report = detect(&repo.0, &repository.module, &repository.mains, host);
    let text = init::draft(&repository, &report, "golb:test").render();
    crate::spec::Spec::parse("golb.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (report, text)
}

const CGO_FILE: &str = "//go:build cgo\n\npackage sqlite\n\n// #include <sqlite3.h>\nimport \"C\"\n\nimport \"example.org/inner\"\n\nfunc Version() string { return C.GoString(C.sqlite3_libversion()) }\n";
const STUB: &str =
    "//go:build !cgo\n\npackage sqlite\n\nfunc Version() string { panic(\"needs cgo\") }\n";

#[test]
fn a_dependency_with_a_cgo_file_and_a_stub_needs_cgo_and_a_glibc_base() {
    let (repo, cache) = module_and_cache(
        "needs",
        &[
            ("go.mod", "module github.com/Acme/sqlite\n"),
            ("sqlite.go", CGO_FILE),
            ("stub.go", STUB),
        ],
    );
    let (report, text) = report(&repo, &host(&cache));
    assert_eq!(
        report.needs.get("./cmd/notes").map(String::as_str),
        Some("github.com/Acme/sqlite"),
        "{report:?}"
    );
    assert!(
        report.unchecked.is_empty(),
        "found: the rest does not matter"
    );
    assert!(
        text.contains(
            "# github.com/Acme/sqlite compiles C (import \"C\"): cgo needs a glibc base.\n"
        ),
        "{text}"
    );
    assert!(text.contains("\ncgo = true "), "{text}");
    assert!(
        text.contains("\nbase = \"gcr.io/distroless/base-debian12:nonroot\" "),
        "{text}"
    );
    // The parsed spec asks for what the build needs.
    let spec = crate::spec::Spec::parse("golb.toml", &text).unwrap();
    assert!(spec.binaries[0].cgo.as_ref().is_some_and(|c| c.value));
}

#[test]
fn a_cgo_file_for_darwin_or_another_architecture_needs_no_cgo() {
    for (file, constraint) in [
        ("sqlite.go", "//go:build darwin && cgo\n\n"),
        ("sqlite_darwin.go", ""),
        ("sqlite_arm64.go", "//go:build cgo\n\n"),
        ("sqlite.go", "//go:build cgo && arm64\n\n"),
    ] {
        let cgo_file = format!("{constraint}package sqlite\n\nimport \"C\"\n");
        let (repo, cache) = module_and_cache(
            "darwin",
            &[
                (file, &cgo_file),
                (
                    "pure.go",
                    "package sqlite\n\nfunc Version() string { return \"\" }\n",
                ),
            ],
        );
        let (report, text) = report(&repo, &host(&cache));
        assert_eq!(
            report,
            CgoReport {
                looked_in: report.looked_in.clone(),
                ..CgoReport::default()
            },
            "{file}: {constraint}"
        );
        assert!(!text.contains("cgo = true"), "{text}");
        assert!(!text.contains("base-debian12"), "{text}");
    }
}

#[test]
fn cgo_deeper_in_the_dependencies_is_found_and_named() {
    let (repo, cache) = module_and_cache(
        "deep",
        &[(
            "sqlite.go",
            "package sqlite\n\nimport \"github.com/Acme/sqlite/internal/driver\"\n\nfunc Version() string { return driver.V }\n",
        ), (
            "internal/driver/driver.go",
            "package driver\n\nimport \"C\"\n\nvar V = \"\"\n",
        )],
    );
    let (report, _) = report(&repo, &host(&cache));
    assert_eq!(
        report.needs.get("./cmd/notes").map(String::as_str),
        Some("github.com/Acme/sqlite/internal/driver")
    );
}

#[test]
fn a_standard_library_only_module_needs_no_cgo() {
    // net and os/user have cgo files, with pure-Go fallbacks: they do not count.
    let repo = Tree::new(
        "std",
        &[
            ("go.mod", "module example.com/std\n\ngo 1.26\n"),
            (
                "main.go",
                "package main\n\nimport (\n\t\"net\"\n\t\"os/user\"\n\t\"runtime/cgo\"\n)\n\nfunc main() { _, _ = user.Current(); _ = net.IPv4len; _ = cgo.Handle(0) }\n",
            ),
        ],
    );
    let empty = Tree::new("std-cache", &[]);
    let (report, text) = report(&repo, &host(&empty));
    assert!(
        report.needs.is_empty() && report.unchecked.is_empty(),
        "{report:?}"
    );
    assert!(!text.contains("cgo"), "{text}");
}

#[test]
fn a_module_missing_from_the_cache_is_reported_not_checked() {
    let repo = Tree::new(
        "missing",
        &[("go.mod", GO_MOD), ("cmd/notes/main.go", MAIN)],
    );
    let empty = Tree::new("missing-cache", &[]);
    let (report, text) = report(&repo, &host(&empty));
    assert!(report.needs.is_empty());
    assert_eq!(
        report.unchecked.iter().collect::<Vec<_>>(),
        ["github.com/Acme/sqlite"]
    );
    assert!(
        text.contains(&format!(
            "# cgo needs of module github.com/Acme/sqlite was not checked: its sources are not in the module cache ({}); run `go mod download`, then `golb init --force` again.\n",
            empty.0.display()
        )),
        "{text}"
    );
    assert!(!text.contains("cgo = true"), "{text}");
}

#[test]
fn an_own_package_with_a_cgo_file_needs_cgo() {
    let repo = Tree::new(
        "own",
        &[
            ("go.mod", "module example.com/own\n\ngo 1.26\n"),
            (
                "main.go",
                "package main\n\nimport \"example.com/own/internal/clib\"\n\nfunc main() { clib.Do() }\n",
            ),
            ("internal/clib/clib.go", "package clib\n\nimport \"C\"\n\nfunc Do() {}\n"),
        ],
    );
    let empty = Tree::new("own-cache", &[]);
    let (report, _) = report(&repo, &host(&empty));
    assert_eq!(
        report.needs.get(".").map(String::as_str),
        Some("example.com/own/internal/clib")
    );
}

#[test]
fn vendored_dependencies_are_read_from_vendor() {
    let repo = Tree::new(
        "vendor",
        &[
            ("go.mod", GO_MOD),
            ("cmd/notes/main.go", MAIN),
            (
                "vendor/modules.txt",
                "# github.com/Acme/sqlite v1.2.3\n## explicit\ngithub.com/Acme/sqlite\n",
            ),
            ("vendor/github.com/Acme/sqlite/sqlite.go", CGO_FILE),
        ],
    );
    let (report, _) = report(&repo, &Host::default());
    assert_eq!(
        report.needs.get("./cmd/notes").map(String::as_str),
        Some("github.com/Acme/sqlite")
    );
}

#[test]
fn the_module_cache_is_found_as_go_finds_it() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        module_cache(env(&[
            ("GOMODCACHE", "/c"),
            ("GOPATH", "/g"),
            ("HOME", "/h")
        ])),
        Some(PathBuf::from("/c"))
    );
    assert_eq!(
        module_cache(env(&[("GOPATH", "/g:/g2"), ("HOME", "/h")])),
        Some(PathBuf::from("/g/pkg/mod"))
    );
    assert_eq!(
        module_cache(env(&[("GOMODCACHE", ""), ("HOME", "/h")])),
        Some(PathBuf::from("/h/go/pkg/mod"))
    );
    assert_eq!(module_cache(env(&[])), None);
    assert_eq!(
        escape("github.com/BurntSushi/toml"),
        "github.com/!burnt!sushi/toml"
    );
    assert!(newer("v1.14.10", "v1.14.9"));
}
