//! The gateway side: what BuildKit hands a frontend (environment, options) and the LLBBridge
//! client the frontend drives over its stdio pipes.

mod bridge;
mod cache;
mod env;
pub mod errdefs;
mod result;

/// The raw gateway protocol types (named apart from `llb::pb` so both can be glob-imported).
pub use bollard_buildkit_proto::moby::buildkit::v1::frontend;
use frontend as pb;

pub use bridge::{Bridge, Caps, DirEntry, FileStat, RefId, ResolvedImage};
pub use cache::{parse_cache_imports, CacheImport};
pub use env::{FrontendEnv, WorkerInfo};
pub use result::{
    Attestation, PlatformImage, ReturnResult, CAP_ATTESTATIONS, OPENVEX_PREDICATE_TYPE,
    SPDX_PREDICATE_TYPE,
};

use bollard_buildkit_proto::google::rpc::Status;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("open {what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("connect to BuildKit: {0}")]
    Connect(#[source] tonic::transport::Error),
    /// A failed call; the status is kept whole so it can be handed back to BuildKit unchanged.
    #[error("{rpc}: {}", status.message())]
    Rpc {
        rpc: &'static str,
        status: Box<tonic::Status>,
    },
    /// BuildKit answered, but not in a way a frontend can use.
    #[error("{rpc}: {message}")]
    Protocol { rpc: &'static str, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("frontend option {key:?}: {message}")]
    Opt { key: String, message: String },
    #[error("frontend result: {0}")]
    Result(String),
}

impl GatewayError {
    pub fn rpc_status(&self) -> Option<&tonic::Status> {
        match self {
            GatewayError::Rpc { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Whether a call failed because the file it named is not there. BuildKit
    /// passes os.Open's error through as the status message, with code
    /// Unknown (v0.32): its text ends with ENOENT's. The code alone is not
    /// asked: a NotFound from elsewhere (a snapshot or a ref BuildKit lost)
    /// would make a file that exists count as absent.
    pub fn is_missing_file(&self) -> bool {
        self.rpc_status()
            .is_some_and(|status| status.message().ends_with(": no such file or directory"))
    }

    /// What to pass to `Bridge::return_error`: a failed RPC's own status (so BuildKit's
    /// details, e.g. which spec line a failing step came from, reach the client), otherwise
    /// this error's message with code Unknown.
    pub fn to_return_status(&self) -> Status {
        match self.rpc_status() {
            Some(status) => errdefs::from_tonic(status),
            None => errdefs::plain_error(tonic::Code::Unknown as i32, &self.to_string()),
        }
    }
}
