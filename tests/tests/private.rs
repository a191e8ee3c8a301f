//! examples/private imports `golb.test/private/greeting`, which only a
//! password-protected GOPROXY serves (tests/src/goproxy.rs, started here on
//! 127.0.0.1 and a free port; builds use host networking, so the build steps
//! reach it). Built the way users build, with the password only in a BuildKit
//! secret:
//!
//! ```sh
//! buildx build -f golb.toml --secret id=netrc,src=$HOME/.netrc --build-arg GOPROXY=https://… .
//! ```
//!
//! What it proves: without the secret the build fails with the proxy's 401;
//! with it the module is downloaded with the credentials and the image is
//! pushed; the binary runs and prints the private module's greeting; and the
//! password is in no build log, no layer and no config of the image.
//!
//! Two facts about the go command shape the setup (the first test checks both
//! on the host's Go):
//! - Go sends netrc credentials only over HTTPS, so the proxy speaks HTTPS
//!   with a per-run CA. The builder image has to trust that CA, as a company's
//!   own builder image trusts its internal CA: the test builds one
//!   (`FROM golang:1.26` plus the CA in /etc/ssl/certs) and names it in
//!   `[builder] image`.
//! - A netrc `machine` is matched with the port (`machine 127.0.0.1:PORT`).
//!
//! Rerun with `cargo test -p golb-e2e --test private` (see docs/private-modules.md).

use golb_e2e::goproxy::{self, Auth, GoProxy};
use golb_e2e::{
    buildctl_dockerfile, contains, copy_tree, files_under, gunzip, harness, layers, repo_root, run,
    run_ok, text, Harness, Registry, TempDir,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USER: &str = "golb";
const REPO: &str = "golb-e2e/private";
const BUILDER_REPO: &str = "golb-e2e/golang-testca";
const MODULE_PATH: &str = "/golb.test/private/greeting/@v/";
const GREETING: &str = "hello from a private module";
/// The id of the module cache mount golb uses for every build; see docs/spec.md.
const MODULE_CACHE_ID: &str = "golb/gomodcache";
/// Its records, for `buildctl prune`/`du`.
const MODULE_CACHE_FILTER: &str = "type==exec.cachemount,description~=golb/gomodcache";

fn example() -> PathBuf {
    repo_root().join("examples/private")
}

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/goproxy")
}

/// The host's go command downloading the private module with a fresh module
/// cache; returns its output, whatever the exit status.
fn host_go_download(
    h: &Harness,
    dir: &Path,
    proxy: &GoProxy,
    netrc: &Path,
    ca: &Path,
    env: &[(&str, &str)],
) -> Output {
    let module = dir.join("module");
    let _ = std::fs::remove_dir_all(&module);
    copy_tree(&example(), &module);
    let cache = dir.join("gomodcache");
    let out = run(h
        .command("go")
        .current_dir(&module)
        .args(["mod", "download", "-x"])
        .env("GOMODCACHE", &cache)
        .env("GOPROXY", proxy.url())
        .env("GOPRIVATE", "golb.test/*")
        .env("GONOPROXY", "none")
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOAUTH", "netrc")
        .env("NETRC", netrc)
        .env("SSL_CERT_FILE", ca)
        .envs(env.iter().copied()));
    // The module cache is read-only by default; make it removable.
    let _ = Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&cache)
        .status();
    let _ = std::fs::remove_dir_all(&cache);
    out
}

