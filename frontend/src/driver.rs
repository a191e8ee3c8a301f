//! The one pipeline every entry point runs: BuildKit's gateway (`gateway`),
//! `golb llb` and `golb check` (`offline`). It reads the options, loads and
//! parses the spec, applies the build arguments, reads the module and walks
//! its packages, resolves the images, plans and marshals. What differs
//! between entry points is behind [`Host`]: how files of the build are read
//! and how images are resolved.
//!
//! Because both entry points run this code, `golb llb` prints the
//! Definition the gateway solves (images aside: the gateway pins them by
//! digest, the offline host leaves tags), and `golb check` reports what
//! `--call check` reports.

use crate::checks::{self, SourceSnapshot};
use crate::dockerignore;
use crate::go_module::{self, GoModule, GoModuleError};
use crate::go_packages::{self, GoSources, PackageWalk};
use crate::image_ref::ImageRef;
use crate::lock::{self, Lock, Pin};
use crate::options::{BuildTarget, FrontendOptions, OptionsError};
use crate::overrides;
use crate::plan::{self, BinaryPlan, PlanInput, SourceImage, Target};
use crate::spec::{Spec, SpecError, SpecErrors};
use golb_proto::gateway::GatewayError;
use golb_proto::llb::{self, Local, Platform, SourceFile, State};
use std::collections::{BTreeMap, BTreeSet};

/// What a failed run reports; each entry point turns it into its own form
/// (a BuildKit status, or a message and an exit code).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The spec has mistakes; they carry their places in `file`.
    #[error("{errors}")]
    Spec {
        errors: SpecErrors,
        file: SourceFile,
    },
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Module(#[from] GoModuleError),
    /// Something the build needs is missing or unusable (a spec file, a
    /// base image's config).
    #[error("{0}")]
    Precondition(String),
    /// A value golb received is malformed (an option, a named context).
    #[error("{0}")]
    Invalid(String),
    /// BuildKit refused a request; its status passes through unchanged.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// golb built something it should not have (a bug).
    #[error("golb built an invalid graph (a bug, please report it): {0}")]
    Llb(#[from] llb::LlbError),
    #[error("golb cannot marshal its graph (a bug, please report it): {0}")]
    Marshal(#[from] llb::MarshalError),
}

/// The spec as its host found it.
#[derive(Clone, Debug)]
pub struct SpecSource {
    pub file: SourceFile,
    /// `<spec>.dockerignore`, when there is one: it replaces the context's.
    pub dockerignore: Option<Vec<u8>>,
}

/// Reads of the build context, sent together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Directories to list ("" is the root).
    pub dirs: Vec<String>,
    /// Files to read, relative to the root.
    pub files: Vec<String>,
}

/// What a [`Reads`] found.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// The names of the files (not directories) in each directory asked
    /// for; None where there is no directory.
    pub listed: BTreeMap<String, Option<BTreeSet<String>>>,
    /// Each file asked for, or why it could not be read (a file that does
    /// not exist fails too: ask the listing whether it exists).
    pub read: BTreeMap<String, Result<Vec<u8>, String>>,
}

/// The role of an image in a build, for named contexts and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Builder,
    Runtime,
    /// The image holding UPX (`[runtime] upx_image`), run on the build platform.
    Upx,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Builder => "builder",
            Role::Runtime => "runtime",
            Role::Upx => "upx",
        }
    }
}

/// The session holding the local `name`: the one the client named for it
/// (`local-sessionid:NAME`), else the build's own. A local source always
/// names its session, as the Dockerfile frontend's do: BuildKit merges the
/// vertices of concurrent builds that have the same digest, and a local
/// without a session is then read from whichever build's session comes
/// first, another build's spec or context (two builds on one builder, say
/// `buildx bake` of two services, found that). BuildKit keys a local on its
/// session either way, so naming it costs no cache hit.
pub fn local_session(opts: &BTreeMap<String, String>, own: &str, name: &str) -> Option<String> {
    opts.get(&format!("local-sessionid:{name}"))
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .or(Some(own).filter(|s| !s.is_empty()))
        .map(String::from)
}

