//! HTTP plumbing: the listener, bodies, query strings and `Status` responses.

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

/// Every response body: a whole JSON document or a watch stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// A JSON response with the headers kube-apiserver sends.
pub fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    let body = Full::new(Bytes::from(v.to_string())).boxed();
    with_headers(code, "application/json", body)
}

/// A plain-text response (what a pod behind the proxy answered).
pub fn text_response(code: StatusCode, text: &str) -> Response<Body> {
    let body = Full::new(Bytes::from(text.to_string())).boxed();
    with_headers(code, "text/plain; charset=utf-8", body)
}

/// A response with `content_type`, `Audit-Id` and `Cache-Control` as the real server sets them.
pub fn with_headers(code: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = code;
    let h = res.headers_mut();
    h.insert("content-type", content_type.parse().expect("static header"));
    h.insert(
        "cache-control",
        "no-cache, private".parse().expect("static header"),
    );
    h.insert(
        "audit-id",
        "2b5e8b36-0d4f-4a3c-9b1e-coldbench"
            .parse()
            .expect("static header"),
    );
    res
}

/// A `Status` failure (`kind: Status`, `status: Failure`, `reason`, `code`, `details`).
pub fn status(code: StatusCode, reason: &str, message: String, details: Value) -> Response<Body> {
    let mut v = super::status_failure(code.as_u16(), reason, &message);
    if !details.is_null() {
        v["details"] = details;
    }
    json_response(code, &v)
}

/// `404 NotFound`: `pods "x" not found`.
pub fn not_found(plural: &str, group: &str, name: &str) -> Response<Body> {
    let full = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    let mut details = json!({"name": name, "kind": plural});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{full} \"{name}\" not found"),
        details,
    )
}

/// `404` for a path the server does not serve.
pub fn no_route() -> Response<Body> {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource".into(),
        json!({}),
    )
}

/// `405` for a verb the resource does not support.
pub fn not_allowed() -> Response<Body> {
    status(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource".into(),
        json!({}),
    )
}

/// `400` for a body that is not the JSON the verb needs.
pub fn bad_request(message: String) -> Response<Body> {
    status(StatusCode::BAD_REQUEST, "BadRequest", message, Value::Null)
}

/// Query parameters, percent-decoded (`+` is a space).
pub fn query_params(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 7386 JSON merge patch (also used for strategic-merge and apply patches of scalars).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (k, v) in p {
        if v.is_null() {
            if let Some(t) = target.as_object_mut() {
                t.remove(k);
            }
        } else {
            merge_patch(&mut target[k], v);
        }
    }
}