/// What examples/private and docs/private-modules.md rely on, checked on the
/// host's Go: netrc credentials go only over HTTPS, the netrc `machine` must
/// name the port, and GOPRIVATE without GONOPROXY=none skips the proxy.
#[test]
fn host_go_sends_netrc_credentials_over_https_only_and_matches_host_and_port() {
    let h = harness();
    let token = goproxy::random_token();
    let dir = TempDir::new("private-host-go");
    let tls = GoProxy::start_tls(&fixture(), USER, &token).expect("HTTPS proxy");
    let http = GoProxy::start(&fixture(), USER, &token).expect("HTTP proxy");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls.ca_pem().unwrap()).unwrap();

    // HTTPS and `machine 127.0.0.1:PORT`: downloaded, with credentials from the first request.
    let netrc = dir.path().join("netrc");
    std::fs::write(
        &netrc,
        format!(
            "machine 127.0.0.1:{} login {USER} password {token}\n",
            tls.port()
        ),
    )
    .unwrap();
    let out = host_go_download(h, dir.path(), &tls, &netrc, &ca, &[]);
    assert!(
        out.status.success(),
        "go mod download over HTTPS with netrc:\n{}\n{}",
        text(&out),
        tls.describe()
    );
    assert_eq!(tls.rejected(), 0, "{}", tls.describe());
    assert!(
        tls.requests()
            .iter()
            .any(|r| r.path.ends_with("v1.0.0.zip") && r.status == 200),
        "{}",
        tls.describe()
    );

    // HTTPS and `machine 127.0.0.1` (no port): Go finds no credentials.
    tls.reset();
    let hostname_only = dir.path().join("netrc-hostname");
    std::fs::write(
        &hostname_only,
        format!("machine 127.0.0.1 login {USER} password {token}\n"),
    )
    .unwrap();
    let out = host_go_download(h, dir.path(), &tls, &hostname_only, &ca, &[]);
    assert!(
        !out.status.success() && text(&out).contains("401 Unauthorized"),
        "{}\n{}",
        text(&out),
        tls.describe()
    );
    assert!(
        tls.requests().iter().all(|r| r.auth == Auth::Missing),
        "{}",
        tls.describe()
    );

    // Plain HTTP with the right netrc: Go never sends it.
    std::fs::write(&netrc, goproxy::netrc(&http, USER, &token)).unwrap();
    let out = host_go_download(h, dir.path(), &http, &netrc, &ca, &[]);
    assert!(
        !out.status.success() && text(&out).contains("401 Unauthorized"),
        "{}\n{}",
        text(&out),
        http.describe()
    );
    assert!(
        http.rejected() > 0 && http.authenticated() == 0,
        "{}",
        http.describe()
    );
    assert!(
        http.requests().iter().all(|r| r.auth == Auth::Missing),
        "credentials sent over plain HTTP:\n{}",
        http.describe()
    );

    // GOPRIVATE alone is also GONOPROXY: Go goes to the VCS and never asks the proxy.
    tls.reset();
    std::fs::write(&netrc, goproxy::netrc(&tls, USER, &token)).unwrap();
    let out = host_go_download(h, dir.path(), &tls, &netrc, &ca, &[("GONOPROXY", "")]);
    assert!(
        !out.status.success(),
        "golb.test has no VCS; the download must fail:\n{}",
        text(&out)
    );
    assert!(
        tls.requests().is_empty(),
        "GOPRIVATE without GONOPROXY=none still used the proxy:\n{}",
        tls.describe()
    );
}

/// `buildx build -f golb.toml …` in `dir`; every run's output is kept for the
/// token search at the end.
struct Builds<'a> {
    h: &'a Harness,
    dir: PathBuf,
    logs: Vec<String>,
}

impl Builds<'_> {
    fn build(&mut self, extra: &[&str]) -> (bool, String) {
        let mut cmd = self.h.command("buildx");
        cmd.current_dir(&self.dir)
            .args(["build", "--progress=plain", "-f", "golb.toml"])
            .args(extra)
            .arg(".");
        let out = run(&mut cmd);
        let log = text(&out);
        self.logs.push(log.clone());
        (out.status.success(), log)
    }
}

