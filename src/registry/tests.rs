//! Endpoint tests against a real registry on 127.0.0.1 (raw HTTP/1.1 client, no mocks).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::test_client::{request, Resp};
use super::*;

async fn start(latency: Duration) -> (tempfile::TempDir, Registry) {
    start_with(latency, RegistryLimits::default()).await
}

async fn start_with(latency: Duration, limits: RegistryLimits) -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(RegistryConfig {
        latency,
        limits,
        ..RegistryConfig::new(dir.path().join("store"), "127.0.0.1:0".parse().unwrap())
    })
    .await
    .unwrap();
    (dir, registry)
}

async fn get(reg: &Registry, path: &str) -> Resp {
    request(reg.addr(), "GET", path, &[], b"").await
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn manifest_for(config: &Digest, layer: &Digest, layer_size: usize) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}],
    }))
    .unwrap()
}

#[tokio::test]
async fn base_endpoint_answers_with_the_api_version() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let resp = get(&reg, "/v2/").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"{}");
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    let resp = get(&reg, "/v1/whatever").await;
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    reg.shutdown().await;
}

#[tokio::test]
async fn a_digest_mismatch_is_digest_invalid_and_stores_nothing() {
    let (dir, reg) = start(Duration::ZERO).await;
    let wrong = Digest::of(b"something else");
    let path = format!(
        "/v2/r/blobs/uploads/?digest={}",
        wrong.as_str().replace(':', "%3A")
    );
    let resp = request(reg.addr(), "POST", &path, &[], b"payload").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error_code(), "DIGEST_INVALID");
    // The chunked way ends the same.
    let start = request(reg.addr(), "POST", "/v2/r/blobs/uploads/", &[], b"").await;
    let location = start.header("location").unwrap().to_string();
    let resp = request(reg.addr(), "PATCH", &location, &[], b"payload").await;
    assert_eq!(resp.status, 202);
    let resp = request(
        reg.addr(),
        "PUT",
        &format!("{location}?digest={wrong}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(resp.error_code(), "DIGEST_INVALID");
    let store = dir.path().join("store");
    assert_eq!(files_in(&store.join("blobs/sha256")), 0);
    assert_eq!(files_in(&store.join("tmp")), 0);
    assert_eq!(get(&reg, &format!("/v2/r/blobs/{wrong}")).await.status, 404);
    assert!(reg.shared.uploads.is_empty());
}

#[tokio::test]
async fn bad_names_are_name_invalid() {
    let (dir, reg) = start(Duration::ZERO).await;
    for path in [
        "/v2/../x/manifests/v1",
        "/v2//abs/manifests/v1",
        "/v2/A/manifests/v1",
        "/v2/a//b/manifests/v1",
        "/v2/a/../../b/tags/list",
    ] {
        let resp = get(&reg, path).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, "NAME_INVALID".into()),
            "{path}"
        );
    }
    let resp = request(reg.addr(), "POST", "/v2/../x/blobs/uploads/", &[], b"").await;
    assert_eq!(resp.error_code(), "NAME_INVALID");
    let resp = request(reg.addr(), "PUT", "/v2/a/manifests/..", &[], b"{}").await;
    assert_eq!(resp.error_code(), "TAG_INVALID");
    let resp = get(&reg, "/v2/a/blobs/sha256:XYZ").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (400, "DIGEST_INVALID".into())
    );
    assert!(!dir.path().join("x").exists());
}

#[tokio::test]
async fn blobs_serve_ranges_and_heads() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/any/repo/blobs/{digest}");

    let resp = get(&reg, &path).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, data);
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(resp.header("content-length"), Some("1000"));

    let resp = request(reg.addr(), "GET", &path, &[("Range", "bytes=10-19")], b"").await;
    assert_eq!(resp.status, 206);
    assert_eq!(resp.header("content-range"), Some("bytes 10-19/1000"));
    assert_eq!(resp.body, &data[10..20]);
    let resp = request(reg.addr(), "GET", &path, &[("Range", "bytes=990-")], b"").await;
    assert_eq!((resp.status, resp.body.as_slice()), (206, &data[990..]));
    let resp = request(reg.addr(), "GET", &path, &[("Range", "bytes=1000-")], b"").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (416, "RANGE_INVALID".into())
    );
    assert_eq!(resp.header("content-range"), Some("bytes */1000"));

    let resp = request(reg.addr(), "HEAD", &path, &[], b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("1000"));
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert!(resp.body.is_empty());
    let missing = format!("/v2/any/repo/blobs/{}", Digest::of(b"missing"));
    let resp = request(reg.addr(), "HEAD", &missing, &[], b"").await;
    assert_eq!((resp.status, resp.body.len()), (404, 0));
    let resp = get(&reg, &missing).await;
    assert_eq!(resp.error_code(), "BLOB_UNKNOWN");
    assert_eq!(reg.served().blobs, 1000 + 10 + 10);
}

