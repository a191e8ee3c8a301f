//! The Go steps of a build: the builder, the module files, the download,
//! the dependency compile, `go build` per binary and target, and `go test` /
//! `go vet`. go_build decides every command and its environment; this module
//! only gives each its inputs as mounts, so that a step's cache key is
//! exactly what decides its result.

use super::{image_source, BinaryPlan, PlanError, PlanInput, SPEC_SOURCE, SPEC_TOP};
use crate::go_build::{self, BuildCache, GoBuild, GoCheck, GoCommand, Toolchain};
use crate::go_module::{self, GoModule};
use crate::go_packages;
use crate::image_config;
use crate::options::{BuildOptions, Step};
use golb_proto::llb::{
    CacheSharing, ContentCache, Copy, Exec, File, Mkfile, Mount, Platform, State,
};
use std::collections::BTreeSet;

pub(super) fn builder_state(input: &PlanInput<'_>) -> State {
    let builder = &input.builder.reference;
    let mut image = image_source(
        builder,
        input.build_platform,
        format!("[builder] {}", builder),
        input.options,
    );
    let builder = &input.spec.builder;
    let location = builder
        .image
        .as_ref()
        .or(builder.go.as_ref())
        .map(|v| v.location)
        .or(builder.location);
    image = image.location(SPEC_SOURCE, location.unwrap_or(SPEC_TOP));
    input
        .builder
        .replacement
        .clone()
        .unwrap_or_else(|| image.build())
}

