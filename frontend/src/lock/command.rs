//! `golb lock`: resolves the builder, runtime and UPX images the spec names by
//! tag, with the user's registry credentials, and writes golb.lock beside
//! the spec. `golb lock --check` writes nothing and exits 1 when a tag has
//! moved since (or the lock no longer matches the spec), for CI.

use std::path::{Path, PathBuf};

use golb_proto::llb::Platform;
use golb_proto::registry::{Client, DockerConfig, Repository};

use super::{Lock, LockedImage};
use crate::cli::Failure;
use crate::image_ref::ImageRef;

#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The spec file; golb.lock is written beside it.
    #[arg(default_value = "golb.toml")]
    pub spec: PathBuf,
    /// The build context holding the module (default: the spec's directory).
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// Write nothing; exit 1 when a tag has moved or the lock does not match the spec.
    #[arg(long)]
    pub check: bool,
    /// The Docker config with registry credentials (default:
    /// $DOCKER_CONFIG/config.json, else ~/.docker/config.json).
    #[arg(long, value_name = "FILE")]
    pub docker_config: Option<PathBuf>,
}

pub fn run(args: &LockArgs) -> Result<(), Failure> {
    let images = spec_images(args)?;
    let lock_path = PathBuf::from(super::beside_spec(&args.spec.to_string_lossy()));
    let config_path = args
        .docker_config
        .clone()
        .or_else(DockerConfig::default_path);
    let config = match &config_path {
        Some(path) => DockerConfig::load(path).map_err(|e| Failure::problem(e.to_string()))?,
        None => DockerConfig::default(),
    };
    let client = Client::new(config);
    let tagged: Vec<&ImageRef> = images.iter().filter(|i| i.digest.is_none()).collect();
    if args.check {
        return check(&client, &lock_path, &images);
    }
    let mut locked = Vec::new();
    for image in tagged {
        let resolved = client
            .resolve(&repository(image), image.tag.as_deref().unwrap_or("latest"))
            .map_err(|e| Failure::problem(format!("{image}: {e}")))?;
        let mut platforms = std::collections::BTreeMap::new();
        for (platform, digest) in resolved.platforms {
            let platform = Platform::parse(&platform)
                .map_err(|e| Failure::problem(format!("{image}: {e}")))?;
            platforms.insert(platform, digest);
        }
        let names: Vec<String> = platforms.keys().map(ToString::to_string).collect();
        println!("{image} {} ({})", resolved.digest, names.join(", "));
        locked.push(LockedImage {
            name: image.clone(),
            digest: resolved.digest,
            platforms,
        });
    }
    let lock = Lock { images: locked };
    crate::atomic_file::write(&lock_path, lock.render().as_bytes())
        .map_err(|e| Failure::problem(format!("{}: {e}", lock_path.display())))?;
    println!("wrote {}", lock_path.display());
    Ok(())
}

/// `--check`: every problem, each on its line; exit 1 when there is any.
fn check(client: &Client, lock_path: &Path, images: &[ImageRef]) -> Result<(), Failure> {
    let shown = lock_path.display().to_string();
    let text = std::fs::read_to_string(lock_path)
        .map_err(|e| Failure::problem(format!("{shown}: {e}; run `golb lock` to write it")))?;
    let lock = Lock::parse(&shown, &text).map_err(|e| Failure::problem(e.to_string()))?;
    let staleness = lock.staleness(images);
    let mut problems: Vec<String> = staleness
        .missing
        .iter()
        .map(|name| format!("{shown}: {name} is not locked; run `golb lock`"))
        .chain(staleness.unused.iter().map(|name| {
            format!("{shown}: {name} is locked but the spec no longer uses it; run `golb lock`")
        }))
        .collect();
    for image in images.iter().filter(|i| i.digest.is_none()) {
        let Some(entry) = lock.entry(image) else {
            continue;
        };
        let now = client
            .digest(&repository(image), image.tag.as_deref().unwrap_or("latest"))
            .map_err(|e| Failure::problem(format!("{image}: {e}")))?;
        if now == entry.digest {
            println!("{image} {now} unchanged");
        } else {
            problems.push(format!(
                "{shown}: {image} has moved: locked {}, the registry now has {now}; run `golb lock` to take it",
                entry.digest
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::problem(problems.join("\n")))
    }
}

/// The builder, runtime and UPX images the spec names, read as the build reads
/// them (the driver's load and module read).
fn spec_images(args: &LockArgs) -> Result<Vec<ImageRef>, Failure> {
    crate::cli::offline_spec_images(&args.spec, args.context.as_deref())
}

fn repository(image: &ImageRef) -> Repository {
    Repository {
        registry: image.domain.clone(),
        path: image.path.clone(),
    }
}
