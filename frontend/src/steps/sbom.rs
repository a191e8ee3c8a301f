//! `golb step sbom`: reads the built binaries, go.sum and the files golb
//! added, and writes the SPDX document `crate::sbom` makes from them.

use std::path::{Path, PathBuf};

use crate::cli::Failure;
use crate::go_binary::BuildInfo;
use crate::go_sum::GoSum;
use crate::image_ref::ImageRef;
use crate::sbom::{self, AddedFile, Binary, SbomInput};

#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// Where to write the SPDX JSON document.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// What the document describes: the image name or the main module path.
    #[arg(long)]
    pub name: String,
    /// The result's platform, e.g. linux/arm64.
    #[arg(long)]
    pub platform: String,
    /// A built binary and its path in the result (repeatable).
    #[arg(long = "binary", value_name = "SRC=DEST", value_parser = super::parse_mapping)]
    pub binaries: Vec<(PathBuf, String)>,
    /// Another file or directory golb added, and its path in the result (repeatable).
    #[arg(long = "file", value_name = "SRC=DEST", value_parser = super::parse_mapping)]
    pub files: Vec<(PathBuf, String)>,
    /// A go.sum of the build: the module's, a workspace member's (repeatable).
    #[arg(long = "go-sum", value_name = "FILE")]
    pub go_sums: Vec<PathBuf>,
    /// The builder image, pinned by digest.
    #[arg(long, value_name = "REF@DIGEST")]
    pub builder: String,
    /// The runtime base image, pinned by digest; omitted for --target binaries.
    #[arg(long, value_name = "REF@DIGEST")]
    pub runtime: Option<String>,
    /// The document's creation time, in seconds since the epoch.
    #[arg(long, default_value_t = 0)]
    pub source_date_epoch: i64,
}

pub fn run(args: &SbomArgs) -> Result<(), Failure> {
    let document = build(args).map_err(Failure::problem)?;
    crate::atomic_file::write(&args.out, &document)
        .map_err(|e| Failure::problem(format!("{}: {e}", args.out.display())))
}

/// The document's bytes, from the files the arguments name.
pub fn build(args: &SbomArgs) -> Result<Vec<u8>, String> {
    let mut binaries = Vec::new();
    for (src, dest) in &args.binaries {
        let bytes = read(src)?;
        let info = BuildInfo::read(&bytes).map_err(|e| format!("{}: {e}", src.display()))?;
        binaries.push(Binary {
            file: AddedFile::new(dest, &bytes),
            info,
        });
    }
    let mut files = Vec::new();
    for (src, dest) in &args.files {
        added_files(src, dest, &mut files)?;
    }
    let mut go_sum = GoSum::default();
    for path in &args.go_sums {
        let text = String::from_utf8(read(path)?)
            .map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        go_sum
            .add(&path.display().to_string(), &text)
            .map_err(|e| e.to_string())?;
    }
    let image = |reference: &str| ImageRef::parse(reference).map_err(|e| e.to_string());
    let builder = image(&args.builder)?;
    let runtime = args.runtime.as_deref().map(image).transpose()?;
    let created = crate::image_config::rfc3339(args.source_date_epoch);
    sbom::document(&SbomInput {
        name: &args.name,
        platform: &args.platform,
        binaries: &binaries,
        files: &files,
        go_sum: &go_sum,
        builder: &builder,
        runtime: runtime.as_ref(),
        created: &created,
    })
    .map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A file, or every regular file below a directory, at `dest` in the result.
fn added_files(src: &Path, dest: &str, out: &mut Vec<AddedFile>) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(src)
            .and_then(|dir| dir.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{}: {e}", src.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                format!("{}: a file name that is not UTF-8", entry.path().display())
            })?;
            added_files(
                &entry.path(),
                &format!("{}/{name}", dest.trim_end_matches('/')),
                out,
            )?;
        }
    } else if meta.is_file() {
        out.push(AddedFile::new(dest, &read(src)?));
    }
    // Symbolic links and special files carry no content of their own.
    Ok(())
}
