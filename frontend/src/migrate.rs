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

mod go_command;
mod shell;

use crate::checks::split_flags;
use crate::draft::{Draft, Table, Value};
use crate::go_module::{GoModule, GO_MOD};
use crate::init::{self, detect};
use crate::release;
use crate::spec::{Location, Spec, DEFAULT_RUNTIME_BASE};
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
    let frontend = args.frontend.clone().unwrap_or_else(release::frontend_image);
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
            let _ = writeln!(out, "  {named}:{}: {}\n      {}", note.line, note.text, note.why);
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
        line: e.line(),
        col: e.column(),
        message: e.to_string(),
    })?;
    let line_of = |span: &std::ops::Range<usize>| Location::from_span(text, span.clone()).line;
    let first_line = |span: &std::ops::Range<usize>| {
        let start = span.start.min(text.len());
        text[start..].lines().next().unwrap_or("").trim().to_string()
    };
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
                    let whole_context = copy.src.iter().any(|s| {
                        matches!(s, Source::Path(p) if p.value == "." || p.value == "./")
                    });
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
                    let whole_context = add.src.iter().any(|s| {
                        matches!(s, Source::Path(p) if p.value == "." || p.value == "./")
                    });
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
    let builder_stage = found.first().map(|f| f.stage).or_else(|| {
        stages
            .iter()
            .position(|s| image_path(&s.base) == "golang")
    });
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
        for b in map_build(&mut m, f, module.as_ref(), module_dir.as_deref().unwrap_or("")) {
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
    m.unmapped.extend(hidden.iter().filter(|_| !used_fallback).cloned());

    // The runtime chain, base first.
    runtime(
        &mut m,
        &stages,
        &chain,
        runtime_base_stage,
        &mut binaries,
        &stage_index,
        &line_of,
        &first_line,
    );
    // A Dockerfile that copies some of the binaries golb init found ships only those.
    if used_fallback && binaries.iter().any(|b| b.installed_as.is_some()) {
        binaries.retain(|b| {
            let shipped = b.installed_as.is_some();
            if !shipped {
                m.changed.push(Note {
                    line: b.line,
                    text: format!("(main package {})", b.package),
                    why: "the Dockerfile's image does not have it, so golb does not build it".into(),
                });
            }
            shipped
        });
    }
    for binary in &binaries {
        let mut table = Table::array("binary");
        let origin = if binary.stage == usize::MAX {
            format!("found by golb init (the Dockerfile's build is not a go build, line {})", binary.line)
        } else {
            format!("go build at {path}:{}", binary.line)
        };
        table.set("package", Value::Str(binary.package.clone()), Some(origin));
        let name = binary.installed_as.clone().unwrap_or_else(|| binary.name.clone());
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
        if declared.contains(&name) || crate::spec::BUILTIN_ARGS.contains(&name.as_str()) && name != "VERSION" {
            continue;
        }
        let default = m.args.get(&name).cloned().flatten();
        if name == "VERSION" && default.is_none() {
            continue;
        }
        let comment = if default.is_none() {
            Some(format!("ARG {name} had no default; --build-arg {name}=… sets it"))
        } else {
            None
        };
        m.draft
            .table("args")
            .set(&name, Value::Str(default.unwrap_or_default()), comment);
        declared.push(name);
    }
    m.draft.footer = footer(path, &m.unmapped, &m.changed);
    Ok(Migration {
        draft: m.draft,
        unmapped: m.unmapped,
        changed: m.changed,
    })
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
        .position(|t| t.name == "modules" || t.name == "runtime" || t.name == "file" || t.name == "args")
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
    for (title, notes) in [("Mapped with a change:", changed), ("Not mapped (golb migrate could not carry these over):", unmapped)] {
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
fn expand(text: &str, args: &BTreeMap<String, Option<String>>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, fallback, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                out.push('$');
                rest = after;
                continue;
            };
            let body = &inner[..end];
            let (name, fallback) = match body.split_once(":-") {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (body.to_string(), None),
            };
            (name, fallback, end + 2)
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let len = name.len();
            (name, None, len)
        };
        match args.get(&name).cloned().flatten().or(fallback) {
            Some(value) if !name.is_empty() => out.push_str(&value),
            _ => {
                out.push('$');
                out.push_str(&after[..consumed]);
            }
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
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
    let source = fields.get("source").or(fields.get("src")).copied().unwrap_or(".");
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

/// A non-`go build` command of a build stage: what golb does itself, a
/// hidden build (make, a script), or something it cannot carry over.
fn classify_command(words: &[String], line: u32, shown: &str, m: &mut Mapper, hidden: &mut Vec<Note>) {
    let program = words.first().map_or("", String::as_str);
    let sub = words.get(1).map_or("", String::as_str);
    let base = program.rsplit('/').next().unwrap_or(program);
    let note = |why: &str| Note {
        line,
        text: shown.to_string(),
        why: why.to_string(),
    };
    match (base, sub) {
        ("go", "mod") if matches!(words.get(2).map(String::as_str), Some("download" | "verify" | "tidy")) => {}
        ("go", "version" | "env") => {}
        ("go", "generate") => m.unmapped.push(note(
            "go generate: golb builds the sources in the context as they are; commit the generated files (or generate before the build)",
        )),
        ("go", "test" | "vet") => m.changed.push(note(
            "tests run in the image build: golb runs them as its own targets, `--target test` and `--target vet`",
        )),
        ("make" | "gmake" | "task" | "mage" | "just" | "goreleaser" | "bazel" | "bazelisk", _) => {
            hidden.push(note("a build tool hides the go build (a Makefile target or the like): golb cannot read what it runs"));
        }
        (p, _) if p.ends_with(".sh") || p == "sh" || p == "bash" => {
            hidden.push(note("a script hides the go build: golb cannot read what it runs"));
        }
        ("apk" | "apt-get" | "apt" | "yum" | "dnf" | "microdnf", _) => m.unmapped.push(note(
            "installs packages in the build stage: golb's builder (the golang image) runs only go; it already has git and CA certificates. If go needs more, name a builder image that has it: [builder] image",
        )),
        ("mkdir" | "chmod" | "chown" | "cp" | "mv" | "rm" | "ln" | "touch" | "echo" | "true" | "ls" | "cat", _) => {
            m.unmapped.push(note("file shuffling in the build stage: golb lays out the image itself (binaries in /usr/local/bin, [[file]]s where the spec says)"));
        }
        ("upx", _) => m.unmapped.push(note("compresses the binary: golb ships what go build writes (already stripped with -s -w)")),
        _ => m.unmapped.push(note("a command golb does not run: its builder runs only go")),
    }
}

/// The shallowest directory of the context with a go.mod ("" for the root).
fn find_module_dir(context: &Path) -> Option<String> {
    if context.join(GO_MOD).is_file() {
        return Some(String::new());
    }
    detect::inspect(context, &[]).ok().map(|r| r.module.dir)
}

fn builder(m: &mut Mapper, stage: &Stage<'_, '_>) {
    if image_path(&stage.base) != "golang" {
        m.changed.push(Note {
            line: stage.line,
            text: format!("FROM {}", stage.base),
            why: "the build stage is not a golang image: golb builds with golang:<go> from go.mod (or [builder] image)".into(),
        });
        return;
    }
    let tag = stage
        .base
        .split('@')
        .next()
        .and_then(|r| r.rsplit_once(':'))
        .map(|(_, t)| t)
        .unwrap_or("");
    let version: String = tag
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    if version.contains('.') {
        m.draft.table("builder").set(
            "go",
            Value::Str(version.to_string()),
            Some(format!("from FROM {} (line {})", stage.base, stage.line)),
        );
        if tag.contains("alpine") {
            m.changed.push(Note {
                line: stage.line,
                text: format!("FROM {}", stage.base),
                why: format!("golb builds with golang:{version} (Debian); the binaries are static either way"),
            });
        }
    }
}

/// Go environment of the build stages: what [modules] says, what golb sets.
fn modules(m: &mut Mapper, envs: &[(u32, String, String, String)]) {
    for (line, text, key, value) in envs {
        let spec_key = match key.as_str() {
            "GOPROXY" => Some("proxy"),
            "GOPRIVATE" => Some("private"),
            "GONOSUMDB" => Some("nosumdb"),
            "GONOPROXY" => Some("noproxy"),
            "GOFLAGS" => Some("flags"),
            _ => None,
        };
        if let Some(spec_key) = spec_key {
            let kept: Vec<&str> = value
                .split_whitespace()
                .filter(|f| spec_key != "flags" || !golb_sets_go_flag(f))
                .collect();
            if !kept.is_empty() {
                m.draft.table("modules").set(
                    spec_key,
                    Value::Str(kept.join(if spec_key == "flags" { " " } else { "," })),
                    Some(format!("ENV {key} (line {line})")),
                );
            }
            continue;
        }
        let why = match key.as_str() {
            "CGO_ENABLED" if value == "0" => continue,
            "CGO_ENABLED" => "golb always builds with CGO_ENABLED=0: cgo code is left out (golb check finds `import \"C\"`)",
            "GOOS" | "GOARCH" | "GOARM" | "GOAMD64" | "GO111MODULE" | "GOTOOLCHAIN" | "GOPATH" | "GOCACHE"
            | "GOMODCACHE" | "GOBIN" | "PATH" | "HOME" | "GOSUMDB" | "TARGETOS" | "TARGETARCH" => continue,
            _ => "an environment variable of the build stage: go build in golb sees only golb's environment",
        };
        m.unmapped.push(Note {
            line: *line,
            text: text.clone(),
            why: format!("{key}: {why}"),
        });
    }
}

/// GOFLAGS golb sets itself (spec.md, [modules] flags).
fn golb_sets_go_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-').split('=').next().unwrap_or("");
    matches!(
        name,
        "mod" | "trimpath" | "buildvcs" | "ldflags" | "tags" | "o" | "toolexec" | "overlay"
    )
}

/// The binaries one `go build` makes.
fn map_build(m: &mut Mapper, found: &FoundBuild, module: Option<&GoModule>, module_dir: &str) -> Vec<MappedBinary> {
    let build = &found.build;
    let shown = format!("go {}", if build.install { "install" } else { "build" });
    for (flag, why) in &build.unmapped {
        m.unmapped.push(Note {
            line: found.line,
            text: format!("{shown} {flag}"),
            why: (*why).to_string(),
        });
    }
    for (key, value) in &build.env {
        if key == "CGO_ENABLED" && value != "0" {
            m.unmapped.push(Note {
                line: found.line,
                text: format!("{key}={value} {shown}"),
                why: "golb always builds with CGO_ENABLED=0".into(),
            });
        }
    }
    let cwd = match &build.chdir {
        Some(dir) => resolve(&found.cwd, dir),
        None => found.cwd.clone(),
    };
    // Where the module root is in the build stage.
    let module_root = found
        .context_at
        .as_ref()
        .map(|c| resolve(c, module_dir))
        .unwrap_or_else(|| cwd.clone());
    let (ldflags, notes) = map_ldflags(build.ldflags.as_deref().unwrap_or(""), &m.args);
    for why in notes {
        m.changed.push(Note {
            line: found.line,
            text: format!("{shown} -ldflags"),
            why,
        });
    }
    let packages = if build.packages.is_empty() {
        vec![".".to_string()]
    } else {
        build.packages.clone()
    };
    let mut binaries = Vec::new();
    for package in &packages {
        let relative = if let Some(import) = module.and_then(|mm| {
            package
                .strip_prefix(&mm.path)
                .filter(|r| r.is_empty() || r.starts_with('/'))
        }) {
            format!(".{import}")
        } else if package.starts_with('.') || package.starts_with('/') {
            let absolute = resolve(&cwd, package);
            match absolute.strip_prefix(&module_root) {
                Some("") => ".".to_string(),
                Some(rest) if rest.starts_with('/') => format!(".{rest}"),
                _ => {
                    m.unmapped.push(Note {
                        line: found.line,
                        text: format!("{shown} {package}"),
                        why: format!("{absolute} is outside the module (at {module_root} in the build stage)"),
                    });
                    continue;
                }
            }
        } else {
            m.unmapped.push(Note {
                line: found.line,
                text: format!("{shown} {package}"),
                why: "a package from outside the module: golb builds the module's own main packages".into(),
            });
            continue;
        };
        if relative.ends_with("/...") || relative == "./..." {
            m.unmapped.push(Note {
                line: found.line,
                text: format!("{shown} {package}"),
                why: "a package pattern: list each main package as a [[binary]]".into(),
            });
            continue;
        }
        let name = default_name(&relative, module);
        let output = match &build.output {
            Some(o) if o.ends_with('/') || packages.len() > 1 => resolve(&resolve(&cwd, o), &name),
            Some(o) => resolve(&cwd, o),
            None if build.install => format!("/go/bin/{name}"),
            None => resolve(&cwd, &name),
        };
        let built_name = output.rsplit('/').next().unwrap_or(&name).to_string();
        binaries.push(MappedBinary {
            package: relative,
            name: built_name,
            ldflags: ldflags.clone(),
            tags: build.tags.clone(),
            outputs: vec![output],
            stage: found.stage,
            line: found.line,
            installed_as: None,
            dockerfile_path: None,
        });
    }
    binaries
}

/// The binary name golb gives a package by default.
fn default_name(package: &str, module: Option<&GoModule>) -> String {
    if package == "." {
        return module.map_or_else(|| "app".to_string(), GoModule::default_binary_name);
    }
    package.rsplit('/').next().unwrap_or(package).to_string()
}

/// The ldflags a spec may carry: golb's own flags dropped, `$ARG` written
/// `${ARG}`, git command substitutions turned into golb's arguments.
fn map_ldflags(text: &str, args: &BTreeMap<String, Option<String>>) -> (Vec<String>, Vec<String>) {
    let _ = args;
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    let mut words = split_flags(text).into_iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-s" | "-w" => {}
            w if w.starts_with("-buildid") => {}
            "-extldflags" | "-linkmode" | "-extld" => {
                let value = words.next().unwrap_or_default();
                notes.push(format!("dropped {word} {value}: golb links statically without an external linker"));
            }
            w if w.starts_with("-extldflags=") || w.starts_with("-linkmode=") || w.starts_with("-extld=") => {
                notes.push(format!("dropped {w}: golb links statically without an external linker"));
            }
            "-X" => {
                if let Some(definition) = words.next() {
                    if let Some(mapped) = map_x(&definition, &mut notes) {
                        kept.push(format!("-X {mapped}"));
                    }
                }
            }
            w => {
                if let Some(definition) = w.strip_prefix("-X=") {
                    if let Some(mapped) = map_x(definition, &mut notes) {
                        kept.push(format!("-X {mapped}"));
                    }
                } else {
                    kept.push(quote_flag(w));
                }
            }
        }
    }
    (kept, notes)
}

