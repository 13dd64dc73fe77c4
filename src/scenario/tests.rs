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
    assert_eq!(
        s.file.variants[1].ready.port.as_ref().map(|p| *p.get_ref()),
        Some(9000)
    );
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
}

/// `GOOD` on a cluster, with `more` appended.
fn kube(more: &str) -> String {
    let base = GOOD.replace("name = \"demo\"", "name = \"demo\"\ndriver = \"kube\"");
    format!("{base}\n{more}")
}

#[test]
fn kube_settings_are_checked_where_they_are() {
    let ok = kube("[kube]\ncontext = \"kind-coldbench\"\nnamespace = \"cb\"\nregistry = \"localhost:5001\"\ncpu = \"500m\"\nmemory = \"256Mi\"\ncold = \"evict\"\nnode_selector = { \"kubernetes.io/os\" = \"linux\" }\n");
    let ok = ok.replace("[registry]", "[registry]\nlisten = \"0.0.0.0:5001\"");
    Scenario::parse(Path::new("s.toml"), ok).expect("a valid kube scenario");
    for (bad, field) in [
        ("[kube]\nnamespace = \"Cold_Bench\"\n", "kube.namespace"),
        ("[kube]\ncpu = \"lots\"\n", "kube.cpu"),
        ("[kube]\nmemory = \"1GB\"\n", "kube.memory"),
        ("[kube]\nregistry = \"http://x:5000\"\n", "kube.registry"),
        (
            "[kube]\nnode_selector = { \"-bad\" = \"x\" }\n",
            "kube.node_selector.-bad",
        ),
        ("[kube]\ncold = \"wipe\"\n", "cold"),
    ] {
        let e = err(&kube(bad));
        assert!(e.starts_with("s.toml:") && e.contains(field), "{bad}: {e}");
    }
    let listen =
        |addr: &str| GOOD.replace("[registry]", &format!("[registry]\nlisten = \"{addr}\""));
    let e = err(&listen("127.0.0.1:5001"));
    assert!(
        e.contains("registry.listen") && e.contains("driver = \"kube\" only"),
        "{e}"
    );
    let e = err(&kube("").replace("[registry]", "[registry]\nlisten = \"here\""));
    assert!(e.contains("not an IP address and port"), "{e}");
    let e = err(&kube("").replace("[registry]", "[registry]\nlisten = \"0.0.0.0:5001\""));
    assert!(
        e.contains("kube.registry") && e.contains("every interface"),
        "{e}"
    );
}

#[test]
fn syntax_errors_have_a_position() {
    let e = err("repetitions = \n");
    assert!(e.starts_with("s.toml:1:"), "{e}");
}

#[test]
fn an_unsafe_scenario_name_points_at_its_value() {
    for bad in [
        "",
        "a/b",
        "a\\\\b",
        "..",
        "a..b",
        ".hidden",
        "a b",
        "tab\\there",
        "nul\\u0000",
    ] {
        let e = err(&GOOD.replace("name = \"demo\"", &format!("name = \"{bad}\"")));
        assert!(
            e.starts_with("s.toml:2:8: name: invalid scenario name"),
            "{bad}: {e}"
        );
        assert!(
            e.contains("use letters and digits, separated by single '.', '_' or '-' (at most 64 characters)"),
            "{e}"
        );
    }
    let e = err(&GOOD.replace("name = \"demo\"", &format!("name = \"{}\"", "a".repeat(65))));
    assert!(
        e.starts_with("s.toml:2:8: name: invalid scenario name"),
        "{e}"
    );
}

#[test]
fn scenario_names_may_have_uppercase_letters() {
    let s = parse(&GOOD.replace("name = \"demo\"", "name = \"Demo_2.v-1\"")).unwrap();
    assert_eq!(s.name, "Demo_2.v-1");
}

#[test]
fn the_file_stem_is_the_default_name_and_must_be_valid() {
    let text = GOOD.replace("name = \"demo\"\n", "");
    let s = Scenario::parse(Path::new("dir/Cold-Start.toml"), text.clone()).unwrap();
    assert_eq!(s.name, "Cold-Start");
    let e = Scenario::parse(Path::new("dir/my scenario.toml"), text)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "dir/my scenario.toml: name: no name, and the file's stem \"my scenario\" is not a valid \
         scenario name: add name = \"...\" with letters and digits, separated by single '.', '_' \
         or '-' (at most 64 characters)"
    );
}

