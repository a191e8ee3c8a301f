//! golb's supply-chain parts, against real tools and registries:
//!
//! - `golb lock` / `golb lock --check` against the harness registry, a
//!   docker-registry behind basic auth and one behind bearer tokens (both
//!   started here, on loopback), with credentials from a Docker config file:
//!   a moved tag fails the check and the lock keeps the old digest.
//! - `golb step sbom` on real Go binaries: the SPDX validator (PyPI
//!   spdx-tools' pyspdxtools) accepts the document, two runs give the same
//!   bytes, and its modules are those `go version -m` lists.
//! - the real govulncheck in source mode, against a vulnerability database
//!   written here in govulncheck's file:// layout, on a module that calls one
//!   vulnerable function and imports another without calling it; then
//!   `golb step vuln-report` turns its JSON into SARIF and OpenVEX and gates.
//!
//! - the `vuln` target on the real BuildKit: govulncheck built in the build
//!   from golb's pinned tool module, the database served here over HTTP;
//!   the called vulnerability is a finding and the uncalled one is not, the
//!   image build gates on it (`[vuln] gate`) and attaches the OpenVEX
//!   document (`[vuln] attest`).
//!
//! Needs `scripts/harness up` (the registry, docker-registry, the golb
//! binary) and `scripts/tools` (govulncheck, pyspdxtools). Rerun with
//! `cargo test -p golb-e2e --test supply_chain -- --test-threads=1`.

use golb_e2e::goproxy::GoProxy;
use golb_e2e::registries::{Auth, Pusher, TestRegistry};
use golb_e2e::{
    buildx_golb, copy_tree, example_dir, harness, repo_root, run, run_ok, text, TempDaemon, TempDir,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tool `scripts/tools` installs.
fn tool(path: &str) -> PathBuf {
    let tool = repo_root().join("target/tools").join(path);
    assert!(
        tool.is_file(),
        "{} is missing; run `scripts/tools` first",
        tool.display()
    );
    tool
}

fn golb(args: &[&str]) -> Command {
    let mut cmd = Command::new(harness().golb_binary());
    cmd.args(args);
    cmd
}

// ---------------------------------------------------------------------------
// golb lock
// ---------------------------------------------------------------------------

/// A module whose spec names the builder and runtime images by tag in `host`.
fn lock_project(dir: &Path, host: &str, repo: &str) {
    std::fs::write(
        dir.join("golb.toml"),
        format!(
            "[builder]\nimage = \"{host}/{repo}/builder:1\"\n\n[runtime]\nbase = \"{host}/{repo}/base:1\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/locktest\n\ngo 1.26\n",
    )
    .unwrap();
}

fn docker_config(dir: &Path, auths: Value) -> PathBuf {
    let config = dir.join("docker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        json!({ "auths": auths }).to_string(),
    )
    .unwrap();
    config
}

fn basic_auths(host: &str, user: &str, password: &str) -> Value {
    let auth = golb_e2e::goproxy::base64(format!("{user}:{password}").as_bytes());
    json!({ host: { "auth": auth } })
}

fn lock(dir: &Path, config: &Path, check: bool) -> Output {
    let spec = dir.join("golb.toml");
    let mut cmd = golb(&["lock"]);
    cmd.arg(&spec).env("DOCKER_CONFIG", config);
    if check {
        cmd.arg("--check");
    }
    run(&mut cmd)
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "golb failed:\n{}", text(out));
    text(out)
}

/// Locks, checks, moves the base's tag, and checks again: the check fails
/// with exit 1 naming both digests, and the lock still names the old one
/// until `golb lock` runs again.
fn lock_then_move_the_tag(host: &str, pusher: &Pusher, repo: &str, config: &Path, dir: &Path) {
    lock_project(dir, host, repo);
    let (builder, builder_platforms) =
        pusher.index(&format!("{repo}/builder"), "1", &["linux/amd64"], "builder");
    let (base, base_platforms) = pusher.index(
        &format!("{repo}/base"),
        "1",
        &["linux/amd64", "linux/arm64", "linux/arm/v7"],
        "first",
    );
    ok(&lock(dir, config, false));
    let locked = std::fs::read_to_string(dir.join("golb.lock")).unwrap();
    for digest in [&builder, &base] {
        assert!(
            locked.contains(&format!("digest = \"{digest}\"")),
            "{locked}"
        );
    }
    for (platform, digest) in base_platforms.iter().chain(&builder_platforms) {
        assert!(
            locked.contains(&format!("\"{platform}\" = \"{digest}\"")),
            "{platform} {digest} not in\n{locked}"
        );
    }
    assert!(ok(&lock(dir, config, true)).contains("unchanged"));

    let (moved, _) = pusher.index(
        &format!("{repo}/base"),
        "1",
        &["linux/amd64", "linux/arm64", "linux/arm/v7"],
        "second",
    );
    assert_ne!(moved, base);
    let out = lock(dir, config, true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "{host}/{repo}/base:1 has moved: locked {base}, the registry now has {moved}"
        )),
        "{said}"
    );
    assert!(!said.contains("builder:1 has moved"), "{said}");
    assert_eq!(
        std::fs::read_to_string(dir.join("golb.lock")).unwrap(),
        locked,
        "--check must not touch the lock"
    );

    ok(&lock(dir, config, false));
    let relocked = std::fs::read_to_string(dir.join("golb.lock")).unwrap();
    assert!(
        relocked.contains(&format!("digest = \"{moved}\"")),
        "{relocked}"
    );
    ok(&lock(dir, config, true));
}

