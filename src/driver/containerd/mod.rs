//! The containerd driver: each node is a containerd reached over CRI gRPC, and every cold start
//! makes kubelet's calls (`PullImage`, `RunPodSandbox` on the host network, `CreateContainer`,
//! `StartContainer`).
//!
//! Files: `cri` (the generated CRI client over a unix socket), `config` (a node's `config.toml`
//! and kind-style `hosts.toml`), `node` (a fresh containerd's lifecycle and clean-up),
//! `events` (the node's subscription to containerd's own snapshot events: per-layer extraction
//! times), `existing` (a running containerd at a CRI socket, and what it needs), `sequence` (one
//! cold start, call by call), `driver` (the [`crate::driver::Driver`] over fresh and existing
//! nodes). A fresh node's sandbox (pause) image is the harness's own,
//! [`crate::image::synth::build_pause`]; an existing node's is its own `sandbox_image`.

pub mod config;
pub mod cri;
pub mod driver;
pub mod events;
pub mod existing;
pub mod node;
pub mod sequence;

pub use cri::{Cri, CriError};
pub use driver::ContainerdDriver;
pub use events::NodeEvents;
pub use existing::{CriConfig, ExistingError, ExistingNode};
pub use node::{ContainerdNode, NodeError};
pub use sequence::{cold_start, ColdStart, PodSpec};