/// One `-X sym=value`, with `$VAR` written `${VAR}` and `$(git …)` mapped.
fn map_x(definition: &str, notes: &mut Vec<String>) -> Option<String> {
    let (symbol, value) = definition.split_once('=')?;
    let value = if value.contains("$(") || value.contains('`') {
        let mapped = if value.contains("git describe") {
            "${VERSION}"
        } else if value.contains("git rev-parse") || value.contains("git log") {
            "${VCS_REVISION}"
        } else {
            notes.push(format!("-X {symbol}={value}: a shell command golb cannot run; left at the variable's default"));
            return None;
        };
        notes.push(format!("-X {symbol}={value}: now {mapped} (golb runs no shell)"));
        mapped.to_string()
    } else {
        let mut out = String::new();
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if after.starts_with('{') {
                let end = after.find('}').map_or(after.len(), |e| e + 1);
                let inner = &after[1..end.saturating_sub(1).max(1)];
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push_str(&format!("${{{name}}}"));
                rest = &after[end..];
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push_str(&format!("${{{name}}}"));
                rest = &after[name.len()..];
            }
        }
        out.push_str(rest);
        out
    };
    let needs_quotes = value.contains(' ');
    Some(if needs_quotes {
        format!("'{symbol}={value}'")
    } else {
        format!("{symbol}={value}")
    })
}

