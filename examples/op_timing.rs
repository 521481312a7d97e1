//! Per-op timing of the seed CNN's layers (forward, and forward+backward), manabi kernels vs
//! Burn's (`MANABI_KERNELS=burn`).
use std::time::Instant;

use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};
use manabi::kernels::{conv2d, max_pool2d};

fn best<R>(mut f: impl FnMut() -> R) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t0 = Instant::now();
        let r = f();
        best = best.min(t0.elapsed().as_secs_f64());
        drop(r);
    }
    best * 1e3
}

fn report<const D: usize>(name: &str, x: &Tensor<4>, f: impl Fn(Tensor<4>) -> Tensor<D>) {
    let fwd = best(|| f(x.clone()).into_data());
    let y = f(x.clone());
    let r = Tensor::<D>::random(y.dims(), Distribution::Default, &x.device());
    let both = best(|| {
        let g = (f(x.clone()) * r.clone()).sum().backward();
        x.grad(&g).map(|t| t.into_data())
    });
    println!("{name:>8}: forward {fwd:6.2} ms, forward+backward {both:6.2} ms");
}

fn main() {
    manabi::kernels::tune_allocator();
    let dev = Device::flex().autodiff();
    let n = 200;
    let d = Distribution::Default;
    let x = Tensor::<4>::random([n, 1, 28, 28], d, &dev).require_grad();
    let w1 = Tensor::<4>::random([16, 1, 3, 3], d, &dev).require_grad();
    let w2 = Tensor::<4>::random([32, 16, 3, 3], d, &dev).require_grad();
    let h1 = Tensor::<4>::random([n, 16, 26, 26], d, &dev).require_grad();
    let h2 = Tensor::<4>::random([n, 16, 13, 13], d, &dev).require_grad();
    let h3 = Tensor::<4>::random([n, 32, 11, 11], d, &dev).require_grad();
    let pad = [(0, 0), (0, 0)];
    report("conv1", &x, |x| conv2d(x, w1.clone(), None, [1, 1], pad));
    report("relu1", &h1, relu);
    report("pool1", &h1, |x| max_pool2d(x, [2, 2], [2, 2]));
    report("conv2", &h2, |x| conv2d(x, w2.clone(), None, [1, 1], pad));
    report("relu2", &h3, relu);
    report("pool2", &h3, |x| max_pool2d(x, [2, 2], [2, 2]));
}
