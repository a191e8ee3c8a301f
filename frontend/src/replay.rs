//! A gateway build's inputs, recorded so that `golb llb --replay FILE`
//! plans with exactly them: the frontend options BuildKit passed and the
//! images it resolved (golb's own image included). The gateway and the CLI
//! are two adapters of one driver; with the same inputs they must print the
//! same Definition, op for op, and tests/tests/one_pipeline.rs checks that
//! they do for every example and target. `buildx build --call golb.plan`
//! (request id [`REQUEST`]) returns the record with the Definition's dump.

use crate::driver::{Planned, Role};
use golb_proto::llb::{self, Platform};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The request id: what `buildx build --call golb.plan,format=json` sends.
pub const REQUEST: &str = "frontend.golb.plan";

/// Frontend options that do not change the plan, or that the CLI sets
/// itself (the spec's name, the request).
const NOT_REPLAYED: &[&str] = &["filename", "requestid", "dockerfilekey", "contextkey"];

/// One image the build resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedRecord {
    pub role: String,
    /// The reference as the spec (or a build arg) named it.
    pub asked: String,
    pub platform: String,
    /// What the resolver pinned it to.
    pub pinned: String,
    pub config: serde_json::Value,
}

/// A gateway build's inputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    pub opts: BTreeMap<String, String>,
    pub images: Vec<ResolvedRecord>,
    /// golb's own image, as the Definition BuildKit gave the frontend
    /// (protobuf, base64).
    pub frontend: Option<String>,
    /// What the build found when it looked into a runtime base for the
    /// `[[file]]` destinations: by the looked-at image's op digest, the
    /// paths that are directories there.
    #[serde(default)]
    pub directories: BTreeMap<String, BTreeSet<String>>,
    /// The build's own session, which its local sources name.
    #[serde(default)]
    pub session: String,
}

/// What `--call golb.plan` returns: the inputs and, per platform, the dump
/// of the Definition (`golb llb --dump` prints the first).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanReply {
    pub replay: Replay,
    pub dumps: Vec<String>,
}

impl Replay {
    pub fn record_opts(opts: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        opts.iter()
            .filter(|(k, _)| !NOT_REPLAYED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn find(&self, role: Role, asked: &str, platform: &Platform) -> Option<&ResolvedRecord> {
        let (role, platform) = (role.name(), platform.to_string());
        self.images
            .iter()
            .find(|r| r.role == role && r.asked == asked && r.platform == platform)
    }
}

/// The digest of the op a Definition ends with: what a look into an image
/// is recorded by.
pub fn head_digest(definition: &llb::pb::Definition) -> Option<String> {
    use prost::Message;
    let terminal = llb::pb::Op::decode(definition.def.last()?.as_slice()).ok()?;
    terminal.inputs.first().map(|input| input.digest.clone())
}

/// The readable form of one planned platform: the Definition's dump, then
/// its image config.
pub fn dump(planned: &Planned) -> Result<String, llb::MarshalError> {
    let mut text = llb::dump(&planned.definition)?;
    let config: serde_json::Value =
        serde_json::from_slice(&planned.config).unwrap_or(serde_json::Value::Null);
    text.push_str("\n# image config\n");
    text.push_str(&serde_json::to_string_pretty(&config).unwrap_or_default());
    text.push('\n');
    Ok(text)
}
