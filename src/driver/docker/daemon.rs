//! Fresh nodes: dedicated dockerd instances with their own empty data root, started for a run
//! and removed after it, so that no layer of any other image can make a pull warm.
//!
//! Each node gets a short directory under the system temp dir holding its data root, exec root,
//! pid file, unix socket and log; `--bridge=none --iptables=false --ip-masq=false` keep it off
//! the host's networking (containers use host networking on 127.0.0.1).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting dockerd may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping dockerd may take before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Not root, not Linux, or no dockerd.
    #[error("cannot start a fresh node: {0}")]
    Unavailable(String),
    /// dockerd failed.
    #[error("fresh node {index}: dockerd did not answer within {timeout:?}; last lines of {log}:\n{tail}")]
    NoAnswer {
        index: usize,
        timeout: Duration,
        log: String,
        tail: String,
    },
    /// Other I/O.
    #[error("fresh node: {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// Whether fresh nodes can be started here; `Err` says why not.
pub fn available() -> Result<PathBuf, String> {
    crate::driver::host::linux_root("fresh nodes", "dockerd")?;
    crate::driver::host::find_program("dockerd")
        .ok_or_else(|| "no dockerd on PATH (install docker.io)".into())
}

/// A running dedicated dockerd.
pub struct NodeDaemon {
    index: usize,
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

impl NodeDaemon {
    /// Starts node `index` and waits until its socket answers.
    pub async fn start(index: usize) -> Result<NodeDaemon, NodeError> {
        let dockerd = available().map_err(NodeError::Unavailable)?;
        // Unix socket paths are limited to ~108 bytes: keep the directory short.
        let dir = tempfile::Builder::new()
            .prefix(&format!("cbn{index}-"))
            .tempdir_in("/tmp")
            .map_err(|source| NodeError::Io {
                what: "creating the node directory".into(),
                source,
            })?;
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).map_err(|source| NodeError::Io {
            what: "creating the dockerd log".into(),
            source,
        })?;
        let log_err = log.try_clone().map_err(|source| NodeError::Io {
            what: "opening the dockerd log".into(),
            source,
        })?;
        let child = Command::new(dockerd)
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("docker.pid"))
            .arg("--host")
            .arg(format!("unix://{}", d.join("docker.sock").display()))
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|source| NodeError::Io {
                what: "spawning dockerd".into(),
                source,
            })?;
        let mut node = NodeDaemon {
            index,
            dir: Some(dir),
            child: Some(child),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(docker) =
                bollard::Docker::connect_with_unix(&node.host(), 5, bollard::API_DEFAULT_VERSION)
            {
                if docker.ping().await.is_ok() {
                    return Ok(node);
                }
            }
            let exited = node
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
                .is_some();
            if exited || Instant::now() > deadline {
                let log = node.log_path();
                let tail = tail(&log, 15);
                node.stop_blocking();
                return Err(NodeError::NoAnswer {
                    index,
                    timeout: START_TIMEOUT,
                    log: log.display().to_string(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The node's Docker host, `unix:///tmp/cbn0-…/docker.sock`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path().join("docker.sock").display())
    }

    /// Node number.
    pub fn index(&self) -> usize {
        self.index
    }

    fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new("/nonexistent"), |d| d.path())
    }

    fn log_path(&self) -> PathBuf {
        self.path().join("dockerd.log")
    }

    /// Stops dockerd (SIGTERM, then SIGKILL after a grace period) and removes its directory.
    pub async fn stop(mut self) {
        tokio::task::spawn_blocking(move || self.stop_blocking())
            .await
            .ok();
    }

    fn stop_blocking(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: sending a signal to our own child process.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let deadline = Instant::now() + STOP_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            // Overlay mounts and the data root go with the directory; a mount dockerd failed to
            // undo is detached first so the removal cannot fail on it.
            unmount_below(&path);
            if let Err(e) = dir.close() {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
    }
}

impl Drop for NodeDaemon {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

/// Lazily unmounts anything still mounted under `dir` (deepest first).
fn unmount_below(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return;
    };
    let prefix = dir.display().to_string();
    let mut targets: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for t in targets {
        if let Ok(c) = std::ffi::CString::new(t) {
            // SAFETY: a valid NUL-terminated path; MNT_DETACH only detaches.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
