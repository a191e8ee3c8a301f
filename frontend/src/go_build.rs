//! Every Go-specific decision golb makes, in one place and named for what it
//! guarantees. The plan only assembles these into LLB; nothing in the spec can
//! turn them off.

use crate::go_module::GoModule;
use crate::image_config;
use crate::image_ref::ImageRef;
use crate::spec::{Location, Modules, Spec, SpecError};
use crate::steps::dependencies::Job;
use golb_proto::llb::Platform;
use serde_json::Value;
use std::collections::BTreeSet;

/// Where the builder keeps things. Set explicitly so that no base image
/// default (HOME, GOPATH) can move the caches away from their cache mounts.
pub const GOPATH: &str = "/go";
pub const GOMODCACHE: &str = "/go/pkg/mod";
pub const GOCACHE: &str = "/root/.cache/go-build";
/// Where the build context is mounted (read-only) in the builder.
pub const SOURCE_DIR: &str = "/src";
/// Where `go build` writes binaries: a scratch mount, so nothing else leaves the builder.
pub const OUTPUT_DIR: &str = "/out";
/// Where binaries land in the runtime image.
pub const BINARY_DIR: &str = "/usr/local/bin";
/// Go writes its work files here: a tmpfs, never part of any layer.
pub const TEMP_DIR: &str = "/tmp";

/// Where golb's own binary is mounted (read-only) in the steps that run
/// `golb step …`: a static binary, so it runs in any builder.
pub const GOLB_BIN: &str = "/run/golb/golb";
/// The binary's path in golb's image.
pub const GOLB_IN_IMAGE: &str = "/golb";

/// The download step's output: a module cache holding exactly the build's
/// modules, which the Go steps mount read-only as GOMODCACHE. An output, not a
/// cache mount, so that it travels with `--cache-to` (BuildKit never exports
/// cache mounts) and no step depends on what another machine left in a cache.
pub const MODULES_DIR: &str = "/run/golb/modules";

/// The dependency step's output, and where the build step reads it: Go build
/// cache entries (in `golb step gocacheprog`'s layout) for the standard
/// library and every dependency package the binaries import.
pub const COMPILED_DIR: &str = "/run/golb/compiled";

/// The builder's local store of build cache entries (a cache mount): what
/// `go build` compiled beyond the dependency snapshot, i.e. the module's own
/// packages, kept for the next warm build on this builder.
pub const PROG_CACHE_DIR: &str = "/root/.cache/golb-go-build";

/// Go still wants a GOCACHE directory next to GOCACHEPROG (for fuzzing data);
/// nothing golb needs lands there, so it lives on the /tmp tmpfs.
pub const SCRATCH_GOCACHE: &str = "/tmp/go-build";

/// The PATH of the builder when its image config sets none.
pub const DEFAULT_PATH: &str =
    "/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The module cache is shared by every build on the daemon: module files are
/// content-addressed and Go locks the cache itself, so concurrent builds are safe.
pub const MODULE_CACHE_ID: &str = "golb/gomodcache";

/// Linker flags every build gets: no symbol table (-s), no DWARF (-w), and an
/// empty build id so identical inputs give byte-identical binaries.
pub const ALWAYS_LDFLAGS: [&str; 3] = ["-s", "-w", "-buildid="];

/// The builder's release and target, which key the build cache.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// "1.26", or the builder image reference when the spec names an image.
    pub release: String,
}

/// One `go build` invocation.
#[derive(Clone, Debug)]
pub struct GoBuild<'a> {
    pub package: &'a str,
    pub output_name: &'a str,
    pub ldflags: Vec<&'a str>,
    pub tags: Vec<&'a str>,
    /// CGO_ENABLED=1 (`cgo = true`); golb's default is 0.
    pub cgo: bool,
    /// The C compiler cgo uses (`[builder.cc]` for the target); None: the
    /// builder's gcc.
    pub cc: Option<&'a str>,
}

/// A Go command as a step runs it: its arguments, and what golb sets in the
/// environment on top of the builder image's. The plan adds the mounts
/// (plan/go_steps.rs); every choice in here is Go's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoCommand {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// How a compiling step finds and keeps compiled packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildCache {
    /// Go serves its build cache through `golb step gocacheprog`, which reads
    /// the compiled dependencies' snapshot first: the same on every builder.
    Program,
    /// An older Go: its own GOCACHE directory, a cache mount with this id,
    /// on this builder only.
    Directory { id: String },
}

/// Which check a `test` or `vet` target runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoCheck {
    Test,
    Vet,
}

/// The builder image the spec asks for, with the Go release it runs:
/// `[builder] image`, else `golang:<go>` with `go` from the spec or, failing
/// that, from go.mod.
pub fn builder_image(spec: &Spec, module: &GoModule) -> Result<(ImageRef, Toolchain), SpecError> {
    if let Some(image) = &spec.builder.image {
        let reference = ImageRef::parse(&image.value)
            .map_err(|e| spec.error_at(image.location, e.to_string()))?;
        let release = spec
            .builder
            .go
            .as_ref()
            .map_or_else(|| image.value.clone(), |go| go.value.clone());
        return Ok((reference, Toolchain { release }));
    }
    let release = match &spec.builder.go {
        Some(go) => go.value.clone(),
        None => module.wanted_go_release().ok_or_else(|| {
            spec.error_at(
                spec.builder.location.unwrap_or(Location::TOP),
                "go.mod has no `go` line to choose the Go release from: set [builder] go = \"1.26\"",
            )
        })?,
    };
    let reference = ImageRef::parse(&format!("golang:{release}"))
        .map_err(|e| {
            let at = spec.builder.location.unwrap_or(Location::TOP);
            match &spec.builder.go {
                Some(_) => spec.error_at(at, e.to_string()),
                // The release came from go.mod: say so, and how to choose one.
                None => spec.error_at(
                    at,
                    format!(
                        "go.mod's `go` line {release:?} is not a Go release ({e}): fix go.mod, or set [builder] go = \"1.26\""
                    ),
                ),
            }
        })?;
    Ok((reference, Toolchain { release }))
}

