//! The Go build plan: a checked spec, the module's facts and the resolved
//! images in, one LLB graph and image config per target platform out. The
//! Go steps (go_steps.rs) turn go_build's commands into execs; the runtime
//! layers (layers.rs) lay the files and binaries over the base.
//!
//! The graph, by construction:
//!   builder image ── go mod download (inputs: go.mod/go.sum only) ── go build per binary
//!                                                   (context bind-mounted read-only, output to scratch)
//!   runtime base ── one FileOp copying only the binaries = exactly one layer

mod go_steps;
mod layers;
mod sbom_step;
mod size_step;
mod upx;
mod vuln_step;

pub use layers::{base_source, file_destination_paths};
pub use sbom_step::SBOM_PATH;
pub use size_step::{GATE_FILE, SUMMARY_FILE};
pub use upx::errors as upx_errors;
pub use vuln_step::VulnPlan;

use crate::go_build::{self, GoCheck};
use crate::go_module::{self, GoModule};
use crate::go_packages::GoSources;
use crate::image_config::{self, RuntimeImage};
use crate::image_ref::ImageRef;
pub use crate::options::{BuildOptions, BuildTarget, NoCache, Step};
use crate::preset;
use crate::spec::{self, Location, Spec, SpecError, DEFAULT_RUNTIME_BASE};
use go_steps::GoSteps;
use golb_proto::llb::{Image, Platform, State};
use serde_json::Value;
use std::collections::BTreeSet;

/// Index of the spec file in the Definition's source map.
const SPEC_SOURCE: usize = 0;

/// An image the build starts from (the builder, a runtime base), after
/// resolution: pinned by digest when the resolver gave one (always, through
/// BuildKit), with its config. proto's `gateway::ResolvedImage` is the raw
/// answer of BuildKit's resolver this is made from.
#[derive(Clone, Debug)]
pub struct SourceImage {
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

impl SourceImage {
    /// An image left as the reference names it: no digest, no config (the
    /// offline commands, where BuildKit resolves the tag when it solves).
    pub fn unresolved(reference: ImageRef) -> SourceImage {
        SourceImage {
            reference,
            config: serde_json::json!({}),
            replacement: None,
            existing_dirs: None,
        }
    }
}

/// One target platform, with its runtime base resolved for that platform
/// (only the `image` target needs one).
pub struct Target {
    pub platform: Platform,
    pub base: Option<SourceImage>,
}

pub struct PlanInput<'a> {
    pub spec: &'a Spec,
    pub module: &'a GoModule,
    /// What the module's own packages import and embed (`go_packages`).
    pub sources: &'a GoSources,
    pub context: State,
    /// golb's own image, mounted into the steps that run `golb step …`.
    pub golb: State,
    pub builder: &'a SourceImage,
    pub build_platform: &'a Platform,
    pub targets: Vec<Target>,
    pub build_target: BuildTarget,
    pub options: &'a BuildOptions,
    /// The UPX image (`[runtime] upx_image`), resolved on the build
    /// platform, when the spec packs binaries and the target is an image.
    pub upx: Option<&'a SourceImage>,
}

/// The result for one platform: its filesystem as LLB, and its image config
/// when it is an image.
pub struct PlatformPlan {
    pub platform: Platform,
    pub state: State,
    pub config: Option<Value>,
    /// The SBOM step's output (the document at [`SBOM_PATH`]), when the
    /// build asked golb for one.
    pub sbom: Option<State>,
    /// The image's size step (`size_step`): solved beside every image for
    /// its summary and gate.
    pub size: Option<State>,
    /// govulncheck's scans (`vuln_step`), solved beside an image whose spec
    /// gates on them or attests their OpenVEX.
    pub vuln: Option<VulnPlan>,
}

/// A binary with every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryPlan {
    pub name: String,
    pub package: String,
    pub ldflags: Vec<String>,
    pub tags: Vec<String>,
    /// Built with CGO_ENABLED=1.
    pub cgo: bool,
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

/// The image the runtime base resolves: a preset's (`crate::preset`), the
/// one the spec names, or distroless static nonroot.
pub fn runtime_base(spec: &Spec) -> Result<ImageRef, SpecError> {
    match &spec.runtime.base {
        Some(base) if preset::Preset::named(&base.value).is_some() => {
            let image =
                preset::Preset::named(&base.value).map_or(DEFAULT_RUNTIME_BASE, |p| p.image());
            ImageRef::parse(image).map_err(|e| spec.error_at(base.location, e.to_string()))
        }
        Some(base) => {
            ImageRef::parse(&base.value).map_err(|e| spec.error_at(base.location, e.to_string()))
        }
        None => ImageRef::parse(DEFAULT_RUNTIME_BASE)
            .map_err(|e| spec.error_at(Location::TOP, e.to_string())),
    }
}

