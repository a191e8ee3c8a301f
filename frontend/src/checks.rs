//! Go-aware checks of a spec against the module it builds: mistakes that
//! would fail the build late (or worse, succeed wrongly), found before
//! anything runs. Used by `golb check` offline and, through the gateway, by
//! BuildKit's `--call check` (the `frontend.lint` subrequest).
//!
//! The checks read an in-memory [`SourceSnapshot`], so the offline command
//! (std::fs) and the gateway (BuildKit's ReadDir/ReadFile) share them; what to
//! put in it: for each of [`wanted_dirs`], its .go files and its go.mod and
//! go.work ([`MODULE_FILES`]) when they exist.

pub mod go_source;
mod go_version;
pub mod gomod_syntax;
mod snapshot;

pub use snapshot::{SourceSnapshot, MODULE_FILES};

use crate::go_build;
use crate::go_module::{GoModule, GoModuleError, GO_MOD, GO_WORK};
use crate::image_ref::ImageRef;
use crate::plan::BinaryPlan;
use crate::spec::{Binary, Location, Spec};
use go_source::GoFileHeader;
use go_version::GoVersion;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The build would fail, or produce something other than the spec says.
    Error,
    /// The build works, but not as reproducibly or as surely as it could.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Where a finding is: in the spec, or in a file of the context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingLocation {
    Spec(Location),
    /// `path` is relative to the context root ("go.mod", "cmd/server/main.go"); `line` is 1-based.
    File {
        path: String,
        line: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// A [`Rule`]'s id: stable, for people to search and tools to filter on.
    pub rule: &'static str,
    pub severity: Severity,
    /// What is wrong and what to do about it.
    pub message: String,
    pub location: FindingLocation,
}

/// One kind of problem the checks find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line, for rule lists and BuildKit's lint `description`.
    pub description: &'static str,
}

pub const CGO_IMPORT: Rule = Rule {
    id: "CgoImportWithCgoDisabled",
    severity: Severity::Error,
    description: "A built package imports \"C\", but golb always builds with CGO_ENABLED=0",
};
pub const GO_VERSION_TOO_NEW: Rule = Rule {
    id: "GoVersionNewerThanBuilder",
    severity: Severity::Error,
    description:
        "go.mod or go.work needs a newer Go than the builder's, and golb sets GOTOOLCHAIN=local",
};
pub const TOOLCHAIN_TOO_NEW: Rule = Rule {
    id: "ToolchainNewerThanBuilder",
    severity: Severity::Warning,
    description: "go.mod's toolchain line names a newer Go than the builder's, which builds instead (GOTOOLCHAIN=local)",
};
pub const PACKAGE_NOT_FOUND: Rule = Rule {
    id: "BinaryPackageNotFound",
    severity: Severity::Error,
    description: "A [[binary]] package is not a directory with Go files in the build context",
};
pub const PACKAGE_NOT_MAIN: Rule = Rule {
    id: "BinaryPackageNotMain",
    severity: Severity::Error,
    description: "A [[binary]] package is not package main",
};
pub const UNPINNED_IMAGE: Rule = Rule {
    id: "UnpinnedImage",
    severity: Severity::Warning,
    description: "The builder, runtime base or UPX image is named by tag, without a digest",
};
pub const REPLACE_OUTSIDE_CONTEXT: Rule = Rule {
    id: "LocalReplaceOutsideContext",
    severity: Severity::Error,
    description: "A replace or use directive points at a directory outside the build context",
};
pub const LDFLAGS_X_UNKNOWN_PACKAGE: Rule = Rule {
    id: "LinkerFlagXUnknownPackage",
    severity: Severity::Warning,
    description:
        "An -X ldflag names a package the binary does not import, so the linker ignores it",
};

pub const SSH_WITHOUT_KNOWN_HOSTS: Rule = Rule {
    id: "SshWithoutKnownHosts",
    severity: Severity::Warning,
    description:
        "[modules] ssh without known_hosts: ssh trusts only the host keys the builder image carries",
};

pub const STALE_LOCK: Rule = Rule {
    id: "StaleLock",
    severity: Severity::Warning,
    description:
        "golb.lock does not pin an image the spec names by tag, or pins one it no longer names",
};
pub const VULN_NEEDS_NEWER_GO: Rule = Rule {
    id: "VulnScanNeedsNewerGo",
    severity: Severity::Error,
    description: "[vuln] asks for govulncheck, which the builder's Go is too old to build",
};

