//! [`train_seq2seq`]: trains a [`Seq2Seq`] on generated dates and writes its run folder.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::config::{Seq2SeqArch, Seq2SeqConfig};
use super::model::{Seq2Seq, Translation, make_batch, masked_cross_entropy};
use crate::data::{CharVocab, generate_dates};
use crate::optim::OptimizerConfig;
use crate::run::write_atomic;
use crate::train::{History, Observer};
use crate::{Error, Result};

/// Training pairs held out for validation (model selection), at most.
const VALIDATION: usize = 500;

/// Sequences decoded at once when evaluating.
const EVAL_BATCH: usize = 256;

/// Test examples kept in the report.
const EXAMPLES: usize = 12;

/// What [`train_seq2seq`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seq2SeqReport {
    /// Share of test dates translated exactly (greedy decoding).
    pub test_exact_match: f64,
    /// Share of test target characters right at their position.
    pub test_token_accuracy: f64,
    /// Wall time of training (validation included, test excluded).
    pub train_seconds: f64,
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose weights were kept (best validation exact match).
    pub best_epoch: usize,
    /// Test `(input, expected, predicted)` triples.
    pub examples: Vec<(String, String, String)>,
}

/// An encoded pair: source ids and target ids (without `<start>`/`<end>`).
type Encoded = (Vec<usize>, Vec<usize>);

fn encode(pairs: &[(String, String)]) -> Vec<Encoded> {
    let (src, tgt) = (CharVocab::source(), CharVocab::target());
    pairs
        .iter()
        .map(|(h, iso)| (src.encode(h), tgt.encode(iso)))
        .collect()
}

/// Exact-match and positional token accuracy of greedy translations against `pairs`.
fn score(model: &Seq2Seq, pairs: &[Encoded], device: &Device) -> (f64, f64, Vec<Translation>) {
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(EVAL_BATCH) {
        let refs: Vec<&[usize]> = chunk.iter().map(|p| p.0.as_slice()).collect();
        out.extend(model.greedy(&refs, device));
    }
    let (mut exact, mut right, mut total) = (0usize, 0usize, 0usize);
    for (t, (_, want)) in out.iter().zip(pairs) {
        let mut want_end = want.clone();
        want_end.push(CharVocab::END);
        if t.ids == want_end {
            exact += 1;
        }
        right += want_end.iter().zip(&t.ids).filter(|(a, b)| a == b).count();
        total += want_end.len();
    }
    let n = pairs.len().max(1) as f64;
    (exact as f64 / n, right as f64 / total.max(1) as f64, out)
}