#[tokio::test]
async fn chunked_upload_post_patch_patch_put() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let addr = reg.addr();
    let start = request(addr, "POST", "/v2/a/b/c/blobs/uploads/", &[], b"").await;
    assert_eq!(start.status, 202);
    assert_eq!(start.header("range"), Some("0-0"));
    let id = start.header("docker-upload-uuid").unwrap().to_string();
    let location = start.header("location").unwrap().to_string();
    assert_eq!(location, format!("/v2/a/b/c/blobs/uploads/{id}"));

    let resp = patch(addr, &location, "0-4", b"hello").await;
    assert_eq!((resp.status, resp.header("range")), (202, Some("0-4")));
    let resp = patch(addr, &location, "0-4", b"hello").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (416, "RANGE_INVALID".into())
    );
    let resp = patch(addr, &location, "5-10", b" world").await;
    assert_eq!((resp.status, resp.header("range")), (202, Some("0-10")));
    let resp = request(addr, "GET", &location, &[], b"").await;
    assert_eq!((resp.status, resp.header("range")), (204, Some("0-10")));
    assert_eq!(resp.header("docker-upload-uuid"), Some(id.as_str()));
    // An upload belongs to its repository.
    let other = format!("/v2/other/blobs/uploads/{id}");
    assert_eq!(
        request(addr, "GET", &other, &[], b"").await.error_code(),
        "BLOB_UPLOAD_UNKNOWN"
    );

    let digest = Digest::of(b"hello world!");
    let resp = request(
        addr,
        "PUT",
        &format!("{location}?digest={digest}"),
        &[],
        b"!",
    )
    .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        resp.header("location"),
        Some(format!("/v2/a/b/c/blobs/{digest}").as_str())
    );
    assert_eq!(
        get(&reg, &format!("/v2/a/b/c/blobs/{digest}")).await.body,
        b"hello world!"
    );
    let resp = request(addr, "GET", &location, &[], b"").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (404, "BLOB_UPLOAD_UNKNOWN".into())
    );

    // Monolithic POST, and an abandoned upload.
    let digest = Digest::of(b"mono");
    let resp = request(
        addr,
        "POST",
        &format!("/v2/m/blobs/uploads/?digest={digest}"),
        &[],
        b"mono",
    )
    .await;
    assert_eq!(
        (resp.status, resp.header("docker-content-digest")),
        (201, Some(digest.as_str()))
    );
    let start = request(addr, "POST", "/v2/m/blobs/uploads/", &[], b"").await;
    let location = start.header("location").unwrap();
    assert_eq!(
        request(addr, "DELETE", location, &[], b"").await.status,
        204
    );
    assert_eq!(
        request(addr, "DELETE", location, &[], b"").await.status,
        404
    );
}

#[tokio::test]
async fn cross_repo_mount() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let digest = reg.store().put_blob(b"shared layer").unwrap();
    let path = format!(
        "/v2/to/repo/blobs/uploads/?mount={}&from=from%2Frepo",
        digest.as_str().replace(':', "%3A")
    );
    let resp = request(reg.addr(), "POST", &path, &[], b"").await;
    assert_eq!(resp.status, 201);
    assert_eq!(
        resp.header("location"),
        Some(format!("/v2/to/repo/blobs/{digest}").as_str())
    );
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    let missing = Digest::of(b"not here");
    let path = format!("/v2/to/repo/blobs/uploads/?mount={missing}&from=from/repo");
    let resp = request(reg.addr(), "POST", &path, &[], b"").await;
    assert_eq!(resp.status, 202);
    assert!(resp.header("docker-upload-uuid").is_some());
}

