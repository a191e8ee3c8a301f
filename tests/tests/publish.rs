//! The golb frontend image as the root Dockerfile publishes it: one image
//! index for linux/amd64 and linux/arm64, each a static golb for its
//! architecture on scratch, with OCI labels for version, revision and
//! source, and `golb --version` printing the version and the commit.
//!
//! `scripts/harness frontend-multiarch` builds the index from the root
//! Dockerfile with the arm64 binary cross-compiled on this amd64 machine
//! (Debian's rustc-web and its arm64 standard library, the aarch64 GNU
//! linker; no QEMU) and pushes it as `<GOLB_FRONTEND>-multiarch`;
//! scripts/test runs it before the e2e tests. The Dockerfile's own `build`
//! stage (rust:1-bookworm, rustup) cannot run here, where no image can be
//! pulled: BuildKit's `--call check` validates it.
//!
//! Rerun with `cargo test -p golb-e2e --test publish -- --test-threads=1`.

use golb_e2e::{
    copy_tree, elf, gunzip, harness, layers, repo_root, run, run_in_image, run_ok, text, Registry,
    TempDir, DEFAULT_FRONTEND,
};
use serde_json::Value;
use std::process::Command;

/// golb's version, from the workspace's Cargo.toml.
fn cargo_version() -> String {
    let toml = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("a workspace version")
        .to_string()
}

fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// `<registry>/golb:<tag>-multiarch` as (repository, tag).
fn multiarch() -> (String, String) {
    let h = harness();
    let image = format!("{}-multiarch", h.frontend());
    let (name, tag) = image.rsplit_once(':').unwrap();
    let repo = name.strip_prefix(&format!("{}/", h.registry())).unwrap();
    (repo.to_string(), tag.to_string())
}

