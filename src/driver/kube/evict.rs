//! `cold = "evict"` on kind: a kind node is a Docker container running containerd, so the
//! harness removes its images from the node with `docker exec NODE crictl rmi` — the images
//! whose reference starts with the registry the nodes pull from, and no other.

use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

use crate::driver::DriverError;

/// Longest one `docker exec` may take.
const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Images {
    #[serde(default)]
    images: Vec<Image>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    id: String,
    #[serde(default)]
    repo_tags: Vec<String>,
    #[serde(default)]
    repo_digests: Vec<String>,
}

/// Image ids on the node pulled from `registry` (`host:port`), from `crictl images -o json`.
pub fn registry_images(listing: &str, registry: &str) -> Result<Vec<String>, String> {
    let images: Images =
        serde_json::from_str(listing).map_err(|e| format!("crictl images -o json: {e}"))?;
    let prefix = format!("{registry}/");
    Ok(images
        .images
        .into_iter()
        .filter(|i| {
            i.repo_tags
                .iter()
                .chain(&i.repo_digests)
                .any(|r| r.starts_with(&prefix))
        })
        .map(|i| i.id)
        .collect())
}

/// Removes the images pulled from `registry` from kind node `node`.
pub async fn evict(node: &str, registry: &str) -> Result<(), DriverError> {
    let listing = crictl(node, &["images", "-o", "json"]).await?;
    let ids = registry_images(&listing, registry).map_err(|cause| engine(node, cause))?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut args = vec!["rmi"];
    args.extend(ids.iter().map(String::as_str));
    crictl(node, &args).await.map(|_| ())
}

fn engine(node: &str, cause: String) -> DriverError {
    DriverError::Engine {
        what: format!("evicting images on node {node} (cold = \"evict\" works on kind nodes only; use cold = \"salt\" on other clusters)"),
        cause,
    }
}

async fn crictl(node: &str, args: &[&str]) -> Result<String, DriverError> {
    let run = Command::new("docker")
        .args(["exec", node, "crictl"])
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(EXEC_TIMEOUT, run).await {
        Err(_) => {
            return Err(engine(
                node,
                format!("docker exec took over {}s", EXEC_TIMEOUT.as_secs()),
            ))
        }
        Ok(Err(e)) => return Err(engine(node, format!("cannot run docker: {e}"))),
        Ok(Ok(o)) => o,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(engine(
            node,
            format!("crictl {}: {}", args.join(" "), stderr.trim()),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_registrys_images_are_picked() {
        let listing = r#"{"images":[
            {"id":"sha256:aa","repoTags":["localhost:5001/coldbench/app:s1"],"repoDigests":[],"size":"1"},
            {"id":"sha256:bb","repoTags":["registry.k8s.io/pause:3.10"],"repoDigests":[],"size":"1"},
            {"id":"sha256:cc","repoTags":[],"repoDigests":["localhost:5001/coldbench/app@sha256:cc"],"size":"1"}
        ]}"#;
        let ids = registry_images(listing, "localhost:5001").unwrap();
        assert_eq!(ids, ["sha256:aa", "sha256:cc"]);
        assert!(registry_images("{}", "localhost:5001").unwrap().is_empty());
        assert!(registry_images("not json", "x").is_err());
    }
}
