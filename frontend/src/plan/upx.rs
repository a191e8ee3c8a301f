//! `compress = "upx"`: each binary of the image packed by the UPX in the
//! image `upx_image` names, on the build platform, with no network. The
//! image is resolved as the builder is (`driver`, `Role::Upx`): pinned by
//! digest, locked by golb.lock, recorded in replays, and replaced by a
//! named context (`--build-context upx=…` or its reference). The
//! size step reads the unpacked binaries (a packed one hides its pclntab
//! and build info); the image's layer holds the packed ones. UPX's output
//! depends on its input and version only (slim_fixtures.rs shows it).

use super::{image_source, BinaryPlan, PlanError, PlanInput, SourceImage, SPEC_SOURCE};
use crate::image_ref::ImageRef;
use crate::spec::{Spec, SpecError};
use golb_proto::llb::{Exec, Mount, Platform, State};

/// The architectures UPX 4.2 packs Linux ELF executables for.
const PACKABLE: [&str; 6] = ["amd64", "386", "arm", "arm64", "ppc64le", "mipsle"];

/// PATH in the UPX image (its config is not read: it needs only `upx`).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A target platform UPX cannot pack, as a spec error at `upx_image`.
pub fn errors(spec: &Spec, platforms: &[Platform]) -> Vec<SpecError> {
    let Some(image) = &spec.runtime.upx_image else {
        return Vec::new();
    };
    platforms
        .iter()
        .filter(|p| p.os != "linux" || !PACKABLE.contains(&p.architecture.as_str()))
        .map(|p| {
            spec.error_at(
                image.location,
                format!(
                    "compress = \"upx\" cannot pack binaries for {p}: UPX packs Linux executables for {} only; build {p} without compress, or leave it out of --platform",
                    PACKABLE.join(", ")
                ),
            )
        })
        .collect()
}

/// The binaries packed, when the spec asks; else as built.
pub(super) fn pack(
    input: &PlanInput<'_>,
    target: &Platform,
    built: &[(BinaryPlan, State)],
) -> Result<Vec<(BinaryPlan, State)>, PlanError> {
    let Some(image) = &input.spec.runtime.upx_image else {
        return Ok(built.to_vec());
    };
    let location = image.location;
    let upx = match input.upx {
        Some(SourceImage {
            replacement: Some(replacement),
            ..
        }) => replacement.clone(),
        Some(resolved) => upx_source(input, &resolved.reference, location),
        // Planned without resolution (no host asked): the image as named;
        // the spec checked that it parses.
        None => match ImageRef::parse(&image.value) {
            Ok(reference) => upx_source(input, &reference, location),
            Err(e) => {
                return Err(PlanError::Spec(
                    input.spec.error_at(location, e.to_string()),
                ))
            }
        },
    };
    let mut packed = Vec::new();
    for (binary, output) in built {
        let exec = Exec::new(
            upx.clone(),
            vec![
                "upx".into(),
                "--best".into(),
                "--lzma".into(),
                "-q".into(),
                "-o".into(),
                format!("/out/{}", binary.name),
                format!("/in/{}", binary.name),
            ],
        )
        .env("PATH", PATH)
        .cwd("/")
        .mount(Mount::readonly_bind("/in", output.clone()))
        .mount(Mount::scratch("/out"))
        .network_none()
        .custom_name(format!("[golb] upx {} ({target})", binary.name))
        .location(SPEC_SOURCE, location);
        packed.push((binary.clone(), exec.build().output("/out")?));
    }
    Ok(packed)
}

/// The UPX image's filesystem on the build platform.
fn upx_source(
    input: &PlanInput<'_>,
    reference: &ImageRef,
    location: crate::spec::Location,
) -> State {
    image_source(
        reference,
        input.build_platform,
        format!("[runtime] upx_image {reference}"),
        input.options,
    )
    .location(SPEC_SOURCE, location)
    .build()
}
