//! Named build contexts replace golb's builder and runtime base, as they
//! replace a FROM in a Dockerfile (`buildx build --build-context NAME=VALUE`).

use golb_e2e::{buildx_golb, harness, repo_root, run, run_ok, TempDir};

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
    let out = run(&mut buildx_golb(
        h,
        &repo_root().join("examples/hello"),
        &[
            "--build-context",
            "builder=https://example.com/x.tar",
            "--output",
            "type=cacheonly",
        ],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("build context builder="), "{stderr}");
}
