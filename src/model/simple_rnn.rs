//! Fully connected recurrent layer (seed 001, 9.5; Keras' `SimpleRNN`).
//!
//! ```text
//! h_t = act(x_t W + h_{t-1} U + b)        act = tanh by default
//! ```

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use super::activation::ActivationKind;
use super::features::{Features, TensorFn};
use super::recurrent::{self, Cell, State};

/// A simple RNN: one hidden state, one activation.
#[derive(Module, Debug)]
pub struct SimpleRnn {
    /// `W`, `[d, units]`, Glorot-uniform.
    pub kernel: Param<Tensor<2>>,
    /// `U`, `[units, units]`, orthogonal.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// `b`, `[units]`, zeros.
    pub bias: Param<Tensor<1>>,
    /// Whether to output every step (`[batch, time, units]`) or the last one.
    pub return_sequences: bool,
    /// Whether to read the sequence from its end (Keras' `go_backwards`).
    pub go_backwards: bool,
    #[module(skip)]
    activation: ActivationKind,
}

impl SimpleRnn {
    /// A layer with Keras' initialisation for inputs of size `d_input`.
    pub fn new(
        d_input: usize,
        units: usize,
        activation: ActivationKind,
        return_sequences: bool,
        device: &Device,
    ) -> Self {
        let (kernel, recurrent_kernel) = recurrent::init_kernels(d_input, units, 1, device);
        Self {
            kernel,
            recurrent_kernel,
            bias: Param::from_tensor(Tensor::zeros([units], device)),
            return_sequences,
            go_backwards: false,
            activation,
        }
    }

    /// # Shapes
    /// - input: `[batch, time, d]` (with an optional mask)
    /// - output: `[batch, units]`, or `[batch, time, units]` when `return_sequences`
    pub fn forward(&self, x: Features) -> Features {
        recurrent::forward(self, x, self.return_sequences, self.go_backwards)
    }
}

impl Cell for SimpleRnn {
    fn units(&self) -> usize {
        self.recurrent_kernel.dims()[0]
    }

    fn project_inputs(&self, x: Tensor<3>) -> Tensor<3> {
        recurrent::project(x, &self.kernel, &self.bias)
    }

    fn initial_state(&self, batch: usize, device: &Device) -> State {
        State {
            h: Tensor::zeros([batch, self.units()], device),
            c: None,
        }
    }

    fn step(&self, projected: Tensor<2>, state: State) -> State {
        let pre = projected + state.h.matmul(self.recurrent_kernel.val());
        State {
            h: self.activation.apply(pre),
            c: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::recurrent::matrix as tensor2;

    #[test]
    fn one_step_matches_the_equation() {
        // d = 2, units = 2, from h_0 = [0.3, -0.2].
        let (w, u, b) = ([0.5, -0.4, 0.1, 0.7], [0.2, 0.3, -0.6, 0.1], [0.05, -0.1]);
        let (x, h0) = ([1.0, -2.0], [0.3, -0.2]);
        let mut rnn = SimpleRnn::new(2, 2, ActivationKind::Tanh, false, &Device::flex());
        rnn.kernel = Param::from_tensor(tensor2(&w, 2, 2));
        rnn.recurrent_kernel = Param::from_tensor(tensor2(&u, 2, 2));
        rnn.bias = Param::from_tensor(tensor2(&b, 1, 2).reshape([2]));
        let projected = rnn.project_inputs(tensor2(&x, 1, 2).reshape([1, 1, 2]));
        let state = State {
            h: tensor2(&h0, 1, 2),
            c: None,
        };
        let h = rnn.step(projected.reshape([1, 2]), state).h;
        let got: Vec<f32> = h.into_data().try_to_vec::<f32>().unwrap();
        for j in 0..2 {
            let pre = (0..2).map(|i| x[i] * w[i * 2 + j]).sum::<f64>()
                + (0..2).map(|i| h0[i] * u[i * 2 + j]).sum::<f64>()
                + b[j];
            assert!((got[j] as f64 - pre.tanh()).abs() < 1e-6, "{got:?}");
        }
    }

    #[test]
    fn shapes() {
        let device = Device::flex();
        let x = Features::sequence(Tensor::ones([3, 5, 4], &device));
        let last = SimpleRnn::new(4, 6, ActivationKind::Tanh, false, &device).forward(x.clone());
        assert_eq!(last.dims(), vec![3, 6]);
        let all = SimpleRnn::new(4, 6, ActivationKind::Tanh, true, &device).forward(x);
        assert_eq!(all.dims(), vec![3, 5, 6]);
    }
}
