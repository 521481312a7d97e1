//! Metric learning (SPEC M1-M3; seed 002: Siamese networks and contrastive loss, seed 004:
//! triplet and contrastive losses): distances between embeddings, miners that pick informative
//! pairs and triplets on detached distances, and the losses over what they picked. Each part is
//! separate and swappable, as in pytorch-metric-learning.

mod batch_loss;
mod distance;
mod few_shot;
#[cfg(test)]
mod golden_tests;
mod losses;
mod miners;
mod prototypical;
mod retrieval;

pub use batch_loss::MetricObjective;
pub use distance::{Distance, pairwise_distances};
pub use few_shot::{Episodes, FewShotAccuracy, few_shot_accuracy};
pub use losses::{contrastive_loss, soft_margin_triplet_loss, triplet_loss};
pub use miners::{Pairs, Triplet, all_pairs, all_triplets, batch_hard, semi_hard};
pub use prototypical::prototypical_loss;
pub use retrieval::{
    ROC_POINTS, RocCurve, equal_error_rate, mean_average_precision, recall_at_k, roc_curve,
};
