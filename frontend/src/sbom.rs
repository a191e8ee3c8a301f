//! golb's SBOM: an SPDX 2.3 JSON document for one platform's result, made
//! from what golb knows exactly rather than from a scan of the final files:
//! each binary's Go build info (main module, every linked module, the Go
//! release, the build settings), go.sum's hashes, the builder and runtime
//! base images golb pinned by digest, and the files golb added.
//!
//! The document is deterministic: no wall clock (`created` is the build's
//! SOURCE_DATE_EPOCH), SPDX IDs derived from content, every list sorted, and a
//! document namespace that is a hash of the rest. Two builds of the same
//! inputs give byte-identical SBOMs.
//!
//! Shape: the document DESCRIBES one root package (the image, or the binaries
//! of `--target binaries`) that CONTAINS the files golb added. Each binary
//! file is GENERATED_FROM its main module and has a STATIC_LINK to every module
//! it links, the standard library included, and the builder image is the
//! BUILD_TOOL_OF it. The image is a DESCENDANT_OF the runtime base. Each
//! binary's build settings are annotations on its file.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde::Serialize;
use sha1::Digest as _;

use crate::go_binary::{BuildInfo, Module};
use crate::go_sum::GoSum;
use crate::image_ref::ImageRef;
use crate::purl;

/// A file golb put into the result, with its path there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedFile {
    /// Absolute path in the image (or in the binaries' output directory).
    pub path: String,
    pub sha1: String,
    pub sha256: String,
}

impl AddedFile {
    pub fn new(path: &str, content: &[u8]) -> AddedFile {
        AddedFile {
            path: path.to_string(),
            sha1: hex::encode(sha1::Sha1::digest(content)),
            sha256: hex::encode(sha2::Sha256::digest(content)),
        }
    }
}

/// A built Go binary: the file and its build info.
#[derive(Clone, Debug)]
pub struct Binary {
    pub file: AddedFile,
    pub info: BuildInfo,
}

/// Everything one platform's SBOM is made from.
pub struct SbomInput<'a> {
    /// What the document describes: the image's name, or the main module's path.
    pub name: &'a str,
    /// The platform of the result, e.g. "linux/arm64".
    pub platform: &'a str,
    pub binaries: &'a [Binary],
    /// The other files golb added (`[[file]]`).
    pub files: &'a [AddedFile],
    pub go_sum: &'a GoSum,
    /// The builder image, pinned by digest.
    pub builder: &'a ImageRef,
    /// The runtime base, pinned by digest; None when the result is not an
    /// image (`--target binaries`).
    pub runtime: Option<&'a ImageRef>,
    /// RFC 3339, from SOURCE_DATE_EPOCH: never the wall clock.
    pub created: &'a str,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SbomError {
    #[error("{binary}: built outside module mode, so it has no module information for an SBOM")]
    NoModuleInfo { binary: String },
    #[error("{binary}: {module} {version} was linked with hash {linked}, but go.sum has {go_sum}")]
    SumMismatch {
        binary: String,
        module: String,
        version: String,
        linked: String,
        go_sum: String,
    },
    #[error(
        "the {role} image {reference} is not pinned by digest; the SBOM names images by digest"
    )]
    NotPinned {
        role: &'static str,
        reference: String,
    },
    #[error("two files at {0}")]
    DuplicatePath(String),
    #[error("encoding the SBOM: {0}")]
    Encode(String),
}

const TOOL: &str = concat!("Tool: golb-", env!("CARGO_PKG_VERSION"));
const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
const ROOT_ID: &str = "SPDXRef-root";
const BUILDER_ID: &str = "SPDXRef-image-builder";
const RUNTIME_ID: &str = "SPDXRef-image-runtime";
const NAMESPACE_BASE: &str = "https://spdx.org/spdxdocs/golb";
const DOCUMENT_COMMENT: &str = "Made by golb inside the build from each binary's Go build info, \
the module's go.sum, the images golb pinned by digest and the files golb added. \
A Go module's SHA256 checksum is its go.sum h1 hash (the SHA-256 of the module's file list), decoded from base64.";

