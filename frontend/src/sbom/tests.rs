use super::*;
use crate::go_binary::test_binaries::test_binaries;
use serde_json::Value;
use std::process::Command;

const DIGEST_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DIGEST_B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

struct Fixture {
    binaries: Vec<Binary>,
    files: Vec<AddedFile>,
    go_sum: GoSum,
    builder: ImageRef,
    runtime: ImageRef,
}

fn fixture() -> Fixture {
    let bins = test_binaries();
    let binaries = [
        (&bins.stripped, "/usr/local/bin/tool"),
        (&bins.unstripped, "/usr/local/bin/tool-debug"),
    ]
    .into_iter()
    .map(|(path, dest)| {
        let bytes = std::fs::read(path).unwrap();
        Binary {
            file: AddedFile::new(dest, &bytes),
            info: BuildInfo::read(&bytes).unwrap(),
        }
    })
    .collect();
    let mut go_sum = GoSum::default();
    let text = std::fs::read_to_string(bins.module_dir.join("go.sum")).unwrap();
    go_sum.add("go.sum", &text).unwrap();
    Fixture {
        binaries,
        files: vec![AddedFile::new("/etc/site/site.conf", b"listen = :8080\n")],
        go_sum,
        builder: ImageRef::parse(&format!("golang:1.26@{DIGEST_A}")).unwrap(),
        runtime: ImageRef::parse(&format!(
            "gcr.io/distroless/static-debian12:nonroot@{DIGEST_B}"
        ))
        .unwrap(),
    }
}

fn input<'a>(f: &'a Fixture, created: &'a str) -> SbomInput<'a> {
    SbomInput {
        name: "example.com/gbtest",
        platform: "linux/amd64",
        binaries: &f.binaries,
        files: &f.files,
        go_sum: &f.go_sum,
        builder: &f.builder,
        runtime: Some(&f.runtime),
        created,
    }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn package<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == id)
        .unwrap_or_else(|| panic!("no package {id}"))
}

fn related(doc: &Value, from: &str, kind: &str) -> Vec<String> {
    doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["spdxElementId"] == from && r["relationshipType"] == kind)
        .map(|r| r["relatedSpdxElement"].as_str().unwrap().to_string())
        .collect()
}

