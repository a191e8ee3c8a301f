//! golb's answers to BuildKit's subrequests (`--call targets|outline|check`):
//! pure functions from golb's facts to the replies, which proto's
//! `subrequests` shapes and prints as BuildKit's clients expect.

use crate::checks::{self, Finding, FindingLocation, Severity, SourceSnapshot};
use crate::plan::BuildTarget;
use crate::spec::{Location, Spec, SpecErrors, SpecFile, DEFAULT_RUNTIME_BASE};
use golb_proto::subrequests::{
    self as wire, go_bytes, LintBuildError, LintResults, LintWarning, Named, OutlineArg,
    OutlineCache, OutlineMount, PbLocation, PbRange, PbSourceInfo, Request,
};
pub use golb_proto::subrequests::{Reply, DESCRIBE, LINT, OUTLINE, TARGETS};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubrequestError {
    /// The `target` option names no golb target.
    #[error("{0}")]
    UnknownTarget(String),
}

// ---- describe -------------------------------------------------------------

/// The requests golb answers, described as BuildKit describes its own
/// (`SubrequestsOutlineDefinition` etc.), in the Dockerfile frontend's order.
fn requests() -> Vec<Request> {
    vec![
        Request::rpc(
            OUTLINE,
            "List all parameters current build target supports",
            Some(vec![Named {
                name: "target",
                description: "Target build stage",
            }]),
            &["result.json", "result.txt"],
        ),
        Request::rpc(
            TARGETS,
            "List all targets current build supports",
            Some(vec![]),
            &["result.json", "result.txt"],
        ),
        Request::rpc(
            LINT,
            "Check a golb spec and its Go module",
            Some(vec![]),
            &["result.json", "result.txt", "result.statuscode"],
        ),
        Request::rpc(
            DESCRIBE,
            "List available subrequest types",
            None,
            &["result.json", "result.txt"],
        ),
    ]
}

/// `frontend.subrequests.describe`: the requests golb answers.
pub fn describe() -> Reply {
    wire::describe(&requests())
}

fn spec_source(spec: &SpecFile) -> PbSourceInfo {
    PbSourceInfo::new(&spec.name, &spec.text, "toml")
}

/// A spec location as BuildKit's location in source 0, the spec.
fn in_spec(location: Location) -> PbLocation {
    PbLocation::new(0, [location])
}

// ---- targets ---------------------------------------------------------------

/// `frontend.targets`: golb's build targets (`--target`), the default
/// marked, each with what it starts from and, when the spec is readable,
/// the table that shapes it. `sources` holds the spec, as the Dockerfile
/// frontend lists the Dockerfile.
pub fn targets(file: &SpecFile, spec: Option<&Spec>) -> Reply {
    let default = BuildTarget::default();
    let targets: Vec<wire::Target> = BuildTarget::ALL
        .iter()
        .map(|(target, name, description)| {
            let (base, location) = match target {
                BuildTarget::Image | BuildTarget::Size => (
                    spec.and_then(|s| s.runtime.base.as_ref())
                        .map_or(DEFAULT_RUNTIME_BASE.to_string(), |b| b.value.clone()),
                    spec.and_then(|s| s.runtime.location),
                ),
                BuildTarget::Binaries => (
                    "scratch".to_string(),
                    spec.and_then(|s| s.binaries.first()).map(|b| b.location),
                ),
                BuildTarget::Test | BuildTarget::Vet => {
                    (spec.and_then(spec_builder).unwrap_or_default(), None)
                }
                BuildTarget::Vuln => (
                    spec.and_then(spec_builder).unwrap_or_default(),
                    spec.and_then(|s| s.vuln.location),
                ),
            };
            wire::Target {
                name: name.to_string(),
                default: *target == default,
                description: description.to_string(),
                base,
                platform: String::new(),
                location: location.map(in_spec),
            }
        })
        .collect();
    wire::targets(&wire::TargetList {
        targets,
        sources: vec![go_bytes(file.text.as_bytes())],
    })
}

/// The builder image the spec names, if it names one (otherwise go.mod decides).
fn spec_builder(spec: &Spec) -> Option<String> {
    match (&spec.builder.image, &spec.builder.go) {
        (Some(image), _) => Some(image.value.clone()),
        (None, Some(go)) => Some(format!("golang:{}", go.value)),
        (None, None) => None,
    }
}

// ---- outline ---------------------------------------------------------------

/// A build argument golb reads, for `--call outline`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildArg {
    pub name: String,
    /// The value golb uses when the argument is not given.
    pub value: String,
    pub description: String,
    /// Where the spec declares it (`[args]`), if it does.
    pub location: Option<Location>,
}

/// A secret or SSH agent a build mounts, by id ("default" for SSH).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountUse {
    pub id: String,
    pub required: bool,
}

/// The build arguments golb itself reads, with their defaults.
pub fn golb_build_args() -> Vec<BuildArg> {
    vec![BuildArg {
        name: "SOURCE_DATE_EPOCH".into(),
        value: "0".into(),
        description:
            "Seconds since 1970-01-01 for file times in golb's layer and the image's created time"
                .into(),
        location: None,
    }]
}

pub struct OutlineInput<'a> {
    pub spec: &'a SpecFile,
    /// The `target` option; `None` for the default target.
    pub target: Option<&'a str>,
    /// Build arguments beyond [`golb_build_args`], which are always listed
    /// first; one given here with the same name replaces golb's entry.
    pub extra_args: &'a [BuildArg],
    pub secrets: &'a [MountUse],
    pub ssh: &'a [MountUse],
    /// Cache mount ids the target uses.
    pub cache_ids: &'a [String],
}