#[test]
fn lock_against_the_harness_registry_and_a_moved_tag() {
    let h = harness();
    let dir = TempDir::new("lock-open");
    let config = docker_config(dir.path(), json!({}));
    let pusher = Pusher {
        host: h.registry(),
        auth: Auth::None,
    };
    let repo = format!("golb-e2e/lock-{}", std::process::id());
    lock_then_move_the_tag(h.registry(), &pusher, &repo, &config, dir.path());

    // An image named by digest needs no entry, and a stale entry is reported.
    let pinned = std::fs::read_to_string(dir.path().join("golb.lock")).unwrap();
    let base_digest = pinned
        .lines()
        .skip_while(|l| !l.contains("/base:1"))
        .find_map(|l| l.strip_prefix("digest = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    std::fs::write(
        dir.path().join("golb.toml"),
        format!(
            "[builder]\nimage = \"{}/{repo}/builder:1\"\n\n[runtime]\nbase = \"{}/{repo}/base@{base_digest}\"\n",
            h.registry(),
            h.registry()
        ),
    )
    .unwrap();
    let out = lock(dir.path(), &config, true);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("base:1 is locked but the spec no longer uses it"),
        "{}",
        text(&out)
    );
    ok(&lock(dir.path(), &config, false));
    let relocked = std::fs::read_to_string(dir.path().join("golb.lock")).unwrap();
    assert!(!relocked.contains("/base"), "{relocked}");
    ok(&lock(dir.path(), &config, true));
}

#[test]
fn lock_against_a_registry_behind_basic_auth() {
    let (user, password) = ("golb", "s3cret-basic");
    let registry = TestRegistry::basic("lock-basic-registry", user, password);
    let dir = TempDir::new("lock-basic");
    lock_project(dir.path(), &registry.host, "team");
    let pusher = Pusher {
        host: &registry.host,
        auth: Auth::Basic(user.into(), password.into()),
    };
    pusher.index("team/builder", "1", &["linux/amd64"], "builder");
    pusher.index("team/base", "1", &["linux/amd64"], "base");

    // No credentials: the error says how to log in.
    let anonymous = docker_config(&dir.path().join("anonymous"), json!({}));
    let out = lock(dir.path(), &anonymous, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!("run `docker login {}`", registry.host)),
        "{}",
        text(&out)
    );
    // Wrong credentials are refused.
    let wrong = docker_config(
        &dir.path().join("wrong"),
        basic_auths(&registry.host, user, "not-it"),
    );
    let out = lock(dir.path(), &wrong, false);
    assert!(
        text(&out).contains("refused the credentials"),
        "{}",
        text(&out)
    );
    assert!(
        !dir.path().join("golb.lock").exists(),
        "no lock after a failure"
    );

    let config = docker_config(dir.path(), basic_auths(&registry.host, user, password));
    lock_then_move_the_tag(&registry.host, &pusher, "team", &config, dir.path());
}

#[test]
fn lock_against_a_registry_behind_bearer_tokens() {
    let (user, password) = ("golb", "s3cret-token");
    let registry = TestRegistry::bearer("lock-bearer-registry", user, password);
    let tokens = registry.tokens.as_ref().unwrap();
    let dir = TempDir::new("lock-bearer");
    let push_token =
        tokens.mint("repository:team/builder:pull,push repository:team/base:pull,push");
    let pusher = Pusher {
        host: &registry.host,
        auth: Auth::Bearer(push_token),
    };
    lock_project(dir.path(), &registry.host, "team");
    pusher.index("team/builder", "1", &["linux/amd64"], "builder");
    pusher.index("team/base", "1", &["linux/amd64"], "base");

    // Without credentials the token server refuses a token.
    let anonymous = docker_config(&dir.path().join("anonymous"), json!({}));
    let out = lock(dir.path(), &anonymous, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("docker login"), "{}", text(&out));

    let config = docker_config(dir.path(), basic_auths(&registry.host, user, password));
    let before = tokens.granted.load(std::sync::atomic::Ordering::Relaxed);
    lock_then_move_the_tag(&registry.host, &pusher, "team", &config, dir.path());
    assert!(
        tokens.granted.load(std::sync::atomic::Ordering::Relaxed) > before,
        "golb got its tokens from the token server"
    );
}

/// The `golb.test` label of the image `name` (pushed to the harness registry).
/// What `buildx imagetools inspect --format '{{json .<field>}}'` shows of a
/// pushed image: its SBOM or provenance attestations, as BuildKit reads them.
fn pushed_attestation(h: &golb_e2e::Harness, name: &str, field: &str) -> Value {
    let inspected = run(h.command("buildx").args([
        "imagetools",
        "inspect",
        "--format",
        &format!("{{{{json .{field}}}}}"),
        name,
    ]));
    assert!(inspected.status.success(), "{}", text(&inspected));
    serde_json::from_slice(&inspected.stdout)
        .unwrap_or_else(|e| panic!("{field} of {name}: {e}\n{}", text(&inspected)))
}

fn pushed_label(h: &golb_e2e::Harness, repo: &str, tag: &str) -> Value {
    let registry = golb_e2e::Registry { host: h.registry() };
    let manifest = registry.manifest(repo, tag);
    registry.config(repo, &manifest)["config"]["Labels"]["golb.test"].clone()
}

