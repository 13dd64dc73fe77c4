//! Issue 12's check: CRI `PullImage` (what coldbench's containerd driver measures) against
//! `ctr images pull --plain-http` of the same image on one fresh containerd node, through the
//! same throttled registry port, cold each time, the two taking turns going first.
//!
//! The images and registry are `scenarios/kubelet.toml`'s (150 MB in 6 layers and 5 MB in one,
//! 100 MB/s, 2 ms). Per round it prints each pull's time, when the registry handed over the
//! base layer's and the image's last byte, and ctr's own unpack time (its `done:` line): ctr
//! fetches every layer first and unpacks afterwards, where CRI unpacks each layer as soon as it
//! and the one below are in, so CRI's pull should take about the base layer's download plus
//! ctr's unpack (the last column). Needs root and `ctr`; run it through
//! `scripts/bench-containerd` or:
//!
//!   cargo run --release --example ctr_vs_cri -- [ROUNDS]
use std::time::Duration;

use coldbench::driver::containerd::ContainerdNode;
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::results::StoredImage;
use tokio::time::Instant;

/// One pull: how long it took, when the last blob byte left, when the base layer's did, its blob
/// bytes, ctr's unpack time.
struct Pull {
    took: Duration,
    last_byte: Duration,
    base_in: Duration,
    bytes: u64,
    unpack: Option<Duration>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("ROUNDS must be a number, not {n:?}"))?,
        None => 6,
    };
    let store = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = RegistryConfig::new(store.path().join("s"), ([127, 0, 0, 1], 0).into());
    config.bandwidth = Some(
        "100MB/s"
            .parse()
            .map_err(|e: coldbench::units::UnitError| e.to_string())?,
    );
    config.latency = Duration::from_millis(2);
    let mut registry = Registry::start(config).await.map_err(|e| e.to_string())?;
    let (_, addr) = registry.add_node(None).await.map_err(|e| e.to_string())?;
    let images = [
        (
            "full-like",
            "size = \"150MB\"\nlayers = 6\ncompressibility = 0.3",
        ),
        ("static-like", "size = \"5MB\"\nlayers = 1"),
    ];
    let pause =
        coldbench::image::synth::build_pause(registry.store()).map_err(|e| e.to_string())?;
    let pause_ref = format!("{addr}/{}:latest", pause.repository);
    let node = ContainerdNode::start(0, &pause_ref, &[addr.to_string()])
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "round  image        first  CRI pull  base in  last byte  ctr pull  last byte  ctr unpack  CRI/(base in+unpack)"
    );
    let mut summaries = Vec::new();
    for (name, spec) in images {
        let spec: coldbench::scenario::SynthSpec =
            toml::from_str(spec).map_err(|e| e.to_string())?;
        let image = coldbench::image::synth::build(registry.store(), name, &spec)
            .map_err(|e| e.to_string())?;
        let reference = format!("{addr}/{}:{}", image.repository, image.tag);
        let base = image
            .layers
            .first()
            .map(|l| l.digest.to_string())
            .unwrap_or_default();
        let mut columns: [Vec<f64>; 5] = Default::default();
        for round in 0..rounds {
            let cri_first = round % 2 == 0;
            let mut pulls = Vec::new();
            for cri_turn in [cri_first, !cri_first] {
                clear(&node).await?;
                let pull = if cri_turn {
                    cri_pull(&node, &registry, &reference, &base).await?
                } else {
                    ctr_pull(&node, &registry, &reference, &base).await?
                };
                check_cold(&pull, &image)?;
                pulls.push((cri_turn, pull));
            }
            pulls.sort_by_key(|(cri, _)| !cri);
            let (cri, ctr) = (&pulls[0].1, &pulls[1].1);
            let unpack = ctr.unpack.unwrap_or_default().as_secs_f64();
            let overlapped = cri.took.as_secs_f64() / (cri.base_in.as_secs_f64() + unpack);
            println!(
                "{round:>5}  {name:<11}  {:<5}  {:>8.3}  {:>7.3}  {:>9.3}  {:>8.3}  {:>9.3}  {:>10.3}  {:>20.3}",
                if cri_first { "CRI" } else { "ctr" },
                cri.took.as_secs_f64(),
                cri.base_in.as_secs_f64(),
                cri.last_byte.as_secs_f64(),
                ctr.took.as_secs_f64(),
                ctr.last_byte.as_secs_f64(),
                unpack,
                overlapped,
            );
            let row = [
                cri.took.as_secs_f64(),
                ctr.took.as_secs_f64(),
                cri.last_byte.as_secs_f64(),
                ctr.last_byte.as_secs_f64(),
                overlapped,
            ];
            for (column, value) in columns.iter_mut().zip(row) {
                column.push(value);
            }
        }
        let [cri, ctr, cri_last, ctr_last, overlapped] = columns.map(|mut c| median(&mut c));
        summaries.push(format!(
            "{name}: medians: CRI PullImage {cri:.3} s, ctr images pull {ctr:.3} s (CRI / ctr {:.3}); \
             last byte CRI {cri_last:.3} s, ctr {ctr_last:.3} s (CRI / ctr {:.3}); \
             CRI / (base in + ctr unpack) {overlapped:.3}",
            cri / ctr,
            cri_last / ctr_last,
        ));
    }
    for line in summaries {
        println!("{line}");
    }
    node.stop().await;
    registry.shutdown().await;
    Ok(())
}

