//! Anatomy tests on hand-made images in a temporary store.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

use super::*;
use crate::image::oci::{self, Descriptor, Manifest};
use crate::registry::Store;
use crate::report::anatomy::{flags, render};

/// One tar entry of a test layer (paths relative, as image tars have them).
#[derive(Clone)]
enum E<'a> {
    File(&'a str, usize),
    Dir(&'a str),
    Sym(&'a str, &'a str),
    Link(&'a str, &'a str),
}

fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_size(0);
        match e {
            E::File(p, n) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(*n as u64);
                b.append_data(&mut h, p, &vec![b'x'; *n][..]).unwrap();
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::Sym(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Link(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                b.append_link(&mut h, p, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn put_layer(store: &Store, tar: &[u8], gzip: bool) -> Descriptor {
    let mut w = store.blob_writer().unwrap();
    if gzip {
        let mut gz = GzEncoder::new(&mut w, Compression::fast());
        gz.write_all(tar).unwrap();
        gz.finish().unwrap();
    } else {
        w.write_all(tar).unwrap();
    }
    let (digest, size) = w.commit().unwrap();
    let media_type = if gzip {
        oci::LAYER_TAR_GZIP
    } else {
        "application/vnd.oci.image.layer.v1.tar"
    };
    Descriptor {
        media_type: media_type.into(),
        digest,
        size,
    }
}

/// Stores config + manifest for `layers` as `repo:latest`; returns the manifest bytes.
fn put_image(
    store: &Store,
    repo: &str,
    layers: Vec<Descriptor>,
    user: Option<&str>,
    history: serde_json::Value,
) -> Vec<u8> {
    let config = json!({
        "architecture": oci::host_architecture(),
        "os": "linux",
        "config": { "User": user, "Entrypoint": ["/bin/sh"], "Cmd": ["-c", "echo hi"] },
        "rootfs": { "type": "layers", "diff_ids": [] },
        "history": history,
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::MANIFEST_V1.into()),
        config: Descriptor {
            media_type: oci::CONFIG_V1.into(),
            digest: store.put_blob(&config_bytes).unwrap(),
            size: config_bytes.len() as u64,
        },
        layers,
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    store
        .put_manifest(repo, "latest", oci::MANIFEST_V1, &bytes)
        .unwrap();
    bytes
}

/// Builds an image of gzip layers, each with history `layer <i>`, and analyzes it.
fn image(layers: &[Vec<E>], user: Option<&str>) -> Anatomy {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let descs = layers
        .iter()
        .map(|l| put_layer(&store, &tar_of(l), true))
        .collect();
    let history: Vec<_> = (0..layers.len())
        .map(|i| json!({ "created_by": format!("layer {i}") }))
        .collect();
    put_image(&store, "test/img", descs, user, json!(history));
    analyze(&store, "test/img", "latest").unwrap()
}

fn busybox() -> Vec<E<'static>> {
    vec![
        E::Dir("bin/"),
        E::File("bin/busybox", 1000),
        E::Sym("bin/sh", "busybox"),
    ]
}

fn paths(a: &Anatomy) -> Vec<&str> {
    a.largest_files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn busybox_like_root_image_has_a_shell() {
    let a = image(&[busybox()], None);
    assert_eq!(a.shells, ["/bin/sh"]);
    assert!(a.runs_as_root);
    assert_eq!(a.file_count, 1);
    assert!(a.package_managers.is_empty());
    assert_eq!(a.entrypoint, Some(vec!["/bin/sh".to_string()]));
    assert_eq!(flags(&a), "root · shell · no pkg mgr · 1 file");
    let text = render(&a);
    assert!(text.contains("⚠ runs as root"), "{text}");
    assert!(text.contains("/bin/busybox"), "{text}");
}

#[test]
fn hard_linked_and_usr_merged_shells_are_found() {
    let a = image(
        &[vec![
            E::Sym("bin", "usr/bin"),
            E::Dir("usr/bin/"),
            E::File("usr/bin/bash", 500),
            E::Link("usr/bin/dash", "usr/bin/bash"),
        ]],
        None,
    );
    assert_eq!(
        a.shells,
        ["/bin/bash", "/bin/dash", "/usr/bin/bash"],
        "/bin resolves through its symlink"
    );
    assert_eq!(a.file_count, 1, "a hard link is not another regular file");
}

#[test]
fn whiteout_in_an_upper_layer_deletes_the_shell_and_directories() {
    let a = image(
        &[
            [
                busybox(),
                vec![
                    E::File("usr/share/doc/a", 10),
                    E::File("usr/share/doc/b/c", 10),
                    E::File("usr/share/doc-extra", 10),
                ],
            ]
            .concat(),
            vec![E::File("bin/.wh.sh", 0), E::File("usr/share/.wh.doc", 0)],
        ],
        None,
    );
    assert!(a.shells.is_empty());
    assert_eq!(paths(&a), ["/bin/busybox", "/usr/share/doc-extra"]);
    assert_eq!(a.layers[1].files, 0, "whiteouts are not files");
    assert_eq!(flags(&a), "root · no shell · no pkg mgr · 2 files");
}

#[test]
fn opaque_directory_hides_lower_contents_only() {
    let a = image(
        &[
            vec![
                E::File("etc/a", 1),
                E::File("etc/sub/b", 1),
                E::File("etc2/c", 1),
            ],
            vec![
                E::Dir("etc/"),
                E::File("etc/.wh..wh..opq", 0),
                E::File("etc/new", 1),
            ],
        ],
        None,
    );
    assert_eq!(paths(&a), ["/etc/new", "/etc2/c"]);
    assert_eq!(a.file_count, 2);
}

#[test]
fn package_managers_are_found_once_and_sorted() {
    let a = image(&[vec![E::File("var/lib/dpkg/status", 100)]], None);
    assert_eq!(a.package_managers, ["dpkg"]);
    let a = image(
        &[
            vec![
                E::File("var/lib/rpm/Packages", 10),
                E::File("usr/bin/dpkg", 10),
                E::File("var/lib/dpkg/status", 10),
            ],
            vec![E::File("lib/apk/db/installed", 10), E::File("sbin/apk", 1)],
        ],
        None,
    );
    assert_eq!(a.package_managers, ["apk", "dpkg", "rpm"]);
    assert!(flags(&a).contains("apk+dpkg+rpm"), "{}", flags(&a));
    let a = image(&[vec![E::Dir("var/lib/rpm/")]], None);
    assert!(a.package_managers.is_empty(), "an empty rpm dir is no rpm");
}

#[test]
fn numeric_user_is_not_root() {
    let a = image(&[vec![E::File("app", 3)]], Some("65532"));
    assert!(!a.runs_as_root);
    assert_eq!(a.user.as_deref(), Some("65532"));
    assert_eq!(flags(&a), "non-root · no shell · no pkg mgr · 1 file");
    assert!(!render(&a).contains('⚠'));
    for root in [
        None,
        Some(""),
        Some("root"),
        Some("0"),
        Some("0:0"),
        Some("root:wheel"),
    ] {
        assert!(runs_as_root(root), "{root:?}");
    }
    for user in ["nobody", "1000:0", "65532:65532", "01"] {
        assert!(!runs_as_root(Some(user)), "{user}");
    }
}

#[test]
fn largest_files_are_ordered_by_size_then_path() {
    let mut lower = Vec::new();
    let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        lower.push(E::File(name, 100 + i * 10));
    }
    lower.push(E::File("tie-b", 200));
    lower.push(E::File("tie-a", 200));
    // The upper layer shrinks f11 (the largest below) to nothing; f10 ties with tie-a, tie-b.
    let a = image(&[lower, vec![E::File("f11", 0)]], None);
    assert_eq!(a.file_count, 14);
    assert_eq!(
        paths(&a),
        ["/f10", "/tie-a", "/tie-b", "/f09", "/f08", "/f07", "/f06", "/f05", "/f04", "/f03"]
    );
    assert_eq!(a.largest_files[0].size, 200);
    assert_eq!(a.largest_files[2].size, 200);
    assert!(flags(&a).ends_with("14 files"));
}

#[test]
fn uncompressed_tar_layers_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tar = tar_of(&[E::File("a", 3000), E::File("b", 5)]);
    let desc = put_layer(&store, &tar, false);
    put_image(&store, "plain", vec![desc], None, json!([]));
    let a = analyze(&store, "plain", "latest").unwrap();
    assert_eq!(a.layers[0].uncompressed_size, tar.len() as u64);
    assert_eq!(a.layers[0].size, tar.len() as u64);
    assert_eq!(a.layers[0].files, 2);
    assert_eq!(a.layers[0].created_by, None);
    assert_eq!(paths(&a), ["/a", "/b"]);
}

#[test]
fn layer_sizes_and_history_line_up_skipping_empty_layers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tars = [
        tar_of(&busybox()),
        tar_of(&[E::File("app/x", 40_000), E::File("app/y", 1)]),
    ];
    let descs: Vec<_> = tars.iter().map(|t| put_layer(&store, t, true)).collect();
    let history = json!([
        { "created_by": "ADD busybox.tar /" },
        { "created_by": "/bin/sh -c #(nop)  ENV X=1", "empty_layer": true },
        { "created_by": "COPY app /app" },
        { "created_by": "/bin/sh -c #(nop)  USER 1000", "empty_layer": true },
    ]);
    let manifest = put_image(&store, "h", descs.clone(), Some("1000"), history);
    let m: Manifest = serde_json::from_slice(&manifest).unwrap();
    let a = analyze(&store, "h", "latest").unwrap();
    let created: Vec<_> = a.layers.iter().map(|l| l.created_by.as_deref()).collect();
    assert_eq!(created, [Some("ADD busybox.tar /"), Some("COPY app /app")]);
    for ((l, d), t) in a.layers.iter().zip(&descs).zip(&tars) {
        assert_eq!(l.digest, d.digest.as_str());
        assert_eq!(l.size, d.size);
        assert_eq!(l.uncompressed_size, t.len() as u64);
    }
    assert_eq!(a.layers[0].files, 1);
    assert_eq!(a.layers[1].files, 2);
    assert_eq!(
        a.compressed_size,
        m.config.size + descs.iter().map(|d| d.size).sum::<u64>()
    );
    assert_eq!(a.uncompressed_size, (tars[0].len() + tars[1].len()) as u64);
    assert_eq!(a.cmd, Some(vec!["-c".to_string(), "echo hi".to_string()]));
    // Also by digest.
    let by_digest = analyze(&store, "h", crate::registry::Digest::of(&manifest).as_str()).unwrap();
    assert_eq!(by_digest, a);
    let text = render(&a);
    assert!(text.contains("COPY app /app"), "{text}");
    assert!(text.contains("layers      2"), "{text}");
}

#[test]
fn index_resolves_to_the_host_platform() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let desc = put_layer(&store, &tar_of(&busybox()), true);
    let real = put_image(&store, "multi", vec![desc], None, json!([]));
    let decoy = put_image(&store, "multi", vec![], Some("nobody"), json!([]));
    let d = |b: &[u8]| crate::registry::Digest::of(b).to_string();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            { "mediaType": oci::MANIFEST_V1, "digest": d(&decoy), "size": decoy.len(),
              "platform": { "os": "linux", "architecture": "not-this-one" } },
            { "mediaType": oci::MANIFEST_V1, "digest": d(&real), "size": real.len(),
              "platform": { "os": "linux", "architecture": oci::host_architecture() } },
        ]
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    store
        .put_manifest(
            "multi",
            "latest",
            "application/vnd.oci.image.index.v1+json",
            &bytes,
        )
        .unwrap();
    let a = analyze(&store, "multi", "latest").unwrap();
    assert_eq!(a.shells, ["/bin/sh"]);
    assert!(a.runs_as_root);
}

#[test]
fn synthetic_image_has_no_shell_and_no_package_manager() {
    use crate::units::ByteSize;
    use toml::Spanned;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let spec = crate::scenario::SynthSpec {
        size: ByteSize(2_000_000),
        layers: Spanned::new(0..0, 2),
        compressibility: Spanned::new(0..0, 0.5),
        seed: None,
    };
    let img = crate::image::synth::build(&store, "anat", &spec).unwrap();
    let a = analyze(&store, &img.repository, &img.tag).unwrap();
    assert_eq!(a.entrypoint, Some(vec!["/coldbench-hello".to_string()]));
    assert!(a.shells.is_empty());
    assert!(a.package_managers.is_empty());
    assert!(a.runs_as_root);
    assert_eq!(a.compressed_size, img.compressed_size);
    assert_eq!(a.uncompressed_size, img.uncompressed_size);
    assert_eq!(a.layers.len(), img.layers.len());
    for (l, info) in a.layers.iter().zip(&img.layers) {
        assert_eq!(l.uncompressed_size, info.uncompressed_size);
        assert_eq!(l.created_by.as_deref(), Some(info.created_by.as_str()));
    }
    assert!(a.largest_files.iter().any(|f| f.path == "/coldbench-hello"));
    assert!(flags(&a).starts_with("root · no shell · no pkg mgr · "));
}

#[test]
fn stored_size_differing_from_the_manifest_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut desc = put_layer(&store, &tar_of(&busybox()), true);
    desc.size += 1;
    put_image(&store, "bad", vec![desc], None, json!([]));
    let e = analyze(&store, "bad", "latest").unwrap_err();
    assert!(matches!(e, AnatomyError::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("the manifest says"), "{e}");
}

#[test]
fn zstd_layers_and_unknown_references_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.blob_writer().unwrap();
    w.write_all(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).unwrap();
    let (digest, size) = w.commit().unwrap();
    let desc = Descriptor {
        media_type: "application/vnd.oci.image.layer.v1.tar+zstd".into(),
        digest,
        size,
    };
    put_image(&store, "z", vec![desc], None, json!([]));
    let e = analyze(&store, "z", "latest").unwrap_err();
    assert!(
        e.to_string().contains("zstd layers are not supported yet"),
        "{e}"
    );
    let e = analyze(&store, "z", "nope").unwrap_err();
    assert!(e.to_string().contains("not in the store"), "{e}");
}

#[test]
fn paths_are_normalized_and_instructions_shortened() {
    assert_eq!(fs::normalize("./usr/bin/").as_deref(), Some("/usr/bin"));
    assert_eq!(fs::normalize("usr//lib/./x").as_deref(), Some("/usr/lib/x"));
    assert_eq!(fs::normalize("./"), None);
    assert_eq!(
        crate::report::anatomy::short_instruction("/bin/sh -c #(nop)  CMD [\"sh\"]"),
        "CMD [\"sh\"]"
    );
    assert_eq!(
        crate::report::anatomy::short_instruction("/bin/sh -c apt-get  update"),
        "RUN apt-get update"
    );
    let long = crate::report::anatomy::short_instruction(&"x".repeat(200));
    assert_eq!(long.chars().count(), 70);
    assert!(long.ends_with('…'));
}
