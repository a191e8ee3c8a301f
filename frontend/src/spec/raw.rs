//! The spec exactly as TOML gives it: every key spanned, unknown keys refused.
//! Meaning (defaults, checks) is given in `spec::validate`, not here.
//!
//! The same types give golb.toml's JSON Schema (`crate::schema`): the doc
//! comments are the descriptions editors show, and `schemars(with = …)`
//! names the TOML type behind each `Spanned` wrapper, so a key added here
//! is in the schema without anyone remembering to add it.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A golb spec: what to build from a Go module, never how. The first line
/// names the golb frontend image: `# syntax=<golb image>`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "golb.toml")]
pub struct RawSpec {
    /// The Go toolchain image and where the module is.
    #[schemars(with = "Option<RawBuilder>")]
    pub builder: Option<Spanned<RawBuilder>>,
    /// One table per binary to build. Without any, golb builds the module root (`.`).
    #[serde(default)]
    #[schemars(with = "Vec<RawBinary>")]
    pub binary: Vec<Spanned<RawBinary>>,
    /// The runtime image: base, user, entrypoint, environment, ports, labels.
    #[schemars(with = "Option<RawRuntime>")]
    pub runtime: Option<Spanned<RawRuntime>>,
    /// What the `test` and `vet` targets run over.
    #[schemars(with = "Option<RawTest>")]
    pub test: Option<Spanned<RawTest>>,
    /// How dependencies are fetched: the Go environment of the download step.
    #[schemars(with = "Option<RawModules>")]
    pub modules: Option<Spanned<RawModules>>,
    /// Build arguments the spec uses in ldflags (`${NAME}`), with their
    /// defaults; `--build-arg NAME=value` overrides them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub args: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Files or directories of the context copied into the runtime image, one layer each.
    #[serde(default)]
    #[schemars(with = "Vec<RawFile>")]
    pub file: Vec<Spanned<RawFile>>,
    /// govulncheck over the binaries' packages: the `vuln` target, and a gate on image builds.
    #[schemars(with = "Option<RawVuln>")]
    pub vuln: Option<Spanned<RawVuln>>,
}

/// `[vuln]`: the vulnerability database, the gate and what it lets pass.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVuln {
    /// govulncheck's -db: an https:// (or http://) URL of a database in govulncheck's layout; default "https://vuln.go.dev".
    #[schemars(with = "Option<String>")]
    pub db: Option<Spanned<String>>,
    /// Image builds run govulncheck and fail when the code calls a known vulnerability; default false.
    #[schemars(with = "Option<bool>")]
    pub gate: Option<Spanned<bool>>,
    /// Vulnerability IDs you have assessed ("GO-2024-1234"); they never fail the gate.
    #[schemars(with = "Option<Vec<String>>")]
    pub ignore: Option<Spanned<Vec<Spanned<String>>>>,
    /// Image builds run govulncheck and attach its OpenVEX document to the image as an in-toto attestation; default false.
    #[schemars(with = "Option<bool>")]
    pub attest: Option<Spanned<bool>>,
}

/// `[modules]`: each key sets the Go variable of the same meaning for the
/// download and build steps; the build argument of that name overrides it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawModules {
    /// GOPROXY: module proxies, e.g. "https://goproxy.example.com,direct".
    #[schemars(with = "Option<String>")]
    pub proxy: Option<Spanned<String>>,
    /// GOPRIVATE: module path patterns that skip the proxy and checksum database.
    #[schemars(with = "Option<String>")]
    pub private: Option<Spanned<String>>,
    /// GONOSUMDB: patterns that skip only the checksum database.
    #[schemars(with = "Option<String>")]
    pub nosumdb: Option<Spanned<String>>,
    /// GONOPROXY: patterns that skip only the proxy.
    #[schemars(with = "Option<String>")]
    pub noproxy: Option<Spanned<String>>,
    /// GOFLAGS: extra go flags (not the ones golb sets itself).
    #[schemars(with = "Option<String>")]
    pub flags: Option<Spanned<String>>,
    /// Module path prefixes fetched with git over SSH through the `--ssh default` agent, e.g. ["github.com/acme"].
    #[schemars(with = "Option<Vec<String>>")]
    pub ssh: Option<Spanned<Vec<Spanned<String>>>>,
    /// The SSH host keys the download step trusts for `ssh`, one OpenSSH known_hosts line each.
    #[schemars(with = "Option<Vec<String>>")]
    pub known_hosts: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[[file]]`: a file or directory of the context copied into the runtime image.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// Path in the build context; no `..`, not absolute. A directory is copied with its contents.
    #[schemars(with = "String")]
    pub src: Option<Spanned<String>>,
    /// Absolute path in the image.
    #[schemars(with = "String")]
    pub dest: Option<Spanned<String>>,
    /// Numeric "uid" or "uid:gid"; default "0:0".
    #[schemars(with = "Option<String>")]
    pub owner: Option<Spanned<String>>,
    /// Octal permission bits for every copied file, e.g. "0640"; default: the file's own.
    #[schemars(with = "Option<String>")]
    pub mode: Option<Spanned<String>>,
}

/// `[test]`: what the `test` and `vet` targets run over.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    /// Package patterns inside the module; default ["./..."].
    #[schemars(with = "Option<Vec<String>>")]
    pub packages: Option<Spanned<Vec<Spanned<String>>>>,
    /// Extra `go test` flags, e.g. ["-count=1", "-v"].
    #[schemars(with = "Option<Vec<String>>")]
    pub flags: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[builder]`: the Go toolchain image and where the module is.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBuilder {
    /// The Go release, "1.26" or "1.26.3": the builder image is golang:<go>.
    /// Default: go.mod's toolchain line, else its go line.
    #[schemars(with = "Option<String>")]
    pub go: Option<Spanned<String>>,
    /// A builder image of your own (a Go toolchain image); pin it by digest.
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// The module's directory inside the build context, for monorepos: "services/api". Default ".".
    #[schemars(with = "Option<String>")]
    pub module: Option<Spanned<String>>,
    /// The C compiler of the builder that cgo binaries use for a target platform, e.g.
    /// { "linux/arm64" = "aarch64-linux-gnu-gcc" }: what makes a cgo cross-build possible.
    /// Default: the builder's gcc, for the build platform only.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub cc: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[[binary]]`: one binary to build.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBinary {
    /// The main package, relative to the module root: "." or "./cmd/server".
    #[schemars(with = "String")]
    pub package: Option<Spanned<String>>,
    /// The file name in the image, /usr/local/bin/<name>; default: the package's last path element.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Added after -s -w -buildid=, e.g. ["-X main.version=${VERSION}"].
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub ldflags: Vec<Spanned<String>>,
    /// Build tags, one per string: ["netgo", "osusergo"].
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub tags: Vec<Spanned<String>>,
    /// Build with cgo (CGO_ENABLED=1, the builder's gcc). Needs a builder image with gcc and a glibc
    /// runtime base (e.g. gcr.io/distroless/base-debian12:nonroot); not with the distroless, scratch
    /// or alpine presets, and not when cross-compiling.
    #[schemars(with = "Option<bool>")]
    pub cgo: Option<Spanned<bool>>,
}

