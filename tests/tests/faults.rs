//! Faults around a golb build, each on a daemon of the test's own
//! (`TempDaemon`), so killing and restarting disturbs no other test:
//! a build cancelled while Go compiles, buildkitd restarted between
//! builds (on the daemon the cancel test leaves warm), the registry gone, and the gateway stream cut by killing the
//! frontend mid-build. After each, the daemon answers, no container is left
//! running, and the next build succeeds.
//!
//! Rerun: `cargo test -p golb-e2e --test faults -- --test-threads=1`.

use golb_e2e::{
    example_dir, harness, run, run_ok, step_cached, steps_named, text, ExampleCopy, TempDaemon,
    TempDir,
};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The step that compiles the standard library and dependencies: the
/// longest Go step of a cold build.
const COMPILE: &str = "[golb] compile the standard library and dependencies";

/// A build running in the background, its progress going to a file.
struct Running {
    child: Child,
    log: std::path::PathBuf,
}

impl Running {
    fn start(mut cmd: Command, log: &Path) -> Running {
        let file = std::fs::File::create(log).expect("progress log");
        let child = cmd
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .expect("buildx starts");
        Running {
            child,
            log: log.to_path_buf(),
        }
    }

    fn progress(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Waits until Go has compiled for 5 s: plain progress prints a step's
    /// header when it starts, and the compile of the standard library and the
    /// dependencies prints nothing while it runs (minutes here, cold).
    fn wait_for_compile(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(300);
        while steps_named(&self.progress(), COMPILE).is_empty() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the build ended ({status}) before Go compiled:\n{}",
                    self.progress()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the compile did not start within 300 s:\n{}",
                self.progress()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(5));
        let progress = self.progress();
        let step = steps_named(&progress, COMPILE);
        assert!(
            self.child.try_wait().ok().flatten().is_none()
                && !step
                    .iter()
                    .any(|id| progress.contains(&format!("{id} DONE"))),
            "the compile ended within 5 s; nothing left to interrupt:\n{progress}"
        );
    }

    fn signal(&self, signal: &str) {
        run_ok(Command::new("kill").args([signal, &self.child.id().to_string()]));
    }

    fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().expect("buildx ends");
        (status.success(), self.progress())
    }
}

impl Drop for Running {
    /// A test that fails midway must not leave its build running while its
    /// daemon is stopped: a daemon stopped mid-exec leaves runc state and
    /// mounts behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The daemon answers, and within 30 s no container of it is left running.
fn assert_healthy(daemon: &TempDaemon, what: &str) {
    run_ok(daemon.buildctl().args(["debug", "workers"]));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = daemon.containers();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: containers still running 30 s later: {left:?}\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    run_ok(daemon.buildctl().args(["du"]));
}

fn build_log(test: &str) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(test);
    let log = dir.path().join("progress.log");
    (dir, log)
}

