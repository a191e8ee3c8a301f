//! How `golb check` reports what it found: `--format text` (the default,
//! `path:line:col: message` on stderr, as editors and people read it),
//! `json` (one document on stdout, for tools) or `github` (GitHub Actions
//! workflow commands on stdout, `::error file=…,line=…,col=…::message`, which
//! GitHub shows as annotations on the pull request's lines).

use crate::checks::{Finding, FindingLocation, Severity};
use crate::cli::Failure;
use crate::spec::SpecError;
use std::path::Path;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// path:line:col: message, on stderr.
    #[default]
    Text,
    /// A JSON document on stdout: {"diagnostics": [...], "errors": N, "warnings": N}.
    Json,
    /// GitHub Actions annotations on stdout: ::error file=…,line=…,col=…::message.
    Github,
}

/// One problem, with where it is when that is known.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub end_line: Option<u32>,
    pub end_col: Option<u32>,
    pub severity: &'static str,
    /// The check's rule id; none for spec and module errors.
    pub rule: Option<&'static str>,
    pub message: String,
    /// The line `--format text` prints.
    #[serde(skip)]
    pub text: String,
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

impl Diagnostic {
    pub fn from_spec_error(error: &SpecError) -> Diagnostic {
        Diagnostic {
            file: Some(error.file.clone()),
            line: Some(error.location.line),
            col: Some(error.location.col),
            end_line: Some(error.location.end_line),
            end_col: Some(error.location.end_col),
            severity: "error",
            rule: None,
            message: error.message.clone(),
            text: error.to_string(),
        }
    }

    /// A check's finding: in the spec at `spec_path`, or in a file of the
    /// context (shown as `<context>/<path>`), whose findings have no column.
    pub fn from_finding(finding: &Finding, spec_path: &str, context: &Path) -> Diagnostic {
        let (file, line, col, end) = match &finding.location {
            FindingLocation::Spec(location) => (
                spec_path.to_string(),
                location.line,
                Some(location.col),
                Some((location.end_line, location.end_col)),
            ),
            FindingLocation::File { path, line } => {
                (context.join(path).display().to_string(), *line, None, None)
            }
        };
        let place = match col {
            Some(col) => format!("{file}:{line}:{col}"),
            None => format!("{file}:{line}"),
        };
        Diagnostic {
            text: format!(
                "{place}: {}: {} ({})",
                finding.severity, finding.message, finding.rule
            ),
            file: Some(file),
            line: Some(line),
            col,
            end_line: end.map(|(l, _)| l),
            end_col: end.map(|(_, c)| c),
            severity: severity_name(finding.severity),
            rule: Some(finding.rule),
            message: finding.message.clone(),
        }
    }

    /// Errors known only as text, one per line. golb's errors start with
    /// `path:line:col: ` or `path:line: ` when they have a place; that
    /// prefix is read back, anything else is a message without a place.
    pub fn from_error_text(text: &str) -> Vec<Diagnostic> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let (file, at_line, col, message) = split_place(line);
                Diagnostic {
                    file,
                    line: at_line,
                    col,
                    end_line: at_line,
                    end_col: col,
                    severity: "error",
                    rule: None,
                    message,
                    text: line.to_string(),
                }
            })
            .collect()
    }
}

/// `path:12:5: message` → (path, 12, 5, message); `path:12: message` → no
/// column; anything else → the whole line as the message.
fn split_place(line: &str) -> (Option<String>, Option<u32>, Option<u32>, String) {
    let parts: Vec<&str> = line.splitn(4, ':').collect();
    let number = |s: &str| s.trim().parse::<u32>().ok();
    match parts.as_slice() {
        [file, l, c, rest] if !file.is_empty() && number(l).is_some() && number(c).is_some() => (
            Some((*file).to_string()),
            number(l),
            number(c),
            rest.trim().to_string(),
        ),
        [file, l, rest @ ..] if !file.is_empty() && number(l).is_some() && !rest.is_empty() => (
            Some((*file).to_string()),
            number(l),
            None,
            rest.join(":").trim().to_string(),
        ),
        _ => (None, None, None, line.to_string()),
    }
}

/// Prints the diagnostics in `format`; an error among them makes it a
/// failure (exit 1). Text goes to stderr as before; JSON and GitHub
/// annotations go to stdout, where CI reads them.
pub fn finish(format: Format, diagnostics: &[Diagnostic]) -> Result<(), Failure> {
    let failed = diagnostics.iter().any(|d| d.severity == "error");
    let text = render(format, diagnostics);
    match format {
        Format::Text if failed => Err(Failure {
            message: text,
            code: 1,
        }),
        Format::Text => {
            if !text.is_empty() {
                eprintln!("{text}");
            }
            Ok(())
        }
        Format::Json | Format::Github => {
            println!("{text}");
            if failed {
                Err(Failure {
                    message: String::new(),
                    code: 1,
                })
            } else {
                Ok(())
            }
        }
    }
}

