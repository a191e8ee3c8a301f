use super::*;

const FULL: &str = r#"# syntax=127.0.0.1:5000/golb:dev
[builder]
go = "1.26"

[[binary]]
package = "./cmd/server"
ldflags = ["-X main.version=1.2.3"]
tags = ["netgo"]

[runtime]
expose = [8080, "53/udp"]
env = { LOG_FORMAT = "json" }
labels = { "org.opencontainers.image.source" = "https://example.com/acme/api" }
args = ["-addr", ":8080"]
"#;

fn errors_of(text: &str) -> Vec<String> {
    match Spec::parse("golb.toml", text) {
        Ok(spec) => panic!("expected errors, got {spec:?}"),
        Err(SpecErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_readme_example_parses_with_its_values_and_locations() {
    let spec = Spec::parse("golb.toml", FULL).unwrap();
    let go = spec.builder.go.as_ref().unwrap();
    assert_eq!(go.value, "1.26");
    assert_eq!((go.location.line, go.location.col), (3, 6));
    assert_eq!(spec.binaries.len(), 1);
    let binary = &spec.binaries[0];
    assert_eq!(binary.package.value, "./cmd/server");
    assert_eq!(default_binary_name(binary).as_deref(), Some("server"));
    assert_eq!(binary.ldflags[0].value, "-X main.version=1.2.3");
    assert_eq!(binary.tags[0].value, "netgo");
    assert_eq!(binary.location.line, 5);
    let ports: Vec<String> = spec
        .runtime
        .expose
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ports, ["53/udp", "8080/tcp"]);
    assert_eq!(spec.runtime.env["LOG_FORMAT"], "json");
    assert_eq!(
        spec.runtime.args.as_ref().unwrap().value,
        ["-addr", ":8080"]
    );
    assert!(
        spec.runtime.base.is_none(),
        "the default base is applied by the plan"
    );
}

#[test]
fn an_empty_spec_is_valid_and_means_all_defaults() {
    let spec = Spec::parse("golb.toml", "# syntax=golb\n").unwrap();
    assert!(spec.binaries.is_empty());
    assert_eq!(spec.builder, Builder::default());
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let errors = errors_of("[builder]\ngo = \"1.26\"\ngoo = \"x\"\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("golb.toml:3:1: unknown field `goo`"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("docs/spec.md"), "{}", errors[0]);

    let errors = errors_of("[runtme]\n");
    assert!(
        errors[0].starts_with("golb.toml:1:2: unknown field `runtme`"),
        "{}",
        errors[0]
    );
}

#[test]
fn toml_syntax_errors_point_at_the_mistake() {
    let errors = errors_of("[builder]\ngo = 1.26.0\n");
    assert!(errors[0].starts_with("golb.toml:2:"), "{}", errors[0]);
}

#[test]
fn wrong_types_are_errors_at_the_value() {
    let errors = errors_of("[[binary]]\npackage = \"./cmd/x\"\ntags = \"netgo\"\n");
    assert!(errors[0].starts_with("golb.toml:3:8:"), "{}", errors[0]);
}

#[test]
fn every_semantic_problem_is_reported_in_file_order() {
    let text = r#"[builder]
go = "latest"

[[binary]]
package = "../elsewhere"
ldflags = ["-buildid=abc", "-X main.v=1"]
tags = ["a,b"]

[[binary]]
package = "./cmd/elsewhere"

[runtime]
expose = [0, "80/xyz"]
workdir = "relative"
env = { "A=B" = "x" }
"#;
    let errors = errors_of(text);
    let positions: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        positions,
        [
            "golb.toml:2:6",
            "golb.toml:5:11",
            "golb.toml:6:12",
            "golb.toml:7:9",
            "golb.toml:9:1",
            "golb.toml:13:11",
            "golb.toml:13:14",
            "golb.toml:14:11",
            "golb.toml:15:9",
        ],
        "{errors:#?}"
    );
    assert!(errors[1].contains("relative to its root"));
    assert!(errors[2].contains("-buildid"));
    assert!(errors[4].contains("already built"));
}

#[test]
fn a_binary_without_package_says_what_to_write() {
    let errors = errors_of("[[binary]]\nname = \"x\"\n");
    assert!(errors[0].starts_with("golb.toml:1:1:"), "{}", errors[0]);
    assert!(
        errors[0].contains("package = \"./cmd/server\""),
        "{}",
        errors[0]
    );
}

#[test]
fn ldflags_that_undo_golbs_guarantees_are_refused() {
    for flag in [
        "-buildid=x",
        "-s=false",
        "-w=0",
        "-linkmode=external",
        "-X a.b=c -extldflags -static",
    ] {
        let text = format!("[[binary]]\npackage = \".\"\nldflags = [{flag:?}]\n");
        let errors = errors_of(&text);
        assert!(errors[0].contains("not allowed"), "{flag}: {errors:?}");
    }
    let ok =
        "[[binary]]\npackage = \".\"\nldflags = [\"-X main.version=1\", \"-X 'main.msg=a b'\"]\n";
    assert!(Spec::parse("golb.toml", ok).is_ok());
}

#[test]
fn image_references_are_checked() {
    let errors = errors_of("[runtime]\nbase = \"Not An Image\"\n");
    assert!(errors[0].starts_with("golb.toml:2:8:"), "{}", errors[0]);
    let ok = "[builder]\nimage = \"127.0.0.1:5000/library/golang:1.26\"\n[runtime]\nbase = \"gcr.io/distroless/static-debian12:nonroot\"\n";
    assert!(Spec::parse("golb.toml", ok).is_ok());
}

#[test]
fn go_releases_are_recognised() {
    for good in ["1.26", "1.26.3", "1.27rc1"] {
        assert!(is_go_release(good), "{good}");
    }
    for bad in ["latest", "1", "go1.26", "1.26.", "1..2", "1.2.3.4"] {
        assert!(!is_go_release(bad), "{bad}");
    }
}

#[test]
fn no_input_makes_the_parser_panic() {
    // A cheap fuzz over truncations and byte flips of a realistic spec.
    let bytes = FULL.as_bytes();
    for cut in 0..bytes.len() {
        let _ = Spec::parse("golb.toml", &String::from_utf8_lossy(&bytes[..cut]));
        let mut flipped = bytes.to_vec();
        flipped[cut] = b"\"[]={}\n,x"[cut % 9];
        let _ = Spec::parse("golb.toml", &String::from_utf8_lossy(&flipped));
    }
}

#[test]
fn a_binary_table_spans_from_its_header_to_its_last_key() {
    let spec = Spec::parse("golb.toml", FULL).unwrap();
    let location = spec.binaries[0].location;
    assert_eq!((location.line, location.end_line), (5, 8), "{location:?}");
}

#[test]
fn the_test_table_has_defaults_and_refuses_flags_golb_owns() {
    let spec = Spec::parse("golb.toml", "").unwrap();
    assert_eq!(spec.test.packages, ["./..."]);
    let spec = Spec::parse(
        "golb.toml",
        "[test]\npackages = [\"./internal/...\"]\nflags = [\"-count=1\", \"-v\"]\n",
    )
    .unwrap();
    assert_eq!((spec.test.packages.len(), spec.test.flags.len()), (1, 2));
    let errors = errors_of(
        "[test]\npackages = [\"../x\"]\nflags = [\"-race\", \"-coverprofile=x\", \"./pkg\"]\n",
    );
    let positions: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        positions,
        [
            "golb.toml:2:13",
            "golb.toml:3:10",
            "golb.toml:3:19",
            "golb.toml:3:38"
        ],
        "{errors:#?}"
    );
    assert!(errors[1].contains("cgo"), "{}", errors[1]);
}

#[test]
fn module_dirs_files_modules_and_args_are_checked() {
    let text = r#"[builder]
module = "../outside"

[modules]
flags = "-mod=mod"
ssh = ["https://github.com/acme"]
proxy = "a, b"

[args]
GOPROXY = "x"
"bad name" = "y"

[[file]]
src = "/etc/passwd"
dest = "etc/x"

[[file]]
src = "config"
dest = "/etc/app"
owner = "nonroot"

[[file]]
src = "config"
dest = "/etc/app"
mode = "rw-r--r--"

[[file]]
dest = "/x"
"#;
    let errors = errors_of(text);
    let positions: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        positions,
        [
            "golb.toml:2:10",
            "golb.toml:5:9",
            "golb.toml:6:8",
            "golb.toml:7:9",
            "golb.toml:10:1",
            "golb.toml:11:1",
            "golb.toml:14:7",
            "golb.toml:20:9",
            "golb.toml:25:8",
            "golb.toml:27:1",
        ],
        "{errors:#?}"
    );
    assert!(errors[0].contains("inside the build context"));
    assert!(errors[1].contains("golb sets -mod itself"));
    assert!(errors[4].contains("GOPROXY is a build arg golb defines itself"));
    assert!(errors[9].contains("needs `src`"));
}

