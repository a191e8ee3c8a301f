//! examples/hello built by a real BuildKit, four ways, and checked from what
//! users get: the image in the registry and the files it holds.

use golb_e2e::{
    buildctl_dockerfile, buildx_golb, elf, golb_llb_into_buildctl, harness, layers, repo_root,
    run_fails, run_ok, step_cached, steps_named, ExampleCopy, Harness, Registry, TempDir,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = "golb-e2e/hello";
const BINARY: &str = "usr/local/bin/server";
const STAMPED_VERSION: &str = "hello 1.2.3";

fn example() -> PathBuf {
    repo_root().join("examples/hello")
}

fn image_name(h: &Harness, tag: &str) -> String {
    format!("{}/{REPO}:{tag}", h.registry())
}

/// Checks the rootfs golb exported: the binary is static, stripped, built
/// the way golb promises, and runs.
fn check_exported_binary(rootfs: &Path) {
    let binary = rootfs.join(BINARY);
    let bytes = std::fs::read(&binary).unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let facts = elf::inspect(&bytes).expect("the binary is an ELF file");
    assert_eq!(facts.machine, 62, "built for x86-64");
    assert!(
        !facts.has_interpreter,
        "a static binary has no ELF interpreter"
    );
    assert!(!facts.has_symbol_table, "-s strips the symbol table");
    assert!(!facts.has_dwarf, "-w leaves DWARF out");

    let info = run_ok(Command::new("go").args(["version", "-m"]).arg(&binary));
    for expected in [
        "build\t-trimpath=true",
        "build\tCGO_ENABLED=0",
        "build\tGOOS=linux",
        "build\tGOARCH=amd64",
    ] {
        assert!(
            info.contains(expected),
            "go version -m lacks {expected}:\n{info}"
        );
    }
    // Go leaves -ldflags out of the build info under -trimpath (golang/go#52372),
    // so the ldflags are checked by their effects: -buildid= leaves no build id,
    // -s/-w above, and -X by the stamped version below.
    assert!(
        !info.contains("-ldflags"),
        "build info under -trimpath has no ldflags:\n{info}"
    );
    let build_id = run_ok(Command::new("go").args(["tool", "buildid"]).arg(&binary));
    assert_eq!(
        build_id.trim(),
        "",
        "-buildid= leaves the Go build id empty"
    );

    let out = run_ok(Command::new(&binary).arg("-version"));
    assert_eq!(out.trim(), STAMPED_VERSION);
}

#[test]
fn buildx_build_pushes_a_nonroot_image_of_base_plus_one_layer() {
    let h = harness();
    let name = image_name(h, "buildx");
    run_ok(&mut buildx_golb(
        h,
        &example(),
        &["--output", &format!("type=image,name={name},push=true")],
    ));

    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, "buildx");
    let config = registry.config(REPO, &manifest);
    assert_eq!(
        config["config"]["User"], "65532",
        "the base's nonroot user stays: {config}"
    );
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/server"])
    );
    assert_eq!(
        config["config"]["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}})
    );
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.source"],
        "https://example.com/acme/hello"
    );
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(env.contains(&"LOG_FORMAT=json"), "{env:?}");
    assert_eq!(
        config["created"], "1970-01-01T00:00:00Z",
        "created is deterministic"
    );

    let base = registry.manifest("distroless/static-debian12", "nonroot");
    let (base_layers, ours) = (layers(&base), layers(&manifest));
    assert_eq!(
        ours.len(),
        base_layers.len() + 1,
        "exactly one layer above the base"
    );
    assert_eq!(
        ours[..base_layers.len()],
        base_layers[..],
        "the base layers are the base's own"
    );

    // The one layer holds the binary and its directories, nothing else.
    let dir = TempDir::new("hello-layer");
    let blob = dir.path().join("layer.tar.gz");
    std::fs::write(&blob, registry.blob(REPO, ours.last().unwrap())).unwrap();
    let listing = run_ok(
        Command::new("tar")
            .args(["-tzvf"])
            .arg(&blob)
            .arg("--numeric-owner"),
    );
    let entries: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().last().unwrap_or(""))
        .collect();
    assert_eq!(
        entries,
        ["usr/", "usr/local/", "usr/local/bin/", BINARY],
        "{listing}"
    );
    let binary_line = listing.lines().find(|l| l.ends_with(BINARY)).unwrap();
    assert!(
        binary_line.starts_with("-rwxr-xr-x 0/0 "),
        "root-owned 0755: {binary_line}"
    );
}

#[test]
fn buildx_exports_a_static_stripped_stamped_binary() {
    let h = harness();
    let out = TempDir::new("hello-buildx-local");
    let dest = format!("type=local,dest={}", out.path().display());
    run_ok(&mut buildx_golb(h, &example(), &["--output", &dest]));
    check_exported_binary(out.path());
    assert!(!out.path().join("src").exists(), "no sources in the image");
    assert!(
        !out.path().join("usr/local/go").exists(),
        "no toolchain in the image"
    );
    assert!(
        out.path().join("etc/passwd").is_file(),
        "the runtime base is there"
    );
}

