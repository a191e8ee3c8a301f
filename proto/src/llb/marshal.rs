//! Turns a graph into a `pb::Definition`: ops in dependency order, content-addressed by the
//! sha256 of their protobuf bytes, plus metadata and the source map.
//!
//! Determinism matters because the digests are cache keys: prost writes fields in tag order
//! and the `pb` maps are `BTreeMap`s, so equal graphs give equal bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prost::Message;
use sha2::{Digest, Sha256};

use super::exec::{CacheSharing, ContentCache, ExecSpec, MountKind};
use super::file::{Action, FileSpec};
use super::state::{Imported, Node, OpKind, Output};
use super::{pb, MarshalError, SourceFile, State};

/// The digest BuildKit computes for an op: "sha256:" + hex of the marshaled `pb::Op`.
/// Encodes an op the way BuildKit's Go marshaler does: the plain fields in
/// tag order (inputs, platform, constraints), then the `op` oneof. prost puts
/// the oneof in tag order instead, and BuildKit re-marshals every op and
/// re-keys it by the new digest when bytes differ — which would orphan the
/// source map (its keys are our digests) and waste cache lookups.
pub fn encode_op(op: pb::Op) -> Vec<u8> {
    let pb::Op {
        inputs,
        platform,
        constraints,
        op: body,
    } = op;
    let mut bytes = pb::Op {
        inputs,
        platform,
        constraints,
        op: None,
    }
    .encode_to_vec();
    bytes.extend(
        pb::Op {
            op: body,
            ..Default::default()
        }
        .encode_to_vec(),
    );
    bytes
}

pub fn digest(op_bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(op_bytes)))
}

impl State {
    /// Marshal the graph ending at this state into a Definition. `sources` become Definition.source.infos
    /// (index i = `sources[i]`); op locations refer to those indices.
    ///
    /// Scratch alone marshals to an empty Definition, as in Go llb: "nothing" is a valid result.
    pub fn marshal(&self, sources: &[SourceFile]) -> Result<pb::Definition, MarshalError> {
        let Some(out) = &self.out else {
            return Ok(pb::Definition::default());
        };
        let mut m = Marshaler {
            sources,
            visited: HashMap::new(),
            emitted: HashSet::new(),
            def: Vec::new(),
            metadata: BTreeMap::new(),
            locations: BTreeMap::new(),
            imported_infos: Vec::new(),
        };
        let head = m.input(out)?;

        let terminal = pb::Op {
            inputs: vec![head],
            ..Default::default()
        }
        .encode_to_vec();
        let mut caps = vec!["constraints", "platform"];
        if m.metadata.values().any(|md| md.ignore_cache) {
            caps.push("meta.ignorecache");
        }
        if m.metadata.values().any(|md| !md.description.is_empty()) {
            caps.push("meta.description");
        }
        m.metadata.insert(
            digest(&terminal),
            pb::OpMetadata {
                caps: caps.into_iter().map(|c| (c.to_string(), true)).collect(),
                ..Default::default()
            },
        );
        m.def.push(terminal);

        let source = (!sources.is_empty()
            || !m.locations.is_empty()
            || !m.imported_infos.is_empty())
        .then(|| pb::Source {
            locations: m.locations,
            infos: sources
                .iter()
                .map(|s| pb::SourceInfo {
                    filename: s.filename.clone(),
                    data: s.data.clone(),
                    language: s.language.clone(),
                    definition: None,
                })
                .chain(m.imported_infos)
                .collect(),
        });
        Ok(pb::Definition {
            def: m.def,
            metadata: m.metadata,
            source,
        })
    }
}

struct Marshaler<'a> {
    sources: &'a [SourceFile],
    /// Node identity → digest, so a node shared by many users is marshaled once.
    visited: HashMap<*const Node, String>,
    /// Digests already in `def`: equal ops built separately are listed once.
    emitted: HashSet<String>,
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    locations: BTreeMap<String, pb::Locations>,
    /// Source files of imported Definitions, listed after `sources`.
    imported_infos: Vec<pb::SourceInfo>,
}

