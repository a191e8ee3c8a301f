//! `golb step vuln-report`: reads govulncheck's JSON (`-format json`, one
//! run for one platform and tag set), writes the SARIF log and the OpenVEX
//! document `crate::vuln` makes of it, then applies the gate: with `--gate`,
//! a called vulnerability that is not ignored fails the step, and so the
//! build, with its ID, vulnerable symbol and call site. The documents are
//! written first, whatever the verdict.
//!
//! With `--govulncheck`, it runs govulncheck itself (the builder has no
//! shell to redirect its output) with the arguments after `--`, and keeps
//! its JSON at `--json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cli::Failure;
use crate::vuln::Report;

#[derive(Debug, clap::Args)]
pub struct VulnReportArgs {
    /// govulncheck's `-format json` output: read, or written when `--govulncheck` runs it.
    #[arg(long, value_name = "FILE")]
    pub json: PathBuf,
    /// Run this govulncheck with the arguments after `--` first.
    #[arg(long, value_name = "PATH", requires = "govulncheck_args")]
    pub govulncheck: Option<PathBuf>,
    /// govulncheck's arguments, e.g. `-db URL -format json ./cmd/api`.
    #[arg(last = true, value_name = "ARG")]
    pub govulncheck_args: Vec<String>,
    /// Where to write the SARIF 2.1.0 log.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Where to write the OpenVEX document.
    #[arg(long, value_name = "FILE")]
    pub openvex: Option<PathBuf>,
    /// The scanned main module's path: the VEX product and where call sites are.
    #[arg(long, value_name = "PATH")]
    pub module: String,
    /// Fail when the code calls a known vulnerability.
    #[arg(long)]
    pub gate: bool,
    /// A vulnerability ID the gate lets pass (repeatable).
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// The OpenVEX timestamp, in seconds since the epoch.
    #[arg(long, default_value_t = 0)]
    pub source_date_epoch: i64,
}

pub fn run(args: &VulnReportArgs) -> Result<(), Failure> {
    if let Some(govulncheck) = &args.govulncheck {
        scan(govulncheck, &args.govulncheck_args, &args.json)?;
    }
    let json = std::fs::read(&args.json)
        .map_err(|e| Failure::problem(format!("{}: {e}", args.json.display())))?;
    let report = Report::parse(&json)
        .map_err(|e| Failure::problem(format!("{}: {e}", args.json.display())))?;
    let write = |path: &PathBuf, bytes: Vec<u8>| {
        crate::atomic_file::write(path, &bytes)
            .map_err(|e| Failure::problem(format!("{}: {e}", path.display())))
    };
    if let Some(path) = &args.sarif {
        write(
            path,
            report
                .sarif()
                .map_err(|e| Failure::problem(e.to_string()))?,
        )?;
    }
    if let Some(path) = &args.openvex {
        let product = crate::purl::go_module(&args.module, "");
        let timestamp = crate::image_config::rfc3339(args.source_date_epoch);
        let vex = report
            .openvex(&product, &timestamp)
            .map_err(|e| Failure::problem(e.to_string()))?;
        write(path, vex)?;
    }
    match report.gate(&args.module, &args.ignore) {
        Some(message) if args.gate => Err(Failure::problem(message)),
        Some(message) => {
            // Reported, not enforced: the spec did not ask for the gate.
            eprintln!("{message}");
            Ok(())
        }
        None => Ok(()),
    }
}

/// Runs govulncheck, its JSON to `json`, its messages to the step's log.
/// In `-format json` it exits 0 with findings; any other exit is an error
/// of the scan itself (a package that does not load, an unreachable
/// database), reported with what it printed.
fn scan(govulncheck: &Path, args: &[String], json: &Path) -> Result<(), Failure> {
    let output = Command::new(govulncheck)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::problem(format!("{}: {e}", govulncheck.display())))?;
    if !output.status.success() {
        return Err(Failure::problem(format!(
            "govulncheck {} failed ({}); its messages are above",
            args.join(" "),
            output.status
        )));
    }
    crate::atomic_file::write(json, &output.stdout)
        .map_err(|e| Failure::problem(format!("{}: {e}", json.display())))
}