/// `[runtime]`: the runtime image's base and config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    /// The runtime base: a preset ("distroless", the default: gcr.io/distroless/static-debian12:nonroot;
    /// "scratch": empty plus CA certificates, passwd/group with nonroot 65532 and /tmp; "alpine": alpine:3.22
    /// run as 65532) or an image reference.
    #[schemars(with = "Option<String>")]
    pub base: Option<Spanned<String>>,
    /// The image carries time zone data: scratch gets /usr/share/zoneinfo, alpine builds with -tags timetzdata
    /// (distroless has the zone data already).
    #[schemars(with = "Option<bool>")]
    pub timezones: Option<Spanned<bool>>,
    /// "upx": pack the image's binaries with UPX (`upx --best --lzma`), from the image `upx_image` names.
    #[schemars(with = "Option<String>")]
    pub compress: Option<Spanned<String>>,
    /// The image holding a pinned `upx` on its PATH, for compress = "upx" (pin it by digest).
    #[schemars(with = "Option<String>")]
    pub upx_image: Option<Spanned<String>>,
    /// Size gate: budget of the whole image (base + golb's layers), uncompressed file bytes: "40MB", "512kB", "20MiB".
    #[schemars(with = "Option<String>")]
    pub max_image_size: Option<Spanned<String>>,
    /// Size gate: budget of golb's layers (the image's bytes less the base's), uncompressed.
    #[schemars(with = "Option<String>")]
    pub max_layer_size: Option<Spanned<String>>,
    /// Size gate: how much the image may grow since the baseline image named by the build arg SIZE_BASELINE, e.g. "5MB".
    #[schemars(with = "Option<String>")]
    pub max_growth: Option<Spanned<String>>,
    /// The user the container runs as; default: the base's if not root, else 65532:65532.
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// The image's entrypoint; required when several binaries are built.
    #[schemars(with = "Option<Vec<String>>")]
    pub entrypoint: Option<Spanned<Vec<String>>>,
    /// The image's Cmd: default arguments to the entrypoint.
    #[schemars(with = "Option<Vec<String>>")]
    pub args: Option<Spanned<Vec<String>>>,
    /// Added to the base's environment.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Ports: 8080 (TCP), "8080/tcp", "53/udp", "9000/sctp".
    #[serde(default)]
    #[schemars(with = "Vec<PortSchema>")]
    pub expose: Vec<Spanned<toml::Value>>,
    /// Added to the base's labels.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub labels: BTreeMap<Spanned<String>, Spanned<String>>,
    /// The working directory; absolute.
    #[schemars(with = "Option<String>")]
    pub workdir: Option<Spanned<String>>,
}

/// How the schema describes one `expose` entry; parsing reads a
/// `toml::Value` and checks it in `spec` (`Checker::port`).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
pub enum PortSchema {
    /// A TCP port number.
    Number(#[schemars(range(min = 1, max = 65535))] u16),
    /// "8080/tcp", "53/udp", "9000/sctp".
    Text(#[schemars(regex(pattern = r"^[0-9]+(/(tcp|udp|sctp))?$"))] String),
}
