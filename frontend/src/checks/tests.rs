use super::*;
use crate::plan;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const MAIN: &str = "package main\n\nfunc main() {}\n";
const GO_MOD: &str = "module example.com/hello\n\ngo 1.26\n";

/// Checks the module example.com/hello (go 1.26) in directory `dir` of a
/// context holding `files` (paths relative to the context; `<dir>/go.mod` is
/// added unless given) against `spec_text`, with `builder_go` as the
/// builder's release. The module is built by hand, not read: go_module's own
/// errors (a replacement outside the context) would stop the test short.
fn check_in(
    dir: &str,
    spec_text: &str,
    files: &[(&str, &str)],
    builder_go: Option<&str>,
    vendored: bool,
) -> Vec<Finding> {
    let spec = Spec::parse("golb.toml", spec_text).unwrap_or_else(|e| panic!("{e}"));
    let module = GoModule {
        dir: dir.to_string(),
        path: "example.com/hello".to_string(),
        go: Some("1.26".to_string()),
        vendored,
        ..GoModule::default()
    };
    let go_mod_path = snapshot::join(dir, "go.mod");
    let mut snapshot = SourceSnapshot::new();
    if !files.iter().any(|(p, _)| *p == go_mod_path) {
        snapshot = snapshot.with_file(&go_mod_path, GO_MOD);
    }
    for (path, text) in files {
        snapshot = snapshot.with_file(path, *text);
    }
    let binaries = plan::binaries(&spec, &module);
    let (builder, _) =
        crate::go_build::builder_image(&spec, &module).unwrap_or_else(|e| panic!("{e}"));
    let base = plan::runtime_base(&spec).unwrap_or_else(|e| panic!("{e}"));
    run(&CheckInput {
        spec: &spec,
        module: &module,
        binaries: &binaries,
        builder: &builder,
        base: &base,
        builder_go,
        files: &snapshot,
    })
}

fn check_with(
    spec_text: &str,
    files: &[(&str, &str)],
    builder_go: Option<&str>,
    vendored: bool,
) -> Vec<Finding> {
    check_in("", spec_text, files, builder_go, vendored)
}

fn check(spec_text: &str, files: &[(&str, &str)]) -> Vec<Finding> {
    check_with(spec_text, files, None, false)
}

/// A spec with both images pinned, so UnpinnedImage stays quiet, plus `rest`.
fn pinned(rest: &str) -> String {
    format!("[builder]\nimage = \"golang:1.26@{DIGEST}\"\n[runtime]\nbase = \"gcr.io/distroless/static-debian12@{DIGEST}\"\nentrypoint = [\"/usr/local/bin/server\"]\n{rest}")
}

fn of(findings: &[Finding], rule: Rule) -> Vec<&Finding> {
    findings.iter().filter(|f| f.rule == rule.id).collect()
}

fn file_at(path: &str, line: u32) -> FindingLocation {
    FindingLocation::File {
        path: path.to_string(),
        line,
    }
}

fn spec_line(finding: &Finding) -> u32 {
    match &finding.location {
        FindingLocation::Spec(l) => l.line,
        other => panic!("expected a spec location, got {other:?}"),
    }
}

const SERVER: &str = "[[binary]]\npackage = \"./cmd/server\"\n";

#[test]
fn a_clean_module_has_no_findings() {
    let findings = check(&pinned(SERVER), &[("cmd/server/main.go", MAIN)]);
    assert_eq!(findings, vec![]);
}

