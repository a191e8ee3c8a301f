//! `golb migrate [Dockerfile]`: reads a Go Dockerfile, multi-stage or
//! naive, and writes the golb.toml that builds the same binaries into an
//! image with the same config and files. What it cannot map it lists with
//! its Dockerfile line and the reason, in its output and at the end of the
//! spec; nothing is dropped silently. When `go build` is hidden in a
//! Makefile or a script, it builds what `golb init` detects instead, and
//! says so.
//!
//! The Dockerfile is read with `parse_dockerfile` (BuildKit's syntax:
//! continuations, heredocs, `# escape=`); shell-form RUN with `shell`.

mod build;
use build::{builder, classify_command, default_name, fallback, map_build, modules};
mod go_command;
mod runtime;
mod shell;

use crate::draft::{Draft, Table, Value};
use crate::go_module::{GoModule, GO_MOD};
use crate::init::{self, detect};
use crate::release;
use crate::spec::Spec;
use go_command::GoBuild;
use parse_dockerfile::{Command, Instruction, Source};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `golb migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The Dockerfile to read (default: ./Dockerfile).
    pub dockerfile: Option<PathBuf>,
    /// The build context (default: the Dockerfile's directory); golb.toml is written there.
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// The stage whose image to reproduce (default: the last).
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// The golb image for the spec's `# syntax=` line (default: the image this golb version publishes).
    #[arg(long, value_name = "IMAGE")]
    pub frontend: Option<String>,
    /// Replace an existing golb.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{0}: no FROM: not a Dockerfile that builds an image")]
    NoStage(String),
    #[error("{path}: no stage named {target:?}")]
    NoTarget { path: String, target: String },
    #[error(transparent)]
    Module(#[from] crate::go_module::GoModuleError),
    #[error(transparent)]
    Init(#[from] init::InitError),
}

/// Something of the Dockerfile the spec does not carry, or carries
/// differently: where, what, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub line: u32,
    /// The instruction's first line, as written.
    pub text: String,
    pub why: String,
}

/// The result: the spec, what could not be mapped, and what changed on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    pub draft: Draft,
    pub unmapped: Vec<Note>,
    pub changed: Vec<Note>,
}

