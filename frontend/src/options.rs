//! The options BuildKit hands a frontend (`--opt`, build args, platforms),
//! read into one typed value. Shared by the gateway and the offline commands
//! so both plan from the same decisions.

use golb_proto::llb::Platform;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The spec file name when the client sends none.
pub const DEFAULT_FILENAME: &str = "golb.toml";

#[derive(Clone, Debug, Default)]
pub struct FrontendOptions {
    pub filename: String,
    /// Target platforms, in the order given; empty means "the worker's".
    pub platforms: Vec<Platform>,
    pub build: BuildOptions,
    /// `--target`: what to build.
    pub target: BuildTarget,
    /// Set when the client asks a question (`--call`) instead of a build.
    pub request_id: Option<String>,
    /// Name of the local holding the spec (`dockerfilekey`), usually "dockerfile".
    pub spec_local: String,
    /// Name of the local holding the build context (`contextkey`), usually "context".
    pub context_local: String,
}

/// What the caller decided outside the spec (BuildKit options, build args).
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Seconds since the epoch for file times and `created`; 0 when unset, so
    /// that images are reproducible by default.
    pub source_date_epoch: i64,
    /// `--no-cache` / `--no-cache-filter`: which steps run again.
    pub no_cache: NoCache,
    /// `image-resolve-mode` for image sources (default, pull, local).
    pub image_resolve_mode: Option<String>,
    /// `--add-host`: `/etc/hosts` entries for every step that runs Go.
    pub extra_hosts: Vec<(String, IpAddr)>,
    /// `--sbom` / `--attest type=sbom` without a `generator=`: golb writes
    /// the SBOM itself. With a generator named, BuildKit runs that scanner.
    pub sbom: bool,
}

/// The steps of a golb build that run a command, named as
/// `--no-cache-filter` names them (the Dockerfile frontend's names are its
/// stages; golb's stages are these steps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `go mod download`.
    Download,
    /// `go build`, every binary and platform.
    Build,
    /// `go test` (the `test` target).
    Test,
    /// `go vet` (the `vet` target).
    Vet,
    /// govulncheck (the `vuln` target, and image builds with `[vuln] gate` or `attest`).
    Vuln,
}

impl Step {
    pub const ALL: [(Step, &'static str); 5] = [
        (Step::Download, "download"),
        (Step::Build, "build"),
        (Step::Test, "test"),
        (Step::Vet, "vet"),
        (Step::Vuln, "vuln"),
    ];

    /// Case-insensitive, as BuildKit matches `--no-cache-filter` stage names.
    pub fn parse(name: &str) -> Result<Step, String> {
        Self::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(step, _)| *step)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
                format!(
                    "--no-cache-filter {name:?}: golb's steps are {}",
                    names.join(", ")
                )
            })
    }
}

/// Which steps ignore the cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NoCache {
    /// Use the cache (no `--no-cache`).
    #[default]
    Off,
    /// `--no-cache`: every step runs again.
    All,
    /// `--no-cache-filter a,b`: only these.
    Steps(Vec<Step>),
}

impl NoCache {
    pub fn covers(&self, step: Step) -> bool {
        match self {
            NoCache::Off => false,
            NoCache::All => true,
            NoCache::Steps(steps) => steps.contains(&step),
        }
    }
}

/// What a build produces (`--target`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BuildTarget {
    /// The runtime image.
    #[default]
    Image,
    /// Only the binaries, on scratch: `--target binaries --output type=local,dest=bin/`.
    Binaries,
    /// `go test` over the module's packages; exports coverage.out.
    Test,
    /// `go vet` over the module's packages.
    Vet,
    /// The size report of each binary (JSON, Markdown, HTML treemap) and the image's summary.
    Size,
    /// govulncheck over the binaries' packages: govulncheck.json, .sarif and an OpenVEX document.
    Vuln,
}

impl BuildTarget {
    /// Every target with what it builds, for errors and `--call targets`.
    pub const ALL: [(BuildTarget, &'static str, &'static str); 6] = [
        (
            BuildTarget::Image,
            "image",
            "the runtime image: the base plus one layer of binaries",
        ),
        (
            BuildTarget::Binaries,
            "binaries",
            "only the binaries, on scratch, for --output type=local",
        ),
        (
            BuildTarget::Test,
            "test",
            "go test over [test] packages with the build's caches; exports coverage.out",
        ),
        (BuildTarget::Vet, "vet", "go vet over [test] packages"),
        (
            BuildTarget::Size,
            "size",
            "size report per binary (size.json, size.md, size.html: bytes by module and package) and the image's summary",
        ),
        (
            BuildTarget::Vuln,
            "vuln",
            "govulncheck over the binaries' packages per platform: govulncheck.json, govulncheck.sarif, vex.openvex.json",
        ),
    ];

