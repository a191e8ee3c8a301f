//! Build arguments and BuildKit options applied to a checked spec: the values
//! `--build-arg`, `--opt label:…` and buildx's VCS options override, and the
//! `${NAME}` templates in ldflags expanded. The result is still a `Spec`, so
//! the plan never looks at raw options.

use crate::spec::{template_names, Located, Location, Spec, BUILTIN_ARGS};
use std::collections::BTreeMap;

/// The value `${VERSION}` has when neither `--build-arg VERSION` nor `[args]` sets it.
pub const DEFAULT_VERSION: &str = "dev";
/// The value of `${VCS_REVISION}`/`${VCS_SOURCE}` when the client sends no VCS info.
pub const UNKNOWN_VCS: &str = "unknown";

/// The build args golb reads itself, with their defaults, for `--call outline`.
pub fn builtin_descriptions() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("VERSION", DEFAULT_VERSION, "${VERSION} in ldflags"),
        (
            "VCS_REVISION",
            UNKNOWN_VCS,
            "${VCS_REVISION} in ldflags; buildx sends the git commit",
        ),
        (
            "VCS_SOURCE",
            UNKNOWN_VCS,
            "${VCS_SOURCE} in ldflags; buildx sends the git remote",
        ),
        ("GO_VERSION", "", "overrides [builder] go"),
        ("BUILDER_IMAGE", "", "overrides [builder] image"),
        ("RUNTIME_BASE", "", crate::preset::BASE_DESCRIPTION),
        (
            "SIZE_BASELINE",
            "",
            "the image [runtime] max_growth compares with, e.g. the image built from main",
        ),
        ("GOPROXY", "", "overrides [modules] proxy"),
        ("GOPRIVATE", "", "overrides [modules] private"),
        ("GONOSUMDB", "", "overrides [modules] nosumdb"),
        ("GONOPROXY", "", "overrides [modules] noproxy"),
        ("GOFLAGS", "", "overrides [modules] flags"),
    ]
}

/// Build args BuildKit clients send on their own; golb neither uses nor reports them.
fn is_client_arg(name: &str) -> bool {
    name.starts_with("BUILDKIT_")
        || matches!(
            name.to_ascii_uppercase().as_str(),
            "HTTP_PROXY" | "HTTPS_PROXY" | "FTP_PROXY" | "NO_PROXY" | "ALL_PROXY"
        )
}

/// What applying the options did that the user should hear about.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Build args nothing in golb or the spec reads: reported as a warning.
    pub unused: Vec<String>,
}

/// Applies `build-arg:*`, `label:*` and `vcs:*` options to a spec.
pub fn apply(spec: &mut Spec, opts: &BTreeMap<String, String>) -> Applied {
    let build_args: BTreeMap<&str, &str> = opts
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("build-arg:").map(|n| (n, v.as_str())))
        .collect();
    let at_start = Location {
        line: 1,
        col: 1,
        end_line: 1,
        end_col: 1,
    };
    let from_arg = |value: &str, location: Option<Location>| Located {
        value: value.to_string(),
        location: location.unwrap_or(at_start),
    };

    if let Some(go) = build_args.get("GO_VERSION") {
        spec.builder.go = Some(from_arg(go, spec.builder.go.as_ref().map(|g| g.location)));
    }
    if let Some(image) = build_args.get("BUILDER_IMAGE") {
        spec.builder.image = Some(from_arg(
            image,
            spec.builder.image.as_ref().map(|i| i.location),
        ));
    }
    if let Some(base) = build_args.get("RUNTIME_BASE") {
        spec.runtime.base = Some(from_arg(
            base,
            spec.runtime.base.as_ref().map(|b| b.location),
        ));
    }
    if let Some(baseline) = build_args.get("SIZE_BASELINE").filter(|b| !b.is_empty()) {
        spec.runtime.size_baseline = Some(from_arg(
            baseline,
            spec.runtime.max_growth.as_ref().map(|g| g.location),
        ));
    }
    let modules = &mut spec.modules;
    for (arg, field) in [
        ("GOPROXY", &mut modules.proxy),
        ("GOPRIVATE", &mut modules.private),
        ("GONOSUMDB", &mut modules.nosumdb),
        ("GONOPROXY", &mut modules.noproxy),
        ("GOFLAGS", &mut modules.flags),
    ] {
        if let Some(value) = build_args.get(arg) {
            *field = Some(from_arg(value, field.as_ref().map(|f| f.location)));
        }
    }
    for (key, value) in opts {
        if let Some(label) = key.strip_prefix("label:") {
            spec.runtime.labels.insert(label.to_string(), value.clone());
        }
    }

    let values = template_values(spec, &build_args, opts);
    for binary in &mut spec.binaries {
        for flag in &mut binary.ldflags {
            flag.value = expand(&flag.value, &values);
        }
    }

    let mut unused: Vec<String> = build_args
        .keys()
        .filter(|name| {
            !is_client_arg(name) && !BUILTIN_ARGS.contains(name) && !spec.args.contains_key(**name)
        })
        .map(|name| name.to_string())
        .collect();
    unused.sort();
    Applied { unused }
}