#[test]
fn module_dirs_and_file_settings_are_normalized() {
    let text = "[builder]\nmodule = \"./services/api/\"\n[[file]]\nsrc = \"./config/\"\ndest = \"/etc/app\"\nowner = \"1000\"\nmode = \"0640\"\n";
    let spec = Spec::parse("golb.toml", text).unwrap();
    assert_eq!(spec.builder.module_dir, "services/api");
    let file = &spec.files[0];
    assert_eq!(
        (file.src.as_str(), file.uid, file.gid, file.mode),
        ("config", 1000, 1000, Some(0o640))
    );
}

/// GitHub's published ed25519 host key, as `ssh-keyscan github.com` prints it.
const GITHUB_ED25519: &str =
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

#[test]
fn known_hosts_lines_are_kept_in_order_with_their_locations() {
    let text = format!(
        "[modules]\nssh = [\"github.com/acme\"]\nknown_hosts = [\n  \"{GITHUB_ED25519}\",\n  \"@cert-authority *.corp.example.com,[git.corp.example.com]:2222 {} ca\",\n]\n",
        GITHUB_ED25519.replacen("github.com ", "", 1)
    );
    let spec = Spec::parse("golb.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<(&str, u32)> = spec
        .modules
        .known_hosts
        .iter()
        .map(|l| (l.value.as_str(), l.location.line))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], (GITHUB_ED25519, 4));
    assert!(lines[1].0.starts_with("@cert-authority"));
    assert_eq!(spec.modules.ssh, ["github.com/acme"]);
    let ssh = spec.modules.ssh_location.expect("ssh is located");
    assert_eq!((ssh.line, ssh.col), (2, 7));
}