/// What differs between entry points. Methods take `&self` so that the
/// driver can run independent requests at once.
// The driver runs on one thread and awaits these futures itself; no caller
// needs them to be Send.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// The spec file and `<filename>.dockerignore` beside it.
    async fn spec(&self, filename: &str) -> Result<SpecSource, DriverError>;
    /// The `.dockerignore` at the root of the context, when there is one.
    async fn context_dockerignore(&self) -> Result<Option<Vec<u8>>, DriverError>;
    /// The session that holds the local named `name` (`local_session`);
    /// None offline, where BuildKit takes the one session `buildctl` has.
    fn session_for(&self, name: &str) -> Option<String>;
    /// Lists and reads in `context` (the state [`context_source`] made).
    async fn read(&self, context: &State, reads: Reads) -> Result<Found, DriverError>;
    /// An image for a platform, resolved as far as this host can (the
    /// offline host leaves the tag), or what a named context puts in its place.
    async fn resolve(
        &self,
        role: Role,
        reference: &ImageRef,
        platform: &Platform,
    ) -> Result<SourceImage, DriverError>;
    /// Which of `paths` are directories in `image`, marshaled with the spec
    /// as its source file (None: this host cannot look).
    async fn directories_in(
        &self,
        image: llb::pb::Definition,
        paths: &BTreeSet<String>,
    ) -> Result<Option<BTreeSet<String>>, DriverError>;
    /// golb's own image, which the steps that run `golb step` mount.
    fn frontend_image(&self) -> Result<State, DriverError>;
    /// The platform the build runs on.
    fn build_platform(&self) -> Platform;
    /// Tells the user something about the spec (a BuildKit warning, stderr).
    async fn warn(&self, message: &str);
}

/// The spec parsed, with the build's options applied, and the context it
/// builds from.
pub struct Loaded {
    pub options: FrontendOptions,
    pub spec: Spec,
    pub file: SourceFile,
    pub context: State,
}

/// Reads the options and the spec, parses it, applies the build arguments
/// (warning about unused ones), and makes the context source.
pub async fn load<H: Host>(
    host: &H,
    opts: &BTreeMap<String, String>,
) -> Result<Loaded, DriverError> {
    let options = FrontendOptions::from_opts(opts)?;
    // The spec may bring its own ignore file, but waiting to learn that
    // costs a round trip: both are read at once.
    let (source, context_ignore) =
        futures_join(host.spec(&options.filename), host.context_dockerignore()).await;
    let (source, context_ignore) = (source?, context_ignore?);
    let mut spec = parse(&source.file)?;
    let applied = overrides::apply(&mut spec, opts);
    if !applied.unused.is_empty() {
        host.warn(&format!(
            "build args not used by golb or the spec: {} (declare them in [args] to use them in ldflags)",
            applied.unused.join(", ")
        ))
        .await;
    }
    let (ignore_name, ignore) = match (&source.dockerignore, &context_ignore) {
        (Some(own), _) => (format!("{}.dockerignore", options.filename), Some(own)),
        (None, Some(context)) => (dockerignore::FILE.to_string(), Some(context)),
        (None, None) => (String::new(), None),
    };
    let excludes = match ignore {
        Some(bytes) => dockerignore::patterns_from_bytes(&ignore_name, bytes)
            .map_err(|e| DriverError::Invalid(e.to_string()))?,
        None => Vec::new(),
    };
    let context = context_source(host, &options, excludes);
    Ok(Loaded {
        options,
        spec,
        file: source.file,
        context,
    })
}

/// The spec's text parsed; its errors carry the file for BuildKit to show.
pub fn parse(file: &SourceFile) -> Result<Spec, DriverError> {
    Spec::parse_bytes(&file.filename, &file.data).map_err(|errors| DriverError::Spec {
        errors,
        file: file.clone(),
    })
}

/// The build context as a source: the client's local directory, without
/// `.git` and what the ignore files exclude. The session is named only when
/// the client put the context in another session than the build's own, so
/// that the offline host's Definition is the gateway's.
pub fn context_source<H: Host>(
    host: &H,
    options: &FrontendOptions,
    ignore_patterns: Vec<String>,
) -> State {
    let mut local = Local::new(options.context_local.clone())
        .shared_key_hint(options.context_local.clone())
        .exclude_patterns(dockerignore::with_defaults(ignore_patterns))
        .custom_name("[internal] load build context");
    if let Some(session) = host.session_for(&options.context_local) {
        local = local.session_id(session);
    }
    local.build()
}

