//! CLIP's two towers: the recipe's image model, a bag-of-embeddings text encoder with the same
//! output width, and the learned log inverse temperature.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use super::loss::{MAX_SCALE, clip_logits, clip_loss};
use crate::Result;
use crate::model::{ActivationKind, LayerConfig, Sequential, SequentialConfig};

/// An image encoder and a text encoder trained to agree.
#[derive(Module, Debug)]
pub struct Clip {
    /// The image tower (the recipe's `[model]`), saved as the run's model.
    pub image: Sequential,
    /// The text tower: bag-of-words frequencies, dense `text_units` ReLU, dense to the image
    /// tower's width (a dense layer on word frequencies is the mean of word embeddings).
    pub text: Sequential,
    /// `ln` of the similarity scale (the inverse temperature), learned.
    pub log_scale: Param<Tensor<1>>,
}

/// The text tower's layers: `text_units` hidden ReLU units, then embeddings of `dims`.
pub fn text_tower(text_units: usize, dims: usize) -> SequentialConfig {
    let dense = |units, activation| LayerConfig::Dense {
        units,
        activation,
        init: Default::default(),
        bias: true,
    };
    SequentialConfig {
        layers: vec![
            dense(text_units, ActivationKind::Relu),
            dense(dims, ActivationKind::Linear),
        ],
    }
}

impl Clip {
    /// Joins `image` (whose output has `dims` values) with a new text tower over `vocab` words;
    /// the scale starts at `1 / temperature`.
    pub fn new(
        image: Sequential,
        dims: usize,
        vocab: usize,
        text_units: usize,
        temperature: f64,
        device: &Device,
    ) -> Result<Self> {
        let text = text_tower(text_units, dims).build(&[vocab], device)?;
        let start = (1.0 / temperature).ln() as f32;
        let log_scale =
            Param::from_tensor(Tensor::from_data(TensorData::new(vec![start], [1]), device));
        Ok(Self {
            image,
            text,
            log_scale,
        })
    }

    /// Image embeddings of a flat batch `[n, c*h*w]`.
    pub fn embed_images(&self, images: Tensor<2>) -> Tensor<2> {
        self.image.forward_logits(self.image.reshape_input(images))
    }

    /// Text embeddings of bag-of-words rows `[n, vocab]`.
    pub fn embed_texts(&self, bags: Tensor<2>) -> Tensor<2> {
        self.text.forward_logits(self.text.reshape_input(bags))
    }

    /// The symmetric loss of `n` image-caption pairs.
    pub fn loss(&self, images: Tensor<2>, bags: Tensor<2>) -> Result<Tensor<1>> {
        clip_loss(
            self.embed_images(images),
            self.embed_texts(bags),
            self.log_scale.val(),
        )
    }

    /// Scaled cosine similarities of image embeddings `[n, d]` against text embeddings
    /// `[m, d]`.
    pub fn similarities(&self, image_emb: Tensor<2>, text_emb: Tensor<2>) -> Tensor<2> {
        clip_logits(image_emb, text_emb, self.log_scale.val())
    }

    /// The current similarity scale (inverse temperature).
    pub fn scale(&self) -> f64 {
        (self.log_scale.val().into_scalar::<f32>() as f64).exp()
    }

    /// Keeps the scale in `[1, MAX_SCALE]` by clipping the parameter itself (after an optimiser
    /// step, as CLIP does), so the loss's gradient on it never vanishes.
    pub fn clip_scale(mut self) -> Self {
        let max = MAX_SCALE.ln() as f32;
        self.log_scale = self
            .log_scale
            .map(|t| t.clamp(0.0, max).detach().require_grad());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SequentialConfig;

    #[test]
    fn the_scale_is_clipped_as_a_parameter_and_keeps_learning() {
        let device = Device::flex().autodiff();
        let text = "[[layers]]\ntype = \"dense\"\nunits = 3";
        let image: SequentialConfig = toml::from_str(text).unwrap();
        let image = image.build(&[4], &device).unwrap();
        // Starts at 1/0.001 = 1000: clipped to 100, and the gradient still reaches it.
        let clip = Clip::new(image, 3, 5, 4, 0.001, &device)
            .unwrap()
            .clip_scale();
        assert!((clip.scale() - MAX_SCALE).abs() < 1e-3, "{}", clip.scale());
        let x = Tensor::<2>::from_data(
            TensorData::new((0..12).map(|v| v as f32).collect(), [3, 4]),
            &device,
        );
        let bags = Tensor::<2>::from_data(
            TensorData::new((0..15).map(|v| (v % 4) as f32).collect(), [3, 5]),
            &device,
        );
        let grads = clip.loss(x, bags).unwrap().backward();
        assert!(clip.log_scale.grad(&grads).is_some());
    }
}
