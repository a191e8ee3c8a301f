//! The end-to-end harness as tests see it: the real BuildKit, buildx and
//! registry that `scripts/harness up` started, reached through the commands
//! users type. Nothing here is mocked; a test that cannot reach them fails.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub mod elf;
pub mod gitsshd;
pub mod goproxy;
pub mod registries;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// What `scripts/harness up` wrote to `target/harness/env`.
pub struct Harness {
    pub vars: BTreeMap<String, String>,
}

/// The harness, read once. Panics with the fix when it is not up: e2e tests
/// never skip silently.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let path = repo_root().join("target/harness/env");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run `scripts/harness up` first", path.display()));
        let vars = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("export "))
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), expand_path(&unquote(v))))
            .collect();
        Harness { vars }
    })
}

/// The env file extends the caller's PATH (`…:$PATH`); expand it as a shell would.
fn expand_path(v: &str) -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    v.replace("${PATH}", &path).replace("$PATH", &path)
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let stripped = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')));
    stripped.unwrap_or(v).to_string()
}

impl Harness {
    pub fn var(&self, name: &str) -> &str {
        self.vars
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("target/harness/env has no {name}"))
    }

    pub fn registry(&self) -> &str {
        self.var("GOLB_REGISTRY")
    }

    pub fn frontend(&self) -> &str {
        self.var("GOLB_FRONTEND")
    }

    /// A command with the harness environment (BUILDKIT_HOST, BUILDX_CONFIG, PATH…).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// The golb binary the frontend image was built from.
    pub fn golb_binary(&self) -> PathBuf {
        let path = repo_root().join("target/x86_64-unknown-linux-gnu/release/golb");
        assert!(
            path.is_file(),
            "{} is missing; `scripts/harness up` builds it",
            path.display()
        );
        path
    }
}

/// Runs a command and returns its output, whatever its exit status.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns stdout and stderr joined.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{text}",
        out.status
    );
    text
}

/// A scratch directory under target/, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = repo_root()
            .join("target/e2e")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a directory tree (an example) so a test can edit it.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        }
    }
}

/// What a command printed: stdout, then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Step numbers (`#7`) of `--progress=plain` lines whose name contains
/// `needle`, each once.
pub fn steps_named(log: &str, needle: &str) -> Vec<String> {
    let mut ids: Vec<String> = log
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with('#'))
        .map(String::from)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether a step named `needle` did its work in this build. A step that
/// did not is either marked CACHED, or, when a later step needs its result
/// from an imported cache, shows only that result's download (`sha256:…`
/// and `extracting` lines) and no output of its own, or, when a later step
/// was found in the cache first, is CANCELED with no output: BuildKit had
/// begun loading its result and dropped it as unneeded (a successful build
/// cancels only what it does not need). A step's own output is not
/// required: on a loaded machine BuildKit sometimes drops the log lines a
/// step prints just before it ends.
pub fn executed(log: &str, needle: &str) -> bool {
    let ids = steps_named(log, needle);
    assert!(!ids.is_empty(), "no step {needle:?} in:\n{log}");
    ids.iter().any(|id| !step_skipped(log, id))
}

fn step_skipped(log: &str, id: &str) -> bool {
    let prefix = format!("{id} ");
    let mut downloaded = false;
    let mut printed = false;
    let mut canceled = false;
    for rest in log.lines().filter_map(|l| l.strip_prefix(&prefix)) {
        let first = rest.split_whitespace().next().unwrap_or("");
        downloaded |= first.starts_with("sha256:") || first == "extracting";
        printed |= first.parse::<f64>().is_ok();
        canceled |= rest.trim() == "CANCELED";
    }
    step_cached(log, id) || (downloaded && !printed) || (canceled && !printed)
}

/// Whether `--progress=plain` output says step `id` was CACHED.
pub fn step_cached(log: &str, id: &str) -> bool {
    log.lines().any(|l| l.trim() == format!("{id} CACHED"))
}

