//! The frontend's answer to BuildKit, shaped as the Dockerfile frontend shapes it
//! (`frontend/dockerui/build.go`) so exporters, SBOM and provenance find what they expect.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::pb;
use super::{Caps, GatewayError, RefId};
use crate::llb::Platform;

const CONFIG_KEY: &str = "containerimage.config";
const PLATFORMS_KEY: &str = "refs.platforms";

/// The gateway cap a daemon announces when it accepts `Result.attestations`
/// (`frontend/gateway/pb/caps.go`, BuildKit v0.11).
pub const CAP_ATTESTATIONS: &str = "reference.attestations";
/// The in-toto predicate type of an SPDX document. BuildKit skips its own SBOM
/// scan when a result already carries one (`sbom.HasSBOM`).
pub const SPDX_PREDICATE_TYPE: &str = "https://spdx.dev/Document";
/// The in-toto predicate type of an OpenVEX document.
pub const OPENVEX_PREDICATE_TYPE: &str = "https://openvex.dev/ns/v0.2.0";
/// `solver/result/attestation.go`: why an attestation exists.
const REASON_KEY: &str = "reason";
const REASON_SBOM: &str = "sbom";
/// `solver/result/attestation.go`: marks the core SBOM of an image; its value
/// is the attestation file's base name up to the first dot, which
/// `exporter/containerimage/attestations.go` compares with `path`.
const SBOM_CORE_KEY: &str = "sbom-core";

/// An in-toto attestation for one platform's result: BuildKit reads the file
/// at `path` in the solved `ref` and wraps it in a Statement whose subject is
/// that platform's image (`exporter/attestation/make.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
    /// A solved result holding the predicate file.
    pub r#ref: RefId,
    /// The predicate file inside `ref`, e.g. "/sbom.spdx.json".
    pub path: String,
    pub predicate_type: String,
    pub metadata: BTreeMap<String, Vec<u8>>,
}

impl Attestation {
    /// A predicate of any type, with no metadata.
    pub fn in_toto(r#ref: RefId, path: &str, predicate_type: &str) -> Attestation {
        Attestation {
            r#ref,
            path: path.to_string(),
            predicate_type: predicate_type.to_string(),
            metadata: BTreeMap::new(),
        }
    }

