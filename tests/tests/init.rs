//! `golb init` end to end: on a copy of every example with its golb.toml
//! removed, and on public Go services fetched through the Go module proxy
//! at pinned versions, `golb init` writes a spec that `golb check` passes,
//! the real BuildKit builds it (through its `# syntax=` line) and pushes the
//! image, and the binaries run inside the image (docs/harness.md, "Running a
//! built binary") with the version `--build-arg VERSION` stamped through the
//! `-X` flags init wired up.
//!
//! Rerun with `cargo test -p golb-e2e --test init -- --test-threads=1`.

use golb_e2e::goproxy::{self, GoProxy};
use golb_e2e::{
    buildx_golb, harness, image_files, module_from_proxy, repo_root, run, run_in_image, run_ok,
    text, ExampleCopy, Harness, Registry, TempDir,
};
use std::path::Path;
use std::process::Command;

const VERSION: &str = "9.8.7";

/// `golb init DIR --frontend <the harness's golb image>`; returns what it printed.
fn golb_init(h: &Harness, dir: &Path) -> String {
    let spec = dir.join("golb.toml");
    assert!(!spec.exists(), "{} is there before init", spec.display());
    let printed = run_ok(
        Command::new(h.golb_binary())
            .arg("init")
            .arg(dir)
            .args(["--frontend", h.frontend()]),
    );
    assert!(
        printed.contains("buildx build -f"),
        "init prints the build command:\n{printed}"
    );
    let written = std::fs::read_to_string(&spec).unwrap();
    assert!(
        written.starts_with(&format!("# syntax={}\n", h.frontend())),
        "{written}"
    );
    // golb check passes: exit 0 (warnings, such as unpinned images, are allowed).
    let check = run(Command::new(h.golb_binary()).arg("check").arg(&spec));
    assert!(
        check.status.success(),
        "golb check fails on init's spec:\n{}\n{written}",
        text(&check)
    );
    eprintln!("golb init wrote:\n{written}");
    printed
}

/// Builds DIR's golb.toml with `extra` options and pushes it as
/// `golb-e2e/init-<name>:test`; returns the image reference.
fn build_and_push(h: &Harness, dir: &Path, name: &str, extra: &[&str]) -> String {
    let image = format!("{}/golb-e2e/init-{name}:test", h.registry());
    let output = format!("type=image,name={image},push=true");
    let version = format!("VERSION={VERSION}");
    let mut args = vec![
        "--build-arg",
        &version,
        "--provenance=false",
        "--output",
        &output,
    ];
    args.extend_from_slice(extra);
    run_ok(&mut buildx_golb(h, dir, &args));
    image
}

/// The example with its spec removed, init, build, then each `(binary,
/// expected -version output)` run inside the image.
fn init_build_run(example: &str, binaries: &[(&str, &str)]) {
    let h = harness();
    let copy = ExampleCopy::new(example, &format!("init-{example}"));
    std::fs::remove_file(copy.path().join("golb.toml")).unwrap();
    golb_init(h, copy.path());
    assert!(
        copy.path().join(".dockerignore").is_file(),
        "init adds a .dockerignore"
    );
    let image = build_and_push(h, copy.path(), example, &[]);
    for (binary, expected) in binaries {
        let out = run_in_image(
            h,
            &image,
            &[&format!("/usr/local/bin/{binary}"), "-version"],
        );
        assert_eq!(out.trim(), *expected, "{example}: {binary} -version");
    }
    let config = Registry { host: h.registry() }.config(
        &format!("golb-e2e/init-{example}"),
        &Registry { host: h.registry() }.manifest(&format!("golb-e2e/init-{example}"), "test"),
    );
    assert_eq!(config["config"]["User"], "65532", "{example}: non-root");
}

#[test]
fn init_hello() {
    init_build_run("hello", &[("server", "hello 9.8.7")]);
}

#[test]
fn init_multi_two_binaries_and_the_entrypoint_init_picked() {
    // The copy is inside this repository's git checkout, so buildx sends
    // its commit and ${VCS_REVISION} carries it into main.revision.
    let h = harness();
    let head = run_ok(
        Command::new("git")
            .current_dir(repo_root())
            .args(["rev-parse", "HEAD"]),
    );
    init_build_run(
        "multi",
        &[
            ("server", &format!("server 9.8.7 ({})", head.trim())),
            ("migrate", "migrate 9.8.7"),
        ],
    );
    let registry = Registry { host: h.registry() };
    let config = registry.config(
        "golb-e2e/init-multi",
        &registry.manifest("golb-e2e/init-multi", "test"),
    );
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/server"])
    );
    assert!(
        config["config"]["ExposedPorts"]["8080/tcp"].is_object(),
        "{config}"
    );
}

#[test]
fn init_monorepo_module_below_the_root() {
    init_build_run("monorepo", &[("api", "api 9.8.7")]);
}

