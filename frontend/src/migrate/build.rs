//! The build stages of a Dockerfile: its `go build` commands as
//! `[[binary]]` tables, its Go environment as `[modules]`, its golang image
//! as `[builder] go`, and everything else it runs as notes.

use super::{
    image_path, resolve, shell, FoundBuild, MappedBinary, Mapper, MigrateError, Note, Stage,
};
use crate::checks::split_flags;
use crate::draft::Value;
use crate::go_module::GoModule;
use crate::init::{self, detect};
use std::collections::BTreeMap;
use std::path::Path;

/// A non-`go build` command of a build stage: what golb does itself, a
/// hidden build (make, a script), or something it cannot carry over.
pub(super) fn classify_command(
    words: &[String],
    line: u32,
    shown: &str,
    m: &mut Mapper,
    hidden: &mut Vec<Note>,
) {
    // `CGO_ENABLED=0 make install`: the assignments are not the program.
    let words: Vec<&String> = words
        .iter()
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .collect();
    let program = words.first().map_or("", |w| w.as_str());
    let sub = words.get(1).map_or("", |w| w.as_str());
    let base = program.rsplit('/').next().unwrap_or(program);
    let note = |why: &str| Note {
        line,
        text: shown.to_string(),
        why: why.to_string(),
    };
    match (base, sub) {
        ("go", "mod") if matches!(words.get(2).map(|w| w.as_str()), Some("download" | "verify" | "tidy")) => {}
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

pub(super) fn builder(m: &mut Mapper, stage: &Stage<'_, '_>) {
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
pub(super) fn modules(m: &mut Mapper, envs: &[(u32, String, String, String)]) {
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
pub(super) fn map_build(
    m: &mut Mapper,
    found: &FoundBuild,
    module: Option<&GoModule>,
    module_dir: &str,
) -> Vec<MappedBinary> {
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
                why:
                    "a package from outside the module: golb builds the module's own main packages"
                        .into(),
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
pub(super) fn default_name(package: &str, module: Option<&GoModule>) -> String {
    if package == "." {
        return module.map_or_else(|| "app".to_string(), GoModule::default_binary_name);
    }
    package.rsplit('/').next().unwrap_or(package).to_string()
}

/// The ldflags a spec may carry: golb's own flags dropped, `$ARG` written
/// `${ARG}`, git command substitutions turned into golb's arguments.
pub(super) fn map_ldflags(
    text: &str,
    args: &BTreeMap<String, Option<String>>,
) -> (Vec<String>, Vec<String>) {
    let _ = args;
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    // `$(git rev-parse HEAD)` is one value to the shell: keep its spaces from splitting it.
    const SPACE: char = '\u{1}';
    let mut protected = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'(') => {
                depth += 1;
                protected.push('$');
                protected.push('(');
                chars.next();
            }
            ')' if depth > 0 => {
                depth -= 1;
                protected.push(')');
            }
            ' ' if depth > 0 => protected.push(SPACE),
            c => protected.push(c),
        }
    }
    let mut words = split_flags(&protected)
        .into_iter()
        .map(|w| w.replace(SPACE, " "));
    while let Some(word) = words.next() {
        match word.as_str() {
            "-s" | "-w" => {}
            w if w.starts_with("-buildid") => {}
            "-extldflags" | "-linkmode" | "-extld" => {
                let value = words.next().unwrap_or_default();
                notes.push(format!(
                    "dropped {word} {value}: golb links statically without an external linker"
                ));
            }
            w if w.starts_with("-extldflags=")
                || w.starts_with("-linkmode=")
                || w.starts_with("-extld=") =>
            {
                notes.push(format!(
                    "dropped {w}: golb links statically without an external linker"
                ));
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
        notes.push(format!(
            "-X {symbol}={value}: now {mapped} (golb runs no shell)"
        ));
        mapped.to_string()
    } else {
        // `$V` and `${V:-d}` are golb's `${V}` (defaults come from [args]).
        shell::substitute(value, |v| Some(format!("${{{}}}", v.name)))
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
pub(super) fn fallback(
    m: &mut Mapper,
    context: &Path,
    hidden: &[Note],
) -> Result<Vec<MappedBinary>, MigrateError> {
    let repository = detect::inspect(context, &[]).map_err(init::InitError::from)?;
    let packages: Vec<&str> = repository
        .mains
        .iter()
        .map(|p| p.package.as_str())
        .collect();
    let why = format!(
        "golb builds what `golb init` finds instead: {}",
        if packages.is_empty() {
            "the module root".to_string()
        } else {
            packages.join(", ")
        }
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
