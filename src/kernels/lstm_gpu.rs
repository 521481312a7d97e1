//! The LSTM time loop as two CubeCL kernels (issue 11): one launch for the forward scan and
//! one for the backward scan, instead of a dozen small tensor ops per time step.
//!
//! One cube (work group) runs one sequence; its threads share the hidden and cell states in
//! shared memory and step through time, synchronising twice per step:
//!
//! ```text
//! forward, each step t (in reading order):
//!   z[k]  = xproj[t, k] + sum_j h[j] U[j, k]                (thread k of 4 units)
//!   a     = sigmoid(z) for i, f, o; tanh(z) for g
//!   c'    = f c + i g,  h' = o tanh(c')                     (thread j of units)
//!   c, h  = c + m (c' - c),  h + m (h' - h)                  (m = mask[t]: padding keeps)
//! backward, the same steps in reverse, from dL/dh_t (+ the carried dL/dh, dL/dc):
//!   dz    = the gate pre-activations' gradient  -> d xproj[t]
//!   dh    = (1 - m) dh_t + dz U^T,  dc = f dc' + (1 - m) dc
//! ```
//!
//! The recurrent kernel's gradient is one matmul afterwards, `sum_t h_{t-1}^T dz_t`, so the
//! forward scan saves `h_{t-1}`, `c_{t-1}` and the gate activations when a gradient is needed.
//! Registered for the CubeCL backend (Vulkan, wgpu, CUDA), its fused form, and autodiff.
#![allow(clippy::too_many_arguments)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Cube, TensorMetadata, backend_extension};
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

/// manabi's GPU kernels.
#[backend_extension(Cube, Fusion, Autodiff)]
pub trait GpuKernels: Backend {
    /// An LSTM's time loop from the projected input `[batch, time, 4 units]`, the recurrent
    /// kernel `[units, 4 units]` and a mask `[batch, time]` (no gradient); returns every
    /// step's hidden state `[batch, time, units]` in input order.
    #[fusion(dtype = xproj, shape = hidden_shape(xproj, recurrent))]
    fn gpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self>;

    /// [`gpu_lstm`](GpuKernels::gpu_lstm) that also returns what the backward scan reads:
    /// `(hidden, h_prev, c_prev, gates)`, the states before each step `[batch, time, units]`
    /// and the gate activations `[batch, time, 4 units]`.
    #[fusion(meta = |xproj, recurrent, _mask, _backwards| saved_specs(xproj, recurrent))]
    #[allow(clippy::type_complexity)]
    fn gpu_lstm_saving(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );

