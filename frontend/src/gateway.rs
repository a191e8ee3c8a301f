//! golb as BuildKit runs it: a gateway frontend speaking LLBBridge over
//! stdin/stdout. It reads the spec from the client's `dockerfile` local,
//! looks at the module in the context, resolves and pins the images, solves
//! the plan and returns one image per platform.
//!
//! Every failure ends in `Return{error}`, never a panic: spec mistakes carry
//! the spec's lines (errdefs.Source), failed solves pass BuildKit's own status
//! through so its source mapping survives.

use crate::go_module::{self, GoModule};
use crate::go_packages::{self, GoSources, PackageWalk};
use crate::image_ref::ImageRef;
use crate::options::FrontendOptions;
use crate::plan::{self, BuildTarget, PlanInput, ResolvedImage, Target};
use crate::spec::{Location, Spec, SpecErrors};
use crate::{build_args, checks, dockerignore, named_context, subrequests};
use golb_proto::gateway::{
    self, errdefs, Bridge, Caps, FrontendEnv, PlatformImage, RefId, ReturnResult,
};
use golb_proto::llb::{Local, OciLayout, Platform, SourceFile, State};
use std::collections::BTreeMap;

/// gRPC status codes used in errors returned to BuildKit.
const INVALID_ARGUMENT: i32 = 3;
const FAILED_PRECONDITION: i32 = 9;
const UNKNOWN: i32 = 2;

/// Gateway capabilities golb calls; BuildKit v0.8 (Docker 20.10) and later have them all.
const FRONTEND_CAPS: &[&str] = &[
    "solve.base",
    "return",
    "readfile",
    "readdir",
    "resolveimage",
    "resolveimage.resolvemode",
];
/// LLB features golb's graphs use.
const LLB_CAPS: &[&str] = &[
    "source.image",
    "source.local",
    "source.local.sessionid",
    "source.local.sharedkeyhint",
    "source.local.followpaths",
    "exec.meta.base",
    "exec.mount.bind",
    "exec.mount.selector",
    "exec.mount.cache",
    "exec.mount.cache.sharing",
    "exec.mount.tmpfs",
    "file.base",
];

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error("{errors}")]
    Spec {
        errors: SpecErrors,
        file: SourceFile,
    },
    #[error("{0}")]
    Precondition(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Module(go_module::GoModuleError),
    #[error("golb does not answer the request {0:?} yet")]
    Subrequest(String),
    #[error(transparent)]
    Gateway(#[from] gateway::GatewayError),
}

/// Runs one build as BuildKit's frontend. Returns the process exit code.
pub async fn serve() -> i32 {
    let started = std::time::Instant::now();
    let env = match FrontendEnv::from_process_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("golb: {e}");
            return 1;
        }
    };
    let mut bridge = match Bridge::connect_stdio().await {
        Ok(bridge) => bridge,
        Err(e) => {
            eprintln!("golb: cannot talk to BuildKit on stdin/stdout: {e}");
            return 1;
        }
    };
    let outcome = build(&mut bridge, &env).await;
    let returned = match outcome {
        Ok(result) => bridge.return_result(result).await,
        Err(error) => {
            eprintln!("golb: {error}");
            bridge.return_error(error_status(&error)).await
        }
    };
    // stderr reaches buildkitd's log, not the user: the benchmark reads this line.
    eprintln!(
        "golb: frontend returned after {} ms",
        started.elapsed().as_millis()
    );
    match returned {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("golb: returning the result to BuildKit failed: {e}");
            1
        }
    }
}

/// The status BuildKit shows for an error: spec lines for spec mistakes,
/// BuildKit's own details for failed solves.
fn error_status(error: &FrontendError) -> errdefs::Status {
    match error {
        FrontendError::Spec { errors, file } => {
            let ranges: Vec<Location> = errors.0.iter().map(|e| e.location).collect();
            errdefs::source_error(INVALID_ARGUMENT, &errors.to_string(), file, &ranges)
        }
        FrontendError::Precondition(message) => errdefs::plain_error(FAILED_PRECONDITION, message),
        FrontendError::Module(error) => {
            errdefs::plain_error(FAILED_PRECONDITION, &error.to_string())
        }
        FrontendError::Invalid(message) => errdefs::plain_error(INVALID_ARGUMENT, message),
        FrontendError::Subrequest(name) => errdefs::unsupported_subrequest(name),
        FrontendError::Gateway(e) => match e.rpc_status() {
            Some(status) => errdefs::from_tonic(status),
            None => errdefs::plain_error(UNKNOWN, &e.to_string()),
        },
    }
}

