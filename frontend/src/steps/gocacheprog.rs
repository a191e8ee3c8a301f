//! `golb step gocacheprog`: Go's build cache served from several places, as
//! a `GOCACHEPROG` program (Go ≥ 1.24; protocol in Go's
//! `cmd/go/internal/cacheprog`).
//!
//! Why: BuildKit never exports cache mounts, so a fresh CI runner starts with
//! an empty Go build cache and compiles the standard library and every
//! dependency again. golb instead compiles them in a step of their own whose
//! output, a directory of cache entries, is an ordinary snapshot that
//! `--cache-to` exports and `--cache-from` imports. This program lets `go`
//! read that snapshot (`--seed`, read-only) next to the builder's local cache
//! mount (`--cache`), and lets the dependency step write the snapshot
//! (`--snapshot`): every entry that step uses, whether compiled or found in
//! the local cache, lands in its output.
//!
//! The store layout (the same in seeds, caches and snapshots) is
//! `a/<2 hex>/<action hex>` holding `"<output hex> <size>\n"` and
//! `o/<2 hex>/<output hex>` holding the bytes. Files are written to a
//! temporary name and renamed, so concurrent builds sharing one cache mount
//! never read half an entry.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Where the program reads and writes entries.
#[derive(Clone, Debug, Default)]
pub struct Stores {
    /// Read-only stores, looked at first, in order (imported snapshots).
    pub seeds: Vec<PathBuf>,
    /// The builder's local cache (a cache mount): read, written, trimmed.
    pub cache: Option<PathBuf>,
    /// A snapshot being made: every entry used is written here.
    pub snapshot: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheProgError {
    #[error("reading a request from go: {0}")]
    Read(#[source] std::io::Error),
    #[error("answering go: {0}")]
    Write(#[source] std::io::Error),
    #[error("go sent a request golb cannot read ({0}): is GOCACHEPROG a newer protocol?")]
    Protocol(String),
    #[error("gocacheprog needs a place to write: give --cache or --snapshot")]
    NowhereToWrite,
}

/// A request from `go`, as `cacheprog.Request` encodes it ([]byte as base64).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    #[serde(rename = "ID")]
    id: i64,
    command: String,
    #[serde(rename = "ActionID", default, with = "base64_bytes")]
    action_id: Vec<u8>,
    #[serde(rename = "OutputID", default, with = "base64_bytes")]
    output_id: Vec<u8>,
    #[serde(default)]
    body_size: u64,
}

/// A response to `go`, as `cacheprog.Response` decodes it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(rename = "ID")]
    id: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    err: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    known_commands: Vec<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    miss: bool,
    #[serde(
        rename = "OutputID",
        skip_serializing_if = "Vec::is_empty",
        with = "base64_bytes"
    )]
    output_id: Vec<u8>,
    #[serde(skip_serializing_if = "is_zero")]
    size: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    disk_path: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// An entry found in a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub output_id: Vec<u8>,
    pub size: u64,
    pub path: PathBuf,
}