/// The builder's Go release, as far as golb can tell: the spec's `go`, the
/// image config's `GOLANG_VERSION` (official golang images set it), go.mod's.
pub fn builder_release(spec: &Spec, builder_config: &Value, module: &GoModule) -> Option<String> {
    if let Some(go) = &spec.builder.go {
        return Some(go.value.clone());
    }
    let from_image = image_config::env_of(builder_config)
        .iter()
        .find_map(|e| e.strip_prefix("GOLANG_VERSION=").map(String::from));
    if from_image.is_some() || spec.builder.image.is_some() {
        return from_image;
    }
    module.wanted_go_release()
}

/// Tags as a key: sorted, without duplicates (the order on the command line
/// does not change what Go compiles).
pub fn tag_key(tags: &[String]) -> Vec<String> {
    let mut key = tags.to_vec();
    key.sort();
    key.dedup();
    key
}

/// Where compiled packages live for one binary's build: the GOCACHEPROG
/// helper when the builder's Go has it, else a cache directory per release,
/// target and tag set.
pub fn build_cache(
    toolchain: &Toolchain,
    release: Option<&str>,
    target: &Platform,
    tags: &[&str],
) -> BuildCache {
    match supports_gocacheprog(release) {
        true => BuildCache::Program,
        false => BuildCache::Directory {
            id: build_cache_id(toolchain, target, tags),
        },
    }
}

/// The download step: `golb step modules` with what fetching needs (the
/// proxy settings and the credentials' helpers).
pub fn download_command(modules: &Modules) -> GoCommand {
    let mut env = module_env(modules);
    env.extend(credential_env(modules));
    GoCommand {
        args: modules_args(),
        env,
    }
}

/// The dependency step: its jobs in one command, with the build's settings
/// but no target (each job sets its own) and modules from the snapshot only.
pub fn dependencies_command(
    jobs: &[Job],
    modules: &Modules,
    build_platform: &Platform,
) -> GoCommand {
    let mut env = build_env(modules, build_platform);
    env.retain(|(k, _)| !matches!(k.as_str(), "GOOS" | "GOARCH" | "GOARM" | "GOAMD64"));
    env.extend(dependencies_env());
    GoCommand {
        args: dependencies_args(jobs),
        env,
    }
}

/// One binary's `go build` for `target`, with its build cache.
pub fn build_step(
    build: &GoBuild<'_>,
    module: &GoModule,
    modules: &Modules,
    target: &Platform,
    cache: &BuildCache,
) -> GoCommand {
    let mut env = build_env(modules, target);
    if build.cgo {
        // gcc from the builder; the binary links the builder's glibc
        // dynamically, so the runtime base must have it (plan::cgo_errors).
        env.retain(|(k, _)| k != "CGO_ENABLED");
        env.push(("CGO_ENABLED".to_string(), "1".to_string()));
        if let Some(cc) = build.cc {
            // Go reads the C compiler from CC, for cgo and the external link.
            env.push(("CC".to_string(), cc.to_string()));
        }
    }
    if *cache == BuildCache::Program {
        env.push(("GOCACHE".into(), SCRATCH_GOCACHE.into()));
        env.push(("GOCACHEPROG".into(), build_gocacheprog()));
    }
    GoCommand {
        args: build_command(build, module),
        env,
    }
}

/// `go test` or `go vet` over the spec's packages on the build platform.
pub fn check_command(
    check: GoCheck,
    module: &GoModule,
    test: &crate::spec::Test,
    modules: &Modules,
    build_platform: &Platform,
) -> GoCommand {
    let args = match check {
        GoCheck::Test => test_args(module, &test.flags, &test.packages),
        GoCheck::Vet => vet_args(module, &test.packages),
    };
    GoCommand {
        args,
        env: build_env(modules, build_platform),
    }
}

/// The first Go release whose `go` runs a GOCACHEPROG program without an
/// experiment flag.
const GOCACHEPROG_SINCE: (u32, u32) = (1, 24);

/// Whether the builder's Go serves its build cache through `GOCACHEPROG`,
/// from its release ("1.26", "1.26.3", "go1.26.3"). An unknown release (a
/// builder image named without a Go version) is taken to be recent: an older
/// Go ignores the variable and still builds correctly, only slower.
pub fn supports_gocacheprog(release: Option<&str>) -> bool {
    release
        .and_then(release_number)
        .is_none_or(|number| number >= GOCACHEPROG_SINCE)
}

/// `GOCACHEPROG` for the build step: the compiled dependencies first, then
/// the builder's own store, where new entries go.
pub fn build_gocacheprog() -> String {
    format!("{GOLB_BIN} step gocacheprog --seed {COMPILED_DIR} --cache {PROG_CACHE_DIR}")
}

/// `GOCACHEPROG` for the dependency step: every entry it uses, found in the
/// builder's store or compiled now, lands in the step's output.
pub fn dependencies_gocacheprog() -> String {
    format!("{GOLB_BIN} step gocacheprog --cache {PROG_CACHE_DIR} --snapshot {COMPILED_DIR}")
}

/// The download step's command: `go mod download` into the shared module
/// cache (network, credentials), then into the step's output.
pub fn modules_args() -> Vec<String> {
    [
        GOLB_BIN,
        "step",
        "modules",
        "--shared",
        GOMODCACHE,
        "--snapshot",
        MODULES_DIR,
    ]
    .map(String::from)
    .to_vec()
}

