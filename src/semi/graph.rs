//! The similarity graph of graph-based semi-supervised learning (seed 003 19.3.4; SS6): nodes
//! are samples, edge weights `w_ij > 0` say how alike two samples are. Stored sparse (each
//! node's neighbours only), so a k-nearest-neighbour graph of 70,000 images needs no N x N
//! matrix.

use serde::{Deserialize, Serialize};

use crate::transfer::NeighbourSearch;
use crate::{Error, Result};

fn seven() -> usize {
    7
}
fn gamma() -> f64 {
    20.0
}

/// The most nodes an all-pairs RBF graph may have (it stores N² weights).
pub const MAX_DENSE_NODES: usize = 20_000;

/// How the edges and their weights are chosen.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphConfig {
    /// Each node linked (weight 1) to its `k` nearest neighbours, made symmetric: `i ~ j` when
    /// either is among the other's `k` nearest.
    Knn {
        /// Neighbours per node.
        #[serde(default = "seven")]
        k: usize,
        /// How the neighbours are found (exact by default; `{ kind = "hnsw" }` for large sets).
        #[serde(default, skip_serializing_if = "is_exact")]
        search: NeighbourSearch,
    },
    /// Gaussian weights `exp(-gamma |x_i - x_j|^2)`, between all pairs, or only between each
    /// node and its `neighbours` nearest (made symmetric) for large graphs.
    Rbf {
        /// The kernel's `gamma`.
        #[serde(default = "gamma")]
        gamma: f64,
        /// Keep only this many nearest neighbours per node (none: all pairs, up to
        /// [`MAX_DENSE_NODES`] nodes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neighbours: Option<usize>,
        /// How the `neighbours` nearest are found (exact by default).
        #[serde(default, skip_serializing_if = "is_exact")]
        search: NeighbourSearch,
    },
}

fn is_exact(search: &NeighbourSearch) -> bool {
    *search == NeighbourSearch::Exact
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self::Knn {
            k: 7,
            search: NeighbourSearch::Exact,
        }
    }
}

impl GraphConfig {
    /// Checks the settings; `key` names the recipe table.
    pub fn validate(&self, key: &str) -> Result<()> {
        match *self {
            Self::Knn { k: 0, .. }
            | Self::Rbf {
                neighbours: Some(0),
                ..
            } => Err(Error::invalid(key, "a node needs at least one neighbour")),
            Self::Rbf { gamma, .. } if !(gamma > 0.0 && gamma.is_finite()) => Err(Error::invalid(
                format!("{key}.gamma"),
                format!("must be > 0, got {gamma}"),
            )),
            Self::Knn { search, .. } | Self::Rbf { search, .. } => {
                search.validate(&format!("{key}.search"))
            }
        }
    }

    /// The graph over the rows of `points` (`d` features each).
    pub fn build(&self, points: &[f32], d: usize) -> Result<Graph> {
        let n = points.len() / d.max(1);
        let (k, search, weight): (usize, _, Box<dyn Fn(f32) -> f64 + Sync>) = match *self {
            Self::Knn { k, search } => (k, search, Box::new(|_| 1.0)),
            Self::Rbf {
                gamma,
                neighbours,
                search,
            } => {
                let k = match neighbours {
                    Some(k) => k,
                    None if n > MAX_DENSE_NODES => {
                        return Err(Error::invalid(
                            "graph.neighbours",
                            format!(
                                "an all-pairs RBF graph of {n} nodes would hold {n}² weights: set neighbours (e.g. 10) or use kind = \"knn\""
                            ),
                        ));
                    }
                    None => n,
                };
                (
                    k,
                    search,
                    Box::new(move |d2: f32| (-gamma * d2 as f64).exp()),
                )
            }
        };
        let near = search.neighbours(points, d, k);
        let edges = near.iter().enumerate().flat_map(|(i, row)| {
            row.iter()
                .map(move |&(j, d2)| (i, j, d2))
                .collect::<Vec<_>>()
        });
        Ok(Graph::symmetric(
            n,
            edges.map(|(i, j, d2)| (i, j, weight(d2))),
        ))
    }
}

/// A weighted undirected graph in compressed sparse rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Row `i`'s entries are `offsets[i]..offsets[i + 1]`.
    offsets: Vec<usize>,
    /// Neighbour of each entry.
    targets: Vec<usize>,
    /// Weight of each entry.
    weights: Vec<f64>,
}

