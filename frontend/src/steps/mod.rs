//! `golb step …`: code golb runs inside build steps (the frontend image's
//! static /golb, mounted into the builder). Hidden from `--help`; each step
//! is a function with typed inputs and outputs plus a thin clap entry, so it
//! runs and is tested on the host too.

pub mod size;

#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[command(subcommand)]
    pub step: Step,
}

#[derive(Debug, clap::Subcommand)]
pub enum Step {
    /// Size report of built Go binaries: JSON, Markdown and an HTML treemap.
    Size(size::SizeArgs),
}

/// Runs a step; the error is what to print on stderr.
pub fn run(args: &StepArgs) -> Result<(), String> {
    match &args.step {
        Step::Size(args) => size::run(args).map(|summary| print!("{summary}")),
    }
}
