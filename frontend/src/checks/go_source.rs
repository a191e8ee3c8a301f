//! Just enough of a .go file for golb's checks: its `//go:build` line, its
//! package clause and its imports, each with its line. A scanner, not a
//! parser: it reads tokens up to the first declaration that is not an import
//! and stops quietly at anything it does not understand, because syntax
//! errors are the Go compiler's to report, not golb's.
//!
//! Also here: which files `go build` would compile for a golb build, from
//! the file name and the build constraint.

/// What the top of a .go file declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoFileHeader {
    /// The expression of the first `//go:build` line before the package clause.
    pub build_constraint: Option<String>,
    pub package: Option<Named>,
    pub imports: Vec<Import>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub path: String,
    /// The local name, `_` or `.` when the spec gives one.
    pub alias: Option<String>,
    pub line: u32,
}

/// Reads the header of a .go file. Never fails: what cannot be read is left out.
pub fn scan(text: &str) -> GoFileHeader {
    // The compiler ignores a byte order mark at the start; so does the scanner.
    let mut lexer = Lexer::new(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut header = GoFileHeader::default();
    match lexer.next_token() {
        Some(Token {
            kind: Kind::Ident(word),
            ..
        }) if word == "package" => {}
        _ => {
            header.build_constraint = lexer.build_constraint;
            return header;
        }
    }
    // The constraint only counts before the package clause, which has now begun.
    header.build_constraint = lexer.build_constraint.take();
    if let Some(Token {
        kind: Kind::Ident(name),
        line,
    }) = lexer.next_token()
    {
        header.package = Some(Named { name, line });
    }
    let mut token = lexer.next_token();
    loop {
        match token {
            Some(Token {
                kind: Kind::Punct(';'),
                ..
            }) => token = lexer.next_token(),
            Some(Token {
                kind: Kind::Ident(word),
                ..
            }) if word == "import" => {
                token = match lexer.next_token() {
                    Some(Token {
                        kind: Kind::Punct('('),
                        ..
                    }) => import_group(&mut lexer, &mut header.imports),
                    first => import_spec(&mut lexer, first, &mut header.imports),
                };
            }
            _ => return header,
        }
    }
}

/// The specs of `import ( … )`; returns the token after the closing parenthesis.
fn import_group(lexer: &mut Lexer<'_>, imports: &mut Vec<Import>) -> Option<Token> {
    let mut token = lexer.next_token();
    loop {
        match token {
            Some(Token {
                kind: Kind::Punct(';'),
                ..
            }) => token = lexer.next_token(),
            Some(Token {
                kind: Kind::Punct(')'),
                ..
            }) => return lexer.next_token(),
            other => {
                let before = imports.len();
                token = import_spec(lexer, other, imports);
                if imports.len() == before {
                    // Not an import spec: the group is malformed, stop reading it.
                    return None;
                }
            }
        }
    }
}

/// One `[name] "path"`, starting at `first`; returns the token after it.
fn import_spec(
    lexer: &mut Lexer<'_>,
    first: Option<Token>,
    imports: &mut Vec<Import>,
) -> Option<Token> {
    let (alias, path_token) = match first {
        Some(Token {
            kind: Kind::Ident(name),
            ..
        }) => (Some(name), lexer.next_token()),
        Some(Token {
            kind: Kind::Punct('.'),
            ..
        }) => (Some(".".to_string()), lexer.next_token()),
        other => (None, other),
    };
    match path_token {
        Some(Token {
            kind: Kind::Str(path),
            line,
        }) => {
            imports.push(Import { path, alias, line });
            lexer.next_token()
        }
        other => other,
    }
}

/// One `//go:embed` directive: its patterns (unquoted) and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedDirective {
    pub patterns: Vec<String>,
    pub line: u32,
}

/// The `//go:embed` directives of a .go file. Go only honours them as line
/// comments that start a line, so that is what is read; patterns are
/// separated by spaces and may be quoted ("…" or `…`).
pub fn embed_directives(text: &str) -> Vec<EmbedDirective> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("//go:embed") else {
            continue;
        };
        if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            continue;
        }
        let mut patterns = Vec::new();
        let mut chars = rest.trim().chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let mut pattern = String::new();
            if c == '"' || c == '`' {
                chars.next();
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    pattern.push(q);
                }
            } else {
                while let Some(&p) = chars.peek() {
                    if p.is_whitespace() {
                        break;
                    }
                    pattern.push(p);
                    chars.next();
                }
            }
            patterns.push(pattern);
        }
        found.push(EmbedDirective {
            patterns,
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        });
    }
    found
}

