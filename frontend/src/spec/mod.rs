//! The golb spec: a short TOML file that says what to build, never how.
//!
//! Parsing goes in two steps, as the Dockerfile frontend does: TOML is read
//! into spanned raw tables (`raw`), then each value is checked and given its
//! meaning here. Every problem carries the file, line and column it came from.

pub mod location;
pub(crate) mod raw;

pub use location::Location;

use golb_proto::llb::Platform;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// The runtime base golb uses when the spec names none: static, distroless, non-root.
pub const DEFAULT_RUNTIME_BASE: &str = "gcr.io/distroless/static-debian12:nonroot";

/// The spec file as read: its name (as the user gave it) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecFile {
    pub name: String,
    pub text: String,
}

/// A value together with where the spec wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub location: Location,
}

/// A checked spec. Optional fields are the ones whose default depends on the
/// module being built (go.mod) or on the base image; the plan fills them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub file: SpecFile,
    pub builder: Builder,
    pub binaries: Vec<Binary>,
    pub runtime: Runtime,
    pub test: Test,
    pub modules: Modules,
    /// Build arguments the spec declares, with their defaults; `${NAME}` in ldflags.
    pub args: BTreeMap<String, Located<String>>,
    /// Files copied into the runtime image, one layer each.
    pub files: Vec<RuntimeFile>,
    pub vuln: Vuln,
}

/// govulncheck's database and what image builds do with its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vuln {
    /// govulncheck's `-db`.
    pub db: Located<String>,
    /// Image builds fail when the code calls a vulnerability not in `ignore`.
    pub gate: bool,
    pub ignore: Vec<String>,
    /// Image builds attach the OpenVEX document as an attestation.
    pub attest: bool,
    pub location: Option<Location>,
}

/// The public database govulncheck reads by default.
pub const DEFAULT_VULN_DB: &str = "https://vuln.go.dev";

impl Default for Vuln {
    fn default() -> Vuln {
        Vuln {
            db: Located {
                value: DEFAULT_VULN_DB.to_string(),
                location: Location::TOP,
            },
            gate: false,
            ignore: Vec::new(),
            attest: false,
            location: None,
        }
    }
}

impl Vuln {
    /// Whether image builds run govulncheck beside the image.
    pub fn scans_images(&self) -> bool {
        self.gate || self.attest
    }
}

/// How dependencies are fetched: the Go environment of the download step.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Modules {
    pub proxy: Option<Located<String>>,
    pub private: Option<Located<String>>,
    pub nosumdb: Option<Located<String>>,
    pub noproxy: Option<Located<String>>,
    pub flags: Option<Located<String>>,
    /// Module path prefixes fetched with git over SSH (`--ssh default`), e.g. "github.com/acme".
    pub ssh: Vec<String>,
    /// Where the spec writes `ssh`, for checks about it.
    pub ssh_location: Option<Location>,
    /// OpenSSH known_hosts lines the download step's ssh trusts, and only these.
    pub known_hosts: Vec<Located<String>>,
    pub location: Option<Location>,
}

/// A file or directory of the context copied into the runtime image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeFile {
    /// Relative to the context root.
    pub src: String,
    /// Absolute path in the image.
    pub dest: String,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits for every copied file; None keeps the context's.
    pub mode: Option<u32>,
    pub location: Location,
}

/// Build arguments golb defines itself; `[args]` may not redeclare them.
pub const BUILTIN_ARGS: [&str; 14] = [
    "SIZE_BASELINE",
    "VERSION",
    "VCS_REVISION",
    "VCS_SOURCE",
    "SOURCE_DATE_EPOCH",
    "GO_VERSION",
    "BUILDER_IMAGE",
    "RUNTIME_BASE",
    "GOPROXY",
    "GOPRIVATE",
    "GONOSUMDB",
    "GONOPROXY",
    "GOFLAGS",
    "TARGETPLATFORM",
];

/// What the `test` and `vet` targets run over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Test {
    /// Package patterns relative to the module root; default `["./..."]`.
    pub packages: Vec<String>,
    /// Extra `go test` flags, e.g. `["-count=1", "-v"]`.
    pub flags: Vec<String>,
    pub location: Option<Location>,
}

