//! `testdata/source-mode.json` is what govulncheck v1.6.0 printed with
//! `-format json` in source mode, for a module that calls
//! golb.test/vuln/lib/called.Vulnerable and imports golb.test/vuln/lib/uncalled
//! without calling its Vulnerable, against a database listing both and
//! golb.test/vuln/lib/unimported (tests/tests/supply_chain.rs writes that
//! database and runs govulncheck itself).

use super::*;

const SOURCE_MODE: &[u8] = include_bytes!("testdata/source-mode.json");
const MODULE: &str = "example.com/vulnapp";

fn report() -> Report {
    Report::parse(SOURCE_MODE).unwrap()
}

#[test]
fn each_vulnerability_counts_at_its_most_precise_level() {
    let r = report();
    let levels: Vec<(&str, Level)> = r
        .vulnerabilities
        .values()
        .map(|v| (v.osv.id.as_str(), v.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("GO-2099-0001", Level::Called),
            ("GO-2099-0002", Level::Imported),
            ("GO-2099-0003", Level::Required),
        ]
    );
    assert_eq!(r.config.scan_mode, "source");
    let called = &r.vulnerabilities["GO-2099-0001"];
    assert_eq!(called.findings.len(), 1);
    assert_eq!(called.fixed_version, "v1.1.0");
    let site = called.findings[0].call_site(MODULE).unwrap();
    assert_eq!(site.symbol(), "example.com/vulnapp.main");
    let p = site.position.as_ref().unwrap();
    assert_eq!((p.filename.as_str(), p.line, p.column), ("main.go", 11, 31));
}

#[test]
fn the_gate_fails_on_called_findings_naming_id_package_and_call_site() {
    let r = report();
    let message = r.gate(MODULE, &[]).unwrap();
    assert!(
        message.contains("GO-2099-0001 (CVE-2099-0001)"),
        "{message}"
    );
    assert!(
        message.contains(
            "golb.test/vuln/lib/called.Vulnerable (golb.test/vuln/lib/called), called at main.go:11:31 in example.com/vulnapp.main"
        ),
        "{message}"
    );
    assert!(
        message.contains("fixed in golb.test/vuln/lib@v1.1.0"),
        "{message}"
    );
    // Imported-only and required-only vulnerabilities never fail it.
    assert!(!message.contains("GO-2099-0002") && !message.contains("GO-2099-0003"));
    // An assessed ID can be ignored.
    assert_eq!(r.gate(MODULE, &["GO-2099-0001".to_string()]), None);
}

#[test]
fn sarif_has_one_result_per_vulnerability_with_the_call_stack() {
    let sarif: Value = serde_json::from_slice(&report().sarif().unwrap()).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["semanticVersion"], "v1.6.0");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["GO-2099-0001", "GO-2099-0002", "GO-2099-0003"]);
    let results = run["results"].as_array().unwrap();
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "warning", "note"]);
    let frames = results[0]["stacks"][0]["frames"].as_array().unwrap();
    // Entry point first, vulnerable function last, each under its URI base.
    let at = |i: usize, key: &str| {
        frames[i]["location"]["physicalLocation"]["artifactLocation"][key].clone()
    };
    assert_eq!(at(0, "uri"), "main.go");
    assert_eq!(at(0, "uriBaseId"), "%SRCROOT%");
    assert_eq!(at(1, "uri"), "golb.test/vuln/lib@v1.0.0/called/called.go");
    assert_eq!(at(1, "uriBaseId"), "%GOMODCACHE%");
    assert_eq!(
        frames[0]["location"]["physicalLocation"]["region"]["startLine"],
        11
    );
    assert!(results[1].get("stacks").is_none());
}

#[test]
fn openvex_is_deterministic_and_names_the_product() {
    let r = report();
    let product = "pkg:golang/example.com/vulnapp";
    let first = r.openvex(product, "1970-01-01T00:00:00Z").unwrap();
    assert_eq!(
        first,
        report().openvex(product, "1970-01-01T00:00:00Z").unwrap()
    );
    let vex: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(vex["author"], "golb");
    assert_eq!(vex["timestamp"], "1970-01-01T00:00:00Z");
    assert!(vex["@id"]
        .as_str()
        .unwrap()
        .starts_with("https://openvex.dev/docs/public/vex-"));
    let statements = vex["statements"].as_array().unwrap();
    let status: Vec<(&str, &str, Option<&str>)> = statements
        .iter()
        .map(|s| {
            (
                s["vulnerability"]["name"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["justification"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("GO-2099-0001", "affected", None),
            (
                "GO-2099-0002",
                "not_affected",
                Some("vulnerable_code_not_in_execute_path")
            ),
            (
                "GO-2099-0003",
                "not_affected",
                Some("vulnerable_code_not_present")
            ),
        ]
    );
    assert_eq!(statements[0]["products"][0]["@id"], product);
    assert_eq!(
        statements[0]["products"][0]["subcomponents"][0]["@id"],
        "pkg:golang/golb.test/vuln/lib@v1.0.0"
    );
    // The id follows the content: another time gives another document id.
    let later: Value =
        serde_json::from_slice(&r.openvex(product, "2024-01-01T00:00:00Z").unwrap()).unwrap();
    assert_ne!(later["@id"], vex["@id"]);
}

#[test]
fn the_order_of_govulncheck_messages_does_not_matter() {
    // Messages reversed: the same documents come out.
    let text = std::str::from_utf8(SOURCE_MODE).unwrap();
    let messages: Vec<Value> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    let reversed: String = messages
        .iter()
        .rev()
        .map(|m| serde_json::to_string(m).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let r = Report::parse(reversed.as_bytes()).unwrap();
    assert_eq!(r.sarif().unwrap(), report().sarif().unwrap());
    assert_eq!(
        r.openvex("p", "1970-01-01T00:00:00Z").unwrap(),
        report().openvex("p", "1970-01-01T00:00:00Z").unwrap()
    );
}

#[test]
fn malformed_streams_are_errors() {
    assert!(matches!(
        Report::parse(b"{\"config\": 1}"),
        Err(VulnError::Json { index: 1, .. })
    ));
    assert!(matches!(
        Report::parse(b"{\"progress\": {}}"),
        Err(VulnError::NoConfig)
    ));
    assert!(matches!(
        Report::parse(b"{\"config\":{\"protocol_version\":\"v1.0.0\"}} {\"finding\":{\"osv\":\"X\",\"trace\":[]}}"),
        Err(VulnError::EmptyTrace(_))
    ));
    assert!(matches!(
        Report::parse(b"{\"config\":{\"protocol_version\":\"v1.0.0\"}} {\"finding\":{\"osv\":\"X\",\"trace\":[{\"module\":\"m\"}]}}"),
        Err(VulnError::UnknownOsv(_))
    ));
    // Nothing found is a valid, empty report.
    let empty = Report::parse(b"{\"config\":{\"protocol_version\":\"v1.0.0\"}}").unwrap();
    assert!(empty.vulnerabilities.is_empty());
    assert_eq!(empty.gate(MODULE, &[]), None);
}