#[test]
fn cgo_imports_in_compiled_files_are_errors_at_the_import() {
    let cgo = "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() {}\n";
    let findings = check(&pinned(SERVER), &[("cmd/server/main.go", cgo)]);
    let cgo_findings = of(&findings, CGO_IMPORT);
    assert_eq!(cgo_findings.len(), 1, "{findings:?}");
    assert_eq!(cgo_findings[0].severity, Severity::Error);
    assert_eq!(cgo_findings[0].location, file_at("cmd/server/main.go", 4));
    assert!(
        cgo_findings[0].message.contains("CGO_ENABLED=0"),
        "{}",
        cgo_findings[0].message
    );

    // A cgo file with a pure-Go alternative, and tests, are fine.
    let guarded = "//go:build cgo\n\npackage main\n\nimport \"C\"\n";
    let fallback = "//go:build !cgo\n\npackage main\n";
    let test = "package main\n\nimport \"C\"\n";
    let findings = check(
        &pinned(SERVER),
        &[
            ("cmd/server/main.go", MAIN),
            ("cmd/server/c.go", guarded),
            ("cmd/server/nocgo.go", fallback),
            ("cmd/server/c_test.go", test),
        ],
    );
    assert_eq!(of(&findings, CGO_IMPORT), Vec::<&Finding>::new());
}

#[test]
fn a_go_line_newer_than_the_builder_is_an_error_a_toolchain_line_a_warning() {
    let go_mod = "module example.com/hello\n\ngo 1.26.10\n\ntoolchain go1.27.1\n";
    let findings = check_with(
        &pinned(SERVER),
        &[("go.mod", go_mod), ("cmd/server/main.go", MAIN)],
        Some("1.26.9"),
        false,
    );
    let go = of(&findings, GO_VERSION_TOO_NEW);
    assert_eq!(go.len(), 1, "{findings:?}");
    assert_eq!(go[0].location, file_at("go.mod", 3));
    assert!(
        go[0].message.contains("go 1.26.10") && go[0].message.contains("GOTOOLCHAIN=local"),
        "{}",
        go[0].message
    );
    let toolchain = of(&findings, TOOLCHAIN_TOO_NEW);
    assert_eq!(toolchain.len(), 1, "{findings:?}");
    assert_eq!(
        (toolchain[0].severity, &toolchain[0].location),
        (Severity::Warning, &file_at("go.mod", 5))
    );

    // The golang:1.26 tag is 1.26's newest patch; unknown builders are not judged.
    for builder in [Some("1.26"), Some("1.26.10"), None, Some("not-a-version")] {
        let findings = check_with(
            &pinned(SERVER),
            &[
                ("go.mod", "module example.com/hello\ngo 1.26.10\n"),
                ("cmd/server/main.go", MAIN),
            ],
            builder,
            false,
        );
        assert_eq!(
            of(&findings, GO_VERSION_TOO_NEW),
            Vec::<&Finding>::new(),
            "{builder:?}"
        );
    }
}

#[test]
fn the_builder_release_comes_from_the_spec_or_a_golang_tag() {
    let spec = Spec::parse("golb.toml", "[builder]\ngo = \"1.26.3\"\n").unwrap();
    let builder = ImageRef::parse("golang:1.26.3").unwrap();
    assert_eq!(
        builder_go_release(&spec, &builder).as_deref(),
        Some("1.26.3")
    );
    let spec = Spec::parse("golb.toml", "").unwrap();
    let tag = |r: &str| builder_go_release(&spec, &ImageRef::parse(r).unwrap());
    assert_eq!(tag("golang:1.26.3-alpine3.22").as_deref(), Some("1.26.3"));
    assert_eq!(
        tag("127.0.0.1:5000/mirror/golang:1.27").as_deref(),
        Some("1.27")
    );
    assert_eq!(tag("golang:alpine"), None);
    assert_eq!(
        tag("example.com/my-go:1.26"),
        None,
        "not a golang image: its tag says nothing"
    );
}

