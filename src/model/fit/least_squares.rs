//! Least squares with non-negative coefficients over at most three terms, small enough to
//! solve by elimination.

/// Non-negative least squares over at most three terms by elimination: the full fit when
/// every coefficient is non-negative, else the best fit over fewer terms that is. Columns that
/// are all zero or constant beside the intercept get 0.
pub fn least_squares(rows: &[([f64; 3], f64)]) -> [f64; 3] {
    const SUBSETS: [[bool; 3]; 7] = [
        [true, true, true],
        [true, true, false],
        [false, true, true],
        [true, false, true],
        [false, true, false],
        [true, false, false],
        [false, false, true],
    ];
    let mut best: Option<([f64; 3], f64)> = None;
    for (i, subset) in SUBSETS.iter().enumerate() {
        let Some(coef) = solve_subset(rows, *subset) else {
            continue;
        };
        if coef.iter().any(|c| *c < 0.0) {
            continue;
        }
        let residual = rows
            .iter()
            .map(|(x, y)| (y - (0..3).map(|k| coef[k] * x[k]).sum::<f64>()).powi(2))
            .sum::<f64>();
        // The full model wins when valid; otherwise the smallest residual.
        if i == 0 {
            return coef;
        }
        if best.is_none_or(|(_, r)| residual < r) {
            best = Some((coef, residual));
        }
    }
    best.map_or([0.0; 3], |(c, _)| c)
}

/// Least squares over the columns in `subset` (normal equations, Gaussian elimination with
/// partial pivoting); `None` when they are collinear or there are too few rows.
fn solve_subset(rows: &[([f64; 3], f64)], subset: [bool; 3]) -> Option<[f64; 3]> {
    let cols: Vec<usize> = (0..3).filter(|&k| subset[k]).collect();
    let n = cols.len();
    if rows.len() < n {
        return None;
    }
    // Scale each column so bytes (1e8) and files (1e4) do not swamp the pivots.
    let scale: Vec<f64> = cols
        .iter()
        .map(|&k| rows.iter().map(|(x, _)| x[k].abs()).fold(0.0, f64::max))
        .collect();
    if scale.iter().any(|s| *s == 0.0 || !s.is_finite()) {
        return None;
    }
    let mut a = vec![vec![0.0; n + 1]; n];
    for (x, y) in rows {
        let v: Vec<f64> = cols.iter().zip(&scale).map(|(&k, s)| x[k] / s).collect();
        for i in 0..n {
            for j in 0..n {
                a[i][j] += v[i] * v[j];
            }
            a[i][n] += v[i] * y;
        }
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        a.swap(col, pivot);
        let diagonal = a[col][col];
        if diagonal.abs() < 1e-9 * rows.len() as f64 {
            return None;
        }
        let pivot_row = a[col].clone();
        for (_, row) in a.iter_mut().enumerate().filter(|(r, _)| *r != col) {
            let factor = row[col] / diagonal;
            for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *x -= factor * p;
            }
        }
    }
    let mut coef = [0.0; 3];
    for (i, &k) in cols.iter().enumerate() {
        coef[k] = a[i][n] / a[i][i] / scale[i];
    }
    coef.iter().all(|c| c.is_finite()).then_some(coef)
}
