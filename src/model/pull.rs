//! A node's pull: metadata round trips, layer downloads over the shared network with a
//! per-node limit on layers in flight, then extraction (serial or parallel).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::flow::FluidNetwork;
use super::ModelParams;
use super::{rate_or_unlimited, seconds_to_us, us_to_seconds, ExtractMode, ImageModel, Links};

/// When one layer was done, µs after its node's pull started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerDone {
    /// Download complete.
    pub download_us: u64,
    /// Extract complete.
    pub extract_us: u64,
}

/// One node's pull.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodePull {
    /// When the pull started (µs after the burst started).
    pub started_us: u64,
    /// Pull duration: start → last layer extracted (µs).
    pub pull_us: u64,
    /// Each layer, base first.
    pub layers: Vec<LayerDone>,
}

impl NodePull {
    /// When the image is present on the node (µs after the burst started).
    pub fn done_at_us(&self) -> u64 {
        self.started_us.saturating_add(self.pull_us)
    }
}

/// A layer request that reaches the network at `time` (s), after the latency.
#[derive(Debug, Clone, Copy)]
struct Request {
    time: f64,
    node: usize,
    layer: usize,
}

impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Request {}
impl PartialOrd for Request {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Request {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |r: &Request| (r.node, r.layer);
        self.time
            .total_cmp(&other.time)
            .then(key(self).cmp(&key(other)))
    }
}

/// Every node's pull of `image`; `starts[node]` is when it starts (s), `None` for a node
/// that does not pull.
pub fn simulate_pulls(
    image: &ImageModel,
    starts: &[Option<f64>],
    params: &ModelParams,
    links: &Links,
) -> Vec<Option<NodePull>> {
    let Downloads {
        starts,
        metadata,
        done: downloads,
    } = download_schedule(image, starts, params, links);
    let layers = image.layers.len();
    starts
        .iter()
        .enumerate()
        .map(|(node, start)| {
            let start = (*start)?;
            let done = downloads
                .get(node * layers..(node + 1) * layers)
                .unwrap_or(&[]);
            Some(node_pull(image, start, start + metadata, done, params))
        })
        .collect()
}

/// Every node's downloads: when each node started, how long its metadata took, and when each
/// layer finished downloading.
pub(super) struct Downloads {
    /// Each node's start (s), cleaned: finite and not negative; `None` when it does not pull.
    pub starts: Vec<Option<f64>>,
    /// Metadata round trips (s), the same for every node.
    pub metadata: f64,
    /// Download completion (s) of `node * layers + layer`.
    pub done: Vec<f64>,
}

/// The downloads of every node's pull of `image`; `starts[node]` as in [`simulate_pulls`].
pub(super) fn download_schedule(
    image: &ImageModel,
    starts: &[Option<f64>],
    params: &ModelParams,
    links: &Links,
) -> Downloads {
    let starts: Vec<Option<f64>> = starts
        .iter()
        .map(|s| s.map(|s| if s.is_finite() { s.max(0.0) } else { 0.0 }))
        .collect();
    let metadata = metadata_seconds(image, params, links);
    let done = download_times(image, &starts, metadata, params, links);
    Downloads {
        starts,
        metadata,
        done,
    }
}

/// Round trips × latency, plus the tiny metadata bytes at the node's standalone rate.
fn metadata_seconds(image: &ImageModel, params: &ModelParams, links: &Links) -> f64 {
    let rate = rate_or_unlimited(links.egress_bytes_per_sec)
        .min(rate_or_unlimited(links.node_bytes_per_sec));
    f64::from(params.metadata_round_trips) * us_to_seconds(links.latency_us)
        + image.metadata_bytes as f64 / rate
}

/// Download completion (s) of every node's layers, `node * layers + layer`; layers are
/// requested in order, at most `download_concurrency` in flight per node, each after a latency.
fn download_times(
    image: &ImageModel,
    starts: &[Option<f64>],
    metadata: f64,
    params: &ModelParams,
    links: &Links,
) -> Vec<f64> {
    let layers = image.layers.len();
    let latency = us_to_seconds(links.latency_us);
    let in_flight = params.downloads_in_flight().min(layers);
    let mut done_at = vec![f64::INFINITY; starts.len() * layers];
    let mut next_layer = vec![in_flight; starts.len()];
    let mut requests = BinaryHeap::new();
    for (node, start) in starts.iter().enumerate() {
        for layer in 0..start.map_or(0, |_| in_flight) {
            let time = start.unwrap_or(0.0) + metadata + latency;
            requests.push(Reverse(Request { time, node, layer }));
        }
    }
    let downlinks = vec![links.node_bytes_per_sec; starts.len()];
    let mut net = FluidNetwork::new(links.egress_bytes_per_sec, &downlinks, starts.len());
    let mut done = Vec::new();
    loop {
        let arrival = requests.peek().map(|Reverse(r)| r.time);
        let Some(t) = net.next_event(arrival) else {
            break;
        };
        net.advance(t, &mut done);
        for id in done.drain(..) {
            done_at[id] = t;
            let node = id / layers;
            if next_layer[node] < layers {
                let layer = next_layer[node];
                next_layer[node] += 1;
                requests.push(Reverse(Request {
                    time: t + latency,
                    node,
                    layer,
                }));
            }
        }
        while let Some(Reverse(r)) = requests.peek().copied().filter(|Reverse(r)| r.time <= t) {
            requests.pop();
            let bytes = image.layers[r.layer].compressed;
            net.start(r.node, bytes, r.node * layers + r.layer);
        }
    }
    done_at
}

/// One node's pull from its download times: extraction serial or parallel.
fn node_pull(
    image: &ImageModel,
    start: f64,
    metadata_done: f64,
    downloads: &[f64],
    params: &ModelParams,
) -> NodePull {
    let mut previous = metadata_done;
    let mut last = metadata_done;
    let layers = image
        .layers
        .iter()
        .zip(downloads)
        .map(|(layer, &downloaded)| {
            let begin = match params.extract_mode {
                ExtractMode::Serial => downloaded.max(previous),
                ExtractMode::Parallel => downloaded,
            };
            let extracted = begin + params.extract_seconds(layer.uncompressed, layer.files);
            previous = extracted;
            last = last.max(extracted);
            LayerDone {
                download_us: seconds_to_us(downloaded - start),
                extract_us: seconds_to_us(extracted - start),
            }
        })
        .collect();
    NodePull {
        started_us: seconds_to_us(start),
        pull_us: seconds_to_us(last - start).saturating_add(params.pull_overhead_us),
        layers,
    }
}