/// One store directory in golb's layout.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// Entries of the local cache unused for this long are removed (Go's own
/// cache uses the same limit).
const TRIM_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// At most one trim a day, and "used" times are refreshed at most hourly,
/// as Go's disk cache does, so a warm build does not write for every hit.
const TRIM_EVERY: Duration = Duration::from_secs(24 * 3600);
const TOUCH_EVERY: Duration = Duration::from_secs(3600);

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    fn action_path(&self, action: &[u8]) -> PathBuf {
        let hex = hex::encode(action);
        self.root.join("a").join(&hex[..2.min(hex.len())]).join(hex)
    }

    fn output_path(&self, output: &[u8]) -> PathBuf {
        let hex = hex::encode(output);
        self.root.join("o").join(&hex[..2.min(hex.len())]).join(hex)
    }

    /// The entry for `action`, when both its record and a body of the
    /// recorded size are there; anything else is a miss.
    pub fn get(&self, action: &[u8]) -> Option<Entry> {
        let record = std::fs::read_to_string(self.action_path(action)).ok()?;
        let (output_hex, size) = record.trim_end().split_once(' ')?;
        let output_id = hex::decode(output_hex).ok()?;
        let size: u64 = size.parse().ok()?;
        let path = self.output_path(&output_id);
        let meta = std::fs::metadata(&path).ok()?;
        (meta.is_file() && meta.len() == size).then_some(Entry {
            output_id,
            size,
            path,
        })
    }

    /// Stores `body` as the output of `action`.
    pub fn put(&self, action: &[u8], output: &[u8], body: &[u8]) -> std::io::Result<Entry> {
        self.record(action, output, body.len() as u64, |tmp| {
            std::fs::write(tmp, body)
        })
    }

    /// Copies an entry found elsewhere into this store. `std::fs::copy`
    /// lets the kernel copy (copy_file_range): a snapshot of ~900 entries
    /// never passes through this process's memory.
    pub fn copy_in(&self, action: &[u8], entry: &Entry) -> std::io::Result<Entry> {
        self.record(action, &entry.output_id, entry.size, |tmp| {
            let copied = std::fs::copy(&entry.path, tmp)?;
            match copied == entry.size {
                true => Ok(()),
                false => Err(std::io::Error::other(format!(
                    "{}: {copied} bytes, not the {} its record says",
                    entry.path.display(),
                    entry.size
                ))),
            }
        })
    }

    /// Writes the body of `output` (unless a body of that size is there)
    /// with `fill`, then the record of `action`: the body first, so a record
    /// never points at a missing body.
    fn record(
        &self,
        action: &[u8],
        output: &[u8],
        size: u64,
        fill: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> std::io::Result<Entry> {
        let path = self.output_path(output);
        let fresh = std::fs::metadata(&path).map_or(true, |m| m.len() != size);
        if fresh {
            self.place(&path, fill)?;
        }
        let line = format!("{} {size}\n", hex::encode(output));
        self.place(&self.action_path(action), |tmp| {
            std::fs::write(tmp, line.as_bytes())
        })?;
        Ok(Entry {
            output_id: output.to_vec(),
            size,
            path,
        })
    }

    /// Puts what `fill` writes at `path` atomically: written beside it, then
    /// renamed, so a concurrent reader sees the old file or the new one.
    fn place(
        &self,
        path: &Path,
        fill: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Builds in other containers share the store and their process ids
        // repeat (each container has its own pid namespace), so the name
        // carries this process's random token too.
        let tmp = tmp_dir.join(format!(
            "{:016x}-{}",
            process_token(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fill(&tmp)?;
        std::fs::rename(&tmp, path)
    }

    /// Marks an entry as used now, unless that was recorded within the hour.
    fn touch(&self, action: &[u8], now: SystemTime) {
        let path = self.action_path(action);
        let stale = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|t| now.duration_since(t).unwrap_or_default() > TOUCH_EVERY)
            .unwrap_or(false);
        if stale {
            if let Ok(file) = std::fs::File::options().append(true).open(&path) {
                // Best effort: a missed touch only makes a trim come sooner.
                let _ = file.set_modified(now);
            }
        }
    }

    /// Removes records unused for `TRIM_AFTER`, and bodies no record uses,
    /// at most once per `TRIM_EVERY`. Failures only leave more on disk.
    pub fn trim(&self, now: SystemTime) {
        let stamp = self.root.join("trim.txt");
        let last = std::fs::read_to_string(&stamp)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        match last {
            None => {
                // A new cache: start the clock, nothing is old yet.
                let _ = self.place(&stamp, |tmp| std::fs::write(tmp, format!("{now_secs}\n")));
                return;
            }
            Some(last) if now.duration_since(last).unwrap_or_default() < TRIM_EVERY => return,
            Some(_) => {}
        }
        let mut live = std::collections::BTreeSet::new();
        for record in files_under(&self.root.join("a")) {
            let old = std::fs::metadata(&record)
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() > TRIM_AFTER)
                .unwrap_or(true);
            if old {
                let _ = std::fs::remove_file(&record);
            } else if let Ok(text) = std::fs::read_to_string(&record) {
                if let Some((output, _)) = text.split_once(' ') {
                    live.insert(output.to_string());
                }
            }
        }
        for body in files_under(&self.root.join("o")) {
            let name = body.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // A body younger than the limit may belong to a put whose record
            // another build is writing right now: it stays.
            let old = std::fs::metadata(&body)
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() > TRIM_AFTER)
                .unwrap_or(false);
            if old && !live.contains(name) {
                let _ = std::fs::remove_file(&body);
            }
        }
        let _ = self.place(&stamp, |tmp| std::fs::write(tmp, format!("{now_secs}\n")));
    }
}