#[test]
fn binary_packages_must_exist_and_be_main() {
    let findings = check(
        &pinned("[[binary]]\npackage = \"./cmd/servr\"\n"),
        &[("cmd/server/main.go", MAIN)],
    );
    let missing = of(&findings, PACKAGE_NOT_FOUND);
    assert_eq!(missing.len(), 1, "{findings:?}");
    assert_eq!(missing[0].severity, Severity::Error);
    assert_eq!(spec_line(missing[0]), 7, "at the package value");
    assert!(
        missing[0].message.contains("cmd/servr/"),
        "{}",
        missing[0].message
    );

    let findings = check(
        &pinned(SERVER),
        &[
            ("cmd/server/main_test.go", MAIN),
            ("cmd/server/gen.go", "//go:build ignore\npackage main\n"),
        ],
    );
    let empty = of(&findings, PACKAGE_NOT_FOUND);
    assert_eq!(empty.len(), 1, "{findings:?}");
    assert!(
        empty[0].message.contains("no .go files"),
        "{}",
        empty[0].message
    );

    let findings = check(
        &pinned(SERVER),
        &[
            ("cmd/server/main.go", MAIN),
            ("cmd/server/util.go", "// x\npackage server\n"),
        ],
    );
    let not_main = of(&findings, PACKAGE_NOT_MAIN);
    assert_eq!(not_main.len(), 1, "{findings:?}");
    assert_eq!(spec_line(not_main[0]), 7);
    assert!(
        not_main[0]
            .message
            .contains("cmd/server/util.go:2 says package server"),
        "{}",
        not_main[0].message
    );

    // The module root, built by default, is reported at line 1.
    let findings = check(&pinned(""), &[("lib.go", "package hello\n")]);
    let root = of(&findings, PACKAGE_NOT_MAIN);
    assert_eq!((root.len(), spec_line(root[0])), (1, 1), "{findings:?}");
    // An external test package beside main is not compiled into the binary.
    let findings = check(
        &pinned(SERVER),
        &[
            ("cmd/server/main.go", MAIN),
            ("cmd/server/x_test.go", "package main_test\n"),
        ],
    );
    assert_eq!(of(&findings, PACKAGE_NOT_MAIN), Vec::<&Finding>::new());
}

#[test]
fn a_upx_image_named_by_tag_is_a_warning_at_upx_image() {
    let runtime =
        "[runtime]\nbase = \"gcr.io/distroless/static-debian12:nonroot\"\ncompress = \"upx\"\n";
    let tagged = format!("{runtime}upx_image = \"registry.example.com/tools/upx:4.2.2\"\n{SERVER}");
    let findings = check(&tagged, &[("cmd/server/main.go", MAIN)]);
    let upx: Vec<_> = of(&findings, UNPINNED_IMAGE)
        .into_iter()
        .filter(|f| f.message.contains("UPX"))
        .collect();
    assert_eq!(upx.len(), 1, "{findings:?}");
    assert_eq!(spec_line(upx[0]), 4);
    assert!(
        upx[0]
            .message
            .contains("upx_image = \"registry.example.com/tools/upx:4.2.2@sha256:…\""),
        "{}",
        upx[0].message
    );

    let pinned = tagged.replace("4.2.2\"", &format!("4.2.2@{DIGEST}\""));
    let findings = check(&pinned, &[("cmd/server/main.go", MAIN)]);
    assert!(
        of(&findings, UNPINNED_IMAGE)
            .iter()
            .all(|f| !f.message.contains("UPX")),
        "{findings:?}"
    );
}

