//! Self-supervised pre-training objectives (SPEC S2-S5): rotation prediction, masked-image
//! reconstruction and the contrastive losses, each a batch transform and a loss over one
//! shared training loop.

mod masking;
mod pretext;
mod rotation;

pub use masking::{PatchMask, hide_patches};
pub use pretext::{Pretext, PretextSpec};
pub use rotation::{ROTATIONS, rotate90, rotation_batch};
