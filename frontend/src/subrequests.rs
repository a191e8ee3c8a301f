//! Answers to BuildKit's subrequests: what `docker buildx build --call
//! targets|outline|check` (and `buildctl … --opt requestid=…`) ask a frontend
//! instead of a build. Pure functions from golb's facts to the reply payloads;
//! the gateway sends a [`Reply`] as Result metadata (see [`Reply::metadata`]).
//!
//! The JSON follows BuildKit v0.32's Go types field for field, because
//! clients decode it with them: `frontend/subrequests/types.go`,
//! `outline/outline.go`, `targets/targets.go`, `lint/lint.go`, and
//! `solver/pb` for locations and sources. Go's `omitempty` is mirrored with
//! `skip_serializing_if`, so absent means absent, not `null` or `0`. buildx
//! decodes `result.json` and prints it itself when `version` is one it knows
//! ("1.0.0"); `result.txt` is what other clients print, and is what BuildKit's
//! own Print functions write, reproduced here.

// Nothing outside the tests calls this module until the gateway answers
// subrequests with it; remove this line when it does.

use crate::checks::{self, Finding, FindingLocation, Severity, SourceSnapshot};
use crate::plan::BuildTarget;
use crate::spec::{Location, Spec, SpecErrors, SpecFile, DEFAULT_RUNTIME_BASE};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Request ids, as the `requestid` option carries them.
pub const DESCRIBE: &str = "frontend.subrequests.describe";
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS: &str = "frontend.targets";
pub const LINT: &str = "frontend.lint";

/// The structure version of every reply: the one BuildKit v0.32 defines for
/// each request. buildx prints `result.txt` instead of decoding `result.json`
/// only when this is newer than what it knows, so it must not change unless
/// the structure does.
const VERSION: &str = "1.0.0";

/// A reply, as the metadata of a Result without refs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// `result.json`
    pub json: Vec<u8>,
    /// `result.txt`
    pub text: Vec<u8>,
    /// `version`
    pub version: String,
    /// `result.statuscode` ("0"/"1"); lint only.
    pub status_code: Option<i32>,
}