impl Default for Test {
    fn default() -> Test {
        Test {
            packages: vec!["./...".to_string()],
            flags: Vec::new(),
            location: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Builder {
    /// The Go release to build with, e.g. "1.26": selects the builder image `golang:<go>`.
    pub go: Option<Located<String>>,
    /// An explicit builder image; wins over `go`.
    pub image: Option<Located<String>>,
    /// The module's directory in the context ("" for the root): where go.mod (or go.work) is.
    pub module_dir: String,
    /// `[builder.cc]`: the C compiler cgo uses for each target platform named.
    pub cc: Vec<CrossCompiler>,
    pub location: Option<Location>,
}

/// One entry of `[builder.cc]`: for `platform`, cgo compiles with `command`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossCompiler {
    pub platform: Located<Platform>,
    pub command: Located<String>,
}

impl Builder {
    /// The C compiler the spec names for `target`, if it names one.
    pub fn cc_for(&self, target: &Platform) -> Option<&Located<String>> {
        self.cc
            .iter()
            .find(|c| same_platform(&c.platform.value, target))
            .map(|c| &c.command)
    }

    /// The command of [`Builder::cc_for`], as Go's `CC` takes it.
    pub fn cc_command(&self, target: &Platform) -> Option<&str> {
        self.cc_for(target).map(|cc| cc.value.as_str())
    }
}

/// Whether two platforms are the same target for Go: OS, architecture and
/// variant (GOOS, GOARCH, GOARM), whatever else a platform string carries.
pub fn same_platform(a: &Platform, b: &Platform) -> bool {
    a.os == b.os && a.architecture == b.architecture && a.variant == b.variant
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    /// A main package, relative to the module root: "." or "./cmd/server".
    pub package: Located<String>,
    /// The file name in the image; defaults to the package's last path element.
    pub name: Option<Located<String>>,
    /// Added after the flags golb always sets (`-s -w -buildid=`).
    pub ldflags: Vec<Located<String>>,
    pub tags: Vec<Located<String>>,
    /// `cgo = true`: CGO_ENABLED=1 for this binary.
    pub cgo: Option<Located<bool>>,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Runtime {
    /// A preset name (`crate::preset`) or an image reference.
    pub base: Option<Located<String>>,
    /// `timezones = true`: the image carries zone data (`crate::preset`).
    pub timezones: Option<Located<bool>>,
    /// `compress = "upx"`: the image's binaries packed by UPX from `upx_image`.
    pub upx_image: Option<Located<String>>,
    /// The size gate's budgets, in bytes (`crate::size::gate`).
    pub max_image_size: Option<Located<u64>>,
    pub max_layer_size: Option<Located<u64>>,
    pub max_growth: Option<Located<u64>>,
    /// The growth budget's baseline image (build arg SIZE_BASELINE).
    pub size_baseline: Option<Located<String>>,
    pub user: Option<Located<String>>,
    pub entrypoint: Option<Located<Vec<String>>>,
    pub args: Option<Located<Vec<String>>>,
    pub env: BTreeMap<String, String>,
    pub expose: Vec<Port>,
    pub labels: BTreeMap<String, String>,
    pub workdir: Option<Located<String>>,
    pub location: Option<Location>,
}

/// A port the image declares, as `ExposedPorts` spells it ("8080/tcp").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        };
        write!(f, "{}/{}", self.number, proto)
    }
}

/// One problem in a spec, where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{location}: {message}")]
pub struct SpecError {
    pub file: String,
    pub location: Location,
    pub message: String,
}

/// Every problem found in a spec, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl Spec {
    /// Reads and checks a spec. Returns every problem found, not only the first.
    pub fn parse(name: &str, text: &str) -> Result<Spec, SpecErrors> {
        let file = SpecFile {
            name: name.to_string(),
            text: text.to_string(),
        };
        let raw: raw::RawSpec = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            SpecErrors(vec![SpecError {
                file: name.to_string(),
                location: crate::spec::location::locate(text, span),
                message: explain_toml_error(e.message()),
            }])
        })?;
        let mut check = Checker {
            file: &file,
            errors: Vec::new(),
        };
        let spec = check.spec(raw);
        if check.errors.is_empty() {
            Ok(spec)
        } else {
            let mut errors = check.errors;
            errors.sort_by_key(|e| (e.location.line, e.location.col));
            Err(SpecErrors(errors))
        }
    }

    /// Reads and checks a spec as the client sent it: bytes that must be
    /// UTF-8. Bytes that are not give a located error, never a lossy guess
    /// (a replaced byte inside a string would silently change a value).
    pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Spec, SpecErrors> {
        Spec::parse(name, decode(name, bytes)?)
    }

    /// The location of a table or key, for errors found after parsing.
    pub fn error_at(&self, location: Location, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.name.clone(),
            location,
            message: message.into(),
        }
    }
}

/// The spec's text, or an error at the line and column of the first byte
/// that is not UTF-8, naming the byte and the fix.
pub fn decode<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, SpecErrors> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        // The prefix is valid UTF-8 by definition of valid_up_to.
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let bad = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
        SpecErrors(vec![SpecError {
            file: name.to_string(),
            location: crate::spec::location::locate(before, before.len()..before.len()),
            message: format!(
                "the spec is not UTF-8 text (byte 0x{bad:02x} at offset {}): TOML files are UTF-8; \
                 re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
                e.valid_up_to()
            ),
        }])
    })
}

