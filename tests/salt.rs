//! A salted synthetic image through the real Docker engine: pulled from the embedded registry
//! with exactly the salted bytes, its layers are the salted diff IDs, it holds the salt file, and
//! it still runs and answers. Needs a Docker engine (see `tests/common`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use coldbench::image::salt::{salt_image, SALT_PATH};
use coldbench::image::synth;
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::scenario::SynthSpec;
use coldbench::units::ByteSize;
use common::run;

/// Removes the container and image the test made, even when it fails half way.
struct Cleanup {
    container: String,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.container])
            .output();
        let _ = Command::new("docker").args(["rmi", &self.image]).output();
    }
}

fn docker(args: &[&str]) -> String {
    run(Command::new("docker").args(args))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `GET /` on `port` until it answers 200, for at most `limit`.
fn answers_200(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            let mut reply = String::new();
            let sent = stream.write_all(request).is_ok();
            if sent
                && stream.read_to_string(&mut reply).is_ok()
                && reply.starts_with("HTTP/1.1 200")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_salted_synthetic_image_pulls_with_new_layers_and_still_runs() {
    let Some(_guard) = common::docker() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry = runtime
        .block_on(Registry::start(RegistryConfig::new(
            dir.path().join("store"),
            "127.0.0.1:0".parse().unwrap(),
        )))
        .unwrap();
    let store = registry.store();
    let unique = format!("salt-it-{}", std::process::id());
    let spec = SynthSpec {
        size: ByteSize(2_000_000),
        layers: toml::Spanned::new(0..0, 3),
        compressibility: toml::Spanned::new(0..0, 0.5),
        seed: None,
    };
    let original = synth::build(store, &unique, &spec).unwrap();
    let salt = format!("{unique}/sample-1");
    let repository = format!("coldbench/{unique}-salted");
    let salted = salt_image(store, &original, &salt, &repository, "s1").unwrap();

    let reference = format!("127.0.0.1:{}/{repository}:s1", registry.addr().port());
    let container = format!("{unique}-run");
    let _cleanup = Cleanup {
        container: container.clone(),
        image: reference.clone(),
    };
    let before = registry.served();
    docker(&["pull", &reference]);
    let served = registry.served().blobs - before.blobs;
    assert_eq!(
        served, salted.compressed_size,
        "the pull moved exactly the salted config and layers"
    );

    let layers = docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RootFS.Layers}}{{println .}}{{end}}",
        &reference,
    ]);
    let expected: Vec<&str> = salted.layers.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(layers.split_whitespace().collect::<Vec<_>>(), expected);

    let port = free_port();
    docker(&[
        "run",
        "-d",
        "--name",
        &container,
        "--network",
        "host",
        "-e",
        &format!("PORT={port}"),
        &reference,
    ]);
    assert!(
        answers_200(port, Duration::from_secs(20)),
        "the salted image's server did not answer on port {port}; logs:\n{}",
        docker(&["logs", &container])
    );
    let copied = Command::new("docker")
        .args(["cp", &format!("{container}:/{SALT_PATH}"), "-"])
        .output()
        .unwrap();
    assert!(copied.status.success(), "docker cp: {copied:?}");
    let text = String::from_utf8_lossy(&copied.stdout);
    assert!(
        text.contains(&format!("{salt}\n")),
        "the salt file holds the salt"
    );

    runtime.block_on(registry.shutdown());
}