#[test]
fn malformed_known_hosts_lines_are_errors_at_the_line() {
    let key = GITHUB_ED25519.replacen("github.com ssh-ed25519 ", "", 1);
    let text = format!(
        r##"[modules]
ssh = ["github.com/acme"]
known_hosts = [
  "github.com ssh-ed25519",
  "github.com ssh-rsa {key}",
  "github.com ssh-ed25519 {truncated}",
  "github.com ssh-ed25519 not*base64",
  "# github.com ssh-ed25519 {key}",
  "@trusted github.com ssh-ed25519 {key}",
  "github.com ssh-ed25519 {key}\ngitlab.com ssh-ed25519 {key}",
  "git_hub.com;x ssh-ed25519 {key}",
]
"##,
        truncated = &key[..40]
    );
    let errors = errors_of(&text);
    let lines: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        lines,
        [
            "golb.toml:4:3",
            "golb.toml:5:3",
            "golb.toml:6:3",
            "golb.toml:7:3",
            "golb.toml:8:3",
            "golb.toml:9:3",
            "golb.toml:10:3",
            "golb.toml:11:3",
        ],
        "{errors:#?}"
    );
    assert!(errors[0].contains("three fields"), "{}", errors[0]);
    assert!(errors[1].contains("not a ssh-rsa key"), "{}", errors[1]);
    assert!(errors[2].contains("truncated"), "{}", errors[2]);
    assert!(errors[3].contains("not base64"), "{}", errors[3]);
    assert!(errors[4].contains("comment"), "{}", errors[4]);
    assert!(errors[5].contains("@trusted"), "{}", errors[5]);
    assert!(errors[6].contains("several lines"), "{}", errors[6]);
    assert!(errors[7].contains("host patterns"), "{}", errors[7]);
    assert!(errors[7].contains("ssh-keyscan"), "{}", errors[7]);
}

