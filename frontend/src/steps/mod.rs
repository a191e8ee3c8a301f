//! `golb step <name> …`: code golb runs inside build steps, by mounting its
//! own static binary into the builder. Each step is a function with typed
//! inputs and outputs (in its own module) plus this thin command line, so it
//! runs and is tested on the host just as in the build.

pub mod sbom;
pub mod vuln_report;

use crate::cli::Failure;

#[derive(Debug, clap::Subcommand)]
pub enum Step {
    /// Write the SPDX 2.3 SBOM of one platform's result.
    Sbom(sbom::SbomArgs),
    /// Turn govulncheck's JSON into SARIF and OpenVEX, and gate on findings.
    VulnReport(vuln_report::VulnReportArgs),
}

/// Runs one step; its failure says what to print and the exit code.
pub fn run(step: &Step) -> Result<(), Failure> {
    match step {
        Step::Sbom(args) => sbom::run(args),
        Step::VulnReport(args) => vuln_report::run(args),
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
