//! `.dockerignore` files, read as the Dockerfile frontend reads them, turned
//! into the exclude patterns of the context source. BuildKit applies them
//! while sending, so excluded files never leave the client.

/// The context's ignore file; `<spec>.dockerignore` beside the spec wins over it.
pub const FILE: &str = ".dockerignore";

/// Excluded unless an ignore file re-includes them (`!.git`): a Go build
/// needs no VCS data (golb builds with -buildvcs=false), and `.git` is often
/// the largest directory of a checkout.
const DEFAULT_EXCLUDES: [&str; 1] = [".git"];

/// The patterns of an ignore file: one per line, `#` comments and blank lines
/// skipped, surrounding space trimmed, a leading `/` dropped (patterns are
/// relative to the context root either way).
pub fn patterns(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match line.strip_prefix('!') {
            Some(rest) => format!("!{}", rest.trim().trim_start_matches('/')),
            None => line.trim_start_matches('/').to_string(),
        })
        .filter(|p| !p.is_empty() && p != "!")
        .collect()
}

/// The user's patterns after golb's defaults, so a user's `!.git` still wins.
pub fn with_defaults(patterns: Vec<String>) -> Vec<String> {
    DEFAULT_EXCLUDES
        .iter()
        .map(|p| p.to_string())
        .chain(patterns)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blanks_and_leading_slashes_are_dropped() {
        let text = "# build output\n\n/bin\n  *.log  \n!/bin/keep\n!\n";
        assert_eq!(patterns(text), ["bin", "*.log", "!bin/keep"]);
    }

    #[test]
    fn git_is_excluded_unless_re_included() {
        assert_eq!(with_defaults(vec![]), [".git"]);
        assert_eq!(with_defaults(patterns("!.git\n")), [".git", "!.git"]);
    }
}
