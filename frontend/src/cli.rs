//! Offline commands, for people and tests: the same spec → plan → LLB path
//! the gateway takes, with the module read from a directory and images left
//! unresolved (BuildKit resolves the tags when it solves the Definition).

use crate::build_args;
use crate::go_module::GoModule;
use crate::go_packages::{GoSources, PackageWalk};
use crate::options::{parse_platforms, FrontendOptions};
use crate::plan::{self, PlanInput, ResolvedImage, Target};
use crate::spec::Spec;
use golb_proto::llb::{self, Local, Platform, SourceFile};
use prost::Message;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `golb` command line. BuildKit starts the binary with no arguments
/// (see `main.rs`); people and CI use these subcommands.
#[derive(Debug, clap::Parser)]
#[command(
    name = "golb",
    version = crate::release::VERSION,
    long_version = crate::release::long_version(),
    about = "Build Go services into small, non-root, reproducible images with BuildKit",
    long_about = "Build Go services into small, non-root, reproducible images with BuildKit.\n\n\
BuildKit runs golb as a frontend: put `# syntax=<golb image>` on the first line\n\
of golb.toml and run `docker buildx build -f golb.toml .`. The subcommands\n\
below work offline."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a spec and run golb's Go-aware checks against its module.
    ///
    /// Prints every problem as path:line:col: message; exits 1 if any is an
    /// error, else 0.
    Check(CheckArgs),
    /// Write the LLB Definition golb would solve to stdout.
    ///
    /// For `buildctl build` or `buildctl debug dump-llb`. Images are not
    /// resolved: tags stay tags.
    Llb(LlbArgs),
    /// Pin the spec's builder and runtime images by digest in golb.lock.
    ///
    /// Resolves each image the spec names by tag with the registry
    /// credentials of the Docker config and writes golb.lock beside the spec.
    /// With --check, writes nothing and exits 1 when a tag has moved.
    Lock(crate::lock::command::LockArgs),
    /// Print golb's version.
    Version,
    /// Write a golb.toml (and a .dockerignore) for the Go repository in DIR.
    ///
    /// Reads go.mod, go.work, vendor/, the main packages, //go:embed, the
    /// version variables -X can set and private-looking modules; never
    /// overwrites a spec without --force.
    Init(crate::init::InitArgs),
    /// Write the golb.toml equivalent to a Go Dockerfile, and list what it cannot map.
    Migrate(crate::migrate::MigrateArgs),
    /// Print the JSON Schema of golb.toml (docs/golb.schema.json).
    Schema,
    /// Run one of golb's build steps (golb runs these inside BuildKit).
    #[command(subcommand, hide = true)]
    Step(crate::steps::Step),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The spec file, e.g. golb.toml.
    pub spec: PathBuf,
    /// The build context holding the module (default: the spec's directory).
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// How to report: text (stderr), json or github (Actions annotations), on stdout.
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::check_report::Format,
}

#[derive(Debug, clap::Args)]
pub struct LlbArgs {
    /// The spec file, e.g. golb.toml.
    pub spec: PathBuf,
    /// The build context holding the module (default: the spec's directory).
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// Target platforms, comma-separated; the Definition is the first one's.
    #[arg(long, value_name = "P[,P…]")]
    pub platform: Option<String>,
    /// What to build: image, binaries, test or vet.
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// A build argument, as `--build-arg` passes it to BuildKit.
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = parse_build_arg)]
    pub build_args: Vec<(String, String)>,
    /// Write a readable text form instead of the protobuf Definition.
    #[arg(long, conflicts_with = "bench")]
    pub dump: bool,
    /// Time parse + plan + marshal N times and print the median and fastest.
    #[arg(long, value_name = "N")]
    pub bench: Option<u32>,
    /// The golb image the build's steps run `golb step` from (default: the
    /// image this golb version publishes; through the gateway it is always
    /// the frontend image BuildKit runs).
    #[arg(long, value_name = "REF")]
    pub frontend_image: Option<String>,
}

fn parse_build_arg(pair: &str) -> Result<(String, String), String> {
    pair.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{pair:?}: write it as KEY=VALUE"))
}

