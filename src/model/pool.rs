//! Pooling layers (SPEC F1): max, average and global average pooling.

use crate::kernels;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};

use super::features::Features;

/// Which pooling a [`Pool2d`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum over each window.
    Max,
    /// Mean over each window.
    Average,
}

/// Max or average pooling over windows (valid padding, as in Keras).
#[derive(Module, Debug)]
pub enum Pool2d {
    /// Maximum over each window.
    Max(MaxPool2d),
    /// Mean over each window.
    Average(AvgPool2d),
}

impl Pool2d {
    /// A pooling layer with window `size` and `stride` (Keras: the stride defaults to the window).
    pub fn new(kind: PoolKind, size: [usize; 2], stride: [usize; 2]) -> Self {
        match kind {
            PoolKind::Max => Pool2d::Max(MaxPool2dConfig::new(size).with_strides(stride).init()),
            PoolKind::Average => {
                Pool2d::Average(AvgPool2dConfig::new(size).with_strides(stride).init())
            }
        }
    }

    /// Whether this is 2x2 max pooling with stride 2 and no padding (what a
    /// [`Conv2d`](super::Conv2d) can fuse).
    pub fn is_max_2x2(&self) -> bool {
        matches!(self, Pool2d::Max(p) if p.kernel_size == [2, 2] && p.stride == [2, 2]
            && p.padding == PaddingConfig2d::Valid && p.dilation == [1, 1])
    }

    /// Output length along one axis: `floor((n - size) / stride) + 1`.
    pub fn output_len(n: usize, size: usize, stride: usize) -> Option<usize> {
        (n >= size).then(|| (n - size) / stride + 1)
    }

    /// # Shapes
    /// - input: `[batch, c, h, w]`; output: `[batch, c, h', w']`
    pub fn forward(&self, x: Features) -> Features {
        let x = x.into_image();
        Features::Image(match self {
            Pool2d::Max(p) if p.padding == PaddingConfig2d::Valid && p.dilation == [1, 1] => {
                kernels::max_pool2d(x, p.kernel_size, p.stride)
            }
            Pool2d::Max(p) => p.forward(x),
            Pool2d::Average(p) => p.forward(x),
        })
    }
}

/// Mean over all spatial positions: `[batch, c, h, w] -> [batch, c]`.
#[derive(Module, Debug, Default)]
pub struct GlobalAvgPool;

impl GlobalAvgPool {
    /// # Shapes
    /// - input: `[batch, c, h, w]`; output: `[batch, c]`
    pub fn forward(&self, x: Features) -> Features {
        let x = x.into_image();
        let [b, c, _, _] = x.dims();
        // [batch, c, h*w] -> mean over the last axis
        let y = x.flatten::<3>(2, 3).mean_dim(2).reshape([b, c]);
        Features::Flat(y)
    }
}

/// Flattens everything but the batch axis.
#[derive(Module, Debug, Default)]
pub struct Flatten;

impl Flatten {
    /// # Shapes
    /// - input: `[batch, ...]`; output: `[batch, prod(...)]`
    pub fn forward(&self, x: Features) -> Features {
        Features::Flat(x.flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Tensor};

    fn image() -> Features {
        let device = Device::flex();
        // one 4x4 channel holding 0..16
        Features::Image(
            Tensor::<1>::from_floats(
                [
                    0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15.,
                ],
                &device,
            )
            .reshape([1, 1, 4, 4]),
        )
    }

    fn values(f: Features) -> Vec<f32> {
        f.flatten().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn max_and_average_pool_values() {
        let max = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]).forward(image());
        assert_eq!(values(max), vec![5., 7., 13., 15.]);
        let avg = Pool2d::new(PoolKind::Average, [2, 2], [2, 2]).forward(image());
        assert_eq!(values(avg), vec![2.5, 4.5, 10.5, 12.5]);
    }

    #[test]
    fn global_average_and_flatten_shapes() {
        let g = GlobalAvgPool.forward(image());
        assert_eq!(g.dims(), vec![1, 1]);
        assert_eq!(values(g), vec![7.5]);
        assert_eq!(Flatten.forward(image()).dims(), vec![1, 16]);
        assert_eq!(Pool2d::output_len(13, 2, 2), Some(6));
        assert_eq!(Pool2d::output_len(1, 2, 2), None);
    }
}
