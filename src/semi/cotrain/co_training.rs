//! Co-training (Blum & Mitchell 1998; seed 003 19.3.3, seed 002; SS4): two classifiers, each on
//! its own view of the samples (here the first and the second half of the features: the top
//! and bottom halves of an image), teach each other. Each round, each classifier gives its
//! `per_round` most confident unlabelled samples per class, with its labels, to the shared
//! labelled set; both refit. The final prediction multiplies the two classifiers'
//! probabilities.

use super::softmax_regression::{SoftmaxRegression, argmax_rows, select_rows};

/// Co-training's settings.
#[derive(Debug, Clone, Copy)]
pub struct CoTraining {
    /// Rounds of teaching.
    pub rounds: usize,
    /// Samples per class each classifier adds per round.
    pub per_round: usize,
}

/// The two halves of every row.
fn split_views(x: &[f32], d: usize) -> (Vec<f32>, Vec<f32>) {
    let half = d / 2;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for row in x.chunks(d) {
        a.extend_from_slice(&row[..half]);
        b.extend_from_slice(&row[half..]);
    }
    (a, b)
}

impl CoTraining {
    /// Labels the `unlabelled` rows given the labelled ones (`d` features each); also returns
    /// the predictor for other rows.
    pub fn run(
        self,
        labelled: (&[f32], &[u32]),
        unlabelled: &[f32],
        d: usize,
        classes: usize,
    ) -> CoTrained {
        let (views_l, views_u) = (split_views(labelled.0, d), split_views(unlabelled, d));
        let (d1, d2) = (d / 2, d - d / 2);
        // Shared labelled set: (view 1 row, view 2 row, label), as growing buffers.
        let (mut x1, mut x2, mut y) = (views_l.0, views_l.1, labelled.1.to_vec());
        let mut left: Vec<usize> = (0..unlabelled.len() / d.max(1)).collect();
        for _ in 0..self.rounds {
            if left.is_empty() {
                break;
            }
            let h1 = SoftmaxRegression::fit(&x1, d1, &y, classes);
            let h2 = SoftmaxRegression::fit(&x2, d2, &y, classes);
            let (u1, u2) = (
                select_rows(&views_u.0, d1, &left),
                select_rows(&views_u.1, d2, &left),
            );
            let mut taken = vec![false; left.len()];
            let mut picks = Vec::new();
            for probs in [h1.proba(&u1), h2.proba(&u2)] {
                let best = argmax_rows(&probs, classes);
                for c in 0..classes as u32 {
                    let mut cands: Vec<usize> = (0..left.len())
                        .filter(|&k| best[k].0 == c && !taken[k])
                        .collect();
                    cands.sort_by(|&a, &b| best[b].1.total_cmp(&best[a].1));
                    for &k in cands.iter().take(self.per_round) {
                        taken[k] = true;
                        picks.push((k, c));
                    }
                }
            }
            for (k, c) in picks {
                let i = left[k];
                x1.extend_from_slice(&views_u.0[i * d1..(i + 1) * d1]);
                x2.extend_from_slice(&views_u.1[i * d2..(i + 1) * d2]);
                y.push(c);
            }
            left = left
                .iter()
                .zip(&taken)
                .filter(|(_, t)| !**t)
                .map(|(&i, _)| i)
                .collect();
        }
        CoTrained {
            h1: SoftmaxRegression::fit(&x1, d1, &y, classes),
            h2: SoftmaxRegression::fit(&x2, d2, &y, classes),
            d,
            classes,
            added: y.len() - labelled.1.len(),
        }
    }
}

/// The two final classifiers.
pub struct CoTrained {
    h1: SoftmaxRegression,
    h2: SoftmaxRegression,
    d: usize,
    classes: usize,
    /// Pseudo-labelled samples added over all rounds.
    pub added: usize,
}

impl CoTrained {
    /// The class of each row: the argmax of the product of both views' probabilities.
    pub fn predict(&self, x: &[f32]) -> Vec<u32> {
        let (a, b) = split_views(x, self.d);
        let (pa, pb) = (self.h1.proba(&a), self.h2.proba(&b));
        let joint: Vec<f64> = pa.iter().zip(&pb).map(|(p, q)| p * q).collect();
        argmax_rows(&joint, self.classes)
            .iter()
            .map(|p| p.0)
            .collect()
    }
}
