//! The LLBBridge client. BuildKit is the gRPC server on the other end of the frontend's stdio
//! pipes: cleartext HTTP/2 with prior knowledge, one connection for the whole run.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;
use tonic::transport::{Channel, Endpoint, Uri};

use super::pb::llb_bridge_client::LlbBridgeClient;
use super::{pb, CacheImport, GatewayError, ReturnResult};
use crate::llb::{self, Platform};
use bollard_buildkit_proto::google::rpc::Status;

/// `ResolveImageConfigRequest.resolver_type` for OCI layouts (Go's
/// `sourceresolver.ResolverTypeOCILayout`; 0 is the registry).
const RESOLVER_TYPE_OCI_LAYOUT: i32 = 1;

/// BuildKit's own limit (`defaults.DefaultMaxRecvMsgSize`); tonic would stop at 4 MiB.
const MAX_MESSAGE: usize = 16 << 20;

/// A solved result, valid until the frontend returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefId(pub String);

#[derive(Clone, Debug, Default)]
pub struct Caps {
    pub frontend: BTreeSet<String>,
    pub llb: BTreeSet<String>,
}

impl Caps {
    /// The requested caps the daemon lacks, frontend caps first.
    pub fn missing<'a>(&self, frontend: &[&'a str], llb: &[&'a str]) -> Vec<&'a str> {
        let frontend = frontend.iter().filter(|c| !self.frontend.contains(**c));
        let llb = llb.iter().filter(|c| !self.llb.contains(**c));
        frontend.chain(llb).copied().collect()
    }
}

#[derive(Clone, Debug)]
pub struct ResolvedImage {
    /// The reference BuildKit resolved; a source policy may have rewritten the one asked for.
    pub reference: String,
    pub digest: String,
    pub config: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub path: String,
    pub mode: u32,
    pub size: i64,
}

/// What `Bridge::stat_file` tells about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// Go's `os.FileMode` bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl FileStat {
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
}

/// Cheap to clone: clones share one connection, so solves can run concurrently.
#[derive(Clone)]
pub struct Bridge {
    client: LlbBridgeClient<Channel>,
}

fn rpc_error(rpc: &'static str) -> impl FnOnce(tonic::Status) -> GatewayError {
    move |status| GatewayError::Rpc {
        rpc,
        status: Box::new(status),
    }
}

