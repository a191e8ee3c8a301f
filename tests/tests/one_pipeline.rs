//! The gateway and `golb llb` are two adapters of one driver: given the same
//! inputs, they give the same Definition. For every example and target,
//! `buildx build --call golb.plan` asks the real frontend, on the real
//! BuildKit, for the dump of the Definition it would solve together with its
//! inputs (the frontend options, the images it resolved and the session its
//! local sources name); `golb llb
//! --replay` plans offline from those inputs and must print the same dump,
//! op digests, context excludes and image config included.
//!
//! Rerun with `cargo test -p golb-e2e --test one_pipeline`.

use golb_e2e::{buildx_golb, example_dir, harness, run, TempDir};
use serde_json::Value;
use std::process::Command;

const EXAMPLES: &[&str] = &[
    "hello",
    "multi",
    "assets",
    "vendored",
    "workspace",
    "monorepo",
    "heavy",
    "private",
    "sqlite",
];
const TARGETS: &[&str] = &["image", "binaries", "test", "vet", "size", "vuln"];

#[test]
fn the_gateway_and_golb_llb_give_the_same_definition_for_every_example_and_target() {
    let h = harness();
    let scratch = TempDir::new("one-pipeline");
    let mut compared = 0;
    for example in EXAMPLES {
        let dir = example_dir(example);
        for target in TARGETS {
            let out = run(&mut buildx_golb(
                h,
                &dir,
                &["--call", "golb.plan,format=json", "--target", target],
            ));
            let printed = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{example} {target}: --call golb.plan failed:\n{printed}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let reply: Value = serde_json::from_str(printed.trim())
                .unwrap_or_else(|e| panic!("{example} {target}: not JSON ({e}):\n{printed}"));
            let gateway = reply["dumps"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{example} {target}: no dump:\n{printed}"));
            assert!(
                reply["replay"]["images"]
                    .as_array()
                    .is_some_and(|images| !images.is_empty()),
                "{example} {target}: the gateway resolved no image:\n{printed}"
            );
            let replay = scratch.path().join(format!("{example}-{target}.json"));
            std::fs::write(&replay, reply["replay"].to_string()).unwrap();

            let offline = run(Command::new(h.golb_binary())
                .current_dir(&dir)
                .args(["llb", "golb.toml", "--dump", "--target", target, "--replay"])
                .arg(&replay));
            assert!(
                offline.status.success(),
                "{example} {target}: golb llb --replay failed: {}",
                String::from_utf8_lossy(&offline.stderr)
            );
            let offline = String::from_utf8_lossy(&offline.stdout);
            assert!(
                gateway == offline,
                "{example} {target}: golb llb differs from what the gateway solves\n--- gateway\n{gateway}\n--- golb llb\n{offline}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, EXAMPLES.len() * TARGETS.len());
}

/// Without the gateway's images, `golb llb` keeps tags where the gateway
/// pins digests: the replay is what makes the two comparable, and a
/// comparison that ignored images would hide nothing else.
#[test]
fn without_the_replay_only_the_images_differ() {
    let h = harness();
    let dir = example_dir("hello");
    let out = run(&mut buildx_golb(
        h,
        &dir,
        &["--call", "golb.plan,format=json"],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gateway = reply["dumps"][0].as_str().unwrap();
    assert!(
        gateway.contains("@sha256:"),
        "the gateway pins images:\n{gateway}"
    );
    let offline =
        run(Command::new(h.golb_binary())
            .current_dir(&dir)
            .args(["llb", "golb.toml", "--dump"]));
    let offline = String::from_utf8_lossy(&offline.stdout);
    assert_ne!(gateway, offline);
    assert!(
        !offline.contains("source docker-image://docker.io/library/golang:1.26@sha256"),
        "{offline}"
    );
}
