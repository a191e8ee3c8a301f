//! The SBOM step of a platform's result (`golb step sbom`, asked for by
//! `attest:sbom`): it reads the binaries just built, the module's sums and
//! the `[[file]]`s golb lays, and writes one SPDX document, which the
//! gateway attaches as that platform's SBOM attestation.
//!
//! It runs on the builder image (already pulled for the build; golb's
//! binary is static, so nothing of the image is used), without a network,
//! and its inputs are only what the document is made from, so it is cached
//! exactly as long as the document would not change.

use super::go_steps::{golb_mount, GoSteps};
use super::{BinaryPlan, PlanError, PlanInput, Target, SPEC_SOURCE, SPEC_TOP};
use crate::go_build;
use crate::options::Step;
use golb_proto::llb::{Exec, Mount, State};

/// Where the step reads its inputs and writes the document.
const INPUTS: &str = "/run/golb/sbom";
const OUT: &str = "/run/golb/sbom-out";
/// The document's path in the step's output, and so in the attestation.
pub const SBOM_PATH: &str = "/sbom.spdx.json";

/// The SBOM of `target`'s result: `built` are its binaries, laid at
/// `binary_dir` ("" for `--target binaries`, whose files sit at the root).
pub(super) fn sbom(
    input: &PlanInput<'_>,
    go: &GoSteps,
    target: &Target,
    built: &[(BinaryPlan, State)],
    binary_dir: &str,
) -> Result<State, PlanError> {
    let mut args: Vec<String> = vec![
        go_build::GOLB_BIN.to_string(),
        "step".into(),
        "sbom".into(),
        "--out".into(),
        format!("{OUT}{SBOM_PATH}"),
        "--name".into(),
        input.module.path.clone(),
        "--platform".into(),
        target.platform.to_string(),
        "--builder".into(),
        input.builder.reference.to_string(),
        "--source-date-epoch".into(),
        input.options.source_date_epoch.to_string(),
    ];
    let runtime = target.base.as_ref().filter(|_| !binary_dir.is_empty());
    if let Some(base) = runtime {
        args.extend(["--runtime".into(), base.reference.to_string()]);
    }
    let mut mounts = vec![golb_mount(input), Mount::scratch(OUT)];
    for (index, (binary, output)) in built.iter().enumerate() {
        let at = format!("{INPUTS}/bin/{index}");
        args.extend([
            "--binary".into(),
            format!("{at}/{}={binary_dir}/{}", binary.name, binary.name),
        ]);
        mounts.push(Mount::readonly_bind(at, output.clone()));
    }
    if let Some(sums) = &go.files.sums {
        let at = format!("{INPUTS}/sums");
        for file in input.module.module_files.iter() {
            if go_build::is_sum_file(file) {
                args.extend(["--go-sum".into(), format!("{at}/{file}")]);
            }
        }
        mounts.push(Mount::readonly_bind(at, sums.clone()));
    }
    // The files golb lays into an image, as the context holds them.
    if runtime.is_some() && !input.spec.files.is_empty() {
        let at = format!("{INPUTS}/context");
        for file in &input.spec.files {
            args.extend([
                "--file".into(),
                format!("{at}/{}={}", file.src.trim_start_matches('/'), file.dest),
            ]);
        }
        mounts.push(Mount::readonly_bind(at, input.context.clone()));
    }
    let exec = mounts
        .into_iter()
        .fold(Exec::new(go.builder.clone(), args), Exec::mount)
        .custom_name(format!("[golb] SBOM ({})", target.platform))
        // Part of the build: `--no-cache` makes the document again too.
        .ignore_cache(input.options.no_cache.covers(Step::Build))
        .network_none()
        .location(SPEC_SOURCE, SPEC_TOP);
    Ok(exec.build().output(OUT)?)
}
