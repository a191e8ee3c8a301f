//! govulncheck in a build: the tool, built on the build platform from the
//! module golb pins it with, then one scan per target platform and per group
//! of binaries that share tags and cgo, over their main packages. Each scan
//! keeps govulncheck's JSON and writes SARIF and OpenVEX (`golb step
//! vuln-report`); with `[vuln] gate` a called vulnerability fails it.
//!
//! A scan reads the same Go inputs and module snapshot as `go build`, and
//! the database's index as an HTTP source: BuildKit checks the index on
//! every build, so a scan reruns when the code, the modules or the database
//! changed, and stays cached otherwise.

use super::go_steps::{
    go_cache, go_exec, golb_mount, module_cache, source_dir, with_hosts, with_modules, GoSteps,
};
use super::{BinaryPlan, PlanError, PlanInput, SPEC_SOURCE, SPEC_TOP};
use crate::go_build::{self, VulnScan};
use crate::options::Step;
use golb_proto::llb::{Copy, File, Http, Mkfile, Mount, Platform, State};

/// Where the database index is mounted in a scan; nothing reads it there,
/// it is the scan's cache key for the database.
const DB_INDEX_DIR: &str = "/run/golb/vulndb";

/// A platform's scans, laid out as the `vuln` target exports them.
pub struct VulnPlan {
    /// The scans' outputs: at the root for one group of binaries, else one
    /// directory per group (`group_dir`).
    pub state: State,
    /// Each scan's OpenVEX document in `state`.
    pub openvex: Vec<String>,
}

/// The tool module as files, and `go build` of govulncheck from it.
pub(super) fn govulncheck(input: &PlanInput<'_>, go: &GoSteps) -> Result<State, PlanError> {
    let vuln = &input.spec.vuln;
    let location = vuln.location.unwrap_or(SPEC_TOP);
    if !go_build::builds_govulncheck(go.release.as_deref()) {
        return Err(input
            .spec
            .error_at(
                location,
                format!(
                    "govulncheck {} needs Go {} or newer to build, and the builder's Go is {}: set [builder] go = \"{}\" (or newer)",
                    go_build::GOVULNCHECK_VERSION,
                    go_build::govulncheck_go(),
                    go.release.as_deref().unwrap_or("older"),
                    go_build::govulncheck_go(),
                ),
            )
            .into());
    }
    let module = go_build::GOVULNCHECK_MODULE
        .iter()
        .fold(File::new(State::scratch()), |file, (name, text)| {
            file.mkfile(Mkfile::new(
                format!("/{name}"),
                0o644,
                text.as_bytes().to_vec(),
            ))
        })
        .custom_name(format!(
            "[golb] govulncheck {} module",
            go_build::GOVULNCHECK_VERSION
        ))
        .location(SPEC_SOURCE, location)
        .build();
    let command = go_build::govulncheck_build_command(&input.spec.modules);
    let exec = go_exec(input, go.builder.clone(), command)
        .cwd(go_build::GOVULNCHECK_SOURCE_DIR)
        .mount(Mount::readonly_bind(
            go_build::GOVULNCHECK_SOURCE_DIR,
            module,
        ))
        // The tool's modules are fetched here, so this cache only saves a
        // builder a second fetch; the binary is the result that travels.
        .mount(module_cache())
        .mount(go_cache(go, input.build_platform, &[]))
        .mount(Mount::tmpfs(go_build::TEMP_DIR))
        .mount(Mount::scratch(go_build::OUTPUT_DIR))
        .custom_name(format!(
            "[golb] go build govulncheck {}",
            go_build::GOVULNCHECK_VERSION
        ))
        .location(SPEC_SOURCE, location);
    Ok(with_hosts(exec, input.options)
        .build()
        .output(go_build::OUTPUT_DIR)?)
}

/// The binaries of one scan: same tags, same cgo.
struct Group<'a> {
    tags: Vec<String>,
    cgo: bool,
    binaries: Vec<&'a BinaryPlan>,
}

