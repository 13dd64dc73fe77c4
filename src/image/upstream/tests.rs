use std::time::Duration;

use super::*;
use crate::registry::{Registry, RegistryConfig};

fn d(n: u8) -> Digest {
    Digest::from_sha256([n; 32])
}

fn index_json(entries: &[(&str, &str, Digest)]) -> Vec<u8> {
    let manifests: Vec<_> = entries
        .iter()
        .map(|(os, arch, digest)| {
            serde_json::json!({
                "mediaType": oci::MANIFEST_V1, "digest": digest, "size": 1,
                "platform": { "os": os, "architecture": arch }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests
    }))
    .unwrap()
}

#[test]
fn platform_choice_wants_linux_and_the_architecture() {
    let index = index_json(&[
        ("linux", "s390x", d(1)),
        ("windows", "amd64", d(2)),
        ("linux", "amd64", d(3)),
        ("linux", "arm64", d(4)),
        ("linux", "amd64", d(5)),
    ]);
    assert_eq!(choose_platform("r", &index, "amd64").unwrap(), d(3));
    assert_eq!(choose_platform("r", &index, "arm64").unwrap(), d(4));
    let err = choose_platform("r", &index, "riscv64")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no linux/riscv64"), "{err}");
    assert!(err.contains("windows/amd64"), "{err}");
    assert!(err.starts_with("r:"), "{err}");
}

#[test]
fn index_detection() {
    let index = index_json(&[("linux", "amd64", d(1))]);
    assert!(is_index(OCI_INDEX, b"{}"));
    assert!(is_index(DOCKER_MANIFEST_LIST, b"{}"));
    assert!(is_index("application/json", &index));
    assert!(!is_index(oci::MANIFEST_V1, br#"{"layers":[]}"#));
}

#[test]
fn media_types_from_header_or_body() {
    let body = br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
    assert_eq!(
        media_type_of(Some(DOCKER_MANIFEST), body).as_deref(),
        Some(DOCKER_MANIFEST)
    );
    assert_eq!(
        media_type_of(Some("application/json"), body).as_deref(),
        Some(oci::MANIFEST_V1)
    );
    assert_eq!(media_type_of(None, body).as_deref(), Some(oci::MANIFEST_V1));
    assert_eq!(media_type_of(None, b"{}"), None);
}

#[test]
fn schema1_is_refused() {
    let err = parse_manifest(
        "r",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        b"{}",
    )
    .unwrap_err();
    assert!(err.to_string().contains("schema 1"), "{err}");
}

#[test]
fn layer_infos_skip_empty_history() {
    let manifest = Manifest {
        schema_version: 2,
        media_type: None,
        config: Descriptor {
            media_type: oci::CONFIG_V1.into(),
            digest: d(9),
            size: 10,
        },
        layers: vec![
            Descriptor {
                media_type: oci::LAYER_TAR_GZIP.into(),
                digest: d(1),
                size: 100,
            },
            Descriptor {
                media_type: oci::LAYER_TAR_GZIP.into(),
                digest: d(2),
                size: 200,
            },
        ],
    };
    let config: LayerConfig = serde_json::from_value(serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [d(11), d(12)] },
        "history": [
            { "created_by": "ADD base" },
            { "created_by": "ENV A=1", "empty_layer": true },
            { "created_by": "COPY app" }
        ]
    }))
    .unwrap();
    let layers = layer_infos("r", &manifest, &config).unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0].created_by, "ADD base");
    assert_eq!(layers[1].created_by, "COPY app");
    assert_eq!(layers[1].diff_id, d(12));
    assert_eq!(layers[1].size, 200);
    assert_eq!(layers[1].uncompressed_size, 0);

    let short: LayerConfig =
        serde_json::from_value(serde_json::json!({ "rootfs": { "diff_ids": [d(11)] } })).unwrap();
    assert!(layer_infos("r", &manifest, &short).is_err());
}

