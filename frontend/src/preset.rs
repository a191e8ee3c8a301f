//! Runtime presets: the names `[runtime] base` accepts besides an image
//! reference (`distroless`, `scratch`, `alpine`), what image each one pulls
//! and what golb adds to it.
//!
//! Every preset resolves through the same `Host::resolve` as a named image
//! (pinned by digest, lockable), so a preset is only a name for an image plus,
//! for scratch, one layer golb writes:
//! - `distroless`: gcr.io/distroless/static-debian12:nonroot, as is.
//! - `alpine`: docker.io/library/alpine:3.22; Alpine runs as root, so the
//!   image's user becomes 65532:65532 (`image_config`'s nonroot default);
//!   zone data comes from `-tags timetzdata` (Alpine has no tzdata).
//! - `scratch`: an empty base plus one layer: CA certificates (and the zone
//!   data when asked) copied from the pinned distroless image, /etc/passwd and
//!   /etc/group with nonroot 65532, /home/nonroot, /tmp at 1777.

use crate::spec::{Spec, DEFAULT_RUNTIME_BASE};
use golb_proto::llb::{Copy, File, Mkdir, Mkfile, State};
use serde_json::{json, Value};

/// A runtime preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Distroless,
    Scratch,
    Alpine,
}

/// Alpine's image, pinned to a release (the tag; the digest at resolution).
pub const ALPINE_IMAGE: &str = "docker.io/library/alpine:3.22";

/// What `--call outline` says of RUNTIME_BASE / `[runtime] base`.
pub const BASE_DESCRIPTION: &str = "overrides [runtime] base: a preset (distroless = gcr.io/distroless/static-debian12:nonroot, scratch = empty + CA certificates, passwd/group with nonroot 65532, /tmp; alpine = docker.io/library/alpine:3.22 run as 65532) or an image reference";

/// The zone data scratch copies when `[runtime] timezones = true`.
const ZONEINFO: &str = "/usr/share/zoneinfo";
/// Where Go (crypto/x509) looks first for the system's CA certificates.
const CA_CERTIFICATES: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Written by the scratch preset: root and the nonroot user distroless has.
const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nnonroot:x:65532:\n";

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Distroless, Preset::Scratch, Preset::Alpine];

    /// The preset `[runtime] base` names, if it names one.
    pub fn named(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Distroless => "distroless",
            Preset::Scratch => "scratch",
            Preset::Alpine => "alpine",
        }
    }

    /// The image golb resolves for the preset. For scratch it is where the
    /// CA certificates (and zone data) come from; none of its layers ships.
    pub fn image(self) -> &'static str {
        match self {
            Preset::Distroless | Preset::Scratch => DEFAULT_RUNTIME_BASE,
            Preset::Alpine => ALPINE_IMAGE,
        }
    }

    /// Why a cgo binary (linked against the builder's glibc) cannot run on
    /// the preset: none has glibc (distroless static and scratch have no C
    /// library, Alpine has musl).
    pub fn why_not_for_cgo(self) -> &'static str {
        match self {
            Preset::Distroless => "distroless is the static base: it has no C library, so a cgo binary cannot start (no dynamic loader)",
            Preset::Scratch => "scratch has no C library, so a cgo binary cannot start (no dynamic loader)",
            Preset::Alpine => "Alpine's C library is musl, and a binary linked against the builder's glibc does not run on it",
        }
    }
}

/// Why an image named by reference has no glibc, when its name says so:
/// distroless static, and Alpine (musl).
pub fn not_glibc(reference: &str) -> Option<&'static str> {
    let (path, tag) = match reference.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, tag),
        _ => (reference, ""),
    };
    let path = path.split('@').next().unwrap_or(path);
    let last = path.rsplit('/').next().unwrap_or(path);
    if path.contains("distroless/static") {
        Some(Preset::Distroless.why_not_for_cgo())
    } else if last == "alpine" || tag.contains("alpine") {
        Some(Preset::Alpine.why_not_for_cgo())
    } else if last == "scratch" {
        Some(Preset::Scratch.why_not_for_cgo())
    } else {
        None
    }
}

/// The preset the spec's base names (`distroless` when the spec names none).
pub fn of_spec(spec: &Spec) -> Option<Preset> {
    match &spec.runtime.base {
        Some(base) => Preset::named(&base.value),
        None => Some(Preset::Distroless),
    }
}

/// Whether the spec asks for zone data (`[runtime] timezones = true`).
pub fn wants_timezones(spec: &Spec) -> bool {
    spec.runtime.timezones.as_ref().is_some_and(|t| t.value)
}

/// Build tags the preset adds to every binary: `timetzdata` on Alpine when
/// zones are asked for (the zone data then lives in the binary).
pub fn extra_tags(spec: &Spec) -> Vec<String> {
    match (of_spec(spec), wants_timezones(spec)) {
        (Some(Preset::Alpine), true) => vec!["timetzdata".to_string()],
        _ => Vec::new(),
    }
}