#[tokio::test]
async fn manifests_are_kept_byte_for_byte_and_listed() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let addr = reg.addr();
    let config = Digest::of(b"{}");
    let layer = Digest::of(b"layer");
    let manifest = manifest_for(&config, &layer, 5);
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let ct = [("Content-Type", media_type)];
    let resp = request(addr, "PUT", "/v2/a/b/c/manifests/v1", &ct, &manifest).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (400, "MANIFEST_BLOB_UNKNOWN".into())
    );
    reg.store().put_blob(b"{}").unwrap();
    reg.store().put_blob(b"layer").unwrap();
    let resp = request(addr, "PUT", "/v2/a/b/c/manifests/not-json", &ct, b"nope").await;
    assert_eq!(resp.error_code(), "MANIFEST_INVALID");
    let resp = request(addr, "PUT", "/v2/a/b/c/manifests/v1", &ct, &manifest).await;
    assert_eq!(resp.status, 201);
    let digest = Digest::of(&manifest);
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        resp.header("location"),
        Some(format!("/v2/a/b/c/manifests/{digest}").as_str())
    );
    // By digest: the body must have that digest.
    let wrong = Digest::of(b"x");
    let resp = request(
        addr,
        "PUT",
        &format!("/v2/a/b/c/manifests/{wrong}"),
        &ct,
        &manifest,
    )
    .await;
    assert_eq!(resp.error_code(), "DIGEST_INVALID");
    let resp = request(
        addr,
        "PUT",
        &format!("/v2/a/b/c/manifests/{digest}"),
        &ct,
        &manifest,
    )
    .await;
    assert_eq!(resp.status, 201);

    for reference in ["v1".to_string(), digest.to_string()] {
        let resp = get(&reg, &format!("/v2/a/b/c/manifests/{reference}")).await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, manifest);
        assert_eq!(resp.header("content-type"), Some(media_type));
        assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
        let len = manifest.len().to_string();
        assert_eq!(resp.header("content-length"), Some(len.as_str()));
        let resp = request(
            addr,
            "HEAD",
            &format!("/v2/a/b/c/manifests/{reference}"),
            &[],
            b"",
        )
        .await;
        assert_eq!((resp.status, resp.body.len()), (200, 0));
        assert_eq!(resp.header("content-length"), Some(len.as_str()));
        assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    }
    assert_eq!(reg.served().manifests, 2 * manifest.len() as u64);
    assert_eq!(
        get(&reg, "/v2/a/b/c/manifests/v2").await.error_code(),
        "MANIFEST_UNKNOWN"
    );
    assert_eq!(
        get(&reg, "/v2/nope/manifests/v1").await.error_code(),
        "NAME_UNKNOWN"
    );
    assert_eq!(
        get(&reg, "/v2/a/b/manifests/v1").await.error_code(),
        "NAME_UNKNOWN"
    );

    // An index needs its child manifests.
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": media_type, "digest": digest, "size": manifest.len()}],
    }))
    .unwrap();
    let ct_index = [("Content-Type", "application/vnd.oci.image.index.v1+json")];
    let resp = request(addr, "PUT", "/v2/a/b/c/manifests/multi", &ct_index, &index).await;
    assert_eq!(resp.status, 201);

    for tag in ["v2", "v3"] {
        let resp = request(
            addr,
            "PUT",
            &format!("/v2/a/b/c/manifests/{tag}"),
            &ct,
            &manifest,
        )
        .await;
        assert_eq!(resp.status, 201);
    }
    let resp = get(&reg, "/v2/a/b/c/tags/list").await;
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"name": "a/b/c", "tags": ["multi", "v1", "v2", "v3"]})
    );
    let resp = get(&reg, "/v2/a/b/c/tags/list?n=2&last=multi").await;
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(json["tags"], serde_json::json!(["v1", "v2"]));
    assert_eq!(
        resp.header("link"),
        Some("</v2/a/b/c/tags/list?n=2&last=v2>; rel=\"next\"")
    );
    assert_eq!(
        get(&reg, "/v2/zzz/tags/list").await.error_code(),
        "NAME_UNKNOWN"
    );
    let resp = get(&reg, "/v2/_catalog").await;
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(json, serde_json::json!({"repositories": ["a/b/c"]}));

    let resp = request(
        addr,
        "DELETE",
        &format!("/v2/a/b/c/manifests/{digest}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(resp.status, 202);
    assert_eq!(
        get(&reg, "/v2/a/b/c/manifests/v1").await.error_code(),
        "MANIFEST_UNKNOWN"
    );
}

#[tokio::test]
async fn a_tls_hello_fails_only_its_own_connection() {
    let (_dir, reg) = start(Duration::ZERO).await;
    // The start of a TLS 1.2 ClientHello record, as Docker sends it first.
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
    ];
    hello.extend((0..200u8).map(|i| i.wrapping_mul(37)));
    let mut stream = tokio::net::TcpStream::connect(reg.addr()).await.unwrap();
    stream.write_all(&hello).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the garbage connection was not closed");
    let resp = get(&reg, "/v2/").await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn latency_delays_the_response_head() {
    let (_dir, reg) = start(Duration::from_millis(150)).await;
    let t0 = Instant::now();
    assert_eq!(get(&reg, "/v2/").await.status, 200);
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let addr = reg.addr();
    let t0 = Instant::now();
    reg.shutdown().await;
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn a_registry_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Registry>();
}

// Hostile-input bounds on uploads (issue 9).

/// Descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Bytes in the store's tmp directory (partial blobs on disk).
fn tmp_bytes(dir: &tempfile::TempDir) -> u64 {
    std::fs::read_dir(dir.path().join("store/tmp"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Sends raw request bytes, then reads the whole response.
/// The upload at `location` holds `hello` (offset 5), and a final PUT of ` world` completes it.
async fn finishes_hello_world(addr: std::net::SocketAddr, location: &str) {
    let resp = request(addr, "GET", location, &[], b"").await;
    assert_eq!((resp.status, resp.header("range")), (204, Some("0-4")));
    let path = format!("{location}?digest={}", Digest::of(b"hello world"));
    let resp = request(addr, "PUT", &path, &[("Content-Range", "5-10")], b" world").await;
    assert_eq!(resp.status, 201);
}

/// `PATCH location` with a `Content-Range` and a sized body.
async fn patch(addr: std::net::SocketAddr, location: &str, range: &str, body: &[u8]) -> Resp {
    request(addr, "PATCH", location, &[("Content-Range", range)], body).await
}

async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> Resp {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    super::test_client::parse(&answer)
}

/// Starts an upload in `repo` and PATCHes `data` into it; returns its location.
async fn upload_with(addr: std::net::SocketAddr, repo: &str, data: &[u8]) -> String {
    let start = request(
        addr,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    )
    .await;
    assert_eq!(start.status, 202);
    let location = start.header("location").unwrap().to_string();
    let range = format!("0-{}", data.len() - 1);
    let resp = request(addr, "PATCH", &location, &[("Content-Range", &range)], data).await;
    assert_eq!(resp.status, 202);
    location
}

fn limits(max_sessions: usize, idle_expiry_ms: u64, body_timeout_ms: u64) -> RegistryLimits {
    RegistryLimits {
        max_sessions,
        idle_expiry: Duration::from_millis(idle_expiry_ms),
        body_timeout: Duration::from_millis(body_timeout_ms),
        ..RegistryLimits::default()
    }
}

#[tokio::test]
async fn abandoned_uploads_keep_descriptors_bounded() {
    // A cap above the count, so every session stays live: descriptors must not follow sessions.
    let (_dir, reg) = start_with(Duration::ZERO, limits(2000, 60_000, 30_000)).await;
    let addr = reg.addr();
    let digest = reg.store().put_blob(b"still served").unwrap();
    let before = open_fds();
    let load = async {
        for i in 0..1000u32 {
            upload_with(addr, "load", format!("chunk {i}").as_bytes()).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), load)
        .await
        .expect("1,000 uploads within 120 s");
    let after = open_fds();
    assert!(
        after < before + 100,
        "{before} descriptors before, {after} after"
    );
    let resp = get(&reg, &format!("/v2/load/blobs/{digest}")).await;
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"still served"[..])
    );
    reg.shutdown().await;
}

#[tokio::test]
async fn upload_sessions_beyond_the_cap_answer_429() {
    let (_dir, reg) = start_with(Duration::ZERO, limits(4, 60_000, 30_000)).await;
    let addr = reg.addr();
    let mut locations = Vec::new();
    for _ in 0..4 {
        locations.push(upload_with(addr, "cap", b"x").await);
    }
    let resp = request(addr, "POST", "/v2/cap/blobs/uploads/", &[], b"").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (429, "TOOMANYREQUESTS".into())
    );
    // A monolithic upload needs no session.
    let digest = Digest::of(b"mono");
    let path = format!("/v2/cap/blobs/uploads/?digest={digest}");
    assert_eq!(request(addr, "POST", &path, &[], b"mono").await.status, 201);
    let resp = request(addr, "DELETE", &locations[0], &[], b"").await;
    assert_eq!(resp.status, 204);
    let resp = request(addr, "POST", "/v2/cap/blobs/uploads/", &[], b"").await;
    assert_eq!(resp.status, 202);
    reg.shutdown().await;
}

#[tokio::test]
async fn a_429_beyond_the_session_cap_carries_retry_after() {
    // The default idle expiry is longer than UPLOAD_RETRY_AFTER: the header says the latter.
    let (_dir, reg) = start_with(Duration::ZERO, limits(1, 60_000, 30_000)).await;
    upload_with(reg.addr(), "retry", b"x").await;
    let resp = request(reg.addr(), "POST", "/v2/retry/blobs/uploads/", &[], b"").await;
    assert_eq!(resp.status, 429);
    let expected = UPLOAD_RETRY_AFTER.as_secs().to_string();
    assert_eq!(resp.header("retry-after"), Some(expected.as_str()));
    reg.shutdown().await;
    // A shorter expiry (rounded up to whole seconds) frees a slot sooner: the header says so.
    let (_dir, reg) = start_with(Duration::ZERO, limits(1, 2_500, 30_000)).await;
    upload_with(reg.addr(), "retry", b"x").await;
    let resp = request(reg.addr(), "POST", "/v2/retry/blobs/uploads/", &[], b"").await;
    assert_eq!((resp.status, resp.header("retry-after")), (429, Some("3")));
    // Other errors carry none.
    let resp = get(&reg, "/v2/retry/blobs/uploads/nope").await;
    assert_eq!((resp.status, resp.header("retry-after")), (404, None));
    reg.shutdown().await;
}

#[tokio::test]
async fn patched_data_is_on_disk_between_requests() {
    let (dir, reg) = start(Duration::ZERO).await;
    let data = vec![7u8; 250_000];
    upload_with(reg.addr(), "disk", &data).await;
    assert_eq!(tmp_bytes(&dir), 250_000, "the chunk stayed in memory");
    reg.shutdown().await;
}

#[tokio::test]
async fn idle_uploads_expire_with_their_partial_blob() {
    let (dir, reg) = start_with(Duration::ZERO, limits(256, 300, 30_000)).await;
    let addr = reg.addr();
    let idle = upload_with(addr, "exp", b"abandoned").await;
    let busy = upload_with(addr, "exp", b"kept").await;
    // Requests on `busy` keep it alive well past the expiry.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let resp = request(addr, "GET", &busy, &[], b"").await;
        assert_eq!((resp.status, resp.header("range")), (204, Some("0-3")));
    }
    // The sweep removed `idle`'s partial blob without any request on it.
    assert_eq!(tmp_bytes(&dir), 4);
    let resp = request(addr, "GET", &idle, &[], b"").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (404, "BLOB_UPLOAD_UNKNOWN".into())
    );
    let resp = request(addr, "PATCH", &idle, &[], b"more").await;
    assert_eq!(resp.error_code(), "BLOB_UPLOAD_UNKNOWN");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(reg.shared.uploads.is_empty());
    assert_eq!(files_in(&dir.path().join("store/tmp")), 0);
    reg.shutdown().await;
}

