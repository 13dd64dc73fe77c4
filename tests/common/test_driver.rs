//! A test driver shaped like the Docker one: nodes that evict, pull, create, start and answer
//! after scripted delays on tokio's clock (run the test with paused time for exact figures),
//! count the bytes a cold pull would move, and record every call, so the real orchestration
//! (run → plan → execute → record) is tested without an engine.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coldbench::driver::{Answered, ContainerSpec, Driver, DriverError, NodeKind, PullSpec};
use coldbench::execute::{ByteCounter, InterruptTrigger};
use coldbench::results::{EngineContext, LayerTiming};
use tokio::time::{sleep, Instant};

/// How the nodes behave.
#[derive(Debug, Clone)]
pub struct Script {
    /// Pull time per node (the last entry for nodes beyond the list).
    pub pull: Vec<Duration>,
    /// Extra pull time for the first `n` pulls of the run (warm-ups are slower, say).
    pub first_pulls_extra: (usize, Duration),
    /// Create, start and first-request times.
    pub create: Duration,
    pub start: Duration,
    pub first_request: Duration,
    /// Pull numbers (0-based, in the order pulls start) that move fewer bytes than the image:
    /// a node that had a layer already.
    pub warm_pulls: BTreeSet<usize>,
    /// Containers whose name ends with one of these never answer (e.g. `-3`: replica 3).
    pub never_ready: BTreeSet<String>,
    /// Interrupt the run when this pull number starts.
    pub interrupt_at_pull: Option<usize>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            pull: vec![Duration::from_secs(1)],
            first_pulls_extra: (0, Duration::ZERO),
            create: Duration::from_millis(100),
            start: Duration::from_millis(200),
            first_request: Duration::from_millis(50),
            warm_pulls: BTreeSet::new(),
            never_ready: BTreeSet::new(),
            interrupt_at_pull: None,
        }
    }
}

/// Every call the orchestration made, for assertions.
#[derive(Debug, Default)]
pub struct Calls {
    pub evictions: Vec<usize>,
    pub pulls: Vec<(usize, String)>,
    pub created: Vec<String>,
    pub removed: Vec<String>,
    pub removed_runs: Vec<(usize, String)>,
    pub torn_down: bool,
    /// (blob, manifest) bytes per node.
    pub bytes: BTreeMap<usize, (u64, u64)>,
}

/// The driver; [`TestDriver::calls`] outlives it.
pub struct TestDriver {
    nodes: usize,
    script: Script,
    calls: Arc<Mutex<Calls>>,
    interrupt: Mutex<Option<InterruptTrigger>>,
}

/// Reads the byte counts the test driver keeps.
pub struct TestBytes(pub Arc<Mutex<Calls>>);

impl ByteCounter for TestBytes {
    fn served(&self, node: usize) -> (u64, u64) {
        self.0
            .lock()
            .unwrap()
            .bytes
            .get(&node)
            .copied()
            .unwrap_or_default()
    }

    fn blobs_sent(&self, _node: usize, _from: Instant) -> Vec<coldbench::registry::BlobSent> {
        Vec::new() // the scripted nodes pull nothing through a registry
    }
}

impl TestDriver {
    pub fn new(nodes: usize, script: Script, interrupt: Option<InterruptTrigger>) -> Self {
        TestDriver {
            nodes,
            script,
            calls: Arc::new(Mutex::new(Calls::default())),
            interrupt: Mutex::new(interrupt),
        }
    }

    /// The record of calls, shared.
    pub fn calls(&self) -> Arc<Mutex<Calls>> {
        self.calls.clone()
    }

    fn pull_time(&self, node: usize, number: usize) -> Duration {
        let base = self
            .script
            .pull
            .get(node)
            .or(self.script.pull.last())
            .copied()
            .unwrap_or_default();
        let (n, extra) = self.script.first_pulls_extra;
        if number < n {
            base + extra
        } else {
            base
        }
    }
}

#[async_trait::async_trait]
impl Driver for TestDriver {
    fn nodes(&self) -> usize {
        self.nodes
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Test
    }

    async fn describe(&self, node: usize) -> Result<EngineContext, DriverError> {
        Ok(EngineContext {
            driver: "test".into(),
            endpoint: format!("test://node{node}"),
            ..Default::default()
        })
    }

    async fn stale_refs(&self, _: usize, _: &str) -> Result<Vec<String>, DriverError> {
        Ok(Vec::new())
    }

    async fn evict(&self, node: usize, _: &str) -> Result<(), DriverError> {
        self.calls.lock().unwrap().evictions.push(node);
        Ok(())
    }

    async fn pull(&self, node: usize, image: &PullSpec) -> Result<Vec<LayerTiming>, String> {
        let number = {
            let mut calls = self.calls.lock().unwrap();
            calls.pulls.push((node, image.reference.clone()));
            calls.pulls.len() - 1
        };
        if self.script.interrupt_at_pull == Some(number) {
            if let Some(trigger) = self.interrupt.lock().unwrap().take() {
                trigger.trigger();
            }
        }
        sleep(self.pull_time(node, number)).await;
        let size = image.image.compressed_size;
        let moved = if self.script.warm_pulls.contains(&number) {
            size / 2
        } else {
            size
        };
        let mut calls = self.calls.lock().unwrap();
        let bytes = calls.bytes.entry(node).or_default();
        bytes.0 += moved;
        bytes.1 += 1_000;
        Ok(Vec::new())
    }

    async fn create(&self, _: usize, container: &ContainerSpec) -> Result<(), String> {
        sleep(self.script.create).await;
        self.calls
            .lock()
            .unwrap()
            .created
            .push(container.name.clone());
        Ok(())
    }

    async fn start(&self, _: usize, _: &ContainerSpec) -> Result<(), String> {
        sleep(self.script.start).await;
        Ok(())
    }

    async fn wait_ready(&self, _: usize, container: &ContainerSpec) -> Result<Answered, String> {
        if self
            .script
            .never_ready
            .iter()
            .any(|s| container.name.ends_with(s.as_str()))
        {
            sleep(container.ready.timeout.0).await;
            return Err(format!("no answer within {:?}", container.ready.timeout.0));
        }
        sleep(self.script.first_request).await;
        Ok(Answered {
            at: Instant::now(),
            probe: None,
        })
    }

    async fn remove(&self, _: usize, container: &str) {
        self.calls
            .lock()
            .unwrap()
            .removed
            .push(container.to_string());
    }

    async fn remove_run(&self, node: usize, run_id: &str) -> Result<usize, DriverError> {
        self.calls
            .lock()
            .unwrap()
            .removed_runs
            .push((node, run_id.to_string()));
        Ok(0)
    }

    async fn teardown(self: Box<Self>) {
        self.calls.lock().unwrap().torn_down = true;
    }
}
