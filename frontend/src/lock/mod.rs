//! `golb.lock`: the digests the spec's image tags named when `golb lock` ran
//! (`command`), so a moved tag cannot change a build. One `[[image]]` table
//! per builder or runtime image the spec names by tag: the digest the tag
//! named (an index, or a single manifest) and each platform's manifest.
//!
//! ```toml
//! version = 1
//!
//! [[image]]
//! name = "docker.io/library/golang:1.26"
//! digest = "sha256:…"
//!
//! [image.platforms]
//! "linux/amd64" = "sha256:…"
//! "linux/arm64" = "sha256:…"
//! ```
//!
//! The frontend reads it and asks [`Lock::pin`] for each image and
//! platform; an image the spec names by digest needs no entry.

pub mod command;

use std::collections::BTreeMap;

use golb_proto::llb::Platform;
use serde::Deserialize;
use toml::Spanned;

use crate::image_ref::ImageRef;
use crate::spec::Location;

/// The lock's file name, beside the spec.
pub const LOCK_FILE: &str = "golb.lock";

/// Where the lock of the spec at `spec` lives: beside it. For the frontend,
/// `spec` is the `filename` option, a path in the `dockerfile` local; for
/// `golb lock`, a path on disk.
pub fn beside_spec(spec: &str) -> String {
    match spec.rfind('/') {
        Some(i) => format!("{}/{LOCK_FILE}", &spec[..i]),
        None => LOCK_FILE.to_string(),
    }
}
const VERSION: u32 = 1;

/// A parsed golb.lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub images: Vec<LockedImage>,
}

/// One image as `golb lock` resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedImage {
    /// The reference as the spec names it, normalized ("docker.io/library/golang:1.26").
    pub name: ImageRef,
    /// What the tag named: an index, or a single image manifest.
    pub digest: String,
    /// Each platform's image manifest.
    pub platforms: BTreeMap<Platform, String>,
}