/// The builder's environment: the image's, with golb's Go settings on top.
fn builder_env(input: &PlanInput<'_>, golb_env: &[(String, String)]) -> Vec<(String, String)> {
    let image_env = image_config::env_of(&input.builder.config);
    let has_path = image_env.iter().any(|e| e.starts_with("PATH="));
    let mut env: Vec<String> = image_env;
    if !has_path {
        env.insert(0, format!("PATH={}", go_build::DEFAULT_PATH));
    }
    let env = image_config::merge_env(&env, golb_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    env.iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The exec of a Go command on the builder, its environment the builder
/// image's with golb's on top.
pub(super) fn go_exec(input: &PlanInput<'_>, builder: State, command: GoCommand) -> Exec {
    builder_env(input, &command.env)
        .into_iter()
        .fold(Exec::new(builder, command.args), |exec, (key, value)| {
            exec.env(key, value)
        })
}

/// `--add-host` entries, on every step that runs Go: a private proxy or VCS
/// host named in the spec must resolve for `go mod download`, and `go test`
/// may reach the network too.
pub(super) fn with_hosts(exec: Exec, options: &BuildOptions) -> Exec {
    options
        .extra_hosts
        .iter()
        .fold(exec, |exec, (host, ip)| exec.extra_host(host.clone(), *ip))
}

/// Go's own build cache directory for `target` and `tags`, a cache mount:
/// for the steps that compile or load packages but whose results are not
/// compiled packages (test, vet, govulncheck).
pub(super) fn go_cache(go: &GoSteps, target: &Platform, tags: &[&str]) -> Mount {
    Mount::cache(
        go_build::GOCACHE,
        go_build::build_cache_id(&go.toolchain, target, tags),
        CacheSharing::Shared,
    )
}

pub(super) fn module_cache() -> Mount {
    Mount::cache(
        go_build::GOMODCACHE,
        go_build::MODULE_CACHE_ID,
        CacheSharing::Shared,
    )
}

/// `go mod download`, whose only inputs are the module files: editing a .go
/// file leaves its cache key, and so the downloaded modules, untouched. Its
/// result is the output directory `golb step modules` fills with exactly the
/// build's modules (`go_build::MODULES_DIR`), which travels with the cache;
/// the shared module cache mount only saves this builder a second fetch.
/// Credentials reach this step only, as BuildKit secret and SSH mounts, which
/// are part of neither a layer nor the cache key: a CI runner importing the
/// step from a cache needs them only when go.mod or go.sum change. Vendored
/// modules, and modules that require nothing, need no download (a container
/// start saved on every cold build).
fn download_modules(input: &PlanInput<'_>, files: &ModuleFiles, builder: State) -> Option<State> {
    let module = input.module;
    if module.vendored || !module.requires_modules {
        return None;
    }
    let command = go_build::download_command(&input.spec.modules);
    let mut exec = go_exec(input, builder, command)
        .cwd(source_dir(module))
        .mount(module_cache())
        .mount(golb_mount(input))
        .mount(Mount::scratch(go_build::MODULES_DIR))
        .mount(Mount::secret(go_build::NETRC_PATH, go_build::NETRC_SECRET).optional(true))
        .custom_name("[golb] go mod download")
        .ignore_cache(input.options.no_cache.covers(Step::Download));
    exec = with_hosts(exec, input.options);
    if !input.spec.modules.ssh.is_empty() {
        exec =
            exec.mount(Mount::ssh(go_build::SSH_AGENT_PATH, go_build::SSH_AGENT_ID).optional(true));
    }
    if let Some(known_hosts) = go_build::known_hosts_file(&input.spec.modules) {
        exec = exec.mount(
            Mount::readonly_bind(
                go_build::KNOWN_HOSTS_PATH,
                known_hosts_state(input, known_hosts),
            )
            .selector(KNOWN_HOSTS_FILE),
        );
    }
    exec = files.mount_all(exec, input.module);
    let location = input
        .spec
        .modules
        .location
        .or(input.spec.builder.location)
        .unwrap_or(SPEC_TOP);
    exec = exec.location(SPEC_SOURCE, location);
    exec.build().output(go_build::MODULES_DIR).ok()
}

/// The module files of the build (go.mod, go.work and the go.mod of each
/// local module, and vendor/; the sums apart), copied out of the context by
/// content. Steps mount them from these copies, not from the context: a
/// copy's cache key is its content, the same on every builder, so the steps
/// that read only them (the download and the dependency compile) are keyed
/// by ordinary step keys a fresh runner can match without looking at the
/// content of their inputs again.
pub(super) struct ModuleFiles {
    /// go.mod, go.work, the local modules' go.mod, and vendor/ when vendored.
    graph: State,
    /// go.sum and go.work.sum, when the build has any.
    pub(super) sums: Option<State>,
}

fn module_files(input: &PlanInput<'_>) -> ModuleFiles {
    let module = input.module;
    let (sums, mut graph): (Vec<String>, Vec<String>) = module
        .module_files
        .iter()
        .cloned()
        .partition(|f| go_build::is_sum_file(f));
    if module.vendored {
        graph.push(go_module::join(&module.dir, "vendor/**"));
    }
    ModuleFiles {
        graph: context_files(input, graph, "the module files"),
        sums: (!sums.is_empty()).then(|| context_files(input, sums, "the module sums")),
    }
}

/// The context's files that match `patterns`, at their places on an empty
/// root, with their times fixed: a step that mounts them is keyed on their
/// content alone.
fn context_files(input: &PlanInput<'_>, patterns: Vec<String>, what: &str) -> State {
    File::new(State::scratch())
        .copy(
            Copy::new(input.context.clone(), "/", "/")
                .include_patterns(patterns)
                .dir_copy_contents(true)
                .timestamp_unix_nanos(0),
        )
        .custom_name(format!("[golb] {what}"))
        .location(SPEC_SOURCE, SPEC_TOP)
        .build()
}

impl ModuleFiles {
    /// Mounts each module file at its place under the source directory,
    /// the sums only when `with_sums`.
    fn mount(&self, exec: Exec, module: &GoModule, with_sums: bool) -> Exec {
        let mut exec = module.module_files.iter().fold(exec, |exec, file| {
            let from = match (&self.sums, go_build::is_sum_file(file)) {
                (Some(sums), true) if with_sums => sums,
                (_, true) => return exec,
                (_, false) => &self.graph,
            };
            exec.mount(
                Mount::readonly_bind(format!("{}/{file}", go_build::SOURCE_DIR), from.clone())
                    .selector(format!("/{file}")),
            )
        });
        if module.vendored {
            let vendor = go_module::join(&module.dir, "vendor");
            exec = exec.mount(
                Mount::readonly_bind(
                    format!("{}/{vendor}", go_build::SOURCE_DIR),
                    self.graph.clone(),
                )
                .selector(format!("/{vendor}")),
            );
        }
        exec
    }

    fn mount_all(&self, exec: Exec, module: &GoModule) -> Exec {
        self.mount(exec, module, true)
    }
}

/// golb's binary from its own image, read-only, for `golb step …`. Only
/// the binary: BuildKit keys a read-only mount on its content, and the
/// image's root directory is not the same on every builder (the frontend
/// container that ran from it leaves mount points behind), while the binary is.
pub(super) fn golb_mount(input: &PlanInput<'_>) -> Mount {
    Mount::readonly_bind(go_build::GOLB_BIN, input.golb.clone()).selector(go_build::GOLB_IN_IMAGE)
}

/// The modules the Go steps read: the download step's output, read-only, as
/// the module cache. Without one (vendored, or nothing required) an empty
/// directory of the builder serves.
pub(super) fn with_modules(exec: Exec, go: &GoSteps) -> Exec {
    with_modules_keyed(exec, go, ContentCache::Default)
}

/// `with_modules`, with the mount keyed as `content` says.
fn with_modules_keyed(exec: Exec, go: &GoSteps, content: ContentCache) -> Exec {
    match &go.modules {
        Some(modules) => exec.mount(
            Mount::readonly_bind(go_build::GOMODCACHE, modules.clone()).content_cache(content),
        ),
        None => exec,
    }
}

/// How `go build` keys the snapshots golb made for it (the modules, the
/// compiled dependencies): on their steps' keys, not on their files. BuildKit
/// hashes every file of a read-only mount before a step that has to run, and
/// a fresh runner's code edit always has to run `go build`: it hashed the
/// freshly downloaded snapshots (89 MB for examples/hello's dependencies)
/// before the compile. The hash would only keep `go build` cached when one of
/// those steps ran again and made the same files, and each of them runs
/// again only on an input `go build` reads as well (go.mod, go.sum, an
/// import line, the builder, golb), which runs `go build` anyway.
const BUILD_SNAPSHOT_KEY: ContentCache = ContentCache::Off;

/// What every Go step of a plan shares.
pub(super) struct GoSteps {
    /// The builder image's filesystem.
    pub(super) builder: State,
    /// The builder's GOROOT alone (`goroot_root`), unless no compile can run
    /// on it: a builder replaced by a named context keeps its own layout.
    goroot: Option<State>,
    /// The module files, copied out of the context (`module_files`).
    pub(super) files: ModuleFiles,
    /// The download step's module cache, when there is one.
    modules: Option<State>,
    pub(super) toolchain: Toolchain,
    /// The builder's Go release, when golb can tell.
    pub(super) release: Option<String>,
}

impl GoSteps {
    pub(super) fn new(input: &PlanInput<'_>) -> Result<GoSteps, PlanError> {
        let (_, toolchain) = go_build::builder_image(input.spec, input.module)?;
        let builder = builder_state(input);
        let files = module_files(input);
        let modules = download_modules(input, &files, builder.clone());
        let goroot = match go_build::compiles_on_goroot_alone(input.spec, false)
            && input.builder.replacement.is_none()
        {
            true => Some(goroot_root(input, &builder)?),
            false => None,
        };
        Ok(GoSteps {
            builder,
            goroot,
            files,
            modules,
            toolchain,
            release: go_build::builder_release(input.spec, &input.builder.config, input.module),
        })
    }

    /// The root filesystem of a `go build`: the GOROOT copy when the
    /// compile can run on it, else the builder.
    fn build_root(&self, input: &PlanInput<'_>, cgo: bool) -> State {
        match &self.goroot {
            Some(goroot) if go_build::compiles_on_goroot_alone(input.spec, cgo) => goroot.clone(),
            _ => self.builder.clone(),
        }
    }

    /// The build cache of a compile for `target` with `tags`.
    fn cache(&self, target: &Platform, tags: &[&str]) -> BuildCache {
        go_build::build_cache(&self.toolchain, self.release.as_deref(), target, tags)
    }
}

/// The context as `go build` reads it: only Go inputs, module files, vendor/
/// and embedded files, copied out of the context so that the build step's
/// cache key is their content alone (BuildKit keys a copy with include
/// patterns on the files that match).
pub(super) fn build_inputs(input: &PlanInput<'_>) -> State {
    let patterns = go_build::build_input_patterns(input.module, &input.sources.embed_patterns);
    File::new(State::scratch())
        .copy(
            Copy::new(input.context.clone(), "/", "/")
                .include_patterns(patterns)
                .exclude_patterns(go_build::build_input_excludes())
                .dir_copy_contents(true)
                .timestamp_unix_nanos(0),
        )
        .custom_name("[golb] the context's Go inputs")
        .location(SPEC_SOURCE, SPEC_TOP)
        .build()
}

/// The builder's GOROOT, only the files a compile reads
/// (`go_build::goroot_keeps`), at its place on an empty root: `go build`
/// runs on it. Its key is the builder's digest and golb's, so a fresh runner
/// that imported it from a cache unpacks it alone and never pulls the
/// builder image's layers for a code edit.
fn goroot_root(input: &PlanInput<'_>, builder: &State) -> Result<State, PlanError> {
    let exec = Exec::new(builder.clone(), go_build::goroot_copy_args())
        .mount(golb_mount(input))
        .mount(Mount::scratch(go_build::GOROOT_COPY_DIR))
        .network_none()
        // Not "go build" in the name: tests and scripts/bench find the build
        // steps by that text.
        .custom_name("[golb] GOROOT, copied from the builder")
        .location(SPEC_SOURCE, SPEC_TOP);
    Ok(exec.build().output(go_build::GOROOT_COPY_DIR)?)
}

/// Compiles the standard library and dependency packages the binaries import,
/// for every target platform and tag set, into one snapshot the build steps
/// read. Its inputs are only what decides those results: the builder (Go
/// release), the targets and tags (the jobs), the module versions (go.mod
/// and the modules), and the packages read from the module's import lines
/// (the jobs). An edit to a function body, or to the module's own packages,
/// keeps it cached; the snapshot travels with `--cache-to … mode=max`, so a
/// fresh CI runner compiles only the module's own packages.
pub(super) fn compile_dependencies(
    input: &PlanInput<'_>,
    go: &GoSteps,
    binaries: &[BinaryPlan],
) -> Result<Option<State>, PlanError> {
    if go.cache(input.build_platform, &[]) != BuildCache::Program {
        return Ok(None);
    }
    // One job per target, tag set, cgo setting and PGO profile the binaries
    // build with.
    let mut builds: Vec<(Vec<String>, bool, Option<String>)> = binaries
        .iter()
        .map(|b| (go_build::tag_key(&b.tags), b.cgo, profiled_dir(input, b)))
        .collect();
    builds.sort();
    builds.dedup();
    let profiled: BTreeSet<&String> = builds.iter().filter_map(|(_, _, p)| p.as_ref()).collect();
    let mut jobs: Vec<_> = profiled
        .iter()
        .map(|dir| go_build::pgo_profile_job(&go_build::pgo_profile_path(dir)))
        .collect();
    for target in &input.targets {
        for (tags, cgo, profiled) in &builds {
            let Some(packages) = input.sources.external_imports_for(tags) else {
                continue;
            };
            if packages.is_empty() {
                continue;
            }
            let packages: Vec<String> = packages.iter().cloned().collect();
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            let cgo = match cgo {
                true => go_build::Cgo::On {
                    cc: input.spec.builder.cc_command(&target.platform),
                },
                false => go_build::Cgo::Off,
            };
            let profile = profiled.as_deref().map(go_build::pgo_profile_path);
            jobs.push(go_build::dependencies_job(
                input.module,
                &target.platform,
                &tags,
                cgo,
                profile.as_deref(),
                &packages,
            ));
        }
    }
    if jobs.is_empty() {
        return Ok(None);
    }
    let command = go_build::dependencies_command(&jobs, &input.spec.modules, input.build_platform);
    let platforms: Vec<String> = input
        .targets
        .iter()
        .map(|t| t.platform.to_string())
        .collect();
    // On the builder, not the GOROOT copy: on a cold build this step would
    // otherwise wait for the copy, which now runs beside it; a fresh runner
    // that needs this step compiles every dependency anyway. The compiled entries are the same: Go keys them on
    // the tools and the standard library's files, which the copy holds as is.
    let mut exec = go_exec(input, go.builder.clone(), command)
        .cwd(source_dir(input.module))
        .mount(golb_mount(input))
        .mount(prog_cache(&go.toolchain))
        .mount(Mount::tmpfs(go_build::TEMP_DIR))
        .mount(Mount::scratch(go_build::COMPILED_DIR))
        .custom_name(format!(
            "[golb] compile the standard library and dependencies ({})",
            platforms.join(", ")
        ))
        .ignore_cache(input.options.no_cache.covers(Step::Build))
        .network_none()
        .location(SPEC_SOURCE, input.spec.builder.location.unwrap_or(SPEC_TOP));
    exec = with_modules(exec, go);
    exec = go.files.mount(exec, input.module, input.module.workspace);
    if !profiled.is_empty() {
        let dirs: Vec<&str> = profiled.iter().map(|d| d.as_str()).collect();
        let profiles = pgo_profiles(input, &dirs);
        exec = dirs.iter().fold(exec, |exec, dir| {
            exec.mount(
                Mount::readonly_bind(go_build::pgo_profile_path(dir), profiles.clone())
                    .selector(format!("/{}", go_build::pgo_profile_in_context(dir))),
            )
        });
    }
    Ok(Some(exec.build().output(go_build::COMPILED_DIR)?))
}

/// The directory of `binary`'s main package when it holds a PGO profile.
fn profiled_dir(input: &PlanInput<'_>, binary: &BinaryPlan) -> Option<String> {
    go_packages::package_dir(&input.module.dir, &binary.package)
        .filter(|dir| input.sources.profiled_dirs.contains(dir))
}

/// The binaries' PGO profiles, copied out of the context: the dependency
/// step compiles with them, and is keyed on them alone, not on the rest of
/// the binaries' directories.
fn pgo_profiles(input: &PlanInput<'_>, dirs: &[&str]) -> State {
    let patterns = dirs
        .iter()
        .map(|d| go_build::pgo_profile_in_context(d))
        .collect();
    context_files(input, patterns, "the PGO profiles")
}

/// The builder's store of build cache entries (`golb step gocacheprog`).
fn prog_cache(toolchain: &Toolchain) -> Mount {
    Mount::cache(
        go_build::PROG_CACHE_DIR,
        go_build::prog_cache_id(toolchain),
        CacheSharing::Shared,
    )
}

/// The known_hosts file's path in its own scratch state.
const KNOWN_HOSTS_FILE: &str = "/known_hosts";

/// `[modules] known_hosts` as a file on scratch, for the download step to
/// mount. Its time is fixed at the epoch rather than SOURCE_DATE_EPOCH: ssh
/// ignores it, and a new SOURCE_DATE_EPOCH must not download modules again.
fn known_hosts_state(input: &PlanInput<'_>, text: String) -> State {
    let location = input
        .spec
        .modules
        .known_hosts
        .first()
        .map(|l| l.location)
        .or(input.spec.modules.location)
        .unwrap_or(SPEC_TOP);
    File::new(State::scratch())
        .mkfile(Mkfile::new(KNOWN_HOSTS_FILE, 0o644, text).timestamp_unix_nanos(0))
        .custom_name("[golb] known_hosts for [modules] ssh")
        .location(SPEC_SOURCE, location)
        .build()
}

/// The context, read-only under /src, for the steps that run Go on the
/// sources: only the directories Go reads (the module's, its workspace
/// members' and local replacements'), each by a selector, so the step's cache
/// key is their content alone — an edit to another service of a monorepo, or
/// to docs beside it, keeps the build cached. A module at the context root
/// mounts the whole context.
fn with_sources(exec: Exec, input: &PlanInput<'_>) -> Exec {
    input.module.source_dirs.iter().fold(exec, |exec, dir| {
        let mount = if dir.is_empty() {
            Mount::readonly_bind(go_build::SOURCE_DIR, input.context.clone())
        } else {
            Mount::readonly_bind(
                format!("{}/{dir}", go_build::SOURCE_DIR),
                input.context.clone(),
            )
            .selector(format!("/{dir}"))
        };
        exec.mount(mount)
    })
}

/// Where the module sits in the builder: its directory under the context mount.
pub(super) fn source_dir(module: &GoModule) -> String {
    if module.dir.is_empty() {
        go_build::SOURCE_DIR.to_string()
    } else {
        format!("{}/{}", go_build::SOURCE_DIR, module.dir)
    }
}

/// `go build` of one binary for one target, into an otherwise empty output.
/// It reads the module's Go inputs, the modules, and the compiled
/// dependencies as snapshots, so it builds the same on a fresh builder that
/// imported them from a cache as on the builder that made them; the cache
/// mount only keeps the module's own compiled packages for the next build
/// here.
pub(super) fn build_binary(
    input: &PlanInput<'_>,
    go: &GoSteps,
    build_inputs: &State,
    dependencies: Option<State>,
    binary: &BinaryPlan,
    target: &Platform,
) -> Result<State, PlanError> {
    let tags: Vec<&str> = binary.tags.iter().map(String::as_str).collect();
    let build = GoBuild {
        package: &binary.package,
        output_name: &binary.name,
        ldflags: binary.ldflags.iter().map(String::as_str).collect(),
        tags: tags.clone(),
        cgo: binary.cgo,
        cc: input.spec.builder.cc_command(target),
    };
    let cache = go.cache(target, &tags);
    let command = go_build::build_step(&build, input.module, &input.spec.modules, target, &cache);
    let mut exec = go_exec(input, go.build_root(input, binary.cgo), command)
        .cwd(source_dir(input.module))
        .mount(Mount::readonly_bind(
            go_build::SOURCE_DIR,
            build_inputs.clone(),
        ))
        .mount(Mount::tmpfs(go_build::TEMP_DIR))
        .mount(Mount::scratch(go_build::OUTPUT_DIR))
        .custom_name(format!(
            "[golb] go build {} → {} ({target})",
            binary.package, binary.name
        ))
        .ignore_cache(input.options.no_cache.covers(Step::Build))
        // Everything the build needs is in the modules snapshot (or vendor/):
        // without a network nothing unpinned can reach the binary, and a
        // module the download missed fails here instead of being fetched on
        // the side.
        .network_none()
        .location(SPEC_SOURCE, binary.location);
    match cache {
        BuildCache::Program => {
            exec = exec
                .mount(golb_mount(input))
                .mount(prog_cache(&go.toolchain));
            if let Some(dependencies) = dependencies {
                exec = exec.mount(
                    Mount::readonly_bind(go_build::COMPILED_DIR, dependencies)
                        .content_cache(BUILD_SNAPSHOT_KEY),
                );
            }
        }
        BuildCache::Directory { id } => {
            exec = exec.mount(Mount::cache(go_build::GOCACHE, id, CacheSharing::Shared));
        }
    }
    let exec = with_modules_keyed(with_hosts(exec, input.options), go, BUILD_SNAPSHOT_KEY);
    Ok(exec.build().output(go_build::OUTPUT_DIR)?)
}

/// `go test` or `go vet` over the module on the build platform, with the
/// same caches as the build. Its output is the coverage profile (test) or
/// nothing (vet); a failure fails the build.
pub(super) fn check_module(
    input: &PlanInput<'_>,
    go: &GoSteps,
    check: GoCheck,
) -> Result<State, PlanError> {
    let spec = input.spec;
    let command = go_build::check_command(
        check,
        input.module,
        &spec.test,
        &spec.modules,
        input.build_platform,
    );
    let (verb, step) = match check {
        GoCheck::Test => ("test", Step::Test),
        GoCheck::Vet => ("vet", Step::Vet),
    };
    let exec = go_exec(input, go.builder.clone(), command)
        .cwd(source_dir(input.module))
        .mount(go_cache(go, input.build_platform, &[]))
        .mount(Mount::tmpfs(go_build::TEMP_DIR))
        .mount(Mount::scratch(go_build::OUTPUT_DIR))
        .custom_name(format!("[golb] go {verb} {}", spec.test.packages.join(" ")))
        .ignore_cache(input.options.no_cache.covers(step));
    let exec = with_modules(with_sources(with_hosts(exec, input.options), input), go);
    let exec = exec.location(SPEC_SOURCE, spec.test.location.unwrap_or(SPEC_TOP));
    Ok(exec.build().output(go_build::OUTPUT_DIR)?)
}
