//! The files the checks look at, held in memory, so the same checks run on
//! a directory (`golb check`) and on BuildKit's copy of the context (the
//! gateway reads it through RPCs, asynchronously, and fills a snapshot).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module files a snapshot holds when they exist, read from each wanted directory.
pub const MODULE_FILES: [&str; 2] = [crate::go_module::GO_MOD, crate::go_module::GO_WORK];

/// Files keyed by their path relative to the context root ("go.mod",
/// "cmd/server/main.go"), and the directories known to exist ("." is the root).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceSnapshot {
    files: BTreeMap<String, String>,
    dirs: BTreeSet<String>,
}

impl SourceSnapshot {
    /// How much of each .go file the checks need: the header (build line,
    /// package clause, imports) is at the top. Readers may stop here (the
    /// gateway: ReadFile with this range); a cut file is read correctly up
    /// to its imports.
    pub const GO_FILE_PREFIX_BYTES: u64 = 64 * 1024;

    pub fn new() -> SourceSnapshot {
        SourceSnapshot::default()
    }

    /// Adds a file; its directory, and every one above it, then exists.
    pub fn with_file(mut self, path: impl AsRef<str>, text: impl Into<String>) -> SourceSnapshot {
        let path = clean_path(path.as_ref());
        let mut dir = parent(&path);
        loop {
            self.dirs.insert(dir.to_string());
            if dir == "." {
                break;
            }
            dir = parent(dir);
        }
        self.files.insert(path, text.into());
        self
    }

    /// Records that a directory exists (it may hold no files the checks want).
    pub fn with_dir(mut self, path: impl AsRef<str>) -> SourceSnapshot {
        self.dirs.insert(clean_path(path.as_ref()));
        self
    }

    /// Reads a snapshot from the context on this machine: for each wanted
    /// directory, the .go files directly in it (not below: a Go package is
    /// one directory) and its go.mod and go.work. A wanted directory that
    /// does not exist is simply absent.
    pub fn from_dir(context: &Path, wanted: &[String]) -> std::io::Result<SourceSnapshot> {
        let mut snapshot = SourceSnapshot::new().with_dir(".");
        for dir in wanted {
            let dir = clean_path(dir);
            // A directory reached through a link out of the context is not
            // in what BuildKit sees: it is absent here too.
            let real_dir = match crate::context_fs::resolve_inside(context, &dir) {
                Ok(Some(real)) => real,
                Ok(None) | Err(crate::context_fs::ContextReadError::LeavesContext { .. }) => {
                    continue
                }
                Err(crate::context_fs::ContextReadError::Io { source, .. }) => return Err(source),
            };
            let entries = match std::fs::read_dir(&real_dir) {
                Ok(entries) => entries,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            snapshot = snapshot.with_dir(&dir);
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if (name.ends_with(".go") || MODULE_FILES.contains(&name.as_str()))
                    && entry.path().is_file()
                {
                    names.push(name);
                }
            }
            names.sort();
            for name in names {
                let limit = if name.ends_with(".go") {
                    SourceSnapshot::GO_FILE_PREFIX_BYTES
                } else {
                    u64::MAX
                };
                // A file linked from outside the context is skipped, as BuildKit would not send it.
                let bytes = match crate::context_fs::read_inside(context, &join(&dir, &name), limit)
                {
                    Ok(Some(bytes)) => bytes,
                    Ok(None) | Err(crate::context_fs::ContextReadError::LeavesContext { .. }) => {
                        continue
                    }
                    Err(crate::context_fs::ContextReadError::Io { source, .. }) => {
                        return Err(source)
                    }
                };
                snapshot = snapshot.with_file(join(&dir, &name), String::from_utf8_lossy(&bytes));
            }
        }
        Ok(snapshot)
    }

    pub fn file(&self, path: &str) -> Option<&str> {
        self.files.get(&clean_path(path)).map(String::as_str)
    }

    pub fn has_dir(&self, dir: &str) -> bool {
        self.dirs.contains(&clean_path(dir))
    }

    /// The .go files directly in `dir`, as (path, file name, text), in name order.
    pub fn go_files_in<'s>(
        &'s self,
        dir: &str,
    ) -> impl Iterator<Item = (&'s str, &'s str, &'s str)> + 's {
        let dir = clean_path(dir);
        self.files.iter().filter_map(move |(path, text)| {
            let name = path.rsplit('/').next().unwrap_or(path);
            (name.ends_with(".go") && parent(path) == dir).then_some((
                path.as_str(),
                name,
                text.as_str(),
            ))
        })
    }
}

/// A relative path in the form snapshots use: no "./", no trailing or
/// doubled '/', "." for the root. ".." is kept: it names no file in the context.
pub fn clean_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// `dir/name`; the root may be written "." or "".
pub fn join(dir: &str, name: &str) -> String {
    if dir == "." || dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_imply_their_directories_and_paths_are_cleaned() {
        let s = SourceSnapshot::new()
            .with_file("./cmd/server//main.go", "package main")
            .with_file("main.go", "x");
        assert!(
            s.has_dir(".")
                && s.has_dir("cmd")
                && s.has_dir("./cmd/server/")
                && !s.has_dir("internal")
        );
        assert_eq!(s.file("cmd/server/main.go"), Some("package main"));
        let in_server: Vec<&str> = s
            .go_files_in("./cmd/server")
            .map(|(path, _, _)| path)
            .collect();
        assert_eq!(in_server, ["cmd/server/main.go"]);
        let in_root: Vec<&str> = s.go_files_in(".").map(|(_, name, _)| name).collect();
        assert_eq!(in_root, ["main.go"]);
    }

    #[test]
    fn reads_the_wanted_directories_of_a_tree() {
        let scratch = tempfile::tempdir().unwrap();
        let root = scratch.path().to_path_buf();
        std::fs::create_dir_all(root.join("cmd/server/sub")).unwrap();
        std::fs::write(root.join("go.mod"), "module x\n").unwrap();
        std::fs::write(root.join("cmd/go.mod"), "module unwanted\n").unwrap();
        std::fs::write(root.join("cmd/server/main.go"), "package main\n").unwrap();
        std::fs::write(root.join("cmd/server/notes.txt"), "").unwrap();
        std::fs::write(root.join("cmd/server/sub/deep.go"), "package sub\n").unwrap();
        let wanted = vec![
            ".".to_string(),
            "./cmd/server".to_string(),
            "./cmd/missing".to_string(),
        ];
        let s = SourceSnapshot::from_dir(&root, &wanted).unwrap();
        assert_eq!(s.file("go.mod"), Some("module x\n"));
        assert_eq!(s.file("cmd/go.mod"), None, "cmd/ is not wanted");
        assert_eq!(s.file("cmd/server/main.go"), Some("package main\n"));
        assert_eq!(
            s.file("cmd/server/sub/deep.go"),
            None,
            "only the package's own directory"
        );
        assert!(s.has_dir("cmd/server") && !s.has_dir("cmd/missing"));
    }
}
