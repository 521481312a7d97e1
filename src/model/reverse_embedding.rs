//! The model's embedding table read backwards (KerasHub's `ReversibleEmbedding` called with
//! `reverse=True`): a language model's output head that shares its weights with the input
//! embedding, as GPT-2 and BERT do (Press & Wolf 2017, "Using the Output Embedding to Improve
//! Language Models").
//!
//! ```text
//! logits = x E^T + b        E: the embedding table [vocab, d], b: a bias [vocab]
//! ```
//!
//! Only the bias belongs to this layer; the table stays the embedding layer's, so its
//! gradient sums what both uses ask of it. [`Sequential`](super::Sequential) hands the table
//! over when it runs the layer.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use super::activation::{Activation, ActivationKind};
use super::features::Features;

/// An output head tied to the model's embedding table.
#[derive(Module, Debug)]
pub struct ReverseEmbedding {
    /// One bias per vocabulary entry, starting at zero.
    pub bias: Param<Tensor<1>>,
    /// Applied to the scores.
    pub activation: Activation,
}

impl ReverseEmbedding {
    /// A head for a table of `vocab` rows.
    pub fn new(vocab: usize, activation: ActivationKind, device: &Device) -> Self {
        Self {
            bias: Param::from_tensor(Tensor::zeros([vocab], device)),
            activation: activation.init(vocab, device),
        }
    }

    /// Scores of every vocabulary entry against `x`, with `table` the embedding's `[vocab, d]`.
    ///
    /// # Shapes
    /// - input: `[batch, d]` or `[batch, time, d]`
    /// - output: `[batch, vocab]` or `[batch, time, vocab]`
    pub fn forward(&self, x: Features, table: Tensor<2>) -> Features {
        let weight = table.transpose();
        let bias = self.bias.val();
        let y = match x {
            Features::Flat(x) => Features::Flat(x.matmul(weight) + bias.unsqueeze()),
            Features::Sequence { values, mask } => Features::Sequence {
                values: values.matmul(weight.unsqueeze()) + bias.unsqueeze(),
                mask,
            },
            Features::Image(_) => unreachable!("checked when the model is built"),
        };
        self.activation.forward(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn scores_are_dot_products_with_the_table_rows_plus_bias() {
        let device = Device::flex();
        let table = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 2.0, 1.0, 1.0], [3, 2]),
            &device,
        );
        let mut head = ReverseEmbedding::new(3, ActivationKind::Linear, &device);
        head.bias = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.5f32, 0.0, -1.0], [3]),
            &device,
        ));
        let x = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 4.0], [1, 2]), &device);
        let flat = head.forward(Features::Flat(x.clone()), table.clone());
        let got: Vec<f32> = flat.into_flat().into_data().try_to_vec().unwrap();
        assert_eq!(got, vec![3.5, 8.0, 6.0]);
        let (seq, _) = head
            .forward(Features::sequence(x.reshape([1, 1, 2])), table)
            .into_sequence();
        assert_eq!(seq.dims(), [1, 1, 3]);
        let got: Vec<f32> = seq.into_data().try_to_vec().unwrap();
        assert_eq!(got, vec![3.5, 8.0, 6.0]);
    }
}
