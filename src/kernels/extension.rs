//! The CPU kernels as a Burn backend extension: a Flex implementation that runs them, and an
//! `Autodiff<Flex>` implementation whose backward step calls their hand-written gradients.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{Shape, TensorData};

use super::conv_cpu::{
    ConvGeometry, OutputGrad, conv2d_backward, conv2d_forward, conv2d_relu_pool_forward,
};
use super::lstm_cpu::{LstmGeometry, LstmSaved, lstm_backward, lstm_forward};
use super::pool_cpu::{PoolGeometry, max_pool2d_backward, max_pool2d_forward};

/// Operations manabi runs with its own CPU kernels.
#[backend_extension(Flex, Autodiff)]
pub trait CpuKernels: Backend {
    /// `conv(x, weight) + bias`, NCHW, then ReLU when `relu`; see [`ConvGeometry`] for the
    /// scalars.
    #[allow(clippy::too_many_arguments)]
    fn cpu_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// [`cpu_conv2d`](CpuKernels::cpu_conv2d) with ReLU, then 2x2 / stride-2 max pooling
    /// (floor), in one pass per sample.
    #[allow(clippy::too_many_arguments)]
    fn cpu_conv2d_relu_pool(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
    ) -> FloatTensor<Self>;

    /// Max pooling without padding, NCHW.
    fn cpu_max_pool2d(
        x: FloatTensor<Self>,
        kernel_h: usize,
        kernel_w: usize,
        stride_h: usize,
        stride_w: usize,
    ) -> FloatTensor<Self>;

    /// An LSTM's time loop from the projected input `[batch, time, 4 units]`, the recurrent
    /// kernel `[units, 4 units]` and a mask `[batch, time]` (no gradient); returns every
    /// step's hidden state `[batch, time, units]` in input order.
    fn cpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self>;
}

/// The tensor's values as a contiguous `f32` vector view (copying only when strided).
fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, Shape::from(shape)))
}

#[allow(clippy::too_many_arguments)]
fn conv_geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    stride_h: usize,
    stride_w: usize,
    pad_h: usize,
    pad_w: usize,
    out_h: usize,
    out_w: usize,
) -> ConvGeometry {
    let xs = x.layout().shape();
    let ws = weight.layout().shape();
    assert_eq!(
        xs[1], ws[1],
        "cpu_conv2d: input channels differ from the weights'"
    );
    ConvGeometry {
        n: xs[0],
        c: xs[1],
        h: xs[2],
        w: xs[3],
        f: ws[0],
        kh: ws[2],
        kw: ws[3],
        sh: stride_h,
        sw: stride_w,
        ph: pad_h,
        pw: pad_w,
        ho: out_h,
        wo: out_w,
    }
}

fn pool_geometry(x: &FlexTensor, kh: usize, kw: usize, sh: usize, sw: usize) -> PoolGeometry {
    let s = x.layout().shape();
    PoolGeometry {
        planes: s[0] * s[1],
        h: s[2],
        w: s[3],
        kh,
        kw,
        sh,
        sw,
    }
}

fn conv_forward(
    g: &ConvGeometry,
    x: &FlexTensor,
    w: &FlexTensor,
    b: &FlexTensor,
    relu: bool,
) -> FlexTensor {
    let y = conv2d_forward(g, &values(x), &values(w), &values(b), relu);
    tensor(y, vec![g.n, g.f, g.ho, g.wo])
}

fn conv_pool_forward(
    g: &ConvGeometry,
    x: &FlexTensor,
    w: &FlexTensor,
    b: &FlexTensor,
) -> (FlexTensor, Vec<u8>) {
    let (y, argmax) = conv2d_relu_pool_forward(g, &values(x), &values(w), &values(b));
    (tensor(y, vec![g.n, g.f, g.ho / 2, g.wo / 2]), argmax)
}

fn pool_forward(g: &PoolGeometry, x: &FlexTensor) -> FlexTensor {
    let s = x.layout().shape();
    let y = max_pool2d_forward(g, &values(x));
    tensor(y, vec![s[0], s[1], g.ho(), g.wo()])
}

