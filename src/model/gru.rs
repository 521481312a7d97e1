//! Gated recurrent unit (Cho et al. 2014; Keras' `GRU` with its default `reset_after=True`,
//! the cuDNN form, which has a second bias on the recurrent side).
//!
//! ```text
//! z_t = sigmoid(x_t W_z + b_z + h_{t-1} U_z + r_z)                 update gate
//! r_t = sigmoid(x_t W_r + b_r + h_{t-1} U_r + r_r)                 reset gate
//! g_t = tanh(x_t W_h + b_h + r_t * (h_{t-1} U_h + r_h))            candidate
//! h_t = z_t * h_{t-1} + (1 - z_t) * g_t
//! ```
//! The gates sit side by side in one kernel `[d, 3 units]` in Keras' order z, r, h.

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use super::features::Features;
use super::recurrent::{self, Cell, State};

/// A GRU layer.
#[derive(Module, Debug)]
pub struct Gru {
    /// `[W_z W_r W_h]`, `[d, 3 units]`, Glorot-uniform.
    pub kernel: Param<Tensor<2>>,
    /// `[U_z U_r U_h]`, `[units, 3 units]`, orthogonal.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// Input-side bias `[b_z b_r b_h]`, `[3 units]`, zeros.
    pub input_bias: Param<Tensor<1>>,
    /// Recurrent-side bias `[r_z r_r r_h]`, `[3 units]`, zeros.
    pub recurrent_bias: Param<Tensor<1>>,
    /// Whether to output every step (`[batch, time, units]`) or the last one.
    pub return_sequences: bool,
    /// Whether to read the sequence from its end (Keras' `go_backwards`).
    pub go_backwards: bool,
}

impl Gru {
    /// A layer with Keras' initialisation for inputs of size `d_input`.
    pub fn new(d_input: usize, units: usize, return_sequences: bool, device: &Device) -> Self {
        let (kernel, recurrent_kernel) = recurrent::init_kernels(d_input, units, 3, device);
        Self {
            kernel,
            recurrent_kernel,
            input_bias: Param::from_tensor(Tensor::zeros([3 * units], device)),
            recurrent_bias: Param::from_tensor(Tensor::zeros([3 * units], device)),
            return_sequences,
            go_backwards: false,
        }
    }

    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask)
    /// - output: `[batch, units]`, or `[batch, time, units]` when `return_sequences`
    pub fn forward(&self, x: Features) -> Features {
        recurrent::forward(self, x, self.return_sequences, self.go_backwards)
    }
}

impl Cell for Gru {
    fn units(&self) -> usize {
        self.recurrent_kernel.dims()[0]
    }

    fn project_inputs(&self, x: Tensor<3>) -> Tensor<3> {
        recurrent::project(x, &self.kernel, &self.input_bias)
    }

    fn initial_state(&self, batch: usize, device: &Device) -> State {
        State {
            h: Tensor::zeros([batch, self.units()], device),
            c: None,
        }
    }

    fn step(&self, projected: Tensor<2>, state: State) -> State {
        let inner = state.h.clone().matmul(self.recurrent_kernel.val())
            + self.recurrent_bias.val().unsqueeze::<2>(); // [batch, 3 units]
        let mut xs = projected.chunk(3, 1).into_iter();
        let mut hs = inner.chunk(3, 1).into_iter();
        let mut next = || {
            (
                xs.next().expect("three gates"),
                hs.next().expect("three gates"),
            )
        };
        let ((x_z, h_z), (x_r, h_r), (x_h, h_h)) = (next(), next(), next());
        let z = sigmoid(x_z + h_z);
        let r = sigmoid(x_r + h_r);
        let g = tanh(x_h + r * h_h);
        State {
            h: z.clone() * state.h + (z.neg() + 1.0) * g,
            c: None,
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
        // d = 2, units = 1: kernel [2, 3], recurrent kernel [1, 3], gate order z, r, h.
        let w = [0.1, -0.2, 0.3, -0.5, 0.6, 0.7];
        let u = [0.25, -0.35, 0.45];
        let (bi, br) = ([0.01, -0.02, 0.03], [0.04, 0.05, -0.06]);
        let (x, h0) = ([0.9, -0.4], [0.2]);
        let mut gru = Gru::new(2, 1, false, &Device::flex());
        gru.kernel = Param::from_tensor(matrix(&w, 2, 3));
        gru.recurrent_kernel = Param::from_tensor(matrix(&u, 1, 3));
        gru.input_bias = Param::from_tensor(matrix(&bi, 1, 3).reshape([3]));
        gru.recurrent_bias = Param::from_tensor(matrix(&br, 1, 3).reshape([3]));
        let projected = gru.project_inputs(matrix(&x, 1, 2).reshape([1, 1, 2]));
        let state = State {
            h: matrix(&h0, 1, 1),
            c: None,
        };
        let got = gru.step(projected.reshape([1, 3]), state).h;
        let got = got.into_data().try_to_vec::<f32>().unwrap()[0] as f64;

        let xw = vec_mat(&x, &w, 3);
        let hu = vec_mat(&h0, &u, 3);
        let z = sig(xw[0] + bi[0] + hu[0] + br[0]);
        let r = sig(xw[1] + bi[1] + hu[1] + br[1]);
        let g = (xw[2] + bi[2] + r * (hu[2] + br[2])).tanh();
        let h = z * h0[0] + (1.0 - z) * g;
        assert!((got - h).abs() < 1e-6, "{got} vs {h}");
    }

    #[test]
    fn shapes() {
        let device = Device::flex();
        let x = Features::sequence(Tensor::ones([2, 4, 3], &device));
        assert_eq!(
            Gru::new(3, 5, true, &device).forward(x.clone()).dims(),
            vec![2, 4, 5]
        );
        assert_eq!(Gru::new(3, 5, false, &device).forward(x).dims(), vec![2, 5]);
    }
}
