use super::*;
use crate::checks::{self, SourceSnapshot};
use crate::go_module::GoModule;
use crate::plan;
use std::path::Path;

/// A repository written to a temporary directory, removed when dropped.
struct Repo(PathBuf);

impl Repo {
    fn new(name: &str, files: &[(&str, &str)]) -> Repo {
        let dir = std::env::temp_dir().join(format!("golb-init-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Repo(dir)
    }

    fn init(&self) -> (String, String) {
        let mut out = Vec::new();
        run(
            &InitArgs {
                dir: Some(self.0.clone()),
                frontend: Some("registry.example.com/golb:1".into()),
                force: false,
            },
            &mut out,
        )
        .unwrap();
        (
            std::fs::read_to_string(self.0.join(SPEC_FILE)).unwrap(),
            String::from_utf8(out).unwrap(),
        )
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The spec, parsed and checked as `golb check` does: no error findings.
fn assert_checks_pass(repo: &Path, text: &str) -> Spec {
    let spec = Spec::parse("golb.toml", text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let module = GoModule::from_dir(repo, &spec.builder.module_dir).unwrap();
    let binaries = plan::binaries(&spec, &module);
    let (builder, _) = crate::go_build::builder_image(&spec, &module).unwrap();
    let base = plan::runtime_base(&spec).unwrap();
    plan::default_entrypoint(&spec, &binaries).unwrap();
    let files = SourceSnapshot::from_dir(repo, &checks::wanted_dirs(&module, &binaries)).unwrap();
    let builder_go = checks::builder_go_release(&spec, &builder);
    let findings = checks::run(&checks::CheckInput {
        spec: &spec,
        module: &module,
        binaries: &binaries,
        builder: &builder,
        base: &base,
        builder_go: builder_go.as_deref(),
        files: &files,
    });
    let problems: Vec<&checks::Finding> = findings
        .iter()
        .filter(|f| f.rule != checks::UNPINNED_IMAGE.id)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}\n{text}");
    spec
}

const MAIN_WITH_VERSION: &str = "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nvar (\n\tversion = \"dev\"\n\tcommit  = \"none\"\n)\n\nfunc main() {\n\tfmt.Println(version, commit)\n\t_ = http.ListenAndServe(\":8080\", nil)\n}\n";

#[test]
fn a_service_with_cmd_binaries_version_variables_and_a_toolchain_line() {
    let repo = Repo::new(
        "cmd",
        &[
            ("go.mod", "module github.com/acme/shop\n\ngo 1.25.0\n\ntoolchain go1.26.2\n"),
            ("cmd/shop/main.go", MAIN_WITH_VERSION),
            ("cmd/worker/main.go", "package main\n\nimport \"github.com/acme/shop/internal/version\"\n\nfunc main() { println(version.Version) }\n"),
            ("internal/version/version.go", "package version\n\n// Version is set by the linker.\nvar Version = \"dev\"\nvar Commit string\n"),
            ("internal/store/store.go", "package store\n"),
            ("tools/gen/main.go", "package main\n\nfunc main() {}\n"),
            ("examples/demo/main.go", "package main\n\nfunc main() {}\n"),
            ("cmd/shop/shop_test.go", "package main\n"),
            ("cmd/shop/windows.go", "//go:build windows\n\npackage main\n"),
        ],
    );
    let (text, printed) = repo.init();
    let spec = assert_checks_pass(&repo.0, &text);
    assert!(
        text.starts_with("# syntax=registry.example.com/golb:1\n"),
        "{text}"
    );
    assert_eq!(
        spec.builder.go.as_ref().unwrap().value,
        "1.26",
        "the toolchain line wins"
    );
    assert!(text.contains("toolchain line (go1.26.2)"), "{text}");
    let packages: Vec<&str> = spec
        .binaries
        .iter()
        .map(|b| b.package.value.as_str())
        .collect();
    assert_eq!(
        packages,
        ["./cmd/shop", "./cmd/worker"],
        "tools/ and examples/ are left out"
    );
    assert!(
        text.contains("Left out (examples, tools, tests): ./examples/demo, ./tools/gen"),
        "{text}"
    );
    assert_eq!(
        spec.binaries[0].ldflags[0].value,
        "-X main.version=${VERSION} -X main.commit=${VCS_REVISION}"
    );
    assert_eq!(
        spec.binaries[1].ldflags[0].value,
        "-X github.com/acme/shop/internal/version.Version=${VERSION} -X github.com/acme/shop/internal/version.Commit=${VCS_REVISION}"
    );
    assert_eq!(
        spec.runtime.entrypoint.as_ref().unwrap().value,
        ["/usr/local/bin/shop"],
        "the binary named like the module starts"
    );
    assert_eq!(spec.runtime.expose.len(), 1);
    assert!(
        text.contains("# env = "),
        "suggestions are comments: {text}"
    );
    assert!(printed.contains("docker buildx build -f"), "{printed}");
    assert!(printed.contains("--build-arg VERSION="), "{printed}");
    let ignore = std::fs::read_to_string(repo.0.join(DOCKERIGNORE)).unwrap();
    assert!(ignore.lines().any(|l| l == ".git"), "{ignore}");
}

#[test]
fn a_module_below_the_root_with_a_workspace_vendor_embed_and_private_modules() {
    let repo = Repo::new(
        "below",
        &[
            ("README.md", "monorepo\n"),
            ("libs/greet/go.mod", "module corp.example/greet\n\ngo 1.26\n"),
            ("libs/greet/greet.go", "package greet\n"),
            (
                "services/api/go.mod",
                "module git.corp.internal/team/api\n\ngo 1.26\n\nrequire (\n\tgit.corp.internal/team/auth v1.2.0\n\tgithub.com/go-chi/chi/v5 v5.0.0\n\tcorp.example/greet v0.0.0\n\tintranet/tools v0.1.0\n)\n\nreplace corp.example/greet => ../../libs/greet\n",
            ),
            ("services/api/go.work", "go 1.26\n\nuse (\n\t.\n\t./plugins\n)\n"),
            ("services/api/plugins/go.mod", "module git.corp.internal/team/api/plugins\n\ngo 1.26\n"),
            ("services/api/vendor/modules.txt", "# vendored\n"),
            ("services/api/main.go", "package main\n\nimport \"embed\"\n\n//go:embed dist templates/*.html\nvar assets embed.FS\n\nfunc main() { _ = assets }\n"),
            ("services/api/dist/index.html", "<p>hi</p>\n"),
            ("services/api/templates/a.html", "<p>a</p>\n"),
        ],
    );
    let repository = detect::inspect(&repo.0, &["github.com/go-chi".to_string()]).unwrap();
    assert_eq!(repository.module.dir, "services/api");
    assert_eq!(
        repository.other_modules,
        ["libs/greet", "services/api/plugins"]
    );
    let patterns: Vec<&str> = repository
        .private
        .iter()
        .map(|p| p.pattern.as_str())
        .collect();
    assert_eq!(
        patterns,
        ["git.corp.internal", "github.com/go-chi", "intranet"],
        "locally replaced modules are not fetched"
    );
    let text = draft(&repository, &cgo::CgoReport::default(), "golb:test").render();
    let spec = assert_checks_pass(&repo.0, &text);
    assert_eq!(spec.builder.module_dir, "services/api");
    assert_eq!(spec.binaries[0].package.value, ".");
    assert_eq!(
        spec.modules.private.as_ref().unwrap().value,
        "git.corp.internal,github.com/go-chi,intranet"
    );
    assert!(
        text.contains("go.work: a workspace of ., ./plugins"),
        "{text}"
    );
    assert!(text.contains("vendor/modules.txt"), "{text}");
    assert!(
        text.contains("Embeds dist templates/*.html (services/api/main.go:5)"),
        "{text}"
    );
    // The embedded dist/ is under the module, not the context root: the root's
    // `dist` entry is fine; an embed at the root would keep it (next test).
    let ignore = dockerignore(&repository);
    assert!(ignore.lines().any(|l| l == "dist"), "{ignore}");
    assert!(build_command(&repository, &repo.0).contains("--secret id=netrc"));
}

#[test]
fn the_dockerignore_never_hides_what_go_embed_reads() {
    let repo = Repo::new(
        "embed",
        &[
            ("go.mod", "module example.com/site\n\ngo 1.26\n"),
            ("main.go", "package main\n\nimport _ \"embed\"\n\n//go:embed dist/app.js\nvar app string\n\nfunc main() { println(app) }\n"),
            ("dist/app.js", "x\n"),
        ],
    );
    let (text, _) = repo.init();
    assert_checks_pass(&repo.0, &text);
    let ignore = std::fs::read_to_string(repo.0.join(DOCKERIGNORE)).unwrap();
    assert!(!ignore.lines().any(|l| l == "dist"), "{ignore}");
    assert!(
        ignore.contains("# dist   (kept: //go:embed reads it)"),
        "{ignore}"
    );
}

#[test]
fn never_overwrites_without_force_and_keeps_an_existing_dockerignore() {
    let repo = Repo::new(
        "force",
        &[
            ("go.mod", "module example.com/one\n\ngo 1.26\n"),
            ("main.go", "package main\n\nfunc main() {}\n"),
            (".dockerignore", "mine\n"),
            ("golb.toml", "# my own spec\n"),
        ],
    );
    let args = |force| InitArgs {
        dir: Some(repo.0.clone()),
        frontend: None,
        force,
    };
    let err = run(&args(false), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("rerun with --force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(repo.0.join(SPEC_FILE)).unwrap(),
        "# my own spec\n"
    );
    run(&args(true), &mut Vec::new()).unwrap();
    let text = std::fs::read_to_string(repo.0.join(SPEC_FILE)).unwrap();
    assert!(
        text.starts_with(&format!("# syntax={}\n", release::frontend_image())),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.0.join(DOCKERIGNORE)).unwrap(),
        "mine\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&repo.0)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files are left behind");
}

#[test]
fn several_binaries_without_an_obvious_one_ask_through_a_comment() {
    let repo = Repo::new(
        "ask",
        &[
            ("go.mod", "module example.com/toolbox\n\ngo 1.26\n"),
            ("cmd/alpha/main.go", "package main\n\nfunc main() {}\n"),
            ("cmd/beta/main.go", "package main\n\nfunc main() {}\n"),
            ("other/beta/main.go", "package main\n\nfunc main() {}\n"),
        ],
    );
    let (text, _) = repo.init();
    let spec = assert_checks_pass(&repo.0, &text);
    assert!(
        text.contains("golb cannot tell which one starts, so check this"),
        "{text}"
    );
    assert_eq!(
        spec.runtime.entrypoint.as_ref().unwrap().value,
        ["/usr/local/bin/alpha"]
    );
    let names: Vec<String> = spec
        .binaries
        .iter()
        .map(|b| {
            b.name
                .as_ref()
                .map_or_else(|| "-".into(), |n| n.value.clone())
        })
        .collect();
    assert_eq!(
        names,
        ["-", "-", "other-beta"],
        "duplicate names get their parent's"
    );
}

#[test]
fn a_repository_without_go_mod_is_an_error_with_the_fix() {
    let repo = Repo::new("none", &[("README.md", "no go here\n")]);
    let err = run(
        &InitArgs {
            dir: Some(repo.0.clone()),
            frontend: None,
            force: false,
        },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("go mod init"), "{err}");
    assert!(!repo.0.join(SPEC_FILE).exists());
}

#[test]
fn build_file_x_flags_and_private_patterns() {
    assert_eq!(
        detect::x_symbols("\tgo build -ldflags \"-s -w -X main.Version=$(VERSION) -X=github.com/a/b/version.Commit=${SHA} -X $(PKG).date=now\""),
        ["main.Version", "github.com/a/b/version.Commit"]
    );
    assert_eq!(
        detect::x_symbols("      - -X main.commit={{.Commit}}"),
        ["main.commit"]
    );
    let private = |p: &str| detect::private_pattern(p, &[]).map(|p| p.pattern);
    assert_eq!(private("github.com/acme/x"), None);
    assert_eq!(
        private("gitlab.acme.corp/x/y").as_deref(),
        Some("gitlab.acme.corp")
    );
    assert_eq!(private("10.0.0.7/x").as_deref(), Some("10.0.0.7"));
    assert_eq!(
        private("git.example.com:8443/x").as_deref(),
        Some("git.example.com:8443")
    );
    assert_eq!(private("mycompany/lib").as_deref(), Some("mycompany"));
    let env = ["*.acme.io,github.com/acme-private".to_string()];
    assert_eq!(
        detect::private_pattern("go.acme.io/lib", &env)
            .map(|p| p.pattern)
            .as_deref(),
        Some("*.acme.io")
    );
    assert_eq!(
        detect::private_pattern("github.com/acme-private/x/y", &env)
            .map(|p| p.pattern)
            .as_deref(),
        Some("github.com/acme-private")
    );
    assert!(detect::private_pattern("github.com/acme-public/x", &env).is_none());
    assert_eq!(
        detect::stamp_arg("GitCommit"),
        Some(detect::StampArg::Revision)
    );
    assert_eq!(
        detect::stamp_arg("Version"),
        Some(detect::StampArg::Version)
    );
    assert_eq!(detect::stamp_arg("buildDate"), None);
}

#[test]
fn every_example_gives_a_spec_that_passes_the_checks() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        let repository = detect::inspect(&dir, &[]).unwrap();
        let text = draft(&repository, &cgo::CgoReport::default(), "golb:test").render();
        let spec = assert_checks_pass(&dir, &text);
        // The examples' own specs name the same packages.
        let own = Spec::parse(
            "golb.toml",
            &std::fs::read_to_string(dir.join("golb.toml")).unwrap(),
        )
        .unwrap();
        let mut theirs: Vec<&str> = own
            .binaries
            .iter()
            .map(|b| b.package.value.as_str())
            .collect();
        let mut ours: Vec<&str> = spec
            .binaries
            .iter()
            .map(|b| b.package.value.as_str())
            .collect();
        theirs.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, theirs, "{}", dir.display());
        assert_eq!(
            spec.builder.module_dir,
            own.builder.module_dir,
            "{}",
            dir.display()
        );
    }
}

#[test]
fn a_library_without_main_packages_is_an_error_and_an_old_go_mod_gets_a_go_release() {
    let library = Repo::new(
        "library",
        &[
            ("go.mod", "module example.com/lib\n\ngo 1.26\n"),
            ("lib.go", "package lib\n"),
            ("examples/demo/main.go", "package main\n\nfunc main() {}\n"),
        ],
    );
    let err = run(
        &InitArgs {
            dir: Some(library.0.clone()),
            frontend: None,
            force: false,
        },
        &mut Vec::new(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("example.com/lib has no main package"),
        "{message}"
    );
    assert!(message.contains("./examples/demo"), "{message}");
    assert!(!library.0.join(SPEC_FILE).exists());

    let old = Repo::new(
        "old",
        &[
            ("go.mod", "module example.com/old\n"),
            ("main.go", "package main\n\nfunc main() {}\n"),
        ],
    );
    let (text, _) = old.init();
    let spec = assert_checks_pass(&old.0, &text);
    assert_eq!(spec.builder.go.as_ref().unwrap().value, release::GO_RELEASE);
}
