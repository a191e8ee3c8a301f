//! The driver's [`Host`] over BuildKit: files come from the client's locals
//! through LLBBridge (solved, then listed and read), images are resolved and
//! pinned by digest, warnings go to the build's output.

use super::{resolve, session_for, task_failed, worker_platform};
use crate::dockerignore;
use crate::driver::{DriverError, Found, Host, Reads, Role, SpecSource};
use crate::image_ref::ImageRef;
use crate::options::FrontendOptions;
use crate::plan::SourceImage;
use crate::replay::{head_digest, ResolvedRecord};
use golb_proto::gateway::{Bridge, FrontendEnv, RefId};
use golb_proto::llb::{self, Local, Platform, SourceFile, State};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// Go's `os.ModeDir` bit in the modes BuildKit reports.
const GO_MODE_DIR: u32 = 1 << 31;

/// Where BuildKit (v0.10 and later) gives every gateway frontend the LLB of
/// its own image.
const FRONTEND_DEFINITION: &str = "/run/config/buildkit/metadata/frontend.bin";

pub struct BridgeHost<'a> {
    bridge: Bridge,
    env: &'a FrontendEnv,
    options: &'a FrontendOptions,
    /// The context, solved on the first read (the build would transfer it
    /// anyway; the build uses the same vertex, so nothing is sent twice).
    context: tokio::sync::OnceCell<RefId>,
    /// The vertex that loaded the spec: warnings about the spec attach to it.
    spec_vertex: RefCell<Option<String>>,
    /// Every image resolved, for `--call golb.plan` (replay.rs).
    resolved: RefCell<Vec<ResolvedRecord>>,
    /// Every look into an image, for `--call golb.plan`.
    looked: RefCell<BTreeMap<String, BTreeSet<String>>>,
}

impl<'a> BridgeHost<'a> {
    pub fn new(bridge: &Bridge, env: &'a FrontendEnv, options: &'a FrontendOptions) -> Self {
        BridgeHost {
            bridge: bridge.clone(),
            env,
            options,
            context: tokio::sync::OnceCell::new(),
            spec_vertex: RefCell::new(None),
            resolved: RefCell::new(Vec::new()),
            looked: RefCell::new(BTreeMap::new()),
        }
    }

    /// golb's own image, as the Definition BuildKit gives every frontend.
    pub fn frontend_definition(&self) -> Result<llb::pb::Definition, DriverError> {
        use prost::Message;
        let bytes = std::fs::read(FRONTEND_DEFINITION).map_err(|e| {
            DriverError::Precondition(format!(
                "cannot read {FRONTEND_DEFINITION} ({e}): golb needs BuildKit v0.10 or newer, which tells a frontend its own image there"
            ))
        })?;
        llb::pb::Definition::decode(bytes.as_slice()).map_err(|e| {
            DriverError::Invalid(format!(
                "{FRONTEND_DEFINITION} is not an LLB definition: {e}"
            ))
        })
    }

    /// The looks into images so far (`directories_in`), by image.
    pub fn looked(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.looked.borrow().clone()
    }

    /// The images resolved so far.
    pub fn resolved(&self) -> Vec<ResolvedRecord> {
        self.resolved.borrow().clone()
    }

    fn local(&self, name: &str) -> Local {
        let local = Local::new(name.to_string());
        match session_for(self.env, name) {
            Some(session) => local.session_id(session),
            None => local,
        }
    }

    /// Solves a local the client sends only a few files of (followpaths);
    /// returns the result and the loading vertex. Its files are then read
    /// straight away, a missing one being `None`: a listing first would cost
    /// a round trip on the build's longest chain.
    async fn solve_files(&self, local: Local) -> Result<(RefId, Option<String>), DriverError> {
        let definition = local.differ_none().build().marshal(&[])?;
        let vertex = head_digest(&definition);
        let mut bridge = self.bridge.clone();
        let reference = bridge.solve(definition, Vec::new()).await?;
        Ok((reference, vertex))
    }
}