async fn build(bridge: &mut Bridge, env: &FrontendEnv) -> Result<ReturnResult, FrontendError> {
    let options =
        FrontendOptions::from_opts(&env.opts).map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let caps = bridge.ping().await?;
    check_caps(&caps)?;
    if let Some(request) = options.request_id.clone() {
        let reply = answer(bridge, env, &options, &request).await?;
        return Ok(ReturnResult {
            images: Vec::new(),
            extra_metadata: reply.metadata(),
            ..ReturnResult::default()
        });
    }

    // The spec and the context's .dockerignore are read at once: the spec
    // may bring its own ignore file, but waiting to learn that costs a round trip.
    let (loaded, context_ignore) = {
        let (mut spec_bridge, mut ignore_bridge) = (bridge.clone(), bridge.clone());
        tokio::try_join!(
            read_spec(&mut spec_bridge, env, &options),
            read_context_dockerignore(&mut ignore_bridge, env, &options),
        )?
    };
    let spec_file = loaded.file.clone();
    let mut spec = Spec::parse_bytes(&spec_file.filename, &spec_file.data).map_err(|errors| {
        FrontendError::Spec {
            errors,
            file: spec_file.clone(),
        }
    })?;
    let applied = build_args::apply(&mut spec, &env.opts);
    if !applied.unused.is_empty() {
        let message = format!(
            "build args not used by golb or the spec: {} (declare them in [args] to use them in ldflags)",
            applied.unused.join(", ")
        );
        // Warnings need BuildKit ≥ v0.10; on older daemons the message only reaches its log.
        if bridge.warn(&loaded.vertex, &message, &[]).await.is_err() {
            eprintln!("golb: {message}");
        }
    }

    let excludes = loaded.dockerignore.unwrap_or(context_ignore);
    let context = context_source(env, &options, excludes);
    let spec_error = |e: crate::spec::SpecError| FrontendError::Spec {
        errors: SpecErrors(vec![e]),
        file: spec_file.clone(),
    };

    let build_platform = worker_platform(env);
    let targets = if options.platforms.is_empty() {
        vec![build_platform.clone()]
    } else {
        options.platforms.clone()
    };

    // The runtime bases depend on the spec only; the builder may depend on
    // go.mod's Go version. Both chains run at once.
    let base_ref = plan::runtime_base(&spec).map_err(spec_error)?;
    let mut runtime_bridge = bridge.clone();
    let runtime_bases = async {
        match options.target {
            BuildTarget::Image => {
                let bases = RuntimeBases {
                    env,
                    spec: &spec,
                    spec_file: &spec_file,
                    options: &options,
                };
                bases
                    .resolve(&mut runtime_bridge, &base_ref, &targets)
                    .await
            }
            _ => Ok(targets.iter().map(|_| None).collect()),
        }
    };
    let module_and_builder = async {
        // The builder, when the spec names it, is resolved at once; else it
        // waits for go.mod's go line.
        let named_builder = spec.builder.image.is_some() || spec.builder.go.is_some();
        let resolve_builder = |module: &GoModule| {
            let chosen = plan::builder_image(&spec, module).map_err(spec_error);
            let mut bridge = bridge.clone();
            let (env, options, build_platform) = (env, &options, &build_platform);
            async move {
                let (builder_ref, _) = chosen?;
                resolve(
                    &mut bridge,
                    env,
                    &builder_ref,
                    build_platform,
                    options,
                    "builder",
                )
                .await
            }
        };
        let early_builder = async {
            match named_builder {
                true => resolve_builder(&GoModule::default()).await.map(Some),
                false => Ok(None),
            }
        };
        let module_and_sources = async {
            let mut context_bridge = bridge.clone();
            let reference = solve_context(&mut context_bridge, &context).await?;
            let mut module_bridge = bridge.clone();
            let (module, prefetched) = tokio::try_join!(
                read_module_files(&mut module_bridge, &reference, &spec.builder.module_dir),
                PackageFiles::prefetch(bridge, &reference, &spec),
            )?;
            let binaries = plan::binaries(&spec, &module);
            let late_builder = async {
                match named_builder {
                    true => Ok(None),
                    false => resolve_builder(&module).await.map(Some),
                }
            };
            let (sources, late_builder) = tokio::try_join!(
                read_go_sources(bridge, &reference, &module, &binaries, prefetched),
                late_builder,
            )?;
            Ok::<_, FrontendError>((module, sources, late_builder))
        };
        let (early_builder, (module, sources, late_builder)) =
            tokio::try_join!(early_builder, module_and_sources)?;
        let builder = early_builder
            .or(late_builder)
            .ok_or_else(|| FrontendError::Invalid("golb resolved no builder (a bug)".into()))?;
        Ok::<_, FrontendError>((module, builder, sources))
    };
    let (bases, (module, builder, sources)) = tokio::try_join!(runtime_bases, module_and_builder)?;
    let resolved_targets: Vec<Target> = targets
        .iter()
        .zip(bases)
        .map(|(platform, base)| Target {
            platform: platform.clone(),
            base,
        })
        .collect();

    let images = plan::plan(PlanInput {
        spec: &spec,
        module: &module,
        sources: &sources,
        context,
        golb: frontend_image()?,
        builder: &builder,
        build_platform: &build_platform,
        targets: resolved_targets,
        build_target: options.target,
        options: &options.build,
    })
    .map_err(|e| match e {
        plan::PlanError::Spec(e) => spec_error(e),
        plan::PlanError::Module(e) => FrontendError::Precondition(e.to_string()),
        e @ plan::PlanError::Llb(_) => FrontendError::Invalid(e.to_string()),
    })?;

    let cache_imports = gateway::parse_cache_imports(&env.opts)?;
    // Platforms are solved concurrently: BuildKit shares the steps they have
    // in common (the module download) and runs the rest in parallel.
    let mut solves = tokio::task::JoinSet::new();
    for (index, image) in images.into_iter().enumerate() {
        let definition = image
            .state
            .marshal(std::slice::from_ref(&spec_file))
            .map_err(|e| FrontendError::Invalid(e.to_string()))?;
        let config = match &image.config {
            Some(config) => {
                serde_json::to_vec(config).map_err(|e| FrontendError::Invalid(e.to_string()))?
            }
            None => Vec::new(),
        };
        let mut bridge = bridge.clone();
        let cache_imports = cache_imports.clone();
        solves.spawn(async move {
            let reference = bridge.solve(definition, cache_imports).await?;
            Ok::<_, gateway::GatewayError>((
                index,
                PlatformImage {
                    platform: image.platform,
                    r#ref: reference,
                    config,
                },
            ))
        });
    }
    let mut returned = Vec::new();
    while let Some(joined) = solves.join_next().await {
        let solved = joined.map_err(task_failed)??;
        returned.push(solved);
    }
    returned.sort_by_key(|(index, _)| *index);
    Ok(ReturnResult {
        images: returned.into_iter().map(|(_, image)| image).collect(),
        extra_metadata: BTreeMap::new(),
        ..ReturnResult::default()
    })
}