impl Reply {
    /// The Result metadata to return: `result.json`, `result.txt`, `version`
    /// and, for lint, `result.statuscode`.
    pub fn metadata(&self) -> BTreeMap<String, Vec<u8>> {
        let mut metadata = BTreeMap::from([
            ("result.json".to_string(), self.json.clone()),
            ("result.txt".to_string(), self.text.clone()),
            ("version".to_string(), self.version.clone().into_bytes()),
        ]);
        if let Some(code) = self.status_code {
            metadata.insert(
                "result.statuscode".to_string(),
                code.to_string().into_bytes(),
            );
        }
        metadata
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubrequestError {
    /// The `target` option names no golb target.
    #[error("{0}")]
    UnknownTarget(String),
}

// ---- describe -------------------------------------------------------------

/// `subrequests.Request` (types.go):
/// `Name string json:"name"`, `Version string json:"version"`,
/// `Type RequestType json:"type"`, `Description string json:"description"`,
/// `Opts []Named json:"opts"`, `Inputs []Named json:"inputs"`,
/// `Metadata []Named json:"metadata"`, `Refs []Named json:"refs"`.
/// No omitempty: a nil list is `null`, an empty one `[]`, as Go writes them.
#[derive(Serialize)]
struct Request {
    name: &'static str,
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
    opts: Option<Vec<Named>>,
    inputs: Option<Vec<Named>>,
    metadata: Option<Vec<Named>>,
    refs: Option<Vec<Named>>,
}

/// `Named`: `Name string json:"name"`, `Description string json:"description"`.
#[derive(Serialize)]
struct Named {
    name: &'static str,
    description: &'static str,
}

fn named(names: &[&'static str]) -> Option<Vec<Named>> {
    Some(
        names
            .iter()
            .map(|name| Named {
                name,
                description: "",
            })
            .collect(),
    )
}

/// The requests golb answers, described as BuildKit describes its own
/// (`SubrequestsOutlineDefinition` etc.), in the Dockerfile frontend's order.
fn requests() -> Vec<Request> {
    let request = |name, description, opts, metadata: &[&'static str]| Request {
        name,
        version: VERSION,
        kind: "rpc",
        description,
        opts,
        inputs: None,
        metadata: named(metadata),
        refs: None,
    };
    vec![
        request(
            OUTLINE,
            "List all parameters current build target supports",
            Some(vec![Named {
                name: "target",
                description: "Target build stage",
            }]),
            &["result.json", "result.txt"],
        ),
        request(
            TARGETS,
            "List all targets current build supports",
            Some(vec![]),
            &["result.json", "result.txt"],
        ),
        request(
            LINT,
            "Check a golb spec and its Go module",
            Some(vec![]),
            &["result.json", "result.txt", "result.statuscode"],
        ),
        request(
            DESCRIBE,
            "List available subrequest types",
            None,
            &["result.json", "result.txt"],
        ),
    ]
}

/// `frontend.subrequests.describe`: the requests golb answers.
pub fn describe() -> Reply {
    let requests = requests();
    let rows: Vec<Vec<String>> =
        std::iter::once(vec!["NAME".into(), "VERSION".into(), "DESCRIPTION".into()])
            .chain(requests.iter().map(|r| {
                vec![
                    r.name
                        .strip_prefix("frontend.")
                        .unwrap_or(r.name)
                        .to_string(),
                    r.version.to_string(),
                    r.description.to_string(),
                ]
            }))
            .collect();
    reply(&requests, tabwriter(&rows, 1), None)
}

// ---- locations and sources (solver/pb) -----------------------------------

/// `pb.Location`: `SourceIndex int32 json:"sourceIndex,omitempty"`,
/// `Ranges []*Range json:"ranges,omitempty"`.
#[derive(Clone, Debug, Serialize)]
struct PbLocation {
    #[serde(rename = "sourceIndex", skip_serializing_if = "is_zero")]
    source_index: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<PbRange>,
}

/// `pb.Range`: `Start *Position json:"start,omitempty"`, `End *Position json:"end,omitempty"`.
#[derive(Clone, Debug, Serialize)]
struct PbRange {
    start: PbPosition,
    end: PbPosition,
}

/// `pb.Position`: `Line int32 json:"line,omitempty"`, `Character int32 json:"character,omitempty"`.
#[derive(Clone, Copy, Debug, Serialize)]
struct PbPosition {
    #[serde(skip_serializing_if = "is_zero")]
    line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    character: i32,
}

/// `pb.SourceInfo`: `Filename string json:"filename,omitempty"`,
/// `Data []byte json:"data,omitempty"` (base64, as Go writes []byte),
/// `Definition *Definition json:"definition,omitempty"` (never set here),
/// `Language string json:"language,omitempty"`.
#[derive(Clone, Debug, Serialize)]
struct PbSourceInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    filename: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    data: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    language: String,
    /// The text, for printing; not part of the JSON.
    #[serde(skip)]
    text: String,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A spec location as BuildKit's range. Columns are passed as golb's 1-based
/// columns, as the gateway's errdefs.Source details and LLB source maps do.
fn spec_range(location: Location) -> PbRange {
    PbRange {
        start: PbPosition {
            line: to_i32(location.line),
            character: to_i32(location.col),
        },
        end: PbPosition {
            line: to_i32(location.end_line),
            character: to_i32(location.end_col),
        },
    }
}

fn line_range(line: u32) -> PbRange {
    let at = PbPosition {
        line: to_i32(line),
        character: 0,
    };
    PbRange { start: at, end: at }
}

fn spec_source(spec: &SpecFile) -> PbSourceInfo {
    PbSourceInfo {
        filename: spec.name.clone(),
        data: base64(spec.text.as_bytes()),
        language: "toml".into(),
        text: spec.text.clone(),
    }
}

// ---- targets ---------------------------------------------------------------

/// `targets.List`: `Targets []Target json:"targets"`, `Sources [][]byte json:"sources"`.
#[derive(Serialize)]
struct TargetList {
    targets: Vec<TargetJson>,
    sources: Vec<String>,
}

/// `targets.Target`: `Name string json:"name,omitempty"`, `Default bool json:"default,omitempty"`,
/// `Description string json:"description,omitempty"`, `Base string json:"base,omitempty"`,
/// `Platform string json:"platform,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Serialize)]
struct TargetJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "is_false")]
    default: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    base: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<PbLocation>,
}

