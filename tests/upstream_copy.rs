//! `image::upstream::copy` against real registries: Debian's `docker-registry` (CNCF
//! distribution 2.8) filled by `skopeo copy` from the embedded registry, and a small bearer-token
//! gate written here with hyper. Needs skopeo and docker-registry (see `scripts/setup-docker`);
//! no Docker engine. Network: 127.0.0.1 only.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coldbench::image::oci;
use coldbench::image::upstream::{self, auth::Credentials, UpstreamError, UpstreamRef};
use coldbench::registry::{Digest, Reference, Registry, RegistryConfig, Store};
use sha2::Digest as _;

/// A `docker-registry` process on a free loopback port, killed on drop.
struct DockerRegistry {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl DockerRegistry {
    async fn start() -> DockerRegistry {
        let dir = tempfile::tempdir().unwrap();
        let addr = free_addr();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = dir.path().join("registry.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("spawn docker-registry");
        let registry = DockerRegistry {
            child,
            addr,
            log,
            _dir: dir,
        };
        registry.wait_ready().await;
        registry
    }

    /// Polls `/v2/` until it answers 200, for at most 20 s.
    async fn wait_ready(&self) {
        let client = http_client();
        let url = format!("http://{}/v2/", self.addr);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer {url} within 20 s; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address whose port was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn tools() -> bool {
    common::tool("skopeo") && common::tool("docker-registry")
}

/// Runs skopeo with a bounded wait; returns stdout bytes.
fn skopeo(args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg("skopeo").args(args);
    let out = cmd.output().expect("spawn skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// skopeo copy between two plain-HTTP loopback registries.
async fn skopeo_copy(from: &str, to: &str) {
    let (from, to) = (from.to_string(), to.to_string());
    tokio::task::spawn_blocking(move || {
        skopeo(&[
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{from}"),
            &format!("docker://{to}"),
        ])
    })
    .await
    .unwrap();
}

async fn skopeo_raw(image: &str) -> Vec<u8> {
    let image = format!("docker://{image}");
    tokio::task::spawn_blocking(move || skopeo(&["inspect", "--raw", "--tls-verify=false", &image]))
        .await
        .unwrap()
}

/// A gzipped tar holding `files`, and the digest of the tar itself (its diff ID).
fn layer(files: &[(&str, &[u8])]) -> (Vec<u8>, Digest) {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), Digest::of(&tar))
}

/// Puts a two-layer linux/host-architecture image into `store` as `repo:latest`; returns the
/// manifest digest.
fn put_image(store: &Store, repo: &str, marker: &str) -> Digest {
    let filler: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (l1, diff1) = layer(&[("filler", &filler)]);
    let (l2, diff2) = layer(&[("etc/marker", marker.as_bytes())]);
    let d1 = store.put_blob(&l1).unwrap();
    let d2 = store.put_blob(&l2).unwrap();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": oci::host_architecture(), "os": "linux",
        "config": { "Cmd": ["/bin/true"] },
        "rootfs": { "type": "layers", "diff_ids": [diff1, diff2] },
        "history": [
            { "created_by": "ADD filler" },
            { "created_by": "ENV X=1", "empty_layer": true },
            { "created_by": format!("ADD marker {marker}") }
        ]
    }))
    .unwrap();
    let c = store.put_blob(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_V1,
        "config": { "mediaType": oci::CONFIG_V1, "digest": c, "size": config.len() },
        "layers": [
            { "mediaType": oci::LAYER_TAR_GZIP, "digest": d1, "size": l1.len() },
            { "mediaType": oci::LAYER_TAR_GZIP, "digest": d2, "size": l2.len() }
        ]
    }))
    .unwrap();
    store
        .put_manifest(repo, "latest", oci::MANIFEST_V1, &manifest)
        .unwrap()
}

async fn embedded(dir: &Path) -> Registry {
    Registry::start(RegistryConfig {
        store_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        bandwidth: None,
        latency: Duration::ZERO,
        limits: Default::default(),
    })
    .await
    .unwrap()
}

fn sha256(bytes: &[u8]) -> Digest {
    Digest::from_sha256(sha2::Sha256::digest(bytes).into())
}