/// Answers `--call describe|targets|outline|check` (subrequests) with the
/// JSON and text BuildKit's clients print. Anything else is refused with the
/// errdefs detail that makes clients say it is unsupported.
async fn answer(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    options: &FrontendOptions,
    request: &str,
) -> Result<subrequests::Reply, FrontendError> {
    if request == subrequests::DESCRIBE {
        return Ok(subrequests::describe());
    }
    if ![
        subrequests::TARGETS,
        subrequests::OUTLINE,
        subrequests::LINT,
    ]
    .contains(&request)
    {
        return Err(FrontendError::Subrequest(request.to_string()));
    }
    let loaded = read_spec(bridge, env, options).await?;
    let file = crate::spec::SpecFile {
        name: loaded.file.filename.clone(),
        text: String::from_utf8_lossy(&loaded.file.data).into_owned(),
    };
    // The lossy text is only shown; a spec that is not UTF-8 is an error at its place.
    let parsed = Spec::parse_bytes(&file.name, &loaded.file.data);
    match request {
        r if r == subrequests::TARGETS => Ok(subrequests::targets(&file, parsed.as_ref().ok())),
        r if r == subrequests::OUTLINE => {
            let mut spec = parsed.map_err(|errors| FrontendError::Spec {
                errors,
                file: loaded.file.clone(),
            })?;
            build_args::apply(&mut spec, &env.opts);
            let builtins = build_args::builtin_descriptions()
                .into_iter()
                .filter(|(name, _, _)| !spec.args.contains_key(*name));
            let args: Vec<subrequests::BuildArg> = builtins
                .map(|(name, value, description)| subrequests::BuildArg {
                    name: name.to_string(),
                    value: value.to_string(),
                    description: description.to_string(),
                    location: None,
                })
                .chain(spec.args.iter().map(|(name, value)| subrequests::BuildArg {
                    name: name.clone(),
                    value: value.value.clone(),
                    description: format!("declared in [args]; ${{{name}}} in ldflags"),
                    location: Some(value.location),
                }))
                .collect();
            let secrets = [subrequests::MountUse {
                id: crate::go_build::NETRC_SECRET.to_string(),
                required: false,
            }];
            let ssh: Vec<subrequests::MountUse> = if spec.modules.ssh.is_empty() {
                Vec::new()
            } else {
                vec![subrequests::MountUse {
                    id: crate::go_build::SSH_AGENT_ID.to_string(),
                    required: false,
                }]
            };
            let target = env
                .opts
                .get("target")
                .map(String::as_str)
                .filter(|t| !t.is_empty());
            subrequests::outline(&subrequests::OutlineInput {
                spec: &file,
                target,
                extra_args: &args,
                secrets: &secrets,
                ssh: &ssh,
                cache_ids: &[crate::go_build::MODULE_CACHE_ID.to_string()],
            })
            .map_err(|e| FrontendError::Invalid(e.to_string()))
        }
        _ => lint(bridge, env, options, &loaded, &file, parsed).await,
    }
}

