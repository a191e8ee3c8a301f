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
//! Go extracts every module's zip again in the second run, which on a
//! go.mod change costs more than the download (heavy: 1.55 s against the
//! Dockerfile's 0.26 s). So before it, the modules the first run reports
//! (`go mod download -json`) are copied from the shared cache, extracted:
//! their directory, then their `.info`, `.mod` and `.ziphash`. Go takes a
//! module directory with its `.ziphash` as downloaded and checks that hash
//! against go.sum, so the second run extracts nothing it finds complete
//! and still fetches, from the first run's downloads, whatever was not
//! copied (a failed copy leaves no `.ziphash`: Go then extracts again).
//!
//! The output then drops what `go build` never reads (the zips, whose
//! `.ziphash` stays for go.sum checks, VCS clones, and the modules' own
//! `_test.go` files), halving what the cache exports. Go checks a module in
//! its cache by the `.ziphash` against go.sum, never by the files of its
//! directory, and compiles no dependency's tests (`go test` and `go vet`
//! run on the module's own packages). `testdata/` stays: a non-test file
//! may `//go:embed` from it.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
        let downloaded = self
            .go_command()
            .args(["mod", "download", "-json"])
            .env("GOMODCACHE", &self.shared)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| self.start_error(e))?;
        let reported = reported_modules(&downloaded.stdout);
        if !downloaded.status.success() {
            // With -json, go says what failed per module on stdout.
            for module in &reported {
                if let Some(error) = &module.error {
                    eprintln!("go: {}@{}: {error}", module.path, module.version);
                }
            }
            return Err(ModulesError::Download(downloaded.status));
        }
        let copied = reported
            .iter()
            .filter(|module| carry(&self.shared, &self.snapshot, module))
            .count();
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
            "golb step modules: {} modules with their sources in the step's output ({copied} copied extracted from the builder's module cache, {} test files left out)",
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

/// A module as `go mod download -json` reports it (cmd/go's `moduleJSON`):
/// paths in the module cache it downloaded into.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reported {
    pub path: String,
    pub version: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub info: Option<PathBuf>,
    #[serde(default)]
    pub go_mod: Option<PathBuf>,
    #[serde(default)]
    pub zip: Option<PathBuf>,
    #[serde(default)]
    pub dir: Option<PathBuf>,
}

/// The modules in go's `-json` output (a stream of objects), as far as it
/// reads: what does not is left to the second run to extract.
pub fn reported_modules(json: &[u8]) -> Vec<Reported> {
    serde_json::Deserializer::from_slice(json)
        .into_iter::<Reported>()
        .map_while(Result::ok)
        .collect()
}

/// Copies a module from the shared cache into the snapshot, extracted: its
/// directory, then its `.info` and `.mod`, and last its `.ziphash`, which
/// makes the directory complete for Go. Whether it was copied whole; a
/// module with an error, without a directory, outside the shared cache or
/// already in the snapshot is not, and a failed copy removes its partial
/// directory (Go would find it partial anyway, and extract the zip).
pub fn carry(shared: &Path, snapshot: &Path, module: &Reported) -> bool {
    let (None, Some(dir), Some(zip)) = (&module.error, &module.dir, &module.zip) else {
        return false;
    };
    let ziphash = zip.with_extension("ziphash");
    let inside = |path: &Path| path.strip_prefix(shared).ok().map(|rel| snapshot.join(rel));
    let (Some(dir_to), Some(ziphash_to)) = (inside(dir), inside(&ziphash)) else {
        return false;
    };
    if dir_to.exists() || !ziphash.is_file() {
        return false;
    }
    let extras: Vec<(&PathBuf, PathBuf)> = [&module.info, &module.go_mod]
        .into_iter()
        .flatten()
        .filter_map(|from| inside(from).map(|to| (from, to)))
        .collect();
    let copied = copy_tree(dir, &dir_to).and_then(|()| {
        for (from, to) in extras
            .iter()
            .map(|(f, t)| (*f, t))
            .chain([(&ziphash, &ziphash_to)])
        {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(from, to)?;
        }
        Ok(())
    });
    match copied {
        Ok(()) => true,
        Err(_) => {
            let _ = make_writable_and_remove(&dir_to);
            let _ = std::fs::remove_file(&ziphash_to);
            false
        }
    }
}

/// Copies the tree at `from` to `to` (which must not exist): files with
/// `std::fs::copy` (the kernel's copy), directories given their modes
/// (Go's 0555) once filled. A symlink is an error: module zips hold none.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        } else {
            return Err(std::io::Error::other(format!(
                "{}: not a file or directory",
                entry.path().display()
            )));
        }
    }
    std::fs::set_permissions(to, std::fs::metadata(from)?.permissions())
}

