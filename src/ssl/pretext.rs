//! The objectives a self-supervised run trains its encoder with, one batch at a time. Each is a
//! transform of the batch (views, quarter turns, hidden patches) and a loss on the model's
//! output; the loop around them is `train::fit_pretext`.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::masking::hide_patches;
use super::rotation::{ROTATIONS, rotation_batch};
use crate::contrastive::{nt_xent, supervised_contrastive};
use crate::losses::sparse_categorical_cross_entropy;
use crate::model::Sequential;
use crate::{Error, Result};

/// A self-supervised objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pretext {
    /// SimCLR: NT-Xent over two views of each image (S4).
    NtXent {
        /// Softmax temperature.
        temperature: f64,
    },
    /// Supervised contrastive: every image of the same class is a positive (S5).
    SupCon {
        /// Softmax temperature.
        temperature: f64,
    },
    /// Which of four quarter turns was applied (S3); the model ends in 4 units.
    Rotation,
    /// Reconstruct hidden `patch x patch` cells (a share `ratio` of them) from the rest (S2);
    /// the model ends in one unit per pixel and is scored on the hidden pixels only.
    MaskedImage {
        /// Side of a hidden cell, pixels.
        patch: usize,
        /// Probability that a cell is hidden.
        ratio: f64,
    },
}

/// A pretext objective with the part of the model it trains for later use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PretextSpec {
    /// The objective.
    pub objective: Pretext,
    /// The encoder is the model's first `encoder_layers` layers (the rest is a head that is
    /// dropped afterwards); the kNN monitor and the run's measures use its output.
    pub encoder_layers: usize,
    /// Labelled training images the kNN monitor compares against (0: no monitor).
    pub monitor_reference: usize,
}

impl Pretext {
    /// Augmented views each image is drawn as.
    pub fn views(&self) -> usize {
        match self {
            Self::NtXent { .. } | Self::SupCon { .. } => 2,
            Self::Rotation | Self::MaskedImage { .. } => 1,
        }
    }