/// `--call check`: the spec's problems and golb's Go-aware checks.
async fn lint(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    options: &FrontendOptions,
    loaded: &LoadedSpec,
    file: &crate::spec::SpecFile,
    parsed: Result<Spec, SpecErrors>,
) -> Result<subrequests::Reply, FrontendError> {
    let empty = checks::SourceSnapshot::new();
    let failed = |failure: subrequests::BuildFailure| {
        subrequests::lint(&subrequests::LintInput {
            spec: file,
            files: &empty,
            findings: &[],
            build_error: Some(failure),
        })
    };
    let mut spec = match parsed {
        Ok(spec) => spec,
        Err(errors) => return Ok(failed(subrequests::BuildFailure::from(&errors))),
    };
    build_args::apply(&mut spec, &env.opts);
    let excludes = match &loaded.dockerignore {
        Some(patterns) => patterns.clone(),
        None => read_context_dockerignore(bridge, env, options).await?,
    };
    let context = context_source(env, options, excludes);
    let module = match read_module(bridge, &context, &spec.builder.module_dir).await {
        Ok((module, _)) => module,
        Err(FrontendError::Module(error)) => {
            let findings: Vec<checks::Finding> =
                checks::module_error_finding(&error).into_iter().collect();
            let build_error = findings.is_empty().then(|| subrequests::BuildFailure {
                message: error.to_string(),
                locations: Vec::new(),
            });
            return Ok(subrequests::lint(&subrequests::LintInput {
                spec: file,
                files: &empty,
                findings: &findings,
                build_error,
            }));
        }
        Err(other) => return Err(other),
    };
    let binaries = plan::binaries(&spec, &module);
    let (builder, base) = match (
        plan::builder_image(&spec, &module),
        plan::runtime_base(&spec),
    ) {
        (Ok((builder, _)), Ok(base)) => (builder, base),
        (Err(e), _) | (_, Err(e)) => {
            return Ok(failed(subrequests::BuildFailure::from(&SpecErrors(vec![
                e,
            ]))))
        }
    };
    let definition = context
        .marshal(&[])
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let reference = bridge.solve(definition, Vec::new()).await?;
    let mut files = checks::SourceSnapshot::new();
    for dir in checks::wanted_dirs(&module, &binaries) {
        let listed = if dir == "." { "/" } else { dir.as_str() };
        let Ok(names) = names_in(bridge, &reference, listed).await else {
            continue;
        };
        files = files.with_dir(&dir);
        for name in names
            .iter()
            .filter(|n| n.ends_with(".go") || *n == go_module::GO_MOD || *n == go_module::GO_WORK)
        {
            let path = if dir == "." {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            let text = bridge.read_file(&reference, &path).await?;
            files = files.with_file(&path, String::from_utf8_lossy(&text));
        }
    }
    let builder_go = checks::builder_go_release(&spec, &builder);
    let findings = checks::run(&checks::CheckInput {
        spec: &spec,
        module: &module,
        binaries: &binaries,
        builder: &builder,
        base: &base,
        builder_go: builder_go.as_deref(),
        files: &files,
    });
    Ok(subrequests::lint(&subrequests::LintInput {
        spec: file,
        files: &files,
        findings: &findings,
        build_error: None,
    }))
}

fn check_caps(caps: &Caps) -> Result<(), FrontendError> {
    let missing = caps.missing(FRONTEND_CAPS, LLB_CAPS);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(FrontendError::Precondition(format!(
            "this BuildKit lacks what golb needs ({}); use BuildKit v0.11 or newer (Docker 24 or newer)",
            missing.join(", ")
        )))
    }
}

/// The platform builds run on: the worker's own, so Go cross-compiles instead of emulating.
fn worker_platform(env: &FrontendEnv) -> Platform {
    env.workers
        .iter()
        .flat_map(|w| w.platforms.first())
        .next()
        .cloned()
        .unwrap_or_else(Platform::linux_amd64)
}

fn session_for(env: &FrontendEnv, local: &str) -> String {
    env.opts
        .get(&format!("local-sessionid:{local}"))
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| env.session_id.clone())
}

/// The spec as loaded from the client.
struct LoadedSpec {
    file: SourceFile,
    /// The vertex that loaded it: warnings about the spec attach to it.
    vertex: String,
    /// Exclude patterns from `<spec>.dockerignore`, when the client sent one.
    dockerignore: Option<Vec<String>>,
}

/// Reads the spec (and `<spec>.dockerignore`) from the client's `dockerfile`
/// local: only those two files are sent.
async fn read_spec(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    options: &FrontendOptions,
) -> Result<LoadedSpec, FrontendError> {
    let filename = &options.filename;
    let ignore_file = format!("{filename}.dockerignore");
    let local = Local::new(options.spec_local.clone())
        .session_id(session_for(env, &options.spec_local))
        .shared_key_hint(options.spec_local.clone())
        .follow_paths(vec![filename.clone(), ignore_file.clone()])
        .differ_none()
        .custom_name(format!("[internal] load build definition from {filename}"))
        .build();
    let definition = local
        .marshal(&[])
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let vertex = head_digest(&definition).unwrap_or_default();
    let reference = bridge.solve(definition, Vec::new()).await?;
    let mut list_bridge = bridge.clone();
    let (data, names) = tokio::join!(
        bridge.read_file(&reference, filename),
        names_in(&mut list_bridge, &reference, "/"),
    );
    let data = data.map_err(|e| {
        FrontendError::Precondition(format!(
            "cannot read the spec {filename:?} from the build's `{}` directory: {e}",
            options.spec_local
        ))
    })?;
    let dockerignore = match names?.contains(&ignore_file) {
        true => Some(
            dockerignore::patterns_from_bytes(
                &ignore_file,
                &bridge.read_file(&reference, &ignore_file).await?,
            )
            .map_err(|e| FrontendError::Invalid(e.to_string()))?,
        ),
        false => None,
    };
    Ok(LoadedSpec {
        file: SourceFile {
            filename: filename.clone(),
            data,
            language: "toml".to_string(),
        },
        vertex,
        dockerignore,
    })
}

/// The digest of the op a Definition ends in.
fn head_digest(definition: &golb_proto::llb::pb::Definition) -> Option<String> {
    use prost::Message;
    let terminal = golb_proto::llb::pb::Op::decode(definition.def.last()?.as_slice()).ok()?;
    terminal.inputs.first().map(|input| input.digest.clone())
}

/// `.dockerignore` at the context root, fetched alone before the context.
async fn read_context_dockerignore(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    options: &FrontendOptions,
) -> Result<Vec<String>, FrontendError> {
    let local = Local::new(options.context_local.clone())
        .session_id(session_for(env, &options.context_local))
        .shared_key_hint(format!("{}-dockerignore", options.context_local))
        .follow_paths(vec![dockerignore::FILE.to_string()])
        .differ_none()
        .custom_name("[internal] load .dockerignore")
        .build();
    let definition = local
        .marshal(&[])
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let reference = bridge.solve(definition, Vec::new()).await?;
    if !names_in(bridge, &reference, "/")
        .await?
        .contains(dockerignore::FILE)
    {
        return Ok(Vec::new());
    }
    let text = bridge.read_file(&reference, dockerignore::FILE).await?;
    dockerignore::patterns_from_bytes(dockerignore::FILE, &text)
        .map_err(|e| FrontendError::Invalid(e.to_string()))
}

