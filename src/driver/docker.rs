//! The Docker driver (bollard): cold starts on one Docker engine.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListImagesOptions,
    RemoveContainerOptions, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::{ColdStart, Driver, DriverError, Measured};
use crate::image::REPO_PREFIX;
use crate::measure::micros;
use crate::measure::probe::{free_port, wait_ready_async, ProbeSpec};
use crate::results::EngineContext;
use crate::results::{LayerTiming, Outcome, Phase, PhaseTimes};

/// One started replica: create, start and first-request times, and when it was ready.
#[derive(Debug, Clone)]
pub struct Replica {
    /// `create_us`, `start_us`, `first_request_us`.
    pub phases: PhaseTimes,
    /// How it ended.
    pub outcome: Outcome,
    /// When the first expected answer arrived.
    pub ready_at: Option<Instant>,
}

/// Label put on every container the harness creates.
pub const RUN_LABEL: &str = "coldbench.run";

/// A Docker engine reached through its API.
#[derive(Clone)]
pub struct DockerDriver {
    docker: Docker,
    endpoint: String,
}

impl DockerDriver {
    /// Connects to `host` (or `$DOCKER_HOST`, or the local socket), negotiates the API version
    /// and checks that the engine answers.
    pub async fn connect(host: Option<&str>) -> Result<DockerDriver, DriverError> {
        let env_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        let endpoint = host
            .map(str::to_string)
            .or(env_host)
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let unreachable = |cause: String| DriverError::Unreachable {
            endpoint: endpoint.clone(),
            cause,
        };
        let docker =
            Docker::connect_with_host(&endpoint).map_err(|e| unreachable(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        docker
            .ping()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(DockerDriver { docker, endpoint })
    }

    /// The underlying client.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Pulls the job's image; returns per-layer progress times, or the engine's error.
    pub async fn pull(&self, job: &ColdStart) -> Result<Vec<LayerTiming>, String> {
        let (from_image, tag) = match job.image_ref.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
            _ => (job.image_ref.clone(), "latest".to_string()),
        };
        let options = CreateImageOptions {
            from_image: Some(from_image),
            tag: Some(tag),
            ..Default::default()
        };
        let t0 = Instant::now();
        // The engine names layers by the first 12 hex digits of their blob digest.
        let mut layers: Vec<LayerTiming> = job
            .image
            .layers
            .iter()
            .map(|l| LayerTiming {
                digest: l.digest.to_string(),
                download_complete_us: None,
                extract_complete_us: None,
                already_present: false,
            })
            .collect();
        let short: HashMap<String, usize> = job
            .image
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.digest.hex()[..12].to_string(), i))
            .collect();
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| e.to_string())?;
            if let Some(detail) = info.error_detail {
                return Err(detail.message.unwrap_or_else(|| "pull failed".into()));
            }
            let (Some(id), Some(status)) = (info.id, info.status) else {
                continue;
            };
            let Some(&i) = short.get(&id) else { continue };
            let now = micros(t0.elapsed());
            match status.as_str() {
                "Download complete" => layers[i].download_complete_us = Some(now),
                "Pull complete" => layers[i].extract_complete_us = Some(now),
                "Already exists" => layers[i].already_present = true,
                _ => {}
            }
        }
        Ok(layers)
    }

    async fn create_and_start(
        &self,
        job: &ColdStart,
        name: &str,
        port: u16,
        phases: &mut PhaseTimes,
    ) -> Result<(), (Phase, String)> {
        let mut env: Vec<String> = vec![format!("PORT={port}")];
        env.extend(job.env.iter().map(|(k, v)| format!("{k}={v}")));
        let labels = HashMap::from([
            (RUN_LABEL.to_string(), job.run_id.clone()),
            ("coldbench.variant".to_string(), job.variant.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(job.image_ref.clone()),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.to_string()),
            ..Default::default()
        };
        let t = Instant::now();
        self.docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| (Phase::Create, e.to_string()))?;
        phases.create_us = Some(micros(t.elapsed()));
        let t = Instant::now();
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| (Phase::Start, e.to_string()))?;
        phases.start_us = Some(micros(t.elapsed()));
        Ok(())
    }

    async fn images(&self) -> Result<Vec<bollard::models::ImageSummary>, DriverError> {
        self.docker
            .list_images(Some(ListImagesOptions::default()))
            .await
            .map_err(|source| DriverError::Engine {
                what: "listing images".into(),
                source,
            })
    }

    /// Creates and starts container `name` from the (pulled) image with `PORT=port`, then
    /// probes it until ready. The container is left running.
    pub async fn start_replica(
        &self,
        job: &ColdStart,
        name: &str,
        port: std::io::Result<u16>,
    ) -> Replica {
        let mut phases = PhaseTimes::default();
        let failed = |phase: Phase, message: String| Outcome::Failed { phase, message };
        let port = match port {
            Ok(p) => p,
            Err(e) => {
                return Replica {
                    phases,
                    outcome: failed(Phase::Create, format!("no free port: {e}")),
                    ready_at: None,
                }
            }
        };
        let mut ready_at = None;
        let outcome = match self.create_and_start(job, name, port, &mut phases).await {
            Err((phase, message)) => failed(phase, message),
            Ok(()) => {
                let started = Instant::now();
                let cancel = Arc::new(AtomicBool::new(false));
                let spec = ProbeSpec {
                    port,
                    path: job.ready.http.clone(),
                    status: job.ready.status,
                    timeout: job.ready.timeout.0,
                    cancel: Some(cancel.clone()),
                };
                let outcome = tokio::select! {
                    probed = wait_ready_async(spec) => match probed {
                        Ok(at) => {
                            phases.first_request_us = Some(micros(at - started));
                            ready_at = Some(at);
                            Outcome::Ok
                        }
                        Err(e) => failed(Phase::FirstRequest, e.to_string()),
                    },
                    exit = self.wait_exit(name) => failed(Phase::FirstRequest, exit),
                };
                cancel.store(true, Ordering::Relaxed);
                outcome
            }
        };
        Replica {
            phases,
            outcome,
            ready_at,
        }
    }

    /// Resolves only if container `name` stops running: says how it ended and its last output.
    async fn wait_exit(&self, name: &str) -> String {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let Ok(info) = self.docker.inspect_container(name, None).await else {
                continue;
            };
            let state = info.state.unwrap_or_default();
            if state.running == Some(false) {
                let options = bollard::query_parameters::LogsOptions {
                    stdout: true,
                    stderr: true,
                    tail: "10".into(),
                    ..Default::default()
                };
                let logs: Vec<String> = self
                    .docker
                    .logs(name, Some(options))
                    .filter_map(|l| async move { l.ok().map(|l| l.to_string()) })
                    .collect()
                    .await;
                return format!(
                    "the container exited (code {}) before answering; its last output:\n{}",
                    state.exit_code.unwrap_or_default(),
                    logs.concat().trim_end()
                );
            }
        }
    }

    /// Removes a container (forced), logging failures.
    pub async fn remove_container(&self, name: &str) {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        if let Err(e) = self.docker.remove_container(name, Some(options)).await {
            tracing::warn!("could not remove container {name}: {e}");
        }
    }
}

