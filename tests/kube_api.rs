//! The recorded Kubernetes API (tests/common/kube_api) is shaped like a real API server: the
//! real kube-rs client — kubeconfig loader, typed `Api`, `runtime::watcher` — works against it.

// Only the Kubernetes tests compile the recorded API (not every binary that uses `common`).
#[path = "common/kube_api/mod.rs"]
mod kube_api;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use coldbench::image::{synth, StoredImage};
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::scenario::SynthSpec;
use coldbench::units::ByteSize;
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Namespace, Node, Pod};
use k8s_openapi::api::events::v1::Event as EventV1;
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Config};
use kube_api::{go_duration, write_kubeconfig, KubeApi, KubeletFormat, Pull, Timeline};
use serde_json::json;

/// A config built the way the driver builds one: kube's own kubeconfig loader.
async fn config(api: &KubeApi, dir: &Path) -> Config {
    let path = write_kubeconfig(dir, api.url());
    let kc = Kubeconfig::read_from(&path).expect("kube reads the kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("a config from the current context");
    assert_eq!(config.default_namespace, "default");
    config
}

async fn client(api: &KubeApi, dir: &Path) -> Client {
    Client::try_from(config(api, dir).await).expect("a client for http://")
}

async fn create_namespace(client: &Client, name: &str) -> Namespace {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap()
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "127.0.0.1:5000/cb/app:salt1",
                    "ports": [{"containerPort": 8080}]}]},
            },
        },
    }))
    .unwrap()
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"run": "cb"}},
        "spec": {"containers": [{"name": "app", "image": format!("reg.local/{name}:1")}]},
    }))
    .unwrap()
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Watches pods in `ns` with kube's watcher until `n` are Ready; returns them.
async fn wait_ready(client: &Client, ns: &str, selector: &str, n: usize) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let cfg = watcher::Config::default().labels(selector);
    let mut ready = std::collections::BTreeMap::new();
    let stream = watcher(pods, cfg).applied_objects();
    futures_util::pin_mut!(stream);
    let wait = async {
        while let Some(p) = stream.try_next().await.unwrap() {
            if is_ready(&p) {
                ready.insert(p.metadata.name.clone().unwrap(), p);
            }
            if ready.len() == n {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("pods Ready in time");
    ready.into_values().collect()
}

/// Core events about `pod`, by reason → message.
async fn core_events(client: &Client, ns: &str, pod: &str) -> Vec<(String, String)> {
    let lp = ListParams::default().fields(&format!("involvedObject.name={pod}"));
    let list = Api::<CoreEvent>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .unwrap();
    list.items
        .into_iter()
        .map(|e| (e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn kube_client_scales_a_deployment_and_watches_it_become_ready() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_nodes(&["kind-worker", "kind-worker2"]);
    api.set_proxy_body("hello from web\n");
    let client = client(&api, dir.path()).await;

    let ns = create_namespace(&client, "cb-run-1").await;
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    assert!(ns.metadata.uid.is_some() && ns.metadata.resource_version.is_some());

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "cb-run-1");
    deployments
        .create(&PostParams::default(), &deployment("web", 0))
        .await
        .unwrap();
    let patch = Patch::Merge(json!({"spec": {"replicas": 3}}));
    let scaled = deployments
        .patch("web", &PatchParams::default(), &patch)
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(3));
    assert_eq!(scaled.metadata.generation, Some(2));

    let ready = wait_ready(&client, "cb-run-1", "app=web", 3).await;
    let nodes: std::collections::BTreeSet<_> = ready
        .iter()
        .map(|p| p.spec.as_ref().unwrap().node_name.clone().unwrap())
        .collect();
    assert_eq!(
        nodes.into_iter().collect::<Vec<_>>(),
        ["kind-worker", "kind-worker2"]
    );
    for p in &ready {
        let name = p.metadata.name.as_deref().unwrap();
        assert!(name.starts_with("web-"), "{name}");
        let cs = &p
            .status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()[0];
        assert!(cs.ready && cs.started == Some(true));
    }

    // Both event APIs tell the same story.
    let first = ready[0].metadata.name.clone().unwrap();
    let reasons: Vec<String> = core_events(&client, "cb-run-1", &first)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        reasons,
        ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    );
    let new_api: Api<EventV1> = Api::namespaced(client.clone(), "cb-run-1");
    let events = new_api.list(&ListParams::default()).await.unwrap();
    assert_eq!(events.items.len(), 15);
    let pulled = events
        .items
        .iter()
        .find(|e| {
            e.reason.as_deref() == Some("Pulled")
                && e.regarding.as_ref().unwrap().name.as_deref() == Some(&first)
        })
        .expect("a Pulled event about the first pod");
    assert_eq!(
        pulled.note.as_deref(),
        Some("Successfully pulled image \"127.0.0.1:5000/cb/app:salt1\" in 1.234s (1.301s including waiting). Image size: 12345678 bytes.")
    );
    assert!(pulled.event_time.is_none() && pulled.deprecated_first_timestamp.is_some());
    assert_eq!(pulled.reporting_controller.as_deref(), Some("kubelet"));
    let suffix = pulled
        .metadata
        .name
        .as_deref()
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap();
    assert!(
        i128::from_str_radix(suffix, 16).is_ok(),
        "hex UnixNano suffix"
    );
    let scheduled = events
        .items
        .iter()
        .find(|e| e.reason.as_deref() == Some("Scheduled"))
        .unwrap();
    assert!(scheduled.event_time.is_some() && scheduled.action.as_deref() == Some("Binding"));

    // The deployment's status caught up; the pod proxy answers.
    let d = deployments.get("web").await.unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(3));
    let proxy = format!("/api/v1/namespaces/cb-run-1/pods/{first}:8080/proxy/");
    let body = client
        .request_text(hyper::Request::get(&proxy).body(vec![]).unwrap())
        .await
        .unwrap();
    assert_eq!(body, "hello from web\n");

    // Deleting the namespace: Terminating first, then gone with its pods.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let deleted = namespaces
        .delete("cb-run-1", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = deleted.left().expect("the namespace object comes back");
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    tokio::time::timeout(Duration::from_secs(2), async {
        while namespaces.get_opt("cb-run-1").await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the namespace goes away");
    assert!(api.pods("cb-run-1").is_empty());

    let reqs = api.requests();
    assert!(api.saw("DELETE", "/api/v1/namespaces/cb-run-1"));
    assert!(reqs
        .iter()
        .any(|r| r.method == "PATCH"
            && r.path == "/apis/apps/v1/namespaces/cb-run-1/deployments/web"));
    assert!(
        reqs.iter()
            .any(|r| r.path == "/api/v1/namespaces/cb-run-1/pods"
                && r.query.contains("watch=true")
                && r.query.contains("resourceVersion=")),
        "the watcher lists then watches from the list's resourceVersion: {reqs:?}"
    );
}

#[tokio::test]
async fn pulled_messages_follow_each_kubelet_version() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    let step = Duration::from_millis(3);
    let took = Pull {
        took: Duration::new(49, 657_983_991),
        with_waiting: Duration::from_millis(81_280),
        size: 4_200,
        present: false,
    };
    api.set_timeline_for(
        "v119",
        Timeline::new(step)
            .format(KubeletFormat::V1_19)
            .pull(took.clone()),
    );
    api.set_timeline_for(
        "v125",
        Timeline::new(step)
            .format(KubeletFormat::V1_25)
            .pull(took.clone()),
    );
    api.set_timeline_for(
        "v130",
        Timeline::new(step).format(KubeletFormat::V1_30).pull(took),
    );
    api.set_timeline_for(
        "warm",
        Timeline::new(step).pull(Pull {
            present: true,
            ..Pull::default()
        }),
    );
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    for name in ["v119", "v125", "v130", "warm"] {
        pods.create(&PostParams::default(), &pod(name))
            .await
            .unwrap();
    }
    wait_ready(&client, "default", "run=cb", 4).await;

    let pulled =
        |events: Vec<(String, String)>| events.into_iter().find(|e| e.0 == "Pulled").unwrap().1;
    assert_eq!(
        pulled(core_events(&client, "default", "v119").await),
        "Successfully pulled image \"reg.local/v119:1\" in 49.657983991s"
    );
    assert_eq!(
        pulled(core_events(&client, "default", "v125").await),
        "Successfully pulled image \"reg.local/v125:1\" in 49.657s (1m21.28s including waiting)"
    );
    assert_eq!(pulled(core_events(&client, "default", "v130").await),
        "Successfully pulled image \"reg.local/v130:1\" in 49.657s (1m21.28s including waiting). Image size: 4200 bytes.");
    let warm = core_events(&client, "default", "warm").await;
    assert_eq!(
        pulled(warm.clone()),
        "Container image \"reg.local/warm:1\" already present on machine"
    );
    assert!(
        !warm.iter().any(|e| e.0 == "Pulling"),
        "no Pulling when the image is present"
    );
    assert_eq!(go_duration(Duration::from_millis(850)), "850ms");
}

#[tokio::test]
async fn a_dropped_pulled_event_is_absent_but_the_pod_still_starts() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(Timeline::new(Duration::from_millis(3)).drop("Pulled"));
    let client = client(&api, dir.path()).await;
    Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod("p"))
        .await
        .unwrap();
    wait_ready(&client, "default", "run=cb", 1).await;
    let reasons: Vec<String> = core_events(&client, "default", "p")
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(reasons, ["Scheduled", "Pulling", "Created", "Started"]);
    let v1 = Api::<EventV1>::default_namespaced(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(v1
        .items
        .iter()
        .all(|e| e.reason.as_deref() != Some("Pulled")));
}

#[tokio::test]
async fn a_pod_that_never_becomes_ready_keeps_failing_its_probe() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(Timeline::new(Duration::from_millis(3)).never_ready());
    let client = client(&api, dir.path()).await;
    Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod("stuck"))
        .await
        .unwrap();
    let waited = tokio::time::timeout(
        Duration::from_millis(200),
        wait_ready(&client, "default", "run=cb", 1),
    )
    .await;
    assert!(waited.is_err(), "never Ready");
    let events = core_events(&client, "default", "stuck").await;
    assert!(events.iter().any(|e| e.0 == "Started"));
    assert!(events
        .iter()
        .any(|e| e.0 == "Unhealthy" && e.1.starts_with("Readiness probe failed")));
    // kube retries 503s (15 times, backoff up to 1000 s) unless told not to: a readiness
    // probe through the proxy needs `default_retry = false`.
    let mut no_retry = config(&api, dir.path()).await;
    no_retry.default_retry = false;
    let prober = Client::try_from(no_retry).unwrap();
    let proxy = "/api/v1/namespaces/default/pods/stuck:8080/proxy/";
    let err = prober
        .request_text(hyper::Request::get(proxy).body(vec![]).unwrap())
        .await;
    assert!(err.is_err(), "the app answers 503");
    let proxied = api.requests().iter().filter(|r| r.path == proxy).count();
    assert_eq!(proxied, 1, "one probe, no retries");
}

