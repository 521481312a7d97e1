//! Contrastive and triplet losses over mined pairs and triplets of a distance matrix.

use burn::tensor::activation::softplus;
use burn::tensor::{Int, Tensor, TensorData};

use super::miners::{Pairs, Triplet};

/// The entries `dist[i, j]` for the given index pairs, as a vector (differentiable).
fn entries(dist: &Tensor<2>, pairs: impl Iterator<Item = (usize, usize)>) -> Tensor<1> {
    let [n, _] = dist.dims();
    let idx: Vec<i64> = pairs.map(|(i, j)| (i * n + j) as i64).collect();
    let len = idx.len();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), &dist.device());
    dist.clone().reshape([n * n]).select(0, idx)
}

/// Contrastive loss (Hadsell, Chopra & LeCun 2006; seed 002):
/// `1/2 D^2` for a positive pair, `1/2 max(0, m - D)^2` for a negative pair, averaged over all
/// pairs given. `dist` are distances (not squared); `None` when there are no pairs.
pub fn contrastive_loss(dist: &Tensor<2>, pairs: &Pairs, margin: f32) -> Option<Tensor<1>> {
    let count = pairs.positive.len() + pairs.negative.len();
    if count == 0 {
        return None;
    }
    let mut total = Tensor::<1>::zeros([1], &dist.device());
    if !pairs.positive.is_empty() {
        let d = entries(dist, pairs.positive.iter().copied());
        total = total + d.powi_scalar(2).sum() * 0.5;
    }
    if !pairs.negative.is_empty() {
        let d = entries(dist, pairs.negative.iter().copied());
        total = total + (d.neg() + margin).clamp_min(0.0).powi_scalar(2).sum() * 0.5;
    }
    Some(total / count as f32)
}

/// Triplet loss (Schroff et al. 2015; seeds 002 and 004): `max(0, m + d(a,p) - d(a,n))`
/// averaged over the triplets; `None` when there are none.
pub fn triplet_loss(dist: &Tensor<2>, triplets: &[Triplet], margin: f32) -> Option<Tensor<1>> {
    if triplets.is_empty() {
        return None;
    }
    let d_ap = entries(dist, triplets.iter().map(|&(a, p, _)| (a, p)));
    let d_an = entries(dist, triplets.iter().map(|&(a, _, n)| (a, n)));
    Some((d_ap - d_an + margin).clamp_min(0.0).mean())
}

/// Soft-margin triplet loss (Hermans, Beyer & Leibe 2017): `ln(1 + exp(d(a,p) - d(a,n)))`
/// averaged over the triplets. It never reaches zero, so batch-hard mining cannot settle into
/// the collapsed state where every embedding coincides and the hinge loss sits at the margin.
pub fn soft_margin_triplet_loss(dist: &Tensor<2>, triplets: &[Triplet]) -> Option<Tensor<1>> {
    if triplets.is_empty() {
        return None;
    }
    let d_ap = entries(dist, triplets.iter().map(|&(a, p, _)| (a, p)));
    let d_an = entries(dist, triplets.iter().map(|&(a, _, n)| (a, n)));
    Some(softplus(d_ap - d_an, 1.0).mean())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn dist() -> Tensor<2> {
        // Points on a line at 0, 1, 3, 6.
        let x = [0.0f32, 1.0, 3.0, 6.0];
        let v: Vec<f32> = x
            .iter()
            .flat_map(|a| x.iter().map(move |b| (a - b).abs()))
            .collect();
        Tensor::from_data(TensorData::new(v, [4, 4]), &Device::flex())
    }

    fn scalar(t: Option<Tensor<1>>) -> f32 {
        t.unwrap().into_scalar::<f32>()
    }

    #[test]
    fn contrastive_by_hand() {
        // Positives (0,1) d 1 and (2,3) d 3: 1/2 (1 + 9) = 5. Negatives with m = 4: (0,2) d 3 ->
        // 1/2 * 1; (0,3) d 6 -> 0; (1,2) d 2 -> 1/2 * 4; (1,3) d 5 -> 0. Total 7.5 over 6 pairs.
        let pairs = Pairs {
            positive: vec![(0, 1), (2, 3)],
            negative: vec![(0, 2), (0, 3), (1, 2), (1, 3)],
        };
        assert!((scalar(contrastive_loss(&dist(), &pairs, 4.0)) - 7.5 / 6.0).abs() < 1e-6);
        assert!(contrastive_loss(&dist(), &Pairs::default(), 1.0).is_none());
    }

    #[test]
    fn triplet_by_hand() {
        // (0,1,2): 1 + 1 - 3 = -1 -> 0. (2,3,1): 1 + 3 - 2 = 2. (3,2,1): 1 + 3 - 5 -> 0. Mean 2/3.
        let t = [(0, 1, 2), (2, 3, 1), (3, 2, 1)];
        assert!((scalar(triplet_loss(&dist(), &t, 1.0)) - 2.0 / 3.0).abs() < 1e-6);
        assert!(triplet_loss(&dist(), &[], 1.0).is_none());
    }

    #[test]
    fn soft_margin_by_hand() {
        // (0,1,2): d_ap 1, d_an 3 -> ln(1 + e^-2); (2,3,1): 3 - 2 -> ln(1 + e^1).
        let got = scalar(soft_margin_triplet_loss(&dist(), &[(0, 1, 2), (2, 3, 1)]));
        let want = ((1.0 + (-2.0f64).exp()).ln() + (1.0 + 1f64.exp()).ln()) / 2.0;
        assert!((got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        assert!(soft_margin_triplet_loss(&dist(), &[]).is_none());
    }

    #[test]
    fn triplet_gradient_pulls_the_positive_and_pushes_the_negative() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 3.0, 2.0], [3, 1]), &device)
            .require_grad();
        let d = super::super::pairwise_distances(x.clone(), super::super::Distance::L2);
        // Anchor 0, positive 1 (d 3), negative 2 (d 2): active with margin 1.
        let loss = triplet_loss(&d, &[(0, 1, 2)], 1.0).unwrap();
        let g: Vec<f32> = x
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .iter::<f32>()
            .collect();
        // d(loss)/dx1 = +1 (moves the positive towards 0), d/dx2 = -1 (pushes the negative up).
        assert!(
            (g[1] - 1.0).abs() < 1e-4 && (g[2] + 1.0).abs() < 1e-4,
            "{g:?}"
        );
        assert!(g[0].abs() < 1e-4, "{g:?}"); // -1 from d_ap, +1 from d_an
    }
}