#[test]
fn a_build_cancelled_while_go_compiles_leaves_the_daemon_healthy_and_its_caches_usable() {
    let h = harness();
    let mut daemon = TempDaemon::start(h, "fault-cancel");
    let (_dir, log) = build_log("fault-cancel-log");
    let ex = example_dir("hello");

    let mut first = Running::start(daemon.buildx_golb(h, &ex, &[]), &log);
    first.wait_for_compile();
    let cancelled_at = Instant::now();
    // What a user's Ctrl-C sends buildx.
    first.signal("-INT");
    let (ok, progress) = first.wait();
    assert!(!ok, "the cancelled build fails:\n{progress}");
    assert_healthy(&daemon, "after the cancel");
    println!(
        "cancel: daemon clean {:.1} s after the interrupt",
        cancelled_at.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let progress = run_ok(&mut daemon.buildx_golb(h, &ex, &[]));
    println!(
        "cancel: the next build took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The builder image and the context were kept: not fetched again.
    let builder = steps_named(&progress, "library/golang:1.26");
    assert!(
        builder.iter().any(|id| step_cached(&progress, id))
            || !progress.contains("extracting sha256"),
        "the builder image is reused, not pulled again:\n{progress}"
    );
    assert_healthy(&daemon, "after the next build");

    // buildkitd restarted between builds keeps golb's caches. The build
    // before the restart is the one that just succeeded: a second cold build
    // on a daemon of its own would only cost CI a few minutes more.
    buildkitd_restarted_keeps_golbs_caches(&mut daemon, &ex);
}

/// Restarts `daemon`, which has just built `ex`, and builds `ex` again: the
/// build must succeed with every `go build` step CACHED.
fn buildkitd_restarted_keeps_golbs_caches(daemon: &mut TempDaemon, ex: &Path) {
    let h = harness();
    daemon.restart();
    let progress = run_ok(&mut daemon.buildx_golb(h, ex, &[]));
    let go_build = steps_named(&progress, "[golb] go build");
    assert!(
        !go_build.is_empty() && go_build.iter().all(|id| step_cached(&progress, id)),
        "the restarted daemon still has the build cached:\n{progress}"
    );
    assert_healthy(daemon, "after the restart");
}

/// A registry of the test's own on 127.0.0.1:PORT (Debian's docker-registry,
/// as the harness runs), stopped when dropped.
struct OwnRegistry {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl OwnRegistry {
    fn start(test: &str) -> OwnRegistry {
        let dir = TempDir::new(test);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let config = dir.path().join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts (scripts/harness installs it)");
        let registry = OwnRegistry {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while run(Command::new("curl").args(["-fs", &format!("http://127.0.0.1:{port}/v2/")]))
            .status
            .success()
            .then_some(())
            .is_none()
        {
            assert!(Instant::now() < deadline, "the registry did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_unavailable_registry_is_an_error_naming_the_image() {
    let h = harness();
    let registry = OwnRegistry::start("fault-registry");
    let host = registry.host();
    let daemon = TempDaemon::start_with_config(
        h,
        "fault-registry-daemon",
        &format!("[registry.\"{host}\"]\n  http = true\n  insecure = true\n"),
    );
    // The runtime base, copied into the test's registry.
    let base = format!("{host}/distroless/static:nonroot");
    let copy = TempDir::new("fault-registry-copy");
    std::fs::write(
        copy.path().join("Dockerfile"),
        format!("FROM {}\n", h.var("GOLB_DISTROLESS_IMAGE")),
    )
    .expect("Dockerfile");
    run_ok(
        golb_e2e::buildctl_dockerfile(h, copy.path())
            .env("BUILDKIT_HOST", daemon.addr())
            .args(["--output", &format!("type=image,name={base},push=true")]),
    );
    // The control: while the registry is up, the daemon resolves the base
    // from it (its config reaches this registry). A golb build would prove
    // the same with a cold Go compile (about 45 CPU s on 2 cores) that has
    // nothing to do with the fault.
    std::fs::write(copy.path().join("Dockerfile"), format!("FROM {base}\n")).expect("Dockerfile");
    let resolved =
        run_ok(golb_e2e::buildctl_dockerfile(h, copy.path()).env("BUILDKIT_HOST", daemon.addr()));
    assert!(
        resolved.contains(&format!("load metadata for {base}")),
        "the daemon resolved the base from the test's registry:\n{resolved}"
    );
    let ex = ExampleCopy::new("hello", "fault-registry-spec");
    ex.replace(
        "golb.toml",
        "[runtime]\n",
        &format!("[runtime]\nbase = \"{base}\"\n"),
    );

    drop(registry);
    let out = run(&mut daemon.buildx_golb(h, ex.path(), &["--pull"]));
    let printed = text(&out);
    assert!(!out.status.success(), "no registry, no base:\n{printed}");
    assert!(
        printed.contains(&format!("{host}/distroless/static:nonroot"))
            && printed.contains("connection refused"),
        "the error names the image and why:\n{printed}"
    );
    let error = printed
        .lines()
        .find(|l| l.starts_with("ERROR"))
        .unwrap_or("");
    println!("registry gone: buildx printed {error:?}");
    assert_healthy(&daemon, "after the failed resolve");
}

/// The pids of processes below `ancestor` whose command line starts with `program`.
fn descendants_running(ancestor: u32, program: &str) -> Vec<u32> {
    let parent_of = |pid: u32| -> Option<u32> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|p| p.trim().parse().ok())
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !cmdline.starts_with(program.as_bytes()) {
            continue;
        }
        let mut at = pid;
        while let Some(parent) = parent_of(at) {
            if parent == ancestor {
                found.push(pid);
                break;
            }
            if parent <= 1 {
                break;
            }
            at = parent;
        }
    }
    found
}

#[test]
fn the_gateway_stream_closing_mid_build_fails_the_build_cleanly() {
    let h = harness();
    let daemon = TempDaemon::start(h, "fault-frontend");
    let (_dir, log) = build_log("fault-frontend-log");
    // golb's solves are lazy: the frontend returns before go build runs. It
    // is alive while it reads the context, so make the context slow to send.
    let ex = ExampleCopy::new("hello", "fault-frontend-context");
    let mut block = vec![0u8; 4 << 20];
    for i in 0..64u32 {
        // Different content per file, so nothing is deduplicated.
        block[..4].copy_from_slice(&i.to_le_bytes());
        ex.write(&format!("data/{i}.bin"), &block);
    }

    let first = Running::start(daemon.buildx_golb(h, ex.path(), &[]), &log);
    let deadline = Instant::now() + Duration::from_secs(120);
    let frontends = loop {
        let found = descendants_running(daemon.pid(), "/golb");
        if !found.is_empty() && first.progress().contains("load build context") {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the golb frontend never ran below the daemon:\n{}",
            first.progress()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Killed while it waits on BuildKit: the gateway stream closes before a Return.
    for pid in &frontends {
        run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    }
    let (ok, progress) = first.wait();
    assert!(!ok, "a build whose frontend died fails:\n{progress}");
    let error = progress
        .lines()
        .find(|l| l.starts_with("ERROR"))
        .unwrap_or_else(|| panic!("buildx says why:\n{progress}"));
    println!("frontend killed: buildx printed {error:?}");
    assert_healthy(&daemon, "after the frontend died");
    run_ok(&mut daemon.buildx_golb(h, ex.path(), &[]));
    assert_healthy(&daemon, "after the next build");
}
