//! Label propagation and label spreading on a similarity graph (seed 003 19.3.4; SS6):
//! transductive, they label the graph's unlabelled nodes from its labelled ones.
//!
//! Propagation (Zhu & Ghahramani 2002, the seed's algorithm), with `T = D⁻¹ W`:
//! ```text
//! repeat: Y ← T Y;  normalise each row to sum 1;  reset the labelled rows to their one-hot labels
//! ```
//! Spreading (Zhou et al. 2004), with `S = D^{-1/2} W D^{-1/2}` and the one-hot labels `Y₀`:
//! ```text
//! repeat: F ← α S F + (1 - α) Y₀
//! ```
//! Both stop when the labels change by less than `tol` (sum of absolute changes) or after
//! `max_iter` rounds.

use super::graph::Graph;

/// Which update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Propagation {
    /// Label propagation with labelled nodes clamped.
    Propagate,
    /// Label spreading with clamping factor `alpha` in (0, 1).
    Spread {
        /// Share of a node's label taken from its neighbours each round.
        alpha: f64,
    },
}

/// The outcome: every node's class distribution and the rounds run.
#[derive(Debug, Clone)]
pub struct Propagated {
    /// `[nodes * classes]`, rows summing to 1 (uniform for a node no label reached).
    pub distributions: Vec<f64>,
    /// Classes per row.
    pub classes: usize,
    /// Rounds run.
    pub rounds: usize,
}

impl Propagated {
    /// Each node's most probable class.
    pub fn labels(&self) -> Vec<u32> {
        self.distributions
            .chunks(self.classes)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |a, (c, &p)| if p > a.1 { (c, p) } else { a },
                    )
                    .0 as u32
            })
            .collect()
    }
}

impl Propagation {
    /// Runs on `graph` from `known` (each node's class, `None` when unlabelled).
    pub fn run(
        self,
        graph: &Graph,
        known: &[Option<u32>],
        classes: usize,
        max_iter: usize,
        tol: f64,
    ) -> Propagated {
        let n = graph.len();
        let mut seed = vec![0.0f64; n * classes];
        for (i, l) in known.iter().enumerate() {
            if let Some(l) = l {
                seed[i * classes + *l as usize] = 1.0;
            }
        }
        let degrees = graph.degrees();
        let mut current = seed.clone();
        let mut rounds = 0;
        while rounds < max_iter {
            rounds += 1;
            let mut next = vec![0.0f64; n * classes];
            for i in 0..n {
                let out = &mut next[i * classes..(i + 1) * classes];
                for (j, w) in graph.row(i) {
                    let scale = match self {
                        Self::Propagate => w / degrees[i],
                        Self::Spread { .. } => w / (degrees[i] * degrees[j]).sqrt(),
                    };
                    let from = &current[j * classes..(j + 1) * classes];
                    out.iter_mut().zip(from).for_each(|(o, f)| *o += scale * f);
                }
                match self {
                    Self::Propagate => match known[i] {
                        Some(_) => out.copy_from_slice(&seed[i * classes..(i + 1) * classes]),
                        None => normalise(out),
                    },
                    Self::Spread { alpha } => {
                        let y0 = &seed[i * classes..(i + 1) * classes];
                        out.iter_mut()
                            .zip(y0)
                            .for_each(|(o, y)| *o = alpha * *o + (1.0 - alpha) * y);
                    }
                }
            }
            let change: f64 = next.iter().zip(&current).map(|(a, b)| (a - b).abs()).sum();
            current = next;
            if change < tol {
                break;
            }
        }
        current.chunks_mut(classes).for_each(normalise);
        Propagated {
            distributions: current,
            classes,
            rounds,
        }
    }
}

/// Scales `row` to sum 1; an all-zero row becomes uniform.
fn normalise(row: &mut [f64]) {
    let sum: f64 = row.iter().sum();
    if sum > 0.0 {
        row.iter_mut().for_each(|v| *v /= sum);
    } else {
        let u = 1.0 / row.len() as f64;
        row.iter_mut().for_each(|v| *v = u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path 0 - 1 - 2 - 3 with unit weights; node 0 is class 0, node 3 class 1.
    fn path() -> (Graph, Vec<Option<u32>>) {
        let g = Graph::symmetric(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)].into_iter());
        (g, vec![Some(0), None, None, Some(1)])
    }

    #[test]
    fn one_propagation_round_matches_a_hand_computation() {
        let (g, known) = path();
        let one = Propagation::Propagate.run(&g, &known, 2, 1, 0.0);
        // Node 1 = (Y0 + Y2) / 2 = ((1,0) + (0,0)) / 2 -> normalised (1, 0); node 2 likewise
        // (0, 1); the labelled nodes stay clamped.
        assert_eq!(
            one.distributions,
            vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
        );
        // At convergence the harmonic solution: node 1 is 2/3 class 0, node 2 1/3.
        let done = Propagation::Propagate.run(&g, &known, 2, 1000, 1e-12);
        assert!(
            (done.distributions[2] - 2.0 / 3.0).abs() < 1e-6,
            "{:?}",
            done.distributions
        );
        assert!((done.distributions[4] - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(done.labels(), vec![0, 0, 1, 1]);
    }

    #[test]
    fn one_spreading_round_matches_a_hand_computation() {
        let (g, known) = path();
        let alpha = 0.5;
        let one = Propagation::Spread { alpha }.run(&g, &known, 2, 1, 0.0);
        // Degrees 1, 2, 2, 1. Node 1: α (Y0 / sqrt(1*2)) = 0.5 / sqrt 2 for class 0, then the
        // row is normalised to (1, 0). Node 0: (1 - α) (1, 0) + α (Y1 = 0) -> (1, 0).
        let d = &one.distributions;
        assert_eq!((d[2], d[3]), (1.0, 0.0));
        assert_eq!((d[0], d[1]), (1.0, 0.0));
        let done = Propagation::Spread { alpha: 0.9 }.run(&g, &known, 2, 1000, 1e-12);
        assert_eq!(done.labels(), vec![0, 0, 1, 1]);
        // Symmetric problem: node 1 leans to class 0 exactly as node 2 leans to class 1.
        assert!((done.distributions[2] - done.distributions[5]).abs() < 1e-9);
    }
}
