//! Dispatch of a request to its endpoint, plus the small endpoints (`/v2/`, tags, catalog).

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::body::Body;
use super::errors::ApiError;
use super::faults::{self, Action, FaultKind, RequestRecord, Target};
use super::names::valid_repository;
use super::reply::{self, Reply};
use super::routes::{self, query_param, Route};
use super::serve::{Lane, Shared};
use super::{blobs, manifests, upload_routes};

/// Answers one request; errors become the spec's JSON error responses. The lane's faults
/// (`[registry.faults]`) are decided first and the request is logged with the one it got.
pub async fn handle(req: Request<Incoming>, shared: &Shared, lane: &Lane) -> Response<Body> {
    let head_only = req.method() == Method::HEAD;
    let route = routes::parse(req.uri().path());
    if is_harness_own(route.as_ref()) {
        return match dispatch(req, route, shared, lane).await {
            Ok(resp) => resp,
            Err(e) => reply::error(&e, head_only),
        };
    }
    let (target, name) = fault_target(req.method(), route.as_ref());
    let ranged = req.headers().contains_key(hyper::header::RANGE);
    let scope = &lane.faults.scope;
    let decision = scope.next(target);
    if !decision.ttfb.is_zero() {
        tokio::time::sleep(decision.ttfb).await;
    }
    let at = tokio::time::Instant::now();
    let limited = match target {
        Target::Manifest => scope.rate_limited(at),
        Target::ManifestHead => scope.over_limit(at),
        _ => None,
    };
    let (resp, fault) = if let Some(wait) = limited {
        let e = ApiError::too_many_requests(wait);
        (reply::error(&e, head_only), Some(FaultKind::RateLimit))
    } else if let Action::Error(code) = decision.action {
        let e = ApiError::injected(code);
        (reply::error(&e, head_only), Some(FaultKind::Error))
    } else {
        let resp = match dispatch(req, route, shared, lane).await {
            Ok(resp) => resp,
            Err(e) => reply::error(&e, head_only),
        };
        cut(resp, decision.action)
    };
    if fault.is_some() || ranged {
        tracing::debug!(
            "registry: fault {fault:?} on {target:?} {name} (ranged: {ranged}) -> {}",
            resp.status()
        );
    }
    lane.faults.log.record(RequestRecord {
        at,
        target,
        name,
        fault,
    });
    resp
}

/// A blob `GET` answered with its body gets its reset or stall.
fn cut(resp: Response<Body>, action: Action) -> (Response<Body>, Option<FaultKind>) {
    let kind = action.kind();
    if kind.is_none() || !resp.status().is_success() {
        return (resp, None);
    }
    let len = resp
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if len == 0 {
        return (resp, None);
    }
    (resp.map(|body| faults::inject(body, len, action)), kind)
}

/// True for the harness's own images (the CRI nodes' pause image): never faulted, logged or
/// counted against the rate limit, since on a real cluster they come from another registry.
fn is_harness_own(route: Option<&Route>) -> bool {
    match route {
        Some(Route::Manifest { name, .. } | Route::Blob { name, .. }) => {
            name == crate::image::synth::PAUSE_REPOSITORY
        }
        _ => false,
    }
}

/// What a request is for the faults, and the manifest reference or blob digest it names.
fn fault_target(method: &Method, route: Option<&Route>) -> (Target, String) {
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return (Target::Other, String::new());
    }
    match route {
        Some(Route::Manifest { name, reference }) if head => {
            (Target::ManifestHead, format!("{name}:{reference}"))
        }
        _ if head => (Target::Other, String::new()),
        Some(Route::Manifest { name, reference }) => {
            (Target::Manifest, format!("{name}:{reference}"))
        }
        Some(Route::Blob { digest, .. }) => (Target::Blob, digest.clone()),
        _ => (Target::Other, String::new()),
    }
}

