//! The maximum mean discrepancy (Gretton et al. 2012) between two samples with a Gaussian
//! kernel, and its permutation test: the kernel two-sample statistic of covariate-shift
//! diagnostics (SPEC D1), on raw inputs or on any model's embeddings.
//!
//! ```text
//! k(a, b) = exp(-|a - b|² / (2 σ²))
//! MMD²_u = 1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j) - 2/(mn) Σ k(x_i, y_j)
//! ```

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Points compared for the median heuristic (the first ones of each sample).
const BANDWIDTH_POINTS: usize = 500;

/// The outcome of [`mmd_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmdTest {
    /// The unbiased MMD² of the two samples.
    pub mmd2: f64,
    /// Share of label permutations (plus the observed one) with an MMD² at least as large.
    pub p_value: f64,
    /// σ² of the kernel (the median heuristic).
    pub sigma2: f64,
}

/// σ² by the median heuristic: half the median squared distance between pooled points
/// (`x` and `y` hold rows of `d` values).
pub fn rbf_bandwidth(x: &[f32], y: &[f32], d: usize) -> f64 {
    let take = |v: &[f32]| v.len().min(BANDWIDTH_POINTS * d);
    let pooled: Vec<f32> = x[..take(x)].iter().chain(&y[..take(y)]).copied().collect();
    let n = pooled.len() / d;
    let mut dist: Vec<f64> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            dist.push(sq_dist(
                &pooled[i * d..(i + 1) * d],
                &pooled[j * d..(j + 1) * d],
            ));
        }
    }
    if dist.is_empty() {
        return 1.0;
    }
    let mid = dist.len() / 2;
    let (_, median, _) = dist.select_nth_unstable_by(mid, f64::total_cmp);
    (*median / 2.0).max(f64::MIN_POSITIVE)
}

/// The unbiased MMD² of `x` and `y` (rows of `d` values, at least two each) with kernel
/// width `sigma2`.
///
/// # Panics
/// When `d` is 0, a sample is not whole rows, or a sample has fewer than two rows.
pub fn mmd2_unbiased(x: &[f32], y: &[f32], d: usize, sigma2: f64) -> f64 {
    check_samples(x, y, d);
    let pooled: Vec<f32> = x.iter().chain(y).copied().collect();
    let k = kernel_matrix(&pooled, d, sigma2);
    let m = x.len() / d;
    let side: Vec<bool> = (0..pooled.len() / d).map(|i| i >= m).collect();
    statistic(&k, &side)
}

/// MMD² of `x` and `y` with the median-heuristic kernel and its p-value over `permutations`
/// random reassignments of the pooled points to the two samples (seeded by `seed`).
///
/// # Panics
/// As [`mmd2_unbiased`].
pub fn mmd_test(x: &[f32], y: &[f32], d: usize, permutations: usize, seed: u64) -> MmdTest {
    check_samples(x, y, d);
    let sigma2 = rbf_bandwidth(x, y, d);
    let pooled: Vec<f32> = x.iter().chain(y).copied().collect();
    let k = kernel_matrix(&pooled, d, sigma2);
    let m = x.len() / d;
    let mut side: Vec<bool> = (0..pooled.len() / d).map(|i| i >= m).collect();
    let observed = statistic(&k, &side);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let at_least = (0..permutations)
        .filter(|_| {
            side.shuffle(&mut rng);
            statistic(&k, &side) >= observed
        })
        .count();
    MmdTest {
        mmd2: observed,
        p_value: (1 + at_least) as f64 / (1 + permutations) as f64,
        sigma2,
    }
}

fn check_samples(x: &[f32], y: &[f32], d: usize) {
    assert!(
        d > 0 && x.len().is_multiple_of(d) && y.len().is_multiple_of(d),
        "MMD samples must be whole rows of d = {d} > 0 values"
    );
    assert!(
        x.len() >= 2 * d && y.len() >= 2 * d,
        "the unbiased MMD needs at least two rows in each sample"
    );
}

fn sq_dist(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| {
            let t = (p - q) as f64;
            t * t
        })
        .sum()
}

/// The pooled points' kernel matrix, row-major.
fn kernel_matrix(points: &[f32], d: usize, sigma2: f64) -> Vec<f64> {
    let n = points.len() / d;
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let v = (-sq_dist(&points[i * d..(i + 1) * d], &points[j * d..(j + 1) * d])
                / (2.0 * sigma2))
                .exp();
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    k
}

/// Unbiased MMD² of the split of the pooled points given by `side` (true: second sample).
fn statistic(k: &[f64], side: &[bool]) -> f64 {
    let n = side.len();
    let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let v = k[i * n + j];
            match (side[i], side[j]) {
                (false, false) => xx += v,
                (true, true) => yy += v,
                _ => xy += v,
            }
        }
    }
    let m = side.iter().filter(|&&s| !s).count() as f64;
    let r = n as f64 - m;
    // xy counted both ways round.
    xx / (m * (m - 1.0)) + yy / (r * (r - 1.0)) - xy / (m * r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Normal};

    fn sample(n: usize, d: usize, mean: f32, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(mean, 1.0).unwrap();
        (0..n * d).map(|_| normal.sample(&mut rng)).collect()
    }

    #[test]
    fn the_statistic_matches_a_hand_computation() {
        // x = {0, 1}, y = {3} in one dimension is too small for the unbiased form's y term:
        // use y = {3, 5}. σ² = 1: k(a, b) = exp(-(a - b)² / 2).
        let (x, y) = ([0.0f32, 1.0], [3.0f32, 5.0]);
        let k = |a: f64, b: f64| (-(a - b) * (a - b) / 2.0).exp();
        let xx = 2.0 * k(0.0, 1.0) / 2.0;
        let yy = 2.0 * k(3.0, 5.0) / 2.0;
        let xy = 2.0 * (k(0.0, 3.0) + k(0.0, 5.0) + k(1.0, 3.0) + k(1.0, 5.0)) / 4.0;
        let expected = xx + yy - xy;
        assert!((mmd2_unbiased(&x, &y, 1, 1.0) - expected).abs() < 1e-12);
    }

    #[test]
    fn identical_distributions_pass_and_shifted_ones_are_flagged() {
        let d = 5;
        let a = sample(150, d, 0.0, 1);
        let same = sample(150, d, 0.0, 2);
        let shifted = sample(150, d, 0.5, 3);
        let alike = mmd_test(&a, &same, d, 200, 7);
        assert!(alike.p_value > 0.05, "{alike:?}");
        assert!(alike.mmd2.abs() < 0.01, "{alike:?}");
        let apart = mmd_test(&a, &shifted, d, 200, 7);
        assert!(apart.p_value < 0.01 && apart.mmd2 > 0.02, "{apart:?}");
        // The same sample against itself: its duplicated points make the observed MMD² low,
        // below most permutations'.
        let itself = mmd_test(&a, &a, d, 50, 1);
        assert!(itself.p_value > 0.05, "{itself:?}");
    }
}
