//! Exporters: Markdown snapshots of real runs, JSON and CSV round trips.

use coldbench::report::export::{self, markdown, CsvExporter, Exporter, JsonExporter};
use coldbench::results::RunRecord;

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is a RunRecord")
}

const FIXTURES: [&str; 3] = ["run-quickstart", "run-burst", "run-node-bases"];

#[test]
fn markdown_quickstart() {
    insta::assert_snapshot!(markdown::render(&fixture("run-quickstart")));
}

#[test]
fn markdown_burst() {
    insta::assert_snapshot!(markdown::render(&fixture("run-burst")));
}

#[test]
fn markdown_is_deterministic_and_names_every_variant() {
    for name in FIXTURES {
        let record = fixture(name);
        let md = markdown::render(&record);
        assert_eq!(md, markdown::render(&record), "{name}");
        for v in &record.variants {
            assert!(md.contains(&v.name), "{name}: {} missing", v.name);
        }
        // The fastest variant is the reference.
        assert!(md.contains("| 1.00 |"), "{name}: no 1.00 reference");
    }
}

#[test]
fn json_export_round_trips() {
    for name in FIXTURES {
        let record = fixture(name);
        let bytes = JsonExporter.render(&record).expect("renders");
        let back: RunRecord = serde_json::from_slice(&bytes).expect("parses back");
        assert_eq!(
            serde_json::to_value(&back).expect("value"),
            serde_json::to_value(&record).expect("value"),
            "{name}"
        );
    }
}

#[test]
fn csv_export_has_one_row_per_sample() {
    for name in FIXTURES {
        let record = fixture(name);
        let bytes = CsvExporter.render(&record).expect("renders");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().expect("header").clone();
        assert!(headers.iter().any(|h| h == "total_us"), "{name}");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), record.samples.len(), "{name}");
        let variant = headers
            .iter()
            .position(|h| h == "variant")
            .expect("variant");
        for (row, sample) in rows.iter().zip(&record.samples) {
            assert_eq!(&row[variant], sample.variant);
        }
    }
}

#[test]
fn csv_export_matches_samples_csv() {
    let record = fixture("run-burst");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("samples.csv");
    coldbench::results::writers::write_csv(&path, &record).expect("writes");
    let file = std::fs::read(&path).expect("reads");
    assert_eq!(file, CsvExporter.render(&record).expect("renders"));
}

#[test]
fn by_name_and_write_to_a_file() {
    let record = fixture("run-quickstart");
    let dir = tempfile::tempdir().expect("tempdir");
    for name in export::NAMES {
        let exporter = export::by_name(name).expect("known");
        let target = dir.path().join(format!("out.{}", exporter.extension()));
        let target = target.to_str().expect("utf-8 path");
        export::write(exporter.as_ref(), &record, target).expect("writes");
        let written = std::fs::read(target).expect("reads");
        assert_eq!(
            written,
            exporter.render(&record).expect("renders"),
            "{name}"
        );
    }
    assert_eq!(export::all().len(), export::NAMES.len());
    assert!(export::by_name("xml").is_err());
}

#[test]
fn one_variant_renders() {
    for name in FIXTURES {
        let mut record = fixture(name);
        let keep = record.variants[0].name.clone();
        record.variants.truncate(1);
        record.samples.retain(|s| s.variant == keep);
        record.bursts.retain(|b| b.variant == keep);
        record.summaries.retain(|k, _| *k == keep);
        record.histograms.retain(|k, _| *k == keep);
        let md = markdown::render(&record);
        assert!(md.contains(&keep), "{name}");
        assert!(md.contains("| 1.00 |"), "{name}");
        for exporter in export::all() {
            exporter.1.render(&record).expect("renders");
        }
    }
}
