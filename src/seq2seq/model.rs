//! [`Seq2Seq`]: either architecture behind one type, with batching, the masked loss
//! and greedy translation of strings.

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::config::{Seq2SeqArch, Seq2SeqConfig};
use super::rnn::RnnSeq2Seq;
use super::transformer::TransformerSeq2Seq;
use crate::data::CharVocab;

/// Longest output, in characters, greedy decoding produces (ISO dates have 10).
pub const MAX_OUTPUT: usize = 16;

/// A sequence-to-sequence model of either architecture.
// One model lives per run, so the variants' size difference costs nothing, and the
// derive needs the modules inline.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Seq2Seq {
    /// Recurrent encoder-decoder with attention.
    Rnn(RnnSeq2Seq),
    /// Transformer encoder-decoder.
    Transformer(TransformerSeq2Seq),
}

/// A padded batch of encoded sequences.
#[derive(Debug, Clone)]
pub struct Padded {
    /// Ids `[b, t]`, padded with [`CharVocab::PAD`].
    pub ids: Tensor<2, Int>,
    /// True at padded positions `[b, t]`.
    pub pad: Tensor<2, Bool>,
}

/// A teacher-forcing batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The source.
    pub source: Padded,
    /// Decoder inputs `<start> y_1 .. y_n`, padded.
    pub target_in: Tensor<2, Int>,
    /// Decoder targets `y_1 .. y_n <end>`, padded.
    pub target_out: Tensor<2, Int>,
}

/// Greedy output of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The decoded text.
    pub text: String,
    /// Target ids produced, `<end>` included when it was reached.
    pub ids: Vec<usize>,
    /// Attention over the source characters, one row per produced id (RNN only).
    pub attention: Option<Vec<Vec<f32>>>,
}

/// The values of an integer tensor.
pub(crate) fn int_values<const D: usize>(t: Tensor<D, Int>) -> Vec<usize> {
    let data = t.into_data();
    data.clone()
        .try_to_vec::<i64>()
        .map(|v| v.into_iter().map(|x| x.max(0) as usize).collect())
        .or_else(|_| {
            data.try_to_vec::<i32>()
                .map(|v| v.into_iter().map(|x| x.max(0) as usize).collect())
        })
        .unwrap_or_default()
}

/// Pads `seqs` to the longest one.
pub fn pad_batch(seqs: &[&[usize]], device: &Device) -> Padded {
    let b = seqs.len();
    let t = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![CharVocab::PAD as i64; b * t];
    for (k, s) in seqs.iter().enumerate() {
        for (j, &id) in s.iter().enumerate() {
            ids[k * t + j] = id as i64;
        }
    }
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [b, t]), device);
    let pad = ids.clone().equal_elem(CharVocab::PAD as i64);
    Padded { ids, pad }
}

/// A teacher-forcing batch of encoded `(source, target)` pairs (targets without
/// `<start>`/`<end>`).
pub fn make_batch(pairs: &[(&[usize], &[usize])], device: &Device) -> Batch {
    let sources: Vec<&[usize]> = pairs.iter().map(|p| p.0).collect();
    let ins: Vec<Vec<usize>> = pairs
        .iter()
        .map(|p| {
            std::iter::once(CharVocab::START)
                .chain(p.1.iter().copied())
                .collect()
        })
        .collect();
    let outs: Vec<Vec<usize>> = pairs
        .iter()
        .map(|p| {
            p.1.iter()
                .copied()
                .chain(std::iter::once(CharVocab::END))
                .collect()
        })
        .collect();
    Batch {
        source: pad_batch(&sources, device),
        target_in: pad_batch(&as_slices(&ins), device).ids,
        target_out: pad_batch(&as_slices(&outs), device).ids,
    }
}