impl Marshaler<'_> {
    fn input(&mut self, out: &Output) -> Result<pb::Input, MarshalError> {
        Ok(pb::Input {
            digest: self.node(&out.node)?,
            index: out.index,
        })
    }

    /// Marshals `node` after its inputs (so `def` lists inputs before users) and returns its digest.
    fn node(&mut self, node: &Node) -> Result<String, MarshalError> {
        let key = node as *const Node;
        if let Some(d) = self.visited.get(&key) {
            return Ok(d.clone());
        }
        let mut inputs = Inputs::default();
        let mut caps: BTreeSet<&'static str> = BTreeSet::new();
        let (body, platform) = match &node.kind {
            OpKind::Imported(imported) => {
                self.import(imported);
                self.visited.insert(key, imported.head.clone());
                return Ok(imported.head.clone());
            }
            OpKind::Source {
                identifier,
                attrs,
                caps: source_caps,
            } => {
                caps.extend(source_caps);
                // Only image sources are platform specific (as in Go llb).
                let platform = (identifier.starts_with("docker-image://")
                    || identifier.starts_with("oci-layout://"))
                .then(|| node.platform.as_ref().map(|p| p.to_pb()))
                .flatten();
                let op = pb::SourceOp {
                    identifier: identifier.clone(),
                    attrs: attrs.clone(),
                };
                (pb::op::Op::Source(op), platform)
            }
            OpKind::Exec(spec) => {
                let op = self.exec(spec, &mut inputs, &mut caps)?;
                (
                    pb::op::Op::Exec(op),
                    node.platform.as_ref().map(|p| p.to_pb()),
                )
            }
            // File ops are not platform specific (as in Go llb).
            OpKind::File(spec) => (
                pb::op::Op::File(self.file(spec, &mut inputs, &mut caps)?),
                None,
            ),
        };
        let bytes = encode_op(pb::Op {
            inputs: inputs.list,
            platform,
            constraints: None,
            op: Some(body),
        });
        let dgst = digest(&bytes);

        let md = self.metadata.entry(dgst.clone()).or_default();
        md.ignore_cache |= node.meta.ignore_cache;
        if let Some(name) = &node.meta.custom_name {
            md.description
                .insert("llb.customname".to_string(), name.clone());
        }
        md.caps.extend(caps.iter().map(|c| (c.to_string(), true)));

        for (index, range) in &node.meta.locations {
            if *index >= self.sources.len() {
                return Err(MarshalError::SourceIndex {
                    index: *index,
                    count: self.sources.len(),
                });
            }
            let location = pb::Location {
                source_index: i32::try_from(*index).unwrap_or(i32::MAX),
                ranges: vec![pb::Range {
                    start: Some(position(range.line, range.col)),
                    end: Some(position(range.end_line, range.end_col)),
                }],
            };
            let locs = &mut self.locations.entry(dgst.clone()).or_default().locations;
            if !locs.contains(&location) {
                locs.push(location);
            }
        }

        if self.emitted.insert(dgst.clone()) {
            self.def.push(bytes);
        }
        self.visited.insert(key, dgst.clone());
        Ok(dgst)
    }

    /// Lists an imported graph's ops as they are, keeps their metadata, and
    /// appends their source files, renumbering the locations that refer to them.
    fn import(&mut self, imported: &Imported) {
        for (dgst, bytes) in &imported.ops {
            if self.emitted.insert(dgst.clone()) {
                self.def.push(bytes.clone());
            }
        }
        for (dgst, md) in &imported.metadata {
            if imported.ops.iter().any(|(d, _)| d == dgst) {
                self.metadata
                    .entry(dgst.clone())
                    .or_insert_with(|| md.clone());
            }
        }
        let Some(source) = &imported.source else {
            return;
        };
        let offset = self.sources.len() + self.imported_infos.len();
        let offset = i32::try_from(offset).unwrap_or(i32::MAX);
        self.imported_infos.extend(source.infos.iter().cloned());
        // An empty list is left out: prost drops a map entry's value that
        // equals its default, and BuildKit's Go decodes that entry as nil and
        // dereferences it (llb.NewDefinitionOp, reached by its SBOM scanner
        // step), panicking the daemon.
        for (dgst, locations) in source
            .locations
            .iter()
            .filter(|(_, l)| !l.locations.is_empty())
        {
            let locs = &mut self.locations.entry(dgst.clone()).or_default().locations;
            for location in &locations.locations {
                let mut location = location.clone();
                location.source_index = location.source_index.saturating_add(offset);
                if !locs.contains(&location) {
                    locs.push(location);
                }
            }
        }
    }

    fn exec(
        &mut self,
        spec: &ExecSpec,
        inputs: &mut Inputs,
        caps: &mut BTreeSet<&'static str>,
    ) -> Result<pb::ExecOp, MarshalError> {
        if spec.args.is_empty() {
            return Err(MarshalError::NoArgs);
        }
        let mut seen = BTreeSet::new();
        if let Some((m, _)) = spec.mounts.iter().find(|(m, _)| !seen.insert(&m.dest)) {
            return Err(MarshalError::DuplicateMount {
                dest: m.dest.clone(),
            });
        }
        caps.insert("exec.meta.base");
        if spec.network_none {
            caps.insert("exec.meta.network");
        }

        let mut mounts = Vec::new();
        for (m, output) in &spec.mounts {
            let mut pm = pb::Mount {
                input: -1,
                selector: m.selector.clone(),
                dest: m.dest.clone(),
                output: *output,
                ..Default::default()
            };
            if !m.selector.is_empty() {
                caps.insert("exec.mount.selector");
            }
            // No cap ("exec.mount.cache.content", BuildKit v0.13) is declared
            // for it: it only spares BuildKit work, and a BuildKit that
            // predates it ignores the field where a declared cap would make
            // it refuse the whole Definition.
            if m.content_cache == ContentCache::Off {
                pm.content_cache = pb::MountContentCache::Off as i32;
            }
            match &m.kind {
                MountKind::Bind { source, readonly } => {
                    pm.readonly = *readonly;
                    if let Some(out) = &source.out {
                        let input = self.input(out)?;
                        pm.input = inputs.add(input);
                        caps.insert("exec.mount.bind");
                    }
                }
                MountKind::Cache { id, sharing } => {
                    caps.insert("exec.mount.cache");
                    caps.insert("exec.mount.cache.sharing");
                    pm.mount_type = pb::MountType::Cache as i32;
                    pm.cache_opt = Some(pb::CacheOpt {
                        id: id.clone(),
                        sharing: match sharing {
                            CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                            CacheSharing::Private => pb::CacheSharingOpt::Private,
                            CacheSharing::Locked => pb::CacheSharingOpt::Locked,
                        } as i32,
                    });
                }
                MountKind::Tmpfs => {
                    caps.insert("exec.mount.tmpfs");
                    pm.mount_type = pb::MountType::Tmpfs as i32;
                    pm.tmpfs_opt = Some(pb::TmpfsOpt { size: 0 });
                }
                MountKind::Secret { id, optional } => {
                    caps.insert("exec.mount.secret");
                    pm.mount_type = pb::MountType::Secret as i32;
                    pm.secret_opt = Some(pb::SecretOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: 0o400,
                        optional: *optional,
                    });
                }
                MountKind::Ssh { id, optional } => {
                    caps.insert("exec.mount.ssh");
                    pm.mount_type = pb::MountType::Ssh as i32;
                    pm.ssh_opt = Some(pb::SshOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: 0o600,
                        optional: *optional,
                    });
                }
            }
            mounts.push(pm);
        }

        Ok(pb::ExecOp {
            meta: Some(pb::Meta {
                args: spec.args.clone(),
                env: spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                cwd: spec.cwd.clone(),
                user: spec.user.clone(),
                // No cap to declare: BuildKit's solver/pb/caps.go defines
                // none for extra hosts, and Go llb adds none for them.
                extra_hosts: spec
                    .extra_hosts
                    .iter()
                    .map(|(host, ip)| pb::HostIp {
                        host: host.clone(),
                        ip: ip.to_string(),
                    })
                    .collect(),
                remove_mount_stubs_recursive: true,
                ..Default::default()
            }),
            mounts,
            network: if spec.network_none {
                pb::NetMode::None as i32
            } else {
                pb::NetMode::Unset as i32
            },
            ..Default::default()
        })
    }

    /// Numbering as in Go's fileop.go: inputs are the base then each copy source (deduplicated);
    /// action k > 0 reads the previous action's result, `len(inputs) + k - 1`.
    fn file(
        &mut self,
        spec: &FileSpec,
        inputs: &mut Inputs,
        caps: &mut BTreeSet<&'static str>,
    ) -> Result<pb::FileOp, MarshalError> {
        if spec.actions.is_empty() {
            return Err(MarshalError::NoActions);
        }
        caps.insert("file.base");
        let mut wiring = Vec::new();
        for action in &spec.actions {
            let base = match &spec.base.out {
                Some(out) => {
                    let input = self.input(out)?;
                    inputs.add(input)
                }
                None => -1,
            };
            let secondary = match action {
                Action::Copy(c) => match &c.from.out {
                    Some(out) => {
                        let input = self.input(out)?;
                        inputs.add(input)
                    }
                    None => -1,
                },
                _ => -1,
            };
            caps.extend(action.caps());
            wiring.push((base, secondary));
        }

        let n_inputs = inputs.list.len() as i64;
        let last = spec.actions.len() - 1;
        let actions = spec
            .actions
            .iter()
            .zip(wiring)
            .enumerate()
            .map(|(k, (action, (base, secondary)))| pb::FileAction {
                input: if k == 0 {
                    base
                } else {
                    n_inputs + k as i64 - 1
                },
                secondary_input: secondary,
                output: if k == last { 0 } else { -1 },
                action: Some(action.to_pb()),
            })
            .collect();
        Ok(pb::FileOp { actions })
    }
}

