//! Label (target) shift: black-box shift estimation (BBSE; Lipton, Wang & Smola 2018). A
//! classifier's confusion matrix on labelled reference data, `C[i][j] = P(ŷ = i, y = j)`, and
//! the distribution of its predictions on the new data, `μ[i] = P'(ŷ = i)`, give the weights
//! `w = q / p` of the new class priors `q` over the reference priors `p` from `C w = μ`, as
//! long as only the priors moved (`P(x | y)` is the same in both).

use nalgebra::{DMatrix, DVector};

/// The new data's class priors estimated by BBSE.
///
/// `reference_pred` and `reference_true` are the classifier's predictions and the true classes
/// of the labelled reference samples; `new_pred` its predictions on the new samples; `classes`
/// the class count. The weights are solved by least squares, clipped at 0, and the priors
/// renormalised to sum to 1.
///
/// # Panics
/// If the reference slices differ in length, either sample is empty, or a class is out of
/// range.
pub fn bbse_priors(
    reference_pred: &[u32],
    reference_true: &[u32],
    new_pred: &[u32],
    classes: usize,
) -> Vec<f64> {
    assert_eq!(reference_pred.len(), reference_true.len());
    assert!(!reference_pred.is_empty() && !new_pred.is_empty());
    let n = reference_pred.len() as f64;
    let mut joint = DMatrix::<f64>::zeros(classes, classes);
    let mut prior = vec![0.0; classes];
    for (&p, &t) in reference_pred.iter().zip(reference_true) {
        joint[(p as usize, t as usize)] += 1.0 / n;
        prior[t as usize] += 1.0 / n;
    }
    let mut mu = DVector::<f64>::zeros(classes);
    for &p in new_pred {
        mu[p as usize] += 1.0 / new_pred.len() as f64;
    }
    let weights = joint
        .svd(true, true)
        .solve(&mu, 1e-12)
        .expect("the SVD holds both factors");
    let q: Vec<f64> = (0..classes)
        .map(|c| (weights[c] * prior[c]).max(0.0))
        .collect();
    let total: f64 = q.iter().sum();
    match total > 0.0 {
        true => q.iter().map(|v| v / total).collect(),
        false => prior,
    }
}

/// Class shares of `labels` over `classes` classes.
pub fn class_priors(labels: &[u32], classes: usize) -> Vec<f64> {
    let mut p = vec![0.0; classes];
    for &l in labels {
        p[l as usize] += 1.0 / labels.len().max(1) as f64;
    }
    p
}

/// Indices into `labels` of the largest sample whose class shares are `priors` (drawn
/// without replacement, seeded), at most `limit` long: the label-shift experiment's new data.
/// `None` when a class with a positive prior has no sample.
pub fn resample_to_priors(
    labels: &[u32],
    priors: &[f64],
    limit: usize,
    seed: u64,
) -> Option<Vec<usize>> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); priors.len()];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(members) = by_class.get_mut(l as usize) {
            members.push(i);
        }
    }
    let total: f64 = priors.iter().sum();
    let size = priors
        .iter()
        .zip(&by_class)
        .filter(|(q, _)| **q > 0.0)
        .map(|(q, m)| m.len() as f64 / (q / total))
        .fold(limit as f64, f64::min)
        .floor() as usize;
    if size == 0 {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(size);
    for (q, members) in priors.iter().zip(by_class.iter_mut()) {
        let take = ((q / total) * size as f64).round() as usize;
        members.shuffle(&mut rng);
        out.extend_from_slice(&members[..take.min(members.len())]);
    }
    out.shuffle(&mut rng);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A classifier that is right with probability `acc` and otherwise says the next class.
    fn predict(truth: &[u32], acc: f64, classes: u32, rng: &mut impl Rng) -> Vec<u32> {
        truth
            .iter()
            .map(|&t| match rng.random::<f64>() < acc {
                true => t,
                false => (t + 1) % classes,
            })
            .collect()
    }

    #[test]
    fn bbse_recovers_shifted_priors_that_raw_prediction_shares_miss() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let reference: Vec<u32> = (0..30_000).map(|i| (i % 3) as u32).collect();
        let q = [0.6, 0.3, 0.1];
        let new: Vec<u32> = (0..30_000)
            .map(|_| {
                let u = rng.random::<f64>();
                if u < q[0] {
                    0
                } else if u < q[0] + q[1] {
                    1
                } else {
                    2
                }
            })
            .collect();
        let ref_pred = predict(&reference, 0.7, 3, &mut rng);
        let new_pred = predict(&new, 0.7, 3, &mut rng);
        let est = bbse_priors(&ref_pred, &reference, &new_pred, 3);
        let naive = class_priors(&new_pred, 3);
        for c in 0..3 {
            assert!((est[c] - q[c]).abs() < 0.02, "{est:?} vs {q:?}");
        }
        // The raw shares of class 2 take in class 1's errors: 0.7 · 0.1 + 0.3 · 0.3 = 0.16.
        assert!((naive[2] - 0.16).abs() < 0.01, "{naive:?}");
        assert!((est.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn resampling_meets_the_priors_and_never_repeats_a_sample() {
        let labels: Vec<u32> = (0..1000).map(|i| (i % 4) as u32).collect();
        let priors = [0.5, 0.25, 0.125, 0.125];
        let idx = resample_to_priors(&labels, &priors, 10_000, 1).unwrap();
        // Class 0 has 250 samples: at 0.5 the sample holds 500 (give or take the rounding of
        // each class's count).
        assert!(idx.len().abs_diff(500) <= 2, "{}", idx.len());
        let got = class_priors(&idx.iter().map(|&i| labels[i]).collect::<Vec<_>>(), 4);
        for (g, p) in got.iter().zip(&priors) {
            assert!((g - p).abs() < 0.01, "{got:?}");
        }
        let mut sorted = idx.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), idx.len());
        assert!(resample_to_priors(&[0, 0, 0], &[0.5, 0.5], 10, 1).is_none());
    }
}
