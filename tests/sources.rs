//! Real image variants: a multi-stage Dockerfile and a local image go through the embedded
//! registry and the Docker driver; a failing build stops the run before any measurement.

mod common;

use std::path::Path;
use std::process::Command;

use coldbench::run::{run, RunOptions};

/// A build context with busybox and coldbench-hello, and a two-stage Dockerfile.
fn context(dir: &Path) {
    std::fs::copy("/bin/busybox", dir.join("busybox")).unwrap();
    std::fs::write(dir.join("hello"), coldbench::image::HELLO_BINARY).unwrap();
    let exe = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(dir.join("hello"), exe).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch AS tools\nCOPY busybox /bin/busybox\n\
         FROM scratch AS run\nCOPY --from=tools /bin/busybox /bin/sh\nCOPY hello /coldbench-hello\n\
         ENTRYPOINT [\"/coldbench-hello\"]\n\
         FROM scratch AS other\nCOPY busybox /unused\n",
    )
    .unwrap();
}

fn scenario(dir: &Path, variant: &str) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!("name = \"src\"\nrepetitions = 2\n[registry]\nbandwidth = \"200MB/s\"\n[[variant]]\nname = \"v\"\n{variant}\n"),
    )
    .unwrap();
    path
}

async fn run_in(dir: &Path, scenario: std::path::PathBuf) -> coldbench::run::RunOutcome {
    run(&RunOptions {
        scenario,
        results_dir: dir.join("results"),
        progress: false,
        driver: None,
        sim: Default::default(),
    })
    .await
    .unwrap_or_else(|e| panic!("run failed: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_stage_dockerfile_builds_with_target_and_cold_starts() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    context(&ctx);
    let path = scenario(
        dir.path(),
        "dockerfile = { context = \"ctx\", target = \"run\" }\ncompression_level = 1",
    );
    let dangling_before =
        common::run(Command::new("docker").args(["images", "-q", "-f", "dangling=true"]));
    let outcome = run_in(dir.path(), path).await;
    let v = &outcome.record.variants[0];
    assert_eq!(v.compression_level, Some(1));
    assert!(v.source.contains("(target run)"), "{}", v.source);
    // Two layers: busybox as /bin/sh, and the entrypoint; the `other` stage is not built in.
    assert_eq!(v.image.layers.len(), 2);
    let anatomy = v.anatomy.as_ref().expect("anatomy");
    assert_eq!(anatomy.shells, vec!["/bin/sh".to_string()]);
    assert!(anatomy.runs_as_root);
    assert!(anatomy.package_managers.is_empty());
    assert_eq!(anatomy.compressed_size, v.image.compressed_size);
    assert_eq!(anatomy.file_count, 2);
    assert!(anatomy.layers[0]
        .created_by
        .as_deref()
        .unwrap_or("")
        .contains("COPY"));
    for s in &outcome.record.samples {
        assert!(s.is_ok(), "{:?}", s.outcome);
        assert!(s.cold, "bytes {} vs {}", s.blob_bytes, s.expected_bytes);
        assert!(s.phases.first_request_us.is_some());
    }
    // The build image and its earlier stages were removed from the engine.
    let left = common::run(Command::new("docker").args(["images", "-q", "coldbench-build/v"]));
    assert_eq!(left.trim(), "");
    let dangling =
        common::run(Command::new("docker").args(["images", "-q", "-f", "dangling=true"]));
    assert!(
        dangling.lines().all(|id| dangling_before.contains(id)),
        "stage images left: {dangling}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_image_lands_with_its_config_digest_and_diff_ids() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    context(dir.path());
    let tag = format!("coldbench-test/local:{}", std::process::id());
    // Single stage, so the build leaves no untagged stage image behind.
    std::fs::write(
        dir.path().join("Dockerfile.single"),
        "FROM scratch\nCOPY busybox /bin/sh\nCOPY hello /coldbench-hello\nENTRYPOINT [\"/coldbench-hello\"]\n",
    )
    .unwrap();
    common::run(
        Command::new("docker")
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "-q", "-f", "Dockerfile.single", "-t", &tag])
            .arg(dir.path())
            .current_dir(dir.path()),
    );
    let id = common::run(Command::new("docker").args(["inspect", "--format", "{{.Id}}", &tag]));
    let diff_ids = common::run(Command::new("docker").args([
        "inspect",
        "--format",
        "{{range .RootFS.Layers}}{{.}} {{end}}",
        &tag,
    ]));
    let path = scenario(dir.path(), &format!("image = \"{tag}\""));
    let outcome = run_in(dir.path(), path).await;
    common::run(Command::new("docker").args(["rmi", &tag]));

    let image = &outcome.record.variants[0].image;
    assert_eq!(image.config_digest.to_string(), id.trim());
    let ours: Vec<String> = image.layers.iter().map(|l| l.diff_id.to_string()).collect();
    assert_eq!(ours.join(" "), diff_ids.trim());
    assert_eq!(outcome.record.variants[0].compression_level, Some(6));
    assert!(outcome.record.samples.iter().all(|s| s.is_ok()));
}

#[test]
fn a_failing_build_exits_2_with_the_builders_last_lines_and_measures_nothing() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY missing-file /x\n",
    )
    .unwrap();
    let path = scenario(dir.path(), "dockerfile = { context = \"ctx\" }");
    let out = common::coldbench_run(dir.path(), &path, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("building variant \"v\" failed"), "{stderr}");
    assert!(stderr.contains("missing-file"), "{stderr}");
    assert!(!dir.path().join("results").exists(), "nothing measured");
}

