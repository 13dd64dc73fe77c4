//! A short load test of the registry (issue 9): 64 concurrent GETs through a throttled egress,
//! then 1,000 abandoned uploads, while this process's descriptors and resident memory are
//! sampled. Alone in its test binary, so no other test's sockets or buffers are counted.
//! All traffic is on 127.0.0.1; every wait has a timeout.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coldbench::registry::{Digest, Registry, RegistryConfig, RegistryLimits, MAX_UPLOAD_SESSIONS};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Concurrent GETs.
const CLIENTS: usize = 64;
/// Size of the blob each GET fetches.
const BLOB_SIZE: usize = 3_000_000;
/// Egress bandwidth of the registry, in bytes per second ("200MB/s").
const RATE: f64 = 200e6;
/// Abandoned uploads.
const UPLOADS: usize = 1000;
/// Uploads sent at once.
const UPLOAD_LANES: usize = 16;
/// Bytes PATCHed into each accepted upload.
const PATCH_BYTES: usize = 8 * 1024;
/// Descriptors allowed above the baseline while the GETs run: per GET, the client's socket, the
/// server's socket and the blob file being read, plus slack for runtime threads and the like.
const GET_FDS: usize = 3 * CLIENTS + 32;
/// Descriptors allowed above the baseline while the uploads run: per lane, two sockets and a
/// partial blob, plus the same slack. Far below one per session.
const UPLOAD_FDS: usize = 3 * UPLOAD_LANES + 32;
/// Resident memory allowed above the baseline, over the whole test.
const RSS_GROWTH: u64 = 64 * 1024 * 1024;
/// Longest time for each phase.
const PHASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Resident memory of this process, in bytes (`VmRSS`).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The largest descriptor count and RSS seen by a sampling thread, every 5 ms until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, u64)>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut fds, mut rss) = (open_fds(), rss_bytes());
            // At most 10 minutes of samples.
            for _ in 0..120_000 {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                fds = fds.max(open_fds());
                rss = rss.max(rss_bytes());
                std::thread::sleep(Duration::from_millis(5));
            }
            (fds, rss)
        });
        Sampler { stop, thread }
    }

    /// Stops sampling; returns the peaks (descriptors, RSS bytes).
    fn peaks(self) -> (usize, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("sampler thread")
    }
}