#[tokio::test]
async fn errors_are_status_objects_kube_understands() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_namespace_termination(Duration::from_secs(60));
    let client = client(&api, dir.path()).await;
    let status = |e: kube::Error| match e {
        kube::Error::Api(s) => (s.code, s.reason),
        other => panic!("not an API status: {other:?}"),
    };
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    assert_eq!(
        status(pods.get("nope").await.unwrap_err()),
        (404, "NotFound".to_string())
    );
    create_namespace(&client, "dup").await;
    let again = Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "dup"}})).unwrap(),
        )
        .await;
    assert_eq!(
        status(again.unwrap_err()),
        (409, "AlreadyExists".to_string())
    );
    Api::<Namespace>::all(client.clone())
        .delete("dup", &DeleteParams::default())
        .await
        .unwrap();
    let in_terminating = Api::<Pod>::namespaced(client.clone(), "dup")
        .create(&PostParams::default(), &pod("late"))
        .await;
    assert_eq!(
        status(in_terminating.unwrap_err()),
        (403, "Forbidden".to_string())
    );
    let missing_ns = Api::<Pod>::namespaced(client.clone(), "ghost")
        .create(&PostParams::default(), &pod("x"))
        .await;
    assert_eq!(
        status(missing_ns.unwrap_err()),
        (404, "NotFound".to_string())
    );
}

