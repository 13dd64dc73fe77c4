//! The parts of the Mann–Whitney test: U and the tie groups from the merged sorted samples, the
//! exact null distribution of U (no ties), the normal approximation.

use std::f64::consts::SQRT_2;

/// U of the first sample and the ties of the pooled samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RankSum {
    /// Twice U (an integer: a pair `x > y` adds 2, a tie `x == y` adds 1).
    pub twice_u: u128,
    /// Σ (t³ − t) over the groups of `t` equal values in the pooled samples.
    pub tie_term: f64,
    /// Whether any value occurs more than once in the pooled samples.
    pub has_ties: bool,
}

/// U of `a` against `b` and the pooled ties, in O((n + m) log(n + m)).
pub(super) fn rank_sum(a: &[u64], b: &[u64]) -> RankSum {
    let (a, b) = (sorted(a), sorted(b));
    let (mut i, mut j) = (0, 0);
    let mut sum = RankSum {
        twice_u: 0,
        tie_term: 0.0,
        has_ties: false,
    };
    while let Some(v) = smaller_head(&a[i..], &b[j..]) {
        let in_a = run_length(&a[i..], v);
        let in_b = run_length(&b[j..], v);
        // Each of the `in_a` values beats the `j` smaller values of `b` and ties `in_b`.
        sum.twice_u += in_a as u128 * (2 * j as u128 + in_b as u128);
        let t = in_a + in_b;
        if t > 1 {
            sum.has_ties = true;
            let t = t as f64;
            sum.tie_term += t * t * t - t;
        }
        i += in_a;
        j += in_b;
    }
    sum
}

fn sorted(values: &[u64]) -> Vec<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v
}

/// The smaller of the first values of two sorted slices, `None` when both are empty.
fn smaller_head(a: &[u64], b: &[u64]) -> Option<u64> {
    match (a.first(), b.first()) {
        (Some(&x), Some(&y)) => Some(x.min(y)),
        (x, y) => x.or(y).copied(),
    }
}

/// How many leading values of `sorted` equal `v`.
fn run_length(sorted: &[u64], v: u64) -> usize {
    sorted.iter().take_while(|&&x| x == v).count()
}

/// Exact two-sided p-value of `u` (an integer, no ties) for samples of `n` and `m`:
/// `min(1, 2·min(P(U ≤ u), P(U ≥ u)))`. The null distribution is symmetric about `n·m/2`, so
/// that is `2·P(U ≤ min(u, n·m − u))`. Needs `n, m ≤ EXACT_MAX_SIDE` (so counts fit in i128).
pub(super) fn exact_p(n: usize, m: usize, u: u128) -> f64 {
    let pairs = n as u128 * m as u128;
    let low = u.min(pairs.saturating_sub(u));
    let Ok(low) = usize::try_from(low) else {
        return 1.0;
    };
    let at_most: i128 = u_counts(n, m, low).iter().sum();
    probability(2.0 * at_most as f64 / binomial(n + m, n) as f64)
}

/// `counts[u]`, u = 0..=`up_to`: how many of the C(n+m, n) arrangements of `n` and `m` distinct
/// values give U = u (the first sample's value after `u` of the second's).
///
/// A DP over counts, one member of the first sample at a time: the generating function is the
/// Gaussian binomial [n+m, n]_q = Π_{k=1..n} (1 − q^{m+k}) / (1 − q^k), so each step multiplies
/// by (1 − q^{m+k}) and divides by (1 − q^k) (a running sum of stride k), on the coefficients up
/// to `up_to` only: O(n·up_to), exact integers. After step k the coefficients are those of
/// [m+k, k]_q, so none exceeds C(n+m, n) in magnitude.
pub(super) fn u_counts(n: usize, m: usize, up_to: usize) -> Vec<i128> {
    let mut counts = vec![0i128; up_to + 1];
    counts[0] = 1;
    for k in 1..=n {
        let grow = m + k;
        for u in (grow..=up_to).rev() {
            counts[u] -= counts[u - grow];
        }
        for u in k..=up_to {
            counts[u] += counts[u - k];
        }
    }
    counts
}

/// C(n, k), exact while it fits in i128 (every step is itself a binomial coefficient).
pub(super) fn binomial(n: usize, k: usize) -> i128 {
    let k = k.min(n.saturating_sub(k));
    (1..=k).fold(1i128, |c, i| c * (n - k + i) as i128 / i as i128)
}

/// Two-sided p-value of `u` under the normal approximation with the tie-corrected variance
/// `n·m·(N³ − N − Σ(t³ − t)) / (12·N·(N − 1))`, N = n + m, and a continuity correction of 0.5:
/// `z = (|u − n·m/2| − 0.5) / σ`, `p = 2·(1 − Φ(z))` capped at 1 (scipy's `mannwhitneyu`,
/// `method="asymptotic"`, `use_continuity=True`). Zero variance (all values equal) gives 1.
pub(super) fn asymptotic_p(n: usize, m: usize, u: f64, tie_term: f64) -> f64 {
    let (nf, mf) = (n as f64, m as f64);
    let big = nf + mf;
    let spread = big * big * big - big - tie_term;
    let variance = nf * mf * spread / (12.0 * big * (big - 1.0));
    if variance.is_nan() || variance <= 0.0 || variance.is_infinite() {
        return 1.0;
    }
    let z = ((u - nf * mf / 2.0).abs() - 0.5) / variance.sqrt();
    probability(2.0 * upper_tail(z))
}

/// `p` clamped to [0, 1], NaN as 1.
pub(super) fn probability(p: f64) -> f64 {
    if p.is_nan() {
        1.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// 1 − Φ(z), the upper tail of the standard normal distribution.
pub(super) fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// The complementary error function, Numerical Recipes' `erfcc` (a Chebyshev fit): relative
/// error below 1.2e-7 everywhere.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = [
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ]
    .iter()
    .rev()
    .fold(0.0, |acc, c| c + t * acc);
    let tail = t * (-z * z - 1.265_512_23 + t * poly).exp();
    if x >= 0.0 {
        tail
    } else {
        2.0 - tail
    }
}
