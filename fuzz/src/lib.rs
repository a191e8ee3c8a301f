//! One function per fuzz target (`fuzz_targets/*.rs` only call them), so a
//! target's input format is written down once, next to the code it drives.
//!
//! A target passes when golb neither panics nor hangs on the input; some
//! also assert properties that must hold for every input (noted at each).
//! Several targets take several texts in one input, separated by NUL bytes:
//! a fuzzer mutates them together, and a seed is written with `printf`.

use golb::checks;
use golb::go_module::{self, GoModule};
use golb::image_ref::ImageRef;
use golb::plan::{self, SourceImage};
use golb::spec::{self, Spec, SpecFile};
use golb::{dockerignore, driver, image_config, named_context, offline, overrides, subrequests};
use golb_proto::gateway::errdefs;
use golb_proto::llb::{self, Local, Platform, SourceFile, State};
use prost::Message;
use std::collections::BTreeMap;

/// The NUL-separated parts of an input, always `n` of them (missing ones empty).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut split: Vec<&[u8]> = data.splitn(n, |b| *b == 0).collect();
    split.resize(n, &[]);
    split
}

/// `KEY=VALUE` lines as BuildKit frontend options.
fn opts(text: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Spec parser and checker, then the driver's whole pipeline as the gateway
/// runs it (`driver::build` and `driver::check`, through a [`MemoryHost`]):
/// build args, module, package walk, checks, subrequest replies, plan,
/// marshal, dump. Input: `spec \0 go.mod \0 main.go \0 options`; every
/// directory of the context holds that main.go.
/// Property: every spec error is located inside the spec.
pub fn spec(data: &[u8]) {
    let [spec_bytes, go_mod, go_file, options] = parts(data, 4)[..] else {
        return;
    };
    let mut opts = opts(options);
    opts.insert("filename".into(), "golb.toml".into());
    let host = MemoryHost {
        spec: spec_bytes.to_vec(),
        go_mod: go_mod.to_vec(),
        go_file: go_file.to_vec(),
    };
    let lines =
        u32::try_from(String::from_utf8_lossy(spec_bytes).lines().count() + 1).unwrap_or(u32::MAX);
    let located = |errors: &[spec::SpecError]| {
        for e in errors {
            assert!(
                e.location.line >= 1 && e.location.line <= lines && e.location.col >= 1,
                "{e}"
            );
        }
    };
    let Ok(built) = offline::block_on(driver::build(&host, &opts)) else {
        return;
    };
    match built {
        Ok(build) => {
            for planned in &build.results {
                llb::dump(&planned.definition).expect("golb's own Definition dumps");
            }
        }
        Err(driver::DriverError::Spec { errors, file }) => {
            located(&errors.0);
            let ranges: Vec<llb::Location> = errors.0.iter().map(|e| e.location).collect();
            errdefs::source_error(3, &errors.to_string(), &file, &ranges);
        }
        Err(_) => {}
    }
    let Ok(Ok(check)) = offline::block_on(driver::check(&host, &opts)) else {
        return;
    };
    let file = SpecFile {
        name: check.file.filename.clone(),
        text: String::from_utf8_lossy(&check.file.data).into_owned(),
    };
    if let Some(failure) = &check.failure {
        located(&failure.errors);
    }
    subrequests::lint(&subrequests::LintInput {
        spec: &file,
        files: &check.files,
        findings: &check.findings,
        build_error: check.failure.map(|f| subrequests::BuildFailure {
            message: f.message,
            locations: f.errors.iter().map(|e| e.location).collect(),
        }),
    });
    subrequests::targets(&file, check.spec.as_ref());
    let _ = subrequests::outline(&subrequests::OutlineInput {
        spec: &file,
        target: opts.get("target").map(String::as_str),
        extra_args: &[],
        secrets: &[],
        ssh: &[],
        cache_ids: &[],
    });
}

/// A build context in memory for the `spec` target: the spec, go.mod at the
/// root, and the same main.go in every directory; images stay unresolved.
struct MemoryHost {
    spec: Vec<u8>,
    go_mod: Vec<u8>,
    go_file: Vec<u8>,
}

impl driver::Host for MemoryHost {
    async fn spec(&self, filename: &str) -> Result<driver::SpecSource, driver::DriverError> {
        Ok(driver::SpecSource {
            file: SourceFile {
                filename: filename.to_string(),
                data: self.spec.clone(),
                language: "toml".to_string(),
            },
            dockerignore: None,
        })
    }

    async fn context_dockerignore(&self) -> Result<Option<Vec<u8>>, driver::DriverError> {
        Ok(None)
    }

    fn session_for(&self, _name: &str) -> Option<String> {
        None
    }

    async fn read(
        &self,
        _context: &State,
        reads: driver::Reads,
    ) -> Result<driver::Found, driver::DriverError> {
        let mut found = driver::Found::default();
        for dir in reads.dirs {
            let mut names = std::collections::BTreeSet::from(["main.go".to_string()]);
            if dir.is_empty() {
                names.insert("go.mod".to_string());
            }
            found.listed.insert(dir, Some(names));
        }
        for path in reads.files {
            let data = if path == "go.mod" {
                Ok(self.go_mod.clone())
            } else if path == "main.go" || path.ends_with("/main.go") {
                Ok(self.go_file.clone())
            } else {
                Err("no such file or directory".to_string())
            };
            found.read.insert(path, data);
        }
        Ok(found)
    }

    async fn resolve(
        &self,
        _role: driver::Role,
        reference: &ImageRef,
        _platform: &Platform,
    ) -> Result<SourceImage, driver::DriverError> {
        Ok(SourceImage::unresolved(reference.clone()))
    }

    async fn directories_in(
        &self,
        _image: llb::pb::Definition,
        _paths: &std::collections::BTreeSet<String>,
    ) -> Result<Option<std::collections::BTreeSet<String>>, driver::DriverError> {
        Ok(None)
    }

    fn frontend_image(&self) -> Result<State, driver::DriverError> {
        Ok(llb::Image::new("golb").build())
    }

    fn build_platform(&self) -> Platform {
        Platform::linux_amd64()
    }

    async fn warn(&self, _message: &str) {}
}

/// go.mod and go.work reading, both rounds, as the gateway does them.
/// Input: `selector byte, go.mod \0 go.work \0 member go.mod \0 vendor/modules.txt`;
/// the selector picks the module's directory and which files exist.
pub fn go_module(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let dir = ["", "svc", "services/api"][usize::from(selector % 3)];
    let [go_mod, go_work, member, vendor] = parts(rest, 4)[..] else {
        return;
    };
    let mut files = BTreeMap::new();
    for (bit, name, text) in [
        (1, go_module::GO_MOD, go_mod),
        (2, go_module::GO_WORK, go_work),
        (4, go_module::VENDOR_MODULES, vendor),
    ] {
        if selector & (bit << 2) != 0 || bit == 1 {
            files.insert(go_module::join(dir, name), text.to_vec());
        }
    }
    for text in [go_mod, go_work, member] {
        golb::checks::gomod_syntax::parse(&String::from_utf8_lossy(text));
    }
    if let Ok(members) = go_module::member_paths(dir, &files) {
        for path in members {
            // Every path the second round asks for lies inside the context (property).
            assert!(
                !path.starts_with('/') && !path.split('/').any(|p| p == ".."),
                "{path}"
            );
            files.insert(path, member.to_vec());
        }
    }
    if let Ok(module) = GoModule::from_files(dir, &files) {
        let _ = module.wanted_go_release();
        let _ = module.default_binary_name();
        for d in &module.source_dirs {
            assert!(
                !d.starts_with('/') && !d.split('/').any(|p| p == ".."),
                "{d}"
            );
        }
    }
}

/// `.dockerignore` bytes into the context source's exclude patterns.
pub fn dockerignore(data: &[u8]) {
    let Ok(patterns) = dockerignore::patterns_from_bytes(".dockerignore", data) else {
        return;
    };
    for p in &patterns {
        // No empty pattern, no lone '!' and none anchored with '/' reaches
        // BuildKit (property). A line "/!x" gives "!x", a negation, exactly
        // as Docker's dockerignore.ReadAll reads it.
        assert!(!p.is_empty() && p != "!" && !p.starts_with('/'), "{p:?}");
    }
    let context = Local::new("context")
        .exclude_patterns(dockerignore::with_defaults(patterns))
        .build();
    let definition = context.marshal(&[]).expect("a Local source marshals");
    llb::dump(&definition).expect("golb's own Definition dumps");
}

/// Named contexts (`context:NAME` options) replacing the builder or the
/// runtime base. Input: first line an image reference, then `NAME=VALUE` lines.
pub fn named_context(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    image_reference(first);
    let Ok(image) = ImageRef::parse(first) else {
        return;
    };
    let opts: BTreeMap<String, String> = rest
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("context:{k}"), v.to_string()))
        .collect();
    for role in ["builder", "runtime"] {
        for platform in ["linux/amd64", "linux/arm/v7"] {
            let platform = Platform::parse(platform).expect("a known platform");
            if let Ok(Some(found)) = named_context::replacement(&opts, role, &image, &platform) {
                if let named_context::Replacement::Image(replacement) = found.replacement {
                    image_reference(&replacement.to_string());
                }
            }
        }
    }
}