/// Every rule, for documentation and for looking up a finding's description.
pub const RULES: [Rule; 11] = [
    CGO_IMPORT,
    GO_VERSION_TOO_NEW,
    TOOLCHAIN_TOO_NEW,
    PACKAGE_NOT_FOUND,
    PACKAGE_NOT_MAIN,
    UNPINNED_IMAGE,
    REPLACE_OUTSIDE_CONTEXT,
    LDFLAGS_X_UNKNOWN_PACKAGE,
    SSH_WITHOUT_KNOWN_HOSTS,
    STALE_LOCK,
    VULN_NEEDS_NEWER_GO,
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// What the checks look at. `builder` and `base` are the references the plan
/// uses (before resolution: a digest here is one the spec wrote).
pub struct CheckInput<'a> {
    pub spec: &'a Spec,
    pub module: &'a GoModule,
    pub binaries: &'a [BinaryPlan],
    pub builder: &'a ImageRef,
    pub base: &'a ImageRef,
    /// The builder's Go release ("1.26", "1.26.8"), when known; see [`builder_go_release`].
    pub builder_go: Option<&'a str>,
    pub files: &'a SourceSnapshot,
}

/// The directories, relative to the context root ("." for the root), whose
/// files the checks read: the module's own (for go.mod and go.work) and each
/// binary's package, once each.
pub fn wanted_dirs(module: &GoModule, binaries: &[BinaryPlan]) -> Vec<String> {
    let mut dirs = vec![snapshot::clean_path(&module.dir)];
    for binary in binaries {
        let dir = package_dir(module, binary);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// A binary's package directory in the context: packages are relative to the module root.
fn package_dir(module: &GoModule, binary: &BinaryPlan) -> String {
    snapshot::clean_path(&snapshot::join(
        &snapshot::clean_path(&module.dir),
        &binary.package,
    ))
}

/// The path of a module file (go.mod, go.work) in the context.
fn module_file(module: &GoModule, name: &str) -> String {
    snapshot::join(&snapshot::clean_path(&module.dir), name)
}

/// The builder's Go release as far as the spec tells: `[builder] go`, else
/// the version at the start of a `golang` image's tag ("1.26.3-alpine" gives
/// "1.26.3"). The gateway knows better: the official images set
/// `GOLANG_VERSION` in their config.
pub fn builder_go_release(spec: &Spec, builder: &ImageRef) -> Option<String> {
    if let Some(go) = &spec.builder.go {
        return Some(go.value.clone());
    }
    let is_golang = builder.path.rsplit('/').next() == Some("golang");
    let (version, _) = GoVersion::parse_prefix(builder.tag.as_deref().filter(|_| is_golang)?)?;
    Some(version.to_string())
}

/// Runs every check. Findings come in file order: the spec first, then the
/// context's files by path and line.
pub fn run(input: &CheckInput<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    go_versions(input, &mut findings);
    for binary in input.binaries {
        binary_package(input, binary, &mut findings);
    }
    unpinned_images(input, &mut findings);
    replaces_outside_context(input, &mut findings);
    ssh_without_known_hosts(input, &mut findings);
    vuln_builder_go(input, &mut findings);
    findings.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    // Two binaries built from one package would report its files twice.
    findings.dedup();
    findings
}

fn order_key(finding: &Finding) -> (u8, &str, u32, u32) {
    match &finding.location {
        FindingLocation::Spec(l) => (0, "", l.line, l.col),
        FindingLocation::File { path, line } => (1, path.as_str(), *line, 0),
    }
}

fn finding(rule: Rule, location: FindingLocation, message: String) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        message,
        location,
    }
}

/// Where a defaulted setting is reported: the first line of the spec.
const LINE_ONE: Location = Location {
    line: 1,
    col: 1,
    end_line: 1,
    end_col: 1,
};

/// The spec's `[[binary]]` table a planned binary came from; `None` for the
/// module root built by default.
fn spec_binary<'s>(spec: &'s Spec, binary: &BinaryPlan) -> Option<&'s Binary> {
    spec.binaries.iter().find(|b| b.location == binary.location)
}

