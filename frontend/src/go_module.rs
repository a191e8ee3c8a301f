//! What golb needs to know about the Go module in the build context before it
//! can plan: which module files exist (they are the only inputs of the
//! download step) and what go.mod and go.work say.
//!
//! Reading happens in two rounds, because the second depends on the first:
//! the module's own files (`probe_paths`), then the go.mod/go.sum of every
//! workspace member and local `replace` target (`member_paths`). Whoever can
//! look at the context — the gateway through BuildKit, the offline commands
//! through the file system — reads those paths and hands the contents of the
//! ones that exist to `GoModule::from_files`.

use std::collections::BTreeMap;
use std::path::Path;

pub const GO_MOD: &str = "go.mod";
pub const GO_SUM: &str = "go.sum";
pub const GO_WORK: &str = "go.work";
pub const GO_WORK_SUM: &str = "go.work.sum";
pub const VENDOR_MODULES: &str = "vendor/modules.txt";

/// The module (or workspace) golb builds.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GoModule {
    /// Its directory in the context, "" for the root.
    pub dir: String,
    /// The `module` path, e.g. "example.com/hello".
    pub path: String,
    /// The `go` directive, e.g. "1.26" or "1.26.0".
    pub go: Option<String>,
    /// The `toolchain` directive without its "go" prefix, e.g. "1.26.3".
    pub toolchain: Option<String>,
    /// `vendor/modules.txt` exists: dependencies come from vendor/, nothing is downloaded.
    pub vendored: bool,
    /// A go.work sits beside go.mod: the build runs in workspace mode.
    pub workspace: bool,
    /// Some go.mod of the build (the module's, a workspace member's, a local
    /// replacement's) requires another module. Without any requirement there
    /// is nothing to download and golb plans no download step.
    pub requires_modules: bool,
    /// The directories the Go steps read, relative to the context ("" is the
    /// whole context), sorted, none inside another: the module's, and each
    /// workspace member's and local replacement's. Go reads nothing else of
    /// the context (go:embed stays inside a package's directory), so edits
    /// elsewhere (another service of a monorepo, docs) keep the build cached.
    pub source_dirs: Vec<String>,
    /// Every file the download step needs, relative to the context, sorted:
    /// go.mod/go.sum of the module, of each workspace member and of each local
    /// replacement, plus go.work/go.work.sum.
    pub module_files: Vec<String>,
    /// The modules whose packages come from the context, not from the module
    /// cache: this one, its workspace members and its local replacements,
    /// each with its module path and directory. An import under one of these
    /// paths is the build's own code; any other is the standard library or a
    /// dependency.
    pub local_modules: Vec<LocalModule>,
}

/// A module built from its directory in the context.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalModule {
    /// Its `module` path.
    pub path: String,
    /// Its directory in the context, "" for the root.
    pub dir: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoModuleError {
    #[error("no go.mod in {0}: golb builds one Go module; run `go mod init <module path>` there, or set [builder] module to the module's directory")]
    NoGoMod(String),
    #[error("{file}:{line}: {message}")]
    Malformed {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: {path:?} is outside the build context, so BuildKit cannot send it; move it into the context or build from a directory that holds both")]
    OutsideContext {
        file: String,
        line: usize,
        path: String,
    },
    #[error("{file}:{line}: {path:?} has no go.mod in the build context")]
    MissingMember {
        file: String,
        line: usize,
        path: String,
    },
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    /// A module file the context lists but that cannot be read: a symlink
    /// out of the context (BuildKit sends the link, not its target).
    #[error("{path} is a symlink that leads outside the build context (or to nothing); BuildKit sends the link, never its target: replace the link with the file itself")]
    LinkOutside { path: String },
}

/// The error for a module file that BuildKit listed in the context but could
/// not read: it is a link whose target BuildKit did not send, unless the
/// read failed for another reason.
pub fn unreadable(path: &str, error: &dyn std::fmt::Display) -> GoModuleError {
    let message = error.to_string();
    if message.contains("no such file or directory") || message.contains("not a directory") {
        GoModuleError::LinkOutside {
            path: path.to_string(),
        }
    } else {
        GoModuleError::Read {
            path: path.to_string(),
            message,
        }
    }
}

/// Joins a context-relative directory and a file name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The first round: the module's own files.
pub fn probe_paths(dir: &str) -> Vec<String> {
    [GO_MOD, GO_SUM, GO_WORK, GO_WORK_SUM, VENDOR_MODULES]
        .iter()
        .map(|f| join(dir, f))
        .collect()
}

/// A directory another module file points at, and where it said so.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Member {
    dir: String,
    file: String,
    line: usize,
}

