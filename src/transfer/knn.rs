//! Nearest-neighbour classification on fixed features (the simplest use of an embedding).

use rayon::prelude::*;

use crate::kernels::gemm::{MatRef, matmul};

/// Queries handled per matrix product.
const QUERY_CHUNK: usize = 128;

/// For each row of `query`, the majority label of its `k` nearest rows of `reference` (squared
/// Euclidean distance; ties between labels go to the nearer neighbour). `d` features per row.
/// The neighbours come from [`nearest_references`], whose blocked matrix products make
/// 10,000 queries against 60,000 references of 784 pixels take seconds rather than minutes.
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
    let k = k.clamp(1, labels.len().max(1));
    vote_neighbours(&nearest_references(reference, query, d, k), labels)
}

/// The majority label of each list of neighbours (ties to the nearer one); 0 for an empty list.
pub fn vote_neighbours(found: &[Vec<(usize, f32)>], labels: &[u32]) -> Vec<u32> {
    found
        .iter()
        .map(|near| {
            let votes: Vec<(f32, u32)> = near.iter().map(|&(j, d2)| (d2, labels[j])).collect();
            let k = votes.len();
            if k == 0 { 0 } else { vote(votes, k) }
        })
        .collect()
}

/// For each row of `query`, its `k` nearest rows of `reference` (index and squared Euclidean
/// distance, nearest first): the exact answer for queries outside the reference set.
///
/// ```text
/// |q - r|^2 = |q|^2 - 2 q.r + |r|^2
/// ```
/// The products `q.r` for a block of queries are one matrix product.
pub fn nearest_references(
    reference: &[f32],
    query: &[f32],
    d: usize,
    k: usize,
) -> Vec<Vec<(usize, f32)>> {
    let n = reference.len() / d.max(1);
    let k = k.min(n);
    let norms: Vec<f32> = reference
        .chunks(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let references = MatRef::new(reference, n, d).t();
    query
        .par_chunks(QUERY_CHUNK * d)
        .flat_map_iter(|block| {
            let m = block.len() / d;
            let mut dots = vec![0.0f32; m * n];
            matmul(&mut dots, MatRef::new(block, m, d), references, false);
            let norms = &norms;
            (0..m)
                .map(|i| {
                    let q2: f32 = block[i * d..(i + 1) * d].iter().map(|v| v * v).sum();
                    let row = &dots[i * n..(i + 1) * n];
                    let mut dist: Vec<(usize, f32)> = row
                        .iter()
                        .zip(norms)
                        .enumerate()
                        .map(|(j, (dot, r2))| (j, (q2 + r2 - 2.0 * dot).max(0.0)))
                        .collect();
                    if k > 0 && k < dist.len() {
                        dist.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
                    }
                    let mut near = dist[..k].to_vec();
                    near.sort_by(|a, b| a.1.total_cmp(&b.1));
                    near
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// For every row of `points` (`d` features each), its `k` nearest other rows (index and squared
/// Euclidean distance, nearest first); all other rows when `k` is at least their number. The
/// same blocked matrix products as [`knn_predict`], so 60,000 points take seconds.
pub fn nearest_neighbours(points: &[f32], d: usize, k: usize) -> Vec<Vec<(usize, f32)>> {
    let all: Vec<usize> = (0..points.len() / d.max(1)).collect();
    nearest_neighbours_of(points, d, &all, k)
}

/// [`nearest_neighbours`] for the rows named in `queries` only (in their order): the exact
/// answer that an approximate search over many points is checked against.
pub fn nearest_neighbours_of(
    points: &[f32],
    d: usize,
    queries: &[usize],
    k: usize,
) -> Vec<Vec<(usize, f32)>> {
    let n = points.len() / d.max(1);
    let k = k.min(n.saturating_sub(1));
    let norms: Vec<f32> = points
        .chunks(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let all = MatRef::new(points, n, d).t();
    queries
        .par_chunks(QUERY_CHUNK)
        .flat_map_iter(|ids| {
            let m = ids.len();
            let block: Vec<f32> = ids
                .iter()
                .flat_map(|&q| &points[q * d..(q + 1) * d])
                .copied()
                .collect();
            let mut dots = vec![0.0f32; m * n];
            matmul(&mut dots, MatRef::new(&block, m, d), all, false);
            let norms = &norms;
            ids.iter()
                .enumerate()
                .map(|(i, &me)| {
                    let row = &dots[i * n..(i + 1) * n];
                    let mut dist: Vec<(usize, f32)> = row
                        .iter()
                        .zip(norms)
                        .enumerate()
                        .filter(|&(j, _)| j != me)
                        .map(|(j, (dot, r2))| (j, (norms[me] + r2 - 2.0 * dot).max(0.0)))
                        .collect();
                    if k > 0 && k < dist.len() {
                        dist.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
                    }
                    // A fresh vector: the full row's allocation must not outlive it (70,000
                    // rows of 70,000 candidates would hold 78 GB).
                    let mut near = dist[..k.min(dist.len())].to_vec();
                    near.sort_by(|a, b| a.1.total_cmp(&b.1));
                    near
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The majority label of the `k` nearest of `(distance, label)`, ties to the nearer.
fn vote(mut dist: Vec<(f32, u32)>, k: usize) -> u32 {
    dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    let mut near = dist[..k].to_vec();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let votes = |l: u32| near.iter().filter(|(_, m)| *m == l).count();
    let top = near.iter().map(|(_, l)| votes(*l)).max().unwrap_or(0);
    near.iter()
        .find(|(_, l)| votes(*l) == top)
        .map_or(0, |(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbours_leave_the_point_itself_out() {
        let points = [0.0, 0.0, 1.0, 0.0, 10.0, 10.0, 11.0, 10.0];
        let near = nearest_neighbours(&points, 2, 2);
        assert_eq!(near[0], vec![(1, 1.0), (2, 200.0)]);
        assert_eq!(near[3][0], (2, 1.0));
        assert_eq!(nearest_neighbours(&points, 2, 10)[0].len(), 3);
    }

    #[test]
    fn nearest_and_majority_votes() {
        let reference = [0.0, 0.0, 1.0, 0.0, 10.0, 10.0, 11.0, 10.0, 10.0, 11.0];
        let labels = [0, 0, 1, 1, 2];
        let query = [0.2, 0.1, 10.4, 10.6];
        assert_eq!(knn_predict(&reference, &labels, &query, 2, 1), vec![0, 2]);
        // k = 3 around (10.4, 10.6): labels 1, 2, 1 -> 1.
        assert_eq!(knn_predict(&reference, &labels, &query, 2, 3), vec![0, 1]);
    }

    #[test]
    fn agrees_with_brute_force_on_many_queries() {
        // More queries than one block, random-ish points in 5-D.
        let point = |i: usize, j: usize| ((i * 31 + j * 17) % 97) as f32 / 97.0;
        let reference: Vec<f32> = (0..300)
            .flat_map(|i| (0..5).map(move |j| point(i, j)))
            .collect();
        let labels: Vec<u32> = (0..300).map(|i| (i % 7) as u32).collect();
        let query: Vec<f32> = (0..300)
            .flat_map(|i| (0..5).map(move |j| point(i + 1000, j) * 0.9))
            .collect();
        let brute: Vec<u32> = query
            .chunks(5)
            .map(|q| {
                let d = |r: &[f32]| r.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
                let best = reference
                    .chunks(5)
                    .enumerate()
                    .min_by(|a, b| d(a.1).total_cmp(&d(b.1)))
                    .unwrap()
                    .0;
                labels[best]
            })
            .collect();
        let fast = knn_predict(&reference, &labels, &query, 5, 1);
        let agree = fast.iter().zip(&brute).filter(|(a, b)| a == b).count();
        // Rounding may reorder exact ties only.
        assert!(agree >= 297, "{agree} of 300");
    }
}
