//! What `golb init` learns from a repository on disk: which Go module to
//! build, its main packages and their names, what they embed, the
//! package-level string variables `-X` can stamp, the ports their code
//! names, and the required modules no public proxy can serve.
//!
//! go.mod/go.work facts come from `go_module` (the same reading the build
//! does) and `checks::gomod_syntax`; .go files are read with
//! `checks::go_source`, with the build constraints golb builds with.

use crate::checks::go_source::{self, EmbedDirective};
use crate::checks::gomod_syntax;
use crate::go_module::{join, GoModule, GoModuleError, GO_MOD, GO_WORK};
use std::path::{Path, PathBuf};

/// Everything found, paths relative to the context (the repository root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub module: GoModule,
    /// Other modules found below the context when go.mod is not at its
    /// root, context-relative; the chosen one is `module.dir`.
    pub other_modules: Vec<String>,
    /// Main packages to build, sorted by package path.
    pub mains: Vec<MainPackage>,
    /// Main packages left out because they sit under examples/, tools/,
    /// hack/… (outside cmd/): people add them by hand when they want them.
    pub skipped_mains: Vec<MainPackage>,
    /// `//go:embed` directives of every package in the module.
    pub embeds: Vec<Embed>,
    /// Required modules that look private, as GOPRIVATE patterns.
    pub private: Vec<PrivatePattern>,
    /// `-X` flags of build files (Makefile, .goreleaser.yml…) already in the repository.
    pub build_file_x_flags: Vec<XFlag>,
    /// go.work's `use` directories, as written.
    pub workspace_members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainPackage {
    /// As `[[binary]] package` writes it: "." or "./cmd/server".
    pub package: String,
    /// Its directory in the context.
    pub dir: String,
    /// The binary's name: the last path element, or the module's for ".".
    pub name: String,
    /// The first compiled file that says `package main`, for comments.
    pub file: String,
    pub imports: Vec<String>,
    /// Variables `-X` can set, as full symbols ("main.version",
    /// "example.com/api/internal/version.Commit") with what they hold.
    pub stamps: Vec<Stamp>,
    /// Port-like string literals (":8080") in the package, with file:line.
    pub ports: Vec<(u16, String)>,
}

/// A package-level string variable the linker can set, and the build
/// argument golb fills it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub symbol: String,
    pub arg: StampArg,
    /// Where it was found: "cmd/server/main.go:12" or "Makefile:7".
    pub found_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StampArg {
    Version,
    Revision,
}