/// A `[vuln]` section means scans (the `vuln` target, and image builds with
/// `gate` or `attest`), and golb builds govulncheck with the builder's Go:
/// the same refusal the plan gives, found before any build.
fn vuln_builder_go(input: &CheckInput<'_>, findings: &mut Vec<Finding>) {
    let Some(location) = input.spec.vuln.location else {
        return;
    };
    let Some(release) = input.builder_go else {
        return;
    };
    if go_build::builds_govulncheck(Some(release)) {
        return;
    }
    let needed = go_build::govulncheck_go();
    findings.push(finding(
        VULN_NEEDS_NEWER_GO,
        FindingLocation::Spec(location),
        format!(
            "[vuln] scans with govulncheck {}, which needs Go {needed} or newer to build, and the builder's Go is \
             {release}: set [builder] go = \"{needed}\" (or newer), or remove [vuln]",
            go_build::GOVULNCHECK_VERSION
        ),
    ));
}

/// (b): golb sets GOTOOLCHAIN=local, so a `go` line newer than the builder's
/// Go fails the build ("go.mod requires go >= …"). A newer `toolchain` line
/// is only a preference: with GOTOOLCHAIN=local the builder's Go builds
/// anyway, which is worth a warning, not an error.
fn go_versions(input: &CheckInput<'_>, findings: &mut Vec<Finding>) {
    let Some(builder) = input.builder_go.and_then(GoVersion::parse) else {
        return;
    };
    for name in MODULE_FILES {
        let file = module_file(input.module, name);
        let Some(text) = input.files.file(&file) else {
            continue;
        };
        for directive in gomod_syntax::parse(text) {
            let Some(wanted) = directive.args.first().and_then(|v| GoVersion::parse(v)) else {
                continue;
            };
            if !wanted.needs_newer_than(&builder) {
                continue;
            }
            let at = FindingLocation::File {
                path: file.clone(),
                line: directive.line,
            };
            let raise = format!("[builder] go = \"{}.{}\"", wanted.major, wanted.minor);
            match directive.verb.as_str() {
                "go" => findings.push(finding(
                    GO_VERSION_TOO_NEW,
                    at,
                    format!(
                        "{file} requires go {wanted}, newer than the builder's Go {builder}; golb sets GOTOOLCHAIN=local, \
                         so go would refuse to build: set {raise} (or a builder image with Go {wanted} or newer)"
                    ),
                )),
                "toolchain" => findings.push(finding(
                    TOOLCHAIN_TOO_NEW,
                    at,
                    format!(
                        "{file} asks for toolchain go{wanted}, newer than the builder's Go {builder}; golb sets \
                         GOTOOLCHAIN=local, so Go {builder} builds instead: set {raise} to build with the toolchain {file} names"
                    ),
                )),
                _ => {}
            }
        }
    }
}

/// (a), (c) and (f) for one binary: its package directory, the files Go
/// would compile there, their package clauses, imports and the -X flags.
fn binary_package(input: &CheckInput<'_>, binary: &BinaryPlan, findings: &mut Vec<Finding>) {
    let spec_binary = spec_binary(input.spec, binary);
    let at = FindingLocation::Spec(spec_binary.map_or(binary.location, |b| b.package.location));
    let dir = package_dir(input.module, binary);
    let package = &binary.package;
    if !input.files.has_dir(&dir) {
        findings.push(finding(
            PACKAGE_NOT_FOUND,
            at,
            format!("package {package:?} is not in the build context: there is no directory {dir}/; fix the path (it is relative to the module root)"),
        ));
        return;
    }
    let compiled: Vec<(&str, GoFileHeader)> = input
        .files
        .go_files_in(&dir)
        .filter_map(|(path, name, text)| {
            let header = go_source::scan(text);
            go_source::is_compiled(name, &header, &binary.tags).then_some((path, header))
        })
        .collect();
    if compiled.is_empty() {
        findings.push(finding(
            PACKAGE_NOT_FOUND,
            at,
            format!(
                "package {package:?} has no .go files go build would compile (test files, files for other systems and \
                 files excluded by //go:build do not count); point package at the directory of your main package"
            ),
        ));
        return;
    }
    let not_main = compiled.iter().find_map(|(path, header)| {
        header
            .package
            .as_ref()
            .filter(|p| p.name != "main")
            .map(|p| (path, p))
    });
    if let Some((path, clause)) = not_main {
        findings.push(finding(
            PACKAGE_NOT_MAIN,
            at.clone(),
            format!(
                "package {package:?} is not a main package ({path}:{} says package {}); a binary is built from a \
                 directory whose files say package main and define func main",
                clause.line, clause.name
            ),
        ));
    }
    // With `cgo = true` importing "C" is the point.
    for (path, header) in compiled.iter().filter(|_| !binary.cgo) {
        for import in header.imports.iter().filter(|i| i.path == "C") {
            findings.push(finding(
                CGO_IMPORT,
                FindingLocation::File { path: path.to_string(), line: import.line },
                format!(
                    "{path} imports \"C\", but golb builds with CGO_ENABLED=0, so go leaves this file out and the \
                     build fails or loses code; use pure Go, or add a //go:build !cgo alternative and mark this file //go:build cgo"
                ),
            ));
        }
    }
    if let Some(spec_binary) = spec_binary {
        let imports: Vec<&str> = compiled
            .iter()
            .flat_map(|(_, h)| h.imports.iter().map(|i| i.path.as_str()))
            .collect();
        unknown_x_packages(spec_binary, &imports, findings);
    }
}

