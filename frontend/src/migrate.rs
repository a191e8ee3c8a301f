//! `golb migrate [Dockerfile]` (in progress).

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The Dockerfile to read (default: ./Dockerfile).
    pub dockerfile: Option<std::path::PathBuf>,
}

pub fn run(_args: &MigrateArgs, _out: &mut impl std::io::Write) -> Result<(), String> {
    Err("not yet".into())
}
