//! manabi's own CPU kernels (issue 4): convolution and max pooling with real backward passes,
//! plugged into Burn as a backend extension for Flex. The front doors here route Flex `f32`
//! tensors to them and everything else (GPU backends, other dtypes, dilated or grouped
//! convolutions) to Burn's own ops, so a model is written once. The LSTM time loop also has
//! a GPU kernel (`lstm_gpu`, issue 11) for the CubeCL backends in GPU builds.

mod allocator;
mod conv_cpu;
mod extension;
mod fast_math;
pub(crate) mod gemm;
mod lstm_cpu;
#[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
mod lstm_gpu;
mod pool_cpu;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::Dispatch;
use burn::tensor::module::{conv2d as burn_conv2d, max_pool2d as burn_max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{DType, Device, Tensor};

pub use allocator::tune_allocator;
pub use extension::CpuKernels;
#[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
pub use lstm_gpu::GpuKernels;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns manabi's kernels on or off (process-wide); off means Burn's ops everywhere. For
/// equivalence tests and benchmarks (`MANABI_KERNELS=burn` does the same at start-up).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether manabi's kernels take tensors like `x` (Flex, `f32`, kernels switched on).
pub fn applies<const D: usize>(x: &Tensor<D>) -> bool {
    use_kernels(x)
}

/// Whether `MANABI_KERNELS=burn` leaves manabi's kernels off (read once).
fn env_allows() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    *FROM_ENV.get_or_init(|| std::env::var("MANABI_KERNELS").as_deref() != Ok("burn"))
}

fn use_kernels<const D: usize>(x: &Tensor<D>) -> bool {
    env_allows()
        && ENABLED.load(Ordering::Relaxed)
        && x.dtype() == DType::F32
        && x.device() == Device::flex()
}

/// Whether [`lstm_scan`] takes `x`: Flex as [`applies`], or an `f32` tensor on a CubeCL GPU
/// (Vulkan, wgpu, CUDA builds) with kernels switched on.
pub fn lstm_scan_applies(x: &Tensor<3>) -> bool {
    use_kernels(x) || use_gpu_kernels(x)
}

fn use_gpu_kernels<const D: usize>(x: &Tensor<D>) -> bool {
    #[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
    {
        let on_gpu = matches!(
            x.device().without_autodiff().as_dispatch(),
            burn::backend::DispatchDevice::Cube(_)
        );
        on_gpu && env_allows() && ENABLED.load(Ordering::Relaxed) && x.dtype() == DType::F32
    }
    #[cfg(not(any(feature = "vulkan", feature = "wgpu", feature = "cuda")))]
    {
        let _ = x;
        false
    }
}

/// Output length of a convolution or pooling along one axis.
fn out_len(n: usize, pad: (usize, usize), kernel: usize, stride: usize) -> usize {
    (n + pad.0 + pad.1 - kernel) / stride + 1
}

/// Output height and width of a convolution of `x` with `weight`.
fn conv_out(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    stride: [usize; 2],
    padding: [(usize, usize); 2],
) -> (usize, usize) {
    let ([_, _, h, w], [_, _, kh, kw]) = (x.dims(), weight.dims());
    (
        out_len(h, padding[0], kh, stride[0]),
        out_len(w, padding[1], kw, stride[1]),
    )
}

/// 2-D convolution, NCHW, weights `[filters, channels, kh, kw]`, dilation 1, one group;
/// `padding` is `[(top, bottom), (left, right)]`.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    padding: [(usize, usize); 2],
) -> Tensor<4> {
    conv2d_maybe_relu(x, weight, bias, stride, padding, false)
}

/// [`conv2d`] followed by ReLU, fused: one pass over the output and no mask tensor.
pub fn conv2d_relu(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    padding: [(usize, usize); 2],
) -> Tensor<4> {
    conv2d_maybe_relu(x, weight, bias, stride, padding, true)
}

fn conv2d_maybe_relu(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    padding: [(usize, usize); 2],
    relu: bool,
) -> Tensor<4> {
    if !use_kernels(&x) {
        let options = ConvOptions::new_with_padding(stride, padding, [1, 1], 1);
        let y = burn_conv2d(x, weight, bias, options);
        return if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        };
    }
    let (ho, wo) = conv_out(&x, &weight, stride, padding);
    let bias = bias.unwrap_or_else(|| Tensor::zeros([weight.dims()[0]], &x.device()));
    let out = <Dispatch as CpuKernels>::cpu_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        stride[0],
        stride[1],
        padding[0].0,
        padding[1].0,
        ho,
        wo,
        relu,
    );
    Tensor::from_dispatch(out)
}