#[test]
fn images_named_by_tag_are_warnings_where_the_spec_names_them() {
    let spec = "[builder]\ngo = \"1.26\"\n\n[runtime]\nbase = \"gcr.io/distroless/static-debian12:nonroot\"\n";
    let findings = check(&format!("{spec}{SERVER}"), &[("cmd/server/main.go", MAIN)]);
    let unpinned = of(&findings, UNPINNED_IMAGE);
    assert_eq!(unpinned.len(), 2, "{findings:?}");
    assert!(unpinned.iter().all(|f| f.severity == Severity::Warning));
    assert_eq!((spec_line(unpinned[0]), spec_line(unpinned[1])), (2, 5));
    assert!(
        unpinned[0]
            .message
            .contains("[builder] image = \"golang:1.26@sha256:…\""),
        "{}",
        unpinned[0].message
    );
    assert!(
        unpinned[1]
            .message
            .contains("base = \"gcr.io/distroless/static-debian12:nonroot@sha256:…\""),
        "{}",
        unpinned[1].message
    );

    // Defaults are reported at line 1, and say they are defaults.
    let findings = check(SERVER, &[("cmd/server/main.go", MAIN)]);
    let unpinned = of(&findings, UNPINNED_IMAGE);
    assert_eq!(
        unpinned.iter().map(|f| spec_line(f)).collect::<Vec<_>>(),
        [1, 1]
    );
    assert!(
        unpinned[0]
            .message
            .contains("golang:1.26 (golb's default, from go.mod)"),
        "{}",
        unpinned[0].message
    );
    assert!(
        unpinned[1]
            .message
            .starts_with("golb's default runtime base"),
        "{}",
        unpinned[1].message
    );

    assert_eq!(
        of(
            &check(&pinned(SERVER), &[("cmd/server/main.go", MAIN)]),
            UNPINNED_IMAGE
        ),
        Vec::<&Finding>::new()
    );
}

#[test]
fn local_replacements_outside_the_context_are_errors_at_their_line() {
    let go_mod = "module example.com/hello\n\ngo 1.26\n\nreplace example.com/a => ../a\n\nreplace (\n\texample.com/b v1.0.0 => ./third_party/b\n\texample.com/c => ./x/../../c // sneaky\n\texample.com/d => example.com/fork/d v1.2.0\n\texample.com/e => /home/me/e\n)\n";
    let files = [("go.mod", go_mod), ("cmd/server/main.go", MAIN)];
    let findings = check(&pinned(SERVER), &files);
    let outside = of(&findings, REPLACE_OUTSIDE_CONTEXT);
    let lines: Vec<&FindingLocation> = outside.iter().map(|f| &f.location).collect();
    assert_eq!(
        lines,
        [
            &file_at("go.mod", 5),
            &file_at("go.mod", 9),
            &file_at("go.mod", 11)
        ],
        "{findings:?}"
    );
    assert!(
        outside[0]
            .message
            .contains("`replace example.com/a => ../a`"),
        "{}",
        outside[0].message
    );
    assert!(outside.iter().all(|f| f.severity == Severity::Error));

    // Vendored modules never read the replacement directory.
    let findings = check_with(&pinned(SERVER), &files, None, true);
    assert_eq!(
        of(&findings, REPLACE_OUTSIDE_CONTEXT),
        Vec::<&Finding>::new()
    );

    // go.work's use directives leave the context the same way.
    let files = [
        ("cmd/server/main.go", MAIN),
        ("go.work", "go 1.26\n\nuse (\n\t.\n\t../shared\n)\n"),
    ];
    let findings = check(&pinned(SERVER), &files);
    let outside = of(&findings, REPLACE_OUTSIDE_CONTEXT);
    assert_eq!(
        outside.iter().map(|f| &f.location).collect::<Vec<_>>(),
        [&file_at("go.work", 5)],
        "{findings:?}"
    );
}

#[test]
fn x_flags_for_packages_the_binary_does_not_import_are_warnings() {
    let main = "package main\n\nimport (\n\t\"fmt\"\n\tv \"example.com/hello/internal/version\"\n)\n\nfunc main() { fmt.Println(v.V) }\n";
    let binary = "[[binary]]\npackage = \"./cmd/server\"\nldflags = [\n  \"-s -X main.version=1 -X 'main.msg=hello world'\",\n  \"-X=example.com/hello/internal/version.V=1\",\n  \"-X example.com/hello/internal/build.Commit=abc\",\n  \"-X\", \"example.com/other.Name=x\",\n  \"-X\",\n]\n";
    let findings = check(&pinned(binary), &[("cmd/server/main.go", main)]);
    let unknown = of(&findings, LDFLAGS_X_UNKNOWN_PACKAGE);
    assert_eq!(
        unknown.iter().map(|f| spec_line(f)).collect::<Vec<_>>(),
        [11, 12],
        "{findings:?}"
    );
    assert_eq!(unknown[0].severity, Severity::Warning);
    assert!(
        unknown[0]
            .message
            .contains("example.com/hello/internal/build"),
        "{}",
        unknown[0].message
    );
    assert!(
        unknown[0].message.contains("direct imports only"),
        "{}",
        unknown[0].message
    );
}

