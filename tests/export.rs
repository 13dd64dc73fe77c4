//! Exporters and the terminal table: snapshots of real runs, JSON and CSV round trips.

use coldbench::report::export::{self, markdown, CsvExporter, Exporter, JsonExporter};
use coldbench::report::files::{write_exports, ReportError};
use coldbench::report::{ExportFormat, ExportTargets};
use coldbench::results::RunRecord;

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is a RunRecord")
}

const FIXTURES: [&str; 3] = ["run-quickstart", "run-burst", "run-node-bases"];

#[test]
fn table_quickstart() {
    insta::assert_snapshot!(coldbench::report::table::render(&fixture("run-quickstart")));
}

#[test]
fn table_burst() {
    insta::assert_snapshot!(coldbench::report::table::render(&fixture("run-burst")));
}

#[test]
fn table_node_bases() {
    insta::assert_snapshot!(coldbench::report::table::render(&fixture("run-node-bases")));
}

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

/// Targets for every format in `dir`, as `out.<extension>`.
fn targets_in(dir: &std::path::Path) -> ExportTargets {
    let path = |f: ExportFormat| {
        let p = dir.join(format!("out.{}", f.exporter().extension()));
        Some(p.to_str().expect("utf-8 path").to_string())
    };
    ExportTargets {
        json: path(ExportFormat::Json),
        csv: path(ExportFormat::Csv),
        markdown: path(ExportFormat::Markdown),
    }
}

#[test]
fn write_exports_writes_every_target() {
    let record = fixture("run-quickstart");
    let dir = tempfile::tempdir().expect("tempdir");
    let targets = targets_in(dir.path());
    targets.check().expect("writable");
    // The check leaves nothing behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    write_exports(&record, &targets).expect("writes");
    for (format, target) in targets.asked() {
        let written = std::fs::read(target).expect("reads");
        let exporter = format.exporter();
        assert_eq!(
            written,
            exporter.render(&record).expect("renders"),
            "{format:?}"
        );
        export::write(exporter, &record, target).expect("writes again");
    }
    assert_eq!(targets.asked().count(), ExportFormat::ALL.len());
    // Existing files pass the check and are not touched by it.
    targets.check().expect("still writable");
    assert!(
        std::fs::metadata(dir.path().join("out.json"))
            .expect("kept")
            .len()
            > 0
    );
}

#[test]
fn export_target_check_names_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir").join("run.json");
    let targets = ExportTargets {
        json: Some(missing.to_str().expect("utf-8").to_string()),
        csv: Some("-".to_string()),
        markdown: None,
    };
    let err = targets.check().expect_err("missing directory");
    assert!(matches!(err, ReportError::Target(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("--export-json "), "{text}");
    assert!(text.contains("no-such-dir does not exist"), "{text}");
    assert!(text.contains("create it"), "{text}");

    let is_dir = ExportTargets {
        markdown: Some(dir.path().to_str().expect("utf-8").to_string()),
        ..ExportTargets::default()
    };
    let text = is_dir.check().expect_err("a directory").to_string();
    assert!(text.starts_with("--export-markdown "), "{text}");
    assert!(text.contains("is a directory"), "{text}");

    // stdout and nothing asked for always pass.
    let stdout = ExportTargets {
        json: Some("-".into()),
        csv: Some("-".into()),
        markdown: Some("-".into()),
    };
    stdout.check().expect("stdout");
    ExportTargets::default().check().expect("nothing");
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
        for format in ExportFormat::ALL {
            format.exporter().render(&record).expect("renders");
        }
    }
}