/// One planned result: a platform's Definition and, for images, its config.
pub struct Planned {
    pub platform: Platform,
    pub definition: llb::pb::Definition,
    /// The image config as JSON (empty for results that are not images).
    pub config: Vec<u8>,
    /// golb's SBOM of this result, when the build asked for one: the
    /// document sits at [`plan::SBOM_PATH`] in its result.
    pub sbom: Option<llb::pb::Definition>,
    /// The image's size step (summary and gate), solved beside the image.
    pub size: Option<llb::pb::Definition>,
    /// govulncheck's scans, solved beside an image that gates on them or
    /// attests them.
    pub vuln: Option<PlannedVuln>,
}

/// A platform's vulnerability scans, marshaled.
pub struct PlannedVuln {
    pub definition: llb::pb::Definition,
    /// The OpenVEX documents in its result.
    pub openvex: Vec<String>,
    /// Whether they are attached to the image as attestations.
    pub attest: bool,
}

/// A build, planned and marshaled.
pub struct Build {
    pub file: SourceFile,
    pub results: Vec<Planned>,
}

/// The module and what its packages read, as the build needs them.
struct Module {
    module: GoModule,
    /// The module files read (go.mod, go.work…), for the checks.
    module_files: BTreeMap<String, Vec<u8>>,
    sources: GoSources,
}

/// The whole pipeline of a build: everything up to the Definitions the
/// gateway solves and `golb llb` prints.
pub async fn build<H: Host>(
    host: &H,
    opts: &BTreeMap<String, String>,
) -> Result<Build, DriverError> {
    let loaded = load(host, opts).await?;
    let Loaded {
        options,
        spec,
        file,
        context,
    } = loaded;
    let spec_error = |e: SpecError| DriverError::Spec {
        errors: SpecErrors(vec![e]),
        file: file.clone(),
    };
    let build_platform = host.build_platform();
    let platforms = if options.platforms.is_empty() {
        vec![build_platform.clone()]
    } else {
        options.platforms.clone()
    };
    let image = matches!(options.target, BuildTarget::Image | BuildTarget::Size);
    let mut cgo = plan::cgo_errors(&spec, image, &platforms, &build_platform);
    if image {
        cgo.extend(plan::upx_errors(&spec, &platforms));
    }
    if !cgo.is_empty() {
        return Err(DriverError::Spec {
            errors: SpecErrors(cgo),
            file: file.clone(),
        });
    }

    let named_builder = spec.builder.image.is_some() || spec.builder.go.is_some();
    // go.mod's `go` line chooses the builder when the spec does not. The
    // module's first round of reads sends what go.mod declares, so the
    // builder is resolved while the rest of the module is read.
    let (declared_tx, declared_rx) = tokio::sync::oneshot::channel::<GoModule>();
    let declared_tx = (!named_builder).then_some(declared_tx);
    // Two chains need nothing from each other but go.mod's declaration:
    // golb.lock, then the images it pins (the runtime bases, the UPX image
    // and the builder); and the module with its packages. Reading the lock
    // beside the module's first round saves a round trip before anything is
    // resolved.
    let lock_and_images = async {
        let lock = read_lock(host, &options, &context).await?;
        let bases = async {
            match options.target {
                BuildTarget::Image | BuildTarget::Size => {
                    runtime_bases(host, &spec, &lock, &platforms, &options.build).await
                }
                _ => Ok(platforms.iter().map(|_| None).collect()),
            }
        };
        let builder = async {
            let declared = match named_builder {
                true => GoModule::default(),
                // No declaration: the module read failed, and says why.
                false => match declared_rx.await {
                    Ok(declared) => declared,
                    Err(_) => return Ok(None),
                },
            };
            let (reference, _) =
                crate::go_build::builder_image(&spec, &declared).map_err(spec_error)?;
            let reference = pinned(&lock, &reference, &build_platform)?;
            host.resolve(Role::Builder, &reference, &build_platform)
                .await
                .map(Some)
        };
        // The UPX image, like the builder, runs on the build platform; it is
        // resolved, pinned (or locked) and replaceable by a named context as
        // the builder and the runtime base are.
        let upx = async {
            match (image, upx_image(&spec).map_err(spec_error)?) {
                (true, Some(reference)) => {
                    let reference = pinned(&lock, &reference, &build_platform)?;
                    host.resolve(Role::Upx, &reference, &build_platform)
                        .await
                        .map(Some)
                }
                _ => Ok(None),
            }
        };
        let (bases, upx, builder) = futures_join3(bases, upx, builder).await;
        Ok::<_, DriverError>((bases?, upx?, builder?))
    };
    let ((bases, upx, builder), module) = tokio::try_join!(
        lock_and_images,
        read_module(host, &spec, &context, declared_tx)
    )?;
    let builder =
        builder.ok_or_else(|| DriverError::Invalid("golb resolved no builder (a bug)".into()))?;
    let targets: Vec<Target> = platforms
        .into_iter()
        .zip(bases)
        .map(|(platform, base)| Target { platform, base })
        .collect();

    let planned = plan::plan(PlanInput {
        spec: &spec,
        module: &module.module,
        sources: &module.sources,
        context,
        golb: host.frontend_image()?,
        builder: &builder,
        build_platform: &build_platform,
        targets,
        build_target: options.target,
        options: &options.build,
        upx: upx.as_ref(),
    })
    .map_err(|e| match e {
        plan::PlanError::Spec(e) => spec_error(e),
        plan::PlanError::Module(e) => DriverError::Module(e),
        plan::PlanError::Llb(e) => DriverError::Llb(e),
    })?;
    let mut results = Vec::new();
    for image in planned {
        let definition = image.state.marshal(std::slice::from_ref(&file))?;
        let config = match &image.config {
            Some(config) => serde_json::to_vec(config)
                .map_err(|e| DriverError::Invalid(format!("the image config: {e}")))?,
            None => Vec::new(),
        };
        let sbom = match &image.sbom {
            Some(state) => Some(state.marshal(std::slice::from_ref(&file))?),
            None => None,
        };
        let size = match &image.size {
            Some(size) => Some(size.marshal(std::slice::from_ref(&file))?),
            None => None,
        };
        let vuln = match &image.vuln {
            Some(vuln) => Some(PlannedVuln {
                definition: vuln.state.marshal(std::slice::from_ref(&file))?,
                openvex: vuln.openvex.clone(),
                attest: spec.vuln.attest,
            }),
            None => None,
        };
        results.push(Planned {
            platform: image.platform,
            definition,
            config,
            sbom,
            size,
            vuln,
        });
    }
    Ok(Build { file, results })
}

