//! `[thresholds]` in scenario files: parsed in order, errors located inside the key or the
//! expression, variant filters checked against the variants, the count bounded.

use std::path::Path;

use super::limits::MAX_THRESHOLDS;
use super::{Scenario, ScenarioError};
use crate::compare::threshold::{Aggregation, Limit};

const SCENARIO: &str = r#"name = "t"
[[variant]]
name = "full-like"
synth = { size = "5MB" }
[[variant]]
name = "static-like"
synth = { size = "5MB" }
[thresholds]
total = ["p95<2s", "p(50) < +10%"]
"pull{variant:static-like}" = ["med<=800ms"]
full_capacity = ["<8s"]
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(Path::new("s.toml"), text.to_string())
}

/// The error of `SCENARIO` with `from` replaced by `to`.
fn err_with(from: &str, to: &str) -> String {
    assert!(SCENARIO.contains(from), "{from}");
    parse(&SCENARIO.replace(from, to)).unwrap_err().to_string()
}

#[test]
fn thresholds_parse_in_file_order() {
    let s = parse(SCENARIO).unwrap();
    let shown: Vec<String> = s.thresholds.iter().map(|t| t.canonical()).collect();
    assert_eq!(
        shown,
        [
            "p95(total)<2s",
            "p50(total)<+10%",
            "med(pull{variant:static-like})<=800ms",
            "med(full_capacity)<8s",
        ]
    );
    assert_eq!(s.thresholds[0].to_string(), "total: p95<2s");
    assert_eq!(s.thresholds[1].aggregation, Aggregation::Percentile(50.0));
    assert_eq!(s.thresholds[1].limit, Limit::Relative(10.0));
    let parsed = serde_json::to_value(&s.file).unwrap();
    assert_eq!(parsed["thresholds"]["total"][1], "p(50) < +10%");
}

#[test]
fn no_thresholds_table_means_none() {
    let s = parse(&SCENARIO[..SCENARIO.find("[thresholds]").unwrap()]).unwrap();
    assert!(s.thresholds.is_empty());
    let parsed = serde_json::to_value(&s.file).unwrap();
    assert!(parsed.get("thresholds").is_none(), "{parsed}");
}

#[test]
fn a_bad_expression_is_located_inside_it() {
    let e = err_with("\"p95<2s\"", "\"p95<2\"");
    assert_eq!(
        e,
        "s.toml:9:16: thresholds.total[0]: threshold \"p95<2\": 2 has no unit: add one of ns, us, \
         µs, ms, s, m, h (k6 reads a bare number as milliseconds; coldbench asks you to say it)"
    );
    let e = err_with("\"<8s\"", "'<8'");
    assert!(
        e.starts_with("s.toml:11:21: thresholds.full_capacity[0]: threshold \"<8\": 8 has no unit"),
        "{e}"
    );
    let e = err_with("\"med<=800ms\"", "\"med<=800ms\", \"p95(pull)<1s\"");
    assert!(e.starts_with("s.toml:10:50: thresholds.pull{variant:static-like}[1]: threshold \"p95(pull)<1s\": the key names the metric"), "{e}");
}

#[test]
fn an_expression_with_escapes_is_located_at_its_string() {
    let e = err_with("\"p95<2s\"", "\"p95\\u003c2\"");
    assert!(
        e.starts_with(
            "s.toml:9:10: thresholds.total[0]: threshold \"p95<2\", column 6: 2 has no unit"
        ),
        "{e}"
    );
}

#[test]
fn a_bad_key_is_located_inside_it() {
    let e = err_with(
        "\"pull{variant:static-like}\"",
        "\"pul{variant:static-like}\"",
    );
    assert!(
        e.starts_with("s.toml:10:2: thresholds.pul{variant:static-like}: threshold key \"pul{variant:static-like}\": unknown metric \"pul\"; expected one of pull,"),
        "{e}"
    );
    let e = err_with("total =", "totl =");
    assert!(
        e.starts_with("s.toml:9:1: thresholds.totl: threshold key \"totl\": unknown metric"),
        "{e}"
    );
    let e = parse(&SCENARIO.replace("full_capacity = [\"<8s\"]", "\"total{variant:x\" = []"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("s.toml:11:17: thresholds.total{variant:x: threshold key \"total{variant:x\": expected \"}\""), "{e}");
}

#[test]
fn a_filter_naming_no_variant_is_located_at_the_name() {
    let e = err_with("variant:static-like", "variant:static");
    assert_eq!(
        e,
        "s.toml:10:15: thresholds.pull{variant:static}: no variant \"static\" in this scenario; \
         its variants are: full-like, static-like"
    );
}

#[test]
fn the_table_has_the_expected_shape() {
    let e = err_with("[\"<8s\"]", "\"<8s\"");
    assert!(
        e.starts_with("s.toml:11:17: thresholds.full_capacity:"),
        "{e}"
    );
    assert!(
        e.contains("expected an array of thresholds such as [\"p95<2s\", \"p50<+10%\"]"),
        "{e}"
    );
    let e = err_with("[\"<8s\"]", "[8]");
    assert!(
        e.starts_with("s.toml:11:18: thresholds.full_capacity"),
        "{e}"
    );
}

#[test]
fn the_number_of_thresholds_is_bounded() {
    let many = vec!["\"p95<2s\""; MAX_THRESHOLDS + 1].join(", ");
    let e = err_with("[\"p95<2s\", \"p(50) < +10%\"]", &format!("[{many}]"));
    assert!(e.starts_with("s.toml:9:1010: thresholds.total[100]: more than 100 thresholds: at most 100 are allowed"), "{e}");
    let enough = vec!["\"p95<2s\""; MAX_THRESHOLDS - 2].join(", ");
    let s =
        parse(&SCENARIO.replace("[\"p95<2s\", \"p(50) < +10%\"]", &format!("[{enough}]"))).unwrap();
    assert_eq!(s.thresholds.len(), MAX_THRESHOLDS);
}

#[test]
fn an_inline_table_works_too() {
    let head = "name = \"t\"\nthresholds = { total = [\"p95<2s\"], \"start{variant:x}\" = [] }\n";
    let text = SCENARIO.replace("name = \"t\"\n", head);
    let text = &text[..text.find("[thresholds]").unwrap()];
    let e = parse(text).unwrap_err().to_string();
    assert!(
        e.starts_with("s.toml:2:51: thresholds.start{variant:x}: no variant \"x\""),
        "{e}"
    );
}
