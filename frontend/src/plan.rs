//! The Go build plan: a checked spec, the module's facts and the resolved
//! images in, one LLB graph and image config per target platform out.
//!
//! The graph, by construction:
//!   builder image ── go mod download (inputs: go.mod/go.sum only) ── go build per binary
//!                                                   (context bind-mounted read-only, output to scratch)
//!   runtime base ── one FileOp copying only the binaries = exactly one layer

use crate::go_build::{self, GoBuild, Toolchain};
pub use crate::options::{BuildOptions, BuildTarget, NoCache, Step};
use crate::go_module::{self, GoModule};
use crate::go_packages::GoSources;
use crate::image_config::{self, RuntimeImage};
use crate::image_ref::ImageRef;
use crate::spec::{self, Location, Spec, SpecError, DEFAULT_RUNTIME_BASE};
use golb_proto::llb::{
    CacheSharing, Copy, Exec, File, Image, Mkdir, Mkfile, Mount, Platform, State,
};
use serde_json::Value;
use std::collections::BTreeSet;

/// Index of the spec file in the Definition's source map.
const SPEC_SOURCE: usize = 0;

/// An image reference after resolution: pinned by digest when the resolver
/// gave one (always, through BuildKit), with its config.
#[derive(Clone, Debug)]
pub struct ResolvedImage {
    pub reference: ImageRef,
    pub config: Value,
    /// A named build context (`--build-context NAME=DIR`) standing in for
    /// the image: its files are used instead of pulling `reference`.
    pub replacement: Option<State>,
    /// Which of the `[[file]]` destinations and their parent directories are
    /// directories in this image, when the frontend looked (it does for
    /// runtime bases when the spec has `[[file]]`s); None when unknown.
    pub existing_dirs: Option<BTreeSet<String>>,
}

/// One target platform, with its runtime base resolved for that platform
/// (only the `image` target needs one).
pub struct Target {
    pub platform: Platform,
    pub base: Option<ResolvedImage>,
}

pub struct PlanInput<'a> {
    pub spec: &'a Spec,
    pub module: &'a GoModule,
    /// What the module's own packages import and embed (`go_packages`).
    pub sources: &'a GoSources,
    pub context: State,
    /// golb's own image, mounted into the steps that run `golb step …`.
    pub golb: State,
    pub builder: &'a ResolvedImage,
    pub build_platform: &'a Platform,
    pub targets: Vec<Target>,
    pub build_target: BuildTarget,
    pub options: &'a BuildOptions,
}

/// The result for one platform: its filesystem as LLB, and its image config
/// when it is an image.
pub struct PlatformImage {
    pub platform: Platform,
    pub state: State,
    pub config: Option<Value>,
}

/// A binary with every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryPlan {
    pub name: String,
    pub package: String,
    pub ldflags: Vec<String>,
    pub tags: Vec<String>,
    pub location: Location,
}

impl BinaryPlan {
    pub fn image_path(&self) -> String {
        format!("{}/{}", go_build::BINARY_DIR, self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Module(#[from] go_module::GoModuleError),
    #[error("golb built an invalid graph (a bug, please report it): {0}")]
    Llb(#[from] golb_proto::llb::LlbError),
}

/// The builder image the spec asks for: `[builder] image`, else `golang:<go>`
/// with `go` from the spec or, failing that, from go.mod.
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
                spec.builder.location.unwrap_or(SPEC_TOP),
                "go.mod has no `go` line to choose the Go release from: set [builder] go = \"1.26\"",
            )
        })?,
    };
    let reference = ImageRef::parse(&format!("golang:{release}"))
        .map_err(|e| spec.error_at(spec.builder.location.unwrap_or_default(), e.to_string()))?;
    Ok((reference, Toolchain { release }))
}

/// The runtime base the spec asks for, or distroless static nonroot.
pub fn runtime_base(spec: &Spec) -> Result<ImageRef, SpecError> {
    match &spec.runtime.base {
        Some(base) => {
            ImageRef::parse(&base.value).map_err(|e| spec.error_at(base.location, e.to_string()))
        }
        None => ImageRef::parse(DEFAULT_RUNTIME_BASE)
            .map_err(|e| spec.error_at(Location::default(), e.to_string())),
    }
}

