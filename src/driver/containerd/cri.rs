//! The CRI gRPC client (`runtime.v1`: `RuntimeService` and `ImageService`) over a unix socket.
//!
//! The messages and client stubs are generated at build time from `proto/cri/runtime.proto`
//! (the part of the CRI coldbench calls, with the CRI's field numbers) with protox and
//! tonic-prost-build. The `k8s-cri` crate is not a dependency because its build script needs a
//! system `protoc`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

/// Generated CRI `runtime.v1` types and clients.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod api {
    tonic::include_proto!("runtime.v1");
}

use api::image_service_client::ImageServiceClient;
use api::runtime_service_client::RuntimeServiceClient;

/// How long one CRI call may take before it fails (a cold pull of a large image included).
const CALL_TIMEOUT: Duration = Duration::from_secs(3600);

/// A failed CRI call.
#[derive(Debug, thiserror::Error)]
pub enum CriError {
    /// The socket does not accept a connection.
    #[error("cannot connect to the CRI socket {socket}: {cause}\n  is containerd running there with its CRI plugin enabled?")]
    Connect { socket: String, cause: String },
    /// A call returned an error status.
    #[error("CRI {call} on {socket}: {status}")]
    Call {
        call: &'static str,
        socket: String,
        status: String,
    },
}

/// A gRPC channel over the unix socket `socket`, each call bounded by `call_timeout` (none for a
/// lasting stream such as an event subscription).
pub(super) async fn unix_channel(
    socket: &Path,
    call_timeout: Option<Duration>,
) -> Result<Channel, tonic::transport::Error> {
    let path = socket.to_path_buf();
    // The URI is ignored: every connection goes to the socket.
    let endpoint =
        Endpoint::from_static("http://[::1]:50051").connect_timeout(Duration::from_secs(5));
    let endpoint = match call_timeout {
        Some(t) => endpoint.timeout(t),
        None => endpoint,
    };
    endpoint
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        }))
        .await
}

/// A connection to one CRI endpoint (cheap to clone).
#[derive(Clone)]
pub struct Cri {
    socket: PathBuf,
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
}

