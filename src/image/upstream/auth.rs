//! Registry authentication: `WWW-Authenticate` challenges, Docker config credentials and the
//! bearer-token request.

use std::path::{Path, PathBuf};

use base64::Engine as _;

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or personal access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The `Authorization: Basic …` header value.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// What a `401` response's `WWW-Authenticate` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Bearer realm="…",service="…",scope="…"`: get a token from `realm`.
    Bearer {
        /// Token endpoint URL.
        realm: String,
        /// `service` parameter, passed back to the realm.
        service: Option<String>,
        /// `scope` parameter, if the registry said which.
        scope: Option<String>,
    },
    /// `Basic realm="…"`: send the user name and password with every request.
    Basic,
}

/// Parses a `WWW-Authenticate` value; `None` for schemes other than Bearer and Basic, or a
/// Bearer challenge without a realm.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(params);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm").filter(|r| !r.is_empty())?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `key="quoted, value",key2=token` → pairs; quoted strings may hold commas and `\"` escapes.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_string();
        if key.is_empty() {
            break;
        }
        if chars.next_if_eq(&'=').is_none() {
            out.push((key, String::new()));
            continue;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.push((key, value));
    }
    out
}

/// The URL to ask a bearer token from: `realm?service=…&scope=…`, the scope being the
/// challenge's own or else `repository:<repository>:pull`.
pub fn token_url(
    realm: &str,
    service: Option<&str>,
    scope: Option<&str>,
    repository: &str,
) -> Result<reqwest::Url, String> {
    let mut url = reqwest::Url::parse(realm).map_err(|e| format!("realm {realm:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("realm {realm:?} is not an http(s) URL"));
    }
    let default_scope = format!("repository:{repository}:pull");
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        query.append_pair("scope", scope.unwrap_or(&default_scope));
    }
    Ok(url)
}

/// The token endpoint's answer: `token`, or OAuth2's `access_token`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenResponse {
    /// The token, whichever field holds it.
    pub(super) fn into_token(self) -> Option<String> {
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
    }
}

/// The usual Docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// Why a Docker config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: the `auth` entry for {host} is not base64 of user:password")]
    BadAuth { path: PathBuf, host: String },
}

#[derive(Debug, Default, serde::Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The credentials for registry `host` (`host[:port]`) in the Docker config file at `path`;
/// `None` when the file is absent or has no entry for the host.
///
/// Reads `auths.<host>.auth` (base64 of `user:password`) or its `username` and `password`
/// fields. Keys may carry a scheme and a path (`https://host/v1/`); Docker Hub's
/// `https://index.docker.io/v1/` entry serves `registry-1.docker.io` and `docker.io`.
/// Credential helpers (`credsStore`, `credHelpers`) and `identitytoken` are not consulted:
/// with one of those, log in so that the file holds the credentials, or use a registry
/// that allows anonymous pulls.
pub fn credentials_from_config(
    path: &Path,
    host: &str,
) -> Result<Option<Credentials>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|source| ConfigError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let hub = ["registry-1.docker.io", "docker.io", "index.docker.io"];
    let wanted = |key: &str| {
        let key = normalize_key(key);
        key == host || (hub.contains(&host) && hub.contains(&key))
    };
    // An exact key first, then a normalized one.
    let entry = config.auths.get(host).or_else(|| {
        config
            .auths
            .iter()
            .find(|(key, _)| wanted(key))
            .map(|(_, entry)| entry)
    });
    let Some(entry) = entry else {
        return Ok(None);
    };
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let bad = || ConfigError::BadAuth {
            path: path.to_path_buf(),
            host: host.to_string(),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) if !username.is_empty() => Ok(Some(Credentials {
            username: username.clone(),
            password: password.clone(),
        })),
        _ => Ok(None),
    }
}

/// `https://host:port/v1/` → `host:port`.
fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
        // Case, spaces, unquoted values, commas inside quotes, escapes, unknown params.
        let c = parse_challenge(
            r#"bearer  Realm = "http://127.0.0.1:9/t?a=1" , scope="repository:a:pull,push", error=insufficient_scope, x="q\"d""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:9/t?a=1".into(),
                service: None,
                scope: Some("repository:a:pull,push".into()),
            })
        );
    }

    #[test]
    fn basic_and_unknown_challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("basic"), Some(Challenge::Basic));
        assert_eq!(parse_challenge(r#"Digest realm="x""#), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge(""), None);
    }

    #[test]
    fn token_urls() {
        let url = token_url(
            "https://auth.example.com/token",
            Some("registry.example.com"),
            None,
            "org/app",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://auth.example.com/token?service=registry.example.com&scope=repository%3Aorg%2Fapp%3Apull"
        );
        // The challenge's scope wins; an existing query is kept.
        let url = token_url(
            "http://127.0.0.1:1/t?x=1",
            None,
            Some("repository:a:pull"),
            "b",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/t?x=1&scope=repository%3Aa%3Apull"
        );
        assert!(token_url("not a url", None, None, "a").is_err());
        assert!(token_url("file:///etc/passwd", None, None, "a").is_err());
    }

    #[test]
    fn token_responses() {
        let t: TokenResponse = serde_json::from_str(r#"{"token":"a","expires_in":60}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("a"));
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"b"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("b"));
        let t: TokenResponse = serde_json::from_str(r#"{"token":"","access_token":"c"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("c"));
        let t: TokenResponse = serde_json::from_str("{}").unwrap();
        assert_eq!(t.into_token(), None);
    }

    fn config(json: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        (dir, path)
    }

    fn creds(user: &str, pass: &str) -> Option<Credentials> {
        Some(Credentials {
            username: user.into(),
            password: pass.into(),
        })
    }

    #[test]
    fn config_credentials() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let (_dir, path) = config(
            &serde_json::json!({
                "auths": {
                    "localhost:5000": { "auth": b64.encode("alice:s3cr:et") },
                    "https://ghcr.io": { "username": "bob", "password": "pw" },
                    "https://index.docker.io/v1/": { "auth": b64.encode("carol:hub") },
                    "quay.io": { "identitytoken": "ignored" },
                    "bad.example": { "auth": "!!!" }
                },
                "credsStore": "desktop"
            })
            .to_string(),
        );
        let get = |host: &str| credentials_from_config(&path, host);
        assert_eq!(get("localhost:5000").unwrap(), creds("alice", "s3cr:et"));
        assert_eq!(get("ghcr.io").unwrap(), creds("bob", "pw"));
        assert_eq!(get("registry-1.docker.io").unwrap(), creds("carol", "hub"));
        assert_eq!(get("docker.io").unwrap(), creds("carol", "hub"));
        assert_eq!(get("quay.io").unwrap(), None);
        assert_eq!(get("localhost:5001").unwrap(), None);
        assert!(matches!(
            get("bad.example"),
            Err(ConfigError::BadAuth { .. })
        ));
    }

    #[test]
    fn missing_and_broken_config_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            credentials_from_config(&dir.path().join("none.json"), "h.io").unwrap(),
            None
        );
        let (_dir, path) = config("{ not json");
        assert!(matches!(
            credentials_from_config(&path, "h.io"),
            Err(ConfigError::Json { .. })
        ));
        let (_dir, path) = config("{}");
        assert_eq!(credentials_from_config(&path, "h.io").unwrap(), None);
    }

    #[test]
    fn basic_header_and_redacted_debug() {
        let c = creds("u", "p").unwrap();
        assert_eq!(c.basic_header(), "Basic dTpw");
        assert!(!format!("{c:?}").contains("\"p\""));
        assert!(format!("{c:?}").contains("redacted"));
    }
}
