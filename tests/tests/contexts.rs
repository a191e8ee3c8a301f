//! Named build contexts replace golb's builder and runtime base, as they
//! replace a FROM in a Dockerfile (`buildx build --build-context NAME=VALUE`):
//! images, local directories, OCI layouts, and the results of other bake
//! targets (`contexts = { runtime = "target:base" }`, which buildx sends as
//! frontend inputs, one per platform).

use golb_e2e::{
    buildx_golb, copy_tree, elf, harness, metadata_digest, repo_root, run_fails, run_ok, Registry,
    TempDir, DEFAULT_FRONTEND,
};
use std::path::Path;

#[test]
fn an_image_context_replaces_the_builder() {
    let h = harness();
    let exact = format!(
        "golang=docker-image://{}/library/golang:1.26.8",
        h.registry()
    );
    let log = run_ok(&mut buildx_golb(
        h,
        &repo_root().join("examples/hello"),
        &["--build-context", &exact, "--output", "type=cacheonly"],
    ));
    assert!(
        log.contains(&format!(
            "[builder] {}/library/golang:1.26.8@sha256:",
            h.registry()
        )),
        "{log}"
    );
}

#[test]
fn a_local_directory_replaces_the_runtime_base() {
    let h = harness();
    let base = TempDir::new("context-base");
    std::fs::create_dir_all(base.path().join("etc")).unwrap();
    std::fs::write(base.path().join("etc/marker"), "custom base\n").unwrap();
    let out = TempDir::new("context-out");
    let context = format!("runtime={}", base.path().display());
    let dest = format!("type=local,dest={}", out.path().display());
    run_ok(&mut buildx_golb(
        h,
        &repo_root().join("examples/hello"),
        &["--build-context", &context, "--output", &dest],
    ));
    assert_eq!(
        std::fs::read_to_string(out.path().join("etc/marker")).unwrap(),
        "custom base\n"
    );
    assert!(out.path().join("usr/local/bin/server").is_file());
    assert!(
        !out.path().join("etc/passwd").exists(),
        "the distroless base was replaced"
    );
}

#[test]
fn unsupported_context_forms_are_named() {
    let h = harness();
    let stderr = run_fails(&mut buildx_golb(
        h,
        &repo_root().join("examples/hello"),
        &[
            "--build-context",
            "builder=https://example.com/x.tar",
            "--output",
            "type=cacheonly",
        ],
    ));
    assert!(stderr.contains("build context builder="), "{stderr}");
}

/// A small base image built with the Dockerfile frontend: the distroless
/// stand-in plus /etc/marker naming the platform, and an ENV to follow.
fn write_base_dockerfile(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM gcr.io/distroless/static-debian12:nonroot\n\
         ARG TARGETARCH\n\
         COPY marker-${TARGETARCH} /etc/marker\n\
         ENV FROM_BASE_TARGET=1\n",
    )
    .unwrap();
    for arch in ["amd64", "arm64"] {
        std::fs::write(
            dir.join(format!("marker-{arch}")),
            format!("base for {arch}\n"),
        )
        .unwrap();
    }
}

#[test]
fn a_bake_target_replaces_the_runtime_base_per_platform() {
    let h = harness();
    let work = TempDir::new("context-bake");
    write_base_dockerfile(&work.path().join("base"));
    copy_tree(
        &repo_root().join("examples/hello"),
        &work.path().join("app"),
    );
    let out = work.path().join("out");
    // The spec's `# syntax=` names golb:dev; another checkout's harness
    // overrides it the way users do (see tests/src/lib.rs).
    let syntax = if h.frontend() == DEFAULT_FRONTEND {
        String::new()
    } else {
        format!("  args = {{ BUILDKIT_SYNTAX = \"{}\" }}\n", h.frontend())
    };
    std::fs::write(
        work.path().join("docker-bake.hcl"),
        format!(
            "target \"base\" {{\n  context = \"base\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}}\n\
             target \"app\" {{\n  context = \"app\"\n  dockerfile = \"golb.toml\"\n\
             {syntax}  contexts = {{ runtime = \"target:base\" }}\n\
             platforms = [\"linux/amd64\", \"linux/arm64\"]\n\
             output = [\"type=local,dest={}\"]\n}}\n",
            out.display()
        ),
    )
    .unwrap();
    let log = run_ok(h.command("buildx").current_dir(work.path()).args([
        "bake",
        "--progress=plain",
        "app",
    ]));
    for (platform, machine) in [("linux_amd64", 62), ("linux_arm64", 183)] {
        let root = out.join(platform);
        let arch = platform.trim_start_matches("linux_");
        assert_eq!(
            std::fs::read_to_string(root.join("etc/marker"))
                .unwrap_or_else(|e| panic!("{platform}: {e}\n{log}")),
            format!("base for {arch}\n"),
            "{platform}: the base target's result for this platform"
        );
        assert!(
            root.join("etc/passwd").is_file(),
            "{platform}: the base target's own base"
        );
        let binary = std::fs::read(root.join("usr/local/bin/server")).unwrap();
        let facts = elf::inspect(&binary).expect("an ELF");
        assert_eq!(facts.machine, machine, "{platform}");
    }

    // Pushed, the image config carries the base target's config (sent as
    // input metadata) under golb's own settings.
    let repo = "golb-e2e/contexts-bake";
    let name = format!("{}/{repo}:latest", h.registry());
    run_ok(
        h.command("buildx")
            .current_dir(work.path())
            .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
            .args(["bake", "--progress=plain", "app"])
            .arg(format!("--set=app.output=type=image,name={name},push=true")),
    );
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(repo, "latest");
    let config = registry.config(repo, &manifest);
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .expect("Env")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(env.contains(&"FROM_BASE_TARGET=1"), "{config}");
    assert!(env.contains(&"LOG_FORMAT=json"), "{config}");
    assert_eq!(config["config"]["User"], "65532");
}

#[test]
fn an_oci_layout_replaces_the_runtime_base() {
    let h = harness();
    let work = TempDir::new("context-oci");
    let base = work.path().join("base");
    write_base_dockerfile(&base);
    // The layout a team keeps on disk (e.g. from `buildx build --output type=oci`).
    let layout = work.path().join("layout");
    let metadata = work.path().join("metadata.json");
    run_ok(
        h.command("buildx")
            .current_dir(&base)
            .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
            .args(["build", "--progress=plain", "--platform", "linux/amd64"])
            .arg(format!(
                "--output=type=oci,dest={},tar=false",
                layout.display()
            ))
            .arg(format!("--metadata-file={}", metadata.display()))
            .arg("."),
    );
    let digest = metadata_digest(&metadata);
    let out = TempDir::new("context-oci-out");
    let context = format!("runtime=oci-layout://{}@{digest}", layout.display());
    let dest = format!("type=local,dest={}", out.path().display());
    let log = run_ok(&mut buildx_golb(
        h,
        &repo_root().join("examples/hello"),
        &["--build-context", &context, "--output", &dest],
    ));
    assert!(log.contains("from the client's OCI layout"), "{log}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("etc/marker")).unwrap(),
        "base for amd64\n"
    );
    assert!(out.path().join("etc/passwd").is_file());
    assert!(out.path().join("usr/local/bin/server").is_file());
}
