//! CI on a fresh runner, as docs/ci.md recommends it: the job on `main`
//! builds with `--cache-to`, and the next job runs on a new, empty builder
//! (a GitHub-hosted runner, a new remote builder) with `--cache-from` and one
//! change. Each case here is that sequence on the real BuildKit:
//!
//! 1. the harness's long-lived buildkitd builds the starting source and
//!    exports its cache (the job on `main`);
//! 2. one change is made;
//! 3. the harness's buildkitd builds the changed source: the digest a warm
//!    local build gives;
//! 4. a new buildkitd with an empty root ([`TempDaemon`]) builds the changed
//!    source with `--cache-from`: it must succeed and give that digest.
//!
//! BuildKit never exports cache mounts, so step 4 sees no module cache and no
//! Go build cache but what golb put in ordinary step outputs. Where the
//! change leaves the compiled dependencies' key alone (Go release, target,
//! tags, flags, module versions, the external packages imported), the log
//! must show that step CACHED and `go build -v` naming only the module's own
//! packages.
//!
//! Rerun with `cargo test -p golb-e2e --test ci -- --test-threads=1`.

use golb_e2e::goproxy::{self, GoProxy};
use golb_e2e::{
    buildx_golb, copy_tree, example_dir, executed, gunzip, harness, layers, metadata_digest,
    repo_root, run, run_ok, steps_named, text, Harness, Registry, TempDaemon, TempDir,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const REPO: &str = "golb-e2e/ci";
const DEPENDENCIES: &str = "compile the standard library and dependencies";

/// Where the job on `main` exports its cache, and how.
enum Cache {
    Registry {
        reference: String,
        mode: &'static str,
    },
    Local {
        dir: PathBuf,
        mode: &'static str,
    },
}

impl Cache {
    fn to(&self) -> String {
        match self {
            Cache::Registry { reference, mode } => {
                format!("type=registry,ref={reference},mode={mode}")
            }
            Cache::Local { dir, mode } => format!("type=local,dest={},mode={mode}", dir.display()),
        }
    }

    fn from(&self) -> String {
        match self {
            Cache::Registry { reference, .. } => format!("type=registry,ref={reference}"),
            Cache::Local { dir, .. } => format!("type=local,src={}", dir.display()),
        }
    }
}

/// One CI case: its cache, its scratch directory, its image tags.
struct Case<'a> {
    h: &'a Harness,
    name: String,
    cache: Cache,
    work: TempDir,
    builds: AtomicU32,
}

/// A build's log, image digest and image tag.
struct Built {
    log: String,
    digest: String,
    tag: String,
}