async fn dispatch(
    req: Request<Incoming>,
    route: Option<Route>,
    shared: &Shared,
    lane: &Lane,
) -> Reply {
    let route = route.ok_or_else(ApiError::not_found)?;
    let (parts, body) = req.into_parts();
    let query = parts.uri.query();
    let method = &parts.method;
    let head_only = method == Method::HEAD;
    let get_or_head = method == Method::GET || head_only;
    match route {
        Route::Base if get_or_head => Ok(reply::json(StatusCode::OK, &serde_json::json!({}))),
        Route::Catalog if method == Method::GET => catalog(shared, query),
        Route::Tags { name } if method == Method::GET => tags(shared, &checked(name)?, query),
        Route::Manifest { name, reference } => {
            let name = checked(name)?;
            match *method {
                Method::GET | Method::HEAD => {
                    manifests::get(shared, lane, &name, &reference, head_only)
                }
                Method::PUT => {
                    manifests::put(shared, &name, &reference, &parts.headers, body).await
                }
                Method::DELETE => manifests::delete(shared, &name, &reference),
                _ => Err(unsupported(method)),
            }
        }
        Route::Blob { name, digest } => {
            checked(name)?;
            match *method {
                Method::GET | Method::HEAD => {
                    blobs::get(shared, lane, &digest, &parts.headers, head_only)
                }
                Method::DELETE => Err(ApiError::unsupported("blob deletion is not supported")),
                _ => Err(unsupported(method)),
            }
        }
        Route::UploadStart { name } if method == Method::POST => {
            upload_routes::start(shared, &checked(name)?, query, body).await
        }
        Route::Upload { name, id } => {
            let name = checked(name)?;
            match *method {
                Method::PATCH => {
                    upload_routes::patch(shared, &name, &id, &parts.headers, body).await
                }
                Method::PUT => {
                    upload_routes::finish(shared, &name, &id, query, &parts.headers, body).await
                }
                Method::GET => upload_routes::status(shared, &name, &id).await,
                Method::DELETE => upload_routes::cancel(shared, &name, &id),
                _ => Err(unsupported(method)),
            }
        }
        _ => Err(unsupported(method)),
    }
}

fn checked(name: String) -> Result<String, ApiError> {
    if valid_repository(&name) {
        Ok(name)
    } else {
        Err(ApiError::name_invalid(&name))
    }
}

fn unsupported(method: &Method) -> ApiError {
    ApiError::unsupported(format!("{method} is not supported here"))
}

/// `GET /v2/<name>/tags/list[?n=&last=]`.
fn tags(shared: &Shared, name: &str, query: Option<&str>) -> Reply {
    let all = shared
        .store
        .tags(name)?
        .ok_or_else(|| ApiError::name_unknown(name))?;
    let (page, next) = paginate(all, query)?;
    let mut resp = reply::json(
        StatusCode::OK,
        &serde_json::json!({ "name": name, "tags": page }),
    );
    if let Some((n, last)) = next {
        let link = format!(
            "</v2/{name}/tags/list?n={n}&last={}>; rel=\"next\"",
            routes::percent_encode(&last)
        );
        reply::set(&mut resp, "link", &link);
    }
    Ok(resp)
}

/// `GET /v2/_catalog[?n=&last=]`.
fn catalog(shared: &Shared, query: Option<&str>) -> Reply {
    let (page, next) = paginate(shared.store.repositories()?, query)?;
    let mut resp = reply::json(StatusCode::OK, &serde_json::json!({ "repositories": page }));
    if let Some((n, last)) = next {
        let link = format!(
            "</v2/_catalog?n={n}&last={}>; rel=\"next\"",
            routes::percent_encode(&last)
        );
        reply::set(&mut resp, "link", &link);
    }
    Ok(resp)
}

/// One page of a sorted list, and `(n, last entry)` for the `Link` header when entries remain.
pub type Page = (Vec<String>, Option<(usize, String)>);

/// Applies `last` (entries after it) and `n` (at most that many) to a sorted list.
pub fn paginate(sorted: Vec<String>, query: Option<&str>) -> Result<Page, ApiError> {
    let last = query_param(query, "last");
    let n = match query_param(query, "n") {
        None => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                "invalid n",
            )
        })?),
    };
    let mut items: Vec<String> = match &last {
        Some(last) => sorted.into_iter().filter(|t| t > last).collect(),
        None => sorted,
    };
    let mut next = None;
    if let Some(n) = n {
        if items.len() > n {
            items.truncate(n);
            next = items.last().map(|last| (n, last.clone()));
        }
    }
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::paginate;

    #[test]
    fn pagination() {
        let all: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let (page, next) = paginate(all.clone(), Some("n=2")).unwrap();
        assert_eq!(page, ["a", "b"]);
        assert_eq!(next, Some((2, "b".to_string())));
        let (page, next) = paginate(all.clone(), Some("n=2&last=b")).unwrap();
        assert_eq!(page, ["c", "d"]);
        assert_eq!(next, None);
        let (page, _) = paginate(all.clone(), None).unwrap();
        assert_eq!(page.len(), 4);
        assert!(paginate(all, Some("n=x")).is_err());
    }
}
