//! `.dockerignore` files, read as the Dockerfile frontend reads them, turned
//! into the exclude patterns of the context source. BuildKit applies them
//! while sending, so excluded files never leave the client.

/// The context's ignore file; `<spec>.dockerignore` beside the spec wins over it.
pub const FILE: &str = ".dockerignore";

/// Excluded unless an ignore file re-includes them (`!.git`): a Go build
/// needs no VCS data (golb builds with -buildvcs=false), and `.git` is often
/// the largest directory of a checkout.
const DEFAULT_EXCLUDES: [&str; 1] = [".git"];

/// An ignore file that is not UTF-8: BuildKit's exclude patterns are
/// protobuf strings, so such a pattern could not be sent as written, and a
/// lossy guess would quietly send files the user meant to exclude.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: this ignore file is not UTF-8 text (byte 0x{byte:02x}); re-save it as UTF-8")]
pub struct NotUtf8 {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub byte: u8,
}

/// The patterns of an ignore file as the client sent it (bytes), or where it
/// stops being UTF-8.
pub fn patterns_from_bytes(file: &str, bytes: &[u8]) -> Result<Vec<String>, NotUtf8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(patterns(text)),
        Err(e) => {
            let before = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            Err(NotUtf8 {
                file: file.to_string(),
                line: before.matches('\n').count() + 1,
                col: before[line_start..].chars().count() + 1,
                byte: bytes.get(e.valid_up_to()).copied().unwrap_or_default(),
            })
        }
    }
}

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
    fn an_ignore_file_that_is_not_utf8_is_refused_where_it_breaks() {
        let err = patterns_from_bytes(".dockerignore", b"bin\n*.log\ncaf\xe9\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            ".dockerignore:3:4: this ignore file is not UTF-8 text (byte 0xe9); re-save it as UTF-8"
        );
        assert_eq!(
            patterns_from_bytes(".dockerignore", "bin\nnaïve\n".as_bytes()),
            Ok(vec!["bin".to_string(), "naïve".to_string()])
        );
    }

    #[test]
    fn git_is_excluded_unless_re_included() {
        assert_eq!(with_defaults(vec![]), [".git"]);
        assert_eq!(with_defaults(patterns("!.git\n")), [".git", "!.git"]);
    }
}
