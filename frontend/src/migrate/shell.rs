//! Just enough POSIX shell for `golb migrate` to find `go build` in a
//! Dockerfile's shell-form RUN and to read ENV/LABEL key=value lists:
//! words with their quotes removed, commands split at `&&`, `||`, `;`,
//! `|`, `&` and newlines. Variables and command substitutions are kept as
//! written (`$VERSION`, `$(git rev-parse HEAD)`): golb decides what they
//! mean. Anything that needs a real shell to understand (if/for/case, a
//! heredoc) is reported as such, never guessed.

/// One simple command: its words, and whether the shell would have to do
/// more than run it (a pipe into it, redirections, command substitution).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellCommand {
    pub words: Vec<String>,
    pub has_substitution: bool,
    pub has_redirection: bool,
}

/// Control-flow keywords: a script with them is shell logic.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
];

/// Splits a shell script into simple commands. `escape` is the Dockerfile's
/// escape character for line continuations (`\` unless `# escape=` says otherwise).
pub fn commands(script: &str) -> Vec<ShellCommand> {
    let mut commands = Vec::new();
    let mut current = ShellCommand::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let finish_word = |word: &mut String, in_word: &mut bool, current: &mut ShellCommand| {
        if *in_word {
            current.words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    word.push(next);
                    in_word = true;
                }
                None => {}
            },
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&e @ ('"' | '\\' | '$' | '`')) => {
                                word.push(e);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        '$' if chars.peek() == Some(&'(') => {
                            current.has_substitution = true;
                            word.push('$');
                        }
                        '`' => {
                            current.has_substitution = true;
                            word.push('`');
                        }
                        q => word.push(q),
                    }
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                current.has_substitution = true;
                in_word = true;
                // Keep the whole substitution in the word, parentheses balanced.
                word.push('$');
                let mut depth = 0;
                for s in chars.by_ref() {
                    word.push(s);
                    match s {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                current.has_substitution = true;
                in_word = true;
                word.push('`');
                for s in chars.by_ref() {
                    word.push(s);
                    if s == '`' {
                        break;
                    }
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
                finish_word(&mut word, &mut in_word, &mut current);
                push(&mut commands, &mut current);
            }
            '&' | '|' | ';' | '\n' => {
                if (c == '&' || c == '|') && chars.peek() == Some(&c) {
                    chars.next();
                }
                finish_word(&mut word, &mut in_word, &mut current);
                push(&mut commands, &mut current);
            }
            '<' | '>' => {
                // `2>&1`: the digits before the operator name a descriptor, not an argument.
                if in_word && !word.is_empty() && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                finish_word(&mut word, &mut in_word, &mut current);
                current.has_redirection = true;
                // The target word is not part of the command's arguments.
                while chars.peek().is_some_and(|n| matches!(n, '>' | '&' | '<')) {
                    chars.next();
                }
                while chars.peek().is_some_and(|n| *n == ' ' || *n == '\t') {
                    chars.next();
                }
                while chars
                    .peek()
                    .is_some_and(|n| !n.is_whitespace() && !matches!(n, ';' | '&' | '|'))
                {
                    chars.next();
                }
            }
            c if c.is_whitespace() => finish_word(&mut word, &mut in_word, &mut current),
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut current);
    push(&mut commands, &mut current);
    commands
}

fn push(commands: &mut Vec<ShellCommand>, current: &mut ShellCommand) {
    if !current.words.is_empty() {
        commands.push(std::mem::take(current));
    } else {
        *current = ShellCommand::default();
    }
}

/// Whether a script uses shell control flow golb cannot follow.
pub fn has_logic(commands: &[ShellCommand]) -> bool {
    commands.iter().any(|c| {
        c.words
            .first()
            .is_some_and(|w| KEYWORDS.contains(&w.as_str()))
    })
}

/// `KEY=value KEY2="two words"` (ENV, LABEL, ARG) as pairs; the legacy
/// `ENV KEY value` form (one pair, the rest of the line is the value) too.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    let words: Vec<String> = commands(text).into_iter().flat_map(|c| c.words).collect();
    if words.first().is_some_and(|w| !w.contains('=')) {
        let key = words[0].clone();
        return vec![(key, words[1..].join(" "))];
    }
    words
        .into_iter()
        .filter_map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// A `$NAME`, `${NAME}`, `${NAME:-default}` or `${NAME:+alternative}` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// `${NAME:-default}`: used when NAME is unset or empty.
    pub fallback: Option<String>,
    /// `${NAME:+alternative}`: used when NAME is set and not empty, else "".
    pub alternative: Option<String>,
}