/// One job of the dependency step: compiles every external package in
/// `packages` (and all they import) for `target` with `tags` into the build
/// cache, as `go build` with the same flags would, without linking. `go list
/// -e` reports a package that cannot build (one only a file for another
/// system imports, say) instead of failing: the dependency step is a head
/// start, never a gate; `go build` reports real errors.
pub fn dependencies_job(
    module: &GoModule,
    target: &Platform,
    tags: &[&str],
    cgo: Cgo<'_>,
    profile: Option<&str>,
    packages: &[String],
) -> Job {
    let mut args: Vec<String> = [
        "go",
        "list",
        "-e",
        "-export",
        "-deps",
        "-trimpath",
        dependencies_module_mode(module),
    ]
    .map(String::from)
    .to_vec();
    if !tags.is_empty() {
        args.push("-tags".to_string());
        args.push(tags.join(","));
    }
    // The binary's profile, which `go build -pgo=auto` applies to every
    // package the binary imports (`pgo_profile_job` must run first).
    if let Some(profile) = profile {
        args.push(format!("-pgo={profile}"));
    }
    // Print only what could not be compiled, one line each.
    args.push("-f".to_string());
    args.push("{{with .Error}}{{$.ImportPath}}: {{.}}{{end}}".to_string());
    args.extend(packages.iter().cloned());
    let mut env: std::collections::BTreeMap<String, String> =
        target_env(target).into_iter().collect();
    // cgo changes what `net`, `os/user`, `runtime/cgo` and their importers
    // compile to: a cgo binary's packages are compiled as its build does.
    if let Cgo::On { cc } = cgo {
        env.insert("CGO_ENABLED".to_string(), "1".to_string());
        if let Some(cc) = cc {
            env.insert("CC".to_string(), cc.to_string());
        }
    }
    Job { env, args }
}

/// Whether a build compiles C, and with which compiler (`[builder.cc]`;
/// None: the builder's gcc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cgo<'a> {
    Off,
    On { cc: Option<&'a str> },
}

/// The dependency step's command: its jobs, in order.
pub fn dependencies_args(jobs: &[Job]) -> Vec<String> {
    let mut args: Vec<String> = [GOLB_BIN, "step", "dependencies"]
        .map(String::from)
        .to_vec();
    for job in jobs {
        args.push("--job".to_string());
        // A Job is plain strings: it always serializes.
        args.push(serde_json::to_string(job).unwrap_or_default());
    }
    args
}

/// How the dependency step resolves modules. What it compiles is decided by
/// the module versions in go.mod, not by go.sum, which only holds their
/// hashes: so the step does not read go.sum (`-mod=mod` fills in what it
/// needs from the module snapshot, which the download step checked against
/// go.sum), and a go.sum-only change keeps it cached. The build step checks
/// go.sum again. Vendored modules come from vendor/; a workspace allows no
/// `-mod=mod`, so there the sums are read.
pub fn dependencies_module_mode(module: &GoModule) -> &'static str {
    if module.vendored {
        "-mod=vendor"
    } else if module.workspace {
        "-mod=readonly"
    } else {
        "-mod=mod"
    }
}

/// What the dependency step adds to the build environment: it resolves
/// modules from the snapshot only (no proxy, no network), and does not ask
/// the checksum database about hashes `-mod=mod` records, because the modules
/// are the ones the download step checked against go.sum.
pub fn dependencies_env() -> Vec<(String, String)> {
    vec![
        ("GOCACHE".into(), SCRATCH_GOCACHE.into()),
        ("GOCACHEPROG".into(), dependencies_gocacheprog()),
        ("GOPROXY".into(), "off".into()),
        ("GOSUMDB".into(), "off".into()),
    ]
}

/// Whether a module file holds hashes (go.sum, go.work.sum) rather than the
/// module graph (go.mod, go.work). The dependency step reads only the graph
/// (see `dependencies_module_mode`), except in a workspace.
pub fn is_sum_file(file: &str) -> bool {
    file.ends_with(GO_SUM_NAME) || file.ends_with(GO_WORK_SUM_NAME)
}

const GO_SUM_NAME: &str = "go.sum";
const GO_WORK_SUM_NAME: &str = "go.work.sum";

/// The cache id of the builder's store of build cache entries. Entries are
/// keyed by Go's action ids, which already include the release, target and
/// flags; the id still separates releases so that an old release's entries
/// go when BuildKit collects that mount.
pub fn prog_cache_id(toolchain: &Toolchain) -> String {
    format!("golb/gocacheprog/go{}", cache_id_part(&toolchain.release))
}

/// The profile `go build` reads from a main package's directory: its default
/// `-pgo=auto` compiles the binary and every package it imports with it.
pub const PGO_PROFILE: &str = "default.pgo";

/// The PGO profile of the main package in context directory `dir`, as a
/// path in the context.
pub fn pgo_profile_in_context(dir: &str) -> String {
    crate::go_module::join(dir, PGO_PROFILE)
}

/// Where a step sees the PGO profile of the main package in context
/// directory `dir`: where `go build` finds it.
pub fn pgo_profile_path(dir: &str) -> String {
    format!("{SOURCE_DIR}/{}", pgo_profile_in_context(dir))
}

