//! A small client of the OCI distribution API, for what golb asks a registry
//! outside of BuildKit (`golb lock`): which digest a tag names now, and the
//! per-platform manifests of that digest. It authenticates with the user's
//! Docker credentials (`docker_config`) through the basic and bearer-token
//! flows (`auth`). Loopback registries are spoken to over plain HTTP, as
//! Docker treats them; every other one over HTTPS.

pub mod auth;
pub mod docker_config;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use auth::Challenge;
pub use docker_config::{Credentials, DockerConfig};

/// Every manifest kind a tag may name.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";
/// Manifests and image configs are small; anything bigger is not one.
const MAX_DOCUMENT: u64 = 4 << 20;
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{registry} refused the credentials for {repository} (HTTP {status}): {hint}")]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
        hint: String,
    },
    #[error("{url}: {message}")]
    Manifest { url: String, message: String },
    #[error("{path}: {message}")]
    DockerConfig { path: String, message: String },
    #[error("{helper}: {message}")]
    CredentialHelper { helper: String, message: String },
}

/// A repository as image references name it: "docker.io" + "library/golang",
/// "127.0.0.1:5000" + "team/base".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    pub registry: String,
    pub path: String,
}

/// What a tag (or digest) names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The digest of what the reference names: an index or a single manifest.
    pub digest: String,
    /// Platform ("linux/arm/v7") → its image manifest's digest. For a single
    /// manifest, its own platform and digest.
    pub platforms: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    #[serde(default)]
    platform: Option<PlatformSpec>,
}

#[derive(Deserialize)]
struct PlatformSpec {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl PlatformSpec {
    fn id(&self) -> String {
        match self.variant.as_deref().filter(|v| !v.is_empty()) {
            Some(variant) => format!("{}/{}/{variant}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A blocking registry client; it keeps each repository's authorization for
/// its lifetime, so one login serves every request.
pub struct Client {
    agent: ureq::Agent,
    config: DockerConfig,
    /// "registry/path" → the Authorization header that worked.
    authorizations: Mutex<HashMap<String, String>>,
}

impl Repository {
    fn key(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// The API's base URL: Docker Hub's API host for docker.io; HTTP for
    /// loopback registries.
    fn base_url(&self) -> String {
        let host = if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        };
        let scheme = if is_loopback(host) { "http" } else { "https" };
        format!("{scheme}://{host}/v2/{}", self.path)
    }
}

/// localhost, 127.0.0.0/8 and [::1], with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    pub fn new(config: DockerConfig) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("golb/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            config,
            authorizations: Mutex::new(HashMap::new()),
        }
    }

    /// The digest `reference` (a tag or a digest) names now, by HEAD, which
    /// Docker Hub does not count against pull limits.
    pub fn digest(&self, repo: &Repository, reference: &str) -> Result<String, RegistryError> {
        let url = format!("{}/manifests/{reference}", repo.base_url());
        let response = self.send(repo, Method::Head, &url, MANIFEST_TYPES)?;
        match header(&response, "docker-content-digest") {
            Some(digest) => Ok(digest),
            // A registry that does not say: read the manifest and hash it.
            None => Ok(self.resolve(repo, reference)?.digest),
        }
    }

    /// What `reference` names, with the manifest of each platform.
    pub fn resolve(&self, repo: &Repository, reference: &str) -> Result<Resolved, RegistryError> {
        let url = format!("{}/manifests/{reference}", repo.base_url());
        let (bytes, content_type) = self.get(repo, &url, MANIFEST_TYPES)?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(RegistryError::Manifest {
                url,
                message: format!("the registry sent content with digest {digest}"),
            });
        }
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::Manifest {
                url: url.clone(),
                message: e.to_string(),
            })?;
        let media_type = if manifest.media_type.is_empty() {
            content_type
        } else {
            manifest.media_type.clone()
        };
        let platforms = match (manifest.manifests, manifest.config) {
            (Some(entries), _) => entries
                .into_iter()
                .filter_map(|entry| Some((entry.platform?.id(), entry.digest)))
                // Attestation manifests are not images.
                .filter(|(platform, _)| platform != "unknown/unknown")
                .collect(),
            (None, Some(config)) => {
                let config_url = format!("{}/blobs/{}", repo.base_url(), config.digest);
                let (bytes, _) = self.get(repo, &config_url, "*/*")?;
                let platform: PlatformSpec =
                    serde_json::from_slice(&bytes).map_err(|e| RegistryError::Manifest {
                        url: config_url,
                        message: format!("image config: {e}"),
                    })?;
                BTreeMap::from([(platform.id(), digest.clone())])
            }
            (None, None) => {
                return Err(RegistryError::Manifest {
                    url,
                    message: format!("neither an index nor an image manifest ({media_type})"),
                })
            }
        };
        Ok(Resolved { digest, platforms })
    }

    fn get(
        &self,
        repo: &Repository,
        url: &str,
        accept: &str,
    ) -> Result<(Vec<u8>, String), RegistryError> {
        let response = self.send(repo, Method::Get, url, accept)?;
        let content_type = header(&response, "content-type").unwrap_or_default();
        Ok((read_body(response, url)?, content_type))
    }

