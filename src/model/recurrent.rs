//! The time loop shared by the recurrent layers ([`SimpleRnn`](super::SimpleRnn),
//! [`Lstm`](super::Lstm), [`Gru`](super::Gru)): input projection for all steps at once, one
//! recurrent step per time step, and Keras' masking rule.
//!
//! ```text
//! masked step t (mask[b, t] = 0):  h_t = h_{t-1},  c_t = c_{t-1}   (state and output kept)
//! ```

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use super::features::Features;
use super::gru::Gru;
use super::initializer::{InitKind, orthogonal};
use super::lstm::Lstm;
use super::simple_rnn::SimpleRnn;

/// A recurrent layer's state between steps.
#[derive(Debug, Clone)]
pub struct State {
    /// Hidden state (the output) `[batch, units]`.
    pub h: Tensor<2>,
    /// Cell state `[batch, units]` (LSTM only).
    pub c: Option<Tensor<2>>,
}

/// One recurrent cell, parameterised as in Keras: a kernel `[d, k units]`, a recurrent
/// kernel `[units, k units]` and biases, where `k` is the number of gates.
pub trait Cell {
    /// Size of the hidden state.
    fn units(&self) -> usize;

    /// The input's contribution to every gate, for all steps at once: `x W (+ b)`.
    ///
    /// # Shapes
    /// - input: `[batch, time, d]`; output: `[batch, time, k units]`
    fn project_inputs(&self, x: Tensor<3>) -> Tensor<3>;

    /// The all-zero state a sequence starts from.
    fn initial_state(&self, batch: usize, device: &Device) -> State;

    /// One step from the projected input `[batch, k units]` and the previous state.
    fn step(&self, projected: Tensor<2>, state: State) -> State;
}

/// `x W + b` over all time steps with one `[batch * time, d] x [d, k units]` matmul.
pub fn project(x: Tensor<3>, kernel: &Param<Tensor<2>>, bias: &Param<Tensor<1>>) -> Tensor<3> {
    let [b, t, d] = x.dims();
    let k = kernel.dims()[1];
    let y = x.reshape([b * t, d]).matmul(kernel.val()) + bias.val().unsqueeze::<2>();
    y.reshape([b, t, k]) // [batch, time, k units]
}

/// Keras' default weights for a cell with `gates` gates: Glorot-uniform kernel `[d, k units]`
/// and orthogonal recurrent kernel `[units, k units]`.
pub fn init_kernels(
    d_input: usize,
    units: usize,
    gates: usize,
    device: &Device,
) -> (Param<Tensor<2>>, Param<Tensor<2>>) {
    let kernel = InitKind::GlorotUniform.to_burn().init_with(
        [d_input, gates * units],
        Some(d_input),
        Some(gates * units),
        device,
    );
    let recurrent = Param::from_tensor(orthogonal(units, gates * units, device));
    (kernel, recurrent)
}

/// Runs `cell` over a sequence; returns the state after each step (in input time order)
/// and the final state. With `backwards` the steps run from last to first (Keras'
/// `go_backwards`, which reverses the whole padded sequence and its mask); the outputs are
/// still returned aligned with the input, as Keras' `Bidirectional` re-reverses them.
///
/// # Shapes
/// - x: `[batch, time, d]`; mask: `[batch, time]`
pub fn scan<C: Cell>(
    cell: &C,
    x: Tensor<3>,
    mask: Option<Tensor<2>>,
    backwards: bool,
) -> (Vec<Tensor<2>>, State) {
    let [b, t, _] = x.dims();
    let device = x.device();
    let projected = cell.project_inputs(x); // [batch, time, k units]
    let k = projected.dims()[2];
    let steps = projected.chunk(t, 1);
    let masks: Vec<Option<Tensor<2>>> = match mask {
        Some(m) => m.chunk(t, 1).into_iter().map(Some).collect(), // t x [batch, 1]
        None => vec![None; t],
    };
    let mut state = cell.initial_state(b, &device);
    let mut outputs = vec![None; t];
    let order: Vec<usize> = if backwards {
        (0..t).rev().collect()
    } else {
        (0..t).collect()
    };
    for i in order {
        let next = cell.step(steps[i].clone().reshape([b, k]), state.clone());
        state = match &masks[i] {
            None => next,
            Some(m) => State {
                h: keep_masked(state.h, next.h, m),
                c: match (state.c, next.c) {
                    (Some(old), Some(new)) => Some(keep_masked(old, new, m)),
                    (_, new) => new,
                },
            },
        };
        outputs[i] = Some(state.h.clone());
    }
    (outputs.into_iter().flatten().collect(), state)
}

/// `old + m (new - old)`: the new value at real steps, the old one at padding.
fn keep_masked(old: Tensor<2>, new: Tensor<2>, m: &Tensor<2>) -> Tensor<2> {
    old.clone() + (new - old) * m.clone()
}

/// A recurrent layer's output: the last state `[batch, units]`, or every step's state
/// `[batch, time, units]` (keeping the mask) when `return_sequences`.
pub fn forward<C: Cell>(
    cell: &C,
    x: Features,
    return_sequences: bool,
    backwards: bool,
) -> Features {
    let (x, mask) = x.into_sequence();
    let (outputs, state) = scan(cell, x, mask.clone(), backwards);
    if return_sequences {
        Features::Sequence {
            values: Tensor::stack(outputs, 1), // [batch, time, units]
            mask,
        }
    } else {
        Features::Flat(state.h)
    }
}

/// Any of the recurrent layers, for wrappers such as [`Bidirectional`](super::Bidirectional).
#[derive(Module, Debug)]
pub enum Recurrent {
    /// See [`SimpleRnn`].
    SimpleRnn(SimpleRnn),
    /// See [`Lstm`].
    Lstm(Lstm),
    /// See [`Gru`].
    Gru(Gru),
}

impl Recurrent {
    /// Applies the layer.
    pub fn forward(&self, x: Features) -> Features {
        match self {
            Recurrent::SimpleRnn(l) => l.forward(x),
            Recurrent::Lstm(l) => l.forward(x),
            Recurrent::Gru(l) => l.forward(x),
        }
    }

    /// The same layer reading the sequence from its end (Keras' `go_backwards = True`).
    pub fn reversed(self) -> Self {
        match self {
            Recurrent::SimpleRnn(mut l) => {
                l.go_backwards = true;
                Recurrent::SimpleRnn(l)
            }
            Recurrent::Lstm(mut l) => {
                l.go_backwards = true;
                Recurrent::Lstm(l)
            }
            Recurrent::Gru(mut l) => {
                l.go_backwards = true;
                Recurrent::Gru(l)
            }
        }
    }

    /// Output size per step.
    pub fn units(&self) -> usize {
        match self {
            Recurrent::SimpleRnn(l) => l.units(),
            Recurrent::Lstm(l) => l.units(),
            Recurrent::Gru(l) => l.units(),
        }
    }
}

/// A `[rows, cols]` tensor from row-major values (tests of the cells).
#[cfg(test)]
pub(crate) fn matrix(v: &[f64], rows: usize, cols: usize) -> Tensor<2> {
    let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_data(
        burn::tensor::TensorData::new(v, [rows, cols]),
        &Device::flex(),
    )
}

/// `sum_i a[i] m[i][j]` for a row-major `m` with `cols` columns (f64 reference).
#[cfg(test)]
pub(crate) fn vec_mat(a: &[f64], m: &[f64], cols: usize) -> Vec<f64> {
    (0..cols)
        .map(|j| a.iter().enumerate().map(|(i, x)| x * m[i * cols + j]).sum())
        .collect()
}
