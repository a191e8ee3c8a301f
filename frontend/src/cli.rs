//! The command line: clap types and the offline commands. `golb llb` and
//! `golb check` run the driver (`driver`) the gateway runs, on the file
//! system (`offline`), with images left unresolved (BuildKit resolves the
//! tags when it solves the Definition).

use crate::driver::{self, DriverError};
use crate::offline::{self, FsHost};
use crate::options::parse_platforms;
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
    /// Pin the spec's builder, runtime and UPX images by digest in golb.lock.
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
    /// What to build, as `--target` names it (`--call targets` lists them): image (the default), binaries, test, vet, size or vuln.
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
    /// Plan with a gateway build's inputs (its options and resolved images),
    /// as `buildx build --call golb.plan,format=json` prints them under
    /// "replay": the output is then the Definition that build solved.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
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

/// The images `golb lock` pins: the driver's, over the files on disk.
pub(crate) fn offline_spec_images(
    spec: &Path,
    context: Option<&Path>,
) -> Result<Vec<crate::image_ref::ImageRef>, Failure> {
    let host = FsHost {
        context: context_of(spec, context),
        frontend_image: crate::release::frontend_image(),
        replay: None,
    };
    let opts = offline_opts(spec, &[]);
    offline::block_on(driver::spec_images(&host, &opts))
        .map_err(|e| Failure::problem(format!("golb: {e}")))?
        .map_err(driver_failure)
}

/// `golb check`: every problem the frontend would report, without BuildKit,
/// and the Go-aware checks (`checks`) of the spec against the module: the
/// driver's `check`, which `--call check` runs too. Errors make it exit 1;
/// warnings alone are printed and it exits 0.
pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    use crate::check_report::{self, Diagnostic};
    let format = args.format;
    let context = context_of(&args.spec, args.context.as_deref());
    let host = FsHost {
        context: context.clone(),
        frontend_image: crate::release::frontend_image(),
        replay: None,
    };
    let opts = offline_opts(&args.spec, &[]);
    let checked = offline::block_on(driver::check(&host, &opts))
        .map_err(|e| Failure::problem(format!("golb: {e}")))?
        .map_err(|e| check_report::failure(format, driver_failure(e)))?;
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    if let Some(failure) = &checked.failure {
        if failure.errors.is_empty() {
            diagnostics.extend(Diagnostic::from_error_text(&failure.message));
        }
        diagnostics.extend(failure.errors.iter().map(Diagnostic::from_spec_error));
    }
    diagnostics.extend(
        checked
            .findings
            .iter()
            .map(|f| Diagnostic::from_finding(f, &checked.file.filename, &context)),
    );
    check_report::finish(format, &diagnostics)
}

/// The context the offline commands read: `--context`, else the spec's directory.
fn context_of(spec: &Path, context: Option<&Path>) -> PathBuf {
    context.map(Path::to_path_buf).unwrap_or_else(|| {
        spec.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    })
}

/// The frontend options BuildKit would pass for an offline command: the spec
/// (its path as given, so messages name it) and the build arguments.
fn offline_opts(spec: &Path, build_args: &[(String, String)]) -> BTreeMap<String, String> {
    let mut opts: BTreeMap<String, String> = build_args
        .iter()
        .map(|(k, v)| (format!("build-arg:{k}"), v.clone()))
        .collect();
    opts.insert("filename".to_string(), spec.display().to_string());
    opts
}

/// A driver error as the offline commands print it.
fn driver_failure(error: DriverError) -> Failure {
    match error {
        DriverError::Options(e) => Failure::usage(e.to_string()),
        other => Failure::problem(other.to_string()),
    }
}

/// `golb llb`: the Definition for one platform (the first given, else
/// linux/amd64), as the gateway plans it.
pub fn llb(args: &LlbArgs, out: &mut impl Write) -> Result<(), Failure> {
    let mut opts = offline_opts(&args.spec, &args.build_args);
    if let Some(platforms) = &args.platform {
        parse_platforms(platforms).map_err(|e| Failure::usage(e.to_string()))?;
        opts.insert("platform".into(), platforms.clone());
    }
    if let Some(target) = &args.target {
        opts.insert("target".into(), target.clone());
    }
    let replay = args.replay.as_deref().map(read_replay).transpose()?;
    if let Some(replay) = &replay {
        for (key, value) in &replay.opts {
            opts.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    let host = FsHost {
        replay,
        context: context_of(&args.spec, args.context.as_deref()),
        frontend_image: args
            .frontend_image
            .clone()
            .unwrap_or_else(crate::release::frontend_image),
    };
    if let Some(runs) = args.bench {
        return bench(runs, &host, &opts);
    }
    let build = plan_offline(&host, &opts)?;
    let first = build
        .results
        .into_iter()
        .next()
        .ok_or_else(|| Failure::problem("the plan produced no result"))?;
    let bytes = if args.dump {
        crate::replay::dump(&first)
            .map_err(|e| Failure::problem(e.to_string()))?
            .into_bytes()
    } else {
        first.definition.encode_to_vec()
    };
    out.write_all(&bytes)
        .map_err(|e| Failure::problem(format!("writing the Definition: {e}")))?;
    Ok(())
}

/// A replay file: a gateway build's inputs (replay.rs).
fn read_replay(path: &Path) -> Result<crate::replay::Replay, Failure> {
    let text =
        std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&text).map_err(|e| {
        Failure::usage(format!(
            "{}: not a golb replay ({e}): write the \"replay\" object of `buildx build --call golb.plan,format=json`",
            path.display()
        ))
    })
}

fn plan_offline(host: &FsHost, opts: &BTreeMap<String, String>) -> Result<driver::Build, Failure> {
    offline::block_on(driver::build(host, opts))
        .map_err(|e| Failure::problem(format!("golb: {e}")))?
        .map_err(driver_failure)
}

/// `golb llb --bench N`: times the driver (read the spec and the module,
/// walk the packages, plan, marshal) N times and prints the median and
/// fastest run in microseconds, for the LLB-generation benchmark.
fn bench(runs: u32, host: &FsHost, opts: &BTreeMap<String, String>) -> Result<(), Failure> {
    let mut micros: Vec<u128> = Vec::new();
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        plan_offline(host, opts)?;
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
