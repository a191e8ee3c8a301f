//! The driver's [`Host`] for the offline commands (`golb llb`, `golb
//! check`): the spec and the context are directories on this machine, read
//! without ever leaving the context (`context_fs`); images are not resolved
//! (tags stay tags, BuildKit resolves them when it solves the Definition);
//! golb's own image is named, not found.

use crate::context_fs;
use crate::dockerignore;
use crate::driver::{DriverError, Found, Host, Reads, Role, SpecSource};
use crate::image_ref::ImageRef;
use crate::plan::SourceImage;
use crate::replay::Replay;
use golb_proto::llb::{self, Location, Platform, SourceFile, State};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub struct FsHost {
    /// The build context.
    pub context: PathBuf,
    /// The golb image the steps that run `golb step` mount.
    pub frontend_image: String,
    /// A gateway build's resolved images, to plan with instead of tags.
    pub replay: Option<Replay>,
}

impl FsHost {
    fn read_error(path: &Path, e: impl std::fmt::Display) -> DriverError {
        DriverError::Precondition(format!("{}: {e}", path.display()))
    }
}

impl Host for FsHost {
    /// `filename` is a path on this machine, as the user gave it.
    async fn spec(&self, filename: &str) -> Result<SpecSource, DriverError> {
        let path = Path::new(filename);
        let data = std::fs::read(path).map_err(|e| FsHost::read_error(path, e))?;
        let ignore = PathBuf::from(format!("{filename}.dockerignore"));
        let dockerignore = match std::fs::read(&ignore) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(FsHost::read_error(&ignore, e)),
        };
        Ok(SpecSource {
            file: SourceFile {
                filename: filename.to_string(),
                data,
                language: "toml".to_string(),
            },
            dockerignore,
        })
    }

    async fn context_dockerignore(&self) -> Result<Option<Vec<u8>>, DriverError> {
        context_fs::read_inside(&self.context, dockerignore::FILE, u64::MAX)
            .map_err(|e| DriverError::Precondition(e.to_string()))
    }

    fn session_for(&self, name: &str) -> Option<String> {
        let replay = self.replay.as_ref()?;
        crate::driver::local_session(&replay.opts, &replay.session, name)
    }

    async fn read(&self, _context: &State, reads: Reads) -> Result<Found, DriverError> {
        let mut found = Found::default();
        for dir in reads.dirs {
            let names = context_fs::resolve_inside(&self.context, &dir)
                .ok()
                .flatten()
                .and_then(|real| std::fs::read_dir(real).ok())
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect::<BTreeSet<String>>()
                });
            found.listed.insert(dir, names);
        }
        for path in reads.files {
            let data = match context_fs::read_inside(&self.context, &path, u64::MAX) {
                Ok(Some(data)) => Ok(data),
                Ok(None) => Err("no such file or directory".to_string()),
                Err(e) => Err(e.to_string()),
            };
            found.read.insert(path, data);
        }
        Ok(found)
    }

    async fn resolve(
        &self,
        role: Role,
        reference: &ImageRef,
        platform: &Platform,
    ) -> Result<SourceImage, DriverError> {
        let recorded = self
            .replay
            .as_ref()
            .and_then(|r| r.find(role, &reference.to_string(), platform));
        if let Some(recorded) = recorded {
            let pinned = ImageRef::parse(&recorded.pinned).map_err(|e| {
                DriverError::Invalid(format!("the replay's {}: {e}", recorded.pinned))
            })?;
            return Ok(SourceImage {
                config: recorded.config.clone(),
                ..SourceImage::unresolved(pinned)
            });
        }
        Ok(SourceImage::unresolved(reference.clone()))
    }

    async fn directories_in(
        &self,
        image: llb::pb::Definition,
        _paths: &BTreeSet<String>,
    ) -> Result<Option<BTreeSet<String>>, DriverError> {
        let looked = self.replay.as_ref().and_then(|replay| {
            let image = crate::replay::head_digest(&image)?;
            replay.directories.get(&image).cloned()
        });
        Ok(looked)
    }

    fn frontend_image(&self) -> Result<State, DriverError> {
        if let Some(encoded) = self.replay.as_ref().and_then(|r| r.frontend.as_ref()) {
            use base64::Engine as _;
            use prost::Message as _;
            let invalid = |e: String| DriverError::Invalid(format!("the replay's frontend: {e}"));
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| invalid(e.to_string()))?;
            let definition = llb::pb::Definition::decode(bytes.as_slice())
                .map_err(|e| invalid(e.to_string()))?;
            return State::from_definition(definition).map_err(|e| invalid(e.to_string()));
        }
        Ok(llb::Image::new(self.frontend_image.clone())
            .platform(self.build_platform())
            .custom_name(format!("[golb] {}", self.frontend_image))
            // No key of the spec asks for it: it points at the spec's first line.
            .location(0, Location::TOP)
            .build())
    }

    fn build_platform(&self) -> Platform {
        Platform::linux_amd64()
    }

    async fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// Runs an async driver call to completion on this thread.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, std::io::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    Ok(runtime.block_on(future))
}
