//! go.mod and go.work, line by line: every directive with its arguments and
//! the line it is on, blocks (`replace ( … )`) unrolled into one directive per
//! line. Syntax only; what a directive means is the caller's business.
//!
//! `go_module` reads the few facts the plan needs; the checks need line
//! numbers and `replace`/`use` directives, which it does not keep.

/// One directive: `replace a => ../a` on line 7 is verb "replace",
/// args ["a", "=>", "../a"], line 7. Inside a block the verb is the block's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub verb: String,
    pub args: Vec<String>,
    /// 1-based.
    pub line: u32,
}

/// Every directive in the file, in order. Lines that are not directives
/// (blank, comments, stray parentheses) are skipped; nothing fails.
pub fn parse(text: &str) -> Vec<Directive> {
    let mut directives = Vec::new();
    let mut block: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let words = words(line);
        match (block.as_ref(), words.as_slice()) {
            (_, []) => {}
            (Some(_), [close]) if close == ")" => block = None,
            (Some(verb), _) => directives.push(Directive {
                verb: verb.clone(),
                args: words,
                line: line_number,
            }),
            (None, [verb, open]) if open == "(" => block = Some(verb.clone()),
            (None, [verb, rest @ ..]) => directives.push(Directive {
                verb: verb.clone(),
                args: rest.to_vec(),
                line: line_number,
            }),
        }
    }
    directives
}

/// Whether a replacement (or `use`) path names a directory on disk rather
/// than a module: the rule of golang.org/x/mod/modfile.IsDirectoryPath.
pub fn is_directory_path(path: &str) -> bool {
    path == "."
        || path == ".."
        || path.starts_with("./")
        || path.starts_with("../")
        || path.starts_with('/')
}

/// The words of one line: `//` starts a comment, "…" and `…` are strings
/// (unquoted here), `(`, `)` and `=>` are words of their own.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if line[at..].starts_with("//") {
            break;
        } else if c == '(' || c == ')' {
            words.push(c.to_string());
            chars.next();
        } else if line[at..].starts_with("=>") {
            words.push("=>".to_string());
            chars.next();
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut word = String::new();
            while let Some((_, c2)) = chars.next() {
                match c2 {
                    _ if c2 == c => break,
                    // An escape in an interpreted string keeps the escaped character.
                    '\\' if c == '"' => word.extend(chars.next().map(|(_, e)| e)),
                    _ => word.push(c2),
                }
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&(at2, c2)) = chars.peek() {
                let rest = &line[at2..];
                if c2.is_whitespace()
                    || c2 == '('
                    || c2 == ')'
                    || c2 == '"'
                    || c2 == '`'
                    || rest.starts_with("//")
                    || rest.starts_with("=>")
                {
                    break;
                }
                word.push(c2);
                chars.next();
            }
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(verb: &str, args: &[&str], line: u32) -> Directive {
        Directive {
            verb: verb.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            line,
        }
    }

    #[test]
    fn reads_single_lines_and_blocks_with_their_lines() {
        let text = "// header\nmodule \"example.com/x\" // quoted\n\ngo 1.26.3\nreplace a.com/b v1.0.0 => ../b\nreplace (\n\tc.com/d => ./d // local\n\te.com/f=>`/abs/f`\n)\ntoolchain go1.27.0\n";
        assert_eq!(
            parse(text),
            vec![
                d("module", &["example.com/x"], 2),
                d("go", &["1.26.3"], 4),
                d("replace", &["a.com/b", "v1.0.0", "=>", "../b"], 5),
                d("replace", &["c.com/d", "=>", "./d"], 7),
                d("replace", &["e.com/f", "=>", "/abs/f"], 8),
                d("toolchain", &["go1.27.0"], 10),
            ]
        );
    }

    #[test]
    fn directory_paths_are_the_ones_go_treats_as_local() {
        for local in [".", "..", "./x", "../x", "/x"] {
            assert!(is_directory_path(local), "{local}");
        }
        for module in ["example.com/x", ".x", "x/.."] {
            assert!(!is_directory_path(module), "{module}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "(",
            ")",
            "replace (\n",
            "\"unterminated",
            "`",
            "=>=>",
            "a \\\"",
            "é(\"é",
            "replace (\n)\n)\n(",
        ] {
            let _ = parse(text);
        }
    }
}