/// Removes golb.test/private/greeting from golb's module cache mount (id
/// `golb/gomodcache`), so the next build downloads it instead of finding it
/// from an earlier run.
///
/// BuildKit can hold several records for one cache id (it makes a new one
/// when the others are locked), and a build joins the one in use, else the
/// first free one. So, first `buildctl prune` drops every record nobody
/// uses; BuildKit prunes no record in use, and on a shared daemon other
/// builds often are. Then a one-off build joins the mount as golb's builds
/// do and deletes only this module's directories. The Dockerfile frontend
/// names a cache mount `<BUILDKIT_CACHE_MOUNT_NS>/<id>`, hence `golb` +
/// `gomodcache`; the fixture golang image has no shell, so a Go program
/// deletes.
fn forget_private_module(h: &Harness, dir: &Path, logs: &mut Vec<String>) {
    logs.push(run_ok(h.command("buildctl").args([
        "prune",
        "--filter",
        MODULE_CACHE_FILTER,
    ])));

    std::fs::create_dir_all(dir).unwrap();
    // A fresh comment makes the step run again rather than come from cache.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::fs::write(
        dir.join("forget.go"),
        format!("{FORGET_GO}\n// run {}-{nonce}\n", std::process::id()),
    )
    .unwrap();
    let (namespace, id) = MODULE_CACHE_ID.split_once('/').expect("golb/gomodcache");
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY forget.go /forget.go\n\
             RUN --mount=type=cache,id={id},target=/go/pkg/mod,sharing=shared [\"go\", \"run\", \"/forget.go\"]\n",
            h.var("GOLB_GOLANG_IMAGE")
        ),
    )
    .unwrap();
    let log = run_ok(
        buildctl_dockerfile(h, dir)
            .arg("--opt")
            .arg(format!("build-arg:BUILDKIT_CACHE_MOUNT_NS={namespace}")),
    );
    assert!(
        log.contains("gone: /go/pkg/mod/cache/download/golb.test"),
        "{log}"
    );
    for line in log
        .lines()
        .filter(|l| l.contains("removing /go") || l.contains("gone: /go"))
    {
        eprintln!("forget: {line}");
    }
    logs.push(log);
}

/// Deletes the private module's extracted tree and its download cache.
const FORGET_GO: &str = r#"package main

import (
	"fmt"
	"os"
)