/// The builder, runtime and UPX images the spec names, after its defaults and
/// the build arguments, each once: what `golb lock` pins.
pub async fn spec_images<H: Host>(
    host: &H,
    opts: &BTreeMap<String, String>,
) -> Result<Vec<ImageRef>, DriverError> {
    let Loaded {
        spec,
        file,
        context,
        ..
    } = load(host, opts).await?;
    let module = read_module(host, &spec, &context, None).await?;
    let spec_error = |e: SpecError| DriverError::Spec {
        errors: SpecErrors(vec![e]),
        file: file.clone(),
    };
    let (builder, _) = crate::go_build::builder_image(&spec, &module.module).map_err(spec_error)?;
    let runtime = plan::runtime_base(&spec).map_err(spec_error)?;
    let upx = upx_image(&spec).map_err(spec_error)?;
    let mut images = vec![builder];
    for image in [Some(runtime), upx].into_iter().flatten() {
        if !images.contains(&image) {
            images.push(image);
        }
    }
    Ok(images)
}

/// The UPX image the spec names (`[runtime] upx_image`), if it names one.
fn upx_image(spec: &Spec) -> Result<Option<ImageRef>, SpecError> {
    spec.runtime
        .upx_image
        .as_ref()
        .map(|named| {
            ImageRef::parse(&named.value).map_err(|e| spec.error_at(named.location, e.to_string()))
        })
        .transpose()
}

/// The runtime base for each target platform, resolved, with the
/// directories its `[[file]]`s go into when the host can look: their owner
/// and mode must stay the base's.
async fn runtime_bases<H: Host>(
    host: &H,
    spec: &Spec,
    lock: &Option<Lock>,
    platforms: &[Platform],
    options: &crate::options::BuildOptions,
) -> Result<Vec<Option<SourceImage>>, DriverError> {
    let reference = plan::runtime_base(spec).map_err(|e| DriverError::Spec {
        errors: SpecErrors(vec![e]),
        file: spec_file_of(spec),
    })?;
    let file_paths = plan::file_destination_paths(spec);
    let mut bases = Vec::new();
    for platform in platforms {
        let locked = pinned(lock, &reference, platform)?;
        let mut base = host.resolve(Role::Runtime, &locked, platform).await?;
        if !file_paths.is_empty() {
            let state = plan::base_source(spec, &base, platform, options);
            // The base's op carries the spec's location: marshal it with the
            // spec, as the build's own Definition is.
            let definition = state.marshal(&[spec_file_of(spec)])?;
            base.existing_dirs = host.directories_in(definition, &file_paths).await?;
        }
        bases.push(Some(base));
    }
    Ok(bases)
}