#[test]
fn known_hosts_without_ssh_and_unknown_modules_keys_are_errors() {
    let text = format!("[modules]\nknown_hosts = [\"{GITHUB_ED25519}\"]\n");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("golb.toml:2:15: known_hosts is only used for [modules] ssh"),
        "{}",
        errors[0]
    );
    let errors = errors_of("[modules]\nssh = [\"github.com/acme\"]\nknown_host = []\n");
    assert!(
        errors[0].starts_with("golb.toml:3:1: unknown field `known_host`"),
        "{}",
        errors[0]
    );
}

#[test]
fn known_hosts_lines_of_every_common_key_type_pass() {
    // Made with ssh-keygen (ecdsa, rsa -b 1024), in ssh-keyscan's and known_hosts' forms.
    for line in [
        GITHUB_ED25519,
        "[127.0.0.1]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLYvZc2mHqxs/q4QniZyQIOEM4MKALR+sMNOuUl3CiNro8xZOGy4qP3qLSKPpWLZpatgu0GxYYi0AcLMIfAsWN0=",
        "|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC3pTe5Yvgt8cG9Ugf9A4RYYg4OyZDd/IoMZNr1XDMhMAbEZeA10dCvnLBe26dwGaEIrz2dkOVw3U1aTh8/744ZTvR7AC40PBGreGxFNR3OIWkflyle5ZMzLjPttoyY5lGNFxknJdwkLXrT7+0ss61vKqrgxlTMspot7vb6OboLPw==",
        "@revoked * ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC3pTe5Yvgt8cG9Ugf9A4RYYg4OyZDd/IoMZNr1XDMhMAbEZeA10dCvnLBe26dwGaEIrz2dkOVw3U1aTh8/744ZTvR7AC40PBGreGxFNR3OIWkflyle5ZMzLjPttoyY5lGNFxknJdwkLXrT7+0ss61vKqrgxlTMspot7vb6OboLPw==",
    ] {
        assert_eq!(check_known_hosts_line(line), Ok(()), "{line}");
    }
}

/// Words that tell the reader what to do; every rejection carries one.
const FIXES: &[&str] = &[
    "e.g.", "write", "use ", "remove", "add ", "declare", "give", "check", "move", "pass it",
    "re-save", "fix ",
];

#[test]
fn every_rejected_spec_names_file_line_col_and_the_fix() {
    for text in BAD_SPECS {
        let errors = errors_of(text);
        assert!(!errors.is_empty(), "{text:?} was accepted");
        for error in errors {
            let (place, message) = error
                .split_once(": ")
                .unwrap_or_else(|| panic!("{text:?}: {error}"));
            let mut parts = place.split(':');
            assert_eq!(parts.next(), Some("golb.toml"), "{text:?}: {error}");
            let line: usize = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
            let col: usize = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            assert!(
                line >= 1 && line <= text.lines().count() + 1 && col >= 1,
                "{text:?}: no line:col in {error}"
            );
            assert!(
                FIXES.iter().any(|fix| message.contains(fix)),
                "{text:?}: the message says what is wrong but not what to do: {error}"
            );
            assert!(
                !message.contains('\n'),
                "{text:?}: one line per error: {error}"
            );
        }
    }
}

#[test]
fn a_spec_that_is_not_utf8_is_refused_at_its_line_and_column() {
    // Latin-1 "é" (0xe9) in a value on line 4, column 17.
    let mut bytes = b"[builder]\ngo = \"1.26\"\n[runtime]\nenv = { A = \"caf".to_vec();
    bytes.extend_from_slice(b"\xe9\" }\n");
    let errors = Spec::parse_bytes("golb.toml", &bytes).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let error = errors.0[0].to_string();
    assert!(
        error.starts_with("golb.toml:4:17: the spec is not UTF-8 text (byte 0xe9 at offset 48)"),
        "{error}"
    );
    assert!(error.contains("re-save it as UTF-8"), "{error}");
    // A lone continuation byte on line 1, column 1.
    let error = Spec::parse_bytes("x.toml", b"\x80")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("x.toml:1:1: "), "{error}");
    // Valid UTF-8, multi-byte characters included, parses as text does.
    let text = "[runtime]\nenv = { GREETING = \"héllo\" }\n";
    assert_eq!(
        Spec::parse_bytes("golb.toml", text.as_bytes()),
        Spec::parse("golb.toml", text)
    );
}