#[tokio::test]
async fn a_trickling_body_times_out_and_the_upload_stays_usable() {
    let (_dir, reg) = start_with(Duration::ZERO, limits(256, 60_000, 300)).await;
    let addr = reg.addr();
    let location = upload_with(addr, "slow", b"hello").await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Range: 5-1004\r\n\
         Content-Length: 1000\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"z").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Status and PUT answer at once while the trickle holds the upload.
    let quick = Duration::from_secs(2);
    let status = tokio::time::timeout(quick, request(addr, "GET", &location, &[], b"")).await;
    let status = status.expect("status answers while a PATCH is running");
    assert_eq!((status.status, status.header("range")), (204, Some("0-4")));
    let put_path = format!("{location}?digest={}", Digest::of(b"hello"));
    let put = tokio::time::timeout(quick, request(addr, "PUT", &put_path, &[], b"")).await;
    assert_eq!(
        put.expect("PUT answers while a PATCH is running").status,
        416
    );
    // The trickle fails within a few body timeouts.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), reader.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the trickling PATCH was not cut off");
    assert_eq!(super::test_client::parse(&answer).status, 408);
    trickle.abort();
    // The upload is where it was before the failed PATCH, and can be finished.
    finishes_hello_world(addr, &location).await;
    reg.shutdown().await;
}