/// The binaries to build, with names defaulted. With no `[[binary]]` the
/// module root is built, named after the module path.
pub fn binaries(spec: &Spec, module: &GoModule) -> Vec<BinaryPlan> {
    if spec.binaries.is_empty() {
        return vec![BinaryPlan {
            name: module.default_binary_name(),
            package: ".".to_string(),
            ldflags: vec![],
            tags: vec![],
            location: SPEC_TOP,
        }];
    }
    spec.binaries
        .iter()
        .map(|b| BinaryPlan {
            name: spec::default_binary_name(b).unwrap_or_else(|| module.default_binary_name()),
            package: b.package.value.clone(),
            ldflags: b.ldflags.iter().map(|f| f.value.clone()).collect(),
            tags: b.tags.iter().map(|t| t.value.clone()).collect(),
            location: b.location,
        })
        .collect()
}

/// The entrypoint when the spec sets none: the one binary. With several,
/// the spec must choose, or the image would start something arbitrary.
pub fn default_entrypoint(
    spec: &Spec,
    binaries: &[BinaryPlan],
) -> Result<Option<Vec<String>>, SpecError> {
    if spec.runtime.entrypoint.is_some() {
        return Ok(None);
    }
    match binaries {
        [only] => Ok(Some(vec![only.image_path()])),
        _ => {
            let names: Vec<String> = binaries.iter().map(BinaryPlan::image_path).collect();
            Err(spec.error_at(
                spec.runtime.location.unwrap_or(binaries[1].location),
                format!(
                    "{} binaries are built, so [runtime] must say which one starts: entrypoint = [{:?}] (one of {})",
                    binaries.len(),
                    names[0],
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Plans the whole build: one result per target platform (one in all for
/// `test` and `vet`, which run on the build platform).
pub fn plan(input: PlanInput<'_>) -> Result<Vec<PlatformImage>, PlanError> {
    let spec = input.spec;
    let binaries = binaries(spec, input.module);
    let (_, toolchain) = builder_image(spec, input.module)?;
    let builder = builder_state(&input);
    let files = module_files(&input);
    let modules = download_modules(&input, &files, builder.clone());
    let go = GoSteps {
        builder,
        files,
        modules,
        toolchain,
        gocacheprog: go_build::supports_gocacheprog(builder_release(&input).as_deref()),
    };

    match input.build_target {
        BuildTarget::Test | BuildTarget::Vet => {
            let state = check_module(&input, &go, input.build_target)?;
            return Ok(vec![PlatformImage {
                platform: input.build_platform.clone(),
                state,
                config: None,
            }]);
        }
        BuildTarget::Image | BuildTarget::Binaries => {}
    }

    let entrypoint = match input.build_target {
        BuildTarget::Image => default_entrypoint(spec, &binaries)?,
        _ => None,
    };
    let build_inputs = build_inputs(&input);
    let compiled = compile_dependencies(&input, &go, &binaries)?;
    let mut images = Vec::new();
    for target in &input.targets {
        let mut built = Vec::new();
        for binary in &binaries {
            let dependencies = compiled.clone();
            built.push((
                binary.clone(),
                build_binary(
                    &input,
                    &go,
                    &build_inputs,
                    dependencies,
                    binary,
                    &target.platform,
                )?,
            ));
        }
        let image = match (&input.build_target, &target.base) {
            (BuildTarget::Image, Some(base)) => {
                let created = image_config::rfc3339(input.options.source_date_epoch);
                let names: Vec<&str> = binaries.iter().map(|b| b.name.as_str()).collect();
                let config = image_config::runtime_config(
                    &base.config,
                    &RuntimeImage {
                        spec: &spec.runtime,
                        default_entrypoint: entrypoint.clone(),
                        platform: &target.platform,
                        created: &created,
                        layer_descriptions: spec
                            .files
                            .iter()
                            .map(|f| format!("golb: COPY {} {}", f.src, f.dest))
                            .chain([format!(
                                "golb: COPY {} {}/",
                                names.join(" "),
                                go_build::BINARY_DIR
                            )])
                            .collect(),
                    },
                );
                let with_files = files_layers(
                    &input,
                    base_state(&input, target, base),
                    base.existing_dirs.as_ref(),
                );
                let state =
                    binaries_layer(&input, target, with_files, &built, go_build::BINARY_DIR);
                PlatformImage {
                    platform: target.platform.clone(),
                    state,
                    config: Some(config),
                }
            }
            _ => {
                let state = binaries_layer(&input, target, State::scratch(), &built, "");
                PlatformImage {
                    platform: target.platform.clone(),
                    state,
                    config: None,
                }
            }
        };
        images.push(image);
    }
    Ok(images)
}

/// Where an op comes from when no key of the spec asked for it: the spec's
/// first line, so every op still points at the file that made it.
const SPEC_TOP: Location = Location::TOP;

fn image_source(
    reference: &ImageRef,
    platform: &Platform,
    name: String,
    options: &BuildOptions,
) -> Image {
    let image = Image::new(reference.to_string())
        .platform(platform.clone())
        .custom_name(name);
    match &options.image_resolve_mode {
        Some(mode) => image.resolve_mode(mode.clone()),
        None => image,
    }
}

fn builder_state(input: &PlanInput<'_>) -> State {
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
fn builder_env(input: &PlanInput<'_>, golb_env: Vec<(String, String)>) -> Vec<(String, String)> {
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

fn with_env(mut exec: Exec, env: Vec<(String, String)>) -> Exec {
    for (key, value) in env {
        exec = exec.env(key, value);
    }
    exec
}

/// `--add-host` entries, on every step that runs Go: a private proxy or VCS
/// host named in the spec must resolve for `go mod download`, and `go test`
/// may reach the network too.
fn with_hosts(exec: Exec, options: &BuildOptions) -> Exec {
    options
        .extra_hosts
        .iter()
        .fold(exec, |exec, (host, ip)| exec.extra_host(host.clone(), *ip))
}

fn module_cache() -> Mount {
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
    let mut env = go_build::module_env(&input.spec.modules);
    env.extend(go_build::credential_env(&input.spec.modules));
    let mut exec = Exec::new(builder, go_build::modules_args())
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
    exec = with_env(exec, builder_env(input, env));
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
struct ModuleFiles {
    /// go.mod, go.work, the local modules' go.mod, and vendor/ when vendored.
    graph: State,
    /// go.sum and go.work.sum, when the build has any.
    sums: Option<State>,
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
    let copy = |patterns: Vec<String>, what: &str| {
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
    };
    ModuleFiles {
        graph: copy(graph, "the module files"),
        sums: (!sums.is_empty()).then(|| copy(sums, "the module sums")),
    }
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
fn golb_mount(input: &PlanInput<'_>) -> Mount {
    Mount::readonly_bind(go_build::GOLB_BIN, input.golb.clone()).selector(go_build::GOLB_IN_IMAGE)
}

/// The modules the Go steps read: the download step's output, read-only, as
/// the module cache. Without one (vendored, or nothing required) an empty
/// directory of the builder serves.
fn with_modules(exec: Exec, go: &GoSteps) -> Exec {
    match &go.modules {
        Some(modules) => exec.mount(Mount::readonly_bind(go_build::GOMODCACHE, modules.clone())),
        None => exec,
    }
}

/// What every Go step of a plan shares.
struct GoSteps {
    /// The builder image's filesystem.
    builder: State,
    /// The module files, copied out of the context (`module_files`).
    files: ModuleFiles,
    /// The download step's module cache, when there is one.
    modules: Option<State>,
    toolchain: Toolchain,
    /// The builder's Go serves its build cache through `golb step
    /// gocacheprog`, so compiled dependencies can come from a snapshot.
    gocacheprog: bool,
}

/// The builder's Go release, as far as golb can tell: the spec's `go`, the
/// image config's `GOLANG_VERSION` (official golang images set it), go.mod's.
fn builder_release(input: &PlanInput<'_>) -> Option<String> {
    if let Some(go) = &input.spec.builder.go {
        return Some(go.value.clone());
    }
    let from_image = image_config::env_of(&input.builder.config)
        .iter()
        .find_map(|e| e.strip_prefix("GOLANG_VERSION=").map(String::from));
    if from_image.is_some() || input.spec.builder.image.is_some() {
        return from_image;
    }
    input.module.wanted_go_release()
}

/// Tags as a key: sorted, without duplicates (the order on the command line
/// does not change what Go compiles).
fn tag_key(tags: &[String]) -> Vec<String> {
    let mut key = tags.to_vec();
    key.sort();
    key.dedup();
    key
}

/// The context as `go build` reads it: only Go inputs, module files, vendor/
/// and embedded files, copied out of the context so that the build step's
/// cache key is their content alone (BuildKit keys a copy with include
/// patterns on the files that match).
fn build_inputs(input: &PlanInput<'_>) -> State {
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

/// Compiles the standard library and dependency packages the binaries import,
/// for every target platform and tag set, into one snapshot the build steps
/// read. Its inputs are only what decides those results: the builder (Go
/// release), the targets and tags (the jobs), the module versions (go.mod
/// and the modules), and the packages read from the module's import lines
/// (the jobs). An edit to a function body, or to the module's own packages,
/// keeps it cached; the snapshot travels with `--cache-to … mode=max`, so a
/// fresh CI runner compiles only the module's own packages.
fn compile_dependencies(
    input: &PlanInput<'_>,
    go: &GoSteps,
    binaries: &[BinaryPlan],
) -> Result<Option<State>, PlanError> {
    if !go.gocacheprog {
        return Ok(None);
    }
    let mut tag_sets: Vec<Vec<String>> = binaries.iter().map(|b| tag_key(&b.tags)).collect();
    tag_sets.sort();
    tag_sets.dedup();
    let mut jobs = Vec::new();
    for target in &input.targets {
        for tags in &tag_sets {
            let Some(packages) = input.sources.external_imports_for(tags) else {
                continue;
            };
            if packages.is_empty() {
                continue;
            }
            let packages: Vec<String> = packages.iter().cloned().collect();
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            jobs.push(go_build::dependencies_job(
                input.module,
                &target.platform,
                &tags,
                &packages,
            ));
        }
    }
    if jobs.is_empty() {
        return Ok(None);
    }
    let mut env = go_build::build_env(&input.spec.modules, input.build_platform);
    env.retain(|(k, _)| !matches!(k.as_str(), "GOOS" | "GOARCH" | "GOARM" | "GOAMD64"));
    env.extend(go_build::dependencies_env());
    let platforms: Vec<String> = input
        .targets
        .iter()
        .map(|t| t.platform.to_string())
        .collect();
    let mut exec = Exec::new(go.builder.clone(), go_build::dependencies_args(&jobs))
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
    let exec = with_env(exec, builder_env(input, env)).build();
    Ok(Some(exec.output(go_build::COMPILED_DIR)?))
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
fn source_dir(module: &GoModule) -> String {
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
fn build_binary(
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
    };
    let mut env = go_build::build_env(&input.spec.modules, target);
    let mut exec = Exec::new(
        go.builder.clone(),
        go_build::build_command(&build, input.module),
    )
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
    if go.gocacheprog {
        env.push(("GOCACHE".into(), go_build::SCRATCH_GOCACHE.into()));
        env.push(("GOCACHEPROG".into(), go_build::build_gocacheprog()));
        exec = exec
            .mount(golb_mount(input))
            .mount(prog_cache(&go.toolchain));
        if let Some(dependencies) = dependencies {
            exec = exec.mount(Mount::readonly_bind(go_build::COMPILED_DIR, dependencies));
        }
    } else {
        // An older Go: its own build cache, on this builder only.
        exec = exec.mount(Mount::cache(
            go_build::GOCACHE,
            go_build::build_cache_id(&go.toolchain, target, &tags),
            CacheSharing::Shared,
        ));
    }
    let exec = with_modules(with_hosts(exec, input.options), go);
    let exec = with_env(exec, builder_env(input, env)).build();
    Ok(exec.output(go_build::OUTPUT_DIR)?)
}

fn base_state(input: &PlanInput<'_>, target: &Target, base: &ResolvedImage) -> State {
    base_source(input.spec, base, &target.platform, input.options)
}

/// The runtime base's filesystem for `platform`: the pinned image, or the
/// named context that replaces it.
pub fn base_source(
    spec: &Spec,
    base: &ResolvedImage,
    platform: &Platform,
    options: &BuildOptions,
) -> State {
    if let Some(replacement) = &base.replacement {
        return replacement.clone();
    }
    let image = image_source(
        &base.reference,
        platform,
        format!("[runtime] {} ({})", base.reference, platform),
        options,
    );
    let runtime = &spec.runtime;
    let location = runtime
        .base
        .as_ref()
        .map(|b| b.location)
        .or(runtime.location)
        .unwrap_or(SPEC_TOP);
    image.location(SPEC_SOURCE, location).build()
}

/// The paths whose existence in the runtime base decides where each
/// `[[file]]` is laid: every destination and its parent directories.
pub fn file_destination_paths(spec: &Spec) -> BTreeSet<String> {
    spec.files
        .iter()
        .flat_map(|f| ancestors_and_self(&f.dest))
        .collect()
}

/// "/a/b/c" → ["/a", "/a/b", "/a/b/c"].
fn ancestors_and_self(path: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        paths.push(at.clone());
    }
    paths
}

/// Where a `[[file]]` is laid over the base: the deepest directory of its
/// destination path that the base has (the destination itself when it is a
/// directory there). The layer copies into it, so it and everything above it
/// keep the base's owner, mode and times; what is below is new. Without a
/// look at the base, the destination's parent.
fn file_anchor(dest: &str, existing_dirs: Option<&BTreeSet<String>>) -> String {
    let paths = ancestors_and_self(dest);
    match existing_dirs {
        Some(dirs) => paths
            .iter()
            .take_while(|p| dirs.contains(*p))
            .last()
            .cloned()
            .unwrap_or_else(|| "/".to_string()),
        None => match paths.len() {
            0 | 1 => "/".to_string(),
            n => paths[n - 2].clone(),
        },
    }
}

/// Lays a staged tree over `onto` at `at` (a directory `onto` has) as one
/// layer. A directory copy keeps the owner, mode and times of its target
/// directory (fsutil restores them), and gives what it creates below the
/// copy's time after their contents are in, so the layer's bytes depend on
/// its content and SOURCE_DATE_EPOCH only — copying single files into, say,
/// /usr directly would stamp /usr with the build's wall clock.
fn overlay(onto: State, staged: State, at: &str, timestamp: i64) -> File {
    File::new(onto).copy(
        Copy::new(staged, "/", at)
            .dir_copy_contents(true)
            // Only a guessed target may be missing (no look at the base).
            .create_dest_path(at != "/")
            .timestamp_unix_nanos(timestamp),
    )
}

/// One layer per `[[file]]`, below the binaries' layer: files change less
/// often than code, so their layers stay cached while binaries are rebuilt.
/// Directories the base has keep their owner and mode (a file into /tmp must
/// not take /tmp's sticky bit away); new parent directories are 0755 and
/// owned like the file, as `COPY --chown` makes them.
fn files_layers(
    input: &PlanInput<'_>,
    base: State,
    existing_dirs: Option<&BTreeSet<String>>,
) -> State {
    let timestamp = input
        .options
        .source_date_epoch
        .saturating_mul(1_000_000_000);
    input.spec.files.iter().fold(base, |onto, file| {
        let anchor = file_anchor(&file.dest, existing_dirs);
        // The destination relative to the anchor, as a path in the stage.
        let below = file.dest[anchor.len()..].trim_start_matches('/');
        let mut stage = File::new(State::scratch());
        if let Some((parents, _)) = below.rsplit_once('/') {
            stage = stage.mkdir(
                Mkdir::new(format!("/{parents}"), 0o755)
                    .make_parents(true)
                    .owner(file.uid, file.gid)
                    .timestamp_unix_nanos(timestamp),
            );
        }
        let mut copy = Copy::new(
            input.context.clone(),
            format!("/{}", file.src),
            format!("/{below}"),
        )
        .owner(file.uid, file.gid)
        .dir_copy_contents(true)
        // As Dockerfile COPY: a link named as src is copied as what it points
        // to, resolved inside the context (a link out of it is "not found"),
        // never as a link into the builder's host.
        .follow_symlink(true)
        .timestamp_unix_nanos(timestamp);
        if let Some(mode) = file.mode {
            copy = copy.mode(mode);
        }
        let staged = stage
            .copy(copy)
            .custom_name(format!("[golb] stage {}", file.src))
            .location(SPEC_SOURCE, file.location)
            .build();
        overlay(onto, staged, &anchor, timestamp)
            .custom_name(format!("[golb] copy {} to {}", file.src, file.dest))
            .location(SPEC_SOURCE, file.location)
            .build()
    })
}

/// The binaries in `dir`, root-owned, 0755, at a fixed time: on their own
/// (scratch `onto`, the binaries target), or as one layer over `onto`.
fn binaries_layer(
    input: &PlanInput<'_>,
    target: &Target,
    onto: State,
    built: &[(BinaryPlan, State)],
    dir: &str,
) -> State {
    let timestamp = input
        .options
        .source_date_epoch
        .saturating_mul(1_000_000_000);
    let names: Vec<&str> = built.iter().map(|(b, _)| b.name.as_str()).collect();
    let mut staged = File::new(State::scratch());
    for (binary, output) in built {
        staged = staged.copy(
            Copy::new(
                output.clone(),
                format!("/{}", binary.name),
                format!("{dir}/{}", binary.name),
            )
            .owner(0, 0)
            .mode(0o755)
            .create_dest_path(true)
            .timestamp_unix_nanos(timestamp),
        );
    }
    // The layer exists because of the binaries: point at their tables.
    let locate = |file: File| {
        built.iter().fold(file, |file, (binary, _)| {
            file.location(SPEC_SOURCE, binary.location)
        })
    };
    if onto.is_scratch() {
        return locate(staged.custom_name(format!(
            "[golb] copy {} into the binaries result ({})",
            names.join(", "),
            target.platform
        )))
        .build();
    }
    let staged = locate(staged.custom_name(format!(
        "[golb] stage {} ({})",
        names.join(", "),
        target.platform
    )))
    .build();
    locate(overlay(onto, staged, "/", timestamp).custom_name(format!(
        "[golb] copy {} into the runtime image ({})",
        names.join(", "),
        target.platform
    )))
    .build()
}

/// `go test` or `go vet` over the module on the build platform, with the
/// same caches as the build. Its output is the coverage profile (test) or
/// nothing (vet); a failure fails the build.
fn check_module(
    input: &PlanInput<'_>,
    go: &GoSteps,
    target: BuildTarget,
) -> Result<State, PlanError> {
    let spec = input.spec;
    let args = match target {
        BuildTarget::Test => {
            go_build::test_args(input.module, &spec.test.flags, &spec.test.packages)
        }
        _ => go_build::vet_args(input.module, &spec.test.packages),
    };
    let verb = if target == BuildTarget::Test {
        "test"
    } else {
        "vet"
    };
    let exec = Exec::new(go.builder.clone(), args)
        .cwd(source_dir(input.module))
        .mount(Mount::cache(
            go_build::GOCACHE,
            go_build::build_cache_id(&go.toolchain, input.build_platform, &[]),
            CacheSharing::Shared,
        ))
        .mount(Mount::tmpfs(go_build::TEMP_DIR))
        .mount(Mount::scratch(go_build::OUTPUT_DIR))
        .custom_name(format!("[golb] go {verb} {}", spec.test.packages.join(" ")))
        .ignore_cache(input.options.no_cache.covers(match target {
            BuildTarget::Test => Step::Test,
            _ => Step::Vet,
        }));
    let exec = with_modules(with_sources(with_hosts(exec, input.options), input), go);
    let exec = exec.location(SPEC_SOURCE, spec.test.location.unwrap_or(SPEC_TOP));
    let exec = with_env(
        exec,
        builder_env(
            input,
            go_build::build_env(&input.spec.modules, input.build_platform),
        ),
    )
    .build();
    Ok(exec.output(go_build::OUTPUT_DIR)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module() -> GoModule {
        let files = [(
            "go.mod".to_string(),
            b"module example.com/hello\ngo 1.26.0\n".to_vec(),
        )]
        .into();
        GoModule::from_files("", &files).unwrap()
    }

    #[test]
    fn the_builder_follows_the_spec_then_go_mod() {
        let spec = Spec::parse("golb.toml", "[builder]\ngo = \"1.25\"\n").unwrap();
        let (image, toolchain) = builder_image(&spec, &module()).unwrap();
        assert_eq!(image.to_string(), "docker.io/library/golang:1.25");
        assert_eq!(toolchain.release, "1.25");

        let spec = Spec::parse("golb.toml", "").unwrap();
        let (image, _) = builder_image(&spec, &module()).unwrap();
        assert_eq!(image.to_string(), "docker.io/library/golang:1.26");

        let spec =
            Spec::parse("golb.toml", "[builder]\nimage = \"127.0.0.1:5000/go:x\"\n").unwrap();
        let (image, _) = builder_image(&spec, &module()).unwrap();
        assert_eq!(image.to_string(), "127.0.0.1:5000/go:x");
    }

    #[test]
    fn without_binaries_the_module_root_is_built() {
        let spec = Spec::parse("golb.toml", "").unwrap();
        let binaries = binaries(&spec, &module());
        assert_eq!(binaries.len(), 1);
        assert_eq!(
            (binaries[0].name.as_str(), binaries[0].package.as_str()),
            ("hello", ".")
        );
        assert_eq!(
            default_entrypoint(&spec, &binaries).unwrap(),
            Some(vec!["/usr/local/bin/hello".to_string()])
        );
    }

    #[test]
    fn several_binaries_need_an_explicit_entrypoint() {
        let text =
            "[[binary]]\npackage = \"./cmd/server\"\n[[binary]]\npackage = \"./cmd/migrate\"\n";
        let spec = Spec::parse("golb.toml", text).unwrap();
        let err = default_entrypoint(&spec, &binaries(&spec, &module())).unwrap_err();
        assert!(err.to_string().starts_with("golb.toml:3:1:"), "{err}");
        assert!(err.to_string().contains("/usr/local/bin/server"), "{err}");

        let chosen = format!("{text}[runtime]\nentrypoint = [\"/usr/local/bin/server\"]\n");
        let spec = Spec::parse("golb.toml", &chosen).unwrap();
        assert_eq!(
            default_entrypoint(&spec, &binaries(&spec, &module())).unwrap(),
            None
        );
    }

    /// A module that requires another, so its plan has a download step.
    fn module_with_requirement() -> GoModule {
        let files = [(
            "go.mod".to_string(),
            b"module example.com/hello\ngo 1.26.0\nrequire example.com/lib v1.0.0\n".to_vec(),
        )]
        .into();
        GoModule::from_files("", &files).unwrap()
    }

    /// An exec op of a planned build.
    #[derive(Debug)]
    struct PlannedExec {
        name: String,
        args: Vec<String>,
        ignore_cache: bool,
        hosts: Vec<String>,
    }

    /// The exec ops of the plan of an empty spec for `module` and
    /// `platforms`, each listed once however many platforms share it.
    fn planned_execs(
        module: &GoModule,
        platforms: &[&str],
        target: BuildTarget,
        options: &BuildOptions,
    ) -> Vec<PlannedExec> {
        use golb_proto::llb::pb;
        use prost::Message;
        let spec = Spec::parse("golb.toml", "").unwrap();
        let unresolved = |reference: ImageRef| ResolvedImage {
            reference,
            config: serde_json::json!({}),
            replacement: None,
            existing_dirs: None,
        };
        let builder = unresolved(builder_image(&spec, module).unwrap().0);
        let sources = GoSources::default();
        let images = plan(PlanInput {
            spec: &spec,
            module,
            sources: &sources,
            context: golb_proto::llb::Local::new("context").build(),
            golb: golb_proto::llb::Image::new("golb").build(),
            builder: &builder,
            build_platform: &Platform::linux_amd64(),
            targets: platforms
                .iter()
                .map(|p| Target {
                    platform: Platform::parse(p).unwrap(),
                    base: Some(unresolved(runtime_base(&spec).unwrap())),
                })
                .collect(),
            build_target: target,
            options,
        })
        .unwrap();
        let spec_file = golb_proto::llb::SourceFile {
            filename: "golb.toml".into(),
            data: Vec::new(),
            language: "toml".into(),
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut execs = Vec::new();
        for image in images {
            let def = image
                .state
                .marshal(std::slice::from_ref(&spec_file))
                .unwrap();
            for bytes in &def.def {
                let digest = golb_proto::llb::digest(bytes);
                let op = pb::Op::decode(bytes.as_slice()).unwrap();
                let Some(pb::op::Op::Exec(exec)) = op.op else {
                    continue;
                };
                if !seen.insert(digest.clone()) {
                    continue;
                }
                let md = &def.metadata[&digest];
                let meta = exec.meta.unwrap_or_default();
                execs.push(PlannedExec {
                    name: md
                        .description
                        .get("llb.customname")
                        .cloned()
                        .unwrap_or_default(),
                    args: meta.args,
                    ignore_cache: md.ignore_cache,
                    hosts: meta
                        .extra_hosts
                        .iter()
                        .map(|h| format!("{}={}", h.host, h.ip))
                        .collect(),
                });
            }
        }
        execs
    }

    #[test]
    fn no_cache_reaches_the_steps_it_names() {
        let names_ignoring = |target, no_cache| {
            let options = BuildOptions {
                no_cache,
                ..BuildOptions::default()
            };
            let mut names: Vec<String> = planned_execs(
                &module_with_requirement(),
                &["linux/amd64"],
                target,
                &options,
            )
            .into_iter()
            .filter(|e| e.ignore_cache)
            .map(|e| e.name)
            .collect();
            names.sort();
            names
        };
        assert!(names_ignoring(BuildTarget::Image, NoCache::Off).is_empty());
        assert_eq!(
            names_ignoring(BuildTarget::Image, NoCache::All),
            [
                "[golb] go build . → hello (linux/amd64)",
                "[golb] go mod download"
            ]
        );
        assert_eq!(
            names_ignoring(BuildTarget::Image, NoCache::Steps(vec![Step::Build])),
            ["[golb] go build . → hello (linux/amd64)"]
        );
        assert_eq!(
            names_ignoring(
                BuildTarget::Test,
                NoCache::Steps(vec![Step::Download, Step::Vet])
            ),
            ["[golb] go mod download"]
        );
        assert_eq!(
            names_ignoring(BuildTarget::Vet, NoCache::Steps(vec![Step::Vet])),
            ["[golb] go vet ./..."]
        );
    }

    #[test]
    fn added_hosts_reach_every_step_that_runs_go() {
        let options = BuildOptions {
            extra_hosts: vec![("goproxy.corp.test".into(), "10.0.0.7".parse().unwrap())],
            ..BuildOptions::default()
        };
        for target in [BuildTarget::Image, BuildTarget::Test, BuildTarget::Vet] {
            let execs = planned_execs(
                &module_with_requirement(),
                &["linux/amd64"],
                target,
                &options,
            );
            assert_eq!(execs.len(), 2, "{target:?}: {execs:?}");
            for exec in execs {
                assert_eq!(exec.hosts, ["goproxy.corp.test=10.0.0.7"], "{}", exec.name);
            }
        }
        let plain = planned_execs(
            &module_with_requirement(),
            &["linux/amd64"],
            BuildTarget::Image,
            &BuildOptions::default(),
        );
        assert!(plain.iter().all(|e| e.hosts.is_empty()));
    }

    #[test]
    fn the_default_runtime_base_is_distroless_nonroot() {
        let spec = Spec::parse("golb.toml", "").unwrap();
        assert_eq!(
            runtime_base(&spec).unwrap().to_string(),
            "gcr.io/distroless/static-debian12:nonroot"
        );
    }

    #[test]
    fn one_download_for_all_platforms_and_none_without_requirements() {
        let platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7"];
        let count = |module: &GoModule, command: &str| {
            planned_execs(
                module,
                &platforms,
                BuildTarget::Image,
                &BuildOptions::default(),
            )
            .iter()
            .filter(|e| e.args.join(" ").contains(command))
            .count()
        };
        assert_eq!(count(&module_with_requirement(), "golb step modules"), 1);
        assert_eq!(
            count(&module_with_requirement(), "go build"),
            3,
            "one per platform"
        );
        assert_eq!(
            count(&module(), "golb step modules"),
            0,
            "hello requires nothing"
        );
    }

    #[test]
    fn files_are_laid_into_the_deepest_directory_the_base_has() {
        let dirs: BTreeSet<String> = ["/etc", "/tmp", "/home", "/home/nonroot"]
            .into_iter()
            .map(String::from)
            .collect();
        let anchor = |dest: &str| file_anchor(dest, Some(&dirs));
        assert_eq!(anchor("/etc/site/site.conf"), "/etc");
        assert_eq!(anchor("/tmp/seed.db"), "/tmp");
        assert_eq!(anchor("/home/nonroot/.config/app.yaml"), "/home/nonroot");
        assert_eq!(anchor("/srv/www/index.html"), "/");
        // A destination that is a directory in the base receives the contents.
        assert_eq!(anchor("/etc"), "/etc");
        // Without a look at the base: the parent.
        assert_eq!(file_anchor("/etc/site/site.conf", None), "/etc/site");
        assert_eq!(file_anchor("/app.conf", None), "/");
        assert_eq!(
            file_destination_paths(
                &Spec::parse(
                    "golb.toml",
                    "[[file]]\nsrc = \"a\"\ndest = \"/etc/site/a.conf\"\n"
                )
                .unwrap()
            )
            .into_iter()
            .collect::<Vec<_>>(),
            ["/etc", "/etc/site", "/etc/site/a.conf"]
        );
    }
}
