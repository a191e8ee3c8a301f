use super::*;
use crate::checks::{Finding, FindingLocation, Severity, SourceSnapshot};
use serde_json::{json, Value};

fn spec_file(text: &str) -> SpecFile {
    SpecFile {
        name: "golb.toml".to_string(),
        text: text.to_string(),
    }
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.json).unwrap_or_else(|e| panic!("result.json is not JSON: {e}"))
}

fn text_of(reply: &Reply) -> String {
    String::from_utf8(reply.text.clone()).unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

const SPEC: &str = "# syntax=golb\n[builder]\ngo = \"1.26\"\n\n[[binary]]\npackage = \"./cmd/server\"\n\n[runtime]\nexpose = [8080]\n";

#[test]
fn metadata_uses_buildkits_keys() {
    let reply = lint(&LintInput {
        spec: &spec_file(SPEC),
        files: &SourceSnapshot::new(),
        findings: &[],
        build_error: None,
    });
    let metadata = reply.metadata();
    assert_eq!(
        metadata.keys().map(String::as_str).collect::<Vec<_>>(),
        ["result.json", "result.statuscode", "result.txt", "version"]
    );
    assert_eq!(metadata["result.statuscode"], b"0");
    assert_eq!(metadata["version"], b"1.0.0");
    assert!(!describe().metadata().contains_key("result.statuscode"));
}

/// subrequests.Request: `json:"name"`, `json:"version"`, `json:"type"`, `json:"description"`,
/// `json:"opts"`, `json:"inputs"`, `json:"metadata"`, `json:"refs"` (no omitempty);
/// Named: `json:"name"`, `json:"description"`.
#[test]
fn describe_lists_what_golb_answers_in_buildkits_shape() {
    let reply = describe();
    let value = json_of(&reply);
    let requests = value.as_array().unwrap();
    let names: Vec<&str> = requests
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [OUTLINE, TARGETS, LINT, DESCRIBE]);
    for request in requests {
        assert_eq!(
            keys(request),
            [
                "description",
                "inputs",
                "metadata",
                "name",
                "opts",
                "refs",
                "type",
                "version"
            ]
        );
        assert_eq!(
            (request["type"].as_str(), request["version"].as_str()),
            (Some("rpc"), Some("1.0.0"))
        );
        assert_eq!(request["inputs"], Value::Null);
    }
    assert_eq!(
        requests[0]["opts"],
        json!([{"name": "target", "description": "Target build stage"}])
    );
    assert_eq!(requests[1]["opts"], json!([]));
    assert_eq!(requests[3]["opts"], Value::Null);
    assert_eq!(
        requests[2]["metadata"],
        json!([
            {"name": "result.json", "description": ""},
            {"name": "result.txt", "description": ""},
            {"name": "result.statuscode", "description": ""},
        ])
    );
    let width = "subrequests.describe".len() + 1;
    let expected = format!(
        "{:<width$}VERSION DESCRIPTION\n{:<width$}1.0.0   List all parameters current build target supports\n\
         {:<width$}1.0.0   List all targets current build supports\n{:<width$}1.0.0   Check a golb spec and its Go module\n\
         subrequests.describe 1.0.0   List available subrequest types\n",
        "NAME", "outline", "targets", "lint"
    );
    assert_eq!(text_of(&reply), expected);
    assert_eq!(reply.status_code, None);
}