/// How the frontend should resolve an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pin<'a> {
    /// The spec names it by digest already.
    ByDigest,
    /// Use this platform's manifest digest; no tag is resolved.
    Locked(&'a str),
    /// The lock has no entry: resolve the tag as without a lock.
    NotLocked,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    #[error("{file}:{location}: {message}")]
    Invalid {
        file: String,
        location: Location,
        message: String,
    },
    #[error("{file}: {name} is locked for {have}, not {platform}; run `golb lock` again")]
    NoPlatform {
        file: String,
        name: String,
        platform: String,
        have: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    version: Spanned<u32>,
    #[serde(default, rename = "image")]
    images: Vec<RawImage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: Spanned<String>,
    digest: Spanned<String>,
    platforms: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// Which spec images the lock does not match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Staleness {
    /// Images the spec names by tag that the lock lacks.
    pub missing: Vec<String>,
    /// Entries for images the spec no longer names.
    pub unused: Vec<String>,
}

impl Staleness {
    pub fn is_stale(&self) -> bool {
        !self.missing.is_empty() || !self.unused.is_empty()
    }
}

impl Lock {
    /// Parses golb.lock; `file` names it in errors, which carry line and column.
    pub fn parse(file: &str, text: &str) -> Result<Lock, LockError> {
        let invalid = |span: std::ops::Range<usize>, message: String| LockError::Invalid {
            file: file.to_string(),
            location: crate::spec::location::locate(text, span),
            message,
        };
        let raw: RawLock = toml::from_str(text)
            .map_err(|e| invalid(e.span().unwrap_or(0..0), e.message().to_string()))?;
        if *raw.version.get_ref() != VERSION {
            return Err(invalid(
                raw.version.span(),
                format!(
                    "golb.lock version {} is not one this golb reads ({VERSION}); run `golb lock` again",
                    raw.version.get_ref()
                ),
            ));
        }
        let mut images: Vec<LockedImage> = Vec::new();
        for image in raw.images {
            let name = ImageRef::parse(image.name.get_ref())
                .map_err(|e| invalid(image.name.span(), e.to_string()))?;
            if name.digest.is_some() {
                return Err(invalid(
                    image.name.span(),
                    "an image named by digest needs no lock entry".into(),
                ));
            }
            if images.iter().any(|i| i.name == name) {
                return Err(invalid(
                    image.name.span(),
                    format!("{name} is locked twice"),
                ));
            }
            check_digest(image.digest.get_ref()).map_err(|m| invalid(image.digest.span(), m))?;
            let mut platforms = BTreeMap::new();
            for (platform, digest) in image.platforms {
                let parsed = Platform::parse(platform.get_ref())
                    .map_err(|e| invalid(platform.span(), e.to_string()))?;
                check_digest(digest.get_ref()).map_err(|m| invalid(digest.span(), m))?;
                platforms.insert(parsed, digest.into_inner());
            }
            if platforms.is_empty() {
                return Err(invalid(
                    image.name.span(),
                    format!("{name} has no platforms; run `golb lock` again"),
                ));
            }
            images.push(LockedImage {
                name,
                digest: image.digest.into_inner(),
                platforms,
            });
        }
        Ok(Lock { images })
    }

    /// The file's text: sorted, so the same images always give the same bytes.
    pub fn render(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut images: Vec<&LockedImage> = self.images.iter().collect();
        images.sort_by_key(|i| i.name.to_string());
        let mut out = String::from(
            "# golb.lock: the images golb.toml builds from, pinned by `golb lock`.\n\
             # `golb lock --check` fails when a tag has moved; `golb lock` updates this file.\n\
             version = 1\n",
        );
        for image in images {
            out.push_str(&format!(
                "\n[[image]]\nname = {}\ndigest = {}\n\n[image.platforms]\n",
                quote(&image.name.to_string()),
                quote(&image.digest)
            ));
            for (platform, digest) in &image.platforms {
                out.push_str(&format!(
                    "{} = {}\n",
                    quote(&platform.to_string()),
                    quote(digest)
                ));
            }
        }
        out
    }

    /// The entry for an image the spec names by tag.
    pub fn entry(&self, image: &ImageRef) -> Option<&LockedImage> {
        self.images.iter().find(|i| &i.name == image)
    }

    /// How to resolve `image` for `platform`: the locked manifest's digest, or
    /// as without a lock. An entry without that platform is an error, not a
    /// quiet fallback to the tag.
    pub fn pin(&self, image: &ImageRef, platform: &Platform) -> Result<Pin<'_>, LockError> {
        if image.digest.is_some() {
            return Ok(Pin::ByDigest);
        }
        let Some(entry) = self.entry(image) else {
            return Ok(Pin::NotLocked);
        };
        match entry.platforms.get(platform) {
            Some(digest) => Ok(Pin::Locked(digest)),
            None => Err(LockError::NoPlatform {
                file: LOCK_FILE.to_string(),
                name: image.to_string(),
                platform: platform.to_string(),
                have: entry
                    .platforms
                    .keys()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Compares the lock with the images a spec names (for `--call check`
    /// and `golb lock --check`): images by digest need no entry.
    pub fn staleness(&self, wanted: &[ImageRef]) -> Staleness {
        let tagged: Vec<&ImageRef> = wanted.iter().filter(|i| i.digest.is_none()).collect();
        Staleness {
            missing: tagged
                .iter()
                .filter(|i| self.entry(i).is_none())
                .map(|i| i.to_string())
                .collect(),
            unused: self
                .images
                .iter()
                .filter(|locked| !tagged.contains(&&locked.name))
                .map(|locked| locked.name.to_string())
                .collect(),
        }
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64
        && hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        Ok(())
    } else {
        Err(format!("{digest:?} is not a sha256:<64 hex digits> digest"))
    }
}

#[cfg(test)]
mod tests;
