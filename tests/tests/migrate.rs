//! `golb migrate` end to end: a Go Dockerfile applied to an example's
//! sources is built twice on the real BuildKit, once as it is (BuildKit's
//! built-in Dockerfile frontend) and once from the golb.toml `golb migrate`
//! wrote; the two images are compared from the registry: the same binaries
//! (each runs inside its image and prints the same version), the same
//! config (entrypoint, arguments, user, environment, ports, labels, working
//! directory) and the same copied files. Where golb differs by design (the
//! binaries' place, /usr/local/bin; distroless instead of scratch or the Go
//! toolchain), the test checks that `golb migrate` said so.
//!
//! Dockerfiles: bench/*/Dockerfile{,.naive} and tests/fixtures/migrate/*
//! (see its README), plus the real Dockerfiles of go-httpbin and nebula,
//! fetched with their modules through the Go module proxy; those two cannot
//! be built here as Dockerfiles (one runs make in a shell, the other copies
//! binaries built outside), so only golb's image is built and checked
//! against what they declare.
//!
//! Rerun with `cargo test -p golb-e2e --test migrate -- --test-threads=1`.

use golb_e2e::{
    buildctl_dockerfile, buildx_golb, harness, image_files, module_from_proxy, repo_root,
    run_in_image, run_ok, ExampleCopy, Harness, Registry, TempDir,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `golb migrate DIR/Dockerfile --frontend <harness golb>`: what it printed and the spec.
fn golb_migrate(h: &Harness, dockerfile: &Path, extra: &[&str]) -> (String, String) {
    let printed = run_ok(
        Command::new(h.golb_binary())
            .arg("migrate")
            .arg(dockerfile)
            .args(["--frontend", h.frontend()])
            .args(extra),
    );
    let context = extra
        .iter()
        .position(|a| *a == "--context")
        .map(|i| Path::new(extra[i + 1]).to_path_buf())
        .unwrap_or_else(|| dockerfile.parent().unwrap().to_path_buf());
    let spec = std::fs::read_to_string(context.join("golb.toml")).unwrap();
    let check = run_ok(
        Command::new(h.golb_binary())
            .arg("check")
            .arg(context.join("golb.toml")),
    );
    eprintln!("golb migrate printed:\n{printed}\nand wrote:\n{spec}\ngolb check:\n{check}");
    (printed, spec)
}

/// The config of `repo:test`.
fn config(h: &Harness, repo: &str) -> Value {
    let registry = Registry { host: h.registry() };
    registry.config(repo, &registry.manifest(repo, "test"))["config"].clone()
}

fn env_map(config: &Value) -> BTreeMap<String, String> {
    config["Env"]
        .as_array()
        .map(|vars| {
            vars.iter()
                .filter_map(|v| v.as_str()?.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Both images of one Dockerfile, pushed as `golb-e2e/migrate-<name>-{dockerfile,golb}:test`.
struct Pair {
    dockerfile_repo: String,
    golb_repo: String,
    printed: String,
    _copy: ExampleCopy,
}

impl Pair {
    fn dockerfile_image(&self, h: &Harness) -> String {
        format!("{}/{}:test", h.registry(), self.dockerfile_repo)
    }
    fn golb_image(&self, h: &Harness) -> String {
        format!("{}/{}:test", h.registry(), self.golb_repo)
    }
}

/// Copies `example`, puts `dockerfile` in it, migrates, builds both images.
fn build_both(example: &str, dockerfile: &str, name: &str) -> Pair {
    let h = harness();
    let copy = ExampleCopy::new(example, &format!("migrate-{name}"));
    std::fs::remove_file(copy.path().join("golb.toml")).unwrap();
    std::fs::copy(repo_root().join(dockerfile), copy.path().join("Dockerfile")).unwrap();
    let (printed, _) = golb_migrate(h, &copy.path().join("Dockerfile"), &[]);
    let dockerfile_repo = format!("golb-e2e/migrate-{name}-dockerfile");
    let golb_repo = format!("golb-e2e/migrate-{name}-golb");
    run_ok(buildctl_dockerfile(h, copy.path()).args([
        "--output",
        &format!(
            "type=image,name={}/{dockerfile_repo}:test,push=true",
            h.registry()
        ),
    ]));
    run_ok(&mut buildx_golb(
        h,
        copy.path(),
        &[
            "--provenance=false",
            "--output",
            &format!(
                "type=image,name={}/{golb_repo}:test,push=true",
                h.registry()
            ),
        ],
    ));
    Pair {
        dockerfile_repo,
        golb_repo,
        printed,
        _copy: copy,
    }
}

/// What the comparison expects: each binary as (path in the Dockerfile's
/// image, name in golb's), what `-version` prints, and the [[file]]s.
struct Expect<'a> {
    binaries: &'a [(&'a str, &'a str)],
    version: &'a [&'a str],
    files: &'a [&'a str],
    /// The Dockerfile's image runs its base's user / has its base's env
    /// (the Go toolchain image), which golb's never does.
    same_user_and_env: bool,
}

fn compare(pair: &Pair, expect: &Expect<'_>) {
    let h = harness();
    let theirs = config(h, &pair.dockerfile_repo);
    let ours = config(h, &pair.golb_repo);
    eprintln!("Dockerfile config: {theirs:#}\ngolb config: {ours:#}");

    // Binaries: in place, and the same program (the same stamped version).
    let their_files = image_files(h, &pair.dockerfile_repo, "test");
    let our_files = image_files(h, &pair.golb_repo, "test");
    for ((path, name), version) in expect.binaries.iter().zip(expect.version) {
        assert!(
            their_files.contains_key(path.trim_start_matches('/')),
            "{path} in the Dockerfile's image"
        );
        let ours_path = format!("usr/local/bin/{name}");
        assert!(
            our_files.contains_key(&ours_path),
            "{ours_path} in golb's image: {our_files:?}"
        );
        let theirs_out = run_in_image(h, &pair.dockerfile_image(h), &[path, "-version"]);
        let ours_out = run_in_image(
            h,
            &pair.golb_image(h),
            &[&format!("/{ours_path}"), "-version"],
        );
        assert_eq!(ours_out.trim(), theirs_out.trim(), "{name} -version");
        assert_eq!(ours_out.trim(), *version);
        if format!("/{ours_path}") != *path {
            assert!(
                pair.printed.contains(&format!("/usr/local/bin/{name}")),
                "migrate says the binary moves:\n{}",
                pair.printed
            );
        }
    }
    // Only golb's binaries in /usr/local/bin: nothing else came along.
    let ours_bins: Vec<&String> = our_files
        .keys()
        .filter(|p| p.starts_with("usr/local/bin/"))
        .collect();
    assert_eq!(ours_bins.len(), expect.binaries.len(), "{ours_bins:?}");
    for file in expect.files {
        let path = file.trim_start_matches('/');
        assert_eq!(
            our_files.get(path),
            their_files.get(path),
            "{file}: the same file with the same mode in both"
        );
        assert!(our_files.contains_key(path), "{file} in golb's image");
    }

    // Config: entrypoint and arguments with the binaries at golb's place.
    let relocate = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(words) = v.as_array_mut() {
            for word in words.iter_mut() {
                if let Some((_, name)) = expect
                    .binaries
                    .iter()
                    .find(|(p, _)| Some(*p) == word.as_str())
                {
                    *word = Value::from(format!("/usr/local/bin/{name}"));
                }
            }
        }
        v
    };
    let their_program: Vec<Value> = [theirs["Entrypoint"].clone(), theirs["Cmd"].clone()]
        .iter()
        .flat_map(|v| relocate(v).as_array().cloned().unwrap_or_default())
        .collect();
    let our_program: Vec<Value> = [ours["Entrypoint"].clone(), ours["Cmd"].clone()]
        .iter()
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(our_program, their_program, "what the container runs");
    assert_eq!(ours["ExposedPorts"], theirs["ExposedPorts"], "ports");
    let their_labels = theirs["Labels"].as_object().cloned().unwrap_or_default();
    for (k, v) in &their_labels {
        assert_eq!(&ours["Labels"][k], v, "label {k}");
    }
    if expect.same_user_and_env {
        assert_eq!(ours["User"], theirs["User"], "user");
        assert_eq!(
            ours["WorkingDir"], theirs["WorkingDir"],
            "working directory"
        );
        let (their_env, our_env) = (env_map(&theirs), env_map(&ours));
        for (k, v) in &their_env {
            assert_eq!(our_env.get(k), Some(v), "env {k}");
        }
    } else {
        assert_eq!(
            ours["User"], "65532",
            "golb's image never runs as root by default"
        );
    }
}

#[test]
fn bench_hello_dockerfile() {
    let pair = build_both("hello", "bench/hello/Dockerfile", "bench-hello");
    compare(
        &pair,
        &Expect {
            binaries: &[("/usr/local/bin/server", "server")],
            version: &["hello 1.2.3"],
            files: &[],
            same_user_and_env: true,
        },
    );
}

#[test]
fn bench_vendored_dockerfile() {
    let pair = build_both("vendored", "bench/vendored/Dockerfile", "bench-vendored");
    compare(
        &pair,
        &Expect {
            binaries: &[("/usr/local/bin/ratelimited", "ratelimited")],
            version: &["ratelimited 0.4.0"],
            files: &[],
            same_user_and_env: true,
        },
    );
}

#[test]
fn bench_heavy_dockerfile() {
    let pair = build_both("heavy", "bench/heavy/Dockerfile", "bench-heavy");
    compare(
        &pair,
        &Expect {
            binaries: &[("/usr/local/bin/server", "server")],
            version: &["heavy 2.0.1"],
            files: &[],
            same_user_and_env: true,
        },
    );
}

#[test]
fn bench_naive_dockerfile() {
    let pair = build_both("hello", "bench/hello/Dockerfile.naive", "naive-hello");
    assert!(
        pair.printed.contains("the image was the Go toolchain"),
        "{}",
        pair.printed
    );
    compare(
        &pair,
        &Expect {
            binaries: &[("/usr/local/bin/server", "server")],
            version: &["hello 1.2.3"],
            files: &[],
            same_user_and_env: false,
        },
    );
    let h = harness();
    let theirs = image_files(h, &pair.dockerfile_repo, "test");
    let ours = image_files(h, &pair.golb_repo, "test");
    assert!(theirs.contains_key("usr/local/go/bin/go") && theirs.contains_key("src/go.mod"));
    assert!(!ours.contains_key("usr/local/go/bin/go") && !ours.contains_key("src/go.mod"));
}

#[test]
fn distroless_with_a_config_file() {
    let pair = build_both(
        "assets",
        "tests/fixtures/migrate/distroless-assets/Dockerfile",
        "assets",
    );
    compare(
        &pair,
        &Expect {
            binaries: &[("/site", "site")],
            version: &["site 3.1.4"],
            files: &["/etc/site/site.conf"],
            same_user_and_env: true,
        },
    );
}

#[test]
fn scratch_with_a_ca_bundle() {
    let pair = build_both(
        "hello",
        "tests/fixtures/migrate/scratch-hello/Dockerfile",
        "scratch",
    );
    assert!(
        pair.printed.contains("scratch plus CA certificates"),
        "{}",
        pair.printed
    );
    assert!(
        pair.printed.contains("ca-certificates.crt"),
        "the CA COPY is listed:\n{}",
        pair.printed
    );
    compare(
        &pair,
        &Expect {
            binaries: &[("/hello", "hello")],
            version: &["hello 0.9.0"],
            files: &["/etc/ssl/certs/ca-certificates.crt"],
            same_user_and_env: true,
        },
    );
}

#[test]
fn one_go_build_into_a_directory() {
    let pair = build_both(
        "multi",
        "tests/fixtures/migrate/outdir-multi/Dockerfile",
        "outdir",
    );
    compare(
        &pair,
        &Expect {
            binaries: &[("/app/server", "server"), ("/app/migrate", "migrate")],
            version: &["server 5.0.0 (unknown)", "migrate 5.0.0"],
            files: &[],
            same_user_and_env: true,
        },
    );
}

/// The stand-in the harness has for gcr.io/distroless/static (which it does not mirror).
const DISTROLESS: &str = "RUNTIME_BASE=gcr.io/distroless/static-debian12:nonroot";

/// golb's image of a spec whose Dockerfile cannot be built here, on the
/// harness's distroless, pushed as `golb-e2e/migrate-<name>:test`; returns
/// its reference and config.
fn golb_image_only(h: &Harness, dir: &Path, name: &str, extra: &[&str]) -> (String, Value) {
    let image = format!("{}/golb-e2e/migrate-{name}:test", h.registry());
    let output = format!("type=image,name={image},push=true");
    let mut args = vec![
        "--build-arg",
        DISTROLESS,
        "--provenance=false",
        "--output",
        &output,
    ];
    args.extend_from_slice(extra);
    run_ok(&mut buildx_golb(h, dir, &args));
    (image, config(h, &format!("golb-e2e/migrate-{name}")))
}

/// go-httpbin's own Dockerfile runs `make build` in a shell: migrate falls
/// back to init's detection, says so, and golb's image has the binary the
/// Dockerfile ships, at golb's place, started the same way.
#[test]
fn go_httpbin_dockerfile_with_make() {
    let h = harness();
    let repo = TempDir::new("migrate-go-httpbin");
    module_from_proxy(h, "github.com/mccutchen/go-httpbin/v2@v2.26.0", repo.path());
    let (printed, spec) = golb_migrate(h, &repo.path().join("Dockerfile"), &[]);
    assert!(
        printed.contains("golb builds what `golb init` finds instead: ./cmd/go-httpbin"),
        "{printed}"
    );
    assert!(
        spec.contains("entrypoint = [\"/usr/local/bin/go-httpbin\"]"),
        "{spec}"
    );
    let (image, ours) = golb_image_only(h, repo.path(), "go-httpbin", &[]);
    assert_eq!(
        ours["Entrypoint"],
        serde_json::json!(["/usr/local/bin/go-httpbin"])
    );
    assert!(ours["ExposedPorts"]["8080/tcp"].is_object(), "{ours}");
    let help = run_in_image(h, &image, &["/usr/local/bin/go-httpbin", "-h"]);
    assert!(help.contains("-port"), "{help}");
}

/// nsq's own Dockerfile: golang:alpine with `apk add`, `./test.sh`, `make
/// install` into /opt/nsq/bin, that directory copied onto alpine, `RUN ln
/// -s`, six ports and WORKDIR /data. migrate falls back to init's detection
/// for the hidden build, maps the directory copy to all nine binaries, and
/// lists the rest with its lines. The Dockerfile cannot be built here
/// (alpine, apk, make); golb's image is built (on the harness's distroless
/// and Go 1.26, as build arguments) and checked against what it declares.
#[test]
fn nsq_dockerfile_with_make_install_and_a_directory_copy() {
    let h = harness();
    let repo = TempDir::new("migrate-nsq");
    module_from_proxy(h, "github.com/nsqio/nsq@v1.3.0", repo.path());
    let (printed, spec) = golb_migrate(h, &repo.path().join("Dockerfile"), &[]);
    for (line, what) in [(3, "apk add"), (17, "mkdir -p /data"), (25, "ln -s")] {
        assert!(
            printed.contains(&format!("Dockerfile:{line}: RUN")) && printed.contains(what),
            "line {line} is listed:\n{printed}"
        );
    }
    assert!(
        printed.contains("golb builds what `golb init` finds instead"),
        "{printed}"
    );
    assert!(
        spec.contains("expose = [4150, 4151, 4160, 4161, 4170, 4171]"),
        "{spec}"
    );
    let (image, ours) = golb_image_only(h, repo.path(), "nsq", &["--build-arg", "GO_VERSION=1.26"]);
    assert_eq!(ours["WorkingDir"], "/data");
    assert_eq!(
        ours["ExposedPorts"].as_object().map(|p| p.len()),
        Some(6),
        "{ours}"
    );
    let files = image_files(h, "golb-e2e/migrate-nsq", "test");
    for binary in ["nsqd", "nsqlookupd", "nsqadmin", "to_nsq"] {
        assert!(
            files.contains_key(&format!("usr/local/bin/{binary}")),
            "{binary}"
        );
    }
    let version = run_in_image(h, &image, &["/usr/local/bin/nsqlookupd", "--version"]);
    assert!(version.starts_with("nsqlookupd v1.3.0"), "{version}");
}
