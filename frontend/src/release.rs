//! What this build of golb is: its version, the commit it was built from,
//! and the frontend image that version publishes (the default `# syntax=`
//! line of the specs `golb init` and `golb migrate` write).
//!
//! All three come from the build, never from the machine golb runs on: the
//! version from Cargo.toml, the commit and the image repository from
//! `build.rs` (environment variables of the build, else git), so a team that
//! builds its own golb (docs/install.md) bakes in its own registry.

/// The Go release `golb init` writes when go.mod has no `go` line (modules
/// from before Go 1.12): the one this golb version is tested with.
pub const GO_RELEASE: &str = "1.26";

/// golb's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit golb was built from (set by build.rs): `GOLB_REVISION` at build time, else
/// `git rev-parse HEAD` of the source tree, else "unknown" (a source tarball).
pub const REVISION: &str = match option_env!("GOLB_BUILD_REVISION") {
    Some(revision) if !revision.is_empty() => revision,
    _ => "unknown",
};

/// Where golb's frontend images are published, without tag:
/// `GOLB_IMAGE_REPOSITORY` at build time, else the project's own repository.
pub const IMAGE_REPOSITORY: &str = match option_env!("GOLB_IMAGE_REPOSITORY") {
    Some(repository) if !repository.is_empty() => repository,
    _ => "ghcr.io/golb-build/golb",
};

/// The frontend image this golb version publishes: `<repository>:<version>`.
pub fn frontend_image() -> String {
    format!("{IMAGE_REPOSITORY}:{VERSION}")
}

/// `golb --version`: the version and the commit.
pub fn long_version() -> &'static str {
    static LONG: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("{VERSION} (commit {REVISION})"));
    LONG.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_image_is_tagged_with_this_version() {
        let image = frontend_image();
        assert!(
            image.ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))),
            "{image}"
        );
        assert!(crate::image_ref::ImageRef::parse(&image).is_ok(), "{image}");
        assert!(!REVISION.is_empty());
        assert!(long_version().contains(REVISION));
    }
}
