//! Continuing a prompt with a next-piece model (GPT-style generation, seed 001 Transformer
//! 6/6): the prompt's pieces after `[CLS]`, then one drawn piece at a time until `[SEP]` or the
//! budget. The context is the model's window: a prompt longer than it keeps its end, and a long
//! continuation slides the window along.

use burn::tensor::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::objective::{LmBatch, lm_logits};
use super::sampling::Sampling;
use crate::data::{
    SUBWORD_CLS, SUBWORD_MASK, SUBWORD_PAD, SUBWORD_SEP, SUBWORD_UNK, SubwordEncoding,
};
use crate::model::Sequential;

/// Pieces never drawn: padding, unknown, `[CLS]` and `[MASK]`.
const BANNED: [u32; 4] = [SUBWORD_PAD, SUBWORD_UNK, SUBWORD_CLS, SUBWORD_MASK];

/// A prompt as the model reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// `[CLS]` and the prompt's pieces, at most the window less one (room for the next piece).
    pub ids: Vec<u32>,
    /// Pieces cut from the prompt's start to fit the window (0 when it fits).
    pub dropped: usize,
}

impl Prompt {
    /// Encodes `text` for a window of `encoding.maxlen` pieces.
    pub fn new(encoding: &SubwordEncoding, text: &str) -> Self {
        let pieces = encoding.pieces(text);
        let room = encoding.maxlen - 2; // [CLS] and the piece to come
        let dropped = pieces.len().saturating_sub(room);
        let mut ids = Vec::with_capacity(encoding.maxlen);
        ids.push(SUBWORD_CLS);
        ids.extend_from_slice(&pieces[dropped..]);
        Self { ids, dropped }
    }
}

/// A causal language model ready to continue prompts.
pub struct Generator<'a> {
    /// The model (without autodiff).
    pub model: &'a Sequential,
    /// Its first `decoder_layers` layers are the decoder; the rest is the output head.
    pub decoder_layers: usize,
    /// The context window (the run's sequence length).
    pub window: usize,
    /// Where it runs.
    pub device: &'a Device,
}

impl Generator<'_> {
    /// Draws up to `max_pieces` pieces after `prompt`, seeded; returns them without a final
    /// `[SEP]`.
    pub fn continue_prompt(
        &self,
        prompt: &Prompt,
        max_pieces: usize,
        sampling: &Sampling,
        seed: u64,
    ) -> Vec<u32> {
        let window = self.window;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut context = prompt.ids.clone();
        let mut drawn = Vec::new();
        while drawn.len() < max_pieces {
            if context.len() >= window {
                // Keep [CLS] and the latest pieces.
                let tail = context[context.len() - (window - 2)..].to_vec();
                context = std::iter::once(SUBWORD_CLS).chain(tail).collect();
            }
            let mut inputs = context.clone();
            inputs.resize(window, SUBWORD_PAD);
            let batch = LmBatch {
                inputs,
                seq_len: window,
                positions: vec![context.len() - 1],
                targets: vec![0],
            };
            let scores: Vec<f32> = lm_logits(self.model, self.decoder_layers, &batch, self.device)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            let next = sampling.draw(&scores, &BANNED, &mut rng);
            if next == SUBWORD_SEP {
                break;
            }
            drawn.push(next);
            context.push(next);
        }
        drawn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SubwordVocab;
    use crate::model::SequentialConfig;

    fn encoding(maxlen: usize) -> SubwordEncoding {
        let corpus = ["the film was good", "the film was bad", "a good film"];
        let vocab = SubwordVocab::train(corpus.iter().cycle().take(30), 300, 2).unwrap();
        SubwordEncoding::new(vocab, maxlen).unwrap()
    }

    fn model(vocab: usize, window: usize, device: &Device) -> Sequential {
        let cfg: SequentialConfig = toml::from_str(&format!(
            r#"
[[layers]]
type = "embedding"
input_dim = {vocab}
output_dim = 8
mask_zero = true
[[layers]]
type = "positional_encoding"
kind = "learned"
max_len = {window}
[[layers]]
type = "transformer_encoder"
heads = 2
ff_dim = 16
dropout = 0.0
causal = true
[[layers]]
type = "dense"
units = {vocab}
activation = "softmax"
"#
        ))
        .unwrap();
        cfg.build_token_model(&[window], device).unwrap()
    }

    #[test]
    fn a_long_prompt_keeps_its_end_and_says_how_much_was_cut() {
        let enc = encoding(6);
        let short = Prompt::new(&enc, "good");
        assert_eq!(short.dropped, 0);
        assert_eq!(short.ids[0], SUBWORD_CLS);
        let long_text = "the film was good the film was bad";
        let pieces = enc.pieces(long_text);
        let long = Prompt::new(&enc, long_text);
        assert_eq!(long.ids.len(), 5);
        assert_eq!(long.dropped, pieces.len() - 4);
        assert_eq!(long.ids[1..], pieces[pieces.len() - 4..]);
    }

    #[test]
    fn greedy_generation_is_deterministic_and_slides_past_the_window() {
        let device = Device::flex();
        device.seed(4);
        let enc = encoding(6);
        let m = model(enc.vocab.len(), 6, &device);
        let prompt = Prompt::new(&enc, "the film");
        let greedy = Sampling {
            temperature: 0.0,
            ..Sampling::default()
        };
        let g = Generator {
            model: &m,
            decoder_layers: 3,
            window: 6,
            device: &device,
        };
        let a = g.continue_prompt(&prompt, 12, &greedy, 1);
        let b = g.continue_prompt(&prompt, 12, &greedy, 2);
        assert_eq!(a, b, "greedy ignores the seed");
        assert!(
            a.iter()
                .all(|id| !BANNED.contains(id) && *id != SUBWORD_SEP)
        );
        // A vanishing temperature draws what greedy draws.
        let cold = Sampling {
            temperature: 1e-4,
            ..Sampling::default()
        };
        assert_eq!(g.continue_prompt(&prompt, 12, &cold, 3), a);
        let warm = Sampling::default();
        let x = g.continue_prompt(&prompt, 12, &warm, 5);
        assert_eq!(x, g.continue_prompt(&prompt, 12, &warm, 5));
    }
}