/// Every blob a manifest references, with its size.
fn blobs_of(manifest: &[u8]) -> Vec<(Digest, u64)> {
    let m: oci::Manifest = serde_json::from_slice(manifest).unwrap();
    std::iter::once(&m.config)
        .chain(&m.layers)
        .map(|d| (d.digest.clone(), d.size))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_an_image_from_docker_registry() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = embedded(&dir.path().join("source")).await;
    put_image(source.store(), "coldbench/x", "one");
    let upstream = DockerRegistry::start().await;
    let up = upstream.addr;
    skopeo_copy(
        &format!("{}/coldbench/x:latest", source.addr()),
        &format!("{up}/up/x:v1"),
    )
    .await;
    let raw = skopeo_raw(&format!("{up}/up/x:v1")).await;

    let dest = Store::open(&dir.path().join("dest")).unwrap();
    let reference: UpstreamRef = format!("{up}/up/x:v1").parse().unwrap();
    assert_eq!(reference.scheme, "http");
    let image = upstream::copy(&reference, &dest, "coldbench/copied", "t")
        .await
        .unwrap();

    assert_eq!(image.digest, sha256(&raw));
    assert_eq!(std::fs::read(dest.blob_path(&image.digest)).unwrap(), raw);
    let info = dest
        .manifest("coldbench/copied", &Reference::Tag("t".into()))
        .unwrap()
        .unwrap();
    assert_eq!(info.digest, image.digest);
    assert_eq!(info.media_type, oci::MANIFEST_V1);
    let blobs = blobs_of(&raw);
    for (digest, size) in &blobs {
        assert_eq!(dest.blob_size(digest), Some(*size), "{digest}");
    }
    assert_eq!(
        image.compressed_size,
        blobs.iter().map(|b| b.1).sum::<u64>()
    );
    assert_eq!(image.config_digest, blobs[0].0);
    let created: Vec<&str> = image.layers.iter().map(|l| l.created_by.as_str()).collect();
    assert_eq!(created, ["ADD filler", "ADD marker one"]);

    // By digest, into the same store: blobs are skipped, the digest is verified.
    let by_digest: UpstreamRef = format!("{up}/up/x@{}", image.digest).parse().unwrap();
    let again = upstream::copy(&by_digest, &dest, "coldbench/copied", "t2")
        .await
        .unwrap();
    assert_eq!(again, upstream_image_retagged(&image, "t2"));
}

fn upstream_image_retagged(
    image: &coldbench::image::StoredImage,
    tag: &str,
) -> coldbench::image::StoredImage {
    let mut image = image.clone();
    image.tag = tag.to_string();
    image
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_resolves_to_the_host_platform() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = embedded(&dir.path().join("source")).await;
    put_image(source.store(), "coldbench/a", "host");
    put_image(source.store(), "coldbench/b", "other");
    let upstream = DockerRegistry::start().await;
    let up = upstream.addr;
    for (from, tag) in [("a", "host"), ("b", "other")] {
        skopeo_copy(
            &format!("{}/coldbench/{from}:latest", source.addr()),
            &format!("{up}/up/multi:{tag}"),
        )
        .await;
    }
    let host_raw = skopeo_raw(&format!("{up}/up/multi:host")).await;
    let other_raw = skopeo_raw(&format!("{up}/up/multi:other")).await;
    let host_arch = oci::host_architecture();
    let other_arch = if host_arch == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    let entry = |raw: &[u8], os: &str, arch: &str| {
        serde_json::json!({
            "mediaType": oci::MANIFEST_V1, "digest": sha256(raw), "size": raw.len(),
            "platform": { "os": os, "architecture": arch }
        })
    };
    // The host's entry comes last: neither "the first" nor "any arch match" would find it.
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": upstream::OCI_INDEX,
        "manifests": [
            entry(&other_raw, "linux", other_arch),
            entry(&other_raw, "windows", host_arch),
            entry(&host_raw, "linux", host_arch),
        ]
    }))
    .unwrap();
    let put = http_client()
        .put(format!("http://{up}/v2/up/multi/manifests/all"))
        .header("Content-Type", upstream::OCI_INDEX)
        .body(index.clone())
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    assert!(
        put.status().is_success(),
        "index PUT: {} {}",
        put.status(),
        put.text().await.unwrap_or_default()
    );
    assert_eq!(skopeo_raw(&format!("{up}/up/multi:all")).await, index);

    let dest = Store::open(&dir.path().join("dest")).unwrap();
    let reference: UpstreamRef = format!("{up}/up/multi:all").parse().unwrap();
    let image = upstream::copy(&reference, &dest, "coldbench/multi", "latest")
        .await
        .unwrap();
    assert_eq!(image.digest, sha256(&host_raw));
    assert_eq!(image.layers[1].created_by, "ADD marker host");
    for (digest, size) in blobs_of(&host_raw) {
        assert_eq!(dest.blob_size(&digest), Some(size));
    }
    // By the index's digest too.
    let by_digest: UpstreamRef = format!("{up}/up/multi@{}", sha256(&index)).parse().unwrap();
    let image = upstream::copy(&by_digest, &dest, "coldbench/multi", "d")
        .await
        .unwrap();
    assert_eq!(image.digest, sha256(&host_raw));
}

