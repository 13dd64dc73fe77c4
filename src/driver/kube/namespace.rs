//! The run's namespace: made fresh for each run (`PREFIX-YYYYMMDD-hhmmss-xxxx`), labelled with
//! the harness's label, and deleted — with everything in it — at the end and on Ctrl-C.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use rand::Rng;
use serde_json::json;

use super::connect::API_TIMEOUT;
use crate::driver::{DriverError, RUN_LABEL};

/// Longest the teardown waits for the namespace to be gone.
pub const DELETE_WAIT: Duration = Duration::from_secs(60);

/// Default namespace prefix.
pub const DEFAULT_PREFIX: &str = "coldbench";

/// A fresh name: `prefix-YYYYMMDD-hhmmss-xxxx` (UTC, four random letters or digits).
pub fn fresh_name(prefix: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let tail: String = (0..4)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}-{stamp}-{tail}")
}

/// Creates the namespace `name`, labelled as the harness's.
pub async fn create(client: &Client, name: &str) -> Result<(), DriverError> {
    let namespace: Namespace = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {RUN_LABEL: "true"}},
    }))
    .map_err(|e| DriverError::Nodes(format!("namespace {name}: {e}")))?;
    let created = tokio::time::timeout(
        API_TIMEOUT,
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &namespace),
    )
    .await;
    match created {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(DriverError::Nodes(format!(
            "cannot create namespace {name}: {}\n  the kubeconfig's user must be allowed to create namespaces (or set [kube] context to one that is)",
            super::connect::api_error(&e)
        ))),
        Err(_) => Err(DriverError::Nodes(format!(
            "creating namespace {name}: the API server did not answer within {}s",
            API_TIMEOUT.as_secs()
        ))),
    }
}

/// Deletes the namespace and waits (at most [`DELETE_WAIT`]) until it is gone. Returns a
/// warning to show when it could not be confirmed.
pub async fn delete(client: &Client, name: &str) -> Option<String> {
    let api = Api::<Namespace>::all(client.clone());
    let params = DeleteParams::background();
    let asked = tokio::time::timeout(API_TIMEOUT, api.delete(name, &params));
    match asked.await {
        Ok(Ok(_)) => {}
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => return None,
        Ok(Err(e)) => return Some(leftover(name, &e.to_string())),
        Err(_) => return Some(leftover(name, "the API server did not answer")),
    }
    let gone = async {
        loop {
            match api.get_opt(name).await {
                Ok(None) => return true,
                Ok(Some(_)) | Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    };
    match tokio::time::timeout(DELETE_WAIT, gone).await {
        Ok(_) => None,
        Err(_) => Some(format!(
            "namespace {name} is still terminating after {}s; it goes away on its own (kubectl get namespace {name})",
            DELETE_WAIT.as_secs()
        )),
    }
}

fn leftover(name: &str, cause: &str) -> String {
    format!("could not delete namespace {name}: {cause}\n  delete it yourself: kubectl delete namespace {name}")
}
