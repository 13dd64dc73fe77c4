//! A node's real image pull, as containerd does it for the kubelet: resolve the reference over
//! the distribution API (an image index resolves to its linux/amd64 manifest), then fetch the
//! config and every layer, reading each body to the end and checking its sha256 digest. The
//! TCP source address is the node's InternalIP, so the registry sees which node pulled.
//!
//! Config and layers download three at a time, like containerd's default.
//!
//! Failures read like the kubelet's `Failed to pull image "X": <reason>` reasons.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Every manifest media type the node accepts, indexes first (what containerd sends).
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
/// No read of a body may stall longer than this (bounds every loop over a body).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Blobs fetched at once, in manifest order (containerd's `max_concurrent_downloads` default).
const MAX_CONCURRENT_DOWNLOADS: usize = 3;
/// More layers than any real image has: a manifest listing more is refused.
const MAX_BLOBS: usize = 1024;

/// An image reference split the way containerd splits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `localhost:5001`, `registry.k8s.io`, `docker.io`.
    pub host: String,
    /// `coldbench/app`, `library/nginx`.
    pub repository: String,
    /// The tag or the `sha256:…` digest.
    pub reference: String,
}

impl ImageRef {
    /// Parses `[host/]repo[:tag][@digest]`; a first component without `.` or `:` (and not
    /// `localhost`) is a Docker Hub repository.
    pub fn parse(image: &str) -> Option<ImageRef> {
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        let (name, tag) = match name.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, t),
            _ => (name, "latest"),
        };
        let (host, repository) = match name.split_once('/') {
            Some((h, r)) if h.contains(['.', ':']) || h == "localhost" => (h, r.to_string()),
            Some(_) => ("docker.io", name.to_string()),
            None => ("docker.io", format!("library/{name}")),
        };
        if repository.is_empty() {
            return None;
        }
        Some(ImageRef {
            host: host.to_string(),
            repository,
            reference: digest.unwrap_or(tag).to_string(),
        })
    }
}

/// One pull a node's kubelet asked its runtime for.
#[derive(Clone, Debug)]
pub struct PullJob {
    /// The image as the pod names it.
    pub image: String,
    pub target: ImageRef,
    /// `IP:PORT` to dial for `target.host` (the hosts.toml mirror).
    pub dial: String,
    /// The node pulling.
    pub node: String,
    /// The node's InternalIP: the TCP source address.
    pub node_ip: IpAddr,
    /// The node's pull queue (one pull at a time).
    pub queue: Arc<tokio::sync::Mutex<()>>,
}

/// What a finished pull reports.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The digest the reference resolved to (the index's, for an index).
    pub digest: String,
    /// Config plus compressed layers, in bytes read.
    pub size: u64,
    /// From the first request to the last byte.
    pub took: Duration,
    /// Including the wait in the node's pull queue (set by the queue; `took` until then).
    pub with_waiting: Duration,
}

/// Why a pull failed.
#[derive(Debug)]
enum PullError {
    /// The reference does not exist (`404` on the manifest).
    NotFound,
    /// No HTTP answer at all: connection refused, reset, timed out.
    Transport { url: String, error: String },
    /// A status other than 200.
    Status { url: String, status: StatusCode },
    /// A body whose sha256 is not the digest asked for.
    Digest { expected: String, actual: String },
    /// A manifest the node cannot use.
    Invalid(String),
}

impl PullJob {
    /// Pulls the image: manifest (through an index if need be), then config and layers unless
    /// the node has them (`present`: only the reference is resolved again).
    pub async fn run(&self, present: bool) -> Result<Fetched, String> {
        let start = Instant::now();
        self.fetch_all(present)
            .await
            .map(|(digest, size)| Fetched {
                digest,
                size,
                took: start.elapsed(),
                with_waiting: start.elapsed(),
            })
            .map_err(|e| self.reason(&e))
    }

    /// The resolved digest and the image's size (config plus compressed layers).
    async fn fetch_all(&self, present: bool) -> Result<(String, u64), PullError> {
        let client = client(self.node_ip)?;
        let (digest, manifest) = self.resolve(&client).await?;
        let blobs = blobs(&manifest)?;
        if !present {
            let client = &client;
            futures_util::stream::iter(blobs.clone())
                .map(|(digest, declared)| async move {
                    self.fetch_blob(client, &digest, declared).await
                })
                .buffered(MAX_CONCURRENT_DOWNLOADS)
                .try_collect::<Vec<u64>>()
                .await?;
        }
        Ok((digest, blobs.iter().map(|b| b.1).sum()))
    }

    /// The reference's digest and its linux/amd64 image manifest.
    async fn resolve(&self, client: &reqwest::Client) -> Result<(String, Value), PullError> {
        let (digest, media_type, doc) = self.manifest(client, &self.target.reference).await?;
        let is_index = INDEX_TYPES.contains(&media_type.as_str()) || doc["manifests"].is_array();
        if !is_index {
            return Ok((digest, doc));
        }
        let chosen = platform_manifest(&doc)?;
        let (_, _, manifest) = self.manifest(client, &chosen).await?;
        Ok((digest, manifest))
    }

