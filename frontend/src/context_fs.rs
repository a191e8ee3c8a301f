//! Reading the build context from this machine's file system (the offline
//! commands) without ever leaving it. BuildKit sends a symlink as a link,
//! never what it points to, and resolves links inside the context root; a
//! plain `std::fs::read` would follow a link to anywhere on the machine
//! (`go.mod -> /etc/…`), so the offline commands would read, and report on,
//! files the build never sees.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a path of the context could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContextReadError {
    /// The path, or a directory on the way, is a symlink whose target lies
    /// outside the context.
    #[error("{path} is a symlink that leads outside the build context; BuildKit sends the link, never its target: replace the link with the file itself")]
    LeavesContext { path: String },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Where `relative` really is, if it exists and stays inside `context`;
/// `Ok(None)` when it does not exist (a missing file is not an error here).
pub fn resolve_inside(context: &Path, relative: &str) -> Result<Option<PathBuf>, ContextReadError> {
    let shown = || context.join(relative).display().to_string();
    let io = |source| ContextReadError::Io {
        path: shown(),
        source,
    };
    let root = context.canonicalize().map_err(io)?;
    let real = match context.join(relative).canonicalize() {
        Ok(real) => real,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            // A dangling link is as absent for BuildKit as a missing file.
            return Ok(None);
        }
        Err(e) => return Err(io(e)),
    };
    if real.starts_with(&root) {
        Ok(Some(real))
    } else {
        Err(ContextReadError::LeavesContext { path: shown() })
    }
}

/// At most `limit` bytes of a file of the context, `Ok(None)` when it does
/// not exist; an error when it is reached through a link out of the context.
pub fn read_inside(
    context: &Path,
    relative: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, ContextReadError> {
    let Some(real) = resolve_inside(context, relative)? else {
        return Ok(None);
    };
    let io = |source| ContextReadError::Io {
        path: context.join(relative).display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(&real)
        .and_then(|f| f.take(limit).read_to_end(&mut bytes))
        .map_err(io)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_are_followed_and_links_out_are_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let base = scratch.path().to_path_buf();
        let context = base.join("context");
        let outside = base.join("outside");
        std::fs::create_dir_all(context.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(context.join("real/go.mod"), "module inside\n").unwrap();
        std::fs::write(outside.join("go.mod"), "module outside\n").unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, context.join(at)).unwrap();
        link(&context.join("real/go.mod"), "inside.mod");
        link(&outside.join("go.mod"), "absolute.mod");
        link(Path::new("../outside/go.mod"), "relative.mod");
        link(&outside, "dir");
        link(Path::new("nowhere"), "dangling.mod");

        assert_eq!(
            read_inside(&context, "inside.mod", u64::MAX)
                .unwrap()
                .unwrap(),
            b"module inside\n"
        );
        assert_eq!(
            read_inside(&context, "real/go.mod", 6).unwrap().unwrap(),
            b"module"
        );
        for escaping in ["absolute.mod", "relative.mod", "dir/go.mod"] {
            let err = read_inside(&context, escaping, u64::MAX).unwrap_err();
            assert!(
                matches!(err, ContextReadError::LeavesContext { .. }),
                "{escaping}: {err}"
            );
            assert!(err.to_string().contains("replace the link"), "{err}");
        }
        assert!(read_inside(&context, "dangling.mod", u64::MAX)
            .unwrap()
            .is_none());
        assert!(read_inside(&context, "missing/go.mod", u64::MAX)
            .unwrap()
            .is_none());
    }
}
