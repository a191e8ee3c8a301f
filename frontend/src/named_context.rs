//! Named build contexts (`--build-context NAME=VALUE`, sent as the option
//! `context:NAME`) that replace golb's builder or runtime base, as they
//! replace a `FROM` in a Dockerfile.

use crate::image_ref::ImageRef;
use std::collections::BTreeMap;

/// What a named context puts in place of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// `docker-image://REF`: another image, resolved and pinned as usual.
    Image(ImageRef),
    /// `local:NAME`: a directory the client sends as local `NAME`, used as the root filesystem.
    Local(String),
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

/// The named context that replaces `image` in `role`, if the client sent one.
pub fn replacement(
    opts: &BTreeMap<String, String>,
    role: &str,
    image: &ImageRef,
) -> Result<Option<Replacement>, NamedContextError> {
    for name in candidate_names(role, image) {
        let key = format!("context:{name}");
        let Some(value) = opts.get(&key) else {
            continue;
        };
        let unsupported = |why| NamedContextError::Unsupported {
            key: name.clone(),
            value: value.clone(),
            why,
        };
        if let Some(reference) = value.strip_prefix("docker-image://") {
            let reference = ImageRef::parse(reference)
                .map_err(|_| unsupported("not a valid image reference"))?;
            return Ok(Some(Replacement::Image(reference)));
        }
        if let Some(local) = value.strip_prefix("local:") {
            return Ok(Some(Replacement::Local(local.to_string())));
        }
        return Err(unsupported("golb takes docker-image://REF or a local directory here (oci-layout://, git and https contexts are not supported yet)"));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_image_can_be_named_by_role_or_reference() {
        let golang = ImageRef::parse("golang:1.26").unwrap();
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
            let r = replacement(&o, "builder", &golang).unwrap();
            assert_eq!(
                r,
                Some(Replacement::Image(
                    ImageRef::parse("127.0.0.1:5000/go:test").unwrap()
                )),
                "{name}"
            );
        }
        assert_eq!(
            replacement(
                &opts(&[("context:runtime", "local:base")]),
                "builder",
                &golang
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn local_directories_replace_the_runtime_base() {
        let base = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot").unwrap();
        let o = opts(&[("context:gcr.io/distroless/static-debian12", "local:base")]);
        assert_eq!(
            replacement(&o, "runtime", &base).unwrap(),
            Some(Replacement::Local("base".into()))
        );
    }

    #[test]
    fn other_forms_are_refused_by_name() {
        let base = ImageRef::parse("alpine").unwrap();
        let err = replacement(
            &opts(&[("context:runtime", "oci-layout:///tmp/x@sha256:00")]),
            "runtime",
            &base,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("build context runtime=\"oci-layout:///tmp/x@sha256:00\""),
            "{err}"
        );
    }
}