/// (f): `-X importpath.name=value` for a package that is not in the binary is
/// silently ignored by the Go linker, so the value is never set. Only the
/// package's direct imports are known here (the snapshot holds no other
/// packages), so a package imported indirectly is reported too: the message
/// says so, and this is a warning.
fn unknown_x_packages(binary: &Binary, imports: &[&str], findings: &mut Vec<Finding>) {
    let words: Vec<(Location, String)> = binary
        .ldflags
        .iter()
        .flat_map(|flag| {
            split_flags(&flag.value)
                .into_iter()
                .map(move |w| (flag.location, w))
        })
        .collect();
    let mut words = words.into_iter();
    while let Some((location, word)) = words.next() {
        let definition = match word.as_str() {
            "-X" | "--X" => match words.next() {
                Some((value_location, value)) => (value_location, value),
                None => continue,
            },
            _ => match word
                .strip_prefix("--X=")
                .or_else(|| word.strip_prefix("-X="))
            {
                Some(value) => (location, value.to_string()),
                None => continue,
            },
        };
        let (location, value) = definition;
        // The linker splits at the first '=' and the last '.' before it; paths may hold dots.
        let Some((symbol, _)) = value.split_once('=') else {
            continue;
        };
        let Some((package, _)) = symbol.rsplit_once('.') else {
            continue;
        };
        if package == "main" || imports.contains(&package) {
            continue;
        }
        findings.push(finding(
            LDFLAGS_X_UNKNOWN_PACKAGE,
            FindingLocation::Spec(location),
            format!(
                "-X {symbol} sets a variable in {package}, which package {:?} does not import; the Go linker ignores -X \
                 for packages not in the binary, so nothing would be set. Use -X main.<name>, or the import path of a \
                 package the binary imports (golb checks direct imports only: if {package} is imported indirectly, ignore this)",
                binary.package.value
            ),
        ));
    }
}

