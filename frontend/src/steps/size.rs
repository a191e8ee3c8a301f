//! `golb step size`: reads built binaries (and optionally their unstripped
//! twins and the files their packages embed), attributes their bytes
//! (`crate::size`) and writes the report files. Prints a one-line summary
//! per binary, for the build output.

use super::embedded;
use crate::go_binary::buildinfo::BuildInfo;
use crate::size::gate::{self, Budget, ImageSize};
use crate::size::{self, names::Modules, render, EmbeddedFile, SizeReport};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct SizeArgs {
    /// A built binary; its file name is its name in the report. Repeatable.
    #[arg(long = "binary", value_name = "PATH", required = true)]
    pub binaries: Vec<PathBuf>,
    /// An unstripped twin (same build without -s -w) of the binary with the same file name.
    #[arg(long = "twin", value_name = "PATH")]
    pub twins: Vec<PathBuf>,
    /// The main module's path; default: each binary's build info.
    #[arg(long, value_name = "PATH")]
    pub main_module: Option<String>,
    /// A dependency module's path, from the build info. Repeatable.
    #[arg(long = "module", value_name = "PATH")]
    pub modules: Vec<String>,
    /// A file embedded by a package, as PACKAGE=FILE with the package named as
    /// the linker names it (`main` for a main package). Repeatable.
    #[arg(long = "embed", value_name = "PACKAGE=FILE", value_parser = parse_embed)]
    pub embeds: Vec<(String, PathBuf)>,
    /// The directory of a package (named by its import path) whose
    /// `--embed-pattern`s are resolved there. Repeatable.
    #[arg(long = "embed-root", value_name = "PACKAGE=DIR", value_parser = parse_embed)]
    pub embed_roots: Vec<(String, PathBuf)>,
    /// A `//go:embed` pattern of a package `--embed-root` places, resolved as
    /// `go build` does (`all:` kept). The package is named by its import path;
    /// in the binary whose main package it is, it is `main`. Repeatable.
    #[arg(long = "embed-pattern", value_name = "PACKAGE=PATTERN", value_parser = parse_pattern)]
    pub embed_patterns: Vec<(String, String)>,
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The gate and the build-output summary: the image's files, its base's, the budgets.
    #[command(flatten)]
    pub image: ImageArgs,
}

/// What the size step knows of the image around the binaries.
#[derive(Debug, Default, clap::Args)]
pub struct ImageArgs {
    /// The whole image's filesystem (its uncompressed bytes are its files').
    #[arg(long, value_name = "DIR")]
    pub image_root: Option<PathBuf>,
    /// The base's filesystem; golb's layers are the image less the base.
    #[arg(long, value_name = "DIR")]
    pub base_root: Option<PathBuf>,
    /// The baseline image's filesystem (its binaries in usr/local/bin are attributed too).
    #[arg(long, value_name = "DIR")]
    pub baseline_root: Option<PathBuf>,
    #[arg(long, value_name = "BYTES")]
    pub max_image: Option<u64>,
    #[arg(long, value_name = "BYTES")]
    pub max_layer: Option<u64>,
    #[arg(long, value_name = "BYTES")]
    pub max_growth: Option<u64>,
    /// Where the summary goes (also printed).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Where the gate's verdict goes: empty when within budget, else why not.
    #[arg(long, value_name = "FILE")]
    pub gate: Option<PathBuf>,
}

fn parse_embed(pair: &str) -> Result<(String, PathBuf), String> {
    pair.split_once('=')
        .filter(|(p, f)| !p.is_empty() && !f.is_empty())
        .map(|(p, f)| (p.to_string(), PathBuf::from(f)))
        .ok_or_else(|| format!("{pair:?}: write it as PACKAGE=FILE"))
}

fn parse_pattern(pair: &str) -> Result<(String, String), String> {
    pair.split_once('=')
        .filter(|(p, f)| !p.is_empty() && !f.is_empty())
        .map(|(p, f)| (p.to_string(), f.to_string()))
        .ok_or_else(|| format!("{pair:?}: write it as PACKAGE=PATTERN"))
}

