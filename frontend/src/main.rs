//! The `golb` binary: BuildKit's gateway frontend when BuildKit starts it,
//! the offline commands otherwise. Everything it does lives in the library.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser as _;
use golb::{cli, gateway};

use std::process::ExitCode;

fn main() -> ExitCode {
    // BuildKit starts the frontend image's entrypoint with no arguments.
    if std::env::args_os().len() == 1 && std::env::var_os("BUILDKIT_SESSION_ID").is_some() {
        return exit(run_gateway());
    }
    let parsed = cli::Cli::parse();
    let code = match &parsed.command {
        cli::Command::Check(args) => report(cli::check(args)),
        cli::Command::Llb(args) => report(cli::llb(args, &mut std::io::stdout().lock())),
        cli::Command::Lock(args) => report(golb::lock::command::run(args)),
        cli::Command::Step(step) => report(golb::steps::run(step)),
        cli::Command::Version => {
            println!("golb {}", golb::release::long_version());
            0
        }
        cli::Command::Init(args) => {
            report(golb::init::run(args, &mut std::io::stdout().lock()).map_err(problem))
        }
        cli::Command::Migrate(args) => {
            report(golb::migrate::run(args, &mut std::io::stdout().lock()).map_err(problem))
        }
        cli::Command::Schema => {
            println!("{}", golb::schema::json());
            0
        }
    };
    exit(code)
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// An error of a command as a failure with exit code 1.
fn problem(error: impl std::fmt::Display) -> cli::Failure {
    cli::Failure {
        message: error.to_string(),
        code: 1,
    }
}

fn report(result: Result<(), cli::Failure>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(failure) => {
            // Empty when the command already reported (`golb check --format json`).
            if !failure.message.is_empty() {
                eprintln!("{}", failure.message);
            }
            failure.code
        }
    }
}

fn run_gateway() -> i32 {
    // One thread is plenty: the frontend waits on BuildKit almost all the time.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(gateway::serve()),
        Err(e) => {
            eprintln!("golb: cannot start the async runtime: {e}");
            1
        }
    }
}