/// A failure of loading the spec or module, reported in `format`.
pub fn failure(format: Format, failure: Failure) -> Failure {
    if format == Format::Text {
        return failure;
    }
    match finish(format, &Diagnostic::from_error_text(&failure.message)) {
        Err(reported) => Failure {
            code: failure.code,
            ..reported
        },
        Ok(()) => failure,
    }
}

pub fn render(format: Format, diagnostics: &[Diagnostic]) -> String {
    match format {
        Format::Text => diagnostics
            .iter()
            .map(|d| d.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Json => {
            let count = |s: &str| diagnostics.iter().filter(|d| d.severity == s).count();
            let document = serde_json::json!({
                "diagnostics": diagnostics,
                "errors": count("error"),
                "warnings": count("warning"),
            });
            serde_json::to_string_pretty(&document).unwrap_or_default()
        }
        Format::Github => diagnostics
            .iter()
            .map(github_annotation)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// `::error file=golb.toml,line=3,col=1,endLine=3,endColumn=9,title=Rule::message`,
/// escaped as GitHub's workflow commands require.
fn github_annotation(d: &Diagnostic) -> String {
    let mut properties = Vec::new();
    if let Some(file) = &d.file {
        properties.push(format!("file={}", escape_property(file)));
    }
    let numbers = [
        ("line", d.line),
        ("col", d.col),
        ("endLine", d.end_line),
        ("endColumn", d.end_col),
    ];
    for (name, value) in numbers {
        if let Some(value) = value {
            properties.push(format!("{name}={value}"));
        }
    }
    properties.push(format!(
        "title={}",
        escape_property(&format!("golb check: {}", d.rule.unwrap_or("spec")))
    ));
    format!(
        "::{} {}::{}",
        d.severity,
        properties.join(","),
        escape_data(&d.message)
    )
}

/// Workflow command data: %, CR and LF are escaped (actions/toolkit's escapeData).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties also escape ':' and ',' (escapeProperty).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{FindingLocation, Severity};
    use crate::spec::Location;

    fn finding(location: FindingLocation) -> Finding {
        Finding {
            rule: "BinaryPackageNotFound",
            severity: Severity::Error,
            message: "package \"./cmd/x\" is not, here: 100%\nsecond line".into(),
            location,
        }
    }

    #[test]
    fn github_annotations_carry_file_line_col_and_escape_the_message() {
        let spec = finding(FindingLocation::Spec(Location {
            line: 7,
            col: 11,
            end_line: 7,
            end_col: 20,
        }));
        let d = Diagnostic::from_finding(&spec, "svc/golb.toml", Path::new("svc"));
        assert_eq!(
            render(Format::Github, &[d]),
            "::error file=svc/golb.toml,line=7,col=11,endLine=7,endColumn=20,title=golb check%3A BinaryPackageNotFound::package \"./cmd/x\" is not, here: 100%25%0Asecond line"
        );
        let file = Finding {
            severity: Severity::Warning,
            ..finding(FindingLocation::File {
                path: "go.mod".into(),
                line: 3,
            })
        };
        let d = Diagnostic::from_finding(&file, "golb.toml", Path::new("ctx"));
        assert!(
            render(Format::Github, &[d]).starts_with("::warning file=ctx/go.mod,line=3,title="),
        );
    }

    #[test]
    fn json_lists_diagnostics_and_counts() {
        let mut diagnostics = Diagnostic::from_error_text(
            "golb.toml:4:9: unknown field `expose_ports`\nctx: no go.mod in the build context's root",
        );
        diagnostics.push(Diagnostic::from_finding(
            &Finding {
                severity: Severity::Warning,
                ..finding(FindingLocation::File {
                    path: "go.mod".into(),
                    line: 2,
                })
            },
            "golb.toml",
            Path::new("."),
        ));
        let json: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &diagnostics)).unwrap();
        assert_eq!(json["errors"], 2);
        assert_eq!(json["warnings"], 1);
        let first = &json["diagnostics"][0];
        assert_eq!(first["file"], "golb.toml");
        assert_eq!(first["line"], 4);
        assert_eq!(first["col"], 9);
        assert_eq!(first["message"], "unknown field `expose_ports`");
        assert_eq!(json["diagnostics"][1]["file"], serde_json::Value::Null);
        assert_eq!(json["diagnostics"][2]["rule"], "BinaryPackageNotFound");
        assert_eq!(json["diagnostics"][2]["col"], serde_json::Value::Null);
    }

    #[test]
    fn text_is_what_golb_check_always_printed() {
        let d = Diagnostic::from_finding(
            &finding(FindingLocation::File {
                path: "cmd/x/main.go".into(),
                line: 3,
            }),
            "golb.toml",
            Path::new("ctx"),
        );
        assert!(render(Format::Text, &[d]).starts_with("ctx/cmd/x/main.go:3: error: package"));
        assert_eq!(
            split_place("go.mod:7: \"../x\" is outside"),
            (
                Some("go.mod".into()),
                Some(7),
                None,
                "\"../x\" is outside".into()
            )
        );
    }
}
