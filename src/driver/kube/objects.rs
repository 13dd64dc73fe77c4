//! The objects the driver creates: a pod for a single cold start, a Deployment for a burst.
//! Both run one container `app` with `PORT` set, the run's labels, the scenario's resources and
//! node selector, `imagePullPolicy: IfNotPresent` (so the kubelet reports an image it already
//! had as `already present`), and a readiness probe on the ready path, checked every second.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use crate::driver::cluster::PodRequest;
use crate::driver::RUN_LABEL;

/// Label naming the pod or Deployment a pod belongs to.
pub const GROUP_LABEL: &str = "coldbench.group";

/// What every pod of the run gets besides the request.
#[derive(Debug, Clone, Default)]
pub struct PodSettings {
    /// `nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// CPU request and limit.
    pub cpu: Option<String>,
    /// Memory request and limit.
    pub memory: Option<String>,
}

/// Turns `value` into a valid label value (≤ 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends).
pub fn label_value(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

fn labels(pod: &PodRequest) -> Value {
    json!({
        RUN_LABEL: label_value(&pod.run_id),
        GROUP_LABEL: pod.name,
        "coldbench.variant": label_value(&pod.variant),
    })
}

fn resources(settings: &PodSettings) -> Value {
    let mut amounts = serde_json::Map::new();
    if let Some(cpu) = &settings.cpu {
        amounts.insert("cpu".into(), json!(cpu));
    }
    if let Some(memory) = &settings.memory {
        amounts.insert("memory".into(), json!(memory));
    }
    json!({"requests": amounts, "limits": amounts})
}

/// The pod spec both objects use; `restart` is the restart policy.
fn pod_spec(pod: &PodRequest, settings: &PodSettings, restart: &str) -> Value {
    let mut env = vec![json!({"name": "PORT", "value": pod.port.to_string()})];
    env.extend(
        pod.env
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value})),
    );
    json!({
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 1,
        "enableServiceLinks": false,
        "automountServiceAccountToken": false,
        "nodeSelector": settings.node_selector,
        "containers": [{
            "name": "app",
            "image": pod.image,
            "imagePullPolicy": "IfNotPresent",
            "env": env,
            "ports": [{"containerPort": pod.port, "protocol": "TCP"}],
            "resources": resources(settings),
            "readinessProbe": {
                "httpGet": {"path": pod.ready.http.get_ref(), "port": pod.port},
                "periodSeconds": 1,
                "failureThreshold": 1,
                "timeoutSeconds": 1,
            },
        }],
    })
}

/// The pod of a single cold start (never restarted: a crash fails the sample).
pub fn pod(request: &PodRequest, settings: &PodSettings) -> Result<Pod, serde_json::Error> {
    serde_json::from_value(json!({
        "metadata": {"name": request.name, "labels": labels(request)},
        "spec": pod_spec(request, settings, "Never"),
    }))
}

/// The Deployment of a burst, created with 0 replicas.
pub fn deployment(
    request: &PodRequest,
    settings: &PodSettings,
) -> Result<Deployment, serde_json::Error> {
    serde_json::from_value(json!({
        "metadata": {"name": request.name, "labels": labels(request)},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {GROUP_LABEL: request.name}},
            "template": {
                "metadata": {"labels": labels(request)},
                "spec": pod_spec(request, settings, "Always"),
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ReadySpec;

    fn request() -> PodRequest {
        PodRequest {
            name: "app-3".into(),
            run_id: "quickstart-20261203T070000Z".into(),
            variant: "debian slim".into(),
            image: "localhost:5001/coldbench/app:salt-3".into(),
            port: 8080,
            env: BTreeMap::from([("MODE".into(), "fast".into())]),
            ready: ReadySpec::default(),
        }
    }

    #[test]
    fn label_values_are_valid_whatever_the_name() {
        assert_eq!(label_value("debian slim"), "debian-slim");
        assert_eq!(label_value("-a/b-"), "a-b");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn the_pod_runs_the_image_with_port_resources_and_selector() {
        let settings = PodSettings {
            node_selector: BTreeMap::from([("pool".into(), "bench".into())]),
            cpu: Some("500m".into()),
            memory: None,
        };
        let pod = serde_json::to_value(pod(&request(), &settings).unwrap()).unwrap();
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["image"], "localhost:5001/coldbench/app:salt-3");
        assert_eq!(c["env"][0], json!({"name": "PORT", "value": "8080"}));
        assert_eq!(c["env"][1], json!({"name": "MODE", "value": "fast"}));
        assert_eq!(c["resources"]["limits"]["cpu"], "500m");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["spec"]["nodeSelector"]["pool"], "bench");
        assert_eq!(pod["spec"]["restartPolicy"], "Never");
        assert_eq!(pod["metadata"]["labels"][GROUP_LABEL], "app-3");
    }

    #[test]
    fn the_deployment_starts_at_zero_and_selects_its_pods() {
        let d =
            serde_json::to_value(deployment(&request(), &PodSettings::default()).unwrap()).unwrap();
        assert_eq!(d["spec"]["replicas"], 0);
        assert_eq!(d["spec"]["selector"]["matchLabels"][GROUP_LABEL], "app-3");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
    }
}
