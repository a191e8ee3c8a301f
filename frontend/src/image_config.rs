//! The OCI image config of the runtime image: the base image's config with
//! the spec's settings merged in. Deterministic: it depends on the base, the
//! spec and the creation time only, and serializes with sorted keys.

use crate::spec::Runtime;
use golb_proto::llb::Platform;
use serde_json::{json, Map, Value};

/// The user golb runs as when neither the spec nor the base names a non-root
/// one: distroless's `nonroot`. golb never defaults to root.
pub const NONROOT_USER: &str = "65532:65532";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageConfigError {
    #[error("the image config of {image} is not valid JSON: {message}")]
    Malformed { image: String, message: String },
}

/// What the runtime image is made of, besides the base.
pub struct RuntimeImage<'a> {
    pub spec: &'a Runtime,
    /// Default entrypoint: set when exactly one binary is built.
    pub default_entrypoint: Option<Vec<String>>,
    pub platform: &'a Platform,
    /// RFC 3339 time written to `created` and to the new history entries.
    pub created: &'a str,
    /// What each layer golb adds holds, in order, for `docker history`. One
    /// entry per layer: BuildKit's exporter stamps a layer without one with
    /// the wall clock, which would make the image irreproducible.
    pub layer_descriptions: Vec<String>,
}

/// Parses a base image's config (as ResolveImageConfig returns it).
pub fn parse_base(image: &str, bytes: &[u8]) -> Result<Value, ImageConfigError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ImageConfigError::Malformed {
        image: image.to_string(),
        message: e.to_string(),
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ImageConfigError::Malformed {
            image: image.to_string(),
            message: "not a JSON object".to_string(),
        })
    }
}

