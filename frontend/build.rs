//! Stamps the commit golb is built from into the binary (`golb --version`,
//! `release::REVISION`): `GOLB_REVISION` when the build sets it (the root
//! Dockerfile passes the revision buildx knows), else `git rev-parse HEAD`
//! of this source tree, else nothing, and golb says "unknown". Never fails
//! the build: a source tarball without git builds too.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GOLB_REVISION");
    println!("cargo:rerun-if-env-changed=GOLB_IMAGE_REPOSITORY");
    let revision = std::env::var("GOLB_REVISION")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(git_head);
    if let Some(revision) = revision {
        println!("cargo:rustc-env=GOLB_BUILD_REVISION={}", revision.trim());
    }
}

/// HEAD's commit, and cargo told to rerun when HEAD moves.
fn git_head() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    // HEAD (a worktree has its own), the branch it names, and packed refs.
    let mut watched = vec![git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "HEAD",
    ])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            &branch,
        ]));
    }
    watched.push(git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "packed-refs",
    ]));
    for path in watched.into_iter().flatten() {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}