impl StampArg {
    pub fn build_arg(self) -> &'static str {
        match self {
            StampArg::Version => "VERSION",
            StampArg::Revision => "VCS_REVISION",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embed {
    /// The package's directory in the context.
    pub dir: String,
    pub file: String,
    pub directive: EmbedDirective,
}

impl Embed {
    /// "static templates/*.html (cmd/site/main.go:15)", for comments.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}:{})",
            self.directive.patterns.join(" "),
            self.file,
            self.directive.line
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivatePattern {
    pub pattern: String,
    /// Why it looks private, for the spec's comment.
    pub why: String,
}

/// An `-X symbol=value` found in a build file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XFlag {
    pub symbol: String,
    pub found_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{0} has no go.mod, and none of its directories has one: golb builds a Go module; run `go mod init <module path>` first")]
    NoModule(String),
    #[error(transparent)]
    Module(#[from] GoModuleError),
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Directories never searched: VCS and editor state, dependencies, and the
/// directories the go command ignores itself (testdata, _x, .x).
fn ignored_dir(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || matches!(name, "testdata" | "vendor" | "node_modules")
}

/// Main packages in these directories (outside cmd/) are tools, examples
/// and tests of the repository, not what its image runs.
const NOT_SHIPPED: &[&str] = &[
    "examples",
    "example",
    "hack",
    "tools",
    "tool",
    "scripts",
    "script",
    "test",
    "tests",
    "e2e",
    "integration",
    "docs",
    "doc",
    "bench",
    "benchmarks",
    "mocks",
    "fixtures",
    "contrib",
    "third_party",
];

/// How deep the walk goes below the context, and how many directories it
/// reads at most, so a huge tree cannot make init hang.
const MAX_DEPTH: usize = 12;
const MAX_DIRS: usize = 20_000;

/// Top-level TLDs and names reserved for private networks and tests: a
/// module path under them cannot be on a public proxy.
const PRIVATE_TLDS: &[&str] = &[
    "local",
    "localhost",
    "internal",
    "intranet",
    "intra",
    "corp",
    "lan",
    "home",
    "private",
    "test",
    "example",
    "invalid",
];

/// Inspects the repository at `context`. `private_env` holds the GOPRIVATE,
/// GONOPROXY and GONOSUMDB values of the caller's environment: modules they
/// match are private to this machine's user, whatever their name.
pub fn inspect(context: &Path, private_env: &[String]) -> Result<Repository, DetectError> {
    let (module_dir, other_modules) = find_module(context)?;
    let module = GoModule::from_dir(context, &module_dir)?;
    let mut walk = Walk::default();
    walk.packages(context, &module_dir, 0)?;
    let mut mains = Vec::new();
    let mut skipped_mains = Vec::new();
    for package in walk.packages.iter().filter(|p| p.is_main) {
        let main = main_package(&module, package, &walk.packages);
        let relative = main.package.trim_start_matches("./");
        let shipped = relative.starts_with("cmd/")
            || !relative.split('/').any(|part| NOT_SHIPPED.contains(&part));
        if shipped {
            mains.push(main);
        } else {
            skipped_mains.push(main);
        }
    }
    unique_names(&mut mains);
    let build_file_x_flags = build_file_x_flags(context, &module_dir)?;
    for main in &mut mains {
        add_build_file_stamps(main, &build_file_x_flags);
    }
    let private = private_patterns(context, &module, private_env)?;
    let workspace_members = std::fs::read(context.join(join(&module_dir, GO_WORK)))
        .map(|bytes| {
            gomod_syntax::parse(&String::from_utf8_lossy(&bytes))
                .into_iter()
                .filter(|d| d.verb == "use")
                .filter_map(|d| d.args.into_iter().next())
                .collect()
        })
        .unwrap_or_default();
    Ok(Repository {
        workspace_members,
        module,
        other_modules,
        mains,
        skipped_mains,
        embeds: walk.packages.into_iter().flat_map(|p| p.embeds).collect(),
        private,
        build_file_x_flags,
    })
}

/// The module to build: go.mod at the root, else the shallowest module
/// below it that has a main package (else the shallowest module).
fn find_module(context: &Path) -> Result<(String, Vec<String>), DetectError> {
    if context.join(GO_MOD).is_file() {
        return Ok((String::new(), Vec::new()));
    }
    let mut modules = Vec::new();
    let mut budget = MAX_DIRS;
    find_go_mods(context, "", 0, &mut modules, &mut budget)?;
    modules.sort_by_key(|dir: &String| (dir.split('/').count(), dir.clone()));
    let mut with_main = None;
    for dir in &modules {
        let mut walk = Walk::default();
        walk.packages(context, dir, 0)?;
        if walk.packages.iter().any(|p| p.is_main) {
            with_main = Some(dir.clone());
            break;
        }
    }
    let chosen = with_main
        .or_else(|| modules.first().cloned())
        .ok_or_else(|| DetectError::NoModule(context.display().to_string()))?;
    let others = modules.into_iter().filter(|m| *m != chosen).collect();
    Ok((chosen, others))
}

fn find_go_mods(
    context: &Path,
    dir: &str,
    depth: usize,
    found: &mut Vec<String>,
    budget: &mut usize,
) -> Result<(), DetectError> {
    if depth > MAX_DEPTH || *budget == 0 {
        return Ok(());
    }
    *budget -= 1;
    for (name, is_dir) in list_dir(&context.join(dir))? {
        if is_dir && !ignored_dir(&name) {
            find_go_mods(context, &join(dir, &name), depth + 1, found, budget)?;
        } else if !is_dir && name == GO_MOD && !dir.is_empty() {
            found.push(dir.to_string());
        }
    }
    Ok(())
}

/// A directory's entries as (name, is a directory), sorted by name.
fn list_dir(path: &Path) -> Result<Vec<(String, bool)>, DetectError> {
    let read_error = |source| DetectError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        // Symbolic links are not followed: BuildKit sends them as links.
        let kind = entry.file_type().map_err(read_error)?;
        if kind.is_dir() || kind.is_file() {
            entries.push((
                entry.file_name().to_string_lossy().into_owned(),
                kind.is_dir(),
            ));
        }
    }
    entries.sort();
    Ok(entries)
}

/// One package directory of the module, as the walk read it.
#[derive(Debug, Default)]
struct Package {
    /// Context-relative directory.
    dir: String,
    /// The module-relative package path: "." or "./cmd/server".
    package: String,
    is_main: bool,
    main_file: String,
    imports: Vec<String>,
    /// (name, file:line) of package-level string variables.
    string_vars: Vec<(String, String)>,
    ports: Vec<(u16, String)>,
    embeds: Vec<Embed>,
}

#[derive(Debug, Default)]
struct Walk {
    packages: Vec<Package>,
    dirs_read: usize,
    module_dir: String,
}

impl Walk {
    /// Reads every package of the module rooted at `module_dir`, skipping
    /// nested modules (their own go.mod) and the directories Go ignores.
    fn packages(
        &mut self,
        context: &Path,
        module_dir: &str,
        depth: usize,
    ) -> Result<(), DetectError> {
        if depth == 0 {
            self.module_dir = module_dir.to_string();
        }
        self.read(context, module_dir, depth)
    }

    fn read(&mut self, context: &Path, dir: &str, depth: usize) -> Result<(), DetectError> {
        if depth > MAX_DEPTH || self.dirs_read >= MAX_DIRS {
            return Ok(());
        }
        self.dirs_read += 1;
        let entries = list_dir(&context.join(dir))?;
        if depth > 0
            && entries
                .iter()
                .any(|(name, is_dir)| !is_dir && name == GO_MOD)
        {
            return Ok(()); // another module
        }
        let mut package = Package {
            dir: dir.to_string(),
            package: module_relative(&self.module_dir, dir),
            ..Package::default()
        };
        let mut compiled = 0;
        for (name, is_dir) in &entries {
            if *is_dir || !name.ends_with(".go") {
                continue;
            }
            let file = join(dir, name);
            let path = context.join(&file);
            let text = std::fs::read(&path).map_err(|source| DetectError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let text = String::from_utf8_lossy(&text);
            let header = go_source::scan(&text);
            if !go_source::is_compiled(name, &header, &[]) {
                continue;
            }
            compiled += 1;
            if header.package.as_ref().is_some_and(|p| p.name == "main") {
                // The file people look for first: main.go, <dir>.go, else the first by name.
                let dir_name = dir.rsplit('/').next().unwrap_or(dir);
                let preferred = name == "main.go"
                    || (name == &format!("{dir_name}.go")
                        && !package.main_file.ends_with("/main.go"));
                if !package.is_main || preferred {
                    package.main_file = file.clone();
                }
                package.is_main = true;
            }
            package
                .imports
                .extend(header.imports.iter().map(|i| i.path.clone()));
            for var in go_source::string_vars(&text) {
                package
                    .string_vars
                    .push((var.name, format!("{file}:{}", var.line)));
            }
            for (literal, line) in go_source::string_literals(&text) {
                if let Some(port) = listen_port(&literal) {
                    package.ports.push((port, format!("{file}:{line}")));
                }
            }
            for directive in go_source::embed_directives(&text) {
                package.embeds.push(Embed {
                    dir: dir.to_string(),
                    file: file.clone(),
                    directive,
                });
            }
        }
        package.imports.sort();
        package.imports.dedup();
        if compiled > 0 {
            self.packages.push(package);
        }
        for (name, is_dir) in entries {
            if is_dir && !ignored_dir(&name) {
                self.read(context, &join(dir, &name), depth + 1)?;
            }
        }
        Ok(())
    }
}

/// "./cmd/server" for "services/api/cmd/server" in module "services/api"; "." for the root.
fn module_relative(module_dir: &str, dir: &str) -> String {
    let relative = if module_dir.is_empty() {
        dir
    } else {
        dir.strip_prefix(module_dir)
            .unwrap_or(dir)
            .trim_start_matches('/')
    };
    if relative.is_empty() {
        ".".to_string()
    } else {
        format!("./{relative}")
    }
}

/// A string literal that names a port to listen on: ":8080" or "0.0.0.0:8080".
fn listen_port(literal: &str) -> Option<u16> {
    let digits = literal
        .strip_prefix(':')
        .or_else(|| literal.strip_prefix("0.0.0.0:"))
        .or_else(|| literal.strip_prefix("[::]:"))?;
    if digits.is_empty() || digits.len() > 5 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().filter(|p| *p >= 80)
}

/// Which build argument a variable's name asks for, if any.
pub fn stamp_arg(name: &str) -> Option<StampArg> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "version" | "appversion" | "buildversion" | "gitversion" | "semver" | "releaseversion" => {
            Some(StampArg::Version)
        }
        "commit" | "gitcommit" | "revision" | "gitrevision" | "sha" | "gitsha" | "commitsha"
        | "commithash" | "buildcommit" | "githash" | "vcsrevision" => Some(StampArg::Revision),
        _ => None,
    }
}

/// Packages whose exported variables are build metadata by convention.
const VERSION_PACKAGES: &[&str] = &["version", "buildinfo", "build", "meta", "info"];

fn main_package(module: &GoModule, package: &Package, all: &[Package]) -> MainPackage {
    let name = if package.package == "." {
        module.default_binary_name()
    } else {
        package
            .package
            .rsplit('/')
            .next()
            .unwrap_or(&package.package)
            .to_string()
    };
    let mut stamps: Vec<Stamp> = package
        .string_vars
        .iter()
        .filter_map(|(var, at)| {
            Some(Stamp {
                symbol: format!("main.{var}"),
                arg: stamp_arg(var)?,
                found_at: at.clone(),
            })
        })
        .collect();
    // In-module packages it imports directly that hold build metadata
    // (internal/version.Version): -X reaches them, the check sees the import.
    for import in &package.imports {
        let Some(rest) = import.strip_prefix(&format!("{}/", module.path)) else {
            continue;
        };
        let last = rest.rsplit('/').next().unwrap_or(rest);
        if !VERSION_PACKAGES.contains(&last) {
            continue;
        }
        let dir = join(&module.dir, rest);
        let Some(imported) = all.iter().find(|p| p.dir == dir) else {
            continue;
        };
        for (var, at) in &imported.string_vars {
            let exported = var.starts_with(|c: char| c.is_ascii_uppercase());
            if let (true, Some(arg)) = (exported, stamp_arg(var)) {
                stamps.push(Stamp {
                    symbol: format!("{import}.{var}"),
                    arg,
                    found_at: at.clone(),
                });
            }
        }
    }
    let mut ports = package.ports.clone();
    ports.sort();
    ports.dedup_by_key(|(port, _)| *port);
    MainPackage {
        package: package.package.clone(),
        dir: package.dir.clone(),
        name,
        file: package.main_file.clone(),
        imports: package.imports.clone(),
        stamps,
        ports,
    }
}

/// Two main packages with one last element (cmd/agent, tools/agent) would
/// both install /usr/local/bin/agent: the later ones get their parent's name too.
fn unique_names(mains: &mut [MainPackage]) {
    let mut seen: Vec<String> = Vec::new();
    for main in mains.iter_mut() {
        if seen.contains(&main.name) {
            let parent = main
                .package
                .trim_start_matches("./")
                .rsplit('/')
                .nth(1)
                .unwrap_or("main")
                .to_string();
            main.name = format!("{parent}-{}", main.name);
        }
        seen.push(main.name.clone());
    }
}

/// Files whose `-ldflags` hold the `-X` flags a repository already uses.
const BUILD_FILES: &[&str] = &[
    "Makefile",
    "makefile",
    "GNUmakefile",
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "goreleaser.yml",
    "goreleaser.yaml",
    "Dockerfile",
    "build.sh",
    "scripts/build.sh",
    "hack/build.sh",
];

/// The `-X pkg.name=…` flags in the repository's build files (module
/// directory first, then the context root), each symbol once.
fn build_file_x_flags(context: &Path, module_dir: &str) -> Result<Vec<XFlag>, DetectError> {
    let mut dirs = vec![module_dir.to_string()];
    if !module_dir.is_empty() {
        dirs.push(String::new());
    }
    let mut flags: Vec<XFlag> = Vec::new();
    for dir in dirs {
        for name in BUILD_FILES {
            let file = join(&dir, name);
            let path = context.join(&file);
            let text = match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => continue,
                Err(source) => {
                    return Err(DetectError::Read {
                        path: path.display().to_string(),
                        source,
                    })
                }
            };
            for (index, line) in text.lines().enumerate() {
                for symbol in x_symbols(line) {
                    if !flags.iter().any(|f| f.symbol == symbol) {
                        flags.push(XFlag {
                            symbol,
                            found_at: format!("{file}:{}", index + 1),
                        });
                    }
                }
            }
        }
    }
    Ok(flags)
}

/// The symbols of `-X symbol=…` and `-X=symbol=…` on one line; symbols
/// built from variables (`$(PKG).version`, `{{.Env.X}}`) are skipped.
pub fn x_symbols(line: &str) -> Vec<String> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let mut symbols = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let definition = match *word {
            "-X" | "--X" => words.get(i + 1).copied(),
            w => w.strip_prefix("-X=").or_else(|| w.strip_prefix("--X=")),
        };
        let Some((symbol, _)) = definition.and_then(|d| d.split_once('=')) else {
            continue;
        };
        let plain = symbol.contains('.')
            && symbol
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '/' | '_' | '-' | '~'));
        if plain {
            symbols.push(symbol.to_string());
        }
    }
    symbols
}

