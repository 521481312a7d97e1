//! [`Pipeline`]: augmentation steps applied in order to every image of a batch, each image with
//! its own seeded random stream (so a batch comes out the same whatever the thread count).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::image::Image;
use super::op::Step;
use crate::Result;

/// Steps applied in order (`{ ops = [{ op = "random_resized_crop" }, ...] }`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// The steps, first applied first.
    pub ops: Vec<Step>,
}

impl Pipeline {
    /// Checks every step; `key` (e.g. `augment.views[0]`) prefixes the errors.
    pub fn validate(&self, key: &str) -> Result<()> {
        self.ops
            .iter()
            .enumerate()
            .try_for_each(|(i, s)| s.validate(&format!("{key}.ops[{i}]")))
    }

    /// The `[c, h, w]` of the output for an input of `input`.
    pub fn output_shape(&self, input: [usize; 3]) -> [usize; 3] {
        let [c, h, w] = input;
        let [h, w] = self
            .ops
            .iter()
            .fold([h, w], |s, step| step.op.output_size(s));
        [c, h, w]
    }

    /// One image through every step.
    pub fn apply(&self, img: Image, rng: &mut ChaCha8Rng) -> Image {
        self.ops.iter().fold(img, |img, step| step.apply(img, rng))
    }

    /// Augments a flat batch of `n` images of `shape` (`[n * c * h * w]` values); image `i`
    /// draws from a stream seeded by `(seed, i)`. Returns `[n * output_shape]` values.
    pub fn apply_batch(&self, batch: &[f32], shape: [usize; 3], seed: u64) -> Vec<f32> {
        let [c, h, w] = shape;
        let len = c * h * w;
        let out: Vec<Vec<f32>> = batch
            .par_chunks(len)
            .enumerate()
            .map(|(i, values)| {
                let mut rng = ChaCha8Rng::seed_from_u64(sample_seed(seed, i));
                let img = Image {
                    c,
                    h,
                    w,
                    data: values.to_vec(),
                };
                self.apply(img, &mut rng).data
            })
            .collect();
        out.concat()
    }

    /// Whether some step is a text op (see [`AugmentOp::is_text`](super::AugmentOp)).
    pub fn has_text_ops(&self) -> bool {
        self.ops.iter().any(|s| s.op.is_text())
    }

    /// Whether some step is an image op.
    pub fn has_image_ops(&self) -> bool {
        self.ops.iter().any(|s| !s.op.is_text())
    }

    /// Augments a flat batch of token-id rows of `len` ids each with the (text) steps; row `i`
    /// draws from a stream seeded by `(seed, i)`.
    pub fn apply_token_batch(&self, batch: &[f32], len: usize, seed: u64) -> Vec<f32> {
        let mut out = batch.to_vec();
        out.par_chunks_mut(len.max(1))
            .enumerate()
            .for_each(|(i, row)| {
                let mut rng = ChaCha8Rng::seed_from_u64(sample_seed(seed, i));
                self.ops.iter().for_each(|s| s.apply_tokens(row, &mut rng));
            });
        out
    }
}

/// A distinct, reproducible stream per sample (image or token row) of a batch.
fn sample_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::AugmentOp;

    fn every_op() -> Pipeline {
        let text = r#"ops = [
            { op = "random_resized_crop", scale = [0.3, 1.0], size = [20, 20] },
            { op = "horizontal_flip", p = 0.5 },
            { op = "rotation", degrees = 20 },
            { op = "translate", fraction = 0.1 },
            { op = "affine", degrees = 10, translate = 0.1, scale = [0.9, 1.1], shear = 10 },
            { op = "brightness", strength = 0.4 },
            { op = "contrast", strength = 0.4 },
            { op = "gaussian_noise", std = 0.05 },
            { op = "gaussian_blur", sigma = [0.1, 1.0], p = 0.5 },
            { op = "cutout", size = 0.3 },
            { op = "solarize", threshold = 0.7, p = 0.2 },
            { op = "posterize", bits = 5, p = 0.3 },
            { op = "equalize", p = 0.3 },
            { op = "autocontrast", p = 0.3 },
            { op = "rand_augment", ops = 2, magnitude = 9 },
        ]"#;
        toml::from_str(text).unwrap()
    }

    fn batch(n: usize, c: usize) -> Vec<f32> {
        (0..n * c * 28 * 28)
            .map(|i| ((i * 7919) % 256) as f32 / 255.0)
            .collect()
    }

    #[test]
    fn every_op_keeps_shape_range_and_seed_for_grey_and_colour() {
        let p = every_op();
        p.validate("augment.views[0]").unwrap();
        for c in [1, 3] {
            let x = batch(6, c);
            assert_eq!(p.output_shape([c, 28, 28]), [c, 20, 20]);
            let a = p.apply_batch(&x, [c, 28, 28], 11);
            assert_eq!(a.len(), 6 * c * 400);
            assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(a, p.apply_batch(&x, [c, 28, 28], 11), "seeded");
            assert_ne!(a, p.apply_batch(&x, [c, 28, 28], 12));
            // Images of one batch get different draws.
            assert_ne!(a[..c * 400], a[c * 400..2 * c * 400]);
        }
        // Each op alone also keeps values in [0, 1] and the shape.
        for step in &p.ops {
            let one = Pipeline {
                ops: vec![step.clone()],
            };
            let out = one.apply_batch(&batch(2, 1), [1, 28, 28], 3);
            let [_, h, w] = one.output_shape([1, 28, 28]);
            assert_eq!(out.len(), 2 * h * w, "{:?}", step.op);
            assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{:?}", step.op);
        }
    }

    #[test]
    fn token_batches_are_seeded_per_row_and_keep_their_length() {
        let p: Pipeline = toml::from_str(
            "ops = [{ op = \"word_dropout\", rate = 0.3 }, { op = \"word_swap\", swaps = 2 }]",
        )
        .unwrap();
        assert!(p.has_text_ops() && !p.has_image_ops());
        let row: Vec<f32> = (0..40)
            .map(|i| if i < 10 { 0.0 } else { i as f32 })
            .collect();
        let batch: Vec<f32> = row.iter().chain(&row).copied().collect();
        let a = p.apply_token_batch(&batch, 40, 5);
        assert_eq!(a.len(), 80);
        assert_eq!(a, p.apply_token_batch(&batch, 40, 5), "seeded");
        assert_ne!(a, p.apply_token_batch(&batch, 40, 6));
        assert_ne!(a[..40], a[40..], "each row draws its own stream");
    }

    #[test]
    fn label_preserving_ops_keep_the_content() {
        // A flip applied twice, and crop / rotation / shift at zero strength, return the image.
        let x = batch(2, 1);
        let identity = [
            "ops = [{ op = \"horizontal_flip\" }, { op = \"horizontal_flip\" }]",
            "ops = [{ op = \"random_resized_crop\", scale = [1.0, 1.0], ratio = [1.0, 1.0] }]",
            "ops = [{ op = \"rotation\", degrees = 0 }, { op = \"translate\", fraction = 0 }]",
        ];
        for text in identity {
            let p: Pipeline = toml::from_str(text).unwrap();
            let out = p.apply_batch(&x, [1, 28, 28], 1);
            for (a, b) in out.iter().zip(&x) {
                assert!((a - b).abs() < 1e-5, "{text}");
            }
        }
        let skip = Pipeline {
            ops: vec![Step {
                op: AugmentOp::Equalize {},
                p: 0.0,
            }],
        };
        assert_eq!(
            skip.apply_batch(&x, [1, 28, 28], 1),
            x,
            "p = 0 never applies"
        );
    }
}