fn lstm_geometry(xproj: &FlexTensor, recurrent: &FlexTensor, backwards: bool) -> LstmGeometry {
    let xs = xproj.layout().shape();
    let units = recurrent.layout().shape()[0];
    assert_eq!(
        xs[2],
        4 * units,
        "cpu_lstm: projection width is not 4 units"
    );
    LstmGeometry {
        batch: xs[0],
        time: xs[1],
        units,
        backwards,
    }
}

fn lstm_run(
    g: &LstmGeometry,
    xproj: &FlexTensor,
    recurrent: &FlexTensor,
    mask: &[f32],
) -> (FlexTensor, LstmSaved) {
    let (h, saved) = lstm_forward(g, &values(xproj), &values(recurrent), mask);
    (tensor(h, vec![g.batch, g.time, g.units]), saved)
}

impl CpuKernels for Flex {
    fn cpu_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
        relu: bool,
    ) -> FloatTensor<Self> {
        let g = conv_geometry(&x, &weight, stride_h, stride_w, pad_h, pad_w, out_h, out_w);
        conv_forward(&g, &x, &weight, &bias, relu)
    }

    fn cpu_conv2d_relu_pool(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
    ) -> FloatTensor<Self> {
        let g = conv_geometry(&x, &weight, stride_h, stride_w, pad_h, pad_w, out_h, out_w);
        conv_pool_forward(&g, &x, &weight, &bias).0
    }

    fn cpu_max_pool2d(
        x: FloatTensor<Self>,
        kernel_h: usize,
        kernel_w: usize,
        stride_h: usize,
        stride_w: usize,
    ) -> FloatTensor<Self> {
        let g = pool_geometry(&x, kernel_h, kernel_w, stride_h, stride_w);
        pool_forward(&g, &x)
    }

    fn cpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        let g = lstm_geometry(&xproj, &recurrent, backwards);
        lstm_run(&g, &xproj, &recurrent, &values(&mask)).0
    }
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    /// Geometry, input, weights, and the output when a ReLU was fused.
    type State = (ConvGeometry, FlexTensor, FlexTensor, Option<FlexTensor>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (g, x, w, y) = ops.state;
        let (dy, y) = (values(&dy), y.as_ref().map(values));
        let grad = match &y {
            None => OutputGrad::Plain(&dy),
            Some(y) => OutputGrad::Relu { dy: &dy, y },
        };
        let (dx, dw, db) = conv2d_backward(&g, &values(&x), &values(&w), grad, node_x.is_some());
        let ids = [node_x, node_w, node_b].map(|n| n.map(|n| n.id));
        register_conv_grads(grads, &g, ids, (dx, dw, db));
    }
}

/// Registers a convolution's input, weight and bias gradients for the parents that need them.
fn register_conv_grads(
    grads: &mut Gradients,
    g: &ConvGeometry,
    [x, w, b]: [Option<NodeId>; 3],
    (dx, dw, db): (Vec<f32>, Vec<f32>, Vec<f32>),
) {
    if let Some(id) = x {
        grads.register::<Flex>(id, tensor(dx, vec![g.n, g.c, g.h, g.w]));
    }
    if let Some(id) = w {
        grads.register::<Flex>(id, tensor(dw, vec![g.f, g.c, g.kh, g.kw]));
    }
    if let Some(id) = b {
        grads.register::<Flex>(id, tensor(db, vec![g.f]));
    }
}

#[derive(Debug)]
struct ConvPoolBackward;

impl Backward<Flex, 3> for ConvPoolBackward {
    /// Geometry, input, weights, pooled output and each window's argmax.
    type State = (ConvGeometry, FlexTensor, FlexTensor, FlexTensor, Vec<u8>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dpool = grads.consume::<Flex>(&ops.node);
        let (g, x, w, pooled, argmax) = ops.state;
        let (dpool, pooled) = (values(&dpool), values(&pooled));
        let grad = OutputGrad::ReluPool {
            dpool: &dpool,
            pooled: &pooled,
            argmax: &argmax,
        };
        let (dx, dw, db) = conv2d_backward(&g, &values(&x), &values(&w), grad, node_x.is_some());
        let ids = [node_x, node_w, node_b].map(|n| n.map(|n| n.id));
        register_conv_grads(grads, &g, ids, (dx, dw, db));
    }
}

