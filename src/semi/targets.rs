//! What the unsupervised terms are built from: confident pseudo-labels with their mask,
//! temperature sharpening, entropies, and MixUp's convex mixing (seed 003 19.3.1-19.3.2,
//! Berthelot et al. 2019, Sohn et al. 2020).

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Beta, Distribution};

/// Hard pseudo-labels of an unlabelled batch and which of them count.
#[derive(Debug, Clone, PartialEq)]
pub struct PseudoLabels {
    /// The most probable class of each sample.
    pub labels: Vec<u32>,
    /// 1 where that class's probability reached the threshold, else 0.
    pub mask: Vec<f32>,
}

impl PseudoLabels {
    /// The argmax of every row of `probs` (`[n * classes]`, row-major), kept where its
    /// probability is at least `threshold` (`threshold = 0` keeps every sample).
    pub fn confident(probs: &[f32], classes: usize, threshold: f64) -> Self {
        let (labels, mask) = probs
            .chunks(classes)
            .map(|row| {
                let (best, p) =
                    row.iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |acc, (c, &p)| {
                                if p > acc.1 { (c, p) } else { acc }
                            },
                        );
                (best as u32, if p >= threshold as f32 { 1.0 } else { 0.0 })
            })
            .unzip();
        Self { labels, mask }
    }

    /// The share of samples kept (the "mask rate").
    pub fn mask_rate(&self) -> f64 {
        self.mask.iter().map(|&m| m as f64).sum::<f64>() / self.mask.len().max(1) as f64
    }

    /// How many pseudo-labels are kept and how many of those equal `truth` (diagnosis only:
    /// the hidden labels of unlabelled data never reach the loss).
    pub fn kept_and_right(&self, truth: &[u32]) -> (usize, usize) {
        let kept = self
            .labels
            .iter()
            .zip(&self.mask)
            .zip(truth)
            .filter(|((_, m), _)| **m > 0.0);
        kept.fold((0, 0), |(k, r), ((l, _), t)| {
            (k + 1, r + usize::from(l == t))
        })
    }

    /// The labels `[n]` and the mask `[n]` as tensors on `device`.
    pub fn tensors(&self, device: &Device) -> (Tensor<1, Int>, Tensor<1>) {
        let n = self.labels.len();
        let labels: Vec<i64> = self.labels.iter().map(|&l| l as i64).collect();
        (
            Tensor::from_data(TensorData::new(labels, [n]), device),
            Tensor::from_data(TensorData::new(self.mask.clone(), [n]), device),
        )
    }
}

/// Cross-entropy of each row against its label, weighted by `mask` and averaged over all rows
/// (FixMatch's normalisation: masked-out samples count in the denominator).
///
/// # Shapes
/// - `logits`: `[n, classes]`; `labels`, `mask`: `[n]`; returns `[1]`
pub fn masked_cross_entropy(
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
    mask: Tensor<1>,
) -> Tensor<1> {
    let [n, _] = logits.dims();
    let picked = log_softmax(logits, 1).gather(1, labels.reshape([n, 1]));
    picked.reshape([n]).mul(mask).neg().mean()
}

/// Each row of `probs` raised to `1 / temperature` and renormalised (MixMatch's sharpening):
/// `temperature = 1` changes nothing, `temperature -> 0` tends to the one-hot argmax.
///
/// # Shapes
/// - `probs`: `[n, classes]`, rows summing to 1; returns the same shape
pub fn sharpen(probs: Tensor<2>, temperature: f64) -> Tensor<2> {
    softmax(probs.clamp_min(1e-12).log().div_scalar(temperature), 1)
}

/// The mean over rows of the entropy of `softmax(logits)`:
/// `-1/n Σ_i Σ_k p_ik log p_ik` (Grandvalet & Bengio 2005).
///
/// # Shapes
/// - `logits`: `[n, classes]`; returns `[1]`
pub fn mean_entropy(logits: Tensor<2>) -> Tensor<1> {
    let logp = log_softmax(logits, 1);
    logp.clone().exp().mul(logp).sum_dim(1).neg().mean()
}

/// The entropy of the mean prediction, `-Σ_k p̄_k log p̄_k` with `p̄ = 1/n Σ_i softmax(x_i)`.
///
/// # Shapes
/// - `logits`: `[n, classes]`; returns `[1]`
pub fn entropy_of_mean(logits: Tensor<2>) -> Tensor<1> {
    let mean = softmax(logits, 1).mean_dim(0);
    mean.clone().mul(mean.clamp_min(1e-12).log()).sum().neg()
}