/// Whether `needle` occurs in `haystack` (a secret in a layer or a log).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A gzip blob (an image layer) uncompressed, through `scratch` on disk.
pub fn gunzip(bytes: &[u8], scratch: &Path) -> Vec<u8> {
    std::fs::write(scratch, bytes).unwrap_or_else(|e| panic!("{}: {e}", scratch.display()));
    let out = run(Command::new("gzip").arg("-dc").arg(scratch));
    assert!(
        out.status.success(),
        "gzip -dc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every regular file below `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.expect("directory entry");
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            files.extend(files_under(&entry.path()));
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    files
}

/// A copy of `examples/<name>` that one test edits, removed when dropped.
pub struct ExampleCopy(TempDir);

impl ExampleCopy {
    pub fn new(example: &str, test: &str) -> ExampleCopy {
        let dir = TempDir::new(test);
        copy_tree(&example_dir(example), dir.path());
        ExampleCopy(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Replaces `from` with `to` in `file`. Panics when `from` is not there,
    /// so a test cannot pass on an example that changed under it.
    pub fn replace(&self, file: &str, from: &str, to: &str) -> &Self {
        let path = self.path().join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.contains(from), "{file} has no {from:?}:\n{text}");
        std::fs::write(&path, text.replace(from, to))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self
    }

    /// Writes `file`, creating its directory.
    pub fn write(&self, file: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self
    }
}

/// Runs a command that must fail; returns what it printed (stdout, then stderr).
pub fn run_fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "{cmd:?} was expected to fail:\n{printed}"
    );
    printed
}

/// The registry's HTTP API, read with curl (as any client would).
pub struct Registry<'a> {
    pub host: &'a str,
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

impl Registry<'_> {
    fn get(&self, path: &str, accept: Option<&str>) -> Vec<u8> {
        let url = format!("http://{}/v2/{path}", self.host);
        let mut cmd = Command::new("curl");
        cmd.args(["-fsSL", &url]);
        if let Some(accept) = accept {
            cmd.args(["-H", &format!("Accept: {accept}")]);
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "GET {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A manifest by tag or digest; an index is resolved to its linux/amd64 entry.
    pub fn manifest(&self, repo: &str, reference: &str) -> Value {
        let manifest: Value = serde_json::from_slice(&self.get(
            &format!("{repo}/manifests/{reference}"),
            Some(MANIFEST_TYPES),
        ))
        .expect("manifest JSON");
        match manifest.get("manifests").and_then(Value::as_array) {
            Some(entries) => {
                let amd64 = entries
                    .iter()
                    .find(|m| m.pointer("/platform/architecture") == Some(&Value::from("amd64")))
                    .unwrap_or_else(|| panic!("no amd64 manifest in {manifest}"));
                let digest = amd64["digest"].as_str().expect("digest");
                self.manifest(repo, digest)
            }
            None => manifest,
        }
    }

    /// A manifest or index by tag or digest, as the registry serves it
    /// (an index is not resolved to one platform).
    pub fn raw_manifest(&self, repo: &str, reference: &str) -> Value {
        serde_json::from_slice(&self.get(
            &format!("{repo}/manifests/{reference}"),
            Some(MANIFEST_TYPES),
        ))
        .expect("manifest JSON")
    }

    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        self.get(&format!("{repo}/blobs/{digest}"), None)
    }

    /// The image config of a manifest.
    pub fn config(&self, repo: &str, manifest: &Value) -> Value {
        let digest = manifest
            .pointer("/config/digest")
            .and_then(Value::as_str)
            .expect("config digest");
        serde_json::from_slice(&self.blob(repo, digest)).expect("config JSON")
    }
}

