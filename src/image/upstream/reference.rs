//! Parsing `[http://|https://]host[:port]/repo/path[:tag][@sha256:<hex>]`.

use std::net::Ipv4Addr;

use super::UpstreamError;
use crate::registry::{valid_repository, valid_tag, Digest};

/// A reference to an image in an upstream registry: `[http(s)://]host[:port]/repo[:tag|@digest]`.
///
/// Without a scheme, loopback hosts (`localhost`, `127.x.x.x`, `[::1]`) are reached over plain
/// `http` and every other host over `https`. The tag defaults to `latest`; with both a tag and a
/// digest (`repo:tag@sha256:…`) the digest wins, as with `docker pull`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRef {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub host: String,
    /// Repository path.
    pub repository: String,
    /// Tag or `sha256:` digest.
    pub reference: String,
}

impl UpstreamRef {
    /// The manifest digest asked for, when the reference is a digest.
    pub fn digest(&self) -> Option<Digest> {
        self.reference.parse().ok()
    }

    /// `scheme://host`, the base of every request URL.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

impl std::fmt::Display for UpstreamRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.reference.contains(':') {
            '@'
        } else {
            ':'
        };
        write!(
            f,
            "{}://{}/{}{sep}{}",
            self.scheme, self.host, self.repository, self.reference
        )
    }
}

impl std::str::FromStr for UpstreamRef {
    type Err = UpstreamError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || UpstreamError::InvalidRef(s.to_string());
        let (scheme, rest) = match s.split_once("://") {
            Some(("http", rest)) => (Some("http"), rest),
            Some(("https", rest)) => (Some("https"), rest),
            Some(_) => return Err(invalid()),
            None => (None, s),
        };
        let Some((host, path)) = rest.split_once('/') else {
            return Err(short_name(s, rest));
        };
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(short_name(s, rest));
        }
        if !valid_host(host) {
            return Err(invalid());
        }
        let (name_tag, digest) = match path.split_once('@') {
            Some((name_tag, digest)) => {
                let digest: Digest = digest.parse().map_err(|_| invalid())?;
                (name_tag, Some(digest))
            }
            None => (path, None),
        };
        let (repository, tag) = match name_tag.rsplit_once(':') {
            Some((repo, tag)) => (repo, tag),
            None => (name_tag, "latest"),
        };
        if !valid_repository(repository) || !valid_tag(tag) {
            return Err(invalid());
        }
        let scheme = match scheme {
            Some(scheme) => scheme,
            None if is_loopback(host) => "http",
            None => "https",
        };
        Ok(UpstreamRef {
            scheme: scheme.to_string(),
            host: host.to_string(),
            repository: repository.to_string(),
            reference: match digest {
                Some(digest) => digest.to_string(),
                None => tag.to_string(),
            },
        })
    }
}

fn short_name(input: &str, name: &str) -> UpstreamError {
    UpstreamError::ShortName {
        input: input.to_string(),
        suggestion: format!("registry-1.docker.io/{}", docker_hub_path(name)),
    }
}

/// `busybox` → `library/busybox`, `user/app:1` unchanged: the Docker Hub path of a short name.
fn docker_hub_path(name: &str) -> String {
    if name.contains('/') {
        name.to_string()
    } else {
        format!("library/{name}")
    }
}

/// `name[:port]`, `a.b.c.d[:port]` or `[v6][:port]`, with a numeric port.
fn valid_host(host: &str) -> bool {
    let (name, port) = if let Some(v6) = host.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return false;
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("v6", Some(port)),
                None => return false,
            },
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    name_ok && port_ok
}