const BURST: &str = r#"
name = "b"
[burst]
nodes = 2
replicas = 4
[[variant]]
name = "v"
synth = { size = "5MB" }
[[variant]]
name = "w"
synth = { size = "5MB" }
ready = { http = "/", port = 9000 }
"#;

#[test]
fn a_fixed_port_in_a_burst_points_at_the_port() {
    let e = err(BURST);
    assert_eq!(
        e,
        "s.toml:12:30: variant[1].ready.port: ready.port = 9000: in a burst each replica gets its \
         own free port through the PORT environment variable; remove `port` (the app must listen \
         on $PORT)"
    );
    // Also as a [variant.ready] table.
    let e = err(&BURST.replace(
        "ready = { http = \"/\", port = 9000 }",
        "[variant.ready]\nhttp = \"/\"\nport = 9001",
    ));
    assert!(
        e.starts_with("s.toml:14:8: variant[1].ready.port: ready.port = 9001: in a burst"),
        "{e}"
    );
    // Without `port` the burst is fine, and outside a burst `port` is fine.
    parse(&BURST.replace(", port = 9000", "")).unwrap();
    let s = parse(&BURST.replace("[burst]\nnodes = 2\nreplicas = 4\n", "")).unwrap();
    assert_eq!(
        s.file.variants[1].ready.port.as_ref().map(|p| *p.get_ref()),
        Some(9000)
    );
}

#[test]
fn the_shipped_scenarios_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no scenarios in {}", dir.display());
    for path in paths {
        let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Some(s.name.as_str()),
            path.file_stem().and_then(|s| s.to_str())
        );
    }
}

/// `err` for `GOOD` with `from` replaced by `to`.
fn err_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    err(&GOOD.replace(from, to))
}

#[test]
fn rates_are_bounded_at_validation_with_a_location() {
    let e = err_with("100MB/s", "0.00000000000000000001B/s");
    assert!(e.starts_with("s.toml:5:13: registry.bandwidth:"), "{e}");
    assert!(e.contains("at least 1.0 kB/s"), "{e}");
    let e = err_with("100MB/s", "1TB/s");
    assert!(e.starts_with("s.toml:5:13: registry.bandwidth:"), "{e}");
    assert!(e.contains("at most 100.00 GB/s"), "{e}");
    let e = err_with("latency = \"20ms\"", "node_bandwidth = \"1bit/s\"");
    assert!(
        e.starts_with("s.toml:6:18: registry.node_bandwidth:"),
        "{e}"
    );
    assert!(e.contains("at least 1.0 kB/s"), "{e}");
}

#[test]
fn ready_port_zero_is_rejected() {
    let e = err_with("port = 9000", "port = 0");
    assert!(e.starts_with("s.toml:13:30: variant[1].ready.port:"), "{e}");
    assert!(e.contains("1 to 65535"), "{e}");
}

#[test]
fn ready_status_outside_100_to_599_is_rejected() {
    for status in ["0", "99", "600", "65535"] {
        let e = err_with("port = 9000", &format!("port = 9000, status = {status}"));
        assert!(
            e.starts_with("s.toml:13:45: variant[1].ready.status:"),
            "{e}"
        );
        assert!(e.contains("100 to 599"), "{e}");
    }
}

#[test]
fn ready_timeout_is_bounded() {
    for timeout in ["0s", "11m", "1000000h"] {
        let e = err_with(
            "port = 9000",
            &format!("port = 9000, timeout = \"{timeout}\""),
        );
        assert!(
            e.starts_with("s.toml:13:46: variant[1].ready.timeout:"),
            "{e}"
        );
        assert!(e.contains("1 ms to 10 min"), "{e}");
    }
}

#[test]
fn latency_is_bounded() {
    let e = err_with("20ms", "1000000h");
    assert!(e.starts_with("s.toml:6:11: registry.latency:"), "{e}");
    assert!(e.contains("at most 10 s"), "{e}");
}

#[test]
fn burst_step_every_is_bounded() {
    for every in ["0s", "2h"] {
        let text = BURST.replace(
            "replicas = 4\n",
            &format!("replicas = 4\nstep = {{ add = 1, every = \"{every}\" }}\n"),
        );
        let e = err(&text.replace(", port = 9000", ""));
        assert!(e.starts_with("s.toml:6:27: burst.step.every:"), "{e}");
        assert!(e.contains("1 ms to 1 h"), "{e}");
    }
}