/// A command's failure: what to print on stderr, and the exit code.
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
    pub fn problem(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

/// What `load` needs from either command.
pub(crate) struct Args {
    pub(crate) spec: PathBuf,
    pub(crate) context: Option<PathBuf>,
    pub(crate) build_args: Vec<(String, String)>,
}

/// `--build-arg K=V` as the `build-arg:K` options BuildKit would pass.
fn build_arg_opts(args: &Args) -> BTreeMap<String, String> {
    args.build_args
        .iter()
        .map(|(k, v)| (format!("build-arg:{k}"), v.clone()))
        .collect()
}

/// Reads and checks a spec and its module, the way the gateway does.
pub(crate) fn load(args: &Args) -> Result<(Spec, GoModule, SourceFile, PathBuf), Failure> {
    let shown = args.spec.display().to_string();
    let bytes = std::fs::read(&args.spec).map_err(|e| Failure::problem(format!("{shown}: {e}")))?;
    let mut spec =
        Spec::parse_bytes(&shown, &bytes).map_err(|errors| Failure::problem(errors.to_string()))?;
    build_args::apply(&mut spec, &build_arg_opts(args));
    let context = args.context.clone().unwrap_or_else(|| {
        args.spec
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let module = GoModule::from_dir(&context, &spec.builder.module_dir)
        .map_err(|e| Failure::problem(format!("{}: {e}", context.display())))?;
    let file = SourceFile {
        filename: shown,
        data: bytes,
        language: "toml".to_string(),
    };
    Ok((spec, module, file, context))
}

/// `golb check`: every problem the frontend would report, without BuildKit,
/// and the Go-aware checks (`checks`) of the spec against the module.
/// Errors make it exit 1; warnings alone are printed and it exits 0.
pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    use crate::check_report::{self, Diagnostic};
    let format = args.format;
    let args = Args {
        spec: args.spec.clone(),
        context: args.context.clone(),
        build_args: Vec::new(),
    };
    let (spec, module, _, context) = load(&args).map_err(|f| check_report::failure(format, f))?;
    let binaries = plan::binaries(&spec, &module);
    let builder = plan::builder_image(&spec, &module);
    let base = plan::runtime_base(&spec);
    let mut diagnostics: Vec<Diagnostic> = [
        builder.as_ref().err(),
        base.as_ref().err(),
        plan::default_entrypoint(&spec, &binaries).err().as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(Diagnostic::from_spec_error)
    .collect();
    // Without both images the checks have nothing to compare; the errors above say why.
    if let (Ok((builder, _)), Ok(base)) = (&builder, &base) {
        let files = crate::checks::SourceSnapshot::from_dir(
            &context,
            &crate::checks::wanted_dirs(&module, &binaries),
        )
        .map_err(|e| Failure::problem(format!("{}: {e}", context.display())))
        .map_err(|f| check_report::failure(format, f))?;
        let builder_go = crate::checks::builder_go_release(&spec, builder);
        let findings = crate::checks::run(&crate::checks::CheckInput {
            spec: &spec,
            module: &module,
            binaries: &binaries,
            builder,
            base,
            builder_go: builder_go.as_deref(),
            files: &files,
        });
        diagnostics.extend(
            findings
                .iter()
                .map(|f| Diagnostic::from_finding(f, &spec.file.name, &context)),
        );
    }
    check_report::finish(format, &diagnostics)
}

/// `golb llb`: the Definition for one platform (the first given, else linux/amd64).
pub fn llb(llb_args: &LlbArgs, out: &mut impl Write) -> Result<(), Failure> {
    let args = Args {
        spec: llb_args.spec.clone(),
        context: llb_args.context.clone(),
        build_args: llb_args.build_args.clone(),
    };
    let (_, module, file, context) = load(&args)?;
    let mut opts = build_arg_opts(&args);
    let args = llb_args;
    if let Some(platforms) = &args.platform {
        parse_platforms(platforms).map_err(|e| Failure::usage(e.to_string()))?;
        opts.insert("platform".into(), platforms.clone());
    }
    if let Some(target) = &args.target {
        opts.insert("target".into(), target.clone());
    }
    let options = FrontendOptions::from_opts(&opts).map_err(|e| Failure::usage(e.to_string()))?;
    let offline = Offline {
        file: &file,
        module: &module,
        context: &context,
        options: &options,
        opts: &opts,
        frontend_image: &args
            .frontend_image
            .clone()
            .unwrap_or_else(crate::release::frontend_image),
    };
    if let Some(runs) = args.bench {
        return bench(runs, &offline);
    }
    let (definition, config) = offline.definition()?;
    let bytes = if args.dump {
        let mut text = llb::dump(&definition).map_err(|e| Failure::problem(e.to_string()))?;
        text.push_str("\n# image config\n");
        text.push_str(&serde_json::to_string_pretty(&config).unwrap_or_default());
        text.push('\n');
        text.into_bytes()
    } else {
        definition.encode_to_vec()
    };
    out.write_all(&bytes)
        .map_err(|e| Failure::problem(format!("writing the Definition: {e}")))?;
    Ok(())
}

/// What `golb llb` plans from.
struct Offline<'a> {
    file: &'a SourceFile,
    module: &'a GoModule,
    context: &'a Path,
    options: &'a FrontendOptions,
    opts: &'a BTreeMap<String, String>,
    frontend_image: &'a str,
}

impl Offline<'_> {
    /// What the frontend does between reading the spec and solving, minus
    /// the network: parse, walk the packages, plan and marshal. Images stay
    /// unresolved.
    fn definition(&self) -> Result<(llb::pb::Definition, serde_json::Value), Failure> {
        let file = self.file;
        let module = self.module;
        let mut spec = Spec::parse_bytes(&file.filename, &file.data)
            .map_err(|errors| Failure::problem(errors.to_string()))?;
        build_args::apply(&mut spec, self.opts);
        let target = self
            .options
            .platforms
            .first()
            .cloned()
            .unwrap_or_else(Platform::linux_amd64);
        let unresolved = |reference: crate::image_ref::ImageRef| ResolvedImage {
            reference,
            config: serde_json::json!({}),
            replacement: None,
            existing_dirs: None,
        };
        let (builder_ref, _) =
            plan::builder_image(&spec, module).map_err(|e| Failure::problem(e.to_string()))?;
        let base_ref = plan::runtime_base(&spec).map_err(|e| Failure::problem(e.to_string()))?;
        let context = Local::new("context")
            .shared_key_hint("context")
            .custom_name("[internal] load build context")
            .build();
        let sources = read_go_sources(self.context, module, &plan::binaries(&spec, module));
        let golb = llb::Image::new(self.frontend_image)
            .platform(Platform::linux_amd64())
            .custom_name(format!("[golb] {}", self.frontend_image))
            // No key of the spec asks for it: it points at the spec's first line.
            .location(0, llb::Location::TOP)
            .build();
        let images = plan::plan(PlanInput {
            spec: &spec,
            module,
            sources: &sources,
            context,
            golb,
            builder: &unresolved(builder_ref),
            build_platform: &Platform::linux_amd64(),
            targets: vec![Target {
                platform: target,
                base: Some(unresolved(base_ref)),
            }],
            build_target: self.options.target,
            options: &self.options.build,
        })
        .map_err(|e| Failure::problem(e.to_string()))?;
        let image = images
            .into_iter()
            .next()
            .ok_or_else(|| Failure::problem("the plan produced no image"))?;
        let definition = image
            .state
            .marshal(std::slice::from_ref(file))
            .map_err(|e| Failure::problem(e.to_string()))?;
        Ok((definition, image.config.unwrap_or_default()))
    }
}

/// Walks the module's own packages in a directory on this machine, never
/// reading outside it (`context_fs`): what BuildKit would not send is missing.
fn read_go_sources(context: &Path, module: &GoModule, binaries: &[plan::BinaryPlan]) -> GoSources {
    let mut walk = PackageWalk::new(module, binaries);
    loop {
        let wanted = walk.wanted();
        if wanted.is_empty() {
            return walk.finish();
        }
        for dir in wanted.list {
            let names = crate::context_fs::resolve_inside(context, &dir)
                .ok()
                .flatten()
                .and_then(|real| std::fs::read_dir(real).ok())
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                });
            walk.listed(&dir, names);
        }
        for path in wanted.read {
            let data = crate::context_fs::read_inside(context, &path, u64::MAX)
                .ok()
                .flatten();
            walk.read(&path, data.as_deref());
        }
    }
}

/// `golb llb --bench N`: times parse + plan + marshal N times and prints the
/// median and fastest run in microseconds, for the LLB-generation benchmark.
fn bench(runs: u32, offline: &Offline<'_>) -> Result<(), Failure> {
    let mut micros: Vec<u128> = Vec::new();
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        offline.definition()?;
        micros.push(started.elapsed().as_micros());
    }
    micros.sort_unstable();
    println!(
        "runs={} median_us={} min_us={}",
        micros.len(),
        micros[micros.len() / 2],
        micros[0]
    );
    Ok(())
}
