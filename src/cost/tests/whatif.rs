//! What-if and sweep syntax, and the sweep's steps.

use crate::cost::sweep::{SweepSpec, MAX_STEPS};
use crate::cost::whatif::{Key, Value, WhatIf};

#[test]
fn what_ifs_parse_with_the_files_checks() {
    let w: WhatIf = "size=100MB".parse().unwrap();
    assert_eq!((w.key, w.value.number()), (Key::Size, 100e6));
    let w: WhatIf = " nodes = 500".parse().unwrap();
    assert_eq!(w.value, Value::Whole(500));
    let w: WhatIf = "bandwidth=1Gbit/s".parse().unwrap();
    assert_eq!(w.value.number(), 125e6);
    for (bad, says) in [
        ("size", "expected KEY=VALUE"),
        ("speed=1GB/s", "unknown key \"speed\""),
        ("bandwidth=-1MB/s", "cannot be negative"),
        ("bandwidth=1GB", "missing \"/s\""),
        ("size=1GB/s", "invalid size"),
        ("nodes=2.5", "expected a whole number"),
        ("nodes=0", "from 1 to 1000000"),
        ("builds=-3", "expected a number from 0"),
    ] {
        let e = bad.parse::<WhatIf>().unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn rate_sweeps_are_log_spaced_from_end_to_end() {
    let s: SweepSpec = "bandwidth=50MB/s..1GB/s".parse().unwrap();
    let v: Vec<f64> = s.values(5).iter().map(|v| v.number()).collect();
    assert_eq!(v.len(), 5);
    assert!(
        (v[0] - 50e6).abs() < 1e-3 && (v[4] - 1e9).abs() < 1e-3,
        "{v:?}"
    );
    let ratios: Vec<f64> = v.windows(2).map(|w| w[1] / w[0]).collect();
    assert!(
        ratios.iter().all(|r| (r - ratios[0]).abs() < 1e-9),
        "{ratios:?}"
    );
}

#[test]
fn node_sweeps_are_even_whole_and_bounded() {
    let s: SweepSpec = "nodes=1..4".parse().unwrap();
    let v: Vec<f64> = s.values(8).iter().map(|v| v.number()).collect();
    assert_eq!(v, vec![1.0, 2.0, 3.0, 4.0], "rounded, repeats dropped");
    let s: SweepSpec = "nodes=1..1000".parse().unwrap();
    assert_eq!(s.values(10_000).len(), MAX_STEPS);
    for bad in ["nodes=1-5", "size=0B..1GB", "bandwidth=1MB/s..fast"] {
        assert!(bad.parse::<SweepSpec>().is_err(), "{bad}");
    }
}