/// The layer digests of a manifest.
pub fn layers(manifest: &Value) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .filter_map(|l| l["digest"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The image the examples' `# syntax=` lines name.
pub const DEFAULT_FRONTEND: &str = "127.0.0.1:5000/golb:dev";

/// `examples/<name>`.
pub fn example_dir(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

/// `buildx build -f golb.toml <extra> .` in `dir`, as users run golb (through
/// the spec's `# syntax=` line), with the harness environment. Progress is
/// plain text (tests read step names from it) unless `extra` says otherwise.
pub fn buildx_golb(h: &Harness, dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = h.command("buildx");
    cmd.current_dir(dir)
        .args(["build", "--progress=plain", "-f", "golb.toml"]);
    // A harness of another checkout pushes golb under its own tag (see
    // scripts/harness): point the spec's `# syntax=` at it, as users do with
    // BUILDKIT_SYNTAX.
    if h.frontend() != DEFAULT_FRONTEND {
        cmd.arg("--build-arg")
            .arg(format!("BUILDKIT_SYNTAX={}", h.frontend()));
    }
    cmd.args(extra).arg(".");
    cmd
}

/// `buildctl build` through BuildKit's built-in Dockerfile frontend, with
/// `dir` as both the context and the Dockerfile's directory; callers add
/// options and outputs.
pub fn buildctl_dockerfile(h: &Harness, dir: &Path) -> Command {
    let mut cmd = h.command("buildctl");
    cmd.args(["build", "--progress=plain", "--frontend", "dockerfile.v0"])
        .arg("--local")
        .arg(format!("context={}", dir.display()))
        .arg("--local")
        .arg(format!("dockerfile={}", dir.display()));
    cmd
}

/// `golb llb DIR/golb.toml | buildctl build --local context=DIR ARGS`: golb's
/// offline Definition, solved by BuildKit. Returns the Definition and what
/// buildctl printed (it must succeed).
pub fn golb_llb_into_buildctl(h: &Harness, dir: &Path, args: &[&str]) -> (Vec<u8>, Output) {
    use std::io::Write;
    // The steps that run `golb step` need a golb image BuildKit can pull:
    // the harness's, as the gateway would use the one it runs.
    let llb = run(Command::new(h.golb_binary())
        .arg("llb")
        .arg(dir.join("golb.toml"))
        .args(["--frontend-image", h.frontend()]));
    assert!(
        llb.status.success(),
        "golb llb failed: {}",
        String::from_utf8_lossy(&llb.stderr)
    );
    let mut child = h
        .command("buildctl")
        .arg("build")
        .arg("--local")
        .arg(format!("context={}", dir.display()))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("buildctl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&llb.stdout)
        .expect("Definition written to buildctl");
    let done = child.wait_with_output().expect("buildctl finishes");
    assert!(
        done.status.success(),
        "buildctl build failed:\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
    (llb.stdout, done)
}

/// `buildctl prune --all`: drops every cache record of the daemon that no
/// running build holds (layers, images, cache mounts, local sources).
/// Not for the e2e suite: it turns every later test's builds cold; a test
/// that needs empty caches builds on a [`TempDaemon`].
pub fn prune_all(h: &Harness) {
    run_ok(h.command("buildctl").args(["prune", "--all"]));
}

/// The `containerimage.digest` a `--metadata-file` holds.
pub fn metadata_digest(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    json["containerimage.digest"]
        .as_str()
        .unwrap_or_else(|| panic!("no containerimage.digest in {text}"))
        .to_string()
}

/// Digest and name of every vertex in `--progress=rawjson` output (stderr).
pub fn rawjson_vertexes(progress: &str) -> BTreeMap<String, String> {
    progress
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .flat_map(|status| status["vertexes"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| {
            Some((
                v["digest"].as_str()?.to_string(),
                v["name"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// A buildkitd of a test's own: configured like the harness's (the same
/// binary and buildkitd.toml, so the same registry mirrors), with an empty
/// root under target/e2e. It stands for a fresh builder, say a CI runner,
/// without pruning the harness's daemon, whose warm caches the other tests
/// rely on. Dropping it stops the daemon and removes its root.
pub struct TempDaemon {
    child: std::process::Child,
    addr: String,
    buildx_config: PathBuf,
    root: PathBuf,
    config: PathBuf,
    log: PathBuf,
    /// Held for its Drop, which removes the daemon's root after the daemon stops.
    _dir: TempDir,
}

/// The buildx builder a [`TempDaemon`] registers in its own BUILDX_CONFIG.
const TEMP_BUILDER: &str = "golb-temp";

impl TempDaemon {
    pub fn start(h: &Harness, name: &str) -> TempDaemon {
        TempDaemon::start_with_config(h, name, "")
    }

    /// [`TempDaemon::start`] with `extra` appended to the harness's
    /// buildkitd.toml (e.g. a `[registry."127.0.0.1:PORT"]` section).
    pub fn start_with_config(h: &Harness, name: &str, extra: &str) -> TempDaemon {
        let dir = TempDir::new(name);
        let sock = dir.path().join("buildkitd.sock");
        // Unix socket paths are limited to about 107 bytes.
        assert!(
            sock.as_os_str().len() < 100,
            "{}: too long for a socket",
            sock.display()
        );
        let addr = format!("unix://{}", sock.display());
        let config = dir.path().join("buildkitd.toml");
        let harness_config = Path::new(h.var("GOLB_HARNESS_STATE")).join("buildkitd.toml");
        let base = std::fs::read_to_string(&harness_config)
            .unwrap_or_else(|e| panic!("{}: {e}", harness_config.display()));
        std::fs::write(&config, format!("{base}\n{extra}\n"))
            .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
        let log_path = dir.path().join("buildkitd.log");
        let root = dir.path().join("root");
        let child = spawn_buildkitd(h, &root, &addr, &config, &log_path);
        let buildx_config = dir.path().join("buildx");
        let mut daemon = TempDaemon {
            child,
            addr,
            buildx_config,
            root,
            config,
            log: log_path.clone(),
            _dir: dir,
        };
        daemon.wait_ready(&log_path);
        std::fs::create_dir_all(&daemon.buildx_config).expect("buildx config dir");
        run_ok(daemon.buildx().args([
            "create",
            "--name",
            TEMP_BUILDER,
            "--driver",
            "remote",
            &daemon.addr,
        ]));
        run_ok(daemon.buildx().args(["inspect", "--bootstrap"]));
        daemon
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its address, for `buildctl --addr`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// What the daemon has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `buildctl` pointed at this daemon.
    pub fn buildctl(&self) -> Command {
        let mut cmd = harness().command("buildctl");
        cmd.env("BUILDKIT_HOST", &self.addr);
        cmd
    }

    /// The ids of the containers runc runs for this daemon (build steps and
    /// frontends): none once every build has ended. buildkitd keeps runc's
    /// state in runc's default root, shared by every daemon of the machine;
    /// its containers are those whose bundle lies under its own root.
    pub fn containers(&self) -> Vec<String> {
        // `runc list` reads the root's directory, then each container's
        // state: a container of another daemon that ends in between (the
        // other test lane builds all the time) fails the whole listing with
        // "no such file or directory". That is a listing to take again, not
        // an answer about this daemon.
        let list = || {
            run(Command::new("runc")
                .env("PATH", "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin")
                .args(["list", "--format", "json"]))
        };
        let mut out = list();
        for _ in 0..20 {
            if out.status.success() || !text(&out).contains("no such file or directory") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            out = list();
        }
        assert!(out.status.success(), "runc list: {}", text(&out));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let root = self.root.display().to_string();
        listed
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["bundle"].as_str().is_some_and(|b| b.starts_with(&root)))
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect()
    }

    /// The daemon's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_memory_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the daemon's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib / 1024)
            .expect("VmHWM in /proc/PID/status")
    }

    /// Stops the daemon (SIGTERM, as an init system would) and starts it
    /// again on the same root, config and address.
    pub fn restart(&mut self) {
        self.stop();
        let h = harness();
        self.child = spawn_buildkitd(h, &self.root, &self.addr, &self.config, &self.log);
        let log = self.log.clone();
        self.wait_ready(&log);
    }

    fn stop(&mut self) {
        // SIGTERM lets buildkitd unmount its snapshots before the root goes.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_ready(&mut self, log: &Path) {
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "buildkitd exited ({status}):\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            let answered = Command::new("buildctl")
                .env("PATH", harness().var("PATH"))
                .args(["--addr", &self.addr, "debug", "workers"])
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success());
            if answered {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "buildkitd did not answer on {} within 30 s:\n{}",
                self.addr,
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// `buildx` pointed at this daemon.
    fn buildx(&self) -> Command {
        let mut cmd = harness().command("buildx");
        self.point_at_me(&mut cmd);
        cmd
    }

    fn point_at_me(&self, cmd: &mut Command) {
        cmd.env("BUILDKIT_HOST", &self.addr)
            .env("BUILDX_CONFIG", &self.buildx_config)
            .env("BUILDX_BUILDER", TEMP_BUILDER);
    }

    /// [`buildx_golb`] on this daemon.
    pub fn buildx_golb(&self, h: &Harness, dir: &Path, extra: &[&str]) -> Command {
        let mut cmd = buildx_golb(h, dir, extra);
        self.point_at_me(&mut cmd);
        cmd
    }
}

impl Drop for TempDaemon {
    fn drop(&mut self) {
        self.stop();
        // The fields drop next: `_dir` removes the root.
    }
}

/// buildkitd with the OCI worker on `root`, logging to `log` (appended, so a
/// restart keeps the first run's lines).
fn spawn_buildkitd(
    h: &Harness,
    root: &Path,
    addr: &str,
    config: &Path,
    log: &Path,
) -> std::process::Child {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let file_err = file.try_clone().expect("log file handle");
    let mut cmd = h.command("buildkitd");
    // runc lives in /usr/sbin, which a test's PATH may lack.
    let path = format!("/usr/local/sbin:/usr/sbin:/sbin:{}", h.var("PATH"));
    cmd.env("PATH", path)
        .arg("--root")
        .arg(root)
        .args(["--addr", addr, "--config"])
        .arg(config)
        .args(["--oci-worker=true", "--containerd-worker=false"])
        .stdout(file)
        .stderr(file_err);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot start buildkitd: {e}"))
}

/// Runs `argv` inside `image` (pushed to the harness registry), as
/// docs/harness.md "Running a built binary" says: a one-line Dockerfile
/// `FROM image` with `RUN [argv…]`, built by BuildKit's Dockerfile frontend,
/// so the binary runs on the image's own files as the image's user. Returns
/// what the command printed (the `#N 0.123 ` prefixes of plain progress
/// removed); panics with the build log when the command fails.
pub fn run_in_image(h: &Harness, image: &str, argv: &[&str]) -> String {
    let dir = TempDir::new("run-in-image");
    let exec: Vec<String> = argv
        .iter()
        .map(|a| serde_json::Value::from(*a).to_string())
        .collect();
    // A fresh build argument (an environment variable of the RUN) keeps
    // BuildKit from answering from its cache, which would print nothing.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {image}\nARG NONCE\nRUN [{}]\n", exec.join(", ")),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", dir.path().display()));
    let out = run(buildctl_dockerfile(h, dir.path()).arg(format!("--opt=build-arg:NONCE={nonce}")));
    let log = text(&out);
    assert!(out.status.success(), "{argv:?} failed in {image}:\n{log}");
    // The RUN step's own lines: `#7 0.215 output`, after `#7 [2/2] RUN […]`.
    let step = log
        .lines()
        .find(|l| l.contains("] RUN ["))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("#?")
        .to_string();
    log.lines()
        .filter_map(|l| l.strip_prefix(&format!("{step} ")))
        .filter_map(|rest| {
            let (time, output) = rest.split_once(' ')?;
            time.parse::<f64>().ok().map(|_| output.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path in an image's layers with its tar type and mode
/// ("usr/local/bin/server" → "-rwxr-xr-x"), later layers winning, read from
/// the registry's blobs with `tar -tv`.
pub fn image_files(h: &Harness, repo: &str, reference: &str) -> BTreeMap<String, String> {
    let registry = Registry { host: h.registry() };
    let manifest = registry.manifest(repo, reference);
    let scratch = TempDir::new("image-files");
    let mut files = BTreeMap::new();
    for digest in layers(&manifest) {
        let tar = scratch.path().join("layer.tar");
        let bytes = gunzip(
            &registry.blob(repo, &digest),
            &scratch.path().join("layer.gz"),
        );
        std::fs::write(&tar, bytes).unwrap_or_else(|e| panic!("{}: {e}", tar.display()));
        let listing = run_ok(Command::new("tar").arg("-tvf").arg(&tar));
        for line in listing.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 6 {
                continue;
            }
            let path = fields[5..].join(" ");
            let path = path.split(" -> ").next().unwrap_or(&path);
            files.insert(
                path.trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_string(),
                fields[0].to_string(),
            );
        }
    }
    files
}

/// A module's source tree as the Go module proxy serves it (`go mod
/// download` on the host, pinned), copied to a writable directory.
pub fn module_from_proxy(h: &Harness, module_at_version: &str, into: &Path) {
    let out = run_ok(h.command("go").current_dir(repo_root()).args([
        "mod",
        "download",
        "-json",
        module_at_version,
    ]));
    let json: Value = serde_json::from_str(out.trim_start_matches(|c| c != '{'))
        .unwrap_or_else(|e| panic!("go mod download -json {module_at_version}: {e}\n{out}"));
    let dir = json["Dir"]
        .as_str()
        .unwrap_or_else(|| panic!("{module_at_version}: no Dir in {json}"));
    copy_tree(Path::new(dir), into);
    // The module cache is read-only; the copy must take a golb.toml.
    run_ok(Command::new("chmod").args(["-R", "u+w"]).arg(into));
}

/// Headless Chromium (installed by `scripts/harness up`) on a local page,
/// with its own profile directory; `args` say what to do (`--dump-dom`,
/// `--screenshot=…`).
pub fn chromium(profile: &Path, args: &[&str], page: &Path) -> Output {
    run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display())))
}