/// Splits one ldflags entry as the go command splits -ldflags
/// (cmd/internal/quoted.Split): fields separated by white space, a field that
/// starts with ' or " runs to the same quote, with no escapes.
pub fn split_flags(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let Some(first) = rest.chars().next() else {
            return fields;
        };
        if first == '"' || first == '\'' {
            let inner = &rest[1..];
            let end = inner.find(first).unwrap_or(inner.len());
            fields.push(inner[..end].to_string());
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
            fields.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

/// (d): golb pins every image (builder, base, UPX) by digest in the LLB of
/// each build, but a tag in the spec means the next build may pin a
/// different image.
fn unpinned_images(input: &CheckInput<'_>, findings: &mut Vec<Finding>) {
    let spec = input.spec;
    if input.builder.digest.is_none() {
        let (location, written, named_by) = match (&spec.builder.image, &spec.builder.go) {
            (Some(image), _) => (image.location, image.value.clone(), "[builder] image"),
            (None, Some(go)) => (go.location, format!("golang:{}", go.value), "[builder] go"),
            (None, None) => (
                LINE_ONE,
                familiar(input.builder),
                "golb's default, from go.mod",
            ),
        };
        findings.push(finding(
            UNPINNED_IMAGE,
            FindingLocation::Spec(location),
            format!(
                "the builder image {written} ({named_by}) is a tag: golb pins it by digest when it builds, but the spec \
                 does not, so the next build may use another image; pin it: [builder] image = \"{written}@sha256:…\" \
                 (`docker buildx imagetools inspect {written}` shows the digest), or run `golb lock` to pin it in golb.lock"
            ),
        ));
    }
    if input.base.digest.is_none() {
        let (location, written, whose) = match &spec.runtime.base {
            Some(base) => (base.location, base.value.clone(), "the runtime base"),
            None => (
                LINE_ONE,
                familiar(input.base),
                "golb's default runtime base",
            ),
        };
        findings.push(finding(
            UNPINNED_IMAGE,
            FindingLocation::Spec(location),
            format!(
                "{whose} {written} is a tag: golb pins it by digest when it builds, but the spec does not, so the next \
                 build may use another image; pin it: [runtime] base = \"{written}@sha256:…\" \
                 (`docker buildx imagetools inspect {written}` shows the digest), or run `golb lock` to pin it in golb.lock"
            ),
        ));
    }
    // UPX runs in the build: another image behind the tag packs the binaries
    // differently, so the image's digest changes with it.
    if let Some(named) = &spec.runtime.upx_image {
        let tagged = ImageRef::parse(&named.value).is_ok_and(|image| image.digest.is_none());
        if tagged {
            let written = &named.value;
            findings.push(finding(
                UNPINNED_IMAGE,
                FindingLocation::Spec(named.location),
                format!(
                    "the UPX image {written} is a tag: golb pins it by digest when it builds, but the spec does not, \
                     so the next build may pack the binaries with another UPX and give another image; pin it: \
                     upx_image = \"{written}@sha256:…\" (`docker buildx imagetools inspect {written}` shows the \
                     digest), or run `golb lock` to pin it in golb.lock"
                ),
            ));
        }
    }
}

/// golb.lock against the images the spec names (`builder`, `base`, and
/// `[runtime] upx_image`): an
/// image the lock pins is not unpinned (the build uses the locked digest),
/// and a lock that lacks an image, or pins one the spec no longer names, is
/// stale. Without a lock, [`UNPINNED_IMAGE`] already says what to do.
pub fn lock_findings(
    lock: Option<&crate::lock::Lock>,
    spec: &Spec,
    builder: &ImageRef,
    base: &ImageRef,
    findings: &mut Vec<Finding>,
) {
    let Some(lock) = lock else {
        return;
    };
    let file = crate::lock::beside_spec(&spec.file.name);
    let builder_at = spec
        .builder
        .image
        .as_ref()
        .or(spec.builder.go.as_ref())
        .map_or(LINE_ONE, |v| v.location);
    let base_at = spec.runtime.base.as_ref().map_or(LINE_ONE, |v| v.location);
    let mut locations = vec![(builder.clone(), builder_at), (base.clone(), base_at)];
    // The UPX image is resolved through the lock as well (`driver`), so the
    // lock must pin it and an entry for it is not stale.
    locations.extend(spec.runtime.upx_image.as_ref().and_then(|named| {
        ImageRef::parse(&named.value)
            .ok()
            .map(|image| (image, named.location))
    }));
    findings.retain(|f| {
        let locked = |(image, at): &(ImageRef, Location)| {
            f.location == FindingLocation::Spec(*at) && lock.entry(image).is_some()
        };
        f.rule != UNPINNED_IMAGE.id || !locations.iter().any(locked)
    });
    let wanted: Vec<ImageRef> = locations.iter().map(|(image, _)| image.clone()).collect();
    let staleness = lock.staleness(&wanted);
    for name in &staleness.missing {
        let at = locations
            .iter()
            .find(|(image, _)| image.to_string() == *name)
            .map_or(LINE_ONE, |(_, at)| *at);
        findings.push(finding(
            STALE_LOCK,
            FindingLocation::Spec(at),
            format!("{file} does not pin {name}, so builds resolve its tag; run `golb lock`"),
        ));
    }
    for name in &staleness.unused {
        findings.push(finding(
            STALE_LOCK,
            FindingLocation::Spec(LINE_ONE),
            format!("{file} pins {name}, which the spec no longer names; run `golb lock`"),
        ));
    }
}

/// With `[modules] ssh` and no `known_hosts`, the download step's ssh checks
/// host keys against the builder image's own known_hosts. The official
/// golang images have none, so every fetch would stop at `Host key
/// verification failed`; a company builder image may carry them, so this is
/// a warning, not an error. Vendored modules are never fetched.
fn ssh_without_known_hosts(input: &CheckInput<'_>, findings: &mut Vec<Finding>) {
    let modules = &input.spec.modules;
    if modules.ssh.is_empty() || !modules.known_hosts.is_empty() || input.module.vendored {
        return;
    }
    let location = modules
        .ssh_location
        .or(modules.location)
        .unwrap_or(LINE_ONE);
    let mut hosts: Vec<&str> = Vec::new();
    for prefix in &modules.ssh {
        let host = prefix.split('/').next().unwrap_or(prefix);
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    findings.push(finding(
        SSH_WITHOUT_KNOWN_HOSTS,
        FindingLocation::Spec(location),
        format!(
            "[modules] ssh has no known_hosts, so ssh in the download step trusts only the host keys of the builder \
             image {}; the official golang images have none, and git then fails with `Host key verification failed`. \
             Add the hosts' keys: known_hosts = [\"<line>\", …] with the lines of `ssh-keyscan {}` (check them against \
             the host's published keys), or ignore this if the builder image carries them",
            familiar(input.builder),
            hosts.join(" ")
        ),
    ));
}

/// An image reference as people write it: "golang:1.26", not "docker.io/library/golang:1.26".
fn familiar(reference: &ImageRef) -> String {
    let full = reference.to_string();
    let short = full
        .strip_prefix("docker.io/library/")
        .or_else(|| full.strip_prefix("docker.io/"));
    short.map_or(full.clone(), str::to_string)
}

/// (e): BuildKit sends golb the context only, so a local replacement outside
/// it does not exist where Go builds. Vendored modules are exempt: with
/// -mod=vendor Go reads vendor/, never the replacement directory.
fn replaces_outside_context(input: &CheckInput<'_>, findings: &mut Vec<Finding>) {
    if input.module.vendored {
        return;
    }
    let module_dir = snapshot::clean_path(&input.module.dir);
    for name in MODULE_FILES {
        let file = module_file(input.module, name);
        let Some(text) = input.files.file(&file) else {
            continue;
        };
        for directive in gomod_syntax::parse(text) {
            let (what, target) = match directive.verb.as_str() {
                "replace" => {
                    let arrow = directive.args.iter().position(|a| a == "=>");
                    let Some(target) = arrow.and_then(|i| directive.args.get(i + 1)) else {
                        continue;
                    };
                    (format!("replace {} => {target}", directive.args[0]), target)
                }
                "use" if name == GO_WORK => {
                    let Some(target) = directive.args.first() else {
                        continue;
                    };
                    (format!("use {target}"), target)
                }
                _ => continue,
            };
            if !gomod_syntax::is_directory_path(target) || !leaves_context(&module_dir, target) {
                continue;
            }
            let fix = if name == GO_MOD {
                "vendor the dependency (go mod vendor; golb then builds with -mod=vendor), move it into the context, or require a published version"
            } else {
                "move the module into the context, or build from a context that holds the whole workspace"
            };
            findings.push(finding(
                REPLACE_OUTSIDE_CONTEXT,
                FindingLocation::File { path: file.clone(), line: directive.line },
                format!(
                    "{file}: `{what}` points outside the build context: BuildKit sends golb only the context, so {target} \
                     does not exist where go builds; {fix}"
                ),
            ));
        }
    }
}

/// A module golb cannot read because of a directive, as the finding that
/// names it, so the lint reply can show the go.mod or go.work line instead
/// of a bare build error. go_module refuses a local replacement or workspace
/// member outside the context before the checks run (rule (e) above then
/// only speaks for modules read some other way); this carries its verdict
/// under the same rule id.
// Only the gateway's lint reply calls this; remove the allow when it does.
pub fn module_error_finding(error: &GoModuleError) -> Option<Finding> {
    match error {
        GoModuleError::OutsideContext { file, line, .. } => Some(finding(
            REPLACE_OUTSIDE_CONTEXT,
            FindingLocation::File {
                path: file.clone(),
                line: u32::try_from(*line).unwrap_or(u32::MAX),
            },
            error.to_string(),
        )),
        _ => None,
    }
}

/// Whether a directory path, relative to `dir` (a directory of the context,
/// "." for its root), names a place outside the context. Absolute paths are
/// outside: they name the client's disk.
fn leaves_context(dir: &str, path: &str) -> bool {
    if path.starts_with('/') {
        return true;
    }
    let mut depth = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .count();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests;
