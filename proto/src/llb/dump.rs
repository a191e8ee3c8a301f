//! A line-oriented text form of a Definition for golden files and `golb llb --dump`: what a
//! reviewer needs to see in a diff, without protobuf noise. Ops are referred to by the first
//! 12 hex digits of their digest.

use std::fmt::Write;

use prost::Message;

use super::marshal::digest;
use super::{pb, MarshalError};

pub fn dump(def: &pb::Definition) -> Result<String, MarshalError> {
    let mut out = String::new();
    for (index, bytes) in def.def.iter().enumerate() {
        let op = pb::Op::decode(bytes.as_slice())
            .map_err(|source| MarshalError::Decode { index, source })?;
        let dgst = digest(bytes);
        if index > 0 {
            out.push('\n');
        }
        write_op(&mut out, def, &dgst, &op);
    }
    Ok(out)
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.get(..12).unwrap_or(hex)
}

/// How an op refers to input `idx`: another op's output, or (in file ops) an earlier action.
fn input_ref(op: &pb::Op, idx: i64) -> String {
    if idx < 0 {
        return "scratch".to_string();
    }
    match usize::try_from(idx).ok().and_then(|i| op.inputs.get(i)) {
        Some(input) => format!("{}:{}", short(&input.digest), input.index),
        None => format!("action {}", idx - op.inputs.len() as i64),
    }
}

