//! Building responses: status, body and headers.

use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use super::body::{self, Body};
use super::errors::ApiError;

/// The response of one request handler.
pub type Reply = Result<Response<Body>, ApiError>;

/// A response with `status` and `body`.
pub fn response(status: StatusCode, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp
}

/// A response with no body and `Content-Length: 0` (except for 204, which has none).
pub fn no_content(status: StatusCode) -> Response<Body> {
    let mut resp = response(status, body::empty());
    if status != StatusCode::NO_CONTENT {
        set(&mut resp, "content-length", "0");
    }
    resp
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let text = value.to_string();
    let mut resp = response(status, body::empty());
    set(&mut resp, "content-type", "application/json");
    set(&mut resp, "content-length", &text.len().to_string());
    *resp.body_mut() = body::full(text);
    resp
}

/// The spec's JSON form of `error`, with its `Retry-After` if it has one.
pub fn error(error: &ApiError, head_only: bool) -> Response<Body> {
    let text = error.body();
    let mut resp = response(error.status, body::empty());
    set(&mut resp, "content-type", "application/json");
    set(&mut resp, "content-length", &text.len().to_string());
    if let Some(seconds) = error.retry_after {
        set(&mut resp, "retry-after", &seconds.to_string());
    }
    if !head_only {
        *resp.body_mut() = body::full(text);
    }
    resp
}

/// Sets header `name` (lowercase) to `value`; a value that is not a valid header is logged and
/// left out (every value set here comes from validated names, digests and numbers).
pub fn set(resp: &mut Response<Body>, name: &'static str, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            resp.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
        Err(_) => tracing::warn!("registry: dropping invalid {name} header value {value:?}"),
    }
}