/// scratch's filesystem: one layer over nothing, its bytes fixed by its
/// content and `timestamp` (nanoseconds since the epoch). `/tmp` (1777)
/// comes from `source` (the pinned distroless image) as the certificates do.
pub fn scratch_layer(source: State, timezones: bool, timestamp: i64) -> File {
    let dir = |path: &str, mode: u32, owner: u32| {
        Mkdir::new(path, mode)
            .make_parents(true)
            .owner(owner, owner)
            .timestamp_unix_nanos(timestamp)
    };
    let mut file = File::new(State::scratch())
        .mkdir(dir("/etc/ssl/certs", 0o755, 0))
        .copy(
            Copy::new(source.clone(), CA_CERTIFICATES, CA_CERTIFICATES)
                .follow_symlink(true)
                .owner(0, 0)
                .mode(0o644)
                .timestamp_unix_nanos(timestamp),
        )
        .mkfile(Mkfile::new("/etc/passwd", 0o644, PASSWD).timestamp_unix_nanos(timestamp))
        .mkfile(Mkfile::new("/etc/group", 0o644, GROUP).timestamp_unix_nanos(timestamp))
        .mkdir(dir("/home", 0o755, 0))
        .mkdir(dir("/home/nonroot", 0o700, 65532))
        // Copied, not made: BuildKit's mkdir drops the sticky bit (it reads
        // the mode as Go's os.FileMode, whose sticky bit is not 0o1000).
        .copy(
            Copy::new(source.clone(), "/tmp", "/tmp")
                .owner(0, 0)
                .timestamp_unix_nanos(timestamp),
        );
    if timezones {
        file = file.mkdir(dir("/usr/share", 0o755, 0)).copy(
            Copy::new(source, ZONEINFO, ZONEINFO)
                .dir_copy_contents(true)
                .create_dest_path(true)
                .follow_symlink(true)
                .owner(0, 0)
                .timestamp_unix_nanos(timestamp),
        );
    }
    file
}

/// What scratch's layer holds, for the image history.
pub fn scratch_description(timezones: bool) -> String {
    let zones = if timezones { ", zone data" } else { "" };
    format!("golb: scratch preset: CA certificates{zones}, /etc/passwd and /etc/group (nonroot 65532), /home/nonroot, /tmp 1777")
}

/// The config an image on the preset starts from: scratch keeps the
/// distroless config (user, PATH, SSL_CERT_FILE) but none of its layers.
pub fn base_config(preset: Option<Preset>, config: &Value) -> Value {
    match preset {
        Some(Preset::Scratch) => {
            let mut config = config.clone();
            if let Some(object) = config.as_object_mut() {
                object.insert("history".into(), json!([]));
                object.insert("rootfs".into(), json!({"type": "layers", "diff_ids": []}));
            }
            config
        }
        _ => config.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_names_and_images() {
        for preset in Preset::ALL {
            assert_eq!(Preset::named(preset.name()), Some(preset));
            assert!(crate::image_ref::ImageRef::parse(preset.image()).is_ok());
            assert!(BASE_DESCRIPTION.contains(preset.name()));
        }
        assert!(BASE_DESCRIPTION.contains(ALPINE_IMAGE));
        assert!(BASE_DESCRIPTION.contains(DEFAULT_RUNTIME_BASE));
        assert_eq!(Preset::named("alpine:3.22"), None);
        let spec = |text: &str| Spec::parse("golb.toml", text).unwrap();
        assert_eq!(of_spec(&spec("")), Some(Preset::Distroless));
        assert_eq!(
            of_spec(&spec("[runtime]\nbase = \"scratch\"\n")),
            Some(Preset::Scratch)
        );
        assert_eq!(of_spec(&spec("[runtime]\nbase = \"alpine:3.22\"\n")), None);
        assert_eq!(
            extra_tags(&spec("[runtime]\nbase = \"alpine\"\ntimezones = true\n")),
            ["timetzdata"]
        );
        assert!(extra_tags(&spec("[runtime]\nbase = \"scratch\"\ntimezones = true\n")).is_empty());
        assert!(not_glibc("golang:1.26-alpine").is_some());
        assert!(not_glibc("registry.example.com/alpine@sha256:00").is_some());
        assert!(not_glibc("gcr.io/distroless/static-debian12:nonroot").is_some());
        assert!(not_glibc("gcr.io/distroless/base-debian12:nonroot").is_none());
        assert!(not_glibc("localhost:5000/team/base").is_none());
    }

    #[test]
    fn scratch_drops_the_distroless_layers_but_keeps_its_config() {
        let distroless = json!({
            "config": {"User": "65532", "Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
            "history": [{"created_by": "distroless"}],
        });
        let scratch = base_config(Some(Preset::Scratch), &distroless);
        assert_eq!(scratch["rootfs"]["diff_ids"], json!([]));
        assert_eq!(scratch["history"], json!([]));
        assert_eq!(scratch["config"], distroless["config"]);
        assert_eq!(base_config(Some(Preset::Alpine), &distroless), distroless);
    }
}