#[tokio::test]
async fn a_watch_resumes_from_a_resource_version_with_a_field_selector() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(Timeline::new(Duration::from_millis(2)));
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    pods.create(&PostParams::default(), &pod("other"))
        .await
        .unwrap();
    pods.create(&PostParams::default(), &pod("mine"))
        .await
        .unwrap();
    let wp = WatchParams::default()
        .fields("metadata.name=mine")
        .timeout(5);
    let stream = pods.watch(&wp, &rv).await.unwrap();
    let seen: Vec<(String, String)> = stream
        .take(3)
        .map(|e| match e.unwrap() {
            WatchEvent::Added(p) => ("ADDED".to_string(), p.metadata.name.unwrap()),
            WatchEvent::Modified(p) => ("MODIFIED".to_string(), p.metadata.name.unwrap()),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
        .await;
    assert_eq!(seen[0], ("ADDED".to_string(), "mine".to_string()));
    assert!(seen.iter().all(|s| s.1 == "mine"), "{seen:?}");
}

#[tokio::test]
async fn the_scale_subresource_and_replace_scale_a_deployment_up_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(Timeline::new(Duration::from_millis(2)));
    let client = client(&api, dir.path()).await;
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments
        .create(&PostParams::default(), &deployment("burst", 0))
        .await
        .unwrap();

    let patch = Patch::Merge(json!({"spec": {"replicas": 2}}));
    let scale = deployments
        .patch_scale("burst", &PatchParams::default(), &patch)
        .await
        .unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    wait_ready(&client, "default", "app=burst", 2).await;

    // A replace (PUT) with the current resourceVersion scales down; a stale one conflicts.
    let mut d = deployments.get("burst").await.unwrap();
    let stale = d.clone();
    d.spec.as_mut().unwrap().replicas = Some(1);
    deployments
        .replace("burst", &PostParams::default(), &d)
        .await
        .unwrap();
    let conflict = deployments
        .replace("burst", &PostParams::default(), &stale)
        .await;
    assert!(matches!(conflict, Err(kube::Error::Api(s)) if s.code == 409));
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    tokio::time::timeout(Duration::from_secs(2), async {
        while pods
            .list(&ListParams::default().labels("app=burst"))
            .await
            .unwrap()
            .items
            .len()
            != 1
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("scaled down to one pod");
    let got = deployments.get_scale("burst").await.unwrap();
    assert_eq!(got.spec.unwrap().replicas, Some(1));
    assert_eq!(got.status.unwrap().selector.as_deref(), Some("app=burst"));

    // Deleting the deployment answers a Status and takes its pods.
    let gone = deployments
        .delete("burst", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        gone.is_right(),
        "a Status, as the real server answers for deployments"
    );
    tokio::time::timeout(Duration::from_secs(2), async {
        while !pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("its pods are garbage-collected");
}

#[tokio::test]
async fn a_watch_from_a_compacted_resource_version_gets_410_expired() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    pods.create(&PostParams::default(), &pod("p"))
        .await
        .unwrap();
    api.compact();
    let events: Vec<_> = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(events.len(), 1, "one ERROR, then the stream ends");
    match events.into_iter().next().unwrap().unwrap() {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected an ERROR event, got {other:?}"),
    }
    // A fresh list + watch (kube's watcher) still delivers the pod.
    let ready = wait_ready(&client, "default", "run=cb", 1).await;
    assert_eq!(ready[0].metadata.name.as_deref(), Some("p"));
}

/// Reasons of the events a watcher on `events` sees, until `Started` arrives.
async fn watch_reasons<K>(events: Api<K>, reason: impl Fn(&K) -> Option<String>) -> Vec<String>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let stream = watcher(events, watcher::Config::default()).applied_objects();
    futures_util::pin_mut!(stream);
    let mut seen = Vec::new();
    let wait = async {
        while let Some(e) = stream.try_next().await.unwrap() {
            seen.push(reason(&e).unwrap_or_default());
            if seen.last().is_some_and(|r| r == "Started") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("Started in time");
    seen
}

#[tokio::test]
async fn events_stream_through_watchers_in_both_event_apis() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(Timeline::new(Duration::from_millis(20)).format(KubeletFormat::V1_25));
    let client = client(&api, dir.path()).await;
    let core = Api::<CoreEvent>::default_namespaced(client.clone());
    let v1 = Api::<EventV1>::default_namespaced(client.clone());
    let core_seen = tokio::spawn(watch_reasons(core, |e| e.reason.clone()));
    let v1_seen = tokio::spawn(watch_reasons(v1, |e| e.reason.clone()));
    tokio::time::sleep(Duration::from_millis(10)).await;
    Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod("w"))
        .await
        .unwrap();
    let want = ["Scheduled", "Pulling", "Pulled", "Created", "Started"];
    assert_eq!(core_seen.await.unwrap(), want);
    assert_eq!(v1_seen.await.unwrap(), want);
    let watched = |p: &str| {
        api.requests()
            .iter()
            .any(|r| r.path == p && r.query.contains("watch=true"))
    };
    assert!(watched("/api/v1/namespaces/default/events"));
    assert!(watched("/apis/events.k8s.io/v1/namespaces/default/events"));
}

// ---- Nodes, the scheduler's nodeSelector, and the nodes' real pulls ----

/// A pod running `image`, on a node matching `selector` (a `spec.nodeSelector` object).
fn pod_on(name: &str, image: &str, selector: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"run": name}},
        "spec": {"nodeSelector": selector, "containers": [{"name": "app", "image": image}]},
    }))
    .unwrap()
}