#[derive(Debug)]
struct PoolBackward;

impl Backward<Flex, 1> for PoolBackward {
    type State = (PoolGeometry, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (g, x) = ops.state;
        if let Some(node) = node_x {
            let dx = max_pool2d_backward(&g, &values(&x), &values(&dy));
            grads.register::<Flex>(node.id, tensor(dx, x.layout().shape().to_vec()));
        }
    }
}

#[derive(Debug)]
struct LstmBackward;

impl Backward<Flex, 2> for LstmBackward {
    /// Geometry, recurrent kernel, mask, and the forward pass's gates and states.
    type State = (LstmGeometry, FlexTensor, Vec<f32>, LstmSaved);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_r] = ops.parents;
        let d_out = grads.consume::<Flex>(&ops.node);
        let (g, rec, mask, saved) = ops.state;
        let (dx, dr) = lstm_backward(&g, &values(&rec), &mask, &saved, &values(&d_out));
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(dx, vec![g.batch, g.time, 4 * g.units]));
        }
        if let Some(node) = node_r {
            grads.register::<Flex>(node.id, tensor(dr, vec![g.units, 4 * g.units]));
        }
    }
}

impl<C: CheckpointStrategy> CpuKernels for Autodiff<Flex, C> {
    fn cpu_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
        relu: bool,
    ) -> FloatTensor<Self> {
        let g = conv_geometry(
            x.primitive(),
            weight.primitive(),
            stride_h,
            stride_w,
            pad_h,
            pad_w,
            out_h,
            out_w,
        );
        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), weight.primitive().clone());
                let y = conv_forward(&g, &xp, &wp, bias.primitive(), relu);
                let saved = relu.then(|| y.clone());
                prep.finish((g, xp, wp, saved), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(conv_forward(
                &g,
                x.primitive(),
                weight.primitive(),
                bias.primitive(),
                relu,
            )),
        }
    }

    fn cpu_conv2d_relu_pool(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
        out_h: usize,
        out_w: usize,
    ) -> FloatTensor<Self> {
        let g = conv_geometry(
            x.primitive(),
            weight.primitive(),
            stride_h,
            stride_w,
            pad_h,
            pad_w,
            out_h,
            out_w,
        );
        match ConvPoolBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), weight.primitive().clone());
                let (y, argmax) = conv_pool_forward(&g, &xp, &wp, bias.primitive());
                prep.finish((g, xp, wp, y.clone(), argmax), y)
            }
            OpsKind::UnTracked(prep) => {
                let (y, _) =
                    conv_pool_forward(&g, x.primitive(), weight.primitive(), bias.primitive());
                prep.finish(y)
            }
        }
    }

    fn cpu_max_pool2d(
        x: FloatTensor<Self>,
        kernel_h: usize,
        kernel_w: usize,
        stride_h: usize,
        stride_w: usize,
    ) -> FloatTensor<Self> {
        let g = pool_geometry(x.primitive(), kernel_h, kernel_w, stride_h, stride_w);
        match PoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let xp = x.primitive().clone();
                let y = pool_forward(&g, &xp);
                prep.finish((g, xp), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(pool_forward(&g, x.primitive())),
        }
    }

    fn cpu_lstm(
        xproj: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        backwards: bool,
    ) -> FloatTensor<Self> {
        let g = lstm_geometry(xproj.primitive(), recurrent.primitive(), backwards);
        let mask = values(mask.primitive()).into_owned();
        match LstmBackward
            .prepare::<C>([xproj.node(), recurrent.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let rec = recurrent.primitive().clone();
                let (h, saved) = lstm_run(&g, xproj.primitive(), &rec, &mask);
                prep.finish((g, rec, mask, saved), h)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(lstm_run(&g, xproj.primitive(), recurrent.primitive(), &mask).0)
            }
        }
    }
}