fn quote_flag(flag: &str) -> String {
    if flag.contains(' ') {
        format!("'{flag}'")
    } else {
        flag.to_string()
    }
}

/// No `go build` in the Dockerfile: build what `golb init` finds, and say so.
fn fallback(m: &mut Mapper, context: &Path, hidden: &[Note]) -> Result<Vec<MappedBinary>, MigrateError> {
    let repository = detect::inspect(context, &[]).map_err(init::InitError::from)?;
    let packages: Vec<&str> = repository.mains.iter().map(|p| p.package.as_str()).collect();
    let why = format!(
        "golb builds what `golb init` finds instead: {}",
        if packages.is_empty() { "the module root".to_string() } else { packages.join(", ") }
    );
    if hidden.is_empty() {
        m.changed.push(Note {
            line: 1,
            text: "(no go build)".into(),
            why: format!("the Dockerfile runs no go build; {why}"),
        });
    }
    for note in hidden {
        m.changed.push(Note {
            why: format!("{} — {why}", note.why),
            ..note.clone()
        });
    }
    let line = hidden.first().map_or(1, |n| n.line);
    Ok(repository
        .mains
        .iter()
        .map(|main| MappedBinary {
            package: main.package.clone(),
            name: main.name.clone(),
            ldflags: init::stamp_flags(main).into_iter().collect(),
            tags: Vec::new(),
            outputs: Vec::new(),
            stage: usize::MAX,
            line,
            installed_as: None,
            dockerfile_path: None,
        })
        .collect())
}

