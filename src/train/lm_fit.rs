//! The pre-training loop of language models (issue 10): batches of subword sequences drawn from
//! the corpus (training texts plus unlabelled texts), the objective's loss on its scored
//! positions, and after each epoch the loss and piece accuracy on held-out texts.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;

use super::fit::{
    FitConfig, FitOutcome, LayerLr, close_epoch, epoch_seed, finite_loss, resume_epochs,
};
use super::index_stream::IndexStream;
use super::observer::Observer;
use crate::data::{Dataset, SUBWORD_PAD};
use crate::lm::{LmObjective, lm_loss};
use crate::model::Sequential;
use crate::recipe::LmSpec;
use crate::{Error, Result};

/// Sequences scored per evaluation batch.
const EVAL_BATCH: usize = 64;
/// Seed of the held-out masks (the same positions every epoch).
const EVAL_SEED: u64 = 0x5EED_0F4E_1D00;

/// The subword sequences of a pre-training run.
#[derive(Debug, Clone)]
pub struct LmCorpus {
    /// All training sequences, row after row.
    pub ids: Vec<u32>,
    /// Length of every row.
    pub seq_len: usize,
    /// Pieces in the vocabulary.
    pub vocab_size: usize,
}

impl LmCorpus {
    /// The rows of `sets` (samples of `[seq_len]` ids stored as floats) as one corpus.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the sets are empty or not id sequences of one length.
    pub fn new(sets: &[&Dataset], vocab_size: usize) -> Result<Self> {
        let seq_len = match sets.first().map(|d| d.sample_shape.as_slice()) {
            Some(&[t]) => t,
            _ => {
                return Err(Error::invalid(
                    "data",
                    "language-model pre-training reads id sequences ([data.text])",
                ));
            }
        };
        let mut ids = Vec::new();
        for set in sets {
            if set.sample_shape != [seq_len] {
                return Err(Error::invalid(
                    "data",
                    "every part of the corpus must have sequences of one length",
                ));
            }
            ids.extend(set.features.iter().map(|&v| v as u32));
        }
        if ids.is_empty() {
            return Err(Error::invalid(
                "data",
                "the pre-training corpus holds no text",
            ));
        }
        Ok(Self {
            ids,
            seq_len,
            vocab_size,
        })
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.ids.len() / self.seq_len
    }

    /// Whether the corpus has no sequence.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The rows `idx`, one after the other.
    pub fn rows(&self, idx: &[usize]) -> Vec<u32> {
        let t = self.seq_len;
        let mut out = Vec::with_capacity(idx.len() * t);
        for &i in idx {
            out.extend_from_slice(&self.ids[i * t..(i + 1) * t]);
        }
        out
    }
}

/// Mean loss and piece accuracy of a language model on held-out sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmScore {
    /// Mean cross-entropy per scored piece (nats).
    pub loss: f64,
    /// Share of scored pieces predicted right.
    pub accuracy: f64,
    /// Scored pieces.
    pub scored: usize,
}

/// Scores `model` (without autodiff) with `objective` on the first `limit` rows of `held_out`;
/// masks are drawn with a fixed seed, so every call scores the same positions.
pub fn score_language_model(
    model: &Sequential,
    encoder_layers: usize,
    objective: LmObjective,
    held_out: &LmCorpus,
    limit: usize,
    device: &Device,
) -> LmScore {
    let n = held_out.len().min(limit);
    let (mut loss, mut right, mut scored) = (0.0f64, 0usize, 0usize);
    for (b, start) in (0..n).step_by(EVAL_BATCH).enumerate() {
        let idx: Vec<usize> = (start..(start + EVAL_BATCH).min(n)).collect();
        let ids = held_out.rows(&idx);
        let batch = objective.batch(
            &ids,
            held_out.seq_len,
            held_out.vocab_size,
            EVAL_SEED ^ b as u64,
        );
        if batch.positions.is_empty() {
            continue;
        }
        let (l, r) = lm_loss(model, encoder_layers, &batch, device);
        loss += l.into_scalar::<f32>() as f64 * batch.positions.len() as f64;
        right += r;
        scored += batch.positions.len();
    }
    LmScore {
        loss: loss / scored.max(1) as f64,
        accuracy: right as f64 / scored.max(1) as f64,
        scored,
    }
}

