//! Nodes emulated on one host share its cores: their layer extractions and container starts
//! are processor sharing over [`ModelParams::shared_cores`], each job using at most one core.
//!
//! Work is in core-µs (a job's duration on a core of its own); the host is a
//! [`FluidNetwork`] whose "egress" is the cores and whose "nodes" are one lane per job, each
//! capped at one core. A job arrives when what it waits for is done: a layer's extraction when
//! it is downloaded (and, extracting serially, the previous layer is extracted), a replica's
//! create + start when it is requested and its node's image is present.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::burst::ReplicaTimes;
use super::flow::FluidNetwork;
use super::pull::{download_schedule, Downloads, LayerDone, NodePull};
use super::{seconds_to_us, ExtractMode, ImageModel, Links, ModelParams};
use crate::plan::Slot;

/// Work units of one core for one second.
const CORE: f64 = 1e6;

/// A job that may start at `time` (s).
#[derive(Debug, Clone, Copy)]
struct Arrival {
    time: f64,
    job: usize,
}

impl PartialEq for Arrival {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Arrival {}
impl PartialOrd for Arrival {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Arrival {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time
            .total_cmp(&other.time)
            .then(self.job.cmp(&other.job))
    }
}

/// Each node's pull and each replica's times (replica order) when the nodes share `cores`.
pub(super) fn simulate_shared(
    image: &ImageModel,
    starts: &[Option<f64>],
    slots: &[Slot],
    params: &ModelParams,
    links: &Links,
    cores: f64,
) -> (Vec<Option<NodePull>>, Vec<ReplicaTimes>) {
    let downloads = download_schedule(image, starts, params, links);
    let mut host = Host::new(image, &downloads, slots, params, cores);
    host.run();
    host.results()
}

/// The shared host during one burst.
struct Host<'a> {
    image: &'a ImageModel,
    downloads: &'a Downloads,
    slots: &'a [Slot],
    params: &'a ModelParams,
    layers: usize,
    cpu: FluidNetwork,
    arrivals: BinaryHeap<Reverse<Arrival>>,
    /// Extract completion (s) of `node * layers + layer`.
    extracted: Vec<f64>,
    /// Layers left to extract per node.
    left: Vec<usize>,
    /// When each node's image is present (s).
    present: Vec<Option<f64>>,
    /// Replica ready times (s), slot order.
    ready: Vec<f64>,
    /// Slot indices per node.
    by_node: Vec<Vec<usize>>,
}

impl<'a> Host<'a> {
    fn new(
        image: &'a ImageModel,
        downloads: &'a Downloads,
        slots: &'a [Slot],
        params: &'a ModelParams,
        cores: f64,
    ) -> Self {
        let nodes = downloads.starts.len();
        let layers = image.layers.len();
        let lanes = nodes * layers + slots.len();
        let mut by_node = vec![Vec::new(); nodes];
        for (i, slot) in slots.iter().enumerate() {
            if let Some(list) = by_node.get_mut(slot.node) {
                list.push(i);
            }
        }
        let mut host = Host {
            image,
            downloads,
            slots,
            params,
            layers,
            cpu: FluidNetwork::new(Some(cores * CORE), &vec![Some(CORE); lanes], lanes),
            arrivals: BinaryHeap::new(),
            extracted: vec![f64::INFINITY; nodes * layers],
            left: vec![layers; nodes],
            present: vec![None; nodes],
            ready: vec![f64::INFINITY; slots.len()],
            by_node,
        };
        for node in 0..nodes {
            host.begin_node(node);
        }
        host
    }

    /// Queues a pulling node's first extractions (or its replicas, for an image without layers).
    fn begin_node(&mut self, node: usize) {
        let Some(start) = self.downloads.starts[node] else {
            return;
        };
        let metadata_done = start + self.downloads.metadata;
        if self.layers == 0 {
            self.image_present(node, metadata_done);
            return;
        }
        let first = match self.params.extract_mode {
            ExtractMode::Serial => 0..1,
            ExtractMode::Parallel => 0..self.layers,
        };
        for layer in first {
            let job = node * self.layers + layer;
            let time = self.downloads.done[job].max(metadata_done);
            self.arrivals.push(Reverse(Arrival { time, job }));
        }
    }