/// Binaries grouped by what changes which files compile, in a stable order.
fn groups(binaries: &[BinaryPlan]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for binary in binaries {
        let tags = go_build::tag_key(&binary.tags);
        match groups
            .iter_mut()
            .find(|g| g.tags == tags && g.cgo == binary.cgo)
        {
            Some(group) => group.binaries.push(binary),
            None => groups.push(Group {
                tags,
                cgo: binary.cgo,
                binaries: vec![binary],
            }),
        }
    }
    groups
}

/// The directory of a group's documents when there are several: its tags
/// (or "no-tags"), and "-cgo" for cgo binaries.
fn group_dir(group: &Group<'_>) -> String {
    let tags = match group.tags.is_empty() {
        true => "no-tags".to_string(),
        false => format!("tags-{}", group.tags.join("+")),
    };
    match group.cgo {
        true => format!("{tags}-cgo"),
        false => tags,
    }
}

/// Every scan for `target`, and their outputs laid out as one tree.
pub(super) fn scans(
    input: &PlanInput<'_>,
    go: &GoSteps,
    tool: &State,
    build_inputs: &State,
    binaries: &[BinaryPlan],
    target: &Platform,
) -> Result<VulnPlan, PlanError> {
    let vuln = &input.spec.vuln;
    let db_index = Http::new(format!(
        "{}/index/db.json.gz",
        vuln.db.value.trim_end_matches('/')
    ))
    .filename("db.json.gz")
    .custom_name(format!("[golb] vulnerability database {}", vuln.db.value))
    .location(SPEC_SOURCE, vuln.db.location)
    .build();
    let groups = groups(binaries);
    let mut outputs = Vec::new();
    for group in &groups {
        let packages: Vec<String> = group.binaries.iter().map(|b| b.package.clone()).collect();
        let scan = VulnScan {
            packages: &packages,
            tags: &group.tags,
            cgo: group.cgo,
            cc: input.spec.builder.cc_command(target),
            target,
        };
        let command = go_build::vuln_command(
            input.module,
            &input.spec.modules,
            vuln,
            &scan,
            input.options.source_date_epoch,
        );
        let tags: Vec<&str> = group.tags.iter().map(String::as_str).collect();
        let exec = go_exec(input, go.builder.clone(), command)
            .cwd(source_dir(input.module))
            .mount(Mount::readonly_bind(
                go_build::SOURCE_DIR,
                build_inputs.clone(),
            ))
            .mount(golb_mount(input))
            .mount(
                Mount::readonly_bind(go_build::GOVULNCHECK_BIN, tool.clone())
                    .selector("/govulncheck"),
            )
            .mount(Mount::readonly_bind(DB_INDEX_DIR, db_index.clone()))
            .mount(go_cache(go, target, &tags))
            .mount(Mount::tmpfs(go_build::TEMP_DIR))
            .mount(Mount::scratch(go_build::OUTPUT_DIR))
            .custom_name(format!(
                "[golb] govulncheck {} ({target})",
                packages.join(" ")
            ))
            .ignore_cache(input.options.no_cache.covers(Step::Vuln))
            .location(SPEC_SOURCE, vuln.location.unwrap_or(SPEC_TOP));
        let exec = with_modules(with_hosts(exec, input.options), go);
        outputs.push((group_dir(group), exec.build().output(go_build::OUTPUT_DIR)?));
    }
    match outputs.as_slice() {
        [(_, only)] => Ok(VulnPlan {
            state: only.clone(),
            openvex: vec![format!("/{}", go_build::VULN_OPENVEX)],
        }),
        _ => {
            let state = outputs
                .iter()
                .fold(File::new(State::scratch()), |file, (dir, output)| {
                    file.copy(
                        Copy::new(output.clone(), "/", format!("/{dir}"))
                            .dir_copy_contents(true)
                            .create_dest_path(true)
                            .timestamp_unix_nanos(0),
                    )
                })
                .custom_name(format!("[golb] govulncheck reports ({target})"))
                .build();
            Ok(VulnPlan {
                state,
                openvex: outputs
                    .iter()
                    .map(|(dir, _)| format!("/{dir}/{}", go_build::VULN_OPENVEX))
                    .collect(),
            })
        }
    }
}