impl Variable {
    /// The reference's value when NAME has `value` (None: unset).
    pub fn resolve(&self, value: Option<&str>) -> String {
        match (value.filter(|v| !v.is_empty()), &self.alternative) {
            (Some(_), Some(alternative)) => alternative.clone(),
            (None, Some(_)) => String::new(),
            (Some(v), None) => v.to_string(),
            (None, None) => self.fallback.clone().unwrap_or_default(),
        }
    }
}

/// `text` with each variable reference replaced by what `with` returns for
/// it; `None` keeps the reference as written, as does a lone `$` or an
/// unterminated `${`.
pub fn substitute(text: &str, mut with: impl FnMut(&Variable) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let parsed = if let Some(inner) = after.strip_prefix('{') {
            inner.find('}').map(|end| {
                let body = &inner[..end];
                let (name, fallback, alternative) = if let Some((n, d)) = body.split_once(":-") {
                    (n, Some(d.to_string()), None)
                } else if let Some((n, a)) = body.split_once(":+") {
                    (n, None, Some(a.to_string()))
                } else {
                    (body, None, None)
                };
                (name.to_string(), fallback, alternative, end + 2)
            })
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let len = name.len();
            Some((name, None, None, len))
        };
        match parsed {
            Some((name, fallback, alternative, consumed)) if !name.is_empty() => {
                let variable = Variable {
                    name,
                    fallback,
                    alternative,
                };
                match with(&variable) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('$');
                        out.push_str(&after[..consumed]);
                    }
                }
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names of the variable references in a word, in order.
pub fn variables(word: &str) -> Vec<String> {
    let mut found = Vec::new();
    substitute(word, |v| {
        found.push(v.name.clone());
        None
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<Vec<String>> {
        commands(script).into_iter().map(|c| c.words).collect()
    }

    #[test]
    fn splits_commands_and_removes_quotes() {
        let script = "apk add --no-cache git && \\\n  CGO_ENABLED=0 go build -ldflags \"-s -w -X 'main.v=${VERSION}'\" -o /out/app ./cmd/app; echo 'done here' | tee log";
        assert_eq!(
            words(script),
            vec![
                vec!["apk", "add", "--no-cache", "git"],
                vec![
                    "CGO_ENABLED=0",
                    "go",
                    "build",
                    "-ldflags",
                    "-s -w -X 'main.v=${VERSION}'",
                    "-o",
                    "/out/app",
                    "./cmd/app"
                ],
                vec!["echo", "done here"],
                vec!["tee", "log"],
            ]
        );
    }

    #[test]
    fn substitutions_redirections_comments_and_logic_are_noticed() {
        let c = commands(
            "go build -ldflags \"-X main.commit=$(git rev-parse --short HEAD)\" . > /dev/null 2>&1",
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].has_substitution && c[0].has_redirection);
        assert_eq!(
            c[0].words[3],
            "-X main.commit=$(git rev-parse --short HEAD)"
        );
        assert_eq!(c[0].words.len(), 5, "{:?}", c[0].words);
        assert!(has_logic(&commands(
            "if [ -f go.sum ]; then go mod download; fi"
        )));
        assert!(!has_logic(&commands("go mod download")));
        assert_eq!(
            words("# just a comment\ngo version"),
            vec![vec!["go", "version"]]
        );
    }

    #[test]
    fn key_values_in_both_forms() {
        assert_eq!(
            key_values("A=1 B=\"two words\" C='x y' D=a\\ b"),
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two words".to_string()),
                ("C".to_string(), "x y".to_string()),
                ("D".to_string(), "a b".to_string()),
            ]
        );
        assert_eq!(
            key_values("LOG_FORMAT json text"),
            vec![("LOG_FORMAT".to_string(), "json text".to_string())]
        );
        assert_eq!(
            key_values("org.opencontainers.image.source=\"https://x\""),
            vec![(
                "org.opencontainers.image.source".to_string(),
                "https://x".to_string()
            )]
        );
    }

    #[test]
    fn finds_variables() {
        assert_eq!(
            variables("-X main.v=${VERSION} -X main.c=$COMMIT"),
            ["VERSION", "COMMIT"]
        );
        assert_eq!(variables("${A:-x}$B"), ["A", "B"]);
        assert!(variables("no vars, $ alone").is_empty());
        assert_eq!(
            substitute("a ${X} $Y ${Z:-z} ${open", |v| (v.name != "Y")
                .then(|| v.fallback.clone().unwrap_or_else(|| "x".into()))),
            "a x $Y z ${open"
        );
    }
}