/// Opens a request with `head` and trickles one byte of body every 50 ms (at most 100);
/// returns the answer, which must come within `within`.
async fn trickled_answer(addr: std::net::SocketAddr, head: String, within: Duration) -> Resp {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        for _ in 0..100 {
            writer.write_all(b" ").await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok::<_, std::io::Error>(writer)
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, reader.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read.is_ok(), "the trickling request was not cut off");
    super::test_client::parse(&answer)
}

#[tokio::test]
async fn a_trickling_manifest_put_times_out_with_408() {
    let (_dir, reg) = start_with(Duration::ZERO, limits(256, 60_000, 300)).await;
    let head = format!(
        "PUT /v2/slow/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\n\
         Content-Length: 1000\r\nConnection: close\r\n\r\n",
        manifests::OCI_MANIFEST
    );
    let resp = trickled_answer(reg.addr(), head, Duration::from_secs(3)).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (408, "MANIFEST_INVALID".into())
    );
    let chunked = "PUT /v2/slow/manifests/v1 HTTP/1.1\r\nHost: x\r\n\
                   Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n1000\r\n";
    let resp = trickled_answer(reg.addr(), chunked.into(), Duration::from_secs(3)).await;
    assert_eq!(resp.status, 408);
    assert_eq!(get(&reg, "/v2/slow/manifests/v1").await.status, 404);
    reg.shutdown().await;
}

#[tokio::test]
async fn an_upload_over_the_largest_blob_size_is_413_and_keeps_the_upload() {
    let bounded = RegistryLimits {
        max_blob_size: 1000,
        ..RegistryLimits::default()
    };
    let (dir, reg) = start_with(Duration::ZERO, bounded).await;
    let addr = reg.addr();
    // A monolithic upload announcing too much is refused before its body is read.
    let big = vec![b'a'; 1001];
    let path = format!("/v2/big/blobs/uploads/?digest={}", Digest::of(&big));
    let resp = request(addr, "POST", &path, &[], &big).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (413, "SIZE_INVALID".into())
    );
    // A session at 600 bytes takes no chunk that would bring it past 1000, sized or chunked.
    let location = upload_with(addr, "big", &[b'a'; 600]).await;
    let resp = patch(addr, &location, "600-1000", &[b'a'; 401]).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (413, "SIZE_INVALID".into())
    );
    let chunked = format!(
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n191\r\n{}\r\n0\r\n\r\n",
        "a".repeat(0x191)
    );
    assert_eq!(raw(addr, chunked.as_bytes()).await.status, 413);
    assert_eq!(tmp_bytes(&dir), 600, "refused bytes stayed on disk");
    // Up to the limit is fine.
    let resp = patch(addr, &location, "600-999", &[b'a'; 400]).await;
    assert_eq!((resp.status, resp.header("range")), (202, Some("0-999")));
    reg.shutdown().await;
}

#[tokio::test]
async fn an_upload_that_would_break_the_free_space_reserve_is_507_and_writes_nothing() {
    let reserved = RegistryLimits {
        free_space_reserve: u64::MAX / 2,
        ..RegistryLimits::default()
    };
    let (dir, reg) = start_with(Duration::ZERO, reserved).await;
    let addr = reg.addr();
    let data = vec![b'd'; 64 * 1024];
    let path = format!("/v2/full/blobs/uploads/?digest={}", Digest::of(&data));
    let resp = request(addr, "POST", &path, &[], &data).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (507, "BLOB_UPLOAD_INVALID".into())
    );
    let start = request(addr, "POST", "/v2/full/blobs/uploads/", &[], b"").await;
    assert_eq!(start.status, 202);
    let location = start.header("location").unwrap().to_string();
    assert_eq!(patch(addr, &location, "0-65535", &data).await.status, 507);
    let chunked = format!(
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    assert_eq!(raw(addr, chunked.as_bytes()).await.status, 507);
    assert_eq!(tmp_bytes(&dir), 0, "bytes were written past the reserve");
    // The session is still there, at offset 0; an empty final PUT needs no room.
    let resp = request(addr, "GET", &location, &[], b"").await;
    assert_eq!((resp.status, resp.header("range")), (204, Some("0-0")));
    let path = format!("{location}?digest={}", Digest::of(b""));
    assert_eq!(request(addr, "PUT", &path, &[], b"").await.status, 201);
    reg.shutdown().await;
}

/// Sends `GET /v2/` on an open keep-alive connection; true when the whole answer comes within
/// `within`.
async fn answers_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let ask = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n";
    if stream.write_all(ask).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read_all = async {
        // The head and the two-byte body `{}`.
        while !answer.ends_with(b"\r\n\r\n{}") {
            match stream.read(&mut buf).await {
                Ok(n) if n > 0 => answer.extend_from_slice(&buf[..n]),
                _ => return false,
            }
        }
        answer.starts_with(b"HTTP/1.1 200")
    };
    tokio::time::timeout(within, read_all)
        .await
        .unwrap_or(false)
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let capped = RegistryLimits {
        max_connections: 2,
        ..RegistryLimits::default()
    };
    let (_dir, reg) = start_with(Duration::ZERO, capped).await;
    let connect = || tokio::net::TcpStream::connect(reg.addr());
    let (quick, wait) = (Duration::from_secs(2), Duration::from_millis(300));
    let mut served = [connect().await.unwrap(), connect().await.unwrap()];
    for stream in &mut served {
        assert!(answers_within(stream, quick).await);
    }
    // Two more connect (the kernel completes the handshake) but are not served.
    let mut third = connect().await.unwrap();
    let mut fourth = connect().await.unwrap();
    assert!(
        !answers_within(&mut third, wait).await,
        "third served over the cap"
    );
    // Closing a served connection lets the next one in, and only that one.
    let [first, mut second] = served;
    drop(first);
    assert!(
        answers_within(&mut third, quick).await,
        "third never served"
    );
    assert!(
        !answers_within(&mut fourth, wait).await,
        "fourth served over the cap"
    );
    assert!(
        answers_within(&mut second, quick).await,
        "a served connection stalled"
    );
    drop(second);
    assert!(
        answers_within(&mut fourth, quick).await,
        "fourth never served"
    );
    reg.shutdown().await;
}