/// A job of the dependency step that runs before the jobs with `profile`:
/// it compiles one small package with the profile, which preprocesses the
/// profile into the build cache. `go list`, the other jobs' command, does
/// not preprocess a profile (Go's `pgoActor` skips it for list) and so keys
/// every package it compiles with `-pgo` apart from what `go build` looks
/// for; with the preprocessed profile in the cache the keys are `go
/// build`'s.
pub fn pgo_profile_job(profile: &str) -> Job {
    Job {
        env: Default::default(),
        args: [
            "go",
            "build",
            "-trimpath",
            &format!("-pgo={profile}"),
            "internal/goarch",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// File kinds `go build` reads from a package directory (go/build's list),
/// besides the module files: what the build step is allowed to see.
pub const GO_BUILD_INPUTS: &[&str] = &[
    "go", "s", "S", "sx", "syso", "c", "cc", "cxx", "cpp", "m", "h", "hh", "hpp", "hxx", "f", "F",
    "for", "f90", "swig", "swigcxx",
];

/// The context as `go build` sees it, as include patterns relative to the
/// context: in each source directory the Go inputs and module files, vendor/
/// when vendored, and the files `//go:embed` names. An edit to anything else
/// (a README, docs, a Helm chart, another service) keeps `go build` cached.
pub fn build_input_patterns(module: &GoModule, embeds: &BTreeSet<String>) -> Vec<String> {
    let under = |dir: &str, rest: &str| {
        if dir.is_empty() {
            rest.to_string()
        } else {
            format!("{dir}/{rest}")
        }
    };
    let mut patterns = BTreeSet::new();
    for dir in &module.source_dirs {
        for ext in GO_BUILD_INPUTS {
            patterns.insert(under(dir, &format!("**/*.{ext}")));
        }
        for file in ["go.mod", "go.sum", "go.work", "go.work.sum", PGO_PROFILE] {
            patterns.insert(under(dir, &format!("**/{file}")));
        }
    }
    if module.vendored {
        patterns.insert(under(&module.dir, "vendor/**"));
    }
    patterns.extend(embeds.iter().cloned());
    patterns.into_iter().collect()
}

/// What the build step never reads among the patterns above: tests.
pub fn build_input_excludes() -> Vec<String> {
    vec!["**/*_test.go".to_string()]
}

/// Where the official golang images keep the Go distribution.
pub const GOROOT: &str = "/usr/local/go";

/// Whether `go build` can run on the Go distribution alone (`GOROOT` copied
/// out of the builder, `goroot_keeps`) instead of the whole builder image.
/// That copy travels with `--cache-to`, so a fresh CI runner unpacks it
/// instead of the builder, whose Debian, gcc and git the compile never runs.
/// It holds for golb's default builder, the official `golang:<go>` image:
/// its distribution sits at /usr/local/go and its tools are static. A spec's
/// own `[builder] image` may keep Go elsewhere or need more of its
/// filesystem, and cgo runs the builder's C compiler: both keep the image.
pub fn compiles_on_goroot_alone(spec: &Spec, cgo: bool) -> bool {
    spec.builder.image.is_none() && !cgo
}

/// Where the GOROOT copy's step writes: its output is the root filesystem
/// `go build` runs on, with the distribution at `GOROOT` inside.
pub const GOROOT_COPY_DIR: &str = "/run/golb/goroot";

/// The GOROOT copy's command: `golb step goroot` keeps what
/// `goroot_keeps` keeps. A step of golb's own rather than a file op: BuildKit
/// keys a file op's copy on a hash of every file it selects, which on a cold
/// build read and hashed the distribution (about 110 MB) beside the
/// dependency compile before copying it; an exec is keyed on the builder's
/// digest and golb's, which decide the copy.
pub fn goroot_copy_args() -> Vec<String> {
    [
        GOLB_BIN,
        "step",
        "goroot",
        "--from",
        GOROOT,
        "--to",
        &format!("{GOROOT_COPY_DIR}{GOROOT}"),
    ]
    .map(String::from)
    .to_vec()
}

/// Whether the GOROOT copy keeps `path` (relative to GOROOT, `/`-separated;
/// for a directory: whether anything under it may be kept). It keeps what a
/// compile without cgo reads: the go command and its env defaults, the
/// compiler, assembler, linker and PGO preprocessor, the assembly headers,
/// lib/ (the FIPS module snapshots), and the standard library's sources. Not
/// cgo (a cgo compile keeps the builder), gofmt, vet, cover or fix (the test
/// and vet steps keep the builder), the toolchain's own sources (src/cmd),
/// tests, test data, nor the race detector's objects (9 MB; -race needs cgo).
pub fn goroot_keeps(path: &str, is_dir: bool) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => is_dir,
        ["VERSION" | "go.env"] => !is_dir,
        ["bin"] => is_dir,
        ["bin", "go"] => !is_dir,
        ["pkg"] | ["pkg", "tool"] | ["pkg", "tool", _] => is_dir,
        ["pkg", "tool", _, "asm" | "compile" | "link" | "preprofile"] => !is_dir,
        ["pkg", "include", ..] | ["lib", ..] => true,
        ["src", "cmd", ..] => false,
        ["src", rest @ ..] => {
            let name = rest.last().copied().unwrap_or_default();
            let race_object = rest.starts_with(&["runtime", "race"]) && name.ends_with(".syso");
            !rest.contains(&"testdata") && !name.ends_with("_test.go") && !race_object
        }
        _ => false,
    }
}

/// How dependencies reach the build: downloaded into the module cache, or vendored.
pub fn module_mode(module: &GoModule) -> &'static str {
    if module.vendored {
        "-mod=vendor"
    } else {
        "-mod=readonly"
    }
}