/// A reference golb accepts prints as one it reads back and prints the same
/// (property): golb writes pinned references into the LLB that BuildKit
/// parses again. (Printing adds the implicit `:latest`, so the parsed values
/// may differ in that alone.)
fn image_reference(text: &str) {
    let Ok(parsed) = ImageRef::parse(text) else {
        return;
    };
    let pinned =
        parsed.pinned("sha256:0000000000000000000000000000000000000000000000000000000000000000");
    for reference in [parsed, pinned] {
        let printed = reference.to_string();
        let again = ImageRef::parse(&printed).expect("a printed reference parses");
        assert_eq!(again.to_string(), printed, "{text:?}");
        assert_eq!(
            (&again.domain, &again.path, &again.digest),
            (&reference.domain, &reference.path, &reference.digest),
            "{text:?}"
        );
    }
}

/// ldflags: split as the go command splits them, `${NAME}` templates found
/// and expanded. Input: `ldflags entry \0 build-arg lines`.
pub fn ldflags(data: &[u8]) {
    let [flag, options] = parts(data, 2)[..] else {
        return;
    };
    let flag = String::from_utf8_lossy(flag);
    let fields = checks::split_flags(&flag);
    for field in &fields {
        assert!(
            flag.contains(field.as_str()),
            "{field:?} is not in {flag:?}"
        );
    }
    let names = spec::template_names(&flag);
    // The same entry in a spec: checked, with its names declared in [args].
    let quoted = serde_json::to_string(&flag).expect("a string serializes");
    let mut text = String::from("[args]\n");
    for name in &names {
        text.push_str(&format!(
            "{} = \"x\"\n",
            serde_json::to_string(name).expect("string")
        ));
    }
    text.push_str(&format!(
        "[[binary]]\npackage = \"./cmd/x\"\nldflags = [{quoted}]\n"
    ));
    let Ok(mut spec) = Spec::parse("golb.toml", &text) else {
        return;
    };
    let opts: BTreeMap<String, String> = opts(options)
        .into_iter()
        .map(|(k, v)| (format!("build-arg:{k}"), v))
        .collect();
    overrides::apply(&mut spec, &opts);
    for flag in &spec.binaries[0].ldflags {
        checks::split_flags(&flag.value);
    }
}