/// What `cgo = true` needs, as spec errors: a glibc runtime base (not a
/// preset, not a static or Alpine image) when the build makes an image,
/// and a C compiler for every target platform: the builder's gcc for the
/// build platform, `[builder.cc]` for the others.
pub fn cgo_errors(
    spec: &Spec,
    image: bool,
    platforms: &[Platform],
    build_platform: &Platform,
) -> Vec<SpecError> {
    let Some((binary, cgo)) = spec
        .binaries
        .iter()
        .find_map(|b| b.cgo.as_ref().filter(|c| c.value).map(|c| (b, c)))
    else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if image {
        let base = spec.runtime.base.as_ref();
        let why = match preset::of_spec(spec) {
            Some(p) => Some(p.why_not_for_cgo()),
            None => base.and_then(|b| preset::not_glibc(&b.value)),
        };
        if let Some(why) = why {
            let at = base.map_or(cgo.location, |b| b.location);
            errors.push(spec.error_at(
                at,
                format!(
                    "{} is built with cgo = true, so it needs glibc at run time, but {why}; name a glibc base, e.g. [runtime] base = \"gcr.io/distroless/base-debian12:nonroot\"",
                    spec::default_binary_name(binary).unwrap_or_else(|| binary.package.value.clone())
                ),
            ));
        }
    }
    // The builder's gcc compiles for the build platform only; any other
    // target needs the cross compiler the spec names for it.
    let uncompilable = platforms
        .iter()
        .find(|p| !spec::same_platform(p, build_platform) && spec.builder.cc_for(p).is_none());
    if let Some(other) = uncompilable {
        errors.push(spec.error_at(
            cgo.location,
            format!(
                "cgo = true cannot cross-compile for {other} on {build_platform} without a C cross compiler for {other}: name the builder's, [builder.cc] \"{other}\" = \"<compiler>\" (a builder image with it and the target's C library; for linux/arm64 on Debian: \"aarch64-linux-gnu-gcc\", from gcc-aarch64-linux-gnu and libc6-dev-arm64-cross), or build for {build_platform} only (--platform {build_platform})"
            ),
        ));
    }
    errors
}

