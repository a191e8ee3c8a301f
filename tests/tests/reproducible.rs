//! Reproducible by default: the same source gives the same image, byte for
//! byte, from empty caches; `SOURCE_DATE_EPOCH` (which buildx passes as a build
//! argument) sets every time golb writes; and the graph golb solves does not
//! change between two solves of the same request.
//!
//! "From empty caches" means a buildkitd of the build's own with an empty
//! root ([`TempDaemon`]), not a pruned harness daemon: pruning that one
//! would turn every later test file's builds cold (CI's time budget).

use golb_e2e::{
    buildx_golb, example_dir, golb_llb_into_buildctl, harness, layers, metadata_digest,
    rawjson_vertexes, run, run_ok, Harness, Registry, TempDaemon, TempDir,
};
use std::collections::BTreeMap;
use std::process::Command;

const REPO: &str = "golb-e2e/reproducible";

/// One build of examples/hello on the harness's daemon, pushed to
/// `REPO:tag`, as users run it; returns the image digest from
/// `--metadata-file` and the rawjson progress.
fn build_hello(h: &Harness, tag: &str, source_date_epoch: Option<&str>) -> (String, String) {
    build_example(h, None, "hello", tag, source_date_epoch)
}

/// [`build_hello`] of `example` from empty caches: on a new buildkitd with
/// an empty root, stopped and removed afterwards.
fn build_cold(h: &Harness, example: &str, tag: &str) -> (String, String) {
    let daemon = TempDaemon::start(h, &format!("repro-{tag}"));
    build_example(h, Some(&daemon), example, tag, None)
}

fn build_example(
    h: &Harness,
    daemon: Option<&TempDaemon>,
    example: &str,
    tag: &str,
    source_date_epoch: Option<&str>,
) -> (String, String) {
    let dir = TempDir::new(&format!("reproducible-{tag}"));
    let metadata = dir.path().join("metadata.json");
    let name = format!("{}/{REPO}:{tag}", h.registry());
    let args = [
        "--progress=rawjson",
        "--provenance=false",
        "--metadata-file",
        metadata.to_str().expect("UTF-8 path"),
        "--output",
        &format!("type=image,name={name},push=true"),
    ];
    let mut cmd = match daemon {
        Some(daemon) => daemon.buildx_golb(h, &example_dir(example), &args),
        None => buildx_golb(h, &example_dir(example), &args),
    };
    match source_date_epoch {
        Some(epoch) => cmd.env("SOURCE_DATE_EPOCH", epoch),
        None => cmd.env_remove("SOURCE_DATE_EPOCH"),
    };
    let out = run(&mut cmd);
    let progress = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed:\n{progress}");
    (metadata_digest(&metadata), progress)
}

/// golb's own steps of a build (name → op digest).
fn golb_ops(progress: &str) -> BTreeMap<String, String> {
    rawjson_vertexes(progress)
        .into_iter()
        .filter(|(_, name)| {
            name.starts_with("[golb]")
                || name.starts_with("[builder]")
                || name.starts_with("[runtime]")
        })
        .map(|(digest, name)| (name, digest))
        .collect()
}

/// Built on examples/assets, whose image adds a `[[file]]` layer above the
/// binary's: every layer golb adds needs its history entry, or BuildKit's
/// exporter stamps one with the wall clock. (Each cold build is minutes of
/// CI's budget, so one pair covers both the plain and the file layers.)
#[test]
fn two_builds_from_empty_caches_give_the_same_image() {
    let h = harness();
    let (first, first_progress) = build_cold(h, "assets", "first");
    let (second, second_progress) = build_cold(h, "assets", "second");
    assert_eq!(
        first, second,
        "examples/assets, built twice from empty caches, gave two different images"
    );

    // The same layers, so the same binary; created at the default time.
    let registry = Registry { host: h.registry() };
    let (a, b) = (
        registry.manifest(REPO, "first"),
        registry.manifest(REPO, "second"),
    );
    assert_eq!(layers(&a), layers(&b));
    assert_eq!(
        registry.config(REPO, &a)["created"],
        "1970-01-01T00:00:00Z",
        "SOURCE_DATE_EPOCH unset means 0"
    );

    // The same steps. Ops fed by the build context carry the client's session
    // id (`local.session`), new for every buildx run, so only the names of
    // those can match across sessions; the image sources must match by digest.
    let (ops_a, ops_b) = (golb_ops(&first_progress), golb_ops(&second_progress));
    assert!(
        ops_a.keys().any(|n| n.contains("go build")),
        "no go build step in:\n{first_progress}"
    );
    assert_eq!(
        ops_a.keys().collect::<Vec<_>>(),
        ops_b.keys().collect::<Vec<_>>(),
        "the same steps, by name"
    );
    for (name, digest) in &ops_a {
        if name.starts_with("[builder]") || name.starts_with("[runtime]") {
            assert_eq!(
                Some(digest),
                ops_b.get(name),
                "{name}: the pinned image source is the same op"
            );
        }
    }
}