/// The runtime stage(s): base, files, binaries' names, config.
#[allow(clippy::too_many_arguments)]
fn runtime(
    m: &mut Mapper,
    stages: &[Stage<'_, '_>],
    chain: &[usize],
    base_stage: usize,
    binaries: &mut [MappedBinary],
    stage_index: &dyn Fn(&str) -> Option<usize>,
    line_of: &dyn Fn(&std::ops::Range<usize>) -> u32,
    first_line: &dyn Fn(&std::ops::Range<usize>) -> String,
) {
    let base = &stages[base_stage];
    let base_path = image_path(&base.base);
    let mut runtime = Table::new("runtime");
    let mut files: Vec<Table> = Vec::new();
    let mut user_set = false;
    match base_path {
        "golang" => m.changed.push(Note {
            line: base.line,
            text: format!("FROM {}", base.base),
            why: "the image was the Go toolchain with the sources; golb's is the distroless base with only the binaries".into(),
        }),
        "scratch" => m.changed.push(Note {
            line: base.line,
            text: "FROM scratch".into(),
            why: format!("golb needs a base image: {DEFAULT_RUNTIME_BASE}, which is scratch plus CA certificates, tzdata and a nonroot user"),
        }),
        _ if base.base == DEFAULT_RUNTIME_BASE => {}
        _ => {
            runtime.set(
                "base",
                Value::Str(base.base.clone()),
                Some(format!("FROM at line {}", base.line)),
            );
        }
    }
    let mut workdir = "/".to_string();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut expose: Vec<Value> = Vec::new();
    let mut entrypoint: Option<Vec<String>> = None;
    let mut cmd: Option<Vec<String>> = None;
    let mut command_line = 0;
    let is_go_stage = base_path == "golang";
    for &index in chain.iter().rev() {
        let stage = &stages[index];
        let stage_args = m.args.clone();
        for instruction in stage.instructions {
            let note = |span: &std::ops::Range<usize>, why: &str| Note {
                line: line_of(span),
                text: first_line(span),
                why: why.to_string(),
            };
            match instruction {
                Instruction::Workdir(w) => {
                    workdir = resolve(&workdir, &expand(&w.arguments.value, &stage_args));
                }
                Instruction::Env(e) => {
                    for (k, v) in shell::key_values(&e.arguments.value) {
                        if is_go_stage && (k.starts_with("GO") || k == "CGO_ENABLED") {
                            continue; // the naive Dockerfile's build settings
                        }
                        let value = expand(&v, &stage_args);
                        if value.contains('$') {
                            m.changed.push(note(&e.env.span, "an ENV value with a variable golb does not know: written as is"));
                        }
                        env.retain(|(key, _)| *key != k);
                        env.push((k, value));
                    }
                }
                Instruction::Label(l) => {
                    if l.arguments.value.contains('$') {
                        m.changed.push(note(
                            &l.label.span,
                            "a label made from build arguments: golb writes their defaults; set labels per build with `buildx build --label K=V`",
                        ));
                    }
                    for (k, v) in shell::key_values(&l.arguments.value) {
                        labels.retain(|(key, _)| *key != k);
                        labels.push((k, expand(&v, &stage_args)));
                    }
                }
                Instruction::Expose(e) => {
                    for port in &e.arguments {
                        let port = expand(&port.value, &stage_args);
                        let (number, proto) = port.split_once('/').unwrap_or((&port, "tcp"));
                        match number.parse::<u16>() {
                            Ok(n) if proto == "tcp" => expose.push(Value::Int(i64::from(n))),
                            Ok(_) => expose.push(Value::Str(port.clone())),
                            Err(_) => m.unmapped.push(note(&e.expose.span, "a port range or variable: list each port in expose")),
                        }
                    }
                }
                Instruction::User(u) => {
                    let user = expand(&u.arguments.value, &stage_args);
                    runtime.set("user", Value::Str(user), Some(format!("USER at line {}", line_of(&u.user.span))));
                    user_set = true;
                }
                Instruction::Entrypoint(e) => {
                    command_line = line_of(&e.entrypoint.span);
                    entrypoint = command_words(&e.arguments, m, command_line, &first_line(&e.entrypoint.span));
                    cmd = None; // ENTRYPOINT resets an inherited CMD
                }
                Instruction::Cmd(c) => {
                    if entrypoint.is_none() {
                        command_line = line_of(&c.cmd.span);
                    }
                    cmd = command_words(&c.arguments, m, line_of(&c.cmd.span), &first_line(&c.cmd.span));
                }
                Instruction::Copy(copy) => {
                    let from = copy
                        .options
                        .iter()
                        .find(|f| f.name.value == "from")
                        .and_then(|f| f.value.as_ref())
                        .map(|v| v.value.to_string());
                    let dest = resolve(&workdir, &expand(&copy.dest.value, &stage_args));
                    let dest_is_dir = copy.dest.value.ends_with('/') || copy.src.len() > 1;
                    let chown = flag_value(&copy.options, "chown");
                    let chmod = flag_value(&copy.options, "chmod");
                    for src in &copy.src {
                        let Source::Path(src) = src else {
                            m.unmapped.push(note(&copy.copy.span, "a heredoc COPY: write the file into the context and use [[file]]"));
                            continue;
                        };
                        let src = expand(&src.value, &stage_args);
                        let target = if dest_is_dir {
                            format!("{}/{}", dest.trim_end_matches('/'), src.rsplit('/').next().unwrap_or(&src))
                        } else {
                            dest.clone()
                        };
                        match &from {
                            Some(stage_ref) => copy_from(m, binaries, stage_index, stage_ref, &src, &target, || note(&copy.copy.span, "")),
                            None if is_go_stage => {}
                            None if prebuilt(binaries, &src, &target) => m.changed.push(note(
                                &copy.copy.span,
                                "copies a binary built outside the Dockerfile: golb builds it from source (see the [[binary]] tables)",
                            )),
                            None => {
                                if src == "." || src.ends_with(".go") || src == "go.mod" {
                                    m.unmapped.push(note(&copy.copy.span, "copies sources into the runtime image: golb never ships sources"));
                                    continue;
                                }
                                let mut file = Table::array("file");
                                file.set("src", Value::Str(src.trim_start_matches("./").to_string()), Some(format!("COPY at line {}", line_of(&copy.copy.span))));
                                file.set("dest", Value::Str(target), None);
                                if let Some(owner) = &chown {
                                    if owner.split(':').all(|p| p.parse::<u32>().is_ok()) {
                                        file.set("owner", Value::Str(owner.clone()), None);
                                    } else {
                                        m.unmapped.push(note(&copy.copy.span, "--chown with a name: golb's [[file]] owner is numeric (\"uid:gid\")"));
                                    }
                                }
                                if let Some(mode) = &chmod {
                                    if mode.chars().all(|c| c.is_digit(8)) {
                                        file.set("mode", Value::Str(format!("{mode:0>4}")), None);
                                    } else {
                                        m.unmapped.push(note(&copy.copy.span, "--chmod in symbolic form: golb's [[file]] mode is octal"));
                                    }
                                }
                                files.push(file);
                            }
                        }
                    }
                }
                Instruction::Add(add) => m.unmapped.push(note(&add.add.span, "ADD (URLs, archives): put the file in the context and use [[file]]")),
                Instruction::Run(run) if !is_go_stage => m.unmapped.push(note(
                    &run.run.span,
                    "runs a command in the runtime image: golb's image is the base plus files, nothing runs in it; pick a base that has what you need ([runtime] base)",
                )),
                Instruction::Healthcheck(h) => m.unmapped.push(note(&h.healthcheck.span, "HEALTHCHECK: golb's image config has none; configure health checks in your orchestrator")),
                Instruction::Volume(v) => m.unmapped.push(note(&v.volume.span, "VOLUME: golb's image config declares no volumes; mount them at run time")),
                Instruction::Stopsignal(s) => m.unmapped.push(note(&s.stopsignal.span, "STOPSIGNAL: golb's image config has none")),
                Instruction::Shell(s) => m.unmapped.push(note(&s.shell.span, "SHELL: golb runs no shell")),
                Instruction::Onbuild(o) => m.unmapped.push(note(&o.onbuild.span, "ONBUILD: golb's image has no triggers")),
                Instruction::Maintainer(mt) => {
                    labels.push(("org.opencontainers.image.authors".into(), mt.name.value.to_string()));
                    m.changed.push(note(&mt.maintainer.span, "MAINTAINER is the label org.opencontainers.image.authors"));
                }
                _ => {}
            }
        }
    }
    // The binaries the image has, at golb's place.
    let installed: Vec<(String, String)> = binaries
        .iter()
        .filter_map(|b| Some((b.dockerfile_path.clone()?, b.installed_as.clone().unwrap_or_else(|| b.name.clone()))))
        .collect();
    let rewrite = |words: &mut Vec<String>, m: &mut Mapper| {
        if let Some(first) = words.first_mut() {
            let at = resolve(&workdir, first);
            let by_path = installed.iter().find(|(path, _)| *path == at || path == first);
            let by_name = binaries.iter().find(|b| b.installed_as.as_deref().unwrap_or(&b.name) == first.as_str());
            let name = by_path.map(|(_, n)| n.clone()).or_else(|| by_name.map(|b| b.installed_as.clone().unwrap_or_else(|| b.name.clone())));
            if let Some(name) = name {
                let golb_path = format!("/usr/local/bin/{name}");
                if *first != golb_path {
                    m.changed.push(Note {
                        line: command_line,
                        text: format!("{first} in ENTRYPOINT/CMD"),
                        why: format!("golb installs the binary at {golb_path}"),
                    });
                    *first = golb_path;
                }
            }
        }
    };
    match (entrypoint, cmd) {
        (Some(mut e), c) => {
            rewrite(&mut e, m);
            let single_default = binaries.len() == 1 && e.len() == 1 && e[0] == format!("/usr/local/bin/{}", binaries[0].installed_as.as_deref().unwrap_or(&binaries[0].name));
            if !single_default {
                runtime.set("entrypoint", Value::Strs(e), Some("ENTRYPOINT".into()));
            }
            if let Some(c) = c {
                runtime.set("args", Value::Strs(c), Some("CMD: arguments to the entrypoint".into()));
            }
        }
        (None, Some(mut c)) => {
            rewrite(&mut c, m);
            let program = c.remove(0);
            runtime.set("entrypoint", Value::Strs(vec![program]), Some("CMD's program".into()));
            if !c.is_empty() {
                runtime.set("args", Value::Strs(c), Some("CMD's arguments".into()));
            }
        }
        (None, None) if binaries.len() > 1 => {
            let name = binaries[0].installed_as.clone().unwrap_or_else(|| binaries[0].name.clone());
            runtime.set(
                "entrypoint",
                Value::Strs(vec![format!("/usr/local/bin/{name}")]),
                Some("the Dockerfile names none; golb needs one for several binaries: check it".into()),
            );
        }
        (None, None) => {}
    }
    if !env.is_empty() {
        runtime.set("env", Value::Map(env), None);
    }
    if !expose.is_empty() {
        runtime.set("expose", Value::Mixed(expose), None);
    }
    if !labels.is_empty() {
        runtime.set("labels", Value::Map(labels), None);
    }
    if workdir != "/" && !is_go_stage {
        runtime.set("workdir", Value::Str(workdir), Some("WORKDIR".into()));
    }
    if !user_set && !matches!(base_path, "static-debian12" | "static-debian11" | "base-debian12" | "static") {
        runtime.suggest(
            "user",
            Value::Str("0".into()),
            Some("the Dockerfile's image runs as its base's user (often root); golb's runs as 65532 unless you say so".into()),
        );
    }
    m.draft.tables.extend(files);
    m.draft.tables.push(runtime);
}