/// Pre-trains `model` (on a device with autodiff) with the objective of `spec` on `corpus`;
/// `val` (held-out sequences) is scored after each epoch.
pub fn fit_language_model(
    model: Sequential,
    corpus: &LmCorpus,
    val: Option<&LmCorpus>,
    spec: &LmSpec,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let t = &cfg.training;
    let steps = spec
        .steps_per_epoch
        .unwrap_or_else(|| corpus.len().div_ceil(t.batch_size));
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), t.epochs * steps, steps);
    let optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&model, &cfg.layer_lr_scales);
    let (mut model, mut optim, state) = resume_epochs(cfg, model, optim, &mut schedule)?;
    let mut history = state.history;
    let mut global_step = state.global_step;
    device.seed(cfg.seed.wrapping_add(global_step as u64));
    let eval = device.clone().without_autodiff();
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps);
    for epoch in state.epochs_done + 1..=t.epochs {
        let started = Instant::now();
        let mut stream = IndexStream::new(corpus.len(), epoch_seed(cfg.seed, epoch));
        observer.on_epoch_begin(epoch, 0);
        let (mut loss_sum, mut right, mut scored, mut tokens) = (0.0f64, 0usize, 0usize, 0usize);
        for step in 0..steps {
            let lr = schedule.lr(global_step);
            global_step += 1;
            let ids = corpus.rows(&stream.take(t.batch_size));
            tokens += ids.iter().filter(|&&id| id != SUBWORD_PAD).count();
            let seed = cfg.seed ^ (global_step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let batch = spec
                .objective
                .batch(&ids, corpus.seq_len, corpus.vocab_size, seed);
            if batch.positions.is_empty() {
                continue;
            }
            let (loss, r) = lm_loss(&model, spec.encoder_layers, &batch, device);
            let value = finite_loss(&loss, epoch, step + 1, "lower optimizer.lr")?;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr_groups.at(lr), model, grads);
            loss_sum += value * batch.positions.len() as f64;
            right += r;
            scored += batch.positions.len();
            observer.on_step(
                epoch,
                step + 1,
                &[
                    ("loss", loss_sum / scored as f64),
                    ("accuracy", right as f64 / scored as f64),
                    ("lr", lr),
                ],
            );
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut logs = vec![
            ("loss", loss_sum / scored.max(1) as f64),
            ("accuracy", right as f64 / scored.max(1) as f64),
            ("lr", schedule.lr(global_step.saturating_sub(1))),
            ("tokens_per_second", tokens as f64 / seconds.max(1e-9)),
        ];
        if let Some(val) = val.filter(|v| !v.is_empty()) {
            let plain = model.valid();
            let s = score_language_model(
                &plain,
                spec.encoder_layers,
                spec.objective,
                val,
                spec.eval_texts,
                &eval,
            );
            logs.push(("val_loss", s.loss));
            logs.push(("val_accuracy", s.accuracy));
            if spec.objective == LmObjective::NextToken {
                logs.push(("val_perplexity", s.loss.exp()));
            }
        }
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        close_epoch(
            cfg,
            (&model, &optim),
            (epoch, global_step),
            &logs,
            &mut history,
            &mut schedule,
            observer,
        )?;
    }
    observer.on_train_end();
    Ok(FitOutcome {
        model,
        history,
        stopped_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;
    use crate::losses::LossConfig;
    use crate::model::SequentialConfig;
    use crate::optim::OptimizerConfig;

    /// Rows `[CLS] a b a b ... [SEP]`: a strict alternation a model learns quickly.
    fn corpus(rows: usize) -> Dataset {
        let mut features = Vec::new();
        for r in 0..rows {
            let (a, b) = (5 + (r % 3) as u32 * 2, 6 + (r % 3) as u32 * 2);
            features.push(2.0);
            for i in 0..6 {
                features.push(if i % 2 == 0 { a } else { b } as f32);
            }
            features.push(3.0);
        }
        Dataset::new(
            features,
            vec![8],
            Targets::Classes {
                labels: vec![0; rows],
                num_classes: 1,
            },
        )
        .unwrap()
    }

    fn model(causal: bool, device: &Device) -> Sequential {
        let recipe = format!(
            r#"
[[layers]]
type = "embedding"
input_dim = 12
output_dim = 16
mask_zero = true
[[layers]]
type = "positional_encoding"
kind = "learned"
max_len = 8
[[layers]]
type = "transformer_encoder"
heads = 2
ff_dim = 32
dropout = 0.0
causal = {causal}
[[layers]]
type = "dense"
units = 12
activation = "softmax"
"#
        );
        let cfg: SequentialConfig = toml::from_str(&recipe).unwrap();
        cfg.build_token_model(&[8], device).unwrap()
    }

    #[test]
    fn next_token_training_beats_the_untrained_model_on_held_out_rows() {
        let device = Device::flex().autodiff();
        device.seed(1);
        let train = LmCorpus::new(&[&corpus(96)], 12).unwrap();
        let val = LmCorpus::new(&[&corpus(30)], 12).unwrap();
        let spec = LmSpec {
            objective: LmObjective::NextToken,
            encoder_layers: 3,
            steps_per_epoch: Some(30),
            eval_texts: 30,
        };
        let eval = Device::flex();
        let start = model(true, &device);
        let before = score_language_model(&start.valid(), 3, spec.objective, &val, 30, &eval);
        let cfg = FitConfig::new(
            LossConfig::SparseCategoricalCrossentropy,
            OptimizerConfig::adam(1e-2),
            2,
            16,
        );
        let out = fit_language_model(
            start,
            &train,
            Some(&val),
            &spec,
            &cfg,
            &device,
            &mut super::super::Silent,
        )
        .unwrap();
        let after = score_language_model(&out.model.valid(), 3, spec.objective, &val, 30, &eval);
        assert!(after.loss < before.loss * 0.5, "{before:?} -> {after:?}");
        // After the first piece the alternation is certain: most pieces come out right.
        assert!(after.accuracy > 0.7, "{after:?}");
        assert_eq!(out.history.len(), 2);
        assert!(out.history.series("val_perplexity").is_some());
    }
}
