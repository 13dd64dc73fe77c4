//! Physics bounds of the registry's throttle: a blob served at a configured bandwidth never
//! arrives faster than that rate allows, for one client or for several sharing the link.
//! These are lower bounds (plus generous upper ones), not speed targets.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coldbench::registry::{Digest, Registry, RegistryConfig};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BLOB_SIZE: usize = 20_000_000;
const BANDWIDTH: &str = "10MB/s";

/// A registry limited to [`BANDWIDTH`] holding one random [`BLOB_SIZE`] blob.
async fn registry_with_blob() -> (tempfile::TempDir, Registry, Digest, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(RegistryConfig {
        store_dir: dir.path().join("store"),
        listen: "127.0.0.1:0".parse().unwrap(),
        bandwidth: Some(BANDWIDTH.parse().unwrap()),
        latency: Duration::ZERO,
        limits: Default::default(),
    })
    .await
    .unwrap();
    let mut data = vec![0u8; BLOB_SIZE];
    rand::rng().fill_bytes(&mut data);
    let mut writer = registry.store().blob_writer().unwrap();
    for chunk in data.chunks(1 << 20) {
        std::io::Write::write_all(&mut writer, chunk).unwrap();
    }
    let (digest, size) = writer.commit().unwrap();
    assert_eq!(size, BLOB_SIZE as u64);
    (dir, registry, digest, data)
}

/// GETs the blob over a raw HTTP/1.1 connection, checking every byte against `expected`;
/// returns when the last byte arrived.
async fn fetch(addr: SocketAddr, digest: &Digest, expected: &[u8]) -> Instant {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /v2/physics/blob/blobs/{digest} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let mut received = 0usize;
    let mut in_body = false;
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        let mut data = &buf[..n];
        if !in_body {
            head.extend_from_slice(data);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let text = String::from_utf8_lossy(&head[..end]).to_string();
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
            let body_start = head[end + 4..].to_vec();
            in_body = true;
            head.clear();
            assert_eq!(&body_start[..], &expected[..body_start.len()]);
            received = body_start.len();
            continue;
        }
        if received + data.len() > expected.len() {
            data = &data[..expected.len() - received];
        }
        assert_eq!(
            data,
            &expected[received..received + data.len()],
            "at byte {received}"
        );
        received += data.len();
    }
    assert_eq!(received, expected.len(), "short body");
    Instant::now()
}

fn rate(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64() / 1e6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_gets_no_more_than_the_bandwidth() {
    let (_dir, registry, digest, data) = registry_with_blob().await;
    let t0 = Instant::now();
    let done = tokio::time::timeout(
        Duration::from_secs(30),
        fetch(registry.addr(), &digest, &data),
    )
    .await
    .expect("fetch did not finish in 30 s");
    let elapsed = done - t0;
    eprintln!(
        "one client: {BLOB_SIZE} B in {elapsed:?} = {:.2} MB/s (configured {BANDWIDTH})",
        rate(BLOB_SIZE, elapsed)
    );
    assert!(
        elapsed >= Duration::from_millis(1900),
        "too fast: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(4),
        "far too slow: {elapsed:?}"
    );
    assert_eq!(registry.served().blobs, BLOB_SIZE as u64);
    registry.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_the_bandwidth() {
    let (_dir, registry, digest, data) = registry_with_blob().await;
    let addr = registry.addr();
    let t0 = Instant::now();
    let both = async { tokio::join!(fetch(addr, &digest, &data), fetch(addr, &digest, &data)) };
    let (a, b) = tokio::time::timeout(Duration::from_secs(60), both)
        .await
        .expect("fetches did not finish in 60 s");
    let (first, last) = (a.min(b) - t0, a.max(b) - t0);
    eprintln!(
        "two clients: first done in {first:?}, last in {last:?}: aggregate {:.2} MB/s (configured {BANDWIDTH})",
        rate(2 * BLOB_SIZE, last)
    );
    assert!(
        first >= Duration::from_millis(3800),
        "aggregate too fast: {first:?}"
    );
    assert!(last < Duration::from_secs(8), "far too slow: {last:?}");
    assert_eq!(registry.served().blobs, 2 * BLOB_SIZE as u64);
    registry.shutdown().await;
}

/// Two emulated nodes on their own ports: each is held to its downlink, and together they
/// never get more than the shared egress; bytes are counted per node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_ports_are_nested_under_the_shared_egress() {
    let (_dir, mut registry, digest, data) = registry_with_blob().await;
    // Node 0: 4 MB/s downlink (slower than the 10 MB/s egress); node 1: unlimited downlink.
    let (n0, a0) = registry
        .add_node(Some("4MB/s".parse().unwrap()))
        .await
        .unwrap();
    let (n1, a1) = registry.add_node(None).await.unwrap();
    assert_eq!((n0, n1), (0, 1));
    assert_eq!(registry.node_addr(1), Some(a1));

    let t0 = Instant::now();
    let alone = tokio::time::timeout(Duration::from_secs(60), fetch(a0, &digest, &data))
        .await
        .expect("node 0 fetch finished");
    let took = alone - t0;
    eprintln!(
        "node 0 alone: {:.2} MB/s (downlink 4MB/s)",
        rate(BLOB_SIZE, took)
    );
    assert!(
        took >= Duration::from_millis(4750),
        "node downlink exceeded: {took:?}"
    );

    let t0 = Instant::now();
    let both = async { tokio::join!(fetch(a0, &digest, &data), fetch(a1, &digest, &data)) };
    let (a, b) = tokio::time::timeout(Duration::from_secs(60), both)
        .await
        .expect("fetches finished");
    let last = a.max(b) - t0;
    eprintln!(
        "two nodes: aggregate {:.2} MB/s (egress {BANDWIDTH})",
        rate(2 * BLOB_SIZE, last)
    );
    assert!(
        last >= Duration::from_millis(3800),
        "aggregate beat the egress: {last:?}"
    );
    assert!(
        a - t0 >= Duration::from_millis(4750),
        "node 0 beat its downlink"
    );
    assert_eq!(registry.served_by_node(0).blobs, 2 * BLOB_SIZE as u64);
    assert_eq!(registry.served_by_node(1).blobs, BLOB_SIZE as u64);
    assert_eq!(registry.served().blobs, 3 * BLOB_SIZE as u64);
    registry.shutdown().await;
}