/// The BuildKit secret that becomes the netrc of the download step (`--secret id=netrc,src=~/.netrc`).
pub const NETRC_SECRET: &str = "netrc";
pub const NETRC_PATH: &str = "/run/secrets/netrc";
/// The SSH agent forwarded to the download step (`--ssh default`), for `git@` modules.
pub const SSH_AGENT_ID: &str = "default";
pub const SSH_AGENT_PATH: &str = "/run/buildkit/ssh_agent.0";
/// The spec's `[modules] known_hosts`, mounted read-only into the download step.
pub const KNOWN_HOSTS_PATH: &str = "/run/golb/known_hosts";

/// The known_hosts file the download step's ssh trusts: the spec's lines, in
/// order, one per line. `None` when the spec gives none, so that the builder
/// image's own known_hosts apply.
pub fn known_hosts_file(modules: &Modules) -> Option<String> {
    if modules.ssh.is_empty() || modules.known_hosts.is_empty() {
        return None;
    }
    let lines: Vec<&str> = modules.known_hosts.iter().map(|l| l.value.trim()).collect();
    Some(format!("{}\n", lines.join("\n")))
}

/// The ssh command git runs when the spec gives known_hosts: those hosts
/// only (StrictHostKeyChecking=yes never adds or trusts another key; a custom
/// UserKnownHostsFile also turns off UpdateHostKeys, which would write to the
/// read-only file), and BatchMode so that a missing agent key fails at once
/// instead of waiting for a passphrase or password prompt no one can answer.
/// git runs it through `sh -c`, as it does any GIT_SSH_COMMAND with spaces.
pub fn git_ssh_command() -> String {
    format!(
        "ssh -o UserKnownHostsFile={KNOWN_HOSTS_PATH} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    )
}

/// Environment shared by the download and build steps: where modules live,
/// where they come from (the spec's `[modules]`), and no toolchain switching.
pub fn module_env(modules: &Modules) -> Vec<(String, String)> {
    let mut env = vec![
        ("GOPATH".to_string(), GOPATH.to_string()),
        ("GOMODCACHE".to_string(), GOMODCACHE.to_string()),
        // The builder image's Go is the one the spec chose; never fetch another.
        ("GOTOOLCHAIN".to_string(), "local".to_string()),
    ];
    for (name, value) in [
        ("GOPROXY", &modules.proxy),
        ("GOPRIVATE", &modules.private),
        ("GONOSUMDB", &modules.nosumdb),
        ("GONOPROXY", &modules.noproxy),
        ("GOFLAGS", &modules.flags),
    ] {
        if let Some(value) = value {
            env.push((name.to_string(), value.value.clone()));
        }
    }
    env
}

/// Environment that points Go and git at the credentials mounted into the
/// download step: the netrc secret, and the SSH agent with a git rewrite of
/// each `[modules] ssh` prefix from https to ssh.
pub fn credential_env(modules: &Modules) -> Vec<(String, String)> {
    let mut env = vec![("NETRC".to_string(), NETRC_PATH.to_string())];
    if !modules.ssh.is_empty() {
        env.push(("SSH_AUTH_SOCK".to_string(), SSH_AGENT_PATH.to_string()));
        env.push((
            "GIT_CONFIG_COUNT".to_string(),
            modules.ssh.len().to_string(),
        ));
        for (i, prefix) in modules.ssh.iter().enumerate() {
            let (host, path) = prefix.split_once('/').unwrap_or((prefix, ""));
            let ssh = if path.is_empty() {
                format!("ssh://git@{host}/")
            } else {
                format!("ssh://git@{host}/{path}/")
            };
            env.push((
                format!("GIT_CONFIG_KEY_{i}"),
                format!("url.{ssh}.insteadOf"),
            ));
            env.push((
                format!("GIT_CONFIG_VALUE_{i}"),
                format!("https://{prefix}/"),
            ));
        }
        if known_hosts_file(modules).is_some() {
            env.push(("GIT_SSH_COMMAND".to_string(), git_ssh_command()));
        }
    }
    env
}

/// Environment of a build step for `target`: static, cross-compiled, cached.
/// Where modules come from (GOPROXY and friends) is left out: the build reads
/// them from the module cache, so changing a proxy URL does not rebuild.
pub fn build_env(modules: &Modules, target: &Platform) -> Vec<(String, String)> {
    let fetching = ["GOPROXY", "GOPRIVATE", "GONOSUMDB", "GONOPROXY"];
    let mut env: Vec<(String, String)> = module_env(modules)
        .into_iter()
        .filter(|(k, _)| !fetching.contains(&k.as_str()))
        .collect();
    env.push(("GOCACHE".to_string(), GOCACHE.to_string()));
    env.push(("CGO_ENABLED".to_string(), "0".to_string()));
    env.extend(target_env(target));
    env
}

/// What tells Go the target: GOOS, GOARCH and the variant's variable.
pub fn target_env(target: &Platform) -> Vec<(String, String)> {
    let mut env = vec![
        ("GOOS".to_string(), target.os.clone()),
        ("GOARCH".to_string(), target.architecture.clone()),
    ];
    if let Some((name, value)) = goarch_variant(target) {
        env.push((name.to_string(), value));
    }
    env
}

/// The per-architecture variable a platform variant maps to (GOARM=7 for linux/arm/v7).
fn goarch_variant(target: &Platform) -> Option<(&'static str, String)> {
    let variant = target.variant.as_deref()?;
    let level = variant.trim_start_matches('v');
    match target.architecture.as_str() {
        "arm" => Some(("GOARM", level.to_string())),
        "amd64" => Some(("GOAMD64", variant.to_string())),
        _ => None,
    }
}

/// `go mod download`: fills the module cache from go.mod/go.sum alone.
pub fn download_args() -> Vec<String> {
    ["go", "mod", "download"].map(String::from).to_vec()
}

/// `go build` with the flags golb always sets; user ldflags come after golb's.
pub fn build_command(build: &GoBuild<'_>, module: &GoModule) -> Vec<String> {
    let mut args: Vec<String> = [
        "go",
        "build",
        // Names each package as it compiles: the log shows what was not in a
        // cache (on a CI runner with the imported cache, only the module's own).
        "-v",
        "-trimpath",
        "-buildvcs=false",
        module_mode(module),
    ]
    .map(String::from)
    .to_vec();
    if !build.tags.is_empty() {
        args.push("-tags".to_string());
        args.push(build.tags.join(","));
    }
    let ldflags: Vec<&str> = ALWAYS_LDFLAGS
        .iter()
        .copied()
        .chain(build.ldflags.iter().copied())
        .collect();
    args.push("-ldflags".to_string());
    args.push(ldflags.join(" "));
    args.push("-o".to_string());
    args.push(format!("{OUTPUT_DIR}/{}", build.output_name));
    args.push(build.package.to_string());
    args
}

/// Where the test target writes its coverage profile (exported as /coverage.out).
pub const COVERAGE_FILE: &str = "/out/coverage.out";

/// `go test` over `packages`, writing a coverage profile to the output.
pub fn test_args(module: &GoModule, flags: &[String], packages: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "go",
        "test",
        "-trimpath",
        "-buildvcs=false",
        module_mode(module),
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("-coverprofile={COVERAGE_FILE}"));
    args.extend(flags.iter().cloned());
    args.extend(packages.iter().cloned());
    args
}

