//! The build options users know from the Dockerfile frontend, on the real
//! BuildKit: `--no-cache` and `--no-cache-filter`, `--cache-to` /
//! `--cache-from`, `--pull` (`image-resolve-mode`), the default platform and
//! `--add-host`. Each is checked by what users see: which steps buildx shows
//! as CACHED, and what the pushed image holds.
//!
//! Two tests run on a buildkitd of their own ([`TempDaemon`]): the cache
//! import must be seen on an empty builder, and `--add-host` must download
//! into an empty module cache. Pruning the harness's daemon instead would
//! make every later test cold.
//!
//! Rerun with `cargo test -p golb-e2e --test options -- --test-threads=1`.

use golb_e2e::goproxy::GoProxy;
use golb_e2e::{
    buildx_golb, copy_tree, example_dir, executed, harness, layers, repo_root, run, run_ok,
    step_cached, steps_named, Harness, Registry, TempDaemon, TempDir,
};
use std::path::Path;

const REPO: &str = "golb-e2e/options";

/// Whether every step named `needle` is CACHED; panics when there is none.
fn all_cached(log: &str, needle: &str) -> bool {
    let ids = steps_named(log, needle);
    assert!(!ids.is_empty(), "no step {needle:?} in:\n{log}");
    ids.iter().all(|id| step_cached(log, id))
}

/// Whether no step named `needle` is CACHED; panics when there is none.
fn none_cached(log: &str, needle: &str) -> bool {
    let ids = steps_named(log, needle);
    assert!(!ids.is_empty(), "no step {needle:?} in:\n{log}");
    ids.iter().all(|id| !step_cached(log, id))
}

/// A value no earlier run used, so a step keyed on it cannot be in any cache.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

/// examples/monorepo in `dir`, with a comment that makes its go build step
/// new. (The monorepo's service requires a module, so golb plans a download
/// step for it; examples/hello requires nothing and has none.)
fn fresh_monorepo(dir: &Path) {
    copy_tree(&example_dir("monorepo"), dir);
    let main_go = dir.join("services/api/cmd/api/main.go");
    let mut source = std::fs::read_to_string(&main_go).unwrap();
    source.push_str(&format!("\n// options e2e {}\n", nonce()));
    std::fs::write(&main_go, source).unwrap();
}

fn push_to(h: &Harness, tag: &str) -> String {
    format!("type=image,name={}/{REPO}:{tag},push=true", h.registry())
}

/// `--no-cache` reruns golb's Go steps. BuildKit also empties the cache
/// mounts of every step it reruns (solver/llbsolver/vertex.go,
/// `detectPrunedCacheID`), as for `RUN --mount=type=cache` in a Dockerfile:
/// the Go build cache starts empty, so this one build compiles the standard
/// library (about 30 s here, twice in this test). `--no-cache-filter build`
/// keeps the download cached; the other way round would not show much, as
/// a rerun download gives the build a new input, so the build reruns too.
#[test]
fn no_cache_reruns_every_go_step_and_no_cache_filter_only_the_named_ones() {
    let h = harness();
    // The monorepo's service has both a download and a build step.
    let dir = example_dir("monorepo");
    run_ok(&mut buildx_golb(h, &dir, &["--output", "type=cacheonly"]));

    let warm = run_ok(&mut buildx_golb(h, &dir, &["--output", "type=cacheonly"]));
    assert!(all_cached(&warm, "go mod download"), "{warm}");
    assert!(all_cached(&warm, "go build"), "{warm}");

    let log = run_ok(&mut buildx_golb(
        h,
        &dir,
        &["--no-cache", "--output", "type=cacheonly"],
    ));
    assert!(none_cached(&log, "go mod download"), "--no-cache:\n{log}");
    assert!(none_cached(&log, "go build"), "--no-cache:\n{log}");

    // As with Dockerfile stages, only the named steps run again.
    let log = run_ok(&mut buildx_golb(
        h,
        &dir,
        &["--no-cache-filter", "build", "--output", "type=cacheonly"],
    ));
    assert!(
        none_cached(&log, "go build"),
        "--no-cache-filter build:\n{log}"
    );
    assert!(
        all_cached(&log, "go mod download"),
        "--no-cache-filter build:\n{log}"
    );

    // A name golb has no step for is refused, not silently ignored.
    let out = run(&mut buildx_golb(
        h,
        &dir,
        &["--no-cache-filter", "runtime", "--output", "type=cacheonly"],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "option no-cache: --no-cache-filter \"runtime\": golb's steps are download, build, test, vet, vuln"
        ),
        "{stderr}"
    );
}