/// The image build uses golb.lock: after the base's tag moves, the locked
/// build keeps the old base (its label says so) while `golb lock --check`
/// fails; `--call check` warns when the lock no longer matches the spec,
/// and without the lock the build takes the moved tag.
#[test]
fn the_locked_build_keeps_the_old_base_after_a_retag() {
    let h = harness();
    let registry = h.registry();
    let repo = format!("golb-e2e/lockbuild-{}", std::process::id());
    let pusher = Pusher {
        host: registry,
        auth: Auth::None,
    };
    let work = TempDir::new("lock-build");
    copy_tree(&example_dir("hello"), work.path());
    let spec = |base_tag: &str| {
        format!(
            "# syntax=127.0.0.1:5000/golb:dev\n[builder]\nimage = \"{registry}/library/{}\"\n\n[[binary]]\npackage = \"./cmd/server\"\n\n[runtime]\nbase = \"{registry}/{repo}/base:{base_tag}\"\n",
            h.var("GOLB_GOLANG_IMAGE")
        )
    };
    std::fs::write(work.path().join("golb.toml"), spec("1")).unwrap();
    let config = docker_config(work.path(), json!({}));
    let (first, _) = pusher.index(&format!("{repo}/base"), "1", &["linux/amd64"], "first");
    ok(&lock(work.path(), &config, false));
    let (moved, _) = pusher.index(&format!("{repo}/base"), "1", &["linux/amd64"], "second");
    assert_ne!(first, moved);
    let checked = lock(work.path(), &config, true);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("has moved"), "{}", text(&checked));

    let build = |tag: &str| {
        let output = format!("type=image,name={registry}/{repo}/app:{tag},push=true");
        run_ok(&mut buildx_golb(
            h,
            work.path(),
            &[
                "--provenance=false",
                "--platform",
                "linux/amd64",
                "--output",
                &output,
            ],
        ))
    };
    let log = build("locked");
    assert_eq!(
        pushed_label(h, &format!("{repo}/app"), "locked"),
        "first",
        "the locked build keeps the old base:\n{log}"
    );

    // A spec that names another tag: the lock is stale, a warning only.
    std::fs::write(work.path().join("golb.toml"), spec("2")).unwrap();
    let checked = run(&mut buildx_golb(h, work.path(), &["--call", "check"]));
    let said = text(&checked);
    assert!(
        said.contains("StaleLock")
            && said.contains("does not pin")
            && said.contains("no longer names"),
        "{said}"
    );
    std::fs::write(work.path().join("golb.toml"), spec("1")).unwrap();

    // Without the lock the tag is resolved again.
    std::fs::remove_file(work.path().join("golb.lock")).unwrap();
    build("unlocked");
    assert_eq!(
        pushed_label(h, &format!("{repo}/app"), "unlocked"),
        "second"
    );
}

// ---------------------------------------------------------------------------
// SBOM
// ---------------------------------------------------------------------------

fn go(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("go");
    cmd.args(args)
        .current_dir(dir)
        .env("GOSUMDB", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "go {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn file_proxy() -> String {
    format!(
        "file://{}",
        repo_root().join("tests/fixtures/goproxy").display()
    )
}

/// `path version` of every module `go version -m` lists as linked.
fn go_version_m(binary: &Path) -> BTreeSet<String> {
    let out = run(Command::new("go").args(["version", "-m"]).arg(binary));
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    listed
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim().split('\t').collect();
            (f.first() == Some(&"dep")).then(|| format!("{} {}", f[1], f[2]))
        })
        .collect()
}

#[test]
fn sbom_of_real_binaries_validates_and_is_deterministic() {
    let dir = TempDir::new("sbom");
    let module = dir.path().join("module");
    std::fs::create_dir_all(module.join("cmd/server")).unwrap();
    std::fs::write(
        module.join("go.mod"),
        "module example.com/sbomtest\n\ngo 1.21\n\nrequire golb.test/private/greeting v1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        module.join("cmd/server/main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golb.test/private/greeting\"\n)\n\nfunc main() { fmt.Println(greeting.Hello()) }\n",
    )
    .unwrap();
    let proxy = file_proxy();
    go(&module, &["mod", "tidy"], &[("GOPROXY", &proxy)]);
    // Linked as golb links, for two platforms.
    for arch in ["amd64", "arm64"] {
        go(
            &module,
            &[
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-ldflags=-s -w -buildid=",
                "-o",
                &format!("out/{arch}/server"),
                "./cmd/server",
            ],
            &[("GOPROXY", &proxy), ("GOOS", "linux"), ("GOARCH", arch)],
        );
    }
    std::fs::create_dir_all(module.join("conf")).unwrap();
    std::fs::write(module.join("conf/site.conf"), "listen = :8080\n").unwrap();

    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    for arch in ["amd64", "arm64"] {
        let binary = module.join(format!("out/{arch}/server"));
        let sbom = |out: &Path| {
            let mut cmd = golb(&["step", "sbom", "--name", "example.com/sbomtest"]);
            cmd.arg("--platform")
                .arg(format!("linux/{arch}"))
                .arg("--out")
                .arg(out)
                .arg("--binary")
                .arg(format!("{}=/usr/local/bin/server", binary.display()))
                .arg("--file")
                .arg(format!("{}=/etc/site", module.join("conf").display()))
                .arg("--go-sum")
                .arg(module.join("go.sum"))
                .arg("--builder")
                .arg(format!("golang:1.26@{}", digest('a')))
                .arg("--runtime")
                .arg(format!(
                    "gcr.io/distroless/static-debian12:nonroot@{}",
                    digest('b')
                ));
            ok(&run(&mut cmd));
            std::fs::read(out).unwrap()
        };
        let first = sbom(&dir.path().join(format!("{arch}.spdx.json")));
        let second = sbom(&dir.path().join(format!("{arch}-again.spdx.json")));
        assert_eq!(first, second, "two runs, the same bytes");

        let validated = run(Command::new(tool("venv/bin/pyspdxtools"))
            .arg("-i")
            .arg(dir.path().join(format!("{arch}.spdx.json"))));
        assert!(
            validated.status.success(),
            "pyspdxtools:\n{}",
            text(&validated)
        );
        assert!(
            !text(&validated).contains("invalid"),
            "{}",
            text(&validated)
        );

        // The modules it lists are the binary's, as `go version -m` says.
        let doc: Value = serde_json::from_slice(&first).unwrap();
        let (listed, _) = sbom_modules(&doc);
        assert_eq!(listed, go_version_m(&binary));
        let files: Vec<&str> = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fileName"].as_str().unwrap())
            .collect();
        assert_eq!(files.len(), 2);
        assert!(
            files.contains(&"./etc/site/site.conf") && files.contains(&"./usr/local/bin/server")
        );
    }
    // A broken input fails the step without leaving a document behind.
    let out = dir.path().join("broken.spdx.json");
    let failed = run(golb(&[
        "step",
        "sbom",
        "--name",
        "x",
        "--platform",
        "linux/amd64",
        "--builder",
        &format!("golang:1.26@{}", digest('a')),
    ])
    .arg("--out")
    .arg(&out)
    .arg("--binary")
    .arg(format!(
        "{}=/usr/local/bin/x",
        module.join("go.mod").display()
    )));
    assert_eq!(failed.status.code(), Some(1));
    assert!(text(&failed).contains("go.mod"), "{}", text(&failed));
    assert!(!out.exists());
}