/// golb.lock beside the spec, read from the context, when there is one.
async fn read_lock<H: Host>(
    host: &H,
    options: &FrontendOptions,
    context: &State,
) -> Result<Option<Lock>, DriverError> {
    let path = lock::beside_spec(&options.filename);
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();
    let found = host
        .read(
            context,
            Reads {
                dirs: vec![dir],
                files: vec![path.clone()],
            },
        )
        .await?;
    let mut files = BTreeMap::new();
    existing(&found, std::slice::from_ref(&path), &mut files)
        .map_err(|e| DriverError::Precondition(e.to_string()))?;
    let Some(bytes) = files.get(&path) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        DriverError::Invalid(format!("{path}: not UTF-8 text; run `golb lock` again"))
    })?;
    Lock::parse(&path, text)
        .map(Some)
        .map_err(|e| DriverError::Invalid(e.to_string()))
}

/// The reference to resolve for `image` on `platform`: the locked manifest
/// by digest (no tag is resolved), or the image as the spec names it when
/// it is named by digest or has no entry.
fn pinned(
    lock: &Option<Lock>,
    image: &ImageRef,
    platform: &Platform,
) -> Result<ImageRef, DriverError> {
    let Some(lock) = lock else {
        return Ok(image.clone());
    };
    match lock
        .pin(image, platform)
        .map_err(|e| DriverError::Precondition(e.to_string()))?
    {
        Pin::Locked(digest) => Ok(ImageRef {
            digest: Some(digest.to_string()),
            ..image.clone()
        }),
        Pin::ByDigest | Pin::NotLocked => Ok(image.clone()),
    }
}

/// The spec's own text as a source file, for errors found after parsing.
fn spec_file_of(spec: &Spec) -> SourceFile {
    SourceFile {
        filename: spec.file.name.clone(),
        data: spec.file.text.clone().into_bytes(),
        language: "toml".to_string(),
    }
}

/// The module's files, then the walk of its packages. The first round lists
/// the module's directory and the binaries' package directories (the spec
/// alone names them) and reads the module files that may exist; the next
/// reads the workspace members' and local replacements' module files and the
/// binaries' .go files at once; then one round per level of the import graph.
async fn read_module<H: Host>(
    host: &H,
    spec: &Spec,
    context: &State,
    declared: Option<tokio::sync::oneshot::Sender<GoModule>>,
) -> Result<Module, DriverError> {
    let dir = spec.builder.module_dir.clone();
    let package_dirs = spec_package_dirs(spec);
    let mut first = Reads {
        dirs: vec![dir.clone()],
        files: go_module::probe_paths(&dir),
    };
    first.dirs.extend(package_dirs.iter().cloned());
    first.dirs.extend(
        first
            .files
            .iter()
            .filter_map(|f| f.rsplit_once('/').map(|(d, _)| d.to_string())),
    );
    first.dirs.sort();
    first.dirs.dedup();
    let found = host.read(context, first).await?;
    let mut files = BTreeMap::new();
    existing(&found, &go_module::probe_paths(&dir), &mut files)?;
    if let (Some(declared), Ok(module)) = (declared, GoModule::from_go_mod(&dir, &files)) {
        // The receiver may be gone (its chain failed): nothing to tell then.
        let _ = declared.send(module);
    }
    let members = match files.contains_key(&go_module::join(&dir, go_module::GO_MOD)) {
        true => go_module::member_paths(&dir, &files)?,
        false => Vec::new(),
    };
    // The binaries' .go files, named by the first listing.
    let go_files: Vec<String> = package_dirs
        .iter()
        .flat_map(|d| {
            found
                .listed
                .get(d)
                .cloned()
                .flatten()
                .into_iter()
                .flatten()
                .filter(|n| n.ends_with(".go"))
                .map(move |n| go_module::join(d, &n))
        })
        .collect();
    let member_dirs: Vec<String> = members
        .iter()
        .filter_map(|f| f.rsplit_once('/').map(|(d, _)| d.to_string()))
        .collect();
    let second = host
        .read(
            context,
            Reads {
                dirs: member_dirs,
                files: members.iter().cloned().chain(go_files).collect(),
            },
        )
        .await?;
    existing(&second, &members, &mut files)?;
    let module = GoModule::from_files(&dir, &files)?;
    let binaries = plan::binaries(spec, &module);
    let sources = walk(host, context, &module, &binaries, [found, second]).await?;
    Ok(Module {
        module,
        module_files: files,
        sources,
    })
}

