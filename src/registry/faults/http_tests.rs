//! The faults over HTTP, against a real registry on 127.0.0.1.

use super::super::test_client::request;
use super::super::{Registry, RegistryConfig};
use super::*;
use tokio::time::Instant;

async fn start(set: FaultSet) -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::new(dir.path().join("store"), "127.0.0.1:0".parse().unwrap());
    let faults = FaultConfig {
        seed: 1,
        global: set,
        nodes: BTreeMap::new(),
    };
    let reg = Registry::start_with_faults(config, faults).await.unwrap();
    (dir, reg)
}

#[tokio::test]
async fn a_full_window_answers_docker_hubs_429() {
    let (_dir, reg) = start(FaultSet {
        rate_limit: Some(RateLimit {
            manifest_gets: 1,
            window: Duration::from_secs(60),
            retry_after: Duration::from_millis(4500),
        }),
        ..FaultSet::default()
    })
    .await;
    let t0 = Instant::now();
    let path = "/v2/coldbench/x/manifests/latest";
    let first = request(reg.addr(), "GET", path, &[], b"").await;
    assert_eq!(first.status, 404, "served (and counted), though unknown");
    let head = request(reg.addr(), "HEAD", path, &[], b"").await;
    assert_eq!(head.status, 429);
    let second = request(reg.addr(), "GET", path, &[], b"").await;
    assert_eq!(second.status, 429);
    assert_eq!(second.header("retry-after"), Some("5"));
    assert_eq!(second.error_code(), "TOOMANYREQUESTS");
    let counts = reg.requests_of_listener(t0);
    assert_eq!(counts.requests, 3);
    assert_eq!(counts.retries, 1);
    assert_eq!(counts.faults[&FaultKind::RateLimit], 2);
    reg.shutdown().await;
}

#[tokio::test]
async fn blobs_get_errors_and_resets() {
    let (_dir, reg) = start(FaultSet {
        reset: Some(Partial {
            rate: 1.0,
            after: 0.25,
        }),
        ..FaultSet::default()
    })
    .await;
    let data = vec![7u8; 200_000];
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/coldbench/x/blobs/{digest}");
    let resp = request(reg.addr(), "GET", &path, &[], b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("200000"));
    assert_eq!(resp.body.len(), 50_000, "cut at a quarter");
    // A HEAD has no body to cut.
    let head = request(reg.addr(), "HEAD", &path, &[], b"").await;
    assert_eq!(head.status, 200);
    reg.shutdown().await;

    let (_dir, reg) = start(FaultSet {
        error_rate: 1.0,
        error_on: ErrorTargets {
            manifest: false,
            blob: true,
        },
        ..FaultSet::default()
    })
    .await;
    let digest = reg.store().put_blob(&data).unwrap();
    let path = format!("/v2/coldbench/x/blobs/{digest}");
    let resp = request(reg.addr(), "GET", &path, &[], b"").await;
    assert!([500, 502, 503].contains(&resp.status), "{}", resp.status);
    let manifest = request(reg.addr(), "GET", "/v2/coldbench/x/manifests/a", &[], b"").await;
    assert_eq!(manifest.status, 404, "manifests are spared");
    reg.shutdown().await;
}