/// The modules an SPDX document lists as linked libraries ("path version"),
/// and the standard library's version.
fn sbom_modules(doc: &Value) -> (BTreeSet<String>, String) {
    let packages = doc["packages"].as_array().expect("packages");
    let listed = packages
        .iter()
        .filter(|p| p["primaryPackagePurpose"] == "LIBRARY" && p["name"] != "stdlib")
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["versionInfo"].as_str().unwrap()
            )
        })
        .collect();
    let stdlib = packages
        .iter()
        .find(|p| p["name"] == "stdlib")
        .and_then(|p| p["versionInfo"].as_str())
        .expect("the standard library is listed")
        .to_string();
    (listed, stdlib)
}

/// The Go release `go version -m` says built `binary`.
fn go_release_of(binary: &Path) -> String {
    let out = run(Command::new("go").args(["version", "-m"]).arg(binary));
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    listed
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a go line")
        .to_string()
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// The SHA256 of the file at `name` in an SPDX document.
fn file_sha256(doc: &Value, name: &str) -> String {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fileName"] == name)
        .and_then(|f| {
            f["checksums"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["algorithm"] == "SHA256")
        })
        .and_then(|c| c["checksumValue"].as_str())
        .unwrap_or_else(|| panic!("{name} is not in the SBOM"))
        .to_string()
}

/// `--sbom=true` on the real BuildKit: one SPDX attestation per platform,
/// golb's (BuildKit's scanner image cannot even be pulled here, so a scan
/// would fail the build), whose modules are exactly those `go version -m`
/// lists for the binary the image holds; it validates, and two clean builds
/// give the same bytes. `--target binaries` writes it beside the binaries.
#[test]
fn the_image_build_attaches_golbs_sbom_per_platform() {
    let h = harness();
    let proxy = GoProxy::start_open(&repo_root().join("tests/fixtures/goproxy")).expect("GOPROXY");
    let goproxy_arg = format!("GOPROXY={}", proxy.url());
    let work = TempDir::new("sbom-build");
    copy_tree(&example_dir("private"), work.path());
    let spec = std::fs::read_to_string(work.path().join("golb.toml")).unwrap();
    std::fs::write(
        work.path().join("golb.toml"),
        format!("{spec}\n[[file]]\nsrc = \"conf/site.conf\"\ndest = \"/etc/site/site.conf\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(work.path().join("conf")).unwrap();
    std::fs::write(work.path().join("conf/site.conf"), "listen = :8080\n").unwrap();
    std::fs::write(work.path().join(".dockerignore"), "out*\n").unwrap();
    let platforms = ["linux/amd64", "linux/arm64"];
    let common = [
        "--sbom=true",
        "--provenance=false",
        "--platform",
        "linux/amd64,linux/arm64",
        "--build-arg",
        goproxy_arg.as_str(),
    ];

    // The binaries target, twice (the second without any cache): the SBOM
    // statement lies beside each platform's binary.
    let binaries = |dest: &str, extra: &[&str]| {
        let output = format!("type=local,dest={}", work.path().join(dest).display());
        let mut args: Vec<&str> = common.to_vec();
        args.extend(["--target", "binaries", "--output", &output]);
        args.extend(extra);
        run_ok(&mut buildx_golb(h, work.path(), &args))
    };
    let log = binaries("out", &[]);
    binaries("out-again", &["--no-cache"]);
    let mut binary_sha = std::collections::BTreeMap::new();
    for platform in platforms {
        let dir = work.path().join("out").join(platform.replace('/', "_"));
        let statement_path = dir.join("sbom.spdx.json");
        let statement: Value = serde_json::from_slice(
            &std::fs::read(&statement_path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{log}", statement_path.display())),
        )
        .unwrap();
        assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
        let again = work
            .path()
            .join("out-again")
            .join(platform.replace('/', "_"))
            .join("sbom.spdx.json");
        assert_eq!(
            std::fs::read(&statement_path).unwrap(),
            std::fs::read(&again).unwrap(),
            "two clean builds give the same SBOM ({platform})"
        );
        let doc = &statement["predicate"];
        assert!(
            doc["creationInfo"]["creators"][0]
                .as_str()
                .unwrap()
                .starts_with("Tool: golb-"),
            "{doc}"
        );
        let binary = dir.join("server");
        let (listed, stdlib) = sbom_modules(doc);
        assert_eq!(listed, go_version_m(&binary), "{platform}");
        assert!(listed.contains("golb.test/private/greeting v1.0.0"));
        assert_eq!(stdlib, go_release_of(&binary));
        assert_eq!(file_sha256(doc, "./server"), sha256_hex(&binary));
        binary_sha.insert(platform, sha256_hex(&binary));

        let predicate = work
            .path()
            .join(format!("{}.spdx.json", platform.replace('/', "_")));
        std::fs::write(&predicate, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        let validated = run(Command::new(tool("venv/bin/pyspdxtools"))
            .arg("-i")
            .arg(&predicate));
        assert!(
            validated.status.success(),
            "pyspdxtools:\n{}",
            text(&validated)
        );
    }

    // The image, pushed: `imagetools inspect` shows one SBOM per platform,
    // naming the binary the image holds, the file golb added and both
    // images by digest.
    let name = format!("{}/golb-e2e/sbom:{}", h.registry(), std::process::id());
    let output = format!("type=image,name={name},push=true");
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--output", &output]);
    let log = run_ok(&mut buildx_golb(h, work.path(), &args));
    assert!(!log.contains("syft"), "BuildKit's scanner ran:\n{log}");
    let sboms = pushed_attestation(h, &name, "SBOM");
    for platform in platforms {
        let doc = &sboms[platform]["SPDX"];
        assert!(doc.is_object(), "no SBOM for {platform}: {sboms}");
        assert_eq!(
            file_sha256(doc, "./usr/local/bin/server"),
            binary_sha[platform],
            "the image's binary is the one the binaries target exported"
        );
        assert_eq!(
            file_sha256(doc, "./etc/site/site.conf"),
            format!(
                "{:x}",
                <sha2::Sha256 as sha2::Digest>::digest(b"listen = :8080\n")
            )
        );
        let images: Vec<&Value> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["primaryPackagePurpose"] == "CONTAINER" && p["SPDXID"] != "SPDXRef-root")
            .collect();
        assert_eq!(images.len(), 2, "builder and runtime base: {doc}");
        for image in images {
            assert!(
                image["versionInfo"]
                    .as_str()
                    .unwrap()
                    .starts_with("sha256:"),
                "{image}"
            );
        }
    }
}

/// The same through a registry behind basic auth: `golb lock` logs in with
/// the Docker config, and so does the build (buildx hands BuildKit the
/// credentials of the same config); the locked build keeps the old base.
#[test]
fn the_locked_build_pulls_the_old_base_from_a_registry_behind_basic_auth() {
    let h = harness();
    let (user, password) = ("golb", "s3cret-build");
    let registry = TestRegistry::basic("lock-build-basic-registry", user, password);
    let pusher = Pusher {
        host: &registry.host,
        auth: Auth::Basic(user.into(), password.into()),
    };
    let work = TempDir::new("lock-build-basic");
    copy_tree(&example_dir("hello"), work.path());
    std::fs::write(
        work.path().join("golb.toml"),
        format!(
            "# syntax=127.0.0.1:5000/golb:dev\n[builder]\nimage = \"{}/library/{}\"\n\n[[binary]]\npackage = \"./cmd/server\"\n\n[runtime]\nbase = \"{}/team/base:1\"\n",
            h.registry(),
            h.var("GOLB_GOLANG_IMAGE"),
            registry.host
        ),
    )
    .unwrap();
    let config = docker_config(work.path(), basic_auths(&registry.host, user, password));
    let (first, _) = pusher.index("team/base", "1", &["linux/amd64"], "first");
    ok(&lock(work.path(), &config, false));
    let (moved, _) = pusher.index("team/base", "1", &["linux/amd64"], "second");
    assert_ne!(first, moved);
    let checked = lock(work.path(), &config, true);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));

    let repo = format!("golb-e2e/lockbuild-basic-{}", std::process::id());
    let output = format!("type=image,name={}/{repo}:locked,push=true", h.registry());
    let args = [
        "--provenance=false",
        "--platform",
        "linux/amd64",
        "--output",
        &output,
    ];
    let build = |config: &Path| {
        let mut cmd = buildx_golb(h, work.path(), &args);
        cmd.env("DOCKER_CONFIG", config);
        run(&mut cmd)
    };
    // Without the credentials a builder that has not pulled the base yet
    // cannot even read its config.
    let anonymous = docker_config(&work.path().join("anonymous"), json!({}));
    let empty = TempDaemon::start(h, "lock-build-basic-daemon");
    let refused = run(empty
        .buildx_golb(h, work.path(), &args)
        .env("DOCKER_CONFIG", &anonymous));
    let said = text(&refused).to_lowercase();
    assert!(
        !refused.status.success() && (said.contains("401") || said.contains("unauthorized")),
        "{said}"
    );
    let built = build(&config);
    assert!(built.status.success(), "{}", text(&built));
    assert_eq!(
        pushed_label(h, &repo, "locked"),
        "first",
        "the locked build keeps the old base:\n{}",
        text(&built)
    );
}

/// A stand-in for BuildKit's SBOM scanner (which cannot be pulled here):
/// it writes, as BuildKit's generator protocol asks, one in-toto SPDX
/// statement into $BUILDKIT_SCAN_DESTINATION naming the files it found
/// under $BUILDKIT_SCAN_SOURCE.
const SCANNER_MAIN: &str = r#"package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	src, dst := os.Getenv("BUILDKIT_SCAN_SOURCE"), os.Getenv("BUILDKIT_SCAN_DESTINATION")
	var files []map[string]string
	filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(src, path)
			files = append(files, map[string]string{"fileName": "./" + rel, "SPDXID": "SPDXRef-File"})
		}
		return nil
	})
	statement := map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://spdx.dev/Document",
		"subject":       []any{},
		"predicate": map[string]any{
			"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
			"name": "golb-test-scanner", "dataLicense": "CC0-1.0",
			"files": files,
		},
	}
	out, _ := json.Marshal(statement)
	if err := os.WriteFile(filepath.Join(dst, "scanner.spdx.json"), out, 0o644); err != nil {
		panic(err)
	}
}
"#;

