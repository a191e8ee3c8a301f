//! Package URLs (<https://github.com/package-url/purl-spec>) for what golb's
//! SBOMs and VEX documents name: Go modules, the Go standard library and OCI
//! images. One function per kind, so the SBOM and the VEX document of a build
//! name a module identically and scanners can join them.
//!
//! Go module paths keep their case: the purl spec asks to lowercase golang
//! names, but Go paths are case-sensitive (`github.com/BurntSushi/toml` is
//! not `github.com/burntsushi/toml`), and syft, trivy and govulncheck keep it.

use crate::image_ref::ImageRef;

/// `pkg:golang/<module path>[@<version>]`. `version` is left out when empty
/// or "(devel)" (the main module and local replacements have none).
pub fn go_module(path: &str, version: &str) -> String {
    let mut purl = String::from("pkg:golang/");
    let segments: Vec<String> = path.split('/').map(escape).collect();
    purl.push_str(&segments.join("/"));
    if !version.is_empty() && version != "(devel)" {
        purl.push('@');
        purl.push_str(&escape(version));
    }
    purl
}

/// The Go standard library as govulncheck names it: module "stdlib" at the
/// release's semantic version (`go1.26.8` → `v1.26.8`).
pub fn go_stdlib(go_version: &str) -> String {
    go_module("stdlib", &stdlib_version(go_version))
}

/// `go1.26.8` → `v1.26.8`, `go1.26` → `v1.26.0`; prereleases (`go1.27rc1`)
/// become `v1.27.0-rc.1` as in golang.org/x/vuln.
pub fn stdlib_version(go_version: &str) -> String {
    let bare = go_version.strip_prefix("go").unwrap_or(go_version);
    let (release, pre) = match bare.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&bare[..i], Some(&bare[i..])),
        None => (bare, None),
    };
    let mut parts: Vec<&str> = release.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut version = format!("v{}", parts.join("."));
    if let Some(pre) = pre {
        let digits = pre.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let word = &pre[..pre.len() - digits.len()];
        version.push_str(&format!("-{word}.{digits}"));
    }
    version
}

/// `pkg:oci/<name>@<digest>?repository_url=<registry>/<path>&tag=<tag>`, for a
/// reference pinned by digest; None for one that is not.
pub fn oci_image(image: &ImageRef) -> Option<String> {
    let digest = image.digest.as_deref()?;
    let name = image.path.rsplit('/').next().unwrap_or(&image.path);
    let mut purl = format!(
        "pkg:oci/{}@{}?repository_url={}",
        escape(name),
        escape(digest),
        escape_qualifier(&format!("{}/{}", image.domain, image.path))
    );
    if let Some(tag) = &image.tag {
        purl.push_str(&format!("&tag={}", escape(tag)));
    }
    Some(purl)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A qualifier value may keep '/' and ':' (a registry's port) unescaped.
fn escape_qualifier(text: &str) -> String {
    escape(text).replace("%2F", "/").replace("%3A", ":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_modules() {
        assert_eq!(
            go_module("golang.org/x/text", "v0.14.0"),
            "pkg:golang/golang.org/x/text@v0.14.0"
        );
        assert_eq!(
            go_module("github.com/BurntSushi/toml", "v2.0.0+incompatible"),
            "pkg:golang/github.com/BurntSushi/toml@v2.0.0%2Bincompatible"
        );
        assert_eq!(
            go_module("example.com/app", "(devel)"),
            "pkg:golang/example.com/app"
        );
    }

    #[test]
    fn the_standard_library_is_versioned_as_govulncheck_does() {
        assert_eq!(go_stdlib("go1.26.8"), "pkg:golang/stdlib@v1.26.8");
        assert_eq!(stdlib_version("go1.26"), "v1.26.0");
        assert_eq!(stdlib_version("go1.27rc1"), "v1.27.0-rc.1");
    }

    #[test]
    fn oci_images_need_a_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let pinned = ImageRef::parse(&format!("golang:1.26@{digest}")).unwrap();
        assert_eq!(
            oci_image(&pinned).unwrap(),
            format!(
                "pkg:oci/golang@sha256%3A{}?repository_url=docker.io/library/golang&tag=1.26",
                "a".repeat(64)
            )
        );
        let local = ImageRef::parse(&format!("127.0.0.1:5000/team/base@{digest}")).unwrap();
        assert!(oci_image(&local)
            .unwrap()
            .contains("?repository_url=127.0.0.1:5000/team/base"));
        assert_eq!(oci_image(&ImageRef::parse("golang:1.26").unwrap()), None);
    }
}