// SPDX 2.3 JSON, field names as the schema spells them.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    comment: &'static str,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    files: Vec<File>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<&'static str>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_verification_code: Option<VerificationCode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize, Clone)]
struct VerificationCode {
    #[serde(rename = "packageVerificationCodeValue")]
    value: String,
}

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Checksum {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: String,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    file_name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    checksums: Vec<Checksum>,
    file_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: &'static str,
    comment: String,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// The SPDX document for one platform, as pretty-printed JSON ending in a newline.
pub fn document(input: &SbomInput) -> Result<Vec<u8>, SbomError> {
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    let mut relationships: BTreeSet<Relationship> = BTreeSet::new();
    let mut relate = |from: &str, kind: &'static str, to: &str| {
        relationships.insert(Relationship {
            spdx_element_id: from.to_string(),
            relationship_type: kind,
            related_spdx_element: to.to_string(),
        });
    };

    let builder = image_package(input.builder, BUILDER_ID, "builder")?;
    packages.insert(builder.spdx_id.clone(), builder);
    if let Some(runtime) = input.runtime {
        let runtime = image_package(runtime, RUNTIME_ID, "runtime")?;
        packages.insert(runtime.spdx_id.clone(), runtime);
        relate(ROOT_ID, "DESCENDANT_OF", RUNTIME_ID);
    }

    let mut files: BTreeMap<String, File> = BTreeMap::new();
    for binary in input.binaries {
        let main = binary
            .info
            .main
            .as_ref()
            .ok_or_else(|| SbomError::NoModuleInfo {
                binary: binary.file.path.clone(),
            })?;
        let file_id = spdx_id("file", &binary.file.path);
        let main_package = module_package(main, input.go_sum, &binary.file.path, "APPLICATION")?;
        relate(&file_id, "GENERATED_FROM", &main_package.spdx_id);
        packages.insert(main_package.spdx_id.clone(), main_package);
        for dep in &binary.info.deps {
            let package = module_package(dep, input.go_sum, &binary.file.path, "LIBRARY")?;
            relate(&file_id, "STATIC_LINK", &package.spdx_id);
            packages.insert(package.spdx_id.clone(), package);
        }
        let stdlib = stdlib_package(&binary.info.go_version);
        relate(&file_id, "STATIC_LINK", &stdlib.spdx_id);
        packages.insert(stdlib.spdx_id.clone(), stdlib);
        relate(BUILDER_ID, "BUILD_TOOL_OF", &file_id);

        let comment = format!(
            "Go binary of package {}, built by {}",
            binary.info.path, binary.info.go_version
        );
        let annotations = binary
            .info
            .settings
            .iter()
            .map(|setting| Annotation {
                annotation_date: input.created.to_string(),
                annotation_type: "OTHER",
                annotator: TOOL,
                comment: format!("go build setting: {setting}"),
            })
            .collect();
        let file = file_entry(&binary.file, file_id, "BINARY", Some(comment), annotations);
        if files.insert(file.spdx_id.clone(), file).is_some() {
            return Err(SbomError::DuplicatePath(binary.file.path.clone()));
        }
    }
    for added in input.files {
        let file = file_entry(
            added,
            spdx_id("file", &added.path),
            "OTHER",
            None,
            Vec::new(),
        );
        if files.insert(file.spdx_id.clone(), file).is_some() {
            return Err(SbomError::DuplicatePath(added.path.clone()));
        }
    }
    for id in files.keys() {
        relate(ROOT_ID, "CONTAINS", id);
    }
    relate(DOCUMENT_ID, "DESCRIBES", ROOT_ID);

    let root = Package {
        name: input.name.to_string(),
        spdx_id: ROOT_ID.to_string(),
        version_info: None,
        download_location: NOASSERTION,
        files_analyzed: true,
        package_verification_code: Some(VerificationCode {
            value: verification_code(files.values()),
        }),
        checksums: Vec::new(),
        external_refs: Vec::new(),
        primary_package_purpose: if input.runtime.is_some() {
            "CONTAINER"
        } else {
            "APPLICATION"
        },
        comment: Some(format!("golb's result for {}", input.platform)),
    };
    packages.insert(root.spdx_id.clone(), root);

    let mut doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: format!("{} ({})", input.name, input.platform),
        document_namespace: String::new(),
        comment: DOCUMENT_COMMENT,
        creation_info: CreationInfo {
            created: input.created.to_string(),
            creators: vec![TOOL],
        },
        packages: packages.into_values().collect(),
        files: files.into_values().collect(),
        relationships: relationships.into_iter().collect(),
    };
    // The namespace must be unique per document: a hash of everything else.
    let unnamed = serde_json::to_vec(&doc).map_err(|e| SbomError::Encode(e.to_string()))?;
    doc.document_namespace = format!(
        "{NAMESPACE_BASE}/{}-{}",
        sanitize(&doc.name),
        hex::encode(sha2::Sha256::digest(&unnamed))
    );
    let mut json = serde_json::to_vec_pretty(&doc).map_err(|e| SbomError::Encode(e.to_string()))?;
    json.push(b'\n');
    Ok(json)
}

