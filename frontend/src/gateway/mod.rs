//! golb as BuildKit runs it: a gateway frontend speaking LLBBridge over
//! stdin/stdout. The driver (`driver`) does the work through a [`Host`]
//! over BuildKit (`host`, with image resolution in `resolve`); this module
//! is the transport: it answers subrequests (`requests`), solves the planned
//! Definitions, and returns the images or the error.
//!
//! Every failure ends in `Return{error}`, never a panic: spec mistakes carry
//! the spec's lines (errdefs.Source), failed solves pass BuildKit's own status
//! through so its source mapping survives.
//!
//! [`Host`]: crate::driver::Host

mod host;
mod requests;
mod resolve;
mod size;

pub use resolve::input_image_config;

use crate::driver::{self, DriverError};
use crate::options::FrontendOptions;
use golb_proto::gateway::{
    self, errdefs, Attestation, Bridge, Caps, FrontendEnv, PlatformImage, ReturnResult,
};
use golb_proto::llb::{Location, Platform};

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
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error("golb does not answer the request {0:?} yet")]
    Subrequest(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<gateway::GatewayError> for FrontendError {
    fn from(e: gateway::GatewayError) -> Self {
        FrontendError::Driver(DriverError::Gateway(e))
    }
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
    let mut milestones = Milestones {
        started,
        reached: Vec::new(),
    };
    let outcome = build(&mut bridge, &env, &mut milestones).await;
    let returned = match outcome {
        Ok(result) => bridge.return_result(result).await,
        Err(error) => {
            eprintln!("golb: {error}");
            bridge.return_error(error_status(&error)).await
        }
    };
    // stderr reaches buildkitd's log, not the user: the benchmark reads this
    // line, and the milestones say where a build's fixed cost goes.
    eprintln!(
        "golb: frontend returned after {} ms{}",
        started.elapsed().as_millis(),
        milestones
    );
    match returned {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("golb: returning the result to BuildKit failed: {e}");
            1
        }
    }
}

/// When the frontend reached each phase of a build, from its start.
struct Milestones {
    started: std::time::Instant,
    reached: Vec<(&'static str, u128)>,
}

impl Milestones {
    fn reach(&mut self, phase: &'static str) {
        self.reached
            .push((phase, self.started.elapsed().as_millis()));
    }
}

impl std::fmt::Display for Milestones {
    /// ": planned at 12 ms, solved at 30 ms" (nothing when none was reached).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (phase, ms)) in self.reached.iter().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            write!(f, "{sep}{phase} at {ms} ms")?;
        }
        Ok(())
    }
}

/// The status BuildKit shows for an error: spec lines for spec mistakes,
/// BuildKit's own details for failed solves.
fn error_status(error: &FrontendError) -> errdefs::Status {
    match error {
        FrontendError::Driver(DriverError::Spec { errors, file }) => {
            let ranges: Vec<Location> = errors.0.iter().map(|e| e.location).collect();
            errdefs::source_error(INVALID_ARGUMENT, &errors.to_string(), file, &ranges)
        }
        FrontendError::Driver(DriverError::Gateway(e)) => match e.rpc_status() {
            Some(status) => errdefs::from_tonic(status),
            None => errdefs::plain_error(UNKNOWN, &e.to_string()),
        },
        FrontendError::Driver(e @ (DriverError::Precondition(_) | DriverError::Module(_))) => {
            errdefs::plain_error(FAILED_PRECONDITION, &e.to_string())
        }
        FrontendError::Subrequest(name) => errdefs::unsupported_subrequest(name),
        e => errdefs::plain_error(INVALID_ARGUMENT, &e.to_string()),
    }
}

