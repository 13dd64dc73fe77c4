//! Steps on a cluster ([`Cluster`]): the kubelets pull and start, so a step is one pod (single)
//! or one Deployment scaled on the plan's schedule (burst). Each step's image is made cold
//! first — a salted copy no node has (`cold = "salt"`), or the image evicted from every node —
//! and the registry's byte count checks it. Timelines from the watch become samples through
//! [`super::timeline::measure`].

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::layers::with_registry_times;
use super::timeline::{measure, Measured};
use super::{Coldness, ExecuteError, Execution, Strategy, VariantJob};
use crate::analysis::{burst_floor_us, burst_milestones};
use crate::driver::cluster::{Cluster, PodRequest, PodTimeline, ScaleStep};
use crate::image::salt::{remove_salted, salt_image};
use crate::measure::micros;
use crate::plan::{Slot, Step};
use crate::registry::{BlobSent, Store};
use crate::results::{now_utc, BurstRecord, Outcome, Phase, PhaseTimes, Sample, StoredImage};

/// The port the app listens on in the pod when the variant's `ready.port` does not say.
pub const DEFAULT_POD_PORT: u16 = 8080;

/// Longest a pod or Deployment name prefix taken from a variant's name (a Deployment's pods
/// add 17 characters; names are at most 63).
const MAX_NAME_STEM: usize = 36;

/// A DNS-1123 name for step `index` of `variant`: `stem-{tag}{index}`.
pub fn object_name(variant: &str, tag: &str, index: usize) -> String {
    let mut stem: String = variant
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(MAX_NAME_STEM)
        .collect();
    stem = stem.trim_matches('-').to_string();
    if stem.is_empty() {
        stem = "variant".into();
    }
    format!("{stem}-{tag}{index}")
}

/// The image a step pulls, made cold; removed from the store after the step when salted.
struct ColdImage {
    image: StoredImage,
    salted: Option<Store>,
}

