//! One cold start over CRI, call by call: `PullImage` (pull), `RunPodSandbox` on the host
//! network and `CreateContainer` (create), `StartContainer` (start), the first request, then
//! `StopPodSandbox` and `RemovePodSandbox`.
//!
//! kubelet itself runs the sandbox before it pulls the app's image; here the sandbox is counted
//! in the create phase, after the pull, so that `pull` is the image's pull alone.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use super::cri::{api, Cri};
use crate::driver::RUN_LABEL;
use crate::measure::probe::{wait_ready_async, ProbeSpec};

/// A pod with one container to cold-start.
#[derive(Debug, Clone)]
pub struct PodSpec {
    /// Pod and container name, unique in the run.
    pub name: String,
    /// The run it belongs to (the `coldbench.run` label).
    pub run_id: String,
    /// The image reference to pull and run.
    pub image: String,
    /// Port on 127.0.0.1 the app listens on (given as `PORT`).
    pub port: u16,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Where the container's output goes (`<dir>/<name>.log`); none when `None`.
    pub log_dir: Option<std::path::PathBuf>,
}

impl PodSpec {
    /// The sandbox config: host network (no CNI), no hostname (a host-network sandbox cannot
    /// set one), a unique uid, and the run label.
    pub fn sandbox_config(&self) -> api::PodSandboxConfig {
        let labels = self.labels();
        api::PodSandboxConfig {
            metadata: Some(api::PodSandboxMetadata {
                name: self.name.clone(),
                uid: format!("{}-{}", self.run_id, self.name),
                namespace: "coldbench".into(),
                attempt: 0,
            }),
            labels,
            log_directory: self
                .log_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            linux: Some(api::LinuxPodSandboxConfig {
                security_context: Some(api::LinuxSandboxSecurityContext {
                    namespace_options: Some(api::NamespaceOption {
                        network: api::NamespaceMode::Node as i32,
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The container config: the image, `PORT` and the extra environment.
    pub fn container_config(&self) -> api::ContainerConfig {
        let mut envs = vec![api::KeyValue {
            key: "PORT".into(),
            value: self.port.to_string(),
        }];
        envs.extend(self.env.iter().map(|(k, v)| api::KeyValue {
            key: k.clone(),
            value: v.clone(),
        }));
        api::ContainerConfig {
            metadata: Some(api::ContainerMetadata {
                name: self.name.clone(),
                attempt: 0,
            }),
            image: Some(api::ImageSpec {
                image: self.image.clone(),
                ..Default::default()
            }),
            envs,
            labels: self.labels(),
            log_path: format!("{}.log", self.name),
            ..Default::default()
        }
    }

    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([(RUN_LABEL.to_string(), self.run_id.clone())])
    }
}

/// A started pod: what to remove afterwards.
#[derive(Debug, Clone)]
pub struct StartedPod {
    /// The sandbox id.
    pub sandbox_id: String,
    /// The container id.
    pub container_id: String,
}

/// How long each call of one cold start took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStart {
    /// `PullImage`.
    pub pull: Duration,
    /// `RunPodSandbox` alone (part of `create`).
    pub sandbox: Duration,
    /// `RunPodSandbox` + `CreateContainer`.
    pub create: Duration,
    /// `StartContainer`.
    pub start: Duration,
    /// From `StartContainer`'s return to the first expected answer.
    pub first_request: Duration,
    /// From `PullImage`'s call to the first answer.
    pub total: Duration,
}

/// Runs the sandbox and creates the container in it; on a failed create the sandbox is removed.
pub async fn create(cri: &Cri, pod: &PodSpec) -> Result<(StartedPod, Duration), String> {
    if let Some(dir) = &pod.log_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("creating the log directory {}: {e}", dir.display()))?;
    }
    let t0 = Instant::now();
    let sandbox_id = cri
        .run_pod_sandbox(pod.sandbox_config())
        .await
        .map_err(|e| e.to_string())?;
    let sandbox = t0.elapsed();
    match cri
        .create_container(&sandbox_id, pod.container_config(), pod.sandbox_config())
        .await
    {
        Ok(container_id) => Ok((
            StartedPod {
                sandbox_id,
                container_id,
            },
            sandbox,
        )),
        Err(e) => {
            let _ = cri.stop_and_remove_sandbox(&sandbox_id).await;
            Err(e.to_string())
        }
    }
}

/// The whole sequence for `pod`, probing `GET /` for 200 within `ready_timeout`; the pod is
/// removed afterwards whatever happened.
pub async fn cold_start(
    cri: &Cri,
    pod: &PodSpec,
    ready_timeout: Duration,
) -> Result<ColdStart, String> {
    let t0 = Instant::now();
    cri.pull_image(&pod.image, Some(pod.sandbox_config()))
        .await
        .map_err(|e| e.to_string())?;
    let pulled = Instant::now();
    let (started, sandbox) = create(cri, pod).await?;
    let created = Instant::now();
    let outcome = async {
        cri.start_container(&started.container_id)
            .await
            .map_err(|e| e.to_string())?;
        let start_returned = Instant::now();
        let ready = wait_ready_async(ProbeSpec {
            port: pod.port,
            path: "/".into(),
            status: 200,
            timeout: ready_timeout,
            cancel: None,
        })
        .await
        .map_err(|e| e.to_string())?;
        let ready = Instant::from_std(ready.at);
        Ok::<_, String>(ColdStart {
            pull: pulled - t0,
            sandbox,
            create: created - pulled,
            start: start_returned - created,
            first_request: ready.saturating_duration_since(start_returned),
            total: ready - t0,
        })
    }
    .await;
    if let Err(e) = cri.stop_and_remove_sandbox(&started.sandbox_id).await {
        tracing::warn!("removing pod {}: {e}", pod.name);
    }
    outcome
}
