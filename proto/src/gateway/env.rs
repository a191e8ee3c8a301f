//! The environment BuildKit starts a gateway frontend with.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::GatewayError;
use crate::llb::Platform;

const OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";

/// Options BuildKit passes to a gateway frontend via the environment.
#[derive(Clone, Debug, Default)]
pub struct FrontendEnv {
    pub opts: BTreeMap<String, String>,
    pub session_id: String,
    pub workers: Vec<WorkerInfo>,
    pub exported_product: String,
}

#[derive(Clone, Debug)]
pub struct WorkerInfo {
    pub id: String,
    pub platforms: Vec<Platform>,
}

#[derive(Deserialize)]
struct WorkerJson {
    #[serde(default)]
    id: String,
    #[serde(default)]
    platforms: Option<Vec<PlatformJson>>,
}

#[derive(Deserialize)]
struct PlatformJson {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: String,
}

impl FrontendEnv {
    /// Takes the variables as given (rather than reading the process) so it can be tested.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<FrontendEnv, GatewayError> {
        let mut env = FrontendEnv::default();
        let mut opts = Vec::new();
        for (name, value) in vars {
            if let Some(n) = name.strip_prefix(OPT_PREFIX) {
                // Apply in numeric order so a repeated key resolves the same way every run.
                let order = n.parse::<u64>().unwrap_or(u64::MAX);
                opts.push((order, name.clone(), value));
                continue;
            }
            match name.as_str() {
                "BUILDKIT_SESSION_ID" => env.session_id = value,
                "BUILDKIT_EXPORTEDPRODUCT" => env.exported_product = value,
                "BUILDKIT_WORKERS" => env.workers = parse_workers(&value)?,
                _ => {}
            }
        }
        opts.sort();
        for (_, _, kv) in opts {
            // Like Go's grpcclient: split at the first '='; no '=' means an empty value.
            let (key, value) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
            env.opts.insert(key.to_string(), value.to_string());
        }
        Ok(env)
    }

    pub fn from_process_env() -> Result<FrontendEnv, GatewayError> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            // Only our variables must be text; anything else in the environment is not our concern.
            let Ok(name) = name.into_string() else {
                continue;
            };
            if !name.starts_with("BUILDKIT_") {
                continue;
            }
            let value = value.into_string().map_err(|_| GatewayError::Env {
                var: name.clone(),
                message: "value is not valid UTF-8".to_string(),
            })?;
            vars.push((name, value));
        }
        FrontendEnv::from_vars(vars)
    }
}

fn parse_workers(json: &str) -> Result<Vec<WorkerInfo>, GatewayError> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let workers: Option<Vec<WorkerJson>> =
        serde_json::from_str(json).map_err(|e| GatewayError::Env {
            var: "BUILDKIT_WORKERS".to_string(),
            message: format!("invalid JSON: {e}"),
        })?;
    Ok(workers
        .unwrap_or_default()
        .into_iter()
        .map(|w| WorkerInfo {
            id: w.id,
            platforms: w
                .platforms
                .unwrap_or_default()
                .iter()
                .map(|p| Platform::normalized(&p.os, &p.architecture, &p.variant))
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_options_session_workers_product() {
        let env = FrontendEnv::from_vars(vars(&[
            ("BUILDKIT_FRONTEND_OPT_0", "filename=golb.toml"),
            ("BUILDKIT_FRONTEND_OPT_1", "build-arg:A=b=c"),
            ("BUILDKIT_FRONTEND_OPT_2", "no-cache"),
            ("BUILDKIT_SESSION_ID", "sess1"),
            ("BUILDKIT_EXPORTEDPRODUCT", "buildx"),
            (
                "BUILDKIT_WORKERS",
                r#"[{"id":"w1","labels":{"a":"b"},"platforms":[{"architecture":"amd64","os":"linux"},{"architecture":"arm","os":"linux","variant":"v7"}],"gcPolicy":null,"buildkitVersion":{"version":"v0.32.2"},"cdiDevices":null}]"#,
            ),
            ("PATH", "/bin"),
        ]))
        .expect("valid env");
        assert_eq!(
            env.opts.get("filename").map(String::as_str),
            Some("golb.toml")
        );
        assert_eq!(env.opts.get("build-arg:A").map(String::as_str), Some("b=c"));
        assert_eq!(env.opts.get("no-cache").map(String::as_str), Some(""));
        assert_eq!(env.session_id, "sess1");
        assert_eq!(env.exported_product, "buildx");
        assert_eq!(env.workers.len(), 1);
        assert_eq!(env.workers[0].id, "w1");
        let platforms: Vec<String> = env.workers[0]
            .platforms
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm/v7"]);
    }

    #[test]
    fn later_numbered_option_wins() {
        let env = FrontendEnv::from_vars(vars(&[
            ("BUILDKIT_FRONTEND_OPT_10", "target=b"),
            ("BUILDKIT_FRONTEND_OPT_2", "target=a"),
        ]))
        .expect("valid env");
        assert_eq!(env.opts.get("target").map(String::as_str), Some("b"));
    }

    #[test]
    fn workers_null_or_missing_is_empty_and_garbage_is_an_error() {
        let env = FrontendEnv::from_vars(vars(&[("BUILDKIT_WORKERS", "null")])).expect("null ok");
        assert!(env.workers.is_empty());
        assert!(FrontendEnv::from_vars(vars(&[]))
            .expect("empty")
            .workers
            .is_empty());
        let err = FrontendEnv::from_vars(vars(&[("BUILDKIT_WORKERS", "[{")])).expect_err("garbage");
        assert!(err.to_string().contains("BUILDKIT_WORKERS"), "{err}");
    }
}
