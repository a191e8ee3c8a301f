//! What golb needs to know about the Go module in the build context before it
//! can plan: which module files exist (they are the only inputs of the
//! download step) and what go.mod says. Read from BuildKit's copy of the
//! context by the gateway, or from a directory by the offline commands.

use std::path::Path;

/// The module files at the context root, and what go.mod declares.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GoModule {
    /// The `module` path, e.g. "example.com/hello".
    pub path: String,
    /// The `go` directive, e.g. "1.26" or "1.26.0".
    pub go: Option<String>,
    /// The `toolchain` directive without its "go" prefix, e.g. "1.26.3".
    pub toolchain: Option<String>,
    pub has_go_sum: bool,
    pub has_go_work: bool,
    pub has_go_work_sum: bool,
    /// `vendor/modules.txt` exists: dependencies come from vendor/, nothing is downloaded.
    pub vendored: bool,
}

/// Files whose presence changes the plan; listed so the context can be probed cheaply.
pub const GO_MOD: &str = "go.mod";
pub const GO_SUM: &str = "go.sum";
pub const GO_WORK: &str = "go.work";
pub const GO_WORK_SUM: &str = "go.work.sum";
pub const VENDOR_MODULES: &str = "vendor/modules.txt";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoModuleError {
    #[error("no go.mod at the root of the build context: golb builds one Go module; run `go mod init <module path>` there, or build from the module's directory")]
    NoGoMod,
    #[error("go.mod:{line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
}

/// Which module files exist, as found by whoever can look at the context.
#[derive(Clone, Copy, Debug, Default)]
pub struct Present {
    pub go_sum: bool,
    pub go_work: bool,
    pub go_work_sum: bool,
    pub vendor_modules: bool,
}

impl GoModule {
    /// Builds the facts from go.mod's text and which other files are present.
    pub fn from_files(go_mod: &str, present: Present) -> Result<GoModule, GoModuleError> {
        let mut module = GoModule {
            has_go_sum: present.go_sum,
            has_go_work: present.go_work,
            has_go_work_sum: present.go_work_sum,
            vendored: present.vendor_modules,
            ..GoModule::default()
        };
        for line in go_mod.lines() {
            let line = line.split("//").next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let (Some(verb), Some(arg)) = (words.next(), words.next()) else { continue };
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
                line: 1,
                message: "no `module` line: go.mod must start with `module <path>`".to_string(),
            });
        }
        Ok(module)
    }

    /// Reads the module facts from a directory on this machine (offline commands).
    pub fn from_dir(dir: &Path) -> Result<GoModule, GoModuleError> {
        let go_mod_path = dir.join(GO_MOD);
        let go_mod = match std::fs::read_to_string(&go_mod_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GoModuleError::NoGoMod),
            Err(e) => {
                return Err(GoModuleError::Read { path: go_mod_path.display().to_string(), message: e.to_string() })
            }
        };
        let present = Present {
            go_sum: dir.join(GO_SUM).is_file(),
            go_work: dir.join(GO_WORK).is_file(),
            go_work_sum: dir.join(GO_WORK_SUM).is_file(),
            vendor_modules: dir.join(VENDOR_MODULES).is_file(),
        };
        GoModule::from_files(&go_mod, present)
    }

    /// The Go release (major.minor) the module asks for: its toolchain line if
    /// any, else its go line. This picks the builder image when the spec does not.
    pub fn wanted_go_release(&self) -> Option<String> {
        let version = self.toolchain.as_deref().or(self.go.as_deref())?;
        let mut parts = version.split('.');
        let major = parts.next()?;
        let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
        (!major.is_empty() && !minor.is_empty()).then(|| format!("{major}.{minor}"))
    }

    /// The last element of the module path: the default name of a binary built from the root.
    pub fn default_binary_name(&self) -> String {
        let last = self.path.rsplit('/').next().unwrap_or(&self.path);
        // A major-version suffix ("…/v2") is not a name.
        let is_major = last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
        if is_major {
            self.path.rsplit('/').nth(1).unwrap_or(last).to_string()
        } else {
            last.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_module_go_and_toolchain_lines() {
        let text = "// comment\nmodule \"example.com/acme/api/v2\" // quoted\n\ngo 1.25.0\ntoolchain go1.26.3\n\nrequire (\n\tgolang.org/x/text v0.3.0\n)\n";
        let m = GoModule::from_files(text, Present { go_sum: true, ..Present::default() }).unwrap();
        assert_eq!(m.path, "example.com/acme/api/v2");
        assert_eq!(m.go.as_deref(), Some("1.25.0"));
        assert_eq!(m.toolchain.as_deref(), Some("1.26.3"));
        assert!(m.has_go_sum && !m.vendored);
        assert_eq!(m.wanted_go_release().as_deref(), Some("1.26"));
        assert_eq!(m.default_binary_name(), "api");
    }

    #[test]
    fn the_go_line_picks_the_release_without_a_toolchain_line() {
        let m = GoModule::from_files("module x\ngo 1.26\n", Present::default()).unwrap();
        assert_eq!(m.wanted_go_release().as_deref(), Some("1.26"));
        let m = GoModule::from_files("module x\ngo 1.27rc1\n", Present::default()).unwrap();
        assert_eq!(m.wanted_go_release().as_deref(), Some("1.27"));
        let m = GoModule::from_files("module x\n", Present::default()).unwrap();
        assert_eq!(m.wanted_go_release(), None);
    }

    #[test]
    fn a_go_mod_without_module_line_is_an_error() {
        let err = GoModule::from_files("go 1.26\n", Present::default()).unwrap_err();
        assert!(err.to_string().contains("module <path>"));
    }

    #[test]
    fn reads_a_directory_and_says_when_go_mod_is_missing() {
        let dir = std::env::temp_dir().join(format!("golb-gomod-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("vendor")).unwrap();
        assert_eq!(GoModule::from_dir(&dir), Err(GoModuleError::NoGoMod));
        std::fs::write(dir.join("go.mod"), "module example.com/hello\ngo 1.26\n").unwrap();
        std::fs::write(dir.join("vendor/modules.txt"), "").unwrap();
        let m = GoModule::from_dir(&dir).unwrap();
        assert!(m.vendored && !m.has_go_sum);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
