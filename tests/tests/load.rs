//! Load on one daemon: eight different golb builds at once, and the same
//! spec built eight times at once. Each test starts its own empty daemon
//! (`TempDaemon`), so every build is cold and the peak memory it reports is
//! this test's alone. The wall times and peak memory it prints are the
//! figures of docs/reliability.md.
//!
//! Rerun: `cargo test -p golb-e2e --test load -- --test-threads=1 --nocapture`.

use golb_e2e::{example_dir, harness, metadata_digest, run, text, TempDaemon, TempDir};
use std::time::Instant;

/// Runs every command at once; returns (label, success, output) in order.
fn all_at_once(builds: Vec<(String, std::process::Command)>) -> Vec<(String, bool, String)> {
    let handles: Vec<_> = builds
        .into_iter()
        .map(|(label, mut cmd)| {
            std::thread::spawn(move || {
                let out = run(&mut cmd);
                (label, out.status.success(), text(&out))
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a build thread"))
        .collect()
}

#[test]
fn eight_different_builds_at_once_on_one_daemon_all_succeed() {
    let h = harness();
    let daemon = TempDaemon::start(h, "load-eight");
    let out = TempDir::new("load-eight-out");
    // Seven examples (examples/private needs its password-protected proxy:
    // tests/tests/private.rs) and multi's binaries cross-compiled for arm64.
    // Each with the binaries its own spec names: concurrent builds must never
    // read each other's spec or context (their local sources name their
    // session; without it BuildKit merged the same-digest spec loads of two
    // builds and one built the other's spec).
    let builds: Vec<(&str, &str, Vec<&str>, &[&str])> = vec![
        ("hello", "hello", vec![], &["usr/local/bin/server"]),
        (
            "multi",
            "multi",
            vec![],
            &["usr/local/bin/migrate", "usr/local/bin/server"],
        ),
        ("monorepo", "monorepo", vec![], &["usr/local/bin/api"]),
        ("workspace", "workspace", vec![], &["usr/local/bin/app"]),
        ("assets", "assets", vec![], &["usr/local/bin/site"]),
        (
            "vendored",
            "vendored",
            vec![],
            &["usr/local/bin/ratelimited"],
        ),
        ("heavy", "heavy", vec![], &["usr/local/bin/server"]),
        (
            "multi-arm64-binaries",
            "multi",
            vec!["--target", "binaries", "--platform", "linux/arm64"],
            &["migrate", "server"],
        ),
    ];
    let commands = builds
        .iter()
        .map(|(label, example, extra, _)| {
            let dest = format!("type=local,dest={}", out.path().join(label).display());
            let mut args = extra.clone();
            args.extend(["--output", &dest]);
            let cmd = daemon.buildx_golb(h, &example_dir(example), &args);
            (label.to_string(), cmd)
        })
        .collect();
    let started = Instant::now();
    let results = all_at_once(commands);
    let wall = started.elapsed();
    for (label, ok, printed) in &results {
        assert!(ok, "{label} failed under load:\n{printed}");
    }
    for ((label, _, _), (_, _, _, binaries)) in results.iter().zip(&builds) {
        let root = out.path().join(label);
        let exported: Vec<String> = golb_e2e::files_under(&root)
            .iter()
            .filter_map(|f| f.strip_prefix(&root).ok())
            .map(|f| f.display().to_string())
            .collect();
        let mut built: Vec<&str> = exported
            .iter()
            .map(String::as_str)
            .filter(|f| f.starts_with("usr/local/bin/") || !f.contains('/'))
            .collect();
        built.sort_unstable();
        assert_eq!(built, *binaries, "{label} built another spec: {exported:?}");
    }
    println!(
        "load: 8 different builds at once, cold: {:.1} s wall, buildkitd peak RSS {} MiB",
        wall.as_secs_f64(),
        daemon.peak_memory_mib()
    );
}

#[test]
fn the_same_spec_eight_times_at_once_gives_one_digest() {
    let h = harness();
    let daemon = TempDaemon::start(h, "load-same");
    let dir = TempDir::new("load-same-meta");
    let name = format!("{}/golb-e2e/load-same", h.registry());
    let commands = (0..8)
        .map(|i| {
            let metadata = dir.path().join(format!("{i}.json"));
            let cmd = daemon.buildx_golb(
                h,
                &example_dir("hello"),
                &[
                    "--provenance=false",
                    "--metadata-file",
                    metadata.to_str().expect("UTF-8 path"),
                    "--output",
                    &format!("type=image,name={name}:{i},push=true"),
                ],
            );
            (i.to_string(), cmd)
        })
        .collect();
    let started = Instant::now();
    let results = all_at_once(commands);
    let wall = started.elapsed();
    for (label, ok, printed) in &results {
        assert!(ok, "build {label} failed:\n{printed}");
    }
    let digests: std::collections::BTreeSet<String> = (0..8)
        .map(|i| metadata_digest(&dir.path().join(format!("{i}.json"))))
        .collect();
    assert_eq!(digests.len(), 1, "one spec, one image: {digests:?}");
    println!(
        "load: the same spec 8 times at once, cold: {:.1} s wall, one digest {}, buildkitd peak RSS {} MiB",
        wall.as_secs_f64(),
        digests.iter().next().expect("a digest"),
        daemon.peak_memory_mib()
    );
}