/// `--attest type=sbom,generator=IMAGE` hands the SBOM back to BuildKit:
/// golb adds no SBOM step, BuildKit runs the named scanner on the image,
/// and its document is the image's SBOM.
#[test]
fn a_named_generator_hands_the_sbom_back_to_buildkits_scanner() {
    let h = harness();
    let work = TempDir::new("sbom-generator");
    let scanner = work.path().join("scanner");
    std::fs::create_dir_all(&scanner).unwrap();
    std::fs::write(scanner.join("main.go"), SCANNER_MAIN).unwrap();
    std::fs::write(
        scanner.join("go.mod"),
        "module example.com/scanner\n\ngo 1.21\n",
    )
    .unwrap();
    go(&scanner, &["build", "-o", "scanner", "."], &[]);
    std::fs::write(
        scanner.join("Dockerfile"),
        "FROM scratch\nCOPY scanner /scanner\nENTRYPOINT [\"/scanner\"]\n",
    )
    .unwrap();
    let generator = format!("{}/golb-e2e/scanner:{}", h.registry(), std::process::id());
    run_ok(
        h.command("buildx")
            .args([
                "build",
                "--progress=plain",
                "--provenance=false",
                "--output",
            ])
            .arg(format!("type=image,name={generator},push=true"))
            .arg(&scanner),
    );

    let name = format!(
        "{}/golb-e2e/sbom-generator:{}",
        h.registry(),
        std::process::id()
    );
    let output = format!("type=image,name={name},push=true");
    let attest = format!("type=sbom,generator={generator}");
    let log = run_ok(&mut buildx_golb(
        h,
        &example_dir("hello"),
        &[
            "--provenance=false",
            "--attest",
            &attest,
            "--output",
            &output,
        ],
    ));
    assert!(!log.contains("[golb] SBOM"), "golb wrote an SBOM:\n{log}");
    let sbom = pushed_attestation(h, &name, "SBOM");
    let doc = &sbom["SPDX"];
    assert_eq!(doc["name"], "golb-test-scanner", "{sbom}\n{log}");
    let scanned: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["fileName"].as_str())
        .collect();
    assert!(
        scanned.contains(&"./usr/local/bin/server"),
        "the scanner saw the image's files: {scanned:?}"
    );
}