#[test]
fn env_names_must_be_posix_names() {
    for name in ["\"\"", "\"A=B\"", "\"NUL\\u0000\"", "\"1ABC\"", "\"A-B\""] {
        let e = err_with(
            "ready = { http = \"/\", port = 9000 }",
            &format!("env = {{ {name} = \"x\" }}"),
        );
        assert!(e.starts_with("s.toml:13:9: variant[1].env"), "{name}: {e}");
        assert!(
            e.contains("letters, digits and '_', not starting with a digit"),
            "{e}"
        );
    }
    parse(&GOOD.replace(
        "ready = { http = \"/\", port = 9000 }",
        "env = { _A1 = \"x=y\", lower = \"\" }",
    ))
    .unwrap();
}

#[test]
fn empty_image_references_are_rejected() {
    for key in ["image", "registry"] {
        let e = err_with("synth = { size = \"5MB\" }", &format!("{key} = \"\""));
        assert!(
            e.starts_with(&format!("s.toml:12:{}: variant[1].{key}:", key.len() + 4)),
            "{e}"
        );
        assert!(e.contains("empty"), "{e}");
    }
}

#[test]
fn synth_size_is_bounded_at_validation() {
    for size in ["0B", "999kB", "101GB"] {
        let e = err_with("size = \"5MB\"", &format!("size = \"{size}\""));
        assert!(e.starts_with("s.toml:12:18: variant[1].synth.size:"), "{e}");
        assert!(e.contains("1.0 MB to 100.00 GB"), "{e}");
    }
    let e = err_with("size = \"5MB\"", "size = 0");
    assert!(e.contains("1.0 MB to 100.00 GB"), "{e}");
}

#[test]
fn synth_layers_are_bounded() {
    let e = err_with("layers = 6", "layers = 128");
    assert!(
        e.starts_with("s.toml:9:36: variant[0].synth.layers:"),
        "{e}"
    );
    assert!(e.contains("1 to 127"), "{e}");
    parse(&GOOD.replace("layers = 6", "layers = 127")).unwrap();
}

#[test]
fn repetitions_are_bounded() {
    let e = err_with("repetitions = 3", "repetitions = 4294967295");
    assert!(e.starts_with("s.toml:3:15: repetitions:"), "{e}");
    assert!(e.contains("1 to 1000"), "{e}");
}

#[test]
fn samples_per_run_are_bounded() {
    let burst = BURST.replace("replicas = 4", "replicas = 500").replace(
        "\nname = \"w\"\nsynth = { size = \"5MB\" }\nready = { http = \"/\", port = 9000 }",
        "\nname = \"w\"\nsynth = { size = \"5MB\" }",
    );
    let at_most = burst.replace("name = \"b\"", "name = \"b\"\nrepetitions = 100");
    parse(&at_most).unwrap();
    let e = err(&burst.replace("name = \"b\"", "name = \"b\"\nrepetitions = 101"));
    assert!(e.starts_with("s.toml:6:12: repetitions:"), "{e}");
    assert!(
        e.contains("2 variant(s) × 101 round(s) × 500 replica(s) = 101000 samples"),
        "{e}"
    );
    assert!(e.contains("at most 100000 per run"), "{e}");
}

#[test]
fn long_strings_are_bounded_and_not_echoed() {
    let long = "a".repeat(10_000_000);
    let cases = [
        (
            "name = \"demo\"",
            format!("name = \"{long}\""),
            "s.toml:2:8: name:",
        ),
        (
            "ready = { http = \"/\"",
            format!("ready = {{ http = \"/{long}\""),
            "s.toml:13:18: variant[1].ready.http:",
        ),
        (
            "synth = { size = \"5MB\" }",
            format!("image = \"{long}\""),
            "s.toml:12:9: variant[1].image:",
        ),
        (
            "ready = { http = \"/\", port = 9000 }",
            format!("env = {{ A = \"{long}\" }}"),
            "s.toml:13:13: variant[1].env.A:",
        ),
        ("100MB/s", long.clone(), "s.toml:5:13: registry.bandwidth:"),
        (
            "repetitions = 3",
            format!("repetitions = \"{long}\""),
            "s.toml:3:15: repetitions:",
        ),
    ];
    for (from, to, location) in cases {
        let e = err_with(from, &to);
        assert!(e.starts_with(location), "{}", &e[..200.min(e.len())]);
        assert!(e.len() < 1000, "echoed: {}…", &e[..200]);
    }
}

