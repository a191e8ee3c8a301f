//! A typed LLB builder in the style of BuildKit's Go `client/llb`: immutable states chained
//! by small builders, marshaled deterministically into a `pb::Definition`.

mod dump;
mod exec;
mod file;
mod marshal;
mod platform;
mod source;
mod state;

pub use bollard_buildkit_proto::pb;

pub use dump::dump;
pub use exec::{CacheSharing, ContentCache, Exec, ExecState, Mount};
pub use file::{Copy, File, Mkdir, Mkfile};
pub use marshal::{digest, encode_op};
pub use platform::{Platform, PlatformError};
pub use source::{Http, Image, Local, OciLayout};
pub use state::{Location, SourceFile, State};

/// Mistakes in how a graph is put together, found while building it.
#[derive(Debug, thiserror::Error)]
pub enum LlbError {
    #[error("exec has no writable mount at {dest:?}")]
    NoOutput { dest: String },
}

/// Graphs BuildKit would reject, and definitions that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum MarshalError {
    #[error("exec has no arguments")]
    NoArgs,
    #[error("exec mounts {dest:?} twice")]
    DuplicateMount { dest: String },
    #[error("file op has no actions")]
    NoActions,
    #[error("op location refers to source {index}, but only {count} source files were given")]
    SourceIndex { index: usize, count: usize },
    #[error("definition has no op {digest} for its result")]
    MissingHead { digest: String },
    #[error("definition entry {index} is not a valid op: {source}")]
    Decode {
        index: usize,
        #[source]
        source: prost::DecodeError,
    },
}