#[test]
fn cache_from_a_registry_on_an_empty_builder_runs_no_go_step_and_gives_the_same_layers() {
    let h = harness();
    let work = TempDir::new("options-cache");
    let src = work.path().join("src");
    fresh_monorepo(&src);
    let cache_ref = format!("{}/golb-e2e/cache:options", h.registry());

    // Exported from the harness's daemon, where this build is new.
    let first = run_ok(&mut buildx_golb(
        h,
        &src,
        &[
            "--provenance=false",
            "--output",
            &push_to(h, "cache-1"),
            "--cache-to",
            &format!("type=registry,ref={cache_ref},mode=max"),
        ],
    ));
    assert!(none_cached(&first, "go build"), "{first}");

    // An empty builder: only the import can make these steps cached.
    let daemon = TempDaemon::start(h, "options-cache-daemon");
    let log = run_ok(&mut daemon.buildx_golb(
        h,
        &src,
        &[
            "--provenance=false",
            "--output",
            &push_to(h, "cache-2"),
            "--cache-from",
            &format!("type=registry,ref={cache_ref}"),
        ],
    ));
    assert!(
        log.contains(&format!("importing cache manifest from {cache_ref}")),
        "{log}"
    );
    // Nothing Go runs: `go build` is found in the cache, so the download
    // and the dependency compile are at most loaded (CACHED) or dropped
    // unneeded (CANCELED), never run.
    for step in [
        "go mod download",
        "compile the standard library and dependencies",
    ] {
        assert!(!executed(&log, step), "{step}: {log}");
    }
    for step in ["go build", "stage api"] {
        assert!(all_cached(&log, step), "{step}: {log}");
    }
    // The size summary is the one step outside the image: no cache export
    // carries what is not an ancestor of the result, so it runs, over the
    // image's layers loaded from the import (docs/size.md, "On a fresh
    // runner"). Those layers are the ones the cache gave, not rebuilt ones.
    assert!(executed(&log, "size of the image"), "{log}");

    let registry = Registry { host: h.registry() };
    assert_eq!(
        layers(&registry.manifest(REPO, "cache-2")),
        layers(&registry.manifest(REPO, "cache-1")),
        "the image built from the imported cache has the same layers"
    );
}

/// The layers of a tiny image pushed as `name`: one file holding `marker`.
fn push_base(h: &Harness, dir: &Path, name: &str, marker: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("marker"), marker).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY marker /marker\n",
    )
    .unwrap();
    run_ok(
        h.command("buildx")
            .args([
                "build",
                "--progress=plain",
                "--provenance=false",
                "--output",
            ])
            .arg(format!("type=image,name={name},push=true"))
            .arg(dir),
    );
    let (repo, tag) = name
        .strip_prefix(&format!("{}/", h.registry()))
        .and_then(|r| r.rsplit_once(':'))
        .expect("registry/repo:tag");
    layers(&Registry { host: h.registry() }.manifest(repo, tag))
}