#[test]
fn ldflags_split_like_the_go_command() {
    assert_eq!(
        split_flags("  -s  -X 'a.b=c d' \"x\"y -w"),
        ["-s", "-X", "a.b=c d", "x", "y", "-w"]
    );
    assert_eq!(split_flags("-X 'unterminated"), ["-X", "unterminated"]);
    assert_eq!(split_flags(""), Vec::<String>::new());
}

#[test]
fn wanted_dirs_are_the_root_and_each_package_once() {
    let spec = Spec::parse(
        "golb.toml",
        "[[binary]]\npackage = \"./cmd/server/\"\n[[binary]]\npackage = \"./cmd/server\"\nname = \"again\"\n[[binary]]\npackage = \".\"\nname = \"root\"\n",
    )
    .unwrap();
    let module = GoModule {
        path: "example.com/hello".into(),
        ..GoModule::default()
    };
    assert_eq!(
        wanted_dirs(&module, &plan::binaries(&spec, &module)),
        [".", "cmd/server"]
    );
    let nested = GoModule {
        dir: "svc/api".into(),
        ..module
    };
    assert_eq!(
        wanted_dirs(&nested, &plan::binaries(&spec, &nested)),
        ["svc/api", "svc/api/cmd/server"]
    );
}

#[test]
fn a_module_below_the_context_root_is_checked_where_it_is() {
    let go_mod = "module example.com/hello\n\ngo 1.27.0\n\nreplace example.com/lib => ../lib\nreplace example.com/far => ../../../far\n";
    let cgo = "package main\n\nimport \"C\"\n";
    let files = [
        ("svc/api/go.mod", go_mod),
        ("svc/api/cmd/server/main.go", cgo),
        ("cmd/server/main.go", MAIN),
    ];
    let findings = check_in("svc/api", &pinned(SERVER), &files, Some("1.26"), false);
    let locations: Vec<(&str, &FindingLocation)> =
        findings.iter().map(|f| (f.rule, &f.location)).collect();
    assert_eq!(
        locations,
        [
            (CGO_IMPORT.id, &file_at("svc/api/cmd/server/main.go", 3)),
            (GO_VERSION_TOO_NEW.id, &file_at("svc/api/go.mod", 3)),
            (REPLACE_OUTSIDE_CONTEXT.id, &file_at("svc/api/go.mod", 6)),
        ],
        "../lib is svc/lib, inside the context"
    );
    let findings = check_in(
        "svc/api",
        &pinned("[[binary]]\npackage = \"./cmd/other\"\n"),
        &files,
        None,
        false,
    );
    assert!(
        of(&findings, PACKAGE_NOT_FOUND)[0]
            .message
            .contains("no directory svc/api/cmd/other/"),
        "{findings:?}"
    );
}