/// A random number fixed for this process (from the OS's hasher seed).
fn process_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static TOKEN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TOKEN.get_or_init(|| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish()
    })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(subdirs) = std::fs::read_dir(dir) else {
        return files;
    };
    for sub in subdirs.flatten() {
        if let Ok(entries) = std::fs::read_dir(sub.path()) {
            files.extend(entries.flatten().map(|e| e.path()));
        }
    }
    files
}

/// The program's state: its stores and what it answers.
struct Server {
    seeds: Vec<Store>,
    cache: Option<Store>,
    snapshot: Option<Store>,
    counts: std::cell::Cell<Counts>,
}

/// Where the answers came from, printed when go closes the program: the
/// build log then tells how much of the build an imported cache served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub from_seeds: u64,
    pub from_cache: u64,
    pub misses: u64,
    pub stored: u64,
}

impl Server {
    fn count(&self, change: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.get();
        change(&mut counts);
        self.counts.set(counts);
    }

    fn get(&self, action: &[u8]) -> Option<Entry> {
        let seeded = self.seeds.iter().find_map(|store| store.get(action));
        let found = match seeded {
            Some(entry) => {
                self.count(|c| c.from_seeds += 1);
                Some(entry)
            }
            None => {
                let cached = self.cache.as_ref().and_then(|cache| cache.get(action));
                if let (Some(cache), Some(_)) = (&self.cache, &cached) {
                    cache.touch(action, SystemTime::now());
                    self.count(|c| c.from_cache += 1);
                }
                cached
            }
        };
        let Some(entry) = found.or_else(|| self.snapshot.as_ref().and_then(|s| s.get(action)))
        else {
            self.count(|c| c.misses += 1);
            return None;
        };
        match &self.snapshot {
            // The snapshot must hold every entry its step used.
            Some(snapshot) if snapshot.get(action).is_none() => {
                snapshot.copy_in(action, &entry).ok()
            }
            _ => Some(entry),
        }
    }

    fn put(&self, action: &[u8], output: &[u8], body: &[u8]) -> std::io::Result<Entry> {
        let mut written = None;
        let mut failure = None;
        for store in self.snapshot.iter().chain(self.cache.as_ref()) {
            match store.put(action, output, body) {
                Ok(entry) => {
                    written.get_or_insert(entry);
                }
                Err(e) => failure = Some(e),
            }
        }
        match (written, failure) {
            (Some(entry), _) => {
                self.count(|c| c.stored += 1);
                Ok(entry)
            }
            (None, Some(e)) => Err(e),
            (None, None) => Err(std::io::Error::other("no store to write to")),
        }
    }

    fn answer(&self, request: &Request, body: &[u8]) -> Response {
        let mut response = Response {
            id: request.id,
            ..Response::default()
        };
        match request.command.as_str() {
            "get" => match self.get(&request.action_id) {
                Some(entry) => {
                    response.output_id = entry.output_id;
                    response.size = entry.size;
                    response.disk_path = entry.path.display().to_string();
                }
                None => response.miss = true,
            },
            "put" => match self.put(&request.action_id, &request.output_id, body) {
                Ok(entry) => {
                    response.size = entry.size;
                    response.disk_path = entry.path.display().to_string();
                }
                Err(e) => response.err = format!("golb gocacheprog: storing an entry: {e}"),
            },
            "close" => {
                if let Some(cache) = &self.cache {
                    cache.trim(SystemTime::now());
                }
            }
            other => response.err = format!("golb gocacheprog: unknown command {other:?}"),
        }
        response
    }
}