    pub fn parse(name: &str) -> Result<BuildTarget, String> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(t, _, _)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n, _)| *n).collect();
                format!("unknown target {name:?}: golb builds {}", names.join(", "))
            })
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("option platform={value:?}: {message}")]
    Platform { value: String, message: String },
    #[error("build-arg SOURCE_DATE_EPOCH={0:?} is not a number of seconds since 1970-01-01")]
    SourceDateEpoch(String),
    #[error("option image-resolve-mode={0:?}: use default, pull or local")]
    ResolveMode(String),
    #[error("{0}")]
    Target(String),
    #[error("option no-cache: {0}")]
    NoCache(String),
    #[error("option add-hosts: {entry:?}: {message}")]
    AddHost { entry: String, message: String },
}

impl FrontendOptions {
    pub fn from_opts(opts: &BTreeMap<String, String>) -> Result<FrontendOptions, OptionsError> {
        let get = |key: &str| opts.get(key).map(String::as_str).filter(|v| !v.is_empty());
        let platforms = match get("platform") {
            Some(list) => parse_platforms(list)?,
            None => Vec::new(),
        };
        let source_date_epoch = match get("build-arg:SOURCE_DATE_EPOCH") {
            Some(value) => value
                .parse::<i64>()
                .map_err(|_| OptionsError::SourceDateEpoch(value.to_string()))?,
            None => 0,
        };
        let image_resolve_mode = match get("image-resolve-mode") {
            None | Some("default") => None,
            Some(mode @ ("pull" | "local")) => Some(mode.to_string()),
            Some(other) => return Err(OptionsError::ResolveMode(other.to_string())),
        };
        let target = match get("target") {
            Some(name) => BuildTarget::parse(name).map_err(OptionsError::Target)?,
            None => BuildTarget::default(),
        };
        let no_cache = match opts.get("no-cache") {
            None => NoCache::Off,
            Some(names) => parse_no_cache(names)?,
        };
        let extra_hosts = match get("add-hosts") {
            Some(list) => parse_extra_hosts(list)?,
            None => Vec::new(),
        };
        let sbom = opts.get("attest:sbom").is_some_and(|csv| golb_sbom(csv));
        Ok(FrontendOptions {
            target,
            filename: get("filename").unwrap_or(DEFAULT_FILENAME).to_string(),
            platforms,
            build: BuildOptions {
                source_date_epoch,
                no_cache,
                image_resolve_mode,
                extra_hosts,
                sbom,
            },
            request_id: get("requestid").map(String::from),
            spec_local: get("dockerfilekey").unwrap_or("dockerfile").to_string(),
            context_local: get("contextkey").unwrap_or("context").to_string(),
        })
    }
}

/// Whether `attest:sbom=<csv>` asks golb for its own SBOM: yes unless the
/// request is disabled or names a scanner image (`generator=`), which the
/// user chose over golb's; BuildKit runs it when golb attaches none.
fn golb_sbom(csv: &str) -> bool {
    let mut own = true;
    for field in csv.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field.split_once('=').unwrap_or((field, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "generator" if !value.trim().is_empty() => own = false,
            "disabled" if value.trim().eq_ignore_ascii_case("true") => own = false,
            _ => {}
        }
    }
    own
}

/// `no-cache`: empty for `--no-cache` (every step), else the comma list of
/// `--no-cache-filter` names, which for golb are its steps. An unknown name
/// is an error: ignoring it would quietly keep the cache the user asked to skip.
fn parse_no_cache(value: &str) -> Result<NoCache, OptionsError> {
    let names: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(NoCache::All);
    }
    let mut steps = Vec::new();
    for name in names {
        let step = Step::parse(name).map_err(OptionsError::NoCache)?;
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    Ok(NoCache::Steps(steps))
}

/// `add-hosts`, as buildx sends `--add-host`: `host=ip` entries joined by
/// commas (buildx has already turned `host:ip` into `host=ip`, split
/// `host=ip1,ip2` and replaced `host-gateway`). Names are lowercased and
/// IPv6 addresses may be bracketed, as in BuildKit's Dockerfile frontend.
pub fn parse_extra_hosts(list: &str) -> Result<Vec<(String, IpAddr)>, OptionsError> {
    let mut hosts = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let error = |message: &str| OptionsError::AddHost {
            entry: entry.to_string(),
            message: message.to_string(),
        };
        let (host, ip) = entry
            .split_once('=')
            .ok_or_else(|| error("expected host=ip"))?;
        let host = host.trim().to_ascii_lowercase();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(error("not a host name"));
        }
        let ip = ip.trim();
        let bare = ip
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(ip);
        let ip: IpAddr = bare
            .parse()
            .map_err(|_| error(&format!("{ip:?} is not an IP address")))?;
        hosts.push((host, ip));
    }
    Ok(hosts)
}

/// Parses a comma-separated platform list, dropping duplicates.
pub fn parse_platforms(list: &str) -> Result<Vec<Platform>, OptionsError> {
    let mut platforms: Vec<Platform> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let platform = Platform::parse(item).map_err(|e| OptionsError::Platform {
            value: item.to_string(),
            message: e.to_string(),
        })?;
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    Ok(platforms)
}