/// The .go file scanner the checks use (build constraint, package, imports),
/// the file-selection rules, `//go:embed` patterns and the walk of the
/// build's own packages (`go_packages`). Input: a .go file.
pub fn go_source(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let header = checks::go_source::scan(&text);
    for import in &header.imports {
        assert!(import.line >= 1, "{import:?}");
    }
    let tags = ["netgo".to_string(), "osusergo".to_string()];
    for name in [
        "main.go",
        "x_linux.go",
        "x_windows_amd64.go",
        "x_test.go",
        "_x.go",
    ] {
        checks::go_source::is_compiled(name, &header, &tags);
    }
    // The walk of the build's own packages, with this file as the main
    // package and as a package it may import: every pattern it keeps stays in
    // the package's directory, and the walk ends.
    for pattern in golb::go_packages::embed_patterns(&text) {
        assert!(!pattern.is_empty());
    }
    let module = golb::go_module::GoModule::from_files(
        "",
        &BTreeMap::from([(
            "go.mod".to_string(),
            b"module example.com/m\ngo 1.26\n".to_vec(),
        )]),
    );
    if let (Ok(module), Ok(spec)) = (module, Spec::parse("golb.toml", "")) {
        let binary = plan::binaries(&spec, &module);
        let mut walk = golb::go_packages::PackageWalk::new(&module, &binary);
        for _ in 0..64 {
            let wanted = walk.wanted();
            if wanted.is_empty() {
                break;
            }
            for dir in wanted.list {
                walk.listed(&dir, Some(vec!["a.go".to_string()]));
            }
            for path in wanted.read {
                walk.read(&path, Some(data));
            }
        }
        assert!(walk.wanted().is_empty(), "the walk of one file did not end");
        for pattern in &walk.finish().embed_patterns {
            assert!(
                !pattern.starts_with('/') && !pattern.split('/').any(|part| part == ".."),
                "{pattern}"
            );
        }
    }
}

