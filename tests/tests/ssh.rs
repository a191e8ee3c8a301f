//! `[modules] ssh` end to end: a Go service whose dependency lives only in a
//! git repository reachable over SSH, built the way users build it:
//!
//! ```sh
//! eval "$(ssh-agent)" && ssh-add ~/.ssh/id_ed25519
//! buildx build -f golb.toml --ssh default .
//! ```
//!
//! The git host is tests/src/gitsshd.rs on 127.0.0.1 and a free port (build
//! steps use host networking in the harness). It has a host key and accepts
//! one client key, both made with ssh-keygen for this run; the client key is
//! only ever in an ssh-agent started here.
//!
//! The module is `github.com/acme/greeting-<run>`, fetched exactly as the
//! documented `ssh = ["github.com/acme"]` fetches a real one: Go knows
//! github.com's repository layout (no `?go-get=1` lookup), runs
//! `git ls-remote https://github.com/acme/…`, golb's insteadOf turns that
//! into `ssh://git@github.com/acme/…`, and the builder's ssh_config sends
//! github.com to the test server, which is the only thing that is not real.
//! (A `.git`-qualified path on another host works too, but Go then probes
//! schemes and reports only `no secure protocol found for repository`,
//! hiding ssh's own message.) The `-<run>` suffix keeps the daemon's shared
//! module cache from already holding the module.
//!
//! The harness's golang fixture has no git, ssh or shell, so the test builds
//! a builder image as a company would: `golang:1.26` plus git, ssh and sh
//! copied from the host with their libraries, and an /etc/ssh/ssh_config
//! entry that sends github.com to 127.0.0.1 and the server's port (how any
//! user reaches a git host on a non-standard port).
//!
//! What it proves: the host's Go fetches the module through golb's git
//! settings (the insteadOf rewrite and the strict ssh command) and writes
//! go.sum; `--call check` warns about `ssh` without `known_hosts`; without
//! `--ssh default` the build fails with ssh's own refusal; with a wrong
//! `known_hosts` line it fails host key verification; with both right the
//! image builds, its binary prints the private module's greeting, and the
//! private key is in no log, layer, config or exported file.
//!
//! Rerun with `cargo test -p golb-e2e --test ssh` (see docs/private-modules.md).

use golb_e2e::gitsshd::GitSshd;
use golb_e2e::{
    buildctl_dockerfile, buildx_golb, contains, files_under, gunzip, harness, layers, run, run_ok,
    text, Harness, Registry, TempDir, DEFAULT_FRONTEND,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;

const HOST: &str = "github.com";
const REPO: &str = "golb-e2e/ssh";
const BUILDER_REPO: &str = "golb-e2e/golang-git-ssh";
const GREETING: &str = "hello over ssh from a private module";

/// `ssh-keygen -t ed25519` without a passphrase; returns the private key's path.
fn keygen(path: &Path, comment: &str) -> PathBuf {
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
            .arg(path),
    );
    path.to_path_buf()
}

/// An ssh-agent holding one key, as a user's is; killed when dropped.
struct Agent {
    child: Child,
    socket: PathBuf,
}

impl Agent {
    fn start(dir: &Path, key: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("ssh-agent: {e}"));
        let agent = Agent { child, socket };
        for _ in 0..100 {
            if agent.socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        run_ok(
            Command::new("ssh-add")
                .arg(key)
                .env("SSH_AUTH_SOCK", &agent.socket),
        );
        agent
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare repository `<root>/acme/<name>.git` holding a Go module tagged
/// v1.0.0, made with the host's git.
fn make_repository(root: &Path, work: &Path, name: &str, module: &str) {
    std::fs::create_dir_all(work).unwrap();
    std::fs::write(work.join("go.mod"), format!("module {module}\n\ngo 1.21\n")).unwrap();
    std::fs::write(
        work.join("greeting.go"),
        format!(
            "// Package greeting is served only by the test's git host over SSH.\npackage greeting\n\n\
             // Hello is what the service prints.\nfunc Hello() string {{ return {GREETING:?} }}\n"
        ),
    )
    .unwrap();
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .current_dir(work)
                .args([
                    "-c",
                    "user.name=golb test",
                    "-c",
                    "user.email=test@golb.test",
                ])
                .args(args),
        )
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "greeting"]);
    git(&["tag", "v1.0.0"]);
    let bare = root.join("acme").join(format!("{name}.git"));
    run_ok(
        Command::new("git")
            .args(["clone", "-q", "--bare"])
            .arg(work)
            .arg(&bare),
    );
}