#[test]
fn mangled_files_never_panic() {
    let garbage = [
        "",
        "\0\0\0",
        "package",
        "import \"C\"",
        "package main\nimport (\"C\"",
        "package main\nimport C \"C\"\n",
        "//go:build ((((((\npackage main\n",
        "package main\nimport `C",
        "\u{feff}package main\nimport \"C\"",
        "é\u{0}\"'`/*",
    ];
    let go_mods = [
        "module example.com/hello\n", "module example.com/hello\ngo\ntoolchain\nreplace\nreplace =>\nreplace x =>\nreplace (\n=>\n",
        "module example.com/hello\ngo 99999999999999999999.1\ntoolchain go1.\nreplace ( a => ../../../ \n",
    ];
    for go_mod in go_mods {
        for text in garbage {
            let files = [
                ("go.mod", go_mod),
                ("cmd/server/main.go", text),
                ("go.work", text),
            ];
            let spec = pinned(&format!(
                "{SERVER}ldflags = [\"-X\", \"-X=\", \"-X .=\", \"-X =.\", \"'\"]\n"
            ));
            let _ = check_with(&spec, &files, Some("1.26"), false);
        }
    }
}

#[test]
fn go_modules_refusal_of_a_replacement_outside_the_context_becomes_a_finding() {
    let error = GoModuleError::OutsideContext {
        file: "svc/go.mod".into(),
        line: 5,
        path: "../../lib".into(),
    };
    let finding = module_error_finding(&error).expect("a finding");
    assert_eq!(
        (finding.rule, finding.severity, &finding.location),
        (
            REPLACE_OUTSIDE_CONTEXT.id,
            Severity::Error,
            &file_at("svc/go.mod", 5)
        )
    );
    assert_eq!(finding.message, error.to_string());
    assert_eq!(
        module_error_finding(&GoModuleError::NoGoMod("x".into())),
        None
    );
}