/// Frontend options from key/value pairs, for tests.
#[cfg(test)]
pub(crate) fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_options() {
        let o = FrontendOptions::from_opts(&BTreeMap::new()).unwrap();
        assert_eq!(o.filename, "golb.toml");
        assert!(o.platforms.is_empty());
        assert_eq!(o.build.source_date_epoch, 0);
        assert_eq!(o.build.no_cache, NoCache::Off);
        assert!(o.build.extra_hosts.is_empty());
        assert!(!o.build.sbom);
        assert_eq!(
            (o.spec_local.as_str(), o.context_local.as_str()),
            ("dockerfile", "context")
        );
    }

    #[test]
    fn golb_writes_the_sbom_unless_a_scanner_is_named() {
        let sbom = |value: &str| {
            let opts = BTreeMap::from([("attest:sbom".to_string(), value.to_string())]);
            FrontendOptions::from_opts(&opts).unwrap().build.sbom
        };
        assert!(sbom(""));
        assert!(sbom("scan-context=false"));
        assert!(!sbom("generator=docker/buildkit-syft-scanner"));
        assert!(!sbom("disabled=true"));
    }

    #[test]
    fn reads_what_buildx_sends() {
        let o = FrontendOptions::from_opts(&opts(&[
            ("filename", "service.toml"),
            ("platform", "linux/amd64,linux/arm64,linux/amd64"),
            ("build-arg:SOURCE_DATE_EPOCH", "1700000000"),
            ("build-arg:VERSION", "1.2.3"),
            ("no-cache", ""),
            ("image-resolve-mode", "pull"),
        ]))
        .unwrap();
        assert_eq!(o.filename, "service.toml");
        let platforms: Vec<String> = o.platforms.iter().map(ToString::to_string).collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
        assert_eq!(o.build.source_date_epoch, 1_700_000_000);
        assert_eq!(o.build.no_cache, NoCache::All);
        assert_eq!(o.build.image_resolve_mode.as_deref(), Some("pull"));
        let o = FrontendOptions::from_opts(&opts(&[("target", "binaries")])).unwrap();
        assert_eq!(o.target, BuildTarget::Binaries);
    }

    #[test]
    fn no_cache_filter_names_golb_steps() {
        let o = FrontendOptions::from_opts(&opts(&[("no-cache", "Build, vet,build")])).unwrap();
        assert_eq!(
            o.build.no_cache,
            NoCache::Steps(vec![Step::Build, Step::Vet])
        );
        assert!(o.build.no_cache.covers(Step::Build));
        assert!(!o.build.no_cache.covers(Step::Download));
        assert!(NoCache::All.covers(Step::Download));
        assert!(!NoCache::Off.covers(Step::Test));
        let err = FrontendOptions::from_opts(&opts(&[("no-cache", "build,runtime")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "option no-cache: --no-cache-filter \"runtime\": golb's steps are download, build, test, vet, vuln"
        );
    }

    #[test]
    fn add_hosts_as_buildx_sends_them() {
        let o = FrontendOptions::from_opts(&opts(&[(
            "add-hosts",
            "GoProxy.corp.test=10.0.0.7,git.corp.test=::1,v6.corp.test=[fd00::1]",
        )]))
        .unwrap();
        let hosts: Vec<(String, String)> = o
            .build
            .extra_hosts
            .iter()
            .map(|(h, ip)| (h.clone(), ip.to_string()))
            .collect();
        assert_eq!(
            hosts,
            [
                ("goproxy.corp.test".to_string(), "10.0.0.7".to_string()),
                ("git.corp.test".to_string(), "::1".to_string()),
                ("v6.corp.test".to_string(), "fd00::1".to_string()),
            ]
        );
        for (bad, says) in [
            ("goproxy.corp.test", "expected host=ip"),
            ("=10.0.0.7", "not a host name"),
            (
                "goproxy.corp.test=host-gateway",
                "\"host-gateway\" is not an IP address",
            ),
        ] {
            let err = FrontendOptions::from_opts(&opts(&[("add-hosts", bad)])).unwrap_err();
            assert!(err.to_string().contains(says), "{bad}: {err}");
            assert!(err.to_string().starts_with("option add-hosts: "), "{err}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err = FrontendOptions::from_opts(&opts(&[("platform", "linux/amd64,plan9/???/x/y")]))
            .unwrap_err();
        assert!(err.to_string().contains("plan9"), "{err}");
        let err =
            FrontendOptions::from_opts(&opts(&[("build-arg:SOURCE_DATE_EPOCH", "yesterday")]))
                .unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
        let err =
            FrontendOptions::from_opts(&opts(&[("image-resolve-mode", "sometimes")])).unwrap_err();
        assert!(err.to_string().contains("sometimes"), "{err}");
        let err = FrontendOptions::from_opts(&opts(&[("target", "release")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown target \"release\": golb builds image, binaries, test, vet, size, vuln"
        );
    }
}