impl<'a> Case<'a> {
    fn registry(h: &'a Harness, name: &str, mode: &'static str) -> Case<'a> {
        let reference = format!("{}/{REPO}:cache-{name}-{}", h.registry(), nonce());
        Case::new(h, name, |_| Cache::Registry { reference, mode })
    }

    /// A cache in a directory (`type=local`), as CI systems keep between jobs.
    fn local(h: &'a Harness, name: &str, mode: &'static str) -> Case<'a> {
        Case::new(h, name, |work| Cache::Local {
            dir: work.join("cache"),
            mode,
        })
    }

    fn new(h: &'a Harness, name: &str, cache: impl FnOnce(&Path) -> Cache) -> Case<'a> {
        let work = TempDir::new(&format!("ci-{name}"));
        Case {
            h,
            name: name.to_string(),
            cache: cache(work.path()),
            work,
            builds: AtomicU32::new(0),
        }
    }

    /// A directory of this case's, holding a copy of `from`.
    fn source(&self, from: &Path) -> PathBuf {
        let dir = self.work.path().join("src");
        copy_tree(from, &dir);
        dir
    }

    fn image_args(&self, extra: &[&str]) -> (Vec<String>, PathBuf, String) {
        let n = self.builds.fetch_add(1, Ordering::Relaxed);
        let metadata = self.work.path().join(format!("metadata-{n}.json"));
        let tag = format!("{}-{n}", self.name);
        let mut args: Vec<String> = [
            "--provenance=false",
            "--output",
            &format!(
                "type=image,name={}/{REPO}:{tag},push=true",
                self.h.registry()
            ),
            "--metadata-file",
            &metadata.display().to_string(),
        ]
        .map(String::from)
        .to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        (args, metadata, tag)
    }

    /// The job on `main`: the long-lived builder builds and exports its cache.
    fn export(&self, dir: &Path, extra: &[&str]) -> Built {
        let to = self.cache.to();
        let mut args = vec!["--cache-to", to.as_str()];
        args.extend_from_slice(extra);
        self.build_on(None, dir, &args)
    }

    /// The same source on the long-lived builder, nothing imported.
    fn warm_local(&self, dir: &Path, extra: &[&str]) -> Built {
        self.build_on(None, dir, extra)
    }

    /// The next job: an empty builder importing the exported cache.
    fn fresh_runner(&self, dir: &Path, extra: &[&str]) -> Built {
        let daemon = TempDaemon::start(self.h, &format!("ci-{}-runner", self.name));
        let from = self.cache.from();
        let mut args = vec!["--cache-from", from.as_str()];
        args.extend_from_slice(extra);
        let built = self.build_on(Some(&daemon), dir, &args);
        assert!(
            built.log.contains("importing cache manifest")
                || matches!(self.cache, Cache::Local { .. }),
            "the runner did not import the cache:\n{}",
            built.log
        );
        built
    }

    fn build_on(&self, daemon: Option<&TempDaemon>, dir: &Path, extra: &[&str]) -> Built {
        let (args, metadata, tag) = self.image_args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = match daemon {
            Some(daemon) => daemon.buildx_golb(self.h, dir, &args),
            None => buildx_golb(self.h, dir, &args),
        };
        let log = run_ok(&mut cmd);
        Built {
            digest: metadata_digest(&metadata),
            log,
            tag,
        }
    }
}

/// A value no earlier run used.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

/// The packages `go build -v` compiled, from every go build step's output.
fn compiled_packages(log: &str) -> Vec<String> {
    let ids = steps_named(log, "[golb] go build");
    assert!(!ids.is_empty(), "no go build step in:\n{log}");
    let mut packages = Vec::new();
    for id in ids {
        let prefix = format!("{id} ");
        for line in log.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else {
                continue;
            };
            // "#12 1.234 example.com/app/internal/x": a time, then the package.
            let mut words = rest.split_whitespace();
            let (Some(time), Some(word), None) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            if time.parse::<f64>().is_ok() && !word.contains(':') {
                packages.push(word.to_string());
            }
        }
    }
    packages.sort();
    packages.dedup();
    packages
}

/// What a runner that imported the dependencies must show: they were not
/// compiled again, and `go build` compiled only packages under `own`.
fn assert_only_own_packages_compiled(built: &Built, own: &str) {
    assert!(
        !executed(&built.log, DEPENDENCIES),
        "the dependency compile ran on the runner:\n{}",
        built.log
    );
    let compiled = compiled_packages(&built.log);
    assert!(
        !compiled.is_empty(),
        "go build compiled nothing (expected the module's own packages):\n{}",
        built.log
    );
    assert!(
        compiled.iter().all(|p| p.starts_with(own)),
        "go build compiled more than the module's own packages: {compiled:?}\n{}",
        built.log
    );
}