/// The value of every name an ldflag may reference.
fn template_values(
    spec: &Spec,
    build_args: &BTreeMap<&str, &str>,
    opts: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let vcs = |key: &str| {
        opts.get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| UNKNOWN_VCS.to_string())
    };
    let mut values: BTreeMap<String, String> = BTreeMap::from([
        ("VERSION".to_string(), DEFAULT_VERSION.to_string()),
        ("VCS_REVISION".to_string(), vcs("vcs:revision")),
        ("VCS_SOURCE".to_string(), vcs("vcs:source")),
    ]);
    for (name, default) in &spec.args {
        values.insert(name.clone(), default.value.clone());
    }
    for (name, value) in build_args {
        values.insert(name.to_string(), value.to_string());
    }
    values
}

/// Replaces each `${NAME}` with its value; names were checked when the spec was parsed.
fn expand(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for name in template_names(text) {
        if let Some(value) = values.get(&name) {
            out = out.replace(&format!("${{{name}}}"), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::opts;

    const SPEC: &str = "[builder]\ngo = \"1.26\"\n[args]\nCHANNEL = \"stable\"\n[[binary]]\npackage = \"./cmd/x\"\nldflags = [\"-X main.version=${VERSION} -X main.rev=${VCS_REVISION} -X main.channel=${CHANNEL}\"]\n";

    #[test]
    fn ldflag_templates_take_defaults_without_options() {
        let mut spec = Spec::parse("golb.toml", SPEC).unwrap();
        apply(&mut spec, &BTreeMap::new());
        assert_eq!(
            spec.binaries[0].ldflags[0].value,
            "-X main.version=dev -X main.rev=unknown -X main.channel=stable"
        );
    }

    #[test]
    fn build_args_and_vcs_options_fill_templates_and_override_the_spec() {
        let mut spec = Spec::parse("golb.toml", SPEC).unwrap();
        let applied = apply(
            &mut spec,
            &opts(&[
                ("build-arg:VERSION", "1.2.3"),
                ("build-arg:CHANNEL", "beta"),
                ("vcs:revision", "abc123"),
                ("build-arg:GO_VERSION", "1.25"),
                ("build-arg:GOPROXY", "http://127.0.0.1:3000"),
                ("label:team", "payments"),
                ("build-arg:BUILDKIT_INLINE_CACHE", "1"),
                ("build-arg:TYPO", "x"),
            ]),
        );
        assert_eq!(
            spec.binaries[0].ldflags[0].value,
            "-X main.version=1.2.3 -X main.rev=abc123 -X main.channel=beta"
        );
        let go = spec.builder.go.unwrap();
        assert_eq!(
            (go.value.as_str(), go.location.line),
            ("1.25", 2),
            "overrides keep the spec's location"
        );
        assert_eq!(spec.modules.proxy.unwrap().value, "http://127.0.0.1:3000");
        assert_eq!(spec.runtime.labels["team"], "payments");
        assert_eq!(applied.unused, ["TYPO"]);
    }

    #[test]
    fn undeclared_template_names_are_spec_errors() {
        let text = "[[binary]]\npackage = \".\"\nldflags = [\"-X main.x=${NOPE}\"]\n";
        let errors = Spec::parse("golb.toml", text).unwrap_err();
        assert!(
            errors.to_string().starts_with("golb.toml:3:12:"),
            "{errors}"
        );
        assert!(
            errors.to_string().contains("declare it in [args]"),
            "{errors}"
        );
    }
}
