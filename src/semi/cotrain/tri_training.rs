//! Tri-training (Zhou & Li 2005; seed 003 19.3.3; SS5): three classifiers fitted on bootstrap
//! samples of the labelled set; each round, every unlabelled sample on which two of them agree
//! is added, with their label, to the third one's training set, and each refits (the seed's
//! simplified form, without the paper's error-rate conditions). Stops when no classifier's set
//! changes or after `rounds`. The final prediction is the majority vote.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::softmax_regression::{SoftmaxRegression, argmax_rows, select_rows};

/// Tri-training's settings.
#[derive(Debug, Clone, Copy)]
pub struct TriTraining {
    /// Largest number of rounds.
    pub rounds: usize,
    /// Seed of the bootstrap samples.
    pub seed: u64,
}

impl TriTraining {
    /// Fits the three classifiers on the labelled rows and the unlabelled ones.
    pub fn run(
        self,
        labelled: (&[f32], &[u32]),
        unlabelled: &[f32],
        d: usize,
        classes: usize,
    ) -> TriTrained {
        let (x, y) = labelled;
        let n = y.len();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let boots: Vec<Vec<usize>> = (0..3)
            .map(|_| (0..n).map(|_| rng.random_range(0..n)).collect())
            .collect();
        let fit_on = |boot: &[usize], extra: &[(usize, u32)]| {
            let mut fx = select_rows(x, d, boot);
            let mut fy: Vec<u32> = boot.iter().map(|&i| y[i]).collect();
            for &(i, c) in extra {
                fx.extend_from_slice(&unlabelled[i * d..(i + 1) * d]);
                fy.push(c);
            }
            SoftmaxRegression::fit(&fx, d, &fy, classes)
        };
        let mut models: Vec<SoftmaxRegression> = boots.iter().map(|b| fit_on(b, &[])).collect();
        let mut sets: Vec<Vec<(usize, u32)>> = vec![Vec::new(); 3];
        let mut rounds = 0;
        while rounds < self.rounds {
            rounds += 1;
            let preds: Vec<Vec<u32>> = models
                .iter()
                .map(|m| {
                    argmax_rows(&m.proba(unlabelled), classes)
                        .iter()
                        .map(|p| p.0)
                        .collect()
                })
                .collect();
            let new_sets: Vec<Vec<(usize, u32)>> = (0..3)
                .map(|i| {
                    let (j, k) = ((i + 1) % 3, (i + 2) % 3);
                    (0..preds[j].len())
                        .filter(|&u| preds[j][u] == preds[k][u])
                        .map(|u| (u, preds[j][u]))
                        .collect()
                })
                .collect();
            if new_sets == sets {
                break;
            }
            sets = new_sets;
            models = (0..3).map(|i| fit_on(&boots[i], &sets[i])).collect();
        }
        TriTrained {
            models,
            classes,
            rounds,
        }
    }
}

/// The three final classifiers.
pub struct TriTrained {
    models: Vec<SoftmaxRegression>,
    classes: usize,
    /// Rounds run.
    pub rounds: usize,
}

impl TriTrained {
    /// The majority vote of the three (the first classifier's label on a three-way tie).
    pub fn predict(&self, x: &[f32]) -> Vec<u32> {
        let votes: Vec<Vec<u32>> = self
            .models
            .iter()
            .map(|m| {
                argmax_rows(&m.proba(x), self.classes)
                    .iter()
                    .map(|p| p.0)
                    .collect()
            })
            .collect();
        (0..votes[0].len())
            .map(|r| {
                let (a, b, c) = (votes[0][r], votes[1][r], votes[2][r]);
                if b == c { b } else { a }
            })
            .collect()
    }
}
