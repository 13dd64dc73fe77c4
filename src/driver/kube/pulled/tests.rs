use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn pulled(image: &str, pull: Option<Duration>) -> Pulled {
    Pulled {
        image: image.into(),
        pull,
        including_waiting: None,
        image_size_bytes: None,
        already_present: false,
    }
}

#[test]
fn every_kubelet_format_parses() {
    let ns = Duration::from_nanos;
    assert_eq!(
        parse_pulled(r#"Successfully pulled image "nginx:1.25""#),
        Some(pulled("nginx:1.25", None)),
        "before 1.19"
    );
    assert_eq!(
        parse_pulled(r#"Successfully pulled image "nginx" in 49.657983991s"#),
        Some(pulled("nginx", Some(ns(49_657_983_991)))),
        "1.19–1.24"
    );
    assert_eq!(
        parse_pulled(
            r#"Successfully pulled image "127.0.0.1:5000/coldbench/app:latest" in 1.2s (1.3s including waiting)"#
        ),
        Some(Pulled {
            including_waiting: Some(ns(1_300_000_000)),
            ..pulled(
                "127.0.0.1:5000/coldbench/app:latest",
                Some(ns(1_200_000_000))
            )
        }),
        "1.25+"
    );
    assert_eq!(
        parse_pulled(
            r#"Successfully pulled image "g1g1/py-kube" in 15.981s (1m2.5s including waiting). Image size: 129338587 bytes."#
        ),
        Some(Pulled {
            including_waiting: Some(ns(62_500_000_000)),
            image_size_bytes: Some(129_338_587),
            ..pulled("g1g1/py-kube", Some(ns(15_981_000_000)))
        }),
        "1.30+"
    );
    for message in [
        r#"Container image "busybox:1.36" already present on machine"#,
        r#"Container image "busybox:1.36" already present on machine and can be accessed by the pod"#,
        r#"spec.containers{app}: Container image "busybox:1.36" already present on machine"#,
    ] {
        assert_eq!(
            parse_pulled(message),
            Some(Pulled {
                already_present: true,
                ..pulled("busybox:1.36", None)
            }),
            "{message}"
        );
    }
}

#[test]
fn other_messages_are_none() {
    for message in [
        "",
        "Pulling image \"nginx\"",
        "Successfully pulled image",
        "Successfully pulled image \"\" in 1s",
        "Successfully pulled image nginx in 1s",
        "Successfully pulled image \"nginx in 1s",
        "Successfully pulled image \"nginx\" in",
        "Successfully pulled image \"nginx\" in 1 s",
        "Successfully pulled image \"nginx\" in 1s (",
        "Successfully pulled image \"nginx\" in 1s (2s)",
        "Successfully pulled image \"nginx\" in 1s (2s including waiting). Image size: bytes.",
        "Successfully pulled image \"nginx\" in 1s (2s including waiting). Image size: -1 bytes.",
        "Successfully pulled image \"nginx\" in 1s (2s including waiting) trailing",
        "Successfully pulled image \"nginx\" in -1s",
        "Successfully pulled image \"ng\\ninx\" in 1s",
        "Container image \"busybox\" already present",
        "Container image \"busybox\" already present on machine!",
        "Failed to pull image \"nginx\": rpc error",
    ] {
        assert_eq!(parse_pulled(message), None, "{message:?}");
    }
}

#[test]
fn go_durations_in_full() {
    let cases = [
        ("0", 0),
        ("0s", 0),
        ("300ns", 300),
        ("12.5µs", 12_500),
        ("12.5μs", 12_500),
        ("12.5us", 12_500),
        ("850ms", 850_000_000),
        ("1.000000001s", 1_000_000_001),
        ("49.657983991s", 49_657_983_991),
        ("1m21.28s", 81_280_000_000),
        ("1h2m3.5s", 3_723_500_000_000),
        ("2h0m0s", 7_200_000_000_000),
        (".5s", 500_000_000),
        ("+1s", 1_000_000_000),
        ("1.9999999999s", 1_999_999_999),
    ];
    for (text, nanos) in cases {
        assert_eq!(
            parse_go_duration(text),
            Some(Duration::from_nanos(nanos)),
            "{text}"
        );
    }
    for bad in [
        "",
        "s",
        "1",
        "1x",
        "-1s",
        "1.2.3s",
        ".s",
        "1s ",
        " 1s",
        "1S",
        "99999999999h",
    ] {
        assert_eq!(parse_go_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn event_names_give_their_hex_nanoseconds() {
    assert_eq!(
        event_name_nanos("web-7d4b9c-x2x9q.17a2b3c4d5e6f708"),
        Some(0x17a2_b3c4_d5e6_f708)
    );
    assert_eq!(
        event_name_nanos("app.v1.17A2B3C4D5E6F708"),
        Some(0x17a2_b3c4_d5e6_f708),
        "dots in the pod name"
    );
    for name in [
        "web-7d4b9c-x2x9q",
        "my.cafe",
        ".17a2b3c4d5e6f708",
        "web.",
        "web.17a2b3c4d5e6f7080",
        "web.17a2b3c4d5e6f7g8",
        "web.ffffffffffffffff",
        "web.+7a2b3c4d5e6f708",
    ] {
        assert_eq!(event_name_nanos(name), None, "{name:?}");
    }
}

/// Go's `time.Duration.String()`, to check that whatever a kubelet prints parses back.
fn go_format(nanos: u64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (scale, unit) = match nanos {
            n if n < 1_000 => (1, "ns"),
            n if n < 1_000_000 => (1_000, "µs"),
            _ => (1_000_000, "ms"),
        };
        return format!("{}{unit}", decimal(nanos, scale));
    }
    let (h, rest) = (nanos / 3_600_000_000_000, nanos % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let s = decimal(rest, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// `value / scale` with the fraction's trailing zeros trimmed, as Go prints it.
fn decimal(value: u64, scale: u64) -> String {
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_parses_without_panicking(text in ".*") {
        let _ = parse_pulled(&text);
        let _ = parse_go_duration(&text);
        let _ = event_name_nanos(&text);
    }

    #[test]
    fn near_misses_parse_without_panicking(
        prefix in prop::sample::select(vec![
            "Successfully pulled image \"a\" in ",
            "Successfully pulled image \"a\" in 1s (",
            "Container image \"",
            "x.",
        ]),
        tail in "[0-9a-zµ.()\" :]{0,24}",
    ) {
        let text = format!("{prefix}{tail}");
        let _ = parse_pulled(&text);
        let _ = event_name_nanos(&text);
    }

    #[test]
    fn what_go_prints_parses_back(nanos in 0u64..=u64::MAX / 2, waiting in 0u64..1_000_000_000_000) {
        let d = go_format(nanos);
        prop_assert_eq!(parse_go_duration(&d), Some(Duration::from_nanos(nanos)), "{}", d);
        let message = format!(
            "Successfully pulled image \"r/app:v1\" in {d} ({} including waiting). Image size: {nanos} bytes.",
            go_format(waiting),
        );
        let parsed = parse_pulled(&message).unwrap();
        prop_assert_eq!(parsed.pull, Some(Duration::from_nanos(nanos)));
        prop_assert_eq!(parsed.including_waiting, Some(Duration::from_nanos(waiting)));
        prop_assert_eq!(parsed.image_size_bytes, Some(nanos));
    }
}
