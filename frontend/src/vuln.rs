//! govulncheck's findings, read from its JSON stream (`-format json`,
//! protocol v1.0.0, golang.org/x/vuln/internal/govulncheck) and turned into
//! what a build keeps and decides on: a SARIF log, an OpenVEX document and a
//! gate on called vulnerabilities.
//!
//! govulncheck emits several findings per vulnerability, one per level it
//! reached (module required, package imported, symbol called). As
//! govulncheck's own SARIF and OpenVEX handlers do, only the most precise
//! level of each vulnerability counts. Unlike them, the documents here are
//! deterministic: OpenVEX's timestamp is the build's SOURCE_DATE_EPOCH, its
//! author is golb, its product the scanned module's purl, and its @id a hash
//! of its content; every list is sorted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::purl;

/// How far govulncheck got with a vulnerability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A module at a vulnerable version is required.
    Required,
    /// A vulnerable package is imported, none of its vulnerable symbols called.
    Imported,
    /// A vulnerable symbol is reachable from the scanned code.
    Called,
}

/// The protocol's `config` message.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Config {
    pub protocol_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scanner_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scanner_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub db: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub go_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scan_level: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scan_mode: String,
}

/// What golb reads of an OSV entry.
#[derive(Clone, Debug, Deserialize)]
pub struct Osv {
    pub id: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Finding {
    pub osv: String,
    #[serde(default)]
    pub fixed_version: String,
    /// From the vulnerable symbol (or package, or module) to the entry point.
    pub trace: Vec<Frame>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Frame {
    pub module: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub function: String,
    #[serde(default)]
    pub receiver: String,
    pub position: Option<Position>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Relative to the enclosing module's directory, '/'-separated.
    #[serde(default)]
    pub filename: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    #[error("govulncheck's JSON, message {index}: {message}")]
    Json { index: usize, message: String },
    #[error("govulncheck's JSON has no config message: is it `govulncheck -format json` output?")]
    NoConfig,
    #[error("govulncheck's JSON: finding {0} has an empty trace")]
    EmptyTrace(String),
    #[error("govulncheck's JSON: finding {0} has no OSV entry")]
    UnknownOsv(String),
    #[error("encoding {0}: {1}")]
    Encode(&'static str, String),
}

/// One vulnerability that applies, at the most precise level found.
#[derive(Clone, Debug)]
pub struct Vulnerability {
    pub osv: Osv,
    pub level: Level,
    pub fixed_version: String,
    /// The findings at `level`, sorted.
    pub findings: Vec<Finding>,
}

/// A govulncheck run, reduced to what applies.
#[derive(Clone, Debug)]
pub struct Report {
    pub config: Config,
    /// By OSV ID.
    pub vulnerabilities: BTreeMap<String, Vulnerability>,
}

#[derive(Deserialize)]
struct Message {
    config: Option<Config>,
    osv: Option<Osv>,
    finding: Option<Finding>,
}

impl Frame {
    /// `pkg.Function` or `pkg.Receiver.Method`, as govulncheck names symbols.
    pub fn symbol(&self) -> String {
        let mut name = self.package.clone();
        for part in [&self.receiver, &self.function] {
            if !part.is_empty() {
                name.push('.');
                name.push_str(part.trim_start_matches('*'));
            }
        }
        name
    }
}

impl Finding {
    fn level(&self) -> Level {
        match self.trace.first() {
            Some(f) if !f.function.is_empty() => Level::Called,
            Some(f) if !f.package.is_empty() => Level::Imported,
            _ => Level::Required,
        }
    }

    /// Where the scanned code calls towards the vulnerable symbol: the
    /// frame of `module` nearest to it, and that frame's call position.
    pub fn call_site(&self, module: &str) -> Option<&Frame> {
        let callers = self.trace.get(1..).unwrap_or_default();
        callers
            .iter()
            .find(|f| f.module == module)
            .or_else(|| callers.first())
    }
}

impl Report {
    /// Reads a `govulncheck -format json` stream.
    pub fn parse(json: &[u8]) -> Result<Report, VulnError> {
        let mut config = None;
        let mut osvs: BTreeMap<String, Osv> = BTreeMap::new();
        let mut best: BTreeMap<String, (Level, Vec<Finding>)> = BTreeMap::new();
        let stream = serde_json::Deserializer::from_slice(json).into_iter::<Message>();
        for (index, message) in stream.enumerate() {
            let message = message.map_err(|e| VulnError::Json {
                index: index + 1,
                message: e.to_string(),
            })?;
            if let Some(c) = message.config {
                config = Some(c);
            }
            if let Some(osv) = message.osv {
                osvs.insert(osv.id.clone(), osv);
            }
            if let Some(finding) = message.finding {
                if finding.trace.is_empty() {
                    return Err(VulnError::EmptyTrace(finding.osv));
                }
                let level = finding.level();
                let entry = best
                    .entry(finding.osv.clone())
                    .or_insert((level, Vec::new()));
                if level > entry.0 {
                    *entry = (level, Vec::new());
                }
                if level == entry.0 && !entry.1.contains(&finding) {
                    entry.1.push(finding);
                }
            }
        }
        let config = config.ok_or(VulnError::NoConfig)?;
        let mut vulnerabilities = BTreeMap::new();
        for (id, (level, mut findings)) in best {
            let osv = osvs
                .get(&id)
                .cloned()
                .ok_or_else(|| VulnError::UnknownOsv(id.clone()))?;
            findings.sort_by(|a, b| a.trace.cmp(&b.trace));
            let fixed_version = findings
                .iter()
                .map(|f| f.fixed_version.clone())
                .max()
                .unwrap_or_default();
            vulnerabilities.insert(
                id,
                Vulnerability {
                    osv,
                    level,
                    fixed_version,
                    findings,
                },
            );
        }
        Ok(Report {
            config,
            vulnerabilities,
        })
    }

    fn scanner(&self) -> &str {
        if self.config.scanner_name.is_empty() {
            "govulncheck"
        } else {
            &self.config.scanner_name
        }
    }

    /// The called vulnerabilities that are not in `ignore`, for the gate.
    pub fn called<'a>(&'a self, ignore: &'a [String]) -> impl Iterator<Item = &'a Vulnerability> {
        self.vulnerabilities
            .values()
            .filter(|v| v.level == Level::Called)
            .filter(move |v| !ignore.contains(&v.osv.id))
    }

    /// The gate's verdict: None when nothing called remains, else the
    /// message naming each finding's ID, vulnerable symbol and call site.
    pub fn gate(&self, module: &str, ignore: &[String]) -> Option<String> {
        let called: Vec<&Vulnerability> = self.called(ignore).collect();
        if called.is_empty() {
            return None;
        }
        let mut lines = vec![format!(
            "govulncheck: the code calls {} known vulnerabilit{}:",
            called.len(),
            if called.len() == 1 { "y" } else { "ies" }
        )];
        for v in called {
            let aliases = if v.osv.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", v.osv.aliases.join(", "))
            };
            let fixed = match (v.findings.first(), v.fixed_version.as_str()) {
                (_, "") => "no fixed version yet".to_string(),
                (Some(f), version) => format!("fixed in {}@{version}", f.trace[0].module),
                (None, version) => format!("fixed in {version}"),
            };
            lines.push(format!(
                "  {}{aliases}: {}; {fixed}",
                v.osv.id, v.osv.summary
            ));
            for finding in &v.findings {
                let vulnerable = finding.trace[0].symbol();
                let place = match finding.call_site(module) {
                    Some(caller) => match &caller.position {
                        Some(p) => format!(
                            "called at {}:{}:{} in {}",
                            p.filename,
                            p.line,
                            p.column,
                            caller.symbol()
                        ),
                        None => format!("called in {}", caller.symbol()),
                    },
                    None => "called".to_string(),
                };
                lines.push(format!(
                    "    {vulnerable} ({}), {place}",
                    finding.trace[0].package
                ));
            }
        }
        lines.push(
            "Upgrade the modules, or list an ID you have assessed in the spec's ignore list."
                .to_string(),
        );
        Some(lines.join("\n"))
    }

    /// A SARIF 2.1.0 log shaped as govulncheck's own (`-format sarif`): one
    /// rule and one result per vulnerability, code flows and stacks for called
    /// ones, every result attached to go.mod.
    pub fn sarif(&self) -> Result<Vec<u8>, VulnError> {
        let rules: Vec<Value> = self
            .vulnerabilities
            .values()
            .map(|v| {
                json!({
                    "id": v.osv.id,
                    "shortDescription": {"text": format!("[{}] {}", v.osv.id, description(&v.osv))},
                    "fullDescription": {"text": description(&v.osv)},
                    "help": {"text": v.osv.details},
                    "helpUri": format!("https://pkg.go.dev/vuln/{}", v.osv.id),
                    "properties": {"tags": v.osv.aliases},
                })
            })
            .collect();
        let results: Vec<Value> = self
            .vulnerabilities
            .values()
            .map(|v| self.sarif_result(v))
            .collect();
        let log = json!({
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{
                "tool": {"driver": {
                    "name": self.scanner(),
                    "semanticVersion": self.config.scanner_version,
                    "informationUri": "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck",
                    "properties": self.config,
                    "rules": rules,
                }},
                "results": results,
            }],
        });
        pretty(&log, "SARIF")
    }

    fn sarif_result(&self, v: &Vulnerability) -> Value {
        let (level, what) = match v.level {
            Level::Called => ("error", "calls vulnerable functions in"),
            Level::Imported => ("warning", "imports the vulnerable packages"),
            Level::Required => ("note", "requires the vulnerable modules"),
        };
        let mut elems: Vec<String> = v
            .findings
            .iter()
            .map(|f| match v.level {
                Level::Required => f.trace[0].module.clone(),
                _ => f.trace[0].package.clone(),
            })
            .collect();
        elems.dedup();
        let mut result = json!({
            "ruleId": v.osv.id,
            "level": level,
            "message": {"text": format!("Your code {what} {}.", elems.join(", "))},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": "go.mod", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1},
                },
                "message": {"text": format!("Findings for vulnerability {}", v.osv.id)},
            }],
        });
        if v.level == Level::Called {
            let root = |f: &Finding| f.trace.last().map(|r| r.module.clone()).unwrap_or_default();
            let frames = |f: &Finding| -> Vec<Value> {
                f.trace
                    .iter()
                    .rev()
                    .map(|frame| sarif_frame(frame, &root(f)))
                    .collect()
            };
            result["codeFlows"] = Value::Array(
                v.findings
                    .iter()
                    .map(|f| {
                        json!({
                            "threadFlows": [{"locations": frames(f)}],
                            "message": {"text": format!("A code flow to vulnerable function {}", f.trace[0].symbol())},
                        })
                    })
                    .collect(),
            );
            result["stacks"] = Value::Array(
                v.findings
                    .iter()
                    .map(|f| {
                        json!({
                            "frames": frames(f),
                            "message": {"text": format!("A call stack for vulnerable function {}", f.trace[0].symbol())},
                        })
                    })
                    .collect(),
            );
        }
        result
    }

    /// An OpenVEX v0.2.0 document: one statement per vulnerability, with
    /// `product` (e.g. the scanned module's purl) as the product and each
    /// vulnerable module's purl as a subcomponent. Called → affected;
    /// imported but not called → not_affected, vulnerable_code_not_in_execute_path;
    /// only required → not_affected, vulnerable_code_not_present.
    pub fn openvex(&self, product: &str, timestamp: &str) -> Result<Vec<u8>, VulnError> {
        let statements: Vec<Value> = self
            .vulnerabilities
            .values()
            .map(|v| {
                let mut subcomponents: Vec<String> = v
                    .findings
                    .iter()
                    .map(|f| purl::go_module(&f.trace[0].module, &f.trace[0].version))
                    .collect();
                subcomponents.sort();
                subcomponents.dedup();
                let mut statement = json!({
                    "vulnerability": {
                        "@id": format!("https://pkg.go.dev/vuln/{}", v.osv.id),
                        "name": v.osv.id,
                        "description": description(&v.osv),
                        "aliases": v.osv.aliases,
                    },
                    "products": [{
                        "@id": product,
                        "subcomponents": subcomponents.iter().map(|id| json!({"@id": id})).collect::<Vec<_>>(),
                    }],
                });
                match v.level {
                    Level::Called => statement["status"] = json!("affected"),
                    level => {
                        statement["status"] = json!("not_affected");
                        statement["justification"] = json!(if level == Level::Imported {
                            "vulnerable_code_not_in_execute_path"
                        } else {
                            "vulnerable_code_not_present"
                        });
                        statement["impact_statement"] =
                            json!("Govulncheck determined that the vulnerable code isn't called");
                    }
                }
                statement
            })
            .collect();
        let mut doc = json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "",
            "author": "golb",
            "timestamp": timestamp,
            "version": 1,
            "tooling": format!(
                "golb {} with {}@{}",
                env!("CARGO_PKG_VERSION"),
                self.scanner(),
                self.config.scanner_version
            ),
            "statements": statements,
        });
        let content =
            serde_json::to_vec(&doc).map_err(|e| VulnError::Encode("OpenVEX", e.to_string()))?;
        doc["@id"] = json!(format!(
            "https://openvex.dev/docs/public/vex-{}",
            hex::encode(sha2::Sha256::digest(&content))
        ));
        pretty(&doc, "OpenVEX")
    }
}