fn context_source(
    env: &FrontendEnv,
    options: &FrontendOptions,
    ignore_patterns: Vec<String>,
) -> State {
    Local::new(options.context_local.clone())
        .session_id(session_for(env, &options.context_local))
        .shared_key_hint(options.context_local.clone())
        .exclude_patterns(dockerignore::with_defaults(ignore_patterns))
        .custom_name("[internal] load build context")
        .build()
}

/// Solves the context (the build would transfer it anyway; this solve is the
/// same vertex, so nothing is sent twice) and reads the module's files.
async fn read_module(
    bridge: &mut Bridge,
    context: &State,
    dir: &str,
) -> Result<(GoModule, RefId), FrontendError> {
    let reference = solve_context(bridge, context).await?;
    let module = read_module_files(bridge, &reference, dir).await?;
    Ok((module, reference))
}

/// Solves the context (the build would transfer it anyway; this solve is the
/// same vertex, so nothing is sent twice).
async fn solve_context(bridge: &mut Bridge, context: &State) -> Result<RefId, FrontendError> {
    let definition = context
        .marshal(&[])
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    Ok(bridge.solve(definition, Vec::new()).await?)
}

/// The module's files in the solved context: its own, then its workspace
/// members' and local replacements'.
async fn read_module_files(
    bridge: &mut Bridge,
    reference: &RefId,
    dir: &str,
) -> Result<GoModule, FrontendError> {
    let module_error = FrontendError::Module;
    let mut files = BTreeMap::new();
    read_existing(bridge, reference, &go_module::probe_paths(dir), &mut files).await?;
    if files.contains_key(&go_module::join(dir, go_module::GO_MOD)) {
        let members = go_module::member_paths(dir, &files).map_err(module_error)?;
        if !members.is_empty() {
            read_existing(bridge, reference, &members, &mut files).await?;
        }
    }
    GoModule::from_files(dir, &files).map_err(module_error)
}

/// What the walk of the packages reads: directory listings (the .go file
/// names, or None where there is no directory) and files (None where the
/// read failed).
#[derive(Default)]
struct PackageFiles {
    listed: BTreeMap<String, Option<Vec<String>>>,
    read: BTreeMap<String, Option<Vec<u8>>>,
}

impl PackageFiles {
    /// Lists `dirs` and reads `paths`, all at once.
    async fn fetch(
        bridge: &Bridge,
        reference: &RefId,
        dirs: Vec<String>,
        paths: Vec<String>,
    ) -> Result<PackageFiles, FrontendError> {
        enum Answer {
            Listed(String, Option<Vec<String>>),
            Read(String, Option<Vec<u8>>),
        }
        let mut requests = tokio::task::JoinSet::new();
        for dir in dirs {
            let (mut bridge, reference) = (bridge.clone(), reference.clone());
            requests.spawn(async move {
                let at = if dir.is_empty() { "/" } else { dir.as_str() };
                // A directory that is not there is a package Go will report.
                let names = bridge
                    .read_dir(&reference, at, "*.go")
                    .await
                    .ok()
                    .map(|entries| {
                        entries
                            .into_iter()
                            .filter(|e| e.mode & GO_MODE_DIR == 0)
                            .map(|e| e.path.rsplit('/').next().unwrap_or(&e.path).to_string())
                            .collect()
                    });
                Answer::Listed(dir, names)
            });
        }
        for path in paths {
            let (mut bridge, reference) = (bridge.clone(), reference.clone());
            requests.spawn(async move {
                let data = bridge.read_file(&reference, &path).await.ok();
                Answer::Read(path, data)
            });
        }
        let mut fetched = PackageFiles::default();
        while let Some(joined) = requests.join_next().await {
            match joined.map_err(task_failed)? {
                Answer::Listed(dir, names) => {
                    fetched.listed.insert(dir, names);
                }
                Answer::Read(path, data) => {
                    fetched.read.insert(path, data);
                }
            }
        }
        Ok(fetched)
    }

    /// The binaries' own package directories and their .go files, fetched
    /// before go.mod is known, so that these two round trips overlap the
    /// module's reading: the spec alone names those directories.
    async fn prefetch(
        bridge: &Bridge,
        reference: &RefId,
        spec: &Spec,
    ) -> Result<PackageFiles, FrontendError> {
        let dirs: Vec<String> = if spec.binaries.is_empty() {
            go_packages::package_dir(&spec.builder.module_dir, ".")
                .into_iter()
                .collect()
        } else {
            spec.binaries
                .iter()
                .filter_map(|b| {
                    go_packages::package_dir(&spec.builder.module_dir, &b.package.value)
                })
                .collect()
        };
        let mut fetched = PackageFiles::fetch(bridge, reference, dirs, Vec::new()).await?;
        let paths: Vec<String> = fetched
            .listed
            .iter()
            .flat_map(|(dir, names)| {
                names.iter().flatten().map(move |n| {
                    if dir.is_empty() {
                        n.clone()
                    } else {
                        format!("{dir}/{n}")
                    }
                })
            })
            .collect();
        let files = PackageFiles::fetch(bridge, reference, Vec::new(), paths).await?;
        fetched.read = files.read;
        Ok(fetched)
    }
}

