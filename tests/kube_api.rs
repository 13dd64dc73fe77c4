//! The recorded Kubernetes API (tests/common/kube_api) is shaped like a real API server: the
//! real kube-rs client — kubeconfig loader, typed `Api`, `runtime::watcher` — works against it.

// Only the Kubernetes tests compile the recorded API (not every binary that uses `common`).
#[path = "common/kube_api/mod.rs"]
mod kube_api;

use std::path::Path;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Namespace, Pod};
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
