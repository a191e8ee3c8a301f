//! Named build contexts (`--build-context NAME=VALUE`, sent as the option
//! `context:NAME`) that replace golb's builder or runtime base, as they
//! replace a `FROM` in a Dockerfile.

use crate::image_ref::ImageRef;
use golb_proto::llb::Platform;
use std::collections::BTreeMap;

/// What a named context puts in place of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// `docker-image://REF`: another image, resolved and pinned as usual.
    Image(ImageRef),
    /// `local:NAME`: a directory the client sends as local `NAME`, used as the root filesystem.
    Local(String),
    /// `oci-layout://STORE[:TAG]@DIGEST`: an image in an OCI layout directory
    /// the client offers as content store STORE of its session (buildx gives
    /// the directory a store id and resolves the tag to DIGEST).
    OciLayout { store: String, digest: String },
    /// `input:NAME`: a result the client solved before and sent as frontend
    /// input NAME (buildx bake's `target:` contexts), with its image config
    /// in the option `input-metadata:NAME` when it has one.
    Input(String),
}

/// A named context that applies, with the name it was given under (without
/// any `::platform` suffix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedContext {
    pub name: String,
    pub replacement: Replacement,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NamedContextError {
    #[error("build context {key}={value:?}: {why}")]
    Unsupported {
        key: String,
        value: String,
        why: &'static str,
    },
}

/// The names a user may give the image: golb's role for it ("builder",
/// "runtime"), then the reference with and without tag, long and short.
fn candidate_names(role: &str, image: &ImageRef) -> Vec<String> {
    let repo = format!("{}/{}", image.domain, image.path);
    let short = if image.domain == "docker.io" {
        image
            .path
            .strip_prefix("library/")
            .unwrap_or(&image.path)
            .to_string()
    } else {
        repo.clone()
    };
    let mut names = vec![role.to_string()];
    if let Some(tag) = &image.tag {
        names.push(format!("{short}:{tag}"));
        names.push(format!("{repo}:{tag}"));
    }
    names.push(short);
    names.push(repo);
    names.dedup();
    names
}

/// The named context that replaces `image` in `role` for `platform`, if the
/// client sent one. A context for the platform (`context:NAME::linux/arm64`,
/// as buildx bake sends for multi-platform targets) wins over one for all.
pub fn replacement(
    opts: &BTreeMap<String, String>,
    role: &str,
    image: &ImageRef,
    platform: &Platform,
) -> Result<Option<NamedContext>, NamedContextError> {
    for name in candidate_names(role, image) {
        for key in [format!("{name}::{platform}"), name.clone()] {
            let Some(value) = opts.get(&format!("context:{key}")) else {
                continue;
            };
            return parse(&key, value).map(|replacement| {
                Some(NamedContext {
                    name: name.clone(),
                    replacement,
                })
            });
        }
    }
    Ok(None)
}