/// Removes every image but the pause image by id over CRI (content and snapshots go with the
/// last reference; `ctr images rm` would leave CRI's `sha256:` record behind).
async fn clear(node: &ContainerdNode) -> Result<(), String> {
    let cri = node.cri();
    for image in cri.list_images().await.map_err(|e| e.to_string())? {
        if !image
            .repo_tags
            .iter()
            .any(|t| t.contains(coldbench::image::synth::PAUSE_REPOSITORY))
        {
            cri.remove_image(&image.id)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

async fn cri_pull(
    node: &ContainerdNode,
    registry: &Registry,
    reference: &str,
    base: &str,
) -> Result<Pull, String> {
    let before = registry.served_by_node(0).blobs;
    let t = Instant::now();
    node.cri()
        .pull_image(reference, None)
        .await
        .map_err(|e| format!("CRI pull: {e}"))?;
    Ok(finished(registry, t, before, None, base))
}

async fn ctr_pull(
    node: &ContainerdNode,
    registry: &Registry,
    reference: &str,
    base: &str,
) -> Result<Pull, String> {
    let before = registry.served_by_node(0).blobs;
    let t = Instant::now();
    let out = tokio::process::Command::new("ctr")
        .arg("-a")
        .arg(node.socket())
        .args(["-n", "k8s.io", "images", "pull", "--plain-http", reference])
        .output()
        .await
        .map_err(|e| format!("running ctr: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ctr pull: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let unpack = String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        l.trim()
            .strip_prefix("done: ")
            .map(str::trim)
            .and_then(go_duration)
    });
    Ok(finished(registry, t, before, unpack, base))
}

fn finished(
    registry: &Registry,
    t: Instant,
    before: u64,
    unpack: Option<Duration>,
    base: &str,
) -> Pull {
    let took = t.elapsed();
    let sent = registry.blobs_sent_to_node(0, t);
    let last_byte = sent.iter().map(|s| s.at - t).max().unwrap_or_default();
    let base_in = sent
        .iter()
        .filter(|s| s.digest == base)
        .map(|s| s.at - t)
        .max()
        .unwrap_or_default();
    Pull {
        took,
        last_byte,
        base_in,
        bytes: registry.served_by_node(0).blobs - before,
        unpack,
    }
}

fn check_cold(pull: &Pull, image: &StoredImage) -> Result<(), String> {
    if pull.bytes == image.compressed_size {
        Ok(())
    } else {
        Err(format!(
            "a pull moved {} B where the image has {} B: not cold",
            pull.bytes, image.compressed_size
        ))
    }
}

/// Go's `time.Duration` text as ctr prints it (`1.234567s`, `850.1ms`, `912µs`).
fn go_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic() || c == 'µ')?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => value,
        "ms" => value / 1e3,
        "µs" | "us" => value / 1e6,
        "ns" => value / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
