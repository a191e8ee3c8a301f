//! A git server over SSH for the private-module tests: what github.com or a
//! company's git host is to `go mod download` with `[modules] ssh`.
//!
//! It listens on 127.0.0.1 and a free port (builds use host networking in
//! the harness, so build steps reach it), proves its identity with an
//! ed25519 host key made for the run, accepts exactly one client public key,
//! and runs `git upload-pack <repo>` for `git-upload-pack '<path>'` exec
//! requests, `<path>` being below the directory it serves. Nothing else:
//! no shell, no push, no other command. It counts what happened so tests
//! can say why a build failed.

use russh::keys::{PrivateKey, PublicKey};
use russh::server::{Auth, Handler, Msg, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, thiserror::Error)]
pub enum GitSshdError {
    #[error("reading the host key {path}: {source}")]
    HostKey {
        path: PathBuf,
        source: russh::keys::Error,
    },
    #[error("reading the authorized key {path}: {source}")]
    AuthorizedKey {
        path: PathBuf,
        source: russh::keys::Error,
    },
    #[error("listening on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("starting the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the server saw, for assertions and failure messages.
#[derive(Debug, Default)]
pub struct Counts {
    /// Connections accepted on the socket.
    pub connections: AtomicUsize,
    /// Public keys offered that are not the authorized one.
    pub refused_keys: AtomicUsize,
    /// Sessions authenticated with the authorized key.
    pub authenticated: AtomicUsize,
    /// `git upload-pack` runs started.
    pub upload_packs: AtomicUsize,
    /// Exec requests refused (another command, or a path outside the root).
    pub refused_commands: AtomicUsize,
}

struct Shared {
    root: PathBuf,
    authorized: PublicKey,
    counts: Counts,
    /// Every exec request as received, for failure messages.
    commands: Mutex<Vec<String>>,
}

/// A running server; it stops when dropped.
pub struct GitSshd {
    port: u16,
    host_key: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GitSshd {
    /// Serves the git repositories below `root`. `host_key` is an OpenSSH
    /// private key file (`ssh-keygen -t ed25519 -N ''`), `authorized_key` the
    /// `.pub` file of the only key that may log in.
    pub fn start(
        root: &Path,
        host_key: &Path,
        authorized_key: &Path,
    ) -> Result<GitSshd, GitSshdError> {
        let key: PrivateKey = russh::keys::load_secret_key(host_key, None).map_err(|source| {
            GitSshdError::HostKey {
                path: host_key.to_path_buf(),
                source,
            }
        })?;
        let host_public = key
            .public_key()
            .to_openssh()
            .map_err(|e| GitSshdError::HostKey {
                path: host_key.to_path_buf(),
                source: e.into(),
            })?;
        let authorized = russh::keys::load_public_key(authorized_key).map_err(|source| {
            GitSshdError::AuthorizedKey {
                path: authorized_key.to_path_buf(),
                source,
            }
        })?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(GitSshdError::Listen)?;
        listener
            .set_nonblocking(true)
            .map_err(GitSshdError::Listen)?;
        let port = listener.local_addr().map_err(GitSshdError::Listen)?.port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(GitSshdError::Runtime)?;
        // Public keys only, as GitHub: a refusal then reads `Permission denied (publickey)`.
        let mut methods = russh::MethodSet::empty();
        methods.push(russh::MethodKind::PublicKey);
        let config = Arc::new(russh::server::Config {
            keys: vec![key],
            methods,
            // A test waits for refusals; BuildKit's ssh tries few keys.
            auth_rejection_time: Duration::from_millis(50),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            authorized,
            counts: Counts::default(),
            commands: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(listener, config, serving, stopped));
        });
        Ok(GitSshd {
            port,
            host_key: host_public,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's public host key as OpenSSH writes it: `ssh-ed25519 AAAA…`.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    /// The known_hosts line `ssh-keyscan -p PORT 127.0.0.1` would print.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }

    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    /// The counts and exec requests, for assertion messages.
    pub fn describe(&self) -> String {
        let c = &self.shared.counts;
        let commands = self
            .shared
            .commands
            .lock()
            .map(|c| c.join("\n  "))
            .unwrap_or_default();
        format!(
            "git sshd on 127.0.0.1:{}: {} connections, {} authenticated, {} keys refused, {} upload-packs, {} commands refused\n  {commands}",
            self.port,
            c.connections.load(Ordering::SeqCst),
            c.authenticated.load(Ordering::SeqCst),
            c.refused_keys.load(Ordering::SeqCst),
            c.upload_packs.load(Ordering::SeqCst),
            c.refused_commands.load(Ordering::SeqCst),
        )
    }
}

impl Drop for GitSshd {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                shared.counts.connections.fetch_add(1, Ordering::SeqCst);
                let handler = Connection { shared: shared.clone(), stdin: HashMap::new() };
                let config = config.clone();
                tokio::spawn(async move {
                    if let Ok(session) = russh::server::run_stream(config, stream, handler).await {
                        let _ = session.await;
                    }
                });
            }
        }
    }
}

/// One client connection.
struct Connection {
    shared: Arc<Shared>,
    /// Where a channel's data goes: the stdin of its upload-pack.
    stdin: HashMap<ChannelId, mpsc::UnboundedSender<Vec<u8>>>,
}

impl Connection {
    /// The repository an exec request names, if it is an upload-pack of a
    /// directory below the root. git sends `git-upload-pack '/acme/x'`.
    fn upload_pack_repo(&self, command: &str) -> Option<PathBuf> {
        let path = command
            .strip_prefix("git-upload-pack ")
            .or_else(|| command.strip_prefix("git upload-pack "))?
            .trim()
            .trim_matches('\'');
        let relative = Path::new(path.trim_start_matches('/'));
        let inside = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return None;
        }
        // Like GitHub and GitLab, a bare `x.git` is also served as `x`: Go
        // asks for a `.git`-qualified module path's repository without it.
        let repo = self.shared.root.join(relative);
        let bare = self
            .shared
            .root
            .join(format!("{}.git", relative.to_string_lossy()));
        [repo, bare].into_iter().find(|r| r.is_dir())
    }
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if offer.public_key.key_data() == self.shared.authorized.key_data() {
            Ok(Auth::Accept)
        } else {
            self.shared
                .counts
                .refused_keys
                .fetch_add(1, Ordering::SeqCst);
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if key.public_key.key_data() == self.shared.authorized.key_data() {
            self.shared
                .counts
                .authenticated
                .fetch_add(1, Ordering::SeqCst);
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).to_string();
        if let Ok(mut commands) = self.shared.commands.lock() {
            commands.push(command.clone());
        }
        let Some(repo) = self.upload_pack_repo(&command) else {
            self.shared
                .counts
                .refused_commands
                .fetch_add(1, Ordering::SeqCst);
            return session.channel_failure(channel);
        };
        let child = tokio::process::Command::new("git")
            .arg("upload-pack")
            .arg(&repo)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let Ok(mut child) = child else {
            return session.channel_failure(channel);
        };
        session.channel_success(channel)?;
        self.shared
            .counts
            .upload_packs
            .fetch_add(1, Ordering::SeqCst);
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        self.stdin.insert(channel, tx);
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return session.channel_failure(channel);
        };
        let handle = session.handle();
        tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if stdin.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            // Dropping stdin is upload-pack's EOF.
        });
        let errors = handle.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0
                    || errors
                        .extended_data(channel, 1, buf[..n].to_vec())
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = stdout.read(&mut buf).await {
                if n == 0 || handle.data(channel, buf[..n].to_vec()).await.is_err() {
                    break;
                }
            }
            let code = match child.wait().await {
                Ok(status) => status
                    .code()
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(1),
                Err(_) => 1,
            };
            let _ = handle.exit_status_request(channel, code).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(stdin) = self.stdin.get(&channel) {
            let _ = stdin.send(data.to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.stdin.remove(&channel);
        Ok(())
    }
}
