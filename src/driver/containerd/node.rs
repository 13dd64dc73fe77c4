//! Fresh containerd nodes: a dedicated containerd with its own root, state, sockets and config
//! under one short directory in /tmp, started for a run and removed with everything it made.
//!
//! The node's snapshot event subscription ([`NodeEvents`]) opens once containerd answers and
//! closes first at teardown (dropping the node ends it too).
//!
//! Teardown is layered so nothing is left even when a test fails midway: [`ContainerdNode::stop`]
//! removes every pod sandbox over CRI first; then (also from `Drop`) containerd gets SIGTERM and,
//! after a grace period, SIGKILL; shims still serving this node and their containers are killed;
//! mounts under the directory are detached; the directory is removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::config::{self, NodeLayout};
use super::cri::Cri;
use super::events::NodeEvents;
use crate::driver::host::{find_program, linux_root};

/// How long a starting containerd may take to answer `Version`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping containerd may take before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Directory prefix of every node (`/tmp/cbc<index>-…`).
pub const DIR_PREFIX: &str = "cbc";

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Not root, not Linux, or no containerd.
    #[error("cannot start a containerd node: {0}")]
    Unavailable(String),
    /// containerd did not answer.
    #[error("containerd node {index}: no answer on {socket} within {timeout:?} ({last}); last lines of {log}:\n{tail}")]
    NoAnswer {
        index: usize,
        socket: String,
        timeout: Duration,
        last: String,
        log: String,
        tail: String,
    },
    /// Other I/O.
    #[error("containerd node {index}: {what}: {source}")]
    Io {
        index: usize,
        what: String,
        source: std::io::Error,
    },
}

/// Whether containerd nodes can be started here; `Ok` is the containerd binary, `Err` says why
/// not and what to install.
pub fn available() -> Result<PathBuf, String> {
    linux_root("containerd nodes", "containerd")?;
    for needed in ["containerd-shim-runc-v2", "runc"] {
        if find_program(needed).is_none() {
            return Err(format!(
                "no {needed} on PATH (install Debian's containerd or docker.io)"
            ));
        }
    }
    find_program("containerd")
        .ok_or_else(|| "no containerd on PATH (install Debian's containerd or docker.io)".into())
}

/// A running dedicated containerd.
pub struct ContainerdNode {
    index: usize,
    layout: NodeLayout,
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
    cri: Cri,
    events: NodeEvents,
}