/// `go vet` over `packages`.
pub fn vet_args(module: &GoModule, packages: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["go", "vet", module_mode(module)]
        .map(String::from)
        .to_vec();
    args.extend(packages.iter().cloned());
    args
}

/// The govulncheck golb runs, pinned by the tool module below.
pub const GOVULNCHECK_VERSION: &str = "v1.6.0";

/// The tool module govulncheck is built from. Its go.sum pins every module
/// of the tool, so the download is verified against it and asks no checksum
/// database; `tools.go` is there for `go mod tidy` when the pin moves
/// (`frontend/src/vuln/govulncheck/`, regenerated with `go get
/// golang.org/x/vuln/cmd/govulncheck@VERSION && go mod tidy`).
pub const GOVULNCHECK_MODULE: [(&str, &str); 3] = [
    ("go.mod", include_str!("vuln/govulncheck/go.mod")),
    ("go.sum", include_str!("vuln/govulncheck/go.sum")),
    ("tools.go", include_str!("vuln/govulncheck/tools.go")),
];

/// The first Go release that builds that govulncheck: its module's go line.
const GOVULNCHECK_GO: (u32, u32) = (1, 25);

/// Where the tool module is mounted, and where the built govulncheck is.
pub const GOVULNCHECK_SOURCE_DIR: &str = "/run/golb/govulncheck-src";
pub const GOVULNCHECK_BIN: &str = "/run/golb/govulncheck";

/// What the vuln step writes, in its output.
pub const VULN_JSON: &str = "govulncheck.json";
pub const VULN_SARIF: &str = "govulncheck.sarif";
pub const VULN_OPENVEX: &str = "vex.openvex.json";

/// Whether the builder's Go release builds the pinned govulncheck; an
/// unknown release (a builder named without one) is given the benefit of
/// the doubt, and `go build` says so if not.
pub fn builds_govulncheck(release: Option<&str>) -> bool {
    release
        .and_then(release_number)
        .is_none_or(|number| number >= GOVULNCHECK_GO)
}

/// "1.26", "1.26.3", "go1.26rc1" → (1, 26).
fn release_number(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim_start_matches("go").split('.');
    let major = parts.next()?.parse::<u32>().ok()?;
    let digits: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, digits.parse::<u32>().ok()?))
}

/// The release `builds_govulncheck` needs, for its error.
pub fn govulncheck_go() -> String {
    format!("{}.{}", GOVULNCHECK_GO.0, GOVULNCHECK_GO.1)
}

/// `go build` of govulncheck from the tool module, for the build platform.
/// It fetches the tool's modules through the spec's proxy settings; GOFLAGS
/// is golb's own, since the spec's (say -mod=vendor) are about the module
/// being scanned, not the tool.
pub fn govulncheck_build_command(modules: &Modules) -> GoCommand {
    let mut env: Vec<(String, String)> = module_env(modules)
        .into_iter()
        .filter(|(k, _)| k != "GOFLAGS")
        .collect();
    env.extend([
        ("GOFLAGS".to_string(), "-mod=readonly".to_string()),
        ("GOCACHE".to_string(), GOCACHE.to_string()),
        ("CGO_ENABLED".to_string(), "0".to_string()),
    ]);
    let args = [
        "go",
        "build",
        "-trimpath",
        "-buildvcs=false",
        "-ldflags=-s -w -buildid=",
        "-o",
    ]
    .map(String::from)
    .into_iter()
    .chain([
        format!("{OUTPUT_DIR}/govulncheck"),
        "golang.org/x/vuln/cmd/govulncheck".to_string(),
    ])
    .collect();
    GoCommand { args, env }
}

/// What one govulncheck run scans: binaries built with the same tags and
/// cgo setting, for one target.
pub struct VulnScan<'a> {
    pub packages: &'a [String],
    pub tags: &'a [String],
    pub cgo: bool,
    /// The C compiler for `target` (`[builder.cc]`): a cgo scan loads the
    /// packages as `go build` compiles them.
    pub cc: Option<&'a str>,
    pub target: &'a Platform,
}

