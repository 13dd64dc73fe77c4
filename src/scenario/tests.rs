use super::*;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(Path::new("s.toml"), text.to_string())
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

const GOOD: &str = r#"
name = "demo"
repetitions = 3
[registry]
bandwidth = "100MB/s"
latency = "20ms"
[[variant]]
name = "big"
synth = { size = "150MB", layers = 6, compressibility = 0.3 }
[[variant]]
name = "small"
synth = { size = "5MB" }
ready = { http = "/", port = 9000 }
"#;

#[test]
fn a_good_scenario_parses() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.name, "demo");
    assert_eq!(s.file.repetitions.get(), 3);
    assert_eq!(s.file.variants.len(), 2);
    let synth = s.file.variants[0].synth.as_ref().unwrap();
    assert_eq!(synth.size.0, 150_000_000);
    assert_eq!(*synth.layers.get_ref(), 6);
    assert_eq!(s.file.variants[1].ready.port, Some(9000));
    assert_eq!(
        s.file.registry.bandwidth.unwrap().bytes_per_sec(),
        100e6,
        "bandwidth"
    );
}

#[test]
fn unknown_key_points_at_it() {
    let e = err(&GOOD.replace("latency =", "latencee ="));
    assert!(e.starts_with("s.toml:6:1: registry"), "{e}");
    assert!(e.contains("unknown field `latencee`"), "{e}");
}

#[test]
fn bad_unit_names_the_field_and_value() {
    let e = err(&GOOD.replace("100MB/s", "100XB/s"));
    assert!(e.starts_with("s.toml:5:13: registry.bandwidth:"), "{e}");
    assert!(
        e.contains("\"100XB/s\"") && e.contains("expected e.g."),
        "{e}"
    );
}

#[test]
fn missing_field_is_named() {
    let e = err("[[variant]]\nsynth = { size = \"5MB\" }\n");
    assert!(e.contains("missing field `name`"), "{e}");
    assert!(e.starts_with("s.toml:"), "{e}");
    let e = err("repetitions = 2\n");
    assert!(e.contains("missing field `variant`"), "{e}");
}

#[test]
fn duplicate_names_point_at_the_second() {
    let e = err(&GOOD.replace("\"small\"", "\"big\""));
    assert!(e.starts_with("s.toml:11:8: variant[1].name:"), "{e}");
    assert!(e.contains("duplicate variant name \"big\""), "{e}");
}

#[test]
fn zero_repetitions_is_rejected() {
    let e = err(&GOOD.replace("repetitions = 3", "repetitions = 0"));
    assert!(e.starts_with("s.toml:3:15: repetitions:"), "{e}");
    assert!(e.contains("nonzero"), "{e}");
}

#[test]
fn a_variant_needs_a_source_and_a_valid_name() {
    let e = err("[[variant]]\nname = \"x\"\n");
    assert!(e.contains("no image source"), "{e}");
    let e = err("[[variant]]\nname = \"Big Image\"\nsynth = { size = \"5MB\" }\n");
    assert!(e.starts_with("s.toml:2:8: variant[0].name"), "{e}");
}

#[test]
fn ranges_are_checked() {
    let e = err(&GOOD.replace("compressibility = 0.3", "compressibility = 1.5"));
    assert!(
        e.contains("variant[0].synth.compressibility") && e.contains("0.95"),
        "{e}"
    );
    let e = err(&GOOD.replace("layers = 6", "layers = 0"));
    assert!(e.contains("variant[0].synth.layers"), "{e}");
    let e = err(&GOOD.replace("name = \"demo\"", "name = \"demo\"\ndriver = \"kube\""));
    assert!(e.contains("not available yet"), "{e}");
}

#[test]
fn syntax_errors_have_a_position() {
    let e = err("repetitions = \n");
    assert!(e.starts_with("s.toml:1:"), "{e}");
}
