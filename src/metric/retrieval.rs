//! Retrieval and verification metrics of an embedding (SPEC M3): recall@k, mean average
//! precision, and the equal error rate of same / different decisions by a distance threshold.
//! Each sample of the set is a query against all the others (leave-one-out).

use rayon::prelude::*;

/// Squared Euclidean distances from row `q` to every row of `x` (`d` features per row).
fn distances_from(x: &[f32], d: usize, q: usize) -> Vec<f32> {
    let query = &x[q * d..(q + 1) * d];
    x.chunks(d)
        .map(|r| r.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum())
        .collect()
}

/// The other samples ordered from nearest to farthest (ties by index).
fn ranking(x: &[f32], d: usize, q: usize) -> Vec<usize> {
    let dist = distances_from(x, d, q);
    let mut order: Vec<usize> = (0..dist.len()).filter(|&i| i != q).collect();
    order.sort_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(a.cmp(&b)));
    order
}

/// Share of queries with at least one same-label sample among their `k` nearest others.
pub fn recall_at_k(x: &[f32], d: usize, labels: &[u32], k: usize) -> f64 {
    let hits = (0..labels.len())
        .into_par_iter()
        .filter(|&q| {
            ranking(x, d, q)
                .iter()
                .take(k)
                .any(|&i| labels[i] == labels[q])
        })
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// Mean over queries of the average precision of the ranking of all other samples (queries
/// without any same-label sample are left out).
pub fn mean_average_precision(x: &[f32], d: usize, labels: &[u32]) -> f64 {
    let per_query: Vec<Option<f64>> = (0..labels.len())
        .into_par_iter()
        .map(|q| {
            let (mut hits, mut sum) = (0usize, 0.0f64);
            for (rank, &i) in ranking(x, d, q).iter().enumerate() {
                if labels[i] == labels[q] {
                    hits += 1;
                    sum += hits as f64 / (rank + 1) as f64;
                }
            }
            (hits > 0).then(|| sum / hits as f64)
        })
        .collect();
    let scored: Vec<f64> = per_query.into_iter().flatten().collect();
    scored.iter().sum::<f64>() / scored.len().max(1) as f64
}

/// Every pair `i < j` as (squared distance, same label), sorted by distance, with the counts of
/// same-label and different-label pairs.
fn verification_pairs(x: &[f32], d: usize, labels: &[u32]) -> (Vec<(f32, bool)>, usize, usize) {
    let n = labels.len();
    let mut pairs: Vec<(f32, bool)> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for q in 0..n {
        let dist = distances_from(x, d, q);
        for j in q + 1..n {
            pairs.push((dist[j], labels[q] == labels[j]));
        }
    }
    let same = pairs.iter().filter(|p| p.1).count();
    let diff = pairs.len() - same;
    pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    (pairs, same, diff)
}

/// Equal error rate of verification: pairs are called "same" when their distance is at most a
/// threshold; the rate where false accepts (different pairs called same) equal false rejects
/// (same pairs called different), interpolated between the thresholds that bracket it. `NaN`
/// without same-label or different-label pairs. See [`roc_curve`], which also gives it.
pub fn equal_error_rate(x: &[f32], d: usize, labels: &[u32]) -> f64 {
    roc_curve(x, d, labels).map_or(f64::NAN, |r| r.eer)
}

/// The verification ROC: true accept rate against false accept rate as the distance threshold
/// rises, and the area under it.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// `[false accept rate, true accept rate]` from `[0, 0]` to `[1, 1]` (at most about
    /// [`ROC_POINTS`] points, for plotting).
    pub points: Vec<[f64; 2]>,
    /// Area under the full curve (the probability that a same-label pair is nearer than a
    /// different-label pair, ties counting half).
    pub auc: f64,
    /// Equal error rate: where the false accept rate meets the false reject rate
    /// (`1 - true accept rate`), interpolated along the curve.
    pub eer: f64,
}

/// Points kept on a [`RocCurve`].
pub const ROC_POINTS: usize = 1000;