/// The `Env` of an image config, as `KEY=value` strings.
pub fn env_of(config: &Value) -> Vec<String> {
    config
        .pointer("/config/Env")
        .and_then(Value::as_array)
        .map(|env| {
            env.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the runtime image config from the base config.
pub fn runtime_config(base: &Value, image: &RuntimeImage<'_>) -> Value {
    let spec = image.spec;
    let base_config = base
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut config = base_config.clone();

    let env = merge_env(
        &env_of(base),
        spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    config.insert("Env".into(), json!(env));

    config.insert("User".into(), json!(effective_user(spec, &base_config)));

    let entrypoint = spec
        .entrypoint
        .as_ref()
        .map(|e| e.value.clone())
        .or_else(|| image.default_entrypoint.clone());
    match entrypoint {
        Some(entrypoint) => config.insert("Entrypoint".into(), json!(entrypoint)),
        None => config.remove("Entrypoint"),
    };
    // The base's Cmd was written for the base's entrypoint, not for ours.
    match &spec.args {
        Some(args) => config.insert("Cmd".into(), json!(args.value)),
        None => config.remove("Cmd"),
    };

    if !spec.expose.is_empty() {
        let mut ports = base_config
            .get("ExposedPorts")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for port in &spec.expose {
            ports.insert(port.to_string(), json!({}));
        }
        config.insert("ExposedPorts".into(), Value::Object(ports));
    }
    if !spec.labels.is_empty() {
        let mut labels = base_config
            .get("Labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, value) in &spec.labels {
            labels.insert(key.clone(), json!(value));
        }
        config.insert("Labels".into(), Value::Object(labels));
    }
    if let Some(workdir) = &spec.workdir {
        config.insert("WorkingDir".into(), json!(workdir.value));
    }

    let mut history: Vec<Value> = base
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for description in &image.layer_descriptions {
        history.push(json!({
            "created": image.created,
            "created_by": description,
            "comment": "golb",
        }));
    }

    let mut out = Map::new();
    out.insert("architecture".into(), json!(image.platform.architecture));
    out.insert("os".into(), json!(image.platform.os));
    if let Some(variant) = &image.platform.variant {
        out.insert("variant".into(), json!(variant));
    }
    out.insert("created".into(), json!(image.created));
    out.insert("config".into(), Value::Object(config));
    // BuildKit's exporter rewrites rootfs from the actual layers; the base's
    // diff_ids keep the history and layers in step until then.
    out.insert(
        "rootfs".into(),
        base.get("rootfs")
            .cloned()
            .unwrap_or_else(|| json!({"type": "layers", "diff_ids": []})),
    );
    out.insert("history".into(), Value::Array(history));
    Value::Object(out)
}

/// The spec's user, else the base's if it is not root, else nonroot.
fn effective_user(spec: &Runtime, base_config: &Map<String, Value>) -> String {
    if let Some(user) = &spec.user {
        return user.value.clone();
    }
    let base_user = base_config
        .get("User")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = base_user.split(':').next().unwrap_or("");
    if name.is_empty() || name == "root" || name == "0" {
        NONROOT_USER.to_string()
    } else {
        base_user.to_string()
    }
}

/// Overlays `KEY=value` pairs on an env list: existing keys keep their place.
pub fn merge_env<'a>(
    base: &[String],
    overlay: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut env: Vec<String> = base.to_vec();
    for (key, value) in overlay {
        let entry = format!("{key}={value}");
        match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }
    env
}

/// Formats seconds since the epoch as RFC 3339 UTC, as image configs write times.
pub fn rfc3339(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let secs = epoch_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    fn distroless() -> Value {
        json!({
            "architecture": "amd64", "os": "linux",
            "config": {"User": "65532", "WorkingDir": "/home/nonroot", "Env": ["PATH=/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "base"}]
        })
    }

    fn runtime(text: &str) -> Runtime {
        Spec::parse("golb.toml", text).unwrap().runtime
    }

    fn build(spec: &Runtime, base: &Value) -> Value {
        let platform = Platform::parse("linux/amd64").unwrap();
        let image = RuntimeImage {
            spec,
            default_entrypoint: Some(vec!["/usr/local/bin/server".into()]),
            platform: &platform,
            created: "1970-01-01T00:00:00Z",
            layer_descriptions: vec!["golb: binaries server".into()],
        };
        runtime_config(base, &image)
    }

    #[test]
    fn the_base_user_stays_and_the_spec_is_merged() {
        let spec = runtime("[runtime]\nexpose = [8080]\nenv = { LOG_FORMAT = \"json\", PATH = \"/x\" }\nlabels = { a = \"b\" }\n");
        let config = build(&spec, &distroless());
        assert_eq!(config["config"]["User"], "65532");
        assert_eq!(
            config["config"]["Entrypoint"],
            json!(["/usr/local/bin/server"])
        );
        assert!(
            config["config"].get("Cmd").is_none(),
            "the base Cmd must not survive"
        );
        assert_eq!(
            config["config"]["Env"],
            json!([
                "PATH=/x",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "LOG_FORMAT=json"
            ])
        );
        assert_eq!(config["config"]["ExposedPorts"], json!({"8080/tcp": {}}));
        assert_eq!(config["config"]["Labels"], json!({"a": "b"}));
        assert_eq!(config["config"]["WorkingDir"], "/home/nonroot");
        assert_eq!(config["created"], "1970-01-01T00:00:00Z");
        let history = config["history"].as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1]["created_by"], "golb: binaries server");
    }

    #[test]
    fn golb_never_defaults_to_root() {
        let spec = runtime("");
        let mut root_base = distroless();
        root_base["config"]["User"] = json!("");
        assert_eq!(build(&spec, &root_base)["config"]["User"], NONROOT_USER);
        root_base["config"]["User"] = json!("root");
        assert_eq!(build(&spec, &root_base)["config"]["User"], NONROOT_USER);
        let explicit = runtime("[runtime]\nuser = \"0\"\n");
        assert_eq!(build(&explicit, &root_base)["config"]["User"], "0");
    }

    #[test]
    fn entrypoint_and_args_from_the_spec_win() {
        let spec = runtime("[runtime]\nentrypoint = [\"/usr/local/bin/a\", \"serve\"]\nargs = [\"--port\", \"1\"]\n");
        let config = build(&spec, &distroless());
        assert_eq!(
            config["config"]["Entrypoint"],
            json!(["/usr/local/bin/a", "serve"])
        );
        assert_eq!(config["config"]["Cmd"], json!(["--port", "1"]));
    }

    #[test]
    fn the_config_is_byte_identical_for_the_same_inputs() {
        let spec = runtime("[runtime]\nlabels = { z = \"1\", a = \"2\" }\n");
        let a = serde_json::to_vec(&build(&spec, &distroless())).unwrap();
        let b = serde_json::to_vec(&build(&spec, &distroless())).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn malformed_base_configs_are_errors() {
        assert!(parse_base("x", b"not json").is_err());
        assert!(parse_base("x", b"[]").is_err());
        assert!(parse_base("x", b"{}").is_ok());
    }
}