    /// The image's SBOM: an SPDX document, marked as the core SBOM so the
    /// image exporter treats it as BuildKit's scanner's would be treated, and
    /// so that BuildKit does not run its scanner on top.
    pub fn spdx_sbom(r#ref: RefId, path: &str) -> Attestation {
        let base = path.rsplit('/').next().unwrap_or(path);
        let core = base.split('.').next().unwrap_or(base);
        let mut attestation = Attestation::in_toto(r#ref, path, SPDX_PREDICATE_TYPE);
        attestation.metadata = BTreeMap::from([
            (REASON_KEY.to_string(), REASON_SBOM.as_bytes().to_vec()),
            (SBOM_CORE_KEY.to_string(), core.as_bytes().to_vec()),
        ]);
        attestation
    }

    fn to_pb(&self) -> pb::Attestation {
        pb::Attestation {
            kind: pb::AttestationKind::InToto as i32,
            metadata: self.metadata.clone().into_iter().collect(),
            r#ref: Some(pb_ref(&self.r#ref)),
            path: self.path.clone(),
            in_toto_predicate_type: self.predicate_type.clone(),
            // None: the subject is the platform's image itself.
            in_toto_subjects: Vec::new(),
        }
    }
}

/// What a frontend returns: one ref per platform + metadata. Builds the frontend Result:
/// single platform → result Ref + "containerimage.config" + "refs.platforms";
/// several → Refs map keyed by platform id, `containerimage.config/<id>`, "refs.platforms".
/// No images → metadata only (the reply to a subrequest).
#[derive(Clone, Debug, Default)]
pub struct ReturnResult {
    pub images: Vec<PlatformImage>,
    /// Added as given; keys derived from `images` take precedence.
    pub extra_metadata: BTreeMap<String, Vec<u8>>,
    /// Attestations per image platform; each platform must be one of `images`.
    /// Sending any needs the daemon's [`CAP_ATTESTATIONS`]: see [`ReturnResult::check_caps`].
    pub attestations: BTreeMap<Platform, Vec<Attestation>>,
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
            attestations: self.attestations_pb()?,
            result,
        })
    }

    /// An error when the result carries attestations the daemon cannot take.
    pub fn check_caps(&self, caps: &Caps) -> Result<(), GatewayError> {
        let any = self.attestations.values().any(|a| !a.is_empty());
        if any && !caps.missing(&[CAP_ATTESTATIONS], &[]).is_empty() {
            return Err(GatewayError::Result(format!(
                "this BuildKit cannot take attestations (no {CAP_ATTESTATIONS} cap): use BuildKit v0.11 or newer (Docker 24 or newer), or build without --sbom/--attest"
            )));
        }
        Ok(())
    }

    /// `Result.attestations`, keyed by the platform IDs `refs.platforms` uses.
    fn attestations_pb(&self) -> Result<HashMap<String, pb::Attestations>, GatewayError> {
        let mut out = HashMap::new();
        for (platform, attestations) in &self.attestations {
            if attestations.is_empty() {
                continue;
            }
            if !self.images.iter().any(|i| &i.platform == platform) {
                return Err(GatewayError::Result(format!(
                    "attestations for {platform}, which has no image in the result"
                )));
            }
            for attestation in attestations {
                check_ref_id(&attestation.r#ref, || {
                    format!("the attestation {} for {platform}", attestation.path)
                })?;
            }
            out.insert(
                platform.to_string(),
                pb::Attestations {
                    attestation: attestations.iter().map(Attestation::to_pb).collect(),
                },
            );
        }
        Ok(out)
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
    check_ref_id(&image.r#ref, || format!("the image for {}", image.platform))
}