fn append(path: &Path, text: &str) {
    let mut content =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    content.push_str(text);
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn replace(path: &Path, from: &str, to: &str) {
    let content =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(content.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, content.replace(from, to))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The scenario: examples/heavy (gRPC, Prometheus, yaml.v3) exported
/// to a registry with mode=max, one .go file edited, built on an empty
/// builder. Before golb kept modules in a step output, this failed with
/// `gopkg.in/yaml.v3@v3.0.1: … network is unreachable`.
#[test]
fn a_go_edit_builds_on_a_fresh_runner_from_a_registry_cache() {
    let h = harness();
    let case = Case::registry(h, "heavy-edit", "max");
    let dir = case.source(&example_dir("heavy"));
    case.export(&dir, &[]);

    replace(
        &dir.join("internal/config/config.go"),
        "package config",
        &format!("package config\n\n// edited by the CI e2e test {}", nonce()),
    );
    let local = case.warm_local(&dir, &[]);
    let runner = case.fresh_runner(&dir, &[]);
    assert_eq!(runner.digest, local.digest, "{}", runner.log);
    assert!(!executed(&runner.log, "go mod download"), "{}", runner.log);
    assert_only_own_packages_compiled(&runner, "example.com/heavy/");
    assert!(
        compiled_packages(&runner.log).contains(&"example.com/heavy/internal/config".to_string()),
        "{}",
        runner.log
    );
    assert_builder_not_unpacked(&runner);
}

/// A binary whose main package holds a PGO profile (default.pgo) is built
/// with it, as `go build`'s default `-pgo=auto` does on a laptop, and the
/// dependency step compiles the standard library and dependencies with it:
/// on a fresh runner a code edit still compiles only the module's own
/// packages. Before golb read default.pgo, the binary had no `-pgo` and
/// differed from the one `go build` gives.
#[test]
fn a_pgo_profile_reaches_the_binary_and_the_compiled_dependencies() {
    let h = harness();
    let case = Case::registry(h, "pgo", "max");
    let dir = case.source(&example_dir("hello"));
    // A new profile (tests/fixtures/pgo/README.md says why).
    let writer = case.work.path().join("profile-writer");
    copy_tree(&repo_root().join("tests/fixtures/pgo"), &writer);
    run_ok(
        h.command("go")
            .current_dir(&writer)
            .env("GOTOOLCHAIN", "local")
            .args(["run", "."])
            .arg(dir.join("cmd/server/default.pgo")),
    );
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        append(
            &dir.join("cmd/server/main.go"),
            &format!("\n// edited by the CI e2e test {}\n", nonce()),
        )
    });
    assert_only_own_packages_compiled(&runner, "example.com/hello/");
    let binary = case.work.path().join("server");
    std::fs::write(
        &binary,
        file_in_image(h, &runner.tag, "usr/local/bin/server"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let info = run_ok(h.command("go").args(["version", "-m"]).arg(&binary));
    assert!(
        info.contains("build\t-pgo=default.pgo"),
        "the binary was not built with its profile:\n{info}"
    );
}

/// One file of an image of this test's repository, from its last layer.
fn file_in_image(h: &Harness, tag: &str, path: &str) -> Vec<u8> {
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, tag);
    let last = layers(&manifest).pop().expect("the image has layers");
    let scratch = TempDir::new("ci-file-in-image");
    let tar = scratch.path().join("layer.tar");
    let bytes = gunzip(
        &registry.blob(REPO, &last),
        &scratch.path().join("layer.gz"),
    );
    std::fs::write(&tar, bytes).unwrap_or_else(|e| panic!("{}: {e}", tar.display()));
    run_ok(
        Command::new("tar")
            .arg("-xf")
            .arg(&tar)
            .arg("-C")
            .arg(scratch.path())
            .arg(path),
    );
    let file = scratch.path().join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// What a code edit on a runner that imported the Go distribution's copy
/// must show: `go build` ran on that copy, downloaded from the cache, and
/// the builder image's layers were never downloaded nor unpacked.
fn assert_builder_not_unpacked(built: &Built) {
    for id in steps_named(&built.log, "[builder] ") {
        let prefix = format!("{id} ");
        let pulled: Vec<&str> = built
            .log
            .lines()
            .filter(|l| {
                l.strip_prefix(&prefix).is_some_and(|rest| {
                    rest.starts_with("sha256:") || rest.starts_with("extracting")
                })
            })
            .collect();
        assert!(
            pulled.is_empty(),
            "the runner pulled the builder image: {pulled:?}\n{}",
            built.log
        );
    }
    assert!(
        !executed(&built.log, "[golb] GOROOT, copied from the builder"),
        "the Go distribution's copy was made again instead of imported:\n{}",
        built.log
    );
}

/// A small module with one dependency (gopkg.in/yaml.v3), its own package
/// and a version stamped from a build argument, written into `dir`, with
/// go.sum from the host's `go mod tidy`.
fn small_module(h: &Harness, dir: &Path) {
    std::fs::create_dir_all(dir.join("internal/greet")).unwrap();
    std::fs::write(
        dir.join("golb.toml"),
        "# syntax=127.0.0.1:5000/golb:dev\n[builder]\ngo = \"1.26\"\n\n[[binary]]\npackage = \".\"\nldflags = [\"-X main.version=${VERSION}\"]\n\n[args]\nVERSION = \"dev\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/ci\n\ngo 1.26\n\nrequire gopkg.in/yaml.v3 v3.0.1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/ci/internal/greet\"\n\t\"gopkg.in/yaml.v3\"\n)\n\nvar version = \"unset\"\n\nfunc main() {\n\tout, _ := yaml.Marshal(map[string]string{\"greeting\": greet.Hello(), \"version\": version})\n\tfmt.Print(string(out))\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("internal/greet/greet.go"),
        "package greet\n\n// Hello is the greeting.\nfunc Hello() string { return \"hello\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "# ci\n").unwrap();
    tidy(h, dir);
}

fn tidy(h: &Harness, dir: &Path) {
    run_ok(
        h.command("go")
            .current_dir(dir)
            .args(["mod", "tidy"])
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local"),
    );
}

/// Builds `dir` as the job on `main`, applies `change`, and builds it on the
/// long-lived builder and on a fresh runner; returns both.
fn change_on_a_fresh_runner(
    case: &Case<'_>,
    dir: &Path,
    extra: &[&str],
    change: impl FnOnce(&Path),
) -> (Built, Built) {
    case.export(dir, extra);
    change(dir);
    let local = case.warm_local(dir, extra);
    let runner = case.fresh_runner(dir, extra);
    assert_eq!(
        runner.digest, local.digest,
        "{}: the runner's image differs from the local build's\n{}",
        case.name, runner.log
    );
    (local, runner)
}

#[test]
fn a_go_sum_only_change_keeps_modules_and_dependencies() {
    let h = harness();
    let case = Case::registry(h, "gosum", "max");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        // A hash of a version the build does not use: Go ignores it, but the
        // file is new.
        append(
            &dir.join("go.sum"),
            "gopkg.in/yaml.v3 v3.0.0/go.mod h1:K4uyk7z7BCEPqu6E+C64Yfv1cQ7kz7rIZviUmN+EgEM=\n",
        );
    });
    // The modules are keyed by go.mod/go.sum, the dependencies by the module
    // versions: the download runs again, its output is the same, and the
    // compiled dependencies stay cached (BuildKit keys them on that content).
    assert_only_own_packages_compiled(&runner, "example.com/ci");
}

#[test]
fn a_build_arg_change_relinks_only() {
    let h = harness();
    let case = Case::registry(h, "buildarg", "max");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    case.export(&dir, &["--build-arg", "VERSION=1.0.0"]);
    let local = case.warm_local(&dir, &["--build-arg", "VERSION=1.0.1"]);
    let runner = case.fresh_runner(&dir, &["--build-arg", "VERSION=1.0.1"]);
    assert_eq!(runner.digest, local.digest, "{}", runner.log);
    assert!(!executed(&runner.log, "go mod download"), "{}", runner.log);
    assert!(!executed(&runner.log, DEPENDENCIES), "{}", runner.log);
    assert!(executed(&runner.log, "go build"), "{}", runner.log);
}

#[test]
fn a_multi_platform_build_on_a_fresh_runner() {
    let h = harness();
    let case = Case::registry(h, "platforms", "max");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    let platforms = ["--platform", "linux/amd64,linux/arm64"];
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &platforms, |dir| {
        append(&dir.join("internal/greet/greet.go"), "\n// edited\n");
    });
    // One step compiles the dependencies for both platforms: one cache key,
    // which a fresh runner matches (docs/design.md says why not one each).
    let steps = steps_named(&runner.log, DEPENDENCIES);
    assert_eq!(steps.len(), 1, "{}", runner.log);
    assert!(
        runner
            .log
            .contains(&format!("{DEPENDENCIES} (linux/amd64, linux/arm64)")),
        "{}",
        runner.log
    );
    assert_only_own_packages_compiled(&runner, "example.com/ci");
}

