//! Go's build info, as the linker embeds it in `.go.buildinfo` (Go ≥ 1.18)
//! and `go version -m` prints it: the Go release, the main package and
//! module, every linked module with its version, go.sum hash and
//! replacement, and the build settings (flags, GOOS/GOARCH, …).
//!
//! The layout (Go's `debug/buildinfo`): a 32-byte header starting with the
//! magic `\xff Go buildinf:`, whose flags byte says the strings follow inline;
//! then two varint-length-prefixed strings, the Go version and the module
//! info. The module info is `runtime/debug.BuildInfo.String()` framed by two
//! 16-byte sentinels; its lines are parsed as `debug.ParseBuildInfo` does.

use std::fmt;

use super::elf::{ElfError, Executable};

/// The section the Go linker writes the build info to on ELF.
pub const SECTION: &str = ".go.buildinfo";
const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_SIZE: usize = 32;
const FLAGS_OFFSET: usize = 15;
/// Flags bit: the strings follow the header (Go ≥ 1.18), not pointers.
const FLAG_INLINE_STRINGS: u8 = 0x2;
/// `cmd/go/internal/modload`'s infoStart/infoEnd sentinels are 16 bytes each.
const SENTINEL_LEN: usize = 16;

/// What `go version -m` shows for a binary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The Go release that built it, e.g. "go1.26.8".
    pub go_version: String,
    /// The main package's import path, e.g. "example.com/hello/cmd/server".
    pub path: String,
    /// The main module; None for a binary built outside module mode.
    pub main: Option<Module>,
    /// Every other module linked in, in the order Go lists them (by path).
    pub deps: Vec<Module>,
    /// `build` lines: -buildmode, -compiler, -ldflags, -tags, CGO_ENABLED,
    /// GOOS, GOARCH, GOAMD64, vcs.*, … in Go's order.
    pub settings: Vec<BuildSetting>,
}

/// A module as the build info records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    /// "v1.2.3", or "(devel)" for the main module and local replacements.
    pub version: String,
    /// The go.sum hash ("h1:…"); None for the main module, for modules
    /// replaced by a local directory and for -mod=vendor builds.
    pub sum: Option<String>,
    /// What replaced it (`=>` line): another module, or a directory with
    /// version "(devel)".
    pub replace: Option<Box<Module>>,
}

/// One `build` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildSetting {
    pub key: String,
    pub value: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildInfoError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("no {SECTION} section: not a Go binary")]
    NoSection,
    #[error("{SECTION} does not start with Go's build info header")]
    NoMagic,
    #[error(
        "the build info is in the pointer format of Go before 1.18; golb reads Go 1.18 and later"
    )]
    PointerFormat,
    #[error("{SECTION} ends inside the {0}")]
    Truncated(&'static str),
    #[error("the module info in {SECTION} is not valid UTF-8")]
    NotUtf8,
    #[error("module info line {line}: {message}")]
    Line { line: usize, message: String },
}

impl BuildInfo {
    /// Reads the build info of an ELF Go binary.
    pub fn read(binary: &[u8]) -> Result<BuildInfo, BuildInfoError> {
        let exe = Executable::parse(binary)?;
        let section = exe.section(SECTION)?.ok_or(BuildInfoError::NoSection)?;
        BuildInfo::from_section(section.data)
    }

    /// Decodes the contents of a `.go.buildinfo` section.
    pub fn from_section(data: &[u8]) -> Result<BuildInfo, BuildInfoError> {
        if !data.starts_with(MAGIC) {
            return Err(BuildInfoError::NoMagic);
        }
        let header = data
            .get(..HEADER_SIZE)
            .ok_or(BuildInfoError::Truncated("header"))?;
        if header[FLAGS_OFFSET] & FLAG_INLINE_STRINGS == 0 {
            return Err(BuildInfoError::PointerFormat);
        }
        let rest = &data[HEADER_SIZE..];
        let (version, rest) = length_prefixed(rest, "Go version")?;
        let (modinfo, _) = length_prefixed(rest, "module info")?;
        let go_version = std::str::from_utf8(version)
            .map_err(|_| BuildInfoError::NotUtf8)?
            .to_string();
        let modinfo = std::str::from_utf8(unframe(modinfo)).map_err(|_| BuildInfoError::NotUtf8)?;
        let mut info = parse_modinfo(modinfo)?;
        info.go_version = go_version;
        Ok(info)
    }

