//! The build's own Go packages, found by reading the context: starting at
//! each binary's package, following imports that stay inside the build's
//! local modules (`GoModule::local_modules`). What golb learns:
//!
//! - the **external packages** the binaries import (standard library and
//!   dependencies), per tag set: with the Go release, the target, the flags
//!   and the module versions they decide the compiled dependencies, so golb
//!   keys the dependency step on exactly them. A function body edit, or an
//!   edit to the module's own packages, keeps that key.
//! - the **`//go:embed` patterns** of those packages, so the build step's
//!   view of the context holds the embedded files and nothing else that Go
//!   does not read.
//!
//! The walk does no I/O (sans-IO): the gateway reads through BuildKit, the
//! offline commands read the file system, both by asking `wanted()` what
//! to list and read next and feeding the answers back. Reading rounds are
//! the depth of the import graph of the build's own packages.
//!
//! It is an estimate that may only err on the wide side: a file whose build
//! constraint golb cannot decide counts as compiled. Nothing depends on it
//! for correctness: the dependency step tolerates packages that do not
//! build, and `go build` compiles whatever the snapshot lacks.

use crate::checks::go_source::{self, GoFileHeader};
use crate::go_build;
use crate::go_module::{GoModule, LocalModule};
use crate::plan::BinaryPlan;
use std::collections::{BTreeMap, BTreeSet};

/// What to read next: directories to list (their file names), files to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub list: Vec<String>,
    pub read: Vec<String>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.read.is_empty()
    }
}

/// The result of the walk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoSources {
    /// For each tag set of the binaries (sorted tags): the standard library
    /// and dependency packages imported by the build's own packages, sorted.
    pub external_imports: BTreeMap<Vec<String>, BTreeSet<String>>,
    /// Files `//go:embed` asks for, as include patterns relative to the
    /// context root.
    pub embed_patterns: BTreeSet<String>,
    /// The build's own packages that embed files, by import path: where
    /// they are and their patterns as written, for the size step (which
    /// attributes embedded bytes to the package the linker names).
    pub embedding_packages: BTreeMap<String, EmbeddingPackage>,
    /// The build's own package directories that were visited, relative to the
    /// context ("" is the root).
    pub package_dirs: BTreeSet<String>,
    /// The directories the walk listed and found ("" is the root).
    pub listed_dirs: BTreeSet<String>,
    /// The text of every .go file the walk read (for the checks, which then
    /// read nothing again).
    pub files: BTreeMap<String, String>,
    /// The binaries' package directories that hold a PGO profile
    /// (`go_build::PGO_PROFILE`), which `go build`'s default `-pgo=auto`
    /// applies to the binary and every package it imports.
    pub profiled_dirs: BTreeSet<String>,
}

/// A package of the build's own modules with `//go:embed` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbeddingPackage {
    /// Its directory in the context ("" is the root).
    pub dir: String,
    /// Its patterns as written (`all:` kept), relative to `dir`; only those
    /// Go accepts (none leaving the package).
    pub patterns: BTreeSet<String>,
}

impl GoSources {
    /// The external packages for a binary built with `tags`.
    pub fn external_imports_for(&self, tags: &[String]) -> Option<&BTreeSet<String>> {
        self.external_imports.get(&tag_key(tags))
    }
}