#[tokio::test]
async fn an_unreachable_upstream_names_the_ref() {
    let addr = free_addr(); // closed again: nothing listens there
    let dir = tempfile::tempdir().unwrap();
    let dest = Store::open(dir.path()).unwrap();
    let reference: UpstreamRef = format!("{addr}/up/x:v1").parse().unwrap();
    let started = Instant::now();
    let err = upstream::copy(&reference, &dest, "coldbench/x", "t")
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Transport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("http://{addr}/up/x:v1")), "{text}");
    assert!(
        text.contains("is the registry running? check the address"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

mod gate {
    //! A registry front that wants a bearer token from its own `/token` endpoint (which wants
    //! Basic credentials) and then redirects every `/v2/` request to the real registry.

    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use base64::Engine as _;
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;

    pub const TOKEN: &str = "t0ken";

    /// Token queries seen, for the test to inspect.
    pub type Seen = Arc<Mutex<Vec<String>>>;

    pub async fn start(backend: SocketAddr, user: &str, pass: &str) -> (SocketAddr, Seen) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        );
        let seen = Seen::default();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (basic, seen) = (basic.clone(), seen2.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let reply = handle(req, addr, backend, &basic, &seen);
                        async move { Ok::<_, Infallible>(reply) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, seen)
    }

    fn handle(
        req: Request<hyper::body::Incoming>,
        me: SocketAddr,
        backend: SocketAddr,
        basic: &str,
        seen: &Seen,
    ) -> Response<Full<Bytes>> {
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let reply = |status: StatusCode, body: &str| {
            let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
            *r.status_mut() = status;
            r
        };
        if req.uri().path() == "/token" {
            seen.lock()
                .unwrap()
                .push(req.uri().query().unwrap_or("").to_string());
            return if auth == basic {
                reply(StatusCode::OK, &format!(r#"{{"access_token":"{TOKEN}"}}"#))
            } else {
                reply(StatusCode::UNAUTHORIZED, "{}")
            };
        }
        if auth != format!("Bearer {TOKEN}") {
            let mut r = reply(StatusCode::UNAUTHORIZED, r#"{"errors":[]}"#);
            r.headers_mut().insert(
                "www-authenticate",
                format!(r#"Bearer realm="http://{me}/token",service="gate",scope="repository:up/x:pull""#)
                    .parse()
                    .unwrap(),
            );
            return r;
        }
        let mut r = reply(StatusCode::TEMPORARY_REDIRECT, "");
        let target = format!("http://{backend}{}", req.uri());
        r.headers_mut().insert("location", target.parse().unwrap());
        r
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_redirects() {
    let dir = tempfile::tempdir().unwrap();
    let backend = embedded(&dir.path().join("backend")).await;
    let digest = put_image(backend.store(), "up/x", "gated");
    let (gate, seen) = gate::start(backend.addr(), "alice", "pw").await;
    let reference: UpstreamRef = format!("{gate}/up/x:latest").parse().unwrap();
    let dest = Store::open(&dir.path().join("dest")).unwrap();

    // Without credentials the token endpoint refuses: the error says to log in.
    let err = upstream::copy_with(&reference, &dest, "coldbench/g", "t", None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, UpstreamError::Unauthorized { .. }), "{text}");
    assert!(text.contains(&format!("docker login {gate}")), "{text}");
    assert!(text.contains(&format!("{gate}/up/x:latest")), "{text}");

    let credentials = Credentials {
        username: "alice".into(),
        password: "pw".into(),
    };
    let image = upstream::copy_with(&reference, &dest, "coldbench/g", "t", Some(credentials))
        .await
        .unwrap();
    assert_eq!(image.digest, digest);
    for layer in &image.layers {
        assert_eq!(dest.blob_size(&layer.digest), Some(layer.size));
    }
    let queries = seen.lock().unwrap().clone();
    assert!(
        queries
            .iter()
            .all(|q| q == "service=gate&scope=repository%3Aup%2Fx%3Apull"),
        "{queries:?}"
    );
}

/// A plain reqwest client; rustls needs its crypto provider chosen first (ring, as the crate does).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
