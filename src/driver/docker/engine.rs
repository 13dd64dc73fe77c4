//! One Docker engine reached through its API (bollard): the calls a cold start makes on a node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig, ImageSummary};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListImagesOptions,
    LogsOptions, RemoveContainerOptions, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::StreamExt;

use crate::driver::{Answered, ContainerSpec, DriverError, PullSpec, RUN_LABEL};
use crate::measure::micros;
use crate::measure::probe::{wait_ready_async, ProbeSpec};
use crate::registry::REPO_PREFIX;
use crate::results::{EngineContext, LayerTiming};

/// Connects to `host` (or `$DOCKER_HOST`, or the local socket), negotiates the API version and
/// checks that the engine answers. Returns the client and the endpoint it reached.
pub async fn connect(host: Option<&str>) -> Result<(Docker, String), DriverError> {
    let env_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let endpoint = host
        .map(str::to_string)
        .or(env_host)
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    let unreachable = |cause: String| DriverError::Unreachable {
        endpoint: endpoint.clone(),
        cause,
    };
    let docker = Docker::connect_with_host(&endpoint).map_err(|e| unreachable(e.to_string()))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok((docker, endpoint))
}

fn engine_error(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> DriverError {
    let what = what.into();
    move |e| DriverError::Engine {
        what,
        cause: e.to_string(),
    }
}

/// One node's Docker engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    endpoint: String,
}

impl Engine {
    /// Connects to the engine at `host` (see [`connect`]).
    pub async fn connect(host: Option<&str>) -> Result<Engine, DriverError> {
        let (docker, endpoint) = connect(host).await?;
        Ok(Engine { docker, endpoint })
    }

    /// Engine version, storage driver and kernel.
    pub async fn describe(&self) -> Result<EngineContext, DriverError> {
        let version = self
            .docker
            .version()
            .await
            .map_err(engine_error("docker version"))?;
        let info = self
            .docker
            .info()
            .await
            .map_err(engine_error("docker info"))?;
        Ok(EngineContext {
            driver: "docker".into(),
            endpoint: self.endpoint.clone(),
            node: String::new(),
            version: version.version,
            api_version: Some(self.docker.client_version().to_string()),
            storage_driver: info.driver,
            snapshotter: None,
            runtime_handler: None,
            kernel: info.kernel_version,
            os: info.operating_system,
        })
    }

    /// Pulls the image; returns per-layer progress times, or the engine's error.
    pub async fn pull(&self, image: &PullSpec) -> Result<Vec<LayerTiming>, String> {
        let (from_image, tag) = match image.reference.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
            _ => (image.reference.clone(), "latest".to_string()),
        };
        let options = CreateImageOptions {
            from_image: Some(from_image),
            tag: Some(tag),
            ..Default::default()
        };
        let t0 = Instant::now();
        let mut layers: Vec<LayerTiming> = image
            .image
            .layers
            .iter()
            .map(|l| LayerTiming::new(l.digest.to_string()))
            .collect();
        // The engine names layers by the first 12 hex digits of their blob digest.
        let short: HashMap<String, usize> = image
            .image
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (short_id(l.digest.as_str()), i))
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

    /// Creates the container on host networking with `PORT` set, labelled with its run.
    pub async fn create(&self, c: &ContainerSpec) -> Result<(), String> {
        let mut env: Vec<String> = vec![format!("PORT={}", c.port)];
        env.extend(c.env.iter().map(|(k, v)| format!("{k}={v}")));
        let labels = HashMap::from([
            (RUN_LABEL.to_string(), c.run_id.clone()),
            ("coldbench.variant".to_string(), c.variant.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(c.image.clone()),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(c.name.clone()),
            ..Default::default()
        };
        self.docker
            .create_container(Some(options), body)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Starts the container.
    pub async fn start(&self, name: &str) -> Result<(), String> {
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| e.to_string())
    }

    /// Probes the container's port until the expected answer, or until it exits.
    pub async fn wait_ready(&self, c: &ContainerSpec) -> Result<Answered, String> {
        let cancel = Arc::new(AtomicBool::new(false));
        let spec = ProbeSpec {
            port: c.port,
            path: c.ready.http.get_ref().clone(),
            status: c.ready.status,
            timeout: c.ready.timeout.0,
            cancel: Some(cancel.clone()),
        };
        let result = tokio::select! {
            probed = wait_ready_async(spec) => probed
                .map(|ready| Answered::probed(&ready))
                .map_err(|e| e.to_string()),
            exit = self.exited(&c.name) => Err(exit),
        };
        cancel.store(true, Ordering::Relaxed);
        result
    }

    /// Resolves only if container `name` stops running: says how it ended and its last output.
    async fn exited(&self, name: &str) -> String {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let Ok(info) = self.docker.inspect_container(name, None).await else {
                continue;
            };
            let state = info.state.unwrap_or_default();
            if state.running == Some(false) {
                let options = LogsOptions {
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

    /// Removes a container (forced, with its volumes), logging failures.
    pub async fn remove(&self, name: &str) {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        if let Err(e) = self.docker.remove_container(name, Some(options)).await {
            tracing::warn!("could not remove container {name}: {e}");
        }
    }

    /// Removes every container labelled with `run_id`.
    pub async fn remove_run(&self, run_id: &str) -> Result<usize, DriverError> {
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
            .map_err(engine_error("listing the run's containers"))?;
        let mut removed = 0;
        for id in containers.into_iter().filter_map(|c| c.id) {
            self.remove(&id).await;
            removed += 1;
        }
        Ok(removed)
    }

    async fn images(&self) -> Result<Vec<ImageSummary>, DriverError> {
        self.docker
            .list_images(Some(ListImagesOptions::default()))
            .await
            .map_err(engine_error("listing images"))
    }

    /// Removes the images pulled from `registry` under the harness's repositories.
    pub async fn evict(&self, registry: &str) -> Result<(), DriverError> {
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
                self.remove_image(&target).await?;
            }
        }
        Ok(())
    }

    async fn remove_image(&self, target: &str) -> Result<(), DriverError> {
        let options = RemoveImageOptions {
            force: true,
            noprune: false,
            ..Default::default()
        };
        match self.docker.remove_image(target, Some(options), None).await {
            Ok(_)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(engine_error(format!("evicting {target}"))(e)),
        }
    }

    /// Harness refs pulled from other registry addresses than `registry`.
    pub async fn stale_refs(&self, registry: &str) -> Result<Vec<String>, DriverError> {
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
}

/// `sha256:0123456789abcdef…` → `0123456789ab`, the id Docker's progress stream uses.
fn short_id(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.chars().take(12).collect()
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

    #[test]
    fn progress_ids_are_twelve_hex_digits() {
        assert_eq!(
            short_id(&format!("sha256:{}", "ab".repeat(32))),
            "abababababab"
        );
    }
}
