//! `golb step vuln-report` (written next).

use crate::cli::Failure;

#[derive(Debug, clap::Args)]
pub struct VulnReportArgs {}

pub fn run(_args: &VulnReportArgs) -> Result<(), Failure> {
    Err(Failure::problem("not yet"))
}
