//! Source ops: where content enters the graph (registry images, the client's files).

use std::collections::BTreeMap;

use super::state::{Node, NodeMeta, OpKind};
use super::{Location, Platform, State};

/// `docker-image://` source. The reference is used as given: pinning and normalizing it is
/// the caller's business, so the identifier (and thus the cache key) is exactly what they chose.
#[derive(Clone, Debug)]
pub struct Image {
    reference: String,
    platform: Option<Platform>,
    resolve_mode: Option<String>,
    meta: NodeMeta,
}

impl Image {
    pub fn new(reference: impl Into<String>) -> Image {
        Image {
            reference: reference.into(),
            platform: None,
            resolve_mode: None,
            meta: NodeMeta::default(),
        }
    }

    pub fn platform(mut self, p: Platform) -> Self {
        self.platform = Some(p);
        self
    }

    /// "pull" or "local"; "default" (or empty) leaves the attribute out, as Go llb does, so
    /// the op digest does not change with a no-op setting.
    pub fn resolve_mode(mut self, mode: impl Into<String>) -> Self {
        let mode = mode.into();
        self.resolve_mode = (!mode.is_empty() && mode != "default").then_some(mode);
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn location(mut self, source_index: usize, range: Location) -> Self {
        self.meta.locations.push((source_index, range));
        self
    }

    pub fn build(self) -> State {
        let mut attrs = BTreeMap::new();
        let mut caps = vec!["source.image"];
        if let Some(mode) = self.resolve_mode {
            // Go llb asks for the cap only for "pull": it is the security-relevant mode.
            if mode == "pull" {
                caps.push("source.image.resolvemode");
            }
            attrs.insert("image.resolvemode".to_string(), mode);
        }
        State::from_node(
            Node {
                kind: OpKind::Source {
                    identifier: format!("docker-image://{}", self.reference),
                    attrs,
                    caps,
                },
                platform: self.platform,
                meta: self.meta,
            },
            0,
        )
    }
}

/// `oci-layout://` source: an image in an OCI layout the client offers through
/// its session (`--build-context NAME=oci-layout://DIR`), read from the
/// session's content store `store_id`. The reference is `name@digest`.
#[derive(Clone, Debug)]
pub struct OciLayout {
    reference: String,
    session_id: String,
    store_id: String,
    platform: Option<Platform>,
    meta: NodeMeta,
}

impl OciLayout {
    pub fn new(reference: impl Into<String>) -> OciLayout {
        OciLayout {
            reference: reference.into(),
            session_id: String::new(),
            store_id: String::new(),
            platform: None,
            meta: NodeMeta::default(),
        }
    }

    /// The client session that holds the layout, and its store's name there.
    pub fn store(mut self, session_id: impl Into<String>, store_id: impl Into<String>) -> Self {
        self.session_id = session_id.into();
        self.store_id = store_id.into();
        self
    }

    pub fn platform(mut self, p: Platform) -> Self {
        self.platform = Some(p);
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn build(self) -> State {
        let mut attrs = BTreeMap::new();
        if !self.session_id.is_empty() {
            attrs.insert("oci.session".to_string(), self.session_id);
        }
        if !self.store_id.is_empty() {
            attrs.insert("oci.store".to_string(), self.store_id);
        }
        State::from_node(
            Node {
                kind: OpKind::Source {
                    identifier: format!("oci-layout://{}", self.reference),
                    attrs,
                    caps: vec!["source.ocilayout"],
                },
                platform: self.platform,
                meta: self.meta,
            },
            0,
        )
    }
}

/// `https://` (or `http://`) source: one file BuildKit downloads itself. Its
/// cache key is the file's content, which BuildKit checks again on every
/// solve (with the ETag it kept), so a step that mounts it runs again when,
/// and only when, the file changed.
#[derive(Clone, Debug)]
pub struct Http {
    url: String,
    filename: Option<String>,
    meta: NodeMeta,
}

impl Http {
    pub fn new(url: impl Into<String>) -> Http {
        Http {
            url: url.into(),
            filename: None,
            meta: NodeMeta::default(),
        }
    }

