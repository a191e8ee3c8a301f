//! The image-slimming toolkit through golb on the real BuildKit (#12):
//! - the runtime presets `scratch` and `alpine` (nonroot, CA certificates,
//!   passwd, /tmp) and their names in `--call outline`;
//! - the size summary every image build prints (a BuildKit warning);
//! - the `size` target's JSON, Markdown and HTML treemap (the HTML opened in
//!   headless Chromium, with a screenshot kept in target/e2e/);
//! - the size gate: an absolute budget, and a growth budget against a
//!   baseline image when a dependency is added between two builds.
//!
//! Every build is of examples/hello (seconds when warm), plus
//! gopkg.in/yaml.v3 for the dependency added.

use golb_e2e::*;
use std::path::Path;

const REPO: &str = "slim-hello";

fn image(h: &Harness, tag: &str) -> String {
    format!("{}/{REPO}:{tag}", h.registry())
}

fn push(tag: &str) -> String {
    format!("type=image,name={},push=true", image(harness(), tag))
}

/// examples/hello with `[runtime]` extended by `runtime` (TOML lines).
fn hello_with(test: &str, runtime: &str) -> ExampleCopy {
    let copy = ExampleCopy::new("hello", test);
    copy.replace("golb.toml", "[runtime]\n", &format!("[runtime]\n{runtime}"));
    copy
}

/// hello with gopkg.in/yaml.v3 linked into the server.
fn add_yaml(copy: &ExampleCopy) {
    copy.write(
        "cmd/server/config.go",
        "package main\n\nimport (\n\t\"os\"\n\n\t\"gopkg.in/yaml.v3\"\n)\n\n// Reachable from init, so the linker keeps gopkg.in/yaml.v3.\nfunc init() {\n\tif os.Getenv(\"HELLO_PRINT_CONFIG\") != \"\" {\n\t\tout, _ := yaml.Marshal(map[string]string{\"addr\": \":8080\"})\n\t\tos.Stdout.Write(out)\n\t}\n}\n",
    )
    .write(
        "go.mod",
        "module example.com/hello\n\ngo 1.26\n\nrequire gopkg.in/yaml.v3 v3.0.1\n",
    )
    .write(
        "go.sum",
        "gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405/go.mod h1:Co6ibVJAznAaIkqp8huTwlJQCZ016jof/cbN4VW5Yz0=\ngopkg.in/yaml.v3 v3.0.1 h1:fxVm/GzAzEWqLHuvctI91KS9hhNmmWOoWu0XTYJS7CA=\ngopkg.in/yaml.v3 v3.0.1/go.mod h1:K4uyk7z7BCEPqu6E+C64Yfv1cQ7kz7rIZviUmN+EgEM=\n",
    );
}