/// One spec per way of being wrong, from TOML syntax to values.
const BAD_SPECS: &[&str] = &[
    "[builder\ngo = \"1.26\"\n",
    "[builder]\ngo = 1.26\n",
    "[builder]\ngo = \"1.26\"\ngo = \"1.25\"\n",
    "[builder]\ngo = \"latest\"\n",
    "[builder]\nimage = \"UPPER:case\"\n",
    "[builder]\nmodule = \"../up\"\n",
    "[builder]\ngoo = \"1.26\"\n",
    "[bilder]\n",
    "[[binary]]\nname = \"x\"\n",
    "[[binary]]\npackage = \"cmd/x\"\n",
    "[[binary]]\npackage = \"./x\"\nname = \"a/b\"\n",
    "[[binary]]\npackage = \"./x\"\nldflags = [\"-linkmode=external\"]\n",
    "[[binary]]\npackage = \"./x\"\nldflags = [\"-X main.v=${NOPE}\"]\n",
    "[[binary]]\npackage = \"./x\"\ntags = [\"a b\"]\n",
    "[[binary]]\npackage = \"./a/x\"\n[[binary]]\npackage = \"./b/x\"\n",
    "[[binary]]\npackage = \"./x\"\nldflags = \"-s\"\n",
    "[runtime]\nuser = \"\"\n",
    "[runtime]\nentrypoint = []\n",
    "[runtime]\nenv = { \"A B\" = \"1\" }\n",
    "[runtime]\nlabels = { \"\" = \"1\" }\n",
    "[runtime]\nexpose = [0, \"80/xyz\", true]\n",
    "[runtime]\nworkdir = \"rel\"\n",
    "[runtime]\nbase = \"\"\n",
    "[test]\npackages = [\"../x\"]\n",
    "[test]\npackages = []\n",
    "[test]\nflags = [\"-race\", \"v\"]\n",
    "[modules]\nproxy = \"a, b\"\n",
    "[modules]\nflags = \"-mod=mod\"\n",
    "[modules]\nssh = [\"https://x\"]\n",
    "[modules]\nknown_hosts = [\"x\"]\n",
    "[args]\n\"1X\" = \"a\"\nGOPROXY = \"b\"\n",
    "[[file]]\ndest = \"/a\"\n",
    "[[file]]\nsrc = \"/etc/passwd\"\ndest = \"/a\"\n",
    "[[file]]\nsrc = \"a\"\n",
    "[[file]]\nsrc = \"a\"\ndest = \"rel\"\n",
    "[[file]]\nsrc = \"a\"\ndest = \"/a\"\nowner = \"root\"\n",
    "[[file]]\nsrc = \"a\"\ndest = \"/a\"\nmode = \"0999\"\n",
    "x = 1\n",
    "[runtime]\nenv = 3\n",
    "\"unterminated\n",
    "[builder]\ngo = \"1.26\"\n[builder]\n",
];

#[test]
fn builder_cc_names_a_c_compiler_per_target_platform() {
    let spec = Spec::parse(
        "golb.toml",
        "[builder.cc]\n\"linux/arm64\" = \"aarch64-linux-gnu-gcc\"\n\"linux/arm/v7\" = \"arm-linux-gnueabihf-gcc\"\n",
    )
    .unwrap();
    let arm64 = Platform::parse("linux/arm64").unwrap();
    let cc = spec.builder.cc_for(&arm64).unwrap();
    assert_eq!(cc.value, "aarch64-linux-gnu-gcc");
    assert_eq!((cc.location.line, cc.location.col), (2, 17));
    let armv7 = Platform::parse("linux/arm/v7").unwrap();
    assert_eq!(
        spec.builder.cc_for(&armv7).unwrap().value,
        "arm-linux-gnueabihf-gcc"
    );
    // arm/v6 is another GOARM: no compiler for it.
    assert!(spec
        .builder
        .cc_for(&Platform::parse("linux/arm/v6").unwrap())
        .is_none());

    let errors = errors_of(
        "[builder.cc]\n\"arm64\" = \"aarch64-linux-gnu-gcc\"\n\"linux/riscv64\" = \" \"\n",
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("golb.toml:2:1: [builder.cc] keys are target platforms"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("golb.toml:3:19: the C compiler for linux/riscv64 is empty"),
        "{errors:?}"
    );
}
