//! `golb init [DIR]`: looks at a Go repository and writes the golb.toml
//! that builds it, with a comment on each line saying why it is there, and
//! a `.dockerignore` when there is none. It never overwrites a spec without
//! `--force`, checks the spec it writes with the same parser the frontend
//! uses, and prints the `buildx build` command to run.

pub mod cgo;
pub mod detect;

use crate::draft::{Draft, Table, Value};
use crate::release;
use crate::spec::Spec;
use cgo::CgoReport;
use detect::{MainPackage, Repository, StampArg};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `golb init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The repository to inspect: the build context (default: the current directory).
    pub dir: Option<PathBuf>,
    /// The golb image for the spec's `# syntax=` line (default: the image this golb version publishes).
    #[arg(long, value_name = "IMAGE")]
    pub frontend: Option<String>,
    /// Replace an existing golb.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Detect(#[from] detect::DetectError),
    #[error("{module} has no main package{also}: golb builds commands (directories whose files say `package main`); add one, e.g. cmd/<name>/main.go, then run golb init again")]
    NoMainPackage { module: String, also: String },
    #[error("{0} exists; golb init never overwrites a spec: rerun with --force to replace it")]
    Exists(String),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    /// A bug of golb's, not the user's: the spec it made does not parse.
    #[error("golb made a spec it cannot read back (please report this):\n{errors}\n---\n{text}")]
    Invalid { errors: String, text: String },
}

/// The spec's file name, in the context's root.
pub const SPEC_FILE: &str = "golb.toml";
pub const DOCKERIGNORE: &str = ".dockerignore";

/// `golb init`: inspect, write golb.toml (and .dockerignore), print what to run.
pub fn run(args: &InitArgs, out: &mut impl Write) -> Result<(), InitError> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let repository = detect::inspect(&dir, &private_env())?;
    if repository.mains.is_empty() {
        let skipped: Vec<&str> = repository
            .skipped_mains
            .iter()
            .map(|m| m.package.as_str())
            .collect();
        return Err(InitError::NoMainPackage {
            module: repository.module.path.clone(),
            also: if skipped.is_empty() {
                String::new()
            } else {
                format!(
                    " outside tools, examples and tests ({}: name one with [[binary]] by hand if it is what the image runs)",
                    skipped.join(", ")
                )
            },
        });
    }
    let frontend = args
        .frontend
        .clone()
        .unwrap_or_else(release::frontend_image);
    let cgo = cgo::detect(
        &dir,
        &repository.module,
        &repository.mains,
        &cgo::Host::from_env(),
    );
    let draft = draft(&repository, &cgo, &frontend);
    let text = draft.render();
    Spec::parse(SPEC_FILE, &text).map_err(|errors| InitError::Invalid {
        errors: errors.to_string(),
        text: text.clone(),
    })?;
    let spec_path = dir.join(SPEC_FILE);
    write_file(&spec_path, &text, args.force)?;
    let mut wrote = vec![spec_path.display().to_string()];
    let ignore_path = dir.join(DOCKERIGNORE);
    let spec_ignore = dir.join(format!("{SPEC_FILE}{DOCKERIGNORE}"));
    if !ignore_path.exists() && !spec_ignore.exists() {
        write_file(&ignore_path, &dockerignore(&repository), false)?;
        wrote.push(ignore_path.display().to_string());
    }
    let _ = writeln!(out, "wrote {}", wrote.join(" and "));
    for (main, package) in &cgo.needs {
        let _ = writeln!(
            out,
            "{main} needs cgo: {package} compiles C (import \"C\"); the spec sets cgo = true and a glibc base"
        );
    }
    if let Some(note) = cgo.unchecked_note() {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(
        out,
        "build it with:\n  {}",
        build_command(&repository, &dir)
    );
    Ok(())
}