impl ColdImage {
    /// Salts the variant's image for step `index`, or evicts it from every node.
    async fn prepare(
        ex: &Execution<'_>,
        variant: &VariantJob,
        index: usize,
    ) -> Result<ColdImage, String> {
        match &ex.cold {
            Coldness::Salt(store) => {
                let store = (*store).clone();
                let original = variant.image.clone();
                let salt = format!("{}/{index}", ex.run_id);
                let tag = format!("salt-{index}");
                let keep = store.clone();
                let salted = tokio::task::spawn_blocking(move || {
                    salt_image(&store, &original, &salt, &original.repository, &tag)
                })
                .await
                .map_err(|e| format!("salting the image: {e}"))?
                .map_err(|e| format!("salting the image: {e}"))?;
                Ok(ColdImage {
                    image: salted,
                    salted: Some(keep),
                })
            }
            Coldness::Evict => {
                for node in 0..ex.driver.nodes() {
                    ex.driver
                        .evict(node, ex.registry(0))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(ColdImage {
                    image: variant.image.clone(),
                    salted: None,
                })
            }
        }
    }

    /// Deletes a salted copy from the store (the original stays).
    async fn discard(self) {
        if let Some(store) = self.salted {
            let image = self.image;
            let _ = tokio::task::spawn_blocking(move || remove_salted(&store, &image)).await;
        }
    }
}

fn pod_request(
    ex: &Execution<'_>,
    variant: &VariantJob,
    image: &StoredImage,
    name: String,
) -> PodRequest {
    PodRequest {
        name,
        run_id: ex.run_id.to_string(),
        variant: variant.name.clone(),
        image: format!("{}/{}:{}", ex.registry(0), image.repository, image.tag),
        port: variant
            .ready
            .port
            .as_ref()
            .map_or(DEFAULT_POD_PORT, |p| *p.get_ref()),
        env: variant.env.clone(),
        ready: variant.ready.clone(),
    }
}

/// Index of the pod's node in the cluster's node list (0 when unknown).
fn node_index(cluster: &dyn Cluster, timeline: &PodTimeline) -> usize {
    cluster
        .node_names()
        .iter()
        .position(|n| Some(n) == timeline.node.as_ref())
        .unwrap_or(0)
}

/// A sample that failed before any pod existed.
fn failed_sample(variant: &VariantJob, step: &Step, index: usize, message: String) -> Sample {
    Sample {
        index,
        repetition: step.repetition,
        variant: variant.name.clone(),
        warmup: step.warmup,
        node: 0,
        started_at: now_utc(),
        phases: PhaseTimes::default(),
        blob_bytes: 0,
        manifest_bytes: 0,
        expected_bytes: variant.image.compressed_size,
        cold: false,
        layers: Vec::new(),
        outcome: Outcome::Failed {
            phase: Phase::Pull,
            message,
        },
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: None,
        pod: None,
        registry: None,
        probe: None,
    }
}

/// One pod's cold start, its bytes checked against the (salted) image's size.
pub async fn cold_start(
    ex: &Execution<'_>,
    cluster: &dyn Cluster,
    variant: &VariantJob,
    step: &Step,
    index: usize,
) -> Result<Sample, ExecuteError> {
    let cold = match ColdImage::prepare(ex, variant, index).await {
        Ok(c) => c,
        Err(message) => return Ok(failed_sample(variant, step, index, message)),
    };
    let request = pod_request(
        ex,
        variant,
        &cold.image,
        object_name(&variant.name, "", index),
    );
    let started_at = now_utc();
    let before = ex.bytes.served(0);
    let t0 = Instant::now();
    let timeline = cluster.cold_start(&request).await;
    let ended = Instant::now();
    let after = ex.bytes.served(0);
    let sent = ex.bytes.blobs_sent(0, t0);
    let counts = ex.bytes.registry_counts(0, t0);
    let Measured {
        phases,
        outcome,
        pod,
    } = measure(&timeline);
    let image = cold.image.clone();
    cold.discard().await;
    let blob_bytes = after.0.saturating_sub(before.0);
    let present = timeline
        .kubelet_pull
        .as_ref()
        .is_some_and(|p| p.already_present);
    let pull_start = timeline.pulling.unwrap_or(timeline.requested);
    Ok(Sample {
        index,
        repetition: step.repetition,
        variant: variant.name.clone(),
        warmup: step.warmup,
        node: node_index(cluster, &timeline),
        started_at,
        phases,
        blob_bytes,
        manifest_bytes: after.1.saturating_sub(before.1),
        expected_bytes: image.compressed_size,
        cold: blob_bytes == image.compressed_size && !present,
        layers: with_registry_times(Vec::new(), &image, &sent, pull_start),
        outcome,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: Some(micros(ended.saturating_duration_since(t0))),
        pod: Some(pod),
        registry: counts,
        probe: None,
    })
}

/// The plan's slots as scale steps: at each distinct offset, the replicas requested so far.
pub fn scale_steps(slots: &[Slot]) -> Vec<ScaleStep> {
    let offsets: BTreeSet<Duration> = slots.iter().map(|s| s.offset).collect();
    offsets
        .into_iter()
        .map(|offset| ScaleStep {
            offset,
            replicas: slots.iter().filter(|s| s.offset <= offset).count(),
        })
        .collect()
}

/// Bytes each node received, by the deliveries' peer addresses; `None` unless every delivery
/// came from a known node address.
pub fn bytes_by_node(sent: &[BlobSent], addresses: &[Option<IpAddr>]) -> Option<Vec<u64>> {
    if addresses.is_empty() || addresses.iter().any(Option::is_none) {
        return None;
    }
    let mut bytes = vec![0u64; addresses.len()];
    for delivery in sent {
        let node = addresses.iter().position(|a| *a == delivery.peer)?;
        bytes[node] += delivery.bytes;
    }
    Some(bytes)
}

/// One burst on the cluster: returns one sample per replica (indexed from `first_sample`) and
/// the burst's record.
pub async fn burst(
    ex: &Execution<'_>,
    cluster: &dyn Cluster,
    variant: &VariantJob,
    step: &Step,
    index: usize,
    first_sample: usize,
) -> Result<(Vec<Sample>, BurstRecord), ExecuteError> {
    let steps = scale_steps(&ex.plan.slots);
    let cold = match ColdImage::prepare(ex, variant, index).await {
        Ok(c) => c,
        Err(message) => {
            let samples: Vec<Sample> = (0..ex.plan.slots.len())
                .map(|k| Sample {
                    burst: Some(index),
                    replica: Some(k),
                    ..failed_sample(variant, step, first_sample + k, message.clone())
                })
                .collect();
            let record = summarize(ex, variant, step, index, &samples, Vec::new(), 0);
            return Ok((samples, record));
        }
    };
    let request = pod_request(
        ex,
        variant,
        &cold.image,
        object_name(&variant.name, "b", index),
    );
    let started_at = now_utc();
    let before = ex.bytes.served(0);
    let t0 = Instant::now();
    let timelines = cluster.burst(&request, &steps, t0).await;
    let total = ex.bytes.served(0).0.saturating_sub(before.0);
    let sent = ex.bytes.blobs_sent(0, t0);
    let counts = ex.bytes.registry_counts(0, t0);
    let image = cold.image.clone();
    cold.discard().await;
    let by_node = bytes_by_node(&sent, &cluster.node_addresses());
    let pulling: BTreeSet<usize> = timelines
        .iter()
        .filter(|t| {
            t.pulling.is_some() || t.kubelet_pull.as_ref().is_some_and(|p| !p.already_present)
        })
        .map(|t| node_index(cluster, t))
        .collect();
    let size = image.compressed_size;
    let samples: Vec<Sample> = timelines
        .iter()
        .enumerate()
        .map(|(k, timeline)| {
            let node = node_index(cluster, timeline);
            let (bytes, expected) = match &by_node {
                Some(b) => (b.get(node).copied().unwrap_or(0), size),
                None => (total, size * pulling.len().max(1) as u64),
            };
            let Measured {
                phases,
                outcome,
                pod,
            } = measure(timeline);
            let since = |at: Instant| micros(at.saturating_duration_since(t0));
            let last = super::timeline::last_seen(timeline);
            Sample {
                index: first_sample + k,
                repetition: step.repetition,
                variant: variant.name.clone(),
                warmup: step.warmup,
                node,
                started_at: started_at.clone(),
                phases,
                blob_bytes: bytes,
                manifest_bytes: 0,
                expected_bytes: expected,
                cold: bytes == expected,
                layers: Vec::new(),
                outcome,
                burst: Some(index),
                replica: Some(k),
                requested_at_us: Some(since(timeline.requested)),
                ready_at_us: timeline.answered.map(since),
                finished_at_us: Some(since(last)),
                pod: Some(pod),
                registry: counts.clone(),
                probe: None,
            }
        })
        .collect();
    let node_bytes = by_node.unwrap_or_default();
    let record = summarize(
        ex,
        variant,
        step,
        index,
        &samples,
        node_bytes,
        pulling.len(),
    );
    Ok((samples, record))
}

/// The burst's record: capacity milestones, bytes per node (when attributable), the floor.
fn summarize(
    ex: &Execution<'_>,
    variant: &VariantJob,
    step: &Step,
    index: usize,
    samples: &[Sample],
    node_blob_bytes: Vec<u64>,
    nodes: usize,
) -> BurstRecord {
    let egress = match ex.strategy {
        Strategy::Burst { egress, .. } => egress,
        Strategy::Single => None,
    };
    let milestones = burst_milestones(samples);
    BurstRecord {
        index,
        repetition: step.repetition,
        variant: variant.name.clone(),
        warmup: step.warmup,
        nodes,
        replicas: samples.len(),
        first_ready_us: milestones.first_ready_us,
        half_ready_us: milestones.half_ready_us,
        full_ready_us: milestones.full_ready_us,
        capacity_seconds_lost: milestones.capacity_seconds_lost,
        node_blob_bytes,
        floor_us: burst_floor_us(nodes, variant.image.compressed_size, egress, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(object_name("Debian Slim", "", 3), "debian-slim-3");
        assert_eq!(object_name("__", "b", 0), "variant-b0");
        assert!(object_name(&"x".repeat(100), "b", 12).len() <= MAX_NAME_STEM + 4);
    }

    #[test]
    fn slots_become_cumulative_scale_steps() {
        let slot = |replica, ms| Slot {
            replica,
            node: 0,
            offset: Duration::from_millis(ms),
        };
        let steps = scale_steps(&[
            slot(0, 0),
            slot(1, 0),
            slot(2, 500),
            slot(3, 500),
            slot(4, 1000),
        ]);
        let got: Vec<(u64, usize)> = steps
            .iter()
            .map(|s| (s.offset.as_millis() as u64, s.replicas))
            .collect();
        assert_eq!(got, [(0, 2), (500, 4), (1000, 5)]);
    }

    #[test]
    fn bytes_go_to_the_node_whose_address_fetched_them() {
        let a: IpAddr = "127.0.0.10".parse().unwrap();
        let b: IpAddr = "127.0.0.11".parse().unwrap();
        let sent = |peer, bytes| BlobSent {
            digest: "sha256:x".into(),
            at: Instant::now(),
            peer: Some(peer),
            bytes,
        };
        let log = [sent(a, 5), sent(b, 7), sent(a, 1)];
        assert_eq!(bytes_by_node(&log, &[Some(a), Some(b)]), Some(vec![6, 7]));
        let stranger: IpAddr = "127.0.0.99".parse().unwrap();
        assert_eq!(bytes_by_node(&[sent(stranger, 1)], &[Some(a)]), None);
        assert_eq!(bytes_by_node(&log, &[]), None);
    }
}