    /// `GET /v2/<repo>/manifests/<reference>`: its digest, media type and JSON.
    async fn manifest(
        &self,
        client: &reqwest::Client,
        reference: &str,
    ) -> Result<(String, String, Value), PullError> {
        let url = self.url("manifests", reference);
        let res = get(client, &url, ACCEPT_MANIFESTS).await?;
        let header_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = res.bytes().await.map_err(|e| transport(&url, &e))?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(PullError::Digest {
                expected: reference.to_string(),
                actual: digest,
            });
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|e| PullError::Invalid(format!("manifest {reference}: {e}")))?;
        let media_type = doc["mediaType"]
            .as_str()
            .map_or(header_type, str::to_string);
        Ok((digest, media_type, doc))
    }

    /// `GET /v2/<repo>/blobs/<digest>`, read to the end and checked; returns the bytes read.
    async fn fetch_blob(
        &self,
        client: &reqwest::Client,
        digest: &str,
        declared: u64,
    ) -> Result<u64, PullError> {
        let url = self.url("blobs", digest);
        let mut res = get(client, &url, "*/*").await?;
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        while let Some(chunk) = res.chunk().await.map_err(|e| transport(&url, &e))? {
            read += chunk.len() as u64;
            if read > declared {
                break;
            }
            hasher.update(&chunk);
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if read != declared || actual != digest {
            return Err(PullError::Digest {
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(read)
    }

    fn url(&self, what: &str, reference: &str) -> String {
        format!(
            "http://{}/v2/{}/{what}/{reference}",
            self.dial, self.target.repository
        )
    }

    /// The reason after `Failed to pull image "X": `, in containerd's words.
    fn reason(&self, e: &PullError) -> String {
        let image = &self.image;
        let unpack = format!("failed to pull and unpack image \"{image}\"");
        match e {
            PullError::NotFound => format!(
                "rpc error: code = NotFound desc = {unpack}: failed to resolve reference \"{image}\": {image}: not found"
            ),
            PullError::Transport { url, error } => format!(
                "rpc error: code = Unknown desc = {unpack}: failed to resolve reference \"{image}\": failed to do request: Get \"{url}\": {error}"
            ),
            PullError::Status { url, status } => format!(
                "rpc error: code = Unknown desc = {unpack}: failed to copy: httpReadSeeker: failed open: unexpected status code {url}: {status}"
            ),
            PullError::Digest { expected, actual } => format!(
                "rpc error: code = Unknown desc = {unpack}: failed to copy: failed to commit: commit failed: unexpected commit digest {actual}, expected {expected}: failed precondition"
            ),
            PullError::Invalid(what) => format!(
                "rpc error: code = Unknown desc = {unpack}: failed to unpack image: {what}"
            ),
        }
    }
}

/// A client dialing from `node_ip`, with no proxy (everything is on loopback).
fn client(node_ip: IpAddr) -> Result<reqwest::Client, PullError> {
    // reqwest's rustls needs a process-wide provider even for plain HTTP; an error only means
    // one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .local_address(node_ip)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .map_err(|e| PullError::Invalid(format!("cannot build an HTTP client: {e}")))
}

/// `GET url`: the response when it is `200`.
async fn get(
    client: &reqwest::Client,
    url: &str,
    accept: &str,
) -> Result<reqwest::Response, PullError> {
    let res = client
        .get(url)
        .header(ACCEPT, accept)
        .send()
        .await
        .map_err(|e| transport(url, &e))?;
    match res.status() {
        StatusCode::OK => Ok(res),
        StatusCode::NOT_FOUND if url.contains("/manifests/") => Err(PullError::NotFound),
        status => Err(PullError::Status {
            url: url.to_string(),
            status,
        }),
    }
}

/// A transport error in Go's words where they are known (`dial tcp A: connect: connection
/// refused`), else reqwest's error chain.
fn transport(url: &str, e: &reqwest::Error) -> PullError {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut depth = 0;
    while let (Some(s), true) = (source, depth < 8) {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
        depth += 1;
    }
    let error = if e.is_connect() && chain.contains("refused") {
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        format!("dial tcp {addr}: connect: connection refused")
    } else {
        chain
    };
    PullError::Transport {
        url: url.to_string(),
        error,
    }
}

/// The linux/amd64 entry of an index.
fn platform_manifest(index: &Value) -> Result<String, PullError> {
    index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
        .and_then(|m| m["digest"].as_str())
        .map(str::to_string)
        .ok_or_else(|| PullError::Invalid("no match for platform in manifest: not found".into()))
}

/// The config and the layers of an image manifest: `(digest, size)`, config first.
fn blobs(manifest: &Value) -> Result<Vec<(String, u64)>, PullError> {
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    if layers.len() > MAX_BLOBS {
        return Err(PullError::Invalid(format!("{} layers", layers.len())));
    }
    std::iter::once(&manifest["config"])
        .chain(layers.iter())
        .map(|d| {
            let digest = d["digest"].as_str().filter(|s| valid_digest(s));
            match (digest, d["size"].as_u64()) {
                (Some(digest), Some(size)) => Ok((digest.to_string(), size)),
                _ => Err(PullError::Invalid(format!("invalid descriptor {d}"))),
            }
        })
        .collect()
}

/// `sha256:` and 64 lowercase hex digits (so a digest is safe in a URL path).
fn valid_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    #[test]
    fn references_split_like_containerd() {
        let r = ImageRef::parse("localhost:5001/coldbench/app:latest").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("localhost:5001", "coldbench/app", "latest")
        );
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str()),
            ("docker.io", "library/nginx")
        );
        let r = ImageRef::parse("reg.local/a/b@sha256:ab").unwrap();
        assert_eq!(r.reference, "sha256:ab");
    }
}