#[test]
fn scratch_and_alpine_presets_run_nonroot_and_are_named_in_outline() {
    let h = harness();
    let registry = Registry { host: h.registry() };

    // scratch: one preset layer (CA certificates, passwd/group, /tmp 1777)
    // and the binaries' layer; the binary runs there as 65532.
    let scratch = hello_with("slim-scratch", "base = \"scratch\"\n");
    let log = run_ok(&mut buildx_golb(
        h,
        scratch.path(),
        &["--output", &push("scratch")],
    ));
    // The size summary of every image build.
    assert!(
        log.contains("size (linux/amd64): image ") && log.contains("server "),
        "no size summary in the build output:\n{log}"
    );
    let manifest = registry.manifest(REPO, "scratch");
    assert_eq!(layers(&manifest).len(), 2, "{manifest}");
    let files = image_files(h, REPO, "scratch");
    for (path, mode) in [
        ("etc/ssl/certs/ca-certificates.crt", "-rw-r--r--"),
        ("etc/passwd", "-rw-r--r--"),
        ("etc/group", "-rw-r--r--"),
        ("tmp", "drwxrwxrwt"),
        ("home/nonroot", "drwx------"),
        ("usr/local/bin/server", "-rwxr-xr-x"),
    ] {
        assert_eq!(
            files.get(path).map(String::as_str),
            Some(mode),
            "{path}: {files:?}"
        );
    }
    assert!(
        !files.keys().any(|f| f.starts_with("usr/share/zoneinfo")),
        "zones were not asked for"
    );
    let config = registry.config(REPO, &manifest);
    assert_eq!(config["config"]["User"], "65532", "{config}");
    assert!(run_in_image(
        h,
        &image(h, "scratch"),
        &["/usr/local/bin/server", "-version"]
    )
    .contains("1.2.3"));

    // The same build twice gives the same image: the preset layer is reproducible.
    let again = run_ok(&mut buildx_golb(
        h,
        scratch.path(),
        &["--no-cache", "--output", &push("scratch-again")],
    ));
    assert!(!again.is_empty());
    assert_eq!(
        layers(&registry.manifest(REPO, "scratch-again")),
        layers(&manifest)
    );

    // alpine: a shell for debugging, still nonroot.
    let alpine = hello_with("slim-alpine", "base = \"alpine\"\n");
    run_ok(&mut buildx_golb(
        h,
        alpine.path(),
        &["--output", &push("alpine")],
    ));
    let config = registry.config(REPO, &registry.manifest(REPO, "alpine"));
    assert_eq!(config["config"]["User"], "65532:65532", "{config}");
    let id = run_in_image(
        h,
        &image(h, "alpine"),
        &["/bin/sh", "-c", "id -u; /usr/local/bin/server -version"],
    );
    assert!(id.contains("65532") && id.contains("1.2.3"), "{id}");

    // --call outline names every preset and the image it pulls.
    let outline = run_ok(&mut buildx_golb(h, alpine.path(), &["--call", "outline"]));
    for needle in [
        "RUNTIME_BASE",
        "distroless",
        "scratch",
        "alpine:3.22",
        "SIZE_BASELINE",
    ] {
        assert!(
            outline.contains(needle),
            "{needle} not in the outline:\n{outline}"
        );
    }
}

/// A program that loads Europe/Paris from the system's zone data (it imports
/// no time/tzdata, and -trimpath leaves no GOROOT to fall back on) and prints
/// its offsets at two fixed instants, or why it could not. It exits 0 either
/// way, so that `run_in_image` returns what it printed.
const ZONE_MAIN: &str = r#"package main

import (
	"fmt"
	"time"
)

func main() {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		fmt.Println("no zone:", err)
		return
	}
	winter, winterOffset := time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC).In(paris).Zone()
	summer, summerOffset := time.Date(2026, time.July, 15, 12, 0, 0, 0, time.UTC).In(paris).Zone()
	fmt.Printf("Europe/Paris: %s %+d, %s %+d\n", winter, winterOffset, summer, summerOffset)
}
"#;

/// `timezones = true` on scratch: the preset layer carries
/// /usr/share/zoneinfo from the pinned distroless image, and a Go binary
/// loads a zone from it; without the key the same binary cannot.
#[test]
fn scratch_with_timezones_loads_a_zone_and_without_them_it_cannot() {
    let h = harness();
    let registry = Registry { host: h.registry() };
    let copy = ExampleCopy::new("hello", "slim-scratch-zones");
    copy.write("cmd/zone/main.go", ZONE_MAIN).replace(
        "golb.toml",
        "[runtime]\n",
        "[[binary]]\npackage = \"./cmd/zone\"\n\n[runtime]\nbase = \"scratch\"\ntimezones = true\nentrypoint = [\"/usr/local/bin/server\"]\n",
    );
    run_ok(&mut buildx_golb(
        h,
        copy.path(),
        &["--output", &push("scratch-zones")],
    ));
    let manifest = registry.manifest(REPO, "scratch-zones");
    assert_eq!(layers(&manifest).len(), 2, "{manifest}");
    let files = image_files(h, REPO, "scratch-zones");
    for path in [
        "usr/share/zoneinfo",
        "usr/share/zoneinfo/Europe/Paris",
        "usr/local/bin/zone",
        "etc/ssl/certs/ca-certificates.crt",
    ] {
        assert!(
            files.contains_key(path),
            "no {path} in the image: {files:?}"
        );
    }
    let zones = files
        .keys()
        .filter(|f| f.starts_with("usr/share/zoneinfo/"))
        .count();
    assert!(zones > 300, "only {zones} zone files");
    let printed = run_in_image(h, &image(h, "scratch-zones"), &["/usr/local/bin/zone"]);
    assert!(
        printed.contains("Europe/Paris: CET +3600, CEST +7200"),
        "the zone did not load on scratch with timezones = true:\n{printed}"
    );

    // The same image without the key: no zone data, and the load fails.
    copy.replace("golb.toml", "timezones = true\n", "");
    run_ok(&mut buildx_golb(
        h,
        copy.path(),
        &["--output", &push("scratch-no-zones")],
    ));
    let files = image_files(h, REPO, "scratch-no-zones");
    assert!(
        !files.keys().any(|f| f.starts_with("usr/share/zoneinfo")),
        "zones were not asked for: {files:?}"
    );
    let printed = run_in_image(h, &image(h, "scratch-no-zones"), &["/usr/local/bin/zone"]);
    assert!(
        printed.contains("no zone: unknown time zone Europe/Paris"),
        "the zone loaded without zone data:\n{printed}"
    );
}

