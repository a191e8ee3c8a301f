//! Golden files: the LLB golb plans for each example, as the readable dump a
//! reviewer diffs. Regenerate with `scripts/update-golden` (it sets
//! GOLB_UPDATE_GOLDEN=1) and read the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path().join("golb.toml")))
        .filter(|p| p.is_file())
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no examples/*/golb.toml");
    specs
}

fn golb(args: &[&str], spec: &Path) -> Vec<u8> {
    // Run from the repo root with a relative spec path, so dumps hold no machine paths.
    let relative = spec.strip_prefix(repo_root()).expect("spec under the repo");
    let out = Command::new(env!("CARGO_BIN_EXE_golb"))
        .current_dir(repo_root())
        .arg("llb")
        .arg(relative)
        .args(args)
        .output()
        .expect("golb runs");
    assert!(
        out.status.success(),
        "golb llb {}: {}",
        spec.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn every_example_matches_its_golden_llb() {
    let update = std::env::var_os("GOLB_UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for spec in examples() {
        let name = spec
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .expect("example name");
        let golden = repo_root()
            .join("tests/golden")
            .join(format!("{name}.llb.txt"));
        let dump = String::from_utf8(golb(&["--dump"], &spec)).expect("dump is UTF-8");
        if update {
            std::fs::write(&golden, &dump).expect("golden written");
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != dump {
            stale.push(format!(
                "{} differs from `golb llb {} --dump`",
                golden.display(),
                spec.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nrun scripts/update-golden and review the diff",
        stale.join("\n")
    );
}

#[test]
fn the_same_spec_marshals_to_byte_identical_definitions() {
    for spec in examples() {
        let first = golb(&[], &spec);
        for _ in 0..3 {
            assert_eq!(
                golb(&[], &spec),
                first,
                "{} is not deterministic",
                spec.display()
            );
        }
        // A cgo example cannot cross-compile (a spec error, slim.rs checks it).
        let text = std::fs::read_to_string(&spec).expect("the spec");
        if !text.contains("cgo = true") {
            let arm = golb(&["--platform", "linux/arm64"], &spec);
            assert_ne!(arm, first, "the target platform must change the graph");
        }
    }
}

#[test]
fn every_op_but_the_context_points_at_the_spec() {
    use golb_proto::llb::pb;
    use prost::Message;
    for spec in examples() {
        for target in ["image", "binaries", "test", "vet"] {
            let bytes = golb(&["--target", target], &spec);
            let definition = pb::Definition::decode(bytes.as_slice()).expect("a Definition");
            let source = definition.source.as_ref().expect("a source map");
            assert_eq!(source.infos.len(), 1, "the spec is the only source file");
            // The last entry is BuildKit's terminal pointer, not an op.
            for op_bytes in &definition.def[..definition.def.len() - 1] {
                let op = pb::Op::decode(op_bytes.as_slice()).expect("an op");
                if let Some(pb::op::Op::Source(src)) = &op.op {
                    if src.identifier.starts_with("local://") {
                        continue;
                    }
                }
                let digest = golb_proto::llb::digest(op_bytes);
                assert!(
                    source.locations.contains_key(&digest),
                    "{} --target {target}: op {digest} has no spec location",
                    spec.display()
                );
            }
        }
    }
}

/// `[modules] known_hosts` becomes a file on scratch, mounted read-only into
/// the download step only, with git's ssh told to trust it alone.
#[test]
fn known_hosts_are_mounted_into_the_download_step_only() {
    let dir = std::env::temp_dir().join(format!("golb-known-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A module with a requirement: one without has no download step at all.
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/hello\n\ngo 1.26\n\nrequire github.com/acme/lib v1.0.0\n",
    )
    .expect("go.mod");
    std::fs::write(dir.join("main.go"), "package main\n\nfunc main() {}\n").expect("main.go");
    let line = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let dump = |spec: &str| -> String {
        std::fs::write(dir.join("golb.toml"), spec).expect("golb.toml");
        let out = Command::new(env!("CARGO_BIN_EXE_golb"))
            .args(["llb", "golb.toml", "--dump"])
            .current_dir(&dir)
            .output()
            .expect("golb runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("dump is UTF-8")
    };
    let with = dump(&format!(
        "[modules]\nssh = [\"git.example.com/acme\"]\nknown_hosts = [\"{line}\"]\n"
    ));
    let without = dump("[modules]\nssh = [\"git.example.com/acme\"]\n");
    std::fs::remove_dir_all(&dir).ok();

    assert!(
        with.contains("[golb] known_hosts for [modules] ssh"),
        "{with}"
    );
    assert!(with.contains("mkfile /known_hosts mode=0644"), "{with}");
    assert!(
        with.contains(&format!("data {:?}", format!("{line}\n"))),
        "{with}"
    );
    let mounts: Vec<&str> = with
        .lines()
        .filter(|l| l.contains("mount /run/golb/known_hosts"))
        .collect();
    assert_eq!(mounts.len(), 1, "one step mounts it: {with}");
    assert!(
        mounts[0].contains("selector=/known_hosts") && mounts[0].ends_with("readonly"),
        "{}",
        mounts[0]
    );
    let download = with
        .split("\n\n")
        .find(|op| op.contains("[golb] go mod download"))
        .expect("a download step");
    assert!(
        download.contains("mount /run/golb/known_hosts"),
        "{download}"
    );
    assert!(
        download.contains("\"GIT_SSH_COMMAND=ssh -o UserKnownHostsFile=/run/golb/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes\""),
        "{download}"
    );
    assert!(
        download.contains("mount /run/buildkit/ssh_agent.0 ssh"),
        "{download}"
    );
    assert_eq!(with.matches("GIT_SSH_COMMAND").count(), 1, "{with}");

    assert!(!without.contains("known_hosts"), "{without}");
    assert!(!without.contains("GIT_SSH_COMMAND"), "{without}");
}