#[test]
fn solving_the_same_request_twice_gives_the_same_op_digests() {
    // `golb llb` marshals the request without a session; buildctl attaches its
    // own (no --output: solve only). Every vertex of golb's Definition must
    // have the same digest both times. golb names each op it writes ("[golb]
    // …", "[builder] …", "[runtime] …", "[internal] …"); a vertex named
    // otherwise is another build's on the same daemon, whose progress BuildKit
    // shares when both wait on one pull (another test's `# syntax=` load of
    // golb's image showed up as `docker-image://…golb:dev@sha256:…`).
    let h = harness();
    let ex = example_dir("hello");
    let solve = || {
        let (llb, done) = golb_llb_into_buildctl(h, &ex, &["--progress=rawjson"]);
        let progress = String::from_utf8_lossy(&done.stderr).into_owned();
        let mut vertexes = rawjson_vertexes(&progress);
        vertexes.retain(|_, name| name.starts_with('['));
        (llb, vertexes)
    };
    let (llb_a, a) = solve();
    let (llb_b, b) = solve();
    assert_eq!(llb_a, llb_b, "golb marshals the same Definition twice");
    // Compared vertex by vertex, over the vertices both solves report: when
    // `go build` is already cached, BuildKit reports the GOROOT copy it runs
    // on in some solves and not in others (seen in a clean-clone run).
    let by_name = |vertexes: &std::collections::BTreeMap<String, String>| {
        vertexes
            .iter()
            .map(|(digest, name)| (name.clone(), digest.clone()))
            .collect::<std::collections::BTreeMap<String, String>>()
    };
    let (a, b) = (by_name(&a), by_name(&b));
    let both: Vec<&String> = a.keys().filter(|name| b.contains_key(*name)).collect();
    assert!(
        both.iter().any(|n| n.contains("go build")),
        "no go build vertex in both solves: {a:?}\n{b:?}"
    );
    for name in both {
        assert_eq!(
            a.get(name),
            b.get(name),
            "{name}: the same request solves to the same op digest"
        );
    }
}

#[test]
fn source_date_epoch_sets_created_and_file_times() {
    let h = harness();
    let (epoch0, _) = build_hello(h, "epoch0", None);
    let (dated, _) = build_hello(h, "sde", Some("1700000000"));
    assert_ne!(epoch0, dated, "SOURCE_DATE_EPOCH changes the image");

    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, "sde");
    let config = registry.config(REPO, &manifest);
    assert_eq!(
        config["created"], "2023-11-14T22:13:20Z",
        "created is SOURCE_DATE_EPOCH: {config}"
    );
    let history = config["history"].as_array().expect("history");
    let ours = history.last().expect("golb's history entry");
    assert_eq!(ours["created"], "2023-11-14T22:13:20Z", "{history:?}");

    // Every entry of golb's layer (the last one) has that mtime.
    let dir = TempDir::new("reproducible-layer");
    let blob = dir.path().join("layer.tar.gz");
    std::fs::write(
        &blob,
        registry.blob(REPO, layers(&manifest).last().expect("a layer")),
    )
    .unwrap();
    let listing = run_ok(
        Command::new("tar")
            .env("TZ", "UTC")
            .args(["-tvzf"])
            .arg(&blob)
            .args(["--full-time", "--numeric-owner"]),
    );
    let entries: Vec<&str> = listing.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        entries.iter().any(|l| l.ends_with("usr/local/bin/server")),
        "{listing}"
    );
    for entry in entries {
        assert!(
            entry.contains(" 2023-11-14 22:13:20 "),
            "mtime is not SOURCE_DATE_EPOCH: {entry}"
        );
    }
}