/// govulncheck in source mode over the binaries' main packages (what is
/// reachable from them is what the image ships), run by `golb step
/// vuln-report`, which keeps its JSON and writes SARIF, OpenVEX and the
/// gate's verdict. The modules come from the download snapshot only
/// (GOPROXY=off): the network the step has is for the database.
pub fn vuln_command(
    module: &GoModule,
    modules: &Modules,
    vuln: &crate::spec::Vuln,
    scan: &VulnScan<'_>,
    source_date_epoch: i64,
) -> GoCommand {
    let out = |file: &str| format!("{OUTPUT_DIR}/{file}");
    let mut args: Vec<String> = vec![
        GOLB_BIN.into(),
        "step".into(),
        "vuln-report".into(),
        "--govulncheck".into(),
        GOVULNCHECK_BIN.into(),
        "--module".into(),
        module.path.clone(),
        "--json".into(),
        out(VULN_JSON),
        "--sarif".into(),
        out(VULN_SARIF),
        "--openvex".into(),
        out(VULN_OPENVEX),
        "--source-date-epoch".into(),
        source_date_epoch.to_string(),
    ];
    if vuln.gate {
        args.push("--gate".into());
    }
    for id in &vuln.ignore {
        args.push("--ignore".into());
        args.push(id.clone());
    }
    args.extend(["--".into(), "-db".into(), vuln.db.value.clone()]);
    args.extend(["-format".into(), "json".into()]);
    if !scan.tags.is_empty() {
        args.push(format!("-tags={}", scan.tags.join(",")));
    }
    args.extend(scan.packages.iter().cloned());
    let mut env = build_env(modules, scan.target);
    env.retain(|(k, _)| k != "GOFLAGS" && k != "CGO_ENABLED");
    let flags = match &modules.flags {
        Some(flags) => format!("{} {}", module_mode(module), flags.value),
        None => module_mode(module).to_string(),
    };
    env.extend([
        ("GOFLAGS".to_string(), flags),
        ("GOPROXY".to_string(), "off".to_string()),
        (
            "CGO_ENABLED".to_string(),
            if scan.cgo { "1" } else { "0" }.to_string(),
        ),
    ]);
    if let (true, Some(cc)) = (scan.cgo, scan.cc) {
        env.push(("CC".to_string(), cc.to_string()));
    }
    GoCommand { args, env }
}

/// The build cache id: one cache per Go release, target and tag set, so
/// platforms and tag sets never evict each other's entries.
pub fn build_cache_id(toolchain: &Toolchain, target: &Platform, tags: &[&str]) -> String {
    let mut tags: Vec<&str> = tags.to_vec();
    tags.sort_unstable();
    tags.dedup();
    let target = target.to_string().replace('/', "-");
    let release = cache_id_part(&toolchain.release);
    if tags.is_empty() {
        format!("golb/gocache/go{release}/{target}")
    } else {
        format!("golb/gocache/go{release}/{target}/{}", tags.join("+"))
    }
}