/// Mean cross-entropy over the unpadded target positions of `logits` `[b, T, V]`, and
/// the number of correctly predicted unpadded positions (argmax) and of such positions.
pub fn masked_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
) -> (Tensor<1>, usize, usize) {
    let [b, t, v] = logits.dims();
    let flat = logits.reshape([b * t, v]);
    let targets = targets.reshape([b * t, 1]);
    let keep = targets.clone().not_equal_elem(CharVocab::PAD as i64);
    let keep_f = keep.clone().float();
    let picked = log_softmax(flat.clone(), 1).gather(1, targets.clone());
    let count = keep_f.clone().sum();
    let loss = (picked * keep_f).sum().neg() / count.clone().clamp_min(1.0);
    let hits = flat.argmax(1).equal(targets).bool_and(keep).int().sum();
    let correct = int_values(hits).first().copied().unwrap_or(0);
    let total = count.into_scalar::<f32>() as usize;
    (loss, correct, total)
}

impl Seq2Seq {
    /// A new model for `cfg` with the date vocabularies.
    pub fn new(cfg: &Seq2SeqConfig, device: &Device) -> Self {
        let (src, tgt) = (CharVocab::source().len(), CharVocab::target().len());
        match cfg.arch {
            Seq2SeqArch::RnnAttention => Self::Rnn(RnnSeq2Seq::new(cfg, src, tgt, device)),
            Seq2SeqArch::Transformer => {
                Self::Transformer(TransformerSeq2Seq::new(cfg, src, tgt, device))
            }
        }
    }

    /// Teacher-forcing logits `[b, T, V]`.
    pub fn forward(&self, batch: &Batch) -> Tensor<3> {
        let (src, pad) = (batch.source.ids.clone(), batch.source.pad.clone());
        match self {
            Self::Rnn(m) => m.forward(src, pad, batch.target_in.clone()),
            Self::Transformer(m) => m.forward(src, pad, batch.target_in.clone(), CharVocab::PAD),
        }
    }

    /// Greedy decoding of encoded sources.
    pub fn greedy(&self, sources: &[&[usize]], device: &Device) -> Vec<Translation> {
        let vocab = CharVocab::target();
        let p = pad_batch(sources, device);
        let (ids, attention) = match self {
            Self::Rnn(m) => {
                let (ids, w) = m.greedy(p.ids, p.pad, CharVocab::START, CharVocab::END, MAX_OUTPUT);
                (ids, w.into_iter().map(Some).collect())
            }
            Self::Transformer(m) => {
                let ids = m.greedy(p.ids, p.pad, CharVocab::START, CharVocab::END, MAX_OUTPUT);
                let n = ids.len();
                (ids, vec![None; n])
            }
        };
        ids.into_iter()
            .zip(attention)
            .zip(sources)
            .map(|((ids, attention), src)| Translation {
                text: vocab.decode(&ids),
                // Drop the columns of the padding that other sequences needed.
                attention: attention
                    .map(|rows| rows.into_iter().map(|r| r[..src.len()].to_vec()).collect()),
                ids,
            })
            .collect()
    }
}

/// Translates `inputs` (human dates) greedily, `batch_size` at a time. `model` should be
/// on a device without autodiff (or be [`valid`](burn::module::AutodiffModule::valid)).
pub fn translate(
    model: &Seq2Seq,
    inputs: &[&str],
    batch_size: usize,
    device: &Device,
) -> Vec<Translation> {
    let vocab = CharVocab::source();
    let encoded: Vec<Vec<usize>> = inputs
        .iter()
        .map(|s| {
            let mut ids = vocab.encode(s.trim());
            ids.truncate(super::transformer::MAX_POSITIONS);
            if ids.is_empty() {
                ids.push(CharVocab::UNK);
            }
            ids
        })
        .collect();
    encoded
        .chunks(batch_size.max(1))
        .flat_map(|chunk| {
            let refs: Vec<&[usize]> = chunk.iter().map(Vec::as_slice).collect();
            model.greedy(&refs, device)
        })
        .collect()
}

fn as_slices(v: &[Vec<usize>]) -> Vec<&[usize]> {
    v.iter().map(Vec::as_slice).collect()
}
