//! Contrastive self-supervised learning (SPEC S4-S5): the NT-Xent / InfoNCE loss of SimCLR and
//! the supervised contrastive loss.

mod info_nce;

pub use info_nce::{nt_xent, supervised_contrastive};
