//! Registries for `golb lock`'s tests, beside the harness's open one:
//! Debian's docker-registry (the distribution project's registry) started by
//! the test on another loopback port, behind HTTP basic auth (an htpasswd
//! file with a bcrypt entry) or behind bearer tokens from a token server the
//! test runs itself ([`TokenServer`], ES256-signed JWTs whose certificate the
//! registry trusts). And [`Pusher`], which uploads small images through the
//! registry API with curl, so a test can move a tag.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::Digest as _;

use crate::{run, TempDir};

/// How requests to a registry authenticate.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

/// A free TCP port on 127.0.0.1 (free when this returns; the caller binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// docker-registry on 127.0.0.1 and a port of its own, behind basic auth or
/// bearer tokens; stopped (and its storage removed) when dropped.
pub struct TestRegistry {
    pub host: String,
    child: Child,
    _dir: TempDir,
    /// The token server, for a bearer-token registry.
    pub tokens: Option<TokenServer>,
}

const SERVICE: &str = "golb-test-registry";
const ISSUER: &str = "golb-test-issuer";

impl TestRegistry {
    /// A registry that asks for `user`/`password` with HTTP basic auth.
    pub fn basic(name: &str, user: &str, password: &str) -> TestRegistry {
        let dir = TempDir::new(name);
        let hash = bcrypt::hash(password, 4).expect("bcrypt");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("htpasswd");
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: golb-test\n    path: {}\n",
            htpasswd.display()
        );
        TestRegistry::start(dir, &auth, None)
    }

    /// A registry that asks for bearer tokens from a [`TokenServer`], which
    /// hands them out for `user`/`password`.
    pub fn bearer(name: &str, user: &str, password: &str) -> TestRegistry {
        let dir = TempDir::new(name);
        let tokens = TokenServer::start(user, password);
        let bundle = dir.path().join("token.crt");
        std::fs::write(&bundle, &tokens.cert_pem).expect("cert bundle");
        let auth = format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            tokens.realm(),
            bundle.display()
        );
        TestRegistry::start(dir, &auth, Some(tokens))
    }

    fn start(dir: TempDir, auth: &str, tokens: Option<TokenServer>) -> TestRegistry {
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: golb-test\n{auth}",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("docker-registry runs (scripts/harness up installs it)");
        let registry = TestRegistry {
            host,
            child,
            _dir: dir,
            tokens,
        };
        registry.wait_ready();
        registry
    }

    /// Until `/v2/` answers 401: up, and asking for credentials.
    fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let out = run(Command::new("curl").args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://{}/v2/", self.host),
            ]));
            if out.stdout == b"401" {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry on {} did not come up:\n{}",
                self.host,
                std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token server for the distribution token auth protocol: `GET
/// /token?service=…&scope=repository:<name>:<actions>` with basic auth
/// answers `{"token": <JWT>}` granting the scope, signed with ES256 by a key
/// whose self-signed certificate the registry has as its root bundle.
pub struct TokenServer {
    port: u16,
    pub cert_pem: String,
    key: Arc<ring::signature::EcdsaKeyPair>,
    cert_der: Vec<u8>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// How many token requests had the right credentials.
    pub granted: Arc<std::sync::atomic::AtomicUsize>,
}

impl TokenServer {
    pub fn start(user: &str, password: &str) -> TokenServer {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let params =
            rcgen::CertificateParams::new(vec!["golb-token-issuer".to_string()]).expect("params");
        let cert = params.self_signed(&key_pair).expect("certificate");
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .expect("signing key");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let granted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let expected = format!(
            "Basic {}",
            crate::goproxy::base64(format!("{user}:{password}").as_bytes())
        );
        let mut server = TokenServer {
            port,
            cert_pem: cert.pem(),
            key: Arc::new(key),
            cert_der: cert.der().to_vec(),
            stop: stop.clone(),
            thread: None,
            granted: granted.clone(),
        };
        let signer = server.signer();
        server.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = serve_token(stream, &expected, &signer, &granted);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }));
        server
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    fn signer(&self) -> Signer {
        Signer {
            key: self.key.clone(),
            cert_der: self.cert_der.clone(),
        }
    }

    /// A token for `scope` ("repository:team/base:pull,push"), for the pusher.
    pub fn mint(&self, scope: &str) -> String {
        self.signer().token("golb-test-user", scope)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Signer {
    key: Arc<ring::signature::EcdsaKeyPair>,
    cert_der: Vec<u8>,
}

impl Signer {
    /// A compact JWS: ES256 over header.claims, the certificate in `x5c`.
    fn token(&self, subject: &str, scope: &str) -> String {
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let std = base64::engine::general_purpose::STANDARD;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let access: Vec<serde_json::Value> = scope
            .split(' ')
            .filter_map(|s| {
                let mut parts = s.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(serde_json::json!({
                    "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()
                }))
            })
            .collect();
        let header =
            serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [std.encode(&self.cert_der)]});
        let claims = serde_json::json!({
            "iss": ISSUER, "sub": subject, "aud": SERVICE,
            "exp": now + 600, "nbf": now - 60, "iat": now - 60,
            "jti": format!("golb-{now}-{}", std::process::id()),
            "access": access,
        });
        let input = format!(
            "{}.{}",
            url.encode(header.to_string()),
            url.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", url.encode(signature.as_ref()))
    }
}