/// The toml crate's messages say what is wrong but not the fix; add the fix.
fn explain_toml_error(message: &str) -> String {
    // Multi-line messages (syntax errors) read better on one line in buildx's output.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let fix = if message.starts_with("unknown field") {
        "golb refuses unknown keys: check the spelling against docs/spec.md"
    } else if message.starts_with("duplicate key") {
        "each key and table may appear once: remove or merge the repeated one"
    } else if message.starts_with("missing field") {
        "add it (docs/spec.md lists every key)"
    } else if message.starts_with("invalid type") {
        match message.rsplit("expected ").next().unwrap_or_default() {
            "a string" => "write the value in double quotes, e.g. go = \"1.26\"",
            "a sequence" => "write a list in brackets, e.g. [\"-X main.version=1.2.3\"]",
            "a map" => "write a table, e.g. { KEY = \"value\" }",
            _ => "see docs/spec.md for the type of each key",
        }
    } else {
        "this is not valid TOML: fix the syntax at this place (https://toml.io)"
    };
    format!("{message}; {fix}")
}

/// An OSV ID as govulncheck reports it: a prefix, a dash, and a rest of
/// letters, digits and dashes ("GO-2024-1234", "GHSA-xxxx-xxxx-xxxx", "CVE-2024-1234").
fn is_vuln_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((prefix, rest)) => {
            !prefix.is_empty()
                && prefix.chars().all(|c| c.is_ascii_uppercase())
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }
        None => false,
    }
}

struct Checker<'a> {
    file: &'a SpecFile,
    errors: Vec<SpecError>,
}

