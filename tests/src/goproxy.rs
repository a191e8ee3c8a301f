//! A tiny Go module proxy (the GOPROXY protocol, <https://go.dev/ref/mod#goproxy-protocol>)
//! that answers only with HTTP basic auth: the private registry the
//! private-module tests build against. [`GoProxy::start_open`] drops the
//! login, for tests about reaching a proxy at all (`--add-host`).
//!
//! It serves a directory laid out as the protocol's URLs
//! (`<module>/@v/list`, `<module>/@v/<version>.{info,mod,zip}`; the fixture is
//! `tests/fixtures/goproxy/`), on 127.0.0.1 and a free port. Every request
//! without the right `Authorization: Basic …` header gets
//! `401` and `WWW-Authenticate: Basic realm="golb-test"`; the proxy counts and
//! logs every request, so a test can tell "the build was refused" from "the
//! build never asked".
//!
//! Two transports:
//! - [`GoProxy::start_tls`] — HTTPS with a certificate from a per-run CA
//!   ([`GoProxy::ca_pem`]). This is the one Go can authenticate to: the go
//!   command sends netrc (`GOAUTH=netrc`, `NETRC=…`) credentials only on
//!   `https://` requests (cmd/go/internal/web/http.go), never over plain HTTP.
//! - [`GoProxy::start`] — plain HTTP, for curl and for showing exactly that.
//!
//! One thread accepts; each connection gets its own thread (at most
//! [`MAX_CONNECTIONS`] at once, further ones wait), and every response closes
//! its connection. Dropping the proxy stops it and joins the accept thread.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The realm in `WWW-Authenticate`.
pub const REALM: &str = "golb-test";
/// Connections served at the same time.
pub const MAX_CONNECTIONS: usize = 16;
/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Request line plus headers, at most.
const MAX_HEAD: usize = 16 * 1024;

/// The credentials a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header with other credentials.
    Wrong,
    /// The user and password the proxy was started with.
    Ok,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub auth: Auth,
    pub status: u16,
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} (auth {:?})",
            self.status, self.method, self.path, self.auth
        )
    }
}

#[derive(Default)]
struct Shared {
    authenticated: AtomicUsize,
    rejected: AtomicUsize,
    log: Mutex<Vec<Request>>,
    /// Live connection threads, bounded by MAX_CONNECTIONS.
    live: Mutex<usize>,
    freed: Condvar,
}

struct Config {
    root: PathBuf,
    /// `Basic <base64(user:password)>`, compared with the request's header;
    /// None for an open proxy.
    expected: Option<String>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running proxy; stops when dropped.
pub struct GoProxy {
    addr: SocketAddr,
    scheme: &'static str,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl GoProxy {
    /// Serves `root` over plain HTTP on 127.0.0.1 and a free port.
    pub fn start(root: &Path, user: &str, password: &str) -> io::Result<GoProxy> {
        GoProxy::spawn(root, Some((user, password)), None, None)
    }

    /// Serves `root` over plain HTTP without a login: every request counts
    /// as authenticated. For tests about reaching the proxy, not about auth.
    pub fn start_open(root: &Path) -> io::Result<GoProxy> {
        GoProxy::spawn(root, None, None, None)
    }

    /// Serves `root` over HTTPS on 127.0.0.1 and a free port, with a
    /// certificate for `127.0.0.1` and `localhost` issued by a CA made for
    /// this proxy alone (its key is never written anywhere).
    pub fn start_tls(root: &Path, user: &str, password: &str) -> io::Result<GoProxy> {
        let (config, ca_pem) = tls_config().map_err(io::Error::other)?;
        GoProxy::spawn(
            root,
            Some((user, password)),
            Some(Arc::new(config)),
            Some(ca_pem),
        )
    }