/// A base image's config as ResolveImageConfig returns it, merged into the
/// runtime image's config; and input metadata (`input-metadata:NAME`) as
/// buildx bake sends it. Input: `config bytes \0 metadata JSON \0 spec`.
pub fn image_config(data: &[u8]) {
    let [config, metadata, spec_bytes] = parts(data, 3)[..] else {
        return;
    };
    let opts = BTreeMap::from([(
        "input-metadata:base".to_string(),
        String::from_utf8_lossy(metadata).into_owned(),
    )]);
    let _ = golb::gateway::input_image_config(&opts, "base");
    let Ok(base) = image_config::parse_base("base", config) else {
        return;
    };
    image_config::env_of(&base);
    let runtime = Spec::parse_bytes("golb.toml", spec_bytes)
        .map(|s| s.runtime)
        .unwrap_or_default();
    let platform = Platform::linux_amd64();
    let merged = image_config::runtime_config(
        &base,
        &image_config::RuntimeImage {
            spec: &runtime,
            default_entrypoint: Some(vec!["/usr/local/bin/x".to_string()]),
            platform: &platform,
            created: &image_config::rfc3339(0),
            layer_descriptions: vec!["golb".to_string()],
        },
    );
    // The result is sent to BuildKit as JSON (property: it serializes).
    serde_json::to_vec(&merged).expect("the config serializes");
}

/// A Definition from BuildKit (a frontend input: `input:NAME` contexts),
/// taken as a state, built on and marshaled again. Input: protobuf bytes.
pub fn definition(data: &[u8]) {
    let Ok(definition) = llb::pb::Definition::decode(data) else {
        return;
    };
    let _ = llb::dump(&definition);
    let Ok(state) = State::from_definition(definition) else {
        return;
    };
    let on_top = llb::File::new(state.clone())
        .mkdir(llb::Mkdir::new("/golb", 0o755))
        .build();
    for state in [state, on_top] {
        if let Ok(marshaled) = state.marshal(&[]) {
            let _ = llb::dump(&marshaled);
        }
    }
}

/// Error statuses BuildKit returns (a failed solve's details passed through
/// to the client) and readdir/stat replies. Input: `code byte, message \0
/// details (an encoded google.rpc.Status)`.
pub fn gateway_errors(data: &[u8]) {
    let Some((&code, rest)) = data.split_first() else {
        return;
    };
    let [message, details] = parts(rest, 2)[..] else {
        return;
    };
    let status = tonic::Status::with_details(
        tonic::Code::from(i32::from(code % 17)),
        String::from_utf8_lossy(message),
        details.to_vec().into(),
    );
    let converted = errdefs::from_tonic(&status);
    // What golb returns to BuildKit encodes (property).
    converted.encode_to_vec();
    let stat = golb_proto::gateway::FileStat {
        mode: u32::from_le_bytes([code, 0, 0, code]),
        uid: 0,
        gid: 0,
    };
    let _ = stat.is_dir();
}