/// `frontend.targets`: golb's build targets (`--target`), the default
/// marked, each with what it starts from and, when the spec is readable,
/// the table that shapes it. `sources` holds the spec, as the Dockerfile
/// frontend lists the Dockerfile.
pub fn targets(file: &SpecFile, spec: Option<&Spec>) -> Reply {
    let default = BuildTarget::default();
    let targets: Vec<TargetJson> = BuildTarget::ALL
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
            };
            TargetJson {
                name: name.to_string(),
                default: *target == default,
                description: description.to_string(),
                base,
                platform: String::new(),
                location: location.map(|l| PbLocation {
                    source_index: 0,
                    ranges: vec![spec_range(l)],
                }),
            }
        })
        .collect();
    let rows: Vec<Vec<String>> = std::iter::once(vec!["TARGET".into(), "DESCRIPTION".into()])
        .chain(targets.iter().map(|t| {
            let name = match (t.name.is_empty(), t.default) {
                (true, true) => "(default)".to_string(),
                (false, true) => format!("{} (default)", t.name),
                _ => t.name.clone(),
            };
            vec![name, t.description.clone()]
        }))
        .collect();
    let list = TargetList {
        targets,
        sources: vec![base64(file.text.as_bytes())],
    };
    reply(&list, tabwriter(&rows, 1), None)
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

/// `outline.Outline`: `Name string json:"name,omitempty"`, `Description string json:"description,omitempty"`,
/// `Args []Arg json:"args,omitempty"`, `Secrets []Secret json:"secrets,omitempty"`,
/// `SSH []SSH json:"ssh,omitempty"`, `Cache []CacheMount json:"cache,omitempty"`,
/// `Sources [][]byte json:"sources,omitempty"`.
#[derive(Serialize)]
struct OutlineJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<ArgJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<MountJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ssh: Vec<MountJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cache: Vec<CacheJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<String>,
}

/// `outline.Arg`: `Name string json:"name"`, `Description string json:"description,omitempty"`,
/// `Value string json:"value,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Serialize)]
struct ArgJson {
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<PbLocation>,
}

/// `outline.Secret` and `outline.SSH`: `Name string json:"name"`,
/// `Required bool json:"required,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Serialize)]
struct MountJson {
    name: String,
    #[serde(skip_serializing_if = "is_false")]
    required: bool,
}

/// `outline.CacheMount`: `ID string json:"ID"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Serialize)]
struct CacheJson {
    #[serde(rename = "ID")]
    id: String,
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
    let mounts = |uses: &[MountUse]| -> Vec<MountJson> {
        uses.iter()
            .map(|u| MountJson {
                name: u.id.clone(),
                required: u.required,
            })
            .collect()
    };
    let outline = OutlineJson {
        name: name.to_string(),
        description: description.to_string(),
        args: outline_args(input.extra_args),
        secrets: mounts(input.secrets),
        ssh: mounts(input.ssh),
        cache: input
            .cache_ids
            .iter()
            .map(|id| CacheJson { id: id.clone() })
            .collect(),
        sources: vec![base64(input.spec.text.as_bytes())],
    };
    Ok(reply(&outline, outline_text(&outline), None))
}

/// golb's build args, each replaced by an extra one of the same name, then the other extras.
fn outline_args(extra: &[BuildArg]) -> Vec<ArgJson> {
    let golb = golb_build_args();
    let replaced = golb
        .iter()
        .map(|own| extra.iter().find(|e| e.name == own.name).unwrap_or(own));
    let added = extra
        .iter()
        .filter(|e| !golb.iter().any(|own| own.name == e.name));
    replaced
        .chain(added)
        .map(|a| ArgJson {
            name: a.name.clone(),
            description: a.description.clone(),
            value: a.value.clone(),
            location: a.location.map(|l| PbLocation {
                source_index: 0,
                ranges: vec![spec_range(l)],
            }),
        })
        .collect()
}

