//! CLIP (SPEC S6; Radford et al. 2021, seeds 000 6.21 and 003 19.2.4): an image encoder and a
//! text encoder trained with a symmetric contrastive loss over a batch's image-caption pairs,
//! then used for zero-shot classification with text prompts and for retrieval. Captions are
//! generated from class labels through templates (`captions`), since no public image-caption
//! set is at hand.

pub mod captions;
mod loss;
mod model;
mod vocabulary;
mod zero_shot;

pub use captions::{ClassWords, TRAIN_TEMPLATES, ZERO_SHOT_TEMPLATES, class_words};
pub use loss::{MAX_SCALE, clip_logits, clip_loss};
pub use model::{Clip, text_tower};
pub use vocabulary::Vocabulary;
pub use zero_shot::{
    CaptionSource, class_embeddings, recall_at_k, retrieval_recall, zero_shot_accuracy,
};
