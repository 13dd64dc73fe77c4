use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::json;

use super::*;
use crate::image::oci;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A tar of `files` (path, bytes), ended as `tar` ends archives.
fn tar_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        builder.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(level));
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Pseudo-random bytes that compress a little (so gzip output is not trivial).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 3 == 0 {
                0
            } else {
                x as u8
            }
        })
        .collect()
}

/// One layer to put into a test image: media type, tar and how to encode it.
struct TestLayer {
    media_type: &'static str,
    tar: Vec<u8>,
}

fn gz_layer(files: &[(&str, Vec<u8>)]) -> TestLayer {
    TestLayer {
        media_type: oci::LAYER_TAR_GZIP,
        tar: tar_of(files),
    }
}

/// Stores an image of `layers` as `repo:v1` with a config holding fields salting must keep.
fn put_image(store: &Store, repo: &str, manifest_type: &str, layers: &[TestLayer]) -> StoredImage {
    let mut infos = Vec::new();
    let mut descriptors = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let blob = match l.media_type {
            OCI_TAR => l.tar.clone(),
            _ => gzip(&l.tar, 9),
        };
        let digest = store.put_blob(&blob).unwrap();
        descriptors.push(json!({
            "mediaType": l.media_type,
            "digest": digest.as_str(),
            "size": blob.len(),
            "annotations": {"org.opencontainers.image.title": format!("layer-{i}")},
        }));
        infos.push(LayerInfo {
            digest,
            size: blob.len() as u64,
            diff_id: Digest::of(&l.tar),
            uncompressed_size: l.tar.len() as u64,
            created_by: format!("layer {i}"),
        });
    }
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/"], "Entrypoint": ["/app"], "Labels": {"keep": "me"}},
        "rootfs": {"type": "layers", "diff_ids": infos.iter().map(|l| l.diff_id.as_str()).collect::<Vec<_>>()},
        "history": infos.iter().map(|l| json!({"created_by": l.created_by})).collect::<Vec<_>>(),
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = store.put_blob(&config_bytes).unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": oci::CONFIG_V1, "digest": config_digest.as_str(), "size": config_bytes.len()},
        "layers": descriptors,
        "annotations": {"kept": "yes"},
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = store
        .put_manifest(repo, "v1", manifest_type, &manifest_bytes)
        .unwrap();
    StoredImage {
        repository: repo.into(),
        tag: "v1".into(),
        digest,
        config_digest,
        compressed_size: config_bytes.len() as u64 + infos.iter().map(|l| l.size).sum::<u64>(),
        uncompressed_size: infos.iter().map(|l| l.uncompressed_size).sum(),
        layers: infos,
    }
}

fn three_layer_image(store: &Store) -> StoredImage {
    put_image(
        store,
        "coldbench/app",
        oci::MANIFEST_V1,
        &[
            gz_layer(&[
                ("data/big.bin", noise(900_000, 1)),
                ("data/small", b"x".to_vec()),
            ]),
            gz_layer(&[("etc/conf", b"a=1\n".to_vec())]),
            gz_layer(&[("app", noise(50_000, 2))]),
        ],
    )
}

fn read_blob(store: &Store, digest: &Digest) -> Vec<u8> {
    std::fs::read(store.blob_path(digest)).unwrap()
}

fn json_blob(store: &Store, digest: &Digest) -> Value {
    serde_json::from_slice(&read_blob(store, digest)).unwrap()
}

/// The entries (path, contents) of a gzip layer blob, read as a runtime reads it.
fn entries(blob: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(MultiGzDecoder::new(blob));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (path, data)
        })
        .collect()
}

