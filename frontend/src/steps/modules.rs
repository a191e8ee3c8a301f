//! `golb step modules`: `go mod download` whose result is a snapshot, not
//! only a cache mount.
//!
//! Why: BuildKit exports exec outputs with `--cache-to … mode=max` but never
//! cache mounts. When the download step is a cache hit imported from a
//! registry, a module cache *mount* it once filled on another machine is
//! empty here, and a `go build` without network then fails. So the modules
//! the build needs are written to the step's output directory, which travels
//! with the cache and which the Go steps mount read-only as GOMODCACHE.
//!
//! Two runs of `go`, because Go has no "download into two places":
//! 1. `go mod download` into the builder's shared module cache (a cache
//!    mount): the network and the credentials are used here only, and only
//!    for modules this builder has never fetched;
//! 2. `go mod download` into the output, from the first run's download
//!    directory as a `file://` proxy: exactly the modules this build needs,
//!    checked against go.sum again, no network.
//!
//! The output then drops what `go build` never reads (the zips, whose
//! `.ziphash` stays for go.sum checks, VCS clones, and the modules' own
//! `_test.go` files), halving what the cache exports. Go checks a module in
//! its cache by the `.ziphash` against go.sum, never by the files of its
//! directory, and compiles no dependency's tests (`go test` and `go vet`
//! run on the module's own packages). `testdata/` stays: a non-test file
//! may `//go:embed` from it.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Debug)]
pub struct ModulesStep {
    /// The builder's shared module cache (a cache mount).
    pub shared: PathBuf,
    /// The step's output: a module cache holding exactly this build's modules.
    pub snapshot: PathBuf,
    /// The `go` command to run (from PATH in the builder).
    pub go: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ModulesError {
    #[error("cannot start {go}: {source}")]
    Start {
        go: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`go mod download` failed ({0}); its messages are above")]
    Download(std::process::ExitStatus),
    #[error("copying the modules into the step's output failed ({0}); go's messages are above")]
    Copy(std::process::ExitStatus),
    #[error("pruning {path}: {source}")]
    Prune {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ModulesStep {
    pub fn run(&self) -> Result<(), ModulesError> {
        let status = self
            .go_command()
            .args(["mod", "download"])
            .env("GOMODCACHE", &self.shared)
            .status()
            .map_err(|e| self.start_error(e))?;
        if !status.success() {
            return Err(ModulesError::Download(status));
        }
        let status = self
            .go_command()
            .args(["mod", "download"])
            .envs(copy_env(&self.shared, &self.snapshot))
            // Credentials served the first run; the copy needs none.
            .env_remove("NETRC")
            .env_remove("SSH_AUTH_SOCK")
            .status()
            .map_err(|e| self.start_error(e))?;
        if !status.success() {
            return Err(ModulesError::Copy(status));
        }
        let pruned = prune(&self.snapshot)?;
        // The step's log says it ran, and what it hands on.
        eprintln!(
            "golb step modules: {} modules with their sources in the step's output ({} test files left out)",
            count_with_suffix(&self.snapshot.join("cache/download"), ".ziphash"),
            pruned.test_files
        );
        Ok(())
    }

    fn go_command(&self) -> Command {
        Command::new(&self.go)
    }

    fn start_error(&self, source: std::io::Error) -> ModulesError {
        ModulesError::Start {
            go: self.go.display().to_string(),
            source,
        }
    }
}

/// The environment of the second run: the first run's downloads as the only
/// proxy, for every module (GONOPROXY=none overrides a GOPRIVATE that would
/// send private modules to their VCS), and no checksum database: go.sum has
/// been checked against it by the first run and is checked again here.
pub fn copy_env(shared: &Path, snapshot: &Path) -> Vec<(String, String)> {
    vec![
        ("GOMODCACHE".into(), snapshot.display().to_string()),
        (
            "GOPROXY".into(),
            format!("file://{}/cache/download", shared.display()),
        ),
        ("GONOPROXY".into(), "none".into()),
        ("GOPRIVATE".into(), String::new()),
        ("GONOSUMDB".into(), String::new()),
        ("GOSUMDB".into(), "off".into()),
    ]
}

/// How many files below `dir` end with `suffix`.
fn count_with_suffix(dir: &Path, suffix: &str) -> usize {
    let mut count = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(_) if entry.file_name().to_string_lossy().ends_with(suffix) => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// What [`prune`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub test_files: usize,
}

/// Removes from a module cache what `go build` does not read.
pub fn prune(modcache: &Path) -> Result<Pruned, ModulesError> {
    for dir in ["cache/vcs", "cache/download/sumdb"] {
        let path = modcache.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| prune_error(&path, e))?;
        }
    }
    remove_files(&modcache.join("cache/download"), |name| {
        name.ends_with(".zip")
    })?;
    let mut test_files = 0;
    for entry in std::fs::read_dir(modcache).map_err(|e| prune_error(modcache, e))? {
        let entry = entry.map_err(|e| prune_error(modcache, e))?;
        if entry.file_name() != "cache" && entry.file_type().is_ok_and(|t| t.is_dir()) {
            test_files += remove_files(&entry.path(), |name| name.ends_with("_test.go"))?;
        }
    }
    Ok(Pruned { test_files })
}

fn prune_error(path: &Path, source: std::io::Error) -> ModulesError {
    ModulesError::Prune {
        path: path.display().to_string(),
        source,
    }
}

/// Removes the files below `dir` whose names `unwanted` picks; returns how
/// many. Go extracts modules read-only (directories 0555): a directory is
/// made writable for the removal and given its mode back, so the snapshot's
/// modes stay what Go made them, whoever runs the step.
fn remove_files(dir: &Path, unwanted: impl Fn(&str) -> bool) -> Result<usize, ModulesError> {
    use std::os::unix::fs::PermissionsExt;
    let mut removed = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut doomed = Vec::new();
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(kind) if kind.is_file() && unwanted(&entry.file_name().to_string_lossy()) => {
                    doomed.push(entry.path())
                }
                _ => {}
            }
        }
        if doomed.is_empty() {
            continue;
        }
        let mode = std::fs::metadata(&dir)
            .map_err(|e| prune_error(&dir, e))?
            .permissions();
        let writable = std::fs::Permissions::from_mode(mode.mode() | 0o200);
        std::fs::set_permissions(&dir, writable).map_err(|e| prune_error(&dir, e))?;
        for path in &doomed {
            std::fs::remove_file(path).map_err(|e| prune_error(path, e))?;
        }
        std::fs::set_permissions(&dir, mode).map_err(|e| prune_error(&dir, e))?;
        removed += doomed.len();
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_reads_only_the_first_runs_downloads() {
        let env = copy_env(Path::new("/go/pkg/mod"), Path::new("/golb/modules"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GOPROXY"), Some("file:///go/pkg/mod/cache/download"));
        assert_eq!(get("GOMODCACHE"), Some("/golb/modules"));
        assert_eq!(get("GONOPROXY"), Some("none"));
        assert_eq!(get("GOSUMDB"), Some("off"));
    }

    #[test]
    fn pruning_keeps_sources_hashes_and_testdata_and_drops_zips_clones_and_tests() {
        let root = std::env::temp_dir().join(format!("golb-modules-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let v = root.join("cache/download/example.com/m/@v");
        std::fs::create_dir_all(&v).unwrap();
        for f in ["v1.0.0.zip", "v1.0.0.ziphash", "v1.0.0.mod", "v1.0.0.info"] {
            std::fs::write(v.join(f), f).unwrap();
        }
        std::fs::create_dir_all(root.join("cache/vcs/abc")).unwrap();
        let m = root.join("example.com/m@v1.0.0");
        std::fs::create_dir_all(m.join("sub/testdata")).unwrap();
        for (f, text) in [
            ("m.go", "package m"),
            ("m_test.go", "package m"),
            ("sub/s.go", "package sub"),
            ("sub/s_test.go", "package sub_test"),
            ("sub/testdata/golden.txt", "embedded by s.go, say"),
        ] {
            std::fs::write(m.join(f), text).unwrap();
        }
        // As Go leaves them: read-only directories.
        use std::os::unix::fs::PermissionsExt;
        let read_only = std::fs::Permissions::from_mode(0o555);
        for dir in [m.join("sub"), m.clone()] {
            std::fs::set_permissions(&dir, read_only.clone()).unwrap();
        }
        let pruned = prune(&root).unwrap();
        assert_eq!(pruned, Pruned { test_files: 2 });
        assert!(!v.join("v1.0.0.zip").exists());
        for kept in ["v1.0.0.ziphash", "v1.0.0.mod", "v1.0.0.info"] {
            assert!(v.join(kept).exists(), "{kept}");
        }
        assert!(!root.join("cache/vcs").exists());
        for kept in ["m.go", "sub/s.go", "sub/testdata/golden.txt"] {
            assert!(m.join(kept).exists(), "{kept}");
        }
        for gone in ["m_test.go", "sub/s_test.go"] {
            assert!(!m.join(gone).exists(), "{gone}");
        }
        for dir in [m.join("sub"), m.clone()] {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o555, "{}", dir.display());
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