/// Builds the model of `cfg` and loads the weights saved by [`train_seq2seq`].
pub fn load_seq2seq(cfg: &Seq2SeqConfig, path: &Path, device: &Device) -> Result<Seq2Seq> {
    Seq2Seq::new(cfg, device)
        .try_load_file(path)
        .map_err(|e| Error::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Trains the model of `cfg` on generated date pairs and evaluates it on the test dates.
///
/// `device` is the inference device; training runs on `device.clone().autodiff()`.
/// The last `min(500, train / 10)` training pairs are held out for validation; the
/// weights of the epoch with the best validation exact match are kept, and only then is
/// the test set decoded. Writes to `run_dir`: `history.csv`, `curves.png`,
/// `metrics.json`, `model.bpk` and, for the RNN, `attention.png` (a test sample).
pub fn train_seq2seq(
    cfg: &Seq2SeqConfig,
    seed: u64,
    run_dir: &Path,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Seq2SeqReport> {
    cfg.validate()?;
    std::fs::create_dir_all(run_dir).map_err(|e| Error::io("creating", run_dir, e))?;
    let data = generate_dates(&cfg.data);
    let mut train = encode(&data.train);
    let test = encode(&data.test);
    let n_val = VALIDATION.min(train.len() / 10);
    let val = train.split_off(train.len() - n_val);
    if train.is_empty() {
        return Err(Error::invalid("seq2seq.data.train", "no training pairs"));
    }

    let ad = device.clone().autodiff();
    ad.seed(seed);
    let mut model = Seq2Seq::new(cfg, &ad);
    let mut optim = OptimizerConfig::adam(cfg.lr).build(None);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let steps = train.len().div_ceil(cfg.batch_size);
    let mut history = History::new();
    let mut best: Option<(f64, usize, Seq2Seq)> = None;
    let started = Instant::now();
    observer.on_train_begin(1, cfg.epochs, steps);
    for epoch in 1..=cfg.epochs {
        let epoch_start = Instant::now();
        observer.on_epoch_begin(epoch, 0);
        order.shuffle(&mut rng);
        let (mut loss_sum, mut seen, mut right, mut tokens) = (0.0, 0usize, 0usize, 0usize);
        for (step, idx) in order.chunks(cfg.batch_size).enumerate() {
            let pairs: Vec<(&[usize], &[usize])> = idx
                .iter()
                .map(|&i| (train[i].0.as_slice(), train[i].1.as_slice()))
                .collect();
            let batch = make_batch(&pairs, &ad);
            let (loss, correct, count) =
                masked_cross_entropy(model.forward(&batch), batch.target_out);
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(Error::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    value: format!("{value}"),
                    checkpoint: "none is kept for seq2seq runs".into(),
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.lr, model, grads);
            loss_sum += value * idx.len() as f64;
            seen += idx.len();
            right += correct;
            tokens += count;
            let logs = [
                ("loss", loss_sum / seen as f64),
                ("accuracy", right as f64 / tokens.max(1) as f64),
            ];
            observer.on_step(epoch, step + 1, &logs);
        }

        let mut logs = vec![
            ("loss", loss_sum / seen.max(1) as f64),
            ("accuracy", right as f64 / tokens.max(1) as f64),
        ];
        let valid = model.valid();
        if !val.is_empty() {
            let (mut vl, mut vr, mut vt) = (0.0, 0usize, 0usize);
            for chunk in val.chunks(EVAL_BATCH) {
                let pairs: Vec<(&[usize], &[usize])> = chunk
                    .iter()
                    .map(|p| (p.0.as_slice(), p.1.as_slice()))
                    .collect();
                let batch = make_batch(&pairs, device);
                let (loss, correct, count) =
                    masked_cross_entropy(valid.forward(&batch), batch.target_out);
                vl += f64::from(loss.into_scalar::<f32>()) * chunk.len() as f64;
                vr += correct;
                vt += count;
            }
            let (exact, _, _) = score(&valid, &val, device);
            logs.push(("val_loss", vl / val.len() as f64));
            logs.push(("val_accuracy", vr as f64 / vt.max(1) as f64));
            logs.push(("val_exact_match", exact));
            if best.as_ref().is_none_or(|(b, _, _)| exact > *b) {
                best = Some((exact, epoch, valid));
            }
        } else {
            best = Some((f64::NAN, epoch, valid));
        }
        logs.push(("seconds", epoch_start.elapsed().as_secs_f64()));
        history.push_epoch(epoch, &logs);
        observer.on_epoch_end(epoch, &logs);
    }
    observer.on_train_end();
    let train_seconds = started.elapsed().as_secs_f64();
    let (_, best_epoch, model) =
        best.ok_or_else(|| Error::invalid("seq2seq.epochs", "no epoch ran"))?;

    let (test_exact_match, test_token_accuracy, outputs) = score(&model, &test, device);
    let examples: Vec<(String, String, String)> = data
        .test
        .iter()
        .zip(&outputs)
        .take(EXAMPLES)
        .map(|((h, iso), t)| (h.clone(), iso.clone(), t.text.clone()))
        .collect();
    let report = Seq2SeqReport {
        test_exact_match,
        test_token_accuracy,
        train_seconds,
        epochs: cfg.epochs,
        best_epoch,
        examples,
    };

    history.write_csv(run_dir.join("history.csv"))?;
    crate::plot::plot_curves(&history, &run_dir.join("curves.png"))?;
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::invalid("metrics.json", e.to_string()))?;
    write_atomic(&run_dir.join("metrics.json"), json.as_bytes())?;
    let weights = run_dir.join("model.bpk");
    model
        .clone()
        .save_file(&weights)
        .map_err(|e| Error::Record {
            path: weights.clone(),
            message: e.to_string(),
        })?;
    if cfg.arch == Seq2SeqArch::RnnAttention
        && let Some((k, t)) = outputs
            .iter()
            .enumerate()
            .find(|(k, _)| data.test[*k].0.len() >= 18)
            .or(outputs.iter().enumerate().next())
        && let Some(weights) = &t.attention
    {
        let source: Vec<String> = data.test[k].0.chars().map(String::from).collect();
        let target: Vec<String> = t
            .ids
            .iter()
            .map(|&id| CharVocab::target().token_name(id))
            .collect();
        crate::plot::plot_attention(weights, &source, &target, &run_dir.join("attention.png"))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatesConfig;
    use crate::seq2seq::model::translate;
    use crate::seq2seq::{AttentionKind, CellKind, PositionalKind};
    use crate::train::Silent;

    fn tiny(arch: Seq2SeqArch) -> Seq2SeqConfig {
        let mut cfg = Seq2SeqConfig::new(arch);
        cfg.embed_dim = 16;
        cfg.hidden = 16;
        cfg.ff_dim = 32;
        cfg.layers = 1;
        cfg.epochs = 1;
        cfg.batch_size = 8;
        cfg.dropout = 0.0;
        cfg.data = DatesConfig {
            train: 24,
            test: 6,
            seed: 1,
        };
        cfg
    }

    #[test]
    fn every_variant_trains_a_step_and_writes_its_run_folder() {
        let device = Device::flex();
        let mut variants = Vec::new();
        for cell in [CellKind::Gru, CellKind::Lstm] {
            for attention in [AttentionKind::Additive, AttentionKind::Dot] {
                let mut cfg = tiny(Seq2SeqArch::RnnAttention);
                (cfg.cell, cfg.attention) = (cell, attention);
                variants.push(cfg);
            }
        }
        for positional in [PositionalKind::Sinusoidal, PositionalKind::Learned] {
            let mut cfg = tiny(Seq2SeqArch::Transformer);
            cfg.positional = positional;
            variants.push(cfg);
        }
        for cfg in variants {
            let dir = tempfile::tempdir().unwrap();
            let report = train_seq2seq(&cfg, 3, dir.path(), &device, &mut Silent).unwrap();
            assert_eq!(report.examples.len(), 6);
            assert!((0.0..=1.0).contains(&report.test_exact_match));
            for f in ["history.csv", "curves.png", "metrics.json", "model.bpk"] {
                assert!(dir.path().join(f).exists(), "{f} for {cfg:?}");
            }
            let rnn = cfg.arch == Seq2SeqArch::RnnAttention;
            assert_eq!(dir.path().join("attention.png").exists(), rnn);
            let model = load_seq2seq(&cfg, &dir.path().join("model.bpk"), &device).unwrap();
            let out = translate(&model, &["3rd of March 1998", "x"], 4, &device);
            assert_eq!(out.len(), 2);
            assert!(out[0].ids.len() <= super::super::MAX_OUTPUT);
            if rnn {
                let a = out[0].attention.as_ref().unwrap();
                assert_eq!(a.len(), out[0].ids.len());
                assert_eq!(a[0].len(), "3rd of march 1998".len());
            }
        }
    }

    /// Overfits 16 pairs: teacher forcing and greedy decoding agree with each other.
    fn overfit(arch: Seq2SeqArch, steps: usize) -> f64 {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        ad.seed(7);
        let mut cfg = tiny(arch);
        cfg.embed_dim = 32;
        cfg.hidden = 32;
        cfg.ff_dim = 64;
        cfg.lr = 1e-2;
        let data = generate_dates(&DatesConfig {
            train: 16,
            test: 0,
            seed: 2,
        });
        let pairs = encode(&data.train);
        let refs: Vec<(&[usize], &[usize])> = pairs
            .iter()
            .map(|p| (p.0.as_slice(), p.1.as_slice()))
            .collect();
        let mut model = Seq2Seq::new(&cfg, &ad);
        let mut optim = OptimizerConfig::adam(cfg.lr).build(None);
        for _ in 0..steps {
            let batch = make_batch(&refs, &ad);
            let (loss, _, _) = masked_cross_entropy(model.forward(&batch), batch.target_out);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.lr, model, grads);
        }
        score(&model.valid(), &pairs, &device).0
    }

    #[test]
    fn rnn_overfits_sixteen_pairs() {
        let exact = overfit(Seq2SeqArch::RnnAttention, 150);
        assert!(exact > 0.9, "{exact}");
    }

    #[test]
    fn transformer_overfits_sixteen_pairs() {
        let exact = overfit(Seq2SeqArch::Transformer, 150);
        assert!(exact > 0.9, "{exact}");
    }
}
