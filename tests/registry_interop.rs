//! Real clients against the embedded registry: `docker push`/`pull` and `skopeo copy` in and out,
//! digests compared end to end. Needs a Docker engine and skopeo (see `tests/common`).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use coldbench::registry::{Digest, Registry, RegistryConfig};
use common::run;

/// Removes the image references the test created, even when it fails half way.
struct Refs(Vec<String>);

impl Drop for Refs {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = Command::new("docker").args(["rmi", image]).output();
        }
    }
}

fn docker(args: &[&str]) -> String {
    run(Command::new("docker")
        .args(args)
        .env("DOCKER_BUILDKIT", "0"))
}

fn skopeo(args: &[&str]) -> String {
    run(Command::new("skopeo").args(args))
}

/// The `sha256:…` digest that follows `marker` in a client's output.
fn digest_after(output: &str, marker: &str) -> Digest {
    let at = output
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {output}"));
    let text = &output[at + marker.len()..];
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// A `FROM scratch` image holding the static busybox, built under `tag`.
fn build_busybox(context: &Path, tag: &str) {
    std::fs::copy("/bin/busybox", context.join("busybox")).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"true\"]\n",
    )
    .unwrap();
    docker(&["build", "-q", "-t", tag, context.to_str().unwrap()]);
}

/// Every `digest` of a manifest's config and layers.
fn blob_digests(manifest: &serde_json::Value) -> Vec<String> {
    let mut out = vec![manifest["config"]["digest"].as_str().unwrap().to_string()];
    for layer in manifest["layers"].as_array().unwrap() {
        out.push(layer["digest"].as_str().unwrap().to_string());
    }
    out
}

#[test]
fn docker_and_skopeo_push_and_pull_through_the_registry() {
    let Some(_guard) = common::docker() else {
        return;
    };
    if !common::tool("skopeo") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry = runtime
        .block_on(Registry::start(RegistryConfig {
            store_dir: dir.path().join("store"),
            listen: "127.0.0.1:0".parse().unwrap(),
            bandwidth: Some("200MB/s".parse().unwrap()),
            latency: Duration::from_millis(1),
            limits: Default::default(),
        }))
        .unwrap();
    let host = format!("127.0.0.1:{}", registry.addr().port());
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let built = format!("coldbench-test-build:{unique}");
    let pushed = format!("{host}/coldbench-test/busybox:v1");
    let mut refs = Refs(vec![built.clone(), pushed.clone()]);

    // docker build, push, forget, pull.
    let context = dir.path().join("context");
    std::fs::create_dir(&context).unwrap();
    build_busybox(&context, &built);
    docker(&["tag", &built, &pushed]);
    let push = docker(&["push", &pushed]);
    eprintln!("docker push:\n{push}");
    let pushed_digest = digest_after(&push, "digest:");
    docker(&["rmi", &built, &pushed]);
    let before_pull = registry.served();
    let pull = docker(&["pull", &pushed]);
    eprintln!("docker pull:\n{pull}");
    assert_eq!(digest_after(&pull, "Digest:"), pushed_digest, "{pull}");
    let served = registry.served();
    assert!(
        served.blobs - before_pull.blobs > 500_000,
        "the pull did not fetch the layer: {before_pull:?} -> {served:?}"
    );
    let repo_digest = docker(&["inspect", "--format", "{{index .RepoDigests 0}}", &pushed]);
    assert!(
        repo_digest.trim().ends_with(pushed_digest.as_str()),
        "{repo_digest}"
    );

    // skopeo in (OCI format, so the manifest goes out again unchanged), to a one- and a
    // three-segment repository, then out to an OCI layout.
    let digest_file = dir.path().join("digest");
    for repo in ["coldbench-test/sk", "a/b/c"] {
        skopeo(&[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--format",
            "oci",
            "--digestfile",
            digest_file.to_str().unwrap(),
            &format!("docker-daemon:{pushed}"),
            &format!("docker://{host}/{repo}:v1"),
        ]);
        let digest: Digest = std::fs::read_to_string(&digest_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let source = format!("docker://{host}/{repo}:v1");
        let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &source]);
        assert_eq!(
            Digest::of(raw.as_bytes()),
            digest,
            "{repo}: manifest changed"
        );
        let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();

        let layout = dir.path().join(format!("oci-{}", repo.replace('/', "-")));
        skopeo(&[
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            &source,
            &format!("oci:{}:v1", layout.display()),
        ]);
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        assert_eq!(
            index["manifests"][0]["digest"].as_str(),
            Some(digest.as_str()),
            "{repo}"
        );
        let blobs = layout.join("blobs/sha256");
        let copied = std::fs::read(blobs.join(digest.hex())).unwrap();
        assert_eq!(copied, raw.as_bytes(), "{repo}: manifest bytes differ");
        for blob in blob_digests(&manifest) {
            let blob: Digest = blob.parse().unwrap();
            let bytes = std::fs::read(blobs.join(blob.hex())).unwrap();
            assert_eq!(Digest::of(&bytes), blob, "{repo}: blob content differs");
        }
    }
    eprintln!("served: {:?}", registry.served());
    let tags = registry.store().tags("a/b/c").unwrap();
    assert_eq!(tags, Some(vec!["v1".to_string()]));

    refs.0.retain(|r| r == &pushed);
    drop(refs);
    runtime.block_on(registry.shutdown());
}