/// Directives of go.mod / go.work that name local directories, with line numbers.
fn local_directory_directives(text: &str, verb: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_block = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("").trim();
        let body = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix(verb) {
            let rest = rest.trim();
            if rest == "(" {
                in_block = true;
                continue;
            }
            if !line[verb.len()..].starts_with(char::is_whitespace) {
                continue;
            }
            rest
        } else {
            continue;
        };
        // `use ./dir`, or `replace a [v] => ./dir`: the local path is the last word.
        let target = match body.split_once("=>") {
            Some((_, target)) => target.trim(),
            None if verb == "use" => body,
            None => continue,
        };
        let target = target
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches('"');
        if target.starts_with("./")
            || target.starts_with("../")
            || target == "."
            || target == ".."
            || target.starts_with('/')
        {
            found.push((index + 1, target.to_string()));
        }
    }
    found
}

/// The `module` path a go.mod declares, if any.
fn module_path(go_mod: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let line = line.split("//").next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("module"), Some(path)) => Some(path.trim_matches('"').to_string()),
            _ => None,
        }
    })
}

/// Whether a go.mod has a `require` directive with at least one module,
/// in line form (`require a v1`) or block form (`require ( … )`).
fn requires_modules(go_mod: &str) -> bool {
    let mut in_block = false;
    for line in go_mod.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if in_block {
            match line {
                ")" => in_block = false,
                "" => {}
                _ => return true,
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("require") else {
            continue;
        };
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '(') {
            continue; // e.g. a module path that starts with "require"
        }
        match rest.trim() {
            "(" => in_block = true,
            "()" | "( )" | "" => {}
            _ => return true,
        }
    }
    false
}

/// The directories of `dirs` that are not inside another one, sorted.
fn outermost(mut dirs: Vec<String>) -> Vec<String> {
    dirs.sort();
    dirs.dedup();
    let inside = |dir: &str, other: &str| {
        dir != other && (other.is_empty() || dir.starts_with(&format!("{other}/")))
    };
    dirs.iter()
        .filter(|d| !dirs.iter().any(|o| inside(d, o)))
        .cloned()
        .collect()
}

