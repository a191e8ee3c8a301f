//! go.sum: the `h1:` hash of each module version's files (and of its go.mod
//! alone, on `/go.mod` lines), as `go mod download` verified them.

use std::collections::BTreeMap;

/// Module hashes from one or more go.sum files (a workspace has several).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoSum {
    /// (module path, version) → "h1:…" of the module's files.
    modules: BTreeMap<(String, String), String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoSumError {
    #[error("{file}:{line}: expected `<module> <version> <hash>`, got {text:?}")]
    Malformed {
        file: String,
        line: usize,
        text: String,
    },
    /// `module`: "<path> <version>"; `hashes`: (this file's, the other's).
    #[error("{file}:{line}: {module} has the hash {}, but another go.sum has {}", hashes.0, hashes.1)]
    Conflict {
        file: String,
        line: usize,
        module: String,
        hashes: Box<(String, String)>,
    },
}

impl GoSum {
    /// Adds the lines of the go.sum called `file` (for error messages).
    pub fn add(&mut self, file: &str, text: &str) -> Result<(), GoSumError> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [path, version, hash] = fields[..] else {
                return Err(GoSumError::Malformed {
                    file: file.to_string(),
                    line: index + 1,
                    text: raw.to_string(),
                });
            };
            // `<version>/go.mod` lines hash go.mod alone: not what is linked.
            if version.ends_with("/go.mod") {
                continue;
            }
            let key = (path.to_string(), version.to_string());
            if let Some(other) = self.modules.get(&key) {
                if other != hash {
                    return Err(GoSumError::Conflict {
                        file: file.to_string(),
                        line: index + 1,
                        module: format!("{path} {version}"),
                        hashes: Box::new((hash.to_string(), other.clone())),
                    });
                }
            }
            self.modules.insert(key, hash.to_string());
        }
        Ok(())
    }

    /// The `h1:` hash of a module version's files.
    pub fn hash(&self, path: &str, version: &str) -> Option<&str> {
        self.modules
            .get(&(path.to_string(), version.to_string()))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_hashes_are_kept_go_mod_hashes_skipped() {
        let mut sum = GoSum::default();
        sum.add(
            "go.sum",
            "golang.org/x/text v0.14.0 h1:abc=\ngolang.org/x/text v0.14.0/go.mod h1:def=\n\n",
        )
        .unwrap();
        assert_eq!(sum.hash("golang.org/x/text", "v0.14.0"), Some("h1:abc="));
        assert_eq!(sum.hash("golang.org/x/text", "v0.15.0"), None);
        // The same line in a second go.sum (a workspace member) is fine.
        sum.add("lib/go.sum", "golang.org/x/text v0.14.0 h1:abc=\n")
            .unwrap();
    }

    #[test]
    fn malformed_and_conflicting_lines_name_file_and_line() {
        let mut sum = GoSum::default();
        let err = sum.add("go.sum", "ok v1 h1:a=\nbroken line\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "go.sum:2: expected `<module> <version> <hash>`, got \"broken line\""
        );
        let err = sum.add("b/go.sum", "ok v1 h1:b=\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b/go.sum:1: ok v1 has the hash h1:b=, but another go.sum has h1:a="
        );
    }
}