    /// The file's name in the result; BuildKit's default comes from the
    /// response, which a server may change.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn location(mut self, source_index: usize, range: Location) -> Self {
        self.meta.locations.push((source_index, range));
        self
    }

    pub fn build(self) -> State {
        let mut attrs = BTreeMap::new();
        if let Some(name) = self.filename {
            attrs.insert("http.filename".to_string(), name);
        }
        State::from_node(
            Node {
                kind: OpKind::Source {
                    identifier: self.url,
                    attrs,
                    caps: vec!["source.http"],
                },
                platform: None,
                meta: self.meta,
            },
            0,
        )
    }
}

/// `local://NAME` source: files sent by the client's session (build context, spec file).
#[derive(Clone, Debug)]
pub struct Local {
    name: String,
    session_id: String,
    shared_key_hint: String,
    follow_paths: Vec<String>,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
    differ_none: bool,
    meta: NodeMeta,
}

impl Local {
    pub fn new(name: impl Into<String>) -> Local {
        Local {
            name: name.into(),
            session_id: String::new(),
            shared_key_hint: String::new(),
            follow_paths: Vec::new(),
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            differ_none: false,
            meta: NodeMeta::default(),
        }
    }

    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = id.into();
        self
    }

    /// Lets BuildKit reuse a previous transfer of the same directory as a diff base.
    pub fn shared_key_hint(mut self, hint: impl Into<String>) -> Self {
        self.shared_key_hint = hint.into();
        self
    }

    pub fn follow_paths(mut self, paths: Vec<String>) -> Self {
        self.follow_paths = paths;
        self
    }

    pub fn include_patterns(mut self, p: Vec<String>) -> Self {
        self.include_patterns = p;
        self
    }

    pub fn exclude_patterns(mut self, p: Vec<String>) -> Self {
        self.exclude_patterns = p;
        self
    }

    /// Always transfer the files afresh instead of diffing by metadata; the Dockerfile frontend
    /// does this for the small spec-file source so that edits are never missed.
    pub fn differ_none(mut self) -> Self {
        self.differ_none = true;
        self
    }

    pub fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.meta.custom_name = Some(name.into());
        self
    }

    pub fn build(self) -> State {
        let mut attrs = BTreeMap::new();
        let mut caps = vec!["source.local"];
        let mut set = |key: &str, value: String, cap: Option<&'static str>| {
            attrs.insert(key.to_string(), value);
            caps.extend(cap);
        };
        if !self.session_id.is_empty() {
            set(
                "local.session",
                self.session_id,
                Some("source.local.sessionid"),
            );
        }
        if let Some(json) = json_list(&self.include_patterns) {
            set(
                "local.includepattern",
                json,
                Some("source.local.includepatterns"),
            );
        }
        if let Some(json) = json_list(&self.follow_paths) {
            set("local.followpaths", json, Some("source.local.followpaths"));
        }
        if let Some(json) = json_list(&self.exclude_patterns) {
            set(
                "local.excludepatterns",
                json,
                Some("source.local.excludepatterns"),
            );
        }
        if !self.shared_key_hint.is_empty() {
            set(
                "local.sharedkeyhint",
                self.shared_key_hint,
                Some("source.local.sharedkeyhint"),
            );
        }
        if self.differ_none {
            // Not "required" (as in the Dockerfile frontend): older daemons just ignore it.
            set("local.differ", "none".to_string(), None);
        }
        State::from_node(
            Node {
                kind: OpKind::Source {
                    identifier: format!("local://{}", self.name),
                    attrs,
                    caps,
                },
                platform: None,
                meta: self.meta,
            },
            0,
        )
    }
}

/// BuildKit takes pattern lists as JSON arrays; an empty list means "not set".
fn json_list(items: &[String]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    // Serializing a slice of strings cannot fail.
    serde_json::to_string(items).ok()
}
