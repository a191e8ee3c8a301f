//! The shapes real Go repositories have — several binaries, a module below
//! the context root with local replaces, a go.work workspace, embedded assets
//! and runtime files — each built through `buildx build -f golb.toml .` and
//! checked from what BuildKit exported.

use golb_e2e::{
    buildx_golb, harness, repo_root, run_fails, run_ok, step_cached, steps_named, ExampleCopy,
    Harness, TempDir,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

/// Builds the image of an example and exports its filesystem as a tar.
fn export_tar(h: &Harness, dir: &Path, out: &TempDir, extra: &[&str]) -> (PathBuf, String) {
    let tar = out.path().join("image.tar");
    let dest = format!("type=tar,dest={}", tar.display());
    let mut args = vec!["--output", dest.as_str()];
    args.extend_from_slice(extra);
    let log = run_ok(&mut buildx_golb(h, dir, &args));
    (tar, log)
}

/// Extracts a tar into `out` (as the files' owner-less local copy) and lists it with owners and modes.
fn unpack(tar: &Path, into: &Path) -> String {
    std::fs::create_dir_all(into).unwrap();
    run_ok(Command::new("tar").arg("-xf").arg(tar).arg("-C").arg(into));
    tar_listing(tar)
}

/// `tar -tv` of an exported image, with numeric owners.
fn tar_listing(tar: &Path) -> String {
    run_ok(
        Command::new("tar")
            .args(["-tvf"])
            .arg(tar)
            .arg("--numeric-owner"),
    )
}

/// The `tar -tv` line of `path` in a listing.
fn tar_entry(listing: &str, path: &str) -> String {
    listing
        .lines()
        .find(|l| l.ends_with(&format!(" {path}")))
        .unwrap_or_else(|| panic!("no {path} in:\n{listing}"))
        .to_string()
}

fn version_of(binary: &Path) -> String {
    run_ok(Command::new(binary).arg("-version"))
        .trim()
        .to_string()
}

#[test]
fn several_binaries_in_one_image_with_stamped_build_args() {
    let h = harness();
    let out = TempDir::new("multi");
    let (tar, _) = export_tar(
        h,
        &example("multi"),
        &out,
        &[
            "--build-arg",
            "VERSION=2.0.0",
            "--build-arg",
            "VCS_REVISION=abc123",
        ],
    );
    let root = out.path().join("rootfs");
    unpack(&tar, &root);
    assert_eq!(
        version_of(&root.join("usr/local/bin/server")),
        "server 2.0.0 (abc123)"
    );
    assert_eq!(
        version_of(&root.join("usr/local/bin/migrate")),
        "migrate 2.0.0"
    );
}

#[test]
fn without_build_args_the_declared_default_and_the_git_revision_are_stamped() {
    let h = harness();
    let out = TempDir::new("multi-defaults");
    let (tar, _) = export_tar(h, &example("multi"), &out, &[]);
    let root = out.path().join("rootfs");
    unpack(&tar, &root);
    // buildx sends the checkout's commit as the vcs:revision option.
    let head = run_ok(
        Command::new("git")
            .arg("-C")
            .arg(repo_root())
            .args(["rev-parse", "HEAD"]),
    );
    assert_eq!(
        version_of(&root.join("usr/local/bin/server")),
        format!("server 0.0.0-dev ({})", head.trim())
    );
}

#[test]
fn unknown_build_args_are_reported() {
    let h = harness();
    let out = TempDir::new("multi-unknown-arg");
    let (_, log) = export_tar(h, &example("multi"), &out, &["--build-arg", "VERSIN=typo"]);
    assert!(
        log.contains("build args not used by golb or the spec: VERSIN"),
        "{log}"
    );
}

#[test]
fn several_binaries_without_an_entrypoint_is_a_spec_error() {
    let h = harness();
    let work = ExampleCopy::new("multi", "multi-no-entrypoint");
    work.replace(
        "golb.toml",
        "entrypoint = [\"/usr/local/bin/server\"]\n",
        "",
    );
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(
        stderr.contains("2 binaries are built, so [runtime] must say which one starts"),
        "{stderr}"
    );
}

#[test]
fn a_module_below_the_context_root_with_a_local_replace() {
    let h = harness();
    let out = TempDir::new("monorepo");
    let (tar, log) = export_tar(
        h,
        &example("monorepo"),
        &out,
        &["--build-arg", "VERSION=3.1.0"],
    );
    let root = out.path().join("rootfs");
    unpack(&tar, &root);
    let api = root.join("usr/local/bin/api");
    assert_eq!(version_of(&api), "api 3.1.0");
    assert_eq!(
        run_ok(&mut Command::new(&api)).trim(),
        "hello, monorepo, from libs/greet"
    );
    assert!(log.contains("[golb] go mod download"), "{log}");
}

/// The Go steps mount only the module's directory and its local
/// replacements: another service's edit keeps the build cached, an edit to
/// the replaced library reruns it.
#[test]
fn only_the_modules_directories_key_the_build() {
    let h = harness();
    let work = ExampleCopy::new("monorepo", "monorepo-elsewhere");
    let build = |work: &ExampleCopy| {
        run_ok(&mut buildx_golb(
            h,
            work.path(),
            &["--output", "type=cacheonly"],
        ))
    };
    build(&work);
    work.write(
        "services/web/main.go",
        format!(
            "package main\n\n// another service, {}\nfunc main() {{}}\n",
            std::process::id()
        ),
    )
    .write("README.md", "# the monorepo\n");
    let log = build(&work);
    let go_build = steps_named(&log, "go build ./cmd/api");
    assert!(!go_build.is_empty(), "{log}");
    assert!(
        go_build.iter().all(|id| step_cached(&log, id)),
        "an edit outside services/api and libs/greet reran the build:\n{log}"
    );

    work.replace(
        "libs/greet/greet.go",
        "package greet\n",
        &format!("package greet\n\n// edited {}\n", std::process::id()),
    );
    let log = build(&work);
    assert!(
        steps_named(&log, "go build ./cmd/api")
            .iter()
            .all(|id| !step_cached(&log, id)),
        "an edit to the replaced library must rerun the build:\n{log}"
    );
}

#[test]
fn a_replace_outside_the_context_names_the_go_mod_line() {
    let h = harness();
    let work = ExampleCopy::new("monorepo", "monorepo-outside");
    work.replace(
        "services/api/go.mod",
        "=> ../../libs/greet",
        "=> ../../../elsewhere/greet",
    );
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(
        stderr.contains(
            "services/api/go.mod:7: \"../../../elsewhere/greet\" is outside the build context"
        ),
        "{stderr}"
    );
}

#[test]
fn a_go_work_workspace() {
    let h = harness();
    let out = TempDir::new("workspace");
    let (tar, _) = export_tar(h, &example("workspace"), &out, &[]);
    let root = out.path().join("rootfs");
    unpack(&tar, &root);
    let app = root.join("usr/local/bin/app");
    assert_eq!(version_of(&app), "app dev");
    assert_eq!(
        run_ok(&mut Command::new(&app)).trim(),
        "hello from a go.work workspace"
    );
}

#[test]
fn embedded_assets_and_runtime_files_with_owner_and_mode() {
    let h = harness();
    let out = TempDir::new("assets");
    let (tar, _) = export_tar(h, &example("assets"), &out, &[]);
    let root = out.path().join("rootfs");
    let listing = unpack(&tar, &root);
    let site = root.join("usr/local/bin/site");
    assert!(run_ok(Command::new(&site).arg("-index")).contains("embedded with go:embed"));
    let conf = listing
        .lines()
        .find(|l| l.ends_with("etc/site/site.conf"))
        .unwrap_or_else(|| panic!("no site.conf in:\n{listing}"));
    assert!(
        conf.starts_with("-rw-r----- 65532/65532 "),
        "owner and mode from the spec: {conf}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/site/site.conf")).unwrap(),
        "greeting = hello\n"
    );
    // The file's owner and mode are its own: /etc stays the base's, and the
    // new /etc/site is 0755, owned like the file (as `COPY --chown` does).
    let entry = |path: &str| tar_entry(&listing, path);
    assert!(
        entry("etc/").starts_with("drwxr-xr-x 0/0 "),
        "{}",
        entry("etc/")
    );
    assert!(
        entry("etc/site/").starts_with("drwxr-xr-x 65532/65532 "),
        "{}",
        entry("etc/site/")
    );
}

