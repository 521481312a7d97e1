//! The two language-model objectives of seed 001 (Transformer 6/6): BERT's masked pieces and
//! GPT's next piece. Both score the model at some positions of a batch of subword sequences:
//! the encoder runs on the whole batch, and only the scored positions go through the output
//! head, so a large vocabulary costs nothing at the others.
//!
//! ```text
//! masked:     loss = mean over chosen positions i of -log p(x_i | x with the chosen hidden)
//! next token: loss = mean over real positions i >= 1 of -log p(x_i | x_0 .. x_{i-1})
//! perplexity = exp(next-token loss)
//! ```

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::masking::mask_tokens;
use crate::data::SUBWORD_PAD;
use crate::losses::sparse_categorical_cross_entropy;
use crate::model::{Features, Sequential};

/// A pre-training objective on subword sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LmObjective {
    /// BERT: predict the pieces chosen with probability `ratio` (80/10/10 rule).
    Masked {
        /// Share of the pieces chosen.
        ratio: f64,
    },
    /// GPT: predict every piece from the ones before it (the model must be causal).
    NextToken,
}

/// The inputs of a batch and where it is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct LmBatch {
    /// `[rows, seq_len]` ids as the model reads them.
    pub inputs: Vec<u32>,
    /// Length of each row.
    pub seq_len: usize,
    /// Scored positions, flat indices into `inputs`.
    pub positions: Vec<usize>,
    /// The piece expected at each scored position.
    pub targets: Vec<u32>,
}

impl LmObjective {
    /// The batch of `ids` (rows of `seq_len`) this objective trains on; `seed` draws the
    /// masked positions.
    pub fn batch(&self, ids: &[u32], seq_len: usize, vocab_size: usize, seed: u64) -> LmBatch {
        match *self {
            Self::Masked { ratio } => {
                let m = mask_tokens(ids, seq_len, vocab_size, ratio, seed);
                LmBatch {
                    inputs: m.inputs,
                    seq_len,
                    positions: m.positions,
                    targets: m.targets,
                }
            }
            Self::NextToken => {
                let (mut positions, mut targets) = (Vec::new(), Vec::new());
                for (r, row) in ids.chunks_exact(seq_len).enumerate() {
                    for i in 0..seq_len.saturating_sub(1) {
                        if row[i + 1] != SUBWORD_PAD {
                            positions.push(r * seq_len + i);
                            targets.push(row[i + 1]);
                        }
                    }
                }
                LmBatch {
                    inputs: ids.to_vec(),
                    seq_len,
                    positions,
                    targets,
                }
            }
        }
    }
}

/// The output head's raw scores `[positions, vocab]` at the batch's scored positions: the
/// first `encoder_layers` layers of `model` run on the whole batch, the rest on the scored
/// positions' vectors only.
pub fn lm_logits(
    model: &Sequential,
    encoder_layers: usize,
    batch: &LmBatch,
    device: &Device,
) -> Tensor<2> {
    let rows = batch.inputs.len() / batch.seq_len;
    let values: Vec<f32> = batch.inputs.iter().map(|&id| id as f32).collect();
    let x = Tensor::<2>::from_data(TensorData::new(values, [rows, batch.seq_len]), device);
    let (hidden, _) = model
        .forward_prefix(model.reshape_input(x), encoder_layers)
        .into_sequence();
    let [_, t, d] = hidden.dims();
    let index: Vec<i64> = batch.positions.iter().map(|&p| p as i64).collect();
    let index =
        Tensor::<1, Int>::from_data(TensorData::new(index, [batch.positions.len()]), device);
    let picked = hidden.reshape([rows * t, d]).select(0, index);
    model.forward_from(Features::Flat(picked), encoder_layers)
}

/// Mean cross-entropy over the scored positions and the number predicted right.
pub fn lm_loss(
    model: &Sequential,
    encoder_layers: usize,
    batch: &LmBatch,
    device: &Device,
) -> (Tensor<1>, usize) {
    let logits = lm_logits(model, encoder_layers, batch, device);
    let targets: Vec<i64> = batch.targets.iter().map(|&t| i64::from(t)).collect();
    let targets =
        Tensor::<1, Int>::from_data(TensorData::new(targets, [batch.targets.len()]), device);
    let predicted: Vec<i64> = logits
        .clone()
        .detach()
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default();
    let right = predicted
        .iter()
        .zip(&batch.targets)
        .filter(|&(&p, &t)| p == i64::from(t))
        .count();
    (
        sparse_categorical_cross_entropy(logits, targets).mean(),
        right,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivationKind, LayerConfig, SequentialConfig};

    #[test]
    fn next_token_scores_every_real_successor_only() {
        // [CLS] a b [SEP] [PAD] | [CLS] c [SEP] [PAD] [PAD]
        let ids = [2, 7, 8, 3, 0, 2, 9, 3, 0, 0];
        let b = LmObjective::NextToken.batch(&ids, 5, 20, 0);
        assert_eq!(b.positions, [0, 1, 2, 5, 6]);
        assert_eq!(b.targets, [7, 8, 3, 9, 3]);
        assert_eq!(b.inputs, ids);
    }

    fn tiny_lm(causal: bool) -> Sequential {
        let mut encoder: LayerConfig = toml::from_str(&format!(
            "type = \"transformer_encoder\"\nheads = 2\nff_dim = 16\ndropout = 0.0\ncausal = {causal}"
        ))
        .unwrap();
        if let LayerConfig::TransformerEncoder { layers, .. } = &mut encoder {
            *layers = 1;
        }
        SequentialConfig::new()
            .add(
                toml::from_str(
                    "type = \"embedding\"\ninput_dim = 20\noutput_dim = 8\nmask_zero = true",
                )
                .unwrap(),
            )
            .add(
                toml::from_str("type = \"positional_encoding\"\nkind = \"learned\"\nmax_len = 8")
                    .unwrap(),
            )
            .add(encoder)
            .add(LayerConfig::dense(20, ActivationKind::Softmax))
            .build_token_model(&[6], &Device::flex())
            .unwrap()
    }

    #[test]
    fn the_loss_reads_only_the_scored_positions() {
        let device = Device::flex();
        device.seed(5);
        let model = tiny_lm(false);
        let ids: Vec<u32> = vec![2, 7, 8, 9, 3, 0, 2, 11, 12, 3, 0, 0];
        let batch = LmObjective::Masked { ratio: 0.5 }.batch(&ids, 6, 20, 3);
        let (loss, _) = lm_loss(&model, 3, &batch, &device);
        // The same loss from the full output, averaged over the chosen positions by hand.
        let x = Tensor::<2>::from_data(
            TensorData::new(batch.inputs.iter().map(|&v| v as f32).collect(), [2, 6]),
            &device,
        );
        let logits = model.forward_prefix(model.reshape_input(x), 4).flatten(); // [2, 6 * 20]
        let all: Vec<f32> = logits
            .reshape([12, 20])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let mut sum = 0.0f64;
        for (&p, &t) in batch.positions.iter().zip(&batch.targets) {
            let row = &all[p * 20..(p + 1) * 20];
            let max = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&v| (v as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            sum += lse - row[t as usize] as f64;
        }
        let expected = sum / batch.positions.len() as f64;
        let got = loss.into_scalar::<f32>() as f64;
        assert!((got - expected).abs() < 1e-4, "{got} vs {expected}");
    }
}
