//! Which main packages need cgo. golb builds with CGO_ENABLED=0, and a
//! package that compiles C (a file that says `import "C"`) is then either
//! left out of the build or swapped for a `//go:build !cgo` stub that fails
//! at run time (github.com/mattn/go-sqlite3 does that). So `golb init`
//! follows each main package's imports, through the module's own packages
//! and then through its dependencies' sources on this machine, and reports
//! the first package with a cgo file that Go would compile for linux, the
//! architecture of this machine (cgo does not cross-compile) and cgo on.
//!
//! The standard library is not followed: its cgo packages (net, os/user,
//! runtime/cgo) have pure-Go fallbacks that work in a static image.
//! Dependencies are read from vendor/ when the module vendors, else from
//! the Go module cache; a module that is not there is reported as not
//! checked rather than guessed about.
//!
//! Files are read with `checks::go_source` (headers, build constraints) and
//! the module's own packages are walked with `go_packages`, as the build
//! walks them: no second parser.

use crate::checks::go_source::{self, GoFileHeader};
use crate::checks::gomod_syntax;
use crate::checks::SourceSnapshot;
use crate::go_module::{join, GoModule};
use crate::go_packages::{GoSources, PackageWalk};
use crate::plan::BinaryPlan;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use super::detect::MainPackage;

/// The glibc runtime base a cgo binary needs (it links the C library dynamically).
pub const GLIBC_BASE: &str = "gcr.io/distroless/base-debian12:nonroot";

/// Dependency packages read at most per main package, so a huge module
/// graph cannot make init hang; past it the rest is not checked.
const MAX_PACKAGES: usize = 5_000;

/// The build tag set Go uses with CGO_ENABLED=1.
const CGO_TAGS: &[&str] = &["cgo"];

/// Where dependency sources are on this machine, and the architecture to
/// decide build constraints for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    /// GOMODCACHE, or None when there is no way to find it.
    pub module_cache: Option<PathBuf>,
    /// The GOARCH of this machine, when it is one Go knows.
    pub arch: Option<String>,
}

impl Host {
    /// The module cache and architecture of the process's environment.
    pub fn from_env() -> Host {
        Host {
            module_cache: module_cache(|name| std::env::var(name).ok()),
            arch: go_arch(std::env::consts::ARCH).map(String::from),
        }
    }
}

/// Go's GOMODCACHE default: GOMODCACHE, else the first GOPATH entry's
/// pkg/mod, else $HOME/go/pkg/mod.
pub fn module_cache(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(cache) = set("GOMODCACHE") {
        return Some(PathBuf::from(cache));
    }
    let gopath = set("GOPATH")
        .and_then(|list| list.split(':').find(|p| !p.is_empty()).map(PathBuf::from))
        .or_else(|| set("HOME").map(|home| Path::new(&home).join("go")))?;
    Some(gopath.join("pkg").join("mod"))
}

/// Rust's name of an architecture as GOARCH.
fn go_arch(rust_arch: &str) -> Option<&'static str> {
    Some(match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        _ => return None,
    })
}

/// What init learned about cgo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgoReport {
    /// Main package ("./cmd/notes") → the package whose cgo files it
    /// compiles ("github.com/mattn/go-sqlite3"), for those that need cgo.
    pub needs: BTreeMap<String, String>,
    /// Required modules (or packages no requirement provides) whose sources
    /// are not on this machine, for main packages not known to need cgo.
    pub unchecked: BTreeSet<String>,
    /// Where they were looked for, for the message.
    pub looked_in: String,
}

impl CgoReport {
    /// The note for modules not checked, for the spec and stdout.
    pub fn unchecked_note(&self) -> Option<String> {
        if self.unchecked.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.unchecked.iter().map(String::as_str).collect();
        let (modules, were, their) = if names.len() == 1 {
            ("module", "was", "its sources are")
        } else {
            ("modules", "were", "their sources are")
        };
        Some(format!(
            "cgo needs of {modules} {} {were} not checked: {their} not in {}; run `go mod download`, then `golb init --force` again.",
            names.join(", "),
            self.looked_in
        ))
    }
}

/// Checks each main package of the module in `context`.
pub fn detect(context: &Path, module: &GoModule, mains: &[MainPackage], host: &Host) -> CgoReport {
    let deps = Dependencies::new(context, module, host);
    let mut report = CgoReport {
        looked_in: deps.looked_in(),
        ..CgoReport::default()
    };
    for main in mains {
        match deps.main_needs(main) {
            Finding::Needs(package) => {
                report.needs.insert(main.package.clone(), package);
            }
            Finding::Unchecked(modules) => report.unchecked.extend(modules),
        }
    }
    report
}

enum Finding {
    /// This package compiles C.
    Needs(String),
    /// No package found that does; these modules could not be read.
    Unchecked(BTreeSet<String>),
}

/// Where a required module's packages are on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// In the module cache at this module path and version.
    Cache { path: String, version: String },
    /// A directory (a local `replace`), absolute.
    Dir(PathBuf),
}

