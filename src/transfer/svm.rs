//! A linear support vector machine on fixed features (seed 000, 6.3.4: "an SVM on the features
//! a pre-trained network extracts"): one-vs-rest, squared hinge loss, solved in the dual by
//! coordinate descent (Hsieh et al. 2008, the method of LIBLINEAR and scikit-learn's
//! `LinearSVC`). The bias is an extra feature of value 1, regularised like the weights, as in
//! `LinearSVC`.
//!
//! For one binary problem with labels `y_i = +-1` the dual is
//! `min_a 1/2 a^T (Q + D) a - sum_i a_i`, `a_i >= 0`, with `Q_ij = y_i y_j x_i . x_j` and
//! `D = I / (2C)`; the weights are `w = sum_i a_i y_i x_i`.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// One-vs-rest linear classifier: `scores = [x, 1] W^T`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSvm {
    /// `[classes, d + 1]`, the bias last.
    weights: Vec<f32>,
    d: usize,
}

impl LinearSvm {
    /// Fits on `n` rows of `d` features with labels `0..classes`; `c` is the cost of margin
    /// violations (scikit-learn's `C`), `seed` fixes the order of the coordinate sweeps.
    pub fn fit(x: &[f32], d: usize, labels: &[u32], classes: usize, c: f64, seed: u64) -> Self {
        let n = labels.len();
        assert_eq!(x.len(), n * d, "svm: features and labels disagree");
        let mut weights = vec![0.0f32; classes * (d + 1)];
        for (k, w) in weights.chunks_mut(d + 1).enumerate() {
            let y: Vec<f64> = labels
                .iter()
                .map(|&l| if l as usize == k { 1.0 } else { -1.0 })
                .collect();
            let wk = binary_dual_cd(x, d, &y, c, seed.wrapping_add(k as u64));
            for (dst, src) in w.iter_mut().zip(wk) {
                *dst = src as f32;
            }
        }
        Self { weights, d }
    }

    /// The class with the highest score for each row of `x`.
    pub fn predict(&self, x: &[f32]) -> Vec<u32> {
        x.chunks(self.d)
            .map(|row| {
                let mut best = (f32::NEG_INFINITY, 0u32);
                for (k, w) in self.weights.chunks(self.d + 1).enumerate() {
                    let s: f32 = row.iter().zip(w).map(|(a, b)| a * b).sum::<f32>() + w[self.d];
                    if s > best.0 {
                        best = (s, k as u32);
                    }
                }
                best.1
            })
            .collect()
    }

    /// The weights of class `k` (bias last).
    pub fn class_weights(&self, k: usize) -> &[f32] {
        &self.weights[k * (self.d + 1)..(k + 1) * (self.d + 1)]
    }
}

/// Dual coordinate descent for one binary L2-loss SVM; returns `[w, b]` (length `d + 1`).
fn binary_dual_cd(x: &[f32], d: usize, y: &[f64], c: f64, seed: u64) -> Vec<f64> {
    const TOL: f64 = 1e-4;
    const MAX_SWEEPS: usize = 2000;
    let n = y.len();
    let diag = 0.5 / c;
    let row = |i: usize| x[i * d..(i + 1) * d].iter().map(|&v| v as f64);
    // Q_ii = x_i . x_i + 1 (the bias feature) + D_ii.
    let q: Vec<f64> = (0..n)
        .map(|i| row(i).map(|v| v * v).sum::<f64>() + 1.0 + diag)
        .collect();
    let mut alpha = vec![0.0f64; n];
    let mut w = vec![0.0f64; d + 1];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..MAX_SWEEPS {
        order.shuffle(&mut rng);
        let mut max_violation = 0.0f64;
        for &i in &order {
            let margin: f64 = row(i).zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[d];
            let grad = y[i] * margin - 1.0 + diag * alpha[i];
            // Projected gradient: at the bound a_i = 0 only a negative gradient can move it.
            let pg = if alpha[i] == 0.0 { grad.min(0.0) } else { grad };
            max_violation = max_violation.max(pg.abs());
            if pg != 0.0 {
                let old = alpha[i];
                alpha[i] = (old - grad / q[i]).max(0.0);
                let step = (alpha[i] - old) * y[i];
                for (wj, xj) in w.iter_mut().zip(row(i)) {
                    *wj += step * xj;
                }
                w[d] += step;
            }
        }
        if max_violation < TOL {
            break;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_c_finds_the_maximum_margin_line() {
        // Two classes on either side of x0 = 1, the closest points at x0 = 0 and x0 = 2. A large
        // C approaches the hard-margin solution, with the bias regularised like a weight.
        let x = [0.0, 0.0, 0.0, 1.0, -1.0, 0.5, 2.0, 0.0, 2.0, 1.0, 3.0, -0.5];
        let labels = [0, 0, 0, 1, 1, 1];
        let svm = LinearSvm::fit(&x, 2, &labels, 2, 1e6, 1);
        // Class 1 vs rest: support vectors (0, *) with y = -1 and (2, *) with y = +1 give
        // -b = 1 and 2 w0 + b = 1 with w1 = 0; minimising w0^2 + b^2 on that line: w0 = 1, b = -1.
        let w = svm.class_weights(1);
        assert!((w[0] - 1.0).abs() < 1e-3, "{w:?}");
        assert!(w[1].abs() < 1e-3, "{w:?}");
        assert!((w[2] + 1.0).abs() < 1e-3, "{w:?}");
        assert_eq!(svm.predict(&x), labels);
    }

    #[test]
    fn separates_three_blobs() {
        let centres = [(0.0f32, 0.0f32), (5.0, 0.0), (0.0, 5.0)];
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for (k, (cx, cy)) in centres.iter().enumerate() {
            for i in 0..20 {
                let t = i as f32 * 0.7;
                x.extend([cx + t.sin(), cy + t.cos()]);
                labels.push(k as u32);
            }
        }
        let svm = LinearSvm::fit(&x, 2, &labels, 3, 1.0, 7);
        assert_eq!(svm.predict(&x), labels);
    }
}
