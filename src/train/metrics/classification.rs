//! Classification metrics from a confusion matrix: accuracy, per-class and macro
//! precision / recall / F1.

use serde::{Deserialize, Serialize};

/// Counts of (true class, predicted class) pairs.
///
/// Row `t`, column `p` holds how many samples of true class `t` were predicted as `p`.
/// Per-class metrics follow scikit-learn with `zero_division=0`: a ratio whose
/// denominator is zero (a class never predicted, or never present) is 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    num_classes: usize,
    /// Row-major `num_classes * num_classes` counts; row = true class, column = predicted.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `num_classes` classes.
    pub fn new(num_classes: usize) -> Self {
        Self {
            num_classes,
            counts: vec![0; num_classes * num_classes],
        }
    }

    /// Counts the pairs `(truth[i], pred[i])`.
    ///
    /// # Panics
    /// If the slices differ in length or a label is not below `num_classes`; both are
    /// caller bugs (labels are validated when a dataset is loaded, predictions come from
    /// an arg-max over `num_classes` outputs).
    pub fn from_predictions(truth: &[u32], pred: &[u32], num_classes: usize) -> Self {
        let mut cm = Self::new(num_classes);
        cm.record(truth, pred);
        cm
    }

    /// Adds the pairs `(truth[i], pred[i])` to the counts, e.g. batch after batch.
    ///
    /// # Panics
    /// As [`ConfusionMatrix::from_predictions`].
    pub fn record(&mut self, truth: &[u32], pred: &[u32]) {
        assert_eq!(
            truth.len(),
            pred.len(),
            "confusion matrix: {} true labels but {} predictions",
            truth.len(),
            pred.len()
        );
        let n = self.num_classes;
        for (&t, &p) in truth.iter().zip(pred) {
            let (t, p) = (t as usize, p as usize);
            assert!(
                t < n && p < n,
                "confusion matrix: label pair (true {t}, predicted {p}) out of range for {n} classes"
            );
            self.counts[t * n + p] += 1;
        }
    }

    /// Number of classes (rows and columns).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// How many samples of class `truth` were predicted as `pred`.
    ///
    /// # Panics
    /// If either index is not below [`num_classes`](Self::num_classes).
    pub fn count(&self, truth: usize, pred: usize) -> u64 {
        assert!(truth < self.num_classes && pred < self.num_classes);
        self.counts[truth * self.num_classes + pred]
    }

    /// Total number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Fraction of samples whose prediction equals the truth; 0 when empty.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.num_classes).map(|c| self.count(c, c)).sum();
        ratio(correct, self.total())
    }

    /// Precision of class `c`: of the samples predicted `c`, the fraction that are `c`.
    ///
    /// ```text
    /// precision(c) = TP / (TP + FP) = counts[c][c] / sum_t counts[t][c]   (0 if no prediction is c)
    /// ```
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.count(c, c), self.predicted(c))
    }

    /// Recall of class `c`: of the samples of class `c`, the fraction predicted `c`.
    ///
    /// ```text
    /// recall(c) = TP / (TP + FN) = counts[c][c] / sum_p counts[c][p]   (0 if no sample is c)
    /// ```
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.count(c, c), self.actual(c))
    }

    /// F1 score of class `c`, the harmonic mean of precision and recall.
    ///
    /// ```text
    /// f1(c) = 2 TP / (2 TP + FP + FN)   (0 if TP + FP + FN = 0)
    /// ```
    pub fn f1(&self, c: usize) -> f64 {
        let tp = self.count(c, c);
        let fp = self.predicted(c) - tp;
        let fn_ = self.actual(c) - tp;
        ratio(2 * tp, 2 * tp + fp + fn_)
    }

    /// Unweighted mean of [`precision`](Self::precision) over the classes that occur.
    ///
    /// Like scikit-learn's `average="macro"` without an explicit `labels` list, a class
    /// that appears neither in the truth nor in the predictions is left out of the mean.
    pub fn macro_precision(&self) -> f64 {
        self.macro_mean(|c| self.precision(c))
    }

    /// Unweighted mean of [`recall`](Self::recall) over the classes that occur.
    pub fn macro_recall(&self) -> f64 {
        self.macro_mean(|c| self.recall(c))
    }

    /// Unweighted mean of [`f1`](Self::f1) over the classes that occur.
    pub fn macro_f1(&self) -> f64 {
        self.macro_mean(|c| self.f1(c))
    }

    /// Samples predicted as `c` (column sum).
    fn predicted(&self, c: usize) -> u64 {
        (0..self.num_classes).map(|t| self.count(t, c)).sum()
    }

    /// Samples whose true class is `c` (row sum).
    fn actual(&self, c: usize) -> u64 {
        (0..self.num_classes).map(|p| self.count(c, p)).sum()
    }

    fn macro_mean(&self, metric: impl Fn(usize) -> f64) -> f64 {
        let present: Vec<usize> = (0..self.num_classes)
            .filter(|&c| self.actual(c) + self.predicted(c) > 0)
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&c| metric(c)).sum::<f64>() / present.len() as f64
    }
}

