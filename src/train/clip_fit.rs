//! The training loop of CLIP (SPEC S6): every shuffled batch of images (through the `[augment]`
//! view, if any) is paired with captions drawn from the images' classes, and both towers and
//! the scale learn from the symmetric loss (other images of the same class count as negatives:
//! captions made from labels cannot tell them apart). After each epoch a zero-shot monitor classifies the
//! validation split with the training templates (no test images or held-out prompts).

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::fit::{
    FitConfig, LayerLr, check_augment, close_epoch, epoch_seed, finite_loss, resume_epochs,
};
use super::history::History;
use super::observer::Observer;
use crate::clip::captions::training_caption;
use crate::clip::{CaptionSource, Clip, TRAIN_TEMPLATES, zero_shot_accuracy};
use crate::data::{Dataset, Targets, shuffled_batches};
use crate::{Error, Result};

/// Trains `clip` on `train`'s images paired with captions of their classes; `val` (when given)
/// is the zero-shot monitor's query set. `device` has autodiff.
pub fn fit_clip(
    clip: Clip,
    train: &Dataset,
    val: Option<&Dataset>,
    captions: &CaptionSource,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(Clip, History)> {
    check_augment(cfg, train)?;
    let Targets::Classes { labels, .. } = &train.targets else {
        return Err(Error::invalid(
            "method",
            "CLIP draws each image's caption from its class: the data needs class labels",
        ));
    };
    let shape: [usize; 3] = train.sample_shape.as_slice().try_into().map_err(|_| {
        Error::invalid(
            "data",
            "CLIP's image tower needs image data ([c, h, w] samples)",
        )
    })?;
    let size = train.sample_len();
    let t = &cfg.training;
    let steps = train.len().div_ceil(t.batch_size);
    let mut schedule = cfg
        .schedule
        .build(cfg.optimizer.learning_rate(), t.epochs * steps, steps);
    let optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&clip.image, &cfg.layer_lr_scales);
    // Checkpoints at epoch ends (both towers and the scale): a resumed run goes on from there.
    let (mut clip, mut optim, mut state) = resume_epochs(cfg, clip, optim, &mut schedule)?;
    let mut history = std::mem::take(&mut state.history);
    let mut global_step = state.global_step;
    device.seed(cfg.seed.wrapping_add(global_step as u64));
    observer.on_train_begin(state.epochs_done + 1, t.epochs, steps);
    for epoch in state.epochs_done + 1..=t.epochs {
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed, epoch));
        let mut caption_rng = ChaCha8Rng::seed_from_u64(epoch_seed(cfg.seed ^ 0xC11F, epoch));
        observer.on_epoch_begin(epoch, 0);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for (step, idx) in shuffled_batches(train.len(), t.batch_size, t.shuffle, &mut rng)
            .iter()
            .enumerate()
        {
            let lr = schedule.lr(global_step);
            global_step += 1;
            if idx.len() < 2 {
                continue; // one pair has no negatives
            }
            let mut values = Vec::with_capacity(idx.len() * size);
            let mut bags = Vec::with_capacity(idx.len() * captions.vocab.len());
            for &i in idx {
                values.extend_from_slice(train.sample(i));
                let words = &captions.words[labels[i] as usize];
                bags.extend(
                    captions
                        .vocab
                        .encode(&training_caption(words, &mut caption_rng))?,
                );
            }
            if let Some(view) = cfg.views.first() {
                let seed = cfg.seed ^ (global_step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                values = view.apply_batch(&values, shape, seed);
            }
            let n = idx.len();
            let images = Tensor::<2>::from_data(TensorData::new(values, [n, size]), device);
            let bags =
                Tensor::<2>::from_data(TensorData::new(bags, [n, captions.vocab.len()]), device);
            let loss = clip.loss(images, bags)?;
            let value = finite_loss(&loss, epoch, step + 1, "lower optimizer.lr")?;
            let grads = GradientsParams::from_grads(loss.backward(), &clip);
            clip = optim.step(lr_groups.at(lr), clip, grads).clip_scale();
            loss_sum += value * n as f64;
            seen += n;
            observer.on_step(
                epoch,
                step + 1,
                &[("loss", loss_sum / seen as f64), ("lr", lr)],
            );
        }
        let mut logs = vec![
            ("loss", loss_sum / seen.max(1) as f64),
            ("lr", schedule.lr(global_step.saturating_sub(1))),
            ("scale", clip.scale()),
        ];
        if let Some(val) = val.filter(|v| !v.is_empty()) {
            let plain = clip.valid();
            let eval = device.clone().without_autodiff();
            let acc = zero_shot_accuracy(&plain, val, captions, TRAIN_TEMPLATES, &eval)?;
            logs.push(("val_zero_shot_accuracy", acc));
        }
        logs.push(("seconds", started.elapsed().as_secs_f64()));
        close_epoch(
            cfg,
            (&clip, &optim),
            (epoch, global_step),
            &logs,
            &mut history,
            &mut schedule,
            observer,
        )?;
    }
    observer.on_train_end();
    Ok((clip, history))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::captions::prompts;
    use crate::clip::{Vocabulary, class_words};
    use crate::losses::LossConfig;
    use crate::optim::OptimizerConfig;
    use crate::train::{Checkpoint, Silent};

    #[test]
    fn a_stopped_clip_run_resumes_where_it_stopped() {
        let data = crate::data::load_builtin(crate::data::DatasetName::Digits, None)
            .unwrap()
            .train
            .take(200);
        let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        let words = class_words(&names);
        let texts: Vec<String> = words
            .iter()
            .flat_map(|w| prompts(TRAIN_TEMPLATES, w))
            .collect();
        let vocab = Vocabulary::from_texts(texts.iter().map(String::as_str));
        let source = CaptionSource {
            words: &words,
            vocab: &vocab,
        };
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let run = |epochs: usize, resume: bool| {
            device.seed(6);
            let image = crate::model::SequentialConfig::new()
                .add(crate::model::LayerConfig::flatten())
                .add(crate::model::LayerConfig::dense(
                    8,
                    crate::model::ActivationKind::Linear,
                ))
                .build(&[1, 8, 8], &device)
                .unwrap();
            let clip = Clip::new(image, 8, vocab.len(), 8, 0.07, &device).unwrap();
            let mut cfg = FitConfig::new(
                LossConfig::SparseCategoricalCrossentropy,
                OptimizerConfig::adam(1e-2),
                epochs,
                32,
            );
            cfg.checkpoint = Some(Checkpoint::new(dir.path().join("ckpt")));
            cfg.resume = resume;
            let (clip, history) =
                fit_clip(clip, &data, None, &source, &cfg, &device, &mut Silent).unwrap();
            let x = Tensor::<2>::ones([1, 64], &device);
            let emb = clip.embed_images(x).into_data().convert::<f32>();
            (emb.try_to_vec::<f32>().unwrap(), clip.scale(), history)
        };
        run(2, false);
        let (resumed, scale, history) = run(3, true);
        assert_eq!(history.len(), 3);
        std::fs::remove_dir_all(dir.path().join("ckpt")).unwrap();
        let (whole, whole_scale, _) = run(3, false);
        assert_eq!(resumed, whole);
        assert_eq!(scale, whole_scale, "the learned scale is checkpointed too");
    }
}
