//! Long short-term memory layer (seed 001, 9.5; Hochreiter & Schmidhuber 1997; Keras' `LSTM`).
//!
//! ```text
//! i_t = sigmoid(x_t W_i + h_{t-1} U_i + b_i)       input gate
//! f_t = sigmoid(x_t W_f + h_{t-1} U_f + b_f)       forget gate (b_f starts at 1)
//! g_t = tanh(x_t W_c + h_{t-1} U_c + b_c)          candidate cell
//! o_t = sigmoid(x_t W_o + h_{t-1} U_o + b_o)       output gate
//! c_t = f_t * c_{t-1} + i_t * g_t
//! h_t = o_t * tanh(c_t)
//! ```
//! The four gates sit side by side in one kernel `[d, 4 units]` in Keras' order i, f, c, o.

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use super::features::Features;
use super::recurrent::{self, Cell, State};
use crate::kernels;

/// An LSTM layer.
#[derive(Module, Debug)]
pub struct Lstm {
    /// `[W_i W_f W_c W_o]`, `[d, 4 units]`, Glorot-uniform.
    pub kernel: Param<Tensor<2>>,
    /// `[U_i U_f U_c U_o]`, `[units, 4 units]`, orthogonal.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// `[b_i b_f b_c b_o]`, `[4 units]`: zeros except `b_f = 1` (Keras' `unit_forget_bias`).
    pub bias: Param<Tensor<1>>,
    /// Whether to output every step (`[batch, time, units]`) or the last one.
    pub return_sequences: bool,
    /// Whether to read the sequence from its end (Keras' `go_backwards`).
    pub go_backwards: bool,
}

impl Lstm {
    /// A layer with Keras' initialisation for inputs of size `d_input`.
    pub fn new(d_input: usize, units: usize, return_sequences: bool, device: &Device) -> Self {
        let (kernel, recurrent_kernel) = recurrent::init_kernels(d_input, units, 4, device);
        let bias = Tensor::cat(
            vec![
                Tensor::zeros([units], device),
                Tensor::ones([units], device),
                Tensor::zeros([2 * units], device),
            ],
            0,
        );
        Self {
            kernel,
            recurrent_kernel,
            bias: Param::from_tensor(bias),
            return_sequences,
            go_backwards: false,
        }
    }

    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask)
    /// - output: `[batch, units]`, or `[batch, time, units]` when `return_sequences`
    ///
    /// On Flex and on CubeCL GPUs the whole time loop runs as one of manabi's kernels
    /// ([`kernels::lstm_scan`]); elsewhere it is built step by step from tensor ops.
    pub fn forward(&self, x: Features) -> Features {
        let (values, mask) = x.into_sequence();
        if !kernels::lstm_scan_applies(&values) {
            let x = Features::Sequence { values, mask };
            return recurrent::forward(self, x, self.return_sequences, self.go_backwards);
        }
        let [b, t, _] = values.dims();
        let xproj = self.project_inputs(values);
        let hs = kernels::lstm_scan(
            xproj,
            self.recurrent_kernel.val(),
            mask.clone(),
            self.go_backwards,
        );
        if self.return_sequences {
            return Features::Sequence { values: hs, mask };
        }
        // The state after the last step read: the first time step when reading backwards.
        let last = if self.go_backwards { 0 } else { t - 1 };
        let units = self.units();
        Features::Flat(
            hs.slice([0..b, last..last + 1, 0..units])
                .reshape([b, units]),
        )
    }
}

impl Cell for Lstm {
    fn units(&self) -> usize {
        self.recurrent_kernel.dims()[0]
    }

    fn project_inputs(&self, x: Tensor<3>) -> Tensor<3> {
        recurrent::project(x, &self.kernel, &self.bias)
    }

    fn initial_state(&self, batch: usize, device: &Device) -> State {
        State {
            h: Tensor::zeros([batch, self.units()], device),
            c: Some(Tensor::zeros([batch, self.units()], device)),
        }
    }