/// [`conv2d_relu`] then 2x2 / stride-2 max pooling (floor), fused: one pass per sample, and
/// only the pooled output and a byte per window kept for the backward pass.
pub fn conv2d_relu_max_pool2(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    padding: [(usize, usize); 2],
) -> Tensor<4> {
    let (ho, wo) = conv_out(&x, &weight, stride, padding);
    if !use_kernels(&x) || ho < 2 || wo < 2 {
        let y = conv2d_relu(x, weight, bias, stride, padding);
        return max_pool2d(y, [2, 2], [2, 2]);
    }
    let bias = bias.unwrap_or_else(|| Tensor::zeros([weight.dims()[0]], &x.device()));
    let out = <Dispatch as CpuKernels>::cpu_conv2d_relu_pool(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        stride[0],
        stride[1],
        padding[0].0,
        padding[1].0,
        ho,
        wo,
    );
    Tensor::from_dispatch(out)
}

/// 2-D max pooling without padding (floor mode), NCHW.
pub fn max_pool2d(x: Tensor<4>, kernel: [usize; 2], stride: [usize; 2]) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if !use_kernels(&x) || h < kernel[0] || w < kernel[1] {
        return burn_max_pool2d(x, MaxPoolOptions::new(kernel).with_stride(stride));
    }
    let out = <Dispatch as CpuKernels>::cpu_max_pool2d(
        x.into_dispatch(),
        kernel[0],
        kernel[1],
        stride[0],
        stride[1],
    );
    Tensor::from_dispatch(out)
}