/// True for refs the harness owns: `<loopback>:<port>/coldbench/…`.
pub fn is_harness_ref(reference: &str) -> bool {
    let Some((host, path)) = reference.split_once('/') else {
        return false;
    };
    let host_name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let loopback = host_name == "localhost" || host_name.starts_with("127.");
    loopback && path.starts_with(&format!("{REPO_PREFIX}/"))
}

impl Driver for DockerDriver {
    async fn context(&self) -> Result<EngineContext, DriverError> {
        let version = self
            .docker
            .version()
            .await
            .map_err(|source| DriverError::Engine {
                what: "docker version".into(),
                source,
            })?;
        let info = self
            .docker
            .info()
            .await
            .map_err(|source| DriverError::Engine {
                what: "docker info".into(),
                source,
            })?;
        Ok(EngineContext {
            driver: "docker".into(),
            endpoint: self.endpoint.clone(),
            node: String::new(),
            version: version.version,
            api_version: Some(self.docker.client_version().to_string()),
            storage_driver: info.driver,
            kernel: info.kernel_version,
            os: info.operating_system,
        })
    }

    async fn evict(&self, registry: &str) -> Result<(), DriverError> {
        let prefix = format!("{registry}/{REPO_PREFIX}/");
        for image in self.images().await? {
            let refs: Vec<&String> = image.repo_tags.iter().chain(&image.repo_digests).collect();
            let ours: Vec<&String> = refs
                .iter()
                .copied()
                .filter(|r| r.starts_with(&prefix))
                .collect();
            if ours.is_empty() {
                continue;
            }
            let targets: Vec<String> = if ours.len() == refs.len() {
                vec![image.id.clone()]
            } else {
                // Someone tagged our image elsewhere too: only untag our refs.
                ours.into_iter().cloned().collect()
            };
            for target in targets {
                let options = RemoveImageOptions {
                    force: true,
                    noprune: false,
                    ..Default::default()
                };
                match self.docker.remove_image(&target, Some(options), None).await {
                    Ok(_) => {}
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => {}
                    Err(source) => {
                        return Err(DriverError::Engine {
                            what: format!("evicting {target}"),
                            source,
                        })
                    }
                }
            }
        }
        Ok(())
    }