    /// One request, authenticating on a 401 as the challenge asks and once only.
    fn send(
        &self,
        repo: &Repository,
        method: Method,
        url: &str,
        accept: &str,
    ) -> Result<Response, RegistryError> {
        let known = self.authorization(repo);
        let response = self.call(method, url, accept, known.as_deref())?;
        if response.status().as_u16() != 401 {
            return check(response, url);
        }
        let challenge = header(&response, "www-authenticate")
            .and_then(|h| Challenge::parse(&h))
            .ok_or_else(|| RegistryError::Status {
                url: url.to_string(),
                status: 401,
                body: "no WWW-Authenticate challenge golb understands".into(),
            })?;
        let credentials = self.config.credentials(&repo.registry)?;
        let authorization = match challenge {
            Challenge::Basic => match &credentials {
                Some(c) => auth::basic(c),
                None => return Err(not_logged_in(repo, 401)),
            },
            Challenge::Bearer { realm, params } => self.token(
                repo,
                &auth::token_url(&realm, &params, &repo.path),
                credentials.as_ref(),
            )?,
        };
        let response = self.call(method, url, accept, Some(&authorization))?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(if credentials.is_some() {
                RegistryError::Unauthorized {
                    registry: repo.registry.clone(),
                    repository: repo.path.clone(),
                    status,
                    hint: "check `docker login` for it".into(),
                }
            } else {
                not_logged_in(repo, status)
            });
        }
        self.remember(repo, authorization);
        check(response, url)
    }

    /// A bearer token from the realm, asked with the user's credentials when there are any.
    fn token(
        &self,
        repo: &Repository,
        url: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, RegistryError> {
        let basic = credentials.map(auth::basic);
        let response = self.call(Method::Get, url, "application/json", basic.as_deref())?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(match credentials {
                Some(_) => RegistryError::Unauthorized {
                    registry: repo.registry.clone(),
                    repository: repo.path.clone(),
                    status,
                    hint: "the token server refused the credentials; check `docker login` for it"
                        .into(),
                },
                None => not_logged_in(repo, status),
            });
        }
        let bytes = read_body(check(response, url)?, url)?;
        let reply: auth::TokenReply =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::Http {
                url: url.to_string(),
                message: format!("token reply: {e}"),
            })?;
        reply.bearer().ok_or_else(|| RegistryError::Http {
            url: url.to_string(),
            message: "the token reply has no token".into(),
        })
    }

    fn call(
        &self,
        method: Method,
        url: &str,
        accept: &str,
        authorization: Option<&str>,
    ) -> Result<Response, RegistryError> {
        let result = match method {
            Method::Get => {
                let mut request = self.agent.get(url).header("Accept", accept);
                if let Some(value) = authorization {
                    request = request.header("Authorization", value);
                }
                request.call()
            }
            Method::Head => {
                let mut request = self.agent.head(url).header("Accept", accept);
                if let Some(value) = authorization {
                    request = request.header("Authorization", value);
                }
                request.call()
            }
        };
        result.map_err(|e| RegistryError::Http {
            url: url.to_string(),
            message: e.to_string(),
        })
    }

    fn authorization(&self, repo: &Repository) -> Option<String> {
        self.authorizations
            .lock()
            .ok()
            .and_then(|known| known.get(&repo.key()).cloned())
    }

    fn remember(&self, repo: &Repository, authorization: String) {
        if let Ok(mut known) = self.authorizations.lock() {
            known.insert(repo.key(), authorization);
        }
    }
}

type Response = ureq::http::Response<ureq::Body>;

#[derive(Clone, Copy)]
enum Method {
    Get,
    Head,
}

/// A manifest, config or token reply: small documents, read whole.
fn read_body(mut response: Response, url: &str) -> Result<Vec<u8>, RegistryError> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_DOCUMENT)
        .read_to_vec()
        .map_err(|e| RegistryError::Http {
            url: url.to_string(),
            message: e.to_string(),
        })
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The response itself when it succeeded, else an error with what it said.
fn check(mut response: Response, url: &str) -> Result<Response, RegistryError> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    Err(RegistryError::Status {
        url: url.to_string(),
        status,
        body: body.trim().chars().take(300).collect(),
    })
}

fn not_logged_in(repo: &Repository, status: u16) -> RegistryError {
    RegistryError::Unauthorized {
        registry: repo.registry.clone(),
        repository: repo.path.clone(),
        status,
        hint: format!(
            "no credentials for it in the Docker config; run `docker login {}`",
            repo.registry
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_use_plain_http() {
        let repo = |registry: &str| Repository {
            registry: registry.into(),
            path: "team/base".into(),
        };
        assert_eq!(
            repo("127.0.0.1:5000").base_url(),
            "http://127.0.0.1:5000/v2/team/base"
        );
        assert_eq!(
            repo("localhost").base_url(),
            "http://localhost/v2/team/base"
        );
        assert_eq!(
            repo("[::1]:5000").base_url(),
            "http://[::1]:5000/v2/team/base"
        );
        assert_eq!(repo("ghcr.io").base_url(), "https://ghcr.io/v2/team/base");
        assert_eq!(
            Repository {
                registry: "docker.io".into(),
                path: "library/golang".into()
            }
            .base_url(),
            "https://registry-1.docker.io/v2/library/golang"
        );
        assert!(!is_loopback("127.example.com"));
    }

    #[test]
    fn platform_ids_keep_variants() {
        let p: PlatformSpec =
            serde_json::from_str(r#"{"os":"linux","architecture":"arm","variant":"v7"}"#)
                .expect("json");
        assert_eq!(p.id(), "linux/arm/v7");
        let p: PlatformSpec =
            serde_json::from_str(r#"{"os":"linux","architecture":"amd64","variant":""}"#)
                .expect("json");
        assert_eq!(p.id(), "linux/amd64");
    }
}