/// Serves `go` on `input`/`output` until it sends "close" or hangs up, and
/// returns where its answers came from.
pub fn serve(
    stores: &Stores,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<Counts, CacheProgError> {
    if stores.cache.is_none() && stores.snapshot.is_none() {
        return Err(CacheProgError::NowhereToWrite);
    }
    let server = Server {
        seeds: stores.seeds.iter().map(Store::new).collect(),
        cache: stores.cache.as_ref().map(Store::new),
        snapshot: stores.snapshot.as_ref().map(Store::new),
        counts: std::cell::Cell::new(Counts::default()),
    };
    let hello = Response {
        known_commands: vec!["get", "put", "close"],
        ..Response::default()
    };
    send(&mut output, &hello)?;
    let mut lines = input.lines();
    while let Some(line) = lines.next() {
        let line = line.map_err(CacheProgError::Read)?;
        if line.trim().is_empty() {
            // go writes an empty line after each request.
            continue;
        }
        let request: Request = serde_json::from_str(&line)
            .map_err(|e| CacheProgError::Protocol(format!("{e}: {line:.200}")))?;
        let body = if request.body_size > 0 {
            let text = loop {
                match lines.next() {
                    Some(Ok(text)) if text.trim().is_empty() => continue,
                    Some(Ok(text)) => break text,
                    Some(Err(e)) => return Err(CacheProgError::Read(e)),
                    None => {
                        return Err(CacheProgError::Protocol(
                            "the input ended before a put's body".into(),
                        ))
                    }
                }
            };
            decode_body(&text, request.body_size)?
        } else {
            Vec::new()
        };
        let response = server.answer(&request, &body);
        match send(&mut output, &response) {
            // go has exited without "close" (it failed, and says why itself).
            Err(CacheProgError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            other => other?,
        }
        if request.command == "close" {
            break;
        }
    }
    Ok(server.counts.get())
}

/// A put's body: a JSON string of base64 of exactly `size` bytes.
fn decode_body(text: &str, size: u64) -> Result<Vec<u8>, CacheProgError> {
    let encoded: String = serde_json::from_str(text)
        .map_err(|e| CacheProgError::Protocol(format!("a put's body is not a JSON string: {e}")))?;
    let body = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| CacheProgError::Protocol(format!("a put's body is not base64: {e}")))?;
    if body.len() as u64 != size {
        return Err(CacheProgError::Protocol(format!(
            "a put's body has {} bytes, not the {size} announced",
            body.len()
        )));
    }
    Ok(body)
}

fn send(output: &mut impl Write, response: &Response) -> Result<(), CacheProgError> {
    let mut line = serde_json::to_vec(response)
        .map_err(|e| CacheProgError::Write(std::io::Error::other(e)))?;
    line.push(b'\n');
    output.write_all(&line).map_err(CacheProgError::Write)?;
    output.flush().map_err(CacheProgError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dirs(PathBuf);
    impl Dirs {
        fn new(name: &str) -> Dirs {
            let dir = std::env::temp_dir()
                .join(format!("golb-gocacheprog-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dirs(dir)
        }
        fn at(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }
    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Runs the program on `requests` (as go writes them) and returns its answers.
    fn session(stores: &Stores, requests: &str) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        serve(stores, requests.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn put(id: i64, action: &[u8], output: &[u8], body: &[u8]) -> String {
        format!(
            "{{\"ID\":{id},\"Command\":\"put\",\"ActionID\":\"{}\",\"OutputID\":\"{}\",\"BodySize\":{}}}\n\n\"{}\"\n",
            b64(action),
            b64(output),
            body.len(),
            b64(body)
        )
    }

    fn get(id: i64, action: &[u8]) -> String {
        format!(
            "{{\"ID\":{id},\"Command\":\"get\",\"ActionID\":\"{}\"}}\n\n",
            b64(action)
        )
    }

    #[test]
    fn announces_its_commands_then_stores_and_finds_entries() {
        let dirs = Dirs::new("roundtrip");
        let stores = Stores {
            cache: Some(dirs.at("cache")),
            ..Stores::default()
        };
        let replies = session(
            &stores,
            &format!(
                "{}{}{}{{\"ID\":4,\"Command\":\"close\"}}\n",
                get(1, b"act1"),
                put(2, b"act1", b"out1", b"compiled bytes"),
                get(3, b"act1"),
            ),
        );
        assert_eq!(
            replies[0]["KnownCommands"],
            serde_json::json!(["get", "put", "close"])
        );
        assert_eq!(replies[1]["ID"], 1);
        assert_eq!(replies[1]["Miss"], true);
        assert_eq!(replies[2]["ID"], 2);
        let path = replies[2]["DiskPath"].as_str().unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"compiled bytes");
        assert_eq!(replies[3]["ID"], 3);
        assert_eq!(replies[3]["OutputID"], b64(b"out1"));
        assert_eq!(replies[3]["Size"], 14);
        assert_eq!(replies[3]["DiskPath"], path);
        assert_eq!(replies[4]["ID"], 4);
    }

    #[test]
    fn seeds_are_read_first_and_never_written() {
        let dirs = Dirs::new("seed");
        let seed = Store::new(dirs.at("seed"));
        seed.put(b"dep", b"depout", b"from the imported snapshot")
            .unwrap();
        let stores = Stores {
            seeds: vec![dirs.at("seed")],
            cache: Some(dirs.at("cache")),
            snapshot: None,
        };
        let replies = session(
            &stores,
            &format!(
                "{}{}",
                get(1, b"dep"),
                put(2, b"own", b"ownout", b"own package")
            ),
        );
        let seed_path = replies[1]["DiskPath"].as_str().unwrap();
        assert!(
            seed_path.starts_with(dirs.at("seed").to_str().unwrap()),
            "{seed_path}"
        );
        assert!(seed.get(b"own").is_none(), "puts go to the cache only");
        let counts = serve(
            &stores,
            format!("{}{}{}", get(1, b"dep"), get(2, b"own"), get(3, b"none")).as_bytes(),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            counts,
            Counts {
                from_seeds: 1,
                from_cache: 1,
                misses: 1,
                stored: 0
            }
        );
        assert!(Store::new(dirs.at("cache")).get(b"own").is_some());
    }

    #[test]
    fn a_snapshot_receives_every_entry_used_including_cache_hits() {
        let dirs = Dirs::new("snapshot");
        Store::new(dirs.at("cache"))
            .put(b"std", b"stdout", b"compiled earlier on this builder")
            .unwrap();
        let stores = Stores {
            seeds: vec![],
            cache: Some(dirs.at("cache")),
            snapshot: Some(dirs.at("snap")),
        };
        session(
            &stores,
            &format!("{}{}", get(1, b"std"), put(2, b"dep", b"depout", b"new")),
        );
        let snapshot = Store::new(dirs.at("snap"));
        assert_eq!(
            std::fs::read(snapshot.get(b"std").unwrap().path).unwrap(),
            b"compiled earlier on this builder"
        );
        assert!(snapshot.get(b"dep").is_some());
        assert!(Store::new(dirs.at("cache")).get(b"dep").is_some());
    }

    #[test]
    fn a_record_without_its_body_is_a_miss() {
        let dirs = Dirs::new("torn");
        let store = Store::new(dirs.at("cache"));
        let entry = store.put(b"a", b"o", b"body").unwrap();
        std::fs::remove_file(entry.path).unwrap();
        assert_eq!(store.get(b"a"), None);
    }

    #[test]
    fn malformed_requests_are_errors_not_panics() {
        let dirs = Dirs::new("malformed");
        let stores = Stores {
            cache: Some(dirs.at("cache")),
            ..Stores::default()
        };
        for input in [
            "not json\n",
            "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"YQ==\",\"OutputID\":\"bw==\",\"BodySize\":3}\n\n\"!!\"\n",
            "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"YQ==\",\"OutputID\":\"bw==\",\"BodySize\":9}\n\n\"YWJj\"\n",
            "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"YQ==\",\"OutputID\":\"bw==\",\"BodySize\":3}\n",
        ] {
            let mut out = Vec::new();
            assert!(serve(&stores, input.as_bytes(), &mut out).is_err(), "{input}");
        }
        assert!(matches!(
            serve(&Stores::default(), "".as_bytes(), &mut Vec::new()),
            Err(CacheProgError::NowhereToWrite)
        ));
    }

    #[test]
    fn trim_keeps_recent_entries_and_drops_old_ones() {
        let dirs = Dirs::new("trim");
        let store = Store::new(dirs.at("cache"));
        let now = SystemTime::now();
        store.trim(now); // starts the clock
        store.put(b"old", b"oldout", b"old").unwrap();
        store.put(b"new", b"newout", b"new").unwrap();
        let ancient = now - Duration::from_secs(30 * 24 * 3600);
        for path in [store.action_path(b"old"), store.output_path(b"oldout")] {
            std::fs::File::options()
                .append(true)
                .open(path)
                .unwrap()
                .set_modified(ancient)
                .unwrap();
        }
        store.trim(now + TRIM_EVERY + Duration::from_secs(1));
        assert!(store.get(b"old").is_none());
        assert!(!store.output_path(b"oldout").exists(), "its body goes too");
        assert!(store.get(b"new").is_some());
    }
}