/// BuildKit v0.32.2 resolves an image config (ResolveImageConfig, which golb
/// calls for the builder and the base) against the registry in every mode
/// when the worker has no image store, and the OCI worker has none
/// (worker/runc: `ImageStore: nil`): `default` only falls back to the image
/// store when the registry fails, `local` would prefer it. So on this
/// builder a moved tag is seen with and without `--pull`; golb pins the
/// resolved digest, so the image is built on what the tag names now. What
/// `--pull` adds is visible: golb resolves with `image-resolve-mode=pull`.
#[test]
fn a_moved_base_tag_is_used_with_and_without_pull() {
    let h = harness();
    let work = TempDir::new("options-pull");
    let base = format!("{}/golb-e2e/options-base:moving", h.registry());
    let run_id = nonce();
    let first_base = push_base(h, &work.path().join("a"), &base, &format!("a {run_id}"));

    let src = work.path().join("src");
    copy_tree(&example_dir("hello"), &src);
    let spec = src.join("golb.toml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("[runtime]\n", &format!("[runtime]\nbase = \"{base}\"\n"));
    std::fs::write(&spec, text).unwrap();
    let resolve_line = format!("[golb] resolve runtime {base} for linux/amd64");
    let registry = Registry { host: h.registry() };
    let base_layer_of = |tag: &str| layers(&registry.manifest(REPO, tag))[0].clone();

    let log = run_ok(&mut buildx_golb(
        h,
        &src,
        &["--provenance=false", "--output", &push_to(h, "pull-1")],
    ));
    assert!(log.contains(&format!("{resolve_line}\n")), "{log}");
    assert_eq!(base_layer_of("pull-1"), first_base[0]);

    let second_base = push_base(h, &work.path().join("b"), &base, &format!("b {run_id}"));
    assert_ne!(first_base, second_base);

    let log = run_ok(&mut buildx_golb(
        h,
        &src,
        &["--provenance=false", "--output", &push_to(h, "pull-2")],
    ));
    assert!(!log.contains("image-resolve-mode="), "{log}");
    assert_eq!(
        base_layer_of("pull-2"),
        second_base[0],
        "without --pull the tag is resolved again (the OCI worker keeps no image store)"
    );

    let log = run_ok(&mut buildx_golb(
        h,
        &src,
        &[
            "--pull",
            "--provenance=false",
            "--output",
            &push_to(h, "pull-3"),
        ],
    ));
    assert!(
        log.contains(&format!("{resolve_line} (image-resolve-mode=pull)")),
        "--pull reaches golb's resolve:\n{log}"
    );
    assert!(
        log.contains("(image-resolve-mode=pull)") && log.contains("[golb] resolve builder"),
        "{log}"
    );
    assert_eq!(base_layer_of("pull-3"), second_base[0]);
}

/// The worker's first platform, as `buildctl debug workers -v` lists it.
fn worker_platform(h: &Harness) -> String {
    let out = run_ok(h.command("buildctl").args(["debug", "workers", "-v"]));
    out.lines()
        .find_map(|l| l.strip_prefix("Platforms:"))
        .and_then(|list| list.trim().split(',').next())
        .unwrap_or_else(|| panic!("no Platforms line in:\n{out}"))
        .to_string()
}

#[test]
fn without_platform_the_image_is_for_the_workers_platform() {
    let h = harness();
    let worker = worker_platform(h);
    let mut parts = worker.split('/');
    let (os, arch) = (parts.next().unwrap(), parts.next().expect("os/arch"));
    run_ok(&mut buildx_golb(
        h,
        &example_dir("hello"),
        &["--provenance=false", "--output", &push_to(h, "platform")],
    ));
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, "platform");
    let config = registry.config(REPO, &manifest);
    assert_eq!(
        (config["os"].as_str(), config["architecture"].as_str()),
        (Some(os), Some(arch)),
        "worker {worker}: {config}"
    );
}

/// A GOPROXY under a made-up name, resolvable only through `--add-host`.
/// It runs on an empty builder, so the module is not already in golb's
/// module cache (then Go would never ask the proxy).
#[test]
fn add_host_makes_a_private_proxy_name_resolve_in_the_download_step() {
    let h = harness();
    let proxy = GoProxy::start_open(&repo_root().join("tests/fixtures/goproxy")).expect("GOPROXY");
    let goproxy = format!("http://goproxy.golb.test:{}", proxy.port());
    let work = TempDir::new("options-add-host");
    copy_tree(&example_dir("private"), work.path());
    let daemon = TempDaemon::start(h, "options-add-host-daemon");
    let goproxy_arg = format!("GOPROXY={goproxy}");
    let output = format!("type=local,dest={}", work.path().join("out").display());
    std::fs::write(work.path().join(".dockerignore"), "out\n").unwrap();

    let out = run(&mut daemon.buildx_golb(
        h,
        work.path(),
        &["--build-arg", &goproxy_arg, "--output", &output],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("lookup goproxy.golb.test"),
        "a name-resolution error:\n{stderr}"
    );
    assert!(proxy.requests().is_empty(), "{}", proxy.describe());

    let log = run_ok(&mut daemon.buildx_golb(
        h,
        work.path(),
        &[
            "--add-host",
            "goproxy.golb.test=127.0.0.1",
            "--build-arg",
            &goproxy_arg,
            "--output",
            &output,
        ],
    ));
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/greeting/@v/v1.0.0.zip") && r.status == 200),
        "the module came from the proxy:\n{}\n{log}",
        proxy.describe()
    );
    assert!(
        work.path().join("out/usr/local/bin/server").is_file(),
        "{log}"
    );
}
