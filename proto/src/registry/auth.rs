//! Registry authentication as the distribution spec and Docker do it: a
//! request without credentials, a 401 with `WWW-Authenticate`, then either
//! HTTP basic auth with the user's credentials, or a bearer token fetched
//! from the challenge's realm (with those credentials, when there are any).

use std::collections::BTreeMap;

use base64::Engine as _;

use super::docker_config::Credentials;

/// What a 401's `WWW-Authenticate` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    /// A token server: `realm` is its URL, plus `service` and `scope`.
    Bearer {
        realm: String,
        params: BTreeMap<String, String>,
    },
}

impl Challenge {
    /// Parses `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut params = parse_params(rest)?;
        let realm = params.remove("realm")?;
        Some(Challenge::Bearer { realm, params })
    }
}

/// `key="quoted value", key=token, …`
fn parse_params(text: &str) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            return Some(params);
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        chars.next()?; // '='
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
}

/// `Authorization: Basic …`.
pub fn basic(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The token server's URL for a pull of `repository`: the challenge's realm
/// with its service and scope (the scope of this repository when the
/// challenge names none).
pub fn token_url(realm: &str, params: &BTreeMap<String, String>, repository: &str) -> String {
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(service) = params.get("service") {
        query.push(("service".into(), service.clone()));
    }
    let scope = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| format!("repository:{repository}:pull"));
    query.push(("scope".into(), scope));
    let encoded: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query(v)))
        .collect();
    let separator = if realm.contains('?') { '&' } else { '?' };
    format!("{realm}{separator}{}", encoded.join("&"))
}

fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The token server's answer: `token`, or OAuth2's `access_token`.
#[derive(serde::Deserialize)]
pub struct TokenReply {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub access_token: String,
}

impl TokenReply {
    pub fn bearer(&self) -> Option<String> {
        [&self.token, &self.access_token]
            .into_iter()
            .find(|t| !t.is_empty())
            .map(|t| format!("Bearer {t}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="golb-test""#),
            Some(Challenge::Basic)
        );
        let hub = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/golang:pull""#,
        )
        .expect("bearer");
        let Challenge::Bearer { realm, params } = hub else {
            panic!("{hub:?}")
        };
        assert_eq!(realm, "https://auth.docker.io/token");
        assert_eq!(params["service"], "registry.docker.io");
        assert_eq!(
            token_url(&realm, &params, "library/golang"),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/golang:pull"
        );
        // No scope in the challenge: ask for a pull of the repository.
        let no_scope = BTreeMap::from([("service".to_string(), "reg 1".to_string())]);
        assert_eq!(
            token_url("http://127.0.0.1:9/t?x=1", &no_scope, "team/app"),
            "http://127.0.0.1:9/t?x=1&service=reg%201&scope=repository:team/app:pull"
        );
        assert_eq!(Challenge::parse("Negotiate abc"), None);
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None, "no realm");
        assert_eq!(Challenge::parse(r#"Bearer realm="open"#), None);
    }

    #[test]
    fn basic_header_and_token_replies() {
        let c = Credentials {
            username: "user".into(),
            password: "pass".into(),
        };
        assert_eq!(basic(&c), "Basic dXNlcjpwYXNz");
        let reply: TokenReply = serde_json::from_str(r#"{"access_token":"a"}"#).expect("json");
        assert_eq!(reply.bearer().as_deref(), Some("Bearer a"));
        let reply: TokenReply =
            serde_json::from_str(r#"{"token":"t","access_token":"a"}"#).expect("json");
        assert_eq!(reply.bearer().as_deref(), Some("Bearer t"));
        let empty: TokenReply = serde_json::from_str("{}").expect("json");
        assert_eq!(empty.bearer(), None);
    }
}