/// Adds the build files' `-X` flags a binary can use: main.* and packages
/// it imports directly, for names that say what they hold.
fn add_build_file_stamps(main: &mut MainPackage, flags: &[XFlag]) {
    for flag in flags {
        let Some((package, var)) = flag.symbol.rsplit_once('.') else {
            continue;
        };
        let reachable = package == "main" || main.imports.iter().any(|i| i == package);
        let Some(arg) = stamp_arg(var) else {
            continue;
        };
        if reachable && !main.stamps.iter().any(|s| s.symbol == flag.symbol) {
            main.stamps.push(Stamp {
                symbol: flag.symbol.clone(),
                arg,
                found_at: flag.found_at.clone(),
            });
        }
    }
    main.stamps
        .sort_by(|a, b| (a.arg, &a.symbol).cmp(&(b.arg, &b.symbol)));
    // One variable per argument and package is what people mean; keep all
    // distinct symbols, but never two spellings of one.
    main.stamps.dedup_by(|a, b| a.symbol == b.symbol);
}

/// Required modules (of the module and its workspace members) that look
/// private, as GOPRIVATE patterns; locally replaced ones are never fetched.
fn private_patterns(
    context: &Path,
    module: &GoModule,
    private_env: &[String],
) -> Result<Vec<PrivatePattern>, DetectError> {
    let go_mods = go_mod_files(module);
    let mut patterns: Vec<PrivatePattern> = Vec::new();
    for file in go_mods {
        let path: PathBuf = context.join(&file);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let directives = gomod_syntax::parse(&String::from_utf8_lossy(&bytes));
        let replaced_locally: Vec<&str> = directives
            .iter()
            .filter(|d| d.verb == "replace")
            .filter(|d| {
                d.args
                    .iter()
                    .position(|a| a == "=>")
                    .and_then(|i| d.args.get(i + 1))
                    .is_some_and(|t| gomod_syntax::is_directory_path(t))
            })
            .filter_map(|d| d.args.first().map(String::as_str))
            .collect();
        for directive in directives.iter().filter(|d| d.verb == "require") {
            let Some(path) = directive.args.first() else {
                continue;
            };
            if replaced_locally.contains(&path.as_str()) {
                continue;
            }
            if let Some(found) = private_pattern(path, private_env) {
                if !patterns.iter().any(|p| p.pattern == found.pattern) {
                    patterns.push(found);
                }
            }
        }
    }
    Ok(patterns)
}

