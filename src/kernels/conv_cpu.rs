//! 2-D convolution on `f32` NCHW buffers as im2col plus one matrix product per sample, with a
//! real backward pass (no transposed-convolution fallback). The batch is split over rayon's
//! threads; each thread reuses one column buffer.

use rayon::prelude::*;

use super::gemm::{MatRef, matmul};

/// Shapes of one convolution: input `[n, c, h, w]`, weights `[f, c, kh, kw]`, output
/// `[n, f, ho, wo]`, stride `(sh, sw)` and leading zero padding `(ph, pw)` (trailing padding
/// is whatever `ho`, `wo` imply). Dilation 1, one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub f: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub ho: usize,
    pub wo: usize,
}

impl ConvGeometry {
    fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    fn out_len(&self) -> usize {
        self.f * self.ho * self.wo
    }
    /// Rows of the column matrix: one per weight of a filter.
    fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Columns of the column matrix: one per output position.
    fn p(&self) -> usize {
        self.ho * self.wo
    }

    /// Values per sample after the fused 2x2 / stride-2 max pooling (floor).
    pub fn pooled_len(&self) -> usize {
        self.f * (self.ho / 2) * (self.wo / 2)
    }

    /// For output coordinate `o` along an axis and kernel offset `i`: the input coordinate,
    /// or `None` in the padding.
    #[inline]
    fn source(o: usize, i: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
        (o * stride + i).checked_sub(pad).filter(|&s| s < len)
    }

