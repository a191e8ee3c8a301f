//! The harness fixtures the image-slimming toolkit will build on, proven on
//! the real BuildKit with plain Dockerfiles (golb's `cgo`, `compress` and
//! base presets are not wired yet; docs/size.md):
//! - the UPX image packs a Go binary reproducibly, and the packed binary runs;
//! - the cgo builder compiles tests/fixtures/cgo-sqlite (SQLite's C sources), which
//!   runs on the glibc base and cannot start on the static one;
//! - the alpine stand-in has a shell and runs a Go binary as 65532.

use golb_e2e::*;
use std::path::Path;

/// The Dockerfile stage that builds examples/hello's server to /out/server
/// on the golang fixture, as golb would (static, stripped).
const HELLO_BUILD: &str = r#"FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod ./
COPY cmd ./cmd
RUN --mount=type=cache,id=golb-e2e-slim-build,target=/root/.cache/go-build ["go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", "/out/server", "./cmd/server"]
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The Dockerfile build of `target` in `dir` with `args`; returns the log.
fn build(dir: &Path, target: &str, args: &[&str]) -> String {
    let h = harness();
    let mut cmd = buildctl_dockerfile(h, dir);
    cmd.args(["--opt", &format!("target={target}")]).args(args);
    run_ok(&mut cmd)
}

/// The `RUN` output lines of a plain-progress log (`#12 0.123 text`).
fn run_output(log: &str) -> String {
    log.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('#')?;
            let mut parts = rest.splitn(3, ' ');
            let (_, time, text) = (parts.next()?, parts.next()?, parts.next()?);
            time.parse::<f64>().ok().map(|_| text.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn upx_packs_a_go_binary_reproducibly_and_it_still_runs() {
    let h = harness();
    let ctx = TempDir::new("slim-upx");
    copy_tree(&example_dir("hello"), ctx.path());
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            r#"{HELLO_BUILD}
FROM {upx} AS pack
COPY --from=build /out/server /in/server
WORKDIR /out
RUN ["upx", "--best", "--lzma", "-q", "-o", "/out/server", "/in/server"]

FROM scratch AS packed
COPY --from=build /out/server /plain
COPY --from=pack /out/server /server

FROM gcr.io/distroless/static-debian12:nonroot AS run
COPY --from=pack /out/server /server
RUN ["/server", "-version"]
"#,
            upx = h.var("GOLB_UPX_IMAGE")
        ),
    );
    let mut packed = Vec::new();
    for round in ["first", "second"] {
        let out = ctx.path().join(format!("out-{round}"));
        build(
            ctx.path(),
            "packed",
            // Only UPX runs again: the same input must give the same bytes.
            &[
                "--opt",
                "no-cache=pack",
                "--output",
                &format!("type=local,dest={}", out.display()),
            ],
        );
        packed.push((
            std::fs::read(out.join("server")).unwrap(),
            std::fs::read(out.join("plain")).unwrap(),
        ));
    }
    let ((first, plain), (second, _)) = (&packed[0], &packed[1]);
    assert_eq!(
        first, second,
        "UPX gave different bytes for the same binary"
    );
    assert!(first.starts_with(b"\x7fELF") && contains(first, b"UPX!"));
    assert!(
        first.len() * 2 < plain.len(),
        "packed {} bytes, plain {}",
        first.len(),
        plain.len()
    );
    let log = build(ctx.path(), "run", &["--opt", "no-cache=run"]);
    assert!(
        run_output(&log).contains("hello dev"),
        "the packed binary did not print its version:\n{log}"
    );
}

#[test]
fn cgo_builder_builds_sqlite_which_needs_the_glibc_base() {
    let h = harness();
    let ctx = TempDir::new("slim-cgo");
    copy_tree(&repo_root().join("tests/fixtures/cgo-sqlite"), ctx.path());
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            r#"FROM {cgo} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,id=golb-e2e-cgo-mod,target=/go/pkg/mod ["go", "mod", "download"]
COPY cmd ./cmd
ENV CGO_ENABLED=1
RUN --mount=type=cache,id=golb-e2e-cgo-mod,target=/go/pkg/mod --mount=type=cache,id=golb-e2e-cgo-build,target=/root/.cache/go-build ["go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", "/out/notes", "./cmd/notes"]

FROM gcr.io/distroless/base-debian12:nonroot AS glibc
COPY --from=build /out/notes /usr/local/bin/notes
RUN ["/usr/local/bin/notes", "-db", "/tmp/notes.db", "first", "second"]

FROM gcr.io/distroless/static-debian12:nonroot AS static
COPY --from=build /out/notes /usr/local/bin/notes
RUN ["/usr/local/bin/notes", "-version"]
"#,
            cgo = h.var("GOLB_GOLANG_CGO_IMAGE")
        ),
    );
    let log = build(ctx.path(), "glibc", &["--opt", "no-cache=glibc"]);
    let printed = run_output(&log);
    assert!(
        printed.contains("sqlite 3.") && printed.contains(": 2 notes in /tmp/notes.db"),
        "the cgo binary did not use SQLite:\n{log}"
    );
    // The same binary on the static base: no dynamic loader, so it cannot start.
    let mut cmd = buildctl_dockerfile(h, ctx.path());
    let failed = run_fails(cmd.args(["--opt", "target=static"]));
    assert!(
        failed.contains("no such file or directory"),
        "expected the missing loader to stop it:\n{failed}"
    );
}

#[test]
fn alpine_stand_in_has_a_shell_and_runs_go_as_nonroot() {
    let h = harness();
    let ctx = TempDir::new("slim-alpine");
    copy_tree(&example_dir("hello"), ctx.path());
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            r#"{HELLO_BUILD}
FROM {alpine} AS run
COPY --from=build /out/server /usr/local/bin/server
USER 65532:65532
RUN /usr/local/bin/server -version && id -u && echo "shell $0"
"#,
            alpine = h.var("GOLB_ALPINE_IMAGE")
        ),
    );
    let log = build(ctx.path(), "run", &["--opt", "no-cache=run"]);
    let printed = run_output(&log);
    for line in ["hello dev", "65532", "shell /bin/sh"] {
        assert!(
            printed.lines().any(|l| l.trim() == line),
            "no {line:?} in:\n{log}"
        );
    }
}
