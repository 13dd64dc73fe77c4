//! The registry's documented upload limits: the defaults `coldbench registry serve` uses hold
//! (a real socket on 127.0.0.1), and the README states the values in code.

use std::net::SocketAddr;
use std::time::Duration;

use coldbench::registry::{
    Registry, RegistryConfig, UploadLimits, MAX_UPLOAD_SESSIONS, UPLOAD_BODY_MIN_BYTES,
    UPLOAD_BODY_TIMEOUT, UPLOAD_IDLE_EXPIRY,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a `POST` starting an upload; returns the response status.
async fn start_upload(addr: SocketAddr) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /v2/limits/blobs/uploads/ HTTP/1.1\r\nHost: x\r\n\
                Content-Length: 0\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_default_session_cap_answers_429_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
    assert_eq!(config.uploads, UploadLimits::default());
    let registry = Registry::start(config).await.unwrap();
    let addr = registry.addr();
    let all = async {
        for _ in 0..MAX_UPLOAD_SESSIONS {
            assert_eq!(start_upload(addr).await, 202);
        }
        assert_eq!(start_upload(addr).await, 429);
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("within 60 s");
    registry.shutdown().await;
}

#[test]
fn the_readme_states_the_limits_in_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Limits and safety: registry uploads")
        .nth(1)
        .expect("README has the limits section");
    let section = section.split("\n## ").next().unwrap();
    for stated in [
        format!("At most {MAX_UPLOAD_SESSIONS} upload sessions"),
        format!("Idle expiry: {} s", UPLOAD_IDLE_EXPIRY.as_secs()),
        format!("Body read timeout: {} s", UPLOAD_BODY_TIMEOUT.as_secs()),
        format!("{UPLOAD_BODY_MIN_BYTES} bytes"),
    ] {
        assert!(section.contains(&stated), "README should say {stated:?}");
    }
}