#[test]
fn syntax_line_through_buildctl_and_the_dockerfile_frontend() {
    let h = harness();
    let name = image_name(h, "syntax");
    let ex = example();
    let mut cmd = buildctl_dockerfile(h, &ex);
    cmd.args([
        "--opt",
        "filename=golb.toml",
        "--output",
        &format!("type=image,name={name},push=true"),
    ]);
    // A harness of another checkout pushes golb under its own tag: point the
    // spec's `# syntax=` line at it, as buildx_golb does.
    if h.frontend() != golb_e2e::DEFAULT_FRONTEND {
        cmd.arg("--opt")
            .arg(format!("build-arg:BUILDKIT_SYNTAX={}", h.frontend()));
    }
    let log = run_ok(&mut cmd);
    assert!(
        log.contains(h.frontend()),
        "the # syntax= image ran:\n{log}"
    );
    let registry = Registry { host: h.registry() };
    let config = registry.config(REPO, &registry.manifest(REPO, "syntax"));
    assert_eq!(config["config"]["User"], "65532");
}

#[test]
fn gateway_frontend_named_by_source() {
    let h = harness();
    let ex = example();
    let out = TempDir::new("hello-gateway");
    let mut cmd = h.command("buildctl");
    cmd.args([
        "build",
        "--progress=plain",
        "--frontend",
        "gateway.v0",
        "--opt",
    ])
    .arg(format!("source={}", h.frontend()))
    .arg("--local")
    .arg(format!("context={}", ex.display()))
    .arg("--local")
    .arg(format!("dockerfile={}", ex.display()))
    .args(["--opt", "filename=golb.toml", "--output"])
    .arg(format!("type=local,dest={}", out.path().display()));
    run_ok(&mut cmd);
    check_exported_binary(out.path());
}

#[test]
fn golb_llb_piped_into_buildctl() {
    let h = harness();
    let ex = example();
    let out = TempDir::new("hello-llb");
    let dest = format!("type=local,dest={}", out.path().display());
    golb_llb_into_buildctl(h, &ex, &["--progress=plain", "--output", &dest]);
    check_exported_binary(out.path());
}

#[test]
fn editing_a_go_file_keeps_the_module_download_and_the_image_steps_cached() {
    let h = harness();
    // examples/hello requires no module, so golb plans no download for it;
    // the monorepo's service requires one (a local replacement), and its
    // download step must stay cached across a source edit.
    let work = ExampleCopy::new("monorepo", "monorepo-edit");
    let out = format!("type=local,dest={}", work.path().join("out").display());
    // The output directory must not be part of the context the next build sends.
    std::fs::write(work.path().join(".dockerignore"), "out\n").unwrap();
    run_ok(&mut buildx_golb(h, work.path(), &["--output", &out]));

    let main_go = work.path().join("services/api/cmd/api/main.go");
    let mut source = std::fs::read_to_string(&main_go).unwrap();
    source.push_str(&format!(
        "\n// edited by the e2e test {}\n",
        std::process::id()
    ));
    std::fs::write(&main_go, source).unwrap();
    let log = run_ok(&mut buildx_golb(h, work.path(), &["--output", &out]));

    let download = steps_named(&log, "go mod download");
    assert!(!download.is_empty(), "no download step in:\n{log}");
    assert!(
        download.iter().all(|id| step_cached(&log, id)),
        "go mod download ran again after a .go edit:\n{log}"
    );
    let build = steps_named(&log, "go build");
    assert!(
        !build.is_empty() && build.iter().all(|id| !step_cached(&log, id)),
        "go build must rerun after an edit:\n{log}"
    );
    // A comment at the end of the file leaves the binary byte for byte the
    // same: the runtime copy is keyed on the copied file, so the image keeps
    // its key, and the size step, which mounts the image keyed on that key
    // (docs/size.md), stays cached too.
    for step in ["copy api into the runtime image", "size of the image"] {
        let ids = steps_named(&log, step);
        assert!(!ids.is_empty(), "no {step} step in:\n{log}");
        assert!(
            ids.iter().all(|id| step_cached(&log, id)),
            "{step} ran again after a comment edit:\n{log}"
        );
    }
}

#[test]
fn a_spec_mistake_is_reported_with_the_spec_file_and_line() {
    let h = harness();
    let work = ExampleCopy::new("hello", "hello-mistake");
    work.replace(
        "golb.toml",
        "[runtime]\n",
        "[runtime]\nexpose_ports = [8080]\n",
    );
    let text = std::fs::read_to_string(work.path().join("golb.toml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("expose_ports"))
        .unwrap()
        + 1;

    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(
        stderr.contains(&format!("golb.toml:{line}:1: unknown field `expose_ports`")),
        "{stderr}"
    );
    // buildx prints the spec lines that the errdefs.Source detail points at.
    assert!(
        stderr.contains("expose_ports = [8080]"),
        "no spec snippet in:\n{stderr}"
    );
}