/// The package-level string variables of a .go file (`var version = "dev"`,
/// `var commit string`, `var ( … )`): the names `go build -ldflags "-X
/// pkg.name=value"` can set. Only variables declared on a line of their own
/// with type `string` or a string literal value count; anything else is
/// skipped quietly, as the rest of this scanner does.
pub fn string_vars(text: &str) -> Vec<Named> {
    let mut lexer = Lexer::new(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token() {
        tokens.push(token);
    }
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut at = 0;
    while at < tokens.len() {
        match &tokens[at].kind {
            Kind::Punct('{' | '(' | '[') => depth += 1,
            Kind::Punct('}' | ')' | ']') => depth = depth.saturating_sub(1),
            Kind::Ident(word) if word == "var" && depth == 0 => {
                let grouped = matches!(
                    tokens.get(at + 1),
                    Some(Token {
                        kind: Kind::Punct('('),
                        ..
                    })
                );
                let start = if grouped { at + 2 } else { at + 1 };
                let mut end = start;
                if grouped {
                    let mut inner = 0usize;
                    while end < tokens.len() {
                        match tokens[end].kind {
                            Kind::Punct('(' | '{' | '[') => inner += 1,
                            Kind::Punct(')' | '}' | ']') if inner == 0 => break,
                            Kind::Punct(')' | '}' | ']') => inner -= 1,
                            _ => {}
                        }
                        end += 1;
                    }
                } else {
                    let line = tokens.get(start).map_or(0, |t| t.line);
                    while end < tokens.len() && tokens[end].line == line {
                        end += 1;
                    }
                }
                // One spec per line: `a, b string`, `a = "x"`, `a string = "x"`.
                let body = &tokens[start.min(end)..end];
                let mut line_start = 0;
                while line_start < body.len() {
                    let line = body[line_start].line;
                    let line_end = body[line_start..]
                        .iter()
                        .position(|t| t.line != line)
                        .map_or(body.len(), |n| line_start + n);
                    string_var_spec(&body[line_start..line_end], &mut found);
                    line_start = line_end;
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    found
}

/// Every string literal of a .go file with its line, in order (for `golb
/// init`'s guess at the ports a service listens on).
pub fn string_literals(text: &str) -> Vec<(String, u32)> {
    let mut lexer = Lexer::new(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut found = Vec::new();
    while let Some(token) = lexer.next_token() {
        if let Kind::Str(value) = token.kind {
            found.push((value, token.line));
        }
    }
    found
}

/// One `name[, name…] [string] [= "literal"[, …]]` spec.
fn string_var_spec(tokens: &[Token], found: &mut Vec<Named>) {
    let mut names = Vec::new();
    let mut rest = tokens;
    while let [Token {
        kind: Kind::Ident(name),
        line,
    }, tail @ ..] = rest
    {
        names.push(Named {
            name: name.clone(),
            line: *line,
        });
        match tail {
            [Token {
                kind: Kind::Punct(','),
                ..
            }, after @ ..] => rest = after,
            _ => {
                rest = tail;
                break;
            }
        }
    }
    let is_string = match rest {
        [Token {
            kind: Kind::Ident(ty),
            ..
        }, ..] => ty == "string",
        [Token {
            kind: Kind::Punct('='),
            ..
        }, Token {
            kind: Kind::Str(_), ..
        }, ..] => true,
        _ => false,
    };
    if is_string {
        found.extend(names.into_iter().filter(|n| n.name != "_"));
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    kind: Kind,
    line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Ident(String),
    /// A string literal's value ("…" with escapes kept as written but unquoted, or `…`).
    Str(String),
    Punct(char),
    /// Numbers, rune literals: never part of a header.
    Other,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    /// Set by the first `//go:build` line comment, until a token is read.
    build_constraint: Option<String>,
    seen_token: bool,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            chars: text.chars().peekable(),
            line: 1,
            build_constraint: None,
            seen_token: false,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
        }
        Some(c)
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            let c = *self.chars.peek()?;
            let line = self.line;
            if c.is_whitespace() {
                // Go's automatic semicolons are not needed: the grammar read here
                // never depends on where a line ends.
                self.bump();
                continue;
            }
            self.bump();
            let kind = match c {
                '/' if self.chars.peek() == Some(&'/') => {
                    self.line_comment();
                    continue;
                }
                '/' if self.chars.peek() == Some(&'*') => {
                    self.bump();
                    self.block_comment();
                    continue;
                }
                '"' => Kind::Str(self.quoted('"')),
                '\'' => {
                    self.quoted('\'');
                    Kind::Other
                }
                '`' => Kind::Str(self.raw_string()),
                c if c.is_ascii_digit() => {
                    self.take_while(|c| c.is_alphanumeric() || c == '.' || c == '_');
                    Kind::Other
                }
                c if c.is_alphabetic() || c == '_' => {
                    let mut word = c.to_string();
                    word.push_str(&self.take_while(|c| c.is_alphanumeric() || c == '_'));
                    Kind::Ident(word)
                }
                c => Kind::Punct(c),
            };
            self.seen_token = true;
            return Some(Token { kind, line });
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut taken = String::new();
        while let Some(&c) = self.chars.peek() {
            if !keep(c) {
                break;
            }
            taken.push(c);
            self.bump();
        }
        taken
    }

    /// After the first '/': reads to the end of the line, noting a build constraint.
    fn line_comment(&mut self) {
        self.bump();
        let text = self.take_while(|c| c != '\n');
        if self.seen_token || self.build_constraint.is_some() {
            return;
        }
        if let Some(expr) = text.strip_prefix("go:build") {
            if expr.is_empty() || expr.starts_with([' ', '\t']) {
                self.build_constraint = Some(expr.trim().to_string());
            }
        }
    }

    fn block_comment(&mut self) {
        while let Some(c) = self.bump() {
            if c == '*' && self.chars.peek() == Some(&'/') {
                self.bump();
                return;
            }
        }
    }

    /// After the opening quote: the literal's text up to the closing quote
    /// or, if it is unterminated, the end of the line.
    fn quoted(&mut self, quote: char) -> String {
        let mut value = String::new();
        while let Some(&c) = self.chars.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
            if c == quote {
                break;
            }
            if c == '\\' {
                if let Some(&escaped) = self.chars.peek().filter(|&&e| e != '\n') {
                    value.push(escaped);
                    self.bump();
                }
                continue;
            }
            value.push(c);
        }
        value
    }

    fn raw_string(&mut self) -> String {
        let mut value = String::new();
        while let Some(c) = self.bump() {
            if c == '`' {
                break;
            }
            value.push(c);
        }
        value
    }
}

/// The OS golb builds for: its images are Linux containers, so files for
/// other systems (`_windows.go`, `//go:build darwin`) are never compiled.
const TARGET_OS: &str = "linux";

/// GOOS values `go/build` knows (`internal/syslist`), for file name suffixes and constraints.
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];
/// GOARCH values `go/build` knows. The architecture differs per target platform,
/// so a file for one is taken to be compiled.
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// Whether `go build` could compile this file in a golb build with `tags`:
/// not a test, not hidden (`_x.go`, `.x.go`), not for another OS by name or
/// by its `//go:build` line. `cgo` is false (golb sets CGO_ENABLED=0), as is
/// any tag golb does not set (`ignore`, `tools`); the architecture and
/// `go1.N` tags count as possibly true, so only files that can never be
/// compiled are left out. Legacy `// +build` lines are not read: gofmt has
/// written `//go:build` next to them since Go 1.17.
pub fn is_compiled(file_name: &str, header: &GoFileHeader, tags: &[String]) -> bool {
    is_compiled_for(file_name, header, tags, None)
}

/// [`is_compiled`] for one known GOARCH (`Some("amd64")`): a file for
/// another architecture, by its name or its `//go:build` line, is left out.
/// `golb init` knows the architecture a cgo build runs on (cgo cannot
/// cross-compile), so it need not keep the files of every one.
pub fn is_compiled_for(
    file_name: &str,
    header: &GoFileHeader,
    tags: &[String],
    arch: Option<&str>,
) -> bool {
    let Some(stem) = file_name.strip_suffix(".go") else {
        return false;
    };
    if stem.ends_with("_test") || stem.starts_with(['_', '.']) || !name_matches_os(stem) {
        return false;
    }
    if let Some(arch) = arch {
        if !name_matches_arch(stem, arch) {
            return false;
        }
    }
    match &header.build_constraint {
        Some(expr) => Constraint::new(expr, tags, arch).evaluate() != Truth::False,
        None => true,
    }
}

/// go/build's goodOSArchFile for the architecture: a `_GOARCH` or
/// `_GOOS_GOARCH` suffix must name `arch`.
fn name_matches_arch(stem: &str, arch: &str) -> bool {
    let Some(at) = stem.find('_') else {
        return true;
    };
    let parts: Vec<&str> = stem[at..].split('_').collect();
    match parts.last() {
        Some(last) if KNOWN_ARCH.contains(last) => *last == arch,
        _ => true,
    }
}

/// go/build's goodOSArchFile: only what follows the first '_' can name a GOOS/GOARCH.
pub fn name_matches_os(stem: &str) -> bool {
    let Some(at) = stem.find('_') else {
        return true;
    };
    let parts: Vec<&str> = stem[at..].split('_').collect();
    let n = parts.len();
    if n >= 2 && KNOWN_OS.contains(&parts[n - 2]) && KNOWN_ARCH.contains(&parts[n - 1]) {
        return parts[n - 2] == TARGET_OS;
    }
    match parts.last() {
        Some(last) if KNOWN_OS.contains(last) => *last == TARGET_OS,
        _ => true,
    }
}

/// Kleene's three-valued logic: a tag golb cannot decide (GOARCH) is Unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Truth {
    False,
    Unknown,
    True,
}

impl std::ops::Not for Truth {
    type Output = Truth;
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
            Truth::True => Truth::False,
        }
    }
}