    fn spawn(
        root: &Path,
        login: Option<(&str, &str)>,
        tls: Option<Arc<rustls::ServerConfig>>,
        ca_pem: Option<String>,
    ) -> io::Result<GoProxy> {
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: not a directory", root.display()),
            ));
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let config = Arc::new(Config {
            root: root.to_path_buf(),
            expected: login.map(|(user, password)| {
                format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
            }),
            tls,
        });
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("goproxy-{}", addr.port()))
                .spawn(move || accept_loop(listener, config, shared, stop))?
        };
        Ok(GoProxy {
            addr,
            scheme,
            ca_pem,
            shared,
            stop,
            accept: Some(accept),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`: the GOPROXY value.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The PEM of the CA that issued the HTTPS certificate (None for plain HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Requests that carried the right credentials.
    pub fn authenticated(&self) -> usize {
        self.shared.authenticated.load(Ordering::SeqCst)
    }

    /// Requests answered 401 (no or wrong credentials).
    pub fn rejected(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }

    /// Every request so far, in the order they were answered.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Forgets the counts and the log (e.g. between two builds).
    pub fn reset(&self) {
        self.shared.authenticated.store(0, Ordering::SeqCst);
        self.shared.rejected.store(0, Ordering::SeqCst);
        if let Ok(mut log) = self.shared.log.lock() {
            log.clear();
        }
    }

    /// The request log as lines, for assertion messages.
    pub fn describe(&self) -> String {
        let lines: Vec<String> = self.requests().iter().map(ToString::to_string).collect();
        if lines.is_empty() {
            "(no requests)".to_string()
        } else {
            lines.join("\n")
        }
    }
}

impl Drop for GoProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    config: Arc<Config>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        {
            let Ok(mut live) = shared.live.lock() else {
                break;
            };
            while *live >= MAX_CONNECTIONS {
                live = match shared.freed.wait(live) {
                    Ok(live) => live,
                    Err(_) => return,
                };
            }
            *live += 1;
        }
        let (config, shared) = (config.clone(), shared.clone());
        let spawned = std::thread::Builder::new()
            .name("goproxy-conn".into())
            .spawn({
                let shared = shared.clone();
                move || {
                    let _ = serve_connection(stream, &config, &shared);
                    if let Ok(mut live) = shared.live.lock() {
                        *live -= 1;
                    }
                    shared.freed.notify_one();
                }
            });
        if spawned.is_err() {
            if let Ok(mut live) = shared.live.lock() {
                *live -= 1;
            }
        }
    }
}

fn serve_connection(stream: TcpStream, config: &Config, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    match &config.tls {
        None => serve_request(stream, config, shared),
        Some(tls) => {
            let conn = rustls::ServerConnection::new(tls.clone()).map_err(io::Error::other)?;
            let mut stream = rustls::StreamOwned::new(conn, stream);
            serve_request(&mut stream, config, shared)?;
            stream.conn.send_close_notify();
            stream.flush()
        }
    }
}

/// Reads one request and answers it; the connection closes after.
fn serve_request<S: Read + Write>(
    mut stream: S,
    config: &Config,
    shared: &Shared,
) -> io::Result<()> {
    let head = match read_head(&mut stream) {
        Ok(head) => head,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            return respond(&mut stream, 400, "text/plain", &[], b"bad request\n", true);
        }
        Err(e) => return Err(e),
    };
    let Some((method, target, headers)) = parse_head(&head) else {
        return respond(&mut stream, 400, "text/plain", &[], b"bad request\n", true);
    };
    let path = target.split(['?', '#']).next().unwrap_or("").to_string();
    let auth = match (&config.expected, headers.get("authorization")) {
        (None, _) => Auth::Ok,
        (Some(_), None) => Auth::Missing,
        (Some(expected), Some(value)) if value.trim() == expected => Auth::Ok,
        (Some(_), Some(_)) => Auth::Wrong,
    };
    let head_only = method == "HEAD";
    let (status, content_type, body): (u16, &str, Vec<u8>) = if auth != Auth::Ok {
        (
            401,
            "text/plain; charset=utf-8",
            b"401 unauthorized: this GOPROXY needs a login (netrc)\n".to_vec(),
        )
    } else if method != "GET" && !head_only {
        (
            405,
            "text/plain; charset=utf-8",
            b"method not allowed\n".to_vec(),
        )
    } else {
        match resolve(&config.root, &path)
            .and_then(|file| std::fs::read(&file).ok().map(|b| (file, b)))
        {
            Some((file, bytes)) => (200, content_type_of(&file), bytes),
            None => (
                404,
                "text/plain; charset=utf-8",
                format!("not found: {path}\n").into_bytes(),
            ),
        }
    };
    match auth {
        Auth::Ok => shared.authenticated.fetch_add(1, Ordering::SeqCst),
        _ => shared.rejected.fetch_add(1, Ordering::SeqCst),
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(Request {
            method: method.to_string(),
            path,
            auth,
            status,
        });
    }
    let challenge = format!("Basic realm=\"{REALM}\"");
    let extra: Vec<(&str, &str)> = if status == 401 {
        vec![("WWW-Authenticate", &challenge)]
    } else {
        vec![]
    };
    respond(&mut stream, status, content_type, &extra, &body, !head_only)
}

fn read_head<S: Read>(stream: &mut S) -> io::Result<String> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .by_ref()
            .take((MAX_HEAD + 1 - head.len().min(MAX_HEAD)) as u64)
            .read_line(&mut line)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the request ended",
            ));
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        if line == "\r\n" || line == "\n" {
            return Ok(head);
        }
    }
}

/// (method, target, lower-cased headers) of a request head.
fn parse_head(head: &str) -> Option<(&str, &str, BTreeMap<String, String>)> {
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split_whitespace();
    let (method, target, version) = (
        request_line.next()?,
        request_line.next()?,
        request_line.next()?,
    );
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return None;
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((method, target, headers))
}

/// The file a request path names under root: percent-decoded, no `..`, no
/// absolute components, a regular file.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative.as_os_str().is_empty()
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = root.join(relative);
    file.is_file().then_some(file)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type_of(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("zip") => "application/zip",
        Some("info") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

fn respond<S: Write>(
    stream: &mut S,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    send_body: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if send_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// A random password: 32 hex digits from /dev/urandom.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap_or_else(|e| panic!("/dev/urandom: {e}"));
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The netrc that lets the go command log in to `proxy`.
///
/// The go command matches a netrc `machine` against the URL's host *with* its
/// port, so the machine is `127.0.0.1:PORT`; a bare `127.0.0.1` gets 401
/// (checked with Go 1.21, 1.23, 1.24 and 1.26; since 1.24 it is a prefix
/// match of `host[:port]/path`, cmd/go/internal/auth/auth.go).
pub fn netrc(proxy: &GoProxy, user: &str, password: &str) -> String {
    format!(
        "machine 127.0.0.1:{} login {user} password {password}\n",
        proxy.port()
    )
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
pub fn base64(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

/// A CA and a server certificate for 127.0.0.1/localhost signed by it; the
/// rustls config serving the latter and the CA's PEM.
fn tls_config() -> Result<(rustls::ServerConfig, String), Box<dyn std::error::Error + Send + Sync>>
{
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "golb test GOPROXY CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "golb test GOPROXY");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf.signed_by(&key, &ca, &ca_key)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )?;
    Ok((config, ca.pem()))
}

/// A builder image that trusts the proxy's CA: the golang image the harness
/// provides plus one PEM file in /etc/ssl/certs (Go reads every file there).
/// The fixture image has no shell, so there is no update-ca-certificates; a
/// COPY is all it takes. Pushed as `<registry>/<repo>:test`; returns its name
/// and the build log.
pub fn builder_image_trusting(
    h: &crate::Harness,
    ca_pem: &str,
    dir: &Path,
    repo: &str,
) -> (String, String) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join("golb-test-goproxy-ca.pem"), ca_pem)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let golang = h.var("GOLB_GOLANG_IMAGE");
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {golang}\nCOPY golb-test-goproxy-ca.pem /etc/ssl/certs/golb-test-goproxy-ca.pem\n"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let name = format!("{}/{repo}:test", h.registry());
    let log = crate::run_ok(
        crate::buildctl_dockerfile(h, dir)
            .args(["--output", &format!("type=image,name={name},push=true")]),
    );
    (name, log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const USER: &str = "golb";
    const PASSWORD: &str = "s3cret-unit";

    fn fixture() -> PathBuf {
        crate::repo_root().join("tests/fixtures/goproxy")
    }

    const MOD: &str = "/golb.test/private/greeting/@v/v1.0.0.mod";

    /// One raw HTTP/1.1 GET; returns (status, head, body).
    fn get(proxy: &GoProxy, path: &str, authorization: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: unit\r\n");
        if let Some(value) = authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head");
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, head, response[split + 4..].to_vec())
    }

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn without_credentials_the_answer_is_401_with_a_basic_challenge() {
        let proxy = GoProxy::start(&fixture(), USER, PASSWORD).unwrap();
        let (status, head, body) = get(&proxy, MOD, None);
        assert_eq!(status, 401, "{head}");
        assert!(
            head.contains("\r\nWWW-Authenticate: Basic realm=\"golb-test\""),
            "{head}"
        );
        assert!(
            !String::from_utf8_lossy(&body).contains("module golb.test"),
            "no content without auth"
        );
        // The wrong password and an unknown path are refused the same way:
        // nothing is revealed before authentication.
        assert_eq!(get(&proxy, MOD, Some(&basic(USER, "wrong"))).0, 401);
        assert_eq!(get(&proxy, "/nope/@v/list", None).0, 401);
        assert_eq!(
            (proxy.rejected(), proxy.authenticated()),
            (3, 0),
            "{}",
            proxy.describe()
        );
        let auths: Vec<Auth> = proxy.requests().iter().map(|r| r.auth).collect();
        assert_eq!(auths, [Auth::Missing, Auth::Wrong, Auth::Missing]);
    }

    #[test]
    fn with_credentials_the_file_is_served() {
        let proxy = GoProxy::start(&fixture(), USER, PASSWORD).unwrap();
        let auth = basic(USER, PASSWORD);
        let (status, head, body) = get(&proxy, MOD, Some(&auth));
        assert_eq!(status, 200, "{head}");
        assert_eq!(body, std::fs::read(fixture().join(&MOD[1..])).unwrap());
        let (status, head, body) = get(
            &proxy,
            "/golb.test/private/greeting/@v/v1.0.0.zip",
            Some(&auth),
        );
        assert_eq!(status, 200);
        assert!(head.contains("Content-Type: application/zip"), "{head}");
        assert!(body.starts_with(b"PK\x03\x04"), "a zip");
        let (_, _, list) = get(&proxy, "/golb.test/private/greeting/@v/list", Some(&auth));
        assert_eq!(list, b"v1.0.0\n");
        assert_eq!(
            (proxy.authenticated(), proxy.rejected()),
            (3, 0),
            "{}",
            proxy.describe()
        );
    }

    #[test]
    fn an_open_proxy_serves_without_credentials() {
        let proxy = GoProxy::start_open(&fixture()).unwrap();
        let (status, head, body) = get(&proxy, MOD, None);
        assert_eq!(status, 200, "{head}");
        assert_eq!(body, std::fs::read(fixture().join(&MOD[1..])).unwrap());
        assert_eq!(get(&proxy, "/nope/@v/list", None).0, 404);
        assert_eq!((proxy.authenticated(), proxy.rejected()), (2, 0));
    }

    #[test]
    fn an_unknown_path_is_404_and_nothing_leaves_the_root() {
        let proxy = GoProxy::start(&fixture(), USER, PASSWORD).unwrap();
        let auth = basic(USER, PASSWORD);
        for path in [
            "/golb.test/private/greeting/@v/v9.9.9.info",
            "/example.com/other/@v/list",
            "/golb.test/private/greeting/@v",
            "/",
            "/../goproxy/golb.test/private/greeting/@v/list",
            "/golb.test/%2e%2e/golb.test/private/greeting/@v/list",
            "/%2Fetc/passwd",
        ] {
            let (status, head, _) = get(&proxy, path, Some(&auth));
            assert_eq!(status, 404, "{path}: {head}");
        }
        assert_eq!(proxy.authenticated(), 7);
        assert!(proxy.requests().iter().all(|r| r.status == 404));
    }

    #[test]
    fn counts_reset_and_the_proxy_stops_when_dropped() {
        let proxy = GoProxy::start(&fixture(), USER, PASSWORD).unwrap();
        let port = proxy.port();
        assert_eq!(proxy.url(), format!("http://127.0.0.1:{port}"));
        get(&proxy, MOD, None);
        assert_eq!(proxy.rejected(), 1);
        proxy.reset();
        assert_eq!((proxy.rejected(), proxy.requests().len()), (0, 0));
        // Dropping returns once the accept loop, which owns the listener, has
        // ended: the port is closed then. The port itself is not probed: the
        // tests beside this one bind ports too, and one of them got this port
        // right after the drop in a CI run, so a connect succeeded.
        let (dropped, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(proxy);
            let _ = dropped.send(());
        });
        assert!(
            done.recv_timeout(Duration::from_secs(10)).is_ok(),
            "dropping the proxy did not stop its accept loop within 10 s"
        );
    }

    #[test]
    fn concurrent_requests_are_all_answered() {
        let proxy = GoProxy::start(&fixture(), USER, PASSWORD).unwrap();
        let auth = basic(USER, PASSWORD);
        std::thread::scope(|s| {
            for _ in 0..MAX_CONNECTIONS * 2 {
                s.spawn(|| assert_eq!(get(&proxy, MOD, Some(&auth)).0, 200));
            }
        });
        assert_eq!(proxy.authenticated(), MAX_CONNECTIONS * 2);
    }

    /// HTTPS, checked by curl trusting only the per-run CA (as Go in the
    /// build will): 401 without credentials, the file with them.
    #[test]
    fn https_with_the_per_run_ca() {
        let proxy = GoProxy::start_tls(&fixture(), USER, PASSWORD).unwrap();
        assert!(proxy.url().starts_with("https://127.0.0.1:"));
        let dir = std::env::temp_dir().join(format!("goproxy-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, proxy.ca_pem().unwrap()).unwrap();
        let curl = |args: &[&str]| {
            let out = Command::new("curl")
                .args(["-sS", "--cacert"])
                .arg(&ca)
                .args(["-w", "\n%{http_code}"])
                .args(args)
                .arg(format!("{}{MOD}", proxy.url()))
                .output()
                .expect("curl runs");
            assert!(
                out.status.success(),
                "curl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        assert!(curl(&[]).ends_with("\n401"));
        let body = curl(&["-u", &format!("{USER}:{PASSWORD}")]);
        assert!(
            body.starts_with("module golb.test/private/greeting\n") && body.ends_with("\n200"),
            "{body}"
        );
        assert_eq!(
            (proxy.rejected(), proxy.authenticated()),
            (1, 1),
            "{}",
            proxy.describe()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
