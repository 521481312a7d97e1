//! Approximate nearest neighbours for graphs and kNN over many points (issue 11): a
//! hierarchical navigable small-world graph (Malkov & Yashunin 2018) built by the maintained
//! `hnsw_rs` crate, beside the exact search of [`nearest_neighbours`] (kept for small sets and
//! as the oracle that [`recall_at_k`] measures the approximation against).

use anndists::dist::DistL2;
use hnsw_rs::hnsw::Hnsw;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::knn::{nearest_neighbours, nearest_neighbours_of, nearest_references, vote_neighbours};
use crate::{Error, Result};

fn sixteen() -> usize {
    16
}
fn ef_construction() -> usize {
    100
}
fn ef_search() -> usize {
    48
}

/// The most layers of the HNSW hierarchy (16 covers far more points than memory holds).
const MAX_LAYERS: usize = 16;

/// How each point's nearest neighbours are found.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NeighbourSearch {
    /// Every pair's distance (`N²` work): exact, for up to about 100,000 points.
    #[default]
    Exact,
    /// An HNSW index: about `N log N` work, approximate (see [`recall_at_k`]).
    Hnsw {
        /// Links per node and layer (`M`; layer 0 keeps `2M`).
        #[serde(default = "sixteen")]
        m: usize,
        /// Candidates kept while inserting (larger: better graph, slower build).
        #[serde(default = "ef_construction")]
        ef_construction: usize,
        /// Candidates kept while searching (at least `k`; larger: higher recall).
        #[serde(default = "ef_search")]
        ef_search: usize,
    },
}

impl NeighbourSearch {
    /// Checks the settings; `key` names the recipe table.
    pub fn validate(&self, key: &str) -> Result<()> {
        match *self {
            Self::Exact => Ok(()),
            Self::Hnsw { m, .. } if !(2..=128).contains(&m) => Err(Error::invalid(
                format!("{key}.m"),
                format!("links per node must be 2..=128, got {m}"),
            )),
            Self::Hnsw {
                ef_construction: 0, ..
            }
            | Self::Hnsw { ef_search: 0, .. } => Err(Error::invalid(
                key,
                "ef_construction and ef_search must be at least 1",
            )),
            Self::Hnsw { .. } => Ok(()),
        }
    }

    /// Each row's `k` nearest other rows of `points` (`d` features each), nearest first, with
    /// squared Euclidean distances.
    pub fn neighbours(&self, points: &[f32], d: usize, k: usize) -> Vec<Vec<(usize, f32)>> {
        match *self {
            Self::Exact => nearest_neighbours(points, d, k),
            Self::Hnsw {
                m,
                ef_construction,
                ef_search,
            } => hnsw_neighbours(points, d, k, m, ef_construction, ef_search),
        }
    }
}

