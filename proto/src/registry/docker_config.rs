//! The credentials a user gave `docker login`: `~/.docker/config.json` (or
//! `$DOCKER_CONFIG/config.json`), its `auths` entries and its credential
//! helpers (`credHelpers` per registry, `credsStore` for all), run as
//! `docker-credential-<name> get` with the server on stdin, as Docker does.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use super::RegistryError;

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

/// Docker Hub's key in config.json, whatever host the API is reached on.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return Some(Path::new(&dir).join("config.json"));
        }
        std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker/config.json"))
    }

    /// Reads a config file; a missing file is an empty config (no credentials).
    pub fn load(path: &Path) -> Result<DockerConfig, RegistryError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::DockerConfig {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerConfig::default()),
            Err(e) => Err(RegistryError::DockerConfig {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// The credentials for `registry` (a host with optional port; Docker
    /// Hub as "docker.io"): its credential helper's, else its `auths` entry.
    pub fn credentials(&self, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        let key = if registry == "docker.io" {
            DOCKER_HUB_KEY
        } else {
            registry
        };
        let helper = self
            .cred_helpers
            .get(registry)
            .or(self.creds_store.as_ref());
        if let Some(helper) = helper {
            if let Some(found) = run_helper(helper, key)? {
                return Ok(Some(found));
            }
        }
        let entry = self
            .auths
            .iter()
            .find(|(k, _)| normalize_key(k) == normalize_key(key))
            .map(|(_, v)| v);
        let Some(entry) = entry else {
            return Ok(None);
        };
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let bad = |why: &str| RegistryError::DockerConfig {
                path: "config.json".into(),
                message: format!("auths[{key:?}].auth {why}"),
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let text = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8"))?;
            let (username, password) = text
                .split_once(':')
                .ok_or_else(|| bad("is not base64 of user:password"))?;
            return Ok(Some(Credentials {
                username: username.to_string(),
                password: password.to_string(),
            }));
        }
        Ok(match (&entry.username, &entry.password) {
            (Some(username), Some(password)) => Some(Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        })
    }
}

/// "https://host:5000/v2/" and "host:5000" name the same registry.
fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// `docker-credential-<helper> get`; None when the helper has nothing for `server`.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let fail = |message: String| RegistryError::CredentialHelper {
        helper: program.clone(),
        message,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // The helpers' protocol: this message means "no credentials stored".
        if text.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(text.trim().to_string()));
    }
    let reply: HelperReply =
        serde_json::from_slice(&out.stdout).map_err(|e| fail(e.to_string()))?;
    Ok(Some(Credentials {
        username: reply.username,
        password: reply.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).expect("config")
    }

    #[test]
    fn auths_entries_match_with_or_without_scheme() {
        let c = config(
            r#"{"auths": {
                "https://127.0.0.1:5001/v2/": {"auth": "dXNlcjpwYTpzcw=="},
                "https://index.docker.io/v1/": {"username": "hub", "password": "tok"},
                "other.example": {}
            }}"#,
        );
        assert_eq!(
            c.credentials("127.0.0.1:5001").expect("read"),
            Some(Credentials {
                username: "user".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(
            c.credentials("docker.io")
                .expect("read")
                .map(|c| c.username),
            Some("hub".into())
        );
        assert_eq!(c.credentials("other.example").expect("read"), None);
        assert_eq!(c.credentials("nowhere.example").expect("read"), None);
    }

    #[test]
    fn a_broken_auth_is_an_error_and_a_missing_file_is_empty() {
        let c = config(r#"{"auths": {"r.example": {"auth": "not base64!"}}}"#);
        assert!(c.credentials("r.example").is_err());
        let missing = DockerConfig::load(Path::new("/nonexistent/config.json")).expect("empty");
        assert_eq!(missing.credentials("r.example").expect("read"), None);
        assert!(format!(
            "{:?}",
            Credentials {
                username: "u".into(),
                password: "secret".into()
            }
        )
        .contains("***"));
    }

    #[test]
    fn credential_helpers_are_asked_first() {
        // A credential helper that speaks the protocol, on PATH for this test only.
        let dir = std::env::temp_dir().join(format!("golb-credhelper-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let helper = dir.join("docker-credential-golbtest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 2\n\
             if [ \"$server\" = helped.example ]; then echo '{\"ServerURL\":\"helped.example\",\"Username\":\"h\",\"Secret\":\"s3\"}'; \
             else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .expect("helper");
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&helper)
            .status()
            .expect("chmod");
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // Only this test changes PATH, and it only adds a directory.
        std::env::set_var("PATH", path);
        let c = config(
            r#"{"credsStore": "golbtest", "auths": {"plain.example": {"username": "p", "password": "q"}}}"#,
        );
        assert_eq!(
            c.credentials("helped.example").expect("helper"),
            Some(Credentials {
                username: "h".into(),
                password: "s3".into()
            })
        );
        // Nothing in the helper: the auths entry still counts.
        assert_eq!(
            c.credentials("plain.example")
                .expect("fallback")
                .map(|c| c.username),
            Some("p".into())
        );
        let broken = config(r#"{"credHelpers": {"x.example": "does-not-exist"}}"#);
        assert!(broken.credentials("x.example").is_err());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
