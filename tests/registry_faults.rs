//! `[registry.faults]` against the real engines (Docker, and containerd for the 429), through the crate's run path: what Docker
//! (20.10) does on each fault, and that each sample records the requests, retries and faults its
//! node saw. Without Docker these skip, or fail with `CI=true`.
//!
//! Measured with Docker 20.10.24 (the README's "A flaky registry on purpose" quotes these):
//! - a layer reset part-way is resumed after 5 s with a `Range` request (206), and the pull
//!   succeeds; a config blob reset is retried at once, up to 6 attempts;
//! - a 5xx on the manifest fails the pull at once ("received unexpected HTTP status: 502 Bad
//!   Gateway"), without a retry;
//! - a 429 on the manifest `HEAD` falls back to a `GET`; a 429 there fails the pull at once with
//!   Docker Hub's "toomanyrequests: You have reached your pull rate limit…": `Retry-After` is not
//!   honoured;
//! - a stalled body is waited for, without a retry.
//!
//! And containerd 1.6 through CRI on a 429: fails at once too.

mod common;

use std::time::Duration;

use coldbench::registry::FaultKind;
use coldbench::results::{Outcome, Sample};

/// A one-variant scenario on the user's engine with `faults` as `[registry.faults]`. The variant
/// is named after the scenario, so each test's image is its own: Docker 20.10 resolves a tag
/// with a `HEAD` and takes the manifest from its content store when another pull of the same
/// digest has it, so a shared image would skip the faulted manifest `GET` (seen in CI).
fn scenario(name: &str, repetitions: u32, seed: u64, faults: &str) -> String {
    format!(
        r#"name = "{name}"
repetitions = {repetitions}
seed = {seed}
[docker]
node = "engine"
[registry]
bandwidth = "50MB/s"
[registry.faults]
{faults}
[[variant]]
name = "{name}"
synth = {{ size = "4MB" }}
"#
    )
}

fn faults_of(s: &Sample, kind: FaultKind) -> u64 {
    s.registry
        .as_ref()
        .and_then(|r| r.faults.get(&kind).copied())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_layer_is_resumed_and_the_sample_records_retry_and_fault() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Seed 139: the config and the layer (requests 3 and 4, after /v2/ and the manifest's HEAD
    // and GET) are reset at half, their retries are not (a unit test in registry::faults pins it).
    let text = scenario("reset", 1, 139, "reset = { rate = 0.5, after = 0.5 }");
    let outcome = common::run_scenario(dir.path(), &text).await;
    let s = &outcome.record.samples[0];
    assert!(s.is_ok(), "Docker resumes a reset layer: {:?}", s.outcome);
    let counts = s.registry.as_ref().expect("registry counts");
    assert_eq!(counts.retries, 2, "{counts:?}");
    assert_eq!(faults_of(s, FaultKind::Reset), 2, "{counts:?}");
    // Resumed with a Range request: the blob bytes are the image's plus at most what the cut
    // response had sent before the reset (nothing is fetched twice).
    assert!(s.blob_bytes >= s.expected_bytes, "{s:?}");
    assert!(s.blob_bytes <= s.expected_bytes * 3 / 2, "{s:?}");
    // Docker waits 5 s before its first retry of a layer.
    assert!(
        s.phases.pull_us.unwrap() >= 4_500_000,
        "{:?}",
        s.phases.pull_us
    );
    common::assert_follows_schema(&outcome.dir.join("run.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_rate_one_fails_the_sample_with_the_registrys_reason() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("errors", 1, 1, "error_rate = 1.0\non = [\"manifest\"]");
    let outcome = common::run_scenario(dir.path(), &text).await;
    let s = &outcome.record.samples[0];
    let Outcome::Failed { message, .. } = &s.outcome else {
        panic!("a 5xx manifest fails the pull: {:?}", s.outcome);
    };
    assert!(
        message.contains("received unexpected HTTP status: 50"),
        "{message}"
    );
    assert_eq!(faults_of(s, FaultKind::Error), 1, "{:?}", s.registry);
    common::assert_follows_schema(&outcome.dir.join("run.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_pull_fails_with_toomanyrequests_at_once() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "limited",
        2,
        1,
        "rate_limit = { manifest_gets = 1, window = \"60s\", retry_after = \"5s\" }",
    );
    let outcome = common::run_scenario(dir.path(), &text).await;
    let samples = &outcome.record.samples;
    assert!(samples[0].is_ok(), "{:?}", samples[0].outcome);
    let s = &samples[1];
    let Outcome::Failed { message, .. } = &s.outcome else {
        panic!("the second pull is over the limit: {:?}", s.outcome);
    };
    assert!(message.contains("toomanyrequests"), "{message}");
    // Docker 20.10 does not wait for Retry-After: it fails within a moment.
    assert_eq!(s.phases.pull_us, None, "a failed pull has no pull time");
    let took = Duration::from_micros(s.finished_at_us.expect("how long it ran"));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(faults_of(s, FaultKind::RateLimit) >= 1, "{:?}", s.registry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_waited_for_without_a_retry() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "stalled",
        1,
        1,
        "stall = { rate = 1.0, after = 0.5, for = \"3s\" }",
    );
    let outcome = common::run_scenario(dir.path(), &text).await;
    let s = &outcome.record.samples[0];
    assert!(s.is_ok(), "{:?}", s.outcome);
    assert!(s.cold, "{s:?}");
    let counts = s.registry.as_ref().expect("registry counts");
    assert_eq!(counts.retries, 0, "{counts:?}");
    // The config and the layer stall together.
    assert_eq!(faults_of(s, FaultKind::Stall), 2, "{counts:?}");
    assert!(s.phases.pull_us.unwrap() >= 3_000_000, "{:?}", s.phases);
}

/// containerd 1.6 (kubelet's runtime, through CRI) on a 429: the first pull is within the limit
/// (the node's own pause image, pulled at setup, is never faulted nor counted), the second
/// fails at once with "429 Too Many Requests", Retry-After not honoured either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerd_fails_a_rate_limited_pull_at_once_and_its_pause_image_is_exempt() {
    if !common::containerd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "driver = \"containerd\"\n{}",
        scenario(
            "ctd-limited",
            2,
            1,
            "rate_limit = { manifest_gets = 1, window = \"60s\", retry_after = \"5s\" }",
        )
        .replace("[docker]\nnode = \"engine\"\n", "")
    );
    let outcome = common::run_scenario(dir.path(), &text).await;
    let samples = &outcome.record.samples;
    assert_eq!(outcome.record.engine.driver, "containerd");
    assert!(samples[0].is_ok(), "{:?}", samples[0].outcome);
    assert_eq!(faults_of(&samples[0], FaultKind::RateLimit), 0);
    let s = &samples[1];
    let Outcome::Failed { message, .. } = &s.outcome else {
        panic!("the second pull is over the limit: {:?}", s.outcome);
    };
    assert!(message.contains("429 Too Many Requests"), "{message}");
    let took = Duration::from_micros(s.finished_at_us.expect("how long it ran"));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(faults_of(s, FaultKind::RateLimit) >= 1, "{:?}", s.registry);
    common::assert_follows_schema(&outcome.dir.join("run.json"));
}