/// BuildKit's `outline.PrintOutline`.
fn outline_text(outline: &OutlineJson) -> String {
    let mut text = String::new();
    if !outline.name.is_empty() || !outline.description.is_empty() {
        let name = if outline.name.is_empty() {
            "(default)"
        } else {
            outline.name.as_str()
        };
        let mut rows = vec![vec!["TARGET:".to_string(), name.to_string()]];
        if !outline.description.is_empty() {
            rows.push(vec![
                "DESCRIPTION:".to_string(),
                outline.description.clone(),
            ]);
        }
        text.push_str(&tabwriter(&rows, 1));
        text.push('\n');
    }
    if !outline.args.is_empty() {
        let header = vec![
            "BUILD ARG".to_string(),
            "VALUE".to_string(),
            "DESCRIPTION".to_string(),
        ];
        let rows: Vec<Vec<String>> = std::iter::once(header)
            .chain(
                outline
                    .args
                    .iter()
                    .map(|a| vec![a.name.clone(), a.value.clone(), a.description.clone()]),
            )
            .collect();
        text.push_str(&tabwriter(&rows, 3));
        text.push('\n');
    }
    for (title, mounts) in [("SECRET", &outline.secrets), ("SSH", &outline.ssh)] {
        if !mounts.is_empty() {
            let rows: Vec<Vec<String>> =
                std::iter::once(vec![title.to_string(), "REQUIRED".to_string()])
                    .chain(mounts.iter().map(|m| {
                        vec![
                            m.name.clone(),
                            if m.required {
                                "true".into()
                            } else {
                                String::new()
                            },
                        ]
                    }))
                    .collect();
            text.push_str(&tabwriter(&rows, 3));
            text.push('\n');
        }
    }
    text
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

/// `lint.LintResults`: `Warnings []Warning json:"warnings"`,
/// `Sources []*pb.SourceInfo json:"sources"`, `Error *BuildError json:"buildError,omitempty"`.
#[derive(Serialize)]
struct LintResults {
    warnings: Vec<WarningJson>,
    sources: Vec<PbSourceInfo>,
    #[serde(rename = "buildError", skip_serializing_if = "Option::is_none")]
    build_error: Option<BuildErrorJson>,
}

/// `lint.Warning`: `RuleName string json:"ruleName"`, `Description string json:"description,omitempty"`,
/// `URL string json:"url,omitempty"`, `Detail string json:"detail,omitempty"`,
/// `Location *pb.Location json:"location,omitempty"`. buildx dereferences the
/// location, so golb always sets it.
#[derive(Serialize)]
struct WarningJson {
    #[serde(rename = "ruleName")]
    rule_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
    location: PbLocation,
}

/// `lint.BuildError`: `Message string json:"message"`, `Location pb.Location json:"location"`.
#[derive(Serialize)]
struct BuildErrorJson {
    message: String,
    location: PbLocation,
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
            FindingLocation::Spec(location) => (0, spec_range(*location)),
            FindingLocation::File { path, line } => (
                file_source(&mut sources, input.files, path),
                line_range(*line),
            ),
        };
        let description = checks::rule(finding.rule).map_or("", |r| r.description);
        let detail = match finding.severity {
            Severity::Error => format!("error: {}", finding.message),
            Severity::Warning => finding.message.clone(),
        };
        warnings.push(WarningJson {
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
        BuildErrorJson {
            message: failure.message.clone(),
            location: PbLocation {
                source_index: 0,
                ranges: locations.into_iter().map(spec_range).collect(),
            },
        }
    });
    let failed =
        build_error.is_some() || input.findings.iter().any(|f| f.severity == Severity::Error);
    let results = LintResults {
        warnings,
        sources,
        build_error,
    };
    let text = lint_text(&results);
    reply(&results, text, Some(i32::from(failed)))
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
    sources.push(PbSourceInfo {
        filename: path.to_string(),
        data: base64(text.as_bytes()),
        language: language.to_string(),
        text,
    });
    i32::try_from(sources.len() - 1).unwrap_or(i32::MAX)
}

