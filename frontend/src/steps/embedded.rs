//! The files a package's `//go:embed` patterns name, found on disk as
//! `go build` finds them (cmd/go's `resolveEmbed`): each pattern is a glob
//! relative to the package directory, element by element with `path.Match`;
//! a matched file is taken as is, a matched directory with every regular
//! file below it except names beginning with `.` or `_` (unless the
//! pattern has `all:`), version-control directories and nested modules.
//!
//! The size step runs this over the context's Go inputs, which the frontend
//! mounts into it, because the frontend itself sees only the package
//! directories' listings, not the trees below them.

use std::collections::BTreeSet;
use std::path::Path;

/// Directories Go never embeds from (`isBadEmbedName`).
const VCS_DIRS: [&str; 4] = [".bzr", ".hg", ".git", ".svn"];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("//go:embed {0}: not a pattern Go accepts")]
    BadPattern(String),
}

fn io(path: &Path, e: std::io::Error) -> EmbedError {
    EmbedError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The files `pattern` embeds from the package in `dir`, as paths relative to
/// `dir` with `/` separators (the names Go gives them), sorted.
pub fn files(dir: &Path, pattern: &str) -> Result<BTreeSet<String>, EmbedError> {
    let (glob, all) = match pattern.strip_prefix("all:") {
        Some(glob) => (glob, true),
        None => (pattern, false),
    };
    let elements: Vec<&str> = glob.split('/').collect();
    if glob.is_empty()
        || elements
            .iter()
            .any(|e| e.is_empty() || *e == "." || *e == "..")
        || elements.iter().any(|e| match_element(e, "").is_err())
    {
        return Err(EmbedError::BadPattern(pattern.to_string()));
    }
    let mut found = BTreeSet::new();
    for relative in glob_matches(dir, &elements)? {
        let path = dir.join(&relative);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        if meta.is_file() {
            found.insert(relative);
        } else if meta.is_dir() {
            walk(dir, &relative, all, &mut found)?;
        }
        // Anything else (a link, a device) fails `go build`: nothing to count.
    }
    Ok(found)
}

/// The paths below `dir` matching the pattern's elements, relative to `dir`.
fn glob_matches(dir: &Path, elements: &[&str]) -> Result<Vec<String>, EmbedError> {
    let mut at = vec![String::new()];
    for element in elements {
        let mut next = Vec::new();
        for prefix in &at {
            let parent = dir.join(prefix);
            let join = |name: &str| match prefix.is_empty() {
                true => name.to_string(),
                false => format!("{prefix}/{name}"),
            };
            if !element.contains(['*', '?', '[', '\\']) {
                if std::fs::symlink_metadata(parent.join(element)).is_ok() {
                    next.push(join(element));
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&parent) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| match_element(element, name).unwrap_or(false))
                .collect();
            names.sort();
            next.extend(names.iter().map(|n| join(n)));
        }
        at = next;
    }
    Ok(at)
}

/// Every regular file below `relative` (a directory a pattern matched).
fn walk(
    dir: &Path,
    relative: &str,
    all: bool,
    found: &mut BTreeSet<String>,
) -> Result<(), EmbedError> {
    let path = dir.join(relative);
    let entries = std::fs::read_dir(&path).map_err(|e| io(&path, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(&path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if VCS_DIRS.contains(&name.as_str()) || (!all && name.starts_with(['.', '_'])) {
            continue;
        }
        let child = format!("{relative}/{name}");
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        if kind.is_dir() {
            // Another module's directory is not part of this package's module.
            if !entry.path().join("go.mod").exists() {
                walk(dir, &child, all, found)?;
            }
        } else if kind.is_file() {
            found.insert(child);
        }
    }
    Ok(())
}

/// A pattern `path.Match` refuses (an unclosed class, a trailing `\`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed pattern")]
pub struct Malformed;

/// Go's `path.Match` for one path element (no `/` in either): `*`, `?`,
/// `[class]` with ranges and `^`, `\` escapes.
pub fn match_element(pattern: &str, name: &str) -> Result<bool, Malformed> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Checked on its own: a malformed class must be an error even when an
    // earlier part of the name already fails to match.
    validate(&pattern)?;
    Ok(matches(&pattern, &name))
}

fn validate(pattern: &[char]) -> Result<(), Malformed> {
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' => {
                if i + 1 >= pattern.len() {
                    return Err(Malformed);
                }
                i += 2;
            }
            '[' => {
                let (_, end) = class(pattern, i, None)?;
                i = end;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn matches(pattern: &[char], name: &[char]) -> bool {
    let Some(&first) = pattern.first() else {
        return name.is_empty();
    };
    match first {
        '*' => (0..=name.len()).any(|skip| matches(&pattern[1..], &name[skip..])),
        '?' => !name.is_empty() && matches(&pattern[1..], &name[1..]),
        '[' => match (name.first(), class(pattern, 0, name.first().copied())) {
            (Some(_), Ok((true, end))) => matches(&pattern[end..], &name[1..]),
            _ => false,
        },
        '\\' => match (pattern.get(1), name.first()) {
            (Some(p), Some(n)) if p == n => matches(&pattern[2..], &name[1..]),
            _ => false,
        },
        c => name.first() == Some(&c) && matches(&pattern[1..], &name[1..]),
    }
}

/// The class starting at `pattern[start]` (a `[`): whether `c` is in it,
/// and the index after its `]`.
fn class(pattern: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), Malformed> {
    let mut i = start + 1;
    let negated = pattern.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        match pattern.get(i) {
            None => return Err(Malformed),
            Some(']') if !first => return Ok((matched != negated, i + 1)),
            _ => {}
        }
        first = false;
        let (low, next) = class_char(pattern, i)?;
        i = next;
        let mut high = low;
        if pattern.get(i) == Some(&'-') && pattern.get(i + 1) != Some(&']') {
            let (h, next) = class_char(pattern, i + 1)?;
            high = h;
            i = next;
        }
        if c.is_some_and(|c| low <= c && c <= high) {
            matched = true;
        }
    }
}

fn class_char(pattern: &[char], i: usize) -> Result<(char, usize), Malformed> {
    match pattern.get(i) {
        Some('\\') => pattern.get(i + 1).map(|c| (*c, i + 2)).ok_or(Malformed),
        Some('-') | Some(']') | None => Err(Malformed),
        Some(c) => Ok((*c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_match_as_go_path_match_does() {
        for (pattern, name, want) in [
            ("*.css", "site.css", true),
            ("*.css", ".hidden.css", true),
            ("*.css", "site.js", false),
            ("a?c", "abc", true),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("[^a-c]x", "dx", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("static", "static", true),
        ] {
            assert_eq!(match_element(pattern, name), Ok(want), "{pattern} {name}");
        }
        assert!(match_element("[a-", "a").is_err());
        assert!(match_element("x\\", "x").is_err());
        assert!(match_element("[]", "a").is_err());
    }

    #[test]
    fn directories_take_their_files_as_go_does() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        for file in [
            "static/index.html",
            "static/css/site.css",
            "static/.hidden",
            "static/_draft.html",
            "static/.git/config",
            "static/other/go.mod",
            "static/other/x.txt",
            "templates/a.tmpl",
            "templates/b.txt",
            "README.md",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        let names =
            |pattern: &str| -> Vec<String> { files(&dir, pattern).unwrap().into_iter().collect() };
        assert_eq!(
            names("static"),
            ["static/css/site.css", "static/index.html"]
        );
        assert_eq!(
            names("all:static"),
            [
                "static/.hidden",
                "static/_draft.html",
                "static/css/site.css",
                "static/index.html"
            ]
        );
        assert_eq!(names("templates/*.tmpl"), ["templates/a.tmpl"]);
        assert_eq!(names("static/.hidden"), ["static/.hidden"]);
        assert_eq!(names("*/index.html"), ["static/index.html"]);
        assert!(names("missing").is_empty());
        assert_eq!(
            files(&dir, "../x"),
            Err(EmbedError::BadPattern("../x".into()))
        );
    }
}