    async fn stale_refs(&self, registry: &str) -> Result<Vec<String>, DriverError> {
        let prefix = format!("{registry}/");
        Ok(self
            .images()
            .await?
            .iter()
            .flat_map(|i| i.repo_tags.iter())
            .filter(|r| is_harness_ref(r) && !r.starts_with(&prefix))
            .cloned()
            .collect())
    }

    async fn cold_start(&self, job: &ColdStart) -> Measured {
        let mut phases = PhaseTimes::default();
        let t0 = Instant::now();
        let layers = match self.pull(job).await {
            Ok(layers) => layers,
            Err(message) => {
                return Measured {
                    phases,
                    layers: Vec::new(),
                    outcome: Outcome::Failed {
                        phase: Phase::Pull,
                        message: format!("pull {}: {message}", job.image_ref),
                    },
                }
            }
        };
        phases.pull_us = Some(micros(t0.elapsed()));
        let name = format!("coldbench-{}-{}", job.run_id, job.index);
        let port = job.ready.port.map_or_else(free_port, Ok);
        let replica = self.start_replica(job, &name, port).await;
        self.remove_container(&name).await;
        phases.create_us = replica.phases.create_us;
        phases.start_us = replica.phases.start_us;
        phases.first_request_us = replica.phases.first_request_us;
        phases.total_us = replica.ready_at.map(|r| micros(r - t0));
        Measured {
            phases,
            layers,
            outcome: replica.outcome,
        }
    }

    async fn remove_containers(&self, run_id: &str) -> Result<usize, DriverError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{RUN_LABEL}={run_id}")])]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|source| DriverError::Engine {
                what: "listing the run's containers".into(),
                source,
            })?;
        let mut removed = 0;
        for c in containers {
            if let Some(id) = c.id {
                self.remove_container(&id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_coldbench_refs_are_ours() {
        assert!(is_harness_ref("127.0.0.1:41234/coldbench/app:latest"));
        assert!(is_harness_ref("localhost:5000/coldbench/a/b@sha256:abc"));
        assert!(!is_harness_ref("127.0.0.1:5000/myteam/app:latest"));
        assert!(!is_harness_ref("docker.io/coldbench/app:latest"));
        assert!(!is_harness_ref("coldbench/app:latest"));
        assert!(!is_harness_ref("10.0.0.1:5000/coldbench/app"));
    }
}