/// Polls the core events about `pod` until one has `reason` (at most 5 s); returns them all.
async fn events_until(client: &Client, ns: &str, pod: &str, reason: &str) -> Vec<(String, String)> {
    for _ in 0..500 {
        let events = core_events(client, ns, pod).await;
        if events.iter().any(|e| e.0 == reason) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "no {reason} event about {pod}: {:?}",
        core_events(client, ns, pod).await
    );
}

fn reasons(events: &[(String, String)]) -> Vec<&str> {
    events.iter().map(|e| e.0.as_str()).collect()
}

fn message<'a>(events: &'a [(String, String)], reason: &str) -> &'a str {
    &events.iter().find(|e| e.0 == reason).unwrap().1
}

#[tokio::test]
async fn nodes_list_by_label_selector_with_their_node_info_and_watch_label_changes() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_nodes(&["kind-worker", "kind-worker2"]);
    api.set_node_labels("kind-worker2", &[("coldbench.io/pool", "pull")]);
    let client = client(&api, dir.path()).await;
    let nodes: Api<Node> = Api::all(client.clone());

    let names = |list: kube::core::ObjectList<Node>| -> Vec<String> {
        list.items
            .into_iter()
            .map(|n| n.metadata.name.unwrap())
            .collect()
    };
    let all = ListParams::default().labels("kubernetes.io/os=linux,kubernetes.io/arch=amd64");
    assert_eq!(
        names(nodes.list(&all).await.unwrap()),
        ["kind-worker", "kind-worker2"]
    );
    let pool = ListParams::default().labels("coldbench.io/pool=pull");
    assert_eq!(names(nodes.list(&pool).await.unwrap()), ["kind-worker2"]);
    let host =
        ListParams::default().labels("kubernetes.io/hostname=kind-worker,coldbench.io/pool=pull");
    assert!(nodes.list(&host).await.unwrap().items.is_empty());

    for (i, name) in ["kind-worker", "kind-worker2"].into_iter().enumerate() {
        let node = nodes.get(name).await.unwrap();
        assert!(node.metadata.uid.is_some() && node.metadata.resource_version.is_some());
        assert!(node.metadata.creation_timestamp.is_some());
        let labels = node.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], name);
        let status = node.status.unwrap();
        let info = status.node_info.unwrap();
        assert_eq!(info.kubelet_version, "v1.35.0");
        assert_eq!(info.container_runtime_version, "containerd://2.1.3");
        assert_eq!(
            (info.operating_system.as_str(), info.architecture.as_str()),
            ("linux", "amd64")
        );
        assert!(!info.os_image.is_empty() && !info.kernel_version.is_empty());
        let ip = format!("127.0.0.{}", 10 + i);
        let addresses: Vec<(String, String)> = status
            .addresses
            .unwrap()
            .into_iter()
            .map(|a| (a.type_, a.address))
            .collect();
        assert_eq!(
            addresses,
            [
                ("InternalIP".into(), ip.clone()),
                ("Hostname".into(), name.into())
            ]
        );
        assert_eq!(api.node_ip(name).unwrap().to_string(), ip);
        let conditions = status.conditions.unwrap();
        assert!(conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"));
        assert_eq!(
            status.images.unwrap_or_default().len(),
            0,
            "nothing cached yet"
        );
    }

    // A watch from the list's resourceVersion sees the label change.
    let rv = nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let stream = nodes
        .watch(
            &WatchParams::default().labels("coldbench.io/pool=fast"),
            &rv,
        )
        .await
        .unwrap();
    futures_util::pin_mut!(stream);
    api.set_node_labels("kind-worker", &[("coldbench.io/pool", "fast")]);
    let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .expect("a watch event in time")
        .unwrap()
        .unwrap();
    let WatchEvent::Modified(node) = event else {
        panic!("{event:?}");
    };
    assert_eq!(node.metadata.name.as_deref(), Some("kind-worker"));
    assert_eq!(node.metadata.labels.unwrap()["coldbench.io/pool"], "fast");
    // Nodes are read-only through the API.
    let err = nodes
        .delete("kind-worker", &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 405),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_scheduler_honors_node_selectors_and_reports_failed_scheduling() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_nodes(&["kind-worker", "kind-worker2"]);
    api.set_node_labels("kind-worker2", &[("coldbench.io/pool", "pull")]);
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pool = json!({"coldbench.io/pool": "pull"});
    for name in ["a", "b", "c"] {
        let p = pod_on(name, "reg.local/app:1", pool.clone());
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    let mut on = Vec::new();
    for name in ["a", "b", "c"] {
        let ready = wait_ready(&client, "default", &format!("run={name}"), 1).await;
        let status = ready[0].status.clone().unwrap();
        on.push((
            ready[0].spec.clone().unwrap().node_name.unwrap(),
            status.host_ip.unwrap(),
        ));
    }
    assert_eq!(
        on,
        vec![("kind-worker2".to_string(), "127.0.0.11".to_string()); 3]
    );

    let nowhere = pod_on(
        "nowhere",
        "reg.local/app:1",
        json!({"coldbench.io/pool": "gpu"}),
    );
    pods.create(&PostParams::default(), &nowhere).await.unwrap();
    let events = events_until(&client, "default", "nowhere", "FailedScheduling").await;
    let want = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. \
        preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
    assert_eq!(events, [("FailedScheduling".to_string(), want.to_string())]);
    let v1 = Api::<EventV1>::default_namespaced(client.clone())
        .list(&ListParams::default().fields("regarding.name=nowhere"))
        .await
        .unwrap();
    let e = &v1.items[0];
    assert_eq!(e.type_.as_deref(), Some("Warning"));
    assert_eq!(e.reporting_controller.as_deref(), Some("default-scheduler"));
    assert_eq!(e.action.as_deref(), Some("Scheduling"));

    // Its timeline stopped: still Pending, unbound, no more events, several steps later.
    tokio::time::sleep(Duration::from_millis(40)).await;
    let p = pods.get("nowhere").await.unwrap();
    assert!(p.spec.unwrap().node_name.is_none());
    let status = p.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let scheduled = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        (scheduled.status.as_str(), scheduled.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    assert_eq!(scheduled.message.as_deref(), Some(want));
    assert_eq!(core_events(&client, "default", "nowhere").await.len(), 1);

    // A pod bound with spec.nodeName skips the scheduler: no Scheduled event.
    let mut pinned = pod_on("pinned", "reg.local/app:1", json!({}));
    pinned.spec.as_mut().unwrap().node_name = Some("kind-worker".into());
    pods.create(&PostParams::default(), &pinned).await.unwrap();
    let ready = wait_ready(&client, "default", "run=pinned", 1).await;
    let status = ready[0].status.clone().unwrap();
    assert_eq!(status.host_ip.as_deref(), Some("127.0.0.10"));
    let events = core_events(&client, "default", "pinned").await;
    assert_eq!(
        reasons(&events),
        ["Pulling", "Pulled", "Created", "Started"]
    );
}

/// A registry on 127.0.0.1 holding a 3-layer 1.5 MB synthetic image `coldbench/<variant>:latest`.
async fn registry_with_image(variant: &str) -> (tempfile::TempDir, Registry, StoredImage) {
    registry_at(variant, None).await
}

/// [`registry_with_image`] with an egress `bandwidth` (`"10MB/s"`).
async fn registry_at(
    variant: &str,
    bandwidth: Option<&str>,
) -> (tempfile::TempDir, Registry, StoredImage) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RegistryConfig::new(dir.path().join("store"), "127.0.0.1:0".parse().unwrap());
    config.bandwidth = bandwidth.map(|b| b.parse().unwrap());
    let registry = Registry::start(config).await.unwrap();
    let spec = SynthSpec {
        size: ByteSize(1_500_000),
        layers: toml::Spanned::new(0..0, 3),
        compressibility: toml::Spanned::new(0..0, 0.5),
        seed: None,
    };
    let image = synth::build(registry.store(), variant, &spec).unwrap();
    (dir, registry, image)
}