#[tokio::test]
async fn a_put_whose_content_range_does_not_follow_keeps_the_upload() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let addr = reg.addr();
    let location = upload_with(addr, "put", b"hello").await;
    let digest = Digest::of(b"hello world");
    let path = format!("{location}?digest={digest}");
    let resp = request(addr, "PUT", &path, &[("Content-Range", "3-8")], b" world").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (416, "RANGE_INVALID".into())
    );
    finishes_hello_world(addr, &location).await;
    reg.shutdown().await;
}

#[tokio::test]
async fn a_patch_whose_body_length_differs_from_its_range_is_refused() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let addr = reg.addr();
    let location = upload_with(addr, "len", b"hello").await;
    // Content-Length says 3, the range 5.
    let resp = patch(addr, &location, "5-9", b"abc").await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (416, "RANGE_INVALID".into())
    );
    // A chunked body of 2 bytes for the same range.
    let chunked = format!(
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Range: 5-9\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    );
    let resp = raw(addr, chunked.as_bytes()).await;
    assert_eq!(
        (resp.status, resp.error_code()),
        (416, "RANGE_INVALID".into())
    );
    let resp = request(addr, "GET", &location, &[], b"").await;
    assert_eq!((resp.status, resp.header("range")), (204, Some("0-4")));
    let resp = patch(addr, &location, "5-9", b"world").await;
    assert_eq!((resp.status, resp.header("range")), (202, Some("0-9")));
    reg.shutdown().await;
}

// Hostile-input review (issue 9): manifests, sizes and ranges.

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A registry holding the config and layer blobs of [`manifest_for`]; returns the manifest.
async fn with_blobs() -> (tempfile::TempDir, Registry, Vec<u8>) {
    let (dir, reg) = start(Duration::ZERO).await;
    let config = reg.store().put_blob(b"{}").unwrap();
    let layer = reg.store().put_blob(b"layer").unwrap();
    (dir, reg, manifest_for(&config, &layer, 5))
}

async fn put_manifest(reg: &Registry, path: &str, content_type: Option<&str>, body: &[u8]) -> Resp {
    let headers: Vec<(&str, &str)> = content_type
        .map(|t| ("Content-Type", t))
        .into_iter()
        .collect();
    request(reg.addr(), "PUT", path, &headers, body).await
}

#[tokio::test]
async fn a_push_to_another_repository_never_changes_what_one_serves() {
    let (_dir, reg, manifest) = with_blobs().await;
    let resp = put_manifest(&reg, "/v2/one/manifests/v1", Some(OCI_MANIFEST), &manifest).await;
    assert_eq!(resp.status, 201);
    for content_type in ["text/plain", DOCKER_MANIFEST, OCI_INDEX, "application/json"] {
        let resp = put_manifest(&reg, "/v2/two/manifests/v1", Some(content_type), &manifest).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, "MANIFEST_INVALID".into()),
            "{content_type}"
        );
    }
    let digest = Digest::of(&manifest);
    for reference in ["v1".to_string(), digest.to_string()] {
        let resp = get(&reg, &format!("/v2/one/manifests/{reference}")).await;
        assert_eq!(resp.header("content-type"), Some(OCI_MANIFEST));
    }
    assert_eq!(get(&reg, "/v2/two/manifests/v1").await.status, 404);
}

#[tokio::test]
async fn the_content_type_must_agree_with_the_manifest() {
    let (_dir, reg, manifest) = with_blobs().await;
    // Parameters and case do not matter; the served type is the canonical one.
    let resp = put_manifest(
        &reg,
        "/v2/r/manifests/a",
        Some("Application/VND.oci.image.manifest.v1+json; charset=utf-8"),
        &manifest,
    )
    .await;
    assert_eq!(resp.status, 201);
    let resp = get(&reg, "/v2/r/manifests/a").await;
    assert_eq!(resp.header("content-type"), Some(OCI_MANIFEST));
    // Without a Content-Type, the manifest's own mediaType is used.
    let resp = put_manifest(&reg, "/v2/r/manifests/b", None, &manifest).await;
    assert_eq!(resp.status, 201);
    let resp = get(&reg, "/v2/r/manifests/b").await;
    assert_eq!(resp.header("content-type"), Some(OCI_MANIFEST));
    // A Docker manifest must say so in its body.
    let mut json: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    json.as_object_mut().unwrap().remove("mediaType");
    let bare = serde_json::to_vec(&json).unwrap();
    let resp = put_manifest(&reg, "/v2/r/manifests/c", Some(DOCKER_MANIFEST), &bare).await;
    assert_eq!(resp.error_code(), "MANIFEST_INVALID");
    let resp = put_manifest(&reg, "/v2/r/manifests/c", Some(OCI_MANIFEST), &bare).await;
    assert_eq!(resp.status, 201);
    json["mediaType"] = DOCKER_MANIFEST.into();
    let docker = serde_json::to_vec(&json).unwrap();
    let resp = put_manifest(&reg, "/v2/r/manifests/d", Some(DOCKER_MANIFEST), &docker).await;
    assert_eq!(resp.status, 201);
    let resp = get(&reg, "/v2/r/manifests/d").await;
    assert_eq!(resp.header("content-type"), Some(DOCKER_MANIFEST));
}

