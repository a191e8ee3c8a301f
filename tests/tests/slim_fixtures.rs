//! The UPX fixture the image-slimming toolkit will build on, proven on the
//! real BuildKit with a plain Dockerfile (golb's `compress` is not wired
//! yet; docs/size.md): the UPX image packs a Go binary reproducibly, and the
//! packed binary runs. The cgo builder, the glibc base and the alpine
//! stand-in are proven through golb itself in tests/tests/slim.rs.

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