impl Checker<'_> {
    fn locate<T>(&self, spanned: &Spanned<T>) -> Location {
        crate::spec::location::locate(&self.file.text, spanned.span())
    }

    /// A table from its header to its last key, so source maps show all of it.
    fn locate_table<T>(
        &self,
        table: &Spanned<T>,
        field_ends: impl IntoIterator<Item = usize>,
    ) -> Location {
        let span = table.span();
        let end = field_ends.into_iter().fold(span.end, usize::max);
        crate::spec::location::locate(&self.file.text, span.start..end)
    }

    fn located<T: Clone>(&self, spanned: &Spanned<T>) -> Located<T> {
        Located {
            value: spanned.get_ref().clone(),
            location: self.locate(spanned),
        }
    }

    fn error(&mut self, location: Location, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.name.clone(),
            location,
            message: message.into(),
        });
    }

    fn spec(&mut self, raw: raw::RawSpec) -> Spec {
        let builder = raw.builder.map(|b| self.builder(&b)).unwrap_or_default();
        let binaries: Vec<Binary> = raw.binary.iter().map(|b| self.binary(b)).collect();
        self.unique_binary_names(&binaries);
        let runtime = raw.runtime.map(|r| self.runtime(&r)).unwrap_or_default();
        let test = raw.test.map(|t| self.test(&t)).unwrap_or_default();
        let modules = raw.modules.map(|m| self.modules(&m)).unwrap_or_default();
        let args = self.args(&raw.args);
        let files = raw
            .file
            .iter()
            .filter_map(|f| self.runtime_file(f))
            .collect();
        let vuln = raw.vuln.map(|v| self.vuln(&v)).unwrap_or_default();
        let spec = Spec {
            file: self.file.clone(),
            builder,
            binaries,
            runtime,
            test,
            modules,
            args,
            files,
            vuln,
        };
        self.ldflag_references(&spec);
        spec
    }

    fn builder(&mut self, table: &Spanned<raw::RawBuilder>) -> Builder {
        let raw = table.get_ref();
        if let Some(go) = &raw.go {
            if !is_go_release(go.get_ref()) {
                self.error(
                    self.locate(go),
                    format!(
                        "go = {:?} is not a Go release; write it as \"1.26\" or \"1.26.3\"",
                        go.get_ref()
                    ),
                );
            }
        }
        if let Some(image) = &raw.image {
            self.image_reference(image, "builder image");
        }
        let module_dir = match &raw.module {
            Some(dir) => self.context_path(dir, "module", true).unwrap_or_default(),
            None => String::new(),
        };
        let cc = raw
            .cc
            .iter()
            .filter_map(|(platform, command)| self.cross_compiler(platform, command))
            .collect();
        Builder {
            module_dir,
            go: raw.go.as_ref().map(|g| self.located(g)),
            image: raw.image.as_ref().map(|i| self.located(i)),
            cc,
            location: Some(self.locate(table)),
        }
    }

    fn cross_compiler(
        &mut self,
        platform: &Spanned<String>,
        command: &Spanned<String>,
    ) -> Option<CrossCompiler> {
        let parsed = match Platform::parse(platform.get_ref()) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.error(
                    self.locate(platform),
                    format!("[builder.cc] keys are target platforms, e.g. \"linux/arm64\": {e}"),
                );
                return None;
            }
        };
        if command.get_ref().trim().is_empty() {
            self.error(
                self.locate(command),
                format!(
                    "the C compiler for {parsed} is empty: name the builder's cross compiler, e.g. \"aarch64-linux-gnu-gcc\""
                ),
            );
            return None;
        }
        Some(CrossCompiler {
            platform: Located {
                value: parsed,
                location: self.locate(platform),
            },
            command: self.located(command),
        })
    }

    fn binary(&mut self, table: &Spanned<raw::RawBinary>) -> Binary {
        let raw = table.get_ref();
        let ends = [
            raw.package.as_ref().map(|p| p.span().end),
            raw.name.as_ref().map(|n| n.span().end),
        ]
        .into_iter()
        .flatten()
        .chain(raw.ldflags.iter().chain(&raw.tags).map(|v| v.span().end));
        let location = self.locate_table(table, ends);
        let package = match &raw.package {
            Some(p) => {
                self.package_path(p);
                self.located(p)
            }
            None => {
                self.error(
                    location,
                    "[[binary]] needs `package`: the main package to build, e.g. package = \"./cmd/server\"",
                );
                Located {
                    value: ".".to_string(),
                    location,
                }
            }
        };
        if let Some(name) = &raw.name {
            if !is_file_name(name.get_ref()) {
                self.error(
                    self.locate(name),
                    format!(
                        "name = {:?} is not a valid file name: use letters, digits, '.', '_' or '-'",
                        name.get_ref()
                    ),
                );
            }
        }
        for flag in &raw.ldflags {
            if let Some(why) = forbidden_ldflag(flag.get_ref()) {
                self.error(self.locate(flag), why);
            }
        }
        for tag in &raw.tags {
            if !is_build_tag(tag.get_ref()) {
                self.error(
                    self.locate(tag),
                    format!(
                        "tag {:?} is not a Go build tag: use letters, digits, '_' and '.' only, one tag per string",
                        tag.get_ref()
                    ),
                );
            }
        }
        Binary {
            package,
            name: raw.name.as_ref().map(|n| self.located(n)),
            ldflags: raw.ldflags.iter().map(|f| self.located(f)).collect(),
            tags: raw.tags.iter().map(|t| self.located(t)).collect(),
            cgo: raw.cgo.as_ref().map(|c| self.located(c)),
            location,
        }
    }

    fn unique_binary_names(&mut self, binaries: &[Binary]) {
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for binary in binaries {
            let Some(name) = default_binary_name(binary) else {
                continue;
            };
            let at = binary.name.as_ref().map_or(binary.location, |n| n.location);
            if let Some(first) = seen.get(&name) {
                let message = format!(
                    "a binary named {name:?} is already built (line {}); give this one another `name`",
                    first.line
                );
                self.error(at, message);
            } else {
                seen.insert(name, at);
            }
        }
    }

    fn runtime(&mut self, table: &Spanned<raw::RawRuntime>) -> Runtime {
        let raw = table.get_ref();
        if let Some(base) = &raw.base {
            self.image_reference(base, "runtime base");
        }
        if let Some(user) = &raw.user {
            if user.get_ref().trim().is_empty() || user.get_ref().contains(char::is_whitespace) {
                self.error(
                    self.locate(user),
                    "user must be a name or uid (write it without spaces), optionally \":group\", e.g. \"65532:65532\"",
                );
            }
        }
        if let Some(entrypoint) = &raw.entrypoint {
            if entrypoint.get_ref().is_empty() || entrypoint.get_ref()[0].is_empty() {
                self.error(
                    self.locate(entrypoint),
                    "entrypoint must name the program to run, e.g. [\"/usr/local/bin/server\"]",
                );
            }
        }
        let mut env = BTreeMap::new();
        for (key, value) in &raw.env {
            if !is_env_name(key.get_ref()) {
                self.error(
                    self.locate(key),
                    format!(
                        "{:?} is not a valid environment variable name: use a name without '=' or spaces, e.g. LOG_LEVEL",
                        key.get_ref()
                    ),
                );
            }
            env.insert(key.get_ref().clone(), value.get_ref().clone());
        }
        let mut labels = BTreeMap::new();
        for (key, value) in &raw.labels {
            if key.get_ref().trim().is_empty() {
                self.error(
                    self.locate(key),
                    "a label needs a non-empty key, e.g. \"org.opencontainers.image.source\"",
                );
            }
            labels.insert(key.get_ref().clone(), value.get_ref().clone());
        }
        let mut expose: Vec<Port> = raw.expose.iter().filter_map(|p| self.port(p)).collect();
        expose.sort();
        expose.dedup();
        if let Some(workdir) = &raw.workdir {
            if !workdir.get_ref().starts_with('/') {
                self.error(
                    self.locate(workdir),
                    "workdir must be an absolute path, e.g. \"/home/nonroot\"",
                );
            }
        }
        Runtime {
            base: raw.base.as_ref().map(|b| self.located(b)),
            timezones: raw.timezones.as_ref().map(|t| self.located(t)),
            upx_image: self.compress(raw),
            max_image_size: self.budget(raw.max_image_size.as_ref(), "max_image_size"),
            max_layer_size: self.budget(raw.max_layer_size.as_ref(), "max_layer_size"),
            max_growth: self.budget(raw.max_growth.as_ref(), "max_growth"),
            size_baseline: None,
            user: raw.user.as_ref().map(|u| self.located(u)),
            entrypoint: raw.entrypoint.as_ref().map(|e| self.located(e)),
            args: raw.args.as_ref().map(|a| self.located(a)),
            env,
            expose,
            labels,
            workdir: raw.workdir.as_ref().map(|w| self.located(w)),
            location: Some(self.locate(table)),
        }
    }

    fn test(&mut self, table: &Spanned<raw::RawTest>) -> Test {
        let raw = table.get_ref();
        let mut test = Test {
            location: Some(self.locate(table)),
            ..Test::default()
        };
        if let Some(packages) = &raw.packages {
            for package in packages.get_ref() {
                let p = package.get_ref();
                let inside =
                    (p == "." || p.starts_with("./")) && !p.split('/').any(|part| part == "..");
                if !inside {
                    self.error(
                        self.locate(package),
                        format!("test package {p:?} must be a pattern inside the module: write e.g. \"./...\" or \"./internal/...\""),
                    );
                }
            }
            test.packages = packages
                .get_ref()
                .iter()
                .map(|p| p.get_ref().clone())
                .collect();
            if test.packages.is_empty() {
                self.error(
                    self.locate(packages),
                    "packages must name at least one pattern, e.g. [\"./...\"]",
                );
            }
        }
        if let Some(flags) = &raw.flags {
            for flag in flags.get_ref() {
                if let Some(why) = forbidden_test_flag(flag.get_ref()) {
                    self.error(self.locate(flag), why);
                }
            }
            test.flags = flags
                .get_ref()
                .iter()
                .map(|f| f.get_ref().clone())
                .collect();
        }
        test
    }

    /// A path inside the build context, normalized ("./a/b/" → "a/b"; "." → "").
    fn context_path(
        &mut self,
        path: &Spanned<String>,
        key: &str,
        allow_root: bool,
    ) -> Option<String> {
        let p = path.get_ref();
        let parts: Vec<&str> = p
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect();
        let escapes = p.starts_with('/') || parts.contains(&"..") || p.contains('\\');
        if escapes || (parts.is_empty() && !allow_root) {
            self.error(
                self.locate(path),
                format!("{key} = {p:?} must be a relative path inside the build context, e.g. \"services/api\" (no '..', not absolute)"),
            );
            return None;
        }
        Some(parts.join("/"))
    }

    fn vuln(&mut self, table: &Spanned<raw::RawVuln>) -> Vuln {
        let raw = table.get_ref();
        let location = self.locate(table);
        let db = match &raw.db {
            Some(db) => {
                let url = db.get_ref();
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                let host = url.split_once("://").map_or("", |(_, rest)| rest);
                if !scheme_ok || host.is_empty() || url.contains(char::is_whitespace) {
                    self.error(
                        self.locate(db),
                        format!("db = {url:?} is not a database URL: write e.g. \"https://vuln.go.dev\" (https:// or http://; serve a local copy over HTTP)"),
                    );
                }
                self.located(db)
            }
            None => Located {
                value: DEFAULT_VULN_DB.to_string(),
                location,
            },
        };
        let ignore: &[Spanned<String>] = raw.ignore.as_ref().map_or(&[], |i| i.get_ref());
        for id in ignore {
            if !is_vuln_id(id.get_ref()) {
                self.error(
                    self.locate(id),
                    format!(
                        "ignore entry {:?} is not a vulnerability ID: write the ID govulncheck reports, e.g. \"GO-2024-1234\"",
                        id.get_ref()
                    ),
                );
            }
        }
        Vuln {
            db,
            gate: raw.gate.as_ref().is_some_and(|g| *g.get_ref()),
            ignore: ignore.iter().map(|i| i.get_ref().clone()).collect(),
            attest: raw.attest.as_ref().is_some_and(|a| *a.get_ref()),
            location: Some(location),
        }
    }

    fn modules(&mut self, table: &Spanned<raw::RawModules>) -> Modules {
        let raw = table.get_ref();
        for value in [&raw.proxy, &raw.private, &raw.nosumdb, &raw.noproxy]
            .into_iter()
            .flatten()
        {
            if value.get_ref().contains(char::is_whitespace) {
                self.error(
                    self.locate(value),
                    "write a comma-separated list without spaces, as Go reads it, e.g. \"https://proxy.example.com,direct\"",
                );
            }
        }
        if let Some(flags) = &raw.flags {
            if let Some(why) = flags
                .get_ref()
                .split_whitespace()
                .find_map(forbidden_goflag)
            {
                self.error(self.locate(flags), why);
            }
        }
        let ssh: &[Spanned<String>] = raw.ssh.as_ref().map_or(&[], |s| s.get_ref());
        for prefix in ssh {
            let p = prefix.get_ref();
            if p.is_empty()
                || p.contains("://")
                || p.contains(char::is_whitespace)
                || !p.contains('.')
            {
                self.error(
                    self.locate(prefix),
                    format!(
                        "ssh entry {p:?} must be a module path prefix: write e.g. \"github.com/acme\""
                    ),
                );
            }
        }
        let known_hosts: &[Spanned<String>] = raw.known_hosts.as_ref().map_or(&[], |k| k.get_ref());
        for line in known_hosts {
            if let Err(why) = check_known_hosts_line(line.get_ref()) {
                self.error(
                    self.locate(line),
                    format!(
                        "known_hosts entry {:?} is not an OpenSSH known_hosts line: {why}; write one line \
                         `host keytype base64key` per entry, as `ssh-keyscan <host>` prints it",
                        line.get_ref()
                    ),
                );
            }
        }
        if let (Some(hosts), true) = (&raw.known_hosts, ssh.is_empty()) {
            self.error(
                self.locate(hosts),
                "known_hosts is only used for [modules] ssh fetches: add ssh = [\"<host>/<org>\"] or remove it",
            );
        }
        Modules {
            proxy: raw.proxy.as_ref().map(|v| self.located(v)),
            private: raw.private.as_ref().map(|v| self.located(v)),
            nosumdb: raw.nosumdb.as_ref().map(|v| self.located(v)),
            noproxy: raw.noproxy.as_ref().map(|v| self.located(v)),
            flags: raw.flags.as_ref().map(|v| self.located(v)),
            ssh: ssh
                .iter()
                .map(|p| p.get_ref().trim_end_matches('/').to_string())
                .collect(),
            ssh_location: raw.ssh.as_ref().map(|s| self.locate(s)),
            known_hosts: known_hosts.iter().map(|l| self.located(l)).collect(),
            location: Some(self.locate(table)),
        }
    }

    fn args(
        &mut self,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> BTreeMap<String, Located<String>> {
        let mut args = BTreeMap::new();
        for (name, value) in raw {
            let n = name.get_ref();
            let valid = n
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.error(self.locate(name), format!("build arg name {n:?} must be letters, digits and '_', e.g. RELEASE_CHANNEL"));
            } else if BUILTIN_ARGS.contains(&n.as_str()) && n != "VERSION" {
                self.error(self.locate(name), format!("{n} is a build arg golb defines itself (see docs/spec.md); pass it with --build-arg instead"));
            }
            args.insert(n.clone(), self.located(value));
        }
        args
    }

    fn runtime_file(&mut self, table: &Spanned<raw::RawFile>) -> Option<RuntimeFile> {
        let raw = table.get_ref();
        let ends = [&raw.src, &raw.dest, &raw.owner, &raw.mode]
            .into_iter()
            .flatten()
            .map(|v| v.span().end);
        let location = self.locate_table(table, ends);
        let Some(src) = &raw.src else {
            self.error(
                location,
                "[[file]] needs `src`: a path in the build context, e.g. src = \"config/app.yaml\"",
            );
            return None;
        };
        let src = self.context_path(src, "src", false)?;
        let dest = match &raw.dest {
            Some(dest)
                if dest.get_ref().starts_with('/')
                    && !dest.get_ref().split('/').any(|p| p == "..") =>
            {
                dest.get_ref().clone()
            }
            Some(dest) => {
                self.error(self.locate(dest), "dest must be an absolute path in the image without '..', e.g. \"/etc/app/app.yaml\"");
                return None;
            }
            None => {
                self.error(location, "[[file]] needs `dest`: the absolute path in the image, e.g. dest = \"/etc/app/app.yaml\"");
                return None;
            }
        };
        let (uid, gid) = match &raw.owner {
            Some(owner) => match parse_owner(owner.get_ref()) {
                Some(ids) => ids,
                None => {
                    self.error(
                        self.locate(owner),
                        "owner must be numeric \"uid\" or \"uid:gid\", e.g. \"65532:65532\"",
                    );
                    return None;
                }
            },
            None => (0, 0),
        };
        let mode = match &raw.mode {
            Some(mode) => {
                match u32::from_str_radix(mode.get_ref().trim_start_matches("0o"), 8) {
                    Ok(bits) if bits <= 0o7777 => Some(bits),
                    _ => {
                        self.error(self.locate(mode), "mode must be octal permission bits as a string, e.g. \"0644\" or \"0755\"");
                        return None;
                    }
                }
            }
            None => None,
        };
        Some(RuntimeFile {
            src,
            dest,
            uid,
            gid,
            mode,
            location,
        })
    }

    /// `${NAME}` in ldflags must name a declared or built-in build arg.
    fn ldflag_references(&mut self, spec: &Spec) {
        for binary in &spec.binaries {
            for flag in &binary.ldflags {
                for name in template_names(&flag.value) {
                    let known =
                        spec.args.contains_key(&name) || BUILTIN_ARGS.contains(&name.as_str());
                    if !known {
                        self.error(
                            flag.location,
                            format!("ldflags entry {:?} uses ${{{name}}}, which is not a build arg: declare it in [args], e.g. {name} = \"default\"", flag.value),
                        );
                    }
                }
            }
        }
    }

    fn port(&mut self, value: &Spanned<toml::Value>) -> Option<Port> {
        let parsed = match value.get_ref() {
            toml::Value::Integer(n) => port_number(*n).map(|number| Port {
                number,
                protocol: Protocol::Tcp,
            }),
            toml::Value::String(s) => parse_port(s),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                self.locate(value),
                "write a port as a number from 1 to 65535, or a string like \"8080/tcp\" or \"53/udp\"",
            );
        }
        parsed
    }

    fn package_path(&mut self, package: &Spanned<String>) {
        let p = package.get_ref();
        let relative = p == "." || p.starts_with("./");
        let escapes = p.split('/').any(|part| part == "..");
        if !relative || escapes || p.contains("...") || p.contains('\\') {
            self.error(
                self.locate(package),
                format!(
                    "package = {p:?} must be one main package inside the module, relative to its root: write e.g. \".\" or \"./cmd/server\""
                ),
            );
        }
    }

    /// `compress = "upx"` with the image `upx_image` names.
    fn compress(&mut self, raw: &raw::RawRuntime) -> Option<Located<String>> {
        if let Some(compress) = &raw.compress {
            if compress.get_ref() != "upx" {
                self.error(
                    self.locate(compress),
                    format!(
                        "compress = {:?}: golb knows only \"upx\"",
                        compress.get_ref()
                    ),
                );
                return None;
            }
        }
        match (&raw.compress, &raw.upx_image) {
            (Some(_), Some(image)) => {
                self.image_reference(image, "upx_image");
                Some(self.located(image))
            }
            (Some(compress), None) => {
                self.error(
                    self.locate(compress),
                    "compress = \"upx\" needs the image that holds UPX: upx_image = \"registry.example.com/tools/upx:4.2.2@sha256:…\"",
                );
                None
            }
            (None, Some(image)) => {
                self.error(
                    self.locate(image),
                    "upx_image is only used with compress = \"upx\"; add it or remove upx_image",
                );
                None
            }
            (None, None) => None,
        }
    }

    /// A size budget (`"5MB"`), in bytes.
    fn budget(&mut self, value: Option<&Spanned<String>>, key: &str) -> Option<Located<u64>> {
        let value = value?;
        match crate::size::gate::parse_bytes(value.get_ref()) {
            Ok(bytes) => Some(Located {
                value: bytes,
                location: self.locate(value),
            }),
            Err(why) => {
                self.error(
                    self.locate(value),
                    format!("{key}: {why}; write it like \"40MB\", \"512kB\" or \"20MiB\""),
                );
                None
            }
        }
    }

    fn image_reference(&mut self, reference: &Spanned<String>, what: &str) {
        let r = reference.get_ref();
        if crate::image_ref::ImageRef::parse(r).is_err() {
            self.error(
                self.locate(reference),
                format!("{what} {r:?} is not an image reference: write one like \"golang:1.26\" or \"registry.example.com/team/base@sha256:…\""),
            );
        }
    }
}