/// A module as linked: its replacement when it has one.
fn module_package(
    module: &Module,
    go_sum: &GoSum,
    binary: &str,
    purpose: &'static str,
) -> Result<Package, SbomError> {
    let (linked, comment) = match module.replace.as_deref() {
        Some(replacement) if is_local(replacement) => {
            let comment = format!(
                "{} {} replaced by the local directory {}",
                module.path, module.version, replacement.path
            );
            let package = Package {
                name: module.path.clone(),
                spdx_id: spdx_id("gomod", &format!("{} => {}", module.path, replacement.path)),
                version_info: None,
                download_location: NOASSERTION,
                files_analyzed: false,
                package_verification_code: None,
                checksums: Vec::new(),
                external_refs: vec![purl_ref(purl::go_module(&module.path, ""))],
                primary_package_purpose: purpose,
                comment: Some(comment),
            };
            return Ok(package);
        }
        Some(replacement) => (
            replacement,
            Some(format!("replaces {} {}", module.path, module.version)),
        ),
        None => (module, None),
    };
    let sum = linked_sum(linked, go_sum, binary)?;
    let version = (linked.version != "(devel)").then(|| linked.version.clone());
    Ok(Package {
        name: linked.path.clone(),
        spdx_id: spdx_id("gomod", &format!("{}@{}", linked.path, linked.version)),
        version_info: version,
        download_location: NOASSERTION,
        files_analyzed: false,
        package_verification_code: None,
        checksums: sum.as_deref().and_then(h1_sha256).into_iter().collect(),
        external_refs: vec![purl_ref(purl::go_module(&linked.path, &linked.version))],
        primary_package_purpose: purpose,
        comment,
    })
}

/// A module replaced by a directory (`=> ./x`) has no version of its own.
fn is_local(replacement: &Module) -> bool {
    replacement.version.is_empty() || replacement.version == "(devel)"
}

/// The hash the binary recorded, cross-checked with go.sum; go.sum's alone
/// for -mod=vendor builds, whose build info has none.
fn linked_sum(module: &Module, go_sum: &GoSum, binary: &str) -> Result<Option<String>, SbomError> {
    let from_go_sum = go_sum.hash(&module.path, &module.version);
    match (module.sum.as_deref(), from_go_sum) {
        (Some(linked), Some(listed)) if linked != listed => Err(SbomError::SumMismatch {
            binary: binary.to_string(),
            module: module.path.clone(),
            version: module.version.clone(),
            linked: linked.to_string(),
            go_sum: listed.to_string(),
        }),
        (linked, listed) => Ok(linked.or(listed).map(str::to_string)),
    }
}