/// GOPRIVATE, GONOPROXY and GONOSUMDB of the caller: modules they match are private to this user.
fn private_env() -> Vec<String> {
    ["GOPRIVATE", "GONOPROXY", "GONOSUMDB"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .filter(|value| !value.is_empty() && value != "off" && value != "none")
        .collect()
}

/// Writes `text` to `path` through a temporary file: the spec is either
/// all there or not there. Without `force` an existing file is never
/// replaced, even one that appears while golb runs.
pub fn write_file(path: &Path, text: &str, force: bool) -> Result<(), InitError> {
    let shown = path.display().to_string();
    if !force && path.exists() {
        return Err(InitError::Exists(shown));
    }
    let write_error = |source| InitError::Write {
        path: shown.clone(),
        source,
    };
    let file_name = path
        .file_name()
        .map_or_else(|| "golb".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(".{file_name}.golb-{}.tmp", std::process::id()));
    let result = std::fs::write(&temp, text).and_then(|()| {
        if force {
            std::fs::rename(&temp, path)
        } else {
            // A hard link fails if the target exists: no check-then-write race.
            std::fs::hard_link(&temp, path)
        }
    });
    let _ = std::fs::remove_file(&temp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(InitError::Exists(shown)),
        Err(e) => Err(write_error(e)),
    }
}

/// The spec for what was found.
pub fn draft(repository: &Repository, cgo: &CgoReport, frontend: &str) -> Draft {
    let module = &repository.module;
    let mut draft = Draft {
        frontend: frontend.to_string(),
        header: vec![
            format!(
                "Written by `golb init` for {} (golb {}).",
                module.path,
                release::VERSION
            ),
            "Every key is optional; docs/spec.md lists them all. `golb check golb.toml` checks it."
                .into(),
        ],
        ..Draft::default()
    };
    builder(repository, &mut draft);
    let entrypoint = entrypoint(&repository.mains, &module.default_binary_name());
    for main in &repository.mains {
        draft
            .tables
            .push(binary(repository, main, cgo.needs.get(&main.package)));
    }
    if !repository.skipped_mains.is_empty() {
        let skipped: Vec<&str> = repository
            .skipped_mains
            .iter()
            .map(|m| m.package.as_str())
            .collect();
        draft.header.push(format!(
            "Left out (examples, tools, tests): {}; add a [[binary]] for any you want in the image.",
            skipped.join(", ")
        ));
    }
    let library_embeds: Vec<String> = repository
        .embeds
        .iter()
        .filter(|e| !repository.mains.iter().any(|m| m.dir == e.dir))
        .map(detect::Embed::describe)
        .collect();
    if !library_embeds.is_empty() {
        draft.header.push(format!(
            "//go:embed in the module: {}; compiled in, nothing to declare (the .dockerignore keeps them).",
            library_embeds.join(", ")
        ));
    }
    if !repository.private.is_empty() {
        let patterns: Vec<&str> = repository
            .private
            .iter()
            .map(|p| p.pattern.as_str())
            .collect();
        let modules = draft.table("modules");
        for pattern in &repository.private {
            modules
                .comments
                .push(format!("{}: {}", pattern.pattern, pattern.why));
        }
        modules.comments.push(
            "Build with your credentials in a secret, never a build arg: --secret id=netrc,src=$HOME/.netrc (docs/private-modules.md)."
                .into(),
        );
        modules.set(
            "private",
            Value::Str(patterns.join(",")),
            Some("GOPRIVATE: skips the public proxy and checksum database (with your own GOPROXY, add noproxy = \"none\")".into()),
        );
    }
    if let Some(note) = cgo.unchecked_note() {
        draft.header.push(note);
    }
    runtime(repository, entrypoint, !cgo.needs.is_empty(), &mut draft);
    draft
}

fn builder(repository: &Repository, draft: &mut Draft) {
    let module = &repository.module;
    let table = draft.table("builder");
    if module.wanted_go_release().is_none() {
        table.set(
            "go",
            Value::Str(release::GO_RELEASE.to_string()),
            Some("go.mod has no go line (add one: `go mod edit -go=…`); the Go release this golb is tested with".into()),
        );
    }
    if let Some(release) = module.wanted_go_release() {
        let from = match (&module.toolchain, &module.go) {
            (Some(toolchain), _) => format!("go.mod's toolchain line (go{toolchain})"),
            (None, Some(go)) => format!("go.mod's go line (go {go})"),
            (None, None) => "go.mod".to_string(),
        };
        table.set(
            "go",
            Value::Str(release.clone()),
            Some(format!(
                "from {from}: the builder image is golang:{release}"
            )),
        );
    }
    if !module.dir.is_empty() {
        let mut why = "go.mod is here; the build context is the repository root".to_string();
        if !repository.other_modules.is_empty() {
            why.push_str(&format!(
                " (other modules: {})",
                repository.other_modules.join(", ")
            ));
        }
        table.set("module", Value::Str(module.dir.clone()), Some(why));
    }
    if module.workspace {
        table.comments.push(format!(
            "go.work: a workspace of {}; golb builds in workspace mode.",
            repository.workspace_members.join(", ")
        ));
    }
    if module.vendored {
        table.comments.push(
            "vendor/modules.txt: dependencies come from vendor/ (-mod=vendor); nothing is downloaded.".into(),
        );
    }
}

/// `cgo_package`: the package that makes this binary need cgo, if one does.
fn binary(repository: &Repository, main: &MainPackage, cgo_package: Option<&String>) -> Table {
    let mut table = Table::array("binary");
    table.set(
        "package",
        Value::Str(main.package.clone()),
        Some(format!("package main ({})", main.file)),
    );
    let default_name = if main.package == "." {
        repository.module.default_binary_name()
    } else {
        main.package
            .rsplit('/')
            .next()
            .unwrap_or(&main.package)
            .to_string()
    };
    if main.name != default_name {
        table.set(
            "name",
            Value::Str(main.name.clone()),
            Some("another binary has the same last path element".into()),
        );
    }
    if let Some(flags) = stamp_flags(main) {
        let found: Vec<&str> = main.stamps.iter().map(|s| s.found_at.as_str()).collect();
        table
            .comments
            .push(format!("Stamps the variables at {}.", found.join(", ")));
        let mut args = Vec::new();
        if main.stamps.iter().any(|s| s.arg == StampArg::Version) {
            args.push("--build-arg VERSION=… (default \"dev\")");
        }
        if main.stamps.iter().any(|s| s.arg == StampArg::Revision) {
            args.push("the commit buildx sends for a git checkout");
        }
        table.set("ldflags", Value::Strs(vec![flags]), Some(args.join("; ")));
    }
    if let Some(package) = cgo_package {
        // With CGO_ENABLED=0 Go leaves its C out, or builds a stub that fails at run time.
        table.comments.push(format!(
            "{package} compiles C (import \"C\"): cgo needs a glibc base."
        ));
        table.set(
            "cgo",
            Value::Bool(true),
            Some("CGO_ENABLED=1: the builder's gcc compiles the C".into()),
        );
    }
    let embeds: Vec<String> = repository
        .embeds
        .iter()
        .filter(|e| e.dir == main.dir)
        .map(detect::Embed::describe)
        .collect();
    if !embeds.is_empty() {
        table.comments.push(format!(
            "Embeds {} with //go:embed: compiled into the binary, nothing to declare.",
            embeds.join(", ")
        ));
    }
    table
}

/// The `-X` flags that stamp a main package's version variables, if it has any.
pub fn stamp_flags(main: &MainPackage) -> Option<String> {
    let flags: Vec<String> = main
        .stamps
        .iter()
        .map(|s| format!("-X {}=${{{}}}", s.symbol, s.arg.build_arg()))
        .collect();
    (!flags.is_empty()).then(|| flags.join(" "))
}

/// The binary that starts, when there are several: the one named like the
/// module (the module root's, or cmd/<module name>), else a conventional
/// server name, else the first, and the comment asks to check.
fn entrypoint(mains: &[MainPackage], module_name: &str) -> Option<(String, String)> {
    if mains.len() < 2 {
        return None;
    }
    let names: Vec<&str> = mains.iter().map(|m| m.name.as_str()).collect();
    let conventional = ["server", "api", "app", "service", "daemon"];
    let (chosen, why) = if let Some(m) = mains.iter().find(|m| m.name == module_name) {
        (m, "named like the module".to_string())
    } else if let Some(m) = conventional
        .iter()
        .find_map(|c| mains.iter().find(|m| m.name == *c))
    {
        (m, "the usual name of what an image runs".to_string())
    } else {
        (
            &mains[0],
            "the first: golb cannot tell which one starts, so check this".to_string(),
        )
    };
    Some((
        chosen.name.clone(),
        format!(
            "{} binaries ({}): starts {}, {why}",
            mains.len(),
            names.join(", "),
            chosen.name
        ),
    ))
}

/// `glibc`: a binary is built with cgo, so the base must have the C library it links.
fn runtime(
    repository: &Repository,
    entrypoint: Option<(String, String)>,
    glibc: bool,
    draft: &mut Draft,
) {
    let table = draft.table("runtime");
    if glibc {
        table.set(
            "base",
            Value::Str(cgo::GLIBC_BASE.to_string()),
            Some("a cgo binary needs glibc at run time".into()),
        );
    }
    if let Some((name, why)) = entrypoint {
        table.set(
            "entrypoint",
            Value::Strs(vec![format!("/usr/local/bin/{name}")]),
            Some(why),
        );
    }
    let mut ports: Vec<(u16, String)> = repository
        .mains
        .iter()
        .flat_map(|m| m.ports.iter().cloned())
        .collect();
    ports.sort();
    ports.dedup_by_key(|(port, _)| *port);
    if ports.is_empty() {
        table.suggest(
            "expose",
            Value::Mixed(vec![Value::Int(8080)]),
            Some("the ports the service listens on (documentation only)".into()),
        );
    } else {
        let found: Vec<String> = ports
            .iter()
            .map(|(p, at)| format!(":{p} at {at}"))
            .collect();
        table.set(
            "expose",
            Value::Mixed(
                ports
                    .iter()
                    .map(|(p, _)| Value::Int(i64::from(*p)))
                    .collect(),
            ),
            Some(format!("the code names {}", found.join(", "))),
        );
    }
    table.suggest(
        "env",
        Value::Map(vec![("LOG_LEVEL".into(), "info".into())]),
        Some("environment of the container".into()),
    );
    table.comments.push(if glibc {
        "The image runs as 65532.".into()
    } else {
        "The base defaults to gcr.io/distroless/static-debian12:nonroot; the image runs as 65532."
            .into()
    });
}

/// A .dockerignore for a Go repository: what no Go build reads. Entries an
/// `//go:embed` pattern or vendor/ reaches into are left out.
pub fn dockerignore(repository: &Repository) -> String {
    let candidates = [
        ".git",
        ".github",
        ".idea",
        ".vscode",
        "**/.DS_Store",
        "bin",
        "dist",
        "node_modules",
        "*.test",
        "*.out",
    ];
    let embedded: Vec<String> = repository
        .embeds
        .iter()
        .flat_map(|e| {
            e.directive
                .patterns
                .iter()
                .map(move |p| crate::go_module::join(&e.dir, p.trim_start_matches("all:")))
        })
        .collect();
    let mut out = String::from(
        "# Written by golb init: files no Go build reads stay on your machine.\n\
         # golb reads only go.mod/go.sum and the module's directories; this makes the context smaller.\n",
    );
    for entry in candidates {
        let plain = entry.trim_start_matches("**/");
        let used = embedded
            .iter()
            .any(|e| e == plain || e.starts_with(&format!("{plain}/")));
        if used {
            out.push_str(&format!("# {entry}   (kept: //go:embed reads it)\n"));
        } else {
            out.push_str(entry);
            out.push('\n');
        }
    }
    out
}

/// The command that builds the spec, from the directory init ran in.
pub fn build_command(repository: &Repository, dir: &Path) -> String {
    let name = repository.module.default_binary_name();
    let mut command = String::from("docker buildx build");
    let spec = dir.join(SPEC_FILE);
    command.push_str(&format!(" -f {}", spec.display()));
    if !repository.private.is_empty() {
        command.push_str(" --secret id=netrc,src=$HOME/.netrc");
    }
    let stamps_version = repository
        .mains
        .iter()
        .any(|m| m.stamps.iter().any(|s| s.arg == StampArg::Version));
    if stamps_version {
        command.push_str(" --build-arg VERSION=$(git describe --tags --always)");
    }
    command.push_str(&format!(" -t {name}:dev {}", dir.display()));
    command
}

#[cfg(test)]
mod tests;