    fn run(&mut self) {
        let mut done = Vec::new();
        loop {
            let arrival = self.arrivals.peek().map(|Reverse(a)| a.time);
            let Some(t) = self.cpu.next_event(arrival) else {
                break;
            };
            if !t.is_finite() {
                break;
            }
            self.cpu.advance(t, &mut done);
            for job in std::mem::take(&mut done) {
                self.finished(job, t);
            }
            while let Some(Reverse(a)) = self
                .arrivals
                .peek()
                .copied()
                .filter(|Reverse(a)| a.time <= t)
            {
                self.arrivals.pop();
                self.cpu.start(a.job, self.work(a.job), a.job);
            }
        }
    }

    /// Core-µs of a job: an extraction, or a replica's create + start (at least 1).
    fn work(&self, job: usize) -> u64 {
        let seconds = match self.layer_of(job) {
            Some((_, layer)) => {
                let layer = &self.image.layers[layer];
                self.params.extract_seconds(layer.uncompressed, layer.files)
            }
            None => super::us_to_seconds(
                self.params
                    .create_for(self.image.uncompressed_bytes())
                    .saturating_add(self.params.start_us),
            ),
        };
        seconds_to_us(seconds).max(1)
    }

    /// `(node, layer)` of an extraction job, `None` for a replica's start.
    fn layer_of(&self, job: usize) -> Option<(usize, usize)> {
        let extractions = self.extracted.len();
        (job < extractions).then(|| (job / self.layers, job % self.layers))
    }

    fn finished(&mut self, job: usize, t: f64) {
        let Some((node, layer)) = self.layer_of(job) else {
            let slot = job - self.extracted.len();
            self.ready[slot] = t + super::us_to_seconds(self.params.first_request_us);
            return;
        };
        self.extracted[job] = t;
        self.left[node] -= 1;
        let next = layer + 1;
        if self.params.extract_mode == ExtractMode::Serial && next < self.layers {
            let job = node * self.layers + next;
            let time = self.downloads.done[job].max(t);
            self.arrivals.push(Reverse(Arrival { time, job }));
        }
        if self.left[node] == 0 {
            let overhead = super::us_to_seconds(self.params.pull_overhead_us);
            self.image_present(node, t + overhead);
        }
    }

    /// The node's image is present at `at`: its replicas may start once requested.
    fn image_present(&mut self, node: usize, at: f64) {
        self.present[node] = Some(at);
        let base = self.extracted.len();
        for &slot in &self.by_node[node] {
            let requested = self.slots[slot].offset.as_secs_f64();
            self.arrivals.push(Reverse(Arrival {
                time: at.max(requested),
                job: base + slot,
            }));
        }
    }

    /// Each node's pull and each replica's times, in replica order.
    fn results(self) -> (Vec<Option<NodePull>>, Vec<ReplicaTimes>) {
        let pulls = self
            .downloads
            .starts
            .iter()
            .enumerate()
            .map(|(node, start)| {
                let start = (*start)?;
                let layers = (0..self.layers)
                    .map(|l| {
                        let job = node * self.layers + l;
                        LayerDone {
                            download_us: seconds_to_us(self.downloads.done[job] - start),
                            extract_us: seconds_to_us(self.extracted[job] - start),
                        }
                    })
                    .collect();
                let present = self.present[node].unwrap_or(f64::INFINITY);
                Some(NodePull {
                    started_us: seconds_to_us(start),
                    pull_us: seconds_to_us(present - start),
                    layers,
                })
            })
            .collect();
        let mut replicas: Vec<ReplicaTimes> = self
            .slots
            .iter()
            .zip(&self.ready)
            .map(|(slot, &ready)| ReplicaTimes {
                replica: slot.replica,
                node: slot.node,
                requested_us: seconds_to_us(slot.offset.as_secs_f64()),
                ready_us: seconds_to_us(ready),
            })
            .collect();
        replicas.sort_by_key(|r| r.replica);
        (pulls, replicas)
    }
}
