//! Exec ops: run a command over a root filesystem plus mounts.

use std::net::IpAddr;
use std::sync::Arc;

use super::state::{Node, NodeMeta, OpKind, Output};
use super::{LlbError, Location, State};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

/// Whether BuildKit keys an exec on a mount's content (BuildKit's
/// `MountContentCache`). By default it does for read-only mounts: it hashes
/// every file of the mount before it runs the step, once per snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentCache {
    #[default]
    Default,
    /// Keyed on the mounted snapshot's own cache key only: for a snapshot
    /// whose key already decides its content, where hashing every file of a
    /// large snapshot new to this builder (one imported from a cache, a
    /// freshly built image) buys nothing.
    Off,
}

/// A filesystem mounted into an exec. Writable bind and scratch mounts become outputs of the
/// exec; everything else is gone when the command ends.
#[derive(Clone, Debug)]
pub struct Mount {
    pub(crate) dest: String,
    pub(crate) kind: MountKind,
    pub(crate) selector: String,
    pub(crate) content_cache: ContentCache,
}

#[derive(Clone, Debug)]
pub(crate) enum MountKind {
    Bind { source: State, readonly: bool },
    Cache { id: String, sharing: CacheSharing },
    Tmpfs,
    Secret { id: String, optional: bool },
    Ssh { id: String, optional: bool },
}

impl Mount {
    fn new(dest: impl Into<String>, kind: MountKind) -> Mount {
        Mount {
            dest: dest.into(),
            kind,
            selector: String::new(),
            content_cache: ContentCache::Default,
        }
    }

    pub fn bind(dest: impl Into<String>, source: State) -> Mount {
        Mount::new(
            dest,
            MountKind::Bind {
                source,
                readonly: false,
            },
        )
    }

    /// Read-only mounts let BuildKit key the step on the mounted content alone (with a
    /// selector: on that one path), which is what keeps dependency steps cached.
    pub fn readonly_bind(dest: impl Into<String>, source: State) -> Mount {
        Mount::new(
            dest,
            MountKind::Bind {
                source,
                readonly: true,
            },
        )
    }

    pub fn scratch(dest: impl Into<String>) -> Mount {
        Mount::bind(dest, State::scratch())
    }

    pub fn cache(dest: impl Into<String>, id: impl Into<String>, sharing: CacheSharing) -> Mount {
        Mount::new(
            dest,
            MountKind::Cache {
                id: id.into(),
                sharing,
            },
        )
    }

    pub fn tmpfs(dest: impl Into<String>) -> Mount {
        Mount::new(dest, MountKind::Tmpfs)
    }

    /// Mounted as a file readable by root only (mode 0400, uid/gid 0), as the Dockerfile
    /// frontend does by default.
    pub fn secret(dest: impl Into<String>, id: impl Into<String>) -> Mount {
        Mount::new(
            dest,
            MountKind::Secret {
                id: id.into(),
                optional: false,
            },
        )
    }

    pub fn selector(mut self, path: impl Into<String>) -> Self {
        self.selector = path.into();
        self
    }

    pub fn content_cache(mut self, mode: ContentCache) -> Self {
        self.content_cache = mode;
        self
    }

    /// An SSH agent socket forwarded from the client (`--ssh <id>`); mode 0600, uid/gid 0.
    pub fn ssh(dest: impl Into<String>, id: impl Into<String>) -> Mount {
        Mount::new(
            dest,
            MountKind::Ssh {
                id: id.into(),
                optional: false,
            },
        )
    }

    /// For secrets and SSH agents: a missing one mounts nothing instead of failing the step.
    pub fn optional(mut self, yes: bool) -> Self {
        if let MountKind::Secret { optional, .. } | MountKind::Ssh { optional, .. } = &mut self.kind
        {
            *optional = yes;
        }
        self
    }

    pub(crate) fn is_writable_layer(&self) -> bool {
        matches!(
            self.kind,
            MountKind::Bind {
                readonly: false,
                ..
            }
        )
    }
}

#[derive(Debug)]
pub(crate) struct ExecSpec {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cwd: String,
    pub(crate) user: String,
    pub(crate) network_none: bool,
    pub(crate) extra_hosts: Vec<(String, IpAddr)>,
    /// In marshal order, each with its output index (-1: none).
    pub(crate) mounts: Vec<(Mount, i64)>,
    pub(crate) root_output: i64,
}