/// targets.List: `json:"targets"`, `json:"sources"`; targets.Target: `json:"name,omitempty"`,
/// `json:"default,omitempty"`, `json:"description,omitempty"`, `json:"base,omitempty"`,
/// `json:"platform,omitempty"`, `json:"location,omitempty"`; pb.Location: `json:"sourceIndex,omitempty"`,
/// `json:"ranges,omitempty"`; pb.Range `json:"start,omitempty"`, `json:"end,omitempty"`;
/// pb.Position `json:"line,omitempty"`, `json:"character,omitempty"`.
#[test]
fn targets_name_golbs_targets_with_the_default_marked() {
    let file = spec_file(SPEC);
    let spec = Spec::parse(&file.name, &file.text).unwrap();
    let reply = targets(&file, Some(&spec));
    let value = json_of(&reply);
    assert_eq!(keys(&value), ["sources", "targets"]);
    assert_eq!(value["sources"], json!([go_bytes(SPEC.as_bytes())]));
    let list = value["targets"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["image", "binaries", "test", "vet", "size", "vuln"]);
    let image = &list[0];
    assert_eq!(
        keys(image),
        ["base", "default", "description", "location", "name"]
    );
    assert_eq!(image["default"], true);
    assert_eq!(image["base"], DEFAULT_RUNTIME_BASE);
    // sourceIndex 0 is omitted, as Go's omitempty omits it.
    assert_eq!(
        image["location"],
        json!({"ranges": [{"start": {"line": 8, "character": 1}, "end": {"line": 8, "character": 9}}]})
    );
    assert_eq!(list[1]["base"], "scratch");
    assert_eq!(list[1]["location"]["ranges"][0]["start"]["line"], 5);
    assert!(list[1].get("default").is_none(), "false is omitted");
    assert_eq!(list[2]["base"], "golang:1.26");
    assert!(list[2].get("location").is_none());

    let text = text_of(&reply);
    let first_lines: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(first_lines[0], format!("{:<16}DESCRIPTION", "TARGET"));
    assert!(
        first_lines[1].starts_with("image (default) the runtime image"),
        "{text}"
    );
    assert!(
        first_lines[2].starts_with("binaries        only the binaries"),
        "{text}"
    );

    // An unreadable spec still lists the targets, without locations.
    let broken = targets(&spec_file("[[[\n"), None);
    let value = json_of(&broken);
    assert!(value["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("location").is_none()));
}

/// outline.Outline: `json:"name,omitempty"`, `json:"description,omitempty"`, `json:"args,omitempty"`,
/// `json:"secrets,omitempty"`, `json:"ssh,omitempty"`, `json:"cache,omitempty"`, `json:"sources,omitempty"`;
/// Arg: `json:"name"`, `json:"description,omitempty"`, `json:"value,omitempty"`, `json:"location,omitempty"`;
/// Secret/SSH: `json:"name"`, `json:"required,omitempty"`, `json:"location,omitempty"`; CacheMount: `json:"ID"`.
#[test]
fn outline_lists_build_args_secrets_and_ssh() {
    let file = spec_file(SPEC);
    let at = Location {
        line: 2,
        col: 1,
        end_line: 2,
        end_col: 7,
    };
    let extra = [BuildArg {
        name: "GOPROXY".into(),
        value: String::new(),
        description: "Module proxy".into(),
        location: Some(at),
    }];
    let secrets = [
        MountUse {
            id: "netrc".into(),
            required: true,
        },
        MountUse {
            id: "token".into(),
            required: false,
        },
    ];
    let ssh = [MountUse {
        id: "default".into(),
        required: true,
    }];
    let cache = ["golb/gomodcache".to_string()];
    let input = OutlineInput {
        spec: &file,
        target: Some("binaries"),
        extra_args: &extra,
        secrets: &secrets,
        ssh: &ssh,
        cache_ids: &cache,
    };
    let reply = outline(&input).unwrap();
    let value = json_of(&reply);
    assert_eq!(
        keys(&value),
        [
            "args",
            "cache",
            "description",
            "name",
            "secrets",
            "sources",
            "ssh"
        ]
    );
    assert_eq!(value["name"], "binaries");
    assert_eq!(
        value["args"][0],
        json!({"name": "SOURCE_DATE_EPOCH", "value": "0", "description": golb_build_args()[0].description})
    );
    assert_eq!(
        value["args"][1],
        json!({"name": "GOPROXY", "description": "Module proxy", "location": {"ranges": [{"start": {"line": 2, "character": 1}, "end": {"line": 2, "character": 7}}]}})
    );
    assert_eq!(
        value["secrets"],
        json!([{"name": "netrc", "required": true}, {"name": "token"}])
    );
    assert_eq!(value["ssh"], json!([{"name": "default", "required": true}]));
    assert_eq!(value["cache"], json!([{"ID": "golb/gomodcache"}]));
    assert_eq!(value["sources"], json!([go_bytes(SPEC.as_bytes())]));

    let text = text_of(&reply);
    let description = BuildTarget::ALL[1].2;
    let args_width = "SOURCE_DATE_EPOCH".len() + 3;
    let expected = format!(
        "TARGET:      binaries\nDESCRIPTION: {description}\n\n\
         {:<args_width$}VALUE   DESCRIPTION\n{:<args_width$}0       {}\n{:<args_width$}        Module proxy\n\n\
         SECRET   REQUIRED\nnetrc    true\ntoken    \n\n\
         SSH       REQUIRED\ndefault   true\n\n",
        "BUILD ARG", "SOURCE_DATE_EPOCH", golb_build_args()[0].description, "GOPROXY",
    );
    assert_eq!(text, expected);

    // An extra argument named like one of golb's replaces it in place.
    let epoch = [BuildArg {
        name: "SOURCE_DATE_EPOCH".into(),
        value: "1700000000".into(),
        description: "from the spec".into(),
        location: None,
    }];
    let replaced = OutlineInput {
        extra_args: &epoch,
        ..input
    };
    let args = json_of(&outline(&replaced).unwrap())["args"].clone();
    assert_eq!(
        args,
        json!([{"name": "SOURCE_DATE_EPOCH", "value": "1700000000", "description": "from the spec"}])
    );

    // No target means the default one; an unknown one is an error that names the choices.
    let default = OutlineInput {
        target: None,
        extra_args: &[],
        secrets: &[],
        ssh: &[],
        cache_ids: &[],
        ..input
    };
    assert_eq!(json_of(&outline(&default).unwrap())["name"], "image");
    let unknown = OutlineInput {
        target: Some("release"),
        ..default
    };
    let err = outline(&unknown).unwrap_err();
    assert!(
        err.to_string().contains("image, binaries, test, vet"),
        "{err}"
    );
}

fn finding(
    rule: &'static str,
    severity: Severity,
    message: &str,
    location: FindingLocation,
) -> Finding {
    Finding {
        rule,
        severity,
        message: message.to_string(),
        location,
    }
}

fn at_spec(line: u32, col: u32, end_col: u32) -> FindingLocation {
    FindingLocation::Spec(Location {
        line,
        col,
        end_line: line,
        end_col,
    })
}

/// lint.LintResults: `json:"warnings"`, `json:"sources"`, `json:"buildError,omitempty"`;
/// lint.Warning: `json:"ruleName"`, `json:"description,omitempty"`, `json:"url,omitempty"`,
/// `json:"detail,omitempty"`, `json:"location,omitempty"`; pb.SourceInfo: `json:"filename,omitempty"`,
/// `json:"data,omitempty"` ([]byte: base64), `json:"definition,omitempty"`, `json:"language,omitempty"`.
#[test]
fn lint_reports_findings_as_warnings_with_their_sources() {
    let file = spec_file(SPEC);
    let main_go = "package main\n\nimport \"C\"\n\nfunc main() {}\n";
    let files = SourceSnapshot::new()
        .with_file("cmd/server/main.go", main_go)
        .with_file("go.mod", "module x\n");
    let findings = vec![
        finding(
            "UnpinnedImage",
            Severity::Warning,
            "the builder image is a tag",
            at_spec(3, 6, 11),
        ),
        finding(
            "CgoImportWithCgoDisabled",
            Severity::Error,
            "main.go imports \"C\"",
            FindingLocation::File {
                path: "cmd/server/main.go".into(),
                line: 3,
            },
        ),
    ];
    let reply = lint(&LintInput {
        spec: &file,
        files: &files,
        findings: &findings,
        build_error: None,
    });
    assert_eq!(reply.status_code, Some(1), "an error fails the check");
    let value = json_of(&reply);
    assert_eq!(
        keys(&value),
        ["sources", "warnings"],
        "no buildError when the spec was checked"
    );
    assert_eq!(
        value["sources"],
        json!([
            {"filename": "golb.toml", "data": go_bytes(SPEC.as_bytes()), "language": "toml"},
            {"filename": "cmd/server/main.go", "data": go_bytes(main_go.as_bytes()), "language": "go"},
        ])
    );
    let warnings = value["warnings"].as_array().unwrap();
    assert_eq!(
        keys(&warnings[0]),
        ["description", "detail", "location", "ruleName"]
    );
    assert_eq!(warnings[0]["ruleName"], "UnpinnedImage");
    assert_eq!(
        warnings[0]["description"],
        crate::checks::UNPINNED_IMAGE.description
    );
    assert_eq!(warnings[0]["detail"], "the builder image is a tag");
    assert_eq!(
        warnings[0]["location"],
        json!({"ranges": [{"start": {"line": 3, "character": 6}, "end": {"line": 3, "character": 11}}]})
    );
    assert_eq!(warnings[1]["detail"], "error: main.go imports \"C\"");
    assert_eq!(
        warnings[1]["location"],
        json!({"sourceIndex": 1, "ranges": [{"start": {"line": 3}, "end": {"line": 3}}]})
    );

    // What BuildKit's PrintLintViolations writes: sorted by file name, each with its lines.
    let expected = "\nWARNING: CgoImportWithCgoDisabled\nerror: main.go imports \"C\"\ncmd/server/main.go:3\n--------------------\n   1 |     package main\n   2 |     \n   3 | >>> import \"C\"\n   4 |     \n   5 |     func main() {}\n--------------------\n\
                    \nWARNING: UnpinnedImage\nthe builder image is a tag\ngolb.toml:3\n--------------------\n   1 |     # syntax=golb\n   2 |     [builder]\n   3 | >>> go = \"1.26\"\n   4 |     \n   5 |     [[binary]]\n--------------------\n";
    assert_eq!(text_of(&reply), expected);

    // Warnings alone pass: golb warns about every tag-named image.
    let reply = lint(&LintInput {
        spec: &file,
        files: &files,
        findings: &findings[..1],
        build_error: None,
    });
    assert_eq!(reply.status_code, Some(0));
    let reply = lint(&LintInput {
        spec: &file,
        files: &files,
        findings: &[],
        build_error: None,
    });
    assert_eq!(
        (reply.status_code, json_of(&reply)["warnings"].clone()),
        (Some(0), json!([]))
    );
}

/// lint.BuildError: `json:"message"`, `json:"location"` (a pb.Location value, not omitted).
#[test]
fn a_spec_that_does_not_parse_is_the_build_error() {
    let text = "[builder]\ngoo = 1\n";
    let file = spec_file(text);
    let errors = Spec::parse(&file.name, text).unwrap_err();
    let reply = lint(&LintInput {
        spec: &file,
        files: &SourceSnapshot::new(),
        findings: &[],
        build_error: Some(BuildFailure::from(&errors)),
    });
    assert_eq!(reply.status_code, Some(1));
    let value = json_of(&reply);
    assert_eq!(keys(&value), ["buildError", "sources", "warnings"]);
    assert!(value["buildError"]["message"]
        .as_str()
        .unwrap()
        .starts_with("golb.toml:2:1: unknown field `goo`"));
    assert_eq!(
        value["buildError"]["location"]["ranges"][0]["start"]["line"],
        2
    );
    assert!(
        value["buildError"]["location"].get("sourceIndex").is_none(),
        "source 0 is the spec"
    );

    let no_go_mod = BuildFailure {
        message: "no go.mod".into(),
        locations: vec![],
    };
    let reply = lint(&LintInput {
        spec: &file,
        files: &SourceSnapshot::new(),
        findings: &[],
        build_error: Some(no_go_mod),
    });
    assert_eq!(
        json_of(&reply)["buildError"],
        json!({"message": "no go.mod", "location": {}})
    );
}
