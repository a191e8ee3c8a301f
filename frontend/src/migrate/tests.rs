use super::build::map_ldflags;
use super::runtime::glob_name;
use super::*;

fn repo_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Migrates `dockerfile` (a path in the repository) with `example` as the context.
fn migrate_fixture(dockerfile: &str, example: &str) -> (Migration, Spec, String) {
    let text = std::fs::read_to_string(repo_path(dockerfile)).unwrap();
    let migration = migrate("Dockerfile", &text, &repo_path(example), None, "golb:test").unwrap();
    let rendered = migration.draft.render();
    let spec = Spec::parse("golb.toml", &rendered).unwrap_or_else(|e| panic!("{e}\n{rendered}"));
    (migration, spec, rendered)
}

fn lines(notes: &[Note]) -> Vec<u32> {
    notes.iter().map(|n| n.line).collect()
}

fn note_at(notes: &[Note], line: u32) -> &Note {
    notes
        .iter()
        .find(|n| n.line == line)
        .unwrap_or_else(|| panic!("no note at line {line}: {notes:#?}"))
}

#[test]
fn the_bench_dockerfiles_map_to_the_examples_specs() {
    for (example, name) in [
        ("hello", None),
        ("heavy", None),
        ("vendored", Some("ratelimited")),
    ] {
        let (migration, spec, text) = migrate_fixture(
            &format!("bench/{example}/Dockerfile"),
            &format!("examples/{example}"),
        );
        let own = Spec::parse(
            "golb.toml",
            &std::fs::read_to_string(repo_path(&format!("examples/{example}/golb.toml"))).unwrap(),
        )
        .unwrap();
        assert_eq!(spec.binaries.len(), 1, "{text}");
        assert_eq!(
            spec.binaries[0].package.value,
            own.binaries[0].package.value
        );
        assert_eq!(
            spec.binaries[0].name.as_ref().map(|n| n.value.as_str()),
            name
        );
        assert_eq!(
            spec.binaries[0].ldflags[0].value,
            own.binaries[0].ldflags[0].value
        );
        assert_eq!(spec.runtime.expose, own.runtime.expose);
        assert_eq!(spec.runtime.env, own.runtime.env);
        assert_eq!(spec.runtime.labels, own.runtime.labels);
        assert!(
            spec.runtime.base.is_none(),
            "distroless nonroot is golb's default"
        );
        assert_eq!(spec.builder.go.as_ref().unwrap().value, "1.26");
        assert!(migration.unmapped.is_empty(), "{:#?}", migration.unmapped);
    }
}

#[test]
fn a_naive_dockerfile_drops_the_toolchain_and_says_so() {
    let (migration, spec, text) = migrate_fixture("bench/heavy/Dockerfile.naive", "examples/heavy");
    assert_eq!(spec.binaries[0].package.value, "./cmd/server");
    assert_eq!(spec.binaries[0].ldflags[0].value, "-X main.version=2.0.1");
    assert!(
        spec.runtime.workdir.is_none(),
        "/src held the sources: {text}"
    );
    assert_eq!(spec.runtime.expose.len(), 2);
    let from = note_at(&migration.changed, 4);
    assert!(from.why.contains("only the binaries"), "{from:?}");
    assert!(
        text.contains("# user = \"0\""),
        "root is a suggestion: {text}"
    );
}