/// Removes a tree that may hold read-only directories.
fn make_writable_and_remove(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        for entry in std::fs::read_dir(&dir)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    std::fs::remove_dir_all(dir)
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

    /// A module cache as Go leaves one module in it: `@v` files and the
    /// extracted, read-only directory. Returns go's `-json` line for it.
    fn cached_module(shared: &Path, path: &str, version: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let v = shared.join(format!("cache/download/{path}/@v"));
        std::fs::create_dir_all(&v).unwrap();
        for ext in ["info", "mod", "zip", "ziphash"] {
            std::fs::write(v.join(format!("{version}.{ext}")), ext).unwrap();
        }
        let dir = shared.join(format!("{path}@{version}"));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("m.go"), "package m").unwrap();
        std::fs::write(dir.join("sub/s.go"), "package sub").unwrap();
        for d in [dir.join("sub"), dir.clone()] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        serde_json::json!({
            "Path": path,
            "Version": version,
            "Info": v.join(format!("{version}.info")),
            "GoMod": v.join(format!("{version}.mod")),
            "Zip": v.join(format!("{version}.zip")),
            "Dir": dir,
            "Sum": "h1:x",
        })
        .to_string()
    }

    #[test]
    fn reported_modules_are_copied_extracted_with_their_hash_and_nothing_else() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("golb-modules-carry-{}", std::process::id()));
        let _ = make_writable_and_remove(&root);
        let (shared, snapshot) = (root.join("shared"), root.join("snapshot"));
        let a = cached_module(&shared, "example.com/a", "v1.0.0");
        let b = cached_module(&shared, "example.com/b", "v0.2.0");
        // Another build's module in the shared cache: not reported, not copied.
        cached_module(&shared, "example.com/other", "v9.0.0");
        // go prints a stream of indented objects; one with an error and one
        // outside the shared cache are not copied.
        let failed = r#"{"Path": "example.com/bad", "Version": "v1.0.0", "Error": "not found"}"#;
        let elsewhere = r#"{"Path": "x.com/y", "Version": "v1.0.0", "Dir": "/elsewhere/x.com/y@v1.0.0", "Zip": "/elsewhere/y.zip"}"#;
        let json = format!("{a}\n{b}\n{failed}\n{elsewhere}\n");
        let reported = reported_modules(json.as_bytes());
        assert_eq!(reported.len(), 4);
        let copied: Vec<&str> = reported
            .iter()
            .filter(|m| carry(&shared, &snapshot, m))
            .map(|m| m.path.as_str())
            .collect();
        assert_eq!(copied, ["example.com/a", "example.com/b"]);
        let a_dir = snapshot.join("example.com/a@v1.0.0");
        assert_eq!(
            std::fs::read_to_string(a_dir.join("sub/s.go")).unwrap(),
            "package sub"
        );
        assert_eq!(
            std::fs::metadata(&a_dir).unwrap().permissions().mode() & 0o777,
            0o555,
            "Go's read-only directories stay read-only"
        );
        let v = snapshot.join("cache/download/example.com/a/@v");
        for kept in ["v1.0.0.info", "v1.0.0.mod", "v1.0.0.ziphash"] {
            assert!(v.join(kept).is_file(), "{kept}");
        }
        assert!(!v.join("v1.0.0.zip").exists(), "the zip is not copied");
        assert!(!snapshot.join("example.com/other@v9.0.0").exists());
        // Copied once: a second report of the same module copies nothing.
        assert!(!carry(&shared, &snapshot, &reported[0]));
        // Go's output cut short still gives the modules before the cut.
        assert_eq!(reported_modules(&json.as_bytes()[..a.len() + 5]).len(), 1);
        make_writable_and_remove(&root).unwrap();
    }

    #[test]
    fn a_module_that_cannot_be_copied_whole_leaves_no_directory_and_no_hash() {
        let root =
            std::env::temp_dir().join(format!("golb-modules-partial-{}", std::process::id()));
        let _ = make_writable_and_remove(&root);
        let (shared, snapshot) = (root.join("shared"), root.join("snapshot"));
        let a = cached_module(&shared, "example.com/a", "v1.0.0");
        // A symlink, which no module zip holds, stops the copy midway.
        let dir = shared.join("example.com/a@v1.0.0");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("zz-link")).unwrap();
        let reported = reported_modules(a.as_bytes());
        assert!(!carry(&shared, &snapshot, &reported[0]));
        assert!(!snapshot.join("example.com/a@v1.0.0").exists());
        assert!(!snapshot
            .join("cache/download/example.com/a/@v/v1.0.0.ziphash")
            .exists());
        make_writable_and_remove(&root).unwrap();
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
