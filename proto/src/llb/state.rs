//! The graph: immutable nodes shared through `Arc`, so a state can feed many ops without
//! copying and marshaling can recognise shared inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::exec::ExecSpec;
use super::file::FileSpec;
use super::marshal::digest;
use super::{pb, MarshalError, Platform};
use prost::Message;

/// A place in a source file: 1-based lines and columns (columns count
/// characters), the end inclusive. The one location type of golb: source
/// maps, errdefs ranges, spec errors and check findings all use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Location {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

impl Location {
    /// The first character of a file: for what no key of a file asked for.
    pub const TOP: Location = Location {
        line: 1,
        col: 1,
        end_line: 1,
        end_col: 1,
    };
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
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
    pub(crate) locations: Vec<(usize, Location)>,
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
    /// A graph someone else marshaled (a frontend input), taken as it is.
    Imported(Imported),
}

/// The ops of a foreign Definition up to its head, with their metadata and
/// source map: marshaled verbatim, so their digests stay the ones BuildKit knows.
#[derive(Debug)]
pub(crate) struct Imported {
    /// Digest and bytes of every op except the terminal, in the given order.
    pub(crate) ops: Vec<(String, Vec<u8>)>,
    pub(crate) metadata: BTreeMap<String, pb::OpMetadata>,
    pub(crate) source: Option<pb::Source>,
    pub(crate) head: String,
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

    /// The result of a marshaled Definition (e.g. one of the frontend's
    /// inputs), as Go llb's `NewDefinitionOp`: its terminal op names the
    /// output; an empty Definition is scratch.
    pub fn from_definition(definition: pb::Definition) -> Result<State, MarshalError> {
        let pb::Definition {
            def,
            metadata,
            source,
        } = definition;
        let Some((terminal, ops)) = def.split_last() else {
            return Ok(State::scratch());
        };
        let decode = |index: usize, bytes: &[u8]| {
            pb::Op::decode(bytes).map_err(|source| MarshalError::Decode { index, source })
        };
        let Some(head) = decode(def.len() - 1, terminal)?.inputs.into_iter().next() else {
            return Ok(State::scratch());
        };
        let ops: Vec<(String, Vec<u8>)> = ops
            .iter()
            .map(|bytes| (digest(bytes), bytes.clone()))
            .collect();
        // The platform flows on to ops built on top: take the head's, or the
        // first input's when the head has none (file ops).
        let mut platform = None;
        let mut at = head.digest.clone();
        for _ in 0..ops.len() {
            let Some(index) = ops.iter().position(|(d, _)| *d == at) else {
                break;
            };
            let op = decode(index, &ops[index].1)?;
            if let Some(p) = op.platform {
                platform = Some(Platform::from_pb(&p));
                break;
            }
            match op.inputs.first() {
                Some(input) => at = input.digest.clone(),
                None => break,
            }
        }
        if !ops.iter().any(|(d, _)| *d == head.digest) {
            return Err(MarshalError::MissingHead {
                digest: head.digest,
            });
        }
        Ok(State::from_node(
            Node {
                kind: OpKind::Imported(Imported {
                    ops,
                    metadata,
                    source,
                    head: head.digest,
                }),
                platform,
                meta: NodeMeta::default(),
            },
            head.index,
        ))
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