/// MixUp's coefficient as MixMatch draws it: `λ ~ Beta(α, α)`, then `max(λ, 1 - λ)` so that the
/// mixed sample stays closer to its first input.
pub fn mixmatch_lambda(alpha: f64, rng: &mut impl Rng) -> f64 {
    let beta = Beta::new(alpha, alpha).expect("alpha > 0 is checked with the recipe");
    let l: f64 = beta.sample(rng);
    l.max(1.0 - l)
}

/// `λ a + (1 - λ) b`, row by row.
pub fn mix(a: Tensor<2>, b: Tensor<2>, lambda: f64) -> Tensor<2> {
    a.mul_scalar(lambda) + b.mul_scalar(1.0 - lambda)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn t2(rows: &[&[f32]]) -> Tensor<2> {
        let n = rows.len();
        let k = rows[0].len();
        let v: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(v, [n, k]), &Device::flex())
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn confident_labels_keep_rows_at_or_above_the_threshold() {
        let probs = [0.96, 0.04, 0.5, 0.5, 0.1, 0.9];
        let p = PseudoLabels::confident(&probs, 2, 0.9);
        assert_eq!(p.labels, vec![0, 0, 1]);
        assert_eq!(p.mask, vec![1.0, 0.0, 1.0]);
        assert!((p.mask_rate() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(p.kept_and_right(&[0, 1, 0]), (2, 1));
        assert_eq!(
            PseudoLabels::confident(&probs, 2, 0.99).kept_and_right(&[0, 0, 0]),
            (0, 0)
        );
        assert_eq!(PseudoLabels::confident(&probs, 2, 0.0).mask_rate(), 1.0);
    }

    #[test]
    fn masked_cross_entropy_averages_over_every_row() {
        let logits = t2(&[&[0.0, 0.0], &[2.0, 0.0]]);
        let device = Device::flex();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let mask = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 0.0], [2]), &device);
        // Only row 0 counts: -log(1/2), divided by both rows.
        let got = values(masked_cross_entropy(logits, labels, mask))[0];
        assert!((got - std::f32::consts::LN_2 / 2.0).abs() < 1e-6, "{got}");
    }

    #[test]
    fn sharpening_at_one_is_the_identity_and_near_zero_is_one_hot() {
        let p = t2(&[&[0.2, 0.5, 0.3]]);
        let same = values(sharpen(p.clone(), 1.0));
        for (a, b) in same.iter().zip([0.2, 0.5, 0.3]) {
            assert!((a - b).abs() < 1e-6, "{same:?}");
        }
        let hard = values(sharpen(p.clone(), 1e-3));
        assert!(
            (hard[1] - 1.0).abs() < 1e-6 && hard[0] < 1e-6 && hard[2] < 1e-6,
            "{hard:?}"
        );
        // T = 0.5 squares and renormalises.
        let half = values(sharpen(p, 0.5));
        let z = 0.04 + 0.25 + 0.09;
        for (a, b) in half.iter().zip([0.04 / z, 0.25 / z, 0.09 / z]) {
            assert!((a - b).abs() < 1e-6, "{half:?}");
        }
    }

    #[test]
    fn entropies_of_uniform_and_one_hot_predictions() {
        let ln3 = 3f32.ln();
        let uniform = t2(&[&[0.0, 0.0, 0.0], &[1.0, 1.0, 1.0]]);
        assert!((values(mean_entropy(uniform.clone()))[0] - ln3).abs() < 1e-5);
        assert!((values(entropy_of_mean(uniform))[0] - ln3).abs() < 1e-5);
        // Confident rows on different classes: each row's entropy is ~0, their mean is
        // spread over two classes (ln 2).
        let sure = t2(&[&[30.0, 0.0, 0.0], &[0.0, 30.0, 0.0]]);
        assert!(values(mean_entropy(sure.clone()))[0].abs() < 1e-5);
        assert!((values(entropy_of_mean(sure))[0] - std::f32::consts::LN_2).abs() < 1e-5);
    }

    #[test]
    fn mixup_is_convex_and_leans_to_its_first_input() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let l = mixmatch_lambda(0.5, &mut rng);
            assert!((0.5..=1.0).contains(&l), "{l}");
        }
        let a = t2(&[&[1.0, 0.0], &[0.0, 4.0]]);
        let b = t2(&[&[0.0, 1.0], &[2.0, 0.0]]);
        let m = values(mix(a, b, 0.75));
        let want = [0.75, 0.25, 0.5, 3.0];
        for (x, y) in m.iter().zip(want) {
            assert!((x - y).abs() < 1e-6, "{m:?}");
        }
        // One-hot targets stay distributions.
        let q = values(mix(t2(&[&[1.0, 0.0]]), t2(&[&[0.0, 1.0]]), 0.6));
        assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