/// BuildKit's `lint.PrintLintViolations`: the warnings sorted by file and
/// line, each with the lines around it. (The build error and the "Check
/// complete" line are the client's to print.)
fn lint_text(results: &LintResults) -> String {
    let mut order: Vec<&WarningJson> = results.warnings.iter().collect();
    let filename = |w: &WarningJson| {
        results
            .sources
            .get(usize::try_from(w.location.source_index).unwrap_or(usize::MAX))
            .map(|s| s.filename.as_str())
    };
    let less = |a: &WarningJson, b: &WarningJson| -> bool {
        let (fa, fb) = (filename(a), filename(b));
        if fa != fb {
            return fa < fb;
        }
        match (a.location.ranges.first(), b.location.ranges.first()) {
            (None, None) => a.rule_name < b.rule_name,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(ra), Some(rb)) => ra.start.line < rb.start.line,
        }
    };
    order.sort_by(|a, b| {
        if less(a, b) {
            Ordering::Less
        } else if less(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    });
    let mut text = String::new();
    for warning in order {
        text.push_str(&format!("\nWARNING: {}", warning.rule_name));
        if !warning.url.is_empty() {
            text.push_str(&format!(" - {}", warning.url));
        }
        text.push_str(&format!("\n{}\n", warning.detail));
        if let Some(source) = usize::try_from(warning.location.source_index)
            .ok()
            .and_then(|i| results.sources.get(i))
        {
            text.push_str(&print_source(source, &warning.location.ranges));
        }
    }
    text
}

/// BuildKit's `errdefs.Source.Print`: the file name and first line, then the
/// lines of the ranges with up to four lines of context, the ranges marked.
fn print_source(source: &PbSourceInfo, ranges: &[PbRange]) -> String {
    let lines: Vec<&str> = source.text.split('\n').collect();
    let count = i32::try_from(lines.len()).unwrap_or(i32::MAX);
    let Some(mut start) = ranges.iter().map(|r| r.start.line).min() else {
        return String::new();
    };
    let mut end = ranges
        .iter()
        .map(|r| r.end.line.max(r.start.line))
        .max()
        .unwrap_or(start);
    if start > count || start < 1 {
        return String::new();
    }
    end = end.min(count);
    let pad = if end == start { 4 } else { 2 };
    let first_marked = start;
    // Go's loop, step for step: it widens by one line on each side per round.
    let mut p = 0;
    while p < pad {
        if start > 1 {
            start -= 1;
            p += 1;
        }
        if end != count {
            end += 1;
            p += 1;
        }
        p += 1;
    }
    let mut text = format!(
        "{}:{}\n--------------------\n",
        source.filename, first_marked
    );
    for i in start..=end {
        let marked = ranges
            .iter()
            .any(|r| r.start.line <= i && r.end.line.max(r.start.line) >= i);
        let line = usize::try_from(i - 1)
            .ok()
            .and_then(|at| lines.get(at))
            .copied()
            .unwrap_or_default();
        text.push_str(&format!(
            " {i:>3} | {} {line}\n",
            if marked { ">>>" } else { "   " }
        ));
    }
    text.push_str("--------------------\n");
    text
}

// ---- shared ----------------------------------------------------------------

/// Go's `json.MarshalIndent(v, "", "  ")` layout; serializing these plain
/// structs cannot fail, and an empty JSON would still be a valid reply.
fn reply(value: &impl Serialize, text: String, status_code: Option<i32>) -> Reply {
    Reply {
        json: serde_json::to_vec_pretty(value).unwrap_or_default(),
        text: text.into_bytes(),
        version: VERSION.to_string(),
        status_code,
    }
}

/// What Go's `text/tabwriter` writes for these rows with minwidth 0, tabwidth
/// 0, padchar ' ' and no flags: every cell but the last of a row is padded
/// to its column's widest cell plus `padding`; widths count characters.
fn tabwriter(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows
        .iter()
        .map(|r| r.len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter(|r| c + 1 < r.len())
                .map(|r| r[c].chars().count() + padding)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            text.push_str(cell);
            if let Some(width) = widths.get(c).filter(|_| c + 1 < row.len()) {
                text.push_str(&" ".repeat(width.saturating_sub(cell.chars().count())));
            }
        }
        text.push('\n');
    }
    text
}

/// Standard base64 with padding, as Go's encoding/json writes []byte. Written
/// out here because it is all golb needs of it, and the frontend has no
/// base64 dependency of its own.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
