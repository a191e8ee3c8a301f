//! File ops: a chain of copy/mkdir/mkfile actions on a base state, run by BuildKit itself
//! (no container), so they work on scratch and across platforms.

use super::pb;
use super::pb::file_action::Action as PbAction;
use super::state::{Node, NodeMeta, OpKind};
use super::{Location, Platform, State};

/// Copies `src` of another state into the file op's filesystem at `dest`.
#[derive(Clone, Debug)]
pub struct Copy {
    pub(crate) from: State,
    src: String,
    dest: String,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    create_dest_path: bool,
    dir_copy_contents: bool,
    follow_symlink: bool,
    allow_wildcard: bool,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
    timestamp: i64,
}

impl Copy {
    pub fn new(from: State, src: impl Into<String>, dest: impl Into<String>) -> Copy {
        Copy {
            from,
            src: src.into(),
            dest: dest.into(),
            owner: None,
            mode: None,
            create_dest_path: false,
            dir_copy_contents: false,
            follow_symlink: false,
            allow_wildcard: false,
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            timestamp: -1,
        }
    }

    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = Some((uid, gid));
        self
    }

    /// Without it the source's permission bits are kept.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    pub fn create_dest_path(mut self, yes: bool) -> Self {
        self.create_dest_path = yes;
        self
    }

    pub fn dir_copy_contents(mut self, yes: bool) -> Self {
        self.dir_copy_contents = yes;
        self
    }

    pub fn follow_symlink(mut self, yes: bool) -> Self {
        self.follow_symlink = yes;
        self
    }

    pub fn allow_wildcard(mut self, yes: bool) -> Self {
        self.allow_wildcard = yes;
        self
    }

    pub fn include_patterns(mut self, p: Vec<String>) -> Self {
        self.include_patterns = p;
        self
    }

    pub fn exclude_patterns(mut self, p: Vec<String>) -> Self {
        self.exclude_patterns = p;
        self
    }

    /// Fixes the mtime of everything copied, for reproducible layers. Unset: keep source times.
    pub fn timestamp_unix_nanos(mut self, t: i64) -> Self {
        self.timestamp = t;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Mkdir {
    path: String,
    mode: u32,
    make_parents: bool,
    owner: Option<(u32, u32)>,
    timestamp: i64,
}

impl Mkdir {
    pub fn new(path: impl Into<String>, mode: u32) -> Mkdir {
        Mkdir {
            path: path.into(),
            mode,
            make_parents: false,
            owner: None,
            timestamp: -1,
        }
    }

    pub fn make_parents(mut self, yes: bool) -> Self {
        self.make_parents = yes;
        self
    }

    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = Some((uid, gid));
        self
    }

    pub fn timestamp_unix_nanos(mut self, t: i64) -> Self {
        self.timestamp = t;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Mkfile {
    path: String,
    mode: u32,
    data: Vec<u8>,
    owner: Option<(u32, u32)>,
    timestamp: i64,
}

impl Mkfile {
    pub fn new(path: impl Into<String>, mode: u32, data: impl Into<Vec<u8>>) -> Mkfile {
        Mkfile {
            path: path.into(),
            mode,
            data: data.into(),
            owner: None,
            timestamp: -1,
        }
    }

    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = Some((uid, gid));
        self
    }

    pub fn timestamp_unix_nanos(mut self, t: i64) -> Self {
        self.timestamp = t;
        self
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Action {
    Copy(Copy),
    Mkdir(Mkdir),
    Mkfile(Mkfile),
}

#[derive(Debug)]
pub(crate) struct FileSpec {
    pub(crate) base: State,
    pub(crate) actions: Vec<Action>,
}

/// A FileOp: a chain of actions on a base state; only the last action's result is an output.
#[derive(Clone, Debug)]
pub struct File {
    base: State,
    actions: Vec<Action>,
    meta: NodeMeta,
    platform: Option<Platform>,
}

impl File {
    pub fn new(base: State) -> File {
        File {
            base,
            actions: Vec::new(),
            meta: NodeMeta::default(),
            platform: None,
        }
    }

    /// The platform of the ops built on this one, in place of the base's (as
    /// Go llb's `State.Platform`): an exec whose root is a file op on scratch
    /// still runs for its platform. File ops themselves marshal none.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    pub fn copy(mut self, c: Copy) -> Self {
        self.actions.push(Action::Copy(c));
        self
    }

    pub fn mkdir(mut self, m: Mkdir) -> Self {
        self.actions.push(Action::Mkdir(m));
        self
    }

    pub fn mkfile(mut self, m: Mkfile) -> Self {
        self.actions.push(Action::Mkfile(m));
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn location(mut self, source_index: usize, range: Location) -> Self {
        self.meta.locations.push((source_index, range));
        self
    }

    pub fn build(self) -> State {
        let platform = self.platform.or_else(|| self.base.platform().cloned());
        State::from_node(
            Node {
                kind: OpKind::File(FileSpec {
                    base: self.base,
                    actions: self.actions,
                }),
                platform,
                meta: self.meta,
            },
            0,
        )
    }
}

impl Action {
    /// Caps beyond "file.base" that this action needs from the daemon.
    pub(crate) fn caps(&self) -> Option<&'static str> {
        match self {
            Action::Copy(c) if !c.include_patterns.is_empty() || !c.exclude_patterns.is_empty() => {
                Some("file.copy.includeexcludepatterns")
            }
            _ => None,
        }
    }

    /// Paths are made absolute and cleaned as Go llb does (with "/" as working directory),
    /// so equivalent spellings produce the same op digest.
    pub(crate) fn to_pb(&self) -> PbAction {
        match self {
            Action::Copy(c) => PbAction::Copy(pb::FileActionCopy {
                src: clean(&format!("/{}", c.src)),
                dest: normalize(&c.dest, true),
                owner: chown(c.owner),
                mode: c.mode.map_or(-1, |m| m as i32),
                follow_symlink: c.follow_symlink,
                dir_copy_contents: c.dir_copy_contents,
                create_dest_path: c.create_dest_path,
                allow_wildcard: c.allow_wildcard,
                timestamp: c.timestamp,
                include_patterns: c.include_patterns.clone(),
                exclude_patterns: c.exclude_patterns.clone(),
                ..Default::default()
            }),
            Action::Mkdir(m) => PbAction::Mkdir(pb::FileActionMkDir {
                path: normalize(&m.path, false),
                mode: (m.mode & 0o777) as i32,
                make_parents: m.make_parents,
                owner: chown(m.owner),
                timestamp: m.timestamp,
            }),
            Action::Mkfile(m) => PbAction::Mkfile(pb::FileActionMkFile {
                path: normalize(&m.path, false),
                mode: (m.mode & 0o777) as i32,
                data: m.data.clone(),
                owner: chown(m.owner),
                timestamp: m.timestamp,
            }),
        }
    }
}

fn chown(owner: Option<(u32, u32)>) -> Option<pb::ChownOpt> {
    let id = |n| {
        Some(pb::UserOpt {
            user: Some(pb::user_opt::User::ById(n)),
        })
    };
    owner.map(|(uid, gid)| pb::ChownOpt {
        user: id(uid),
        group: id(gid),
    })
}

/// Go's `path.Clean`: lexical only, never touches a filesystem.
pub(crate) fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Absolute, cleaned path; with `keep_slash` a trailing "/" or "/." survives, because for a
/// copy destination it means "into this directory".
fn normalize(p: &str, keep_slash: bool) -> String {
    let mut out = clean(&format!("/{p}"));
    if keep_slash {
        if p.ends_with('/') && !out.ends_with('/') {
            out.push('/');
        } else if p.ends_with("/.") {
            if out != "/" {
                out.push('/');
            }
            out.push('.');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("//a//b/./", "/a/b"),
            ("/bin/*", "/bin/*"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn a_file_op_s_platform_flows_to_the_ops_on_top_and_replaces_the_base_s() {
        let arm = Platform::parse("linux/arm64").expect("valid");
        let on_scratch = File::new(State::scratch())
            .mkdir(Mkdir::new("/a", 0o755))
            .platform(arm.clone())
            .build();
        assert_eq!(on_scratch.platform(), Some(&arm));
        let unset = File::new(State::scratch())
            .mkdir(Mkdir::new("/a", 0o755))
            .build();
        assert_eq!(unset.platform(), None);
        let inherited = File::new(on_scratch.clone())
            .mkdir(Mkdir::new("/b", 0o755))
            .build();
        assert_eq!(inherited.platform(), Some(&arm));
        let replaced = File::new(on_scratch)
            .mkdir(Mkdir::new("/b", 0o755))
            .platform(Platform::linux_amd64())
            .build();
        assert_eq!(replaced.platform(), Some(&Platform::linux_amd64()));
    }

    #[test]
    fn normalize_keeps_directory_slash() {
        assert_eq!(normalize("app", false), "/app");
        assert_eq!(normalize("/usr/local/bin/", true), "/usr/local/bin/");
        assert_eq!(normalize("/usr/local/bin/", false), "/usr/local/bin");
        assert_eq!(normalize("/.", true), "/.");
        assert_eq!(normalize("out/.", true), "/out/.");
    }
}