/// The image's config and layer digests.
fn blob_digests(image: &StoredImage) -> BTreeSet<String> {
    std::iter::once(image.config_digest.to_string())
        .chain(image.layers.iter().map(|l| l.digest.to_string()))
        .collect()
}

/// What the registry delivered since `from`: the digests and the peers, and the bytes.
fn delivered(
    registry: &Registry,
    from: tokio::time::Instant,
) -> (BTreeSet<String>, BTreeSet<String>, u64) {
    let sent = registry.blobs_sent(from);
    let digests = sent.iter().map(|s| s.digest.clone()).collect();
    let peers = sent.iter().map(|s| format!("{:?}", s.peer)).collect();
    (digests, peers, sent.iter().map(|s| s.bytes).sum())
}

#[tokio::test]
async fn a_node_really_pulls_from_the_registry_then_finds_the_image_present() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, registry, image) = registry_with_image("kube-pull").await;
    let api = KubeApi::start().await;
    api.set_nodes(&["kind-worker", "kind-worker2"]);
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let reference = "localhost:5001/coldbench/kube-pull:latest";
    let on_worker2 = json!({"kubernetes.io/hostname": "kind-worker2"});

    let from = tokio::time::Instant::now();
    let before = registry.served_by_listener();
    pods.create(
        &PostParams::default(),
        &pod_on("cold", reference, on_worker2.clone()),
    )
    .await
    .unwrap();
    wait_ready(&client, "default", "run=cold", 1).await;

    let (digests, peers, bytes) = delivered(&registry, from);
    assert_eq!(digests, blob_digests(&image), "the config and every layer");
    assert_eq!(
        peers,
        BTreeSet::from(["Some(127.0.0.11)".to_string()]),
        "from kind-worker2's InternalIP"
    );
    assert_eq!(bytes, image.compressed_size);
    let served = registry.served_by_listener();
    assert_eq!(served.blobs - before.blobs, image.compressed_size);
    assert!(served.manifests > before.manifests);

    let events = core_events(&client, "default", "cold").await;
    assert_eq!(
        reasons(&events),
        ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    );
    assert_eq!(
        message(&events, "Pulling"),
        format!("Pulling image \"{reference}\"")
    );
    let pulled = message(&events, "Pulled");
    let prefix = format!("Successfully pulled image \"{reference}\" in ");
    let suffix = format!(
        " including waiting). Image size: {} bytes.",
        image.compressed_size
    );
    assert!(
        pulled.starts_with(&prefix) && pulled.ends_with(&suffix),
        "{pulled}"
    );
    let (took, waited) = pull_times(pulled, reference);
    assert!(
        waited >= took && took < Duration::from_secs(5),
        "the measured pull: {pulled}"
    );

    assert_eq!(api.node_images("kind-worker2"), [reference]);
    assert!(api.node_images("kind-worker").is_empty());
    let node = Api::<Node>::all(client.clone())
        .get("kind-worker2")
        .await
        .unwrap();
    let images = node.status.unwrap().images.unwrap();
    let pinned = format!("localhost:5001/coldbench/kube-pull@{}", image.digest);
    assert_eq!(images[0].names, Some(vec![pinned, reference.to_string()]));
    assert_eq!(images[0].size_bytes, Some(image.compressed_size as i64));

    // A second pod on the same node: no pull, no bytes.
    let from = tokio::time::Instant::now();
    pods.create(
        &PostParams::default(),
        &pod_on("warm", reference, on_worker2),
    )
    .await
    .unwrap();
    wait_ready(&client, "default", "run=warm", 1).await;
    let events = core_events(&client, "default", "warm").await;
    assert_eq!(
        reasons(&events),
        ["Scheduled", "Pulled", "Created", "Started"]
    );
    assert_eq!(
        message(&events, "Pulled"),
        format!("Container image \"{reference}\" already present on machine")
    );
    assert!(registry.blobs_sent(from).is_empty());
    assert_eq!(registry.served_by_listener().blobs, served.blobs);
}

