//! The runtime image's layers: the base (or the named context replacing
//! it), one layer per `[[file]]`, then one layer of binaries, each laid so
//! that its bytes depend on its content and SOURCE_DATE_EPOCH only.

use super::{image_source, BinaryPlan, PlanInput, SourceImage, Target, SPEC_SOURCE, SPEC_TOP};
use crate::options::BuildOptions;
use crate::preset::{self, Preset};
use crate::spec::Spec;
use golb_proto::llb::{Copy, File, Mkdir, Platform, State};
use std::collections::BTreeSet;

/// The runtime base's filesystem for `platform`: the pinned image, or the
/// named context that replaces it.
pub fn base_source(
    spec: &Spec,
    base: &SourceImage,
    platform: &Platform,
    options: &BuildOptions,
) -> State {
    if let Some(replacement) = &base.replacement {
        return replacement.clone();
    }
    let image = image_source(
        &base.reference,
        platform,
        format!("[runtime] {} ({})", base.reference, platform),
        options,
    );
    let runtime = &spec.runtime;
    let location = runtime
        .base
        .as_ref()
        .map(|b| b.location)
        .or(runtime.location)
        .unwrap_or(SPEC_TOP);
    let image = image.location(SPEC_SOURCE, location).build();
    match preset::of_spec(spec) {
        Some(Preset::Scratch) => preset::scratch_layer(
            image,
            preset::wants_timezones(spec),
            options.source_date_epoch.saturating_mul(1_000_000_000),
        )
        .custom_name(format!("[golb] scratch preset ({platform})"))
        .location(SPEC_SOURCE, location)
        .build(),
        _ => image,
    }
}

/// The paths whose existence in the runtime base decides where each
/// `[[file]]` is laid: every destination and its parent directories.
pub fn file_destination_paths(spec: &Spec) -> BTreeSet<String> {
    spec.files
        .iter()
        .flat_map(|f| ancestors_and_self(&f.dest))
        .collect()
}

/// "/a/b/c" → ["/a", "/a/b", "/a/b/c"].
fn ancestors_and_self(path: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        paths.push(at.clone());
    }
    paths
}

/// Where a `[[file]]` is laid over the base: the deepest directory of its
/// destination path that the base has (the destination itself when it is a
/// directory there). The layer copies into it, so it and everything above it
/// keep the base's owner, mode and times; what is below is new. Without a
/// look at the base, the destination's parent.
fn file_anchor(dest: &str, existing_dirs: Option<&BTreeSet<String>>) -> String {
    let paths = ancestors_and_self(dest);
    match existing_dirs {
        Some(dirs) => paths
            .iter()
            .take_while(|p| dirs.contains(*p))
            .last()
            .cloned()
            .unwrap_or_else(|| "/".to_string()),
        None => match paths.len() {
            0 | 1 => "/".to_string(),
            n => paths[n - 2].clone(),
        },
    }
}

/// Lays a staged tree over `onto` at `at` (a directory `onto` has) as one
/// layer. A directory copy keeps the owner, mode and times of its target
/// directory (fsutil restores them), and gives what it creates below the
/// copy's time after their contents are in, so the layer's bytes depend on
/// its content and SOURCE_DATE_EPOCH only — copying single files into, say,
/// /usr directly would stamp /usr with the build's wall clock.
fn overlay(onto: State, staged: State, at: &str, timestamp: i64) -> File {
    File::new(onto).copy(
        Copy::new(staged, "/", at)
            .dir_copy_contents(true)
            // Only a guessed target may be missing (no look at the base).
            .create_dest_path(at != "/")
            .timestamp_unix_nanos(timestamp),
    )
}

