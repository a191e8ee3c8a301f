//! golb: a BuildKit frontend for Go services.
//!
//! Data flows one way: spec text → typed spec (`spec`) → Go build plan
//! (`plan`, with `go_build` and `go_module`) → LLB (`golb_proto::llb`) →
//! BuildKit (`gateway`). The offline commands (`cli`) take the same path.

mod build_args;
mod checks;
mod cli;
mod dockerignore;
mod gateway;
mod go_build;
mod go_module;
mod image_config;
mod image_ref;
mod named_context;
mod options;
mod plan;
mod spec;
mod subrequests;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        // BuildKit starts the frontend image's entrypoint with no arguments.
        None if std::env::var_os("BUILDKIT_SESSION_ID").is_some() => run_gateway(),
        Some("check") => report(cli::check(&args[1..])),
        Some("llb") => report(cli::llb(&args[1..], &mut std::io::stdout().lock())),
        Some("version" | "--version") => {
            println!("golb {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some("help" | "--help" | "-h") => {
            print!("{}", cli::USAGE);
            0
        }
        None => {
            eprint!("{}", cli::USAGE);
            2
        }
        Some(other) => {
            eprintln!("golb: unknown command {other:?}\n\n{}", cli::USAGE);
            2
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn report(result: Result<(), cli::Failure>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("{}", failure.message);
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