    /// The value of build setting `key`, e.g. "GOARCH" or "-ldflags".
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }
}

/// A uvarint length and that many bytes; the rest after them.
fn length_prefixed<'a>(
    data: &'a [u8],
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), BuildInfoError> {
    let mut len: u64 = 0;
    for (i, byte) in data.iter().enumerate().take(10) {
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let rest = &data[i + 1..];
            let len = usize::try_from(len).map_err(|_| BuildInfoError::Truncated(what))?;
            return match (rest.get(..len), rest.get(len..)) {
                (Some(value), Some(rest)) => Ok((value, rest)),
                _ => Err(BuildInfoError::Truncated(what)),
            };
        }
    }
    Err(BuildInfoError::Truncated(what))
}

/// The module info without its sentinels; empty when it has none (a binary
/// built outside module mode), as `debug/buildinfo` does.
fn unframe(modinfo: &[u8]) -> &[u8] {
    let len = modinfo.len();
    if len > 2 * SENTINEL_LEN && modinfo[len - SENTINEL_LEN - 1] == b'\n' {
        &modinfo[SENTINEL_LEN..len - SENTINEL_LEN]
    } else {
        &[]
    }
}

/// `runtime/debug.ParseBuildInfo`: tab-separated lines, each ending in '\n'
/// (a last line without one is ignored, as Go ignores it).
fn parse_modinfo(text: &str) -> Result<BuildInfo, BuildInfoError> {
    let mut info = BuildInfo::default();
    // Which module a `=>` line replaces: the last `mod`/`dep`, once.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    let lines = text
        .split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'));
    for (index, line) in lines.enumerate() {
        let fail = |message: String| BuildInfoError::Line {
            line: index + 1,
            message,
        };
        if let Some(path) = line.strip_prefix("path\t") {
            info.path = path.to_string();
        } else if let Some(rest) = line.strip_prefix("mod\t") {
            info.main = Some(module_line(rest).map_err(fail)?);
            last = Last::Main;
        } else if let Some(rest) = line.strip_prefix("dep\t") {
            info.deps.push(module_line(rest).map_err(fail)?);
            last = Last::Dep;
        } else if let Some(rest) = line.strip_prefix("=>\t") {
            let fields: Vec<&str> = rest.split('\t').collect();
            let [path, version, sum] = fields[..] else {
                return Err(fail(format!(
                    "expected 3 columns for a replacement, got {}",
                    fields.len()
                )));
            };
            let replaced = match last {
                Last::Main => info.main.as_mut(),
                Last::Dep => info.deps.last_mut(),
                Last::None => None,
            }
            .ok_or_else(|| fail("a replacement with no module on the line before".into()))?;
            replaced.replace = Some(Box::new(Module {
                path: path.to_string(),
                version: version.to_string(),
                sum: (!sum.is_empty()).then(|| sum.to_string()),
                replace: None,
            }));
            last = Last::None;
        } else if let Some(rest) = line.strip_prefix("build\t") {
            info.settings.push(build_line(rest).map_err(fail)?);
        }
        // Other lines (a "go" line, future kinds) are skipped, as Go skips them.
    }
    Ok(info)
}

fn module_line(rest: &str) -> Result<Module, String> {
    let fields: Vec<&str> = rest.split('\t').collect();
    let (path, version, sum) = match fields[..] {
        [path, version] => (path, version, ""),
        [path, version, sum] => (path, version, sum),
        _ => return Err(format!("expected 2 or 3 columns, got {}", fields.len())),
    };
    Ok(Module {
        path: path.to_string(),
        version: version.to_string(),
        sum: (!sum.is_empty()).then(|| sum.to_string()),
        replace: None,
    })
}

