//! The graph: immutable nodes shared through `Arc`, so a state can feed many ops without
//! copying and marshaling can recognise shared inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::exec::ExecSpec;
use super::file::FileSpec;
use super::Platform;

/// A place in a source file (1-based line and column, inclusive start, end) — for source maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRange {
    pub start_line: u32,
    pub start_col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

/// A source file the graph was made from (e.g. the golb.toml), attached to the Definition's source map.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub filename: String,
    pub data: Vec<u8>,
    pub language: String,
}

/// An output of an op, or scratch. Cheap to clone (Arc inside). Immutable.
#[derive(Clone, Debug)]
pub struct State {
    pub(crate) out: Option<Output>,
}

#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub(crate) node: Arc<Node>,
    pub(crate) index: i64,
}

/// What every op carries besides its body: progress name, cache bypass, spec locations.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeMeta {
    pub(crate) custom_name: Option<String>,
    pub(crate) ignore_cache: bool,
    pub(crate) locations: Vec<(usize, SourceRange)>,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: OpKind,
    /// The platform the results are for; flows into ops built on top of this one.
    pub(crate) platform: Option<Platform>,
    pub(crate) meta: NodeMeta,
}

#[derive(Debug)]
pub(crate) enum OpKind {
    Source {
        identifier: String,
        attrs: BTreeMap<String, String>,
        caps: Vec<&'static str>,
    },
    Exec(ExecSpec),
    File(FileSpec),
}

impl State {
    pub fn scratch() -> State {
        State { out: None }
    }

    pub fn is_scratch(&self) -> bool {
        self.out.is_none()
    }

    /// The platform this state's content is for, when some op on the way said so.
    pub fn platform(&self) -> Option<&Platform> {
        self.out.as_ref().and_then(|o| o.node.platform.as_ref())
    }

    pub(crate) fn from_node(node: Node, index: i64) -> State {
        State {
            out: Some(Output {
                node: Arc::new(node),
                index,
            }),
        }
    }
}