#[test]
fn init_workspace() {
    init_build_run("workspace", &[("app", "app 9.8.7")]);
}

#[test]
fn init_assets_embed() {
    init_build_run("assets", &[("site", "site 9.8.7")]);
    let h = harness();
    let out = run_in_image(
        h,
        &format!("{}/golb-e2e/init-assets:test", h.registry()),
        &["/usr/local/bin/site", "-index"],
    );
    assert!(
        out.contains("<"),
        "the embedded page is in the binary:\n{out}"
    );
}

/// examples/sqlite: its main package imports github.com/mattn/go-sqlite3,
/// whose cgo files compile SQLite's C (with CGO_ENABLED=0 it builds a stub
/// that fails at run time). init reads the dependency from the host's module
/// cache, writes `cgo = true` and the glibc base with a comment naming the
/// package, and the image built from that spec (on the cgo builder fixture,
/// as slim.rs builds the hand-written spec) really uses SQLite.
#[test]
fn init_sqlite() {
    let h = harness();
    let copy = ExampleCopy::new("sqlite", "init-sqlite");
    std::fs::remove_file(copy.path().join("golb.toml")).unwrap();
    // init reads dependencies from the module cache, and never downloads.
    run_ok(
        h.command("go")
            .current_dir(copy.path())
            .args(["mod", "download"]),
    );
    let printed = golb_init(h, copy.path());
    assert!(
        printed.contains("./cmd/notes needs cgo: github.com/mattn/go-sqlite3 compiles C"),
        "{printed}"
    );
    let spec = std::fs::read_to_string(copy.path().join("golb.toml")).unwrap();
    for expected in [
        "# github.com/mattn/go-sqlite3 compiles C (import \"C\"): cgo needs a glibc base.\n",
        "\ncgo = true ",
        "\nbase = \"gcr.io/distroless/base-debian12:nonroot\" ",
    ] {
        assert!(spec.contains(expected), "no {expected:?} in:\n{spec}");
    }
    assert!(!spec.contains("not checked"), "{spec}");

    let builder = format!("BUILDER_IMAGE={}", h.var("GOLB_GOLANG_CGO_IMAGE"));
    let image = build_and_push(h, copy.path(), "sqlite", &["--build-arg", &builder]);
    assert_eq!(
        run_in_image(h, &image, &["/usr/local/bin/notes", "-version"]).trim(),
        "notes 9.8.7"
    );
    let printed = run_in_image(
        h,
        &image,
        &[
            "/usr/local/bin/notes",
            "-db",
            "/tmp/notes.db",
            "first",
            "second",
        ],
    );
    assert!(
        printed.contains("sqlite 3.") && printed.contains(": 2 notes in /tmp/notes.db"),
        "the cgo binary did not use SQLite:\n{printed}"
    );
}

#[test]
fn init_vendored() {
    init_build_run("vendored", &[("server", "ratelimited 9.8.7")]);
}

#[test]
fn init_heavy() {
    init_build_run("heavy", &[("server", "heavy 9.8.7")]);
}

/// examples/private: init sees golb.test as private and says to pass a
/// netrc secret; built against the password-protected test GOPROXY with the
/// secret and the build arguments docs/private-modules.md names.
#[test]
fn init_private_module() {
    let h = harness();
    let copy = ExampleCopy::new("private", "init-private");
    std::fs::remove_file(copy.path().join("golb.toml")).unwrap();
    let printed = golb_init(h, copy.path());
    assert!(printed.contains("--secret id=netrc"), "{printed}");
    let spec = std::fs::read_to_string(copy.path().join("golb.toml")).unwrap();
    assert!(spec.contains("private = \"golb.test\""), "{spec}");

    let token = goproxy::random_token();
    let proxy = GoProxy::start_tls(&repo_root().join("tests/fixtures/goproxy"), "golb", &token)
        .expect("the test GOPROXY starts");
    let work = TempDir::new("init-private-work");
    let (builder, _) = goproxy::builder_image_trusting(
        h,
        proxy.ca_pem().unwrap(),
        &work.path().join("builder"),
        "golb-e2e/golang-testca-init",
    );
    let netrc = work.path().join("netrc");
    std::fs::write(&netrc, goproxy::netrc(&proxy, "golb", &token)).unwrap();
    let secret = format!("id=netrc,src={}", netrc.display());
    let goproxy_arg = format!("GOPROXY={}", proxy.url());
    let builder_arg = format!("BUILDER_IMAGE={builder}");
    let image = build_and_push(
        h,
        copy.path(),
        "private",
        &[
            "--secret",
            &secret,
            "--build-arg",
            &goproxy_arg,
            // The spec's GOPRIVATE would send Go to the VCS; the private proxy serves it.
            "--build-arg",
            "GONOPROXY=none",
            "--build-arg",
            &builder_arg,
        ],
    );
    assert_eq!(
        run_in_image(h, &image, &["/usr/local/bin/server", "-version"]).trim(),
        "private 9.8.7"
    );
    assert_eq!(
        run_in_image(h, &image, &["/usr/local/bin/server", "-greet"]).trim(),
        "hello from a private module"
    );
}