    fn step(&self, projected: Tensor<2>, state: State) -> State {
        let units = self.units();
        let c_prev = state
            .c
            .unwrap_or_else(|| Tensor::zeros([projected.dims()[0], units], &projected.device()));
        let z = projected + state.h.matmul(self.recurrent_kernel.val()); // [batch, 4 units]
        let mut gates = z.chunk(4, 1).into_iter();
        let mut next = || gates.next().expect("four gates");
        let (i, f, g, o) = (
            sigmoid(next()),
            sigmoid(next()),
            tanh(next()),
            sigmoid(next()),
        );
        let c = f * c_prev + i * g;
        State {
            h: o * tanh(c.clone()),
            c: Some(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::recurrent::{matrix, vec_mat};

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    #[test]
    fn one_step_matches_the_equations() {
        // d = 2, units = 1: kernel [2, 4], recurrent kernel [1, 4], gate order i, f, c, o.
        let w = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8];
        let u = [0.25, -0.35, 0.45, 0.15];
        let b = [0.01, 1.0, -0.02, 0.03];
        let (x, h0, c0) = ([0.9, -0.4], [0.2], [-0.3]);
        let mut lstm = Lstm::new(2, 1, false, &Device::flex());
        lstm.kernel = Param::from_tensor(matrix(&w, 2, 4));
        lstm.recurrent_kernel = Param::from_tensor(matrix(&u, 1, 4));
        lstm.bias = Param::from_tensor(matrix(&b, 1, 4).reshape([4]));
        let projected = lstm.project_inputs(matrix(&x, 1, 2).reshape([1, 1, 2]));
        let state = State {
            h: matrix(&h0, 1, 1),
            c: Some(matrix(&c0, 1, 1)),
        };
        let next = lstm.step(projected.reshape([1, 4]), state);

        let xw = vec_mat(&x, &w, 4);
        let hu = vec_mat(&h0, &u, 4);
        let z: Vec<f64> = (0..4).map(|k| xw[k] + hu[k] + b[k]).collect();
        let c = sig(z[1]) * c0[0] + sig(z[0]) * z[2].tanh();
        let h = sig(z[3]) * c.tanh();
        let got_h = next.h.into_data().try_to_vec::<f32>().unwrap()[0] as f64;
        let got_c = next.c.unwrap().into_data().try_to_vec::<f32>().unwrap()[0] as f64;
        assert!((got_h - h).abs() < 1e-6 && (got_c - c).abs() < 1e-6);
    }

    #[test]
    fn fused_kernel_matches_the_step_by_step_graph() {
        use burn::tensor::{Distribution, Tolerance};
        let device = Device::flex().autodiff();
        device.seed(11);
        let close = |a: Tensor<3>, b: Tensor<3>| {
            a.into_data()
                .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-5))
        };
        let mask = matrix(&[0., 1., 1., 1., 1., 1., 1., 1., 1., 0.], 2, 5);
        let mask = Tensor::<2>::from_data(mask.into_data(), &device);
        for (backwards, sequences, masked) in [
            (false, false, false),
            (true, false, true),
            (false, true, true),
            (true, true, false),
        ] {
            let mut lstm = Lstm::new(3, 4, sequences, &device);
            lstm.go_backwards = backwards;
            let x = Tensor::<3>::random([2, 5, 3], Distribution::Default, &device).require_grad();
            let features = Features::Sequence {
                values: x.clone(),
                mask: masked.then(|| mask.clone()),
            };
            let fused = lstm.forward(features.clone());
            let plain = recurrent::forward(&lstm, features, sequences, backwards);
            let (fused, plain) = match (fused, plain) {
                (Features::Flat(a), Features::Flat(b)) => (a.unsqueeze::<3>(), b.unsqueeze::<3>()),
                (a, b) => (a.into_sequence().0, b.into_sequence().0),
            };
            close(fused.clone().inner(), plain.clone().inner());
            let w = Tensor::<3>::random(fused.dims(), Distribution::Default, &device);
            let g1 = (fused * w.clone()).sum().backward();
            let g2 = (plain * w).sum().backward();
            close(x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
            let r = |g| {
                lstm.recurrent_kernel
                    .val()
                    .grad(g)
                    .unwrap()
                    .unsqueeze::<3>()
            };
            close(r(&g1), r(&g2));
            let k = |g| lstm.kernel.val().grad(g).unwrap().unsqueeze::<3>();
            close(k(&g1), k(&g2));
            let b = |g| lstm.bias.val().grad(g).unwrap().unsqueeze::<3>();
            close(b(&g1), b(&g2));
        }
    }

    #[test]
    fn forget_bias_starts_at_one() {
        let lstm = Lstm::new(3, 2, false, &Device::flex());
        let b: Vec<f32> = lstm.bias.val().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(b, vec![0., 0., 1., 1., 0., 0., 0., 0.]);
    }

    #[test]
    fn padding_does_not_change_the_final_state() {
        // The same sequence unpadded and pre-padded with two masked steps.
        let device = Device::flex();
        device.seed(3);
        let lstm = Lstm::new(2, 3, false, &device);
        let seq = [0.5, -1.0, 0.2, 0.3, -0.7, 0.9];
        let plain = matrix(&seq, 3, 2).reshape([1, 3, 2]);
        let mut padded_v = vec![0.0; 4];
        padded_v.extend(seq);
        let padded = matrix(&padded_v, 5, 2).reshape([1, 5, 2]);
        let mask = matrix(&[0., 0., 1., 1., 1.], 1, 5);
        let a = lstm.forward(Features::sequence(plain)).into_flat();
        let b = lstm
            .forward(Features::Sequence {
                values: padded,
                mask: Some(mask),
            })
            .into_flat();
        let (a, b): (Vec<f32>, Vec<f32>) = (
            a.into_data().try_to_vec().unwrap(),
            b.into_data().try_to_vec().unwrap(),
        );
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn stacked_layers_pass_sequences() {
        let device = Device::flex();
        let x = Features::sequence(Tensor::ones([2, 4, 3], &device));
        let y = Lstm::new(3, 5, true, &device).forward(x);
        assert_eq!(y.dims(), vec![2, 4, 5]);
        let z = Lstm::new(5, 2, false, &device).forward(y);
        assert_eq!(z.dims(), vec![2, 2]);
    }
}
