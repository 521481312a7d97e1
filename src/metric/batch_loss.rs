//! One metric-learning step's loss: distances of the batch's embeddings, a miner on their
//! detached values, and the contrastive or triplet loss over what it picked.

use burn::tensor::Tensor;

use super::{
    Distance, all_pairs, all_triplets, batch_hard, contrastive_loss, pairwise_distances, semi_hard,
    soft_margin_triplet_loss, triplet_loss,
};
use crate::recipe::{MetricLoss, MinerKind};

/// The parts of a metric-learning loss, as a recipe's `[method]` names them.
#[derive(Debug, Clone, Copy)]
pub struct MetricObjective {
    /// Contrastive or triplet.
    pub loss: MetricLoss,
    /// Which pairs or triplets the loss sees.
    pub miner: MinerKind,
    /// The loss's margin.
    pub margin: f32,
    /// Triplets use the soft margin `ln(1 + exp(d_ap - d_an))` instead of the hinge.
    pub soft_margin: bool,
    /// The distance between embeddings.
    pub distance: Distance,
}

impl MetricObjective {
    /// The loss of `emb` `[batch, dims]` with `labels`, and how many pairs or triplets were
    /// mined; `None` when the miner found none (e.g. every semi-hard triplet is already
    /// satisfied), in which case the step is skipped.
    pub fn loss(&self, emb: Tensor<2>, labels: &[u32]) -> Option<(Tensor<1>, usize)> {
        let dist = pairwise_distances(emb, self.distance);
        match self.miner {
            MinerKind::AllPairs => {
                let pairs = all_pairs(labels);
                let n = pairs.positive.len() + pairs.negative.len();
                contrastive_loss(&dist, &pairs, self.margin).map(|l| (l, n))
            }
            miner => {
                let triplets = match miner {
                    MinerKind::AllTriplets => all_triplets(labels),
                    _ => {
                        let values: Vec<f32> = dist.clone().into_data().iter::<f32>().collect();
                        if miner == MinerKind::BatchHard {
                            batch_hard(&values, labels)
                        } else {
                            semi_hard(&values, labels, self.margin)
                        }
                    }
                };
                debug_assert!(self.loss == MetricLoss::Triplet);
                let n = triplets.len();
                let loss = match self.soft_margin {
                    true => soft_margin_triplet_loss(&dist, &triplets),
                    false => triplet_loss(&dist, &triplets, self.margin),
                };
                loss.map(|l| (l, n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn objective(miner: MinerKind, loss: MetricLoss) -> MetricObjective {
        MetricObjective {
            loss,
            miner,
            margin: 1.0,
            soft_margin: false,
            distance: Distance::L2,
        }
    }

    #[test]
    fn batch_hard_loss_by_hand() {
        // Points 0, 1, 3, 6 with labels 0, 0, 1, 1 (as in the miner tests): batch-hard picks
        // (0,1,2): 1 + 1 - 3 -> 0; (1,0,2): 1 + 1 - 2 = 0; (2,3,1): 1 + 3 - 2 = 2;
        // (3,2,1): 1 + 3 - 5 = -1 -> 0. Mean over 4 triplets: 0.5.
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 3.0, 6.0], [4, 1]),
            &Device::flex(),
        );
        let (l, n) = objective(MinerKind::BatchHard, MetricLoss::Triplet)
            .loss(x.clone(), &[0, 0, 1, 1])
            .unwrap();
        assert_eq!(n, 4);
        assert!((l.into_scalar::<f32>() - 0.5).abs() < 1e-5);
        let (_, pairs) = objective(MinerKind::AllPairs, MetricLoss::Contrastive)
            .loss(x, &[0, 0, 1, 1])
            .unwrap();
        assert_eq!(pairs, 6);
    }
}
