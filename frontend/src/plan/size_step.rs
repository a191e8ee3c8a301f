//! The size step of an image build: `golb step size` over the built
//! binaries, the finished image and its base (and the baseline image the
//! build argument SIZE_BASELINE names). It writes the reports the `size`
//! target exports, the summary every image build shows, and the size
//! gate's verdict, which the frontend turns into the build's failure.

use super::go_steps::golb_mount;
use super::{BinaryPlan, PlanInput, SPEC_SOURCE, SPEC_TOP};
use crate::go_build;
use crate::image_ref::ImageRef;
use golb_proto::llb::{ContentCache, Exec, Mount, Platform, State};

/// Where the step's files are, in the step and in its result.
const DIR: &str = "/run/golb/size";
const OUT: &str = "/run/golb/size/out";
/// Where the context's Go inputs are mounted, for the files `//go:embed`
/// names (only when the build's packages embed any).
const CONTEXT: &str = "/run/golb/size/context";
/// The summary the build output shows, in the step's result.
pub const SUMMARY_FILE: &str = "summary.txt";
/// The gate's verdict in the step's result: empty when within budget.
pub const GATE_FILE: &str = "gate.txt";

/// The filesystems the size step reads besides the binaries.
pub(super) struct Filesystems<'a> {
    /// The finished image.
    pub image: &'a State,
    /// Its base (for scratch, golb's preset layer).
    pub base: &'a State,
    /// The context's Go inputs, as `go build` sees them: they hold the
    /// embedded files.
    pub go_inputs: &'a State,
}

/// The size step for one platform: its result holds size.json, size.md,
/// size.html, summary.txt and gate.txt.
pub(super) fn size_step(
    input: &PlanInput<'_>,
    platform: &Platform,
    built: &[(BinaryPlan, State)],
    filesystems: Filesystems<'_>,
) -> Result<State, golb_proto::llb::LlbError> {
    let Filesystems {
        image,
        base,
        go_inputs,
    } = filesystems;
    let runtime = &input.spec.runtime;
    // The binaries are read where the image has them, so that a build whose
    // image comes from an imported cache needs no `go build` result besides;
    // packed by UPX they have no tables left to read, and are read as built.
    let packed = runtime.upx_image.is_some();
    let mut args: Vec<String> = vec![go_build::GOLB_BIN.into(), "step".into(), "size".into()];
    for (binary, _) in built {
        args.push("--binary".into());
        args.push(match packed {
            true => format!("{DIR}/in/{0}/{0}", binary.name),
            false => format!("{DIR}/image{}/{}", go_build::BINARY_DIR, binary.name),
        });
    }
    for (flag, file) in [
        ("--json", "size.json"),
        ("--markdown", "size.md"),
        ("--html", "size.html"),
        ("--summary", SUMMARY_FILE),
        ("--gate", GATE_FILE),
    ] {
        args.push(flag.into());
        args.push(format!("{OUT}/{file}"));
    }
    args.extend([
        "--image-root".into(),
        format!("{DIR}/image"),
        "--base-root".into(),
        format!("{DIR}/base"),
    ]);
    for (flag, budget) in [
        ("--max-image", &runtime.max_image_size),
        ("--max-layer", &runtime.max_layer_size),
        ("--max-growth", &runtime.max_growth),
    ] {
        if let Some(budget) = budget {
            args.push(flag.into());
            args.push(budget.value.to_string());
        }
    }
    // Embedded bytes are attributed apart: each embedding package's
    // directory in the Go inputs and its patterns, which the step resolves
    // as `go build` does (the frontend sees only the package directories'
    // listings, not the trees a pattern may name).
    let embedding = &input.sources.embedding_packages;
    for (package, embeds) in embedding {
        args.push("--embed-root".into());
        args.push(match embeds.dir.is_empty() {
            true => format!("{package}={CONTEXT}"),
            false => format!("{package}={CONTEXT}/{}", embeds.dir),
        });
        for pattern in &embeds.patterns {
            args.push("--embed-pattern".into());
            args.push(format!("{package}={pattern}"));
        }
    }
    let baseline = runtime
        .size_baseline
        .as_ref()
        .map(|reference| baseline_image(input, reference, platform));
    if baseline.is_some() {
        args.push("--baseline-root".into());
        args.push(format!("{DIR}/baseline"));
    }
    let location = [
        &runtime.max_image_size,
        &runtime.max_layer_size,
        &runtime.max_growth,
    ]
    .into_iter()
    .flatten()
    .map(|b| b.location)
    .next()
    .or(runtime.location)
    .unwrap_or(SPEC_TOP);
    // golb's own image is the step's root: BuildKit has it already (it runs
    // the frontend from it), where the builder image would be pulled on a
    // fresh runner for a step that runs no Go.
    let mut exec = Exec::new(input.golb.clone(), args)
        .cwd("/")
        .env("PATH", go_build::DEFAULT_PATH)
        .mount(golb_mount(input))
        .mount(whole_image(format!("{DIR}/image"), image.clone()))
        .mount(whole_image(format!("{DIR}/base"), base.clone()))
        .mount(Mount::scratch(OUT))
        .network_none()
        .custom_name(format!("[golb] size of the image ({platform})"))
        .location(SPEC_SOURCE, location);
    if packed {
        for (binary, output) in built {
            exec = exec.mount(Mount::readonly_bind(
                format!("{DIR}/in/{}", binary.name),
                output.clone(),
            ));
        }
    }
    if !embedding.is_empty() {
        exec = exec.mount(Mount::readonly_bind(CONTEXT, go_inputs.clone()));
    }
    if let Some(baseline) = baseline {
        exec = exec.mount(whole_image(format!("{DIR}/baseline"), baseline));
    }
    exec.build().output(OUT)
}

/// An image the step reads whole, keyed on its own cache key. The finished
/// image's key already follows its content (its layers are copies, which
/// BuildKit keys on the copied files), and a base's is its digest; keyed on
/// content as well, BuildKit would hash every file of a new image, binaries
/// included, before each code edit's size step.
fn whole_image(dest: String, image: State) -> Mount {
    Mount::readonly_bind(dest, image).content_cache(ContentCache::Off)
}

/// The baseline image for `platform`, as the build argument names it.
fn baseline_image(
    input: &PlanInput<'_>,
    reference: &crate::spec::Located<String>,
    platform: &Platform,
) -> State {
    // The spec checked nothing here (a build argument): an unparsable name
    // is still passed on, for BuildKit to refuse with its own words.
    let name = ImageRef::parse(&reference.value)
        .map(|r| r.to_string())
        .unwrap_or_else(|_| reference.value.clone());
    let image = golb_proto::llb::Image::new(name.clone())
        .platform(platform.clone())
        .custom_name(format!("[size baseline] {name} ({platform})"))
        .location(SPEC_SOURCE, reference.location);
    let image = match &input.options.image_resolve_mode {
        Some(mode) => image.resolve_mode(mode.clone()),
        None => image,
    };
    image.build()
}