#[test]
fn a_typical_alpine_multi_stage_dockerfile() {
    let (migration, spec, text) = migrate_fixture(
        "tests/fixtures/migrate/alpine-multi/Dockerfile",
        "examples/multi",
    );
    let packages: Vec<&str> = spec
        .binaries
        .iter()
        .map(|b| b.package.value.as_str())
        .collect();
    assert_eq!(packages, ["./cmd/server", "./cmd/migrate"], "{text}");
    assert_eq!(
        spec.binaries[0].ldflags[0].value,
        "-X main.version=${VERSION} -X main.revision=${COMMIT}"
    );
    assert_eq!(
        spec.binaries[1].ldflags[0].value,
        "-X main.version=${VERSION}"
    );
    assert_eq!(spec.binaries[1].tags[0].value, "netgo");
    assert_eq!(spec.args["VERSION"].value, "dev");
    assert_eq!(spec.args["COMMIT"].value, "", "ARG COMMIT had no default");
    assert_eq!(
        spec.builder.go.as_ref().unwrap().value,
        "1.26",
        "ARG GO_VERSION expanded"
    );
    assert_eq!(
        spec.modules.proxy.as_ref().unwrap().value,
        "https://proxy.golang.org,direct"
    );
    assert!(spec.modules.flags.is_none(), "-mod is golb's: {text}");
    assert_eq!(spec.runtime.base.as_ref().unwrap().value, "alpine:3.20");
    assert_eq!(spec.runtime.user.as_ref().unwrap().value, "10001:10001");
    assert_eq!(spec.runtime.env["TZ"], "UTC");
    assert_eq!(spec.runtime.env["APP_ENV"], "production");
    let ports: Vec<String> = spec
        .runtime
        .expose
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ports, ["8080/tcp", "9090/tcp"]);
    assert_eq!(
        spec.runtime.labels["org.opencontainers.image.version"],
        "dev"
    );
    assert!(
        spec.runtime.entrypoint.is_some(),
        "two binaries need an entrypoint"
    );
    assert_eq!(
        spec.runtime.args.as_ref().unwrap().value,
        ["-addr", ":8080"]
    );
    // Every instruction that did not make it is listed with its line and why.
    assert_eq!(
        lines(&migration.unmapped),
        [6, 21, 22, 31],
        "{:#?}",
        migration.unmapped
    );
    assert!(note_at(&migration.unmapped, 6)
        .text
        .starts_with("RUN apk add"));
    assert!(note_at(&migration.unmapped, 6).why.contains("runs only go"));
    assert!(note_at(&migration.unmapped, 21)
        .why
        .contains("runtime image"));
    assert!(note_at(&migration.unmapped, 22)
        .why
        .contains("not a binary golb builds"));
    assert!(note_at(&migration.unmapped, 31)
        .text
        .starts_with("HEALTHCHECK"));
    assert!(
        note_at(&migration.changed, 14)
            .why
            .contains("--target test"),
        "{:#?}",
        migration.changed
    );
    assert!(
        migration
            .changed
            .iter()
            .any(|n| n.why.contains("-extldflags")),
        "{:#?}",
        migration.changed
    );
    assert!(
        text.contains("# Not mapped"),
        "the spec lists them too: {text}"
    );
    assert!(
        text.contains("#   Dockerfile:6: RUN apk add --no-cache git ca-certificates tzdata"),
        "{text}"
    );
}

#[test]
fn distroless_with_a_config_file_and_binary_moved_to_usr_local_bin() {
    let (migration, spec, text) = migrate_fixture(
        "tests/fixtures/migrate/distroless-assets/Dockerfile",
        "examples/assets",
    );
    assert_eq!(spec.binaries[0].package.value, "./cmd/site");
    assert!(spec.binaries[0].name.is_none(), "{text}");
    assert_eq!(spec.files.len(), 1, "{text}");
    let file = &spec.files[0];
    assert_eq!(
        (file.src.as_str(), file.dest.as_str()),
        ("config/site.conf", "/etc/site/site.conf")
    );
    assert_eq!((file.uid, file.gid, file.mode), (65532, 65532, Some(0o640)));
    assert!(
        spec.runtime.entrypoint.is_none(),
        "one binary at golb's default place: {text}"
    );
    assert_eq!(
        spec.runtime.args.as_ref().unwrap().value,
        ["-config", "/etc/site/site.conf"]
    );
    assert!(spec.runtime.workdir.is_some());
    assert!(migration
        .changed
        .iter()
        .any(|n| n.why.contains("/usr/local/bin/site")));
    assert!(migration.unmapped.is_empty(), "{:#?}", migration.unmapped);
}

#[test]
fn scratch_and_a_ca_bundle_from_the_builder() {
    let (migration, spec, text) = migrate_fixture(
        "tests/fixtures/migrate/scratch-hello/Dockerfile",
        "examples/hello",
    );
    assert_eq!(
        spec.binaries[0].name.as_ref().unwrap().value,
        "hello",
        "{text}"
    );
    assert!(
        spec.runtime.base.is_none(),
        "scratch becomes distroless static"
    );
    assert_eq!(
        spec.runtime.entrypoint.as_ref().map(|e| e.value.clone()),
        None,
        "{text}"
    );
    assert!(note_at(&migration.changed, 9)
        .why
        .contains("scratch plus CA certificates"));
    let ca = note_at(&migration.unmapped, 10);
    assert!(ca.why.contains("already has CA certificates"), "{ca:?}");
    assert!(
        !text.contains("-installsuffix"),
        "golb's own flags are dropped: {text}"
    );
}

#[test]
fn one_go_build_into_a_directory_and_cmd_only() {
    let (migration, spec, text) = migrate_fixture(
        "tests/fixtures/migrate/outdir-multi/Dockerfile",
        "examples/multi",
    );
    let packages: Vec<&str> = spec
        .binaries
        .iter()
        .map(|b| b.package.value.as_str())
        .collect();
    assert_eq!(packages, ["./cmd/server", "./cmd/migrate"], "{text}");
    assert_eq!(
        spec.runtime.entrypoint.as_ref().unwrap().value,
        ["/usr/local/bin/server"]
    );
    assert_eq!(
        spec.runtime.args.as_ref().unwrap().value,
        ["-addr", ":8080"]
    );
    assert_eq!(spec.runtime.workdir.as_ref().unwrap().value, "/app");
    assert_eq!(spec.runtime.env["LOG_LEVEL"], "debug");
    assert!(migration.unmapped.is_empty(), "{:#?}", migration.unmapped);
}