impl Cri {
    /// Connects to the CRI endpoint listening on the unix socket `socket`.
    pub async fn connect(socket: &Path) -> Result<Cri, CriError> {
        let connect_err = |cause: String| CriError::Connect {
            socket: socket.display().to_string(),
            cause,
        };
        let channel = unix_channel(socket, Some(CALL_TIMEOUT))
            .await
            .map_err(|e| connect_err(error_chain(&e)))?;
        Ok(Cri {
            socket: socket.to_path_buf(),
            runtime: RuntimeServiceClient::new(channel.clone()),
            images: ImageServiceClient::new(channel),
        })
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn fail(&self, call: &'static str) -> impl Fn(tonic::Status) -> CriError + '_ {
        move |status| CriError::Call {
            call,
            socket: self.socket.display().to_string(),
            status: format!("{:?}: {}", status.code(), status.message()),
        }
    }

    /// `Version`: the runtime's name and version.
    pub async fn version(&self) -> Result<api::VersionResponse, CriError> {
        let request = api::VersionRequest {
            version: "v1".into(),
        };
        let mut client = self.runtime.clone();
        let reply = client
            .version(request)
            .await
            .map_err(self.fail("Version"))?;
        Ok(reply.into_inner())
    }

    /// `Status` (verbose): the runtime's conditions and its config as JSON in `info`.
    pub async fn status(&self) -> Result<api::StatusResponse, CriError> {
        let mut client = self.runtime.clone();
        let reply = client
            .status(api::StatusRequest { verbose: true })
            .await
            .map_err(self.fail("Status"))?;
        Ok(reply.into_inner())
    }

    /// `PullImage`: pulls `reference`; returns the image id (its config digest).
    pub async fn pull_image(
        &self,
        reference: &str,
        sandbox: Option<api::PodSandboxConfig>,
    ) -> Result<String, CriError> {
        let request = api::PullImageRequest {
            image: Some(image_spec(reference)),
            sandbox_config: sandbox,
        };
        let mut client = self.images.clone();
        let reply = client
            .pull_image(request)
            .await
            .map_err(self.fail("PullImage"))?;
        Ok(reply.into_inner().image_ref)
    }

    /// `ListImages`: every image the node has.
    pub async fn list_images(&self) -> Result<Vec<api::Image>, CriError> {
        let mut client = self.images.clone();
        let reply = client
            .list_images(api::ListImagesRequest { filter: None })
            .await
            .map_err(self.fail("ListImages"))?;
        Ok(reply.into_inner().images)
    }

    /// `RemoveImage`: removes `reference` (a tag, digest reference or image id).
    pub async fn remove_image(&self, reference: &str) -> Result<(), CriError> {
        let mut client = self.images.clone();
        client
            .remove_image(api::RemoveImageRequest {
                image: Some(image_spec(reference)),
            })
            .await
            .map_err(self.fail("RemoveImage"))?;
        Ok(())
    }

    /// `RunPodSandbox`: creates and starts a sandbox; returns its id.
    pub async fn run_pod_sandbox(&self, config: api::PodSandboxConfig) -> Result<String, CriError> {
        let mut client = self.runtime.clone();
        let reply = client
            .run_pod_sandbox(api::RunPodSandboxRequest {
                config: Some(config),
                runtime_handler: String::new(),
            })
            .await
            .map_err(self.fail("RunPodSandbox"))?;
        Ok(reply.into_inner().pod_sandbox_id)
    }

    /// `CreateContainer` in sandbox `sandbox_id`; returns the container id.
    pub async fn create_container(
        &self,
        sandbox_id: &str,
        config: api::ContainerConfig,
        sandbox: api::PodSandboxConfig,
    ) -> Result<String, CriError> {
        let mut client = self.runtime.clone();
        let reply = client
            .create_container(api::CreateContainerRequest {
                pod_sandbox_id: sandbox_id.to_string(),
                config: Some(config),
                sandbox_config: Some(sandbox),
            })
            .await
            .map_err(self.fail("CreateContainer"))?;
        Ok(reply.into_inner().container_id)
    }

    /// `StartContainer`.
    pub async fn start_container(&self, container_id: &str) -> Result<(), CriError> {
        let mut client = self.runtime.clone();
        client
            .start_container(api::StartContainerRequest {
                container_id: container_id.to_string(),
            })
            .await
            .map_err(self.fail("StartContainer"))?;
        Ok(())
    }

    /// `ContainerStatus`: the container's state (running, exited) and exit code.
    pub async fn container_status(
        &self,
        container_id: &str,
    ) -> Result<Option<api::ContainerStatus>, CriError> {
        let mut client = self.runtime.clone();
        let reply = client
            .container_status(api::ContainerStatusRequest {
                container_id: container_id.to_string(),
                verbose: false,
            })
            .await
            .map_err(self.fail("ContainerStatus"))?;
        Ok(reply.into_inner().status)
    }

    /// `ListPodSandbox` with the given label selector (all sandboxes when empty).
    pub async fn list_sandboxes(
        &self,
        labels: std::collections::HashMap<String, String>,
    ) -> Result<Vec<api::PodSandbox>, CriError> {
        let mut client = self.runtime.clone();
        let filter = api::PodSandboxFilter {
            label_selector: labels,
            ..Default::default()
        };
        let reply = client
            .list_pod_sandbox(api::ListPodSandboxRequest {
                filter: Some(filter),
            })
            .await
            .map_err(self.fail("ListPodSandbox"))?;
        Ok(reply.into_inner().items)
    }

    /// `StopPodSandbox` then `RemovePodSandbox` (which removes its containers too).
    pub async fn stop_and_remove_sandbox(&self, sandbox_id: &str) -> Result<(), CriError> {
        let mut client = self.runtime.clone();
        client
            .stop_pod_sandbox(api::StopPodSandboxRequest {
                pod_sandbox_id: sandbox_id.to_string(),
            })
            .await
            .map_err(self.fail("StopPodSandbox"))?;
        client
            .remove_pod_sandbox(api::RemovePodSandboxRequest {
                pod_sandbox_id: sandbox_id.to_string(),
            })
            .await
            .map_err(self.fail("RemovePodSandbox"))?;
        Ok(())
    }
}

fn image_spec(reference: &str) -> api::ImageSpec {
    api::ImageSpec {
        image: reference.to_string(),
        ..Default::default()
    }
}

/// An error and its sources, `a: b: c`, each said once (a source whose text is already
/// there is left out).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let said = s.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = s.source();
    }
    text
}
