//! The frontend's answer to BuildKit, shaped as the Dockerfile frontend shapes it
//! (`frontend/dockerui/build.go`) so exporters, SBOM and provenance find what they expect.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::pb;
use super::{GatewayError, RefId};
use crate::llb::Platform;

const CONFIG_KEY: &str = "containerimage.config";
const PLATFORMS_KEY: &str = "refs.platforms";

/// What a frontend returns: one ref per platform + metadata. Builds the frontend Result:
/// single platform → result Ref + "containerimage.config" + "refs.platforms";
/// several → Refs map keyed by platform id, `containerimage.config/<id>`, "refs.platforms".
/// No images → metadata only (the reply to a subrequest).
#[derive(Clone, Debug, Default)]
pub struct ReturnResult {
    pub images: Vec<PlatformImage>,
    /// Added as given; keys derived from `images` take precedence.
    pub extra_metadata: BTreeMap<String, Vec<u8>>,
}

#[derive(Clone, Debug)]
pub struct PlatformImage {
    pub platform: Platform,
    pub r#ref: RefId,
    /// The image config JSON; empty for results that are not images (no config is sent).
    pub config: Vec<u8>,
}

/// `exptypes.Platforms`: the Go structs have no json tags, hence the capitalised keys.
#[derive(Serialize)]
struct ExportPlatforms<'a> {
    #[serde(rename = "Platforms")]
    platforms: Vec<ExportPlatform<'a>>,
}

#[derive(Serialize)]
struct ExportPlatform<'a> {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Platform")]
    platform: OciPlatform<'a>,
}

/// `ocispecs.Platform` field order and omitempty rules.
#[derive(Serialize)]
struct OciPlatform<'a> {
    architecture: &'a str,
    os: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
}

impl ReturnResult {
    pub fn to_pb(&self) -> Result<pb::Result, GatewayError> {
        let mut metadata: HashMap<String, Vec<u8>> =
            self.extra_metadata.clone().into_iter().collect();
        let result = match self.images.as_slice() {
            [] => None,
            [single] => {
                check_ref(single)?;
                if !single.config.is_empty() {
                    metadata.insert(CONFIG_KEY.to_string(), single.config.clone());
                }
                Some(pb::result::Result::Ref(pb_ref(&single.r#ref)))
            }
            several => {
                let mut refs = HashMap::new();
                for image in several {
                    check_ref(image)?;
                    let id = image.platform.to_string();
                    if !image.config.is_empty() {
                        metadata.insert(format!("{CONFIG_KEY}/{id}"), image.config.clone());
                    }
                    if refs.insert(id.clone(), pb_ref(&image.r#ref)).is_some() {
                        return Err(GatewayError::Result(format!(
                            "platform {id} is listed twice"
                        )));
                    }
                }
                Some(pb::result::Result::Refs(pb::RefMap { refs }))
            }
        };
        if !self.images.is_empty() {
            metadata.insert(PLATFORMS_KEY.to_string(), self.platforms_json()?);
        }
        Ok(pb::Result {
            metadata,
            attestations: HashMap::new(),
            result,
        })
    }

    fn platforms_json(&self) -> Result<Vec<u8>, GatewayError> {
        let mut seen = BTreeSet::new();
        let platforms = self
            .images
            .iter()
            .filter(|i| seen.insert(&i.platform))
            .map(|i| ExportPlatform {
                id: i.platform.to_string(),
                platform: OciPlatform {
                    architecture: &i.platform.architecture,
                    os: &i.platform.os,
                    variant: i.platform.variant.as_deref(),
                },
            })
            .collect();
        serde_json::to_vec(&ExportPlatforms { platforms })
            .map_err(|e| GatewayError::Result(format!("encode {PLATFORMS_KEY}: {e}")))
    }
}

fn check_ref(image: &PlatformImage) -> Result<(), GatewayError> {
    if image.r#ref.0.is_empty() {
        return Err(GatewayError::Result(format!(
            "the image for {} has no reference",
            image.platform
        )));
    }
    Ok(())
}

fn pb_ref(r: &RefId) -> pb::Ref {
    pb::Ref {
        id: r.0.clone(),
        def: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(platform: &str, r: &str) -> PlatformImage {
        PlatformImage {
            platform: Platform::parse(platform).expect("platform"),
            r#ref: RefId(r.to_string()),
            config: format!("{{\"p\":\"{platform}\"}}").into_bytes(),
        }
    }

    fn meta<'a>(res: &'a pb::Result, key: &str) -> &'a str {
        res.metadata
            .get(key)
            .and_then(|v| std::str::from_utf8(v).ok())
            .unwrap_or("<missing>")
    }

    #[test]
    fn single_platform_uses_ref() {
        let rr = ReturnResult {
            images: vec![image("linux/amd64", "r1")],
            extra_metadata: BTreeMap::from([("x".to_string(), b"y".to_vec())]),
        };
        let res = rr.to_pb().expect("valid");
        match &res.result {
            Some(pb::result::Result::Ref(r)) => assert_eq!(r.id, "r1"),
            other => panic!("expected a single ref, got {other:?}"),
        }
        assert_eq!(
            meta(&res, "containerimage.config"),
            r#"{"p":"linux/amd64"}"#
        );
        assert_eq!(
            meta(&res, "refs.platforms"),
            r#"{"Platforms":[{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}}]}"#
        );
        assert_eq!(meta(&res, "x"), "y");
    }

    #[test]
    fn several_platforms_use_refs_map() {
        let rr = ReturnResult {
            images: vec![image("linux/amd64", "r1"), image("linux/arm/v7", "r2")],
            extra_metadata: BTreeMap::new(),
        };
        let res = rr.to_pb().expect("valid");
        match &res.result {
            Some(pb::result::Result::Refs(m)) => {
                assert_eq!(m.refs.get("linux/amd64").map(|r| r.id.as_str()), Some("r1"));
                assert_eq!(
                    m.refs.get("linux/arm/v7").map(|r| r.id.as_str()),
                    Some("r2")
                );
            }
            other => panic!("expected a refs map, got {other:?}"),
        }
        assert_eq!(
            meta(&res, "containerimage.config/linux/arm/v7"),
            r#"{"p":"linux/arm/v7"}"#
        );
        assert!(!res.metadata.contains_key("containerimage.config"));
        assert_eq!(
            meta(&res, "refs.platforms"),
            r#"{"Platforms":[{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}},{"ID":"linux/arm/v7","Platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}"#
        );
    }

    #[test]
    fn metadata_only_and_errors() {
        let rr = ReturnResult {
            images: vec![],
            extra_metadata: BTreeMap::from([("result.txt".to_string(), b"hi".to_vec())]),
        };
        let res = rr.to_pb().expect("valid");
        assert!(res.result.is_none());
        assert_eq!(res.metadata.len(), 1);

        let dup = ReturnResult {
            images: vec![image("linux/amd64", "a"), image("linux/x86_64", "b")],
            extra_metadata: BTreeMap::new(),
        };
        assert!(dup.to_pb().is_err());
        let empty_ref = ReturnResult {
            images: vec![image("linux/amd64", "")],
            extra_metadata: BTreeMap::new(),
        };
        assert!(empty_ref.to_pb().is_err());
    }
}