/// A public service at a pinned version: fetched through the module proxy
/// into `subdir` of a fresh repository, init, check, build, push.
fn public_service(module: &str, subdir: &str, name: &str) -> (TempDir, String, String) {
    let h = harness();
    let repo = TempDir::new(&format!("init-public-{name}"));
    module_from_proxy(h, module, &repo.path().join(subdir));
    golb_init(h, repo.path());
    let spec = std::fs::read_to_string(repo.path().join("golb.toml")).unwrap();
    let image = build_and_push(h, repo.path(), name, &[]);
    (repo, spec, image)
}

/// go-httpbin: one binary, its pages embedded with //go:embed, and an
/// examples/ main package that is not the service.
#[test]
fn init_public_go_httpbin_embed() {
    let h = harness();
    let (_repo, spec, image) = public_service(
        "github.com/mccutchen/go-httpbin/v2@v2.26.0",
        "",
        "go-httpbin",
    );
    assert!(spec.contains("package = \"./cmd/go-httpbin\""), "{spec}");
    assert!(
        spec.contains("//go:embed in the module: static/* (httpbin/static_assets.go:10)"),
        "{spec}"
    );
    assert!(
        spec.contains("-X main.version=${VERSION} -X main.commit=${VCS_REVISION}"),
        "{spec}"
    );
    let files = image_files(h, "golb-e2e/init-go-httpbin", "test");
    assert!(files.contains_key("usr/local/bin/go-httpbin"), "{files:?}");
    let help = run_in_image(h, &image, &["/usr/local/bin/go-httpbin", "-h"]);
    assert!(
        help.contains("-port"),
        "go-httpbin runs in the image:\n{help}"
    );
}

/// go-containerregistry: several binaries under cmd/ (crane, gcrane,
/// registry), a toolchain line, and the `-X` target its .goreleaser.yml names.
#[test]
fn init_public_go_containerregistry_several_binaries() {
    let h = harness();
    let (_repo, spec, image) =
        public_service("github.com/google/go-containerregistry@v0.22.1", "", "ggcr");
    assert!(spec.contains("toolchain line (go1.26.6)"), "{spec}");
    let files = image_files(h, "golb-e2e/init-ggcr", "test");
    for binary in ["crane", "gcrane", "registry"] {
        assert!(
            files.contains_key(&format!("usr/local/bin/{binary}")),
            "{binary}: {files:?}"
        );
    }
    assert_eq!(
        run_in_image(h, &image, &["/usr/local/bin/crane", "version"]).trim(),
        VERSION,
        "crane's version comes from the -X flag of .goreleaser.yml"
    );
}

/// nsq in services/nsq of a bigger repository: the module below the root,
/// nine binaries under apps/ (bench/ left out), nsqadmin's embedded UI, and
/// a go line (1.17) older than any builder the harness has, so the build
/// says which Go to use, as `--build-arg GO_VERSION` lets users do.
#[test]
fn init_public_nsq_module_below_the_root() {
    let h = harness();
    let repo = TempDir::new("init-public-nsq");
    module_from_proxy(
        h,
        "github.com/nsqio/nsq@v1.3.0",
        &repo.path().join("services/nsq"),
    );
    golb_init(h, repo.path());
    let spec = std::fs::read_to_string(repo.path().join("golb.toml")).unwrap();
    assert!(spec.contains("module = \"services/nsq\""), "{spec}");
    assert!(
        spec.contains("Left out (examples, tools, tests): ./bench/"),
        "{spec}"
    );
    assert!(
        spec.contains("static/build (services/nsq/nsqadmin/static.go:7)"),
        "{spec}"
    );
    let image = build_and_push(h, repo.path(), "nsq", &["--build-arg", "GO_VERSION=1.26"]);
    let files = image_files(h, "golb-e2e/init-nsq", "test");
    let apps = [
        "nsq_stat",
        "nsq_tail",
        "nsq_to_file",
        "nsq_to_http",
        "nsq_to_nsq",
        "nsqadmin",
        "nsqd",
        "nsqlookupd",
        "to_nsq",
    ];
    for binary in apps {
        assert!(
            files.contains_key(&format!("usr/local/bin/{binary}")),
            "{binary}: {files:?}"
        );
    }
    let version = run_in_image(h, &image, &["/usr/local/bin/nsqd", "--version"]);
    assert!(version.starts_with("nsqd v1.3.0"), "{version}");
    let admin = run_in_image(h, &image, &["/usr/local/bin/nsqadmin", "--version"]);
    assert!(admin.starts_with("nsqadmin v1.3.0"), "{admin}");
}
