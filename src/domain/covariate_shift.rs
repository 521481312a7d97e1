//! Covariate shift: how well a classifier tells two samples apart, as a ROC AUC with a
//! confidence interval (Hanley & McNeil 1982), 0.5 when the domains are alike.

/// A domain classifier's held-out AUC with its normal-approximation interval and the
/// one-sided p-value of "AUC = 0.5".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AucTest {
    /// Area under the ROC curve of "new" against "reference".
    pub auc: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
    /// P(AUC this high | the domains are alike), from the standard error at 0.5.
    pub p_value: f64,
}

/// Hanley & McNeil's standard error of an AUC from `n_pos` and `n_neg` samples.
pub fn auc_standard_error(auc: f64, n_pos: usize, n_neg: usize) -> f64 {
    let (a, m, n) = (auc, n_pos as f64, n_neg as f64);
    let q1 = a / (2.0 - a);
    let q2 = 2.0 * a * a / (1.0 + a);
    ((a * (1.0 - a) + (m - 1.0) * (q1 - a * a) + (n - 1.0) * (q2 - a * a)) / (m * n))
        .max(0.0)
        .sqrt()
}

/// The interval and p-value of a measured `auc`.
pub fn auc_test(auc: f64, n_pos: usize, n_neg: usize) -> AucTest {
    let se = auc_standard_error(auc, n_pos, n_neg);
    let se_null = auc_standard_error(0.5, n_pos, n_neg);
    AucTest {
        auc,
        low: (auc - 1.96 * se).max(0.0),
        high: (auc + 1.96 * se).min(1.0),
        p_value: upper_tail((auc - 0.5) / se_null.max(f64::MIN_POSITIVE)),
    }
}

/// P(Z > z) of a standard normal (Abramowitz & Stegun 7.1.26 for erfc, error < 1.5e-7).
pub fn upper_tail(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    match z >= 0.0 {
        true => erfc / 2.0,
        false => 1.0 - erfc / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_narrows_with_samples_and_chance_is_not_significant() {
        // By hand: Q1 = 0.8 / 1.2, Q2 = 1.28 / 1.8,
        // SE² = (0.16 + 49 (Q1 - 0.64) + 49 (Q2 - 0.64)) / 2500 = 0.0019804.
        assert!((auc_standard_error(0.8, 50, 50) - 0.0019804f64.sqrt()).abs() < 1e-6);
        let small = auc_test(0.6, 30, 30);
        let large = auc_test(0.6, 3000, 3000);
        assert!(large.high - large.low < small.high - small.low);
        assert!(small.p_value > 0.05 && large.p_value < 1e-6);
        assert!((auc_test(0.5, 500, 500).p_value - 0.5).abs() < 1e-6);
        assert!((upper_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((upper_tail(-1.0) - 0.841_344_7).abs() < 1e-6);
    }
}