/// A recursive-descent reader of a `//go:build` expression (`||`, `&&`, `!`,
/// parentheses, tags). Anything malformed, or nested deeper than a person
/// would write, is Unknown: the file is then kept, as the safe guess.
struct Constraint<'a> {
    tokens: Vec<String>,
    at: usize,
    tags: &'a [String],
    /// The GOARCH when known; otherwise every architecture tag is Unknown.
    arch: Option<&'a str>,
    depth: u32,
}

const MAX_DEPTH: u32 = 64;

impl<'a> Constraint<'a> {
    fn new(expr: &str, tags: &'a [String], arch: Option<&'a str>) -> Constraint<'a> {
        let mut tokens = Vec::new();
        let mut chars = expr.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '&' | '|' => {
                    if chars.peek() == Some(&c) {
                        chars.next();
                    }
                    tokens.push(format!("{c}{c}"));
                }
                '!' | '(' | ')' => tokens.push(c.to_string()),
                c => {
                    let mut word = c.to_string();
                    while let Some(&next) = chars.peek() {
                        if !(next.is_alphanumeric() || next == '_' || next == '.') {
                            break;
                        }
                        word.push(next);
                        chars.next();
                    }
                    tokens.push(word);
                }
            }
        }
        Constraint {
            tokens,
            at: 0,
            tags,
            arch,
            depth: 0,
        }
    }

    fn evaluate(mut self) -> Truth {
        match self.or() {
            Some(truth) if self.at == self.tokens.len() => truth,
            _ => Truth::Unknown,
        }
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn or(&mut self) -> Option<Truth> {
        let mut value = self.and()?;
        while self.peek() == Some("||") {
            self.at += 1;
            value = value.max(self.and()?);
        }
        Some(value)
    }

    fn and(&mut self) -> Option<Truth> {
        let mut value = self.not()?;
        while self.peek() == Some("&&") {
            self.at += 1;
            value = value.min(self.not()?);
        }
        Some(value)
    }

    fn not(&mut self) -> Option<Truth> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let value = match self.peek()? {
            "!" => {
                self.at += 1;
                !self.not()?
            }
            "(" => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(")") {
                    return None;
                }
                self.at += 1;
                inner
            }
            "||" | "&&" | ")" => return None,
            tag => {
                let truth = self.tag(tag);
                self.at += 1;
                truth
            }
        };
        self.depth -= 1;
        Some(value)
    }

    fn tag(&self, tag: &str) -> Truth {
        if self.tags.iter().any(|t| t == tag) || tag == TARGET_OS || tag == "unix" || tag == "gc" {
            Truth::True
        } else if let (Some(arch), true) = (self.arch, KNOWN_ARCH.contains(&tag)) {
            if tag == arch {
                Truth::True
            } else {
                Truth::False
            }
        } else if KNOWN_ARCH.contains(&tag) || tag.starts_with("go1.") {
            Truth::Unknown
        } else {
            Truth::False
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(path: &str, alias: Option<&str>, line: u32) -> Import {
        Import {
            path: path.to_string(),
            alias: alias.map(String::from),
            line,
        }
    }

    #[test]
    fn reads_single_grouped_aliased_and_raw_imports_with_lines() {
        let text = r#"// Copyright header
/* a block comment with import "fake" in it */

//go:build linux && !cgo

// Package main runs the server.
package main // trailing

import "fmt"
import (
	"os" // the OS
	str "strings"
	_ "embed"
	. "math"
	/* "commented/out" */
	`raw/path`
); import "C"

func main() { import_ := "x"; _ = import_ }
import "too/late"
"#;
        let header = scan(text);
        assert_eq!(header.build_constraint.as_deref(), Some("linux && !cgo"));
        assert_eq!(
            header.package,
            Some(Named {
                name: "main".into(),
                line: 7
            })
        );
        assert_eq!(
            header.imports,
            vec![
                import("fmt", None, 9),
                import("os", None, 11),
                import("strings", Some("str"), 12),
                import("embed", Some("_"), 13),
                import("math", Some("."), 14),
                import("raw/path", None, 16),
                import("C", None, 17),
            ]
        );
    }

    #[test]
    fn a_build_line_after_the_package_clause_or_in_a_block_comment_does_not_count() {
        assert_eq!(
            scan("package x\n//go:build ignore\n").build_constraint,
            None
        );
        assert_eq!(
            scan("/*\n//go:build ignore\n*/\npackage x\n").build_constraint,
            None
        );
        assert_eq!(scan("//go:buildignore\npackage x\n").build_constraint, None);
        assert_eq!(
            scan("//go:build ignore\n\npackage x\n")
                .build_constraint
                .as_deref(),
            Some("ignore")
        );
    }

    #[test]
    fn strings_and_runes_with_escapes_do_not_confuse_the_scanner() {
        let header = scan("package main\nimport (\n\t\"a\\\"b\"\n\t'x'\n\t\"c\"\n)\n");
        assert_eq!(
            header.imports,
            vec![import("a\"b", None, 3)],
            "a rune literal ends the group: malformed"
        );
    }

    #[test]
    fn decides_which_files_go_build_compiles() {
        let none: Vec<String> = vec![];
        let netgo = vec!["netgo".to_string()];
        let file = |constraint: Option<&str>| GoFileHeader {
            build_constraint: constraint.map(String::from),
            ..GoFileHeader::default()
        };
        assert!(is_compiled("main.go", &file(None), &none));
        assert!(!is_compiled("main_test.go", &file(None), &none));
        assert!(!is_compiled("_scratch.go", &file(None), &none));
        assert!(!is_compiled("README.md", &file(None), &none));
        assert!(!is_compiled("x_windows.go", &file(None), &none));
        assert!(!is_compiled("x_darwin_arm64.go", &file(None), &none));
        assert!(is_compiled("x_linux_arm64.go", &file(None), &none));
        assert!(is_compiled("x_arm64.go", &file(None), &none));
        assert!(
            is_compiled("windows.go", &file(None), &none),
            "a whole name is not a suffix"
        );
        assert!(!is_compiled("gen.go", &file(Some("ignore")), &none));
        assert!(!is_compiled("c.go", &file(Some("cgo")), &none));
        assert!(is_compiled("nocgo.go", &file(Some("!cgo")), &none));
        assert!(is_compiled(
            "arm.go",
            &file(Some("arm64 || (amd64 && !purego)")),
            &none
        ));
        assert!(!is_compiled("net.go", &file(Some("netgo")), &none));
        assert!(is_compiled("net.go", &file(Some("netgo")), &netgo));
        assert!(!is_compiled(
            "win.go",
            &file(Some("windows && amd64")),
            &none
        ));
        assert!(is_compiled("new.go", &file(Some("go1.26")), &none));
        assert!(
            is_compiled("broken.go", &file(Some("linux &&")), &none),
            "malformed: kept"
        );
    }

    #[test]
    fn a_known_architecture_leaves_out_the_files_of_the_others() {
        let file = |constraint: Option<&str>| GoFileHeader {
            build_constraint: constraint.map(String::from),
            ..GoFileHeader::default()
        };
        let cgo = vec!["cgo".to_string()];
        let amd64 = Some("amd64");
        assert!(is_compiled_for("x_amd64.go", &file(None), &cgo, amd64));
        assert!(is_compiled_for(
            "x_linux_amd64.go",
            &file(None),
            &cgo,
            amd64
        ));
        assert!(!is_compiled_for("x_arm64.go", &file(None), &cgo, amd64));
        assert!(!is_compiled_for(
            "x_linux_arm64.go",
            &file(None),
            &cgo,
            amd64
        ));
        assert!(!is_compiled_for(
            "x_darwin_amd64.go",
            &file(None),
            &cgo,
            amd64
        ));
        assert!(is_compiled_for(
            "c.go",
            &file(Some("cgo && amd64")),
            &cgo,
            amd64
        ));
        assert!(!is_compiled_for(
            "c.go",
            &file(Some("cgo && arm64")),
            &cgo,
            amd64
        ));
        assert!(!is_compiled_for("c.go", &file(Some("!cgo")), &cgo, amd64));
        assert!(!is_compiled_for(
            "c.go",
            &file(Some("darwin && cgo")),
            &cgo,
            amd64
        ));
        assert!(
            is_compiled_for("c.go", &file(Some("cgo && arm64")), &cgo, None),
            "without a known architecture every one may be built"
        );
    }

    #[test]
    fn reads_embed_directives_and_their_patterns() {
        let text = "package main\n\nimport _ \"embed\"\n\n//go:embed static templates/*.html\nvar files embed.FS\n\n\t//go:embed \"with space.txt\" `raw`\nvar x string\n// go:embed not-a-directive\n//go:embedded nope\n";
        assert_eq!(
            embed_directives(text),
            vec![
                EmbedDirective {
                    patterns: vec!["static".into(), "templates/*.html".into()],
                    line: 5
                },
                EmbedDirective {
                    patterns: vec!["with space.txt".into(), "raw".into()],
                    line: 8
                },
            ]
        );
    }

    #[test]
    fn finds_package_level_string_variables_the_linker_can_set() {
        let text = r#"package main

import "fmt"

var version = "dev"
var commit, date string
var count = 3
var (
	gitTag    string
	builtBy   = "unknown" // comment
	typed     string = "x"
	notString int
	fn        = func() string { return "" }
)

func main() {
	var local = "not package level"
	fmt.Println(local, "var inside = \"string\"")
}
"#;
        let names: Vec<(String, u32)> = string_vars(text)
            .into_iter()
            .map(|n| (n.name, n.line))
            .collect();
        assert_eq!(
            names,
            [
                ("version".to_string(), 5),
                ("commit".to_string(), 6),
                ("date".to_string(), 6),
                ("gitTag".to_string(), 9),
                ("builtBy".to_string(), 10),
                ("typed".to_string(), 11),
            ]
        );
        assert!(string_vars("package main\nvar (").is_empty());
        assert!(string_vars("var").is_empty());
    }

    #[test]
    fn mangled_input_never_panics() {
        let deep = "(".repeat(10_000);
        let inputs = [
            "",
            "package",
            "package main\nimport",
            "package main\nimport (",
            "package main\nimport (\"x",
            "package main\nimport `x",
            "package main\nimport . ",
            "/*",
            "//go:build",
            "\"\\",
            "'\\",
            "package é\nimport ( é \"ü\" )",
            "\u{feff}package main",
            "package main; import \"a\"; import \"b\"",
            &deep,
        ];
        for text in inputs {
            let header = scan(text);
            let _ = is_compiled("x.go", &header, &[]);
        }
        let _ = Constraint::new(&deep, &[], None).evaluate();
        let _ = Constraint::new(&"!".repeat(10_000), &[], None).evaluate();
        let _ = Constraint::new("&& || ) (", &[], None).evaluate();
    }
}