/// The files `--embed-pattern`s name, each under its package's import path.
fn pattern_files(args: &SizeArgs) -> Result<Vec<EmbeddedFile>, String> {
    let mut files = Vec::new();
    for (package, pattern) in &args.embed_patterns {
        let root = args
            .embed_roots
            .iter()
            .find(|(p, _)| p == package)
            .map(|(_, dir)| dir)
            .ok_or_else(|| {
                format!("--embed-pattern {package}={pattern}: no --embed-root for {package}")
            })?;
        for name in embedded::files(root, pattern).map_err(|e| e.to_string())? {
            // Two patterns of one package may name the same file: Go embeds it once.
            if files
                .iter()
                .any(|f: &EmbeddedFile| f.package == *package && f.path == name)
            {
                continue;
            }
            files.push(EmbeddedFile {
                package: package.clone(),
                content: read(&root.join(&name))?,
                path: name,
            });
        }
    }
    Ok(files)
}

/// The embedded files as one binary's linker names their packages: its
/// own main package is `main`; another binary's main package is not linked
/// into it, so its files are left out (the same bytes must not be claimed
/// by a package the binary does not have).
fn embedded_in(
    files: &[EmbeddedFile],
    own_main: Option<&str>,
    mains: &[Option<String>],
) -> Vec<EmbeddedFile> {
    files
        .iter()
        .filter_map(|file| {
            if own_main == Some(file.package.as_str()) {
                Some(EmbeddedFile {
                    package: "main".into(),
                    ..file.clone()
                })
            } else if mains.iter().flatten().any(|m| *m == file.package) {
                None
            } else {
                Some(file.clone())
            }
        })
        .collect()
}