fn serve_token(
    stream: TcpStream,
    expected: &str,
    signer: &Signer,
    granted: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = value.trim().to_string();
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let scope = target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("scope="))
        .map(percent_decode)
        .unwrap_or_default();
    let (status, body) = if authorization == expected {
        granted.fetch_add(1, Ordering::Relaxed);
        let token = signer.token("golb-test-user", &scope);
        ("200 OK", serde_json::json!({"token": token}).to_string())
    } else {
        (
            "401 Unauthorized",
            r#"{"details":"wrong credentials"}"#.to_string(),
        )
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Uploads small images through the registry API with curl.
pub struct Pusher<'a> {
    pub host: &'a str,
    pub auth: Auth,
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Pusher<'_> {
    fn curl(&self) -> Command {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail-with-body"]);
        match &self.auth {
            Auth::None => {}
            Auth::Basic(user, password) => {
                cmd.args(["-u", &format!("{user}:{password}")]);
            }
            Auth::Bearer(token) => {
                cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
            }
        }
        cmd
    }

    fn blob(&self, repo: &str, bytes: &[u8], scratch: &Path) -> String {
        let digest = sha256(bytes);
        let out = run(self
            .curl()
            .args(["-D", "-", "-o", "/dev/null", "-X", "POST"])
            .arg(format!("http://{}/v2/{repo}/blobs/uploads/", self.host)));
        assert!(out.status.success(), "upload start: {out:?}");
        let headers = String::from_utf8_lossy(&out.stdout).to_string();
        let location = headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("location")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no Location in {headers}"));
        let location = if location.starts_with('/') {
            format!("http://{}{location}", self.host)
        } else {
            location
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        self.put(&url, "application/octet-stream", bytes, scratch);
        digest
    }

    /// PUTs `bytes` (through a file in `scratch`, as curl reads them best).
    fn put(&self, url: &str, content_type: &str, bytes: &[u8], scratch: &Path) {
        let file: PathBuf = scratch.join("upload");
        std::fs::write(&file, bytes).expect("upload file");
        let out = run(self
            .curl()
            .args(["-o", "/dev/null", "-X", "PUT", "-H"])
            .arg(format!("Content-Type: {content_type}"))
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(url));
        assert!(out.status.success(), "PUT {url}: {out:?}");
    }

    fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        scratch: &Path,
    ) -> String {
        let url = format!("http://{}/v2/{repo}/manifests/{reference}", self.host);
        self.put(&url, media_type, bytes, scratch);
        sha256(bytes)
    }

    /// An image per platform (no layers; `label` in each config makes them
    /// differ), under an index tagged `tag`. Returns the index digest and
    /// each platform's manifest digest.
    pub fn index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[&str],
        label: &str,
    ) -> (String, Vec<(String, String)>) {
        let scratch = TempDir::new("pusher");
        let mut entries = Vec::new();
        let mut digests = Vec::new();
        for platform in platforms {
            let parts: Vec<&str> = platform.split('/').collect();
            let mut spec = serde_json::json!({"os": parts[0], "architecture": parts[1]});
            if let Some(variant) = parts.get(2) {
                spec["variant"] = serde_json::json!(variant);
            }
            let mut config = spec.clone();
            config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": []});
            config["config"] = serde_json::json!({"Labels": {"golb.test": label}});
            let config = config.to_string().into_bytes();
            let config_digest = self.blob(repo, &config, scratch.path());
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
                "layers": [],
            })
            .to_string()
            .into_bytes();
            let digest = self.manifest(
                repo,
                &sha256(&manifest),
                OCI_MANIFEST,
                &manifest,
                scratch.path(),
            );
            entries.push(serde_json::json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(), "platform": spec}));
            digests.push((platform.to_string(), digest));
        }
        let index =
            serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
                .to_string()
                .into_bytes();
        (
            self.manifest(repo, tag, OCI_INDEX, &index, scratch.path()),
            digests,
        )
    }
}