#[test]
fn the_store_keeps_a_media_type_per_repository() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bytes = b"{\"schemaVersion\": 2}";
    store.put_manifest("one", "v1", "type/one", bytes).unwrap();
    store.put_manifest("two", "v1", "type/two", bytes).unwrap();
    let tag: Reference = "v1".parse().unwrap();
    let one = store.manifest("one", &tag).unwrap().unwrap();
    let two = store.manifest("two", &tag).unwrap().unwrap();
    assert_eq!(
        (one.media_type.as_str(), two.media_type.as_str()),
        ("type/one", "type/two")
    );
    assert!(store.delete_manifest("one", &one.digest).unwrap());
    let two = store
        .manifest("two", &Reference::Digest(one.digest))
        .unwrap()
        .unwrap();
    assert_eq!(two.media_type, "type/two");
}

#[tokio::test]
async fn a_manifest_must_be_an_image_manifest_or_an_index() {
    let (_dir, reg, manifest) = with_blobs().await;
    let image: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let without = |key: &str| {
        let mut json = image.clone();
        json.as_object_mut().unwrap().remove(key);
        json
    };
    let with = |key: &str, value: serde_json::Value| {
        let mut json = image.clone();
        json[key] = value;
        json
    };
    let cases = [
        ("empty", serde_json::json!({}), OCI_MANIFEST),
        ("array", serde_json::json!([]), OCI_MANIFEST),
        ("empty index", serde_json::json!({}), OCI_INDEX),
        ("no schemaVersion", without("schemaVersion"), OCI_MANIFEST),
        ("schema 1", with("schemaVersion", 1.into()), OCI_MANIFEST),
        ("no config", without("config"), OCI_MANIFEST),
        ("no layers", without("layers"), OCI_MANIFEST),
        ("config a string", with("config", "x".into()), OCI_MANIFEST),
        (
            "layer without digest",
            with("layers", serde_json::json!([{}])),
            OCI_MANIFEST,
        ),
        ("image as index", image.clone(), OCI_INDEX),
        (
            "index without manifests",
            serde_json::json!({"schemaVersion": 2}),
            OCI_INDEX,
        ),
    ];
    for (what, json, content_type) in cases {
        let body = serde_json::to_vec(&json).unwrap();
        let resp = put_manifest(&reg, "/v2/r/manifests/bad", Some(content_type), &body).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, "MANIFEST_INVALID".into()),
            "{what}"
        );
    }
    assert_eq!(get(&reg, "/v2/r/manifests/bad").await.status, 404);
}

#[tokio::test]
async fn an_index_lists_only_manifests_of_its_repository() {
    let (_dir, reg, manifest) = with_blobs().await;
    let resp = put_manifest(
        &reg,
        "/v2/other/manifests/v1",
        Some(OCI_MANIFEST),
        &manifest,
    )
    .await;
    assert_eq!(resp.status, 201);
    let index_of = |digest: &Digest, size: usize| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": size}],
        }))
        .unwrap()
    };
    let layer = Digest::of(b"layer");
    let child = Digest::of(&manifest);
    for (what, index) in [
        ("a layer blob", index_of(&layer, 5)),
        (
            "a manifest of another repository",
            index_of(&child, manifest.len()),
        ),
    ] {
        let resp = put_manifest(&reg, "/v2/r/manifests/idx", Some(OCI_INDEX), &index).await;
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, "MANIFEST_BLOB_UNKNOWN".into()),
            "{what}"
        );
    }
    let resp = put_manifest(&reg, "/v2/r/manifests/v1", Some(OCI_MANIFEST), &manifest).await;
    assert_eq!(resp.status, 201);
    let index = index_of(&child, manifest.len());
    let resp = put_manifest(&reg, "/v2/r/manifests/idx", Some(OCI_INDEX), &index).await;
    assert_eq!(resp.status, 201);
    let resp = get(&reg, "/v2/r/manifests/idx").await;
    assert_eq!(resp.header("content-type"), Some(OCI_INDEX));
    assert_eq!(resp.body, index);
}

/// Sends a manifest PUT, chunked or with a `Content-Length`, reading the answer while writing
/// (the registry may answer before it has read everything).
async fn put_streaming(
    addr: std::net::SocketAddr,
    path: &str,
    body: Vec<u8>,
    chunked: bool,
) -> Resp {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {}", body.len())
    };
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: {OCI_MANIFEST}\r\n{framing}\r\n\r\n"
    );
    let send = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            if chunked {
                writer
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
            }
            writer.write_all(chunk).await?;
            if chunked {
                writer.write_all(b"\r\n").await?;
            }
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        // Kept open: the registry closes a connection whose client half-closes.
        Ok::<_, std::io::Error>(writer)
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    for _ in 0..10_000 {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => raw.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    send.abort();
    super::test_client::parse(&raw)
}

