//! Property tests of the loader: no panic on any input, and every error names the file.

use std::path::Path;

use proptest::prelude::*;

use super::limits::*;
use super::{Scenario, ScenarioError};

/// A valid scenario touching most keys, for mutation.
const VALID: &str = r#"name = "demo"
repetitions = 3
warmup = true
[registry]
bandwidth = "100MB/s"
node_bandwidth = "1Gbit/s"
latency = "20ms"
[burst]
nodes = 2
replicas = 4
step = { add = 2, every = "1s" }
[[variant]]
name = "big"
synth = { size = "150MB", layers = 6, compressibility = 0.3 }
env = { A_1 = "x" }
ready = { http = "/health", status = 204, timeout = "5s" }
[[variant]]
name = "up"
registry = "127.0.0.1:5000/app:1"
[thresholds]
total = ["p95<2s", "p(50)<+10%"]
"pull{variant:big}" = ["med<=800ms"]
full_capacity = ["<8s"]
"#;

/// Pieces a mutation inserts: syntax, hostile numbers and units.
const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    ",",
    ".",
    "\n",
    "#",
    "0",
    "-1",
    "4294967296",
    "1e400",
    "nan",
    "inf",
    "\"0s\"",
    "\"0B\"",
    "\"1bit/s\"",
    "\"\"",
    "\\u0000",
    "[[variant]]",
    "a.b.c = 1",
    "\u{feff}",
    "é",
    "<",
    "%",
    "p(",
    "{variant:up}",
];

/// Parses `text` as `s.toml`; an error must name the file and stay short.
fn check(text: String) -> Result<(), TestCaseError> {
    match Scenario::parse(Path::new("s.toml"), text) {
        Ok(s) => check_bounds(&s),
        Err(e) => check_error(&e),
    }
}

/// A scenario that loaded honours the bounds, and its rates convert without panicking.
fn check_bounds(s: &Scenario) -> Result<(), TestCaseError> {
    prop_assert!(s.file.repetitions.get() <= MAX_REPETITIONS);
    for rate in [s.file.registry.bandwidth, s.file.registry.node_bandwidth]
        .into_iter()
        .flatten()
    {
        let bps = rate.bytes_per_sec();
        prop_assert!((MIN_RATE_BYTES_PER_SEC..=MAX_RATE_BYTES_PER_SEC).contains(&bps));
        let _ = rate.time_for(u64::MAX);
    }
    prop_assert!(s.thresholds.len() <= MAX_THRESHOLDS);
    for v in &s.file.variants {
        prop_assert!(READY_STATUS.contains(&v.ready.status));
        prop_assert!(v.ready.timeout.0 <= MAX_READY_TIMEOUT);
    }
    Ok(())
}

/// An error names the file (with `:line:col` when known) and echoes no long input.
fn check_error(e: &ScenarioError) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(text.starts_with("s.toml"), "{}", text);
    if let Some((line, column)) = e.position {
        let location = format!("s.toml:{line}:{column}");
        prop_assert!(text.starts_with(&location), "{}", text);
    }
    prop_assert!(text.chars().count() < 1300, "{} chars", text.len());
    Ok(())
}

/// `VALID` with up to four edits: delete a few bytes at a spot, insert a piece there.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0usize..6,
        prop::sample::select(PIECES),
    );
    prop::collection::vec(edit, 1..5).prop_map(|edits| {
        let mut bytes = VALID.as_bytes().to_vec();
        for (at, delete, piece) in edits {
            let at = at.index(bytes.len() + 1);
            let end = (at + delete).min(bytes.len());
            bytes.splice(at..end, piece.bytes());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[test]
fn the_mutation_base_is_valid() {
    Scenario::parse(Path::new("s.toml"), VALID.to_string()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_loads_or_fails_naming_the_file(text in "\\PC{0,200}") {
        check(text)?;
    }

    #[test]
    fn any_bytes_load_or_fail_naming_the_file(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn toml_like_text_loads_or_fails_naming_the_file(
        text in "([a-z_.\\[\\]{}=\",\n 0-9-]|variant|name|synth|size|ready|\"5MB\"){0,60}"
    ) {
        check(text)?;
    }

    #[test]
    fn mutated_scenarios_load_or_fail_naming_the_file(text in mutated()) {
        check(text)?;
    }
}