#[test]
fn a_missing_local_image_is_named() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "image = \"coldbench-test/does-not-exist:nope\"");
    let out = common::coldbench_run(dir.path(), &path, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("coldbench-test/does-not-exist:nope"),
        "{stderr}"
    );
    assert!(stderr.contains("no such image"), "{stderr}");
}

/// Builds `ctx` (relative to `base`) straight into a fresh store; returns the paths in its
/// layers, or the error.
async fn build_and_list(base: &Path, ctx: &str) -> Result<Vec<String>, String> {
    use coldbench::image::dockerfile::{build, Destination};
    let docker = bollard::Docker::connect_with_local_defaults().map_err(|e| e.to_string())?;
    let store_dir = tempfile::tempdir().unwrap();
    let store = coldbench::registry::Store::open(store_dir.path()).unwrap();
    let spec = coldbench::scenario::DockerfileSpec {
        context: ctx.to_string(),
        file: "Dockerfile".into(),
        target: None,
        build_args: Default::default(),
    };
    let to = Destination {
        store: &store,
        repository: "coldbench/ctx",
        tag: "latest",
        level: 1,
    };
    let image = build(&docker, &spec, base, "ctx", &to)
        .await
        .map_err(|e| e.to_string())?;
    let mut paths = Vec::new();
    for layer in &image.layers {
        let blob = std::fs::File::open(store.blob_path(&layer.digest)).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(blob));
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            paths.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
    }
    Ok(paths)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerignore_keeps_ignored_files_out_of_the_built_image() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    std::fs::create_dir_all(ctx.join("secrets")).unwrap();
    std::fs::create_dir_all(ctx.join("app/cache")).unwrap();
    for f in [
        "keep.txt",
        "notes.log",
        "important.log",
        "secrets/key",
        "app/main.txt",
        "app/cache/x",
    ] {
        std::fs::write(ctx.join(f), f).unwrap();
    }
    std::fs::write(
        ctx.join(".dockerignore"),
        "# comment\n*.log\n!important.log\n/secrets\n**/cache\nDockerfile\n.dockerignore\n",
    )
    .unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY . /ctx\n").unwrap();
    let paths = build_and_list(dir.path(), "ctx").await.unwrap();
    let has = |p: &str| paths.iter().any(|x| x.trim_end_matches('/') == p);
    assert!(has("ctx/keep.txt") && has("ctx/important.log"), "{paths:?}");
    assert!(has("ctx/app/main.txt"), "{paths:?}");
    for gone in [
        "ctx/notes.log",
        "ctx/secrets",
        "ctx/secrets/key",
        "ctx/app/cache",
    ] {
        assert!(!has(gone), "{gone} was sent: {paths:?}");
    }
    // Docker ignores `.dockerignore` for COPY but still sends Dockerfile and .dockerignore.
    assert!(
        !has("ctx/Dockerfile") && !has("ctx/.dockerignore"),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sparse_file_in_the_context_builds() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    let sparse = std::fs::File::create(ctx.join("sparse.img")).unwrap();
    sparse.set_len(8 * 1024 * 1024).unwrap();
    std::os::unix::fs::FileExt::write_at(&sparse, b"end", 8 * 1024 * 1024 - 3).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY sparse.img /s\n").unwrap();
    let paths = build_and_list(dir.path(), "ctx").await.unwrap();
    assert!(paths.iter().any(|p| p == "s"), "{paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_of_root_or_outside_the_scenario_tree_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("project/scenarios");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(dir.path().join("project/app")).unwrap();
    std::fs::write(dir.path().join("project/app/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::fs::write(dir.path().join("elsewhere/Dockerfile"), "FROM scratch\n").unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), base.join("link")).unwrap();
    for ctx in ["/", "../../elsewhere", "link", "../../../../../../../.."] {
        let e = build_and_list(&base, ctx).await.unwrap_err();
        assert!(e.contains("context") && e.contains("refused"), "{ctx}: {e}");
    }
}
