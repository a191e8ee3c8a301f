//! `golb step goroot`: copies the part of a Go distribution that a compile
//! reads (what `go_build::goroot_keeps` keeps) to a new place.
//!
//! Why: `go build` runs on this copy instead of the builder image, so a fresh
//! CI runner imports the copy from the cache and never pulls the builder
//! (docs/design.md, "The builder on a fresh runner"). It is a step rather
//! than a file op because BuildKit keys a file op's copy on a hash of every
//! file it selects: on a cold build that meant reading and hashing the
//! distribution beside the dependency compile, then copying it.
//!
//! The copy keeps each file's mode and modification time, and each
//! directory's time, as a file op's copy does: the snapshot's content, and
//! so the layer a `--cache-to` exports, depends on the distribution alone.

use std::fs;
use std::path::{Path, PathBuf};

use crate::go_build;

#[derive(Debug, thiserror::Error)]
pub enum GorootError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a Go distribution: it has no bin/go")]
    NotGoroot(PathBuf),
}

/// What was copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub files: u64,
    pub bytes: u64,
}

/// Copies what `go_build::goroot_keeps` keeps of the distribution at `from`
/// to `to`, which is created.
pub fn copy(from: &Path, to: &Path) -> Result<Copied, GorootError> {
    if !from.join("bin/go").is_file() {
        return Err(GorootError::NotGoroot(from.to_path_buf()));
    }
    let mut copied = Copied::default();
    copy_dir(from, to, "", &mut copied)?;
    Ok(copied)
}

/// Copies the kept entries of `from` (at `relative` in the distribution) into
/// `to`, then gives `to` the mode and time of `from`.
fn copy_dir(
    from: &Path,
    to: &Path,
    relative: &str,
    copied: &mut Copied,
) -> Result<(), GorootError> {
    let read = |source| GorootError::Read {
        path: from.to_path_buf(),
        source,
    };
    let write = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GorootError::Write { path, source }
    };
    let meta = fs::metadata(from).map_err(read)?;
    fs::create_dir_all(to).map_err(write(to))?;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(from)
        .map_err(read)?
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            // The distribution names its files in ASCII; nothing else is Go's.
            continue;
        };
        let path = if relative.is_empty() {
            name.to_string()
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type().map_err(read)?;
        let source = entry.path();
        let dest = to.join(name);
        if kind.is_dir() {
            if go_build::goroot_keeps(&path, true) {
                copy_dir(&source, &dest, &path, copied)?;
            }
        } else if go_build::goroot_keeps(&path, false) {
            if kind.is_symlink() {
                let target = fs::read_link(&source).map_err(|source| GorootError::Read {
                    path: entry.path(),
                    source,
                })?;
                std::os::unix::fs::symlink(target, &dest).map_err(write(&dest))?;
            } else {
                copied.bytes += copy_file(&source, &dest)?;
                copied.files += 1;
            }
        }
    }
    // The mode last, so that a read-only directory is still filled.
    fs::set_permissions(to, meta.permissions()).map_err(write(to))?;
    set_modified(to, &meta).map_err(write(to))
}

/// Copies one file with its mode (`fs::copy`, which lets the kernel copy) and
/// its modification time.
fn copy_file(from: &Path, to: &Path) -> Result<u64, GorootError> {
    let bytes = fs::copy(from, to).map_err(|source| GorootError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    let meta = fs::metadata(from).map_err(|source| GorootError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    set_modified(to, &meta).map_err(|source| GorootError::Write {
        path: to.to_path_buf(),
        source,
    })?;
    Ok(bytes)
}

/// Gives `path` (a file or directory) the modification time in `meta`. A
/// directory opened read-only takes a time too: futimens needs ownership,
/// not write access.
fn set_modified(path: &Path, meta: &fs::Metadata) -> std::io::Result<()> {
    let modified = meta.modified()?;
    fs::File::open(path)?.set_modified(modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, SystemTime};

    fn write(root: &Path, path: &str, text: &str) {
        let file = root.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }

    fn listing(root: &Path) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out.sort();
        out
    }

    #[test]
    fn copies_what_a_compile_reads_with_modes_and_times() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let root = from.path();
        for path in [
            "VERSION",
            "go.env",
            "bin/go",
            "bin/gofmt",
            "pkg/include/textflag.h",
            "pkg/tool/linux_amd64/compile",
            "pkg/tool/linux_amd64/vet",
            "lib/fips140/v1.0.0.zip",
            "src/fmt/print.go",
            "src/fmt/fmt_test.go",
            "src/cmd/go/main.go",
            "src/net/testdata/hosts",
            "src/runtime/race/race_linux_amd64.syso",
            "src/runtime/asm_amd64.s",
            "test/bench/x.go",
            "api/go1.txt",
        ] {
            write(root, path, path);
        }
        fs::set_permissions(root.join("bin/go"), fs::Permissions::from_mode(0o755)).unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        fs::File::open(root.join("src/fmt/print.go"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::File::open(root.join("src/fmt"))
            .unwrap()
            .set_modified(old)
            .unwrap();

        let dest = to.path().join("usr/local/go");
        let copied = copy(root, &dest).unwrap();

        assert_eq!(
            listing(&dest),
            [
                "VERSION",
                "bin/go",
                "go.env",
                "lib/fips140/v1.0.0.zip",
                "pkg/include/textflag.h",
                "pkg/tool/linux_amd64/compile",
                "src/fmt/print.go",
                "src/runtime/asm_amd64.s",
            ]
        );
        assert_eq!(copied.files, 8);
        let mode = fs::metadata(dest.join("bin/go"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        let time = |p: &str| fs::metadata(dest.join(p)).unwrap().modified().unwrap();
        assert_eq!(time("src/fmt/print.go"), old);
        assert_eq!(time("src/fmt"), old);
    }

    #[test]
    fn a_directory_without_the_go_command_is_refused_and_nothing_is_written() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        write(from.path(), "src/fmt/print.go", "package fmt");
        let dest = to.path().join("go");
        let err = copy(from.path(), &dest).unwrap_err();
        assert!(err.to_string().contains("no bin/go"), "{err}");
        assert!(!dest.exists());
    }
}