/// One .go file, scanned.
#[derive(Clone, Debug)]
struct Scanned {
    header: GoFileHeader,
    embeds: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PackageWalk {
    local_modules: Vec<LocalModule>,
    tag_sets: Vec<Vec<String>>,
    /// (tag set, package dir) still to visit.
    pending: BTreeSet<(usize, String)>,
    visited: BTreeSet<(usize, String)>,
    /// Candidate .go files of each listed directory (None: not a directory).
    listed: BTreeMap<String, Option<Vec<String>>>,
    files: BTreeMap<String, Option<Scanned>>,
    /// The binaries' own package directories (main packages).
    main_dirs: BTreeSet<String>,
    result: GoSources,
}

/// A tag set as a key: sorted, without duplicates.
fn tag_key(tags: &[String]) -> Vec<String> {
    let mut key = tags.to_vec();
    key.sort();
    key.dedup();
    key
}

impl PackageWalk {
    pub fn new(module: &GoModule, binaries: &[BinaryPlan]) -> PackageWalk {
        let mut walk = PackageWalk {
            local_modules: module.local_modules.clone(),
            tag_sets: Vec::new(),
            pending: BTreeSet::new(),
            visited: BTreeSet::new(),
            listed: BTreeMap::new(),
            files: BTreeMap::new(),
            main_dirs: BTreeSet::new(),
            result: GoSources::default(),
        };
        for binary in binaries {
            let key = tag_key(&binary.tags);
            let set = match walk.tag_sets.iter().position(|t| *t == key) {
                Some(i) => i,
                None => {
                    walk.result
                        .external_imports
                        .insert(key.clone(), BTreeSet::new());
                    walk.tag_sets.push(key);
                    walk.tag_sets.len() - 1
                }
            };
            if let Some(dir) = package_dir(&module.dir, &binary.package) {
                walk.main_dirs.insert(dir.clone());
                walk.pending.insert((set, dir));
            }
        }
        walk
    }

    /// What the walk needs next; empty when it is done.
    pub fn wanted(&self) -> Wanted {
        let mut wanted = Wanted::default();
        let dirs: BTreeSet<&String> = self.pending.iter().map(|(_, d)| d).collect();
        for dir in dirs {
            match self.listed.get(dir) {
                None => wanted.list.push(dir.clone()),
                Some(Some(names)) => wanted.read.extend(
                    names
                        .iter()
                        .map(|n| join(dir, n))
                        .filter(|p| !self.files.contains_key(p)),
                ),
                Some(None) => {}
            }
        }
        wanted
    }

    /// The file names in `dir`, or None when it is not a directory.
    pub fn listed(&mut self, dir: &str, names: Option<Vec<String>>) {
        if let Some(names) = &names {
            self.result.listed_dirs.insert(dir.to_string());
            if self.main_dirs.contains(dir) && names.iter().any(|n| n == go_build::PGO_PROFILE) {
                self.result.profiled_dirs.insert(dir.to_string());
            }
        }
        let candidates = names.map(|names| {
            let mut go: Vec<String> = names.into_iter().filter(|n| is_candidate(n)).collect();
            go.sort();
            go
        });
        self.listed.insert(dir.to_string(), candidates);
        self.advance();
    }

    /// The contents of a file asked for (None when it could not be read:
    /// it is then left out, as Go would report it).
    pub fn read(&mut self, path: &str, bytes: Option<&[u8]>) {
        let scanned = bytes.map(|bytes| {
            let text = String::from_utf8_lossy(bytes);
            self.result
                .files
                .insert(path.to_string(), text.clone().into_owned());
            Scanned {
                header: go_source::scan(&text),
                embeds: embed_patterns(&text),
            }
        });
        self.files.insert(path.to_string(), scanned);
        self.advance();
    }

    /// Visits every pending package whose files are all in.
    fn advance(&mut self) {
        loop {
            let ready: Vec<(usize, String)> = self
                .pending
                .iter()
                .filter(|(_, dir)| match self.listed.get(dir) {
                    Some(Some(names)) => {
                        names.iter().all(|n| self.files.contains_key(&join(dir, n)))
                    }
                    Some(None) => true,
                    None => false,
                })
                .cloned()
                .collect();
            if ready.is_empty() {
                return;
            }
            for node in ready {
                self.pending.remove(&node);
                self.visit(&node);
                self.visited.insert(node);
            }
        }
    }

