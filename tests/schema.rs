//! schemas/run.schema.json describes run.json: every fixture validates, and so does what
//! the JSON exporter writes; malformed records do not.

use coldbench::report::export::{Exporter, JsonExporter};
use coldbench::results::RunRecord;
use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("readable");
    serde_json::from_str(&text).expect("JSON")
}

fn validator() -> jsonschema::Validator {
    let schema = read_json("schemas/run.schema.json");
    jsonschema::draft202012::new(&schema).expect("the schema is valid draft 2020-12")
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

const FIXTURES: [&str; 3] = ["run-quickstart", "run-burst", "run-node-bases"];

#[test]
fn fixtures_validate() {
    let validator = validator();
    for name in FIXTURES {
        let value = read_json(&format!("tests/fixtures/{name}.json"));
        let errors = errors(&validator, &value);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn exported_json_validates() {
    let validator = validator();
    for name in FIXTURES {
        let value = read_json(&format!("tests/fixtures/{name}.json"));
        let record: RunRecord = serde_json::from_value(value).expect("RunRecord");
        let bytes = JsonExporter.render(&record).expect("renders");
        let exported: Value = serde_json::from_slice(&bytes).expect("JSON");
        let errors = errors(&validator, &exported);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn malformed_records_do_not_validate() {
    let validator = validator();
    let good = read_json("tests/fixtures/run-burst.json");

    let mut extra = good.clone();
    extra["surprise"] = Value::Bool(true);
    assert!(
        !validator.is_valid(&extra),
        "unknown top-level key accepted"
    );

    let mut missing = good.clone();
    missing["samples"][0]
        .as_object_mut()
        .expect("sample")
        .remove("phases");
    assert!(
        !validator.is_valid(&missing),
        "sample without phases accepted"
    );

    let mut bad_phase = good.clone();
    bad_phase["samples"][0]["outcome"] =
        serde_json::json!({"status": "failed", "phase": "teleport", "message": "x"});
    assert!(!validator.is_valid(&bad_phase), "unknown phase accepted");

    let mut negative = good;
    negative["variants"][0]["image"]["compressed_size"] = serde_json::json!(-1);
    assert!(!validator.is_valid(&negative), "negative size accepted");
}

#[test]
fn versions_one_and_two_validate() {
    let validator = validator();
    let mut v2 = read_json("tests/fixtures/run-burst.json");
    assert_eq!(v2["schema_version"], 1, "the fixtures are version 1");
    v2["schema_version"] = serde_json::json!(coldbench::results::SCHEMA_VERSION);
    v2["samples"][0]["finished_at_us"] = serde_json::json!(1_500_000);
    let errors = errors(&validator, &v2);
    assert!(errors.is_empty(), "{errors:#?}");
    let record: RunRecord = serde_json::from_value(v2.clone()).expect("RunRecord");
    assert_eq!(record.samples[0].finished_at_us, Some(1_500_000));
    assert_eq!(record.samples[1].finished_at_us, None);

    let mut future = v2.clone();
    future["schema_version"] = serde_json::json!(3);
    assert!(!validator.is_valid(&future), "version 3 accepted");
    let mut negative = v2;
    negative["samples"][0]["finished_at_us"] = serde_json::json!(-1);
    assert!(
        !validator.is_valid(&negative),
        "negative finished_at_us accepted"
    );
}