#[test]
fn a_new_dependency_builds_on_a_fresh_runner() {
    let h = harness();
    let case = Case::registry(h, "newdep", "max");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        replace(
            &dir.join("internal/greet/greet.go"),
            "package greet\n",
            "package greet\n\nimport \"golang.org/x/sync/singleflight\"\n\nvar _ singleflight.Group\n",
        );
        replace(
            &dir.join("go.mod"),
            "require gopkg.in/yaml.v3 v3.0.1\n",
            "require (\n\tgolang.org/x/sync v0.24.0\n\tgopkg.in/yaml.v3 v3.0.1\n)\n",
        );
        tidy(h, dir);
    });
    // New module versions and a new import: the modules are fetched and the
    // dependencies compiled again, as they must be.
    assert!(executed(&runner.log, "go mod download"), "{}", runner.log);
    assert!(executed(&runner.log, DEPENDENCIES), "{}", runner.log);
}

#[test]
fn a_vendor_change_builds_on_a_fresh_runner() {
    let h = harness();
    let case = Case::registry(h, "vendor", "max");
    let dir = case.source(&example_dir("vendored"));
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        append(
            &dir.join("vendor/golang.org/x/time/rate/rate.go"),
            "\n// patched in vendor/\n",
        );
    });
    // vendor/ decides the dependencies: they are compiled again.
    assert!(executed(&runner.log, DEPENDENCIES), "{}", runner.log);
}

