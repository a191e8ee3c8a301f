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
        let arm = golb(&["--platform", "linux/arm64"], &spec);
        assert_ne!(arm, first, "the target platform must change the graph");
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
