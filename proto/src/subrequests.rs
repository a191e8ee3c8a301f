//! BuildKit's subrequest replies: what `docker buildx build --call
//! targets|outline|check` (and `buildctl … --opt requestid=…`) receive from a
//! frontend instead of a build, as Result metadata ([`Reply::metadata`]).
//!
//! The JSON follows BuildKit v0.32's Go types field for field, because
//! clients decode it with them: `frontend/subrequests/types.go`,
//! `outline/outline.go`, `targets/targets.go`, `lint/lint.go`, and
//! `solver/pb` for locations and sources. Go's `omitempty` is mirrored with
//! `skip_serializing_if`, so absent means absent, not `null` or `0`. buildx
//! decodes `result.json` and prints it itself when `version` is one it knows
//! ("1.0.0"); `result.txt` is what other clients print, and is what BuildKit's
//! own Print functions write, reproduced here. What a frontend answers is its
//! own business; this module only gives the answers BuildKit's shape.

use crate::llb::Location;
use base64::Engine as _;
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
pub const VERSION: &str = "1.0.0";

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

// ---- describe -------------------------------------------------------------

/// `subrequests.Request` (types.go):
/// `Name string json:"name"`, `Version string json:"version"`,
/// `Type RequestType json:"type"`, `Description string json:"description"`,
/// `Opts []Named json:"opts"`, `Inputs []Named json:"inputs"`,
/// `Metadata []Named json:"metadata"`, `Refs []Named json:"refs"`.
/// No omitempty: a nil list is `null`, an empty one `[]`, as Go writes them.
#[derive(Clone, Debug, Serialize)]
pub struct Request {
    pub name: &'static str,
    pub version: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: &'static str,
    pub opts: Option<Vec<Named>>,
    pub inputs: Option<Vec<Named>>,
    pub metadata: Option<Vec<Named>>,
    pub refs: Option<Vec<Named>>,
}

/// `Named`: `Name string json:"name"`, `Description string json:"description"`.
#[derive(Clone, Debug, Serialize)]
pub struct Named {
    pub name: &'static str,
    pub description: &'static str,
}

impl Request {
    /// An RPC request at [`VERSION`] whose reply carries `metadata` keys.
    pub fn rpc(
        name: &'static str,
        description: &'static str,
        opts: Option<Vec<Named>>,
        metadata: &[&'static str],
    ) -> Request {
        Request {
            name,
            version: VERSION,
            kind: "rpc",
            description,
            opts,
            inputs: None,
            metadata: Some(
                metadata
                    .iter()
                    .map(|name| Named {
                        name,
                        description: "",
                    })
                    .collect(),
            ),
            refs: None,
        }
    }
}

/// `frontend.subrequests.describe`: the requests a frontend answers.
pub fn describe(requests: &[Request]) -> Reply {
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
#[derive(Clone, Debug, Default, Serialize)]
pub struct PbLocation {
    #[serde(rename = "sourceIndex", skip_serializing_if = "is_zero")]
    pub source_index: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<PbRange>,
}

impl PbLocation {
    /// `locations` in source `source_index`.
    pub fn new(source_index: i32, locations: impl IntoIterator<Item = Location>) -> PbLocation {
        PbLocation {
            source_index,
            ranges: locations.into_iter().map(PbRange::from).collect(),
        }
    }
}

/// `pb.Range`: `Start *Position json:"start,omitempty"`, `End *Position json:"end,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct PbRange {
    pub start: PbPosition,
    pub end: PbPosition,
}

impl From<Location> for PbRange {
    /// Columns are passed as 1-based columns, as the gateway's errdefs.Source
    /// details and LLB source maps carry them.
    fn from(location: Location) -> PbRange {
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
}

impl PbRange {
    /// A whole line, with no column.
    pub fn line(line: u32) -> PbRange {
        let at = PbPosition {
            line: to_i32(line),
            character: 0,
        };
        PbRange { start: at, end: at }
    }
}

/// `pb.Position`: `Line int32 json:"line,omitempty"`, `Character int32 json:"character,omitempty"`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PbPosition {
    #[serde(skip_serializing_if = "is_zero")]
    pub line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub character: i32,
}

/// `pb.SourceInfo`: `Filename string json:"filename,omitempty"`,
/// `Data []byte json:"data,omitempty"` (base64, as Go writes []byte),
/// `Definition *Definition json:"definition,omitempty"` (never set here),
/// `Language string json:"language,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct PbSourceInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filename: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub data: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// The text, for printing; not part of the JSON.
    #[serde(skip)]
    pub text: String,
}

impl PbSourceInfo {
    pub fn new(filename: &str, text: &str, language: &str) -> PbSourceInfo {
        PbSourceInfo {
            filename: filename.to_string(),
            data: go_bytes(text.as_bytes()),
            language: language.to_string(),
            text: text.to_string(),
        }
    }
}