fn flag_value(flags: &[parse_dockerfile::Flag<'_>], name: &str) -> Option<String> {
    flags
        .iter()
        .find(|f| f.name.value == name)
        .and_then(|f| f.value.as_ref())
        .map(|v| v.value.to_string())
}

/// ENTRYPOINT/CMD words: exec form as is, shell form when it needs no shell.
fn command_words(command: &Command<'_>, m: &mut Mapper, line: u32, shown: &str) -> Option<Vec<String>> {
    match command {
        Command::Exec(words) => Some(words.value.iter().map(|w| w.value.to_string()).collect()),
        Command::Shell(script) => {
            let commands = shell::commands(script.value);
            let simple = commands.len() == 1
                && !commands[0].has_substitution
                && !commands[0].has_redirection
                && !script.value.contains('$');
            if simple {
                m.changed.push(Note {
                    line,
                    text: shown.to_string(),
                    why: "shell form: golb's image runs the program directly (the distroless base has no /bin/sh)".into(),
                });
                commands.into_iter().next().map(|c| c.words)
            } else {
                m.unmapped.push(Note {
                    line,
                    text: shown.to_string(),
                    why: "a shell command line: golb's base has no shell; write it as the program and its arguments".into(),
                });
                None
            }
        }
        _ => None,
    }
}

/// `COPY --from=<stage> src dest` in the runtime: a built binary, or something golb cannot copy.
fn copy_from(
    m: &mut Mapper,
    binaries: &mut [MappedBinary],
    stage_index: &dyn Fn(&str) -> Option<usize>,
    stage_ref: &str,
    src: &str,
    target: &str,
    note: impl Fn() -> Note,
) {
    let stage = stage_index(stage_ref);
    let src_abs = resolve("/", src);
    let src_name = src_abs.rsplit('/').next().unwrap_or("");
    let src_dir = src_abs.rsplit_once('/').map_or("", |(d, _)| d);
    let found = binaries.iter_mut().find(|b| {
        b.outputs.iter().any(|o| *o == src_abs)
            && stage.is_none_or(|s| s == b.stage || b.stage == usize::MAX)
    });
    let found = match found {
        Some(b) => Some(b),
        // A glob (`dist/app*`) or a name only the build knows.
        None => binaries.iter_mut().find(|b| {
            glob_name(src_name, &b.name)
                && (b.outputs.is_empty() || b.outputs.iter().any(|o| o.starts_with(&format!("{src_dir}/"))))
        }),
    };
    let globbed = src_name.contains(['*', '?', '[']);
    let target = match (&found, globbed) {
        // `COPY --from=build /out/app* /bin/`: the target is a directory.
        (Some(b), true) => format!("{}/{}", target.rsplit_once('/').map_or("", |(d, _)| d), b.name),
        _ => target.to_string(),
    };
    let target = target.as_str();
    let name = target.rsplit('/').next().unwrap_or(target).to_string();
    if let Some(binary) = found {
        binary.dockerfile_path = Some(target.to_string());
        binary.installed_as = Some(name);
        let golb_path = format!("/usr/local/bin/{}", binary.installed_as.as_deref().unwrap_or_default());
        if target != golb_path {
            m.changed.push(Note {
                why: format!("the binary is at {golb_path} in golb's image (the Dockerfile put it at {target})"),
                ..note()
            });
        }
        return;
    }
    let why = if stage.is_none() {
        format!("copies from the image {stage_ref}: golb copies only binaries it builds and files of the context")
    } else if src.contains("ca-certificates") || src.contains("zoneinfo") || src.contains("passwd") || src.contains("group") {
        format!("{src}: the default base ({DEFAULT_RUNTIME_BASE}) already has CA certificates, tzdata and users")
    } else {
        format!("{src} from a build stage is not a binary golb builds: golb copies only its binaries and context files ([[file]])")
    };
    m.unmapped.push(Note { why, ..note() });
}

/// A context COPY of a binary built outside the Dockerfile (`COPY
/// build/linux-amd64/app /app`), when golb builds that binary itself.
fn prebuilt(binaries: &mut [MappedBinary], src: &str, target: &str) -> bool {
    let src_name = src.rsplit('/').next().unwrap_or(src);
    let Some(binary) = binaries
        .iter_mut()
        .find(|b| b.stage == usize::MAX && glob_name(src_name, &b.name))
    else {
        return false;
    };
    binary.dockerfile_path = Some(target.to_string());
    binary.installed_as = Some(target.rsplit('/').next().unwrap_or(target).to_string());
    true
}

/// Whether a file name pattern (`*`, `?`) matches a name.
fn glob_name(pattern: &str, name: &str) -> bool {
    fn matches(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], n) || (!n.is_empty() && matches(p, &n[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &n[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests;