#[test]
fn a_build_hidden_in_make_falls_back_to_init_and_says_so() {
    let dockerfile = "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN make build\n\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /src/bin/* /usr/local/bin/\nENTRYPOINT [\"/usr/local/bin/server\"]\n";
    let migration = migrate(
        "Dockerfile",
        dockerfile,
        &repo_path("examples/multi"),
        None,
        "golb:test",
    )
    .unwrap();
    let text = migration.draft.render();
    let spec = Spec::parse("golb.toml", &text).unwrap();
    let packages: Vec<&str> = spec
        .binaries
        .iter()
        .map(|b| b.package.value.as_str())
        .collect();
    assert_eq!(packages, ["./cmd/migrate", "./cmd/server"], "{text}");
    let make = note_at(&migration.changed, 4);
    assert!(
        make.why
            .contains("golb builds what `golb init` finds instead"),
        "{make:?}"
    );
    assert!(make.why.contains("Makefile"), "{make:?}");
    assert_eq!(
        spec.runtime.entrypoint.as_ref().unwrap().value,
        ["/usr/local/bin/server"]
    );
}

#[test]
fn shell_logic_and_syntax_errors() {
    let dockerfile = "FROM golang:1.26\nRUN if [ -f go.sum ]; then go mod download; fi\nRUN go build -o /app .\nCMD /app --flag $HOME\n";
    let migration = migrate(
        "Dockerfile",
        dockerfile,
        &repo_path("examples/hello"),
        None,
        "golb:test",
    )
    .unwrap();
    assert!(note_at(&migration.unmapped, 2).why.contains("shell logic"));
    assert!(note_at(&migration.unmapped, 4)
        .why
        .contains("shell command line"));
    let err = migrate(
        "Dockerfile",
        "FROM golang:1.26\nCOPY\n",
        Path::new("."),
        None,
        "x",
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("Dockerfile:2:"), "{err}");
    let err = migrate("Dockerfile", "# nothing\n", Path::new("."), None, "x").unwrap_err();
    assert!(err.to_string().contains("FROM"), "{err}");
}

#[test]
fn helpers() {
    assert_eq!(resolve("/src", "./cmd/../bin/app"), "/src/bin/app");
    assert_eq!(resolve("/src", "/out/"), "/out");
    assert_eq!(
        bind_mount_of_context("type=bind,target=/src"),
        Some("/src".into())
    );
    assert_eq!(
        bind_mount_of_context("type=cache,target=/root/.cache"),
        None
    );
    assert_eq!(
        bind_mount_of_context("type=bind,from=build,target=/x"),
        None
    );
    let args: BTreeMap<String, Option<String>> = [
        ("V".to_string(), Some("1.2".to_string())),
        ("U".to_string(), None),
    ]
    .into();
    assert_eq!(
        expand("golang:${V}-alpine $U ${W:-x}", &args),
        "golang:1.2-alpine $U x"
    );
    assert!(glob_name("app*", "app-linux") && !glob_name("app?", "app"));
    let (flags, notes) = map_ldflags(
        "-s -w -buildid= -X 'main.v=1 2' -X=main.c=$(git rev-parse HEAD) -linkmode external",
        &args,
    );
    assert_eq!(flags, ["-X 'main.v=1 2'", "-X main.c=${VCS_REVISION}"]);
    assert_eq!(notes.len(), 2, "{notes:?}");
}

#[test]
fn stages_named_through_platform_arguments_and_unresolvable_bases() {
    // buildx's and buildkit's Dockerfiles name their last stage this way.
    let dockerfile = "ARG DEBUG\nFROM golang:1.26 AS build\nRUN go build -o /out/server ./cmd/server\n\nFROM gcr.io/distroless/static-debian12:nonroot AS image-linux\nCOPY --from=build /out/server /server\n\nFROM image-$TARGETOS${DEBUG:+-debug}\nENTRYPOINT [\"/server\"]\n";
    let migration = migrate(
        "Dockerfile",
        dockerfile,
        &repo_path("examples/hello"),
        None,
        "golb:test",
    )
    .unwrap();
    let text = migration.draft.render();
    let spec = Spec::parse("golb.toml", &text).unwrap();
    assert!(
        spec.runtime.base.is_none(),
        "resolved to the distroless stage: {text}"
    );
    assert_eq!(spec.binaries[0].package.value, "./cmd/server");

    let unresolvable = "FROM golang:1.26 AS build\nRUN go build -o /server ./cmd/server\nFROM $BASE_IMAGE\nCOPY --from=build /server /server\n";
    let migration = migrate(
        "Dockerfile",
        unresolvable,
        &repo_path("examples/hello"),
        None,
        "golb:test",
    )
    .unwrap();
    let text = migration.draft.render();
    assert!(Spec::parse("golb.toml", &text).is_ok(), "{text}");
    assert!(
        note_at(&migration.unmapped, 3)
            .why
            .contains("set [runtime] base"),
        "{:#?}",
        migration.unmapped
    );
}