#[tokio::test]
async fn removing_a_node_image_makes_the_next_pod_pull_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, registry, image) = registry_with_image("kube-rmi").await;
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let reference = "localhost:5001/coldbench/kube-rmi:latest";

    pods.create(
        &PostParams::default(),
        &pod_on("first", reference, json!({})),
    )
    .await
    .unwrap();
    wait_ready(&client, "default", "run=first", 1).await;
    assert_eq!(api.node_images("node-1"), [reference]);
    assert!(!api.remove_node_image("node-1", "localhost:5001/coldbench/other:latest"));
    assert!(api.remove_node_image("node-1", reference));
    assert!(api.node_images("node-1").is_empty());
    assert!(!api.remove_node_image("node-1", reference), "gone already");

    let from = tokio::time::Instant::now();
    pods.create(
        &PostParams::default(),
        &pod_on("again", reference, json!({})),
    )
    .await
    .unwrap();
    wait_ready(&client, "default", "run=again", 1).await;
    let events = core_events(&client, "default", "again").await;
    assert_eq!(
        reasons(&events),
        ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    );
    let (digests, peers, bytes) = delivered(&registry, from);
    assert_eq!(digests, blob_digests(&image));
    assert_eq!(
        peers,
        BTreeSet::from(["Some(127.0.0.10)".to_string()]),
        "node-1's InternalIP"
    );
    assert_eq!(bytes, image.compressed_size);
    // Removing by the digest-pinned name works too.
    let pinned = format!("localhost:5001/coldbench/kube-rmi@{}", image.digest);
    assert!(api.remove_node_image("node-1", &pinned));
}