/// `key=value`, either side possibly Go-quoted.
fn build_line(kv: &str) -> Result<BuildSetting, String> {
    let (key, raw_value) = match kv.chars().next() {
        None => return Err("a build line without '='".into()),
        Some('=') => return Err("a build line without a key".into()),
        Some('"' | '`') => {
            let (key, rest) =
                unquote_prefix(kv).ok_or_else(|| "an invalid quoted key".to_string())?;
            let value = rest
                .strip_prefix('=')
                .ok_or_else(|| "no '=' after the quoted key".to_string())?;
            (key, value)
        }
        Some(_) => {
            let (key, value) = kv
                .split_once('=')
                .ok_or_else(|| "no '=' after the key".to_string())?;
            if needs_quotes_key(key) {
                return Err(format!("the key {key:?} must be quoted"));
            }
            (key.to_string(), value)
        }
    };
    let value = match raw_value.chars().next() {
        Some('"' | '`') => match unquote_prefix(raw_value) {
            Some((value, "")) => value,
            _ => return Err("an invalid quoted value".into()),
        },
        _ if needs_quotes_value(raw_value) => {
            return Err(format!("the value {raw_value:?} must be quoted"))
        }
        _ => raw_value.to_string(),
    };
    Ok(BuildSetting {
        key,
        value: value.to_string(),
    })
}

/// `runtime/debug`'s quoteKey.
fn needs_quotes_key(key: &str) -> bool {
    key.is_empty() || key.contains(['=', ' ', '\t', '\r', '\n', '"', '`'])
}

/// `runtime/debug`'s quoteValue.
fn needs_quotes_value(value: &str) -> bool {
    value.contains([' ', '\t', '\r', '\n', '"', '`'])
}

/// Go's `strconv.QuotedPrefix` + `Unquote`: the quoted string at the start of
/// `s` (double-quoted with Go escapes, or a raw backquoted string), unquoted,
/// and what follows it.
fn unquote_prefix(s: &str) -> Option<(String, &str)> {
    if let Some(raw) = s.strip_prefix('`') {
        let end = raw.find('`')?;
        return Some((raw[..end].replace('\r', ""), &raw[end + 1..]));
    }
    let body = s.strip_prefix('"')?;
    let mut out: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let text = String::from_utf8(out).ok()?;
                return Some((text, &body[i + 1..]));
            }
            '\n' => return None,
            '\\' => {
                let (_, escape) = chars.next()?;
                let simple = match escape {
                    'a' => Some(b'\x07'),
                    'b' => Some(b'\x08'),
                    'f' => Some(b'\x0c'),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    'v' => Some(b'\x0b'),
                    '\\' => Some(b'\\'),
                    '"' => Some(b'"'),
                    _ => None,
                };
                if let Some(byte) = simple {
                    out.push(byte);
                    continue;
                }
                let mut digits = |n: usize, radix: u32| -> Option<u32> {
                    let text: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    if text.len() != n {
                        return None;
                    }
                    u32::from_str_radix(&text, radix).ok()
                };
                match escape {
                    'x' => out.push(u8::try_from(digits(2, 16)?).ok()?),
                    '0'..='7' => {
                        let rest = digits(2, 8)?;
                        let value = (escape.to_digit(8)? << 6) | rest;
                        out.push(u8::try_from(value).ok()?);
                    }
                    'u' => push_char(&mut out, char::from_u32(digits(4, 16)?)?),
                    'U' => push_char(&mut out, char::from_u32(digits(8, 16)?)?),
                    _ => return None,
                }
            }
            c => push_char(&mut out, c),
        }
    }
    None
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Go's `strconv.Quote` for the values build settings hold (text with
/// spaces, quotes, tabs): escapes, `\u` for other control characters.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for BuildSetting {
    /// `key=value` as a `build` line spells it, quoted where Go quotes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if needs_quotes_key(&self.key) {
            quote(&self.key)
        } else {
            self.key.clone()
        };
        let value = if needs_quotes_value(&self.value) {
            quote(&self.value)
        } else {
            self.value.clone()
        };
        write!(f, "{key}={value}")
    }
}

