//! Images through BuildKit: a registry image resolved and pinned by digest,
//! or what a named build context (`--build-context NAME=…`, a bake target)
//! puts in its place.

use super::session_for;
use crate::driver::{DriverError, Role};
use crate::image_ref::ImageRef;
use crate::named_context;
use crate::plan::SourceImage;
use golb_proto::gateway::{Bridge, FrontendEnv};
use golb_proto::llb::{Local, OciLayout, Platform, State};
use std::collections::BTreeMap;

/// Resolves `reference` for `platform`, honouring named contexts.
pub async fn resolve(
    bridge: &Bridge,
    env: &FrontendEnv,
    resolve_mode: Option<&str>,
    role: Role,
    reference: &ImageRef,
    platform: &Platform,
) -> Result<SourceImage, DriverError> {
    let mut bridge = bridge.clone();
    let role_name = role.name();
    let found = named_context::replacement(&env.opts, role_name, reference, platform)
        .map_err(|e| DriverError::Invalid(e.to_string()))?;
    let Some(found) = found else {
        return resolve_image(&mut bridge, reference, platform, resolve_mode, role).await;
    };
    match found.replacement {
        named_context::Replacement::Image(image) => {
            resolve_image(&mut bridge, &image, platform, resolve_mode, role).await
        }
        named_context::Replacement::Local(name) => {
            let mut local = Local::new(name.clone())
                .shared_key_hint(name.clone())
                .custom_name(format!(
                    "[internal] load build context {name} as the {role_name}"
                ));
            if let Some(session) = session_for(env, &name) {
                local = local.session_id(session);
            }
            Ok(SourceImage {
                reference: reference.clone(),
                config: serde_json::json!({}),
                replacement: Some(local.build()),
                existing_dirs: None,
            })
        }
        named_context::Replacement::OciLayout { store, digest } => {
            // The name only labels the source (as in the Dockerfile
            // frontend): the layout's store and the digest find the image.
            let named = ImageRef::parse(&found.name)
                .unwrap_or_else(|_| reference.clone())
                .pinned(&digest);
            let log_name =
                format!("[golb] resolve {role_name} {named} from the client's OCI layout");
            let resolved = bridge
                .resolve_oci_layout_config(
                    &named.to_string(),
                    platform,
                    &env.session_id,
                    &store,
                    &log_name,
                )
                .await?;
            let config = crate::image_config::parse_base(&named.to_string(), &resolved.config)
                .map_err(|e| DriverError::Precondition(e.to_string()))?;
            let files = OciLayout::new(named.to_string())
                .store(env.session_id.clone(), store)
                .platform(platform.clone())
                .custom_name(format!(
                    "[{role_name}] {named} from the client's OCI layout ({platform})"
                ))
                .build();
            Ok(SourceImage {
                reference: named,
                config,
                replacement: Some(files),
                existing_dirs: None,
            })
        }
        named_context::Replacement::Input(name) => {
            let inputs = bridge.inputs().await?;
            let Some(definition) = inputs.get(&name) else {
                let mut sent: Vec<&str> = inputs.keys().map(String::as_str).collect();
                sent.sort_unstable();
                return Err(DriverError::Invalid(format!(
                    "build context {}=input:{name}: the client sent no input {name:?} (inputs: {})",
                    found.name,
                    if sent.is_empty() {
                        "none".to_string()
                    } else {
                        sent.join(", ")
                    }
                )));
            };
            let files = State::from_definition(definition.clone())
                .map_err(|e| DriverError::Invalid(format!("input {name:?}: {e}")))?;
            let config = input_image_config(&env.opts, &name)?;
            Ok(SourceImage {
                reference: reference.clone(),
                config,
                replacement: Some(files),
                existing_dirs: None,
            })
        }
    }
}

