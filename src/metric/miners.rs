//! Miners: which pairs and triplets of a batch a loss looks at, chosen on detached distances
//! `[batch * batch]` (row-major) and the batch's labels.

/// Index pairs of a batch: same-label (positive) and different-label (negative) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs {
    /// `(i, j)`, `i < j`, same label.
    pub positive: Vec<(usize, usize)>,
    /// `(i, j)`, `i < j`, different labels.
    pub negative: Vec<(usize, usize)>,
}

/// Anchor, positive (same label) and negative (another label) indices.
pub type Triplet = (usize, usize, usize);

/// Every pair of distinct samples, split by whether their labels agree.
pub fn all_pairs(labels: &[u32]) -> Pairs {
    let mut pairs = Pairs::default();
    for i in 0..labels.len() {
        for j in i + 1..labels.len() {
            if labels[i] == labels[j] {
                pairs.positive.push((i, j));
            } else {
                pairs.negative.push((i, j));
            }
        }
    }
    pairs
}

/// Every valid triplet `(a, p, n)`: `p != a` with `a`'s label, `n` with another.
pub fn all_triplets(labels: &[u32]) -> Vec<Triplet> {
    let n = labels.len();
    let mut out = Vec::new();
    for a in 0..n {
        for p in (0..n).filter(|&p| p != a && labels[p] == labels[a]) {
            for m in (0..n).filter(|&m| labels[m] != labels[a]) {
                out.push((a, p, m));
            }
        }
    }
    out
}

/// Batch-hard mining (Hermans et al. 2017): for each anchor, its farthest positive and its
/// nearest negative. Anchors without a positive or a negative are skipped.
pub fn batch_hard(dist: &[f32], labels: &[u32]) -> Vec<Triplet> {
    let n = labels.len();
    assert_eq!(
        dist.len(),
        n * n,
        "batch_hard: distances are not [batch, batch]"
    );
    let mut out = Vec::new();
    for a in 0..n {
        let row = &dist[a * n..(a + 1) * n];
        let p = (0..n)
            .filter(|&p| p != a && labels[p] == labels[a])
            .max_by(|&x, &y| row[x].total_cmp(&row[y]));
        let m = (0..n)
            .filter(|&m| labels[m] != labels[a])
            .min_by(|&x, &y| row[x].total_cmp(&row[y]));
        if let (Some(p), Some(m)) = (p, m) {
            out.push((a, p, m));
        }
    }
    out
}

/// Semi-hard mining (Schroff et al. 2015, FaceNet): for each positive pair `(a, p)`, the nearest
/// negative that is still farther than the positive but inside the margin,
/// `d(a,p) < d(a,n) < d(a,p) + margin`. Pairs without such a negative are skipped.
pub fn semi_hard(dist: &[f32], labels: &[u32], margin: f32) -> Vec<Triplet> {
    let n = labels.len();
    assert_eq!(
        dist.len(),
        n * n,
        "semi_hard: distances are not [batch, batch]"
    );
    let mut out = Vec::new();
    for a in 0..n {
        let row = &dist[a * n..(a + 1) * n];
        for p in (0..n).filter(|&p| p != a && labels[p] == labels[a]) {
            let d_ap = row[p];
            let m = (0..n)
                .filter(|&m| labels[m] != labels[a] && row[m] > d_ap && row[m] < d_ap + margin)
                .min_by(|&x, &y| row[x].total_cmp(&row[y]));
            if let Some(m) = m {
                out.push((a, p, m));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Four points on a line at 0, 1, 3, 6; labels 0, 0, 1, 1. Distances |x_i - x_j|.
    const X: [f32; 4] = [0.0, 1.0, 3.0, 6.0];
    const LABELS: [u32; 4] = [0, 0, 1, 1];

    fn dist() -> Vec<f32> {
        X.iter()
            .flat_map(|a| X.iter().map(move |b| (a - b).abs()))
            .collect()
    }

    #[test]
    fn all_pairs_and_triplets_are_complete() {
        let p = all_pairs(&LABELS);
        assert_eq!(p.positive, vec![(0, 1), (2, 3)]);
        assert_eq!(p.negative, vec![(0, 2), (0, 3), (1, 2), (1, 3)]);
        let t = all_triplets(&LABELS);
        assert_eq!(t.len(), 4 * 2); // each anchor: 1 positive x 2 negatives
        assert!(t.contains(&(3, 2, 1)));
    }

    #[test]
    fn batch_hard_takes_the_farthest_positive_and_nearest_negative() {
        // Anchor 0: positive 1; negatives at 3 and 6 -> 2. Anchor 2: positive 3 (d 3),
        // negatives 0 (d 3) and 1 (d 2) -> 1. Anchor 3: positive 2, nearest negative 1 (d 5).
        assert_eq!(
            batch_hard(&dist(), &LABELS),
            vec![(0, 1, 2), (1, 0, 2), (2, 3, 1), (3, 2, 1)]
        );
    }

    #[test]
    fn semi_hard_keeps_negatives_inside_the_margin_only() {
        // (a=0, p=1): d_ap 1; negatives d 3 and 6: with margin 2.5, only 3 (< 3.5) qualifies.
        // (a=1, p=0): d_ap 1; negatives d 2 and 5: 2 qualifies. (a=2, p=3): d_ap 3; negatives
        // d 3 (not > 3) and 2: none. (a=3, p=2): d_ap 3; negatives d 6 and 5: 5 (< 5.5).
        assert_eq!(
            semi_hard(&dist(), &LABELS, 2.5),
            vec![(0, 1, 2), (1, 0, 2), (3, 2, 1)]
        );
    }
}