/// `[[file]]`s into directories the base has with a special owner or mode
/// (distroless: /tmp 1777, /home/nonroot 0700 65532) leave them as they are.
#[test]
fn files_keep_the_base_directories_owner_and_mode() {
    let h = harness();
    let work = ExampleCopy::new("assets", "assets-base-dirs");
    let spec = std::fs::read_to_string(work.path().join("golb.toml")).unwrap();
    work.write(
        "golb.toml",
        format!(
            "{spec}\n[[file]]\nsrc = \"config/site.conf\"\ndest = \"/tmp/seed/site.conf\"\nmode = \"0600\"\n\n\
             [[file]]\nsrc = \"config/site.conf\"\ndest = \"/home/nonroot/.config/site.conf\"\nowner = \"65532\"\n"
        ),
    );
    let out = TempDir::new("assets-base-dirs-out");
    let (tar, _) = export_tar(h, work.path(), &out, &[]);
    let listing = tar_listing(&tar);
    let entry = |path: &str| tar_entry(&listing, path);
    assert!(
        entry("tmp/").starts_with("drwxrwxrwt 0/0 "),
        "{}",
        entry("tmp/")
    );
    assert!(
        entry("tmp/seed/").starts_with("drwxr-xr-x 0/0 "),
        "{}",
        entry("tmp/seed/")
    );
    assert!(entry("tmp/seed/site.conf").starts_with("-rw------- 0/0 "));
    assert!(
        entry("home/nonroot/").starts_with("drwx------ 65532/65532 "),
        "{}",
        entry("home/nonroot/")
    );
    assert!(entry("home/nonroot/.config/").starts_with("drwxr-xr-x 65532/65532 "));
    assert!(entry("home/nonroot/.config/site.conf").starts_with("-rw-r--r-- 65532/65532 "));
}

