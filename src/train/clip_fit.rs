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

use super::fit::{FitConfig, LayerLr, check_augment, end_epoch, epoch_seed, finite_loss};
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
    let mut optim = cfg.optimizer.build(t.clip);
    let lr_groups = LayerLr::new(&clip.image, &cfg.layer_lr_scales);
    let mut clip = clip;
    let mut history = History::default();
    let mut global_step = 0usize;
    device.seed(cfg.seed);
    observer.on_train_begin(1, t.epochs, steps);
    for epoch in 1..=t.epochs {
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
        end_epoch(epoch, &logs, &mut history, &mut schedule, observer)?;
    }
    observer.on_train_end();
    Ok((clip, history))
}
