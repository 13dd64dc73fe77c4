//! Known answers, derived by hand in the comments.

use super::rank_sum::{binomial, u_counts, upper_tail};
use super::*;

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

#[test]
fn median_is_the_lower_middle_on_exact_values() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[7]), Some(7));
    // rank(4, 0.5) = ⌈2⌉ − 1 = 1: the lower middle of [1, 2, 3, 4].
    assert_eq!(median(&[4, 1, 3, 2]), Some(2));
    assert_eq!(median(&[5, 1, 3]), Some(3));
    // Exact values, not HdrHistogram's 3 significant figures.
    assert_eq!(median(&[123_456_789, 1, 123_456_789]), Some(123_456_789));
}

#[test]
fn null_distribution_of_u_for_three_against_three() {
    // The 20 arrangements of 3 against 3 by U: 1, 1, 2, 3, 3, 3, 3, 2, 1, 1 (U = 0..=9).
    assert_eq!(u_counts(3, 3, 9), [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
    assert_eq!(binomial(6, 3), 20);
    // Truncation keeps the low coefficients exact.
    assert_eq!(u_counts(3, 3, 3), [1, 1, 2, 3]);
}

/// Counts of U by the textbook recursion f(n, m, u) = f(n − 1, m, u − m) + f(n, m − 1, u): the
/// largest value belongs to the first sample (it beats all m of the second) or to the second.
fn recursive_counts(n: usize, m: usize, u: usize) -> i128 {
    match (n, m) {
        (0, _) | (_, 0) => i128::from(u == 0),
        _ => {
            let top_in_first = u
                .checked_sub(m)
                .map_or(0, |rest| recursive_counts(n - 1, m, rest));
            top_in_first + recursive_counts(n, m - 1, u)
        }
    }
}

#[test]
fn null_distribution_matches_the_textbook_recursion() {
    for n in 1..=6 {
        for m in 1..=6 {
            let expected: Vec<i128> = (0..=n * m).map(|u| recursive_counts(n, m, u)).collect();
            assert_eq!(u_counts(n, m, n * m), expected, "{n} against {m}");
            assert_eq!(expected.iter().sum::<i128>(), binomial(n + m, n));
        }
    }
}

#[test]
fn the_largest_exact_distribution_sums_to_its_binomial() {
    let side = EXACT_MAX_SIDE;
    let counts = u_counts(side, side, side * side);
    // C(100, 50), from any table of binomial coefficients.
    assert_eq!(binomial(100, 50), 100_891_344_545_564_193_334_812_497_256);
    assert_eq!(counts.iter().sum::<i128>(), binomial(2 * side, side));
    assert_eq!(counts[..3], [1, 1, 2]);
}

#[test]
fn exact_p_of_separated_samples() {
    // U = 0: the one arrangement of C(6, 3) = 20 with every a below every b; p = 2/20.
    let t = mann_whitney(&[1, 2, 3], &[4, 5, 6]).unwrap();
    assert_eq!((t.u, t.exact), (0.0, true));
    assert!(close(t.p_value, 0.1, 1e-15), "{t:?}");
    // 5 against 5: 2/C(10, 5) = 2/252.
    let t = mann_whitney(&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]).unwrap();
    assert!(close(t.p_value, 2.0 / 252.0, 1e-15), "{t:?}");
    // The other way round: U = 25, P(U ≥ 25) = 1/252.
    let t = mann_whitney(&[6, 7, 8, 9, 10], &[1, 2, 3, 4, 5]).unwrap();
    assert_eq!(t.u, 25.0);
    assert!(close(t.p_value, 2.0 / 252.0, 1e-15), "{t:?}");
    // 50 against 50, separated: 2/C(100, 50) ≈ 1.9823306e-29.
    let a: Vec<u64> = (1..=50).collect();
    let b: Vec<u64> = (51..=100).collect();
    let t = mann_whitney(&a, &b).unwrap();
    assert!(t.exact && close(t.p_value / 1.982_330_604_283_667_8e-29, 1.0, 1e-12));
}

#[test]
fn exact_p_of_interleaved_samples() {
    // a = [1, 3, 5], b = [2, 4, 6]: pairs with x > y are 3 > 2, 5 > 2, 5 > 4, so U = 3.
    // From the counts 1, 1, 2, 3, 3, 3, 3, 2, 1, 1: P(U ≤ 3) = (1 + 1 + 2 + 3)/20 = 7/20,
    // P(U ≥ 3) = 1 − 4/20 = 16/20; p = 2·7/20 = 0.7.
    let t = mann_whitney(&[1, 3, 5], &[2, 4, 6]).unwrap();
    assert_eq!((t.u, t.exact), (3.0, true));
    assert!(close(t.p_value, 0.7, 1e-15), "{t:?}");
    // The middle of the distribution caps at 1: a = [1, 4], b = [2, 3] has U = 2 = n·m/2,
    // P(U ≤ 2) = (1 + 1 + 2)/6, twice that is above 1.
    assert_eq!(mann_whitney(&[1, 4], &[2, 3]).unwrap().p_value, 1.0);
    // One against one: U = 0 with P(U ≤ 0) = 1/2, p = 1.
    assert_eq!(mann_whitney(&[1], &[2]).unwrap().p_value, 1.0);
}

#[test]
fn ties_use_the_corrected_normal_approximation() {
    // a = [1, 2, 2, 3, 3], b = [3, 3, 4, 4, 5]: the a's 1, 2, 2 beat no b and tie none; each 3
    // in a ties the two 3s of b: U = 2·2·0.5 = 2 (and U_b = 25 − 2 = 23).
    // Pooled tie groups: 2 (t = 2), 3 (t = 4), 4 (t = 2): Σ(t³ − t) = 6 + 60 + 6 = 72; N = 10.
    // Mean n·m/2 = 12.5; variance = n·m/12·(N + 1 − 72/(N(N − 1))) = 25/12·(11 − 0.8) = 21.25.
    // z = (|2 − 12.5| − 0.5)/√21.25 = 10/4.609772 = 2.1693046; p = 2·(1 − Φ(z)) = 0.0300596.
    let t = mann_whitney(&[1, 2, 2, 3, 3], &[3, 3, 4, 4, 5]).unwrap();
    assert_eq!((t.u, t.exact), (2.0, false));
    assert!(close(t.p_value, 0.030_059_568, 1e-8), "{t:?}");
}

#[test]
fn large_samples_use_the_normal_approximation() {
    // 60 against 60, separated, no ties: U = 0, mean 1800, variance 60·60·121/12 = 36,300;
    // z = 1799.5/√36300 = 9.4449255; p = 2·(1 − Φ(z)) = 3.5565710e-21.
    let a: Vec<u64> = (1..=60).collect();
    let b: Vec<u64> = (61..=120).collect();
    let t = mann_whitney(&a, &b).unwrap();
    assert_eq!((t.u, t.exact), (0.0, false));
    assert!(close(t.p_value / 3.556_571e-21, 1.0, 1e-6), "{t:?}");
}

#[test]
fn all_equal_samples_have_p_one() {
    for (a, b) in [
        (vec![7; 5], vec![7; 5]),
        (vec![7], vec![7]),
        (vec![0; 3], vec![0]),
    ] {
        let t = mann_whitney(&a, &b).unwrap();
        let half_pairs = (a.len() * b.len()) as f64 / 2.0;
        assert_eq!((t.u, t.p_value, t.exact), (half_pairs, 1.0, false));
    }
}

#[test]
fn empty_sides_have_no_test() {
    assert_eq!(mann_whitney(&[], &[1]), None);
    assert_eq!(mann_whitney(&[1], &[]), None);
}

#[test]
fn normal_upper_tail_matches_tables() {
    // Φ tables: 1 − Φ(1.96) = 0.0249979, 1 − Φ(3) = 0.0013499, Φ(0) = 0.5.
    assert!(close(upper_tail(0.0), 0.5, 1e-7));
    assert!(close(upper_tail(1.96), 0.024_997_895, 1e-8));
    assert!(close(upper_tail(3.0), 0.001_349_898, 1e-9));
    assert!(close(upper_tail(-1.96), 0.975_002_105, 1e-8));
    assert!(close(upper_tail(5.0) / 2.866_515_7e-7, 1.0, 1e-6));
    assert_eq!(upper_tail(f64::INFINITY), 0.0);
}

#[test]
fn holm_adjusts_the_textbook_example() {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max(0.06, 0.04).
    let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
    for (got, want) in adjusted.iter().zip([0.03, 0.06, 0.06, 0.02]) {
        assert!(close(*got, want, 1e-15), "{adjusted:?}");
    }
}

#[test]
fn holm_caps_at_one_and_treats_nan_as_one() {
    assert_eq!(holm(&[0.5, 0.6]), [1.0, 1.0]);
    assert_eq!(holm(&[f64::NAN, 0.01]), [1.0, 0.02]);
    assert_eq!(holm(&[0.03]), [0.03]);
    assert!(holm(&[]).is_empty());
}

/// 30 values around 1 ms with a spread of ±10 %, in no particular order.
fn noisy_base() -> Vec<u64> {
    (0..30u64).map(|i| 900 + (i * 37) % 200).collect()
}

#[test]
fn bootstrap_is_deterministic_under_its_seed() {
    let base = noisy_base();
    let new: Vec<u64> = base.iter().map(|v| v + (v * 7) % 150).collect();
    let once = bootstrap_ratio_ci(&base, &new, 2_000, 0.95, 42);
    assert!(once.is_some());
    assert_eq!(once, bootstrap_ratio_ci(&base, &new, 2_000, 0.95, 42));
    let others: Vec<_> = (0..5)
        .map(|seed| bootstrap_ratio_ci(&base, &new, 2_000, 0.95, seed))
        .collect();
    assert!(others.iter().any(|ci| *ci != once), "{others:?}");
}

#[test]
fn bootstrap_contains_the_observed_ratio() {
    let base = noisy_base();
    let new: Vec<u64> = base.iter().map(|v| v * 2 + (v * 13) % 90).collect();
    let observed = median(&new).unwrap() as f64 / median(&base).unwrap() as f64;
    let (low, high) = bootstrap_ratio_ci(&base, &new, 10_000, 0.95, 7).unwrap();
    assert!(
        low <= observed && observed <= high,
        "{low} {observed} {high}"
    );
    assert!(low > 1.8 && high < 2.4, "{low} {high}");
}

#[test]
fn bootstrap_of_identical_samples_contains_one() {
    let base = noisy_base();
    let (low, high) = bootstrap_ratio_ci(&base, &base, 10_000, 0.95, 1).unwrap();
    assert!(
        low < 1.0 && 1.0 < high && low > 0.85 && high < 1.15,
        "{low} {high}"
    );
}

#[test]
fn bootstrap_of_scaled_samples_lies_around_the_scale() {
    // Constant sides: every resampled median is the value itself, 300/200.
    assert_eq!(
        bootstrap_ratio_ci(&[200; 10], &[300; 10], 1_000, 0.95, 3),
        Some((1.5, 1.5))
    );
    // new = 1.5 × base with base in 1000..=1058: every ratio lies in [1.5·1000/1058, 1.5·1058/1000].
    let base: Vec<u64> = (0..30).map(|i| 1000 + 2 * i).collect();
    let new: Vec<u64> = base.iter().map(|v| v / 2 * 3).collect();
    let (low, high) = bootstrap_ratio_ci(&base, &new, 10_000, 0.95, 3).unwrap();
    let around = |x: f64| (1.4..1.6).contains(&x);
    assert!(
        around(low) && low <= 1.5 && 1.5 <= high && around(high),
        "{low} {high}"
    );
}

#[test]
fn bootstrap_bounds_are_nearest_ranks_from_each_end() {
    // base = [1, 2]: a resample's lower middle is 1 unless both draws are 2 (chance 1/4), so
    // the ratio 2/median is 2 for about 3/4 of the resamples and 1 for about 1/4: the 2.5 %
    // from each end are 1 and 2.
    assert_eq!(
        bootstrap_ratio_ci(&[1, 2], &[2], 10_000, 0.95, 9),
        Some((1.0, 2.0))
    );
    // (1 − 0.95)/2 · 10,000 = 250 despite its rounding: the 250th from each end.
    assert_eq!(tail_index(10_000, (1.0 - 0.95) / 2.0), Some(249));
    assert_eq!(tail_index(100, 0.025), Some(2));
    assert_eq!(tail_index(10, 0.0), Some(0));
    assert_eq!(tail_index(0, 0.025), None);
}

#[test]
fn bootstrap_refuses_what_has_no_ratio() {
    assert_eq!(bootstrap_ratio_ci(&[], &[1], 100, 0.95, 0), None);
    assert_eq!(bootstrap_ratio_ci(&[1], &[], 100, 0.95, 0), None);
    // Observed base median 0 (lower middle of [0, 0, 5]).
    assert_eq!(bootstrap_ratio_ci(&[0, 0, 5], &[1, 2], 100, 0.95, 0), None);
    assert_eq!(bootstrap_ratio_ci(&[1], &[1], 100, f64::NAN, 0), None);
    assert_eq!(bootstrap_ratio_ci(&[1], &[1], 100, 1.5, 0), None);
    // Base median 5, but resamples with a zero median are left out rather than divided by.
    let (low, high) = bootstrap_ratio_ci(&[0, 5, 5], &[10], 0, 0.95, 0).unwrap();
    assert_eq!((low, high), (2.0, 2.0));
}

/// scipy's documented example for `mannwhitneyu` (male vs female ages): U = 17, exact two-sided
/// p = 0.1111111 (scipy.stats.mannwhitneyu docs; the same figure in statrs' tests); and a second
/// exact case with U = 21, two-sided p = 0.4606061 (8 against 4).
#[test]
fn scipy_documented_examples() {
    let t = mann_whitney(&[19, 22, 16, 29, 24], &[20, 11, 17, 12]).unwrap();
    assert!(t.exact);
    assert_eq!(t.u, 17.0);
    assert!(close(t.p_value, 0.111_111_111_111_111_1, 1e-12), "{t:?}");
    let t = mann_whitney(&[5, 2, 7, 8, 9, 3, 11, 12], &[1, 6, 10, 4]).unwrap();
    assert_eq!(t.u, 21.0);
    assert!(close(t.p_value, 0.460_606_060_606_060_63, 1e-12), "{t:?}");
}