/// Why a module path looks private, as the pattern that covers it.
pub fn private_pattern(path: &str, private_env: &[String]) -> Option<PrivatePattern> {
    for list in private_env {
        for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if glob_prefix_match(pattern, path) {
                return Some(PrivatePattern {
                    pattern: pattern.to_string(),
                    why: format!(
                        "matches {pattern} in GOPRIVATE/GONOPROXY/GONOSUMDB on this machine"
                    ),
                });
            }
        }
    }
    let host = path.split('/').next().unwrap_or(path);
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    if !port.is_empty() || name.parse::<std::net::IpAddr>().is_ok() {
        return Some(PrivatePattern {
            pattern: host.to_string(),
            why: format!("{host} is an address, not a public host name"),
        });
    }
    if !name.contains('.') {
        return Some(PrivatePattern {
            pattern: host.to_string(),
            why: format!("{host} has no dot: no public proxy serves such a path"),
        });
    }
    let tld = name.rsplit('.').next().unwrap_or(name);
    PRIVATE_TLDS.contains(&tld).then(|| PrivatePattern {
        pattern: host.to_string(),
        why: format!("{host} ends in .{tld}, a name for private networks"),
    })
}

/// Go's GOPRIVATE matching (module.MatchPrefixPatterns): a pattern matches
/// when it glob-matches the path's leading elements, as many as it has.
fn glob_prefix_match(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    let count = pattern.split('/').count();
    let elements: Vec<&str> = path.split('/').collect();
    if elements.len() < count {
        return false;
    }
    pattern
        .split('/')
        .zip(&elements)
        .all(|(p, e)| glob(p.as_bytes(), e.as_bytes()))
}

/// path.Match for one element: `*`, `?` and literal characters.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// The go.mod files of the build, sorted: the module's own, its
/// workspace members' and its local replacements'.
pub(super) fn go_mod_files(module: &GoModule) -> Vec<String> {
    let mut go_mods = vec![join(&module.dir, GO_MOD)];
    go_mods.extend(
        module
            .module_files
            .iter()
            .filter(|f| f.ends_with(GO_MOD) && !f.ends_with(GO_WORK))
            .cloned(),
    );
    go_mods.sort();
    go_mods.dedup();
    go_mods
}
