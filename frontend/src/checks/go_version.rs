//! Go release numbers ("1.26", "1.26.3", "1.27rc1", "go1.26.10") ordered the
//! way the go command orders them, so "is go.mod newer than the builder" is a
//! comparison of numbers, never of strings ("1.26.10" > "1.26.9").

use std::cmp::Ordering;

/// A Go release. Since Go 1.21, "1.26" is the language version, older than
/// every release of it: 1.26 < 1.26rc1 < 1.26rc2 < 1.26.0 < 1.26.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    pub major: u32,
    pub minor: u32,
    pub stage: Stage,
}

/// Where in a minor release's life a version is; the variant order is the
/// go command's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// "1.26": the language version, or (for a builder image tag) "the
    /// newest 1.26.x", whose patch is unknown.
    Language,
    Alpha(u32),
    Beta(u32),
    Rc(u32),
    Patch(u32),
}

impl GoVersion {
    /// Parses a whole version, with or without the "go" prefix.
    pub fn parse(text: &str) -> Option<GoVersion> {
        let (version, rest) = GoVersion::parse_prefix(text)?;
        rest.is_empty().then_some(version)
    }

    /// Parses a version at the start of `text` and returns what follows, so
    /// an image tag like "1.26.3-alpine3.22" gives 1.26.3 and "-alpine3.22".
    pub fn parse_prefix(text: &str) -> Option<(GoVersion, &str)> {
        let text = text.strip_prefix("go").unwrap_or(text);
        let (major, rest) = number(text)?;
        let rest = rest.strip_prefix('.')?;
        let (minor, rest) = number(rest)?;
        let (stage, rest) = if let Some(after) = rest.strip_prefix('.') {
            let (patch, rest) = number(after)?;
            (Stage::Patch(patch), rest)
        } else if let Some((stage, rest)) = pre_release(rest) {
            (stage, rest)
        } else {
            (Stage::Language, rest)
        };
        Some((
            GoVersion {
                major,
                minor,
                stage,
            },
            rest,
        ))
    }

    /// Whether a module that needs `self` can be built by the Go release
    /// `builder` without downloading another toolchain. A builder known only
    /// as "1.26" (the `golang:1.26` tag, always its newest patch) satisfies
    /// every 1.26 version.
    pub fn needs_newer_than(&self, builder: &GoVersion) -> bool {
        match builder.stage {
            Stage::Language => (self.major, self.minor) > (builder.major, builder.minor),
            _ => self.cmp(builder) == Ordering::Greater,
        }
    }
}

impl std::fmt::Display for GoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        match self.stage {
            Stage::Language => Ok(()),
            Stage::Alpha(n) => write!(f, "alpha{n}"),
            Stage::Beta(n) => write!(f, "beta{n}"),
            Stage::Rc(n) => write!(f, "rc{n}"),
            Stage::Patch(n) => write!(f, ".{n}"),
        }
    }
}

fn number(text: &str) -> Option<(u32, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let value = text[..end].parse().ok()?;
    Some((value, &text[end..]))
}

fn pre_release(text: &str) -> Option<(Stage, &str)> {
    let (stage, rest): (fn(u32) -> Stage, &str) = if let Some(rest) = text.strip_prefix("alpha") {
        (Stage::Alpha, rest)
    } else if let Some(rest) = text.strip_prefix("beta") {
        (Stage::Beta, rest)
    } else {
        (Stage::Rc, text.strip_prefix("rc")?)
    };
    let (n, rest) = number(rest)?;
    Some((stage(n), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> GoVersion {
        GoVersion::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn orders_like_the_go_command() {
        let ordered = [
            "1.9.2",
            "1.25.7",
            "1.26",
            "1.26alpha1",
            "1.26beta2",
            "1.26rc1",
            "1.26rc2",
            "1.26.0",
            "1.26.9",
            "1.26.10",
            "1.27",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn a_bare_builder_release_means_any_patch_of_it() {
        assert!(!v("1.26.3").needs_newer_than(&v("1.26")));
        assert!(v("1.27").needs_newer_than(&v("1.26")));
        assert!(v("1.27rc1").needs_newer_than(&v("1.26")));
        assert!(v("1.26.10").needs_newer_than(&v("1.26.9")));
        assert!(!v("1.26.9").needs_newer_than(&v("1.26.10")));
        assert!(!v("1.26").needs_newer_than(&v("1.26.0")));
        assert!(v("1.26.0").needs_newer_than(&v("1.26rc1")));
    }

    #[test]
    fn reads_prefixes_of_tags_and_refuses_garbage() {
        assert_eq!(GoVersion::parse("go1.26.3"), Some(v("1.26.3")));
        let (version, rest) = GoVersion::parse_prefix("1.26.3-alpine3.22").unwrap();
        assert_eq!(
            (version.to_string().as_str(), rest),
            ("1.26.3", "-alpine3.22")
        );
        for bad in [
            "",
            "1",
            "1.",
            "x1.2",
            "1.x",
            "1.26.",
            "99999999999.1",
            "1.26 ",
        ] {
            assert_eq!(GoVersion::parse(bad), None, "{bad:?}");
        }
    }
}