/// The package directories the spec names, relative to the context.
fn spec_package_dirs(spec: &Spec) -> Vec<String> {
    let dir = &spec.builder.module_dir;
    if spec.binaries.is_empty() {
        go_packages::package_dir(dir, ".").into_iter().collect()
    } else {
        spec.binaries
            .iter()
            .filter_map(|b| go_packages::package_dir(dir, &b.package.value))
            .collect()
    }
}

/// Those of `paths` that `found` lists, with their contents; a listed file
/// that cannot be read is an error (a link BuildKit resolved to nothing).
fn existing(
    found: &Found,
    paths: &[String],
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), DriverError> {
    for path in paths {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let listed = found
            .listed
            .get(dir)
            .is_some_and(|names| names.as_ref().is_some_and(|n| n.contains(name)));
        if !listed {
            continue;
        }
        match found.read.get(path) {
            Some(Ok(data)) => {
                files.insert(path.clone(), data.clone());
            }
            Some(Err(e)) => return Err(go_module::unreadable(path, e).into()),
            None => {}
        }
    }
    Ok(())
}

/// Walks the build's own packages (`go_packages`), from what earlier rounds
/// found, then asking the host for each further level at once.
async fn walk<H: Host>(
    host: &H,
    context: &State,
    module: &GoModule,
    binaries: &[BinaryPlan],
    earlier: [Found; 2],
) -> Result<GoSources, DriverError> {
    let mut known = Found::default();
    for found in earlier {
        known.listed.extend(found.listed);
        known.read.extend(found.read);
    }
    let mut walk = PackageWalk::new(module, binaries);
    loop {
        let wanted = walk.wanted();
        if wanted.is_empty() {
            return Ok(walk.finish());
        }
        let mut reads = Reads::default();
        for dir in wanted.list {
            match known.listed.get(&dir) {
                Some(names) => walk.listed(&dir, names.clone().map(|n| n.into_iter().collect())),
                None => reads.dirs.push(dir),
            }
        }
        for path in wanted.read {
            match known.read.get(&path) {
                Some(data) => walk.read(&path, data.as_ref().ok().map(Vec::as_slice)),
                None => reads.files.push(path),
            }
        }
        if !reads.dirs.is_empty() || !reads.files.is_empty() {
            let found = host.read(context, reads).await?;
            known.listed.extend(found.listed);
            known.read.extend(found.read);
        }
    }
}

/// What `--call check` and `golb check` report.
pub struct Check {
    /// The spec as the user wrote it.
    pub file: SourceFile,
    /// The spec when it parsed (a spec error is `failure` instead).
    pub spec: Option<Spec>,
    pub findings: Vec<checks::Finding>,
    /// The files the findings point into.
    pub files: SourceSnapshot,
    /// What stops the build before any check can run.
    pub failure: Option<Failure>,
}

/// A problem that stops the build, with its places in the spec.
pub struct Failure {
    pub message: String,
    pub errors: Vec<SpecError>,
}

