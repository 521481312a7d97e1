//! Area under the ROC curve for a binary problem.

/// Area under the ROC curve of `scores` for the labels `positives`.
///
/// Computed as the Mann-Whitney U statistic: the probability that a random positive
/// scores higher than a random negative, ties counting one half. Tied scores share the
/// mean of the ranks they span, which gives the same value as scikit-learn's
/// `roc_auc_score` (trapezoids through tied thresholds).
///
/// ```text
/// rank scores ascending, ties get their average rank
/// R+  = sum of the ranks of the positives
/// AUC = (R+ - n+ (n+ + 1) / 2) / (n+ n-)
/// ```
///
/// Returns `None` when only one class is present (the AUC is undefined) or a score is
/// NaN.
///
/// # Panics
/// If `scores` and `positives` differ in length.
pub fn roc_auc(scores: &[f32], positives: &[bool]) -> Option<f64> {
    assert_eq!(
        scores.len(),
        positives.len(),
        "roc_auc: {} scores but {} labels",
        scores.len(),
        positives.len()
    );
    let n_pos = positives.iter().filter(|&&p| p).count();
    let n_neg = positives.len() - n_pos;
    if n_pos == 0 || n_neg == 0 || scores.iter().any(|s| s.is_nan()) {
        return None;
    }

    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    let mut rank_sum_pos = 0.0;
    let mut start = 0;
    while start < order.len() {
        // [start, end) is a run of equal scores occupying ranks start+1 ..= end.
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_run = order[start..end].iter().filter(|&&i| positives[i]).count();
        rank_sum_pos += mean_rank * pos_in_run as f64;
        start = end;
    }

    let (n_pos, n_neg) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition: over all (positive, negative) pairs, 1 if the positive scores
    /// higher, 1/2 on a tie.
    fn pairwise_auc(scores: &[f32], positives: &[bool]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &p) in positives.iter().enumerate() {
            for (j, &q) in positives.iter().enumerate() {
                if p && !q {
                    pairs += 1.0;
                    if scores[i] > scores[j] {
                        wins += 1.0;
                    } else if scores[i] == scores[j] {
                        wins += 0.5;
                    }
                }
            }
        }
        wins / pairs
    }

    /// scikit-learn's docs example:
    /// `roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75`
    /// (pairs: 0.35>0.1 yes, 0.35>0.4 no, 0.8 beats both -> 3/4).
    #[test]
    fn sklearn_docs_example() {
        let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((auc - 0.75).abs() < 1e-12);
    }

    /// Ties count one half:
    ///
    /// ```text
    /// positives {0.5, 0.9}, negatives {0.5, 0.2}
    /// 0.5 vs 0.5 -> 1/2, 0.5 vs 0.2 -> 1, 0.9 vs both -> 2   => 3.5 / 4 = 0.875
    /// ranks: 0.2 -> 1, 0.5, 0.5 -> 2.5 each, 0.9 -> 4; R+ = 6.5; (6.5 - 3) / 4 = 0.875
    /// roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875
    /// ```
    #[test]
    fn ties_count_half() {
        let auc = roc_auc(&[0.5, 0.5, 0.2, 0.9], &[false, true, false, true]).unwrap();
        assert!((auc - 0.875).abs() < 1e-12);
    }

    #[test]
    fn all_scores_equal_is_one_half() {
        let auc = roc_auc(&[0.3; 5], &[true, false, true, false, false]).unwrap();
        assert!((auc - 0.5).abs() < 1e-12);
    }

    #[test]
    fn perfect_and_reversed_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
    }

    #[test]
    fn one_class_or_nan_is_undefined() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_auc(&[0.1, f32::NAN], &[true, false]), None);
    }

    /// Against the pairwise definition on coarse (hence heavily tied) scores.
    #[test]
    fn matches_pairwise_definition_with_many_ties() {
        let mut state = 12345u32;
        let mut next = || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            state >> 16
        };
        let scores: Vec<f32> = (0..200).map(|_| (next() % 7) as f32 / 7.0).collect();
        let labels: Vec<bool> = scores
            .iter()
            .map(|&s| (next() % 100) as f32 / 100.0 < 0.3 + 0.4 * s)
            .collect();
        let auc = roc_auc(&scores, &labels).unwrap();
        assert!((auc - pairwise_auc(&scores, &labels)).abs() < 1e-12);
    }
}
