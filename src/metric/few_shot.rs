//! N-way K-shot evaluation (SPEC T4): random episodes over a labelled embedding set, each query
//! classified by its nearest class prototype (mean of the support embeddings, squared L2).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::Result;
use crate::data::ClassBalancedSampler;

/// Mean accuracy over episodes and the half-width of its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FewShotAccuracy {
    /// Mean of the per-episode accuracies.
    pub mean: f64,
    /// `1.96 x sd / sqrt(episodes)`.
    pub ci95: f64,
    /// Episodes run.
    pub episodes: usize,
}

/// The shape of N-way K-shot episodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episodes {
    /// Classes per episode.
    pub ways: usize,
    /// Support samples per class.
    pub shots: usize,
    /// Query samples per class.
    pub queries: usize,
    /// How many episodes.
    pub count: usize,
}

/// Runs `spec.count` episodes drawn from `x` (`[n, d]` row-major) with `labels`; seeded.
pub fn few_shot_accuracy(
    x: &[f32],
    d: usize,
    labels: &[u32],
    spec: Episodes,
    seed: u64,
) -> Result<FewShotAccuracy> {
    let Episodes {
        ways,
        shots,
        queries,
        count: episodes,
    } = spec;
    let key = ("embedding_eval", "the unseen test images");
    let sampler = ClassBalancedSampler::new(labels, ways, shots + queries, key)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per = shots + queries;
    let mut accs = Vec::with_capacity(episodes);
    for _ in 0..episodes {
        let (idx, _) = sampler.batch(&mut rng);
        let mut protos = vec![0.0f32; ways * d];
        for k in 0..ways {
            for &i in &idx[k * per..k * per + shots] {
                for (p, v) in protos[k * d..(k + 1) * d]
                    .iter_mut()
                    .zip(&x[i * d..(i + 1) * d])
                {
                    *p += v / shots as f32;
                }
            }
        }
        let mut correct = 0;
        for k in 0..ways {
            for &i in &idx[k * per + shots..(k + 1) * per] {
                let q = &x[i * d..(i + 1) * d];
                let nearest = (0..ways)
                    .map(|c| {
                        let p = &protos[c * d..(c + 1) * d];
                        q.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f32>()
                    })
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(c, _)| c);
                correct += usize::from(nearest == Some(k));
            }
        }
        accs.push(correct as f64 / (ways * queries) as f64);
    }
    let n = accs.len().max(1) as f64;
    let mean = accs.iter().sum::<f64>() / n;
    let var = accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Ok(FewShotAccuracy {
        mean,
        ci95: 1.96 * var.sqrt() / n.sqrt(),
        episodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episodes(ways: usize, shots: usize, queries: usize, count: usize) -> Episodes {
        Episodes {
            ways,
            shots,
            queries,
            count,
        }
    }

    #[test]
    fn separated_classes_are_always_right_and_identical_ones_are_chance() {
        // Three classes of 20 points each, 2-D, around (10k, 0) with small offsets.
        let labels: Vec<u32> = (0..3u32).flat_map(|c| vec![c; 20]).collect();
        let x: Vec<f32> = labels
            .iter()
            .enumerate()
            .flat_map(|(i, &c)| [10.0 * c as f32 + (i % 5) as f32 * 0.1, (i % 3) as f32 * 0.1])
            .collect();
        let r = few_shot_accuracy(&x, 2, &labels, episodes(3, 1, 5, 50), 0).unwrap();
        assert_eq!((r.mean, r.ci95, r.episodes), (1.0, 0.0, 50));
        // All points equal: every query ties, the first prototype wins -> 1/3 accuracy.
        let same = vec![1.0f32; 120];
        let r = few_shot_accuracy(&same, 2, &labels, episodes(3, 5, 5, 40), 1).unwrap();
        assert!((r.mean - 1.0 / 3.0).abs() < 1e-12, "{r:?}");
    }
}