    fn visit(&mut self, (set, dir): &(usize, String)) {
        let Some(Some(names)) = self.listed.get(dir).cloned() else {
            return;
        };
        self.result.package_dirs.insert(dir.clone());
        let tags = self.tag_sets[*set].clone();
        for name in names {
            let path = join(dir, &name);
            let Some(Some(scanned)) = self.files.get(&path).cloned() else {
                continue;
            };
            if !go_source::is_compiled(&name, &scanned.header, &tags) {
                continue;
            }
            for pattern in &scanned.embeds {
                let includes = include_patterns(dir, pattern);
                if includes.is_empty() {
                    continue;
                }
                self.result.embed_patterns.extend(includes);
                if let Some(path) = self.import_path(dir) {
                    self.result
                        .embedding_packages
                        .entry(path)
                        .or_insert_with(|| EmbeddingPackage {
                            dir: dir.clone(),
                            patterns: BTreeSet::new(),
                        })
                        .patterns
                        .insert(pattern.clone());
                }
            }
            for import in &scanned.header.imports {
                match self.classify(&import.path) {
                    Import::Cgo => {}
                    Import::Own(target) => {
                        let node = (*set, target);
                        if !self.visited.contains(&node) {
                            self.pending.insert(node);
                        }
                    }
                    Import::External => {
                        if let Some(imports) = self.result.external_imports.get_mut(&tags) {
                            imports.insert(import.path.clone());
                        }
                    }
                }
            }
        }
    }

    /// The import path of the package in context directory `dir`: its
    /// local module's path (the deepest module directory holding it) and
    /// the rest of the directory.
    fn import_path(&self, dir: &str) -> Option<String> {
        let module = self
            .local_modules
            .iter()
            .filter(|m| m.dir.is_empty() || dir == m.dir || dir.starts_with(&format!("{}/", m.dir)))
            .max_by_key(|m| m.dir.len())?;
        let rest = dir[module.dir.len()..].trim_start_matches('/');
        Some(match rest.is_empty() {
            true => module.path.clone(),
            false => format!("{}/{rest}", module.path),
        })
    }

    fn classify(&self, path: &str) -> Import {
        if path == "C" {
            return Import::Cgo;
        }
        let owner = self
            .local_modules
            .iter()
            .filter(|m| path == m.path || path.starts_with(&format!("{}/", m.path)))
            .max_by_key(|m| m.path.len());
        match owner {
            Some(module) => {
                let rest = path[module.path.len()..].trim_start_matches('/');
                match package_dir(&module.dir, rest) {
                    Some(dir) => Import::Own(dir),
                    None => Import::External,
                }
            }
            None => Import::External,
        }
    }

    pub fn finish(self) -> GoSources {
        self.result
    }
}

enum Import {
    /// `import "C"`: cgo, not a package.
    Cgo,
    /// A package of the build's own modules, at this context directory.
    Own(String),
    /// The standard library or a dependency.
    External,
}

/// Whether `go build` may compile a file of this name: Go source, not a
/// test, not ignored (`_x.go`, `.x.go`), not for another OS by its name.
fn is_candidate(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".go") else {
        return false;
    };
    !stem.ends_with("_test") && !stem.starts_with(['_', '.']) && go_source::name_matches_os(stem)
}

