//! A golb.toml being written by `golb init` and `golb migrate`: tables of
//! keys, each with the comment that says what it does, rendered as TOML text
//! that `spec::Spec::parse` reads back (both commands check that before they
//! write anything).

use std::fmt::Write as _;

/// A spec to write: the `# syntax=` image, comment lines under it, then the
/// tables in order, then closing comment lines (what could not be mapped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draft {
    pub frontend: String,
    pub header: Vec<String>,
    pub tables: Vec<Table>,
    pub footer: Vec<String>,
}

/// `[name]` (or `[[name]]` when `array`), comment lines above it, its keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub array: bool,
    pub comments: Vec<String>,
    pub entries: Vec<Entry>,
}

/// `key = value   # comment`. A commented-out entry (`# key = value`) is a
/// suggestion for the reader, not part of the spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub comment: Option<String>,
    pub commented_out: bool,
}

/// The TOML values a spec uses.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    /// An array of strings.
    Strs(Vec<String>),
    /// An array of strings and numbers (ports: `[8080, "53/udp"]`).
    Mixed(Vec<Value>),
    /// An inline table of strings, in the order given.
    Map(Vec<(String, String)>),
}

impl Table {
    pub fn new(name: &str) -> Table {
        Table {
            name: name.to_string(),
            array: false,
            comments: Vec::new(),
            entries: Vec::new(),
        }
    }

    pub fn array(name: &str) -> Table {
        Table {
            array: true,
            ..Table::new(name)
        }
    }

    /// Adds `key = value`, with a comment when one is given.
    pub fn set(&mut self, key: &str, value: Value, comment: Option<String>) -> &mut Table {
        self.entries.push(Entry {
            key: key.to_string(),
            value,
            comment,
            commented_out: false,
        });
        self
    }

    /// Adds `# key = value`: a suggestion the reader may uncomment.
    pub fn suggest(&mut self, key: &str, value: Value, comment: Option<String>) -> &mut Table {
        self.entries.push(Entry {
            key: key.to_string(),
            value,
            comment,
            commented_out: true,
        });
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn has_value(&self) -> bool {
        self.entries.iter().any(|e| !e.commented_out)
    }
}

/// Past this width a comment goes on its own line above its key.
const WIDTH: usize = 100;

impl Draft {
    /// The table named `name` (the first, for arrays of tables), created at the end if missing.
    pub fn table(&mut self, name: &str) -> &mut Table {
        let at = match self.tables.iter().position(|t| t.name == name) {
            Some(at) => at,
            None => {
                self.tables.push(Table::new(name));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at]
    }

    /// The spec as TOML text, `# syntax=` on line 1.
    pub fn render(&self) -> String {
        let mut out = format!("# syntax={}\n", self.frontend);
        for line in &self.header {
            push_comment(&mut out, line);
        }
        for table in &self.tables {
            if table.entries.is_empty() && table.comments.is_empty() {
                continue;
            }
            out.push('\n');
            for line in &table.comments {
                push_comment(&mut out, line);
            }
            // A table with only suggestions stays a comment too: an empty
            // `[[binary]]` would be an error, an empty `[runtime]` is noise.
            let header = if table.array {
                format!("[[{}]]", table.name)
            } else {
                format!("[{}]", table.name)
            };
            if table.has_value() {
                out.push_str(&header);
                out.push('\n');
            } else if !table.entries.is_empty() {
                let _ = writeln!(out, "# {header}");
            }
            let width = table
                .entries
                .iter()
                .map(|e| entry_text(e).chars().count())
                .filter(|w| *w <= WIDTH / 2)
                .max()
                .unwrap_or(0);
            for entry in &table.entries {
                let text = entry_text(entry);
                match &entry.comment {
                    Some(comment) if text.chars().count() + comment.chars().count() + 4 > WIDTH => {
                        push_comment(&mut out, comment);
                        out.push_str(&text);
                    }
                    Some(comment) => {
                        let pad = width.saturating_sub(text.chars().count());
                        let _ = write!(out, "{text}{}  # {comment}", " ".repeat(pad));
                    }
                    None => out.push_str(&text),
                }
                out.push('\n');
            }
        }
        if !self.footer.is_empty() {
            out.push('\n');
            for line in &self.footer {
                push_comment(&mut out, line);
            }
        }
        out
    }
}

fn push_comment(out: &mut String, line: &str) {
    if line.is_empty() {
        out.push_str("#\n");
    } else {
        let _ = writeln!(out, "# {line}");
    }
}

fn entry_text(entry: &Entry) -> String {
    let prefix = if entry.commented_out { "# " } else { "" };
    format!("{prefix}{} = {}", key(&entry.key), value(&entry.value))
}

/// A TOML string: basic, with the escapes TOML defines.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A bare key when TOML allows one, else a quoted key.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        quote(name)
    }
}