#[test]
fn the_frontend_image_is_a_two_platform_index_of_static_binaries() {
    let h = harness();
    let registry = Registry { host: h.registry() };
    let (repo, tag) = multiarch();
    let index = registry.raw_manifest(&repo, &tag);
    let entries = index["manifests"].as_array().unwrap_or_else(|| {
        panic!("{repo}:{tag} is not an index (run scripts/harness frontend-multiarch): {index}")
    });
    let mut seen = Vec::new();
    let scratch = TempDir::new("publish");
    for entry in entries {
        let arch = entry["platform"]["architecture"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(entry["platform"]["os"], "linux");
        let manifest = registry.raw_manifest(&repo, entry["digest"].as_str().unwrap());
        let config: Value = serde_json::from_slice(
            &registry.blob(&repo, manifest["config"]["digest"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(config["architecture"], arch);
        let labels = &config["config"]["Labels"];
        assert_eq!(
            labels["org.opencontainers.image.version"],
            cargo_version().as_str()
        );
        assert!(
            is_commit(
                labels["org.opencontainers.image.revision"]
                    .as_str()
                    .unwrap_or("")
            ),
            "{labels}"
        );
        assert!(
            labels["org.opencontainers.image.source"]
                .as_str()
                .unwrap_or("")
                .starts_with("https://"),
            "{labels}"
        );
        assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/golb"]));
        // One layer: /golb, static, for this architecture.
        let digests = layers(&manifest);
        assert_eq!(digests.len(), 1, "{manifest}");
        let tar = scratch.path().join(format!("{arch}.tar"));
        std::fs::write(
            &tar,
            gunzip(
                &registry.blob(&repo, &digests[0]),
                &scratch.path().join("layer.gz"),
            ),
        )
        .unwrap();
        let listing = run_ok(Command::new("tar").arg("-tf").arg(&tar));
        assert_eq!(listing.trim(), "golb", "only /golb in the layer");
        let binary = run(Command::new("tar").arg("-xOf").arg(&tar).arg("golb")).stdout;
        let facts = elf::inspect(&binary).expect("an ELF file");
        let machine = match arch.as_str() {
            "amd64" => 62,
            "arm64" => 183,
            other => panic!("unexpected platform {other}"),
        };
        assert_eq!(facts.machine, machine, "{arch}: the ELF machine");
        assert!(!facts.has_interpreter, "{arch}: static, no interpreter");
        seen.push(arch);
    }
    seen.sort();
    assert_eq!(seen, ["amd64", "arm64"]);
}

#[test]
fn golb_version_prints_the_version_and_the_commit() {
    let h = harness();
    let out = run_in_image(h, h.frontend(), &["/golb", "--version"]);
    let version = cargo_version();
    let prefix = format!("golb {version} (commit ");
    assert!(out.trim().starts_with(&prefix), "{out}");
    let commit = out.trim().trim_start_matches(&prefix).trim_end_matches(')');
    assert!(is_commit(commit), "{out}");
    let host = run_ok(Command::new(h.golb_binary()).arg("--version"));
    assert_eq!(
        host.trim(),
        out.trim(),
        "the binary in the image is the host's"
    );
}

/// BuildKit's Dockerfile checks over the whole root Dockerfile, the
/// cross-compiling build stage included. Checking reads the base images'
/// metadata; rust:1-bookworm cannot be pulled here, so a named context
/// stands in for it (the golang stand-in: only its config is read).
#[test]
fn the_root_dockerfile_passes_buildkits_checks() {
    let h = harness();
    let stand_in = format!(
        "rust:1-bookworm=docker-image://{}/library/{}",
        h.registry(),
        h.var("GOLB_GOLANG_IMAGE")
    );
    let out = run(h.command("buildx").current_dir(repo_root()).args([
        "build",
        "--call",
        "check",
        "--build-context",
        &stand_in,
        "-f",
        "Dockerfile",
        ".",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Check complete, no warnings found"),
        "{}",
        text(&out)
    );
}

/// docs/ci/docker-bake.hcl, as docs/install.md gives it, on examples/hello:
/// `default` cross-compiles the image for amd64 and arm64 (exported here to
/// a local directory instead of pushed), `test` runs go test and exports
/// coverage.out.
#[test]
fn the_documented_bake_file_builds_both_platforms_and_runs_the_tests() {
    let h = harness();
    let work = TempDir::new("publish-bake");
    copy_tree(&repo_root().join("examples/hello"), work.path());
    std::fs::copy(
        repo_root().join("docs/ci/docker-bake.hcl"),
        work.path().join("docker-bake.hcl"),
    )
    .unwrap();
    let out = work.path().join("out");
    let mut sets = vec![format!(
        "--set=default.output=type=local,dest={}",
        out.display()
    )];
    // Another checkout's harness names its own golb image (tests/src/lib.rs).
    if h.frontend() != DEFAULT_FRONTEND {
        sets.push(format!("--set=*.args.BUILDKIT_SYNTAX={}", h.frontend()));
    }
    let log = run_ok(
        h.command("buildx")
            .current_dir(work.path())
            .env("VERSION", "4.5.6")
            .args(["bake", "--progress=plain", "default", "test"])
            .args(&sets),
    );
    for (platform, machine) in [("linux_amd64", 62), ("linux_arm64", 183)] {
        let binary = std::fs::read(out.join(platform).join("usr/local/bin/server"))
            .unwrap_or_else(|e| panic!("{platform}: {e}\n{log}"));
        assert_eq!(
            elf::inspect(&binary).expect("an ELF").machine,
            machine,
            "{platform}"
        );
    }
    let version =
        run_ok(Command::new(out.join("linux_amd64/usr/local/bin/server")).arg("-version"));
    assert_eq!(
        version.trim(),
        "hello 1.2.3",
        "the spec's own -X wins over VERSION here"
    );
    let coverage = std::fs::read_to_string(work.path().join("reports/coverage.out")).unwrap();
    assert!(coverage.starts_with("mode:"), "{coverage}");
}