/// The image config the client sent with input `name` (`input-metadata:NAME`,
/// a JSON object of base64 values, `containerimage.config` among them), or an
/// empty config for inputs that are not images.
pub fn input_image_config(
    opts: &BTreeMap<String, String>,
    name: &str,
) -> Result<serde_json::Value, DriverError> {
    use base64::Engine as _;
    let Some(metadata) = opts.get(&format!("input-metadata:{name}")) else {
        return Ok(serde_json::json!({}));
    };
    let invalid = |why: String| DriverError::Invalid(format!("input-metadata:{name}: {why}"));
    let metadata: BTreeMap<String, String> =
        serde_json::from_str(metadata).map_err(|e| invalid(e.to_string()))?;
    let Some(config) = metadata.get("containerimage.config") else {
        return Ok(serde_json::json!({}));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(config)
        .map_err(|e| invalid(format!("containerimage.config is not base64: {e}")))?;
    crate::image_config::parse_base(&format!("input {name}"), &bytes)
        .map_err(|e| DriverError::Precondition(e.to_string()))
}

/// Resolves a registry image for a platform through BuildKit and pins it by digest.
async fn resolve_image(
    bridge: &mut Bridge,
    reference: &ImageRef,
    platform: &Platform,
    resolve_mode: Option<&str>,
    role: Role,
) -> Result<SourceImage, DriverError> {
    let mode = resolve_mode.unwrap_or("default");
    let log_name = resolve_log_name(role.name(), &reference.to_string(), platform, mode);
    let resolved = bridge
        .resolve_image_config(&reference.to_string(), platform, mode, &log_name)
        .await?;
    // A source policy may rewrite the reference; pin what BuildKit actually resolved.
    let named = if resolved.reference.is_empty() {
        reference.clone()
    } else {
        ImageRef::parse(&resolved.reference).unwrap_or_else(|_| reference.clone())
    };
    let pinned = if resolved.digest.is_empty() {
        named
    } else {
        named.pinned(&resolved.digest)
    };
    let config = crate::image_config::parse_base(&pinned.to_string(), &resolved.config)
        .map_err(|e| DriverError::Precondition(e.to_string()))?;
    Ok(SourceImage {
        reference: pinned,
        config,
        replacement: None,
        existing_dirs: None,
    })
}

/// The progress line of a resolve. A mode other than BuildKit's default is
/// shown, so `buildx build --pull` visibly reaches golb's resolves.
fn resolve_log_name(role: &str, reference: &str, platform: &Platform, mode: &str) -> String {
    match mode {
        "default" | "" => format!("[golb] resolve {role} {reference} for {platform}"),
        mode => {
            format!("[golb] resolve {role} {reference} for {platform} (image-resolve-mode={mode})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_lines_show_a_mode_other_than_default() {
        let amd64 = Platform::linux_amd64();
        assert_eq!(
            resolve_log_name("runtime", "r.example/base:1", &amd64, "default"),
            "[golb] resolve runtime r.example/base:1 for linux/amd64"
        );
        assert_eq!(
            resolve_log_name("builder", "r.example/go:1", &amd64, "pull"),
            "[golb] resolve builder r.example/go:1 for linux/amd64 (image-resolve-mode=pull)"
        );
    }

    #[test]
    fn input_metadata_gives_the_image_config() {
        use base64::Engine as _;
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Env":["FROM_BAKE=1"]}}"#;
        let metadata = serde_json::json!({
            "containerimage.config": base64::engine::general_purpose::STANDARD.encode(config),
            "containerimage.buildinfo": "e30=",
        });
        let opts: BTreeMap<String, String> = [(
            "input-metadata:runtime::linux/amd64".to_string(),
            metadata.to_string(),
        )]
        .into();
        let got = input_image_config(&opts, "runtime::linux/amd64").unwrap();
        assert_eq!(got["config"]["Env"][0], "FROM_BAKE=1");
        // Inputs that are not images (no metadata) have an empty config.
        assert_eq!(
            input_image_config(&opts, "other").unwrap(),
            serde_json::json!({})
        );
        let bad: BTreeMap<String, String> = [(
            "input-metadata:x".to_string(),
            r#"{"containerimage.config":"%%"}"#.to_string(),
        )]
        .into();
        let err = input_image_config(&bad, "x").unwrap_err().to_string();
        assert!(
            err.starts_with("input-metadata:x: containerimage.config is not base64"),
            "{err}"
        );
    }
}
