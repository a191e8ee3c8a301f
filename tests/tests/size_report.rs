//! The HTML size report as a person sees it: `golb step size` on a real
//! binary (examples/heavy, built by the host's `go`), opened in a real
//! headless Chromium (installed by `scripts/harness up`), with the DOM dumped
//! and a screenshot decoded and checked for the treemap's colours.

use golb_e2e::*;
use std::process::Command;

/// Colours the report gives the standard library and the first two
/// dependencies (frontend/src/size/render.rs).
const STD: [u8; 3] = [0x7f, 0x8c, 0x8d];
const FIRST_DEPENDENCY: [u8; 3] = [0xe6, 0x55, 0x0d];
const SECOND_DEPENDENCY: [u8; 3] = [0x31, 0xa3, 0x54];

#[test]
fn html_report_renders_a_treemap_in_chromium() {
    let h = harness();
    let tmp = TempDir::new("size-report");
    let binary = tmp.path().join("server");
    run_ok(
        Command::new("go")
            .current_dir(example_dir("heavy"))
            .env("CGO_ENABLED", "0")
            .args(["build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o"])
            .arg(&binary)
            .arg("./cmd/server"),
    );
    let info = run_ok(Command::new("go").args(["version", "-m"]).arg(&binary));
    let mut golb = Command::new(h.golb_binary());
    golb.args(["step", "size", "--binary"])
        .arg(&binary)
        .args(["--main-module", "example.com/heavy"]);
    for line in info.lines() {
        if let ["dep", module, ..] = line.split_whitespace().collect::<Vec<_>>().as_slice() {
            golb.args(["--module", module]);
        }
    }
    let page = tmp.path().join("size.html");
    let summary = run_ok(golb.arg("--html").arg(&page));
    assert!(summary.starts_with("server 13."), "{summary}");

    // The DOM Chromium built: one treemap, a group per module, packages inside.
    let dom = chromium(&tmp.path().join("profile-dom"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(dom.contains("<svg"), "no svg in the DOM:\n{dom}");
    for group in [
        "standard library",
        "google.golang.org/protobuf",
        "google.golang.org/grpc",
        "example.com/heavy (this module)",
        "not attributed",
    ] {
        assert!(
            dom.contains(&format!("data-name=\"{group}\"")),
            "no {group} in the DOM"
        );
    }
    assert!(dom.matches("class=\"part\"").count() > 100);

    // The picture: the largest areas carry their colours.
    let shot = tmp.path().join("shot.png");
    let out = chromium(
        &tmp.path().join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
        &page,
    );
    assert!(shot.is_file(), "no screenshot: {}", text(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1280, 900));
    let channels = frame.color_type.samples();
    let count = |rgb: [u8; 3]| {
        pixels[..frame.buffer_size()]
            .chunks(channels)
            .filter(|p| p[..3] == rgb)
            .count()
    };
    let all = (frame.width * frame.height) as usize;
    // Shares of the screen; the treemap takes about 60 % of it, and the
    // standard library is half of the binary, protobuf and grpc a tenth each.
    let (std_share, first, second) = (
        count(STD) as f64 / all as f64,
        count(FIRST_DEPENDENCY) as f64 / all as f64,
        count(SECOND_DEPENDENCY) as f64 / all as f64,
    );
    assert!(
        std_share > 0.2,
        "standard library grey covers {std_share:.3} of the screenshot"
    );
    assert!(first > 0.04, "first dependency colour covers {first:.3}");
    assert!(second > 0.03, "second dependency colour covers {second:.3}");
    assert!(std_share > first && first > second);
    // Keep the screenshot for people to look at.
    let keep = repo_root().join("target/e2e/size-report.png");
    std::fs::copy(&shot, &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());
}