impl Host for BridgeHost<'_> {
    /// Reads the spec (and `<spec>.dockerignore`) from the client's
    /// `dockerfile` local: only those two files are sent.
    async fn spec(&self, filename: &str) -> Result<SpecSource, DriverError> {
        let ignore_file = format!("{filename}.dockerignore");
        let local_name = &self.options.spec_local;
        let local = self
            .local(local_name)
            .shared_key_hint(local_name.clone())
            .follow_paths(vec![filename.to_string(), ignore_file.clone()])
            .custom_name(format!("[internal] load build definition from {filename}"));
        let (reference, vertex) = self.solve_files(local).await?;
        *self.spec_vertex.borrow_mut() = vertex;
        let (mut spec_bridge, mut ignore_bridge) = (self.bridge.clone(), self.bridge.clone());
        let (data, ignore) = tokio::join!(
            spec_bridge.read_file_if_exists(&reference, filename),
            ignore_bridge.read_file_if_exists(&reference, &ignore_file)
        );
        let data = match data {
            Ok(Some(data)) => data,
            Ok(None) => {
                return Err(DriverError::Precondition(format!(
                    "no spec {filename:?} in the build's `{local_name}` directory: pass the spec's path with --file (buildx) or --opt filename= (buildctl)"
                )))
            }
            Err(e) => {
                return Err(DriverError::Precondition(format!(
                    "cannot read the spec {filename:?} from the build's `{local_name}` directory: {e}"
                )))
            }
        };
        Ok(SpecSource {
            file: SourceFile {
                filename: filename.to_string(),
                data,
                language: "toml".to_string(),
            },
            dockerignore: ignore?,
        })
    }

    /// `.dockerignore` at the context root, fetched alone before the context.
    async fn context_dockerignore(&self) -> Result<Option<Vec<u8>>, DriverError> {
        let local_name = &self.options.context_local;
        let local = self
            .local(local_name)
            .shared_key_hint(format!("{local_name}-dockerignore"))
            .follow_paths(vec![dockerignore::FILE.to_string()])
            .custom_name("[internal] load .dockerignore");
        let (reference, _) = self.solve_files(local).await?;
        let mut bridge = self.bridge.clone();
        Ok(bridge
            .read_file_if_exists(&reference, dockerignore::FILE)
            .await?)
    }

    fn session_for(&self, name: &str) -> Option<String> {
        session_for(self.env, name)
    }

    async fn read(&self, context: &State, reads: Reads) -> Result<Found, DriverError> {
        let reference = self
            .context
            .get_or_try_init(|| async {
                let definition = context.marshal(&[])?;
                let mut bridge = self.bridge.clone();
                Ok::<_, DriverError>(bridge.solve(definition, Vec::new()).await?)
            })
            .await?;
        enum Answer {
            Listed(String, Option<BTreeSet<String>>),
            Read(String, Result<Vec<u8>, String>),
        }
        let mut requests = tokio::task::JoinSet::new();
        for dir in reads.dirs {
            let (mut bridge, reference) = (self.bridge.clone(), reference.clone());
            requests.spawn(async move {
                let at = if dir.is_empty() { "/" } else { dir.as_str() };
                // A missing directory is not an error: what is in it just is not there.
                let names = bridge
                    .read_dir(&reference, at, "")
                    .await
                    .ok()
                    .map(|entries| {
                        entries
                            .into_iter()
                            .filter(|e| e.mode & GO_MODE_DIR == 0)
                            .map(|e| e.path.rsplit('/').next().unwrap_or(&e.path).to_string())
                            .collect()
                    });
                Answer::Listed(dir, names)
            });
        }
        for path in reads.files {
            let (mut bridge, reference) = (self.bridge.clone(), reference.clone());
            requests.spawn(async move {
                let data = bridge
                    .read_file(&reference, &path)
                    .await
                    .map_err(|e| e.to_string());
                Answer::Read(path, data)
            });
        }
        let mut found = Found::default();
        while let Some(joined) = requests.join_next().await {
            match joined.map_err(task_failed)? {
                Answer::Listed(dir, names) => {
                    found.listed.insert(dir, names);
                }
                Answer::Read(path, data) => {
                    found.read.insert(path, data);
                }
            }
        }
        Ok(found)
    }

    async fn resolve(
        &self,
        role: Role,
        reference: &ImageRef,
        platform: &Platform,
    ) -> Result<SourceImage, DriverError> {
        let image = resolve::resolve(
            &self.bridge,
            self.env,
            self.options.build.image_resolve_mode.as_deref(),
            role,
            reference,
            platform,
        )
        .await?;
        if image.replacement.is_none() {
            self.resolved.borrow_mut().push(ResolvedRecord {
                role: role.name().to_string(),
                asked: reference.to_string(),
                platform: platform.to_string(),
                pinned: image.reference.to_string(),
                config: image.config.clone(),
            });
        }
        Ok(image)
    }

    /// Those of `paths` that are directories in `image`, solved for the look.
    async fn directories_in(
        &self,
        definition: llb::pb::Definition,
        paths: &BTreeSet<String>,
    ) -> Result<Option<BTreeSet<String>>, DriverError> {
        let image = head_digest(&definition);
        let mut bridge = self.bridge.clone();
        let reference = bridge.solve(definition, Vec::new()).await?;
        let mut stats = tokio::task::JoinSet::new();
        for path in paths {
            let (mut bridge, reference, path) =
                (self.bridge.clone(), reference.clone(), path.clone());
            stats.spawn(async move {
                let stat = bridge.stat_file(&reference, &path).await;
                (path, stat)
            });
        }
        let mut dirs = BTreeSet::new();
        while let Some(joined) = stats.join_next().await {
            let (path, stat) = joined.map_err(task_failed)?;
            if stat?.is_some_and(|s| s.is_dir()) {
                dirs.insert(path);
            }
        }
        if let Some(image) = image {
            self.looked.borrow_mut().insert(image, dirs.clone());
        }
        Ok(Some(dirs))
    }

    /// golb's own image, as BuildKit ran it: the steps that run `golb step`
    /// then run exactly this version of golb.
    fn frontend_image(&self) -> Result<State, DriverError> {
        let definition = self.frontend_definition()?;
        State::from_definition(definition)
            .map_err(|e| DriverError::Invalid(format!("{FRONTEND_DEFINITION}: {e}")))
    }

    fn build_platform(&self) -> Platform {
        worker_platform(self.env)
    }

    async fn warn(&self, message: &str) {
        let vertex = self.spec_vertex.borrow().clone().unwrap_or_default();
        let mut bridge = self.bridge.clone();
        // Warnings need BuildKit ≥ v0.10; on older daemons the message only reaches its log.
        if bridge.warn(&vertex, message, &[]).await.is_err() {
            eprintln!("golb: {message}");
        }
    }
}
