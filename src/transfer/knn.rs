//! Nearest-neighbour classification on fixed features (the simplest use of an embedding).

use rayon::prelude::*;

/// For each row of `query`, the majority label of its `k` nearest rows of `reference` (squared
/// Euclidean distance; ties between labels go to the nearer neighbour). `d` features per row.
pub fn knn_predict(
    reference: &[f32],
    labels: &[u32],
    query: &[f32],
    d: usize,
    k: usize,
) -> Vec<u32> {
    assert_eq!(
        reference.len(),
        labels.len() * d,
        "knn: features and labels disagree"
    );
    let k = k.clamp(1, labels.len());
    query
        .par_chunks(d)
        .map(|q| {
            let mut dist: Vec<(f32, u32)> = reference
                .chunks(d)
                .zip(labels)
                .map(|(r, &l)| (r.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum(), l))
                .collect();
            dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            let mut near = dist[..k].to_vec();
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Votes, then the first (nearest) label among the most voted.
            let votes = |l: u32| near.iter().filter(|(_, m)| *m == l).count();
            let top = near.iter().map(|(_, l)| votes(*l)).max().unwrap_or(0);
            near.iter()
                .find(|(_, l)| votes(*l) == top)
                .map_or(0, |(_, l)| *l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_and_majority_votes() {
        let reference = [0.0, 0.0, 1.0, 0.0, 10.0, 10.0, 11.0, 10.0, 10.0, 11.0];
        let labels = [0, 0, 1, 1, 2];
        let query = [0.2, 0.1, 10.4, 10.6];
        assert_eq!(knn_predict(&reference, &labels, &query, 2, 1), vec![0, 2]);
        // k = 3 around (10.4, 10.6): labels 1, 2, 1 -> 1.
        assert_eq!(knn_predict(&reference, &labels, &query, 2, 3), vec![0, 1]);
    }
}