fn value(value: &Value) -> String {
    match value {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Strs(items) => {
            let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Mixed(items) => {
            let items: Vec<String> = items.iter().map(self::value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(pairs) => {
            if pairs.is_empty() {
                return "{}".to_string();
            }
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), quote(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    #[test]
    fn renders_tables_with_aligned_comments_that_parse_back() {
        let mut draft = Draft {
            frontend: "example.com/golb:1".into(),
            header: vec!["Written by a test.".into()],
            ..Draft::default()
        };
        draft
            .table("builder")
            .set("go", Value::Str("1.26".into()), Some("from go.mod".into()));
        let mut binary = Table::array("binary");
        binary
            .set(
                "package",
                Value::Str("./cmd/server".into()),
                Some("main".into()),
            )
            .set(
                "ldflags",
                Value::Strs(vec!["-X main.version=${VERSION}".into()]),
                None,
            );
        draft.tables.push(binary);
        draft
            .table("runtime")
            .set(
                "env",
                Value::Map(vec![("LOG_FORMAT".into(), "json \"quoted\"".into())]),
                None,
            )
            .set(
                "labels",
                Value::Map(vec![("org.opencontainers.image.source".into(), "x".into())]),
                None,
            )
            .set(
                "expose",
                Value::Mixed(vec![Value::Int(8080), Value::Str("53/udp".into())]),
                None,
            )
            .suggest(
                "user",
                Value::Str("0".into()),
                Some("root: only if you must".into()),
            );
        draft.footer.push("not mapped: RUN apk add git".into());
        let text = draft.render();
        assert!(
            text.starts_with("# syntax=example.com/golb:1\n# Written by a test.\n"),
            "{text}"
        );
        assert!(
            text.contains("\n[builder]\ngo = \"1.26\"  # from go.mod\n"),
            "{text}"
        );
        assert!(
            text.contains("package = \"./cmd/server\"                  # main\n"),
            "comments line up:\n{text}"
        );
        assert!(text.contains("# user = \"0\""), "{text}");
        assert!(
            text.contains("\"org.opencontainers.image.source\" = \"x\""),
            "{text}"
        );
        let spec = Spec::parse("golb.toml", &text).unwrap();
        assert_eq!(spec.binaries[0].package.value, "./cmd/server");
        assert_eq!(spec.runtime.env["LOG_FORMAT"], "json \"quoted\"");
        assert_eq!(spec.runtime.expose.len(), 2);
        assert!(spec.runtime.user.is_none(), "a suggestion is a comment");
    }

    #[test]
    fn a_table_of_suggestions_only_is_a_comment_and_long_comments_go_above() {
        let mut draft = Draft {
            frontend: "golb".into(),
            ..Draft::default()
        };
        draft
            .table("runtime")
            .suggest("expose", Value::Mixed(vec![Value::Int(8080)]), None);
        draft.table("builder").set(
            "module",
            Value::Str("services/api".into()),
            Some("x".repeat(120)),
        );
        let text = draft.render();
        assert!(text.contains("# [runtime]\n# expose = [8080]\n"), "{text}");
        assert!(
            text.contains(&format!(
                "# {}\nmodule = \"services/api\"\n",
                "x".repeat(120)
            )),
            "{text}"
        );
        let spec = Spec::parse("golb.toml", &text).unwrap();
        assert_eq!(spec.builder.module_dir, "services/api");
        assert!(spec.runtime.location.is_none());
    }

    #[test]
    fn strings_with_escapes_round_trip() {
        for s in [
            "plain",
            "a\"b",
            "back\\slash",
            "tab\tnew\nline",
            "bell\u{7}",
            "ünï",
        ] {
            let text = format!("# syntax=x\n[args]\nA = {}\n", quote(s));
            let spec = Spec::parse("golb.toml", &text).unwrap();
            assert_eq!(spec.args["A"].value, s);
        }
    }
}