/// The ROC of same / different decisions by distance over every pair; `None` when the set has
/// no same-label or no different-label pair.
pub fn roc_curve(x: &[f32], d: usize, labels: &[u32]) -> Option<RocCurve> {
    let (pairs, same, diff) = verification_pairs(x, d, labels);
    if same == 0 || diff == 0 {
        return None;
    }
    let step = (pairs.len() / ROC_POINTS).max(1);
    let mut points = vec![[0.0, 0.0]];
    let (mut tp, mut fp, mut area) = (0usize, 0usize, 0.0f64);
    let mut eer = None;
    let mut i = 0;
    while i < pairs.len() {
        // Pairs at one distance move both rates together (a diagonal step).
        let mut j = i;
        let (mut dtp, mut dfp) = (0usize, 0usize);
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            if pairs[j].1 {
                dtp += 1;
            } else {
                dfp += 1;
            }
            j += 1;
        }
        area += dfp as f64 * (tp as f64 + dtp as f64 / 2.0);
        let (far0, frr0) = (fp as f64 / diff as f64, 1.0 - tp as f64 / same as f64);
        tp += dtp;
        fp += dfp;
        let (far1, frr1) = (fp as f64 / diff as f64, 1.0 - tp as f64 / same as f64);
        if eer.is_none() && far1 >= frr1 {
            // A block of tied pairs moves both rates along one straight segment: the rates
            // meet where far0 + t (far1 - far0) = frr0 + t (frr1 - frr0).
            let (a, b) = (frr0 - far0, frr1 - far1); // a > 0 >= b
            let t = if a - b > 0.0 { a / (a - b) } else { 0.0 };
            eer = Some(far0 + t * (far1 - far0));
        }
        if j / step != i / step || j == pairs.len() {
            points.push([fp as f64 / diff as f64, tp as f64 / same as f64]);
        }
        i = j;
    }
    Some(RocCurve {
        points,
        auc: area / (same as f64 * diff as f64),
        eer: eer.unwrap_or(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_clustered_embeddings_score_perfectly() {
        let x = [0.0, 0.1, 0.2, 5.0, 5.1, 5.2];
        let labels = [0, 0, 0, 1, 1, 1];
        assert_eq!(recall_at_k(&x, 1, &labels, 1), 1.0);
        assert_eq!(mean_average_precision(&x, 1, &labels), 1.0);
        assert_eq!(equal_error_rate(&x, 1, &labels), 0.0);
    }

    #[test]
    fn hand_computed_ranking_metrics() {
        // Points 0, 1, 2, 3 with labels a, b, a, b: every nearest neighbour has the other label.
        let x = [0.0, 1.0, 2.0, 3.0];
        let labels = [0, 1, 0, 1];
        assert_eq!(recall_at_k(&x, 1, &labels, 1), 0.0);
        // k = 2: queries 0 and 3 reach a same-label sample, 1 and 2 (whose two nearest are
        // both of the other label) do not.
        assert_eq!(recall_at_k(&x, 1, &labels, 2), 0.5);
        // Query 0: ranking 1 (b), 2 (a), 3 (b): AP = 1/2. Query 1: ranking 0, 2 (d 1, tie by
        // index), 3 (d 2): the hit is at rank 3 -> 1/3. Query 2: 1, 3 (d 1), 0 (d 2): hit at 3
        // -> 1/3. Query 3: 2 (d 1), 1 (d 2): hit at 2 -> 1/2. Mean 5/12.
        assert!((mean_average_precision(&x, 1, &labels) - 5.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn equal_error_rate_where_the_rates_cross() {
        // Labels [0, 0, 1, 1] on [0, 1, 3, 4]: every same pair is nearer than every different one.
        assert_eq!(
            equal_error_rate(&[0.0, 1.0, 3.0, 4.0], 1, &[0, 0, 1, 1]),
            0.0
        );
        // Labels [0, 1, 0, 1] on [0, 1, 2, 3], squared distances: different pairs 1, 1, 1, 9,
        // same pairs 4, 4. Below 4 the threshold accepts 3 of 4 different pairs and no same
        // pair (FAR 0.75, FRR 1); at 4 it accepts both same pairs (FAR 0.75, FRR 0): the rates
        // meet at 0.75.
        let eer = equal_error_rate(&[0.0, 1.0, 2.0, 3.0], 1, &[0, 1, 0, 1]);
        assert!((eer - 0.75).abs() < 1e-12, "{eer}");
    }

    #[test]
    fn roc_by_hand() {
        // The last example: different pairs at squared distances 1, 1, 1, 9; same pairs at 4, 4.
        // Each same pair is nearer than one different pair (the 9) and farther than three:
        // AUC = 1/4. The curve rises from (0, 0) through (0.75, 0) and (0.75, 1) to (1, 1).
        let roc = roc_curve(&[0.0, 1.0, 2.0, 3.0], 1, &[0, 1, 0, 1]).unwrap();
        assert!((roc.auc - 0.25).abs() < 1e-12, "{roc:?}");
        assert_eq!(
            roc.points,
            vec![[0.0, 0.0], [0.75, 0.0], [0.75, 1.0], [1.0, 1.0]]
        );
        let perfect = roc_curve(&[0.0, 1.0, 3.0, 4.0], 1, &[0, 0, 1, 1]).unwrap();
        assert_eq!(perfect.auc, 1.0);
        // All at one point (a collapsed embedding): every pair ties, the curve is the
        // diagonal, AUC and EER 1/2.
        let tie = roc_curve(&[0.0; 4], 1, &[0, 1, 0, 1]).unwrap();
        assert_eq!((tie.auc, tie.eer, tie.points.len()), (0.5, 0.5, 2));
        assert_eq!(equal_error_rate(&[0.0; 4], 1, &[0, 1, 0, 1]), 0.5);
        assert!(roc_curve(&[0.0, 1.0], 1, &[0, 0]).is_none());
    }
}