/// A registry limited to [`RATE`] with the default limits, and a random blob in its store.
async fn registry_with_blob(dir: &std::path::Path) -> (Registry, Digest) {
    let registry = Registry::start(RegistryConfig {
        bandwidth: Some("200MB/s".parse().unwrap()),
        limits: RegistryLimits::default(),
        ..RegistryConfig::new(dir.join("store"), "127.0.0.1:0".parse().unwrap())
    })
    .await
    .unwrap();
    let data: Vec<u8> = (0..BLOB_SIZE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let digest = registry.store().put_blob(&data).unwrap();
    (registry, digest)
}

/// Reads a response head from `stream`; returns the status and the body bytes read past it.
async fn read_head(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while raw.len() < 64 * 1024 {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_string();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
            return (status.unwrap_or(0), head, raw[end + 4..].to_vec());
        }
        match stream.read(&mut buf).await {
            Ok(n) if n > 0 => raw.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    panic!("no response head: {:?}", String::from_utf8_lossy(&raw));
}

/// GETs the blob and hashes it as it arrives (no body is kept); returns the bytes received.
async fn fetch(addr: SocketAddr, digest: &Digest) -> u64 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let ask =
        format!("GET /v2/load/blobs/{digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(ask.as_bytes()).await.unwrap();
    let (status, _, first) = read_head(&mut stream).await;
    assert_eq!(status, 200);
    let mut hasher = Sha256::new();
    hasher.update(&first);
    let mut received = first.len() as u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        received += n as u64;
    }
    assert_eq!(received, BLOB_SIZE as u64);
    assert_eq!(
        format!("sha256:{}", hex::encode(hasher.finalize())),
        digest.as_str()
    );
    received
}

/// Sends one request (`Connection: close`) with `body`; returns the status and head.
async fn send(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let (status, head, _) = read_head(&mut stream).await;
    (status, head)
}

/// Starts an upload and, when accepted, PATCHes [`PATCH_BYTES`] into it and leaves it; returns
/// true when accepted. A refusal must be 429 with a `Retry-After`.
async fn abandon_upload(addr: SocketAddr) -> bool {
    let (status, head) = send(addr, "POST", "/v2/load/blobs/uploads/", b"").await;
    let head = head.to_ascii_lowercase();
    if status == 429 {
        assert!(head.contains("\r\nretry-after: "), "{head}");
        return false;
    }
    assert_eq!(status, 202, "{head}");
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("location")
        .trim()
        .to_string();
    let (status, head) = send(addr, "PATCH", &location, &[b'u'; PATCH_BYTES]).await;
    assert_eq!(status, 202, "{head}");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_and_abandoned_uploads_keep_descriptors_and_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (registry, digest) = registry_with_blob(dir.path()).await;
    let addr = registry.addr();
    let (fds0, rss0) = (open_fds(), rss_bytes());

    // 64 concurrent GETs through the throttle.
    let sampler = Sampler::start();
    let t0 = Instant::now();
    let gets: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let digest = digest.clone();
            tokio::spawn(async move { fetch(addr, &digest).await })
        })
        .collect();
    let all = futures_util::future::join_all(gets);
    let results = tokio::time::timeout(PHASE_TIMEOUT, all)
        .await
        .expect("GETs in time");
    let elapsed = t0.elapsed().as_secs_f64();
    let total: u64 = results.into_iter().map(|r| r.expect("GET task")).sum();
    let (get_fds, get_rss) = sampler.peaks();

    // 1,000 abandoned uploads, 16 at a time: the session cap refuses all beyond it.
    let sampler = Sampler::start();
    let lanes: Vec<_> = (0..UPLOAD_LANES)
        .map(|lane| {
            tokio::spawn(async move {
                let mut accepted = 0;
                for _ in (lane..UPLOADS).step_by(UPLOAD_LANES) {
                    accepted += usize::from(abandon_upload(addr).await);
                }
                accepted
            })
        })
        .collect();
    let all = futures_util::future::join_all(lanes);
    let lanes = tokio::time::timeout(PHASE_TIMEOUT, all)
        .await
        .expect("uploads in time");
    let accepted: usize = lanes.into_iter().map(|r| r.expect("upload lane")).sum();
    let (upload_fds, upload_rss) = sampler.peaks();

    eprintln!(
        "load: {total} bytes in {elapsed:.3} s = {:.1} MB/s (limit {:.0} MB/s); \
         fds {fds0} -> {get_fds} (GETs), {upload_fds} (uploads); \
         RSS {} -> {} (GETs), {} (uploads) MiB; {accepted} of {UPLOADS} uploads accepted",
        total as f64 / elapsed / 1e6,
        RATE / 1e6,
        rss0 >> 20,
        get_rss >> 20,
        upload_rss >> 20,
    );
    assert_eq!(total, (CLIENTS * BLOB_SIZE) as u64);
    // Physics: the shared link never lets more through than rate × time plus one quantum (about
    // 1 ms of the rate, 200 kB); 1% and 1 MB of slack for timer and clock granularity.
    let allowed = RATE * elapsed * 1.01 + 1e6;
    assert!(total as f64 <= allowed, "{total} bytes in {elapsed} s");
    assert_eq!(accepted, MAX_UPLOAD_SESSIONS, "sessions accepted");
    // Abandoned sessions are partial blobs on disk, not open files: one each, of its PATCH.
    let tmp = std::fs::read_dir(dir.path().join("store/tmp")).unwrap();
    let sizes: Vec<u64> = tmp.map(|e| e.unwrap().metadata().unwrap().len()).collect();
    assert_eq!(sizes.len(), MAX_UPLOAD_SESSIONS);
    assert!(sizes.iter().all(|&n| n == PATCH_BYTES as u64), "{sizes:?}");
    assert!(get_fds <= fds0 + GET_FDS, "{get_fds} fds while GETs ran");
    assert!(
        upload_fds <= fds0 + UPLOAD_FDS,
        "{upload_fds} fds while uploading"
    );
    let rss_peak = get_rss.max(upload_rss);
    assert!(rss_peak <= rss0 + RSS_GROWTH, "RSS {rss0} -> {rss_peak}");
    registry.shutdown().await;
}