// ---------------------------------------------------------------------------
// govulncheck
// ---------------------------------------------------------------------------

const VULN_MODULE: &str = "golb.test/vuln/lib";
const APP: &str = "example.com/vulnapp";
const APP_MAIN: &str = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golb.test/vuln/lib/called\"\n\t\"golb.test/vuln/lib/uncalled\"\n)\n\nfunc main() {\n\tfmt.Println(called.Vulnerable(), uncalled.Safe())\n}\n";

/// A vulnerability database in govulncheck's file:// layout
/// (golang.org/x/vuln/internal/client): index/db.json, index/modules.json
/// and ID/<id>.json, with three entries against golb.test/vuln/lib < v1.1.0,
/// one per package of it.
fn write_vuln_db(dir: &Path) {
    let modified = "2024-01-01T00:00:00Z";
    std::fs::create_dir_all(dir.join("index")).unwrap();
    std::fs::create_dir_all(dir.join("ID")).unwrap();
    std::fs::write(
        dir.join("index/db.json"),
        json!({ "modified": modified }).to_string(),
    )
    .unwrap();
    let entries = [
        ("GO-2099-0001", "called"),
        ("GO-2099-0002", "uncalled"),
        ("GO-2099-0003", "unimported"),
    ];
    let index: Vec<Value> = entries
        .iter()
        .map(|(id, _)| json!({ "id": id, "modified": modified, "fixed": "v1.1.0" }))
        .collect();
    std::fs::write(
        dir.join("index/modules.json"),
        json!([{ "path": VULN_MODULE, "vulns": index }]).to_string(),
    )
    .unwrap();
    for (id, package) in entries {
        let osv = json!({
            "schema_version": "1.3.1",
            "id": id,
            "modified": modified,
            "published": modified,
            "aliases": [id.replace("GO-", "CVE-")],
            "summary": format!("Test vulnerability in {package}.Vulnerable"),
            "details": format!("golb's test database lists {VULN_MODULE}/{package}.Vulnerable."),
            "affected": [{
                "package": { "name": VULN_MODULE, "ecosystem": "Go" },
                "ranges": [{ "type": "SEMVER", "events": [{ "introduced": "0" }, { "fixed": "1.1.0" }] }],
                "ecosystem_specific": { "imports": [{ "path": format!("{VULN_MODULE}/{package}"), "symbols": ["Vulnerable"] }] },
            }],
            "database_specific": { "url": format!("https://pkg.go.dev/vuln/{id}") },
        });
        std::fs::write(dir.join(format!("ID/{id}.json")), osv.to_string()).unwrap();
    }
    // Over HTTP govulncheck asks for each file gzipped (ENDPOINT.json.gz).
    for file in ["index/db.json", "index/modules.json"]
        .map(String::from)
        .into_iter()
        .chain(entries.iter().map(|(id, _)| format!("ID/{id}.json")))
    {
        let out = run(Command::new("gzip")
            .args(["-n", "-k", "-f"])
            .arg(dir.join(&file)));
        assert!(out.status.success(), "gzip {file}: {}", text(&out));
    }
}