fn parse(key: &str, value: &str) -> Result<Replacement, NamedContextError> {
    let unsupported = |why| NamedContextError::Unsupported {
        key: key.to_string(),
        value: value.to_string(),
        why,
    };
    if let Some(reference) = value.strip_prefix("docker-image://") {
        let reference =
            ImageRef::parse(reference).map_err(|_| unsupported("not a valid image reference"))?;
        return Ok(Replacement::Image(reference));
    }
    if let Some(local) = value.strip_prefix("local:") {
        return Ok(Replacement::Local(local.to_string()));
    }
    if let Some(input) = value.strip_prefix("input:") {
        if input.is_empty() {
            return Err(unsupported("names no input"));
        }
        return Ok(Replacement::Input(input.to_string()));
    }
    if let Some(layout) = value.strip_prefix("oci-layout://") {
        let Some((store, digest)) = layout.rsplit_once('@') else {
            return Err(unsupported(
                "an OCI layout context needs the image's digest (STORE@sha256:...); buildx adds it",
            ));
        };
        let store = store.split(':').next().unwrap_or_default();
        let valid_digest = digest
            .strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if store.is_empty() || !valid_digest {
            return Err(unsupported(
                "expected oci-layout://STORE[:TAG]@sha256:DIGEST",
            ));
        }
        return Ok(Replacement::OciLayout {
            store: store.to_string(),
            digest: digest.to_string(),
        });
    }
    Err(unsupported(
        "golb takes docker-image://REF, oci-layout://, a local directory or a bake target here (git and https contexts are not supported)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::opts;

    fn amd64() -> Platform {
        Platform::linux_amd64()
    }

    fn found(o: &BTreeMap<String, String>, role: &str, image: &str) -> Option<Replacement> {
        let image = ImageRef::parse(image).unwrap();
        replacement(o, role, &image, &amd64())
            .unwrap()
            .map(|c| c.replacement)
    }

    #[test]
    fn the_image_can_be_named_by_role_or_reference() {
        for name in [
            "builder",
            "golang:1.26",
            "golang",
            "docker.io/library/golang:1.26",
            "docker.io/library/golang",
        ] {
            let o = opts(&[(
                &format!("context:{name}"),
                "docker-image://127.0.0.1:5000/go:test",
            )]);
            assert_eq!(
                found(&o, "builder", "golang:1.26"),
                Some(Replacement::Image(
                    ImageRef::parse("127.0.0.1:5000/go:test").unwrap()
                )),
                "{name}"
            );
        }
        let o = opts(&[("context:runtime", "local:base")]);
        assert_eq!(found(&o, "builder", "golang:1.26"), None);
    }

    #[test]
    fn local_directories_replace_the_runtime_base() {
        let o = opts(&[("context:gcr.io/distroless/static-debian12", "local:base")]);
        assert_eq!(
            found(&o, "runtime", "gcr.io/distroless/static-debian12:nonroot"),
            Some(Replacement::Local("base".into()))
        );
    }

    #[test]
    fn a_context_for_the_platform_wins() {
        // What buildx bake sends for a two-platform `target:` context.
        let o = opts(&[
            ("context:runtime", "docker-image://alpine"),
            ("context:runtime::linux/amd64", "input:runtime::linux/amd64"),
            ("context:runtime::linux/arm64", "input:runtime::linux/arm64"),
        ]);
        let base = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot").unwrap();
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let arm = Platform::parse("linux/arm/v7").unwrap();
        let pick = |p: &Platform| replacement(&o, "runtime", &base, p).unwrap().unwrap();
        assert_eq!(
            pick(&amd64()),
            NamedContext {
                name: "runtime".into(),
                replacement: Replacement::Input("runtime::linux/amd64".into()),
            }
        );
        assert_eq!(
            pick(&arm64).replacement,
            Replacement::Input("runtime::linux/arm64".into())
        );
        assert_eq!(
            pick(&arm).replacement,
            Replacement::Image(ImageRef::parse("alpine").unwrap()),
            "no arm/v7 key: the context for all platforms"
        );
    }

    #[test]
    fn oci_layouts_as_buildx_sends_them() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for value in [
            format!("oci-layout://k2x9store@{digest}"),
            format!("oci-layout://k2x9store:v1@{digest}"),
        ] {
            let o = opts(&[("context:builder", value.as_str())]);
            assert_eq!(
                found(&o, "builder", "golang:1.26"),
                Some(Replacement::OciLayout {
                    store: "k2x9store".into(),
                    digest: digest.clone(),
                }),
                "{value}"
            );
        }
        for bad in [
            "oci-layout://store:latest",
            "oci-layout://store@sha256:00",
            "oci-layout://@sha256:00",
        ] {
            let o = opts(&[("context:builder", bad)]);
            let image = ImageRef::parse("golang:1.26").unwrap();
            let err = replacement(&o, "builder", &image, &amd64()).unwrap_err();
            assert!(err.to_string().contains("oci-layout://"), "{err}");
        }
    }

    #[test]
    fn other_forms_are_refused_by_name() {
        let base = ImageRef::parse("alpine").unwrap();
        for value in [
            "https://example.com/x.tar",
            "git@github.com:a/b.git",
            "input:",
        ] {
            let err = replacement(
                &opts(&[("context:runtime", value)]),
                "runtime",
                &base,
                &amd64(),
            )
            .unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("build context runtime={value:?}")),
                "{err}"
            );
        }
    }
}