/// `frontend.outline`: the parameters of one target, as
/// `docker buildx build --call outline [--target T]` shows them.
pub fn outline(input: &OutlineInput<'_>) -> Result<Reply, SubrequestError> {
    let target = match input.target.filter(|t| !t.is_empty()) {
        Some(name) => BuildTarget::parse(name).map_err(SubrequestError::UnknownTarget)?,
        None => BuildTarget::default(),
    };
    let (name, description) = BuildTarget::ALL
        .iter()
        .find(|(t, _, _)| *t == target)
        .map_or(("", ""), |(_, name, description)| (*name, *description));
    let mounts = |uses: &[MountUse]| -> Vec<OutlineMount> {
        uses.iter()
            .map(|u| OutlineMount {
                name: u.id.clone(),
                required: u.required,
            })
            .collect()
    };
    Ok(wire::outline(&wire::Outline {
        name: name.to_string(),
        description: description.to_string(),
        args: outline_args(input.extra_args),
        secrets: mounts(input.secrets),
        ssh: mounts(input.ssh),
        cache: input
            .cache_ids
            .iter()
            .map(|id| OutlineCache { id: id.clone() })
            .collect(),
        sources: vec![go_bytes(input.spec.text.as_bytes())],
    }))
}

/// golb's build args, each replaced by an extra one of the same name, then the other extras.
fn outline_args(extra: &[BuildArg]) -> Vec<OutlineArg> {
    let golb = golb_build_args();
    let replaced = golb
        .iter()
        .map(|own| extra.iter().find(|e| e.name == own.name).unwrap_or(own));
    let added = extra
        .iter()
        .filter(|e| !golb.iter().any(|own| own.name == e.name));
    replaced
        .chain(added)
        .map(|a| OutlineArg {
            name: a.name.clone(),
            description: a.description.clone(),
            value: a.value.clone(),
            location: a.location.map(in_spec),
        })
        .collect()
}

// ---- lint ------------------------------------------------------------------

/// Why golb could not check the build at all (the spec does not parse, no
/// go.mod): BuildKit's `buildError`, which fails `--call check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFailure {
    pub message: String,
    /// Where in the spec, if anywhere.
    pub locations: Vec<Location>,
}

impl From<&SpecErrors> for BuildFailure {
    fn from(errors: &SpecErrors) -> BuildFailure {
        BuildFailure {
            message: errors.to_string(),
            locations: errors.0.iter().map(|e| e.location).collect(),
        }
    }
}

pub struct LintInput<'a> {
    /// Source 0 of the reply.
    pub spec: &'a SpecFile,
    /// The texts file findings point into, so clients can show the lines.
    pub files: &'a SourceSnapshot,
    pub findings: &'a [Finding],
    pub build_error: Option<BuildFailure>,
}

/// `frontend.lint`: the findings of the checks, as BuildKit's lint results.
///
/// BuildKit's shape has no severity: every rule violation is a `warning`
/// (so are the Dockerfile frontend's, even under `check=error=true`), and
/// `buildError` is kept for a build that cannot be checked at all. golb
/// follows that: each finding is a warning whose `detail` starts with
/// "error: " when it would fail the build, and a failed spec is the
/// `buildError`. The status code is 1 when a finding is an error or there
/// is a build error, and 0 for warnings alone: unlike the Dockerfile
/// frontend (1 for any warning), because golb warns about every tag-named
/// image, and `--call check` in CI should fail on what breaks builds.
pub fn lint(input: &LintInput<'_>) -> Reply {
    let mut sources = vec![spec_source(input.spec)];
    let mut warnings = Vec::new();
    for finding in input.findings {
        let (source_index, range) = match &finding.location {
            FindingLocation::Spec(location) => (0, PbRange::from(*location)),
            FindingLocation::File { path, line } => (
                file_source(&mut sources, input.files, path),
                PbRange::line(*line),
            ),
        };
        let description = checks::rule(finding.rule).map_or("", |r| r.description);
        let detail = match finding.severity {
            Severity::Error => format!("error: {}", finding.message),
            Severity::Warning => finding.message.clone(),
        };
        warnings.push(LintWarning {
            rule_name: finding.rule.to_string(),
            description: description.to_string(),
            url: String::new(),
            detail,
            location: PbLocation {
                source_index,
                ranges: vec![range],
            },
        });
    }
    let build_error = input.build_error.as_ref().map(|failure| {
        let mut locations = failure.locations.clone();
        locations.sort_by_key(|l| (l.line, l.col));
        LintBuildError {
            message: failure.message.clone(),
            location: PbLocation::new(0, locations),
        }
    });
    let failed =
        build_error.is_some() || input.findings.iter().any(|f| f.severity == Severity::Error);
    let results = LintResults {
        warnings,
        sources,
        build_error,
    };
    wire::lint(&results, failed)
}

/// The index of `path` in `sources`, added on first use.
fn file_source(sources: &mut Vec<PbSourceInfo>, files: &SourceSnapshot, path: &str) -> i32 {
    if let Some(index) = sources.iter().skip(1).position(|s| s.filename == path) {
        return i32::try_from(index + 1).unwrap_or(i32::MAX);
    }
    let text = files.file(path).unwrap_or_default().to_string();
    let language = if path.ends_with(".go") {
        "go"
    } else {
        path.rsplit('/').next().unwrap_or(path)
    };
    sources.push(PbSourceInfo::new(path, &text, language));
    i32::try_from(sources.len() - 1).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests;
