//! Errors a frontend returns to BuildKit, with BuildKit's errdefs details so clients show the spec lines.
//!
//! BuildKit decodes each detail by its type URL and parses the value with Go's encoding/json
//! (`util/grpcerrors`), so the JSON must look like Go's output for the errdefs structs:
//! protobuf field names, `omitempty` everywhere, `[]byte` as standard base64.

use base64::Engine;
use bollard_buildkit_proto::google::protobuf::Any;
use prost::Message;
use serde::Serialize;

pub use bollard_buildkit_proto::google::rpc::Status;

use crate::llb::{Location, SourceFile};

const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";
const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

#[derive(Serialize)]
struct SourceJson<'a> {
    info: SourceInfoJson<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<RangeJson>,
}

#[derive(Serialize)]
struct SourceInfoJson<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    filename: &'a str,
    #[serde(skip_serializing_if = "String::is_empty")]
    data: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    language: &'a str,
}

#[derive(Serialize)]
struct RangeJson {
    start: PositionJson,
    end: PositionJson,
}

#[derive(Serialize)]
struct PositionJson {
    #[serde(skip_serializing_if = "is_zero")]
    line: u32,
    #[serde(skip_serializing_if = "is_zero")]
    character: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn detail(type_url: &str, value: Vec<u8>) -> Any {
    Any {
        type_url: type_url.to_string(),
        value,
    }
}

/// An error located in a source file: clients print the offending lines. Lines and columns
/// are passed through as given (BuildKit's `Position.line` / `.character`).
pub fn source_error(code: i32, message: &str, file: &SourceFile, ranges: &[Location]) -> Status {
    let json = SourceJson {
        info: SourceInfoJson {
            filename: &file.filename,
            data: base64::engine::general_purpose::STANDARD.encode(&file.data),
            language: &file.language,
        },
        ranges: ranges
            .iter()
            .map(|r| RangeJson {
                start: PositionJson {
                    line: r.line,
                    character: r.col,
                },
                end: PositionJson {
                    line: r.end_line,
                    character: r.end_col,
                },
            })
            .collect(),
    };
    let mut status = plain_error(code, message);
    // Serializing these plain structs cannot fail; without the detail the error still reads fine.
    if let Ok(value) = serde_json::to_vec(&json) {
        status.details.push(detail(SOURCE_TYPE_URL, value));
    }
    status
}

pub fn plain_error(code: i32, message: &str) -> Status {
    Status {
        code,
        message: message.to_string(),
        details: Vec::new(),
    }
}

/// Unsupported subrequest: clients (buildx `--print`, `--check`) recognise the detail and fall
/// back instead of failing.
pub fn unsupported_subrequest(name: &str) -> Status {
    let mut status = plain_error(
        tonic::Code::Unimplemented as i32,
        &format!("unsupported request {name}"),
    );
    if let Ok(value) = serde_json::to_vec(&serde_json::json!({ "name": name })) {
        status.details.push(detail(SUBREQUEST_TYPE_URL, value));
    }
    status
}

/// A tonic status as a `google.rpc.Status`, keeping its details: tonic carries them as the
/// encoded `google.rpc.Status` from the `grpc-status-details-bin` trailer.
pub fn from_tonic(status: &tonic::Status) -> Status {
    let details = if status.details().is_empty() {
        Vec::new()
    } else {
        Status::decode(status.details())
            .map(|s| s.details)
            .unwrap_or_default()
    };
    Status {
        code: status.code() as i32,
        message: status.message().to_string(),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_error_matches_go_json() {
        let file = SourceFile {
            filename: "golb.toml".into(),
            data: b"name = 1\n".to_vec(),
            language: "toml".into(),
        };
        let ranges = [Location {
            line: 1,
            col: 0,
            end_line: 1,
            end_col: 8,
        }];
        let st = source_error(3, "bad name", &file, &ranges);
        assert_eq!((st.code, st.message.as_str()), (3, "bad name"));
        assert_eq!(st.details.len(), 1);
        assert_eq!(
            st.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Source+json"
        );
        let json = String::from_utf8(st.details[0].value.clone()).expect("utf8");
        assert_eq!(
            json,
            r#"{"info":{"filename":"golb.toml","data":"bmFtZSA9IDEK","language":"toml"},"ranges":[{"start":{"line":1},"end":{"line":1,"character":8}}]}"#
        );
    }

    #[test]
    fn empty_fields_are_omitted() {
        let file = SourceFile {
            filename: "f".into(),
            data: Vec::new(),
            language: String::new(),
        };
        let st = source_error(2, "m", &file, &[]);
        assert_eq!(st.details[0].value, br#"{"info":{"filename":"f"}}"#);
    }

    #[test]
    fn unsupported_subrequest_shape() {
        let st = unsupported_subrequest("frontend.outline");
        assert_eq!(st.code, 12);
        assert_eq!(st.message, "unsupported request frontend.outline");
        assert_eq!(
            st.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Subrequest+json"
        );
        assert_eq!(st.details[0].value, br#"{"name":"frontend.outline"}"#);
    }

    #[test]
    fn from_tonic_keeps_details() {
        let original = source_error(
            3,
            "x",
            &SourceFile {
                filename: "f".into(),
                data: vec![],
                language: String::new(),
            },
            &[],
        );
        let tonic_status = tonic::Status::with_details(
            tonic::Code::InvalidArgument,
            "x",
            original.encode_to_vec().into(),
        );
        assert_eq!(from_tonic(&tonic_status), original);
        assert!(from_tonic(&tonic::Status::internal("y")).details.is_empty());
    }
}