fn check_ref_id(r: &RefId, what: impl FnOnce() -> String) -> Result<(), GatewayError> {
    if r.0.is_empty() {
        return Err(GatewayError::Result(format!("{} has no reference", what())));
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
            ..ReturnResult::default()
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
            ..ReturnResult::default()
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
            ..ReturnResult::default()
        };
        let res = rr.to_pb().expect("valid");
        assert!(res.result.is_none());
        assert_eq!(res.metadata.len(), 1);

        let dup = ReturnResult {
            images: vec![image("linux/amd64", "a"), image("linux/x86_64", "b")],
            extra_metadata: BTreeMap::new(),
            ..ReturnResult::default()
        };
        assert!(dup.to_pb().is_err());
        let empty_ref = ReturnResult {
            images: vec![image("linux/amd64", "")],
            extra_metadata: BTreeMap::new(),
            ..ReturnResult::default()
        };
        assert!(empty_ref.to_pb().is_err());
    }

    /// (field number, wire type) of each top-level field of a protobuf message.
    fn top_level_fields(mut bytes: &[u8]) -> Vec<(u64, u64)> {
        fn varint(bytes: &mut &[u8]) -> u64 {
            let mut value = 0;
            for shift in (0..64).step_by(7) {
                let (byte, rest) = bytes.split_first().expect("varint");
                *bytes = rest;
                value |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            value
        }
        let mut fields = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes);
            let (field, wire) = (key >> 3, key & 7);
            match wire {
                0 => {
                    varint(&mut bytes);
                }
                2 => {
                    let len = usize::try_from(varint(&mut bytes)).expect("length");
                    bytes = &bytes[len..];
                }
                other => panic!("unexpected wire type {other}"),
            }
            fields.push((field, wire));
        }
        fields
    }

    fn sbom_result() -> ReturnResult {
        let amd64 = Platform::parse("linux/amd64").expect("platform");
        let arm = Platform::parse("linux/arm/v7").expect("platform");
        ReturnResult {
            images: vec![image("linux/amd64", "img1"), image("linux/arm/v7", "img2")],
            attestations: BTreeMap::from([
                (
                    amd64,
                    vec![Attestation::spdx_sbom(
                        RefId("sbom1".into()),
                        "/sbom.spdx.json",
                    )],
                ),
                (
                    arm,
                    vec![
                        Attestation::spdx_sbom(RefId("sbom2".into()), "/sbom.spdx.json"),
                        Attestation::in_toto(
                            RefId("vex2".into()),
                            "/vex.openvex.json",
                            OPENVEX_PREDICATE_TYPE,
                        ),
                    ],
                ),
            ]),
            ..ReturnResult::default()
        }
    }

    #[test]
    fn attestations_travel_in_result_field_12_keyed_by_platform() {
        use prost::Message;
        let encoded = sbom_result().to_pb().expect("valid").encode_to_vec();
        // On the wire: two entries of map field 12 (length-delimited) at the top level.
        let fields = top_level_fields(&encoded);
        assert_eq!(
            fields.iter().filter(|f| **f == (12, 2)).count(),
            2,
            "{fields:?}"
        );
        let res = pb::Result::decode(encoded.as_slice()).expect("decodes");
        let mut keys: Vec<&String> = res.attestations.keys().collect();
        keys.sort();
        assert_eq!(keys, ["linux/amd64", "linux/arm/v7"]);
        // The keys are the IDs refs.platforms announces.
        let platforms = meta(&res, "refs.platforms");
        for key in keys {
            assert!(
                platforms.contains(&format!("\"ID\":\"{key}\"")),
                "{platforms}"
            );
        }

        let sbom = &res.attestations["linux/amd64"].attestation[0];
        assert_eq!(sbom.kind, pb::AttestationKind::InToto as i32);
        assert_eq!(sbom.in_toto_predicate_type, "https://spdx.dev/Document");
        assert_eq!(sbom.path, "/sbom.spdx.json");
        assert_eq!(sbom.r#ref.as_ref().map(|r| r.id.as_str()), Some("sbom1"));
        assert!(sbom.in_toto_subjects.is_empty(), "the subject is the image");
        let metadata: BTreeMap<&str, &[u8]> = sbom
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(
            metadata,
            BTreeMap::from([("reason", &b"sbom"[..]), ("sbom-core", &b"sbom"[..])])
        );

        let arm = &res.attestations["linux/arm/v7"].attestation;
        assert_eq!(arm.len(), 2);
        assert_eq!(
            arm[1].in_toto_predicate_type,
            "https://openvex.dev/ns/v0.2.0"
        );
        assert!(arm[1].metadata.is_empty(), "a VEX document is no SBOM");
    }

    #[test]
    fn sbom_core_is_the_base_name_up_to_the_first_dot() {
        let a = Attestation::spdx_sbom(RefId("r".into()), "/out/golb.spdx.json");
        assert_eq!(a.metadata["sbom-core"], b"golb");
        let a = Attestation::spdx_sbom(RefId("r".into()), "sbom");
        assert_eq!(a.metadata["sbom-core"], b"sbom");
    }

    #[test]
    fn attestations_need_the_cap_and_an_image_of_their_platform() {
        let with = sbom_result();
        let mut caps = Caps::default();
        let err = with.check_caps(&caps).unwrap_err().to_string();
        assert!(err.contains("reference.attestations"), "{err}");
        caps.frontend.insert(CAP_ATTESTATIONS.to_string());
        assert!(with.check_caps(&caps).is_ok());
        // Without attestations no cap is needed, and field 12 stays empty.
        let plain = ReturnResult {
            images: vec![image("linux/amd64", "img1")],
            ..ReturnResult::default()
        };
        assert!(plain.check_caps(&Caps::default()).is_ok());
        assert!(plain.to_pb().expect("valid").attestations.is_empty());

        let mut stray = sbom_result();
        stray.images.pop();
        let err = stray.to_pb().unwrap_err().to_string();
        assert!(err.contains("linux/arm/v7, which has no image"), "{err}");
        let mut unsolved = sbom_result();
        unsolved
            .attestations
            .values_mut()
            .for_each(|a| a[0].r#ref = RefId(String::new()));
        assert!(unsolved.to_pb().is_err());
    }
}
