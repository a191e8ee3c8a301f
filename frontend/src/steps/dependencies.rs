//! `golb step dependencies`: runs several `go` commands in one build step.
//!
//! Why one step: golb compiles the standard library and the dependencies
//! for every target platform and tag set of a build in a single step, whose
//! output is one snapshot. Several sibling steps with the same inputs (one
//! per platform) each export fine with `--cache-to … mode=max`, but BuildKit
//! v0.32 does not reliably match all of them on a fresh builder: one of the
//! two platforms of a build missed in most tries (docs/design.md). One step
//! has one cache key.
//!
//! Each job is a command line and the environment it adds (GOOS, GOARCH…);
//! what the jobs are is decided by the frontend (`go_build`), not here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::process::Command;

/// One command of the step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Variables set for this command on top of the step's environment.
    pub env: BTreeMap<String, String>,
    /// The command and its arguments.
    pub args: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DependenciesError {
    #[error("--job {0:?} is not a job golb wrote: {1}")]
    Malformed(String, serde_json::Error),
    #[error("a job has no command")]
    Empty,
    #[error("cannot start {command}: {source}")]
    Start {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed ({status}); its messages are above")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
    },
}

/// Parses the jobs as the frontend wrote them (JSON, one per argument).
pub fn parse_jobs(texts: &[String]) -> Result<Vec<Job>, DependenciesError> {
    texts
        .iter()
        .map(|t| serde_json::from_str(t).map_err(|e| DependenciesError::Malformed(t.clone(), e)))
        .collect()
}

/// Runs the jobs one after another (each `go` uses every core already).
pub fn run(jobs: &[Job]) -> Result<(), DependenciesError> {
    for job in jobs {
        let (program, args) = job.args.split_first().ok_or(DependenciesError::Empty)?;
        let described = format!(
            "{} {}",
            job.env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            program
        );
        let status = Command::new(program)
            .args(args)
            .envs(&job.env)
            .status()
            .map_err(|source| DependenciesError::Start {
                command: described.clone(),
                source,
            })?;
        if !status.success() {
            return Err(DependenciesError::Failed {
                command: described,
                status,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_with_their_environment() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let marker = dir.join("marker");
        let job = |value: &str| Job {
            env: [("GOLB_TEST_VALUE".to_string(), value.to_string())].into(),
            args: vec![
                "sh".into(),
                "-c".into(),
                format!("echo $GOLB_TEST_VALUE >> {}", marker.display()),
            ],
        };
        let texts: Vec<String> = [job("first"), job("second")]
            .iter()
            .map(|j| serde_json::to_string(j).unwrap())
            .collect();
        run(&parse_jobs(&texts).unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(&marker).unwrap(), "first\nsecond\n");
    }

    #[test]
    fn a_failing_job_stops_the_step_and_says_which() {
        let failing = Job {
            env: [("GOOS".to_string(), "linux".to_string())].into(),
            args: vec!["false".into()],
        };
        let err = run(&[failing]).unwrap_err().to_string();
        assert!(err.starts_with("GOOS=linux false failed"), "{err}");
        assert!(matches!(
            parse_jobs(&["{not json".to_string()]),
            Err(DependenciesError::Malformed(..))
        ));
        assert!(matches!(
            run(&[Job {
                env: BTreeMap::new(),
                args: vec![]
            }]),
            Err(DependenciesError::Empty)
        ));
    }
}