/// The file name a binary gets when the spec gives none: the package's last
/// path element. `None` for the module root, whose name comes from go.mod.
pub fn default_binary_name(binary: &Binary) -> Option<String> {
    if let Some(name) = &binary.name {
        return Some(name.value.clone());
    }
    let package = binary.package.value.trim_end_matches('/');
    let last = package.rsplit('/').next().unwrap_or(package);
    (last != "." && !last.is_empty()).then(|| last.to_string())
}

fn is_go_release(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (parts.len() == 2 || parts.len() == 3)
        && parts.iter().enumerate().all(|(i, part)| {
            let digits =
                part.trim_end_matches(|c: char| c.is_ascii_alphanumeric() && !c.is_ascii_digit());
            // Allow a pre-release suffix on the last part only ("1.26rc1").
            let suffix_ok = i == parts.len() - 1 || digits.len() == part.len();
            !part.is_empty()
                && part.chars().next().is_some_and(|c| c.is_ascii_digit())
                && suffix_ok
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

fn is_file_name(v: &str) -> bool {
    !v.is_empty()
        && v != "."
        && v != ".."
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_build_tag(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
}

fn is_env_name(v: &str) -> bool {
    !v.is_empty() && !v.contains('=') && !v.contains(char::is_whitespace)
}

/// ldflags that would undo what golb guarantees (a stripped, reproducible, static binary).
fn forbidden_ldflag(flag: &str) -> Option<String> {
    for word in flag.split_whitespace() {
        let name = word.trim_start_matches('-');
        let name = name.split('=').next().unwrap_or(name);
        let why = match name {
            "buildid" => "golb sets -buildid= itself so builds are reproducible",
            "s" | "w" if word.contains('=') => "golb always strips symbols and DWARF (-s -w)",
            "linkmode" | "extld" | "extldflags" => {
                "golb links statically with the Go linker (CGO_ENABLED=0)"
            }
            _ => continue,
        };
        return Some(format!(
            "ldflags entry {flag:?} is not allowed: {why}; remove it"
        ));
    }
    None
}

/// The `${NAME}` references in a string; `$` not followed by `{` is literal.
pub fn template_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                names.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    names
}

fn parse_owner(owner: &str) -> Option<(u32, u32)> {
    match owner.split_once(':') {
        Some((uid, gid)) => Some((uid.parse().ok()?, gid.parse().ok()?)),
        None => {
            let uid = owner.parse().ok()?;
            Some((uid, uid))
        }
    }
}

/// GOFLAGS entries golb owns: they would change how it builds.
fn forbidden_goflag(flag: &str) -> Option<String> {
    let name = flag.trim_start_matches('-');
    let name = name.split('=').next().unwrap_or(name);
    matches!(
        name,
        "mod" | "trimpath" | "buildvcs" | "ldflags" | "tags" | "o" | "toolexec" | "overlay"
    )
    .then(|| format!("GOFLAGS entry {flag:?} is not allowed: golb sets -{name} itself; remove it"))
}

/// `go test` flags golb sets itself, or that cannot work in its builder.
fn forbidden_test_flag(flag: &str) -> Option<String> {
    let name = flag.trim_start_matches('-');
    let name = name.split('=').next().unwrap_or(name);
    let why = match name {
        "race" | "msan" | "asan" => "it needs cgo, and golb builds with CGO_ENABLED=0",
        "o" | "c" | "exec" | "json" => {
            "the test target runs the tests in the builder and exports a coverage profile"
        }
        "coverprofile" => "golb writes the coverage profile to the test target's output itself",
        "mod" | "trimpath" | "buildvcs" | "tags" | "ldflags" => {
            "golb sets it the way it builds the binaries"
        }
        _ if !flag.starts_with('-') => {
            return Some(format!(
            "test flag {flag:?} is not a flag: flags start with '-'; move packages to `packages`"
        ))
        }
        _ => return None,
    };
    Some(format!(
        "test flag {flag:?} is not allowed: {why}; remove it"
    ))
}

/// Checks one OpenSSH known_hosts line (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT):
/// `[@cert-authority|@revoked] hostpatterns keytype base64key [comment]`. The
/// key must decode, and its blob must name the same key type, as ssh's own
/// parser requires: a truncated paste or a key of another host's line is
/// caught here rather than as `Host key verification failed` in the build.
pub fn check_known_hosts_line(line: &str) -> Result<(), String> {
    if line.contains(['\n', '\r']) {
        return Err("it spans several lines; give each line as its own string".into());
    }
    let mut fields = line.split_whitespace().peekable();
    if fields.peek().is_some_and(|f| f.starts_with('@')) {
        let marker = fields.next().unwrap_or_default();
        if marker != "@cert-authority" && marker != "@revoked" {
            return Err(format!(
                "the marker {marker:?} is neither @cert-authority nor @revoked"
            ));
        }
    }
    let (Some(hosts), Some(keytype), Some(key)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err("it needs at least three fields".into());
    };
    if hosts.starts_with('#') {
        return Err("it is a comment".into());
    }
    let host_ok = |h: &str| {
        !h.is_empty()
            && h.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '.' | '-' | '_' | '*' | '?' | '!' | '[' | ']' | ':' | '|' | '=' | '+' | '/'
                    )
            })
    };
    if !hosts.split(',').all(host_ok) {
        return Err(format!("{hosts:?} is not a list of host patterns"));
    }
    let keytype_ok = !keytype.is_empty()
        && keytype
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '@'));
    if !keytype_ok {
        return Err(format!("{keytype:?} is not a key type like ssh-ed25519"));
    }
    let blob = decode_base64(key).ok_or_else(|| "the key is not base64".to_string())?;
    let fields = ssh_strings(&blob);
    if fields.as_ref().and_then(|f| f.first()).copied() != Some(keytype.as_bytes())
        && !(fields.is_none() && keytype.contains("-cert-"))
    {
        return match blob.get(4..4 + keytype.len()) {
            Some(named) if named == keytype.as_bytes() => {
                Err("the key is truncated or has extra bytes".into())
            }
            _ => Err(format!("the key is not a {keytype} key")),
        };
    }
    Ok(())
}

