//! Multi-platform builds by cross-compiling, the non-image targets, and
//! errors that point at the spec — on the real BuildKit, through buildx.

use golb_e2e::{
    buildx_golb, elf, harness, layers, repo_root, run, run_fails, run_ok, ExampleCopy, Registry,
    TempDir,
};
use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    repo_root().join("examples/hello")
}

/// (platform, directory buildx exports it to, ELF machine, GOARM)
const PLATFORMS: [(&str, &str, u16, Option<&str>); 3] = [
    ("linux/amd64", "linux_amd64", 62, None),
    ("linux/arm64", "linux_arm64", 183, None),
    ("linux/arm/v7", "linux_arm_v7", 40, Some("7")),
];

#[test]
fn three_platforms_in_one_build_without_emulation() {
    let h = harness();
    let platforms: Vec<&str> = PLATFORMS.iter().map(|p| p.0).collect();
    let platforms = platforms.join(",");
    let name = format!("{}/golb-e2e/hello:multi", h.registry());
    let push = format!("type=image,name={name},push=true");
    let log = run_ok(&mut buildx_golb(
        h,
        &example(),
        &[
            "--platform",
            &platforms,
            "--provenance=false",
            "--output",
            &push,
        ],
    ));
    // examples/hello requires no module: no download step (one would be
    // shared by all targets, see the plan's unit tests), one build per target.
    let steps = |name: &str| {
        let mut ids: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with('#') && l.contains(name))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    assert_eq!(steps("[golb] go mod download"), 0, "{log}");
    assert_eq!(steps("[golb] go build ./cmd/server"), 3, "{log}");

    let registry = Registry { host: h.registry() };
    let index: serde_json::Value =
        serde_json::from_slice(&registry_get(&registry, "golb-e2e/hello", "multi")).unwrap();
    let entries = index["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("not an index: {index}"));
    assert_eq!(entries.len(), 3, "{index}");
    for (platform, _, _, _) in PLATFORMS {
        let parts: Vec<&str> = platform.split('/').collect();
        let entry = entries
            .iter()
            .find(|m| {
                m["platform"]["architecture"] == parts[1]
                    && parts.get(2).is_none_or(|v| m["platform"]["variant"] == *v)
            })
            .unwrap_or_else(|| panic!("{platform} missing from {index}"));
        let manifest = registry.manifest("golb-e2e/hello", entry["digest"].as_str().unwrap());
        let config = registry.config("golb-e2e/hello", &manifest);
        assert_eq!(config["architecture"], parts[1], "{platform}: {config}");
        assert_eq!(config["config"]["User"], "65532");
        assert!(layers(&manifest).len() >= 2, "{platform}: base + one layer");
    }

    let out = TempDir::new("hello-multi-local");
    let local = format!("type=local,dest={}", out.path().display());
    run_ok(&mut buildx_golb(
        h,
        &example(),
        &[
            "--platform",
            &platforms,
            "--target",
            "binaries",
            "--output",
            &local,
        ],
    ));
    for (platform, dir, machine, goarm) in PLATFORMS {
        let binary = out.path().join(dir).join("server");
        let facts = elf::inspect(
            &std::fs::read(&binary).unwrap_or_else(|e| panic!("{}: {e}", binary.display())),
        )
        .unwrap_or_else(|| panic!("{platform}: not an ELF"));
        assert_eq!(facts.machine, machine, "{platform}");
        assert!(!facts.has_interpreter, "{platform}: static");
        let info = run_ok(Command::new("go").args(["version", "-m"]).arg(&binary));
        if let Some(goarm) = goarm {
            assert!(
                info.contains(&format!("build\tGOARM={goarm}")),
                "{platform}:\n{info}"
            );
        }
    }
}

/// The raw manifest or index at a tag, without resolving an index.
fn registry_get(registry: &Registry<'_>, repo: &str, reference: &str) -> Vec<u8> {
    let url = format!("http://{}/v2/{repo}/manifests/{reference}", registry.host);
    let out = run(Command::new("curl").args([
        "-fsSL",
        "-H",
        "Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json",
        &url,
    ]));
    assert!(out.status.success(), "GET {url}");
    out.stdout
}

#[test]
fn the_binaries_target_exports_only_the_binaries() {
    let h = harness();
    let out = TempDir::new("hello-binaries");
    run_ok(&mut buildx_golb(
        h,
        &example(),
        &[
            "--target",
            "binaries",
            "--output",
            &format!("type=local,dest={}", out.path().display()),
        ],
    ));
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["server"]);
    let version = run_ok(Command::new(out.path().join("server")).arg("-version"));
    assert_eq!(version.trim(), "hello 1.2.3");
}

#[test]
fn the_test_target_runs_go_test_and_exports_coverage() {
    let h = harness();
    let out = TempDir::new("hello-test");
    let log = run_ok(&mut buildx_golb(
        h,
        &example(),
        &[
            "--target",
            "test",
            "--output",
            &format!("type=local,dest={}", out.path().display()),
        ],
    ));
    assert!(log.contains("go test ./..."), "{log}");
    let coverage =
        std::fs::read_to_string(out.path().join("coverage.out")).expect("coverage.out exported");
    assert!(coverage.starts_with("mode: "), "{coverage}");
    assert!(
        coverage.contains("example.com/hello/cmd/server/main.go"),
        "{coverage}"
    );
}

#[test]
fn a_failing_test_fails_the_test_target() {
    let h = harness();
    let work = ExampleCopy::new("hello", "hello-failing-test");
    work.write(
        "cmd/server/fail_test.go",
        "package main\n\nimport \"testing\"\n\nfunc TestFailsOnPurpose(t *testing.T) { t.Fatal(\"failing on purpose\") }\n",
    );
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--target", "test", "--output", "type=cacheonly"],
    ));
    assert!(stderr.contains("failing on purpose"), "{stderr}");
}

#[test]
fn the_vet_target_runs_go_vet() {
    let h = harness();
    let log = run_ok(&mut buildx_golb(
        h,
        &example(),
        &["--target", "vet", "--output", "type=cacheonly"],
    ));
    assert!(log.contains("go vet ./..."), "{log}");
}

#[test]
fn an_unknown_target_lists_the_valid_ones() {
    let h = harness();
    let stderr = run_fails(&mut buildx_golb(
        h,
        &example(),
        &["--target", "release", "--output", "type=cacheonly"],
    ));
    assert!(
        stderr.contains("unknown target \"release\": golb builds image, binaries, test, vet"),
        "{stderr}"
    );
}

#[test]
fn a_failing_go_build_points_at_the_binary_in_the_spec() {
    let h = harness();
    let work = ExampleCopy::new("hello", "hello-broken");
    work.write(
        "cmd/server/broken.go",
        "package main\n\nfunc broken() { undefinedThing() }\n",
    );
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(stderr.contains("undefined: undefinedThing"), "{stderr}");
    // BuildKit attaches the op's source location; buildx prints the spec lines.
    assert!(
        stderr.contains("golb.toml:"),
        "no spec location in:\n{stderr}"
    );
    assert!(
        stderr.contains(">>> [[binary]]") && stderr.contains(">>> package = \"./cmd/server\""),
        "no spec snippet in:\n{stderr}"
    );
}