#[test]
fn ssh_without_known_hosts_is_a_warning_at_the_ssh_key() {
    let spec = pinned(&format!(
        "{SERVER}[modules]\nprivate = \"github.com/acme/*\"\nssh = [\"github.com/acme\", \"github.com/other\", \"git.corp.example.com/x\"]\n"
    ));
    let findings = check(&spec, &[("cmd/server/main.go", MAIN)]);
    let ssh = of(&findings, SSH_WITHOUT_KNOWN_HOSTS);
    assert_eq!(ssh.len(), 1, "{findings:#?}");
    assert_eq!(ssh[0].severity, Severity::Warning);
    assert_eq!(spec_line(ssh[0]), 10, "{spec}");
    assert!(
        ssh[0]
            .message
            .contains("ssh-keyscan github.com git.corp.example.com"),
        "{}",
        ssh[0].message
    );

    let key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let with_hosts = pinned(&format!(
        "{SERVER}[modules]\nssh = [\"github.com/acme\"]\nknown_hosts = [\"github.com ssh-ed25519 {key}\"]\n"
    ));
    let findings = check(&with_hosts, &[("cmd/server/main.go", MAIN)]);
    assert!(
        of(&findings, SSH_WITHOUT_KNOWN_HOSTS).is_empty(),
        "{findings:#?}"
    );

    // Vendored modules are never fetched, so ssh's settings do not matter.
    let findings = check_with(&spec, &[("cmd/server/main.go", MAIN)], None, true);
    assert!(
        of(&findings, SSH_WITHOUT_KNOWN_HOSTS).is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn a_lock_quiets_unpinned_images_it_pins_and_is_stale_when_it_misses_one() {
    let spec_text = format!(
        "[builder]\ngo = \"1.26\"\n\n[runtime]\nbase = \"gcr.io/distroless/static-debian12:nonroot\"\n{SERVER}"
    );
    let spec = Spec::parse("golb.toml", &spec_text).unwrap();
    let builder = ImageRef::parse("golang:1.26").unwrap();
    let base = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot").unwrap();
    let lock_text = format!(
        "version = 1\n\n[[image]]\nname = \"docker.io/library/golang:1.26\"\ndigest = \"{DIGEST}\"\n\n[image.platforms]\n\"linux/amd64\" = \"{DIGEST}\"\n\n[[image]]\nname = \"docker.io/library/alpine:3\"\ndigest = \"{DIGEST}\"\n\n[image.platforms]\n\"linux/amd64\" = \"{DIGEST}\"\n"
    );
    let lock = crate::lock::Lock::parse("golb.lock", &lock_text).unwrap();
    let mut findings = check(&spec_text, &[("cmd/server/main.go", MAIN)]);
    assert_eq!(of(&findings, UNPINNED_IMAGE).len(), 2);
    lock_findings(Some(&lock), &spec, &builder, &base, &mut findings);
    // The builder is locked: only the base is unpinned, and the lock lacks it.
    let unpinned = of(&findings, UNPINNED_IMAGE);
    assert_eq!(unpinned.len(), 1, "{findings:?}");
    assert_eq!(spec_line(unpinned[0]), 5);
    let stale = of(&findings, STALE_LOCK);
    assert_eq!(stale.len(), 2, "{findings:?}");
    assert!(stale.iter().all(|f| f.severity == Severity::Warning));
    assert_eq!(spec_line(stale[0]), 5);
    assert!(
        stale[0]
            .message
            .contains("does not pin gcr.io/distroless/static-debian12:nonroot"),
        "{}",
        stale[0].message
    );
    assert!(
        stale[1]
            .message
            .contains("pins docker.io/library/alpine:3, which the spec no longer names"),
        "{}",
        stale[1].message
    );

    // The UPX image is one of the spec's images: a lock without it is
    // stale at upx_image's line; the lock's alpine entry stands in for it.
    let upx_text = spec_text.replace(
        "nonroot\"\n",
        "nonroot\"\ncompress = \"upx\"\nupx_image = \"alpine:3\"\n",
    );
    let upx_spec = Spec::parse("golb.toml", &upx_text).unwrap();
    let mut findings = check(&upx_text, &[("cmd/server/main.go", MAIN)]);
    assert_eq!(
        of(&findings, UNPINNED_IMAGE)
            .iter()
            .map(|f| spec_line(f))
            .collect::<Vec<_>>(),
        [2, 5, 7]
    );
    lock_findings(Some(&lock), &upx_spec, &builder, &base, &mut findings);
    // The lock pins the builder and the UPX image: only the base is left.
    let unpinned = of(&findings, UNPINNED_IMAGE);
    assert_eq!(unpinned.len(), 1, "{findings:?}");
    assert_eq!(spec_line(unpinned[0]), 5);
    let stale = of(&findings, STALE_LOCK);
    assert_eq!(stale.len(), 1, "{findings:?}");
    assert!(
        stale[0].message.contains("does not pin gcr.io"),
        "{stale:?}"
    );

    // Without a lock nothing changes.
    let mut findings = check(&spec_text, &[("cmd/server/main.go", MAIN)]);
    lock_findings(None, &spec, &builder, &base, &mut findings);
    assert_eq!(of(&findings, UNPINNED_IMAGE).len(), 2);
    assert!(of(&findings, STALE_LOCK).is_empty());
}

#[test]
fn a_vuln_section_on_a_builder_too_old_for_govulncheck_is_an_error_at_vuln() {
    let spec = pinned("\n[vuln]\ngate = true\n");
    let main = [("cmd/server/main.go", MAIN)];
    let old = check_with(&format!("{spec}{SERVER}"), &main, Some("1.24.3"), false);
    let found = of(&old, VULN_NEEDS_NEWER_GO);
    assert_eq!(found.len(), 1, "{old:?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert_eq!(spec_line(found[0]), 7);
    assert!(
        found[0].message.contains("the builder's Go is 1.24.3")
            && found[0].message.contains("[builder] go = \"1.25\""),
        "{}",
        found[0].message
    );
    let new = check_with(&format!("{spec}{SERVER}"), &main, Some("1.26"), false);
    assert!(of(&new, VULN_NEEDS_NEWER_GO).is_empty(), "{new:?}");
    // No [vuln]: no scan, whatever the Go.
    let none = check_with(&pinned(SERVER), &main, Some("1.24"), false);
    assert!(of(&none, VULN_NEEDS_NEWER_GO).is_empty(), "{none:?}");
}
