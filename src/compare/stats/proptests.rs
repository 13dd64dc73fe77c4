//! Properties: no panic and valid probabilities on any input, the exact p-value against brute
//! force, Holm's bounds and order.

use proptest::prelude::*;

use super::*;

/// The exact two-sided p-value by enumerating every split of the pooled ranks 0..N.
fn brute_force_p(n: usize, m: usize, u: usize) -> f64 {
    let total = n + m;
    let mut at_most = [0usize; 2];
    let mut splits = 0usize;
    for mask in 0u32..(1 << total) {
        if mask.count_ones() as usize != n {
            continue;
        }
        // U of the ranks in the mask: for each one, the ranks below it outside the mask.
        let mut u_split = 0;
        for r in (0..total).filter(|r| mask & (1 << r) != 0) {
            u_split += (0..r).filter(|s| mask & (1 << s) == 0).count();
        }
        at_most[0] += usize::from(u_split <= u);
        at_most[1] += usize::from(u_split >= u);
        splits += 1;
    }
    let tail = at_most[0].min(at_most[1]) as f64 / splits as f64;
    (2.0 * tail).min(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mann_whitney_is_a_symmetric_probability(
        a in prop::collection::vec(0u64..12, 0..40),
        b in prop::collection::vec(prop_oneof![0u64..12, any::<u64>()], 0..70),
    ) {
        let forward = mann_whitney(&a, &b);
        prop_assert_eq!(forward.is_none(), a.is_empty() || b.is_empty());
        if let (Some(f), Some(r)) = (forward, mann_whitney(&b, &a)) {
            prop_assert!((0.0..=1.0).contains(&f.p_value), "{:?}", f);
            prop_assert_eq!(f.p_value, r.p_value);
            prop_assert_eq!(f.exact, r.exact);
            prop_assert_eq!(f.u + r.u, (a.len() * b.len()) as f64);
        }
    }

    #[test]
    fn exact_p_matches_brute_force(sides in prop::collection::vec(any::<bool>(), 2..=11)) {
        // Value i goes to a or b by sides[i]: distinct values, every arrangement reachable.
        let a: Vec<u64> = (0..).zip(&sides).filter(|(_, &s)| s).map(|(i, _)| i).collect();
        let b: Vec<u64> = (0..).zip(&sides).filter(|(_, &s)| !s).map(|(i, _)| i).collect();
        prop_assume!(!a.is_empty() && !b.is_empty());
        let t = mann_whitney(&a, &b).unwrap();
        prop_assert!(t.exact);
        let expected = brute_force_p(a.len(), b.len(), t.u as usize);
        prop_assert!((t.p_value - expected).abs() < 1e-12, "{:?} vs {}", t, expected);
    }

    #[test]
    fn holm_raises_within_one_and_keeps_rank_order(
        p in prop::collection::vec(prop_oneof![0.0f64..=1.0, Just(f64::NAN)], 0..30),
    ) {
        let adjusted = holm(&p);
        prop_assert_eq!(adjusted.len(), p.len());
        for (&raw, &adj) in p.iter().zip(&adjusted) {
            prop_assert!(adj <= 1.0 && (raw.is_nan() && adj == 1.0 || adj >= raw));
        }
        let mut pairs: Vec<(f64, f64)> = p.iter().map(|&x| if x.is_nan() { 1.0 } else { x })
            .zip(adjusted.iter().copied()).collect();
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        prop_assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1), "{:?}", pairs);
    }

    #[test]
    fn bootstrap_gives_ordered_finite_bounds(
        base in prop::collection::vec(0u64..50, 0..20),
        new in prop::collection::vec(any::<u64>(), 0..20),
        confidence in 0.0f64..=1.0,
        seed in any::<u64>(),
    ) {
        let ci = bootstrap_ratio_ci(&base, &new, 100, confidence, seed);
        if base.is_empty() || new.is_empty() || median(&base) == Some(0) {
            prop_assert_eq!(ci, None);
        } else if let Some((low, high)) = ci {
            prop_assert!(low.is_finite() && high.is_finite() && 0.0 <= low && low <= high);
        }
    }
}