/// The binaries to build, with names defaulted. With no `[[binary]]` the
/// module root is built, named after the module path.
pub fn binaries(spec: &Spec, module: &GoModule) -> Vec<BinaryPlan> {
    let preset_tags = preset::extra_tags(spec);
    if spec.binaries.is_empty() {
        return vec![BinaryPlan {
            name: module.default_binary_name(),
            package: ".".to_string(),
            ldflags: vec![],
            tags: preset_tags,
            cgo: false,
            location: SPEC_TOP,
        }];
    }
    spec.binaries
        .iter()
        .map(|b| BinaryPlan {
            name: spec::default_binary_name(b).unwrap_or_else(|| module.default_binary_name()),
            package: b.package.value.clone(),
            ldflags: b.ldflags.iter().map(|f| f.value.clone()).collect(),
            tags: b
                .tags
                .iter()
                .map(|t| t.value.clone())
                .chain(preset_tags.iter().cloned())
                .collect(),
            cgo: b.cgo.as_ref().is_some_and(|c| c.value),
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
pub fn plan(input: PlanInput<'_>) -> Result<Vec<PlatformPlan>, PlanError> {
    let spec = input.spec;
    let binaries = binaries(spec, input.module);
    let go = GoSteps::new(&input)?;

    let check = match input.build_target {
        BuildTarget::Test => Some(GoCheck::Test),
        BuildTarget::Vet => Some(GoCheck::Vet),
        BuildTarget::Image | BuildTarget::Binaries | BuildTarget::Size | BuildTarget::Vuln => None,
    };
    if let Some(check) = check {
        return Ok(vec![PlatformPlan {
            platform: input.build_platform.clone(),
            state: go_steps::check_module(&input, &go, check)?,
            config: None,
            sbom: None,
            size: None,
            vuln: None,
        }]);
    }

    let entrypoint = match input.build_target {
        BuildTarget::Image | BuildTarget::Size => default_entrypoint(spec, &binaries)?,
        _ => None,
    };
    let build_inputs = go_steps::build_inputs(&input);
    let scans_vulns = match input.build_target {
        BuildTarget::Vuln => true,
        BuildTarget::Image => spec.vuln.scans_images(),
        _ => false,
    };
    let govulncheck = match scans_vulns {
        true => Some(vuln_step::govulncheck(&input, &go)?),
        false => None,
    };
    let vuln_scans = |platform: &Platform| -> Result<Option<VulnPlan>, PlanError> {
        match &govulncheck {
            Some(tool) => Ok(Some(vuln_step::scans(
                &input,
                &go,
                tool,
                &build_inputs,
                &binaries,
                platform,
            )?)),
            None => Ok(None),
        }
    };
    if input.build_target == BuildTarget::Vuln {
        let mut plans = Vec::new();
        for target in &input.targets {
            if let Some(vuln) = vuln_scans(&target.platform)? {
                plans.push(PlatformPlan {
                    platform: target.platform.clone(),
                    state: vuln.state,
                    config: None,
                    sbom: None,
                    size: None,
                    vuln: None,
                });
            }
        }
        return Ok(plans);
    }
    let compiled = go_steps::compile_dependencies(&input, &go, &binaries)?;
    let mut images = Vec::new();
    for target in &input.targets {
        let mut built = Vec::new();
        for binary in &binaries {
            let dependencies = compiled.clone();
            built.push((
                binary.clone(),
                go_steps::build_binary(
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
            (BuildTarget::Image | BuildTarget::Size, Some(base)) => {
                let created = image_config::rfc3339(input.options.source_date_epoch);
                let names: Vec<&str> = binaries.iter().map(|b| b.name.as_str()).collect();
                let preset = preset::of_spec(spec).filter(|_| base.replacement.is_none());
                let config = image_config::runtime_config(
                    &preset::base_config(preset, &base.config),
                    &RuntimeImage {
                        spec: &spec.runtime,
                        default_entrypoint: entrypoint.clone(),
                        platform: &target.platform,
                        created: &created,
                        layer_descriptions: (preset == Some(preset::Preset::Scratch))
                            .then(|| preset::scratch_description(preset::wants_timezones(spec)))
                            .into_iter()
                            .chain(
                                spec.files
                                    .iter()
                                    .map(|f| format!("golb: COPY {} {}", f.src, f.dest)),
                            )
                            .chain([format!(
                                "golb: COPY {} {}/",
                                names.join(" "),
                                go_build::BINARY_DIR
                            )])
                            .collect(),
                    },
                );
                let base_state = base_source(spec, base, &target.platform, input.options);
                let with_files =
                    layers::files_layers(&input, base_state.clone(), base.existing_dirs.as_ref());
                let shipped = upx::pack(&input, &target.platform, &built)?;
                let state = layers::binaries_layer(
                    &input,
                    target,
                    with_files,
                    &shipped,
                    go_build::BINARY_DIR,
                );
                let sbom = match input.options.sbom {
                    true => Some(sbom_step::sbom(
                        &input,
                        &go,
                        target,
                        &built,
                        go_build::BINARY_DIR,
                    )?),
                    false => None,
                };
                let size = size_step::size_step(
                    &input,
                    &target.platform,
                    &built,
                    size_step::Filesystems {
                        image: &state,
                        base: &base_state,
                        go_inputs: &build_inputs,
                    },
                )?;
                match input.build_target {
                    BuildTarget::Size => PlatformPlan {
                        platform: target.platform.clone(),
                        state: size,
                        config: None,
                        sbom: None,
                        size: None,
                        vuln: None,
                    },
                    _ => PlatformPlan {
                        platform: target.platform.clone(),
                        state,
                        config: Some(config),
                        sbom,
                        size: Some(size),
                        vuln: vuln_scans(&target.platform)?,
                    },
                }
            }
            _ => {
                let state = layers::binaries_layer(&input, target, State::scratch(), &built, "");
                let sbom = match input.options.sbom {
                    true => Some(sbom_step::sbom(&input, &go, target, &built, "")?),
                    false => None,
                };
                PlatformPlan {
                    platform: target.platform.clone(),
                    state,
                    config: None,
                    sbom,
                    size: None,
                    vuln: None,
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

    /// What a test plans: a spec's text over a module, the images left
    /// unresolved (or pinned to a made-up digest), for some platforms.
    struct TestPlan<'a> {
        text: &'a str,
        module: GoModule,
        sources: GoSources,
        platforms: &'a [&'a str],
        target: BuildTarget,
        options: BuildOptions,
        pinned: bool,
        upx: Option<SourceImage>,
    }

    impl<'a> TestPlan<'a> {
        /// `text` over a module that requires another, for linux/amd64.
        fn new(text: &'a str, target: BuildTarget) -> TestPlan<'a> {
            TestPlan {
                text,
                module: module_with_requirement(),
                sources: GoSources::default(),
                platforms: &["linux/amd64"],
                target,
                options: BuildOptions::default(),
                pinned: false,
                upx: None,
            }
        }

        fn plan(&self) -> Vec<PlatformPlan> {
            let spec = Spec::parse("golb.toml", self.text).unwrap();
            let image = |reference: ImageRef| match self.pinned {
                true => {
                    SourceImage::unresolved(reference.pinned(&format!("sha256:{}", "a".repeat(64))))
                }
                false => SourceImage::unresolved(reference),
            };
            let builder = image(go_build::builder_image(&spec, &self.module).unwrap().0);
            plan(PlanInput {
                spec: &spec,
                module: &self.module,
                sources: &self.sources,
                context: golb_proto::llb::Local::new("context").build(),
                golb: golb_proto::llb::Image::new("golb").build(),
                builder: &builder,
                build_platform: &Platform::linux_amd64(),
                targets: self
                    .platforms
                    .iter()
                    .map(|p| Target {
                        platform: Platform::parse(p).unwrap(),
                        base: Some(image(runtime_base(&spec).unwrap())),
                    })
                    .collect(),
                build_target: self.target,
                options: &self.options,
                upx: self.upx.as_ref(),
            })
            .unwrap()
        }
    }

    /// A planned state's ops, decoded, with their digests and metadata.
    fn ops_of(
        state: &State,
    ) -> Vec<(
        String,
        golb_proto::llb::pb::Op,
        golb_proto::llb::pb::OpMetadata,
    )> {
        use prost::Message;
        let spec_file = golb_proto::llb::SourceFile {
            filename: "golb.toml".into(),
            data: Vec::new(),
            language: "toml".into(),
        };
        let def = state.marshal(&[spec_file]).unwrap();
        def.def
            .iter()
            .map(|bytes| {
                let digest = golb_proto::llb::digest(bytes);
                (
                    digest.clone(),
                    golb_proto::llb::pb::Op::decode(bytes.as_slice()).unwrap(),
                    def.metadata.get(&digest).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The args of the first exec op of `state` that has `word` among them
    /// (a `golb step` name, say).
    fn exec_args_naming(state: &State, word: &str) -> Option<Vec<String>> {
        use golb_proto::llb::pb;
        ops_of(state)
            .into_iter()
            .find_map(|(_, op, _)| match op.op {
                Some(pb::op::Op::Exec(exec)) => exec
                    .meta
                    .filter(|m| m.args.iter().any(|a| a == word))
                    .map(|m| m.args),
                _ => None,
            })
    }

    /// What the package walk finds when the binaries (no tags) import
    /// `packages` from outside the module.
    fn sources_importing(packages: &[&str]) -> GoSources {
        let mut sources = GoSources::default();
        sources
            .external_imports
            .insert(Vec::new(), packages.iter().map(|p| p.to_string()).collect());
        sources
    }

    /// The jobs of the dependency step of a planned state, in order.
    fn dependency_jobs(state: &State) -> Vec<crate::steps::dependencies::Job> {
        exec_args_naming(state, "dependencies")
            .expect("a dependency step")
            .windows(2)
            .filter(|w| w[0] == "--job")
            .map(|w| serde_json::from_str(&w[1]).unwrap())
            .collect()
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
        let planned = TestPlan {
            module: module.clone(),
            platforms,
            options: options.clone(),
            ..TestPlan::new("", target)
        }
        .plan();
        let mut seen = std::collections::BTreeSet::new();
        let mut execs = Vec::new();
        for image in planned {
            for (digest, op, md) in ops_of(&image.state) {
                let Some(pb::op::Op::Exec(exec)) = op.op else {
                    continue;
                };
                if !seen.insert(digest) {
                    continue;
                }
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

    /// The plan of `spec` (text) for `target` on linux/amd64.
    fn plan_of(text: &str, target: BuildTarget) -> Vec<PlatformPlan> {
        TestPlan::new(text, target).plan()
    }

    #[test]
    fn images_are_scanned_only_when_the_spec_gates_or_attests() {
        let vuln = |keys: &str| plan_of(&format!("[vuln]\n{keys}"), BuildTarget::Image);
        assert!(vuln("").iter().all(|p| p.vuln.is_none()));
        assert!(plan_of("", BuildTarget::Image)
            .iter()
            .all(|p| p.vuln.is_none()));
        for keys in ["gate = true\n", "attest = true\n"] {
            let plans = vuln(keys);
            let scans = plans[0].vuln.as_ref().expect(keys);
            assert_eq!(scans.openvex, ["/vex.openvex.json"], "{keys}");
        }
        let target = plan_of("", BuildTarget::Vuln);
        assert_eq!(target.len(), 1);
        assert!(target[0].config.is_none());
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
            // The GOROOT copy runs no go and has no network.
            let execs: Vec<_> = planned_execs(
                &module_with_requirement(),
                &["linux/amd64"],
                target,
                &options,
            )
            .into_iter()
            .filter(|e| !e.args.contains(&"goroot".to_string()))
            .collect();
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

    /// The args of the SBOM step of each planned platform.
    fn sbom_args(options: &BuildOptions, target: BuildTarget) -> Vec<Option<Vec<String>>> {
        TestPlan {
            platforms: &["linux/amd64", "linux/arm64"],
            options: options.clone(),
            pinned: true,
            ..TestPlan::new("", target)
        }
        .plan()
        .into_iter()
        .map(|p| exec_args_naming(&p.sbom?, "sbom"))
        .collect()
    }

    #[test]
    fn an_sbom_step_per_platform_only_when_asked() {
        let none = sbom_args(&BuildOptions::default(), BuildTarget::Image);
        assert_eq!(none, [None, None]);
        let asked = BuildOptions {
            sbom: true,
            ..BuildOptions::default()
        };
        let image = sbom_args(&asked, BuildTarget::Image);
        for (args, platform) in image.iter().zip(["linux/amd64", "linux/arm64"]) {
            let args = args.as_ref().expect("an SBOM step").join(" ");
            assert!(args.contains(&format!("--platform {platform}")), "{args}");
            assert!(args.contains("=/usr/local/bin/hello"), "{args}");
            assert!(
                args.contains("--runtime gcr.io/distroless/static-debian12:nonroot@sha256:"),
                "{args}"
            );
            assert!(
                args.contains("--builder docker.io/library/golang:"),
                "{args}"
            );
        }
        let binaries = sbom_args(&asked, BuildTarget::Binaries);
        let args = binaries[0].as_ref().expect("an SBOM step").join(" ");
        assert!(
            args.contains("=/hello") && !args.contains("--runtime"),
            "{args}"
        );
    }

    /// The size step of the plan for a module whose main package embeds
    /// `static`: its args, and whether the Go inputs are mounted into it.
    #[test]
    fn the_size_step_resolves_embed_patterns_in_the_go_inputs() {
        use golb_proto::llb::pb;
        let size_exec = |sources: &GoSources| {
            let planned = TestPlan {
                sources: sources.clone(),
                ..TestPlan::new("", BuildTarget::Size)
            }
            .plan();
            ops_of(&planned[0].state)
                .into_iter()
                .find_map(|(_, op, _)| match op.op {
                    Some(pb::op::Op::Exec(exec))
                        if exec
                            .meta
                            .as_ref()
                            .is_some_and(|m| m.args.contains(&"size".into())) =>
                    {
                        Some(exec)
                    }
                    _ => None,
                })
                .unwrap()
        };
        let plain = size_exec(&GoSources::default());
        let args = plain.meta.as_ref().unwrap().args.join(" ");
        assert!(!args.contains("--embed"), "{args}");
        // The images it reads whole are keyed on their own keys, not hashed
        // file by file before each code edit's size step.
        let content_cache = |dest: &str| {
            plain
                .mounts
                .iter()
                .find(|m| m.dest == dest)
                .map(|m| (m.readonly, m.content_cache))
        };
        for dest in ["/run/golb/size/image", "/run/golb/size/base"] {
            assert_eq!(
                content_cache(dest),
                Some((true, pb::MountContentCache::Off as i32)),
                "{dest}"
            );
        }
        assert!(!plain
            .mounts
            .iter()
            .any(|m| m.dest == "/run/golb/size/context"));

        let mut sources = GoSources::default();
        sources.embedding_packages.insert(
            "example.com/hello/cmd/site".into(),
            crate::go_packages::EmbeddingPackage {
                dir: "cmd/site".into(),
                patterns: ["static".to_string()].into(),
            },
        );
        let embedding = size_exec(&sources);
        let args = embedding.meta.as_ref().unwrap().args.join(" ");
        assert!(
            args.contains("--embed-root example.com/hello/cmd/site=/run/golb/size/context/cmd/site --embed-pattern example.com/hello/cmd/site=static"),
            "{args}"
        );
        assert!(embedding
            .mounts
            .iter()
            .any(|m| m.dest == "/run/golb/size/context" && m.readonly));
    }

    /// A cgo binary's dependencies are compiled as its build compiles them:
    /// a job of their own with CGO_ENABLED=1 and the target's `[builder.cc]`,
    /// beside the static binaries' job.
    #[test]
    fn cgo_binaries_get_dependency_jobs_with_cgo_and_their_compiler() {
        let sources = sources_importing(&["fmt", "net"]);
        let text = "[builder.cc]\n\"linux/arm64\" = \"aarch64-linux-gnu-gcc\"\n\n[[binary]]\npackage = \"./cmd/notes\"\ncgo = true\n\n[[binary]]\npackage = \"./cmd/server\"\n";
        let planned = TestPlan {
            sources,
            platforms: &["linux/amd64", "linux/arm64"],
            ..TestPlan::new(text, BuildTarget::Binaries)
        }
        .plan();
        let jobs = dependency_jobs(&planned[0].state);
        let env = |job: &crate::steps::dependencies::Job| {
            ["GOARCH", "CGO_ENABLED", "CC"].map(|k| job.env.get(k).cloned())
        };
        let mut seen: Vec<_> = jobs.iter().map(env).collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                ["amd64", "", ""],
                ["amd64", "1", ""],
                ["arm64", "", ""],
                ["arm64", "1", "aarch64-linux-gnu-gcc"],
            ]
            .map(|row| row.map(|v| (!v.is_empty()).then(|| v.to_string())))
        );
    }

    /// A binary with a PGO profile gets its dependencies compiled with it
    /// (after the job that preprocesses it), and the step mounts the profile
    /// where `go build` finds it; a binary without one keeps a plain job.
    #[test]
    fn a_profiled_binary_s_dependencies_are_compiled_with_its_profile() {
        use golb_proto::llb::pb;
        let mut sources = sources_importing(&["fmt"]);
        sources.profiled_dirs.insert("cmd/server".to_string());
        let text =
            "[[binary]]\npackage = \"./cmd/server\"\n\n[[binary]]\npackage = \"./cmd/tool\"\n";
        let planned = TestPlan {
            sources,
            ..TestPlan::new(text, BuildTarget::Binaries)
        }
        .plan();
        let jobs = dependency_jobs(&planned[0].state);
        let profile = "-pgo=/src/cmd/server/default.pgo";
        let commands: Vec<(String, bool)> = jobs
            .iter()
            .map(|j| (j.args[..2].join(" "), j.args.iter().any(|a| a == profile)))
            .collect();
        assert_eq!(
            commands,
            [
                ("go build".to_string(), true),
                ("go list".to_string(), false),
                ("go list".to_string(), true),
            ]
        );
        let mounted = ops_of(&planned[0].state).into_iter().any(|(_, op, _)| {
            matches!(&op.op, Some(pb::op::Op::Exec(exec))
                if exec.mounts.iter().any(|m| m.dest == "/src/cmd/server/default.pgo"
                    && m.selector == "/cmd/server/default.pgo" && m.readonly))
        });
        assert!(mounted, "the profile is mounted where go build reads it");
    }

    #[test]
    fn cgo_needs_a_glibc_base_and_a_c_compiler_for_each_target() {
        let amd64 = Platform::linux_amd64();
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let errors = |text: &str, platforms: &[Platform]| {
            let spec = Spec::parse("golb.toml", text).unwrap();
            cgo_errors(&spec, true, platforms, &amd64)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let cgo = "[[binary]]\npackage = \"./cmd/notes\"\ncgo = true\n";
        // The default base is the distroless preset: the error is at cgo.
        let default = errors(cgo, std::slice::from_ref(&amd64));
        assert_eq!(default.len(), 1, "{default:?}");
        assert!(
            default[0].starts_with("golb.toml:3:7: notes is built with cgo = true"),
            "{default:?}"
        );
        let alpine = errors(
            &format!("{cgo}[runtime]\nbase = \"alpine\"\n"),
            std::slice::from_ref(&amd64),
        );
        assert!(
            alpine[0].starts_with("golb.toml:5:8:") && alpine[0].contains("musl"),
            "{alpine:?}"
        );
        let glibc = format!("{cgo}[runtime]\nbase = \"gcr.io/distroless/base-debian12:nonroot\"\n");
        assert!(errors(&glibc, std::slice::from_ref(&amd64)).is_empty());
        let cross = errors(&glibc, &[amd64.clone(), arm64.clone()]);
        assert!(
            cross[0].starts_with("golb.toml:3:7:")
                && cross[0].contains("cannot cross-compile for linux/arm64")
                && cross[0].contains("[builder.cc] \"linux/arm64\" = "),
            "{cross:?}"
        );
        // A cross compiler for arm64 makes that target buildable, and only it.
        let with_cc =
            format!("[builder.cc]\n\"linux/arm64\" = \"aarch64-linux-gnu-gcc\"\n\n{glibc}");
        assert!(errors(&with_cc, &[amd64.clone(), arm64.clone()]).is_empty());
        let riscv = Platform::parse("linux/riscv64").unwrap();
        let other = errors(&with_cc, &[amd64.clone(), arm64, riscv]);
        assert_eq!(other.len(), 1, "{other:?}");
        assert!(other[0].contains("for linux/riscv64"), "{other:?}");
        assert!(errors("", &[Platform::linux_amd64()]).is_empty());
    }

    /// The source identifiers of an image plan of `text` with `upx` as the
    /// resolved UPX image.
    fn sources_with_upx(text: &str, upx: Option<&SourceImage>) -> Vec<String> {
        use golb_proto::llb::pb;
        let planned = TestPlan {
            module: module(),
            upx: upx.cloned(),
            ..TestPlan::new(text, BuildTarget::Image)
        }
        .plan();
        ops_of(&planned[0].state)
            .into_iter()
            .filter_map(|(_, op, _)| match op.op {
                Some(pb::op::Op::Source(source)) => Some(source.identifier),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn upx_runs_from_the_resolved_image_or_the_named_context_replacing_it() {
        let text = "[runtime]\ncompress = \"upx\"\nupx_image = \"tools/upx:4.2.2\"\n";
        let digest = format!("sha256:{}", "b".repeat(64));
        let pinned =
            SourceImage::unresolved(ImageRef::parse("tools/upx:4.2.2").unwrap().pinned(&digest));
        let sources = sources_with_upx(text, Some(&pinned));
        assert!(
            sources.contains(&format!(
                "docker-image://docker.io/tools/upx:4.2.2@{digest}"
            )),
            "{sources:?}"
        );
        let replaced = SourceImage {
            replacement: Some(golb_proto::llb::Local::new("upx-tree").build()),
            ..pinned.clone()
        };
        let sources = sources_with_upx(text, Some(&replaced));
        assert!(
            sources.contains(&"local://upx-tree".to_string()),
            "{sources:?}"
        );
        assert!(
            !sources.iter().any(|s| s.contains("tools/upx")),
            "{sources:?}"
        );
        // Planned without a host's resolution: the image as the spec names it.
        let sources = sources_with_upx(text, None);
        assert!(
            sources.contains(&"docker-image://docker.io/tools/upx:4.2.2".to_string()),
            "{sources:?}"
        );
        // No UPX without compress.
        assert!(!sources_with_upx("", Some(&pinned))
            .iter()
            .any(|s| s.contains("tools/upx")));
    }

    #[test]
    fn upx_is_refused_where_it_cannot_pack_and_needs_its_image() {
        let text = "[runtime]\ncompress = \"upx\"\nupx_image = \"tools/upx:4.2.2\"\n";
        let spec = Spec::parse("golb.toml", text).unwrap();
        assert!(upx_errors(&spec, &[Platform::linux_amd64()]).is_empty());
        let s390x = upx_errors(&spec, &[Platform::parse("linux/s390x").unwrap()]);
        assert!(
            s390x[0].to_string().starts_with("golb.toml:3:13:"),
            "{s390x:?}"
        );
        for (bad, at) in [
            ("[runtime]\ncompress = \"upx\"\n", "golb.toml:2:12:"),
            (
                "[runtime]\ncompress = \"gzip\"\nupx_image = \"u\"\n",
                "golb.toml:2:12:",
            ),
            ("[runtime]\nupx_image = \"u\"\n", "golb.toml:2:13:"),
            ("[runtime]\nmax_growth = \"lots\"\n", "golb.toml:2:14:"),
        ] {
            let err = Spec::parse("golb.toml", bad).unwrap_err().to_string();
            assert!(err.starts_with(at), "{bad}: {err}");
        }
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

    /// `go build` keys golb's snapshots (modules, compiled dependencies) on
    /// their steps, so a fresh runner's code edit does not hash them file by
    /// file; the dependency step keeps hashing the modules, which keeps it
    /// cached when a go.sum-only change runs the download again.
    #[test]
    fn go_build_keys_golb_s_snapshots_on_their_steps_the_dependency_step_on_the_modules_content() {
        use golb_proto::llb::pb;
        let sources = sources_importing(&["fmt"]);
        let planned = TestPlan {
            sources,
            ..TestPlan::new("", BuildTarget::Image)
        }
        .plan();
        let ops = ops_of(&planned[0].state);
        let mounts_of = |prefix: &str| -> Vec<(String, i32)> {
            let (_, op, _) = ops
                .iter()
                .find(|(_, _, md)| {
                    md.description
                        .get("llb.customname")
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .unwrap_or_else(|| panic!("no step {prefix}"));
            let Some(pb::op::Op::Exec(exec)) = &op.op else {
                panic!("{prefix} is not an exec")
            };
            exec.mounts
                .iter()
                .filter(|m| m.readonly)
                .map(|m| (m.dest.clone(), m.content_cache))
                .collect()
        };
        let off = pb::MountContentCache::Off as i32;
        let default = pb::MountContentCache::Default as i32;
        let build = mounts_of("[golb] go build ");
        for dest in ["/go/pkg/mod", "/run/golb/compiled"] {
            assert!(
                build.contains(&(dest.to_string(), off)),
                "{dest}: {build:?}"
            );
        }
        assert!(build.contains(&("/src".to_string(), default)), "{build:?}");
        let dependencies = mounts_of("[golb] compile the standard library");
        assert!(
            dependencies.contains(&("/go/pkg/mod".to_string(), default)),
            "{dependencies:?}"
        );
    }

    /// The root filesystem each `go build` runs on, by binary name: the
    /// GOROOT copy ("goroot") or the builder image ("builder").
    fn build_roots(text: &str) -> Vec<(String, &'static str)> {
        use golb_proto::llb::pb;
        let planned = TestPlan::new(text, BuildTarget::Binaries).plan();
        let ops = ops_of(&planned[0].state);
        let name_of = |digest: &str| {
            ops.iter()
                .find(|(d, _, _)| d == digest)
                .and_then(|(_, _, md)| md.description.get("llb.customname").cloned())
                .unwrap_or_default()
        };
        let mut roots: Vec<(String, &'static str)> = ops
            .iter()
            .filter_map(|(_, op, md)| {
                let name = md.description.get("llb.customname")?;
                let Some(pb::op::Op::Exec(exec)) = &op.op else {
                    return None;
                };
                let binary = name.strip_prefix("[golb] go build ")?;
                let root = exec.mounts.iter().find(|m| m.dest == "/")?;
                let input = &op.inputs[usize::try_from(root.input).ok()?];
                let root_name = name_of(&input.digest);
                let kind = match root_name.as_str() {
                    "[golb] GOROOT, copied from the builder" => "goroot",
                    n if n.starts_with("[builder] ") => "builder",
                    _ => "other",
                };
                Some((binary.to_string(), kind))
            })
            .collect();
        roots.sort();
        roots
    }

    /// `go build` without cgo on golb's default builder runs on the GOROOT
    /// copy, which a fresh runner imports instead of the builder image; cgo
    /// (the builder's gcc) and a spec's own builder image keep the image.
    #[test]
    fn go_build_runs_on_the_go_distribution_alone_unless_cgo_or_a_custom_builder() {
        let two = |builder: &str| {
            format!(
                "{builder}\n[[binary]]\npackage = \"./cmd/a\"\n[[binary]]\npackage = \"./cmd/b\"\ncgo = true\n[runtime]\nbase = \"gcr.io/distroless/base-debian12:nonroot\"\n"
            )
        };
        assert_eq!(
            build_roots(&two("[builder]\ngo = \"1.26\"")),
            vec![
                ("./cmd/a → a (linux/amd64)".to_string(), "goroot"),
                ("./cmd/b → b (linux/amd64)".to_string(), "builder"),
            ]
        );
        assert_eq!(
            build_roots(&two("[builder]\nimage = \"example.com/go-builder:1\"")),
            vec![
                ("./cmd/a → a (linux/amd64)".to_string(), "builder"),
                ("./cmd/b → b (linux/amd64)".to_string(), "builder"),
            ]
        );
    }
}