/// The import path of a binary's main package, from its build info.
fn main_package(path: &Path) -> Option<String> {
    let binary = std::fs::read(path).ok()?;
    BuildInfo::read(&binary).ok().map(|info| info.path)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Attributes every binary; writes the requested files; returns the summary.
pub fn run(args: &SizeArgs) -> Result<String, String> {
    let mut embedded = Vec::new();
    for (package, path) in &args.embeds {
        embedded.push(EmbeddedFile {
            package: package.clone(),
            path: path.display().to_string(),
            content: read(path)?,
        });
    }
    let from_patterns = pattern_files(args)?;
    let mains: Vec<Option<String>> = match from_patterns.is_empty() {
        true => args.binaries.iter().map(|_| None).collect(),
        false => args.binaries.iter().map(|p| main_package(p)).collect(),
    };
    let mut reports = Vec::new();
    for (path, main) in args.binaries.iter().zip(&mains) {
        let twin = args.twins.iter().find(|t| file_name(t) == file_name(path));
        let mut files = embedded.clone();
        files.extend(embedded_in(&from_patterns, main.as_deref(), &mains));
        reports.push(report_of(args, path, twin.map(PathBuf::as_path), &files)?);
    }
    for (path, text) in [
        (
            &args.json,
            args.json.as_ref().map(|_| render::json(&reports)),
        ),
        (
            &args.markdown,
            args.markdown.as_ref().map(|_| render::markdown(&reports)),
        ),
        (
            &args.html,
            args.html.as_ref().map(|_| render::html(&reports)),
        ),
    ] {
        if let (Some(path), Some(text)) = (path, text) {
            write_atomically(path, text.as_bytes())?;
        }
    }
    let mut text: String = reports.iter().map(summary).collect();
    if let Some(root) = &args.image.image_root {
        let (current, verdict) = gate(args, root, reports)?;
        text = format!(
            "image {} uncompressed: base {}, golb's layers {}\n{text}",
            render::human(current.base_bytes + current.golb_layer_bytes),
            render::human(current.base_bytes),
            render::human(current.golb_layer_bytes),
        );
        if let Some(path) = &args.image.gate {
            write_atomically(path, verdict.as_bytes())?;
        }
        if !verdict.is_empty() {
            text.push_str(&verdict);
            text.push('\n');
        }
    }
    if let Some(path) = &args.image.summary {
        write_atomically(path, text.as_bytes())?;
    }
    Ok(text)
}

/// One binary's report; the modules from its build info unless given.
fn report_of(
    args: &SizeArgs,
    path: &Path,
    twin: Option<&Path>,
    embedded: &[EmbeddedFile],
) -> Result<SizeReport, String> {
    let name = file_name(path);
    let binary = read(path)?;
    let twin = match twin {
        Some(twin) => Some(read(twin)?),
        None => None,
    };
    let (main, dependencies) = match &args.main_module {
        Some(main) => (main.clone(), args.modules.clone()),
        None => {
            let info = BuildInfo::read(&binary).map_err(|e| format!("{name}: {e}"))?;
            let main = info.main.map(|m| m.path).unwrap_or(info.path);
            (main, info.deps.into_iter().map(|m| m.path).collect())
        }
    };
    let mut report = size::attribute(&size::Input {
        name: &name,
        binary: &binary,
        modules: Modules {
            main: &main,
            dependencies: &dependencies,
        },
        twin: twin.as_deref(),
        embedded,
    })
    .map_err(|e| e.to_string())?;
    keep_relevant_misses(&mut report);
    Ok(report)
}

/// The image's figures and the gate's verdict ("" within budget).
fn gate(
    args: &SizeArgs,
    image_root: &Path,
    reports: Vec<SizeReport>,
) -> Result<(ImageSize, String), String> {
    let image_bytes = tree_bytes(image_root)?;
    let base_bytes = match &args.image.base_root {
        Some(base) => tree_bytes(base)?,
        None => 0,
    };
    let current = ImageSize {
        base_bytes,
        golb_layer_bytes: image_bytes.saturating_sub(base_bytes),
        reports,
    };
    let baseline = match &args.image.baseline_root {
        Some(root) => Some(baseline(args, root)?),
        None => None,
    };
    let budget = Budget {
        max_image: args.image.max_image,
        max_layer: args.image.max_layer,
        max_growth: args.image.max_growth,
    };
    let verdict = match gate::check(&current, baseline.as_ref(), &budget) {
        Ok(()) => String::new(),
        Err(errors) => gate::message(&errors),
    };
    Ok((current, verdict))
}

/// The baseline image's size, with reports of its Go binaries.
fn baseline(args: &SizeArgs, root: &Path) -> Result<ImageSize, String> {
    let mut reports = Vec::new();
    let bin = root.join(crate::go_build::BINARY_DIR.trim_start_matches('/'));
    let mut names: Vec<PathBuf> = std::fs::read_dir(&bin)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    for path in names {
        // Not every file of a baseline is a Go binary golb can read.
        if let Ok(report) = report_of(args, &path, None, &[]) {
            reports.push(report);
        }
    }
    Ok(ImageSize {
        base_bytes: tree_bytes(root)?,
        golb_layer_bytes: 0,
        reports,
    })
}

/// Uncompressed bytes of a filesystem: its regular files' sizes.
fn tree_bytes(root: &Path) -> Result<u64, String> {
    let mut total = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let meta = entry
                .metadata()
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if meta.is_dir() {
                dirs.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// An embedded file missing from a binary is news only when the embedding
/// package is linked into it: every binary has a `main`, not every binary
/// links every package.
fn keep_relevant_misses(report: &mut SizeReport) {
    let linked: Vec<String> = report
        .owners
        .iter()
        .flat_map(|o| o.packages.iter().map(|p| p.package.clone()))
        .collect();
    report.embedded_not_found.retain(|miss| {
        let package = miss.split(": ").next().unwrap_or("");
        package != "main" && linked.iter().any(|p| p == package)
    });
}

/// `server 13.7 MB: standard library 6.1 MB, google.golang.org/grpc 1.2 MB, …`
pub fn summary(report: &SizeReport) -> String {
    let parts: Vec<String> = report
        .owners
        .iter()
        .take(4)
        .map(|o| {
            let name = if o.kind == size::OwnerKind::StandardLibrary {
                "standard library"
            } else {
                &o.name
            };
            format!("{name} {}", render::human(o.bytes))
        })
        .collect();
    format!(
        "{} {}: {}{}\n",
        report.binary,
        render::human(report.file_bytes),
        parts.join(", "),
        if report.owners.len() > 4 { ", …" } else { "" }
    )
}

/// Never a half-written report: write beside it, then rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("golb-tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: {e}", path.display())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::size::testbin::{go_build, modules, repo};

    #[test]
    fn writes_the_three_files_and_a_summary() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let binary = dir.join("site");
        let module = repo().join("examples/assets");
        std::fs::write(&binary, go_build(&module, "./cmd/site", true, "")).unwrap();
        let (main, modules) = modules(&std::fs::read(&binary).unwrap());
        let page = module.join("cmd/site/static/index.html");
        let args = SizeArgs {
            binaries: vec![binary],
            twins: vec![],
            main_module: Some(main),
            modules,
            embeds: vec![("main".into(), page.clone())],
            embed_roots: vec![],
            embed_patterns: vec![],
            json: Some(dir.join("size.json")),
            markdown: Some(dir.join("size.md")),
            html: Some(dir.join("size.html")),
            image: ImageArgs::default(),
        };
        let summary = run(&args).unwrap();
        assert!(summary.starts_with("site "), "{summary}");
        assert!(summary.contains("standard library"), "{summary}");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("size.json")).unwrap()).unwrap();
        let main_module = &json["binaries"][0]["owners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "main-module")
            .unwrap()["packages"][0];
        assert_eq!(
            main_module["embedded"],
            std::fs::metadata(&page).unwrap().len()
        );
        assert!(std::fs::read_to_string(dir.join("size.md"))
            .unwrap()
            .starts_with("### `site`"));
        assert!(std::fs::read_to_string(dir.join("size.html"))
            .unwrap()
            .contains("<svg"));
        // No temporary file is left beside the outputs.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 4, "{left:?}");
    }

    /// The size target's form: the package's directory and its patterns,
    /// named by import path; the binary's own main package becomes `main`,
    /// another binary's main package is left out.
    #[test]
    fn embed_patterns_are_resolved_and_named_as_the_linker_names_them() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        let binary = dir.join("site");
        let module = repo().join("examples/assets");
        std::fs::write(&binary, go_build(&module, "./cmd/site", true, "")).unwrap();
        let page = module.join("cmd/site/static/index.html");
        let site = "example.com/assets/cmd/site".to_string();
        let args = SizeArgs {
            binaries: vec![binary],
            twins: vec![],
            main_module: None,
            modules: vec![],
            embeds: vec![],
            embed_roots: vec![
                (site.clone(), module.join("cmd/site")),
                (
                    "example.com/assets/cmd/other".into(),
                    module.join("cmd/site"),
                ),
            ],
            embed_patterns: vec![
                (site.clone(), "static".into()),
                (site.clone(), "static/*.html".into()),
            ],
            json: Some(dir.join("size.json")),
            markdown: None,
            html: None,
            image: ImageArgs::default(),
        };
        run(&args).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("size.json")).unwrap()).unwrap();
        let report = &json["binaries"][0];
        let main = report["owners"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["packages"].as_array().unwrap())
            .find(|p| p["package"] == "main")
            .unwrap();
        let bytes = std::fs::metadata(&page).unwrap().len();
        assert_eq!(main["embedded"], bytes, "{main}");
        assert_eq!(main["embedded_files"][0]["name"], "static/index.html");
        assert_eq!(report["embedded_not_found"], serde_json::json!([]));

        // Another binary's main package is not linked here.
        let files = [EmbeddedFile {
            package: "example.com/x/cmd/b".into(),
            path: "a.txt".into(),
            content: b"a".to_vec(),
        }];
        let mains = [
            Some("example.com/x/cmd/a".to_string()),
            Some("example.com/x/cmd/b".to_string()),
        ];
        assert!(embedded_in(&files, mains[0].as_deref(), &mains).is_empty());
        assert_eq!(
            embedded_in(&files, mains[1].as_deref(), &mains)[0].package,
            "main"
        );
        assert_eq!(
            embedded_in(&files, None, &[None])[0].package,
            "example.com/x/cmd/b"
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        assert!(parse_embed("main").unwrap_err().contains("PACKAGE=FILE"));
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        std::fs::write(dir.join("script"), "#!/bin/sh\n").unwrap();
        let args = SizeArgs {
            binaries: vec![dir.join("script")],
            twins: vec![],
            main_module: Some("example.com/x".into()),
            modules: vec![],
            embeds: vec![],
            embed_roots: vec![],
            embed_patterns: vec![],
            json: Some(dir.join("size.json")),
            markdown: None,
            html: None,
            image: ImageArgs::default(),
        };
        let err = run(&args).unwrap_err();
        assert!(err.starts_with("script: not an ELF file"), "{err}");
        assert!(!dir.join("size.json").exists());
    }
}
