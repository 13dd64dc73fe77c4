//! The Kubernetes driver (`driver = "kube"`), being built (issue 13): for now only the parts that
//! need no cluster — reading what the kubelet reports in its events.

pub mod pulled;