/// A package path resolved to a directory, or why not.
enum Located {
    Dir(PathBuf),
    /// The standard library: not followed.
    Standard,
    /// The module (or, when no requirement provides it, the package) whose sources are missing.
    Missing(String),
}

struct Dependencies<'a> {
    context: &'a Path,
    module: &'a GoModule,
    host: &'a Host,
    /// Module path → where its sources are, from go.mod's require and replace.
    requirements: BTreeMap<String, Source>,
    /// vendor/ of the module, when it vendors (workspaces do not vendor per module).
    vendor: Option<PathBuf>,
}

impl<'a> Dependencies<'a> {
    fn new(context: &'a Path, module: &'a GoModule, host: &'a Host) -> Dependencies<'a> {
        let vendor = (module.vendored && !module.workspace)
            .then(|| context.join(join(&module.dir, "vendor")));
        Dependencies {
            context,
            module,
            host,
            requirements: requirements(context, module),
            vendor,
        }
    }

    fn looked_in(&self) -> String {
        match (&self.vendor, &self.host.module_cache) {
            (Some(vendor), _) => vendor.display().to_string(),
            (None, Some(cache)) => format!("the module cache ({})", cache.display()),
            (None, None) => {
                "the module cache (no GOMODCACHE, GOPATH or HOME to find it)".to_string()
            }
        }
    }

    fn main_needs(&self, main: &MainPackage) -> Finding {
        let own = self.own_packages(main);
        if let Some(package) = self.own_cgo_package(&own) {
            return Finding::Needs(package);
        }
        let cgo_tags = tags();
        let mut queue: VecDeque<String> = own
            .external_imports_for(&cgo_tags)
            .map(|imports| imports.iter().cloned().collect())
            .unwrap_or_default();
        let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
        let mut unchecked = BTreeSet::new();
        let mut read = 0;
        while let Some(path) = queue.pop_front() {
            let dir = match self.locate(&path) {
                Located::Standard => continue,
                Located::Missing(module) => {
                    unchecked.insert(module);
                    continue;
                }
                Located::Dir(dir) => dir,
            };
            read += 1;
            if read > MAX_PACKAGES {
                unchecked.insert(format!("(more than {MAX_PACKAGES} packages)"));
                break;
            }
            let headers = compiled_headers(&dir, self.host.arch.as_deref());
            if headers.iter().any(imports_c) {
                return Finding::Needs(path);
            }
            for import in headers.iter().flat_map(|h| &h.imports) {
                if import.path != "C" && seen.insert(import.path.clone()) {
                    queue.push_back(import.path.clone());
                }
            }
        }
        Finding::Unchecked(unchecked)
    }

    /// The module's own packages the main package imports, walked with cgo on.
    fn own_packages(&self, main: &MainPackage) -> GoSources {
        let binary = BinaryPlan {
            name: main.name.clone(),
            package: main.package.clone(),
            ldflags: Vec::new(),
            tags: tags(),
            cgo: true,
            location: Default::default(),
        };
        let mut walk = PackageWalk::new(self.module, &[binary]);
        loop {
            let wanted = walk.wanted();
            if wanted.is_empty() {
                return walk.finish();
            }
            for dir in wanted.list {
                let names = file_names(&self.context.join(&dir));
                walk.listed(&dir, names);
            }
            for path in wanted.read {
                let bytes = std::fs::read(self.context.join(&path)).ok();
                walk.read(&path, bytes.as_deref());
            }
        }
    }

    /// An own package with a cgo file, as its import path.
    fn own_cgo_package(&self, own: &GoSources) -> Option<String> {
        own.files.iter().find_map(|(path, text)| {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if !own.package_dirs.contains(dir) {
                return None;
            }
            let header = go_source::scan(text);
            let compiled =
                go_source::is_compiled_for(name, &header, &tags(), self.host.arch.as_deref());
            (compiled && imports_c(&header)).then(|| self.own_import_path(dir))
        })
    }

    /// "example.com/app/internal/db" for the context directory of an own package.
    fn own_import_path(&self, dir: &str) -> String {
        self.module
            .local_modules
            .iter()
            .filter_map(|m| {
                let rest = if m.dir.is_empty() {
                    dir
                } else if dir == m.dir {
                    ""
                } else {
                    dir.strip_prefix(&format!("{}/", m.dir))?
                };
                Some((m.dir.len(), join(&m.path, rest)))
            })
            .max()
            .map_or_else(|| format!("./{dir}"), |(_, path)| path)
    }

    fn locate(&self, path: &str) -> Located {
        if !is_clean_import_path(path) {
            return Located::Standard; // Go rejects it: nothing to read.
        }
        if let Some(module) = self
            .module
            .local_modules
            .iter()
            .filter(|m| within(path, &m.path))
            .max_by_key(|m| m.path.len())
        {
            let rest = path[module.path.len()..].trim_start_matches('/');
            return Located::Dir(self.context.join(join(&module.dir, rest)));
        }
        let required = self
            .requirements
            .iter()
            .filter(|(module, _)| within(path, module))
            .max_by_key(|(module, _)| module.len());
        let is_standard = !path.split('/').next().unwrap_or(path).contains('.');
        if let Some(vendor) = &self.vendor {
            if is_standard && required.is_none() {
                return Located::Standard;
            }
            let dir = vendor.join(path);
            return if dir.is_dir() {
                Located::Dir(dir)
            } else {
                Located::Missing(required.map_or(path, |(m, _)| m.as_str()).to_string())
            };
        }
        let Some((module, source)) = required else {
            return if is_standard {
                Located::Standard
            } else {
                Located::Missing(path.to_string())
            };
        };
        let rest = path[module.len()..].trim_start_matches('/');
        let root = match source {
            Source::Dir(dir) => dir.clone(),
            Source::Cache { path, version } => match &self.host.module_cache {
                Some(cache) => cache.join(format!("{}@{}", escape(path), escape(version))),
                None => return Located::Missing(module.clone()),
            },
        };
        if root.is_dir() {
            Located::Dir(root.join(rest))
        } else {
            Located::Missing(module.clone())
        }
    }
}

fn tags() -> Vec<String> {
    CGO_TAGS.iter().map(|t| t.to_string()).collect()
}

fn imports_c(header: &GoFileHeader) -> bool {
    header.imports.iter().any(|i| i.path == "C")
}

/// `path` is the module path `module` or a package in it.
fn within(path: &str, module: &str) -> bool {
    path == module
        || path
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// An import path that cannot leave the directory it is joined to.
fn is_clean_import_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

/// The module cache's case encoding: "github.com/BurntSushi/toml" is stored
/// as "github.com/!burnt!sushi/toml" (case-insensitive file systems).
pub fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The file names in a directory, None when it is not one.
fn file_names(dir: &Path) -> Option<Vec<String>> {
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// The headers of a dependency package's files that Go compiles for
/// linux/`arch` with cgo on. A package that cannot be read has none: Go
/// reports it, golb has nothing to learn from it.
fn compiled_headers(dir: &Path, arch: Option<&str>) -> Vec<GoFileHeader> {
    let mut names = file_names(dir).unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .filter(|name| name.ends_with(".go"))
        .filter_map(|name| {
            let bytes = read_header_bytes(&dir.join(&name))?;
            let header = go_source::scan(&String::from_utf8_lossy(&bytes));
            go_source::is_compiled_for(&name, &header, &tags(), arch).then_some(header)
        })
        .collect()
}

/// The start of a .go file, as much as the checks read
/// (`SourceSnapshot::GO_FILE_PREFIX_BYTES`): the header is at the top, and
/// generated files of megabytes need not be read whole.
fn read_header_bytes(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(SourceSnapshot::GO_FILE_PREFIX_BYTES)
                .read_to_end(&mut bytes)
        })
        .ok()?;
    Some(bytes)
}

/// Required modules of the module (and its workspace members and local
/// replacements), with replacements applied: where each one's sources are.
fn requirements(context: &Path, module: &GoModule) -> BTreeMap<String, Source> {
    let go_mods = super::detect::go_mod_files(module);
    let mut required = BTreeMap::new();
    let mut replaced = BTreeMap::new();
    for file in go_mods {
        let Ok(bytes) = std::fs::read(context.join(&file)) else {
            continue;
        };
        let dir = file
            .rsplit_once('/')
            .map_or(context.to_path_buf(), |(d, _)| context.join(d));
        for directive in gomod_syntax::parse(&String::from_utf8_lossy(&bytes)) {
            match (directive.verb.as_str(), directive.args.as_slice()) {
                ("require", [path, version, ..]) => {
                    // The highest version wins, as minimal version selection picks it.
                    let entry = required
                        .entry(path.clone())
                        .or_insert_with(|| version.clone());
                    if newer(version, entry) {
                        *entry = version.clone();
                    }
                }
                ("replace", args) => {
                    let Some(arrow) = args.iter().position(|a| a == "=>") else {
                        continue;
                    };
                    let (Some(old), Some(new)) = (args.first(), args.get(arrow + 1)) else {
                        continue;
                    };
                    let source = if gomod_syntax::is_directory_path(new) {
                        Source::Dir(dir.join(new))
                    } else if let Some(version) = args.get(arrow + 2) {
                        Source::Cache {
                            path: new.clone(),
                            version: version.clone(),
                        }
                    } else {
                        continue;
                    };
                    replaced.insert(old.clone(), source);
                }
                _ => {}
            }
        }
    }
    let mut sources: BTreeMap<String, Source> = required
        .into_iter()
        .map(|(path, version)| {
            let source = Source::Cache {
                path: path.clone(),
                version,
            };
            (path, source)
        })
        .collect();
    sources.extend(replaced);
    sources
}

/// Whether semantic version `a` is above `b` (v1.2.10 > v1.2.9); a
/// pre-release or pseudo-version counts by its release numbers, which is
/// all a choice between two requirements of one module needs here.
fn newer(a: &str, b: &str) -> bool {
    let numbers = |v: &str| -> Vec<u64> {
        v.trim_start_matches('v')
            .split(['-', '+'])
            .next()
            .unwrap_or("")
            .split('.')
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    numbers(a) > numbers(b)
}

#[cfg(test)]
mod tests;
