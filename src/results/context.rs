//! Facts about the host and the engine that make results comparable.

use serde::{Deserialize, Serialize};

/// The machine a run measured on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostContext {
    /// CPU model name.
    pub cpu_model: Option<String>,
    /// Logical cores available.
    pub cores: usize,
    /// Kernel release.
    pub kernel: Option<String>,
    /// OS name.
    pub os: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
}

impl HostContext {
    /// Reads what this host tells about itself (Linux files; absent elsewhere).
    pub fn detect() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let cpu_model = read("/proc/cpuinfo").and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        let os = read("/etc/os-release").and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
        HostContext {
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()),
            os: os.or_else(|| Some(std::env::consts::OS.to_string())),
            hostname: read("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()),
        }
    }
}

/// Facts about the engine, recorded in results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineContext {
    /// Driver name (`docker`).
    pub driver: String,
    /// Where the engine was reached.
    pub endpoint: String,
    /// `fresh` (a dedicated daemon started for the run), `sockets` (engines at sockets the
    /// scenario names) or `engine` (the user's).
    #[serde(default)]
    pub node: String,
    /// Engine version (`20.10.24`; `containerd 1.6.20`).
    pub version: Option<String>,
    /// API version in use (Docker's; the CRI's `v1` for containerd).
    pub api_version: Option<String>,
    /// Docker's storage (graph) driver (`overlay2`); none for containerd, see `snapshotter`.
    pub storage_driver: Option<String>,
    /// containerd's snapshotter for CRI pulls (`overlayfs`); none for Docker.
    #[serde(default)]
    pub snapshotter: Option<String>,
    /// The CRI runtime handler pods run with (`runc`); none for Docker.
    #[serde(default)]
    pub runtime_handler: Option<String>,
    /// Kernel as the engine reports it.
    pub kernel: Option<String>,
    /// Engine's OS.
    pub os: Option<String>,
}