/// govulncheck's JSON messages.
fn messages(json: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(json)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn govulncheck_reports_the_called_vulnerability_and_golb_gates_on_it() {
    let dir = TempDir::new("vuln");
    let db = dir.path().join("db");
    write_vuln_db(&db);
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        format!("module {APP}\n\ngo 1.21\n\nrequire {VULN_MODULE} v1.0.0\n"),
    )
    .unwrap();
    std::fs::write(app.join("main.go"), APP_MAIN).unwrap();
    // The vulnerable module comes from the test GOPROXY.
    let proxy = GoProxy::start_open(&repo_root().join("tests/fixtures/goproxy")).unwrap();
    let proxy_url = proxy.url();
    let env = [("GOPROXY", proxy_url.as_str())];
    go(&app, &["mod", "tidy"], &env);

    let govulncheck = |format: &[&str]| -> Output {
        let mut cmd = Command::new(tool("bin/govulncheck"));
        cmd.current_dir(&app)
            .arg("-db")
            .arg(format!("file://{}", db.display()))
            .args(format)
            .arg("./...")
            .env("GOPROXY", &proxy_url)
            .env("GOSUMDB", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local");
        run(&mut cmd)
    };
    // Source mode, as a person runs it: only the called one is a finding.
    let human = govulncheck(&[]);
    let said = text(&human);
    assert_eq!(
        human.status.code(),
        Some(3),
        "exit 3 means vulnerabilities found:\n{said}"
    );
    assert!(said.contains("Vulnerability #1: GO-2099-0001"), "{said}");
    assert!(!said.contains("Vulnerability #2"), "{said}");
    assert!(said.contains("main.go:11:"), "{said}");

    let json = govulncheck(&["-format", "json"]);
    assert!(json.status.success(), "{}", text(&json));
    let msgs = messages(&json.stdout);
    let function_frames = |id: &str| -> Vec<Value> {
        msgs.iter()
            .filter(|m| m["finding"]["osv"] == id)
            .filter(|m| m["finding"]["trace"][0]["function"].is_string())
            .cloned()
            .collect()
    };
    assert_eq!(
        function_frames("GO-2099-0001").len(),
        1,
        "the called one is called"
    );
    assert!(
        function_frames("GO-2099-0002").is_empty(),
        "the uncalled one is not"
    );
    assert!(msgs.iter().any(|m| m["finding"]["osv"] == "GO-2099-0002"
        && m["finding"]["trace"][0]["package"] == format!("{VULN_MODULE}/uncalled")));
    let json_path = dir.path().join("govulncheck.json");
    std::fs::write(&json_path, &json.stdout).unwrap();

    // The gate fails, naming the finding's ID, package and call site.
    let call_line = APP_MAIN
        .lines()
        .position(|l| l.contains("called.Vulnerable()"))
        .unwrap()
        + 1;
    let report = |json: &Path, out: &str, extra: &[&str]| -> Output {
        let mut cmd = golb(&["step", "vuln-report", "--module", APP]);
        cmd.arg("--json")
            .arg(json)
            .arg("--sarif")
            .arg(dir.path().join(format!("{out}.sarif")))
            .arg("--openvex")
            .arg(dir.path().join(format!("{out}.openvex.json")))
            .args(extra);
        run(&mut cmd)
    };
    let gated = report(&json_path, "gated", &["--gate"]);
    assert_eq!(gated.status.code(), Some(1), "{}", text(&gated));
    let said = text(&gated);
    assert!(said.contains("GO-2099-0001"), "{said}");
    assert!(said.contains(&format!("({VULN_MODULE}/called)")), "{said}");
    assert!(
        said.contains(&format!("called at main.go:{call_line}:")),
        "{said}"
    );
    assert!(said.contains(&format!("in {APP}.main")), "{said}");
    assert!(
        !said.contains("GO-2099-0002") && !said.contains("GO-2099-0003"),
        "{said}"
    );
    // Ignoring the assessed ID lets it pass.
    ok(&report(
        &json_path,
        "ignored",
        &["--gate", "--ignore", "GO-2099-0001"],
    ));

    // The documents were written despite the gate, and are deterministic:
    // a second govulncheck run gives byte-identical SARIF and OpenVEX.
    let again = govulncheck(&["-format", "json"]);
    let again_path = dir.path().join("again.json");
    std::fs::write(&again_path, &again.stdout).unwrap();
    ok(&report(&again_path, "again", &[]));
    for ext in ["sarif", "openvex.json"] {
        let first = std::fs::read(dir.path().join(format!("gated.{ext}"))).unwrap();
        let second = std::fs::read(dir.path().join(format!("again.{ext}"))).unwrap();
        assert_eq!(first, second, "{ext} differs between runs");
    }
    let vex: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("gated.openvex.json")).unwrap())
            .unwrap();
    let status: Vec<(String, String)> = vex["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["vulnerability"]["name"].as_str().unwrap().to_string(),
                format!(
                    "{} {}",
                    s["status"].as_str().unwrap(),
                    s["justification"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("GO-2099-0001".to_string(), "affected ".to_string()),
            (
                "GO-2099-0002".to_string(),
                "not_affected vulnerable_code_not_in_execute_path".to_string()
            ),
            (
                "GO-2099-0003".to_string(),
                "not_affected vulnerable_code_not_present".to_string()
            ),
        ]
    );
    assert_eq!(vex["timestamp"], "1970-01-01T00:00:00Z");
    assert_eq!(
        vex["statements"][0]["products"][0]["@id"],
        format!("pkg:golang/{APP}")
    );
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("gated.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results[0]["ruleId"], "GO-2099-0001");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["level"], "warning");
}

// ---------------------------------------------------------------------------
// Provenance
// ---------------------------------------------------------------------------

/// `--provenance=mode=max` on a golb build: BuildKit's SLSA provenance names
/// golb's inputs: the golb frontend image, the builder and the runtime base,
/// each by digest, the spec file, and golb's steps in the LLB it records.
#[test]
fn provenance_mode_max_names_golbs_inputs() {
    let h = harness();
    let work = TempDir::new("provenance");
    copy_tree(&example_dir("hello"), work.path());
    let name = format!(
        "{}/golb-e2e/provenance:{}",
        h.registry(),
        std::process::id()
    );
    let output = format!("type=image,name={name},push=true");
    run_ok(&mut buildx_golb(
        h,
        work.path(),
        &["--provenance=mode=max", "--output", &output],
    ));
    let provenance = pushed_attestation(h, &name, "Provenance");
    let definition = &provenance["SLSA"]["buildDefinition"];
    assert_eq!(
        definition["externalParameters"]["configSource"]["path"],
        "golb.toml"
    );
    let uris: Vec<String> = definition["resolvedDependencies"]
        .as_array()
        .unwrap_or_else(|| panic!("no resolvedDependencies: {provenance}"))
        .iter()
        .filter(|d| {
            d["digest"]["sha256"]
                .as_str()
                .is_some_and(|s| s.len() == 64)
        })
        .map(|d| d["uri"].as_str().unwrap().to_string())
        .collect();
    let frontend = h.frontend().rsplit_once(':').unwrap();
    for wanted in [
        format!(
            "pkg:docker/{}@{}",
            frontend.0.replace(':', "%3A"),
            frontend.1
        ),
        "pkg:docker/golang@".to_string(),
        "pkg:docker/gcr.io/distroless/static-debian12@nonroot".to_string(),
    ] {
        assert!(
            uris.iter().any(|u| u.starts_with(&wanted)),
            "{wanted} not among {uris:?}"
        );
    }
    // golb's steps, with their commands: `go build` and `golb step`.
    let llb = &definition["internalParameters"]["buildConfig"]["llbDefinition"];
    let commands: Vec<String> = llb
        .as_array()
        .unwrap_or_else(|| panic!("no llbDefinition: {provenance}"))
        .iter()
        .filter_map(|step| step["op"]["Op"]["exec"]["meta"]["args"].as_array())
        .map(|args| {
            args.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert!(
        commands.iter().any(|c| c.contains("go build")),
        "{commands:?}"
    );
    assert!(
        commands.iter().any(|c| c.contains("/run/golb/golb step")),
        "{commands:?}"
    );
}

/// The vulnerable test module as a golb project: go.mod and go.sum from
/// the test GOPROXY, main.go calling one vulnerable function, and a spec
/// whose `[vuln]` table ends it, so a test appends keys.
fn vuln_project(dir: &Path, proxy: &GoProxy, frontend: &str, db: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        format!("module {APP}\n\ngo 1.26\n\nrequire {VULN_MODULE} v1.0.0\n"),
    )
    .unwrap();
    std::fs::write(dir.join("main.go"), APP_MAIN).unwrap();
    let proxy_url = proxy.url();
    go(
        dir,
        &["mod", "tidy"],
        &[("GOPROXY", proxy_url.as_str()), ("GOSUMDB", "off")],
    );
    std::fs::write(
        dir.join("golb.toml"),
        format!(
            "# syntax={frontend}\n[builder]\ngo = \"1.26\"\n\n[[binary]]\npackage = \".\"\nname = \"vulnapp\"\n\n[vuln]\ndb = \"{db}\"\n"
        ),
    )
    .unwrap();
}

fn append_to(path: &Path, text: &str) {
    let mut spec = std::fs::read_to_string(path).unwrap();
    spec.push_str(text);
    std::fs::write(path, spec).unwrap();
}

#[test]
fn the_vuln_target_reports_what_is_called_and_the_image_build_gates_and_attests() {
    let h = harness();
    let work = TempDir::new("vuln-target");
    let db = work.path().join("db");
    write_vuln_db(&db);
    let db_server = GoProxy::start_open(&db).expect("database server");
    let proxy = GoProxy::start_open(&repo_root().join("tests/fixtures/goproxy")).expect("GOPROXY");
    let app = work.path().join("app");
    vuln_project(&app, &proxy, h.frontend(), &db_server.url());
    // The test module from the test proxy; govulncheck's own modules, which
    // golb builds in the build, from the public one.
    let goproxy_arg = format!("GOPROXY={},https://proxy.golang.org", proxy.url());

    // The target: one platform's documents at the output's root.
    let out = work.path().join("out");
    let output = format!("type=local,dest={}", out.display());
    let log = run_ok(&mut buildx_golb(
        h,
        &app,
        &[
            "--target",
            "vuln",
            "--build-arg",
            &goproxy_arg,
            "--output",
            &output,
        ],
    ));
    assert!(log.contains("go build govulncheck v1.6.0"), "{log}");
    let read = |file: &str| -> Value {
        let path = out.join(file);
        serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}\n{log}", path.display())),
        )
        .unwrap()
    };
    let sarif = read("govulncheck.sarif");
    let level_of = |id: &str| -> Vec<String> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] == id)
            .map(|r| r["level"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(level_of("GO-2099-0001"), ["error"], "called: {sarif}");
    assert_eq!(
        level_of("GO-2099-0002"),
        ["warning"],
        "imported only: {sarif}"
    );
    let vex = read("vex.openvex.json");
    let status = |id: &str| -> String {
        vex["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["vulnerability"]["name"] == id)
            .map(|s| s["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{id} not in {vex}"))
    };
    assert_eq!(status("GO-2099-0001"), "affected");
    assert_eq!(status("GO-2099-0002"), "not_affected");
    assert!(
        db_server
            .requests()
            .iter()
            .any(|r| r.path == "/index/db.json.gz" && r.status == 200),
        "{}",
        db_server.describe()
    );

    // The gate: the image build fails naming the finding, its package and
    // the call site.
    append_to(&app.join("golb.toml"), "gate = true\n");
    let gated = run(&mut buildx_golb(
        h,
        &app,
        &["--build-arg", &goproxy_arg, "--output", "type=cacheonly"],
    ));
    let said = text(&gated);
    assert!(!gated.status.success(), "{said}");
    assert!(said.contains("GO-2099-0001"), "{said}");
    assert!(said.contains(&format!("({VULN_MODULE}/called)")), "{said}");
    assert!(said.contains("called at main.go:11:"), "{said}");
    assert!(!said.contains("GO-2099-0002"), "{said}");

    // Assessed and ignored, the image builds; with `attest` it carries the
    // OpenVEX document as an in-toto attestation.
    append_to(
        &app.join("golb.toml"),
        "ignore = [\"GO-2099-0001\"]\nattest = true\n",
    );
    let name = format!("{}/golb-e2e/vuln:{}", h.registry(), std::process::id());
    let output = format!("type=image,name={name},push=true");
    let log = run_ok(&mut buildx_golb(
        h,
        &app,
        &[
            "--provenance=false",
            "--build-arg",
            &goproxy_arg,
            "--output",
            &output,
        ],
    ));
    let inspected = run(h
        .command("buildx")
        .args(["imagetools", "inspect", "--raw", &name]));
    assert!(inspected.status.success(), "{}", text(&inspected));
    let index: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    let attestation = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["vnd.docker.reference.type"] == "attestation-manifest")
        .unwrap_or_else(|| panic!("no attestation manifest in {index}\n{log}"));
    let manifest = run(h.command("buildx").args([
        "imagetools",
        "inspect",
        "--raw",
        &format!("{name}@{}", attestation["digest"].as_str().unwrap()),
    ]));
    let manifest: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    let types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["annotations"]["in-toto.io/predicate-type"].as_str())
        .collect();
    assert_eq!(types, ["https://openvex.dev/ns/v0.2.0"], "{manifest}");
}