/// Resolves `relative` against `dir`, inside the context, or None if it leaves it.
fn resolve(dir: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn members(dir: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Member>, GoModuleError> {
    let mut members = Vec::new();
    for (name, verb) in [(GO_WORK, "use"), (GO_MOD, "replace")] {
        let file = join(dir, name);
        let Some(text) = files.get(&file) else {
            continue;
        };
        for (line, target) in local_directory_directives(&String::from_utf8_lossy(text), verb) {
            let resolved = resolve(dir, &target).ok_or_else(|| GoModuleError::OutsideContext {
                file: file.clone(),
                line,
                path: target.clone(),
            })?;
            if resolved != dir {
                members.push(Member {
                    dir: resolved,
                    file: file.clone(),
                    line,
                });
            }
        }
    }
    Ok(members)
}

/// The second round: go.mod/go.sum of each workspace member and local
/// replacement named by the files of the first round.
pub fn member_paths(
    dir: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<String>, GoModuleError> {
    Ok(members(dir, files)?
        .iter()
        .flat_map(|m| [join(&m.dir, GO_MOD), join(&m.dir, GO_SUM)])
        .collect())
}

impl GoModule {
    /// The module as its own go.mod declares it (path, `go` and `toolchain`
    /// lines) and whether it is vendored or a workspace root, before any
    /// workspace member is read: enough to choose the builder, so the driver
    /// resolves it while the members are still being read.
    pub fn from_go_mod(
        dir: &str,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<GoModule, GoModuleError> {
        let go_mod_path = join(dir, GO_MOD);
        let go_mod = files.get(&go_mod_path).ok_or_else(|| {
            GoModuleError::NoGoMod(if dir.is_empty() {
                "the build context's root".to_string()
            } else {
                dir.to_string()
            })
        })?;
        let mut module = GoModule {
            dir: dir.to_string(),
            vendored: files.contains_key(&join(dir, VENDOR_MODULES)),
            workspace: files.contains_key(&join(dir, GO_WORK)),
            ..GoModule::default()
        };
        for line in String::from_utf8_lossy(go_mod).lines() {
            let line = line.split("//").next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let (Some(verb), Some(arg)) = (words.next(), words.next()) else {
                continue;
            };
            let arg = arg.trim_matches('"').to_string();
            match verb {
                "module" => module.path = arg,
                "go" => module.go = Some(arg),
                "toolchain" => module.toolchain = Some(arg.trim_start_matches("go").to_string()),
                _ => {}
            }
        }
        if module.path.is_empty() {
            return Err(GoModuleError::Malformed {
                file: go_mod_path,
                line: 1,
                message: "no `module` line: go.mod must start with `module <path>`".to_string(),
            });
        }
        Ok(module)
    }

    /// Builds the facts from the files of both rounds that exist (path → contents).
    pub fn from_files(
        dir: &str,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<GoModule, GoModuleError> {
        let mut module = GoModule::from_go_mod(dir, files)?;
        let mut wanted: Vec<String> = [GO_MOD, GO_SUM, GO_WORK, GO_WORK_SUM]
            .iter()
            .map(|f| join(dir, f))
            .collect();
        let members = members(dir, files)?;
        let mut source_dirs = vec![dir.to_string()];
        source_dirs.extend(members.iter().map(|m| m.dir.clone()));
        if module.workspace {
            // Workspace members' own local replaces apply in workspace mode.
            for member in &members {
                let Some(text) = files.get(&join(&member.dir, GO_MOD)) else {
                    continue;
                };
                let text = String::from_utf8_lossy(text);
                for (_, target) in local_directory_directives(&text, "replace") {
                    // One outside the context fails in Go with its own message.
                    source_dirs.extend(resolve(&member.dir, &target));
                }
            }
        }
        module.source_dirs = outermost(source_dirs);
        let mut local_modules = vec![LocalModule {
            path: module.path.clone(),
            dir: dir.to_string(),
        }];
        for member in &members {
            let declared = files
                .get(&join(&member.dir, GO_MOD))
                .and_then(|text| module_path(&String::from_utf8_lossy(text)));
            if let Some(path) = declared {
                local_modules.push(LocalModule {
                    path,
                    dir: member.dir.clone(),
                });
            }
        }
        local_modules.sort();
        local_modules.dedup();
        module.local_modules = local_modules;
        for member in members {
            let member_go_mod = join(&member.dir, GO_MOD);
            if !files.contains_key(&member_go_mod) {
                return Err(GoModuleError::MissingMember {
                    file: member.file,
                    line: member.line,
                    path: member.dir,
                });
            }
            wanted.push(member_go_mod);
            wanted.push(join(&member.dir, GO_SUM));
        }
        let mut module_files: Vec<String> = wanted
            .into_iter()
            .filter(|p| files.contains_key(p))
            .collect();
        module_files.sort();
        module_files.dedup();
        module.requires_modules = module_files
            .iter()
            .filter(|p| p.ends_with(GO_MOD))
            .filter_map(|p| files.get(p))
            .any(|text| requires_modules(&String::from_utf8_lossy(text)));
        module.module_files = module_files;
        Ok(module)
    }

    /// Reads the module from a directory on this machine (offline commands).
    pub fn from_dir(context: &Path, dir: &str) -> Result<GoModule, GoModuleError> {
        let mut files = BTreeMap::new();
        read_existing(context, &probe_paths(dir), &mut files)?;
        if files.contains_key(&join(dir, GO_MOD)) {
            read_existing(context, &member_paths(dir, &files)?, &mut files)?;
        }
        GoModule::from_files(dir, &files)
    }

    /// The Go release (major.minor) the module asks for: its toolchain line if
    /// any, else its go line. This picks the builder image when the spec does not.
    pub fn wanted_go_release(&self) -> Option<String> {
        let version = self.toolchain.as_deref().or(self.go.as_deref())?;
        let mut parts = version.split('.');
        let major = parts.next()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!major.is_empty() && !minor.is_empty()).then(|| format!("{major}.{minor}"))
    }

    /// The last element of the module path: the default name of a binary built from the root.
    pub fn default_binary_name(&self) -> String {
        let last = self.path.rsplit('/').next().unwrap_or(&self.path);
        // A major-version suffix ("…/v2") is not a name.
        let is_major = last.len() > 1
            && last.starts_with('v')
            && last[1..].chars().all(|c| c.is_ascii_digit());
        if is_major {
            self.path.rsplit('/').nth(1).unwrap_or(last).to_string()
        } else {
            last.to_string()
        }
    }
}

fn read_existing(
    context: &Path,
    paths: &[String],
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), GoModuleError> {
    use crate::context_fs::{read_inside, ContextReadError};
    for path in paths {
        match read_inside(context, path, u64::MAX) {
            Ok(Some(bytes)) => {
                files.insert(path.clone(), bytes);
            }
            Ok(None) => {}
            Err(ContextReadError::LeavesContext { path }) => {
                return Err(GoModuleError::LinkOutside { path })
            }
            Err(e @ ContextReadError::Io { .. }) => {
                return Err(GoModuleError::Read {
                    path: context.join(path).display().to_string(),
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn reads_module_go_and_toolchain_lines() {
        let text = "// comment\nmodule \"example.com/acme/api/v2\" // quoted\n\ngo 1.25.0\ntoolchain go1.26.3\n\nrequire (\n\tgolang.org/x/text v0.3.0\n)\n";
        let m = GoModule::from_files("", &files(&[("go.mod", text), ("go.sum", "")])).unwrap();
        assert_eq!(m.path, "example.com/acme/api/v2");
        assert_eq!(m.go.as_deref(), Some("1.25.0"));
        assert_eq!(m.toolchain.as_deref(), Some("1.26.3"));
        assert_eq!(m.module_files, ["go.mod", "go.sum"]);
        assert!(!m.vendored && !m.workspace);
        assert_eq!(m.wanted_go_release().as_deref(), Some("1.26"));
        assert_eq!(m.default_binary_name(), "api");
    }

    #[test]
    fn the_go_line_picks_the_release_without_a_toolchain_line() {
        let m = GoModule::from_files("", &files(&[("go.mod", "module x\ngo 1.27rc1\n")])).unwrap();
        assert_eq!(m.wanted_go_release().as_deref(), Some("1.27"));
        let m = GoModule::from_files("", &files(&[("go.mod", "module x\n")])).unwrap();
        assert_eq!(m.wanted_go_release(), None);
    }

    #[test]
    fn a_go_mod_without_module_line_is_an_error() {
        let err = GoModule::from_files("", &files(&[("go.mod", "go 1.26\n")])).unwrap_err();
        assert!(err.to_string().contains("module <path>"));
        let err = GoModule::from_files("services/api", &BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string().starts_with("no go.mod in services/api"),
            "{err}"
        );
    }

    #[test]
    fn workspaces_and_local_replaces_bring_their_module_files() {
        let go_mod = "module example.com/api\ngo 1.26\nreplace example.com/lib => ../lib\nreplace (\n\texample.com/x v1.0.0 => example.com/y v1.0.0\n\texample.com/z => ./third_party/z\n)\n";
        let go_work = "go 1.26\n\nuse (\n\t.\n\t./tools\n)\n";
        let round1 = files(&[("svc/api/go.mod", go_mod), ("svc/api/go.work", go_work)]);
        let mut wanted = member_paths("svc/api", &round1).unwrap();
        wanted.sort();
        assert_eq!(
            wanted,
            [
                "svc/api/third_party/z/go.mod",
                "svc/api/third_party/z/go.sum",
                "svc/api/tools/go.mod",
                "svc/api/tools/go.sum",
                "svc/lib/go.mod",
                "svc/lib/go.sum"
            ]
        );
        let mut all = round1.clone();
        all.extend(files(&[
            ("svc/api/tools/go.mod", "module t\n"),
            ("svc/api/third_party/z/go.mod", "module z\n"),
            ("svc/lib/go.mod", "module l\n"),
            ("svc/lib/go.sum", ""),
        ]));
        let m = GoModule::from_files("svc/api", &all).unwrap();
        assert!(m.workspace);
        assert_eq!(
            m.module_files,
            [
                "svc/api/go.mod",
                "svc/api/go.work",
                "svc/api/third_party/z/go.mod",
                "svc/api/tools/go.mod",
                "svc/lib/go.mod",
                "svc/lib/go.sum"
            ]
        );
    }

    #[test]
    fn replacements_outside_the_context_name_the_go_mod_line() {
        let go_mod = "module example.com/api\n\ngo 1.26\n\nreplace example.com/lib => ../../lib\n";
        let err = member_paths("api", &files(&[("api/go.mod", go_mod)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "api/go.mod:5: \"../../lib\" is outside the build context, so BuildKit cannot send it; move it into the context or build from a directory that holds both"
        );
        let absolute = files(&[("go.mod", "module a\nreplace b => /home/me/b\n")]);
        assert!(matches!(
            member_paths("", &absolute),
            Err(GoModuleError::OutsideContext { line: 2, .. })
        ));
    }

    #[test]
    fn a_replacement_without_go_mod_is_an_error() {
        let round = files(&[("go.mod", "module a\nreplace b => ./b\n")]);
        let err = GoModule::from_files("", &round).unwrap_err();
        assert_eq!(
            err.to_string(),
            "go.mod:2: \"b\" has no go.mod in the build context"
        );
    }

    #[test]
    fn reads_a_directory_and_says_when_go_mod_is_missing() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        std::fs::create_dir_all(dir.join("vendor")).unwrap();
        assert!(matches!(
            GoModule::from_dir(&dir, ""),
            Err(GoModuleError::NoGoMod(_))
        ));
        std::fs::write(dir.join("go.mod"), "module example.com/hello\ngo 1.26\n").unwrap();
        std::fs::write(dir.join("vendor/modules.txt"), "").unwrap();
        let m = GoModule::from_dir(&dir, "").unwrap();
        assert!(m.vendored);
        assert_eq!(m.module_files, ["go.mod"]);
    }

    #[test]
    fn requirements_in_line_and_block_form() {
        assert!(!requires_modules("module a\n\ngo 1.26\n"));
        assert!(!requires_modules(
            "module a\nrequire ()\nrequire (\n\t// none yet\n)\n"
        ));
        assert!(requires_modules("module a\nrequire example.com/b v1.0.0\n"));
        assert!(requires_modules(
            "module a\nrequire (\n\texample.com/b v1.0.0 // indirect\n)\n"
        ));
        assert!(!requires_modules("module requirements.example/a\n"));
    }

    #[test]
    fn a_module_without_requirements_needs_no_download() {
        let lone: BTreeMap<String, Vec<u8>> =
            [("go.mod".to_string(), b"module a\ngo 1.26\n".to_vec())].into();
        assert!(!GoModule::from_files("", &lone).unwrap().requires_modules);
        // A workspace member's requirement counts.
        let workspace: BTreeMap<String, Vec<u8>> = [
            ("go.mod".to_string(), b"module a\ngo 1.26\n".to_vec()),
            (
                "go.work".to_string(),
                b"go 1.26\nuse (\n\t.\n\t./b\n)\n".to_vec(),
            ),
            (
                "b/go.mod".to_string(),
                b"module b\ngo 1.26\nrequire example.com/c v1.2.3\n".to_vec(),
            ),
        ]
        .into();
        assert!(
            GoModule::from_files("", &workspace)
                .unwrap()
                .requires_modules
        );
    }

    #[test]
    fn the_go_steps_read_the_module_and_its_local_modules_only() {
        let monorepo: BTreeMap<String, Vec<u8>> = [
            (
                "services/api/go.mod".to_string(),
                b"module api\ngo 1.26\nrequire greet v0.0.0\nreplace greet => ../../libs/greet\n"
                    .to_vec(),
            ),
            ("libs/greet/go.mod".to_string(), b"module greet\n".to_vec()),
        ]
        .into();
        let m = GoModule::from_files("services/api", &monorepo).unwrap();
        assert_eq!(m.source_dirs, ["libs/greet", "services/api"]);

        let root: BTreeMap<String, Vec<u8>> = [
            (
                "go.mod".to_string(),
                b"module a\nreplace b => ./third_party/b\n".to_vec(),
            ),
            ("third_party/b/go.mod".to_string(), b"module b\n".to_vec()),
        ]
        .into();
        let m = GoModule::from_files("", &root).unwrap();
        assert_eq!(m.source_dirs, [""], "the root holds everything");

        // In a workspace, members' local replaces count too.
        let workspace: BTreeMap<String, Vec<u8>> = [
            ("app/go.mod".to_string(), b"module app\n".to_vec()),
            (
                "app/go.work".to_string(),
                b"go 1.26\nuse (\n\t.\n\t../lib\n)\n".to_vec(),
            ),
            (
                "lib/go.mod".to_string(),
                b"module lib\nreplace x => ../vendored/x\n".to_vec(),
            ),
        ]
        .into();
        let m = GoModule::from_files("app", &workspace).unwrap();
        assert_eq!(m.source_dirs, ["app", "lib", "vendored/x"]);
    }

    #[test]
    fn a_go_mod_linked_from_outside_the_context_is_refused_not_read() {
        let scratch = tempfile::tempdir().unwrap();
        let base = scratch.path().to_path_buf();
        std::fs::create_dir_all(base.join("context")).unwrap();
        std::fs::write(base.join("go.mod"), "module outside\n").unwrap();
        std::os::unix::fs::symlink(base.join("go.mod"), base.join("context/go.mod")).unwrap();
        let err = GoModule::from_dir(&base.join("context"), "").unwrap_err();
        assert!(
            matches!(&err, GoModuleError::LinkOutside { path } if path.ends_with("context/go.mod")),
            "{err}"
        );
    }

    #[test]
    fn a_listed_file_buildkit_cannot_open_is_a_link_out_of_the_context() {
        let err = unreadable(
            "go.mod",
            &"rpc error: open go.mod: no such file or directory",
        );
        assert_eq!(
            err.to_string(),
            "go.mod is a symlink that leads outside the build context (or to nothing); BuildKit sends the link, never its target: replace the link with the file itself"
        );
        let other = unreadable("go.mod", &"permission denied");
        assert_eq!(other.to_string(), "reading go.mod: permission denied");
    }
}