impl Graph {
    /// The graph of `n` nodes with the given directed edges made symmetric (an edge in either
    /// direction links both ways, with the larger weight); self-loops are dropped.
    pub fn symmetric(n: usize, edges: impl Iterator<Item = (usize, usize, f64)>) -> Self {
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for (i, j, w) in edges.filter(|&(i, j, _)| i != j) {
            rows[i].push((j, w));
            rows[j].push((i, w));
        }
        let mut graph = Self {
            offsets: vec![0],
            targets: Vec::new(),
            weights: Vec::new(),
        };
        for mut row in rows {
            row.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
            row.dedup_by_key(|e| e.0);
            graph.targets.extend(row.iter().map(|e| e.0));
            graph.weights.extend(row.iter().map(|e| e.1));
            graph.offsets.push(graph.targets.len());
        }
        graph
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Node `i`'s neighbours and weights.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.offsets[i]..self.offsets[i + 1];
        self.targets[r.clone()]
            .iter()
            .copied()
            .zip(self.weights[r].iter().copied())
    }

    /// Each node's degree `Σ_j w_ij`.
    pub fn degrees(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.row(i).map(|(_, w)| w).sum())
            .collect()
    }

    /// An error naming how many nodes have no edge of positive weight (propagation cannot reach
    /// them).
    pub fn check_connected(&self, key: &str) -> Result<()> {
        let isolated = self.degrees().iter().filter(|&&d| d <= 0.0).count();
        if isolated == 0 {
            return Ok(());
        }
        Err(Error::invalid(
            key,
            format!(
                "{isolated} of {} nodes have no neighbour of positive weight, so no label can reach them (RBF weights underflow when gamma is large for the distances: lower gamma, scale the features, or use kind = \"knn\")",
                self.len()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knn_graphs_are_symmetric_without_self_loops() {
        // Points on a line at 0, 1, 3, 10: each one's nearest neighbour.
        let points = [0.0, 1.0, 3.0, 10.0];
        let g = GraphConfig::Knn {
            k: 1,
            search: NeighbourSearch::Exact,
        }
        .build(&points, 1)
        .unwrap();
        let rows: Vec<Vec<usize>> = (0..4).map(|i| g.row(i).map(|e| e.0).collect()).collect();
        // 0-1 (mutual), 2-1 (2's nearest), 3-2 (3's nearest).
        assert_eq!(rows, vec![vec![1], vec![0, 2], vec![1, 3], vec![2]]);
        assert_eq!(g.degrees(), vec![1.0, 2.0, 2.0, 1.0]);
        g.check_connected("graph").unwrap();
    }

    #[test]
    fn rbf_weights_and_isolated_nodes() {
        let points = [0.0, 1.0];
        let g = GraphConfig::Rbf {
            gamma: 0.5,
            neighbours: None,
            search: NeighbourSearch::Exact,
        }
        .build(&points, 1)
        .unwrap();
        assert!((g.row(0).next().unwrap().1 - (-0.5f64).exp()).abs() < 1e-12);
        // Far apart with a large gamma: the weight underflows and both nodes are cut off.
        let far = GraphConfig::Rbf {
            gamma: 1e6,
            neighbours: None,
            search: NeighbourSearch::Exact,
        }
        .build(&[0.0, 100.0], 1)
        .unwrap();
        let err = far.check_connected("graph").unwrap_err().to_string();
        assert!(err.contains("2 of 2 nodes"), "{err}");
        assert!(
            GraphConfig::Knn {
                k: 0,
                search: NeighbourSearch::Exact
            }
            .validate("graph")
            .is_err()
        );
    }

    #[test]
    fn an_hnsw_search_builds_nearly_the_exact_graph() {
        let cfg: GraphConfig =
            toml::from_str("kind = \"knn\"\nk = 5\nsearch = { kind = \"hnsw\", ef_search = 64 }")
                .unwrap();
        cfg.validate("transfer.graph").unwrap();
        // 2,000 points in 4-D from a seeded generator (distinct distances, no ties).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let points: Vec<f32> = (0..8000).map(|_| rng.random::<f32>()).collect();
        let approx = cfg.build(&points, 4).unwrap();
        let exact = GraphConfig::Knn {
            k: 5,
            search: NeighbourSearch::Exact,
        }
        .build(&points, 4)
        .unwrap();
        let edges = |g: &Graph| -> std::collections::HashSet<(usize, usize)> {
            (0..g.len())
                .flat_map(|i| g.row(i).map(move |(j, _)| (i, j)))
                .collect()
        };
        let (a, e) = (edges(&approx), edges(&exact));
        let shared = a.intersection(&e).count() as f64 / e.len() as f64;
        assert!(shared > 0.95, "only {shared} of the exact edges");
        let bad: std::result::Result<GraphConfig, _> =
            toml::from_str("kind = \"knn\"\nsearch = { kind = \"hnsw\", m = 1 }");
        assert!(bad.unwrap().validate("transfer.graph").is_err());
    }
}