/// Walks the module's own packages in the solved context (`go_packages`):
/// what `prefetched` holds first, then each round lists the directories and
/// reads the .go files the walk asks for, all at once.
async fn read_go_sources(
    bridge: &Bridge,
    reference: &RefId,
    module: &GoModule,
    binaries: &[plan::BinaryPlan],
    mut prefetched: PackageFiles,
) -> Result<GoSources, FrontendError> {
    let mut walk = PackageWalk::new(module, binaries);
    loop {
        let wanted = walk.wanted();
        if wanted.is_empty() {
            return Ok(walk.finish());
        }
        let mut missing_dirs = Vec::new();
        for dir in wanted.list {
            match prefetched.listed.remove(&dir) {
                Some(names) => walk.listed(&dir, names),
                None => missing_dirs.push(dir),
            }
        }
        let mut missing_paths = Vec::new();
        for path in wanted.read {
            match prefetched.read.remove(&path) {
                Some(data) => walk.read(&path, data.as_deref()),
                None => missing_paths.push(path),
            }
        }
        if missing_dirs.is_empty() && missing_paths.is_empty() {
            continue;
        }
        let fetched = PackageFiles::fetch(bridge, reference, missing_dirs, missing_paths).await?;
        for (dir, names) in fetched.listed {
            walk.listed(&dir, names);
        }
        for (path, data) in fetched.read {
            walk.read(&path, data.as_deref());
        }
    }
}

/// Go's `os.ModeDir` bit in the modes BuildKit reports.
const GO_MODE_DIR: u32 = 1 << 31;

/// Where BuildKit (v0.10 and later) gives every gateway frontend the LLB of
/// its own image.
const FRONTEND_DEFINITION: &str = "/run/config/buildkit/metadata/frontend.bin";

/// golb's own image, as BuildKit ran it: golb mounts it into the steps that
/// run `golb step …`, so those steps run exactly this version of golb.
fn frontend_image() -> Result<State, FrontendError> {
    use prost::Message;
    let bytes = std::fs::read(FRONTEND_DEFINITION).map_err(|e| {
        FrontendError::Precondition(format!(
            "cannot read {FRONTEND_DEFINITION} ({e}): golb needs BuildKit v0.10 or newer, which tells a frontend its own image there"
        ))
    })?;
    let definition = golb_proto::llb::pb::Definition::decode(bytes.as_slice()).map_err(|e| {
        FrontendError::Invalid(format!(
            "{FRONTEND_DEFINITION} is not an LLB definition: {e}"
        ))
    })?;
    State::from_definition(definition)
        .map_err(|e| FrontendError::Invalid(format!("{FRONTEND_DEFINITION}: {e}")))
}

/// The runtime base for each target platform, resolved, with what golb
/// needs to know of its directories when the spec has `[[file]]`s.
struct RuntimeBases<'a> {
    env: &'a FrontendEnv,
    spec: &'a Spec,
    spec_file: &'a SourceFile,
    options: &'a FrontendOptions,
}

impl RuntimeBases<'_> {
    async fn resolve(
        &self,
        bridge: &mut Bridge,
        reference: &ImageRef,
        platforms: &[Platform],
    ) -> Result<Vec<Option<ResolvedImage>>, FrontendError> {
        // Where each [[file]] goes depends on which of its directories the
        // base already has (their owner and mode must stay the base's).
        let file_paths = plan::file_destination_paths(self.spec);
        let mut bases = Vec::new();
        for platform in platforms {
            let mut base = resolve(
                bridge,
                self.env,
                reference,
                platform,
                self.options,
                "runtime",
            )
            .await?;
            if !file_paths.is_empty() {
                let state = plan::base_source(self.spec, &base, platform, &self.options.build);
                base.existing_dirs =
                    Some(directories_in(bridge, &state, self.spec_file, &file_paths).await?);
            }
            bases.push(Some(base));
        }
        Ok(bases)
    }
}

/// Those of `paths` that are directories in `state`, solved for the look.
async fn directories_in(
    bridge: &mut Bridge,
    state: &State,
    spec_file: &SourceFile,
    paths: &std::collections::BTreeSet<String>,
) -> Result<std::collections::BTreeSet<String>, FrontendError> {
    let definition = state
        .marshal(std::slice::from_ref(spec_file))
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let reference = bridge.solve(definition, Vec::new()).await?;
    let mut stats = tokio::task::JoinSet::new();
    for path in paths {
        let (mut bridge, reference, path) = (bridge.clone(), reference.clone(), path.clone());
        stats.spawn(async move {
            let stat = bridge.stat_file(&reference, &path).await;
            (path, stat)
        });
    }
    let mut dirs = std::collections::BTreeSet::new();
    while let Some(joined) = stats.join_next().await {
        let (path, stat) = joined.map_err(task_failed)?;
        if stat?.is_some_and(|s| s.is_dir()) {
            dirs.insert(path);
        }
    }
    Ok(dirs)
}

