//! Augmentation (SPEC S1): geometric and photometric ops on `[c, h, w]` images with values in
//! `[0, 1]` (greyscale or colour), RandAugment, word dropout and swaps for token sequences,
//! pipelines applied per batch with a seed, and multi-view sampling for contrastive methods.
//! Usable alone or from a recipe's `[augment]`.

mod geometric;
mod image;
mod op;
mod photometric;
mod pipeline;
mod rand_augment;
mod text;

pub use geometric::{Affine, horizontal_flip, random_resized_crop};
pub use image::{Image, bilinear, warp};
pub use op::{AugmentOp, Step};
pub use photometric::{
    autocontrast, brightness, contrast, cutout, equalize, gaussian_blur, gaussian_noise, posterize,
    solarize,
};
pub use pipeline::Pipeline;
pub use rand_augment::rand_augment;
pub use text::{word_dropout, word_swap};