/// The OSV summary, or its details when it has none (as govulncheck does).
fn description(osv: &Osv) -> &str {
    if osv.summary.is_empty() {
        &osv.details
    } else {
        &osv.summary
    }
}

/// A trace frame as SARIF: paths relative to %SRCROOT% (the scanned module),
/// %GOROOT% (the standard library) or %GOMODCACHE% (`module@version/…`).
fn sarif_frame(frame: &Frame, root_module: &str) -> Value {
    let (line, column, filename) = match &frame.position {
        Some(p) => (p.line, p.column, p.filename.as_str()),
        None => (1, 1, ""),
    };
    let (uri, base) = if frame.module == root_module {
        (filename.to_string(), "%SRCROOT%")
    } else if frame.module == "stdlib" {
        (filename.to_string(), "%GOROOT%")
    } else {
        (
            format!("{}@{}/{filename}", frame.module, frame.version),
            "%GOMODCACHE%",
        )
    };
    json!({
        "module": format!("{}@{}", frame.module, frame.version),
        "location": {
            "physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": base},
                "region": {"startLine": line, "startColumn": column},
            },
            "message": {"text": frame.symbol()},
        },
    })
}

fn pretty(value: &Value, what: &'static str) -> Result<Vec<u8>, VulnError> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| VulnError::Encode(what, e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests;
