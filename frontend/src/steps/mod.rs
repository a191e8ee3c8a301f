//! What golb runs inside build steps. The frontend mounts its own image (a
//! static binary, so it runs in any builder) read-only into a step and
//! starts `golb step <name> …`: work that needs the build's files, which the
//! frontend cannot see, and that the builder image cannot be trusted to have
//! tools for (the golang image may have no shell).
//!
//! Each step is a function with typed inputs, runnable and tested on the
//! host; the clap types here are only its command line.

pub mod dependencies;
pub mod gocacheprog;
pub mod modules;

use std::path::PathBuf;

/// The golb image `golb llb` names for the steps that run `golb step` when
/// none is given: the one this version of golb is published as.
pub const DEFAULT_FRONTEND_IMAGE: &str = concat!("docker.io/golb/golb:", env!("CARGO_PKG_VERSION"));

/// `golb step …`: not for people; golb's plan runs these.
#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[command(subcommand)]
    pub step: Step,
}

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
    /// `go mod download` into the shared cache, then into the snapshot.
    Modules {
        #[arg(long, value_name = "DIR")]
        shared: PathBuf,
        #[arg(long, value_name = "DIR")]
        snapshot: PathBuf,
    },
}

/// Runs a step; the exit code for the process.
pub fn run(args: &StepArgs) -> i32 {
    let result = match &args.step {
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
            gocacheprog::serve(&stores, stdin, stdout)
                .map(|counts| {
                    // go passes this on to its stderr: the step's log.
                    eprintln!(
                        "golb gocacheprog: {} entries from the dependency snapshot, {} from this builder's cache, {} compiled",
                        counts.from_seeds, counts.from_cache, counts.stored
                    );
                })
                .map_err(|e| e.to_string())
        }
        Step::Dependencies { jobs } => dependencies::parse_jobs(jobs)
            .and_then(|jobs| dependencies::run(&jobs))
            .map_err(|e| e.to_string()),
        Step::Modules { shared, snapshot } => modules::ModulesStep {
            shared: shared.clone(),
            snapshot: snapshot.clone(),
            go: PathBuf::from("go"),
        }
        .run()
        .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("golb step: {message}");
            1
        }
    }
}