#[test]
fn a_go_edit_with_a_local_cache_export() {
    let h = harness();
    let case = Case::local(h, "localcache", "max");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    let (_, runner) = change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        append(&dir.join("main.go"), "\n// edited\n");
    });
    assert_only_own_packages_compiled(&runner, "example.com/ci");
}

/// With mode=min only the image's own layers are exported: intermediate
/// steps run again on the runner, and the build must still be correct.
#[test]
fn a_go_edit_with_a_min_mode_cache_is_correct() {
    let h = harness();
    let case = Case::registry(h, "min", "min");
    let dir = case.work.path().join("src");
    small_module(h, &dir);
    change_on_a_fresh_runner(&case, &dir, &[], |dir| {
        append(&dir.join("main.go"), "\n// edited\n");
    });
}

/// A README, docs or another service's edit is no input of `go build`:
/// golb copies only Go's inputs (and embedded files) out of the context.
#[test]
fn non_go_edits_keep_go_build_cached_at_the_root_and_in_a_monorepo() {
    let h = harness();
    let work = TempDir::new("ci-non-go");

    let root = work.path().join("root");
    small_module(h, &root);
    run_ok(&mut buildx_golb(h, &root, &["--output", "type=cacheonly"]));
    append(&root.join("README.md"), &format!("\nedited {}\n", nonce()));
    std::fs::create_dir_all(root.join("deploy/chart")).unwrap();
    std::fs::write(root.join("deploy/chart/values.yaml"), "replicas: 3\n").unwrap();
    let log = run_ok(&mut buildx_golb(h, &root, &["--output", "type=cacheonly"]));
    assert!(!executed(&log, "go build"), "{log}");

    // A .go edit is an input (new text: other tests built this module too).
    append(&root.join("main.go"), &format!("\n// edited {}\n", nonce()));
    let log = run_ok(&mut buildx_golb(h, &root, &["--output", "type=cacheonly"]));
    assert!(executed(&log, "go build"), "{log}");

    let mono = work.path().join("monorepo");
    copy_tree(&example_dir("monorepo"), &mono);
    run_ok(&mut buildx_golb(h, &mono, &["--output", "type=cacheonly"]));
    let readme = mono.join("services/api/README.md");
    std::fs::write(&readme, format!("# api\n{}\n", nonce())).unwrap();
    let log = run_ok(&mut buildx_golb(h, &mono, &["--output", "type=cacheonly"]));
    assert!(!executed(&log, "go build"), "{log}");
}

