//! Pooling over time (Keras' `GlobalAveragePooling1D`, `GlobalMaxPooling1D`), honouring the
//! sequence's padding mask.
//!
//! ```text
//! avg: y[b, :] = sum_t m[b, t] x[b, t, :] / sum_t m[b, t]
//! max: y[b, :] = max over real steps t of x[b, t, :]   (0 when a row has no real step)
//! last: y[b, :] = x[b, t*, :]   t* = the last t with m[b, t] = 1 (the last step without a mask)
//! ```

use burn::module::Module;
use burn::tensor::{Int, Tensor};

use super::features::Features;

/// Mean over the real time steps: `[batch, time, d] -> [batch, d]`.
#[derive(Module, Debug, Default)]
pub struct GlobalAvgPool1d;

impl GlobalAvgPool1d {
    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask); output: `[batch, d]`
    pub fn forward(&self, x: Features) -> Features {
        let (x, mask) = x.into_sequence();
        let [b, _, d] = x.dims();
        let y = match mask {
            None => x.mean_dim(1),
            Some(m) => {
                let count = m.clone().sum_dim(1).clamp_min(1.0).unsqueeze_dim::<3>(2); // [b, 1, 1]
                (x * m.unsqueeze_dim::<3>(2)).sum_dim(1) / count
            }
        };
        Features::Flat(y.reshape([b, d]))
    }
}

/// Maximum over the real time steps: `[batch, time, d] -> [batch, d]`.
#[derive(Module, Debug, Default)]
pub struct GlobalMaxPool1d;

impl GlobalMaxPool1d {
    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask); output: `[batch, d]`
    pub fn forward(&self, x: Features) -> Features {
        let (x, mask) = x.into_sequence();
        let [b, _, d] = x.dims();
        let y: Tensor<3> = match mask {
            None => x.max_dim(1),
            Some(m) => {
                let any = m.clone().max_dim(1).unsqueeze_dim::<3>(2); // [b, 1, 1]: 1 if any real
                let padding = m.equal_elem(0.0).unsqueeze_dim::<3>(2).expand(x.dims());
                x.mask_fill(padding, f32::MIN).max_dim(1) * any
            }
        };
        Features::Flat(y.reshape([b, d]))
    }
}

/// The last real time step: `[batch, time, d] -> [batch, d]`.
#[derive(Module, Debug, Default)]
pub struct LastToken;

impl LastToken {
    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask); output: `[batch, d]`
    pub fn forward(&self, x: Features) -> Features {
        let (x, mask) = x.into_sequence();
        let [b, t, d] = x.dims();
        let device = x.device();
        let index: Tensor<2, Int> = match mask {
            None => Tensor::<2, Int>::full([b, 1], t as i64 - 1, &device),
            Some(m) => {
                // Position weights 1..=t on real steps, 0 on padding: the largest is the last.
                let steps = Tensor::<1, Int>::arange(1..t as i64 + 1, &device)
                    .float()
                    .reshape([1, t]);
                (m * steps).argmax(1)
            }
        };
        let index = index.reshape([b, 1, 1]).repeat_dim(2, d);
        Features::Flat(x.gather(1, index).reshape([b, d]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn masked() -> Features {
        let device = Device::flex();
        // one sample, 3 steps of 2 features; the last step is padding
        let values =
            Tensor::<1>::from_floats([1., -4., 3., 2., 100., 100.], &device).reshape([1, 3, 2]);
        Features::Sequence {
            values,
            mask: Some(Tensor::from_floats([[1., 1., 0.]], &device)),
        }
    }

    fn values(f: Features) -> Vec<f32> {
        f.into_flat().into_data().try_to_vec().unwrap()
    }

    #[test]
    fn average_counts_only_real_steps() {
        assert_eq!(values(GlobalAvgPool1d.forward(masked())), vec![2., -1.]);
        let (x, _) = masked().into_sequence();
        let plain = values(GlobalAvgPool1d.forward(Features::sequence(x)));
        assert_eq!(plain, vec![104. / 3., 98. / 3.]);
    }

    #[test]
    fn max_skips_padding() {
        assert_eq!(values(GlobalMaxPool1d.forward(masked())), vec![3., 2.]);
        let (x, _) = masked().into_sequence();
        assert_eq!(
            values(GlobalMaxPool1d.forward(Features::sequence(x))),
            vec![100., 100.]
        );
    }

    #[test]
    fn last_token_takes_the_last_real_step_before_or_after_padding() {
        assert_eq!(values(LastToken.forward(masked())), vec![3., 2.]);
        let (x, _) = masked().into_sequence();
        assert_eq!(
            values(LastToken.forward(Features::sequence(x.clone()))),
            vec![100., 100.]
        );
        // Padding in front (Keras' pre-padding): the last step is the last real one.
        let device = Device::flex();
        let front = Features::Sequence {
            values: x,
            mask: Some(Tensor::from_floats([[0., 1., 1.]], &device)),
        };
        assert_eq!(values(LastToken.forward(front)), vec![100., 100.]);
    }
}