/// The checks: every spec error the build would stop at, and golb's
/// Go-aware findings, from the same reads the build makes.
pub async fn check<H: Host>(
    host: &H,
    opts: &BTreeMap<String, String>,
) -> Result<Check, DriverError> {
    let loaded = match load(host, opts).await {
        Ok(loaded) => loaded,
        Err(DriverError::Spec { errors, file }) => {
            return Ok(Check {
                file,
                spec: None,
                findings: Vec::new(),
                files: SourceSnapshot::new(),
                failure: Some(Failure {
                    message: errors.to_string(),
                    errors: errors.0,
                }),
            })
        }
        Err(other) => return Err(other),
    };
    let Loaded {
        spec,
        file,
        context,
        options,
    } = loaded;
    // The lock and the module's files are read at once (one round trip).
    let (lock, module) = futures_join(
        read_lock(host, &options, &context),
        read_module(host, &spec, &context, None),
    )
    .await;
    let lock = lock?;
    let module = match module {
        Ok(module) => module,
        Err(DriverError::Module(error)) => {
            let findings: Vec<checks::Finding> =
                checks::module_error_finding(&error).into_iter().collect();
            let failure = findings.is_empty().then(|| Failure {
                message: error.to_string(),
                errors: Vec::new(),
            });
            return Ok(Check {
                file,
                spec: Some(spec),
                findings,
                files: SourceSnapshot::new(),
                failure,
            });
        }
        Err(other) => return Err(other),
    };
    let binaries = plan::binaries(&spec, &module.module);
    let images = (
        crate::go_build::builder_image(&spec, &module.module),
        plan::runtime_base(&spec),
    );
    let mut errors: Vec<SpecError> = plan::cgo_errors(&spec, true, &[], &host.build_platform());
    if let Err(e) = plan::default_entrypoint(&spec, &binaries) {
        errors.push(e);
    }
    let (builder, base) = match images {
        (Ok((builder, _)), Ok(base)) => (builder, base),
        (builder, base) => {
            errors.extend(builder.err());
            errors.extend(base.err());
            return Ok(Check {
                file,
                spec: Some(spec),
                findings: Vec::new(),
                files: SourceSnapshot::new(),
                failure: Some(failure_of(errors)),
            });
        }
    };
    let files = snapshot(&module, &binaries);
    let builder_go = checks::builder_go_release(&spec, &builder);
    let mut findings = checks::run(&checks::CheckInput {
        spec: &spec,
        module: &module.module,
        binaries: &binaries,
        builder: &builder,
        base: &base,
        builder_go: builder_go.as_deref(),
        files: &files,
    });
    checks::lock_findings(lock.as_ref(), &spec, &builder, &base, &mut findings);
    let failure = (!errors.is_empty()).then(|| failure_of(errors));
    Ok(Check {
        file,
        spec: Some(spec),
        findings,
        files,
        failure,
    })
}

fn failure_of(errors: Vec<SpecError>) -> Failure {
    Failure {
        message: SpecErrors(errors.clone()).to_string(),
        errors,
    }
}

/// The files the checks look at, from what the build read: the module files
/// and the .go files of the walked packages.
fn snapshot(module: &Module, binaries: &[BinaryPlan]) -> SourceSnapshot {
    let mut files = SourceSnapshot::new().with_dir(".");
    for dir in checks::wanted_dirs(&module.module, binaries) {
        let dir = if dir == "." { String::new() } else { dir };
        if module.sources.listed_dirs.contains(&dir) || dir == module.module.dir {
            files = files.with_dir(if dir.is_empty() { "." } else { &dir });
        }
    }
    for (path, data) in &module.module_files {
        if checks::MODULE_FILES.iter().any(|name| path.ends_with(name)) {
            files = files.with_file(path, String::from_utf8_lossy(data));
        }
    }
    for (path, text) in &module.sources.files {
        files = files.with_file(path, text.clone());
    }
    files
}

/// Both futures to completion, on this thread.
async fn futures_join<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future,
    B: std::future::Future,
{
    tokio::join!(a, b)
}

async fn futures_join3<A, B, C>(a: A, b: B, c: C) -> (A::Output, B::Output, C::Output)
where
    A: std::future::Future,
    B: std::future::Future,
    C: std::future::Future,
{
    tokio::join!(a, b, c)
}

#[cfg(test)]
mod tests {
    use super::{local_session, DriverError, Found, Host, Reads, Role, SpecSource};
    use crate::image_ref::ImageRef;
    use crate::offline::FsHost;
    use crate::plan::SourceImage;
    use golb_proto::llb::{self, Platform, State};
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    /// One round trip to BuildKit on the test's paused clock.
    const ROUND_TRIP: Duration = Duration::from_millis(10);

    /// The files on disk, each call taking the round trips it takes through
    /// the gateway: the spec and the ignore file two each (BuildKit solves
    /// their local source, then golb reads the file), a read one, plus one
    /// for the context's solve before its first read (once per build), a
    /// resolve one. On a paused clock, the time a build takes is then its
    /// round trips on the longest chain of calls that wait for each other.
    struct TimedHost {
        files: FsHost,
        context_solved: tokio::sync::OnceCell<()>,
    }

