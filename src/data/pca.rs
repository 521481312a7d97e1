//! Covariance, eigen-decomposition and linear projections behind PCA and ZCA whitening.
//!
//! ```text
//! mean = (1/n) sum_i x_i
//! C    = (1/(n-1)) sum_i (x_i - mean)(x_i - mean)^T     (sample covariance)
//! C    = U diag(lambda) U^T,  lambda sorted descending
//! PCA:  y = U_k^T (x - mean)            whitened: row j divided by sqrt(lambda_j)
//! ZCA:  y = U diag(1/sqrt(lambda + eps)) U^T (x - mean)
//! ```

use nalgebra::{DMatrix, SymmetricEigen};

/// Samples handled per matrix product, bounding the temporary memory.
const CHUNK: usize = 4096;

/// The per-feature mean and the sample covariance (divided by `n - 1`) of `n` row-major
/// samples of `d` values; needs `n >= 2`.
pub(crate) fn mean_and_covariance(features: &[f32], d: usize) -> (Vec<f64>, DMatrix<f64>) {
    let n = features.len() / d;
    let mut mean = vec![0.0f64; d];
    for sample in features.chunks_exact(d) {
        for (m, &x) in mean.iter_mut().zip(sample) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);

    let mut cov = DMatrix::<f64>::zeros(d, d);
    for chunk in features.chunks(CHUNK * d) {
        let centered: Vec<f64> = chunk
            .iter()
            .enumerate()
            .map(|(i, &x)| f64::from(x) - mean[i % d])
            .collect();
        // Column-major d x rows: each column is one centred sample.
        let xt = DMatrix::from_column_slice(d, chunk.len() / d, &centered);
        cov += &xt * xt.transpose();
    }
    cov /= (n - 1) as f64;
    (mean, cov)
}

/// Eigenvalues in descending order and the matching unit eigenvectors as columns.
///
/// Each eigenvector's largest-magnitude entry is made positive so that the result does
/// not depend on the solver's sign choice.
pub(crate) fn sorted_eigen(cov: DMatrix<f64>) -> (Vec<f64>, DMatrix<f64>) {
    let eigen = SymmetricEigen::new(cov);
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let values = order
        .iter()
        .map(|&i| eigen.eigenvalues[i].max(0.0))
        .collect();
    let mut vectors = eigen.eigenvectors.select_columns(&order);
    for mut column in vectors.column_iter_mut() {
        let peak = column
            .iter()
            .copied()
            .fold(0.0f64, |p, v| if v.abs() > p.abs() { v } else { p });
        if peak < 0.0 {
            column.neg_mut();
        }
    }
    (values, vectors)
}

/// `y = P (x - mean)` for every row-major sample `x`, with `P` row-major `[out, d]`;
/// returns the outputs row-major `[n, out]`.
pub(crate) fn project(features: &[f32], mean: &[f32], projection: &[f32], out: usize) -> Vec<f32> {
    let d = mean.len();
    let p = DMatrix::from_row_slice(out, d, projection);
    let mut result = Vec::with_capacity(features.len() / d * out);
    for chunk in features.chunks(CHUNK * d) {
        let centered: Vec<f32> = chunk
            .iter()
            .enumerate()
            .map(|(i, &x)| x - mean[i % d])
            .collect();
        let xt = DMatrix::from_column_slice(d, chunk.len() / d, &centered);
        // out x rows, column-major: each column is one sample's output.
        let y = &p * xt;
        result.extend_from_slice(y.as_slice());
    }
    result
}

/// The first `k` principal components of `n` row-major samples of `d` values (`n >= 2`):
/// row-major `[n, k]` (components past `d` are zero).
pub fn pca_project(features: &[f32], d: usize, k: usize) -> Vec<f32> {
    let (mean, cov) = mean_and_covariance(features, d);
    let (_, vectors) = sorted_eigen(cov);
    let mut projection = vec![0.0f32; k * d];
    for c in 0..k.min(d) {
        for j in 0..d {
            projection[c * d + j] = vectors[(j, c)] as f32;
        }
    }
    let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    project(features, &mean, &projection, k)
}

/// The first two principal components of `n` row-major samples of `d` values (`n >= 2`), for
/// plotting an embedding.
pub fn pca_2d(features: &[f32], d: usize) -> Vec<[f32; 2]> {
    pca_project(features, d, 2)
        .chunks_exact(2)
        .map(|p| [p[0], p[1]])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_2d_finds_the_line_the_points_lie_on() {
        // Points on the line y = 2x in 3-D (z = 0): the first component carries all spread.
        let x: Vec<f32> = (0..5)
            .flat_map(|i| [i as f32, 2.0 * i as f32, 0.0])
            .collect();
        let p = pca_2d(&x, 3);
        let spread = |c: usize| p.iter().map(|v| v[c].abs()).fold(0.0f32, f32::max);
        assert!((spread(0) - 2.0 * 5f32.sqrt()).abs() < 1e-4, "{p:?}");
        assert!(spread(1) < 1e-4, "{p:?}");
    }

    #[test]
    fn covariance_matches_hand_computation() {
        // Samples (1,2), (3,6), (5,10): mean (3,6), deviations (-2,-4),(0,0),(2,8/..).
        let (mean, cov) = mean_and_covariance(&[1.0, 2.0, 3.0, 6.0, 5.0, 10.0], 2);
        assert_eq!(mean, vec![3.0, 6.0]);
        // var x = (4+0+4)/2 = 4, var y = (16+0+16)/2 = 16, cov = (8+0+8)/2 = 8.
        assert_eq!(cov, DMatrix::from_row_slice(2, 2, &[4.0, 8.0, 8.0, 16.0]));
    }

    #[test]
    fn eigen_is_sorted_and_sign_fixed() {
        let cov = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 9.0]);
        let (values, vectors) = sorted_eigen(cov);
        assert!((values[0] - 9.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
        assert!((vectors[(1, 0)] - 1.0).abs() < 1e-12);
        assert!((vectors[(0, 1)] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn projection_is_row_major() {
        // P = [[1, 0], [1, 1], [0, 2]], mean (1, 1); x = (2, 3) -> centred (1, 2) -> (1, 3, 4).
        let y = project(
            &[2.0, 3.0, 1.0, 1.0],
            &[1.0, 1.0],
            &[1.0, 0.0, 1.0, 1.0, 0.0, 2.0],
            3,
        );
        assert_eq!(y, vec![1.0, 3.0, 4.0, 0.0, 0.0, 0.0]);
    }
}