func main() {
	for _, dir := range []string{"/go/pkg/mod/golb.test", "/go/pkg/mod/cache/download/golb.test"} {
		if _, err := os.Stat(dir); err == nil {
			fmt.Println("removing", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("gone:", dir)
	}
}
"#;

#[test]
fn private_module_from_an_authenticated_goproxy_with_a_netrc_secret() {
    let h = harness();
    let token = goproxy::random_token();
    // What an Authorization header carrying the token looks like, searched for too.
    let basic = goproxy::base64(format!("{USER}:{token}").as_bytes());
    let proxy = GoProxy::start_tls(&fixture(), USER, &token).expect("the test GOPROXY starts");

    let work = TempDir::new("private");
    let context = work.path().join("context");
    copy_tree(&example(), &context);
    // The netrc lives outside the build context: only the secret carries it.
    let netrc = work.path().join("secrets/netrc");
    std::fs::create_dir_all(netrc.parent().unwrap()).unwrap();
    std::fs::write(&netrc, goproxy::netrc(&proxy, USER, &token)).unwrap();

    let mut logs = Vec::new();
    let (builder, log) = goproxy::builder_image_trusting(
        h,
        proxy.ca_pem().unwrap(),
        &work.path().join("builder"),
        BUILDER_REPO,
    );
    logs.push(log);
    let spec_path = context.join("golb.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    assert!(
        spec.contains("\n[builder]\n"),
        "examples/private/golb.toml has a [builder] table:\n{spec}"
    );
    let spec = spec.replacen(
        "\n[builder]\n",
        &format!("\n[builder]\nimage = \"{builder}\"\n"),
        1,
    );
    std::fs::write(&spec_path, &spec).unwrap();

    let mut builds = Builds {
        h,
        dir: context.clone(),
        logs,
    };
    let goproxy_arg = format!("GOPROXY={}", proxy.url());
    let image = format!("{}/{REPO}:test", h.registry());
    let push = format!("type=image,name={image},push=true");
    let secret = format!("id=netrc,src={}", netrc.display());

    // (a) No secret: the proxy refuses, the build fails and says why.
    forget_private_module(h, &work.path().join("forget"), &mut builds.logs);
    let (ok, log) = builds.build(&[
        "--build-arg",
        &goproxy_arg,
        "--provenance=false",
        "--output",
        &push,
    ]);
    assert!(!ok, "the build succeeded without credentials; is golb.test/private/greeting still cached?\n{log}\n{}", proxy.describe());
    assert!(
        log.contains("go mod download"),
        "the download step failed:\n{log}"
    );
    assert!(
        log.contains("401 Unauthorized"),
        "the 401 is in the build output:\n{log}"
    );
    assert!(
        proxy.rejected() > 0,
        "the proxy refused requests:\n{}",
        proxy.describe()
    );
    assert_eq!(proxy.authenticated(), 0, "{}", proxy.describe());
    assert!(
        proxy
            .requests()
            .iter()
            .all(|r| r.path.starts_with(MODULE_PATH)),
        "{}",
        proxy.describe()
    );
    eprintln!(
        "(a) without the secret, the proxy saw:\n{}",
        proxy.describe()
    );
    for line in log
        .lines()
        .filter(|l| l.contains("401") || l.starts_with("ERROR"))
    {
        eprintln!("(a) build output: {line}");
    }

    // (b) With the netrc secret: downloaded with credentials, built, pushed.
    proxy.reset();
    let (ok, log) = builds.build(&[
        "--secret",
        &secret,
        "--build-arg",
        &goproxy_arg,
        "--provenance=false",
        "--output",
        &push,
    ]);
    assert!(
        ok,
        "the build with the netrc secret failed:\n{log}\n{}",
        proxy.describe()
    );
    assert!(
        proxy.authenticated() >= 2,
        "the .mod and .zip were fetched with credentials:\n{}",
        proxy.describe()
    );
    assert_eq!(
        proxy.rejected(),
        0,
        "Go sent the credentials from the first request:\n{}",
        proxy.describe()
    );
    for file in ["v1.0.0.mod", "v1.0.0.zip"] {
        assert!(
            proxy
                .requests()
                .iter()
                .any(|r| r.path == format!("{MODULE_PATH}{file}")
                    && r.status == 200
                    && r.auth == Auth::Ok),
            "{file} was served:\n{}",
            proxy.describe()
        );
    }
    eprintln!(
        "(b) with the netrc secret, the proxy saw:\n{}",
        proxy.describe()
    );

    // (c) The binary: exported with the same command and run here.
    let out = work.path().join("out");
    let (ok, log) = builds.build(&[
        "--secret",
        &secret,
        "--build-arg",
        &goproxy_arg,
        "--output",
        &format!("type=local,dest={}", out.display()),
    ]);
    assert!(ok, "{log}");
    let binary = out.join("usr/local/bin/server");
    assert_eq!(
        run_ok(Command::new(&binary).arg("-version")).trim(),
        "private 1.0.0"
    );
    assert_eq!(run_ok(Command::new(&binary).arg("-greet")).trim(), GREETING);

    // (d) The token is in no build log, no pushed blob, no exported file.
    for (i, log) in builds.logs.iter().enumerate() {
        assert!(
            !log.contains(&token) && !log.contains(&basic),
            "build log {i} holds the token:\n{log}"
        );
    }
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, "test");
    assert!(!manifest.to_string().contains(&token));
    let config_digest = manifest
        .pointer("/config/digest")
        .and_then(|d| d.as_str())
        .expect("config digest");
    let config = registry.blob(REPO, config_digest);
    assert!(
        !contains(&config, token.as_bytes()) && !contains(&config, basic.as_bytes()),
        "the image config holds the token"
    );
    let scratch = work.path().join("layer.gz");
    let digests = layers(&manifest);
    assert!(!digests.is_empty());
    for digest in &digests {
        let tar = gunzip(&registry.blob(REPO, digest), &scratch);
        assert!(
            !contains(&tar, token.as_bytes()) && !contains(&tar, basic.as_bytes()),
            "layer {digest} holds the token"
        );
    }
    let exported = files_under(&out);
    assert!(exported.contains(&binary));
    for file in exported {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, token.as_bytes()),
            "{} holds the token",
            file.display()
        );
    }
    // The last layer is golb's and holds the binary built from the private module.
    let tar = gunzip(&registry.blob(REPO, digests.last().unwrap()), &scratch);
    assert!(
        contains(&tar, GREETING.as_bytes()),
        "the greeting is compiled into golb's layer"
    );
}
