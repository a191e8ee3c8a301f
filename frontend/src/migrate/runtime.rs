//! The runtime stage of a Dockerfile (and the stages it is built FROM):
//! its base, the binaries and files it copies, and its image config, as
//! `[runtime]` and `[[file]]`; what golb's image cannot have, as notes.

use super::{
    expand, image_path, resolve, shell, DockerfileText, MappedBinary, Mapper, Note, Stage,
};
use crate::draft::{Table, Value};
use crate::spec::DEFAULT_RUNTIME_BASE;
use parse_dockerfile::{Command, Instruction, Source};

/// The runtime stage(s): base, files, binaries' names, config.
/// `chain` is the runtime stage and the stages it is built FROM, last
/// first; `base_stage` the first of them, whose image is the base.
pub(super) fn runtime(
    m: &mut Mapper,
    stages: &[Stage<'_, '_>],
    (chain, base_stage): (&[usize], usize),
    binaries: &mut [MappedBinary],
    stage_index: &dyn Fn(&str) -> Option<usize>,
    source: DockerfileText<'_>,
) {
    let line_of = |span: &std::ops::Range<usize>| source.line(span);
    let first_line = |span: &std::ops::Range<usize>| source.first_line(span);
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
        _ if base.base.contains('$') || crate::image_ref::ImageRef::parse(&base.base).is_err() => {
            m.unmapped.push(Note {
                line: base.line,
                text: format!("FROM {}", base.base),
                why: "a base named through build arguments golb cannot resolve: set [runtime] base to the image".into(),
            })
        }
        _ => {
            runtime.set(
                "base",
                Value::Str(base.base.clone()),
                Some(format!("FROM at line {}", base.line)),
            );
        }
    }
    let mut workdir = "/".to_string();
    let mut workdir_set = false;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut expose: Vec<Value> = Vec::new();
    let mut entrypoint: Option<Vec<String>> = None;
    let mut cmd: Option<Vec<String>> = None;
    let mut command_line = 0;
    let is_go_stage = base_path == "golang";
    // The base golb's image gets: its default unless the spec names another.
    let default_base =
        matches!(base_path, "golang" | "scratch") || base.base == DEFAULT_RUNTIME_BASE;
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
                    workdir_set = true;
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
                    let dest_is_dir = copy.dest.value.ends_with('/')
                        || copy.dest.value == "."
                        || copy.src.len() > 1;
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
                            Some(stage_ref) => copy_from(m, binaries, (stage_ref, stage_index(stage_ref)), &src, &target, default_base, || note(&copy.copy.span, "")),
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
        .filter_map(|b| {
            Some((
                b.dockerfile_path.clone()?,
                b.installed_as.clone().unwrap_or_else(|| b.name.clone()),
            ))
        })
        .collect();
    let rewrite = |words: &mut Vec<String>, m: &mut Mapper| {
        if let Some(first) = words.first_mut() {
            let at = resolve(&workdir, first);
            let by_path = installed
                .iter()
                .find(|(path, _)| *path == at || path == first);
            let by_name = binaries
                .iter()
                .find(|b| b.installed_as.as_deref().unwrap_or(&b.name) == first.as_str());
            let name = by_path.map(|(_, n)| n.clone()).or_else(|| {
                by_name.map(|b| b.installed_as.clone().unwrap_or_else(|| b.name.clone()))
            });
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
            let single_default = binaries.len() == 1
                && e.len() == 1
                && e[0]
                    == format!(
                        "/usr/local/bin/{}",
                        binaries[0]
                            .installed_as
                            .as_deref()
                            .unwrap_or(&binaries[0].name)
                    );
            if !single_default {
                runtime.set("entrypoint", Value::Strs(e), Some("ENTRYPOINT".into()));
            }
            if let Some(c) = c {
                runtime.set(
                    "args",
                    Value::Strs(c),
                    Some("CMD: arguments to the entrypoint".into()),
                );
            }
        }
        (None, Some(mut c)) => {
            rewrite(&mut c, m);
            let program = c.remove(0);
            runtime.set(
                "entrypoint",
                Value::Strs(vec![program]),
                Some("CMD's program".into()),
            );
            if !c.is_empty() {
                runtime.set("args", Value::Strs(c), Some("CMD's arguments".into()));
            }
        }
        (None, None) if binaries.len() > 1 => {
            let name = binaries[0]
                .installed_as
                .clone()
                .unwrap_or_else(|| binaries[0].name.clone());
            runtime.set(
                "entrypoint",
                Value::Strs(vec![format!("/usr/local/bin/{name}")]),
                Some(
                    "the Dockerfile names none; golb needs one for several binaries: check it"
                        .into(),
                ),
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
    if base_path == "scratch" && !workdir_set {
        // scratch has no working directory, so the container starts in /;
        // golb's base would start it in its own (/home/nonroot).
        runtime.set(
            "workdir",
            Value::Str("/".into()),
            Some("FROM scratch starts in /".into()),
        );
    }
    if workdir_set && !is_go_stage {
        runtime.set("workdir", Value::Str(workdir), Some("WORKDIR".into()));
    }
    if !user_set
        && !matches!(
            base_path,
            "static-debian12" | "static-debian11" | "base-debian12" | "static"
        )
    {
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
fn command_words(
    command: &Command<'_>,
    m: &mut Mapper,
    line: u32,
    shown: &str,
) -> Option<Vec<String>> {
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
    (stage_ref, stage): (&str, Option<usize>),
    src: &str,
    target: &str,
    default_base: bool,
    note: impl Fn() -> Note,
) {
    // A directory (`COPY --from=build /opt/app/bin/ /usr/local/bin/`) copies
    // its contents: every binary the build wrote there, as if it said `dir/*`.
    let resolved = resolve("/", src);
    let directory = src.ends_with('/')
        || binaries.iter().any(|b| {
            b.outputs
                .iter()
                .any(|o| o.starts_with(&format!("{resolved}/")))
        });
    let src_abs = if directory {
        format!("{}/*", resolved.trim_end_matches('/'))
    } else {
        resolved
    };
    let src_name = src_abs.rsplit('/').next().unwrap_or("");
    let src_dir = src_abs.rsplit_once('/').map_or("", |(d, _)| d);
    let globbed = src_name.contains(['*', '?', '[']);
    let exact = binaries.iter().position(|b| {
        b.outputs.contains(&src_abs) && stage.is_none_or(|s| s == b.stage || b.stage == usize::MAX)
    });
    // A glob (`dist/app*`, `bin/*`) or a name only the build knows.
    let matching: Vec<usize> = match exact {
        Some(i) => vec![i],
        None => binaries
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                glob_name(src_name, &b.name)
                    && (b.outputs.is_empty()
                        || b.outputs
                            .iter()
                            .any(|o| o.starts_with(&format!("{src_dir}/"))))
            })
            .map(|(i, _)| i)
            .take(if globbed { usize::MAX } else { 1 })
            .collect(),
    };
    for &i in &matching {
        let binary = &mut binaries[i];
        // `COPY --from=build /out/app* /bin/`: the target is a directory.
        let target = if globbed {
            format!(
                "{}/{}",
                target.rsplit_once('/').map_or("", |(d, _)| d),
                binary.name
            )
        } else {
            target.to_string()
        };
        let name = target.rsplit('/').next().unwrap_or(&target).to_string();
        let golb_path = format!("/usr/local/bin/{name}");
        if target != golb_path {
            m.changed.push(Note {
                why: format!("the binary is at {golb_path} in golb's image (the Dockerfile put it at {target})"),
                ..note()
            });
        }
        binary.dockerfile_path = Some(target);
        binary.installed_as = Some(name);
    }
    if !matching.is_empty() {
        return;
    }
    let why = if stage.is_none() {
        format!("copies from the image {stage_ref}: golb copies only binaries it builds and files of the context")
    } else if default_base
        && (src.contains("ca-certificates")
            || src.contains("zoneinfo")
            || src.contains("passwd")
            || src.contains("group"))
    {
        format!("{src}: golb's base ({DEFAULT_RUNTIME_BASE}) already has CA certificates, tzdata and users")
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
pub(super) fn glob_name(pattern: &str, name: &str) -> bool {
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
