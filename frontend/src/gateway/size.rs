//! The size step's results in the build output: each platform's summary as
//! a BuildKit warning (buildx prints warnings after the build), and the size
//! gate's verdict as the build's failure.

use crate::driver::{DriverError, Host};
use crate::plan::{GATE_FILE, SUMMARY_FILE};
use golb_proto::gateway::{Bridge, CacheImport, GatewayError, PlatformImage, RefId};
use golb_proto::llb;

/// What a platform's size step wrote.
pub(super) struct SizeResult {
    summary: String,
    gate: String,
}

/// Solves a size step and reads its summary and verdict.
pub(super) async fn solve(
    bridge: &mut Bridge,
    definition: llb::pb::Definition,
    cache_imports: Vec<CacheImport>,
) -> Result<SizeResult, GatewayError> {
    let reference: RefId = bridge.solve(definition, cache_imports).await?;
    let read = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim_end().to_string();
    // Both at once: the build waits for them before it can export.
    let mut gate_bridge = bridge.clone();
    let (summary, gate) = tokio::join!(
        bridge.read_file(&reference, SUMMARY_FILE),
        gate_bridge.read_file(&reference, GATE_FILE)
    );
    Ok(SizeResult {
        summary: read(summary?),
        gate: read(gate?),
    })
}

/// Shows every summary; fails the build when a platform is over budget.
pub(super) async fn report<H: Host>(
    host: &H,
    solved: &[(&PlatformImage, &Option<SizeResult>)],
) -> Result<(), DriverError> {
    let mut over = Vec::new();
    for (image, size) in solved {
        let Some(size) = size else { continue };
        let mut lines = size.summary.lines();
        let first = lines.next().unwrap_or_default();
        let rest: Vec<&str> = lines.collect();
        let message = format!("size ({}): {first}; {}", image.platform, rest.join("; "));
        host.warn(&message).await;
        if !size.gate.is_empty() {
            over.push(format!("{} ({})", size.gate, image.platform));
        }
    }
    match over.is_empty() {
        true => Ok(()),
        false => Err(DriverError::Precondition(over.join("\n"))),
    }
}