/// `golb migrate`: read, map, write golb.toml, list what was not mapped.
pub fn run(args: &MigrateArgs, out: &mut impl Write) -> Result<(), MigrateError> {
    let path = args
        .dockerfile
        .clone()
        .unwrap_or_else(|| PathBuf::from("Dockerfile"));
    let text = std::fs::read_to_string(&path).map_err(|source| MigrateError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let context = args.context.clone().unwrap_or_else(|| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let frontend = args
        .frontend
        .clone()
        .unwrap_or_else(release::frontend_image);
    let shown = path.display().to_string();
    // The spec sits in the context: name the Dockerfile as seen from there.
    let named = path
        .strip_prefix(&context)
        .unwrap_or(&path)
        .display()
        .to_string();
    let migration = migrate(&named, &text, &context, args.target.as_deref(), &frontend)?;
    let spec_text = migration.draft.render();
    Spec::parse(init::SPEC_FILE, &spec_text).map_err(|errors| init::InitError::Invalid {
        errors: errors.to_string(),
        text: spec_text.clone(),
    })?;
    let spec_path = context.join(init::SPEC_FILE);
    init::write_file(&spec_path, &spec_text, args.force)?;
    let _ = writeln!(out, "wrote {} from {shown}", spec_path.display());
    for (title, notes) in [
        ("mapped with a change", &migration.changed),
        ("not mapped", &migration.unmapped),
    ] {
        if notes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for note in notes {
            let _ = writeln!(
                out,
                "  {named}:{}: {}\n      {}",
                note.line, note.text, note.why
            );
        }
    }
    let _ = writeln!(
        out,
        "build it with:\n  docker buildx build -f {} {}",
        spec_path.display(),
        context.display()
    );
    Ok(())
}

/// One stage: its base (ARGs expanded), name, and instructions.
struct Stage<'d, 'a> {
    name: Option<String>,
    base: String,
    line: u32,
    instructions: &'d [Instruction<'a>],
}

/// A `go build` found in a build stage, resolved against its WORKDIR.
#[derive(Clone, Debug)]
struct FoundBuild {
    stage: usize,
    line: u32,
    build: GoBuild,
    /// The directory go ran in, absolute in the build stage.
    cwd: String,
    /// Where the context root is in the build stage, when a COPY or bind mount says.
    context_at: Option<String>,
}

/// A binary the spec builds: package, name, ldflags, tags, and where the
/// Dockerfile's build put it.
#[derive(Clone, Debug)]
struct MappedBinary {
    package: String,
    name: String,
    ldflags: Vec<String>,
    tags: Vec<String>,
    /// Absolute paths the build wrote it to (-o), in its stage.
    outputs: Vec<String>,
    stage: usize,
    line: u32,
    /// The name the image uses, once a COPY --from says.
    installed_as: Option<String>,
    /// The path the Dockerfile's image had it at.
    dockerfile_path: Option<String>,
}

/// Maps a Dockerfile to a spec. `context` is read for go.mod (the module's
/// place and path) and, when `go build` is hidden, for `golb init`'s detection.
pub fn migrate(
    path: &str,
    text: &str,
    context: &Path,
    target: Option<&str>,
    frontend: &str,
) -> Result<Migration, MigrateError> {
    let dockerfile = parse_dockerfile::parse(text).map_err(|e| MigrateError::Syntax {
        path: path.to_string(),
        line: e.line().max(1),
        col: e.column().max(1),
        message: e.to_string(),
    })?;
    let source = DockerfileText(text);
    let line_of = |span: &std::ops::Range<usize>| source.line(span);
    let first_line = |span: &std::ops::Range<usize>| source.first_line(span);
    let mut m = Mapper {
        unmapped: Vec::new(),
        changed: Vec::new(),
        args: BTreeMap::new(),
        draft: Draft {
            frontend: frontend.to_string(),
            header: vec![format!(
                "Written by `golb migrate` from {path} (golb {}).",
                release::VERSION
            )],
            ..Draft::default()
        },
    };
    for arg in dockerfile.global_args() {
        for (name, default) in arg_pairs(&arg.arguments.value) {
            m.args.insert(name, default);
        }
    }
    let mut stages: Vec<Stage<'_, '_>> = Vec::new();
    for stage in dockerfile.stages() {
        let from = stage.from;
        stages.push(Stage {
            name: from.as_.as_ref().map(|(_, n)| n.value.to_string()),
            base: expand(&from.image.value, &m.args),
            line: line_of(&from.from.span),
            instructions: stage.instructions,
        });
    }
    if stages.is_empty() {
        return Err(MigrateError::NoStage(path.to_string()));
    }
    let final_index = match target {
        Some(t) => stages
            .iter()
            .position(|s| s.name.as_deref() == Some(t))
            .ok_or_else(|| MigrateError::NoTarget {
                path: path.to_string(),
                target: t.to_string(),
            })?,
        None => stages.len() - 1,
    };
    let stage_index = |name: &str| -> Option<usize> {
        stages
            .iter()
            .position(|s| s.name.as_deref() == Some(name))
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < stages.len()))
    };
    // The runtime stage's chain of bases (FROM another stage).
    let mut chain = vec![final_index];
    while let Some(&last) = chain.last() {
        match stage_index(&stages[last].base) {
            Some(parent) if parent < last && !chain.contains(&parent) => chain.push(parent),
            _ => break,
        }
    }
    let runtime_base_stage = *chain.last().unwrap_or(&final_index);

    // Build stages: every stage the runtime copies from, and the runtime
    // chain itself (a naive Dockerfile builds where it runs).
    let mut found: Vec<FoundBuild> = Vec::new();
    let mut hidden: Vec<Note> = Vec::new();
    let mut go_envs: Vec<(u32, String, String, String)> = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        let mut stage_args = m.args.clone();
        let mut workdir = "/".to_string();
        let mut context_at: Option<String> = None;
        let in_runtime = chain.contains(&index);
        let is_go_stage = image_path(&stage.base).ends_with("golang");
        for instruction in stage.instructions {
            match instruction {
                Instruction::Arg(arg) => {
                    for (name, default) in arg_pairs(&arg.arguments.value) {
                        stage_args.insert(name.clone(), default.clone());
                        m.args.entry(name).or_insert(default);
                    }
                }
                Instruction::Workdir(w) => {
                    workdir = resolve(&workdir, &expand(&w.arguments.value, &stage_args));
                }
                Instruction::Env(env) if !in_runtime || is_go_stage => {
                    for (k, v) in shell::key_values(&env.arguments.value) {
                        go_envs.push((line_of(&env.env.span), first_line(&env.env.span), k, v));
                    }
                }
                Instruction::Copy(copy) if !in_runtime || is_go_stage => {
                    let from_flag = copy.options.iter().any(|f| f.name.value == "from");
                    let whole_context = copy
                        .src
                        .iter()
                        .any(|s| matches!(s, Source::Path(p) if p.value == "." || p.value == "./"));
                    if !from_flag && (whole_context || context_at.is_none()) {
                        let dest = resolve(&workdir, &copy.dest.value);
                        if whole_context {
                            context_at = Some(dest);
                        } else if context_at.is_none() {
                            // `COPY go.mod go.sum ./`: the module's files land in dest.
                            context_at = Some(dest);
                        }
                    }
                }
                Instruction::Add(add) if !in_runtime => {
                    let whole_context = add
                        .src
                        .iter()
                        .any(|s| matches!(s, Source::Path(p) if p.value == "." || p.value == "./"));
                    if whole_context {
                        context_at = Some(resolve(&workdir, &add.dest.value));
                    }
                }
                Instruction::Run(run) if !in_runtime || is_go_stage => {
                    let line = line_of(&run.run.span);
                    let shown = first_line(&run.run.span);
                    for flag in &run.options {
                        if flag.name.value == "mount" {
                            let mount = flag.value.as_ref().map_or("", |v| v.value.as_ref());
                            if let Some(target) = bind_mount_of_context(mount) {
                                context_at = Some(resolve(&workdir, &target));
                            }
                        }
                    }
                    let commands = match &run.arguments {
                        Command::Exec(words) => vec![shell::ShellCommand {
                            words: words.value.iter().map(|w| w.value.to_string()).collect(),
                            ..shell::ShellCommand::default()
                        }],
                        Command::Shell(script) => {
                            let mut script = script.value.to_string();
                            for doc in &run.here_docs {
                                script.push('\n');
                                script.push_str(&doc.value);
                            }
                            shell::commands(&script)
                        }
                        _ => Vec::new(),
                    };
                    if shell::has_logic(&commands) {
                        m.unmapped.push(Note {
                            line,
                            text: shown.clone(),
                            why: "shell logic (if/for/case): golb runs no shell; it decides what such scripts decide from go.mod and the spec".into(),
                        });
                    }
                    let mut cwd = workdir.clone();
                    for command in &commands {
                        if command.words.first().is_some_and(|w| w == "cd") {
                            if let Some(dir) = command.words.get(1) {
                                cwd = resolve(&cwd, dir);
                            }
                            continue;
                        }
                        if let Some(build) = go_command::parse(&command.words) {
                            found.push(FoundBuild {
                                stage: index,
                                line,
                                build,
                                cwd: cwd.clone(),
                                context_at: context_at.clone(),
                            });
                            if command.has_substitution {
                                m.changed.push(Note {
                                    line,
                                    text: shown.clone(),
                                    why: "command substitution in go build ($(…)): golb runs no shell; ${VERSION} and ${VCS_REVISION} come from build arguments and buildx's git info".into(),
                                });
                            }
                            continue;
                        }
                        classify_command(&command.words, line, &shown, &mut m, &mut hidden);
                    }
                }
                _ => {}
            }
        }
    }

    let module_dir = find_module_dir(context);
    let module = module_dir
        .as_ref()
        .map(|dir| GoModule::from_dir(context, dir))
        .transpose()?;

    // [builder]
    let builder_stage = found
        .first()
        .map(|f| f.stage)
        .or_else(|| stages.iter().position(|s| image_path(&s.base) == "golang"));
    if let Some(stage) = builder_stage.map(|i| &stages[i]) {
        builder(&mut m, stage);
    }
    if let Some(dir) = module_dir.as_ref().filter(|d| !d.is_empty()) {
        m.draft.table("builder").set(
            "module",
            Value::Str(dir.clone()),
            Some("where go.mod is; the build context is the repository root".into()),
        );
    }
    modules(&mut m, &go_envs);

    // [[binary]]
    let mut binaries: Vec<MappedBinary> = Vec::new();
    for f in &found {
        for b in map_build(
            &mut m,
            f,
            module.as_ref(),
            module_dir.as_deref().unwrap_or(""),
        ) {
            match binaries.iter_mut().find(|x| x.package == b.package) {
                Some(existing) => existing.outputs.extend(b.outputs),
                None => binaries.push(b),
            }
        }
    }
    let used_fallback = binaries.is_empty();
    if used_fallback {
        binaries = fallback(&mut m, context, &hidden)?;
    }
    m.unmapped
        .extend(hidden.iter().filter(|_| !used_fallback).cloned());

    // The runtime chain, base first.
    runtime::runtime(
        &mut m,
        &stages,
        (&chain, runtime_base_stage),
        &mut binaries,
        &stage_index,
        source,
    );
    // A Dockerfile that copies some of the binaries golb init found ships only those.
    if used_fallback && binaries.iter().any(|b| b.installed_as.is_some()) {
        binaries.retain(|b| {
            let shipped = b.installed_as.is_some();
            if !shipped {
                m.changed.push(Note {
                    line: b.line,
                    text: format!("(main package {})", b.package),
                    why: "the Dockerfile's image does not have it, so golb does not build it"
                        .into(),
                });
            }
            shipped
        });
    }
    for binary in &binaries {
        let mut table = Table::array("binary");
        let origin = if binary.stage == usize::MAX {
            format!(
                "found by golb init (the Dockerfile's build is not a go build, line {})",
                binary.line
            )
        } else {
            format!("go build at {path}:{}", binary.line)
        };
        table.set("package", Value::Str(binary.package.clone()), Some(origin));
        let name = binary
            .installed_as
            .clone()
            .unwrap_or_else(|| binary.name.clone());
        let default_name = default_name(&binary.package, module.as_ref());
        if name != default_name {
            table.set("name", Value::Str(name), None);
        }
        if !binary.ldflags.is_empty() {
            table.set("ldflags", Value::Strs(vec![binary.ldflags.join(" ")]), None);
        }
        if !binary.tags.is_empty() {
            table.set("tags", Value::Strs(binary.tags.clone()), None);
        }
        insert_binary(&mut m.draft, table);
    }
    // [args]: the build arguments the ldflags use.
    let used: Vec<String> = binaries
        .iter()
        .flat_map(|b| b.ldflags.iter().flat_map(|f| shell::variables(f)))
        .collect();
    let mut declared = Vec::new();
    for name in used {
        if declared.contains(&name)
            || crate::spec::BUILTIN_ARGS.contains(&name.as_str()) && name != "VERSION"
        {
            continue;
        }
        let default = m.args.get(&name).cloned().flatten();
        if name == "VERSION" && default.is_none() {
            continue;
        }
        let comment = if default.is_none() {
            Some(format!(
                "ARG {name} had no default; --build-arg {name}=… sets it"
            ))
        } else {
            None
        };
        m.draft
            .table("args")
            .set(&name, Value::Str(default.unwrap_or_default()), comment);
        declared.push(name);
    }
    // One note per line and reason: `apk update && apk add …` is one problem.
    for notes in [&mut m.unmapped, &mut m.changed] {
        let mut seen = Vec::new();
        notes.retain(|n| {
            let key = (n.line, n.why.clone());
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        });
    }
    m.draft.footer = footer(path, &m.unmapped, &m.changed);
    Ok(Migration {
        draft: m.draft,
        unmapped: m.unmapped,
        changed: m.changed,
    })
}

