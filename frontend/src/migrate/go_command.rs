//! A `go build` or `go install` command line as a Dockerfile runs it
//! (`CGO_ENABLED=0 GOOS=linux go build -ldflags "…" -o /out/app ./cmd/app`),
//! taken apart into what a `[[binary]]` can say and what it cannot.

/// What one `go build`/`go install` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoBuild {
    pub install: bool,
    /// Environment assignments before `go` (`CGO_ENABLED=0`).
    pub env: Vec<(String, String)>,
    /// Package arguments, as written ("./cmd/app", ".", "example.com/x/cmd/y").
    pub packages: Vec<String>,
    /// `-o`, as written.
    pub output: Option<String>,
    /// `-C dir`, as written.
    pub chdir: Option<String>,
    /// The `-ldflags` value, as written.
    pub ldflags: Option<String>,
    pub tags: Vec<String>,
    /// Flags golb always sets or decides itself, dropped: `-trimpath`, `-mod=vendor`…
    pub handled: Vec<String>,
    /// Flags a spec cannot express, with why.
    pub unmapped: Vec<(String, &'static str)>,
}

/// Flags of `go build` that take a value (the rest are booleans).
const VALUE_FLAGS: &[&str] = &[
    "o",
    "ldflags",
    "tags",
    "gcflags",
    "asmflags",
    "mod",
    "modfile",
    "p",
    "pkgdir",
    "buildmode",
    "compiler",
    "gccgoflags",
    "installsuffix",
    "overlay",
    "pgo",
    "toolexec",
    "C",
    "covermode",
    "coverpkg",
    "buildvcs",
];

/// Flags golb sets or decides for every build: dropped with a note.
const HANDLED: &[&str] = &[
    "trimpath",
    "mod",
    "buildvcs",
    "a",
    "v",
    "x",
    "n",
    "installsuffix",
    "p",
    "work",
    "modcacherw",
    "pkgdir",
];

/// The command's `go build`, if it is one: `go build …`, `/usr/local/go/bin/go
/// build …`, `env A=B go build …`.
pub fn parse(words: &[String]) -> Option<GoBuild> {
    let mut build = GoBuild::default();
    let mut at = 0;
    if words.first().is_some_and(|w| w == "env") {
        at = 1;
    }
    while let Some((key, value)) = words.get(at).and_then(|w| assignment(w)) {
        build.env.push((key, value));
        at += 1;
    }
    let program = words.get(at)?;
    if program != "go" && !program.ends_with("/go") {
        return None;
    }
    match words.get(at + 1).map(String::as_str) {
        Some("build") => {}
        Some("install") => build.install = true,
        _ => return None,
    }
    let mut rest = words[at + 2..].iter();
    while let Some(word) = rest.next() {
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            build.packages.push(word.clone());
            continue;
        };
        if flag.is_empty() {
            build.packages.extend(rest.by_ref().cloned());
            break;
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = if VALUE_FLAGS.contains(&name) && inline.is_none() && name != "buildvcs" {
            rest.next().cloned()
        } else {
            inline
        };
        match name {
            "o" => build.output = value,
            "C" => build.chdir = value,
            "ldflags" => build.ldflags = value,
            "tags" => {
                build.tags.extend(
                    value
                        .unwrap_or_default()
                        .split([',', ' '])
                        .filter(|t| !t.is_empty())
                        .map(String::from),
                );
            }
            n if HANDLED.contains(&n) => build.handled.push(word.clone()),
            "race" | "msan" | "asan" => build
                .unmapped
                .push((word.clone(), "needs cgo, and golb builds with CGO_ENABLED=0")),
            _ => build.unmapped.push((
                match value {
                    Some(v) if !word.contains('=') => format!("{word} {v}"),
                    _ => word.clone(),
                },
                "golb's [[binary]] has ldflags and tags only; golb sets the other build flags itself",
            )),
        }
    }
    Some(build)
}

/// `NAME=value` with a shell variable name.
fn assignment(word: &str) -> Option<(String, String)> {
    let (key, value) = word.split_once('=')?;
    let valid = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (key.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn takes_a_go_build_apart() {
        let mut w = words("CGO_ENABLED=0 GOOS=linux go build -trimpath -mod=vendor -a -tags netgo,osusergo -o /out/api");
        w.push("-ldflags".into());
        w.push("-s -w -X main.version=${VERSION}".into());
        w.push("./cmd/api".into());
        let b = parse(&w).unwrap();
        assert!(!b.install);
        assert_eq!(
            b.env,
            [
                ("CGO_ENABLED".into(), "0".into()),
                ("GOOS".into(), "linux".into())
            ]
        );
        assert_eq!(b.packages, ["./cmd/api"]);
        assert_eq!(b.output.as_deref(), Some("/out/api"));
        assert_eq!(
            b.ldflags.as_deref(),
            Some("-s -w -X main.version=${VERSION}")
        );
        assert_eq!(b.tags, ["netgo", "osusergo"]);
        assert_eq!(b.handled, ["-trimpath", "-mod=vendor", "-a"]);
        assert!(b.unmapped.is_empty());
    }

    #[test]
    fn knows_what_it_cannot_map_and_what_is_not_a_build() {
        let b = parse(&words("go install -race -gcflags all=-N ./cmd/x")).unwrap();
        assert!(b.install);
        assert_eq!(b.unmapped.len(), 2, "{:?}", b.unmapped);
        assert_eq!(b.unmapped[1].0, "-gcflags all=-N");
        assert_eq!(b.packages, ["./cmd/x"]);
        assert!(parse(&words("go mod download")).is_none());
        assert!(parse(&words("make build")).is_none());
        assert!(parse(&words("env CGO_ENABLED=0 /usr/local/go/bin/go build .")).is_some());
        assert_eq!(
            parse(&words("go build -o=bin/ -- ./a ./b"))
                .unwrap()
                .packages,
            ["./a", "./b"]
        );
    }
}
