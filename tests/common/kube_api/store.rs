//! The API server's state: objects by kind/namespace/name, one global resourceVersion counter
//! (etcd's), a change log that watches replay from, and a broadcast of new changes.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// The object kinds the double stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    /// Cluster-scoped, like namespaces.
    Node,
    Pod,
    Deployment,
    /// Stored in the `core/v1` shape; `events.k8s.io/v1` is rendered from it.
    Event,
}

/// One change, as a watch reports it.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: Kind,
    pub namespace: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind_of_change: &'static str,
    pub object: Value,
}

type Key = (Kind, String, String);

/// Objects, the change log and the watch broadcast.
pub struct Store {
    rv: u64,
    uid: u64,
    objects: BTreeMap<Key, Value>,
    log: Vec<Change>,
    /// Changes at or before this resourceVersion were compacted away (etcd compaction).
    compacted: u64,
    tx: broadcast::Sender<Change>,
}

impl Store {
    /// An empty store (namespaces `default` and `kube-system` are added by the server).
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Store {
            rv: 1000,
            uid: 0,
            objects: BTreeMap::new(),
            log: Vec::new(),
            compacted: 0,
            tx,
        }
    }

    /// The current resourceVersion (what a list reports).
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// A fresh uid, shaped like a real one.
    pub fn new_uid(&mut self) -> String {
        self.uid += 1;
        format!("6f1c2a3e-0000-4000-8000-{:012x}", self.uid)
    }

    /// The stored object, if any.
    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&(kind, ns.to_string(), name.to_string()))
    }

    /// Objects of `kind` in `ns` (every namespace when `None`), in name order.
    pub fn list(&self, kind: Kind, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((k, n, _), _)| *k == kind && ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Inserts a new object: stamps uid, resourceVersion and creationTimestamp; logs `ADDED`.
    pub fn insert(&mut self, kind: Kind, ns: &str, mut obj: Value) -> Value {
        let uid = self.new_uid();
        let meta = &mut obj["metadata"];
        meta["uid"] = json!(uid);
        meta["creationTimestamp"] = json!(super::time::now_seconds());
        let name = meta["name"].as_str().unwrap_or_default().to_string();
        self.commit(kind, ns, &name, obj, "ADDED")
    }

    /// Replaces an object with a new resourceVersion; logs `MODIFIED`.
    pub fn update(&mut self, kind: Kind, ns: &str, name: &str, obj: Value) -> Value {
        self.commit(kind, ns, name, obj, "MODIFIED")
    }

    /// Applies `edit` to a stored object and commits it; `None` when it is gone.
    pub fn modify(
        &mut self,
        kind: Kind,
        ns: &str,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut obj = self.get(kind, ns, name)?.clone();
        edit(&mut obj);
        Some(self.update(kind, ns, name, obj))
    }

    /// Removes an object; logs `DELETED` with a final resourceVersion.
    pub fn remove(&mut self, kind: Kind, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self
            .objects
            .remove(&(kind, ns.to_string(), name.to_string()))?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.publish(kind, ns, "DELETED", obj.clone());
        Some(obj)
    }

    /// Changes after `rv`, and a receiver for the ones still to come (taken atomically, so a
    /// watch misses nothing between the two).
    pub fn since(&self, rv: u64) -> (Vec<Change>, broadcast::Receiver<Change>) {
        let backlog = self.log.iter().filter(|c| c.rv > rv).cloned().collect();
        (backlog, self.tx.subscribe())
    }

    /// Forgets the change log up to now: watches from an older resourceVersion get `410`.
    pub fn compact(&mut self) {
        self.compacted = self.rv;
        self.log.clear();
    }

    /// True when a watch from `rv` can no longer be served (`410 Expired`).
    pub fn expired(&self, rv: u64) -> bool {
        rv != 0 && rv < self.compacted
    }

    fn commit(
        &mut self,
        kind: Kind,
        ns: &str,
        name: &str,
        mut obj: Value,
        t: &'static str,
    ) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects
            .insert((kind, ns.to_string(), name.to_string()), obj.clone());
        self.publish(kind, ns, t, obj.clone());
        obj
    }

    fn publish(&mut self, kind: Kind, ns: &str, t: &'static str, object: Value) {
        let change = Change {
            rv: self.rv,
            kind,
            namespace: ns.to_string(),
            kind_of_change: t,
            object,
        };
        self.log.push(change.clone());
        // No receiver is fine: nobody watches yet.
        let _ = self.tx.send(change);
    }
}

/// A parsed `labelSelector` or `fieldSelector`: equality (`=`, `==`), inequality (`!=`),
/// existence (`key`) and absence (`!key`) terms, ANDed.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    terms: Vec<Term>,
}

#[derive(Clone, Debug)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
}

impl Selector {
    /// Parses a selector; the empty string selects everything.
    pub fn parse(s: &str) -> Self {
        let terms = s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                if let Some((k, v)) = t.split_once("!=") {
                    Term::Ne(k.to_string(), v.to_string())
                } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                    Term::Eq(k.to_string(), v.to_string())
                } else if let Some(k) = t.strip_prefix('!') {
                    Term::Absent(k.to_string())
                } else {
                    Term::Exists(t.to_string())
                }
            })
            .collect();
        Selector { terms }
    }

    /// True when `lookup(key)` satisfies every term.
    pub fn matches(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Eq(k, v) => lookup(k).as_deref() == Some(v.as_str()),
            Term::Ne(k, v) => lookup(k).as_deref() != Some(v.as_str()),
            Term::Exists(k) => lookup(k).is_some(),
            Term::Absent(k) => lookup(k).is_none(),
        })
    }
}

/// The label `key` of `obj`.
pub fn label(obj: &Value, key: &str) -> Option<String> {
    obj["metadata"]["labels"][key].as_str().map(str::to_string)
}

/// The field at dotted `path` of `obj` (`metadata.name`, `spec.nodeName`, `regarding.name`).
pub fn field(obj: &Value, path: &str) -> Option<String> {
    let v = path.split('.').try_fold(obj, |v, k| v.get(k))?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}