    /// The gradient of the gate pre-activations `[batch, time, 4 units]` (= the projected
    /// input's gradient) from the hidden states' gradient and the saved forward values.
    #[fusion(dtype = gates, shape = gates)]
    fn gpu_lstm_backward(
        d_hidden: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        c_prev: FloatTensor<Self>,
        gates: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self>;
}

fn hidden_shape(xproj: &Shape, recurrent: &Shape) -> Shape {
    Shape::new([xproj[0], xproj[1], recurrent[0]])
}

fn saved_specs(
    xproj: &TensorSpec,
    recurrent: &TensorSpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let states = TensorSpec::new(hidden_shape(&xproj.shape, &recurrent.shape), xproj.dtype);
    (states.clone(), states.clone(), states, xproj.clone())
}

#[cube(launch)]
fn lstm_forward_kernel<F: Float>(
    xproj: &Tensor<F>,      // [B, T, 4U]
    recurrent: &Tensor<F>,  // [U, 4U]
    mask: &Tensor<F>,       // [B, T]
    hidden: &mut Tensor<F>, // [B, T, U]
    h_prev: &mut Tensor<F>, // [B, T, U] (save only)
    c_prev: &mut Tensor<F>, // [B, T, U] (save only)
    gates: &mut Tensor<F>,  // [B, T, 4U] (save only)
    time: u32,
    backwards: u32,
    #[comptime] units: u32,
    #[comptime] save: bool,
    #[define(F)] _dtype: ElemType,
) {
    let b = CUBE_POS_X as usize;
    let threads = CUBE_DIM_X as usize;
    let tid = UNIT_POS_X as usize;
    let u = units as usize;
    let g4 = 4 * u;
    let t_len = time as usize;
    let one = F::new(1.0_f32);
    let mut h = Shared::new_slice(u);
    let mut c = Shared::new_slice(u);
    let mut z = Shared::new_slice(g4);

    let mut j = tid;
    while j < u {
        h[j] = F::new(0.0_f32);
        c[j] = F::new(0.0_f32);
        j += threads;
    }
    sync_cube();

    for step in 0..t_len {
        let mut t = step;
        if backwards == 1 {
            t = t_len - 1 - step;
        }
        let row = b * t_len + t;
        let m = mask[row];

        let mut k = tid;
        while k < g4 {
            let mut acc = xproj[row * g4 + k];
            for i in 0..u {
                acc += h[i] * recurrent[i * g4 + k];
            }
            let mut a = one / (one + (-acc).exp());
            if k / u == 2 {
                a = acc.tanh();
            }
            z[k] = a;
            if save {
                gates[row * g4 + k] = a;
            }
            k += threads;
        }
        sync_cube();

        let mut j = tid;
        while j < u {
            let hp = h[j];
            let cp = c[j];
            let c_new = z[u + j] * cp + z[j] * z[2 * u + j];
            let h_new = z[3 * u + j] * c_new.tanh();
            let c_keep = cp + m * (c_new - cp);
            let h_keep = hp + m * (h_new - hp);
            c[j] = c_keep;
            h[j] = h_keep;
            hidden[row * u + j] = h_keep;
            if save {
                h_prev[row * u + j] = hp;
                c_prev[row * u + j] = cp;
            }
            j += threads;
        }
        sync_cube();
    }
}

#[cube(launch)]
fn lstm_backward_kernel<F: Float>(
    d_hidden: &Tensor<F>,  // [B, T, U]
    recurrent: &Tensor<F>, // [U, 4U]
    mask: &Tensor<F>,      // [B, T]
    c_prev: &Tensor<F>,    // [B, T, U]
    gates: &Tensor<F>,     // [B, T, 4U]
    dz: &mut Tensor<F>,    // [B, T, 4U]
    time: u32,
    backwards: u32,
    #[comptime] units: u32,
    #[define(F)] _dtype: ElemType,
) {
    let b = CUBE_POS_X as usize;
    let threads = CUBE_DIM_X as usize;
    let tid = UNIT_POS_X as usize;
    let u = units as usize;
    let g4 = 4 * u;
    let t_len = time as usize;
    let one = F::new(1.0_f32);
    let mut dh = Shared::new_slice(u);
    let mut dc = Shared::new_slice(u);
    let mut carry = Shared::new_slice(u);
    let mut dzs = Shared::new_slice(g4);

    let mut j = tid;
    while j < u {
        dh[j] = F::new(0.0_f32);
        dc[j] = F::new(0.0_f32);
        j += threads;
    }
    sync_cube();

    for s in 0..t_len {
        // The forward scan's steps in reverse.
        let step = t_len - 1 - s;
        let mut t = step;
        if backwards == 1 {
            t = t_len - 1 - step;
        }
        let row = b * t_len + t;
        let m = mask[row];

        let mut j = tid;
        while j < u {
            let dht = d_hidden[row * u + j] + dh[j];
            let dct = dc[j];
            let gi = gates[row * g4 + j];
            let gf = gates[row * g4 + u + j];
            let gg = gates[row * g4 + 2 * u + j];
            let go = gates[row * g4 + 3 * u + j];
            let cp = c_prev[row * u + j];
            let tc = (gf * cp + gi * gg).tanh();
            let dhn = m * dht;
            let dcn = m * dct + dhn * go * (one - tc * tc);
            let zi = dcn * gg * gi * (one - gi);
            let zf = dcn * cp * gf * (one - gf);
            let zg = dcn * gi * (one - gg * gg);
            let zo = dhn * tc * go * (one - go);
            dzs[j] = zi;
            dzs[u + j] = zf;
            dzs[2 * u + j] = zg;
            dzs[3 * u + j] = zo;
            dz[row * g4 + j] = zi;
            dz[row * g4 + u + j] = zf;
            dz[row * g4 + 2 * u + j] = zg;
            dz[row * g4 + 3 * u + j] = zo;
            dc[j] = dcn * gf + (one - m) * dct;
            carry[j] = (one - m) * dht;
            j += threads;
        }
        sync_cube();

        let mut j = tid;
        while j < u {
            let mut acc = carry[j];
            for k in 0..g4 {
                acc += dzs[k] * recurrent[j * g4 + k];
            }
            dh[j] = acc;
            j += threads;
        }
        sync_cube();
    }
}

/// Threads per cube: one per gate column, at most 256 (and the device's limit).
fn cube_dim(client_max: u32, units: usize) -> CubeDim {
    CubeDim::new_1d(((4 * units) as u32).clamp(1, 256.min(client_max)))
}

fn new_like(x: &CubeTensor, shape: [usize; 3]) -> CubeTensor {
    empty_device_dtype(
        x.client.clone(),
        x.device.clone(),
        Shape::new(shape),
        x.dtype,
    )
}

/// Runs the forward scan; `h_prev`, `c_prev` and `gates` are 1-element placeholders unless
/// `save`.
fn forward(
    xproj: CubeTensor,
    recurrent: CubeTensor,
    mask: CubeTensor,
    backwards: bool,
    save: bool,
) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
    let xproj = into_contiguous(xproj);
    let recurrent = into_contiguous(recurrent);
    let mask = into_contiguous(mask);
    let [b, t, g4] = xproj.shape().dims::<3>();
    let units = recurrent.shape().dims::<2>()[0];
    assert_eq!(g4, 4 * units, "gpu_lstm: projection width is not 4 units");
    let hidden = new_like(&xproj, [b, t, units]);
    let saved = |shape| new_like(&xproj, if save { shape } else { [1, 1, 1] });
    let (h_prev, c_prev, gates) = (
        saved([b, t, units]),
        saved([b, t, units]),
        saved([b, t, g4]),
    );
    if b * t > 0 {
        let client = xproj.client.clone();
        let dim = cube_dim(client.properties().hardware.max_cube_dim.0, units);
        let dtype = dtype_to_storage_type(xproj.dtype);
        lstm_forward_kernel::launch(
            &client,
            CubeCount::Static(b as u32, 1, 1),
            dim,
            xproj.into_tensor_arg(),
            recurrent.into_tensor_arg(),
            mask.into_tensor_arg(),
            hidden.clone().into_tensor_arg(),
            h_prev.clone().into_tensor_arg(),
            c_prev.clone().into_tensor_arg(),
            gates.clone().into_tensor_arg(),
            t as u32,
            u32::from(backwards),
            units as u32,
            save,
            dtype,
        );
    }
    (hidden, h_prev, c_prev, gates)
}