/// Private modules: the netrc secret is needed only when modules are
/// really fetched. A .go edit on a fresh runner builds without it (the
/// module snapshot comes from the cache); a go.mod change needs it again.
#[test]
fn private_modules_need_the_secret_only_when_modules_are_fetched() {
    let h = harness();
    let token = goproxy::random_token();
    let proxy = GoProxy::start_tls(&repo_root().join("tests/fixtures/goproxy"), "golb", &token)
        .expect("the test GOPROXY starts");
    let case = Case::registry(h, "private", "max");
    let dir = case.source(&example_dir("private"));
    let (builder, _) = goproxy::builder_image_trusting(
        h,
        proxy.ca_pem().expect("a TLS proxy has a CA"),
        &case.work.path().join("builder"),
        "golb-e2e/golang-testca-ci",
    );
    replace(
        &dir.join("golb.toml"),
        "\n[builder]\n",
        &format!("\n[builder]\nimage = \"{builder}\"\n"),
    );
    let netrc = case.work.path().join("netrc");
    std::fs::write(&netrc, goproxy::netrc(&proxy, "golb", &token)).unwrap();
    let secret = format!("id=netrc,src={}", netrc.display());
    let goproxy_arg = format!("GOPROXY={}", proxy.url());
    let with_secret = ["--build-arg", &goproxy_arg, "--secret", &secret];
    let without_secret = ["--build-arg", &goproxy_arg];

    case.export(&dir, &with_secret);
    append(&dir.join("cmd/server/main.go"), "\n// edited\n");
    let local = case.warm_local(&dir, &with_secret);
    proxy.reset();
    let runner = case.fresh_runner(&dir, &without_secret);
    assert_eq!(runner.digest, local.digest, "{}", runner.log);
    assert!(!executed(&runner.log, "go mod download"), "{}", runner.log);
    assert!(
        proxy.requests().is_empty(),
        "the runner asked the private proxy:\n{}",
        proxy.describe()
    );

    // A go.mod change: the download runs again and needs the credentials.
    replace(&dir.join("go.mod"), "\ngo 1.26\n", "\ngo 1.26.0\n");
    let daemon = TempDaemon::start(h, "ci-private-refetch");
    let from = case.cache.from();
    let mut args = vec!["--cache-from", from.as_str(), "--output", "type=cacheonly"];
    args.extend_from_slice(&without_secret);
    let out = run(&mut daemon.buildx_golb(h, &dir, &args));
    assert!(
        !out.status.success() && text(&out).contains("401 Unauthorized"),
        "a go.mod change downloads again and needs the secret:\n{}",
        text(&out)
    );
    let mut args = vec!["--cache-from", from.as_str(), "--output", "type=cacheonly"];
    args.extend_from_slice(&with_secret);
    run_ok(&mut daemon.buildx_golb(h, &dir, &args));
}