impl Bridge {
    /// Connects over fds 0 (read) and 1 (write). Uses pipe handles registered with the tokio
    /// reactor rather than `tokio::io::stdin`, whose blocking reader thread keeps the process
    /// alive at exit. The fds are duplicated first, which needs no `unsafe`.
    pub async fn connect_stdio() -> Result<Bridge, GatewayError> {
        let io = |what, e| GatewayError::Io { what, source: e };
        let stdin = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| io("stdin", e))?;
        let stdout = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| io("stdout", e))?;
        let rx = pipe::Receiver::from_owned_fd(stdin).map_err(|e| io("stdin as a pipe", e))?;
        let tx = pipe::Sender::from_owned_fd(stdout).map_err(|e| io("stdout as a pipe", e))?;
        Bridge::connect_io(tokio::io::join(rx, tx)).await
    }

    /// For tests: connect over any AsyncRead+AsyncWrite pair (e.g. tokio::io::duplex).
    pub async fn connect_io<IO>(io: IO) -> Result<Bridge, GatewayError>
    where
        IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        // The stream can be handed out once; a reconnect attempt must fail, not hang.
        let slot = Arc::new(Mutex::new(Some(io)));
        let connector = tower::service_fn(move |_: Uri| {
            let io = slot.lock().ok().and_then(|mut s| s.take());
            async move {
                io.map(TokioIo::new).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        "the gateway connection was lost and cannot be re-established",
                    )
                })
            }
        });
        let channel = Endpoint::from_static("http://localhost")
            .connect_with_connector(connector)
            .await
            .map_err(GatewayError::Connect)?;
        let client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Ok(Bridge { client })
    }

    /// Only enabled caps count. Empty lists (very old daemons) are returned as they are.
    pub async fn ping(&mut self) -> Result<Caps, GatewayError> {
        let pong = self
            .client
            .ping(pb::PingRequest {})
            .await
            .map_err(rpc_error("ping"))?
            .into_inner();
        let enabled = |caps: Vec<bollard_buildkit_proto::moby::buildkit::v1::apicaps::ApiCap>| {
            caps.into_iter()
                .filter(|c| c.enabled)
                .map(|c| c.id)
                .collect()
        };
        Ok(Caps {
            frontend: enabled(pong.frontend_api_caps),
            llb: enabled(pong.llb_caps),
        })
    }

    pub async fn inputs(&mut self) -> Result<BTreeMap<String, llb::pb::Definition>, GatewayError> {
        let resp = self
            .client
            .inputs(pb::InputsRequest {})
            .await
            .map_err(rpc_error("inputs"))?
            .into_inner();
        Ok(resp.definitions.into_iter().collect())
    }

    /// Solves `def` lazily: BuildKit runs it when the result is read,
    /// returned or exported.
    pub async fn solve(
        &mut self,
        def: llb::pb::Definition,
        cache_imports: Vec<CacheImport>,
    ) -> Result<RefId, GatewayError> {
        self.solve_request(def, cache_imports, false).await
    }

    /// Solves `def` and runs it now (`evaluate`): for a result that nothing
    /// reads, returns or exports, such as a check that fails the build,
    /// which a lazy solve would never run.
    pub async fn evaluate(
        &mut self,
        def: llb::pb::Definition,
        cache_imports: Vec<CacheImport>,
    ) -> Result<RefId, GatewayError> {
        self.solve_request(def, cache_imports, true).await
    }

    async fn solve_request(
        &mut self,
        def: llb::pb::Definition,
        cache_imports: Vec<CacheImport>,
        evaluate: bool,
    ) -> Result<RefId, GatewayError> {
        let req = pb::SolveRequest {
            definition: Some(def),
            evaluate,
            allow_result_return: true,
            allow_result_array_ref: true,
            cache_imports: cache_imports
                .into_iter()
                .map(|c| pb::CacheOptionsEntry {
                    r#type: c.kind,
                    attrs: c.attrs.into_iter().collect(),
                })
                .collect(),
            ..Default::default()
        };
        let resp = self
            .client
            .solve(req)
            .await
            .map_err(rpc_error("solve"))?
            .into_inner();
        let id = match resp.result.and_then(|r| r.result) {
            Some(pb::result::Result::Ref(r)) => r.id,
            Some(pb::result::Result::RefDeprecated(id)) => id,
            Some(_) => {
                return Err(GatewayError::Protocol {
                    rpc: "solve",
                    message: "expected a single reference, got a map".to_string(),
                })
            }
            None => resp.r#ref,
        };
        if id.is_empty() {
            return Err(GatewayError::Protocol {
                rpc: "solve",
                message: "the result has no reference (empty definition?)".to_string(),
            });
        }
        Ok(RefId(id))
    }

    pub async fn read_file(&mut self, r: &RefId, path: &str) -> Result<Vec<u8>, GatewayError> {
        let req = pb::ReadFileRequest {
            r#ref: r.0.clone(),
            file_path: path.to_string(),
            ..Default::default()
        };
        let resp = self
            .client
            .read_file(req)
            .await
            .map_err(rpc_error("read file"))?;
        Ok(resp.into_inner().data)
    }

    /// Reads a file that may not exist, in one round trip: no listing of its
    /// directory first. `None` when BuildKit could not open it because it is
    /// not there ([`GatewayError::is_missing_file`]); any other failure is an
    /// error.
    pub async fn read_file_if_exists(
        &mut self,
        r: &RefId,
        path: &str,
    ) -> Result<Option<Vec<u8>>, GatewayError> {
        match self.read_file(r, path).await {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.is_missing_file() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn read_dir(
        &mut self,
        r: &RefId,
        path: &str,
        include_pattern: &str,
    ) -> Result<Vec<DirEntry>, GatewayError> {
        let req = pb::ReadDirRequest {
            r#ref: r.0.clone(),
            dir_path: path.to_string(),
            include_pattern: include_pattern.to_string(),
            ..Default::default()
        };
        let resp = self
            .client
            .read_dir(req)
            .await
            .map_err(rpc_error("read dir"))?;
        Ok(resp
            .into_inner()
            .entries
            .into_iter()
            .map(|s| DirEntry {
                path: s.path,
                mode: s.mode,
                size: s.size,
            })
            .collect())
    }

    /// A path's type and owner in a solved result, or None when it does not
    /// exist there. `mode` is Go's `os.FileMode` (directory bit `1 << 31`).
    pub async fn stat_file(
        &mut self,
        r: &RefId,
        path: &str,
    ) -> Result<Option<FileStat>, GatewayError> {
        let req = pb::StatFileRequest {
            r#ref: r.0.clone(),
            path: path.to_string(),
            ..Default::default()
        };
        match self.client.stat_file(req).await {
            Ok(resp) => Ok(resp.into_inner().stat.map(|s| FileStat {
                mode: s.mode,
                uid: s.uid,
                gid: s.gid,
            })),
            // BuildKit passes the lstat error on as text.
            Err(status)
                if status.message().contains("no such file or directory")
                    || status.message().contains("not a directory") =>
            {
                Ok(None)
            }
            Err(status) => Err(rpc_error("stat file")(status)),
        }
    }

    pub async fn resolve_image_config(
        &mut self,
        reference: &str,
        platform: &Platform,
        resolve_mode: &str,
        log_name: &str,
    ) -> Result<ResolvedImage, GatewayError> {
        let req = pb::ResolveImageConfigRequest {
            r#ref: reference.to_string(),
            platform: Some(platform.to_pb()),
            resolve_mode: resolve_mode.to_string(),
            log_name: log_name.to_string(),
            ..Default::default()
        };
        self.resolve(req).await
    }

    /// The config of `name@digest` in an OCI layout the client offers as
    /// content store `store_id` of session `session_id`
    /// (`--build-context NAME=oci-layout://DIR`).
    pub async fn resolve_oci_layout_config(
        &mut self,
        reference: &str,
        platform: &Platform,
        session_id: &str,
        store_id: &str,
        log_name: &str,
    ) -> Result<ResolvedImage, GatewayError> {
        let req = pb::ResolveImageConfigRequest {
            r#ref: reference.to_string(),
            platform: Some(platform.to_pb()),
            log_name: log_name.to_string(),
            resolver_type: RESOLVER_TYPE_OCI_LAYOUT,
            session_id: session_id.to_string(),
            store_id: store_id.to_string(),
            ..Default::default()
        };
        self.resolve(req).await
    }

    async fn resolve(
        &mut self,
        req: pb::ResolveImageConfigRequest,
    ) -> Result<ResolvedImage, GatewayError> {
        let reference = req.r#ref.clone();
        let resp = self
            .client
            .resolve_image_config(req)
            .await
            .map_err(rpc_error("resolve image config"))?
            .into_inner();
        Ok(ResolvedImage {
            reference: if resp.r#ref.is_empty() {
                reference
            } else {
                resp.r#ref
            },
            digest: resp.digest,
            config: resp.config,
        })
    }

    pub async fn return_result(&mut self, result: ReturnResult) -> Result<(), GatewayError> {
        let req = pb::ReturnRequest {
            result: Some(result.to_pb()?),
            error: None,
        };
        self.client
            .r#return(req)
            .await
            .map_err(rpc_error("return"))?;
        Ok(())
    }

    /// A warning shown with the build's progress (cap `gateway.warnings`),
    /// attached to the vertex `digest` (e.g. the one that loaded the spec).
    pub async fn warn(
        &mut self,
        digest: &str,
        message: &str,
        detail: &[String],
    ) -> Result<(), GatewayError> {
        let req = pb::WarnRequest {
            digest: digest.to_string(),
            level: 1,
            short: message.as_bytes().to_vec(),
            detail: detail.iter().map(|d| d.as_bytes().to_vec()).collect(),
            ..Default::default()
        };
        self.client.warn(req).await.map_err(rpc_error("warn"))?;
        Ok(())
    }

    pub async fn return_error(&mut self, status: Status) -> Result<(), GatewayError> {
        let req = pb::ReturnRequest {
            result: None,
            error: Some(status),
        };
        self.client
            .r#return(req)
            .await
            .map_err(rpc_error("return"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use prost::Message;
    use tonic::codegen::tokio_stream;
    use tonic::{Request, Response};

    use super::*;
    use crate::gateway::errdefs;
    use crate::gateway::pb::llb_bridge_server::{LlbBridge, LlbBridgeServer};
    use crate::gateway::PlatformImage;
    use crate::llb::SourceFile;
    use bollard_buildkit_proto::moby::buildkit::v1::apicaps::ApiCap;

    type Reply<T> = Result<Response<T>, tonic::Status>;

    /// What the fake BuildKit saw.
    #[derive(Default)]
    struct Seen {
        solves: Vec<pb::SolveRequest>,
        returns: Vec<pb::ReturnRequest>,
        resolves: Vec<pb::ResolveImageConfigRequest>,
    }

    #[derive(Clone, Default)]
    struct FakeBuildkit {
        seen: Arc<Mutex<Seen>>,
    }

    impl FakeBuildkit {
        fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
            self.seen.lock().expect("not poisoned")
        }
    }

    fn cap(id: &str, enabled: bool) -> ApiCap {
        ApiCap {
            id: id.to_string(),
            enabled,
            ..Default::default()
        }
    }

    fn failed_solve() -> tonic::Status {
        let detailed = errdefs::source_error(
            2,
            "process \"go build\" did not complete successfully",
            &SourceFile {
                filename: "golb.toml".into(),
                data: b"x".to_vec(),
                language: "toml".into(),
            },
            &[],
        );
        tonic::Status::with_details(
            tonic::Code::Unknown,
            detailed.message.clone(),
            detailed.encode_to_vec().into(),
        )
    }

    #[tonic::async_trait]
    impl LlbBridge for FakeBuildkit {
        type ExecProcessStream = std::pin::Pin<
            Box<dyn tokio_stream::Stream<Item = Result<pb::ExecMessage, tonic::Status>> + Send>,
        >;

        async fn ping(&self, _: Request<pb::PingRequest>) -> Reply<pb::PongResponse> {
            Ok(Response::new(pb::PongResponse {
                frontend_api_caps: vec![cap("solve.base", true), cap("returnmap", false)],
                llb_caps: vec![cap("source.image", true)],
                workers: vec![],
            }))
        }

        async fn inputs(&self, _: Request<pb::InputsRequest>) -> Reply<pb::InputsResponse> {
            let def = llb::pb::Definition {
                def: vec![vec![1, 2, 3]],
                ..Default::default()
            };
            Ok(Response::new(pb::InputsResponse {
                definitions: HashMap::from([("context".to_string(), def)]),
            }))
        }

        async fn solve(&self, req: Request<pb::SolveRequest>) -> Reply<pb::SolveResponse> {
            let req = req.into_inner();
            let fail = req.definition.as_ref().is_some_and(|d| d.def.is_empty());
            self.seen().solves.push(req);
            if fail {
                return Err(failed_solve());
            }
            Ok(Response::new(pb::SolveResponse {
                r#ref: String::new(),
                result: Some(pb::Result {
                    result: Some(pb::result::Result::Ref(pb::Ref {
                        id: "ref-1".to_string(),
                        def: None,
                    })),
                    ..Default::default()
                }),
            }))
        }

        async fn read_file(
            &self,
            req: Request<pb::ReadFileRequest>,
        ) -> Reply<pb::ReadFileResponse> {
            let req = req.into_inner();
            match (req.r#ref.as_str(), req.file_path.as_str()) {
                ("ref-1", "golb.toml") => Ok(Response::new(pb::ReadFileResponse {
                    data: b"name = \"app\"\n".to_vec(),
                })),
                // Larger than tonic's 4 MiB default, within BuildKit's 16 MiB.
                ("ref-1", "big") => Ok(Response::new(pb::ReadFileResponse {
                    data: vec![7; 6 << 20],
                })),
                // What BuildKit v0.32 answers for a file the ref does not
                // hold: os.Open's error, code Unknown.
                ("ref-1", "absent.dockerignore") => Err(tonic::Status::unknown(
                    "open absent.dockerignore: no such file or directory",
                )),
                ("ref-1", "dir") => Err(tonic::Status::unknown("dir is not a regular file")),
                _ => Err(tonic::Status::not_found("no such file")),
            }
        }

        async fn read_dir(&self, _: Request<pb::ReadDirRequest>) -> Reply<pb::ReadDirResponse> {
            let stat = bollard_buildkit_proto::fsutil::types::Stat {
                path: "main.go".to_string(),
                mode: 0o644,
                size: 42,
                ..Default::default()
            };
            Ok(Response::new(pb::ReadDirResponse {
                entries: vec![stat],
            }))
        }

        async fn resolve_image_config(
            &self,
            req: Request<pb::ResolveImageConfigRequest>,
        ) -> Reply<pb::ResolveImageConfigResponse> {
            self.seen().resolves.push(req.into_inner());
            Ok(Response::new(pb::ResolveImageConfigResponse {
                digest: "sha256:abc".to_string(),
                config: b"{}".to_vec(),
                r#ref: "docker.io/library/golang:1.26".to_string(),
            }))
        }

        async fn r#return(&self, req: Request<pb::ReturnRequest>) -> Reply<pb::ReturnResponse> {
            self.seen().returns.push(req.into_inner());
            Ok(Response::new(pb::ReturnResponse {}))
        }

        async fn resolve_source_meta(
            &self,
            _: Request<pb::ResolveSourceMetaRequest>,
        ) -> Reply<pb::ResolveSourceMetaResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn stat_file(&self, _: Request<pb::StatFileRequest>) -> Reply<pb::StatFileResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn evaluate(&self, _: Request<pb::EvaluateRequest>) -> Reply<pb::EvaluateResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn new_container(
            &self,
            _: Request<pb::NewContainerRequest>,
        ) -> Reply<pb::NewContainerResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn release_container(
            &self,
            _: Request<pb::ReleaseContainerRequest>,
        ) -> Reply<pb::ReleaseContainerResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn exec_process(
            &self,
            _: Request<tonic::Streaming<pb::ExecMessage>>,
        ) -> Reply<Self::ExecProcessStream> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn read_file_container(
            &self,
            _: Request<pb::ReadFileRequest>,
        ) -> Reply<pb::ReadFileResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn read_dir_container(
            &self,
            _: Request<pb::ReadDirRequest>,
        ) -> Reply<pb::ReadDirResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn stat_file_container(
            &self,
            _: Request<pb::StatFileRequest>,
        ) -> Reply<pb::StatFileResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
        async fn warn(&self, _: Request<pb::WarnRequest>) -> Reply<pb::WarnResponse> {
            Err(tonic::Status::unimplemented("fake"))
        }
    }

    async fn connect(fake: FakeBuildkit) -> Bridge {
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let service = LlbBridgeServer::new(fake).max_encoding_message_size(MAX_MESSAGE);
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::iter(vec![Ok::<_, std::io::Error>(server_io)])),
        );
        Bridge::connect_io(client_io).await.expect("connects")
    }

    #[tokio::test]
    async fn round_trip_against_a_fake_buildkit() {
        let fake = FakeBuildkit::default();
        let mut bridge = connect(fake.clone()).await;

        let caps = bridge.ping().await.expect("ping");
        assert!(caps.frontend.contains("solve.base"));
        assert!(
            !caps.frontend.contains("returnmap"),
            "disabled caps do not count"
        );
        assert_eq!(
            caps.missing(&["solve.base", "returnmap"], &["source.image", "file.base"]),
            ["returnmap", "file.base"]
        );

        let inputs = bridge.inputs().await.expect("inputs");
        assert_eq!(inputs.keys().collect::<Vec<_>>(), ["context"]);

        let def = llb::Image::new("golang:1.26")
            .build()
            .marshal(&[])
            .expect("marshals");
        let imports = vec![CacheImport {
            kind: "registry".into(),
            attrs: BTreeMap::from([("ref".to_string(), "r/app:cache".to_string())]),
        }];
        let r = bridge.solve(def.clone(), imports).await.expect("solve");
        assert_eq!(r, RefId("ref-1".into()));
        {
            let seen = fake.seen();
            let req = &seen.solves[0];
            assert!(req.allow_result_return && req.allow_result_array_ref);
            assert_eq!(req.definition.as_ref(), Some(&def));
            assert_eq!(req.cache_imports[0].r#type, "registry");
            assert_eq!(
                req.cache_imports[0].attrs.get("ref").map(String::as_str),
                Some("r/app:cache")
            );
        }

        assert_eq!(
            bridge.read_file(&r, "golb.toml").await.expect("read"),
            b"name = \"app\"\n"
        );
        assert_eq!(
            bridge.read_file(&r, "big").await.expect("big read").len(),
            6 << 20
        );
        let err = bridge
            .read_file(&r, "missing")
            .await
            .expect_err("not found");
        assert!(
            err.to_string().starts_with("read file: no such file"),
            "{err}"
        );
        assert_eq!(
            err.rpc_status().map(|s| s.code()),
            Some(tonic::Code::NotFound)
        );

        assert_eq!(
            bridge
                .read_file_if_exists(&r, "golb.toml")
                .await
                .expect("read"),
            Some(b"name = \"app\"\n".to_vec())
        );
        assert_eq!(
            bridge
                .read_file_if_exists(&r, "absent.dockerignore")
                .await
                .expect("a missing file is no error"),
            None
        );
        let err = bridge
            .read_file_if_exists(&r, "dir")
            .await
            .expect_err("only a missing file is None");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        // A NotFound that is not ENOENT's (a lost ref or snapshot) is no
        // proof that the file is absent.
        let err = bridge
            .read_file_if_exists(&r, "missing")
            .await
            .expect_err("NotFound without ENOENT's text is an error");
        assert_eq!(
            err.rpc_status().map(|s| s.code()),
            Some(tonic::Code::NotFound)
        );

        let entries = bridge.read_dir(&r, "/", "*.go").await.expect("read dir");
        assert_eq!(
            entries,
            [DirEntry {
                path: "main.go".into(),
                mode: 0o644,
                size: 42
            }]
        );

        let platform = Platform::parse("linux/arm64").expect("platform");
        let img = bridge
            .resolve_image_config("golang:1.26", &platform, "default", "resolve golang")
            .await
            .expect("resolve");
        assert_eq!(
            (img.reference.as_str(), img.digest.as_str()),
            ("docker.io/library/golang:1.26", "sha256:abc")
        );
        assert_eq!(fake.seen().resolves[0].platform, Some(platform.to_pb()));

        bridge
            .return_result(ReturnResult {
                images: vec![PlatformImage {
                    platform: Platform::linux_amd64(),
                    r#ref: r.clone(),
                    config: b"{}".to_vec(),
                }],
                extra_metadata: BTreeMap::new(),
                ..ReturnResult::default()
            })
            .await
            .expect("return");
        let seen = fake.seen();
        let result = seen.returns[0].result.as_ref().expect("result");
        assert!(matches!(&result.result, Some(pb::result::Result::Ref(x)) if x.id == "ref-1"));
        assert!(result.metadata.contains_key("refs.platforms"));
    }

    #[tokio::test]
    async fn failed_solve_status_passes_through_with_details() {
        let fake = FakeBuildkit::default();
        let mut bridge = connect(fake.clone()).await;
        let err = bridge
            .solve(llb::pb::Definition::default(), vec![])
            .await
            .expect_err("fails");
        assert!(err.to_string().starts_with("solve: process"), "{err}");
        let status = err.to_return_status();
        let expected = errdefs::from_tonic(&failed_solve());
        assert_eq!(status, expected);
        assert_eq!(
            status.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Source+json"
        );

        bridge
            .return_error(status.clone())
            .await
            .expect("return error");
        assert_eq!(fake.seen().returns[0].error.as_ref(), Some(&status));
    }

    #[tokio::test]
    async fn a_lost_connection_is_not_re_established() {
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(LlbBridgeServer::new(FakeBuildkit::default()))
                .serve_with_incoming_shutdown(
                    // Never ends on its own: tonic shuts down once the incoming stream does.
                    tokio_stream::StreamExt::chain(
                        tokio_stream::iter(vec![Ok::<_, std::io::Error>(server_io)]),
                        tokio_stream::pending(),
                    ),
                    async {
                        let _ = stopped.await;
                    },
                ),
        );
        let mut bridge = Bridge::connect_io(client_io).await.expect("connects");
        bridge.ping().await.expect("first ping");
        let _ = stop.send(());
        let _ = server.await;
        // The pipes cannot be reopened: the call fails (instead of hanging or panicking).
        let err = tokio::time::timeout(std::time::Duration::from_secs(10), bridge.ping())
            .await
            .expect("does not hang")
            .expect_err("connection is gone");
        assert!(
            err.to_string().contains("cannot be re-established"),
            "{err}"
        );
    }
}
