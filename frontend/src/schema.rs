//! golb.toml's JSON Schema, generated from the spec's serde types
//! (`spec::raw`), so it cannot drift from what golb parses. It is committed
//! as docs/golb.schema.json for editors (Even Better TOML / taplo read it
//! through `.taplo.toml` or a `#:schema` line); a test fails when the
//! committed file is stale. Regenerate it with:
//!
//! ```sh
//! cargo run -q -p golb -- schema > docs/golb.schema.json
//! ```

use crate::spec::raw::RawSpec;

/// Where the committed schema lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "docs/golb.schema.json";

/// The schema as pretty JSON. Draft-07, the newest draft taplo and
/// SchemaStore's editors all read.
pub fn json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<RawSpec>();
    schema.insert("$id".into(), "https://golb.dev/golb.schema.json".into());
    let mut value = schema.to_value();
    without_null(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// TOML has no null: an optional key is one that may be absent. schemars
/// writes `Option<T>` as "T or null" (`anyOf` with `{"type": "null"}`, or
/// `"type": [T, "null"]`), which makes editors' messages about a wrong key
/// inside a table talk about `anyOf`; this writes plain T instead.
fn without_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(without_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            map.insert("type".into(), only);
        }
    }
    let is_null = |v: &Value| v.get("type") == Some(&Value::from("null"));
    if let Some(Value::Array(choices)) = map.get("anyOf") {
        if choices.len() == 2 && choices.iter().any(is_null) {
            if let Some(Value::Object(other)) = choices.iter().find(|c| !is_null(c)).cloned() {
                map.remove("anyOf");
                for (k, v) in other {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }
    map.values_mut().for_each(without_null);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path = repo_root().join(COMMITTED_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed.trim_end() == json().trim_end(),
            "{} is stale: regenerate it with `cargo run -q -p golb -- schema > {COMMITTED_PATH}`",
            path.display()
        );
    }

    fn validator() -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(&json()).unwrap();
        jsonschema::draft7::new(&schema).unwrap()
    }

    /// A TOML document as the JSON value editors validate.
    fn as_json(text: &str) -> serde_json::Value {
        let value: toml::Value = toml::from_str(text).unwrap();
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn every_example_spec_is_valid_against_the_schema() {
        let validator = validator();
        let mut checked = 0;
        for entry in std::fs::read_dir(repo_root().join("examples")).unwrap() {
            let path = entry.unwrap().path().join("golb.toml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let errors: Vec<String> = validator
                .iter_errors(&as_json(&text))
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
        assert!(checked >= 8, "only {checked} examples found");
    }

    #[test]
    fn the_schema_refuses_what_golb_refuses() {
        let validator = validator();
        let bad = [
            "[builder]\ngo_version = \"1.26\"\n",
            "[[binary]]\nname = \"x\"\n",
            "[runtime]\nexpose = [\"http\"]\n",
            "[runtime]\nexpose = [70000]\n",
            "[runtime]\nenv = { A = 1 }\n",
            "unknown = true\n",
            "[[file]]\nsrc = \"a\"\n",
        ];
        for text in bad {
            assert!(!validator.is_valid(&as_json(text)), "accepted:\n{text}");
            assert!(
                crate::spec::Spec::parse("golb.toml", text).is_err(),
                "golb accepts what the schema refuses:\n{text}"
            );
        }
        let good = "[[binary]]\npackage = \".\"\ntags = [\"netgo\"]\n[runtime]\nexpose = [8080, \"53/udp\"]\n[modules]\nssh = [\"github.com/acme\"]\n";
        assert!(validator.is_valid(&as_json(good)));
        assert!(crate::spec::Spec::parse("golb.toml", good).is_ok());
    }
}