/// A Go `[]byte` as encoding/json writes it: standard base64 with padding.
pub fn go_bytes(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
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

// ---- targets ---------------------------------------------------------------

/// `targets.List`: `Targets []Target json:"targets"`, `Sources [][]byte json:"sources"`.
#[derive(Clone, Debug, Serialize)]
pub struct TargetList {
    pub targets: Vec<Target>,
    /// Each a Go []byte ([`go_bytes`]).
    pub sources: Vec<String>,
}

/// `targets.Target`: `Name string json:"name,omitempty"`, `Default bool json:"default,omitempty"`,
/// `Description string json:"description,omitempty"`, `Base string json:"base,omitempty"`,
/// `Platform string json:"platform,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<PbLocation>,
}

/// `frontend.targets`, printed as BuildKit's `targets.PrintTargets`.
pub fn targets(list: &TargetList) -> Reply {
    let rows: Vec<Vec<String>> = std::iter::once(vec!["TARGET".into(), "DESCRIPTION".into()])
        .chain(list.targets.iter().map(|t| {
            let name = match (t.name.is_empty(), t.default) {
                (true, true) => "(default)".to_string(),
                (false, true) => format!("{} (default)", t.name),
                _ => t.name.clone(),
            };
            vec![name, t.description.clone()]
        }))
        .collect();
    reply(list, tabwriter(&rows, 1), None)
}

// ---- outline ---------------------------------------------------------------

/// `outline.Outline`: `Name string json:"name,omitempty"`, `Description string json:"description,omitempty"`,
/// `Args []Arg json:"args,omitempty"`, `Secrets []Secret json:"secrets,omitempty"`,
/// `SSH []SSH json:"ssh,omitempty"`, `Cache []CacheMount json:"cache,omitempty"`,
/// `Sources [][]byte json:"sources,omitempty"`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outline {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<OutlineArg>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<OutlineMount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<OutlineMount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<OutlineCache>,
    /// Each a Go []byte ([`go_bytes`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// `outline.Arg`: `Name string json:"name"`, `Description string json:"description,omitempty"`,
/// `Value string json:"value,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct OutlineArg {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<PbLocation>,
}

/// `outline.Secret` and `outline.SSH`: `Name string json:"name"`,
/// `Required bool json:"required,omitempty"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct OutlineMount {
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
}

/// `outline.CacheMount`: `ID string json:"ID"`, `Location *pb.Location json:"location,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct OutlineCache {
    #[serde(rename = "ID")]
    pub id: String,
}

/// `frontend.outline`, printed as BuildKit's `outline.PrintOutline`.
pub fn outline(outline: &Outline) -> Reply {
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
    reply(outline, text, None)
}

// ---- lint ------------------------------------------------------------------

/// `lint.LintResults`: `Warnings []Warning json:"warnings"`,
/// `Sources []*pb.SourceInfo json:"sources"`, `Error *BuildError json:"buildError,omitempty"`.
#[derive(Clone, Debug, Serialize)]
pub struct LintResults {
    pub warnings: Vec<LintWarning>,
    pub sources: Vec<PbSourceInfo>,
    #[serde(rename = "buildError", skip_serializing_if = "Option::is_none")]
    pub build_error: Option<LintBuildError>,
}

/// `lint.Warning`: `RuleName string json:"ruleName"`, `Description string json:"description,omitempty"`,
/// `URL string json:"url,omitempty"`, `Detail string json:"detail,omitempty"`,
/// `Location *pb.Location json:"location,omitempty"`. buildx dereferences the
/// location, so it is always set.
#[derive(Clone, Debug, Serialize)]
pub struct LintWarning {
    #[serde(rename = "ruleName")]
    pub rule_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    pub location: PbLocation,
}

/// `lint.BuildError`: `Message string json:"message"`, `Location pb.Location json:"location"`.
#[derive(Clone, Debug, Serialize)]
pub struct LintBuildError {
    pub message: String,
    pub location: PbLocation,
}

/// `frontend.lint` with its status code (1 fails `--call check`), printed as
/// BuildKit's `lint.PrintLintViolations`.
pub fn lint(results: &LintResults, failed: bool) -> Reply {
    reply(results, lint_text(results), Some(i32::from(failed)))
}

/// BuildKit's `lint.PrintLintViolations`: the warnings sorted by file and
/// line, each with the lines around it. (The build error and the "Check
/// complete" line are the client's to print.)
fn lint_text(results: &LintResults) -> String {
    let mut order: Vec<&LintWarning> = results.warnings.iter().collect();
    let filename = |w: &LintWarning| {
        results
            .sources
            .get(usize::try_from(w.location.source_index).unwrap_or(usize::MAX))
            .map(|s| s.filename.as_str())
    };
    let less = |a: &LintWarning, b: &LintWarning| -> bool {
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

#[cfg(test)]
mod tests;
