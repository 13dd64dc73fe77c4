//! The deployment controller: `spec.replicas` → pods from the template (ReplicaSet-style
//! names, `pod-template-hash`, on the scheduler's nodes), status counts, garbage collection.

use serde_json::{json, Value};

use super::lifecycle::{create_pod, delete_pod, is_ready, Shared};
use super::store::{label, Kind};
use super::Inner;

/// Stores a deployment (generation 1) and lets the controller create its pods.
pub fn create_deployment(shared: &Shared, inner: &mut Inner, ns: &str, mut d: Value) -> Value {
    d["metadata"]["generation"] = json!(1);
    d["metadata"]["namespace"] = json!(ns);
    if d["spec"]["replicas"].is_null() {
        d["spec"]["replicas"] = json!(1);
    }
    d["status"] = json!({});
    let obj = inner.store.insert(Kind::Deployment, ns, d);
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    reconcile(shared, inner, ns, &name);
    inner
        .store
        .get(Kind::Deployment, ns, &name)
        .cloned()
        .unwrap_or(obj)
}

/// Replaces a deployment's spec (generation + 1 when it changed) and reconciles.
pub fn update_deployment(
    shared: &Shared,
    inner: &mut Inner,
    ns: &str,
    name: &str,
    spec: Value,
) -> Option<Value> {
    inner.store.modify(Kind::Deployment, ns, name, |d| {
        if d["spec"] != spec {
            d["spec"] = spec;
            let g = d["metadata"]["generation"].as_i64().unwrap_or(1);
            d["metadata"]["generation"] = json!(g + 1);
        }
    })?;
    reconcile(shared, inner, ns, name);
    inner.store.get(Kind::Deployment, ns, name).cloned()
}

/// Deletes a deployment; its pods go too (background propagation, the garbage collector).
pub fn delete_deployment(
    shared: &Shared,
    inner: &mut Inner,
    ns: &str,
    name: &str,
) -> Option<Value> {
    let d = inner.store.remove(Kind::Deployment, ns, name)?;
    for pod in owned_pods(inner, ns, &d) {
        delete_pod(shared, inner, ns, &pod);
    }
    Some(d)
}

/// Creates or deletes pods until the deployment has `spec.replicas` live ones.
fn reconcile(shared: &Shared, inner: &mut Inner, ns: &str, name: &str) {
    let Some(d) = inner.store.get(Kind::Deployment, ns, name).cloned() else {
        return;
    };
    let want = d["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
    let mut have = owned_pods(inner, ns, &d);
    while have.len() > want {
        if let Some(pod) = have.pop() {
            delete_pod(shared, inner, ns, &pod);
        }
    }
    for _ in have.len()..want {
        let pod = pod_from_template(inner, &d);
        create_pod(shared, inner, ns, pod);
    }
    refresh_deployments(inner, ns);
}

/// Live (not terminating) pods matching the deployment's `selector.matchLabels`.
fn owned_pods(inner: &Inner, ns: &str, d: &Value) -> Vec<String> {
    let selector = d["spec"]["selector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    inner
        .store
        .list(Kind::Pod, Some(ns))
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            selector
                .iter()
                .all(|(k, v)| label(p, k).as_deref() == v.as_str())
        })
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

fn pod_from_template(inner: &mut Inner, d: &Value) -> Value {
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let hash = inner.name_hash(name);
    let rs = format!("{name}-{hash}");
    let mut meta = d["spec"]["template"]["metadata"].clone();
    if !meta.is_object() {
        meta = json!({});
    }
    meta["labels"]["pod-template-hash"] = json!(hash);
    meta["name"] = json!(format!("{rs}-{}", inner.suffix()));
    meta["generateName"] = json!(format!("{rs}-"));
    meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
        "uid": inner.store.new_uid(), "controller": true, "blockOwnerDeletion": true}]);
    json!({"metadata": meta, "spec": d["spec"]["template"]["spec"].clone()})
}

/// Updates each deployment's `status` counts from its pods (only when they changed).
pub fn refresh_deployments(inner: &mut Inner, ns: &str) {
    for d in inner.store.list(Kind::Deployment, Some(ns)) {
        let pods = owned_pods(inner, ns, &d);
        let ready = pods
            .iter()
            .filter(|p| inner.store.get(Kind::Pod, ns, p).is_some_and(is_ready))
            .count();
        let mut status = json!({"observedGeneration": d["metadata"]["generation"],
            "replicas": pods.len(), "updatedReplicas": pods.len()});
        if ready > 0 {
            status["readyReplicas"] = json!(ready);
            status["availableReplicas"] = json!(ready);
        }
        if pods.len() > ready {
            status["unavailableReplicas"] = json!(pods.len() - ready);
        }
        if d["status"] != status {
            let name = d["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            inner
                .store
                .modify(Kind::Deployment, ns, &name, |d| d["status"] = status);
        }
    }
}
