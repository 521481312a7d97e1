//! Drawing the next piece from a language model's scores (GPT-style generation): temperature,
//! top-k and nucleus (top-p, Holtzman et al. 2020) sampling, seeded; temperature 0 is greedy.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the next piece is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Divides the scores before the softmax; 0 takes the most likely piece (greedy).
    pub temperature: f64,
    /// Draw among the `top_k` most likely pieces only (0: all).
    pub top_k: usize,
    /// Draw among the fewest most likely pieces whose probabilities reach `top_p` (1: all).
    pub top_p: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
        }
    }
}

impl Sampling {
    /// Checks `temperature >= 0` and `top_p` in `(0, 1]`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the option.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(Error::invalid(
                "--temperature",
                format!("must be 0 (greedy) or more, got {}", self.temperature),
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::invalid(
                "--top-p",
                format!("must be in (0, 1], got {}", self.top_p),
            ));
        }
        Ok(())
    }

    /// The index drawn from `scores` (raw logits), never one of `banned`.
    pub fn draw(&self, scores: &[f32], banned: &[u32], rng: &mut impl Rng) -> u32 {
        let allowed = |i: usize| !banned.contains(&(i as u32));
        if self.temperature == 0.0 {
            return greedy(scores, &allowed);
        }
        let mut order: Vec<usize> = (0..scores.len()).filter(|&i| allowed(i)).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        if self.top_k > 0 {
            order.truncate(self.top_k);
        }
        let top = scores[order[0]] as f64;
        let mut probs: Vec<f64> = order
            .iter()
            .map(|&i| ((scores[i] as f64 - top) / self.temperature).exp())
            .collect();
        let sum: f64 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= sum);
        if self.top_p < 1.0 {
            let mut acc = 0.0;
            let keep = probs
                .iter()
                .position(|p| {
                    acc += p;
                    acc >= self.top_p
                })
                .map_or(probs.len(), |i| i + 1);
            probs.truncate(keep);
            order.truncate(keep);
        }
        let total: f64 = probs.iter().sum();
        let mut u = rng.random::<f64>() * total;
        for (p, &i) in probs.iter().zip(&order) {
            u -= p;
            if u <= 0.0 {
                return i as u32;
            }
        }
        *order.last().expect("at least one piece") as u32
    }
}

/// The allowed index with the largest score.
fn greedy(scores: &[f32], allowed: &impl Fn(usize) -> bool) -> u32 {
    (0..scores.len())
        .filter(|&i| allowed(i))
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .expect("at least one allowed piece") as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const SCORES: [f32; 6] = [0.1, 2.0, 1.9, -1.0, 0.5, 1.0];

    #[test]
    fn a_vanishing_temperature_is_greedy() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let greedy = Sampling {
            temperature: 0.0,
            ..Sampling::default()
        };
        assert_eq!(greedy.draw(&SCORES, &[], &mut rng), 1);
        assert_eq!(greedy.draw(&SCORES, &[1], &mut rng), 2);
        let cold = Sampling {
            temperature: 1e-3,
            ..Sampling::default()
        };
        for _ in 0..200 {
            assert_eq!(cold.draw(&SCORES, &[], &mut rng), 1);
        }
    }

    #[test]
    fn top_k_and_top_p_limit_the_draw_and_frequencies_follow_the_softmax() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let top2 = Sampling {
            top_k: 2,
            ..Sampling::default()
        };
        for _ in 0..300 {
            assert!([1, 2].contains(&top2.draw(&SCORES, &[], &mut rng)));
        }
        // p(1) ~ 0.33, p(2) ~ 0.30, p(5) ~ 0.12 ...: top_p = 0.5 keeps pieces 1 and 2.
        let nucleus = Sampling {
            top_p: 0.5,
            ..Sampling::default()
        };
        for _ in 0..300 {
            assert!([1, 2].contains(&nucleus.draw(&SCORES, &[], &mut rng)));
        }
        let plain = Sampling::default();
        let n = 20_000;
        let ones = (0..n)
            .filter(|_| plain.draw(&SCORES, &[], &mut rng) == 1)
            .count() as f64
            / n as f64;
        let z: f64 = SCORES.iter().map(|&s| (s as f64).exp()).sum();
        assert!((ones - 2f64.exp() / z).abs() < 0.015, "{ones}");
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = Sampling {
            temperature: -1.0,
            ..Sampling::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("--temperature")
        );
        let bad = Sampling {
            top_p: 0.0,
            ..Sampling::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("--top-p"));
    }
}