/// What golb sets in the download step for `ssh = ["github.com/acme"]`
/// with known_hosts, for the host's Go: the insteadOf rewrite and a strict
/// ssh command, plus an ssh config that maps the host name (the builder
/// image carries the same lines in /etc/ssh/ssh_config).
fn host_git_env(ssh_config: &Path, known_hosts: &Path) -> Vec<(String, String)> {
    vec![
        ("GIT_CONFIG_COUNT".into(), "1".into()),
        (
            "GIT_CONFIG_KEY_0".into(),
            format!("url.ssh://git@{HOST}/acme/.insteadOf"),
        ),
        ("GIT_CONFIG_VALUE_0".into(), format!("https://{HOST}/acme/")),
        (
            "GIT_SSH_COMMAND".into(),
            format!(
                "ssh -F {} -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes",
                ssh_config.display(),
                known_hosts.display()
            ),
        ),
    ]
}

fn ssh_config(port: u16) -> String {
    format!("Host {HOST}\n    HostName 127.0.0.1\n    Port {port}\n")
}

/// The files of a binary and its libraries as `ldd` names them, plus sh (git
/// runs a GIT_SSH_COMMAND with spaces through /bin/sh).
fn copy_with_libraries(rootfs: &Path, binary: &str, into: &str) {
    let put = |from: &Path, to: &str| {
        let dest = rootfs.join(to.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        // fs::copy follows symlinks: the image gets the library itself.
        std::fs::copy(from, &dest)
            .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), dest.display()));
    };
    put(Path::new(binary), into);
    let ldd = run_ok(Command::new("ldd").arg(binary));
    for line in ldd.lines() {
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/')),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            put(Path::new(path), path);
        }
    }
}

/// `golang:1.26` (the harness fixture) plus git, ssh and sh from the host, and
/// an ssh_config entry for the test host; pushed to the harness registry.
fn builder_image_with_git_and_ssh(
    h: &Harness,
    dir: &Path,
    port: u16,
    logs: &mut Vec<String>,
) -> String {
    let rootfs = dir.join("rootfs");
    let git = String::from_utf8_lossy(&run(Command::new("which").arg("git")).stdout)
        .trim()
        .to_string();
    let ssh = String::from_utf8_lossy(&run(Command::new("which").arg("ssh")).stdout)
        .trim()
        .to_string();
    assert!(
        !git.is_empty() && !ssh.is_empty(),
        "the host needs git and ssh (scripts/harness installs them)"
    );
    copy_with_libraries(&rootfs, &git, "/usr/bin/git");
    copy_with_libraries(&rootfs, &ssh, "/usr/bin/ssh");
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    copy_with_libraries(&rootfs, &sh.to_string_lossy(), "/bin/sh");
    // git runs its own subcommands (index-pack, …) from its exec path.
    std::fs::create_dir_all(rootfs.join("usr/lib/git-core")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/git", rootfs.join("usr/lib/git-core/git")).unwrap();
    std::fs::create_dir_all(rootfs.join("etc/ssh")).unwrap();
    std::fs::write(rootfs.join("etc/ssh/ssh_config"), ssh_config(port)).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {}\nCOPY rootfs/ /\n", h.var("GOLB_GOLANG_IMAGE")),
    )
    .unwrap();
    let name = format!("{}/{BUILDER_REPO}:test", h.registry());
    logs.push(run_ok(
        buildctl_dockerfile(h, dir)
            .args(["--output", &format!("type=image,name={name},push=true")]),
    ));
    name
}

fn spec(builder: &str, known_hosts: Option<&str>) -> String {
    // The first line a user writes; another checkout's harness overrides it
    // with BUILDKIT_SYNTAX (tests/src/lib.rs).
    let mut spec = format!(
        "# syntax={DEFAULT_FRONTEND}\n[builder]\nimage = \"{builder}\"\n\n[[binary]]\npackage = \".\"\nname = \"server\"\n\n\
         [modules]\nprivate = \"{HOST}/acme\"\nssh = [\"{HOST}/acme\"]\n"
    );
    if let Some(line) = known_hosts {
        spec.push_str(&format!("known_hosts = [\"{line}\"]\n"));
    }
    spec
}