/// A package's directory in the context: `package` ("./cmd/server", "cmd/x",
/// ".") relative to the module directory; None if it leaves the context.
pub fn package_dir(module_dir: &str, package: &str) -> Option<String> {
    let mut parts: Vec<&str> = module_dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in package.split('/') {
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

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The patterns of every `//go:embed` line of a file. Go only honours the
/// directive right above a `var`, but a directive anywhere only widens what
/// golb keeps, so lines are read as they come.
pub fn embed_patterns(text: &str) -> Vec<String> {
    let mut patterns = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("//go:embed") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        patterns.extend(split_patterns(rest));
    }
    patterns
}

/// Go's split of an embed line: space-separated words, each bare, "quoted"
/// or `raw`. A malformed rest is dropped: the compiler reports it.
fn split_patterns(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return words;
        };
        let mut word = String::new();
        match first {
            '"' => {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
                if !closed {
                    return words;
                }
            }
            '`' => {
                chars.next();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '`' {
                        closed = true;
                        break;
                    }
                    word.push(c);
                }
                if !closed {
                    return words;
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
}

/// The context include patterns for one embed pattern of a package in
/// `dir`: the matches themselves and, for directories, all below them
/// (`all:` only changes which hidden files Go takes; golb keeps them all).
fn include_patterns(dir: &str, pattern: &str) -> Vec<String> {
    let pattern = pattern.strip_prefix("all:").unwrap_or(pattern);
    // Go rejects these patterns itself; they can name nothing golb should keep.
    if pattern.is_empty()
        || pattern.starts_with('/')
        || pattern
            .split('/')
            .any(|p| p == ".." || p == "." || p.is_empty())
    {
        return Vec::new();
    }
    let at = join(dir, pattern);
    vec![at.clone(), format!("{at}/**")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(files: &[(&str, &str)]) -> GoModule {
        module_in("", files)
    }

    fn module_in(dir: &str, files: &[(&str, &str)]) -> GoModule {
        let files = files
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        GoModule::from_files(dir, &files).unwrap()
    }

    /// svc/, whose go.mod replaces example.com/lib with ../lib.
    fn svc_with_local_lib() -> GoModule {
        module_in(
            "svc",
            &[
                ("svc/go.mod", "module example.com/svc\n\ngo 1.26\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n"),
                ("lib/go.mod", "module example.com/lib\n\ngo 1.26\n"),
            ],
        )
    }

    fn binary(package: &str, tags: &[&str]) -> BinaryPlan {
        BinaryPlan {
            cgo: false,
            name: "b".into(),
            package: package.into(),
            ldflags: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            location: Default::default(),
        }
    }

    /// Walks an in-memory context to the end, counting the reading rounds.
    fn walk(
        module: &GoModule,
        binaries: &[BinaryPlan],
        context: &[(&str, &str)],
    ) -> (GoSources, usize) {
        let mut walk = PackageWalk::new(module, binaries);
        let mut rounds = 0;
        loop {
            let wanted = walk.wanted();
            if wanted.is_empty() {
                return (walk.finish(), rounds);
            }
            rounds += 1;
            for dir in wanted.list {
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                let names: Vec<String> = context
                    .iter()
                    .filter_map(|(p, _)| p.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(String::from)
                    .collect();
                walk.listed(&dir, (!names.is_empty()).then_some(names));
            }
            for path in wanted.read {
                let text = context
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, t)| t.as_bytes());
                walk.read(&path, text);
            }
        }
    }

    const GO_MOD: &str = "module example.com/app\n\ngo 1.26\n";

    #[test]
    fn follows_own_imports_and_collects_external_ones() {
        let module = module(&[("go.mod", GO_MOD)]);
        let context = [
            ("cmd/server/main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/app/internal/store\"\n\t\"google.golang.org/grpc\"\n)\n"),
            ("cmd/server/main_test.go", "package main\n\nimport \"testing\"\n"),
            ("cmd/server/main_windows.go", "package main\n\nimport \"golang.org/x/sys/windows\"\n"),
            ("internal/store/store.go", "package store\n\nimport \"database/sql\"\nimport \"C\"\n"),
            ("internal/store/store_plan9.go", "//go:build plan9\n\npackage store\n\nimport \"never/imported\"\n"),
            ("internal/unused/u.go", "package unused\n\nimport \"not/reached\"\n"),
        ];
        let (sources, rounds) = walk(&module, &[binary("./cmd/server", &[])], &context);
        let imports: Vec<&str> = sources.external_imports[&vec![]]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(imports, ["database/sql", "fmt", "google.golang.org/grpc"]);
        assert_eq!(
            sources.package_dirs.iter().collect::<Vec<_>>(),
            ["cmd/server", "internal/store"]
        );
        assert_eq!(rounds, 4, "list+read per level of the own import graph");
    }

    /// `go build -pgo=auto` reads default.pgo only from a main package's
    /// directory; one beside an imported package is not a profile.
    #[test]
    fn a_profile_counts_only_in_a_binary_s_package_directory() {
        let module = module(&[("go.mod", GO_MOD)]);
        let context = [
            (
                "cmd/server/main.go",
                "package main\n\nimport \"example.com/app/internal/store\"\n",
            ),
            ("cmd/server/default.pgo", "profile"),
            ("cmd/tool/main.go", "package main\n"),
            ("internal/store/store.go", "package store\n"),
            ("internal/store/default.pgo", "not a binary's"),
        ];
        let binaries = [binary("./cmd/server", &[]), binary("./cmd/tool", &[])];
        let (sources, _) = walk(&module, &binaries, &context);
        assert_eq!(
            sources.profiled_dirs.iter().collect::<Vec<_>>(),
            ["cmd/server"]
        );
    }

    #[test]
    fn tag_sets_are_walked_separately() {
        let module = module(&[("go.mod", GO_MOD)]);
        let context = [
            ("main.go", "package main\n\nimport \"fmt\"\n"),
            (
                "extra.go",
                "//go:build pro\n\npackage main\n\nimport \"net/http\"\n",
            ),
        ];
        let (sources, _) = walk(
            &module,
            &[binary(".", &[]), binary(".", &["pro"])],
            &context,
        );
        assert_eq!(sources.external_imports_for(&[]).unwrap().len(), 1);
        assert_eq!(
            sources
                .external_imports_for(&["pro".to_string()])
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["fmt", "net/http"]
        );
    }

    #[test]
    fn local_replacements_and_workspace_members_are_own_code() {
        let module = svc_with_local_lib();
        let context = [
            (
                "svc/main.go",
                "package main\n\nimport \"example.com/lib/greet\"\n",
            ),
            (
                "lib/greet/greet.go",
                "package greet\n\nimport \"strings\"\n",
            ),
        ];
        let (sources, _) = walk(&module, &[binary(".", &[])], &context);
        assert_eq!(
            sources.external_imports[&vec![]].iter().collect::<Vec<_>>(),
            ["strings"]
        );
        assert!(sources.package_dirs.contains("lib/greet"));
    }

    #[test]
    fn embed_patterns_become_include_patterns_in_the_package_dir() {
        let module = module(&[("go.mod", GO_MOD)]);
        let context = [(
            "web/web.go",
            "package web\n\nimport _ \"embed\"\n\n//go:embed static/*.css \"templates\" `a b.txt` all:.well-known\nvar files embed.FS\n\n//go:embed ../escape /abs\nvar bad string\n",
        ), ("main.go", "package main\n\nimport \"example.com/app/web\"\n")];
        let (sources, _) = walk(&module, &[binary(".", &[])], &context);
        let patterns: Vec<&str> = sources.embed_patterns.iter().map(String::as_str).collect();
        assert_eq!(
            patterns,
            [
                "web/.well-known",
                "web/.well-known/**",
                "web/a b.txt",
                "web/a b.txt/**",
                "web/static/*.css",
                "web/static/*.css/**",
                "web/templates",
                "web/templates/**",
            ]
        );
        // By import path, as written, for the size step; the bad ones dropped.
        assert_eq!(sources.embedding_packages.len(), 1);
        let web = &sources.embedding_packages["example.com/app/web"];
        assert_eq!(web.dir, "web");
        let written: Vec<&str> = web.patterns.iter().map(String::as_str).collect();
        assert_eq!(
            written,
            ["a b.txt", "all:.well-known", "static/*.css", "templates"]
        );
    }

    #[test]
    fn embedding_packages_are_named_by_their_own_module() {
        let module = svc_with_local_lib();
        let context = [
            (
                "svc/main.go",
                "package main\n\nimport \"example.com/lib/pages\"\n\n//go:embed index.html\nvar index string\n",
            ),
            ("lib/pages/pages.go", "package pages\n\n//go:embed *.tmpl\nvar t string\n"),
        ];
        let (sources, _) = walk(&module, &[binary(".", &[])], &context);
        let named: Vec<(&str, &str)> = sources
            .embedding_packages
            .iter()
            .map(|(path, p)| (path.as_str(), p.dir.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("example.com/lib/pages", "lib/pages"),
                ("example.com/svc", "svc")
            ]
        );
    }

    #[test]
    fn a_missing_package_or_unreadable_file_ends_the_walk_quietly() {
        let module = module(&[("go.mod", GO_MOD)]);
        let (sources, _) = walk(&module, &[binary("./cmd/gone", &[])], &[]);
        assert!(sources.package_dirs.is_empty());
        assert!(sources.external_imports[&vec![]].is_empty());
    }

    #[test]
    fn package_dirs_stay_in_the_context() {
        assert_eq!(package_dir("", "./cmd/x").as_deref(), Some("cmd/x"));
        assert_eq!(package_dir("svc", ".").as_deref(), Some("svc"));
        assert_eq!(package_dir("svc", "../lib").as_deref(), Some("lib"));
        assert_eq!(package_dir("", "../x"), None);
    }
}
