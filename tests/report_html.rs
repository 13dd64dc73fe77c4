//! report.html: self-contained (no script, no external asset), names every variant, inlines
//! charts, escapes the record's text, and renders in headless Chromium.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coldbench::report::html::report_html;
use coldbench::results::RunRecord;

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is a RunRecord")
}

const FIXTURES: [&str; 3] = ["run-quickstart", "run-burst", "run-node-bases"];

const DUMMY_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="120" viewBox="0 0 600 120"><rect x="10" y="10" width="400" height="40" fill="#2456c7"/><rect x="10" y="60" width="120" height="40" fill="#e07b39"/><text x="420" y="35" font-size="14">dummy chart</text></svg>"##;

fn charts() -> Vec<(String, String)> {
    vec![("Total <p50> & friends".to_string(), DUMMY_SVG.to_string())]
}

/// The HTML with the user's text (scenario source, paths, names) and the SVG's namespace
/// removed, so what is left is what coldbench itself wrote.
fn own_markup(html: &str, record: &RunRecord) -> String {
    let mut own = html.replace("http://www.w3.org/2000/svg", "");
    let escape = coldbench::report::html::escape;
    own = own.replace(&escape(&record.scenario.source), "");
    for v in &record.variants {
        own = own.replace(&escape(&v.source), "");
    }
    own
}

#[test]
fn self_contained_and_complete() {
    for name in FIXTURES {
        let record = fixture(name);
        let html = report_html(&record, &charts());
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(!html.contains("<script"), "{name}: script");
        assert!(!html.contains("<link"), "{name}: link");
        assert!(!html.contains("src=\"http"), "{name}: external src");
        assert!(!html.contains("@import"), "{name}: css import");
        let own = own_markup(&html, &record);
        assert!(
            !own.contains("http://") && !own.contains("https://"),
            "{name}: a network reference outside user text"
        );
        assert!(html.contains(DUMMY_SVG), "{name}: SVG not inlined as is");
        assert!(
            html.contains("Total &lt;p50&gt; &amp; friends"),
            "{name}: title"
        );
        assert!(!html.contains("Total <p50>"), "{name}: title unescaped");
        for v in &record.variants {
            assert!(html.contains(&v.name), "{name}: variant {}", v.name);
        }
        assert!(html.contains(&record.run_id), "{name}");
        assert_eq!(
            html,
            report_html(&record, &charts()),
            "{name}: deterministic"
        );
        // One row per sample in the samples table.
        let samples = html
            .split("<table class=\"samples\">")
            .nth(1)
            .expect("samples");
        let body = samples
            .split("<tbody>")
            .nth(1)
            .and_then(|b| b.split("</tbody>").next())
            .expect("samples body");
        assert_eq!(body.matches("<tr>").count(), record.samples.len(), "{name}");
    }
}

#[test]
fn record_text_is_escaped() {
    let mut record = fixture("run-quickstart");
    record.scenario.name = "<script>alert(1)</script>".to_string();
    record.variants[0].source = "\"><img src=x onerror=alert(1)>".to_string();
    let html = report_html(&record, &[]);
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;"));
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
        let html = report_html(&record, &[]);
        assert!(html.contains(&keep), "{name}");
        assert!(html.contains("</html>"), "{name}");
    }
}

/// Chromium, when installed: Debian's `chromium` or a `chromium` on PATH.
fn chromium() -> Option<String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium".to_string());
    }
    let found = Command::new("sh")
        .args(["-c", "command -v chromium"])
        .output()
        .ok()?;
    let path = String::from_utf8(found.stdout).ok()?.trim().to_string();
    (!path.is_empty()).then_some(path)
}

/// Decompressed IDAT data of a PNG (scanlines with their filter bytes).
fn png_pixels(png: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut idat = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind = &png[at + 4..at + 8];
        if kind == b"IDAT" {
            idat.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    let mut pixels = Vec::new();
    flate2::read::ZlibDecoder::new(idat.as_slice())
        .read_to_end(&mut pixels)
        .expect("IDAT inflates");
    pixels
}

#[test]
fn renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed and CI=true: run scripts/setup-docker as root");
        }
        eprintln!("skipping: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let html_path = dir.path().join("report.html");
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let record = fixture("run-quickstart");
    std::fs::write(&html_path, report_html(&record, &charts())).expect("writes html");

    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", html_path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "chromium exited with {status}");

    let png = std::fs::read(&shot).expect("screenshot written");
    if let Ok(keep) = std::env::var("COLDBENCH_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copies screenshot");
    }
    assert!(png.len() > 20_000, "screenshot is only {} bytes", png.len());
    let pixels = png_pixels(&png);
    let mut seen = [false; 256];
    for &b in &pixels {
        seen[b as usize] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    assert!(
        distinct > 32,
        "screenshot looks blank ({distinct} distinct byte values)"
    );
}
