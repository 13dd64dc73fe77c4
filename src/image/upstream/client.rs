//! HTTP against one upstream repository: anonymous first, then whatever a `401` asks for.

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};

use super::auth::{self, Challenge, Credentials, TokenResponse};
use super::{UpstreamError, UpstreamRef};

/// How long connecting may take before the host counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest silence while reading a response before giving up.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Most redirects followed (registries redirect blob GETs to object storage).
const MAX_REDIRECTS: usize = 10;

/// An HTTP client for one upstream repository, holding whatever authorization it earned.
pub(super) struct Session {
    client: reqwest::Client,
    upstream: UpstreamRef,
    credentials: Option<Credentials>,
    authorization: Option<HeaderValue>,
}

impl Session {
    /// A session for `upstream`, with Basic credentials for its host if the caller found any.
    pub(super) fn new(
        upstream: &UpstreamRef,
        credentials: Option<Credentials>,
    ) -> Result<Session, UpstreamError> {
        // rustls needs a process-wide crypto provider; ring builds without cmake or nasm. An
        // error only means one is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("coldbench/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            // reqwest drops `Authorization` when a redirect leaves the host, as storage wants.
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|e| UpstreamError::Other(format!("cannot build an HTTP client: {e}")))?;
        Ok(Session {
            client,
            upstream: upstream.clone(),
            credentials,
            authorization: None,
        })
    }

    /// `scheme://host/v2/<repo>/<path>`.
    pub(super) fn url(&self, path: &str) -> String {
        format!(
            "{}/v2/{}/{path}",
            self.upstream.base_url(),
            self.upstream.repository
        )
    }

    /// GETs `url` (following redirects), authenticating when the registry asks; any status
    /// other than 2xx is an error that names `what`.
    pub(super) async fn get(
        &mut self,
        url: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Response, UpstreamError> {
        let mut response = self.send(url, accept).await?;
        if response.status() == StatusCode::UNAUTHORIZED && self.authenticate(&response).await? {
            response = self.send(url, accept).await?;
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(format!("{what}: the registry answered {status}")));
        }
        let body = error_body(response).await;
        Err(UpstreamError::Status {
            reference: self.upstream.to_string(),
            what: what.to_string(),
            status: status.as_u16(),
            body,
            hint: match status {
                StatusCode::NOT_FOUND => "check the repository, tag or digest",
                StatusCode::TOO_MANY_REQUESTS => "the registry rate-limits pulls: wait, or log in",
                s if s.is_server_error() => "the registry failed: try again later",
                _ => "check the reference",
            },
        })
    }

    async fn send(&self, url: &str, accept: Option<&str>) -> Result<Response, UpstreamError> {
        let mut request = self.client.get(url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        request.send().await.map_err(|e| self.transport(url, e))
    }

    /// Answers a `401`: true when there is a new authorization to retry with.
    async fn authenticate(&mut self, response: &Response) -> Result<bool, UpstreamError> {
        if self.authorization.is_some() {
            // Already tried: the registry refused what we sent.
            return Ok(false);
        }
        let challenge = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(auth::parse_challenge);
        let header = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let token = self
                    .token(&realm, service.as_deref(), scope.as_deref())
                    .await?;
                format!("Bearer {token}")
            }
            Some(Challenge::Basic) => match &self.credentials {
                Some(credentials) => credentials.basic_header(),
                None => return Err(self.unauthorized("the registry asks for a password".into())),
            },
            None => {
                return Err(self.unauthorized(
                    "the registry answered 401 without a Bearer or Basic challenge".into(),
                ))
            }
        };
        let value = HeaderValue::from_str(&header).map_err(|_| {
            self.unauthorized("the registry's token is not a valid header value".into())
        })?;
        self.authorization = Some(value);
        Ok(true)
    }

    /// Asks the realm for a pull token, with Basic credentials when there are some.
    async fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, UpstreamError> {
        let url = auth::token_url(realm, service, scope, &self.upstream.repository)
            .map_err(|e| self.unauthorized(format!("unusable token endpoint: {e}")))?;
        let mut request = self.client.get(url.clone());
        if let Some(credentials) = &self.credentials {
            request = request.header(AUTHORIZATION, credentials.basic_header());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport(url.as_str(), e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.unauthorized(format!("the token endpoint {realm} answered {status}")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport(url.as_str(), e))?;
        serde_json::from_slice::<TokenResponse>(&bytes)
            .ok()
            .and_then(TokenResponse::into_token)
            .ok_or_else(|| {
                self.unauthorized(format!(
                    "the token endpoint {realm} sent no `token` or `access_token`"
                ))
            })
    }

    fn unauthorized(&self, detail: String) -> UpstreamError {
        let host = &self.upstream.host;
        let hint = if self.credentials.is_some() {
            format!("the credentials for {host} in the Docker config were refused: log in again with `docker login {host}`")
        } else {
            format!("log in with `docker login {host}` (coldbench reads the credentials from the Docker config file)")
        };
        UpstreamError::Unauthorized {
            reference: self.upstream.to_string(),
            detail,
            hint,
        }
    }

    /// A transport failure (connect, TLS, timeout, broken body) while talking to `url`.
    pub(super) fn transport(&self, url: &str, error: reqwest::Error) -> UpstreamError {
        let hint = if error.is_connect() {
            "is the registry running? check the address"
        } else if error.is_timeout() {
            "the registry is too slow or unreachable: check the address and the network"
        } else {
            "check the address and that it speaks the registry API over this scheme (http/https)"
        };
        UpstreamError::Transport {
            reference: self.upstream.to_string(),
            url: url.to_string(),
            cause: error_chain(&error),
            hint,
        }
    }
}

/// An error and its sources, `: `-joined (reqwest's own message leaves out the cause).
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

/// The start of an error response's body (the spec's JSON errors), for the message.
async fn error_body(response: Response) -> String {
    const MAX: usize = 512;
    let bytes = response.bytes().await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    text.trim().to_string()
}