/// The `size` target's files, exported.
fn size_report(dir: &Path, out: &Path) -> serde_json::Value {
    let dest = format!("type=local,dest={}", out.display());
    run_ok(&mut buildx_golb(
        harness(),
        dir,
        &["--target", "size", "--output", &dest],
    ));
    for file in ["size.json", "size.md", "size.html", "summary.txt"] {
        assert!(out.join(file).is_file(), "no {file} in {}", out.display());
    }
    serde_json::from_slice(&std::fs::read(out.join("size.json")).unwrap()).unwrap()
}

/// The size target attributes `//go:embed` bytes apart: examples/assets
/// embeds the directory `static` into its main package. A second file is
/// added below it, and a hidden one that Go leaves out of a directory.
#[test]
fn size_target_attributes_embedded_files_to_their_package() {
    let tmp = TempDir::new("slim-size-embed");
    let assets = ExampleCopy::new("assets", "slim-embed");
    let css = "/* golb e2e: embedded by the site */ body { font-family: serif; }\n";
    assets
        .write("cmd/site/static/css/site.css", css)
        .write("cmd/site/static/.draft.html", "<p>not embedded</p>\n");
    let report = size_report(assets.path(), &tmp.path().join("size"));
    let binary = &report["binaries"][0];
    assert_eq!(binary["binary"], "site", "{binary}");
    let main = binary["owners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "main-module")
        .flat_map(|o| o["packages"].as_array().unwrap())
        .find(|p| p["package"] == "main")
        .unwrap_or_else(|| panic!("no package main in {binary}"));
    let index = std::fs::read(example_dir("assets").join("cmd/site/static/index.html")).unwrap();
    assert_eq!(
        main["embedded"].as_u64(),
        Some((index.len() + css.len()) as u64),
        "{main}"
    );
    let mut names: Vec<&str> = main["embedded_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["static/css/site.css", "static/index.html"]);
    assert_eq!(binary["embedded_not_found"], serde_json::json!([]));
}

fn module_bytes(report: &serde_json::Value, module: &str) -> u64 {
    report["binaries"][0]["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == module)
        .map_or(0, |o| o["bytes"].as_u64().unwrap())
}

#[test]
fn size_target_and_the_gate_on_a_dependency_added() {
    let h = harness();
    let tmp = TempDir::new("slim-size");

    // The baseline: hello as main builds it.
    let hello = hello_with("slim-gate", "");
    run_ok(&mut buildx_golb(
        h,
        hello.path(),
        &["--output", &push("baseline")],
    ));
    let before = size_report(hello.path(), &tmp.path().join("before"));
    assert_eq!(before["binaries"][0]["binary"], "server");
    assert_eq!(module_bytes(&before, "gopkg.in/yaml.v3"), 0);
    let markdown = std::fs::read_to_string(tmp.path().join("before/size.md")).unwrap();
    assert!(markdown.starts_with("### `server`"), "{markdown}");

    // A pull request adds gopkg.in/yaml.v3.
    add_yaml(&hello);
    let after = size_report(hello.path(), &tmp.path().join("after"));
    let yaml = module_bytes(&after, "gopkg.in/yaml.v3");
    assert!(yaml > 100_000, "yaml.v3 attributed {yaml} bytes");

    // Over the growth budget against the baseline: the figures and the
    // biggest growths, yaml.v3 among them.
    hello.replace(
        "golb.toml",
        "[runtime]\n",
        "[runtime]\nmax_growth = \"50kB\"\n",
    );
    let baseline = format!("SIZE_BASELINE={}", image(h, "baseline"));
    let failed = run_fails(&mut buildx_golb(
        h,
        hello.path(),
        &["--build-arg", &baseline, "--output", &push("grown")],
    ));
    assert!(
        failed.contains("size gate: the image grew by")
            && failed.contains("over its growth budget of 50 kB")
            && failed.contains("server: gopkg.in/yaml.v3 +"),
        "{failed}"
    );
    // Within a larger growth budget the same build passes.
    hello.replace("golb.toml", "max_growth = \"50kB\"", "max_growth = \"5MB\"");
    run_ok(&mut buildx_golb(
        h,
        hello.path(),
        &["--build-arg", &baseline, "--output", &push("grown")],
    ));

    // An absolute budget on golb's layer: the three biggest contributors.
    hello.replace(
        "golb.toml",
        "max_growth = \"5MB\"",
        "max_layer_size = \"1MB\"",
    );
    let failed = run_fails(&mut buildx_golb(
        h,
        hello.path(),
        &["--output", &push("over")],
    ));
    assert!(
        failed.contains("size gate: golb's layer is")
            && failed.contains("over its budget of 1.0 MB (1000000 bytes)")
            && failed.contains("biggest contributors: server: standard library"),
        "{failed}"
    );

    // A budget that is not a size is an error at its line.
    hello.replace(
        "golb.toml",
        "max_layer_size = \"1MB\"",
        "max_layer_size = \"big\"",
    );
    let failed = run_fails(&mut buildx_golb(
        h,
        hello.path(),
        &["--output", &push("over")],
    ));
    assert!(
        failed.contains("golb.toml:11:18") || failed.contains("golb.toml:11:"),
        "{failed}"
    );
    assert!(failed.contains("max_layer_size"), "{failed}");

    // The HTML treemap of the size target, as a browser shows it.
    check_in_chromium(&tmp.path().join("after/size.html"), tmp.path());
}

fn check_in_chromium(page: &Path, tmp: &Path) {
    let dom = chromium(&tmp.join("profile-dom"), &["--dump-dom"], page);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    for group in [
        "standard library",
        "gopkg.in/yaml.v3",
        "example.com/hello (this module)",
    ] {
        assert!(
            dom.contains(&format!("data-name=\"{group}\"")),
            "no {group} in the DOM"
        );
    }
    let shot = tmp.join("shot.png");
    let out = chromium(
        &tmp.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
        page,
    );
    assert!(shot.is_file(), "no screenshot: {}", text(&out));
    let keep = repo_root().join("target/e2e/slim-size-target.png");
    std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
    std::fs::copy(&shot, &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());
}

/// examples/sqlite (github.com/mattn/go-sqlite3, SQLite's C sources) built by
/// golb with `cgo = true` on the cgo builder fixture (the harness's golang
/// stand-in has no gcc; the real golang image has), run on the glibc base;
/// the presets and cross-compiling are refused at the spec's lines, before
/// anything is built. The one sqlite build is the expensive part (cold: C
/// compile of SQLite); every other assertion costs no build.
/// A cgo cross-build: a module calling glibc's `gnu_get_libc_version` from
/// C, built for linux/arm64 on the amd64 builder with the cross compiler
/// `[builder.cc]` names (the cgo fixture holds Debian's
/// gcc-aarch64-linux-gnu). The exported binary is an arm64 executable whose
/// loader is arm64 glibc's and which imports the C function: C was compiled
/// and linked for the target. Without the key the same build is refused at
/// `cgo = true`. (Running it would need an arm64 machine or QEMU, which the
/// harness does not have.)
#[test]
fn cgo_cross_builds_for_arm64_with_the_compiler_builder_cc_names() {
    let h = harness();
    let builder = format!("BUILDER_IMAGE={}", h.var("GOLB_GOLANG_CGO_IMAGE"));
    let dir = TempDir::new("slim-cgo-cross");
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap();
    };
    write("go.mod", "module example.com/libc\n\ngo 1.26\n");
    write(
        "main.go",
        "package main\n\n// #include <gnu/libc-version.h>\nimport \"C\"\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"glibc\", C.GoString(C.gnu_get_libc_version()))\n}\n",
    );
    let spec = "[[binary]]\npackage = \".\"\nname = \"libc\"\ncgo = true\n";
    let syntax = format!("# syntax={DEFAULT_FRONTEND}\n");
    write("golb.toml", &format!("{syntax}{spec}"));
    let out = dir.path().join("out");
    let build = || {
        buildx_golb(
            h,
            dir.path(),
            &[
                "--build-arg",
                &builder,
                "--platform",
                "linux/arm64",
                "--target",
                "binaries",
                "--output",
                &format!("type=local,dest={}", out.display()),
            ],
        )
    };
    let refused = run_fails(&mut build());
    assert!(
        refused.contains("golb.toml:5:7")
            && refused.contains("cannot cross-compile for linux/arm64")
            && refused.contains("[builder.cc] \"linux/arm64\""),
        "{refused}"
    );

    write(
        "golb.toml",
        &format!("{syntax}[builder.cc]\n\"linux/arm64\" = \"aarch64-linux-gnu-gcc\"\n\n{spec}"),
    );
    run_ok(&mut build());
    let binary = std::fs::read(out.join("libc")).unwrap();
    assert_eq!(&binary[..4], b"\x7fELF", "not an ELF file");
    // e_machine (offset 18, little-endian): 183 is EM_AARCH64.
    assert_eq!(
        u16::from_le_bytes([binary[18], binary[19]]),
        183,
        "not an arm64 binary"
    );
    for needed in [
        &b"/lib/ld-linux-aarch64.so.1"[..],
        b"libc.so.6",
        b"gnu_get_libc_version",
    ] {
        assert!(
            contains(&binary, needed),
            "the binary has no {:?}: not linked against arm64 glibc by cgo",
            String::from_utf8_lossy(needed)
        );
    }
}

#[test]
fn cgo_sqlite_example_runs_on_the_glibc_base_and_static_bases_are_refused() {
    let h = harness();
    let builder = format!("BUILDER_IMAGE={}", h.var("GOLB_GOLANG_CGO_IMAGE"));
    let sqlite = ExampleCopy::new("sqlite", "slim-cgo");
    let glibc = "base = \"gcr.io/distroless/base-debian12:nonroot\"";
    for (base, why) in [
        ("base = \"alpine\"", "musl"),
        ("base = \"scratch\"", "no C library"),
        ("base = \"distroless\"", "static base"),
        ("base = \"golang:1.26-alpine\"", "musl"),
    ] {
        sqlite.replace("golb.toml", glibc, base);
        let failed = run_fails(&mut buildx_golb(
            h,
            sqlite.path(),
            &["--build-arg", &builder, "--output", &push("cgo-refused")],
        ));
        assert!(
            failed.contains("golb.toml:13:8")
                && failed.contains(why)
                && failed.contains("cgo = true"),
            "{base}: {failed}"
        );
        sqlite.replace("golb.toml", base, glibc);
    }
    let failed = run_fails(&mut buildx_golb(
        h,
        sqlite.path(),
        &[
            "--build-arg",
            &builder,
            "--platform",
            "linux/amd64,linux/arm64",
            "--output",
            &push("cgo-refused"),
        ],
    ));
    assert!(
        failed.contains("golb.toml:9:7") && failed.contains("cannot cross-compile"),
        "{failed}"
    );

    run_ok(&mut buildx_golb(
        h,
        sqlite.path(),
        &["--build-arg", &builder, "--output", &push("sqlite")],
    ));
    let printed = run_in_image(
        h,
        &image(h, "sqlite"),
        &[
            "/usr/local/bin/notes",
            "-db",
            "/tmp/notes.db",
            "first",
            "second",
        ],
    );
    assert!(
        printed.contains("sqlite 3.") && printed.contains(": 2 notes in /tmp/notes.db"),
        "the cgo binary did not use SQLite:\n{printed}"
    );
}

/// The compressed size of an image's last layer (golb's binaries).
fn last_layer_bytes(tag: &str) -> u64 {
    let registry = Registry {
        host: harness().registry(),
    };
    let manifest = registry.manifest(REPO, tag);
    let layers = manifest["layers"].as_array().unwrap();
    layers.last().unwrap()["size"].as_u64().unwrap()
}

/// `compress = "upx"`: the image's binary packed by the UPX fixture,
/// reproducibly, still running; a platform UPX cannot pack is refused at
/// the spec's line.
#[test]
fn upx_packs_the_image_binary_reproducibly_and_it_still_runs() {
    let h = harness();
    let plain = hello_with("slim-upx-plain", "");
    run_ok(&mut buildx_golb(
        h,
        plain.path(),
        &["--output", &push("upx-plain")],
    ));
    let upx = hello_with(
        "slim-upx",
        &format!(
            "compress = \"upx\"\nupx_image = \"{}\"\n",
            h.var("GOLB_UPX_IMAGE")
        ),
    );
    let log = run_ok(&mut buildx_golb(h, upx.path(), &["--output", &push("upx")]));
    assert!(log.contains("[golb] upx server"), "{log}");
    // The summary still attributes the unpacked binary.
    assert!(log.contains("standard library"), "{log}");
    let (packed, unpacked) = (last_layer_bytes("upx"), last_layer_bytes("upx-plain"));
    assert!(
        packed * 10 < unpacked * 9,
        "packed {packed} vs plain {unpacked}"
    );
    eprintln!("golb's layer, compressed: plain {unpacked} B, upx {packed} B");
    assert!(
        run_in_image(h, &image(h, "upx"), &["/usr/local/bin/server", "-version"]).contains("1.2.3")
    );

    // The UPX image is resolved as the builder is: pinned by digest,
    // recorded in the plan's replay, and `golb llb --replay` plans the same
    // Definition from it.
    let out = run(&mut buildx_golb(
        h,
        upx.path(),
        &["--call", "golb.plan,format=json"],
    ));
    assert!(out.status.success(), "{}", text(&out));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pinned = reply["replay"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["role"] == "upx")
        .unwrap_or_else(|| panic!("no upx image resolved: {reply}"))["pinned"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        pinned.starts_with(&format!("{}@sha256:", h.var("GOLB_UPX_IMAGE"))),
        "{pinned}"
    );
    let gateway = reply["dumps"][0].as_str().unwrap();
    assert!(gateway.contains(&pinned), "{gateway}");
    let replay = upx.path().join("replay.json");
    std::fs::write(&replay, reply["replay"].to_string()).unwrap();
    let offline = run_ok(
        std::process::Command::new(h.golb_binary())
            .current_dir(upx.path())
            .args(["llb", "golb.toml", "--dump", "--replay"])
            .arg(&replay),
    );
    assert!(
        gateway == offline,
        "--- gateway\n{gateway}\n--- golb llb\n{offline}"
    );

    // A named context replaces the UPX image, as it replaces the builder:
    // the spec names an image that does not exist, the context `upx` the
    // fixture, and the packed layer is the same.
    let replaced = hello_with(
        "slim-upx-context",
        &format!(
            "compress = \"upx\"\nupx_image = \"{}/tools/upx:no-such-tag\"\n",
            h.registry()
        ),
    );
    let context = format!("upx=docker-image://{}", h.var("GOLB_UPX_IMAGE"));
    let log = run_ok(&mut buildx_golb(
        h,
        replaced.path(),
        &[
            "--build-context",
            &context,
            "--output",
            &push("upx-context"),
        ],
    ));
    assert!(log.contains("[golb] upx server"), "{log}");
    let registry = Registry { host: h.registry() };
    assert_eq!(
        layers(&registry.manifest(REPO, "upx-context")),
        layers(&registry.manifest(REPO, "upx"))
    );

    run_ok(&mut buildx_golb(
        h,
        upx.path(),
        &["--no-cache", "--output", &push("upx-again")],
    ));
    assert_eq!(
        layers(&registry.manifest(REPO, "upx-again")),
        layers(&registry.manifest(REPO, "upx"))
    );

    let failed = run_fails(&mut buildx_golb(
        h,
        upx.path(),
        &["--platform", "linux/s390x", "--output", &push("upx-s390x")],
    ));
    assert!(
        failed.contains("golb.toml:12:13")
            && failed.contains("cannot pack binaries for linux/s390x"),
        "{failed}"
    );
}
