//! Disagreement-based semi-supervised learning on fixed features (seed 003 19.3.3, seed 002):
//! co-training and tri-training around a small softmax-regression classifier.

mod co_training;
mod softmax_regression;
mod tri_training;

pub use co_training::{CoTrained, CoTraining};
pub use softmax_regression::{SoftmaxRegression, argmax_rows};
pub use tri_training::{TriTrained, TriTraining};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two classes in 4 features: class c has every feature near c (both halves agree, as
    /// co-training assumes). 2 labelled samples per class, 200 unlabelled.
    fn blobs() -> (Vec<f32>, Vec<u32>, Vec<f32>, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut draw = |n: usize| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for i in 0..n {
                let c = (i % 2) as u32;
                for _ in 0..4 {
                    x.push(c as f32 * 2.0 - 1.0 + rng.random_range(-0.9..0.9));
                }
                y.push(c);
            }
            (x, y)
        };
        let (lx, ly) = draw(4);
        let (ux, uy) = draw(200);
        (lx, ly, ux, uy)
    }

    fn accuracy(pred: &[u32], truth: &[u32]) -> f64 {
        pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
    }

    #[test]
    fn co_training_labels_the_pool_and_predicts_from_both_views() {
        let (lx, ly, ux, uy) = blobs();
        let run = CoTraining {
            rounds: 5,
            per_round: 2,
        };
        let t = run.run((&lx, &ly), &ux, 4, 2);
        // 5 rounds x 2 classifiers x 2 per class x 2 classes.
        assert_eq!(t.added, 40);
        assert!(accuracy(&t.predict(&ux), &uy) > 0.95);
    }

    #[test]
    fn tri_training_stops_when_nothing_changes_and_votes() {
        let (lx, ly, ux, uy) = blobs();
        let t = TriTraining {
            rounds: 20,
            seed: 1,
        }
        .run((&lx, &ly), &ux, 4, 2);
        assert!(t.rounds < 20, "{}", t.rounds);
        assert!(accuracy(&t.predict(&ux), &uy) > 0.95);
    }
}