/// Waits for the `Error: ErrImagePull` event about `pod`; returns the events and the pod.
async fn failed_pull(client: &Client, pod: &str) -> (Vec<(String, String)>, Pod) {
    for _ in 0..500 {
        let events = core_events(client, "default", pod).await;
        if events.iter().any(|e| e.1 == "Error: ErrImagePull") {
            let p = Api::<Pod>::default_namespaced(client.clone())
                .get(pod)
                .await
                .unwrap();
            return (events, p);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "no ErrImagePull for {pod}: {:?}",
        core_events(client, "default", pod).await
    );
}

fn waiting_reason(p: &Pod) -> Option<String> {
    let cs = &p.status.as_ref()?.container_statuses.as_ref()?[0];
    cs.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

#[tokio::test]
async fn failed_pulls_give_the_kubelets_err_image_pull_events() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, registry, _image) = registry_with_image("kube-fail").await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[
        ("localhost:5001", &registry.addr().to_string()),
        ("localhost:5002", &closed.to_string()),
    ]);
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let missing = "localhost:5001/coldbench/kube-fail:nope";
    let refused = "localhost:5002/coldbench/kube-fail:latest";
    pods.create(
        &PostParams::default(),
        &pod_on("missing", missing, json!({})),
    )
    .await
    .unwrap();
    pods.create(
        &PostParams::default(),
        &pod_on("refused", refused, json!({})),
    )
    .await
    .unwrap();

    let (events, p) = failed_pull(&client, "missing").await;
    assert_eq!(
        reasons(&events),
        ["Scheduled", "Pulling", "Failed", "Failed"]
    );
    assert_eq!(events[2].1, format!(
        "Failed to pull image \"{missing}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{missing}\": failed to resolve reference \"{missing}\": {missing}: not found"
    ));
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));

    let (events, p) = failed_pull(&client, "refused").await;
    assert_eq!(
        reasons(&events),
        ["Scheduled", "Pulling", "Failed", "Failed"]
    );
    let prefix = format!("Failed to pull image \"{refused}\": rpc error: code = Unknown desc = failed to pull and unpack image \"{refused}\": failed to resolve reference \"{refused}\": failed to do request: Get \"http://{closed}/v2/coldbench/kube-fail/manifests/latest\": ");
    assert_eq!(
        events[2].1,
        format!("{prefix}dial tcp {closed}: connect: connection refused")
    );
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));

    // Neither ever starts, nor caches anything.
    tokio::time::sleep(Duration::from_millis(40)).await;
    for name in ["missing", "refused"] {
        let p = pods.get(name).await.unwrap();
        assert_eq!(
            p.status.as_ref().unwrap().phase.as_deref(),
            Some("Pending"),
            "{name}"
        );
        assert_eq!(
            core_events(&client, "default", name).await.len(),
            4,
            "{name}"
        );
    }
    assert!(api.node_images("node-1").is_empty());
}