/// go.sum's `h1:<base64 SHA-256>` as an SPDX SHA256 checksum.
fn h1_sha256(sum: &str) -> Option<Checksum> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sum.strip_prefix("h1:")?)
        .ok()?;
    (bytes.len() == 32).then(|| Checksum {
        algorithm: "SHA256",
        value: hex::encode(bytes),
    })
}

fn stdlib_package(go_version: &str) -> Package {
    let bare = go_version.strip_prefix("go").unwrap_or(go_version);
    Package {
        name: "stdlib".to_string(),
        spdx_id: spdx_id("gomod", &format!("stdlib@{go_version}")),
        version_info: Some(go_version.to_string()),
        download_location: NOASSERTION,
        files_analyzed: false,
        package_verification_code: None,
        checksums: Vec::new(),
        external_refs: vec![
            purl_ref(purl::go_stdlib(go_version)),
            ExternalRef {
                reference_category: "SECURITY",
                reference_type: "cpe23Type",
                reference_locator: format!("cpe:2.3:a:golang:go:{bare}:*:*:*:*:*:*:*"),
            },
        ],
        primary_package_purpose: "LIBRARY",
        comment: Some("The Go standard library of the release that built the binaries".into()),
    }
}

fn image_package(image: &ImageRef, id: &str, role: &'static str) -> Result<Package, SbomError> {
    let not_pinned = || SbomError::NotPinned {
        role,
        reference: image.to_string(),
    };
    let digest = image.digest.as_deref().ok_or_else(not_pinned)?;
    let purl = purl::oci_image(image).ok_or_else(not_pinned)?;
    Ok(Package {
        name: format!("{}/{}", image.domain, image.path),
        spdx_id: id.to_string(),
        version_info: Some(digest.to_string()),
        download_location: NOASSERTION,
        files_analyzed: false,
        package_verification_code: None,
        checksums: digest
            .strip_prefix("sha256:")
            .map(|hex| Checksum {
                algorithm: "SHA256",
                value: hex.to_string(),
            })
            .into_iter()
            .collect(),
        external_refs: vec![purl_ref(purl)],
        primary_package_purpose: "CONTAINER",
        comment: Some(format!("golb's {role} image: {image}")),
    })
}

fn file_entry(
    file: &AddedFile,
    spdx_id: String,
    kind: &'static str,
    comment: Option<String>,
    annotations: Vec<Annotation>,
) -> File {
    File {
        // SPDX file names are relative: "./usr/local/bin/server".
        file_name: format!(".{}", file.path),
        spdx_id,
        checksums: vec![
            Checksum {
                algorithm: "SHA1",
                value: file.sha1.clone(),
            },
            Checksum {
                algorithm: "SHA256",
                value: file.sha256.clone(),
            },
        ],
        file_types: vec![kind],
        comment,
        annotations,
    }
}

fn purl_ref(locator: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: locator,
    }
}

/// SPDX 2.3 §7.9: the SHA-1 of the sorted SHA-1s of the package's files.
fn verification_code<'a>(files: impl Iterator<Item = &'a File>) -> String {
    let mut sha1s: Vec<&str> = files
        .flat_map(|f| f.checksums.iter())
        .filter(|c| c.algorithm == "SHA1")
        .map(|c| c.value.as_str())
        .collect();
    sha1s.sort_unstable();
    hex::encode(sha1::Sha1::digest(sha1s.concat().as_bytes()))
}

/// `SPDXRef-<kind>-<readable key>-<hash>`: readable, and unique even where
/// two keys sanitize alike.
fn spdx_id(kind: &str, key: &str) -> String {
    let hash = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    format!("SPDXRef-{kind}-{}-{}", sanitize(key), &hash[..8])
}

/// Only what SPDX IDs allow: letters, digits, '.' and '-', one '-' for
/// each run of anything else.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests;