/// An op's input list, deduplicated by (digest, index) as Go llb does.
#[derive(Default)]
struct Inputs {
    list: Vec<pb::Input>,
}

impl Inputs {
    fn add(&mut self, input: pb::Input) -> i64 {
        match self.list.iter().position(|i| *i == input) {
            Some(pos) => pos as i64,
            None => {
                self.list.push(input);
                self.list.len() as i64 - 1
            }
        }
    }
}

fn position(line: u32, col: u32) -> pb::Position {
    pb::Position {
        line: i32::try_from(line).unwrap_or(i32::MAX),
        character: i32::try_from(col).unwrap_or(i32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{
        CacheSharing, Copy, Exec, File, Image, Local, Location, Mkdir, Mount, Platform,
    };

    fn ops(def: &pb::Definition) -> Vec<pb::Op> {
        def.def
            .iter()
            .map(|b| pb::Op::decode(b.as_slice()).expect("decodes"))
            .collect()
    }

    fn exec_of(op: &pb::Op) -> &pb::ExecOp {
        match &op.op {
            Some(pb::op::Op::Exec(e)) => e,
            other => panic!("not an exec: {other:?}"),
        }
    }

    fn file_of(op: &pb::Op) -> &pb::FileOp {
        match &op.op {
            Some(pb::op::Op::File(f)) => f,
            other => panic!("not a file op: {other:?}"),
        }
    }

    fn golang() -> State {
        Image::new("docker.io/library/golang:1.26")
            .platform(Platform::linux_amd64())
            .custom_name("golang")
            .build()
    }

    fn sh(root: State, script: &str) -> Exec {
        Exec::new(root, vec!["/bin/sh".into(), "-c".into(), script.into()])
    }

    fn graph() -> State {
        let ctx = Local::new("context")
            .session_id("s1")
            .shared_key_hint("context")
            .exclude_patterns(vec!["target".into()])
            .build();
        let built = sh(golang(), "go build -o /out/app .")
            .env("CGO_ENABLED", "0")
            .cwd("/src")
            .mount(Mount::readonly_bind("/src", ctx))
            .mount(Mount::cache(
                "/root/.cache/go-build",
                "go-build",
                CacheSharing::Locked,
            ))
            .mount(Mount::scratch("/out"))
            .location(
                0,
                Location {
                    line: 3,
                    col: 1,
                    end_line: 4,
                    end_col: 9,
                },
            )
            .build();
        let out = built.output("/out").expect("/out is writable");
        File::new(State::scratch())
            .copy(
                Copy::new(out, "/app", "/app")
                    .owner(65532, 65532)
                    .timestamp_unix_nanos(0),
            )
            .custom_name("copy app")
            .build()
    }

    fn spec() -> Vec<SourceFile> {
        vec![SourceFile {
            filename: "golb.toml".into(),
            data: b"[build]\n".to_vec(),
            language: "toml".into(),
        }]
    }

    #[test]
    fn same_graph_twice_gives_identical_bytes() {
        let a = graph().marshal(&spec()).expect("marshals");
        let b = graph().marshal(&spec()).expect("marshals");
        assert_eq!(a.encode_to_vec(), b.encode_to_vec());
        assert_eq!(a, b);
    }

    #[test]
    fn ops_are_encoded_in_gos_field_order() {
        // BuildKit re-marshals ops with Go and re-keys them when the bytes differ;
        // Go writes platform (tag 10) before the op oneof (tag 3 here).
        let op = pb::Op {
            inputs: vec![],
            platform: Some(Platform::linux_amd64().to_pb()),
            constraints: None,
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "docker-image://x".into(),
                attrs: BTreeMap::new(),
            })),
        };
        let bytes = encode_op(op);
        assert_eq!(bytes[0], 0x52, "platform first: {bytes:02x?}");
        assert!(
            bytes.windows(2).any(|w| w == [0x1a, 0x12]),
            "then the source op: {bytes:02x?}"
        );
    }

    #[test]
    fn digests_key_metadata_and_terminal_points_at_head() {
        let def = graph().marshal(&spec()).expect("marshals");
        let d = digest(b"");
        assert!(d.starts_with("sha256:"));
        assert_eq!(d.len(), 7 + 64);
        assert!(d[7..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

        let digests: Vec<String> = def.def.iter().map(|b| digest(b)).collect();
        assert_eq!(
            def.metadata.keys().cloned().collect::<BTreeSet<_>>(),
            digests.iter().cloned().collect()
        );

        let all = ops(&def);
        // image, local, exec, file, terminal — inputs always before their users.
        assert_eq!(all.len(), 5);
        for (i, op) in all.iter().enumerate() {
            for input in &op.inputs {
                let pos = digests
                    .iter()
                    .position(|d| *d == input.digest)
                    .expect("input is in def");
                assert!(pos < i, "op {i} uses a later op");
            }
        }
        let terminal = all.last().expect("terminal");
        assert!(terminal.op.is_none());
        assert_eq!(
            terminal.inputs,
            vec![pb::Input {
                digest: digests[3].clone(),
                index: 0
            }]
        );
        let term_md = &def.metadata[&digests[4]];
        for cap in ["constraints", "platform", "meta.description"] {
            assert!(term_md.caps.contains_key(cap), "terminal lacks {cap}");
        }
        assert_eq!(
            def.metadata[&digests[3]]
                .description
                .get("llb.customname")
                .map(String::as_str),
            Some("copy app")
        );
    }

    #[test]
    fn shared_inputs_are_listed_once() {
        let base = golang();
        let a = sh(base.clone(), "a").build().root();
        let b = sh(base.clone(), "b")
            .mount(Mount::readonly_bind("/base", base.clone()))
            .build();
        let def = File::new(a)
            .copy(Copy::new(b.root(), "/x", "/x"))
            .copy(Copy::new(base, "/y", "/y"))
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&def);
        let images = all
            .iter()
            .filter(|o| matches!(o.op, Some(pb::op::Op::Source(_))))
            .count();
        assert_eq!(images, 1);
        // Root and /base are the same state: one input, used by both mounts.
        let exec_b = all
            .iter()
            .find(|o| matches!(&o.op, Some(pb::op::Op::Exec(e)) if e.mounts.len() == 2))
            .expect("exec b");
        assert_eq!(exec_b.inputs.len(), 1);
        assert!(exec_of(exec_b).mounts.iter().all(|m| m.input == 0));

        // Equal ops built separately are one entry too.
        let twice = File::new(sh(golang(), "a").build().root())
            .copy(Copy::new(sh(golang(), "a").build().root(), "/", "/"))
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&twice);
        assert_eq!(all.len(), 4, "image, exec, file, terminal");
        assert_eq!(all[2].inputs.len(), 1);
    }

    /// Content keys off is BuildKit's field, and no cap: a BuildKit that
    /// predates the field ignores it, where a cap would refuse the build.
    #[test]
    fn a_mount_keyed_on_its_snapshot_alone_sets_the_field_and_no_cap() {
        let ctx = Local::new("context").build();
        let run = sh(golang(), "true")
            .mount(Mount::readonly_bind("/big", ctx.clone()).content_cache(ContentCache::Off))
            .mount(Mount::readonly_bind("/src", ctx))
            .build();
        let def = run.root().marshal(&[]).expect("marshals");
        let all = ops(&def);
        let e = exec_of(&all[all.len() - 2]);
        let got: Vec<(&str, i32)> = e
            .mounts
            .iter()
            .map(|m| (m.dest.as_str(), m.content_cache))
            .collect();
        assert_eq!(
            got,
            [
                ("/", pb::MountContentCache::Default as i32),
                ("/big", pb::MountContentCache::Off as i32),
                ("/src", pb::MountContentCache::Default as i32),
            ]
        );
        let md = &def.metadata[&digest(&def.def[all.len() - 2])];
        assert!(!md.caps.contains_key("exec.mount.cache.content"));
    }

    #[test]
    fn mounts_are_sorted_and_writable_ones_numbered() {
        let ctx = Local::new("context").build();
        let run = sh(golang(), "true")
            .mount(Mount::secret("/run/secrets/token", "token").optional(true))
            .mount(Mount::readonly_bind("/src", ctx.clone()).selector("/go.mod"))
            .mount(Mount::scratch("/out"))
            .mount(Mount::cache("/cache", "c", CacheSharing::Shared))
            .mount(Mount::bind("/a", ctx))
            .mount(Mount::tmpfs("/tmp"))
            .network_none()
            .build();
        let out = run.output("/out").expect("writable");
        let def = out.marshal(&[]).expect("marshals");
        let all = ops(&def);
        let exec_op = &all[all.len() - 2];
        let e = exec_of(exec_op);
        let got: Vec<(&str, i64, i64, bool)> = e
            .mounts
            .iter()
            .map(|m| (m.dest.as_str(), m.input, m.output, m.readonly))
            .collect();
        assert_eq!(
            got,
            [
                ("/", 0, 0, false),
                ("/a", 1, 1, false),
                ("/cache", -1, -1, false),
                ("/out", -1, 2, false),
                ("/src", 1, -1, true),
                ("/tmp", -1, -1, false),
                ("/run/secrets/token", -1, -1, false),
            ]
        );
        assert_eq!(all.last().expect("terminal").inputs[0].index, 2);
        let secret = e.mounts[6].secret_opt.as_ref().expect("secret opt");
        assert_eq!(
            (secret.mode, secret.uid, secret.gid, secret.optional),
            (0o400, 0, 0, true)
        );
        assert_eq!(e.mounts[4].selector, "/go.mod");
        assert_eq!(e.network, pb::NetMode::None as i32);
        let meta = e.meta.as_ref().expect("meta");
        assert_eq!(meta.cwd, "/");
        assert!(meta.remove_mount_stubs_recursive);

        let md = &def.metadata[&digest(&def.def[all.len() - 2])];
        for cap in [
            "exec.meta.base",
            "exec.meta.network",
            "exec.mount.bind",
            "exec.mount.cache",
            "exec.mount.cache.sharing",
            "exec.mount.selector",
            "exec.mount.tmpfs",
            "exec.mount.secret",
        ] {
            assert!(md.caps.contains_key(cap), "missing cap {cap}");
        }

        assert!(
            run.output("/src").is_err(),
            "read-only mounts have no output"
        );
        assert!(run.output("/cache").is_err());
        assert!(run.output("/nope").is_err());
        assert_eq!(run.root().out.as_ref().map(|o| o.index), Some(0));
    }

    #[test]
    fn env_keeps_order_and_replaces_in_place() {
        let def = sh(golang(), "env")
            .env("A", "1")
            .env("B", "2")
            .env("A", "3")
            .build()
            .root()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&def);
        let meta = exec_of(&all[1]).meta.clone().expect("meta");
        assert_eq!(meta.env, ["A=3", "B=2"]);
    }

    #[test]
    fn file_actions_are_chained() {
        let base = golang();
        let a = Local::new("a").build();
        let b = Local::new("b").build();
        let def = File::new(base)
            .copy(Copy::new(a.clone(), "x", "/x/").mode(0o755))
            .mkdir(Mkdir::new("/d", 0o40755).make_parents(true))
            .copy(Copy::new(b, "/y", "y"))
            .copy(Copy::new(a, "/z", "/z"))
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&def);
        let file_op = &all[all.len() - 2];
        assert_eq!(file_op.inputs.len(), 3, "base, a, b");
        assert!(
            file_op.platform.is_none(),
            "file ops are not platform specific"
        );
        let f = file_of(file_op);
        let wiring: Vec<(i64, i64, i64)> = f
            .actions
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect();
        assert_eq!(wiring, [(0, 1, -1), (3, -1, -1), (4, 2, -1), (5, 1, 0)]);
        match &f.actions[0].action {
            Some(pb::file_action::Action::Copy(c)) => {
                assert_eq!(
                    (c.src.as_str(), c.dest.as_str(), c.mode, c.timestamp),
                    ("/x", "/x/", 0o755, -1)
                );
            }
            other => panic!("expected copy, got {other:?}"),
        }
        match &f.actions[1].action {
            Some(pb::file_action::Action::Mkdir(m)) => assert_eq!(m.mode, 0o755),
            other => panic!("expected mkdir, got {other:?}"),
        }

        let on_scratch = File::new(State::scratch())
            .copy(Copy::new(State::scratch(), "/", "/"))
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&on_scratch);
        let f = file_of(&all[0]);
        assert_eq!(
            (
                f.actions[0].input,
                f.actions[0].secondary_input,
                f.actions[0].output
            ),
            (-1, -1, 0)
        );
        assert!(all[0].inputs.is_empty());
    }

    #[test]
    fn sources_have_exact_attrs_and_platforms() {
        let local = Local::new("dockerfile")
            .session_id("s")
            .shared_key_hint("dockerfile")
            .follow_paths(vec!["golb.toml".into()])
            .include_patterns(vec!["*.toml".into()])
            .exclude_patterns(vec![])
            .differ_none()
            .custom_name("load spec")
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&local);
        assert!(all[0].platform.is_none());
        match &all[0].op {
            Some(pb::op::Op::Source(s)) => {
                assert_eq!(s.identifier, "local://dockerfile");
                let attrs: Vec<(&str, &str)> = s
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                assert_eq!(
                    attrs,
                    [
                        ("local.differ", "none"),
                        ("local.followpaths", r#"["golb.toml"]"#),
                        ("local.includepattern", r#"["*.toml"]"#),
                        ("local.session", "s"),
                        ("local.sharedkeyhint", "dockerfile"),
                    ]
                );
            }
            other => panic!("expected source, got {other:?}"),
        }

        let image = Image::new("alpine:3")
            .resolve_mode("default")
            .build()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&image);
        match &all[0].op {
            Some(pb::op::Op::Source(s)) => assert!(s.attrs.is_empty()),
            other => panic!("expected source, got {other:?}"),
        }
        let pulled = Image::new("alpine:3")
            .platform(Platform::parse("linux/arm64").expect("platform"))
            .resolve_mode("pull")
            .build();
        let exec = sh(pulled, "true")
            .build()
            .root()
            .marshal(&[])
            .expect("marshals");
        let all = ops(&exec);
        assert_eq!(
            all[1].platform.as_ref().map(|p| p.architecture.as_str()),
            Some("arm64")
        );
        let md = &exec.metadata[&digest(&exec.def[0])];
        assert!(md.caps.contains_key("source.image.resolvemode"));
    }

    #[test]
    fn source_map_and_its_errors() {
        let def = graph().marshal(&spec()).expect("marshals");
        let source = def.source.as_ref().expect("source map");
        assert_eq!(source.infos.len(), 1);
        assert_eq!(source.infos[0].filename, "golb.toml");
        assert_eq!(source.locations.len(), 1);
        let (dgst, locs) = source.locations.iter().next().expect("one");
        assert!(matches!(
            ops(&def)[digest_pos(&def, dgst)].op,
            Some(pb::op::Op::Exec(_))
        ));
        let range = locs.locations[0].ranges[0];
        assert_eq!(range.start.map(|p| (p.line, p.character)), Some((3, 1)));

        assert!(golang().marshal(&[]).expect("marshals").source.is_none());
        let err = graph()
            .marshal(&[])
            .expect_err("location without source file");
        assert!(
            matches!(err, MarshalError::SourceIndex { index: 0, count: 0 }),
            "{err}"
        );
    }

    fn digest_pos(def: &pb::Definition, dgst: &str) -> usize {
        def.def
            .iter()
            .position(|b| digest(b) == dgst)
            .expect("digest in def")
    }

    #[test]
    fn scratch_is_empty_and_bad_graphs_fail() {
        assert_eq!(
            State::scratch().marshal(&[]).expect("ok"),
            pb::Definition::default()
        );
        let no_args = Exec::new(golang(), vec![]).build().root().marshal(&[]);
        assert!(matches!(no_args, Err(MarshalError::NoArgs)));
        let dup = sh(golang(), "x")
            .mount(Mount::scratch("/o"))
            .mount(Mount::tmpfs("/o"))
            .build()
            .root()
            .marshal(&[]);
        assert!(matches!(dup, Err(MarshalError::DuplicateMount { .. })));
        let empty_file = File::new(golang()).build().marshal(&[]);
        assert!(matches!(empty_file, Err(MarshalError::NoActions)));
    }

    #[test]
    fn extra_hosts_are_written_in_order_and_only_when_given() {
        let with = sh(golang(), "true")
            .extra_host("goproxy.corp.test", "10.0.0.7".parse().expect("ip"))
            .extra_host("git.corp.test", "::1".parse().expect("ip"))
            .extra_host("goproxy.corp.test", "10.0.0.8".parse().expect("ip"));
        let without = sh(golang(), "true");
        let def = with.clone().build().root().marshal(&[]).expect("marshals");
        let meta = exec_of(&ops(&def)[1]).meta.clone().expect("meta");
        let hosts: Vec<(&str, &str)> = meta
            .extra_hosts
            .iter()
            .map(|h| (h.host.as_str(), h.ip.as_str()))
            .collect();
        assert_eq!(
            hosts,
            [
                ("goproxy.corp.test", "10.0.0.7"),
                ("git.corp.test", "::1"),
                ("goproxy.corp.test", "10.0.0.8"),
            ]
        );
        let plain = without.build().root().marshal(&[]).expect("marshals");
        let plain_meta = exec_of(&ops(&plain)[1]).meta.clone().expect("meta");
        assert!(plain_meta.extra_hosts.is_empty());
        assert_ne!(
            digest(&def.def[1]),
            digest(&plain.def[1]),
            "hosts are part of the op"
        );
        let again = with.build().root().marshal(&[]).expect("marshals");
        assert_eq!(def.def, again.def, "deterministic");
    }

    #[test]
    fn ignore_cache_is_recorded() {
        let def = sh(golang(), "date")
            .ignore_cache(true)
            .build()
            .root()
            .marshal(&[])
            .expect("marshals");
        assert!(def.metadata[&digest(&def.def[1])].ignore_cache);
        assert!(def.metadata[&digest(&def.def[2])]
            .caps
            .contains_key("meta.ignorecache"));
    }

    #[test]
    fn imported_definitions_keep_their_ops_metadata_and_source_map() {
        // An input marshaled elsewhere: an exec whose output 1 is the result.
        let built = sh(golang(), "make")
            .mount(Mount::scratch("/out"))
            .custom_name("foreign step")
            .location(
                0,
                Location {
                    line: 2,
                    col: 1,
                    end_line: 2,
                    end_col: 5,
                },
            )
            .build();
        let foreign_sources = vec![SourceFile {
            filename: "Dockerfile".into(),
            data: b"FROM golang\nRUN make\n".to_vec(),
            language: "Dockerfile".into(),
        }];
        let foreign = built
            .output("/out")
            .expect("/out is writable")
            .marshal(&foreign_sources)
            .expect("marshals");
        let foreign_ops = &foreign.def[..foreign.def.len() - 1];
        let foreign_head = ops(&foreign).last().expect("terminal").inputs[0].clone();
        assert_eq!(foreign_head.index, 1);

        let input = State::from_definition(foreign.clone()).expect("imports");
        assert_eq!(input.platform(), Some(&Platform::linux_amd64()));
        let ours = File::new(input)
            .mkdir(Mkdir::new("/etc", 0o755))
            .build()
            .marshal(&spec())
            .expect("marshals");

        for bytes in foreign_ops {
            assert!(ours.def.contains(bytes), "foreign op listed verbatim");
            let md = &ours.metadata[&digest(bytes)];
            assert_eq!(*md, foreign.metadata[&digest(bytes)]);
        }
        let all = ops(&ours);
        let file_op = &all[all.len() - 2];
        assert_eq!(file_op.inputs, std::slice::from_ref(&foreign_head));

        let source = ours.source.expect("source map");
        let names: Vec<&str> = source.infos.iter().map(|i| i.filename.as_str()).collect();
        assert_eq!(names, ["golb.toml", "Dockerfile"]);
        let located = &source.locations[&foreign_head.digest].locations;
        assert_eq!(located.len(), 1);
        assert_eq!(located[0].source_index, 1, "renumbered after golb's files");
    }

    #[test]
    fn an_imported_empty_location_list_is_left_out() {
        let foreign = sh(golang(), "make")
            .mount(Mount::scratch("/out"))
            .build()
            .output("/out")
            .expect("/out is writable")
            .marshal(&[])
            .expect("marshals");
        let head = ops(&foreign).last().expect("terminal").inputs[0].clone();
        let mut with_empty = foreign.clone();
        with_empty.source = Some(pb::Source {
            locations: [(head.digest.clone(), pb::Locations::default())].into(),
            infos: Vec::new(),
        });
        let input = State::from_definition(with_empty).expect("imports");
        let ours = File::new(input)
            .mkdir(Mkdir::new("/etc", 0o755))
            .build()
            .marshal(&spec())
            .expect("marshals");
        let source = ours.source.unwrap_or_default();
        assert!(
            source.locations.values().all(|l| !l.locations.is_empty()),
            "{:?}",
            source.locations
        );
    }

    #[test]
    fn empty_or_broken_definitions_as_inputs() {
        assert!(State::from_definition(pb::Definition::default())
            .expect("empty is scratch")
            .is_scratch());
        let broken = pb::Definition {
            def: vec![b"\xff\xff".to_vec()],
            ..Default::default()
        };
        assert!(matches!(
            State::from_definition(broken),
            Err(MarshalError::Decode { index: 0, .. })
        ));
        // A terminal pointing at an op the Definition does not have.
        let dangling = pb::Definition {
            def: vec![pb::Op {
                inputs: vec![pb::Input {
                    digest: "sha256:00".into(),
                    index: 0,
                }],
                ..Default::default()
            }
            .encode_to_vec()],
            ..Default::default()
        };
        assert!(matches!(
            State::from_definition(dangling),
            Err(MarshalError::MissingHead { .. })
        ));
    }
}