/// Reads those of `paths` that exist in the solved context: lists their
/// directories, then reads the files found, each step's requests at once.
async fn read_existing(
    bridge: &mut Bridge,
    reference: &RefId,
    paths: &[String],
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), FrontendError> {
    let split = |path: &str| -> (String, String) {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        (dir.to_string(), name.to_string())
    };
    // The listings say what exists; the reads are sent at the same time, on
    // the chance that it does (one round trip instead of two). A read of a
    // file that is not listed is dropped; one that is listed must succeed.
    let dirs: std::collections::BTreeSet<String> = paths.iter().map(|p| split(p).0).collect();
    let mut listings = tokio::task::JoinSet::new();
    for dir in dirs {
        let (mut bridge, reference) = (bridge.clone(), reference.clone());
        listings.spawn(async move {
            // A missing directory is not an error: the file just is not there.
            let at = if dir.is_empty() { "/" } else { dir.as_str() };
            let names = names_in(&mut bridge, &reference, at).await.ok();
            (dir, names)
        });
    }
    let mut reads = tokio::task::JoinSet::new();
    for path in paths {
        let (mut bridge, reference, path) = (bridge.clone(), reference.clone(), path.clone());
        reads.spawn(async move {
            let data = bridge.read_file(&reference, &path).await;
            (path, data)
        });
    }
    let mut listed = BTreeMap::new();
    while let Some(joined) = listings.join_next().await {
        let (dir, names) = joined.map_err(task_failed)?;
        listed.insert(dir, names.unwrap_or_default());
    }
    while let Some(joined) = reads.join_next().await {
        let (path, data) = joined.map_err(task_failed)?;
        let (dir, name) = split(&path);
        if !listed.get(&dir).is_some_and(|names| names.contains(&name)) {
            continue;
        }
        // Listed but unreadable: a link BuildKit resolved inside the context root to nothing.
        let data = data.map_err(|e| FrontendError::Module(go_module::unreadable(&path, &e)))?;
        files.insert(path, data);
    }
    Ok(())
}

fn task_failed(e: tokio::task::JoinError) -> FrontendError {
    FrontendError::Invalid(format!("a gateway request task failed: {e}"))
}

async fn names_in(
    bridge: &mut Bridge,
    reference: &RefId,
    dir: &str,
) -> Result<std::collections::BTreeSet<String>, FrontendError> {
    let entries = bridge.read_dir(reference, dir, "").await?;
    Ok(entries
        .into_iter()
        .map(|e| e.path.rsplit('/').next().unwrap_or(&e.path).to_string())
        .collect())
}

/// Resolves an image for a platform through BuildKit and pins it by digest.
async fn resolve(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    reference: &ImageRef,
    platform: &Platform,
    options: &FrontendOptions,
    role: &str,
) -> Result<ResolvedImage, FrontendError> {
    let found = named_context::replacement(&env.opts, role, reference, platform)
        .map_err(|e| FrontendError::Invalid(e.to_string()))?;
    let Some(found) = found else {
        return resolve_image(bridge, reference, platform, options, role).await;
    };
    match found.replacement {
        named_context::Replacement::Image(image) => {
            resolve_image(bridge, &image, platform, options, role).await
        }
        named_context::Replacement::Local(name) => {
            let files = Local::new(name.clone())
                .session_id(session_for(env, &name))
                .shared_key_hint(name.clone())
                .custom_name(format!(
                    "[internal] load build context {name} as the {role}"
                ))
                .build();
            Ok(ResolvedImage {
                reference: reference.clone(),
                config: serde_json::json!({}),
                replacement: Some(files),
                existing_dirs: None,
            })
        }
        named_context::Replacement::OciLayout { store, digest } => {
            // The name only labels the source (as in the Dockerfile
            // frontend): the layout's store and the digest find the image.
            let named = ImageRef::parse(&found.name)
                .unwrap_or_else(|_| reference.clone())
                .pinned(&digest);
            let log_name = format!("[golb] resolve {role} {named} from the client's OCI layout");
            let resolved = bridge
                .resolve_oci_layout_config(
                    &named.to_string(),
                    platform,
                    &env.session_id,
                    &store,
                    &log_name,
                )
                .await?;
            let config = crate::image_config::parse_base(&named.to_string(), &resolved.config)
                .map_err(|e| FrontendError::Precondition(e.to_string()))?;
            let files = OciLayout::new(named.to_string())
                .store(env.session_id.clone(), store)
                .platform(platform.clone())
                .custom_name(format!(
                    "[{role}] {named} from the client's OCI layout ({platform})"
                ))
                .build();
            Ok(ResolvedImage {
                reference: named,
                config,
                replacement: Some(files),
                existing_dirs: None,
            })
        }
        named_context::Replacement::Input(name) => {
            let inputs = bridge.inputs().await?;
            let Some(definition) = inputs.get(&name) else {
                let mut sent: Vec<&str> = inputs.keys().map(String::as_str).collect();
                sent.sort_unstable();
                return Err(FrontendError::Invalid(format!(
                    "build context {}=input:{name}: the client sent no input {name:?} (inputs: {})",
                    found.name,
                    if sent.is_empty() {
                        "none".to_string()
                    } else {
                        sent.join(", ")
                    }
                )));
            };
            let files = State::from_definition(definition.clone())
                .map_err(|e| FrontendError::Invalid(format!("input {name:?}: {e}")))?;
            let config = input_image_config(&env.opts, &name)?;
            Ok(ResolvedImage {
                reference: reference.clone(),
                config,
                replacement: Some(files),
                existing_dirs: None,
            })
        }
    }
}