#[test]
fn dockerignore_and_git_stay_out_of_the_context() {
    let h = harness();
    let work = ExampleCopy::new("assets", "assets-ignore");
    work.write(".git/big", vec![b'x'; 4 << 20])
        .write(".dockerignore", "config/site.conf\n");
    // The ignored file is what [[file]] copies, so the build must fail to find it.
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(stderr.contains("site.conf"), "{stderr}");
    // .git (4 MiB here) is never sent: the context transfer stays small.
    let transfers: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("transferring context:"))
        .collect();
    assert!(!transfers.is_empty(), "{stderr}");
    assert!(
        transfers.iter().all(|l| !l.contains("MB")),
        "the .git directory was sent: {transfers:?}"
    );
}

/// `<spec>.dockerignore` beside the spec replaces the context's
/// `.dockerignore`, as `Dockerfile.dockerignore` does for a Dockerfile. golb
/// reads both ignore files straight after their sources are solved, a missing
/// one being BuildKit's "no such file or directory" (no listing first).
#[test]
fn the_spec_s_own_ignore_file_replaces_the_context_s() {
    let h = harness();
    let work = ExampleCopy::new("assets", "assets-spec-ignore");
    // The context's file would drop what [[file]] copies; the spec's own
    // wins, so the build finds it.
    work.write(".dockerignore", "config/site.conf\n")
        .write("golb.toml.dockerignore", "README.md\n");
    run_ok(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    // The spec's own ignore file alone applies as well.
    std::fs::remove_file(work.path().join(".dockerignore")).unwrap();
    work.write("golb.toml.dockerignore", "config/site.conf\n");
    let stderr = run_fails(&mut buildx_golb(
        h,
        work.path(),
        &["--output", "type=cacheonly"],
    ));
    assert!(stderr.contains("site.conf"), "{stderr}");
}

/// A spec that is not in the client's `dockerfile` directory (buildctl
/// names it with `--opt filename=`) is an error that says so, not a failed
/// read.
#[test]
fn a_missing_spec_is_named_with_how_to_pass_it() {
    let h = harness();
    let dir = example("hello");
    let stderr = run_fails(
        h.command("buildctl")
            .args(["build", "--progress=plain", "--frontend", "gateway.v0"])
            .arg("--opt")
            .arg(format!("source={}", h.frontend()))
            .arg("--local")
            .arg(format!("context={}", dir.display()))
            .arg("--local")
            .arg(format!("dockerfile={}", dir.display()))
            .args(["--opt", "filename=nope.toml"]),
    );
    assert!(
        stderr.contains("no spec \"nope.toml\" in the build's `dockerfile` directory"),
        "{stderr}"
    );
    assert!(stderr.contains("--opt filename="), "{stderr}");
}