/// True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port.
pub(super) fn is_loopback(host: &str) -> bool {
    if host == "[::1]" || host.starts_with("[::1]:") {
        return true;
    }
    let name = host.split(':').next().unwrap_or(host);
    name == "localhost" || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> UpstreamRef {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn loopback_hosts_default_to_http() {
        for (input, host) in [
            ("localhost/a", "localhost"),
            ("localhost:5000/a", "localhost:5000"),
            ("127.0.0.1:5000/a", "127.0.0.1:5000"),
            ("127.1.2.3/a", "127.1.2.3"),
            ("[::1]:5000/a", "[::1]:5000"),
            ("[::1]/a", "[::1]"),
        ] {
            let r = parse(input);
            assert_eq!(r.scheme, "http", "{input}");
            assert_eq!(r.host, host, "{input}");
            assert_eq!(r.repository, "a");
            assert_eq!(r.reference, "latest");
        }
    }

    #[test]
    fn other_hosts_default_to_https() {
        let r = parse("ghcr.io/org/team/app:v1.2");
        assert_eq!(
            r,
            UpstreamRef {
                scheme: "https".into(),
                host: "ghcr.io".into(),
                repository: "org/team/app".into(),
                reference: "v1.2".into(),
            }
        );
        assert_eq!(parse("registry.local:443/x").scheme, "https");
        assert_eq!(parse("10.0.0.1:5000/x").scheme, "https");
        assert_eq!(parse("[fe80::1]:5000/x").scheme, "https");
    }

    #[test]
    fn explicit_schemes_win() {
        let r = parse("https://localhost:5000/a/b:t");
        assert_eq!(r.scheme, "https");
        assert_eq!(r.host, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.reference, "t");
        assert_eq!(parse("http://registry.example.com/a").scheme, "http");
        assert_eq!(
            parse("http://registry.example.com/a").base_url(),
            "http://registry.example.com"
        );
    }

    #[test]
    fn digests() {
        let r = parse(&format!("localhost:5000/a/b@sha256:{HEX}"));
        assert_eq!(r.reference, format!("sha256:{HEX}"));
        assert_eq!(r.digest().unwrap().hex(), HEX);
        // A tag next to a digest is ignored: the digest decides.
        let r = parse(&format!("quay.io/a:v1@sha256:{HEX}"));
        assert_eq!(r.repository, "a");
        assert_eq!(r.reference, format!("sha256:{HEX}"));
        assert_eq!(r.to_string(), format!("https://quay.io/a@sha256:{HEX}"));
        assert!(parse("quay.io/a:v1").digest().is_none());
    }

    #[test]
    fn display_round_trips() {
        for input in [
            "http://localhost:5000/a/b:latest",
            "https://ghcr.io/o/app:v1",
            "http://[::1]:5000/x:y",
        ] {
            assert_eq!(parse(input).to_string(), input);
            assert_eq!(parse(&parse(input).to_string()), parse(input));
        }
    }

    #[test]
    fn docker_hub_short_names_are_refused_with_a_suggestion() {
        for (input, suggestion) in [
            ("busybox", "registry-1.docker.io/library/busybox"),
            ("busybox:1.36", "registry-1.docker.io/library/busybox:1.36"),
            ("library/busybox", "registry-1.docker.io/library/busybox"),
            ("user/app:v1", "registry-1.docker.io/user/app:v1"),
        ] {
            let err = input.parse::<UpstreamRef>().unwrap_err();
            let text = err.to_string();
            assert!(text.contains("Docker Hub short names"), "{input}: {text}");
            assert!(text.contains(suggestion), "{input}: {text}");
        }
    }

    #[test]
    fn bad_refs() {
        for input in [
            "",
            "localhost",
            "localhost/",
            "localhost/A",
            "localhost/a/",
            "localhost//a",
            "localhost/a:",
            "localhost/a:-bad",
            "localhost/a@sha256:abc",
            "localhost/a@md5:0123",
            "localhost:port/a",
            "localhost:0/a",
            "localhost:70000/a",
            "ftp://localhost/a",
            "http://",
            "my_host.com/a",
            "[::1/a",
            "[zz::1]:5000/a",
            "localhost/a b",
        ] {
            assert!(input.parse::<UpstreamRef>().is_err(), "{input:?} parsed");
        }
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("127.0.0.1:1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:80"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("localhost.example.com"));
        assert!(!is_loopback("[::2]:80"));
    }
}