    impl Host for TimedHost {
        async fn spec(&self, filename: &str) -> Result<SpecSource, DriverError> {
            tokio::time::sleep(2 * ROUND_TRIP).await;
            self.files.spec(filename).await
        }
        async fn context_dockerignore(&self) -> Result<Option<Vec<u8>>, DriverError> {
            tokio::time::sleep(2 * ROUND_TRIP).await;
            self.files.context_dockerignore().await
        }
        fn session_for(&self, name: &str) -> Option<String> {
            self.files.session_for(name)
        }
        async fn read(&self, context: &State, reads: Reads) -> Result<Found, DriverError> {
            self.context_solved
                .get_or_init(|| tokio::time::sleep(ROUND_TRIP))
                .await;
            tokio::time::sleep(ROUND_TRIP).await;
            self.files.read(context, reads).await
        }
        async fn resolve(
            &self,
            role: Role,
            reference: &ImageRef,
            platform: &Platform,
        ) -> Result<SourceImage, DriverError> {
            tokio::time::sleep(ROUND_TRIP).await;
            self.files.resolve(role, reference, platform).await
        }
        async fn directories_in(
            &self,
            image: llb::pb::Definition,
            paths: &BTreeSet<String>,
        ) -> Result<Option<BTreeSet<String>>, DriverError> {
            tokio::time::sleep(ROUND_TRIP).await;
            self.files.directories_in(image, paths).await
        }
        fn frontend_image(&self) -> Result<State, DriverError> {
            self.files.frontend_image()
        }
        fn build_platform(&self) -> Platform {
            self.files.build_platform()
        }
        async fn warn(&self, message: &str) {
            self.files.warn(message).await
        }
    }

    /// The no-op's fixed cost is mostly round trips before the plan: the
    /// spec and the ignore file (2, at once), the context's solve with
    /// golb.lock and the module's first round (2, at once), then the
    /// binaries' .go files while the builder go.mod chose and the runtime
    /// base are resolved (1). Reading the lock first, or resolving the
    /// builder after the whole module, costs more.
    #[tokio::test(start_paused = true)]
    async fn a_one_package_module_is_planned_after_five_round_trips() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        std::fs::create_dir_all(dir.join("cmd/server")).unwrap();
        std::fs::write(dir.join("go.mod"), "module example.com/x\n\ngo 1.26\n").unwrap();
        std::fs::write(
            dir.join("cmd/server/main.go"),
            "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n",
        )
        .unwrap();
        let spec = dir.join("golb.toml");
        std::fs::write(&spec, "[[binary]]\npackage = \"./cmd/server\"\n").unwrap();
        let host = TimedHost {
            files: FsHost {
                context: dir.clone(),
                frontend_image: "golb".into(),
                replay: None,
            },
            context_solved: tokio::sync::OnceCell::new(),
        };
        let opts: BTreeMap<String, String> =
            [("filename".to_string(), spec.display().to_string())].into();
        let started = tokio::time::Instant::now();
        let build = super::build(&host, &opts).await.unwrap();
        assert_eq!(build.results.len(), 1);
        assert_eq!(started.elapsed(), 5 * ROUND_TRIP);
    }

    /// `golb lock` pins what the driver lists: the UPX image with the
    /// builder and the runtime base, each once.
    #[test]
    fn spec_images_list_the_upx_image() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        std::fs::write(dir.join("go.mod"), "module example.com/x\n\ngo 1.26\n").unwrap();
        std::fs::write(dir.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
        let spec = dir.join("golb.toml");
        let images = |text: &str| -> Vec<String> {
            std::fs::write(&spec, text).unwrap();
            crate::cli::offline_spec_images(&spec, None)
                .map_err(|f| f.message)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let plain = images("");
        assert_eq!(plain.len(), 2, "{plain:?}");
        let upx = images(
            "[runtime]\ncompress = \"upx\"\nupx_image = \"registry.example.com/tools/upx:4.2.2\"\n",
        );
        assert_eq!(upx[..2], plain[..], "{upx:?}");
        assert_eq!(upx[2], "registry.example.com/tools/upx:4.2.2");
        assert_eq!(Role::Upx.name(), "upx");
    }

    #[test]
    fn a_local_names_the_session_the_client_named_else_the_builds_own() {
        let opts: BTreeMap<String, String> = [
            ("local-sessionid:context".to_string(), "other".to_string()),
            ("local-sessionid:dockerfile".to_string(), String::new()),
        ]
        .into();
        assert_eq!(
            local_session(&opts, "own", "context").as_deref(),
            Some("other")
        );
        assert_eq!(
            local_session(&opts, "own", "dockerfile").as_deref(),
            Some("own")
        );
        assert_eq!(
            local_session(&opts, "own", "assets").as_deref(),
            Some("own")
        );
        assert_eq!(local_session(&BTreeMap::new(), "", "context"), None);
    }
}
