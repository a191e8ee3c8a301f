//! `golb step <name> …`: what golb runs inside build steps. The frontend
//! mounts its own static binary (from its own image, so it runs in any
//! builder) read-only into a step: work that needs the build's files, which
//! the frontend cannot see, and that the builder image cannot be trusted to
//! have tools for (the golang image may have no shell).
//!
//! Each step is a function with typed inputs and outputs (in its own module)
//! plus this thin command line, so it runs and is tested on the host just as
//! in the build.

pub mod dependencies;
pub mod embedded;
pub mod gocacheprog;
pub mod goroot;
pub mod modules;
pub mod sbom;
pub mod size;
pub mod vuln_report;

use crate::cli::Failure;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Step {
    /// Serve Go's build cache (GOCACHEPROG) from seeds, a cache and a snapshot.
    Gocacheprog {
        /// A read-only store looked at first (repeatable).
        #[arg(long = "seed", value_name = "DIR")]
        seeds: Vec<PathBuf>,
        /// The builder's local store, read and written.
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
        /// A store to receive every entry used.
        #[arg(long, value_name = "DIR")]
        snapshot: Option<PathBuf>,
    },
    /// Run `go` commands, each with its own environment (JSON jobs).
    Dependencies {
        #[arg(long = "job", value_name = "JSON")]
        jobs: Vec<String>,
    },
    /// Copy what a compile reads of a Go distribution (`go build`'s root).
    Goroot {
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// `go mod download` into the shared cache, then into the snapshot.
    Modules {
        #[arg(long, value_name = "DIR")]
        shared: PathBuf,
        #[arg(long, value_name = "DIR")]
        snapshot: PathBuf,
    },
    /// Write the SPDX 2.3 SBOM of one platform's result.
    Sbom(sbom::SbomArgs),
    /// Turn govulncheck's JSON into SARIF and OpenVEX, and gate on findings.
    VulnReport(vuln_report::VulnReportArgs),
    /// Size report of built Go binaries: JSON, Markdown and an HTML treemap.
    Size(Box<size::SizeArgs>),
}

/// Runs one step; its failure says what to print and the exit code.
pub fn run(step: &Step) -> Result<(), Failure> {
    let problem = |message: String| Failure::problem(format!("golb step: {message}"));
    match step {
        Step::Gocacheprog {
            seeds,
            cache,
            snapshot,
        } => {
            let stores = gocacheprog::Stores {
                seeds: seeds.clone(),
                cache: cache.clone(),
                snapshot: snapshot.clone(),
            };
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let counts =
                gocacheprog::serve(&stores, stdin, stdout).map_err(|e| problem(e.to_string()))?;
            // go passes this on to its stderr: the step's log.
            eprintln!(
                "golb gocacheprog: {} entries from the dependency snapshot, {} from this builder's cache, {} compiled",
                counts.from_seeds, counts.from_cache, counts.stored
            );
            Ok(())
        }
        Step::Dependencies { jobs } => dependencies::parse_jobs(jobs)
            .and_then(|jobs| dependencies::run(&jobs))
            .map_err(|e| problem(e.to_string())),
        Step::Goroot { from, to } => {
            let copied = goroot::copy(from, to).map_err(|e| problem(e.to_string()))?;
            eprintln!(
                "golb goroot: {} files, {} bytes, copied to {}",
                copied.files,
                copied.bytes,
                to.display()
            );
            Ok(())
        }
        Step::Modules { shared, snapshot } => modules::ModulesStep {
            shared: shared.clone(),
            snapshot: snapshot.clone(),
            go: PathBuf::from("go"),
        }
        .run()
        .map_err(|e| problem(e.to_string())),
        Step::Sbom(args) => sbom::run(args),
        Step::VulnReport(args) => vuln_report::run(args),
        Step::Size(args) => size::run(args)
            .map(|summary| print!("{summary}"))
            .map_err(problem),
    }
}

/// `SRC=DEST`: a path inside the step and where it lands in the result.
pub fn parse_mapping(pair: &str) -> Result<(std::path::PathBuf, String), String> {
    let (src, dest) = pair
        .split_once('=')
        .ok_or_else(|| format!("{pair:?}: write it as SRC=DEST"))?;
    if src.is_empty() || !dest.starts_with('/') {
        return Err(format!(
            "{pair:?}: SRC must not be empty and DEST must be an absolute path"
        ));
    }
    Ok((std::path::PathBuf::from(src), dest.to_string()))
}