#[tokio::test]
async fn a_corrupt_layer_fails_the_digest_check() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, registry, image) = registry_with_image("kube-corrupt").await;
    let layer = &image.layers[0].digest;
    let path = registry.store().blob_path(layer);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let client = client(&api, dir.path()).await;
    let reference = "localhost:5001/coldbench/kube-corrupt:latest";
    Api::<Pod>::default_namespaced(client.clone())
        .create(
            &PostParams::default(),
            &pod_on("corrupt", reference, json!({})),
        )
        .await
        .unwrap();
    let (events, p) = failed_pull(&client, "corrupt").await;
    let failed = &events[2].1;
    assert!(
        failed.contains(
            "failed to copy: failed to commit: commit failed: unexpected commit digest sha256:"
        ),
        "{failed}"
    );
    assert!(
        failed.ends_with(&format!(", expected {layer}: failed precondition")),
        "{failed}"
    );
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));
    assert!(api.node_images("node-1").is_empty());
}

#[tokio::test]
async fn an_image_index_resolves_to_its_linux_amd64_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, registry, image) = registry_with_image("kube-index").await;
    let store = registry.store();
    let manifest_size = store.blob_size(&image.digest).unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{}", "0".repeat(64)), "size": 1234,
                "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": image.digest.to_string(), "size": manifest_size,
                "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    });
    let index_bytes = serde_json::to_vec(&index).unwrap();
    let index_digest = store
        .put_manifest(
            "coldbench/kube-index",
            "multi",
            "application/vnd.oci.image.index.v1+json",
            &index_bytes,
        )
        .unwrap();
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let client = client(&api, dir.path()).await;
    let reference = "localhost:5001/coldbench/kube-index:multi";
    let from = tokio::time::Instant::now();
    Api::<Pod>::default_namespaced(client.clone())
        .create(
            &PostParams::default(),
            &pod_on("multi", reference, json!({})),
        )
        .await
        .unwrap();
    wait_ready(&client, "default", "run=multi", 1).await;
    let (digests, _, bytes) = delivered(&registry, from);
    assert_eq!(digests, blob_digests(&image));
    assert_eq!(bytes, image.compressed_size);
    // The node knows the image by the index's digest, as containerd does.
    let pinned = format!("localhost:5001/coldbench/kube-index@{index_digest}");
    assert!(api.remove_node_image("node-1", &pinned));
}

#[tokio::test]
async fn pulls_on_a_node_are_serialized_and_never_fetch_a_blob_twice() {
    let dir = tempfile::tempdir().unwrap();
    // 1.5 MB at 10 MB/s: the first pull lasts ~150 ms, long after the second pod asks.
    let (_store, registry, image) = registry_at("kube-serial", Some("10MB/s")).await;
    let manifest_size = registry.store().blob_size(&image.digest).unwrap();
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let client = client(&api, dir.path()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let reference = "localhost:5001/coldbench/kube-serial:latest";
    let from = tokio::time::Instant::now();
    let before = registry.served_by_listener();
    for name in ["one", "two"] {
        pods.create(&PostParams::default(), &pod_on(name, reference, json!({})))
            .await
            .unwrap();
    }
    wait_ready(&client, "default", "run=one", 1).await;
    wait_ready(&client, "default", "run=two", 1).await;

    let (digests, _, bytes) = delivered(&registry, from);
    assert_eq!(digests, blob_digests(&image));
    assert_eq!(bytes, image.compressed_size, "every blob once");
    let served = registry.served_by_listener();
    assert_eq!(
        served.manifests - before.manifests,
        2 * manifest_size,
        "both pulls resolved the tag"
    );
    let mut waits = Vec::new();
    for name in ["one", "two"] {
        let events = core_events(&client, "default", name).await;
        assert_eq!(
            reasons(&events),
            ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
        );
        waits.push(pull_times(message(&events, "Pulled"), reference));
    }
    let (took, waited) = waits[1];
    assert!(
        waited > took + Duration::from_millis(50),
        "the second pull waited for the first: {waits:?}"
    );
    assert_eq!(api.node_images("node-1"), [reference]);
    let p = pods.get("two").await.unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    assert_eq!(
        cs.image_id,
        format!("localhost:5001/coldbench/kube-serial@{}", image.digest)
    );
}

/// The two durations of a 1.30+ `Pulled` message: the pull and the pull with its wait.
fn pull_times(message: &str, reference: &str) -> (Duration, Duration) {
    let rest = message
        .strip_prefix(&format!("Successfully pulled image \"{reference}\" in "))
        .unwrap_or_else(|| panic!("{message}"));
    let (took, rest) = rest.split_once(" (").unwrap();
    let waited = rest.split_once(' ').unwrap().0;
    (parse_go_duration(took), parse_go_duration(waited))
}

/// `850ms`, `1.234s` (what the double's truncated durations look like below a minute).
fn parse_go_duration(s: &str) -> Duration {
    if let Some(ms) = s.strip_suffix("ms") {
        return Duration::from_secs_f64(ms.parse::<f64>().unwrap() / 1e3);
    }
    Duration::from_secs_f64(s.strip_suffix('s').unwrap().parse().unwrap())
}
