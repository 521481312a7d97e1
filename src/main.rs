use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, activation::relu};
use std::time::Instant;

#[derive(Module, Debug)]
struct Cnn {
    c1: Conv2d,
    c2: Conv2d,
    p: MaxPool2d,
    l1: Linear,
    l2: Linear,
}

fn main() {
    let device = Device::flex().autodiff();
    let m = Cnn {
        c1: Conv2dConfig::new([1, 16], [3, 3]).init(&device),
        c2: Conv2dConfig::new([16, 32], [3, 3]).init(&device),
        p: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        l1: LinearConfig::new(32 * 5 * 5, 128).init(&device),
        l2: LinearConfig::new(128, 10).init(&device),
    };
    let mut m = m;
    let mut opt = AdamConfig::new().init();
    let t = Instant::now();
    for step in 0..20 {
        let x = Tensor::<4>::random([200, 1, 28, 28], Distribution::Default, &device);
        let y = Tensor::<1, Int>::from_data(
            burn::tensor::TensorData::new(
                (0..200).map(|i| (i % 10) as i64).collect::<Vec<_>>(),
                [200],
            ),
            &device,
        );
        let h = m.p.forward(relu(m.c1.forward(x)));
        let h = m.p.forward(relu(m.c2.forward(h)));
        let h = h.flatten::<2>(1, 3);
        let h = m.l2.forward(relu(m.l1.forward(h)));
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&device)
            .forward(h, y);
        let lv: f32 = loss.clone().into_scalar();
        let g = loss.backward();
        let g = GradientsParams::from_grads(g, &m);
        m = opt.step(1e-3, m, g);
        if step % 5 == 0 {
            println!("{step} {lv} {:?}", t.elapsed());
        }
    }
    println!("20 steps {:?}", t.elapsed());
}
