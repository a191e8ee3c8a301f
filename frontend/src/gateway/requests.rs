//! Answers to `--call describe|targets|outline|check` (subrequests): the
//! JSON and text BuildKit's clients print. Anything else is refused with the
//! errdefs detail that makes clients say it is unsupported.

use super::host::BridgeHost;
use super::FrontendError;
use crate::driver::{self, Host};
use crate::options::FrontendOptions;
use crate::overrides;
use crate::replay::{self, PlanReply, Replay};
use crate::spec::SpecFile;
use crate::subrequests;
use golb_proto::gateway::FrontendEnv;

pub async fn answer(
    host: &BridgeHost<'_>,
    env: &FrontendEnv,
    options: &FrontendOptions,
    request: &str,
) -> Result<subrequests::Reply, FrontendError> {
    match request {
        subrequests::DESCRIBE => Ok(subrequests::describe()),
        subrequests::TARGETS | subrequests::OUTLINE => {
            let source = host.spec(&options.filename).await?;
            let file = shown(&source.file);
            // The lossy text is only shown; a spec that is not UTF-8 is an error at its place.
            let parsed = driver::parse(&source.file);
            if request == subrequests::TARGETS {
                return Ok(subrequests::targets(&file, parsed.as_ref().ok()));
            }
            let mut spec = parsed?;
            overrides::apply(&mut spec, &env.opts);
            outline(env, &file, &spec)
        }
        subrequests::LINT => {
            let check = driver::check(host, &env.opts).await?;
            let file = shown(&check.file);
            let build_error = check.failure.map(|failure| subrequests::BuildFailure {
                message: failure.message,
                locations: failure.errors.iter().map(|e| e.location).collect(),
            });
            Ok(subrequests::lint(&subrequests::LintInput {
                spec: &file,
                files: &check.files,
                findings: &check.findings,
                build_error,
            }))
        }
        replay::REQUEST => plan_reply(host, env).await,
        other => Err(FrontendError::Subrequest(other.to_string())),
    }
}

/// The spec as a reply shows it.
fn shown(file: &golb_proto::llb::SourceFile) -> SpecFile {
    SpecFile {
        name: file.filename.clone(),
        text: String::from_utf8_lossy(&file.data).into_owned(),
    }
}

/// `--call outline`: the build arguments (golb's and the spec's), the
/// secret and SSH agent golb can use, and the cache golb shares.
fn outline(
    env: &FrontendEnv,
    file: &SpecFile,
    spec: &crate::spec::Spec,
) -> Result<subrequests::Reply, FrontendError> {
    let builtins = overrides::builtin_descriptions()
        .into_iter()
        .filter(|(name, _, _)| !spec.args.contains_key(*name));
    let args: Vec<subrequests::BuildArg> = builtins
        .map(|(name, value, description)| subrequests::BuildArg {
            name: name.to_string(),
            value: value.to_string(),
            description: description.to_string(),
            location: None,
        })
        .chain(spec.args.iter().map(|(name, value)| subrequests::BuildArg {
            name: name.clone(),
            value: value.value.clone(),
            description: format!("declared in [args]; ${{{name}}} in ldflags"),
            location: Some(value.location),
        }))
        .collect();
    let secrets = [subrequests::MountUse {
        id: crate::go_build::NETRC_SECRET.to_string(),
        required: false,
    }];
    let ssh: Vec<subrequests::MountUse> = if spec.modules.ssh.is_empty() {
        Vec::new()
    } else {
        vec![subrequests::MountUse {
            id: crate::go_build::SSH_AGENT_ID.to_string(),
            required: false,
        }]
    };
    let target = env
        .opts
        .get("target")
        .map(String::as_str)
        .filter(|t| !t.is_empty());
    subrequests::outline(&subrequests::OutlineInput {
        spec: file,
        target,
        extra_args: &args,
        secrets: &secrets,
        ssh: &ssh,
        cache_ids: &[crate::go_build::MODULE_CACHE_ID.to_string()],
    })
    .map_err(|e| FrontendError::Invalid(e.to_string()))
}

/// `--call golb.plan`: the build's inputs and the dump of each platform's
/// Definition, for `golb llb --replay` to be compared with (replay.rs).
async fn plan_reply(
    host: &BridgeHost<'_>,
    env: &FrontendEnv,
) -> Result<subrequests::Reply, FrontendError> {
    use base64::Engine as _;
    use prost::Message as _;
    let build = driver::build(host, &env.opts).await?;
    let mut dumps = Vec::new();
    for planned in &build.results {
        dumps.push(replay::dump(planned).map_err(driver::DriverError::from)?);
    }
    let frontend = host.frontend_definition()?;
    let reply = PlanReply {
        replay: Replay {
            opts: Replay::record_opts(&env.opts),
            images: host.resolved(),
            directories: host.looked(),
            session: env.session_id.clone(),
            frontend: Some(
                base64::engine::general_purpose::STANDARD.encode(frontend.encode_to_vec()),
            ),
        },
        dumps,
    };
    let json = serde_json::to_vec_pretty(&reply)
        .map_err(|e| FrontendError::Invalid(format!("the plan reply: {e}")))?;
    Ok(subrequests::Reply {
        text: json.clone(),
        json,
        version: golb_proto::subrequests::VERSION.to_string(),
        status_code: None,
    })
}