/// A release (or image reference) as one part of a cache id.
fn cache_id_part(release: &str) -> String {
    release
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> GoModule {
        GoModule {
            path: "example.com/hello".into(),
            ..GoModule::default()
        }
    }

    fn module_with_go_line() -> GoModule {
        let files = [(
            "go.mod".to_string(),
            b"module example.com/hello\ngo 1.26.0\n".to_vec(),
        )]
        .into();
        GoModule::from_files("", &files).unwrap()
    }

    #[test]
    fn a_go_line_that_is_no_release_is_an_error_at_the_spec_top() {
        let files = [(
            "go.mod".to_string(),
            b"module example.com/ws\n\ngo '.26\n".to_vec(),
        )]
        .into();
        let module = GoModule::from_files("", &files).unwrap();
        let spec = Spec::parse("golb.toml", "[[binary]]\npackage = \".\"\n").unwrap();
        let Err(error) = builder_image(&spec, &module) else {
            // go.mod's reader may refuse the line itself: then there is no release to check.
            return;
        };
        assert!(
            error.location.line >= 1 && error.location.col >= 1,
            "{error}"
        );
        assert!(error.to_string().contains("go.mod's `go` line"), "{error}");
    }

    #[test]
    fn the_builder_follows_the_spec_then_go_mod() {
        let spec = Spec::parse("golb.toml", "[builder]\ngo = \"1.25\"\n").unwrap();
        let (image, toolchain) = builder_image(&spec, &module_with_go_line()).unwrap();
        assert_eq!(image.to_string(), "docker.io/library/golang:1.25");
        assert_eq!(toolchain.release, "1.25");

        let spec = Spec::parse("golb.toml", "").unwrap();
        let (image, _) = builder_image(&spec, &module_with_go_line()).unwrap();
        assert_eq!(image.to_string(), "docker.io/library/golang:1.26");

        let spec =
            Spec::parse("golb.toml", "[builder]\nimage = \"127.0.0.1:5000/go:x\"\n").unwrap();
        let (image, _) = builder_image(&spec, &module_with_go_line()).unwrap();
        assert_eq!(image.to_string(), "127.0.0.1:5000/go:x");
    }

    #[test]
    fn build_flags_are_fixed_and_user_ldflags_come_last() {
        let build = GoBuild {
            cgo: false,
            cc: None,
            package: "./cmd/server",
            output_name: "server",
            ldflags: vec!["-X main.version=1.2.3"],
            tags: vec!["netgo", "osusergo"],
        };
        let args = build_command(&build, &module());
        assert_eq!(
            args,
            [
                "go",
                "build",
                "-v",
                "-trimpath",
                "-buildvcs=false",
                "-mod=readonly",
                "-tags",
                "netgo,osusergo",
                "-ldflags",
                "-s -w -buildid= -X main.version=1.2.3",
                "-o",
                "/out/server",
                "./cmd/server"
            ]
        );
    }

    #[test]
    fn vendored_modules_build_from_vendor() {
        let vendored = GoModule {
            vendored: true,
            ..module()
        };
        let build = GoBuild {
            cgo: false,
            cc: None,
            package: ".",
            output_name: "hello",
            ldflags: vec![],
            tags: vec![],
        };
        assert!(build_command(&build, &vendored).contains(&"-mod=vendor".to_string()));
    }

    #[test]
    fn a_cgo_build_uses_the_c_compiler_named_for_its_target() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let build = |cgo: bool, cc: Option<&'static str>| {
            let build = GoBuild {
                cgo,
                cc,
                package: "./cmd/notes",
                output_name: "notes",
                ldflags: vec![],
                tags: vec![],
            };
            build_step(
                &build,
                &module(),
                &Modules::default(),
                &arm64,
                &BuildCache::Program,
            )
            .env
        };
        let get = |env: &[(String, String)], k: &str| {
            env.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let cross = build(true, Some("aarch64-linux-gnu-gcc"));
        assert_eq!(get(&cross, "CGO_ENABLED"), ["1"]);
        assert_eq!(get(&cross, "CC"), ["aarch64-linux-gnu-gcc"]);
        assert_eq!(get(&cross, "GOARCH"), ["arm64"]);
        // The builder's own gcc: no CC. Without cgo a compiler changes nothing.
        assert!(get(&build(true, None), "CC").is_empty());
        let static_build = build(false, Some("aarch64-linux-gnu-gcc"));
        assert!(get(&static_build, "CC").is_empty());
        assert_eq!(get(&static_build, "CGO_ENABLED"), ["0"]);
    }

    #[test]
    fn build_env_is_static_and_cross_compiles() {
        let arm = Platform::parse("linux/arm/v7").unwrap();
        let env = build_env(&Modules::default(), &arm);
        let has = |k: &str, v: &str| env.contains(&(k.to_string(), v.to_string()));
        assert!(
            has("CGO_ENABLED", "0")
                && has("GOARCH", "arm")
                && has("GOARM", "7")
                && has("GOTOOLCHAIN", "local")
        );
        assert!(
            !env.iter().any(|(k, _)| k == "GOPROXY"),
            "no GOPROXY unless the spec sets one"
        );
        let spec = crate::spec::Spec::parse(
            "golb.toml",
            "[modules]\nproxy = \"https://p\"\nflags = \"-modcacherw\"\n",
        )
        .unwrap();
        let env = build_env(&spec.modules, &arm);
        assert!(
            !env.iter().any(|(k, _)| k == "GOPROXY"),
            "the proxy is the download step's business"
        );
        assert!(env.contains(&("GOFLAGS".to_string(), "-modcacherw".to_string())));
    }

    #[test]
    fn modules_settings_and_credentials_reach_the_environment() {
        let spec = crate::spec::Spec::parse(
            "golb.toml",
            "[modules]\nproxy = \"http://127.0.0.1:3000\"\nprivate = \"golb.test/*\"\nssh = [\"github.com/acme\"]\n",
        )
        .unwrap();
        let env = module_env(&spec.modules);
        assert!(env.contains(&("GOPROXY".into(), "http://127.0.0.1:3000".into())));
        assert!(env.contains(&("GOPRIVATE".into(), "golb.test/*".into())));
        let creds = credential_env(&spec.modules);
        assert!(creds.contains(&("NETRC".into(), NETRC_PATH.into())));
        assert!(creds.contains(&(
            "GIT_CONFIG_KEY_0".into(),
            "url.ssh://git@github.com/acme/.insteadOf".into()
        )));
        assert!(creds.contains(&(
            "GIT_CONFIG_VALUE_0".into(),
            "https://github.com/acme/".into()
        )));
    }

    #[test]
    fn known_hosts_become_a_file_and_a_strict_ssh_command() {
        let key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        let spec = crate::spec::Spec::parse(
            "golb.toml",
            &format!("[modules]\nssh = [\"github.com/acme\"]\nknown_hosts = [\"github.com ssh-ed25519 {key}\", \"[git.example.com]:2222 ssh-ed25519 {key}\"]\n"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            known_hosts_file(&spec.modules).as_deref(),
            Some(
                format!("github.com ssh-ed25519 {key}\n[git.example.com]:2222 ssh-ed25519 {key}\n")
                    .as_str()
            )
        );
        let creds = credential_env(&spec.modules);
        assert!(creds.contains(&(
            "GIT_SSH_COMMAND".into(),
            "ssh -o UserKnownHostsFile=/run/golb/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes".into()
        )));
        // Without known_hosts, the builder image's ssh settings (and its known_hosts) apply.
        let spec =
            crate::spec::Spec::parse("golb.toml", "[modules]\nssh = [\"github.com/acme\"]\n")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(known_hosts_file(&spec.modules), None);
        assert!(!credential_env(&spec.modules)
            .iter()
            .any(|(k, _)| k == "GIT_SSH_COMMAND"));
    }

    #[test]
    fn build_cache_ids_separate_releases_targets_and_tags() {
        let go = Toolchain {
            release: "1.26".into(),
        };
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert_eq!(
            build_cache_id(&go, &amd64, &[]),
            "golb/gocache/go1.26/linux-amd64"
        );
        assert_eq!(
            build_cache_id(&go, &arm64, &["b", "a", "b"]),
            "golb/gocache/go1.26/linux-arm64/a+b"
        );
        let image = Toolchain {
            release: "registry.example.com/go:1@sha256:ab".into(),
        };
        assert_eq!(
            build_cache_id(&image, &amd64, &[]),
            "golb/gocache/goregistry.example.com-go-1-sha256-ab/linux-amd64"
        );
    }
}