    /// Checks, before training, that the objective fits images of `sample_shape` and a model
    /// whose output has `units` values.
    pub fn check(&self, sample_shape: &[usize], units: usize) -> Result<()> {
        let &[c, h, w] = sample_shape else {
            return Err(Error::invalid(
                "data",
                format!(
                    "self-supervised pre-training needs images [channels, height, width]; the samples have shape {sample_shape:?}"
                ),
            ));
        };
        match *self {
            Self::Rotation if h != w => Err(Error::invalid(
                "method",
                format!("rotation prediction needs square images, got {h}x{w}"),
            )),
            Self::Rotation if units != ROTATIONS => Err(Error::invalid(
                "model.layers",
                format!(
                    "rotation prediction needs a last layer of {ROTATIONS} units (one per quarter turn), got {units}"
                ),
            )),
            Self::MaskedImage { .. } if units != c * h * w => Err(Error::invalid(
                "model.layers",
                format!(
                    "masked-image reconstruction needs a last layer of {} units (one per input value), got {units}",
                    c * h * w
                ),
            )),
            Self::MaskedImage { patch, .. } if patch >= h.min(w) => Err(Error::invalid(
                "method.patch",
                format!(
                    "must be smaller than the {h}x{w} images (a {patch}x{patch} cell would hide all of them), got {patch}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// True when the objective needs class labels.
    pub fn needs_labels(&self) -> bool {
        matches!(self, Self::SupCon { .. })
    }

    /// The loss of one batch. `views` holds the batch's images (`[c, h, w]` each) drawn once
    /// per view, view after view; `labels` are the images' classes (SupCon); `seed` draws the
    /// hidden patches. `device` has autodiff.
    pub fn loss(
        &self,
        model: &Sequential,
        views: Vec<f32>,
        labels: Option<&[u32]>,
        shape: [usize; 3],
        seed: u64,
        device: &Device,
    ) -> Result<Tensor<1>> {
        let size = shape.iter().product::<usize>();
        let batch = |values: Vec<f32>| {
            let rows = values.len() / size;
            model.reshape_input(Tensor::<2>::from_data(
                TensorData::new(values, [rows, size]),
                device,
            ))
        };
        match *self {
            Self::NtXent { temperature } => {
                nt_xent(model.forward_logits(batch(views)), temperature)
            }
            Self::SupCon { temperature } => {
                let labels = labels.ok_or_else(|| {
                    Error::invalid(
                        "method",
                        "supervised contrastive learning needs class labels",
                    )
                })?;
                let both: Vec<u32> = labels.iter().chain(labels).copied().collect();
                supervised_contrastive(model.forward_logits(batch(views)), &both, temperature)
            }
            Self::Rotation => {
                let (values, turns) = rotation_batch(&views, shape)?;
                let logits = model.forward_logits(batch(values));
                self.check(&shape, logits.dims()[1])?;
                let n = turns.len();
                let targets = Tensor::<1, Int>::from_data(
                    TensorData::new(turns, [n]).convert::<i64>(),
                    device,
                );
                Ok(sparse_categorical_cross_entropy(logits, targets))
            }
            Self::MaskedImage { patch, ratio } => {
                let rows = views.len() / size;
                let mask = hide_patches(&views, shape, patch, ratio, 0.0, seed);
                let out = model.forward(batch(mask.masked));
                self.check(&shape, out.dims()[1])?;
                let hidden_count = mask.hidden.iter().sum::<f32>().max(1.0);
                let target = Tensor::<2>::from_data(TensorData::new(views, [rows, size]), device);
                let hidden =
                    Tensor::<2>::from_data(TensorData::new(mask.hidden, [rows, size]), device);
                let err = (out - target).powf_scalar(2.0) * hidden;
                Ok(err.sum().div_scalar(hidden_count))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SequentialConfig;

    fn model(units: usize, activation: &str, init: &str, device: &Device) -> Sequential {
        let text = format!(
            "[[layers]]\ntype = \"flatten\"\n[[layers]]\ntype = \"dense\"\nunits = {units}\nactivation = \"{activation}\"\ninit = \"{init}\""
        );
        let cfg: SequentialConfig = toml::from_str(&text).unwrap();
        cfg.build(&[1, 4, 4], device).unwrap()
    }

    #[test]
    fn rotation_scores_four_turns_and_rejects_other_heads() {
        let device = Device::flex().autodiff();
        let views: Vec<f32> = (0..3 * 16).map(|v| (v % 7) as f32 / 7.0).collect();
        let loss = Pretext::Rotation
            .loss(
                &model(4, "softmax", "glorot_uniform", &device),
                views.clone(),
                None,
                [1, 4, 4],
                1,
                &device,
            )
            .unwrap();
        let v = loss.into_scalar::<f32>();
        assert!(v.is_finite() && v > 0.0, "{v}");
        let err = Pretext::Rotation
            .loss(
                &model(10, "softmax", "glorot_uniform", &device),
                views,
                None,
                [1, 4, 4],
                1,
                &device,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("4 units"), "{err}");
    }

    #[test]
    fn masked_image_scores_only_the_hidden_pixels() {
        let device = Device::flex().autodiff();
        // A sigmoid head of zero weights outputs 0.5 everywhere, so the loss is the mean of
        // (0.5 - v)^2 over the hidden pixels only, which differs from the mean over all pixels.
        let m = model(16, "sigmoid", "zeros", &device);
        let objective = Pretext::MaskedImage {
            patch: 2,
            ratio: 0.5,
        };
        let views: Vec<f32> = (0..2 * 16).map(|v| (v % 5) as f32 / 4.0).collect();
        let loss = objective
            .loss(&m, views.clone(), None, [1, 4, 4], 3, &device)
            .unwrap()
            .into_scalar::<f32>();
        let mask = super::super::hide_patches(&views, [1, 4, 4], 2, 0.5, 0.0, 3);
        let (mut sum, mut count) = (0.0f32, 0.0f32);
        for (v, h) in views.iter().zip(&mask.hidden) {
            sum += h * (0.5 - v).powi(2);
            count += h;
        }
        assert!(
            (loss - sum / count).abs() < 1e-6,
            "{loss} vs {}",
            sum / count
        );
        let everywhere = views.iter().map(|v| (0.5 - v).powi(2)).sum::<f32>() / 32.0;
        assert!(
            (loss - everywhere).abs() > 1e-4,
            "the draw must tell the two apart"
        );
        let err = objective
            .loss(
                &model(4, "sigmoid", "glorot_uniform", &device),
                vec![0.0; 16],
                None,
                [1, 4, 4],
                3,
                &device,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("16 units"), "{err}");
        // Before training: the same checks, and a cell as large as the image.
        assert!(objective.check(&[1, 4, 4], 16).is_ok());
        assert!(
            objective
                .check(&[1, 4, 4], 4)
                .unwrap_err()
                .to_string()
                .contains("16 units")
        );
        let whole = Pretext::MaskedImage {
            patch: 4,
            ratio: 0.5,
        };
        assert!(
            whole
                .check(&[1, 4, 4], 16)
                .unwrap_err()
                .to_string()
                .contains("method.patch")
        );
        let err = Pretext::Rotation
            .check(&[1, 4, 5], 4)
            .unwrap_err()
            .to_string();
        assert!(err.contains("square"), "{err}");
        assert!(
            Pretext::Rotation
                .check(&[16], 4)
                .unwrap_err()
                .to_string()
                .contains("images")
        );
    }
}