fn file_id(doc: &Value, name: &str) -> String {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fileName"] == name)
        .unwrap_or_else(|| panic!("no file {name}"))["SPDXID"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The modules `go version -m` lists for a binary, as `path version` of
/// what is linked (the replacement, for a module replaced by another one).
fn go_version_m_modules(path: &std::path::Path) -> BTreeSet<String> {
    let out = Command::new("go")
        .args(["version", "-m"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut modules = BTreeSet::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let fields: Vec<&str> = line.trim_start().split('\t').collect();
        match fields[..] {
            ["dep", path, version, ..] => {
                if let Some(m) = last.replace(format!("{path} {version}")) {
                    modules.insert(m);
                }
            }
            ["=>", path, version, ..] => {
                let original = last.take().unwrap();
                // A directory replacement keeps the required module's path.
                modules.insert(if version == "(devel)" {
                    format!("{} (local {path})", original.split(' ').next().unwrap())
                } else {
                    format!("{path} {version}")
                });
            }
            _ => {}
        }
    }
    modules.extend(last);
    modules
}

/// The modules the SBOM says a binary links, in the same notation.
fn sbom_modules(doc: &Value, file: &str) -> BTreeSet<String> {
    related(doc, file, "STATIC_LINK")
        .iter()
        .map(|id| package(doc, id))
        .filter(|p| p["name"] != "stdlib")
        .map(|p| match (&p["versionInfo"], p["comment"].as_str()) {
            (Value::String(v), _) => format!("{} {v}", p["name"].as_str().unwrap()),
            (_, Some(comment)) => format!(
                "{} (local {})",
                p["name"].as_str().unwrap(),
                comment.rsplit(' ').next().unwrap()
            ),
            _ => panic!("{p}"),
        })
        .collect()
}

#[test]
fn the_modules_of_each_binary_are_those_go_version_m_lists() {
    let f = fixture();
    let doc = json(&document(&input(&f, "1970-01-01T00:00:00Z")).unwrap());
    let bins = test_binaries();
    for (path, name) in [
        (&bins.stripped, "./usr/local/bin/tool"),
        (&bins.unstripped, "./usr/local/bin/tool-debug"),
    ] {
        let id = file_id(&doc, name);
        let want = go_version_m_modules(path);
        assert_eq!(want.len(), 2, "{want:?}");
        assert_eq!(sbom_modules(&doc, &id), want, "{name}");
        let main = related(&doc, &id, "GENERATED_FROM");
        assert_eq!(main.len(), 1);
        assert_eq!(package(&doc, &main[0])["name"], "example.com/gbtest");
        assert_eq!(related(&doc, BUILDER_ID, "BUILD_TOOL_OF").len(), 2);
    }
}

#[test]
fn modules_carry_purls_and_go_sum_hashes() {
    let f = fixture();
    let doc = json(&document(&input(&f, "1970-01-01T00:00:00Z")).unwrap());
    let bins = test_binaries();
    let id = file_id(&doc, "./usr/local/bin/tool");
    let greeting = related(&doc, &id, "STATIC_LINK")
        .into_iter()
        .map(|id| package(&doc, &id).clone())
        .find(|p| p["name"] == "golb.test/private/greeting")
        .unwrap();
    assert_eq!(
        greeting["externalRefs"][0]["referenceLocator"],
        "pkg:golang/golb.test/private/greeting@v1.0.0"
    );
    let h1 = bins.greeting_sum.strip_prefix("h1:").unwrap();
    let want = hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(h1)
            .unwrap(),
    );
    assert_eq!(greeting["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(greeting["checksums"][0]["checksumValue"], want);

    // The standard library at the release that built the binary.
    let go_version = String::from_utf8(
        Command::new("go")
            .args(["env", "GOVERSION"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let stdlib = related(&doc, &id, "STATIC_LINK")
        .into_iter()
        .map(|id| package(&doc, &id).clone())
        .find(|p| p["name"] == "stdlib")
        .unwrap();
    assert_eq!(stdlib["versionInfo"], go_version.trim());
    assert_eq!(
        stdlib["externalRefs"][0]["referenceLocator"],
        format!(
            "pkg:golang/stdlib@v{}",
            go_version.trim().trim_start_matches("go")
        )
    );
}

#[test]
fn images_by_digest_files_by_hash_and_build_settings() {
    let f = fixture();
    let doc = json(&document(&input(&f, "2024-01-01T00:00:00Z")).unwrap());
    let builder = package(&doc, BUILDER_ID);
    assert_eq!(builder["versionInfo"], DIGEST_A);
    assert_eq!(
        builder["externalRefs"][0]["referenceLocator"],
        format!(
            "pkg:oci/golang@sha256%3A{}?repository_url=docker.io/library/golang&tag=1.26",
            &DIGEST_A[7..]
        )
    );
    assert_eq!(related(&doc, ROOT_ID, "DESCENDANT_OF"), [RUNTIME_ID]);
    assert_eq!(
        package(&doc, RUNTIME_ID)["checksums"][0]["checksumValue"],
        DIGEST_B[7..]
    );

    // sha256sum, not our hashing, says what the binary's hash is.
    let out = Command::new("sha256sum")
        .arg(&test_binaries().stripped)
        .output()
        .unwrap();
    let sha256 = String::from_utf8(out.stdout).unwrap();
    let sha256 = sha256.split_whitespace().next().unwrap();
    let tool = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fileName"] == "./usr/local/bin/tool")
        .unwrap();
    assert_eq!(tool["checksums"][1]["checksumValue"], sha256);
    assert_eq!(tool["fileTypes"][0], "BINARY");
    let settings: Vec<&str> = tool["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["comment"].as_str().unwrap())
        .collect();
    for want in [
        "go build setting: CGO_ENABLED=0",
        "go build setting: -trimpath=true",
        "go build setting: GOOS=linux",
    ] {
        assert!(settings.contains(&want), "{want} not in {settings:?}");
    }
    assert!(tool["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["annotationDate"] == "2024-01-01T00:00:00Z"));

    let contained = related(&doc, ROOT_ID, "CONTAINS");
    assert_eq!(contained.len(), 3, "two binaries and site.conf");
    assert!(contained.contains(&file_id(&doc, "./etc/site/site.conf")));
    assert_eq!(related(&doc, DOCUMENT_ID, "DESCRIBES"), [ROOT_ID]);
    assert_eq!(package(&doc, ROOT_ID)["primaryPackagePurpose"], "CONTAINER");
}

#[test]
fn the_document_is_deterministic_and_its_namespace_follows_its_content() {
    let f = fixture();
    let first = document(&input(&f, "1970-01-01T00:00:00Z")).unwrap();
    let second = document(&input(&fixture(), "1970-01-01T00:00:00Z")).unwrap();
    assert_eq!(first, second);
    let namespace = |bytes: &[u8]| {
        json(bytes)["documentNamespace"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(namespace(&first)
        .starts_with("https://spdx.org/spdxdocs/golb/example.com-gbtest-linux-amd64-"));

    let mut changed = fixture();
    changed.files = vec![AddedFile::new("/etc/site/site.conf", b"listen = :9090\n")];
    let other = document(&input(&changed, "1970-01-01T00:00:00Z")).unwrap();
    assert_ne!(namespace(&first), namespace(&other));
    let later = document(&input(&f, "2024-01-01T00:00:00Z")).unwrap();
    assert_ne!(namespace(&first), namespace(&later));
}

#[test]
fn binaries_target_has_no_runtime_base() {
    let f = fixture();
    let mut input = input(&f, "1970-01-01T00:00:00Z");
    input.runtime = None;
    let doc = json(&document(&input).unwrap());
    assert!(related(&doc, ROOT_ID, "DESCENDANT_OF").is_empty());
    assert_eq!(
        package(&doc, ROOT_ID)["primaryPackagePurpose"],
        "APPLICATION"
    );
    assert!(doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["SPDXID"] != RUNTIME_ID));
}

#[test]
fn inconsistent_inputs_are_errors() {
    let f = fixture();
    // go.sum disagrees with the hash the binary recorded.
    let mut bad_sum = GoSum::default();
    bad_sum
        .add(
            "go.sum",
            "golb.test/private/greeting v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        )
        .unwrap();
    let mut i = input(&f, "1970-01-01T00:00:00Z");
    i.go_sum = &bad_sum;
    let err = document(&i).unwrap_err().to_string();
    assert!(
        err.contains("golb.test/private/greeting v1.0.0 was linked with hash h1:")
            && err.contains("but go.sum has h1:AAAA"),
        "{err}"
    );

    let unpinned = ImageRef::parse("golang:1.26").unwrap();
    let mut i = input(&f, "1970-01-01T00:00:00Z");
    i.builder = &unpinned;
    assert_eq!(
        document(&i).unwrap_err(),
        SbomError::NotPinned {
            role: "builder",
            reference: "docker.io/library/golang:1.26".into()
        }
    );

    let twice = vec![AddedFile::new("/usr/local/bin/tool", b"x")];
    let mut i = input(&f, "1970-01-01T00:00:00Z");
    i.files = &twice;
    assert_eq!(
        document(&i).unwrap_err(),
        SbomError::DuplicatePath("/usr/local/bin/tool".into())
    );

    let no_modules = vec![Binary {
        file: AddedFile::new("/usr/local/bin/gopath", b"x"),
        info: BuildInfo {
            go_version: "go1.26.0".into(),
            ..BuildInfo::default()
        },
    }];
    let mut i = input(&f, "1970-01-01T00:00:00Z");
    i.binaries = &no_modules;
    assert!(matches!(document(&i), Err(SbomError::NoModuleInfo { .. })));
}

#[test]
fn go_sum_fills_in_what_a_vendored_build_did_not_record() {
    let f = fixture();
    let mut vendored = f.binaries.clone();
    for binary in &mut vendored {
        for dep in &mut binary.info.deps {
            dep.sum = None;
        }
    }
    let mut i = input(&f, "1970-01-01T00:00:00Z");
    i.binaries = &vendored;
    let from_go_sum = json(&document(&i).unwrap());
    let recorded = json(&document(&input(&f, "1970-01-01T00:00:00Z")).unwrap());
    assert_eq!(from_go_sum["packages"], recorded["packages"]);
}

#[test]
fn spdx_ids_are_valid_and_distinct_where_keys_sanitize_alike() {
    let a = spdx_id("file", "/a_b");
    let b = spdx_id("file", "/a-b");
    assert_ne!(a, b);
    for id in [a, b] {
        assert!(id
            .strip_prefix("SPDXRef-")
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    }
}