#[test]
fn every_layer_gets_a_new_digest_and_diff_id_and_grows_under_2_kib() {
    let (_dir, store) = store();
    let original = three_layer_image(&store);
    let salted = salt_image(&store, &original, "sample-1", "coldbench/app-salted", "s1").unwrap();

    assert_eq!(salted.repository, "coldbench/app-salted");
    assert_eq!(salted.tag, "s1");
    assert_eq!(salted.layers.len(), original.layers.len());
    assert_ne!(salted.digest, original.digest);
    assert_ne!(salted.config_digest, original.config_digest);
    for (o, s) in original.layers.iter().zip(&salted.layers) {
        assert!(original
            .layers
            .iter()
            .all(|l| l.digest != s.digest && l.diff_id != s.diff_id));
        assert!(
            s.size > o.size && s.size - o.size <= 2048,
            "{} → {}",
            o.size,
            s.size
        );
        assert_eq!(s.uncompressed_size, o.uncompressed_size + 1024);
        assert_eq!(s.created_by, o.created_by);
        let blob = read_blob(&store, &s.digest);
        assert_eq!(Digest::of(&blob), s.digest);
        assert_eq!(blob.len() as u64, s.size);
        let mut tar = Vec::new();
        MultiGzDecoder::new(blob.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(
            Digest::of(&tar),
            s.diff_id,
            "the diff ID is the tar's digest"
        );
    }
    let layer_bytes = |i: &StoredImage| i.layers.iter().map(|l| l.size).sum::<u64>();
    assert!(layer_bytes(&salted) - layer_bytes(&original) <= 2048 * 3);
    let config_growth = salted.compressed_size - layer_bytes(&salted);
    assert!(config_growth.abs_diff(original.compressed_size - layer_bytes(&original)) < 64);

    let config = json_blob(&store, &salted.config_digest);
    let ids: Vec<&str> = salted.layers.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(config["rootfs"]["diff_ids"], json!(ids));
    assert_eq!(
        config["config"]["Labels"]["keep"], "me",
        "other config fields kept"
    );
    assert_eq!(config["history"].as_array().unwrap().len(), 3);

    let info = store
        .manifest("coldbench/app-salted", &"s1".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(info.digest, salted.digest);
    assert_eq!(info.media_type, oci::MANIFEST_V1);
    let manifest = json_blob(&store, &salted.digest);
    assert_eq!(manifest["config"]["digest"], salted.config_digest.as_str());
    assert_eq!(manifest["annotations"]["kept"], "yes");
    for (d, l) in manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&salted.layers)
    {
        assert_eq!(d["digest"], l.digest.as_str());
        assert_eq!(d["size"], l.size);
        assert_eq!(d["mediaType"], oci::LAYER_TAR_GZIP);
        assert!(
            d.get("annotations").is_none(),
            "annotations of the old bytes dropped"
        );
    }
    assert_eq!(
        salted.compressed_size,
        manifest["config"]["size"].as_u64().unwrap() + layer_bytes(&salted)
    );
}

#[test]
fn the_salted_tar_lists_the_original_files_plus_the_salt_file() {
    let (_dir, store) = store();
    let original = three_layer_image(&store);
    let salted = salt_image(
        &store,
        &original,
        "run-7/sample-3",
        "coldbench/app",
        "salted",
    )
    .unwrap();
    for (o, s) in original.layers.iter().zip(&salted.layers) {
        let before = entries(&read_blob(&store, &o.digest));
        let after = entries(&read_blob(&store, &s.digest));
        assert_eq!(
            after[0],
            (SALT_PATH.to_string(), b"run-7/sample-3\n".to_vec())
        );
        assert_eq!(
            after[1..],
            before[..],
            "the original entries follow, unchanged"
        );
    }
}

#[test]
fn salting_is_deterministic_and_each_salt_is_new() {
    let (_dir, store) = store();
    let original = three_layer_image(&store);
    let a = salt_image(&store, &original, "a", "coldbench/app", "a").unwrap();
    let again = salt_image(&store, &original, "a", "coldbench/app", "a2").unwrap();
    let b = salt_image(&store, &original, "b", "coldbench/app", "b").unwrap();
    assert_eq!((&a.digest, &a.layers), (&again.digest, &again.layers));
    assert_ne!(a.digest, b.digest);
    for (x, y) in a.layers.iter().zip(&b.layers) {
        assert!(x.digest != y.digest && x.diff_id != y.diff_id);
    }
    // A salted image salts again (its layers are two gzip members now).
    let twice = salt_image(&store, &a, "c", "coldbench/app", "c").unwrap();
    let names: Vec<String> = entries(&read_blob(&store, &twice.layers[1].digest))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(names, [SALT_PATH, SALT_PATH, "etc/conf"]);
}

#[test]
fn uncompressed_and_docker_layers_salt_too() {
    let (_dir, store) = store();
    let tar_layer = TestLayer {
        media_type: OCI_TAR,
        tar: tar_of(&[("plain", b"plain".to_vec())]),
    };
    let docker_layer = TestLayer {
        media_type: DOCKER_LAYER,
        tar: tar_of(&[("docker", b"docker".to_vec())]),
    };
    let original = put_image(
        &store,
        "coldbench/mixed",
        DOCKER_MANIFEST,
        &[tar_layer, docker_layer],
    );
    let salted = salt_image(&store, &original, "x", "coldbench/mixed", "salted").unwrap();
    let (o, s) = (&original.layers[0], &salted.layers[0]);
    assert_eq!(s.size, o.size + 1024, "a tar layer grows by the salt entry");
    assert_eq!(
        s.digest, s.diff_id,
        "an uncompressed layer's digest is its diff ID"
    );
    assert_ne!(s.digest, o.digest);
    let blob = read_blob(&store, &s.digest);
    let names: Vec<String> = tar::Archive::new(blob.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [SALT_PATH, "plain"]);
    assert!(salted.layers[1].size - original.layers[1].size <= 2048);
    let info = store
        .manifest("coldbench/mixed", &"salted".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        info.media_type, DOCKER_MANIFEST,
        "the manifest keeps its media type"
    );
    let manifest = json_blob(&store, &salted.digest);
    assert_eq!(manifest["layers"][0]["mediaType"], OCI_TAR);
    assert_eq!(manifest["layers"][1]["mediaType"], DOCKER_LAYER);
}

#[test]
fn zstd_layers_are_refused_and_nothing_is_tagged() {
    let (_dir, store) = store();
    let zstd = TestLayer {
        media_type: OCI_ZSTD,
        tar: tar_of(&[("z", b"z".to_vec())]),
    };
    let original = put_image(
        &store,
        "coldbench/z",
        oci::MANIFEST_V1,
        &[gz_layer(&[]), zstd],
    );
    let e = salt_image(&store, &original, "x", "coldbench/z", "salted").unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, SaltError::UnsupportedLayer { layer: 1, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("tar+zstd") && msg.contains("coldbench/z:v1") && msg.contains("gzip"),
        "{msg}"
    );
    assert_eq!(
        store.tags("coldbench/z").unwrap(),
        Some(vec!["v1".to_string()])
    );
}

#[test]
fn damaged_or_missing_content_and_long_salts_say_what_to_do() {
    let (_dir, store) = store();
    let original = three_layer_image(&store);

    let e = salt_image(
        &store,
        &original,
        &"s".repeat(MAX_SALT_LEN + 1),
        "coldbench/app",
        "x",
    )
    .unwrap_err();
    assert!(e.to_string().contains("at most 511"), "{e}");

    // A layer blob replaced by other gzip content: its diff ID no longer matches the config.
    let dir2 = tempfile::tempdir().unwrap();
    let copy = Store::open(dir2.path()).unwrap();
    let damaged = three_layer_image(&copy);
    std::fs::write(
        copy.blob_path(&damaged.layers[1].digest),
        gzip(&tar_of(&[]), 6),
    )
    .unwrap();
    let e = salt_image(&copy, &damaged, "x", "coldbench/app", "x").unwrap_err();
    assert!(
        e.to_string().contains("damaged") && e.to_string().contains("layer 1"),
        "{e}"
    );

    // Not gzip at all.
    std::fs::write(copy.blob_path(&damaged.layers[1].digest), b"plain text").unwrap();
    let e = salt_image(&copy, &damaged, "x", "coldbench/app", "x").unwrap_err();
    assert!(e.to_string().contains("not valid gzip"), "{e}");

    // A missing blob.
    std::fs::remove_file(copy.blob_path(&damaged.layers[1].digest)).unwrap();
    let e = salt_image(&copy, &damaged, "x", "coldbench/app", "x").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("layer 1") && msg.contains("not in the store"),
        "{msg}"
    );

    // An image that was never stored.
    let mut ghost = original.clone();
    ghost.digest = Digest::of(b"ghost");
    let e = salt_image(&store, &ghost, "x", "coldbench/app", "x").unwrap_err();
    assert!(
        e.to_string().contains("build or import the image first"),
        "{e}"
    );
}

