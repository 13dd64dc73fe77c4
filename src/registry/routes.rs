//! Request paths to routes. Repository names may have several segments, so the path after
//! `/v2/` is split on the last `/manifests/`, `/blobs/uploads/`, `/blobs/` or `/tags/list`.

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`: the API version check.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/tags/list`.
    Tags { name: String },
    /// `/v2/<name>/manifests/<reference>`.
    Manifest { name: String, reference: String },
    /// `/v2/<name>/blobs/<digest>`.
    Blob { name: String, digest: String },
    /// `/v2/<name>/blobs/uploads/`: start an upload.
    UploadStart { name: String },
    /// `/v2/<name>/blobs/uploads/<id>`: an upload in progress.
    Upload { name: String, id: String },
}

/// Parses a (percent-encoded) request path; `None` for paths outside the API.
pub fn parse(path: &str) -> Option<Route> {
    let path = percent_decode(path)?;
    let rest = path.strip_prefix("/v2")?;
    if rest.is_empty() || rest == "/" {
        return Some(Route::Base);
    }
    let rest = rest.strip_prefix('/')?;
    if rest == "_catalog" {
        return Some(Route::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Route::Tags { name: name.into() });
    }
    if let Some(name) = rest
        .strip_suffix("/blobs/uploads/")
        .or_else(|| rest.strip_suffix("/blobs/uploads"))
    {
        return Some(Route::UploadStart { name: name.into() });
    }
    // The last marker wins; what follows it must be one segment.
    let split = |marker: &str| {
        let at = rest.rfind(marker)?;
        let tail = &rest[at + marker.len()..];
        (!tail.is_empty() && !tail.contains('/')).then(|| (at, rest[..at].to_string(), tail))
    };
    let candidates = [
        split("/manifests/").map(|(at, name, reference)| {
            let reference = reference.into();
            (at, Route::Manifest { name, reference })
        }),
        split("/blobs/uploads/").map(|(at, name, id)| {
            let id = id.into();
            (at, Route::Upload { name, id })
        }),
        split("/blobs/").map(|(at, name, digest)| {
            let digest = digest.into();
            (at, Route::Blob { name, digest })
        }),
    ];
    candidates
        .into_iter()
        .flatten()
        .max_by_key(|(at, _)| *at)
        .map(|(_, route)| route)
}

/// The decoded value of query parameter `key`, if present.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k)? == key).then(|| percent_decode(&v.replace('+', " ")))?
    })
}

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn routes_split_on_the_last_marker() {
        assert_eq!(parse("/v2/"), Some(Route::Base));
        assert_eq!(parse("/v2"), Some(Route::Base));
        assert_eq!(parse("/v2/_catalog"), Some(Route::Catalog));
        assert_eq!(parse("/v1/x"), None);
        assert_eq!(
            parse("/v2/a/b/c/manifests/v1"),
            Some(Route::Manifest {
                name: s("a/b/c"),
                reference: s("v1")
            })
        );
        assert_eq!(
            parse("/v2/x/blobs/y/manifests/sha256%3Aab"),
            Some(Route::Manifest {
                name: s("x/blobs/y"),
                reference: s("sha256:ab")
            })
        );
        assert_eq!(
            parse("/v2/x/manifests/y/blobs/sha256:ab"),
            Some(Route::Blob {
                name: s("x/manifests/y"),
                digest: s("sha256:ab")
            })
        );
        assert_eq!(
            parse("/v2/a/b/blobs/uploads/"),
            Some(Route::UploadStart { name: s("a/b") })
        );
        assert_eq!(
            parse("/v2/a/blobs/uploads/123"),
            Some(Route::Upload {
                name: s("a"),
                id: s("123")
            })
        );
        assert_eq!(
            parse("/v2/a/b/tags/list"),
            Some(Route::Tags { name: s("a/b") })
        );
        assert_eq!(parse("/v2/a/manifests/"), None);
        assert_eq!(parse("/v2/a/whatever"), None);
        assert_eq!(parse("/v2/a/%zz"), None);
    }

    #[test]
    fn query_values_are_decoded() {
        let q = Some("mount=sha256%3Aab&from=a%2Fb&digest");
        assert_eq!(query_param(q, "mount"), Some(s("sha256:ab")));
        assert_eq!(query_param(q, "from"), Some(s("a/b")));
        assert_eq!(query_param(q, "digest"), Some(s("")));
        assert_eq!(query_param(q, "n"), None);
        assert_eq!(query_param(None, "n"), None);
        assert_eq!(percent_encode("a/b:c"), "a%2Fb%3Ac");
    }
}
