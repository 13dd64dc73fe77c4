//! The Kubernetes driver (`driver = "kube"`), being built (issue 13): for now only the parts that
//! need no cluster — reading what the kubelet reports in its events ([`pulled`]); images salted
//! per sample so no node has them cached are [`crate::image::salt`].
//!
//! Verified so far against the recorded API in `tests/common/kube_api/` with the real kube-rs
//! client (`tests/kube_api.rs`). Found there, for the driver to come: kube 5's client retries
//! 429, 503 and 504 by default (up to 15 times, backing off), so a first-request probe through the
//! pod proxy must turn that off (`Config::default_retry = false` or its own request), or a pod that
//! is not ready yet holds the probe for minutes.

pub mod pulled;
