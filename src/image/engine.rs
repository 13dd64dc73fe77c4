//! The image-builder seam: the Docker engine that builds Dockerfile variants and exports local
//! images into the store. Only preparing images uses it; cold starts go through a driver.

use std::path::Path;

use bollard::Docker;

use super::dockerfile::{self, Destination};
use super::{local, ImageError, StoredImage};
use crate::driver::DriverError;
use crate::registry::Store;
use crate::scenario::DockerfileSpec;

/// A Docker engine that makes images.
#[derive(Clone)]
pub struct ImageEngine {
    docker: Docker,
}

impl ImageEngine {
    /// Connects to `host` (or `$DOCKER_HOST`, or the local socket) and checks it answers.
    pub async fn connect(host: Option<&str>) -> Result<ImageEngine, DriverError> {
        let (docker, _) = crate::driver::docker::connect(host).await?;
        Ok(ImageEngine { docker })
    }

    /// Builds the Dockerfile variant `variant` and puts the image into `to`.
    pub async fn build(
        &self,
        spec: &DockerfileSpec,
        base_dir: &Path,
        variant: &str,
        to: &Destination<'_>,
    ) -> Result<StoredImage, ImageError> {
        dockerfile::build(&self.docker, spec, base_dir, variant, to).await
    }

    /// Exports the engine's image `image` into `store` as `repository:tag`.
    pub async fn import(
        &self,
        image: &str,
        store: &Store,
        repository: &str,
        tag: &str,
        level: u32,
    ) -> Result<StoredImage, ImageError> {
        local::import(&self.docker, image, store, repository, tag, level).await
    }
}
