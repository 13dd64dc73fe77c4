//! The registry's documented limits: the defaults `coldbench registry serve` uses hold (a real
//! socket on 127.0.0.1), and the README states the values in code.

use std::net::SocketAddr;
use std::time::Duration;

use coldbench::registry::{
    Registry, RegistryConfig, RegistryLimits, FREE_SPACE_RESERVE, MAX_BLOB_SIZE, MAX_CONNECTIONS,
    MAX_UPLOAD_SESSIONS, UPLOAD_BODY_MIN_BYTES, UPLOAD_BODY_TIMEOUT, UPLOAD_IDLE_EXPIRY,
    UPLOAD_RETRY_AFTER,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a `POST` starting an upload; returns the response status and head (lowercase).
async fn start_upload(addr: SocketAddr) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /v2/limits/blobs/uploads/ HTTP/1.1\r\nHost: x\r\n\
                Content-Length: 0\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let head = text.split("\r\n\r\n").next().unwrap().to_string();
    (status, head)
}

#[tokio::test]
async fn the_default_session_cap_answers_429_with_retry_after_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
    assert_eq!(config.limits, RegistryLimits::default());
    let registry = Registry::start(config).await.unwrap();
    let addr = registry.addr();
    let all = async {
        for _ in 0..MAX_UPLOAD_SESSIONS {
            assert_eq!(start_upload(addr).await.0, 202);
        }
        let (status, head) = start_upload(addr).await;
        assert_eq!(status, 429);
        let retry = format!("\r\nretry-after: {}", UPLOAD_RETRY_AFTER.as_secs());
        assert!(head.contains(&retry), "{head}");
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
        .split("### Limits and safety: the registry")
        .nth(1)
        .expect("README has the limits section");
    let section = section.split("\n## ").next().unwrap();
    for stated in [
        format!("At most {MAX_UPLOAD_SESSIONS} upload sessions"),
        format!("Idle expiry: {} s", UPLOAD_IDLE_EXPIRY.as_secs()),
        format!("Body read timeout: {} s", UPLOAD_BODY_TIMEOUT.as_secs()),
        format!("{UPLOAD_BODY_MIN_BYTES} bytes"),
        format!("At most {MAX_CONNECTIONS} connections"),
        format!("`Retry-After: {}`", UPLOAD_RETRY_AFTER.as_secs()),
        "Manifest `PUT` bodies are held to the same rule".to_string(),
        format!("Largest upload: {MAX_BLOB_SIZE} bytes"),
        format!("Free-space reserve: {FREE_SPACE_RESERVE} bytes"),
    ] {
        assert!(section.contains(&stated), "README should say {stated:?}");
    }
}