impl NeighbourSearch {
    /// For each row of `query`, its `k` nearest rows of `reference` (nearest first, squared
    /// Euclidean distances): retrieval of new points from a gallery.
    pub fn query(
        &self,
        reference: &[f32],
        query: &[f32],
        d: usize,
        k: usize,
    ) -> Vec<Vec<(usize, f32)>> {
        match *self {
            Self::Exact => nearest_references(reference, query, d, k),
            Self::Hnsw {
                m,
                ef_construction,
                ef_search,
            } => {
                let n = reference.len() / d.max(1);
                let k = k.min(n);
                if k == 0 {
                    return vec![Vec::new(); query.len() / d.max(1)];
                }
                let index: Hnsw<f32, DistL2> =
                    Hnsw::new(m, n, MAX_LAYERS, ef_construction, DistL2 {});
                let rows: Vec<(&[f32], usize)> = reference.chunks(d).zip(0..n).collect();
                index.parallel_insert_slice(&rows);
                query
                    .par_chunks(d)
                    .map(|q| {
                        index
                            .search(q, k, ef_search.max(k))
                            .into_iter()
                            .map(|nb| (nb.d_id, nb.distance * nb.distance))
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// Each row of `query` classified by the majority label of its `k` nearest rows of
    /// `reference` (ties to the nearer neighbour).
    pub fn classify(
        &self,
        reference: &[f32],
        labels: &[u32],
        query: &[f32],
        d: usize,
        k: usize,
    ) -> Vec<u32> {
        vote_neighbours(&self.query(reference, query, d, k.max(1)), labels)
    }
}

/// The share of the exact `k` nearest references that `found` holds, for `sample_size` of
/// the queries drawn at random with `seed` (ties at the k-th distance count as found): the
/// recall of [`NeighbourSearch::query`] against exact search.
pub fn query_recall(
    found: &[Vec<(usize, f32)>],
    reference: &[f32],
    query: &[f32],
    d: usize,
    sample_size: usize,
    seed: u64,
) -> f64 {
    sampled_recall(found, sample_size, seed, |picked, k| {
        let rows: Vec<f32> = picked
            .iter()
            .flat_map(|&q| &query[q * d..(q + 1) * d])
            .copied()
            .collect();
        nearest_references(reference, &rows, d, k)
    })
}

/// Each row's `k` nearest other rows through an HNSW index built over all rows in parallel.
pub fn hnsw_neighbours(
    points: &[f32],
    d: usize,
    k: usize,
    m: usize,
    ef_construction: usize,
    ef_search: usize,
) -> Vec<Vec<(usize, f32)>> {
    let n = points.len() / d.max(1);
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return vec![Vec::new(); n];
    }
    let index: Hnsw<f32, DistL2> = Hnsw::new(m, n, MAX_LAYERS, ef_construction, DistL2 {});
    let rows: Vec<(&[f32], usize)> = points.chunks(d).zip(0..n).collect();
    index.parallel_insert_slice(&rows);
    rows.par_iter()
        .map(|&(row, me)| {
            // One more than asked: the point itself is usually its own nearest.
            let found = index.search(row, k + 1, ef_search.max(k + 1));
            found
                .into_iter()
                .filter(|nb| nb.d_id != me)
                .take(k)
                .map(|nb| (nb.d_id, nb.distance * nb.distance))
                .collect()
        })
        .collect()
}

/// The share of the true `k` nearest neighbours that `found` holds, over `queries` rows drawn
/// at random (with `seed`): recall@k against exact search on a sample, as ANN benchmarks
/// report it. Ties at the k-th distance count as found.
pub fn recall_at_k(
    found: &[Vec<(usize, f32)>],
    points: &[f32],
    d: usize,
    queries: usize,
    seed: u64,
) -> f64 {
    sampled_recall(found, queries, seed, |picked, k| {
        nearest_neighbours_of(points, d, picked, k)
    })
}

/// Recall of `found` on `sample_size` of its rows drawn with `seed`, against the true lists
/// that `exact(rows, k)` returns for them.
fn sampled_recall(
    found: &[Vec<(usize, f32)>],
    sample_size: usize,
    seed: u64,
    exact: impl FnOnce(&[usize], usize) -> Vec<Vec<(usize, f32)>>,
) -> f64 {
    let n = found.len();
    let k = found.iter().map(Vec::len).max().unwrap_or(0);
    if n == 0 || k == 0 {
        return 1.0;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let picked = sample(&mut rng, n, sample_size.min(n)).into_vec();
    let (hits, total) = picked
        .iter()
        .zip(&exact(&picked, k))
        .map(|(&q, truth)| {
            let kth = truth.last().map_or(f32::INFINITY, |t| t.1);
            let hit = found[q]
                .iter()
                .filter(|(j, d2)| truth.iter().any(|t| t.0 == *j) || *d2 <= kth)
                .count();
            (hit, truth.len())
        })
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    hits as f64 / total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` points in `d` dimensions from a seeded Gaussian, in a few clusters.
    fn cloud(n: usize, d: usize, seed: u64) -> Vec<f32> {
        use rand_distr::{Distribution, Normal};
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = Normal::new(0.0f32, 1.0).unwrap();
        (0..n)
            .flat_map(|i| {
                let centre = (i % 5) as f32 * 3.0;
                (0..d)
                    .map(|_| centre + noise.sample(&mut rng))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn queries_outside_the_reference_set_are_found_and_classified() {
        let (d, k) = (8, 5);
        let reference = cloud(3000, d, 3);
        let labels: Vec<u32> = (0..3000).map(|i| (i % 5) as u32).collect();
        let query = cloud(500, d, 4);
        let truth: Vec<u32> = (0..500).map(|i| (i % 5) as u32).collect();
        let exact = NeighbourSearch::Exact.query(&reference, &query, d, k);
        assert_eq!(query_recall(&exact, &reference, &query, d, 100, 1), 1.0);
        // The exact lists are the true nearest: no reference row is nearer than the k-th.
        let q0 = &query[..d];
        let dist = |j: usize| -> f32 {
            reference[j * d..(j + 1) * d]
                .iter()
                .zip(q0)
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        };
        let kth = exact[0][k - 1].1;
        let nearer = (0..3000).filter(|&j| dist(j) < kth - 1e-3).count();
        assert_eq!(nearer, k - 1);
        assert!((dist(exact[0][0].0) - exact[0][0].1).abs() < 1e-3);
        let hnsw = NeighbourSearch::Hnsw {
            m: 16,
            ef_construction: 100,
            ef_search: 48,
        };
        let approx = hnsw.query(&reference, &query, d, k);
        let recall = query_recall(&approx, &reference, &query, d, 200, 2);
        assert!(recall > 0.95, "recall {recall}");
        let same = |s: &NeighbourSearch| {
            let p = s.classify(&reference, &labels, &query, d, k);
            p.iter().zip(&truth).filter(|(a, b)| a == b).count()
        };
        let (e, a) = (same(&NeighbourSearch::Exact), same(&hnsw));
        assert!(e > 400 && a.abs_diff(e) <= 10, "exact {e}, hnsw {a} of 500");
    }

    #[test]
    fn hnsw_finds_almost_all_true_neighbours() {
        let (n, d, k) = (3000, 8, 10);
        let points = cloud(n, d, 1);
        let search = NeighbourSearch::Hnsw {
            m: 16,
            ef_construction: 100,
            ef_search: 64,
        };
        let found = search.neighbours(&points, d, k);
        assert_eq!(found.len(), n);
        for (i, row) in found.iter().enumerate() {
            assert_eq!(row.len(), k);
            assert!(row.iter().all(|&(j, _)| j != i), "row {i} lists itself");
            assert!(row.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
        }
        let recall = recall_at_k(&found, &points, d, 300, 7);
        assert!(recall > 0.95, "recall {recall}");
        // The distances are squared Euclidean, as the exact search gives them.
        let (j, d2) = found[0][0];
        let true_d2: f32 = points[..d]
            .iter()
            .zip(&points[j * d..(j + 1) * d])
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        assert!((d2 - true_d2).abs() < 1e-3 * true_d2.max(1.0));
    }

    #[test]
    fn recall_is_one_for_exact_search_and_drops_for_a_poor_index() {
        let (n, d, k) = (1500, 16, 10);
        let points = cloud(n, d, 2);
        let exact = NeighbourSearch::Exact.neighbours(&points, d, k);
        assert_eq!(recall_at_k(&exact, &points, d, 200, 1), 1.0);
        // A random "neighbour" list is a poor approximation, and recall says so.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let random: Vec<Vec<(usize, f32)>> = (0..n)
            .map(|_| {
                sample(&mut rng, n, k)
                    .into_iter()
                    .map(|j| (j, f32::MAX))
                    .collect()
            })
            .collect();
        assert!(recall_at_k(&random, &points, d, 200, 1) < 0.1);
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = |s: NeighbourSearch| s.validate("transfer.graph.search").is_err();
        assert!(bad(NeighbourSearch::Hnsw {
            m: 1,
            ef_construction: 100,
            ef_search: 10
        }));
        assert!(bad(NeighbourSearch::Hnsw {
            m: 16,
            ef_construction: 0,
            ef_search: 10
        }));
        assert!(!bad(NeighbourSearch::default()));
        let parsed: NeighbourSearch = toml::from_str("kind = \"hnsw\"\nm = 8").unwrap();
        assert_eq!(
            parsed,
            NeighbourSearch::Hnsw {
                m: 8,
                ef_construction: 100,
                ef_search: 48
            }
        );
        assert!(toml::from_str::<NeighbourSearch>("kind = \"hnsw\"\nmm = 8").is_err());
    }
}