#[test]
fn private_module_over_ssh_with_the_agent_and_known_hosts() {
    let h = harness();
    let work = TempDir::new("ssh");
    let keys = work.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let host_key = keygen(&keys.join("host"), "golb-e2e-host");
    let user_key = keygen(&keys.join("user"), "golb-e2e-user");
    let private_key = std::fs::read_to_string(&user_key).unwrap();
    // The key's body lines, each long and random enough to be found only if leaked.
    let secret_lines: Vec<&str> = private_key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 40)
        .collect();
    assert!(!secret_lines.is_empty(), "{private_key}");

    let repos = work.path().join("repos");
    let server =
        GitSshd::start(&repos, &host_key, &keys.join("user.pub")).expect("the git server starts");
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let name = format!("greeting-{run_id}");
    let module = format!("{HOST}/acme/{name}");
    make_repository(&repos, &work.path().join("greeting"), &name, &module);

    let context = work.path().join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(
        context.join("go.mod"),
        format!("module example.com/sshdemo\n\ngo 1.21\n\nrequire {module} v1.0.0\n"),
    )
    .unwrap();
    std::fs::write(
        context.join("main.go"),
        format!(
            "package main\n\nimport (\n\t\"fmt\"\n\n\tgreeting \"{module}\"\n)\n\nfunc main() {{ fmt.Println(greeting.Hello()) }}\n"
        ),
    )
    .unwrap();
    let agent = Agent::start(work.path(), &user_key);

    // (0) The host's Go, with golb's git settings, fetches the module over SSH and writes go.sum.
    let ssh_config_file = work.path().join("ssh_config");
    std::fs::write(&ssh_config_file, ssh_config(server.port())).unwrap();
    let known_hosts_file = work.path().join("known_hosts");
    std::fs::write(
        &known_hosts_file,
        format!("{}\n", server.known_hosts_line()),
    )
    .unwrap();
    let cache = work.path().join("gomodcache");
    let out = run(h
        .command("go")
        .current_dir(&context)
        .args(["mod", "tidy"])
        .env("GOMODCACHE", &cache)
        .env("GOPRIVATE", format!("{HOST}/acme"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("SSH_AUTH_SOCK", &agent.socket)
        .envs(host_git_env(&ssh_config_file, &known_hosts_file)));
    let _ = Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&cache)
        .status();
    let _ = std::fs::remove_dir_all(&cache);
    assert!(
        out.status.success(),
        "host go mod tidy over ssh:\n{}\n{}",
        text(&out),
        server.describe()
    );
    let go_sum = std::fs::read_to_string(context.join("go.sum")).unwrap_or_default();
    assert!(go_sum.contains(&format!("{module} v1.0.0 h1:")), "{go_sum}");
    assert!(
        server.counts().upload_packs.load(Ordering::SeqCst) > 0,
        "{}",
        server.describe()
    );
    eprintln!("(0) host go mod tidy: {}", server.describe());

    let mut logs = Vec::new();
    let builder =
        builder_image_with_git_and_ssh(h, &work.path().join("builder"), server.port(), &mut logs);
    let spec_path = context.join("golb.toml");
    let ssh_arg = ["--ssh", "default"];
    let image = format!("{}/{REPO}:test", h.registry());
    let push = format!("type=image,name={image},push=true");
    let build = |extra: &[&str], logs: &mut Vec<String>| -> (bool, String) {
        let out = run(buildx_golb(h, &context, extra).env("SSH_AUTH_SOCK", &agent.socket));
        let log = text(&out);
        logs.push(log.clone());
        (out.status.success(), log)
    };

    // (1) `ssh` without known_hosts: --call check says so, at the ssh line.
    std::fs::write(&spec_path, spec(&builder, None)).unwrap();
    let (_, log) = build(&["--call", "check"], &mut logs);
    assert!(log.contains("SshWithoutKnownHosts"), "{log}");
    assert!(log.contains("ssh-keyscan github.com"), "{log}");

    // (2) No --ssh: the step has no agent, and ssh's refusal is in the output.
    std::fs::write(&spec_path, spec(&builder, Some(&server.known_hosts_line()))).unwrap();
    let authenticated = server.counts().authenticated.load(Ordering::SeqCst);
    let (ok, log) = build(&["--provenance=false", "--output", &push], &mut logs);
    assert!(
        !ok,
        "built without the agent:\n{log}\n{}",
        server.describe()
    );
    assert!(log.contains("go mod download"), "{log}");
    assert!(
        log.contains("Permission denied (publickey)"),
        "{log}\n{}",
        server.describe()
    );
    assert_eq!(
        server.counts().authenticated.load(Ordering::SeqCst),
        authenticated,
        "{}",
        server.describe()
    );
    for line in log
        .lines()
        .filter(|l| l.contains("Permission denied") || l.starts_with("ERROR"))
    {
        eprintln!("(2) without --ssh: {line}");
    }

    // (3) A known_hosts line with another key for the host: ssh refuses the server.
    let wrong_key = std::fs::read_to_string(keys.join("user.pub")).unwrap();
    let wrong_key: Vec<&str> = wrong_key.split_whitespace().take(2).collect();
    let wrong = format!("[127.0.0.1]:{} {}", server.port(), wrong_key.join(" "));
    std::fs::write(&spec_path, spec(&builder, Some(&wrong))).unwrap();
    let (ok, log) = build(
        &[&ssh_arg[..], &["--provenance=false", "--output", &push]].concat(),
        &mut logs,
    );
    assert!(!ok, "built with a wrong host key:\n{log}");
    assert!(log.contains("Host key verification failed"), "{log}");
    for line in log
        .lines()
        .filter(|l| l.contains("Host key") || l.starts_with("ERROR"))
    {
        eprintln!("(3) wrong known_hosts: {line}");
    }

    // (4) The agent and the right known_hosts: built, pushed, and the binary runs.
    std::fs::write(&spec_path, spec(&builder, Some(&server.known_hosts_line()))).unwrap();
    let before = server.counts().upload_packs.load(Ordering::SeqCst);
    let (ok, log) = build(
        &[&ssh_arg[..], &["--provenance=false", "--output", &push]].concat(),
        &mut logs,
    );
    assert!(
        ok,
        "the build with --ssh default failed:\n{log}\n{}",
        server.describe()
    );
    assert!(
        server.counts().upload_packs.load(Ordering::SeqCst) > before,
        "the download step fetched from the git server: {}",
        server.describe()
    );
    eprintln!("(4) with --ssh default: {}", server.describe());
    let out_dir = work.path().join("out");
    let (ok, log) = build(
        &[
            &ssh_arg[..],
            &[
                "--output",
                &format!("type=local,dest={}", out_dir.display()),
            ],
        ]
        .concat(),
        &mut logs,
    );
    assert!(ok, "{log}");
    let binary = out_dir.join("usr/local/bin/server");
    assert_eq!(run_ok(&mut Command::new(&binary)).trim(), GREETING);

    // (5) The private key is in no build log, no pushed blob, no exported file.
    let leaks = |bytes: &[u8]| secret_lines.iter().any(|l| contains(bytes, l.as_bytes()));
    for (i, log) in logs.iter().enumerate() {
        assert!(
            !leaks(log.as_bytes()),
            "log {i} holds the private key:\n{log}"
        );
    }
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(REPO, "test");
    let config = registry.config(REPO, &manifest);
    assert!(
        !leaks(config.to_string().as_bytes()),
        "the config holds the private key"
    );
    let scratch = work.path().join("layer.gz");
    let digests = layers(&manifest);
    for digest in &digests {
        let tar = gunzip(&registry.blob(REPO, digest), &scratch);
        assert!(!leaks(&tar), "layer {digest} holds the private key");
    }
    let last = gunzip(
        &registry.blob(REPO, digests.last().expect("layers")),
        &scratch,
    );
    assert!(
        contains(&last, GREETING.as_bytes()),
        "golb's layer holds the binary built from the private module"
    );
    for file in files_under(&out_dir) {
        assert!(
            !leaks(&std::fs::read(&file).unwrap()),
            "{} holds the private key",
            file.display()
        );
    }
    drop(agent);
}
