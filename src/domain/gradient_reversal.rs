//! The gradient reversal layer of DANN (Ganin & Lempitsky 2015; seed 003 19.2.5): the
//! identity going forward, the incoming gradient times `-lambda` going back, so that the
//! feature extractor below it learns to fool the domain classifier above it.

use burn::tensor::Tensor;

/// `x` unchanged in the forward pass; in the backward pass the gradient reaching `x` is
/// `-lambda` times the gradient of the output.
///
/// Written with autodiff's own ops: `x̄ + (x - x̄) · (-λ)` where `x̄` is `x` detached. The
/// bracket is exactly zero going forward, and only it carries a gradient.
pub fn gradient_reversal<const D: usize>(x: Tensor<D>, lambda: f64) -> Tensor<D> {
    let frozen = x.clone().detach();
    frozen.clone() + (x - frozen).mul_scalar(-lambda)
}

/// DANN's weight of the domain loss at training progress `p` in `[0, 1]`:
/// `2 / (1 + exp(-gamma · p)) - 1`, rising from 0 to nearly 1 (gamma = 10 in the paper).
pub fn dann_lambda(p: f64, gamma: f64) -> f64 {
    2.0 / (1.0 + (-gamma * p.clamp(0.0, 1.0)).exp()) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn forward_is_the_identity_and_backward_scales_the_gradient_by_minus_lambda() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let w = Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &device);
        let y = gradient_reversal(x.clone(), 0.7);
        let (xv, yv): (Vec<f32>, Vec<f32>) = (
            x.clone().into_data().iter::<f32>().collect(),
            y.clone().into_data().iter::<f32>().collect(),
        );
        assert_eq!(xv, yv, "the forward pass is exact");
        // d/dx Σ w ⊙ GRL(x) = -0.7 w; without the layer it would be w.
        let grads = (y * w.clone()).sum().backward();
        let g: Vec<f32> = x.grad(&grads).unwrap().into_data().iter::<f32>().collect();
        let wv: Vec<f32> = w.into_data().iter::<f32>().collect();
        for (gi, wi) in g.iter().zip(&wv) {
            assert!((gi + 0.7 * wi).abs() < 1e-6, "{gi} vs {}", -0.7 * wi);
        }
    }

    #[test]
    fn the_schedule_rises_from_zero_towards_one() {
        assert_eq!(dann_lambda(0.0, 10.0), 0.0);
        // 2 / (1 + e^-5) - 1 at half way; 2 / (1 + e^-10) - 1 at the end.
        assert!((dann_lambda(0.5, 10.0) - 0.986_614_298).abs() < 1e-8);
        assert!((dann_lambda(1.0, 10.0) - 0.999_909_204).abs() < 1e-8);
        assert!((0..100).all(
            |i| dann_lambda(i as f64 / 100.0, 10.0) < dann_lambda((i + 1) as f64 / 100.0, 10.0)
        ));
        assert_eq!(dann_lambda(2.0, 10.0), dann_lambda(1.0, 10.0), "clamped");
    }
}