/// The Dockerfile's text, for the line of a span and the instruction's first line.
#[derive(Clone, Copy)]
struct DockerfileText<'t>(&'t str);

impl DockerfileText<'_> {
    fn line(&self, span: &std::ops::Range<usize>) -> u32 {
        crate::spec::location::locate(self.0, span.clone()).line
    }

    fn first_line(&self, span: &std::ops::Range<usize>) -> String {
        let start = span.start.min(self.0.len());
        self.0[start..]
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

struct Mapper {
    unmapped: Vec<Note>,
    changed: Vec<Note>,
    /// ARG names and defaults seen so far.
    args: BTreeMap<String, Option<String>>,
    draft: Draft,
}

/// `[[binary]]` tables go before `[modules]` and `[runtime]`, in build order.
fn insert_binary(draft: &mut Draft, table: Table) {
    let at = draft
        .tables
        .iter()
        .position(|t| {
            t.name == "modules" || t.name == "runtime" || t.name == "file" || t.name == "args"
        })
        .unwrap_or(draft.tables.len());
    let after_binaries = draft.tables[..at]
        .iter()
        .rposition(|t| t.name == "binary")
        .map_or(at, |p| p + 1);
    draft.tables.insert(after_binaries.min(at), table);
}

/// The spec's closing comment: every note, with its line.
fn footer(path: &str, unmapped: &[Note], changed: &[Note]) -> Vec<String> {
    let mut lines = Vec::new();
    for (title, notes) in [
        ("Mapped with a change:", changed),
        (
            "Not mapped (golb migrate could not carry these over):",
            unmapped,
        ),
    ] {
        if notes.is_empty() {
            continue;
        }
        lines.push(title.to_string());
        for note in notes {
            lines.push(format!("  {path}:{}: {}", note.line, note.text));
            lines.push(format!("    {}", note.why));
        }
    }
    lines
}

/// ARG's `NAME[=default]` pairs.
fn arg_pairs(text: &str) -> Vec<(String, Option<String>)> {
    shell::commands(text)
        .into_iter()
        .flat_map(|c| c.words)
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// `$NAME`, `${NAME}` and `${NAME:-default}` replaced with ARG defaults where known.
/// The platform arguments BuildKit defines in every Dockerfile, for the
/// platform golb's images are usually built on; ARG and FROM lines use them
/// to name stages (`FROM binaries-$TARGETOS`).
const PLATFORM_ARGS: [(&str, &str); 8] = [
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
];

fn expand(text: &str, args: &BTreeMap<String, Option<String>>) -> String {
    shell::substitute(text, |v| {
        let known = args.get(&v.name).cloned().flatten().or_else(|| {
            PLATFORM_ARGS
                .iter()
                .find(|(name, _)| *name == v.name)
                .map(|(_, value)| (*value).to_string())
        });
        // No value and nothing to fall back on: keep it as written, so the
        // notes can say a value was missing.
        (known.is_some() || v.fallback.is_some() || v.alternative.is_some())
            .then(|| v.resolve(known.as_deref()))
    })
}

/// An absolute path: `path` against `dir` (both in the image), `.`/`..` resolved.
fn resolve(dir: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `type=bind,target=/src` (no source, or source=.): the context bind-mounted at target.
fn bind_mount_of_context(mount: &str) -> Option<String> {
    let fields: BTreeMap<&str, &str> = mount
        .split(',')
        .filter_map(|f| f.split_once('=').or(Some((f, ""))))
        .collect();
    let kind = fields.get("type").copied().unwrap_or("bind");
    let source = fields
        .get("source")
        .or(fields.get("src"))
        .copied()
        .unwrap_or(".");
    let from = fields.contains_key("from");
    let target = fields
        .get("target")
        .or(fields.get("dst"))
        .or(fields.get("destination"))?;
    (kind == "bind" && !from && (source == "." || source == "./")).then(|| target.to_string())
}

/// The last path element of an image reference's repository ("golang" for "golang:1.26-alpine").
fn image_path(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// The shallowest directory of the context with a go.mod ("" for the root).
fn find_module_dir(context: &Path) -> Option<String> {
    if context.join(GO_MOD).is_file() {
        return Some(String::new());
    }
    detect::inspect(context, &[]).ok().map(|r| r.module.dir)
}

#[cfg(test)]
mod tests;