/// Puts a two-layer image into `store` as `src/img:v1`; returns its manifest digest and bytes.
fn put_image(store: &Store) -> (Digest, Vec<u8>) {
    let layer1 = vec![1u8; 100_000];
    let layer2 = b"second layer".to_vec();
    let l1 = store.put_blob(&layer1).unwrap();
    let l2 = store.put_blob(&layer2).unwrap();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": oci::host_architecture(), "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [d(21), d(22)] },
        "history": [
            { "created_by": "one" }, { "created_by": "meta", "empty_layer": true }, { "created_by": "two" }
        ]
    }))
    .unwrap();
    let c = store.put_blob(&config).unwrap();
    let manifest = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_V1,
        "config": { "mediaType": oci::CONFIG_V1, "digest": c, "size": config.len() },
        "layers": [
            { "mediaType": oci::LAYER_TAR_GZIP, "digest": l1, "size": layer1.len() },
            { "mediaType": oci::LAYER_TAR_GZIP, "digest": l2, "size": layer2.len() }
        ]
    }))
    .unwrap();
    let digest = store
        .put_manifest("src/img", "v1", oci::MANIFEST_V1, &manifest)
        .unwrap();
    (digest, manifest)
}

async fn registry(dir: &std::path::Path) -> Registry {
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

#[tokio::test]
async fn copies_from_the_embedded_registry_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let source = registry(&dir.path().join("src")).await;
    let (digest, manifest) = put_image(source.store());
    let dest = Store::open(&dir.path().join("dest")).unwrap();

    let upstream: UpstreamRef = format!("{}/src/img:v1", source.addr()).parse().unwrap();
    let image = copy_with(&upstream, &dest, "coldbench/up", "t", None)
        .await
        .unwrap();
    assert_eq!(image.digest, digest);
    assert_eq!(image.repository, "coldbench/up");
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.layers[0].created_by, "one");
    assert_eq!(image.layers[1].created_by, "two");
    assert_eq!(image.layers[0].diff_id, d(21));
    assert_eq!(image.uncompressed_size, 0);
    let config_size = dest.blob_size(&image.config_digest).unwrap();
    assert_eq!(
        image.compressed_size,
        config_size + 100_000 + "second layer".len() as u64
    );
    for layer in &image.layers {
        assert_eq!(dest.blob_size(&layer.digest), Some(layer.size));
    }
    let info = dest
        .manifest("coldbench/up", &Reference::Tag("t".into()))
        .unwrap()
        .unwrap();
    assert_eq!(info.digest, digest);
    assert_eq!(info.media_type, oci::MANIFEST_V1);
    assert_eq!(std::fs::read(dest.blob_path(&digest)).unwrap(), manifest);

    // Again, by digest, into the same store: every blob is already there.
    let served = source.served();
    let by_digest: UpstreamRef = format!("{}/src/img@{digest}", source.addr())
        .parse()
        .unwrap();
    let again = copy_with(&by_digest, &dest, "coldbench/up", "t2", None)
        .await
        .unwrap();
    assert_eq!(again.digest, digest);
    assert_eq!(source.served().blobs, served.blobs, "blobs fetched again");
}

#[tokio::test]
async fn missing_tags_and_bad_destinations_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = registry(&dir.path().join("src")).await;
    put_image(source.store());
    let dest = Store::open(&dir.path().join("dest")).unwrap();
    let missing: UpstreamRef = format!("{}/src/img:nope", source.addr()).parse().unwrap();
    let err = copy_with(&missing, &dest, "a", "t", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("src/img:nope") && err.contains("404"), "{err}");

    let good: UpstreamRef = format!("{}/src/img:v1", source.addr()).parse().unwrap();
    let err = copy_with(&good, &dest, "Bad", "t", None).await.unwrap_err();
    assert!(matches!(err, UpstreamError::InvalidDestination { .. }));
}

#[tokio::test]
async fn unreachable_hosts_name_the_ref() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let dest = Store::open(dir.path()).unwrap();
    let upstream: UpstreamRef = format!("127.0.0.1:{port}/a/b:c").parse().unwrap();
    let err = copy_with(&upstream, &dest, "a", "t", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}/a/b:c")), "{err}");
    assert!(err.contains("is the registry running"), "{err}");
}