#[derive(Clone, Debug)]
pub struct Exec {
    root: State,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: String,
    user: String,
    network_none: bool,
    extra_hosts: Vec<(String, IpAddr)>,
    mounts: Vec<Mount>,
    meta: NodeMeta,
}

impl Exec {
    pub fn new(root: State, args: Vec<String>) -> Exec {
        Exec {
            root,
            args,
            env: Vec::new(),
            cwd: "/".to_string(),
            user: String::new(),
            network_none: false,
            extra_hosts: Vec::new(),
            mounts: Vec::new(),
            meta: NodeMeta::default(),
        }
    }

    /// Keeps first-set order so the op (and its cache key) does not change when a caller
    /// re-sets a variable; Go llb would move it to the end instead.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key, value)),
        }
        self
    }

    /// Defaults to "/": BuildKit rejects an exec without a working directory.
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        self.cwd = dir.into();
        self
    }

    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    pub fn mount(mut self, m: Mount) -> Self {
        self.mounts.push(m);
        self
    }

    pub fn network_none(mut self) -> Self {
        self.network_none = true;
        self
    }

    /// An `/etc/hosts` entry for the command (`--add-host`), so a private
    /// proxy or VCS host resolves without DNS. Entries keep the order given;
    /// one name may map to several addresses, as Docker allows. BuildKit keys
    /// the step on the names only, not the addresses.
    pub fn extra_host(mut self, host: impl Into<String>, ip: IpAddr) -> Self {
        self.extra_hosts.push((host.into(), ip));
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn ignore_cache(mut self, yes: bool) -> Self {
        self.meta.ignore_cache = yes;
        self
    }

    pub fn location(mut self, source_index: usize, range: Location) -> Self {
        self.meta.locations.push((source_index, range));
        self
    }

    /// Orders mounts as Go llb does — by destination, then secrets and SSH agents in the order given — and
    /// numbers the writable layers in that order, which is how BuildKit numbers the outputs.
    pub fn build(self) -> ExecState {
        let platform = self.root.platform().cloned();
        let root = Mount::bind("/", self.root);
        let (secrets, mut layers): (Vec<_>, Vec<_>) = std::iter::once((true, root))
            .chain(self.mounts.into_iter().map(|m| (false, m)))
            .partition(|(_, m)| matches!(m.kind, MountKind::Secret { .. } | MountKind::Ssh { .. }));
        layers.sort_by(|a, b| a.1.dest.cmp(&b.1.dest));

        let mut next_output = 0;
        let mut root_output = 0;
        let mut mounts = Vec::new();
        for (is_root, m) in layers.into_iter().chain(secrets) {
            let output = if m.is_writable_layer() {
                next_output += 1;
                next_output - 1
            } else {
                -1
            };
            if is_root {
                root_output = output;
            }
            mounts.push((m, output));
        }

        let spec = ExecSpec {
            args: self.args,
            env: self.env,
            cwd: self.cwd,
            user: self.user,
            network_none: self.network_none,
            extra_hosts: self.extra_hosts,
            mounts,
            root_output,
        };
        ExecState {
            node: Arc::new(Node {
                kind: OpKind::Exec(spec),
                platform,
                meta: self.meta,
            }),
        }
    }
}

/// The outputs of an exec: the root filesystem and every writable mount.
#[derive(Clone, Debug)]
pub struct ExecState {
    node: Arc<Node>,
}

impl ExecState {
    fn spec(&self) -> Option<&ExecSpec> {
        match &self.node.kind {
            OpKind::Exec(spec) => Some(spec),
            _ => None,
        }
    }

    fn state(&self, index: i64) -> State {
        State {
            out: Some(Output {
                node: self.node.clone(),
                index,
            }),
        }
    }

    pub fn root(&self) -> State {
        self.state(self.spec().map_or(0, |s| s.root_output))
    }

    /// The output of the writable mount at `dest` (scratch or bind mount); error when there is none.
    pub fn output(&self, dest: &str) -> Result<State, LlbError> {
        let found = self
            .spec()
            .and_then(|s| s.mounts.iter().find(|(m, out)| m.dest == dest && *out >= 0));
        match found {
            Some((_, index)) => Ok(self.state(*index)),
            None => Err(LlbError::NoOutput {
                dest: dest.to_string(),
            }),
        }
    }
}
