//! Concept shift (seed 002): the relation between inputs and classes moved. Measured as a
//! trained classifier's accuracy on a few labelled new samples against the accuracy it would
//! have if only the class priors had moved: its per-class accuracies on the reference,
//! weighted by the new priors (label shift alone changes the plain accuracy).

use serde::Serialize;

/// A classifier's accuracy on labelled new samples against its expected accuracy.
#[derive(Debug, Clone, Serialize)]
pub struct ConceptShift {
    /// Accuracy on the whole reference sample.
    pub reference_accuracy: f64,
    /// The reference's per-class accuracies weighted by the new priors.
    pub expected_accuracy: f64,
    /// Accuracy on the labelled new samples.
    pub new_accuracy: f64,
    /// Labelled new samples.
    pub labelled: usize,
    /// 95% interval of the drop (expected minus new), normal approximation.
    pub drop_interval: [f64; 2],
    /// Whether the drop's interval lies above 0.
    pub shifted: bool,
}

impl ConceptShift {
    /// From the predictions and true classes on the reference and on the labelled new samples,
    /// and the new class priors (e.g. BBSE's estimate).
    ///
    /// # Panics
    /// If either sample is empty or a class is beyond `priors`.
    pub fn measure(
        (ref_pred, ref_true): (&[u32], &[u32]),
        priors: &[f64],
        (new_pred, new_true): (&[u32], &[u32]),
    ) -> Self {
        assert!(!ref_pred.is_empty() && !new_pred.is_empty());
        let mut per_class = vec![(0usize, 0usize); priors.len()];
        for (&p, &t) in ref_pred.iter().zip(ref_true) {
            per_class[t as usize].0 += usize::from(p == t);
            per_class[t as usize].1 += 1;
        }
        let n_ref = ref_pred.len() as f64;
        let reference = per_class.iter().map(|c| c.0).sum::<usize>() as f64 / n_ref;
        let expected: f64 = priors
            .iter()
            .zip(&per_class)
            .filter(|(_, c)| c.1 > 0)
            .map(|(q, c)| q * c.0 as f64 / c.1 as f64)
            .sum();
        let k = new_pred.len();
        let right = new_pred
            .iter()
            .zip(new_true)
            .filter(|(p, t)| p == t)
            .count();
        let new = right as f64 / k as f64;
        let se = (expected * (1.0 - expected) / n_ref + new * (1.0 - new) / k as f64).sqrt();
        let drop = expected - new;
        Self {
            reference_accuracy: reference,
            expected_accuracy: expected,
            new_accuracy: new,
            labelled: k,
            drop_interval: [drop - 1.96 * se, drop + 1.96 * se],
            shifted: drop - 1.96 * se > 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_shift_alone_is_not_concept_shift_but_a_real_drop_is() {
        // Reference: class 0 always right, class 1 right half the time (accuracy 0.75).
        let ref_true: Vec<u32> = (0..400).map(|i| (i % 2) as u32).collect();
        let ref_pred: Vec<u32> = (0..400)
            .map(|i| if i % 4 == 3 { 0 } else { (i % 2) as u32 })
            .collect();
        // New data: 90% class 0, the same per-class accuracies -> plain accuracy 0.95.
        let new_true: Vec<u32> = (0..200).map(|i| u32::from(i % 10 == 0)).collect();
        let new_pred: Vec<u32> = new_true
            .iter()
            .enumerate()
            .map(|(i, &t)| if t == 1 && i % 20 == 0 { 0 } else { t })
            .collect();
        let c = ConceptShift::measure((&ref_pred, &ref_true), &[0.9, 0.1], (&new_pred, &new_true));
        assert_eq!(c.reference_accuracy, 0.75);
        assert!((c.expected_accuracy - 0.95).abs() < 1e-12, "{c:?}");
        assert!((c.new_accuracy - 0.95).abs() < 1e-12);
        assert!(!c.shifted);
        // The same priors but every class-1 sample now wrong and a tenth of class 0 too.
        let worse: Vec<u32> = new_true
            .iter()
            .enumerate()
            .map(|(i, &t)| if t == 1 || i % 10 == 1 { 1 - t } else { t })
            .collect();
        let c = ConceptShift::measure((&ref_pred, &ref_true), &[0.9, 0.1], (&worse, &new_true));
        assert!(c.shifted && c.drop_interval[0] > 0.0, "{c:?}");
    }
}