fn backward(
    d_hidden: CubeTensor,
    recurrent: CubeTensor,
    mask: CubeTensor,
    c_prev: CubeTensor,
    gates: CubeTensor,
    backwards: bool,
) -> CubeTensor {
    let d_hidden = into_contiguous(d_hidden);
    let recurrent = into_contiguous(recurrent);
    let mask = into_contiguous(mask);
    let c_prev = into_contiguous(c_prev);
    let gates = into_contiguous(gates);
    let [b, t, g4] = gates.shape().dims::<3>();
    let units = g4 / 4;
    let dz = new_like(&gates, [b, t, g4]);
    if b * t > 0 {
        let client = gates.client.clone();
        let dim = cube_dim(client.properties().hardware.max_cube_dim.0, units);
        let dtype = dtype_to_storage_type(gates.dtype);
        lstm_backward_kernel::launch(
            &client,
            CubeCount::Static(b as u32, 1, 1),
            dim,
            d_hidden.into_tensor_arg(),
            recurrent.into_tensor_arg(),
            mask.into_tensor_arg(),
            c_prev.into_tensor_arg(),
            gates.into_tensor_arg(),
            dz.clone().into_tensor_arg(),
            t as u32,
            u32::from(backwards),
            units as u32,
            dtype,
        );
    }
    dz
}