impl fmt::Display for BuildInfo {
    /// `runtime/debug.BuildInfo.String()` without the go line: the text
    /// `go version -m` prints below the file name, less its indentation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn module(f: &mut fmt::Formatter<'_>, word: &str, m: &Module) -> fmt::Result {
            write!(f, "{word}\t{}\t{}", m.path, m.version)?;
            match &m.replace {
                None => writeln!(f, "\t{}", m.sum.as_deref().unwrap_or("")),
                Some(replacement) => {
                    writeln!(f)?;
                    module(f, "=>", replacement)?;
                    // Go's String() ends the replaced module's line too,
                    // so `go version -m` shows an empty line after `=>`.
                    writeln!(f)
                }
            }
        }
        if !self.path.is_empty() {
            writeln!(f, "path\t{}", self.path)?;
        }
        if let Some(main) = &self.main {
            module(f, "mod", main)?;
        }
        for dep in &self.deps {
            module(f, "dep", dep)?;
        }
        for setting in &self.settings {
            writeln!(f, "build\t{setting}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::go_binary::test_binaries::test_binaries;

    /// `go version -m FILE`: the Go version and the indented lines below it.
    fn go_version_m(path: &std::path::Path) -> (String, String) {
        let out = std::process::Command::new("go")
            .args(["version", "-m"])
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        let version = first.rsplit_once(": ").unwrap().1.to_string();
        let body: String = rest
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix('\t').unwrap()))
            .collect();
        (version, body)
    }

    #[test]
    fn real_binaries_read_as_go_version_m_prints_them() {
        let bins = test_binaries();
        for path in [&bins.stripped, &bins.unstripped] {
            let info = BuildInfo::read(&std::fs::read(path).unwrap()).unwrap();
            let (version, body) = go_version_m(path);
            assert_eq!(info.go_version, version);
            assert_eq!(info.to_string(), body, "{}", path.display());
        }
    }

    #[test]
    fn typed_values_of_a_real_binary() {
        let bins = test_binaries();
        let info = BuildInfo::read(&std::fs::read(&bins.stripped).unwrap()).unwrap();
        assert!(info.go_version.starts_with("go1."));
        assert_eq!(info.path, "example.com/gbtest/cmd/tool");
        let main = info.main.as_ref().unwrap();
        assert_eq!(
            (main.path.as_str(), main.sum.as_deref()),
            ("example.com/gbtest", None)
        );
        let greeting = info
            .deps
            .iter()
            .find(|d| d.path == "golb.test/private/greeting")
            .unwrap();
        assert_eq!(greeting.version, "v1.0.0");
        assert_eq!(greeting.sum.as_deref(), Some(bins.greeting_sum.as_str()));
        let local = info
            .deps
            .iter()
            .find(|d| d.path == "example.com/localdep")
            .unwrap();
        let replacement = local.replace.as_deref().unwrap();
        assert_eq!(
            (
                replacement.path.as_str(),
                replacement.version.as_str(),
                replacement.sum.as_deref()
            ),
            ("./localdep", "(devel)", None)
        );
        assert_eq!(info.setting("CGO_ENABLED"), Some("0"));
        assert_eq!(info.setting("GOOS"), Some("linux"));
        assert_eq!(info.setting("-trimpath"), Some("true"));
        // Go leaves -ldflags out of the build info of a -trimpath build.
        assert_eq!(info.setting("-ldflags"), None);
        let full = BuildInfo::read(&std::fs::read(&bins.unstripped).unwrap()).unwrap();
        assert_eq!(full.setting("-trimpath"), None);
        // A value with spaces and quotes comes back unquoted.
        assert_eq!(
            full.setting("-ldflags"),
            Some("-X \"main.message=hello, world\"")
        );
        assert_eq!(full.deps, info.deps);
    }

    fn section(version: &[u8], modinfo: &[u8]) -> Vec<u8> {
        let mut data = MAGIC.to_vec();
        data.extend([8, FLAG_INLINE_STRINGS]);
        data.resize(HEADER_SIZE, 0);
        for s in [version, modinfo] {
            // A uvarint length: 7 bits a byte, high bit set on all but the last.
            let mut len = s.len();
            while len >= 0x80 {
                data.push(u8::try_from(len & 0x7f).unwrap() | 0x80);
                len >>= 7;
            }
            data.push(u8::try_from(len).unwrap());
            data.extend_from_slice(s);
        }
        data
    }

    fn framed(text: &str) -> Vec<u8> {
        let mut m = vec![b'0'; SENTINEL_LEN];
        m.extend_from_slice(text.as_bytes());
        m.extend(vec![b'1'; SENTINEL_LEN]);
        m
    }

    #[test]
    fn settings_with_quotes_and_replacements_parse() {
        let text = "path\tex.com/a\nmod\tex.com/a\t(devel)\t\ndep\tex.com/b\tv1.0.0\th1:x=\n=>\tex.com/c\tv2.0.0\th1:y=\nbuild\t\"odd key\"=`raw value`\nbuild\t-tags=a,b\n";
        let info = BuildInfo::from_section(&section(b"go1.22.1", &framed(text))).unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        let b = &info.deps[0];
        assert_eq!(b.replace.as_ref().unwrap().path, "ex.com/c");
        assert_eq!(info.setting("odd key"), Some("raw value"));
        assert_eq!(info.setting("-tags"), Some("a,b"));
        // Printing quotes again where Go would.
        assert!(info
            .to_string()
            .contains("build\t\"odd key\"=\"raw value\"\n"));
    }

    #[test]
    fn go_escapes_unquote() {
        assert_eq!(
            unquote_prefix(r#""a\tb\"c\\d\x41\101\u00e9" rest"#),
            Some(("a\tb\"c\\dAAé".to_string(), " rest"))
        );
        assert_eq!(unquote_prefix("`a\\b`x"), Some(("a\\b".to_string(), "x")));
        for bad in [r#""open"#, r#""\q""#, r#""\x4""#, "`open", r#""\xff""#] {
            assert_eq!(unquote_prefix(bad), None, "{bad}");
        }
        assert_eq!(quote("a \"b\"\t\u{1}"), r#""a \"b\"\t\u0001""#);
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        let good = section(b"go1.26.0", &framed("path\tx\nmod\tx\t(devel)\t\n"));
        assert!(BuildInfo::from_section(&good).is_ok());
        // Every truncation of a valid section is an error or a shorter parse, never a panic.
        for len in 0..good.len() {
            let _ = BuildInfo::from_section(&good[..len]);
        }
        let cases: Vec<(Vec<u8>, BuildInfoError)> = vec![
            (b"not a build info".to_vec(), BuildInfoError::NoMagic),
            (MAGIC.to_vec(), BuildInfoError::Truncated("header")),
            (
                {
                    let mut s = good.clone();
                    s[FLAGS_OFFSET] = 0;
                    s
                },
                BuildInfoError::PointerFormat,
            ),
            (
                good[..HEADER_SIZE + 3].to_vec(),
                BuildInfoError::Truncated("Go version"),
            ),
            (
                {
                    let mut s = good[..HEADER_SIZE].to_vec();
                    s.extend([0xff; 11]);
                    s
                },
                BuildInfoError::Truncated("Go version"),
            ),
            (
                section(b"go1", &framed("dep\tonly-path\n")),
                BuildInfoError::Line {
                    line: 1,
                    message: "expected 2 or 3 columns, got 1".into(),
                },
            ),
            (
                section(b"go1", &framed("=>\ta\tb\tc\n")),
                BuildInfoError::Line {
                    line: 1,
                    message: "a replacement with no module on the line before".into(),
                },
            ),
            (
                section(b"go1", &framed("build\tk=a b\n")),
                BuildInfoError::Line {
                    line: 1,
                    message: "the value \"a b\" must be quoted".into(),
                },
            ),
            (
                section(b"go1", &framed("build\tnoequals\n")),
                BuildInfoError::Line {
                    line: 1,
                    message: "no '=' after the key".into(),
                },
            ),
            (
                section(b"go1", &{
                    let mut m = framed("path\tx\n");
                    m[SENTINEL_LEN] = 0xff;
                    m
                }),
                BuildInfoError::NotUtf8,
            ),
            (section(&[0xc3], &framed("")), BuildInfoError::NotUtf8),
        ];
        for (data, want) in cases {
            assert_eq!(BuildInfo::from_section(&data), Err(want));
        }
        // Not a binary at all.
        assert!(matches!(
            BuildInfo::read(b"plain text"),
            Err(BuildInfoError::Elf(_))
        ));
    }

    #[test]
    fn modinfo_without_sentinels_is_no_module_info() {
        let info = BuildInfo::from_section(&section(b"go1.26.0", b"path\tx\n")).unwrap();
        assert_eq!(info.main, None);
        assert_eq!(info.path, "");
    }
}
