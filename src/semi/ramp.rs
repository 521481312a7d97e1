//! Ramp-up of the unsupervised weight (Laine & Aila 2017; seed 003 19.3.5: "start lambda at 0
//! and raise it gradually").

/// `exp(-5 (1 - t)^2)` with `t = step / ramp_steps` clipped to 1: close to 0 at the start,
/// exactly 1 from `ramp_steps` on; 1 throughout when `ramp_steps` is 0.
pub fn sigmoid_ramp(step: usize, ramp_steps: usize) -> f64 {
    if ramp_steps == 0 {
        return 1.0;
    }
    let t = (step as f64 / ramp_steps as f64).min(1.0);
    (-5.0 * (1.0 - t).powi(2)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ramp_rises_from_near_zero_to_one_and_stays() {
        assert!((sigmoid_ramp(0, 100) - (-5.0f64).exp()).abs() < 1e-12);
        assert!((sigmoid_ramp(50, 100) - (-1.25f64).exp()).abs() < 1e-12);
        assert_eq!(sigmoid_ramp(100, 100), 1.0);
        assert_eq!(sigmoid_ramp(1000, 100), 1.0);
        assert_eq!(sigmoid_ramp(0, 0), 1.0);
        let rising: Vec<f64> = (0..=10).map(|s| sigmoid_ramp(s * 10, 100)).collect();
        assert!(rising.windows(2).all(|w| w[0] < w[1]), "{rising:?}");
    }
}
