//! golb: a BuildKit frontend for Go services.
//!
//! Data flows one way: spec text → typed spec (`spec`) → Go build plan
//! (`plan`, with `go_build` and `go_module`) → LLB (`golb_proto::llb`) →
//! BuildKit (`gateway`). The offline commands (`cli`) take the same path.
//!
//! The crate is a library so that fuzz targets and benchmarks reach the same
//! code the `golb` binary runs; `main.rs` only dispatches.

// No unwrap/expect outside tests: every failure becomes an error with context.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod atomic_file;
pub mod check_report;
pub mod checks;
pub mod cli;
pub mod context_fs;
pub mod dockerignore;
pub mod draft;
pub mod driver;
pub mod gateway;
pub mod go_binary;
pub mod go_build;
pub mod go_module;
pub mod go_packages;
pub mod go_sum;
pub mod image_config;
pub mod image_ref;
pub mod init;
pub mod lock;
pub mod migrate;
pub mod named_context;
pub mod offline;
pub mod options;
pub mod overrides;
pub mod plan;
pub mod preset;
pub mod purl;
pub mod release;
pub mod replay;
pub mod sbom;
pub mod schema;
pub mod size;
pub mod spec;
pub mod steps;
pub mod subrequests;
pub mod vuln;