impl ContainerdNode {
    /// Starts node `index` whose sandbox image is `sandbox_image` and whose registry hosts
    /// (`127.0.0.1:PORT` each) are reached over plain HTTP; waits until CRI answers.
    pub async fn start(
        index: usize,
        sandbox_image: &str,
        registries: &[String],
    ) -> Result<ContainerdNode, NodeError> {
        let containerd = available().map_err(NodeError::Unavailable)?;
        let io = |what: &str| {
            let what = what.to_string();
            move |source| NodeError::Io {
                index,
                what,
                source,
            }
        };
        // Unix socket paths are limited to ~108 bytes: keep the directory short.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{index}-"))
            .tempdir_in("/tmp")
            .map_err(io("creating the node directory"))?;
        let layout = NodeLayout {
            dir: dir.path().to_path_buf(),
        };
        config::write(&layout, sandbox_image, registries).map_err(io("writing its config"))?;
        let log = std::fs::File::create(layout.log()).map_err(io("creating its log"))?;
        let log_err = log.try_clone().map_err(io("opening its log"))?;
        let child = Command::new(containerd)
            .arg("--config")
            .arg(layout.config())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io("spawning containerd"))?;
        let mut guard = Guard {
            layout: layout.clone(),
            dir: Some(dir),
            child: Some(child),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = String::from("no attempt");
        loop {
            if layout.socket().exists() {
                match Cri::connect(&layout.socket()).await {
                    Ok(cri) => match cri.version().await {
                        Ok(_) => {
                            // Subscribed before any pull, so no pull waits for it.
                            let events = NodeEvents::open(&layout.socket(), index).await;
                            return Ok(ContainerdNode {
                                index,
                                layout,
                                dir: guard.dir.take(),
                                child: guard.child.take(),
                                cri,
                                events,
                            });
                        }
                        Err(e) => last = e.to_string(),
                    },
                    Err(e) => last = e.to_string(),
                }
            }
            let exited = guard
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                last = format!("containerd exited: {status}");
            }
            if exited.is_some() || Instant::now() > deadline {
                let tail = tail(&layout.log(), 15);
                return Err(NodeError::NoAnswer {
                    index,
                    socket: layout.socket().display().to_string(),
                    timeout: START_TIMEOUT,
                    last,
                    log: layout.log().display().to_string(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The node's CRI client.
    pub fn cri(&self) -> &Cri {
        &self.cri
    }

    /// The node's snapshot events (extraction times of its pulls).
    pub fn events(&self) -> &NodeEvents {
        &self.events
    }

    /// Node number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The node's directory (root, state, socket, config, log).
    pub fn dir(&self) -> &Path {
        &self.layout.dir
    }

    /// Sends the node's pulls of registry host `name` to `host_port` over plain HTTP.
    pub fn route_registry(&self, name: &str, host_port: &str) -> std::io::Result<()> {
        config::write_hosts(&self.layout, name, host_port)
    }

    /// The node's CRI socket.
    pub fn socket(&self) -> PathBuf {
        self.layout.socket()
    }

    /// containerd's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Removes every pod sandbox over CRI, then stops containerd and removes everything it left.
    pub async fn stop(mut self) {
        self.events.close().await;
        match self.cri.list_sandboxes(HashMap::new()).await {
            Ok(sandboxes) => {
                for s in sandboxes {
                    if let Err(e) = self.cri.stop_and_remove_sandbox(&s.id).await {
                        tracing::warn!("containerd node {}: {e}", self.index);
                    }
                }
            }
            Err(e) => tracing::warn!("containerd node {}: {e}", self.index),
        }
        let mut guard = Guard {
            layout: self.layout.clone(),
            dir: self.dir.take(),
            child: self.child.take(),
        };
        tokio::task::spawn_blocking(move || guard.clean())
            .await
            .ok();
    }
}

impl Drop for ContainerdNode {
    fn drop(&mut self) {
        Guard {
            layout: self.layout.clone(),
            dir: self.dir.take(),
            child: self.child.take(),
        }
        .clean();
    }
}

/// What must go when a node goes; cleans on drop, so a failed start leaves nothing either.
struct Guard {
    layout: NodeLayout,
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

impl Guard {
    fn clean(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: sending a signal to our own child process.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let deadline = Instant::now() + STOP_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let Some(dir) = self.dir.take() else {
            return;
        };
        // Shims outlive containerd: kill the ones serving this node, and their containers.
        kill_processes_of(&self.layout.dir);
        unmount_below(&self.layout.dir);
        let path = dir.path().to_path_buf();
        if let Err(e) = dir.close() {
            tracing::warn!("could not remove {}: {e}", path.display());
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.clean();
    }
}

/// What a node left behind: processes naming its directory and mounts under it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Remains {
    /// `pid: command line` of each process whose command line names the directory.
    pub processes: Vec<String>,
    /// Mount points under the directory.
    pub mounts: Vec<String>,
}

impl Remains {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty() && self.mounts.is_empty()
    }
}

/// Processes and mounts of the node that lived in `dir`.
pub fn remains(dir: &Path) -> Remains {
    Remains {
        processes: processes_naming(dir)
            .into_iter()
            .map(|(pid, cmd)| format!("{pid}: {cmd}"))
            .collect(),
        mounts: mounts_below(dir),
    }
}

/// (pid, command line) of every process whose command line contains `dir`.
fn processes_naming(dir: &Path) -> Vec<(i32, String)> {
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmd.contains(&needle).then(|| (pid, cmd.trim().to_string()))
        })
        .collect()
}

/// Parent pid of `pid` from `/proc/<pid>/stat`.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Where containerd 1.6 puts shim sockets, whatever its state directory.
const SHIM_SOCKET_DIR: &str = "/run/containerd/s";

/// The sockets of the shims serving the node in `dir` now: containerd names each
/// `/run/containerd/s/<sha256 of "<grpc address>/<namespace>/<id>">`, outside the node's
/// directory, and a killed shim leaves its socket behind.
pub fn shim_sockets(dir: &Path) -> Vec<PathBuf> {
    use sha2::{Digest, Sha256};
    processes_naming(dir)
        .into_iter()
        .filter_map(|(_, cmd)| {
            let args: Vec<&str> = cmd.split_whitespace().collect();
            let flag = |name: &str| {
                args.windows(2)
                    .find(|w| w[0] == name)
                    .map(|w| w[1].to_string())
            };
            let (ns, id, address) = (flag("-namespace")?, flag("-id")?, flag("-address")?);
            let key = Path::new(&address).join(ns).join(id);
            let hash = Sha256::digest(key.display().to_string().as_bytes());
            Some(Path::new(SHIM_SOCKET_DIR).join(hex::encode(hash)))
        })
        .collect()
}

/// SIGKILLs every process naming `dir` (shims) and all their descendants (containers), and
/// removes the killed shims' sockets.
fn kill_processes_of(dir: &Path) {
    let roots: Vec<i32> = processes_naming(dir).into_iter().map(|(p, _)| p).collect();
    if roots.is_empty() {
        return;
    }
    let sockets = shim_sockets(dir);
    let all: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|pid| Some((pid, parent_of(pid)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut doomed = roots.clone();
    let mut i = 0;
    while i < doomed.len() {
        let parent = doomed[i];
        doomed.extend(
            all.iter()
                .filter(|(pid, ppid)| *ppid == parent && !doomed.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    // Children first, so a shim cannot restart or reap-and-reuse in between.
    for pid in doomed.iter().rev() {
        // SAFETY: kill(2) on a pid; at worst ESRCH.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while doomed
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    for socket in sockets {
        let _ = std::fs::remove_file(socket);
    }
}

/// Mount points under `dir`, from `/proc/self/mountinfo`.
fn mounts_below(dir: &Path) -> Vec<String> {
    let prefix = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| m.replace("\\040", " "))
        .filter(|m| m.starts_with(&prefix))
        .collect()
}

/// Lazily unmounts anything still mounted under `dir` (deepest first).
fn unmount_below(dir: &Path) {
    let mut targets = mounts_below(dir);
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