impl GpuKernels for CubeBackend {
    fn gpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        forward(xproj, recurrent, mask, backwards, false).0
    }

    fn gpu_lstm_saving(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        forward(xproj, recurrent, mask, backwards, true)
    }

    fn gpu_lstm_backward(
        d_hidden: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        c_prev: FloatTensor<Self>,
        gates: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        backward(d_hidden, recurrent, mask, c_prev, gates, backwards)
    }
}

#[derive(Debug)]
struct LstmBackward;

/// Recurrent kernel, mask, `h_prev`, `c_prev`, gates, reading direction.
type LstmState = (
    FloatTensor<Cube>,
    FloatTensor<Cube>,
    FloatTensor<Cube>,
    FloatTensor<Cube>,
    FloatTensor<Cube>,
    bool,
);

impl Backward<Cube, 2> for LstmBackward {
    type State = LstmState;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_r] = ops.parents;
        let d_hidden = grads.consume::<Cube>(&ops.node);
        let (rec, mask, h_prev, c_prev, gates, backwards) = ops.state;
        let [b, t, g4] = gates.shape().dims::<3>();
        let dz = Cube::gpu_lstm_backward(d_hidden, rec, mask, c_prev, gates, backwards);
        if let Some(node) = node_r {
            // dL/dU = sum over sequences and steps of h_{t-1}^T dz_t.
            let h = Cube::float_reshape(h_prev, Shape::new([b * t, g4 / 4]));
            let z = Cube::float_reshape(dz.clone(), Shape::new([b * t, g4]));
            grads.register::<Cube>(node.id, Cube::float_matmul(Cube::float_transpose(h), z));
        }
        if let Some(node) = node_x {
            grads.register::<Cube>(node.id, dz);
        }
    }
}

impl<C: CheckpointStrategy> GpuKernels for Autodiff<Cube, C> {
    fn gpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        let mask = mask.into_primitive();
        match LstmBackward
            .prepare::<C>([xproj.node(), recurrent.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let rec = recurrent.primitive().clone();
                let (hidden, h_prev, c_prev, gates) = Cube::gpu_lstm_saving(
                    xproj.primitive().clone(),
                    rec.clone(),
                    mask.clone(),
                    backwards,
                );
                prep.finish((rec, mask, h_prev, c_prev, gates, backwards), hidden)
            }
            OpsKind::UnTracked(prep) => prep.finish(Cube::gpu_lstm(
                xproj.primitive().clone(),
                recurrent.primitive().clone(),
                mask,
                backwards,
            )),
        }
    }

    fn gpu_lstm_saving(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        // Saved values for a backward pass; constants to autodiff.
        let (a, b, c, d) = Cube::gpu_lstm_saving(
            xproj.into_primitive(),
            recurrent.into_primitive(),
            mask.into_primitive(),
            backwards,
        );
        (
            Self::from_inner(a),
            Self::from_inner(b),
            Self::from_inner(c),
            Self::from_inner(d),
        )
    }

    fn gpu_lstm_backward(
        d_hidden: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        c_prev: FloatTensor<Self>,
        gates: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        // A gradient value, not differentiated again (no double backward through the scan).
        Self::from_inner(Cube::gpu_lstm_backward(
            d_hidden.into_primitive(),
            recurrent.into_primitive(),
            mask.into_primitive(),
            c_prev.into_primitive(),
            gates.into_primitive(),
            backwards,
        ))
    }
}