/// A plain public key blob (RFC 4253 6.6, and OpenSSH's sk- and ed25519
/// keys) is nothing but length-prefixed strings, the first naming its type;
/// `None` when the bytes do not split into such strings exactly, as a
/// truncated paste does not. Certificates hold other fields, so they are only
/// checked by their type name.
fn ssh_strings(mut blob: &[u8]) -> Option<Vec<&[u8]>> {
    let mut strings = Vec::new();
    while !blob.is_empty() {
        let len = blob.get(..4)?;
        let len = usize::try_from(u32::from_be_bytes([len[0], len[1], len[2], len[3]])).ok()?;
        strings.push(blob.get(4..4usize.checked_add(len)?)?);
        blob = &blob[4 + len..];
    }
    Some(strings)
}

/// Standard base64 with padding, as OpenSSH writes keys; `None` if malformed.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if text.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn port_number(n: i64) -> Option<u16> {
    u16::try_from(n).ok().filter(|n| *n != 0)
}

fn parse_port(s: &str) -> Option<Port> {
    let (number, protocol) = match s.split_once('/') {
        Some((n, p)) => (n, p),
        None => (s, "tcp"),
    };
    let protocol = match protocol {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => return None,
    };
    let number = port_number(number.parse().ok()?)?;
    Some(Port { number, protocol })
}

#[cfg(test)]
mod tests;
