//! Image references as Docker spells them ("golang:1.26",
//! "gcr.io/distroless/static-debian12:nonroot", "…@sha256:…"), normalized the
//! way BuildKit normalizes them, so a pinned reference is unambiguous.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reference:?} is not a valid image reference: {why}")]
pub struct ImageRefError {
    pub reference: String,
    pub why: &'static str,
}

const DOCKER_HUB: &str = "docker.io";

impl ImageRef {
    pub fn parse(reference: &str) -> Result<ImageRef, ImageRefError> {
        let fail = |why| ImageRefError {
            reference: reference.to_string(),
            why,
        };
        if reference.is_empty() {
            return Err(fail("it is empty"));
        }
        if reference.chars().any(char::is_whitespace) {
            return Err(fail("it contains white space"));
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or_else(|| fail("the digest must be sha256:<64 hex digits>"))?;
                if hex.len() != 64
                    || !hex
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                {
                    return Err(fail("the digest must be sha256:<64 hex digits>"));
                }
                (rest, Some(digest.to_string()))
            }
            None => (reference, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a registry port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && !tag.starts_with(['.', '-']);
            if !valid {
                return Err(fail("the tag may hold letters, digits, '_', '.' and '-'"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let path = if domain == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        let path_ok = !path.is_empty()
            && path.split('/').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                    })
            });
        if !path_ok {
            return Err(fail(
                "the repository path may hold lower-case letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// The same image pinned to `digest`, keeping the tag for people to read.
    pub fn pinned(&self, digest: &str) -> ImageRef {
        ImageRef {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageRef {
    /// The fully qualified form BuildKit uses in `docker-image://` identifiers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        match (&self.tag, &self.digest) {
            (Some(tag), _) => write!(f, ":{tag}")?,
            (None, None) => write!(f, ":latest")?,
            (None, Some(_)) => {}
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn official_images_live_in_library_on_docker_hub() {
        assert_eq!(
            ImageRef::parse("golang:1.26").unwrap().to_string(),
            "docker.io/library/golang:1.26"
        );
        assert_eq!(
            ImageRef::parse("golang").unwrap().to_string(),
            "docker.io/library/golang:latest"
        );
    }

    #[test]
    fn registries_with_ports_are_not_tags() {
        let r = ImageRef::parse("127.0.0.1:5000/golb:dev").unwrap();
        assert_eq!(
            (r.domain.as_str(), r.path.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "golb", Some("dev"))
        );
        let r = ImageRef::parse("localhost:5000/team/app").unwrap();
        assert_eq!(r.to_string(), "localhost:5000/team/app:latest");
    }

    #[test]
    fn digests_are_kept_and_pinning_keeps_the_tag() {
        let r = ImageRef::parse(&format!("gcr.io/distroless/static-debian12@{DIGEST}")).unwrap();
        assert_eq!(
            r.to_string(),
            format!("gcr.io/distroless/static-debian12@{DIGEST}")
        );
        let pinned = ImageRef::parse("gcr.io/distroless/static-debian12:nonroot")
            .unwrap()
            .pinned(DIGEST);
        assert_eq!(
            pinned.to_string(),
            format!("gcr.io/distroless/static-debian12:nonroot@{DIGEST}")
        );
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "",
            "Golang:1.26",
            "golang:",
            "golang@sha256:abc",
            "a b",
            "golang:-x",
            "team//app",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