/// One layer per `[[file]]`, below the binaries' layer: files change less
/// often than code, so their layers stay cached while binaries are rebuilt.
/// Directories the base has keep their owner and mode (a file into /tmp must
/// not take /tmp's sticky bit away); new parent directories are 0755 and
/// owned like the file, as `COPY --chown` makes them.
pub(super) fn files_layers(
    input: &PlanInput<'_>,
    base: State,
    existing_dirs: Option<&BTreeSet<String>>,
) -> State {
    let timestamp = input
        .options
        .source_date_epoch
        .saturating_mul(1_000_000_000);
    input.spec.files.iter().fold(base, |onto, file| {
        let anchor = file_anchor(&file.dest, existing_dirs);
        // The destination relative to the anchor, as a path in the stage.
        let below = file.dest[anchor.len()..].trim_start_matches('/');
        let mut stage = File::new(State::scratch());
        if let Some((parents, _)) = below.rsplit_once('/') {
            stage = stage.mkdir(
                Mkdir::new(format!("/{parents}"), 0o755)
                    .make_parents(true)
                    .owner(file.uid, file.gid)
                    .timestamp_unix_nanos(timestamp),
            );
        }
        let mut copy = Copy::new(
            input.context.clone(),
            format!("/{}", file.src),
            format!("/{below}"),
        )
        .owner(file.uid, file.gid)
        .dir_copy_contents(true)
        // As Dockerfile COPY: a link named as src is copied as what it points
        // to, resolved inside the context (a link out of it is "not found"),
        // never as a link into the builder's host.
        .follow_symlink(true)
        .timestamp_unix_nanos(timestamp);
        if let Some(mode) = file.mode {
            copy = copy.mode(mode);
        }
        let staged = stage
            .copy(copy)
            .custom_name(format!("[golb] stage {}", file.src))
            .location(SPEC_SOURCE, file.location)
            .build();
        overlay(onto, staged, &anchor, timestamp)
            .custom_name(format!("[golb] copy {} to {}", file.src, file.dest))
            .location(SPEC_SOURCE, file.location)
            .build()
    })
}

/// The binaries in `dir`, root-owned, 0755, at a fixed time: on their own
/// (scratch `onto`, the binaries target), or as one layer over `onto`.
pub(super) fn binaries_layer(
    input: &PlanInput<'_>,
    target: &Target,
    onto: State,
    built: &[(BinaryPlan, State)],
    dir: &str,
) -> State {
    let timestamp = input
        .options
        .source_date_epoch
        .saturating_mul(1_000_000_000);
    let names: Vec<&str> = built.iter().map(|(b, _)| b.name.as_str()).collect();
    let mut staged = File::new(State::scratch());
    for (binary, output) in built {
        staged = staged.copy(
            Copy::new(
                output.clone(),
                format!("/{}", binary.name),
                format!("{dir}/{}", binary.name),
            )
            .owner(0, 0)
            .mode(0o755)
            .create_dest_path(true)
            .timestamp_unix_nanos(timestamp),
        );
    }
    // The layer exists because of the binaries: point at their tables.
    let locate = |file: File| {
        built.iter().fold(file, |file, (binary, _)| {
            file.location(SPEC_SOURCE, binary.location)
        })
    };
    if onto.is_scratch() {
        return locate(staged.custom_name(format!(
            "[golb] copy {} into the binaries result ({})",
            names.join(", "),
            target.platform
        )))
        .build();
    }
    let staged = locate(staged.custom_name(format!(
        "[golb] stage {} ({})",
        names.join(", "),
        target.platform
    )))
    .build();
    locate(overlay(onto, staged, "/", timestamp).custom_name(format!(
        "[golb] copy {} into the runtime image ({})",
        names.join(", "),
        target.platform
    )))
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_laid_into_the_deepest_directory_the_base_has() {
        let dirs: BTreeSet<String> = ["/etc", "/tmp", "/home", "/home/nonroot"]
            .into_iter()
            .map(String::from)
            .collect();
        let anchor = |dest: &str| file_anchor(dest, Some(&dirs));
        assert_eq!(anchor("/etc/site/site.conf"), "/etc");
        assert_eq!(anchor("/tmp/seed.db"), "/tmp");
        assert_eq!(anchor("/home/nonroot/.config/app.yaml"), "/home/nonroot");
        assert_eq!(anchor("/srv/www/index.html"), "/");
        // A destination that is a directory in the base receives the contents.
        assert_eq!(anchor("/etc"), "/etc");
        // Without a look at the base: the parent.
        assert_eq!(file_anchor("/etc/site/site.conf", None), "/etc/site");
        assert_eq!(file_anchor("/app.conf", None), "/");
        assert_eq!(
            file_destination_paths(
                &Spec::parse(
                    "golb.toml",
                    "[[file]]\nsrc = \"a\"\ndest = \"/etc/site/a.conf\"\n"
                )
                .unwrap()
            )
            .into_iter()
            .collect::<Vec<_>>(),
            ["/etc", "/etc/site", "/etc/site/a.conf"]
        );
    }
}