/// An LSTM's whole time loop in one op (see `lstm_cpu`): from the projected input
/// `x W + b` `[batch, time, 4 units]` and the recurrent kernel `[units, 4 units]` (gates
/// `i, f, c, o`), every step's hidden state `[batch, time, units]` in input order. Masked steps
/// (`mask[b, t] = 0`) keep the previous state. Only for tensors where [`applies`] holds.
pub fn lstm_scan(
    xproj: Tensor<3>,
    recurrent: Tensor<2>,
    mask: Option<Tensor<2>>,
    backwards: bool,
) -> Tensor<3> {
    assert!(
        lstm_scan_applies(&xproj),
        "lstm_scan: only f32 tensors on Flex or a GPU"
    );
    let [b, t, _] = xproj.dims();
    let mask = mask.unwrap_or_else(|| Tensor::ones([b, t], &xproj.device()));
    #[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
    if use_gpu_kernels(&xproj) {
        let out = <Dispatch as GpuKernels>::gpu_lstm(
            xproj.into_dispatch(),
            recurrent.into_dispatch(),
            mask.into_dispatch(),
            backwards,
        );
        return Tensor::from_dispatch(out);
    }
    let out = <Dispatch as CpuKernels>::cpu_lstm(
        xproj.into_dispatch(),
        recurrent.into_dispatch(),
        mask.into_dispatch(),
        backwards,
    );
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    //! manabi's kernels against Burn's ops: same outputs, same gradients.
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    fn close<const D: usize>(a: Tensor<D>, b: Tensor<D>) {
        a.into_data()
            .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-4));
    }

    /// Asserts equal outputs, then returns both gradient sets of a loss that weighs every
    /// output differently.
    fn same_outputs(ours: Tensor<4>, theirs: Tensor<4>) -> [burn::tensor::Gradients; 2] {
        assert_eq!(ours.dims(), theirs.dims());
        close(ours.clone().inner(), theirs.clone().inner());
        let r = Tensor::<4>::random(ours.dims(), Distribution::Default, &ours.device());
        [
            (ours * r.clone()).sum().backward(),
            (theirs * r).sum().backward(),
        ]
    }

    /// manabi's conv (with or without the fused ReLU) against Burn's conv (then relu).
    fn check_conv(relu: bool, stride: [usize; 2], padding: [(usize, usize); 2]) {
        let device = Device::flex().autodiff();
        let d = Distribution::Default;
        let x = Tensor::<4>::random([3, 2, 8, 7], d, &device).require_grad();
        let w = Tensor::<4>::random([5, 2, 3, 3], d, &device).require_grad();
        let b = Tensor::<1>::random([5], d, &device).require_grad();
        let (xc, wc, bc) = (x.clone(), w.clone(), Some(b.clone()));
        let options = ConvOptions::new_with_padding(stride, padding, [1, 1], 1);
        let theirs = burn_conv2d(x.clone(), w.clone(), Some(b.clone()), options);
        let (ours, theirs) = match relu {
            true => (
                conv2d_relu(xc, wc, bc, stride, padding),
                burn::tensor::activation::relu(theirs),
            ),
            false => (conv2d(xc, wc, bc, stride, padding), theirs),
        };
        let [g1, g2] = same_outputs(ours, theirs);
        close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        close(w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
        close(b.grad(&g1).unwrap(), b.grad(&g2).unwrap());
    }

    #[test]
    fn conv2d_matches_burn_forward_and_backward() {
        Device::flex().autodiff().seed(3);
        // (stride, padding): valid, keras `same` with an odd total, strided.
        for (stride, padding) in [
            ([1, 1], [(0, 0), (0, 0)]),
            ([1, 1], [(1, 1), (1, 1)]),
            ([2, 2], [(0, 1), (0, 1)]),
            ([2, 1], [(1, 1), (0, 0)]),
        ] {
            check_conv(false, stride, padding);
        }
    }

    #[test]
    fn fused_conv_relu_pool_matches_burn_conv_relu_then_pool() {
        let device = Device::flex().autodiff();
        device.seed(8);
        let d = Distribution::Default;
        // Even and odd conv outputs (8x7 -> 6x5 -> 3x2; same padding 8x7 -> 4x3), strided.
        for (stride, padding) in [
            ([1, 1], [(0, 0), (0, 0)]),
            ([1, 1], [(1, 1), (1, 1)]),
            ([2, 1], [(0, 1), (1, 1)]),
        ] {
            let x = Tensor::<4>::random([3, 2, 8, 7], d, &device).require_grad();
            let w = Tensor::<4>::random([5, 2, 3, 3], d, &device).require_grad();
            let b = Tensor::<1>::random([5], d, &device).require_grad();
            let ours =
                conv2d_relu_max_pool2(x.clone(), w.clone(), Some(b.clone()), stride, padding);
            let options = ConvOptions::new_with_padding(stride, padding, [1, 1], 1);
            let conv = burn_conv2d(x.clone(), w.clone(), Some(b.clone()), options);
            let theirs = burn_max_pool2d(
                burn::tensor::activation::relu(conv),
                MaxPoolOptions::new([2, 2]).with_stride([2, 2]),
            );
            let [g1, g2] = same_outputs(ours, theirs);
            close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            close(w.grad(&g1).unwrap(), w.grad(&g2).unwrap());
            close(b.grad(&g1).unwrap(), b.grad(&g2).unwrap());
        }
    }

    #[test]
    fn fused_relu_matches_burn_conv_then_relu() {
        Device::flex().autodiff().seed(5);
        check_conv(true, [1, 1], [(1, 1), (1, 1)]);
        check_conv(true, [2, 2], [(0, 1), (0, 1)]);
    }

    #[test]
    fn conv2d_without_bias_or_autodiff_matches_burn() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 3, 6, 6], Distribution::Default, &device);
        let w = Tensor::<4>::random([4, 3, 2, 2], Distribution::Default, &device);
        let ours = conv2d(x.clone(), w.clone(), None, [1, 1], [(0, 0), (0, 0)]);
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        close(ours, burn_conv2d(x, w, None, options));
    }

    #[test]
    fn max_pool2d_matches_burn_forward_and_backward() {
        let device = Device::flex().autodiff();
        device.seed(4);
        for (kernel, stride, size) in [
            ([2, 2], [2, 2], 9),
            ([3, 3], [2, 2], 8),
            ([2, 2], [1, 1], 5),
        ] {
            let x = Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device)
                .require_grad();
            let ours = max_pool2d(x.clone(), kernel, stride);
            let theirs =
                burn_max_pool2d(x.clone(), MaxPoolOptions::new(kernel).with_stride(stride));
            let [g1, g2] = same_outputs(ours, theirs);
            close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        }
    }
}