#[tokio::test]
async fn an_oversized_manifest_is_413_with_or_without_a_length() {
    let (_dir, reg, _manifest) = with_blobs().await;
    let big = vec![b' '; manifests::MAX_MANIFEST + 1];
    let sized = put_streaming(reg.addr(), "/v2/r/manifests/big", big.clone(), false).await;
    let chunked = put_streaming(reg.addr(), "/v2/r/manifests/big", big, true).await;
    for resp in [&sized, &chunked] {
        assert_eq!(
            (resp.status, resp.error_code()),
            (413, "SIZE_INVALID".into())
        );
    }
    assert_eq!(sized.body, chunked.body);
    // At the limit, a chunked manifest is read (and judged on its content).
    let mut at_limit = manifest_for(&Digest::of(b"{}"), &Digest::of(b"layer"), 5);
    at_limit.resize(manifests::MAX_MANIFEST, b' ');
    let resp = put_streaming(reg.addr(), "/v2/r/manifests/big", at_limit, true).await;
    assert_eq!(resp.status, 201);
}

#[tokio::test]
async fn if_range_with_another_validator_serves_the_whole_blob() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let data: Vec<u8> = (0..100u8).collect();
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/r/blobs/{digest}");
    let etag = format!("\"{digest}\"");
    let range = ("Range", "bytes=5-9");
    for validator in [etag.as_str(), digest.as_str()] {
        let resp = request(
            reg.addr(),
            "GET",
            &path,
            &[range, ("If-Range", validator)],
            b"",
        )
        .await;
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (206, &data[5..10]),
            "{validator}"
        );
    }
    let other = format!("\"{}\"", Digest::of(b"other"));
    let weak = format!("W/{etag}");
    for validator in [
        other.as_str(),
        weak.as_str(),
        "Sat, 01 Jan 2000 00:00:00 GMT",
    ] {
        let resp = request(
            reg.addr(),
            "GET",
            &path,
            &[range, ("If-Range", validator)],
            b"",
        )
        .await;
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, data.as_slice()),
            "{validator}"
        );
        assert_eq!(resp.header("content-range"), None);
    }
}

#[tokio::test]
async fn malformed_ranges_are_ignored_and_overflowing_ends_clamped() {
    let (_dir, reg) = start(Duration::ZERO).await;
    let data: Vec<u8> = (0..100u8).collect();
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/r/blobs/{digest}");
    for range in [
        "bytes=+1-2",
        "bytes=1-+2",
        "bytes=0x1-2",
        "bytes= 1-2",
        "bytes=0-1,5-6",
    ] {
        let resp = request(reg.addr(), "GET", &path, &[("Range", range)], b"").await;
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, data.as_slice()),
            "{range}"
        );
    }
    let resp = request(
        reg.addr(),
        "GET",
        &path,
        &[("Range", "bytes=90-99999999999999999999999")],
        b"",
    )
    .await;
    assert_eq!((resp.status, resp.body.as_slice()), (206, &data[90..]));
    assert_eq!(resp.header("content-range"), Some("bytes 90-99/100"));
    let resp = request(
        reg.addr(),
        "GET",
        &path,
        &[("Range", "bytes=99999999999999999999999-")],
        b"",
    )
    .await;
    assert_eq!(resp.status, 416);
    // HEAD has no range handling: the whole length.
    let resp = request(reg.addr(), "HEAD", &path, &[("Range", "bytes=5-9")], b"").await;
    assert_eq!(
        (resp.status, resp.header("content-length")),
        (200, Some("100"))
    );
}

#[tokio::test]
async fn a_node_port_logs_when_each_blob_last_byte_left() {
    let (_dir, mut reg) = start(Duration::ZERO).await;
    let (node, addr) = reg.add_node(Some("2MB/s".parse().unwrap())).await.unwrap();
    let data = vec![7u8; 200_000];
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/any/repo/blobs/{digest}");
    let t0 = tokio::time::Instant::now();
    for (method, range) in [
        ("HEAD", None),
        ("GET", Some("bytes=0-99")),
        ("GET", Some("bytes=100-")),
    ] {
        let headers: Vec<_> = range.map(|r| ("Range", r)).into_iter().collect();
        request(addr, method, &path, &headers, b"").await;
    }
    let ranged = reg.blobs_sent_to_node(node, t0);
    assert_eq!(
        ranged.len(),
        1,
        "only the range that reaches the end counts: {ranged:?}"
    );
    let t1 = tokio::time::Instant::now();
    let resp = request(addr, "GET", &path, &[], b"").await;
    assert_eq!(resp.body.len(), data.len());
    let sent = reg.blobs_sent_to_node(node, t1);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].digest, digest.as_str());
    // 200 kB at 2 MB/s: the last byte cannot leave before 100 ms (less the link's burst).
    assert!(
        sent[0].at - t1 >= Duration::from_millis(80),
        "{:?}",
        sent[0].at - t1
    );
    assert!(reg.blobs_sent_to_node(node + 1, t0).is_empty());
}

#[tokio::test]
async fn the_main_listener_logs_who_fetched_each_blob_and_how_many_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_dir, reg) = start(Duration::ZERO).await;
    let data = vec![3u8; 50_000];
    let digest = reg.store().put_blob(&data).unwrap();
    let t0 = tokio::time::Instant::now();
    // A client whose source address is 127.0.0.7, as a cluster node's would be its own.
    let peer: std::net::IpAddr = "127.0.0.7".parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(peer, 0)).unwrap();
    let mut tcp = socket.connect(reg.addr()).await.unwrap();
    let get =
        format!("GET /v2/any/repo/blobs/{digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tcp.write_all(get.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    assert!(answer.len() > data.len(), "the whole blob came back");
    let sent = reg.blobs_sent(t0);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].peer, Some(peer));
    assert_eq!(sent[0].bytes, data.len() as u64);
    assert_eq!(reg.served_by_listener().blobs, data.len() as u64);
}