#[test]
fn ready_http_errors_are_located() {
    let e = err_with("http = \"/\"", "http = \"health\"");
    assert!(e.starts_with("s.toml:13:18: variant[1].ready.http:"), "{e}");
    assert!(e.contains("starting with '/'"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [("[", "]"), ("{ a = ", " }")] {
        let text = format!("x = {}1{}\n", open.repeat(10_000), close.repeat(10_000));
        let e = err(&text);
        assert!(e.starts_with("s.toml:1:"), "{}", &e[..200.min(e.len())]);
    }
}

#[test]
fn simulated_bursts_have_larger_bounds_and_the_driver_can_be_overridden() {
    let text = "[burst]\nnodes = 1000\nreplicas = 10000\n[[variant]]\nname = \"a\"\nsynth = { size = \"2MB\" }\n";
    let path = Path::new("b.toml");
    let e = Scenario::parse(path, text.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("b.toml:2:9: burst.nodes") && e.contains("1 to 16"),
        "{e}"
    );
    let s = Scenario::parse_as(path, text.to_string(), Some(DriverKind::Sim)).unwrap();
    assert!(s.is_simulated());
    let sim = format!("driver = \"sim\"\n{text}");
    assert!(Scenario::parse(path, sim.clone()).is_ok());
    let e = Scenario::parse(path, sim.replace("nodes = 1000", "nodes = 10001"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("b.toml:3:9: burst.nodes") && e.contains("1 to 10000"),
        "{e}"
    );
}

/// `driver = "containerd"`, GOOD (13 lines with the driver's), then `[containerd]` with
/// `node_sockets = LIST` on line 15.
fn with_sockets(driver: &str, list: &str) -> String {
    format!("driver = \"{driver}\"{GOOD}[containerd]\nnode_sockets = {list}\n")
}

#[test]
fn containerd_node_sockets_are_located_when_malformed() {
    let text = with_sockets(
        "containerd",
        "[\"c.sock\", \"/run/containerd/containerd.sock\"]",
    );
    let e = err(&text);
    assert!(
        e.starts_with(
            "s.toml:15:17: containerd.node_sockets[0]: \"c.sock\" is not an absolute path"
        ),
        "{e}"
    );
    let e = err(&with_sockets("docker", "[\"\"]"));
    assert!(
        e.starts_with("s.toml:15:17: containerd.node_sockets[0]: the socket path is empty"),
        "{e}"
    );
}

#[test]
fn a_containerd_socket_is_listed_once() {
    let list = "[\"/run/c.sock\", \"unix:///run/c.sock\"]";
    let e = err(&with_sockets("docker", list));
    assert!(
        e.starts_with("s.toml:15:32: containerd.node_sockets[1]: /run/c.sock is also node_sockets[0]: each node needs a containerd of its own"),
        "{e}"
    );
}

#[test]
fn containerd_node_sockets_must_be_sockets_when_used() {
    let dir = tempfile::tempdir().unwrap();
    let list = format!("[\"{}\"]", dir.path().display());
    let e = err(&with_sockets("containerd", &list));
    assert!(
        e.starts_with("s.toml:15:17: containerd.node_sockets[0]:"),
        "{e}"
    );
    assert!(e.contains("is a directory, not a unix socket"), "{e}");
    // Another driver does not use them: their form is checked, not the disk.
    parse(&with_sockets("docker", &list)).unwrap();
}

#[test]
fn a_containerd_burst_needs_one_socket_per_node() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("c.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let no_port = GOOD.replace("ready = { http = \"/\", port = 9000 }\n", "");
    let text = |nodes: u32| {
        format!(
            "driver = \"containerd\"{no_port}[burst]\nnodes = {nodes}\nreplicas = 2\n[containerd]\nnode_sockets = [\"{}\"]\n",
            socket.display()
        )
    };
    let e = err(&text(2));
    assert!(
        e.contains("containerd.node_sockets: 1 node_sockets for burst.nodes = 2"),
        "{e}"
    );
    let s = parse(&text(1)).unwrap();
    assert_eq!(s.file.containerd.node_sockets.len(), 1);
}

const FLAKY: &str = r#"
name = "flaky"
seed = 3
[registry.faults]
error_rate = 0.05
on = ["blob"]
rate_limit = { manifest_gets = 10, window = "60s", retry_after = "5s" }
reset = { rate = 0.02, after = 0.5 }
stall = { rate = 0.1, after = 0.25, for = "2s" }
ttfb = { lognormal = { p50 = "20ms", p99 = "400ms" } }
[[variant]]
name = "a"
synth = { size = "2MB" }
"#;

#[test]
fn registry_faults_parse_into_the_registrys_config() {
    use crate::registry::faults::{Partial, Ttfb};
    let s = parse(FLAKY).unwrap();
    let c = s.file.registry.faults.as_ref().unwrap().config(3);
    assert_eq!(c.seed, 3);
    assert_eq!(c.global.error_rate, 0.05);
    assert!(c.global.error_on.blob && !c.global.error_on.manifest);
    let rl = c.global.rate_limit.unwrap();
    assert_eq!(rl.manifest_gets, 10);
    assert_eq!(rl.retry_after, std::time::Duration::from_secs(5));
    assert_eq!(
        c.global.reset,
        Some(Partial {
            rate: 0.02,
            after: 0.5
        })
    );
    assert_eq!(c.global.stall.unwrap().1, std::time::Duration::from_secs(2));
    assert!(matches!(c.global.ttfb, Some(Ttfb::LogNormal { .. })));
    assert!(c.nodes.is_empty());
}

#[test]
fn fault_values_out_of_bounds_point_at_them() {
    let e = err(&FLAKY.replace("error_rate = 0.05", "error_rate = 1.5"));
    assert!(
        e.starts_with("s.toml:5:14: registry.faults.error_rate:"),
        "{e}"
    );
    assert!(e.contains("expected a share from 0 to 1"), "{e}");
    let e = err(&FLAKY.replace("after = 0.5", "after = 1.0"));
    assert!(
        e.starts_with("s.toml:8:32: registry.faults.reset.after:"),
        "{e}"
    );
    assert!(e.contains("below 1"), "{e}");
    let e = err(&FLAKY.replace("for = \"2s\"", "for = \"2h\""));
    assert!(e.contains("registry.faults.stall.for"), "{e}");
    assert!(e.contains("out of range"), "{e}");
    let e = err(&FLAKY.replace("manifest_gets = 10", "manifest_gets = 0"));
    assert!(
        e.contains("registry.faults.rate_limit.manifest_gets"),
        "{e}"
    );
    let e = err(&FLAKY.replace("retry_after = \"5s\"", "retry_after = \"0s\""));
    assert!(e.contains("retry_after = 0"), "{e}");
    let e = err(&FLAKY.replace("on = [\"blob\"]", "on = []"));
    assert!(e.starts_with("s.toml:6:6: registry.faults.on:"), "{e}");
    let e = err(&FLAKY.replace("on = [\"blob\"]", "on = [\"tag\"]"));
    assert!(e.contains("unknown variant `tag`"), "{e}");
    let e = err(&FLAKY.replace("reset = {", "resett = {"));
    assert!(e.contains("unknown field `resett`"), "{e}");
}

#[test]
fn ttfb_takes_exactly_one_form() {
    let e = err(&FLAKY.replace(
        "ttfb = { lognormal = { p50 = \"20ms\", p99 = \"400ms\" } }",
        "ttfb = { fixed = \"5ms\", uniform = [\"1ms\", \"2ms\"] }",
    ));
    assert!(e.starts_with("s.toml:10:8: registry.faults.ttfb:"), "{e}");
    assert!(e.contains("exactly one"), "{e}");
    let e = err(&FLAKY.replace("p99 = \"400ms\"", "p99 = \"10ms\""));
    assert!(e.contains("registry.faults.ttfb.lognormal"), "{e}");
    let e = err(&FLAKY.replace(
        "ttfb = { lognormal = { p50 = \"20ms\", p99 = \"400ms\" } }",
        "ttfb = { uniform = [\"100ms\", \"10ms\"] }",
    ));
    assert!(e.contains("shorter first"), "{e}");
    let e = err(&FLAKY.replace(
        "ttfb = { lognormal = { p50 = \"20ms\", p99 = \"400ms\" } }",
        "ttfb = { fixed = \"11s\" }",
    ));
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn per_node_faults_name_a_node_of_the_burst() {
    let burst = FLAKY.replace(
        "[[variant]]",
        "[burst]\nnodes = 2\nreplicas = 2\n[registry.faults.node.1]\nerror_rate = 1.0\n[[variant]]",
    );
    let s = parse(&burst).unwrap();
    let c = s.file.registry.faults.as_ref().unwrap().config(0);
    assert_eq!(c.nodes[&1].error_rate, 1.0);
    let e = err(&burst.replace("faults.node.1]", "faults.node.2]"));
    assert!(e.contains("registry.faults.node.2"), "{e}");
    assert!(e.contains("2 node(s)"), "{e}");
    let e = err(&burst.replace("faults.node.1]", "faults.node.x]"));
    assert!(e.contains("expected a node number"), "{e}");
}
