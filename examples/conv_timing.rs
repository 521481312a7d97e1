//! Micro-benchmark: Burn's conv2d against a slice-and-matmul convolution, forward+backward.
use std::time::Instant;

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};

fn unfold_conv(x: Tensor<4>, w: Tensor<4>, b: Tensor<1>) -> Tensor<4> {
    let [n, c, h, wd] = x.dims();
    let [f, _, kh, kw] = w.dims();
    let (ho, wo) = (h - kh + 1, wd - kw + 1);
    let mut cols = Vec::with_capacity(kh * kw);
    for i in 0..kh {
        for j in 0..kw {
            cols.push(x.clone().slice([0..n, 0..c, i..i + ho, j..j + wo]));
        }
    }
    let patches = Tensor::stack::<5>(cols, 2).reshape([n, c * kh * kw, ho * wo]);
    let wm = w.reshape([1, f, c * kh * kw]);
    let y = wm.matmul(patches); // [n, f, ho*wo]
    (y + b.reshape([1, f, 1])).reshape([n, f, ho, wo])
}

fn main() {
    let dev = Device::flex().autodiff();
    for (n, c, h, f) in [(200usize, 1usize, 28usize, 16usize), (200, 16, 13, 32)] {
        let x = Tensor::<4>::random([n, c, h, h], Distribution::Default, &dev).require_grad();
        let w = Tensor::<4>::random([f, c, 3, 3], Distribution::Default, &dev).require_grad();
        let b = Tensor::<1>::random([f], Distribution::Default, &dev).require_grad();
        for name in ["burn", "unfold"] {
            let mut best = f64::MAX;
            for _ in 0..5 {
                let t0 = Instant::now();
                let y = if name == "burn" {
                    conv2d(
                        x.clone(),
                        w.clone(),
                        Some(b.clone()),
                        ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
                    )
                } else {
                    unfold_conv(x.clone(), w.clone(), b.clone())
                };
                let t1 = Instant::now();
                let g = y.powi_scalar(2).sum().backward();
                let gw = w.grad(&g).unwrap();
                let _ = gw.sum().into_scalar::<f32>();
                let t2 = Instant::now();
                best = best.min((t2 - t0).as_secs_f64());
                let _ = t1;
            }
            println!("n{n} c{c} h{h} f{f} {name}: fwd+bwd {:.1} ms", best * 1e3);
        }
    }
}