    /// Unfolds one sample `[c, h, w]` into `col[k, p]`.
    fn im2col(&self, x: &[f32], col: &mut [f32]) {
        let p = self.p();
        for ci in 0..self.c {
            let plane = &x[ci * self.h * self.w..(ci + 1) * self.h * self.w];
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = ((ci * self.kh + i) * self.kw + j) * p;
                    let dst = &mut col[row..row + p];
                    for oy in 0..self.ho {
                        let out = &mut dst[oy * self.wo..(oy + 1) * self.wo];
                        match Self::source(oy, i, self.sh, self.ph, self.h) {
                            None => out.fill(0.0),
                            Some(y) => {
                                self.gather_row(&plane[y * self.w..(y + 1) * self.w], j, out)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Copies input row `src` sampled at `ox * sw + j - pw` into `out`.
    #[inline]
    fn gather_row(&self, src: &[f32], j: usize, out: &mut [f32]) {
        if self.sw == 1 {
            // Stride 1: the in-bounds outputs are one contiguous run, zeros on either side.
            let (lo, hi) = self.interior(j);
            out[..lo].fill(0.0);
            out[hi..].fill(0.0);
            if lo < hi {
                let start = lo + j - self.pw;
                out[lo..hi].copy_from_slice(&src[start..start + hi - lo]);
            }
            return;
        }
        for (ox, o) in out.iter_mut().enumerate() {
            *o = Self::source(ox, j, self.sw, self.pw, self.w).map_or(0.0, |x| src[x]);
        }
    }

    /// For stride 1 along the width and kernel column `j`: the output columns `lo..hi` whose
    /// input column `ox + j - pw` lies inside the image.
    #[inline]
    fn interior(&self, j: usize) -> (usize, usize) {
        let lo = self.pw.saturating_sub(j).min(self.wo);
        let hi = (self.w + self.pw).saturating_sub(j).min(self.wo).max(lo);
        (lo, hi)
    }

    /// Folds `col[k, p]` back, adding into one sample's input gradient `[c, h, w]`.
    fn col2im(&self, col: &[f32], dx: &mut [f32]) {
        let p = self.p();
        for ci in 0..self.c {
            let plane = &mut dx[ci * self.h * self.w..(ci + 1) * self.h * self.w];
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = ((ci * self.kh + i) * self.kw + j) * p;
                    let src = &col[row..row + p];
                    for oy in 0..self.ho {
                        let Some(y) = Self::source(oy, i, self.sh, self.ph, self.h) else {
                            continue;
                        };
                        let dst = &mut plane[y * self.w..(y + 1) * self.w];
                        let vals = &src[oy * self.wo..(oy + 1) * self.wo];
                        if self.sw == 1 {
                            let (lo, hi) = self.interior(j);
                            if lo < hi {
                                let start = lo + j - self.pw;
                                let d = &mut dst[start..start + hi - lo];
                                for (d, v) in d.iter_mut().zip(&vals[lo..hi]) {
                                    *d += v;
                                }
                            }
                            continue;
                        }
                        for (ox, v) in vals.iter().enumerate() {
                            if let Some(x) = Self::source(ox, j, self.sw, self.pw, self.w) {
                                dst[x] += v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `out = dy` where `y > 0`, else 0 (the gradient through a ReLU from its output), written so
/// that it vectorises.
fn relu_mask(dy: &[f32], y: &[f32], out: &mut [f32]) {
    let n = out.len();
    let (dy, y) = (&dy[..n], &y[..n]);
    for i in 0..n {
        out[i] = if y[i] > 0.0 { dy[i] } else { 0.0 };
    }
}

/// A sum over eight independent lanes: vectorises, unlike a left-to-right float sum.
fn lane_sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Samples per rayon task: enough tasks to keep every thread busy, few enough to reuse buffers.
fn chunk_len(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads() * 4).max(1)
}

/// `y = conv(x, weight) + bias`, then `max(y, 0)` when `relu`; NCHW / `[f, c, kh, kw]` / `[f]`
/// buffers.
pub fn conv2d_forward(
    g: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    relu: bool,
) -> Vec<f32> {
    assert_eq!(x.len(), g.n * g.in_len(), "conv2d: input length");
    assert_eq!(weight.len(), g.f * g.k(), "conv2d: weight length");
    assert_eq!(bias.len(), g.f, "conv2d: bias length");
    let mut y = vec![0.0f32; g.n * g.out_len()];
    let (k, p) = (g.k(), g.p());
    let chunk = chunk_len(g.n);
    y.par_chunks_mut(chunk * g.out_len())
        .enumerate()
        .for_each(|(ci, ys)| {
            let mut col = vec![0.0f32; k * p];
            for (s, yb) in ys.chunks_mut(g.out_len()).enumerate() {
                let b = ci * chunk + s;
                g.im2col(&x[b * g.in_len()..(b + 1) * g.in_len()], &mut col);
                matmul(
                    yb,
                    MatRef::new(weight, g.f, k),
                    MatRef::new(&col, k, p),
                    false,
                );
                for (row, &bf) in yb.chunks_mut(p).zip(bias) {
                    if relu {
                        row.iter_mut().for_each(|v| *v = (*v + bf).max(0.0));
                    } else {
                        row.iter_mut().for_each(|v| *v += bf);
                    }
                }
            }
        });
    y
}

/// The gradient arriving at a convolution's output, before or after what was fused into it.
#[derive(Debug, Clone, Copy)]
pub enum OutputGrad<'a> {
    /// `dL/dy` of the plain convolution `[n, f, ho, wo]`.
    Plain(&'a [f32]),
    /// `dL/dy` after a fused ReLU, with that ReLU's output `y`: masked where `y` is zero.
    Relu { dy: &'a [f32], y: &'a [f32] },
    /// `dL/d(pooled)` after a fused ReLU and 2x2 / stride-2 max pooling
    /// (`[n, f, ho / 2, wo / 2]`), with the pooled output and each window's argmax: routed to
    /// the argmax where the pooled value is positive (where the ReLU let it through).
    ReluPool {
        dpool: &'a [f32],
        pooled: &'a [f32],
        argmax: &'a [u8],
    },
}

impl OutputGrad<'_> {
    fn len(&self) -> usize {
        match self {
            OutputGrad::Plain(dy) | OutputGrad::Relu { dy, .. } => dy.len(),
            OutputGrad::ReluPool { dpool, .. } => dpool.len(),
        }
    }

    /// Sample `b`'s `dL/d(conv output)` `[f, ho, wo]`, in `scratch` unless it can be borrowed.
    fn sample<'s>(&'s self, g: &ConvGeometry, b: usize, scratch: &'s mut [f32]) -> &'s [f32] {
        let span = b * g.out_len()..(b + 1) * g.out_len();
        match *self {
            OutputGrad::Plain(dy) => &dy[span],
            OutputGrad::Relu { dy, y } => {
                relu_mask(&dy[span.clone()], &y[span], scratch);
                scratch
            }
            OutputGrad::ReluPool {
                dpool,
                pooled,
                argmax,
            } => {
                let len = g.pooled_len();
                let span = b * len..(b + 1) * len;
                scratch.fill(0.0);
                pool2_scatter(
                    g,
                    &dpool[span.clone()],
                    &pooled[span.clone()],
                    &argmax[span],
                    scratch,
                );
                scratch
            }
        }
    }
}

/// `conv(x, weight) + bias`, ReLU, then 2x2 / stride-2 max pooling (floor), one sample at a
/// time so the full-size convolution output never leaves the cache. Returns the pooled output
/// `[n, f, ho / 2, wo / 2]` and each window's argmax (0..4, row-major in the window), all the
/// backward pass needs besides the inputs.
pub fn conv2d_relu_pool_forward(
    g: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
) -> (Vec<f32>, Vec<u8>) {
    assert_eq!(x.len(), g.n * g.in_len(), "conv2d: input length");
    assert_eq!(weight.len(), g.f * g.k(), "conv2d: weight length");
    assert_eq!(bias.len(), g.f, "conv2d: bias length");
    let plen = g.pooled_len();
    let mut y = vec![0.0f32; g.n * plen];
    let mut argmax = vec![0u8; g.n * plen];
    let (k, p) = (g.k(), g.p());
    let chunk = chunk_len(g.n);
    y.par_chunks_mut(chunk * plen)
        .zip(argmax.par_chunks_mut(chunk * plen))
        .enumerate()
        .for_each(|(ci, (ys, args))| {
            let mut col = vec![0.0f32; k * p];
            let mut full = vec![0.0f32; g.out_len()];
            for (s, (yb, ab)) in ys.chunks_mut(plen).zip(args.chunks_mut(plen)).enumerate() {
                let b = ci * chunk + s;
                g.im2col(&x[b * g.in_len()..(b + 1) * g.in_len()], &mut col);
                matmul(
                    &mut full,
                    MatRef::new(weight, g.f, k),
                    MatRef::new(&col, k, p),
                    false,
                );
                for (row, &bf) in full.chunks_mut(p).zip(bias) {
                    row.iter_mut().for_each(|v| *v = (*v + bf).max(0.0));
                }
                pool2_forward(g, &full, yb, ab);
            }
        });
    (y, argmax)
}

/// 2x2 / stride-2 max pooling of one sample's `[f, ho, wo]` into `[f, ho / 2, wo / 2]`, with
/// the argmax of each window (the first of equal values). Inputs are ReLU outputs: no NaN.
fn pool2_forward(g: &ConvGeometry, full: &[f32], out: &mut [f32], argmax: &mut [u8]) {
    let (hp, wp) = (g.ho / 2, g.wo / 2);
    for f in 0..g.f {
        let plane = &full[f * g.p()..(f + 1) * g.p()];
        for oy in 0..hp {
            let r0 = &plane[2 * oy * g.wo..][..2 * wp];
            let r1 = &plane[(2 * oy + 1) * g.wo..][..2 * wp];
            let o = (f * hp + oy) * wp;
            for ox in 0..wp {
                let cells = [r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]];
                let (mut best, mut at) = (cells[0], 0u8);
                for (i, &v) in cells.iter().enumerate().skip(1) {
                    if v > best {
                        best = v;
                        at = i as u8;
                    }
                }
                out[o + ox] = best;
                argmax[o + ox] = at;
            }
        }
    }
}

/// Adds one sample's pooled gradient into `[f, ho, wo]` at each window's argmax, where the
/// pooled (ReLU) output is positive.
fn pool2_scatter(g: &ConvGeometry, dpool: &[f32], pooled: &[f32], argmax: &[u8], dy: &mut [f32]) {
    let (hp, wp) = (g.ho / 2, g.wo / 2);
    for f in 0..g.f {
        for oy in 0..hp {
            let o = (f * hp + oy) * wp;
            for ox in 0..wp {
                if pooled[o + ox] > 0.0 {
                    let a = argmax[o + ox] as usize;
                    let (y, x) = (2 * oy + a / 2, 2 * ox + a % 2);
                    dy[(f * g.ho + y) * g.wo + x] = dpool[o + ox];
                }
            }
        }
    }
}

/// Gradients of a convolution: `(dx, dweight, dbias)` from the forward inputs and the output
/// gradient. `dx` stays zero unless `need_dx` (a first layer's input needs no gradient).
pub fn conv2d_backward(
    g: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    grad: OutputGrad,
    need_dx: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let expected = match grad {
        OutputGrad::ReluPool { .. } => g.n * g.pooled_len(),
        _ => g.n * g.out_len(),
    };
    assert_eq!(
        grad.len(),
        expected,
        "conv2d backward: output gradient length"
    );
    let (k, p) = (g.k(), g.p());
    let mut dx = vec![0.0f32; g.n * g.in_len()];
    let chunk = chunk_len(g.n);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(chunk * g.in_len())
        .enumerate()
        .map(|(ci, dxs)| {
            let mut col = vec![0.0f32; k * p];
            let mut dcol = vec![0.0f32; k * p];
            let mut dw = vec![0.0f32; g.f * k];
            let mut db = vec![0.0f32; g.f];
            let scratch_len = match grad {
                OutputGrad::Plain(_) => 0,
                _ => g.out_len(),
            };
            let mut scratch = vec![0.0f32; scratch_len];
            for (s, dxb) in dxs.chunks_mut(g.in_len()).enumerate() {
                let b = ci * chunk + s;
                let dyb = grad.sample(g, b, &mut scratch);
                g.im2col(&x[b * g.in_len()..(b + 1) * g.in_len()], &mut col);
                let dyb_m = MatRef::new(dyb, g.f, p);
                matmul(&mut dw, dyb_m, MatRef::new(&col, k, p).t(), true);
                if need_dx {
                    matmul(&mut dcol, MatRef::new(weight, g.f, k).t(), dyb_m, false);
                    g.col2im(&dcol, dxb);
                }
                for (acc, row) in db.iter_mut().zip(dyb.chunks(p)) {
                    *acc += lane_sum(row);
                }
            }
            (dw, db)
        })
        .collect();
    let mut dw = vec![0.0f32; g.f * k];
    let mut db = vec![0.0f32; g.f];
    for (pw, pb) in partials {
        dw.iter_mut().zip(pw).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(pb).for_each(|(a, b)| *a += b);
    }
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition of the convolution, for checking.
    fn naive(g: &ConvGeometry, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
        let mut y = vec![0.0; g.n * g.out_len()];
        for n in 0..g.n {
            for f in 0..g.f {
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let mut acc = b[f];
                        for c in 0..g.c {
                            for i in 0..g.kh {
                                for j in 0..g.kw {
                                    let sy = ConvGeometry::source(oy, i, g.sh, g.ph, g.h);
                                    let sx = ConvGeometry::source(ox, j, g.sw, g.pw, g.w);
                                    if let (Some(sy), Some(sx)) = (sy, sx) {
                                        acc += x[((n * g.c + c) * g.h + sy) * g.w + sx]
                                            * w[((f * g.c + c) * g.kh + i) * g.kw + j];
                                    }
                                }
                            }
                        }
                        y[((n * g.f + f) * g.ho + oy) * g.wo + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn data(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32 + seed) * 0.731).sin())
            .collect()
    }

    fn geometry(stride: usize, pad: usize) -> ConvGeometry {
        let (h, w, kh, kw) = (7, 6, 3, 2);
        ConvGeometry {
            n: 3,
            c: 2,
            h,
            w,
            f: 4,
            kh,
            kw,
            sh: stride,
            sw: stride,
            ph: pad,
            pw: pad,
            ho: (h + 2 * pad - kh) / stride + 1,
            wo: (w + 2 * pad - kw) / stride + 1,
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for (stride, pad) in [(1, 0), (2, 1), (1, 1)] {
            let g = geometry(stride, pad);
            let (x, w, b) = (
                data(g.n * g.in_len(), 0.0),
                data(g.f * g.k(), 1.0),
                data(g.f, 2.0),
            );
            let got = conv2d_forward(&g, &x, &w, &b, false);
            for (a, e) in got.iter().zip(naive(&g, &x, &w, &b)) {
                assert!(
                    (a - e).abs() < 1e-4,
                    "stride {stride} pad {pad}: {a} vs {e}"
                );
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        // loss = sum(y * r) for a fixed r, so dy = r.
        let g = geometry(2, 1);
        let (x, w, b) = (
            data(g.n * g.in_len(), 0.0),
            data(g.f * g.k(), 1.0),
            data(g.f, 2.0),
        );
        let r = data(g.n * g.out_len(), 3.0);
        let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
            naive(&g, x, w, b)
                .iter()
                .zip(&r)
                .map(|(y, r)| (*y as f64) * (*r as f64))
                .sum()
        };
        let (dx, dw, db) = conv2d_backward(&g, &x, &w, OutputGrad::Plain(&r), true);
        let eps = 1e-2f32;
        let check = |grad: &[f32], which: usize| {
            for idx in (0..grad.len()).step_by(5) {
                let (mut xp, mut wp, mut bp) = (x.clone(), w.clone(), b.clone());
                let (mut xm, mut wm, mut bm) = (x.clone(), w.clone(), b.clone());
                match which {
                    0 => (xp[idx] += eps, xm[idx] -= eps),
                    1 => (wp[idx] += eps, wm[idx] -= eps),
                    _ => (bp[idx] += eps, bm[idx] -= eps),
                };
                let num = (loss(&xp, &wp, &bp) - loss(&xm, &wm, &bm)) / (2.0 * eps as f64);
                assert!(
                    (num - grad[idx] as f64).abs() < 1e-2,
                    "param {which} index {idx}: numeric {num} vs {}",
                    grad[idx]
                );
            }
        };
        check(&dx, 0);
        check(&dw, 1);
        check(&db, 2);
    }
}
