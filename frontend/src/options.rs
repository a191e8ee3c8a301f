//! The options BuildKit hands a frontend (`--opt`, build args, platforms),
//! read into one typed value. Shared by the gateway and the offline commands
//! so both plan from the same decisions.

use crate::plan::{BuildOptions, BuildTarget};
use golb_proto::llb::Platform;
use std::collections::BTreeMap;

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
        Ok(FrontendOptions {
            target,
            filename: get("filename").unwrap_or(DEFAULT_FILENAME).to_string(),
            platforms,
            build: BuildOptions {
                source_date_epoch,
                // BuildKit sends `no-cache` with an empty value for "everything".
                no_cache: opts.contains_key("no-cache"),
                image_resolve_mode,
            },
            request_id: get("requestid").map(String::from),
            spec_local: get("dockerfilekey").unwrap_or("dockerfile").to_string(),
            context_local: get("contextkey").unwrap_or("context").to_string(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_options() {
        let o = FrontendOptions::from_opts(&BTreeMap::new()).unwrap();
        assert_eq!(o.filename, "golb.toml");
        assert!(o.platforms.is_empty());
        assert_eq!(o.build.source_date_epoch, 0);
        assert!(!o.build.no_cache);
        assert_eq!(
            (o.spec_local.as_str(), o.context_local.as_str()),
            ("dockerfile", "context")
        );
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
        assert!(o.build.no_cache);
        assert_eq!(o.build.image_resolve_mode.as_deref(), Some("pull"));
        let o = FrontendOptions::from_opts(&opts(&[("target", "binaries")])).unwrap();
        assert_eq!(o.target, BuildTarget::Binaries);
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
            "unknown target \"release\": golb builds image, binaries, test, vet"
        );
    }
}