#[test]
fn a_synthetic_image_salts() {
    use crate::units::ByteSize;
    let (_dir, store) = store();
    let spec = crate::scenario::SynthSpec {
        size: ByteSize(1_500_000),
        layers: toml::Spanned::new(0..0, 3),
        compressibility: toml::Spanned::new(0..0, 0.5),
        seed: None,
    };
    let original = crate::image::synth::build(&store, "salty", &spec).unwrap();
    let salted = salt_image(&store, &original, "1", "coldbench/salty", "salt-1").unwrap();
    assert_eq!(salted.layers.len(), 3);
    for (o, s) in original.layers.iter().zip(&salted.layers) {
        assert!(s.digest != o.digest && s.diff_id != o.diff_id);
        assert!(s.size - o.size <= 2048, "{} → {}", o.size, s.size);
    }
    let bytes_moved = |i: &StoredImage| i.compressed_size;
    assert!(bytes_moved(&salted) - bytes_moved(&original) <= 2048 * 3 + 64);
}

#[test]
fn the_salt_member_is_small_even_for_the_longest_salt() {
    let short = gzip_member(&salt_entry("run-1/sample-1")).unwrap();
    let longest = gzip_member(&salt_entry(
        &noise(MAX_SALT_LEN, 3)
            .iter()
            .map(|b| char::from(b'a' + b % 26))
            .collect::<String>(),
    ))
    .unwrap();
    eprintln!(
        "salt member: {} bytes (short salt), {} bytes (longest)",
        short.len(),
        longest.len()
    );
    assert!(short.len() <= 200, "{}", short.len());
    assert!(longest.len() <= 1024, "{}", longest.len());
}