/// `num / den`, or 0 when `den` is 0 (scikit-learn's `zero_division=0`).
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// The example of scikit-learn's `precision_recall_fscore_support` docs:
    ///
    /// ```text
    /// y_true = [0, 1, 2, 0, 1, 2]; y_pred = [0, 2, 1, 0, 0, 1]
    /// class 0: TP 2, FP 1, FN 0 -> p 2/3, r 1, f1 4/5
    /// classes 1, 2: TP 0 -> p = r = f1 = 0
    /// precision_score(average="macro") = 2/9 = 0.2222..
    /// recall_score(average="macro")    = 1/3
    /// f1_score(average="macro")        = 4/15 = 0.2666..
    /// accuracy_score                   = 2/6
    /// ```
    #[test]
    fn matches_sklearn_example() {
        let cm = ConfusionMatrix::from_predictions(&[0, 1, 2, 0, 1, 2], &[0, 2, 1, 0, 0, 1], 3);
        assert_eq!(cm.count(0, 0), 2);
        assert_eq!(cm.count(1, 0), 1);
        assert_eq!(cm.count(1, 2), 1);
        assert_eq!(cm.count(2, 1), 2);
        assert_eq!(cm.total(), 6);
        assert!(close(cm.accuracy(), 2.0 / 6.0));
        assert!(close(cm.precision(0), 2.0 / 3.0));
        assert!(close(cm.recall(0), 1.0));
        assert!(close(cm.f1(0), 0.8));
        assert!(close(cm.precision(1), 0.0));
        assert!(close(cm.macro_precision(), 2.0 / 9.0));
        assert!(close(cm.macro_recall(), 1.0 / 3.0));
        assert!(close(cm.macro_f1(), 4.0 / 15.0));
    }

    /// A class never predicted has precision 0 (not NaN); with `zero_division=0`
    /// scikit-learn gives, for y_true = [0, 0, 1, 1], y_pred = [0, 0, 0, 0]:
    ///
    /// ```text
    /// precision = [0.5, 0.0], recall = [1.0, 0.0], f1 = [2/3, 0.0]
    /// ```
    #[test]
    fn never_predicted_class_scores_zero() {
        let cm = ConfusionMatrix::from_predictions(&[0, 0, 1, 1], &[0, 0, 0, 0], 2);
        assert!(close(cm.precision(0), 0.5));
        assert!(close(cm.precision(1), 0.0));
        assert!(close(cm.recall(1), 0.0));
        assert!(close(cm.f1(0), 2.0 / 3.0));
        assert!(close(cm.macro_precision(), 0.25));
    }

    /// Classes absent from both truth and predictions do not dilute macro averages.
    #[test]
    fn absent_classes_are_left_out_of_macro_means() {
        let cm = ConfusionMatrix::from_predictions(&[0, 1, 1], &[0, 1, 1], 5);
        assert!(close(cm.macro_f1(), 1.0));
        assert!(close(cm.macro_recall(), 1.0));
    }

    #[test]
    fn record_accumulates_batches() {
        let mut cm = ConfusionMatrix::new(3);
        cm.record(&[0, 1], &[0, 2]);
        cm.record(&[2, 0, 1], &[1, 0, 0]);
        let whole = ConfusionMatrix::from_predictions(&[0, 1, 2, 0, 1], &[0, 2, 1, 0, 0], 3);
        assert_eq!(cm, whole);
    }

    #[test]
    fn empty_matrix_scores_zero() {
        let cm = ConfusionMatrix::new(2);
        assert_eq!(cm.accuracy(), 0.0);
        assert_eq!(cm.macro_f1(), 0.0);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn label_out_of_range_panics() {
        ConfusionMatrix::from_predictions(&[0, 3], &[0, 1], 3);
    }
}
