//! Cache sources the client asked for (`--cache-from`). The frontend must pass them on with
//! each Solve, or they are silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::GatewayError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheImport {
    pub kind: String,
    pub attrs: BTreeMap<String, String>,
}

/// One entry of `cache-imports`, as Go's `controlapi.CacheOptionsEntry` marshals it.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "Type", alias = "type", default)]
    kind: String,
    #[serde(rename = "Attrs", alias = "attrs", default)]
    attrs: Option<BTreeMap<String, String>>,
}

/// Parse the `cache-imports` option (JSON `[{"Type":"registry","Attrs":{...}}]`) and legacy `cache-from`
/// (comma list of refs → type registry, attr ref). Both may be present; imports come first.
pub fn parse_cache_imports(
    opts: &BTreeMap<String, String>,
) -> Result<Vec<CacheImport>, GatewayError> {
    let mut out = Vec::new();
    if let Some(json) = opts.get("cache-imports").filter(|s| !s.trim().is_empty()) {
        let entries: Vec<Option<Entry>> =
            serde_json::from_str(json).map_err(|e| GatewayError::Opt {
                key: "cache-imports".to_string(),
                message: format!("invalid JSON: {e}"),
            })?;
        out.extend(entries.into_iter().flatten().map(|e| CacheImport {
            kind: e.kind,
            attrs: e.attrs.unwrap_or_default(),
        }));
    }
    if let Some(list) = opts.get("cache-from") {
        for r in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            out.push(CacheImport {
                kind: "registry".to_string(),
                attrs: BTreeMap::from([("ref".to_string(), r.to_string())]),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_json_and_legacy_lists() {
        let got = parse_cache_imports(&opts(&[
            (
                "cache-imports",
                r#"[{"Type":"registry","Attrs":{"ref":"r.example/app:cache","mode":"max"}},{"Type":"gha"}]"#,
            ),
            ("cache-from", "r.example/a:c, r.example/b:c"),
        ]))
        .expect("valid");
        let kinds: Vec<&str> = got.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["registry", "gha", "registry", "registry"]);
        assert_eq!(got[0].attrs.get("mode").map(String::as_str), Some("max"));
        assert!(got[1].attrs.is_empty());
        assert_eq!(
            got[3].attrs.get("ref").map(String::as_str),
            Some("r.example/b:c")
        );
    }

    #[test]
    fn nothing_set_is_empty_and_bad_json_names_the_option() {
        assert!(parse_cache_imports(&opts(&[])).expect("empty").is_empty());
        let err = parse_cache_imports(&opts(&[("cache-imports", "{")])).expect_err("bad");
        assert!(err.to_string().contains("cache-imports"), "{err}");
    }
}