/// Quotes only when needed, so ordinary arguments stay readable.
fn word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '\\');
    if plain {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

fn platform(p: &pb::Platform) -> String {
    [p.os.as_str(), &p.architecture, &p.variant]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/")
}

fn write_op(out: &mut String, def: &pb::Definition, dgst: &str, op: &pb::Op) {
    let md = def.metadata.get(dgst);
    let Some(body) = &op.op else {
        let head = op.inputs.first().map_or("none".to_string(), |i| {
            format!("{}:{}", short(&i.digest), i.index)
        });
        let _ = writeln!(out, "result {head}");
        write_metadata(out, def, dgst, md);
        return;
    };
    let name = md
        .and_then(|m| m.description.get("llb.customname"))
        .map(|n| format!("  {n}"))
        .unwrap_or_default();
    let _ = writeln!(out, "op {}{name}", short(dgst));
    match body {
        pb::op::Op::Source(s) => {
            let _ = writeln!(out, "  source {}", s.identifier);
            for (k, v) in &s.attrs {
                let _ = writeln!(out, "    {k}={v}");
            }
        }
        pb::op::Op::Exec(e) => write_exec(out, op, e),
        pb::op::Op::File(f) => write_file(out, op, f),
        other => {
            let inputs: Vec<String> = (0..op.inputs.len() as i64)
                .map(|i| input_ref(op, i))
                .collect();
            let _ = writeln!(out, "  {other:?}");
            let _ = writeln!(out, "  inputs {}", inputs.join(" "));
        }
    }
    if let Some(p) = &op.platform {
        let _ = writeln!(out, "  platform {}", platform(p));
    }
    write_metadata(out, def, dgst, md);
}

fn write_metadata(out: &mut String, def: &pb::Definition, dgst: &str, md: Option<&pb::OpMetadata>) {
    if let Some(md) = md {
        if md.ignore_cache {
            let _ = writeln!(out, "  ignore-cache");
        }
        if !md.caps.is_empty() {
            let caps: Vec<&str> = md
                .caps
                .iter()
                .filter(|(_, on)| **on)
                .map(|(c, _)| c.as_str())
                .collect();
            let _ = writeln!(out, "  caps {}", caps.join(" "));
        }
    }
    let Some(source) = &def.source else { return };
    let Some(locs) = source.locations.get(dgst) else {
        return;
    };
    for loc in &locs.locations {
        let file = usize::try_from(loc.source_index)
            .ok()
            .and_then(|i| source.infos.get(i))
            .map_or_else(
                || format!("source#{}", loc.source_index),
                |i| i.filename.clone(),
            );
        for r in &loc.ranges {
            let pos = |p: &Option<pb::Position>| {
                p.map_or("?".to_string(), |p| format!("{}:{}", p.line, p.character))
            };
            let _ = writeln!(out, "  at {file}:{}-{}", pos(&r.start), pos(&r.end));
        }
    }
}

fn write_exec(out: &mut String, op: &pb::Op, e: &pb::ExecOp) {
    let _ = writeln!(out, "  exec");
    if let Some(meta) = &e.meta {
        let _ = writeln!(out, "    args");
        for a in &meta.args {
            let _ = writeln!(out, "      {}", word(a));
        }
        if !meta.env.is_empty() {
            let _ = writeln!(out, "    env");
            for v in &meta.env {
                let _ = writeln!(out, "      {}", word(v));
            }
        }
        let _ = writeln!(out, "    cwd {}", word(&meta.cwd));
        if !meta.user.is_empty() {
            let _ = writeln!(out, "    user {}", word(&meta.user));
        }
        if !meta.hostname.is_empty() {
            let _ = writeln!(out, "    hostname {}", word(&meta.hostname));
        }
        for h in &meta.extra_hosts {
            let _ = writeln!(out, "    host {} {}", word(&h.host), word(&h.ip));
        }
    }
    match pb::NetMode::try_from(e.network) {
        Ok(pb::NetMode::Unset) => {}
        Ok(mode) => {
            let _ = writeln!(
                out,
                "    network {}",
                mode.as_str_name().to_ascii_lowercase()
            );
        }
        Err(_) => {
            let _ = writeln!(out, "    network {}", e.network);
        }
    }
    if e.security == pb::SecurityMode::Insecure as i32 {
        let _ = writeln!(out, "    security insecure");
    }
    for m in &e.mounts {
        let kind = pb::MountType::try_from(m.mount_type).map_or_else(
            |_| m.mount_type.to_string(),
            |t| t.as_str_name().to_ascii_lowercase(),
        );
        let mut line = format!("  mount {} {kind}", word(&m.dest));
        if m.input >= 0 || m.mount_type == pb::MountType::Bind as i32 {
            let _ = write!(line, " from {}", input_ref(op, m.input));
        }
        if !m.selector.is_empty() {
            let _ = write!(line, " selector={}", word(&m.selector));
        }
        if m.readonly {
            line.push_str(" readonly");
        }
        if m.content_cache != pb::MountContentCache::Default as i32 {
            let mode = pb::MountContentCache::try_from(m.content_cache).map_or_else(
                |_| m.content_cache.to_string(),
                |c| c.as_str_name().to_ascii_lowercase(),
            );
            let _ = write!(line, " content-cache={mode}");
        }
        if let Some(c) = &m.cache_opt {
            let sharing = pb::CacheSharingOpt::try_from(c.sharing).map_or_else(
                |_| c.sharing.to_string(),
                |s| s.as_str_name().to_ascii_lowercase(),
            );
            let _ = write!(line, " id={} sharing={sharing}", word(&c.id));
        }
        if let Some(t) = &m.tmpfs_opt {
            if t.size > 0 {
                let _ = write!(line, " size={}", t.size);
            }
        }
        if let Some(s) = &m.secret_opt {
            let _ = write!(
                line,
                " id={} uid={} gid={} mode={:04o}",
                word(&s.id),
                s.uid,
                s.gid,
                s.mode
            );
            if s.optional {
                line.push_str(" optional");
            }
        }
        if let Some(s) = &m.ssh_opt {
            let _ = write!(line, " id={} mode={:04o}", word(&s.id), s.mode);
            if s.optional {
                line.push_str(" optional");
            }
        }
        if m.output >= 0 {
            let _ = write!(line, " output={}", m.output);
        }
        let _ = writeln!(out, "{line}");
    }
}

fn owner(o: &Option<pb::ChownOpt>) -> Option<String> {
    let user = |u: &Option<pb::UserOpt>| match u.as_ref().and_then(|u| u.user.as_ref()) {
        Some(pb::user_opt::User::ById(id)) => id.to_string(),
        Some(pb::user_opt::User::ByName(n)) => n.name.clone(),
        None => String::new(),
    };
    o.as_ref()
        .map(|o| format!("{}:{}", user(&o.user), user(&o.group)))
}

fn write_file(out: &mut String, op: &pb::Op, f: &pb::FileOp) {
    let _ = writeln!(out, "  file");
    for a in &f.actions {
        let mut details: Vec<String> = vec![format!("on {}", input_ref(op, a.input))];
        let (own, timestamp) = match &a.action {
            Some(pb::file_action::Action::Copy(c)) => {
                let _ = writeln!(
                    out,
                    "    copy {} {} -> {}",
                    input_ref(op, a.secondary_input),
                    word(&c.src),
                    word(&c.dest)
                );
                if c.mode >= 0 {
                    details.push(format!("mode {:04o}", c.mode));
                }
                let flags: Vec<&str> = [
                    (c.follow_symlink, "follow-symlink"),
                    (c.dir_copy_contents, "dir-copy-contents"),
                    (c.create_dest_path, "create-dest-path"),
                    (c.allow_wildcard, "allow-wildcard"),
                    (c.allow_empty_wildcard, "allow-empty-wildcard"),
                    (c.attempt_unpack_docker_compatibility, "unpack"),
                    (c.always_replace_existing_dest_paths, "replace-existing"),
                ]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
                if !flags.is_empty() {
                    details.push(format!("flags {}", flags.join(" ")));
                }
                if !c.include_patterns.is_empty() {
                    details.push(format!("include {:?}", c.include_patterns));
                }
                if !c.exclude_patterns.is_empty() {
                    details.push(format!("exclude {:?}", c.exclude_patterns));
                }
                (owner(&c.owner), c.timestamp)
            }
            Some(pb::file_action::Action::Mkdir(m)) => {
                let parents = if m.make_parents { " parents" } else { "" };
                let _ = writeln!(
                    out,
                    "    mkdir {} mode={:04o}{parents}",
                    word(&m.path),
                    m.mode
                );
                (owner(&m.owner), m.timestamp)
            }
            Some(pb::file_action::Action::Mkfile(m)) => {
                let _ = writeln!(out, "    mkfile {} mode={:04o}", word(&m.path), m.mode);
                details.push(match std::str::from_utf8(&m.data) {
                    Ok(text) => format!("data {text:?}"),
                    Err(_) => format!("data {} bytes (binary)", m.data.len()),
                });
                (owner(&m.owner), m.timestamp)
            }
            Some(other) => {
                let _ = writeln!(out, "    {other:?}");
                (None, -1)
            }
            None => {
                let _ = writeln!(out, "    (empty action)");
                (None, -1)
            }
        };
        if let Some(o) = own {
            details.push(format!("owner {o}"));
        }
        if timestamp >= 0 {
            details.push(format!("timestamp {timestamp}"));
        }
        if a.output >= 0 {
            details.push(format!("output {}", a.output));
        }
        for d in details {
            let _ = writeln!(out, "      {d}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{
        CacheSharing, Copy, Exec, File, Image, Local, Location, Mkfile, Mount, SourceFile, State,
    };

    /// Replaces short digests with their position in `def`, so the expected text does not
    /// change with every encoding detail.
    fn dump_with_positions(def: &pb::Definition) -> String {
        let mut text = dump(def).expect("dumps");
        for (i, bytes) in def.def.iter().enumerate() {
            text = text.replace(short(&digest(bytes)), &format!("#{i}"));
        }
        text
    }

    #[test]
    fn extra_hosts_are_dumped() {
        let def = Exec::new(
            Image::new("golang:1.26").build(),
            vec!["go".into(), "mod".into(), "download".into()],
        )
        .extra_host("goproxy.corp.test", "10.0.0.7".parse().expect("ip"))
        .build()
        .root()
        .marshal(&[])
        .expect("marshals");
        let text = dump(&def).expect("dumps");
        assert!(
            text.contains("    cwd /\n    host goproxy.corp.test 10.0.0.7\n"),
            "{text}"
        );
    }

    #[test]
    fn dump_is_readable_and_stable() {
        let ctx = Local::new("context").session_id("s").build();
        let run = Exec::new(
            Image::new("golang:1.26").custom_name("golang").build(),
            vec!["go".into(), "build".into(), "-ldflags=-s -w".into()],
        )
        .env("CGO_ENABLED", "0")
        .cwd("/src")
        .user("1000")
        .mount(Mount::readonly_bind("/src", ctx).selector("/go.mod"))
        .mount(Mount::cache("/go/pkg/mod", "gomod", CacheSharing::Shared))
        .mount(Mount::secret("/run/secrets/t", "t"))
        .mount(Mount::scratch("/out"))
        .network_none()
        .custom_name("build")
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
        let out = run.output("/out").expect("out");
        let def = File::new(State::scratch())
            .mkfile(
                Mkfile::new("/etc/passwd", 0o644, "app:x:1000:1000::/:\n").timestamp_unix_nanos(0),
            )
            .copy(
                Copy::new(out, "/app", "/app")
                    .mode(0o755)
                    .create_dest_path(true),
            )
            .build()
            .marshal(&[SourceFile {
                filename: "golb.toml".into(),
                data: vec![],
                language: "toml".into(),
            }])
            .expect("marshals");

        let want = r#"op #0  golang
  source docker-image://golang:1.26
  caps source.image

op #1
  source local://context
    local.session=s
  caps source.local source.local.sessionid

op #2  build
  exec
    args
      go
      build
      "-ldflags=-s -w"
    env
      CGO_ENABLED=0
    cwd /src
    user 1000
    network none
  mount / bind from #0:0 output=0
  mount /go/pkg/mod cache id=gomod sharing=shared
  mount /out bind from scratch output=1
  mount /src bind from #1:0 selector=/go.mod readonly
  mount /run/secrets/t secret id=t uid=0 gid=0 mode=0400
  caps exec.meta.base exec.meta.network exec.mount.bind exec.mount.cache exec.mount.cache.sharing exec.mount.secret exec.mount.selector
  at golb.toml:2:1-2:5

op #3
  file
    mkfile /etc/passwd mode=0644
      on scratch
      data "app:x:1000:1000::/:\n"
      timestamp 0
    copy #2:1 /app -> /app
      on action 0
      mode 0755
      flags create-dest-path
      output 0
  caps file.base

result #3:0
  caps constraints meta.description platform
"#;
        assert_eq!(dump_with_positions(&def), want);
    }

    #[test]
    fn undecodable_entries_are_reported() {
        let def = pb::Definition {
            def: vec![vec![0xff, 0xff]],
            ..Default::default()
        };
        assert!(matches!(
            dump(&def),
            Err(MarshalError::Decode { index: 0, .. })
        ));
    }
}