async fn build(
    bridge: &mut Bridge,
    env: &FrontendEnv,
    milestones: &mut Milestones,
) -> Result<ReturnResult, FrontendError> {
    let options = FrontendOptions::from_opts(&env.opts).map_err(DriverError::from)?;
    // The caps check is a round trip of its own: it runs beside the build's
    // first reads, not before them. A BuildKit that lacks a cap says so
    // first, whatever those reads met on it.
    let started = milestones.started;
    let mut ping_bridge = bridge.clone();
    let caps = async {
        let caps = ping_bridge.ping().await;
        (caps, started.elapsed().as_millis())
    };
    let connected = |milestones: &mut Milestones, (caps, ms)| {
        milestones.reached.push(("connected", ms));
        let caps: Caps = caps?;
        check_caps(&caps)?;
        Ok::<_, FrontendError>(caps)
    };
    let host = host::BridgeHost::new(bridge, env, &options);
    if let Some(request) = &options.request_id {
        let (caps, reply) = tokio::join!(caps, requests::answer(&host, env, &options, request));
        connected(milestones, caps)?;
        return Ok(ReturnResult {
            images: Vec::new(),
            extra_metadata: reply?.metadata(),
            ..ReturnResult::default()
        });
    }
    let (caps, build) = tokio::join!(caps, driver::build(&host, &env.opts));
    let caps = connected(milestones, caps)?;
    let build = build?;
    milestones.reach("planned");
    let cache_imports = gateway::parse_cache_imports(&env.opts)?;
    // Platforms are solved concurrently: BuildKit shares the steps they have
    // in common (the module download) and runs the rest in parallel.
    let mut solves = tokio::task::JoinSet::new();
    for (index, planned) in build.results.into_iter().enumerate() {
        let mut bridge = bridge.clone();
        let cache_imports = cache_imports.clone();
        solves.spawn(async move {
            let mut size_bridge = bridge.clone();
            let mut vuln_bridge = bridge.clone();
            let image = bridge.solve(planned.definition, cache_imports.clone());
            let size = async {
                match planned.size {
                    Some(size) => size::solve(&mut size_bridge, size, cache_imports.clone())
                        .await
                        .map(Some),
                    None => Ok(None),
                }
            };
            // The scans fail the build themselves when they gate on a
            // called vulnerability; what they attest is their OpenVEX.
            let vuln = async {
                match planned.vuln {
                    Some(vuln) => {
                        let reference = vuln_bridge
                            .evaluate(vuln.definition, cache_imports.clone())
                            .await?;
                        Ok(match vuln.attest {
                            true => vuln
                                .openvex
                                .iter()
                                .map(|path| {
                                    Attestation::in_toto(
                                        reference.clone(),
                                        path,
                                        gateway::OPENVEX_PREDICATE_TYPE,
                                    )
                                })
                                .collect(),
                            false => Vec::new(),
                        })
                    }
                    None => Ok(Vec::new()),
                }
            };
            let (reference, size, vuln) = tokio::join!(image, size, vuln);
            let reference = reference?;
            let vex: Vec<Attestation> = vuln?;
            // The SBOM step reads the binaries the result holds: solving it
            // after the result reuses them.
            let sbom = match planned.sbom {
                Some(definition) => Some(bridge.solve(definition, cache_imports).await?),
                None => None,
            };
            Ok::<_, gateway::GatewayError>(Solved {
                index,
                image: PlatformImage {
                    platform: planned.platform,
                    r#ref: reference,
                    config: planned.config,
                },
                sbom,
                size: size?,
                vex,
            })
        });
    }
    let mut returned = Vec::new();
    while let Some(joined) = solves.join_next().await {
        let solved = joined.map_err(task_failed)??;
        returned.push(solved);
    }
    returned.sort_by_key(|solved| solved.index);
    milestones.reach("solved");
    let shown: Vec<_> = returned.iter().map(|s| (&s.image, &s.size)).collect();
    size::report(&host, &shown).await?;
    milestones.reach("reported");
    let mut result = ReturnResult::default();
    for solved in returned {
        let mut attestations = solved.vex;
        if let Some(sbom) = solved.sbom {
            attestations.insert(0, Attestation::spdx_sbom(sbom, crate::plan::SBOM_PATH));
        }
        if !attestations.is_empty() {
            result
                .attestations
                .insert(solved.image.platform.clone(), attestations);
        }
        result.images.push(solved.image);
    }
    result.check_caps(&caps)?;
    Ok(result)
}

/// One platform's result, solved, with what is solved beside it.
struct Solved {
    /// Its place in the build's platforms: the Return keeps their order.
    index: usize,
    image: PlatformImage,
    sbom: Option<gateway::RefId>,
    size: Option<size::SizeResult>,
    /// The OpenVEX attestations of its vulnerability scans.
    vex: Vec<Attestation>,
}

fn check_caps(caps: &Caps) -> Result<(), FrontendError> {
    let missing = caps.missing(FRONTEND_CAPS, LLB_CAPS);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DriverError::Precondition(format!(
            "this BuildKit lacks what golb needs ({}); use BuildKit v0.11 or newer (Docker 24 or newer)",
            missing.join(", ")
        ))
        .into())
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

/// The session holding the local `name` (`driver::local_session`).
fn session_for(env: &FrontendEnv, name: &str) -> Option<String> {
    driver::local_session(&env.opts, &env.session_id, name)
}

fn task_failed(e: tokio::task::JoinError) -> DriverError {
    DriverError::Invalid(format!("a gateway request task failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;
    use golb_proto::llb::SourceFile;

    #[test]
    fn milestones_print_after_the_total_in_the_order_reached() {
        let mut milestones = Milestones {
            started: std::time::Instant::now(),
            reached: Vec::new(),
        };
        assert_eq!(milestones.to_string(), "");
        milestones.reach("connected");
        milestones.reach("planned");
        let line = format!("golb: frontend returned after 9 ms{milestones}");
        // The benchmark's pattern still matches, and the phases follow it.
        assert!(
            line.starts_with("golb: frontend returned after 9 ms: connected at "),
            "{line}"
        );
        assert!(
            line.contains(" ms, planned at ") && line.ends_with(" ms"),
            "{line}"
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
        let status = error_status(&DriverError::Spec { errors, file }.into());
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