/// The image config the client sent with input `name` (`input-metadata:NAME`,
/// a JSON object of base64 values, `containerimage.config` among them), or an
/// empty config for inputs that are not images.
pub fn input_image_config(
    opts: &BTreeMap<String, String>,
    name: &str,
) -> Result<serde_json::Value, FrontendError> {
    use base64::Engine as _;
    let Some(metadata) = opts.get(&format!("input-metadata:{name}")) else {
        return Ok(serde_json::json!({}));
    };
    let invalid = |why: String| FrontendError::Invalid(format!("input-metadata:{name}: {why}"));
    let metadata: BTreeMap<String, String> =
        serde_json::from_str(metadata).map_err(|e| invalid(e.to_string()))?;
    let Some(config) = metadata.get("containerimage.config") else {
        return Ok(serde_json::json!({}));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(config)
        .map_err(|e| invalid(format!("containerimage.config is not base64: {e}")))?;
    crate::image_config::parse_base(&format!("input {name}"), &bytes)
        .map_err(|e| FrontendError::Precondition(e.to_string()))
}

/// Resolves a registry image for a platform through BuildKit and pins it by digest.
async fn resolve_image(
    bridge: &mut Bridge,
    reference: &ImageRef,
    platform: &Platform,
    options: &FrontendOptions,
    role: &str,
) -> Result<ResolvedImage, FrontendError> {
    let mode = options
        .build
        .image_resolve_mode
        .as_deref()
        .unwrap_or("default");
    let log_name = resolve_log_name(role, &reference.to_string(), platform, mode);
    let resolved = bridge
        .resolve_image_config(&reference.to_string(), platform, mode, &log_name)
        .await?;
    // A source policy may rewrite the reference; pin what BuildKit actually resolved.
    let named = if resolved.reference.is_empty() {
        reference.clone()
    } else {
        ImageRef::parse(&resolved.reference).unwrap_or_else(|_| reference.clone())
    };
    let pinned = if resolved.digest.is_empty() {
        named
    } else {
        named.pinned(&resolved.digest)
    };
    let config = crate::image_config::parse_base(&pinned.to_string(), &resolved.config)
        .map_err(|e| FrontendError::Precondition(e.to_string()))?;
    Ok(ResolvedImage {
        reference: pinned,
        config,
        replacement: None,
        existing_dirs: None,
    })
}

/// The progress line of a resolve. A mode other than BuildKit's default is
/// shown, so `buildx build --pull` visibly reaches golb's resolves.
fn resolve_log_name(role: &str, reference: &str, platform: &Platform, mode: &str) -> String {
    match mode {
        "default" | "" => format!("[golb] resolve {role} {reference} for {platform}"),
        mode => {
            format!("[golb] resolve {role} {reference} for {platform} (image-resolve-mode={mode})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_lines_show_a_mode_other_than_default() {
        let amd64 = Platform::linux_amd64();
        assert_eq!(
            resolve_log_name("runtime", "r.example/base:1", &amd64, "default"),
            "[golb] resolve runtime r.example/base:1 for linux/amd64"
        );
        assert_eq!(
            resolve_log_name("builder", "r.example/go:1", &amd64, "pull"),
            "[golb] resolve builder r.example/go:1 for linux/amd64 (image-resolve-mode=pull)"
        );
    }

    #[test]
    fn spec_errors_become_source_errors_with_every_line() {
        let text = "[builder]\ngoo = 1\n";
        let errors = Spec::parse("golb.toml", text).unwrap_err();
        let file = SourceFile {
            filename: "golb.toml".into(),
            data: text.as_bytes().to_vec(),
            language: "toml".into(),
        };
        let status = error_status(&FrontendError::Spec { errors, file });
        assert_eq!(status.code, INVALID_ARGUMENT);
        assert!(
            status
                .message
                .starts_with("golb.toml:2:1: unknown field `goo`"),
            "{}",
            status.message
        );
        assert_eq!(status.details.len(), 1);
        assert!(status.details[0].type_url.ends_with("errdefs.Source+json"));
        let json: serde_json::Value = serde_json::from_slice(&status.details[0].value).unwrap();
        assert_eq!(json["info"]["filename"], "golb.toml");
        assert_eq!(json["ranges"][0]["start"]["line"], 2);
    }

    #[test]
    fn input_metadata_gives_the_image_config() {
        use base64::Engine as _;
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Env":["FROM_BAKE=1"]}}"#;
        let metadata = serde_json::json!({
            "containerimage.config": base64::engine::general_purpose::STANDARD.encode(config),
            "containerimage.buildinfo": "e30=",
        });
        let opts: BTreeMap<String, String> = [(
            "input-metadata:runtime::linux/amd64".to_string(),
            metadata.to_string(),
        )]
        .into();
        let got = input_image_config(&opts, "runtime::linux/amd64").unwrap();
        assert_eq!(got["config"]["Env"][0], "FROM_BAKE=1");
        // Inputs that are not images (no metadata) have an empty config.
        assert_eq!(
            input_image_config(&opts, "other").unwrap(),
            serde_json::json!({})
        );
        let bad: BTreeMap<String, String> = [(
            "input-metadata:x".to_string(),
            r#"{"containerimage.config":"%%"}"#.to_string(),
        )]
        .into();
        let err = input_image_config(&bad, "x").unwrap_err().to_string();
        assert!(
            err.starts_with("input-metadata:x: containerimage.config is not base64"),
            "{err}"
        );
    }

    #[test]
    fn old_buildkits_are_refused_with_what_is_missing() {
        let caps = Caps::default();
        let err = check_caps(&caps).unwrap_err();
        assert!(err.to_string().contains("exec.mount.cache"), "{err}");
        let all = Caps {
            frontend: FRONTEND_CAPS.iter().map(|s| s.to_string()).collect(),
            llb: LLB_CAPS.iter().map(|s| s.to_string()).collect(),
        };
        assert!(check_caps(&all).is_ok());
    }
}
