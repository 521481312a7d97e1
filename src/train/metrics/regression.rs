//! Regression metrics: mean absolute error, root mean squared error and R².

use serde::{Deserialize, Serialize};

/// Error summary of real-valued predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Mean absolute error.
    pub mae: f64,
    /// Root of the mean squared error.
    pub rmse: f64,
    /// Coefficient of determination; 1 is perfect, 0 is as good as predicting the mean.
    pub r2: f64,
}

/// MAE, RMSE and R² of `pred` against `truth`, accumulated in `f64`.
///
/// ```text
/// MAE  = mean |y - ŷ|
/// RMSE = sqrt(mean (y - ŷ)²)
/// R²   = 1 - SS_res / SS_tot,  SS_res = Σ (y - ŷ)²,  SS_tot = Σ (y - mean(y))²
/// ```
///
/// When the truth is constant (`SS_tot = 0`), R² is 1 for a perfect prediction and 0
/// otherwise, as scikit-learn's `r2_score` does with `force_finite=True`. Empty inputs
/// give NaN for every field.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn regression_report(pred: &[f32], truth: &[f32]) -> RegressionReport {
    assert_eq!(
        pred.len(),
        truth.len(),
        "regression_report: {} predictions but {} targets",
        pred.len(),
        truth.len()
    );
    let n = truth.len() as f64;
    let mean = truth.iter().map(|&y| y as f64).sum::<f64>() / n;
    let (mut abs, mut ss_res, mut ss_tot) = (0.0, 0.0, 0.0);
    for (&p, &y) in pred.iter().zip(truth) {
        let (p, y) = (p as f64, y as f64);
        abs += (y - p).abs();
        ss_res += (y - p) * (y - p);
        ss_tot += (y - mean) * (y - mean);
    }
    let r2 = if truth.is_empty() {
        f64::NAN
    } else if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    };
    RegressionReport {
        mae: abs / n,
        rmse: (ss_res / n).sqrt(),
        r2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// scikit-learn's docs example:
    ///
    /// ```text
    /// y_true = [3, -0.5, 2, 7]; y_pred = [2.5, 0.0, 2, 8]
    /// errors 0.5, 0.5, 0, 1
    /// mean_absolute_error = 2 / 4 = 0.5
    /// mean_squared_error  = (0.25 + 0.25 + 0 + 1) / 4 = 0.375 -> RMSE 0.6123724356957945
    /// mean(y) = 2.875; SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
    /// r2_score = 1 - 1.5 / 29.1875 = 0.9486081370449679
    /// ```
    #[test]
    fn matches_sklearn_example() {
        let r = regression_report(&[2.5, 0.0, 2.0, 8.0], &[3.0, -0.5, 2.0, 7.0]);
        assert!(close(r.mae, 0.5));
        assert!(close(r.rmse, 0.6123724356957945));
        assert!(close(r.r2, 0.9486081370449679));
    }

    #[test]
    fn predicting_the_mean_gives_zero_r2() {
        let truth = [1.0, 2.0, 3.0, 6.0];
        let r = regression_report(&[3.0; 4], &truth);
        assert!(close(r.r2, 0.0));
        // |1-3| + |2-3| + 0 + |6-3| = 6 -> 1.5; squares 4 + 1 + 0 + 9 = 14 -> sqrt(3.5)
        assert!(close(r.mae, 1.5));
        assert!(close(r.rmse, 3.5f64.sqrt()));
    }

    #[test]
    fn perfect_prediction() {
        let r = regression_report(&[1.0, -2.0, 4.0], &[1.0, -2.0, 4.0]);
        assert_eq!(
            r,
            RegressionReport {
                mae: 0.0,
                rmse: 0.0,
                r2: 1.0
            }
        );
    }

    #[test]
    fn constant_truth_follows_sklearn_force_finite() {
        assert_eq!(regression_report(&[2.0, 2.0], &[2.0, 2.0]).r2, 1.0);
        assert_eq!(regression_report(&[1.0, 3.0], &[2.0, 2.0]).r2, 0.0);
    }

    #[test]
    fn empty_is_nan() {
        let r = regression_report(&[], &[]);
        assert!(r.mae.is_nan() && r.rmse.is_nan() && r.r2.is_nan());
    }
}
