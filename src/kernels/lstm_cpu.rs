//! A whole LSTM time loop on `f32` buffers, forward and hand-written backward through time.
//!
//! The input's projection `x W + b` for every step is done outside (one large matrix product);
//! here each step is one `[batch, units] x [units, 4 units]` product with the recurrent kernel
//! and one fused pass over the four gates, so a sequence costs `time` small products instead
//! of a dozen tensor ops per step. Gates are laid out as in Keras: `i, f, c, o`. Masked steps
//! (`mask = 0`) keep the previous state: `h = h_prev + m (h_new - h_prev)`, likewise `c`.
//!
//! The batch's sequences are independent, so the batch is split over rayon's threads and each
//! thread runs the whole time loop for its rows. Within a thread everything is time-major in
//! processing order (`s = 0` is the first step read, the last time step when reading
//! backwards), so each step's rows are contiguous.

use rayon::prelude::*;

use super::fast_math::{sigmoid_in_place, tanh_in_place};
use super::gemm::{MatRef, matmul};

/// Sizes of one LSTM scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmGeometry {
    pub batch: usize,
    pub time: usize,
    pub units: usize,
    /// Reads the sequence from its end (Keras' `go_backwards`); outputs stay in input order.
    pub backwards: bool,
}

impl LstmGeometry {
    /// The time index read at processing step `s`.
    fn t(&self, s: usize) -> usize {
        if self.backwards { self.time - 1 - s } else { s }
    }
}

/// What the backward pass needs from the forward pass: one part per block of batch rows.
#[derive(Debug, Clone)]
pub struct LstmSaved {
    /// Batch rows per part (the last part may have fewer).
    rows: usize,
    parts: Vec<ScanSaved>,
}

/// Batch rows per thread.
fn rows_per_part(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads()).max(1)
}

/// Runs the scan. `xproj` is `[batch, time, 4 units]`, `recurrent` `[units, 4 units]`, `mask`
/// `[batch, time]` (1 real, 0 padding). Returns every step's hidden state `[batch, time, units]`
/// in input order and what the backward pass needs.
pub fn lstm_forward(
    g: &LstmGeometry,
    xproj: &[f32],
    recurrent: &[f32],
    mask: &[f32],
) -> (Vec<f32>, LstmSaved) {
    let (b, tn, u) = (g.batch, g.time.max(1), g.units);
    let rows = rows_per_part(b);
    let mut out = vec![0.0f32; b * tn * u];
    let parts = out
        .par_chunks_mut((rows * tn * u).max(1))
        .zip(xproj.par_chunks((rows * tn * 4 * u).max(1)))
        .zip(mask.par_chunks(rows * tn))
        .map(|((o, x), m)| {
            let part = LstmGeometry {
                batch: m.len() / tn,
                ..*g
            };
            let (h, saved) = scan_forward(&part, x, recurrent, m);
            o.copy_from_slice(&h);
            saved
        })
        .collect();
    (out, LstmSaved { rows, parts })
}

/// Gradients of the scan: given `d_out = dL/d(hidden states)` `[batch, time, units]`, returns
/// `dL/d(xproj)` `[batch, time, 4 units]` and `dL/d(recurrent)` `[units, 4 units]`.
pub fn lstm_backward(
    g: &LstmGeometry,
    recurrent: &[f32],
    mask: &[f32],
    saved: &LstmSaved,
    d_out: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (b, tn, u) = (g.batch, g.time.max(1), g.units);
    let rows = saved.rows;
    let mut d_xproj = vec![0.0f32; b * tn * 4 * u];
    let partials: Vec<Vec<f32>> = d_xproj
        .par_chunks_mut((rows * tn * 4 * u).max(1))
        .zip(d_out.par_chunks((rows * tn * u).max(1)))
        .zip(mask.par_chunks(rows * tn))
        .zip(saved.parts.par_iter())
        .map(|(((dx, dout), m), part_saved)| {
            let part = LstmGeometry {
                batch: m.len() / tn,
                ..*g
            };
            let (dxp, drp) = scan_backward(&part, recurrent, m, part_saved, dout);
            dx.copy_from_slice(&dxp);
            drp
        })
        .collect();
    let mut d_rec = vec![0.0f32; u * 4 * u];
    for p in partials {
        d_rec.iter_mut().zip(p).for_each(|(a, b)| *a += b);
    }
    (d_xproj, d_rec)
}

/// One block of rows' forward values, time-major in processing order.
#[derive(Debug, Clone)]
struct ScanSaved {
    /// Activated gates `[time, batch, 4 units]`: `sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)`.
    gates: Vec<f32>,
    /// `tanh` of the unmasked new cell state, `[time, batch, units]`.
    tanh_c: Vec<f32>,
    /// Cell state after masking, `[time, batch, units]`.
    c: Vec<f32>,
    /// Hidden state after masking, `[time, batch, units]`.
    h: Vec<f32>,
}

/// [`lstm_forward`] for one block of rows, on one thread.
fn scan_forward(
    g: &LstmGeometry,
    xproj: &[f32],
    recurrent: &[f32],
    mask: &[f32],
) -> (Vec<f32>, ScanSaved) {
    let (b, tn, u) = (g.batch, g.time, g.units);
    let k = 4 * u;
    assert_eq!(
        xproj.len(),
        b * tn * k,
        "lstm: projected input has the wrong size"
    );
    assert_eq!(
        recurrent.len(),
        u * k,
        "lstm: recurrent kernel has the wrong size"
    );
    assert_eq!(mask.len(), b * tn, "lstm: mask has the wrong size");
    let mut saved = ScanSaved {
        gates: vec![0.0; tn * b * k],
        tanh_c: vec![0.0; tn * b * u],
        c: vec![0.0; tn * b * u],
        h: vec![0.0; tn * b * u],
    };
    let mut out = vec![0.0; b * tn * u];
    let zeros = vec![0.0; b * u];
    let mut z = vec![0.0; b * k];
    let rec = MatRef::new(recurrent, u, k);
    for s in 0..tn {
        let t = g.t(s);
        for bi in 0..b {
            let src = (bi * tn + t) * k;
            z[bi * k..(bi + 1) * k].copy_from_slice(&xproj[src..src + k]);
        }
        let (done, rest) = saved.h.split_at_mut(s * b * u);
        let h_prev: &[f32] = if s == 0 {
            &zeros
        } else {
            &done[(s - 1) * b * u..]
        };
        if s > 0 {
            matmul(&mut z, MatRef::new(h_prev, b, u), rec, true);
        }
        let (c_done, c_rest) = saved.c.split_at_mut(s * b * u);
        let c_prev: &[f32] = if s == 0 {
            &zeros
        } else {
            &c_done[(s - 1) * b * u..]
        };
        let h_new = &mut rest[..b * u];
        let c_new = &mut c_rest[..b * u];
        let gates = &mut saved.gates[s * b * k..(s + 1) * b * k];
        let tanh_c = &mut saved.tanh_c[s * b * u..(s + 1) * b * u];
        for row in z.chunks_exact_mut(k) {
            sigmoid_in_place(&mut row[..2 * u]);
            tanh_in_place(&mut row[2 * u..3 * u]);
            sigmoid_in_place(&mut row[3 * u..]);
        }
        gates.copy_from_slice(&z);
        for bi in 0..b {
            let gr = &z[bi * k..(bi + 1) * k];
            let e = bi * u..(bi + 1) * u;
            let (cp, cn, tc) = (&c_prev[e.clone()], &mut c_new[e.clone()], &mut tanh_c[e]);
            for j in 0..u {
                tc[j] = gr[u + j] * cp[j] + gr[j] * gr[2 * u + j]; // unmasked new cell
            }
            let m = mask[bi * tn + t];
            for j in 0..u {
                cn[j] = cp[j] + m * (tc[j] - cp[j]);
            }
            tanh_in_place(tc);
        }
        for bi in 0..b {
            let m = mask[bi * tn + t];
            let gr = &z[bi * k..(bi + 1) * k];
            let e = bi * u..(bi + 1) * u;
            let (hp, hn, tc) = (&h_prev[e.clone()], &mut h_new[e.clone()], &tanh_c[e]);
            for j in 0..u {
                hn[j] = hp[j] + m * (gr[3 * u + j] * tc[j] - hp[j]);
            }
            let dst = (bi * tn + t) * u;
            out[dst..dst + u].copy_from_slice(hn);
        }
    }
    (out, saved)
}

/// [`lstm_backward`] for one block of rows, on one thread.
fn scan_backward(
    g: &LstmGeometry,
    recurrent: &[f32],
    mask: &[f32],
    saved: &ScanSaved,
    d_out: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (b, tn, u) = (g.batch, g.time, g.units);
    let k = 4 * u;
    assert_eq!(
        d_out.len(),
        b * tn * u,
        "lstm: output gradient has the wrong size"
    );
    let mut dz = vec![0.0; tn * b * k]; // time-major, processing order
    let mut dh = vec![0.0; b * u]; // carried from the step after
    let mut dc = vec![0.0; b * u];
    let zeros = vec![0.0; b * u];
    let rec_t = MatRef::new(recurrent, u, k).t();
    for s in (0..tn).rev() {
        let t = g.t(s);
        let c_prev: &[f32] = if s == 0 {
            &zeros
        } else {
            &saved.c[(s - 1) * b * u..s * b * u]
        };
        let gates = &saved.gates[s * b * k..(s + 1) * b * k];
        let tanh_c = &saved.tanh_c[s * b * u..(s + 1) * b * u];
        let dzs = &mut dz[s * b * k..(s + 1) * b * k];
        for bi in 0..b {
            let m = mask[bi * tn + t];
            let gr = &gates[bi * k..(bi + 1) * k];
            let dzr = &mut dzs[bi * k..(bi + 1) * k];
            let d_src = (bi * tn + t) * u;
            for j in 0..u {
                let e = bi * u + j;
                let dh_total = d_out[d_src + j] + dh[e];
                let (i_g, f_g, c_g, o_g) = (gr[j], gr[u + j], gr[2 * u + j], gr[3 * u + j]);
                let tc = tanh_c[e];
                let dhn = m * dh_total;
                let dcn = m * dc[e] + dhn * o_g * (1.0 - tc * tc);
                dzr[j] = dcn * c_g * i_g * (1.0 - i_g);
                dzr[u + j] = dcn * c_prev[e] * f_g * (1.0 - f_g);
                dzr[2 * u + j] = dcn * i_g * (1.0 - c_g * c_g);
                dzr[3 * u + j] = dhn * tc * o_g * (1.0 - o_g);
                // What flows to step s - 1: through the gates, and directly past a masked step.
                dc[e] = dcn * f_g + (1.0 - m) * dc[e];
                dh[e] = (1.0 - m) * dh_total;
            }
        }
        if s > 0 {
            matmul(&mut dh, MatRef::new(dzs, b, k), rec_t, true);
        }
    }
    // dU = sum_s h_{s-1}^T dz_s: one product over all steps (h_{-1} = 0 drops step 0).
    let mut d_rec = vec![0.0; u * k];
    if tn > 1 {
        let rows = (tn - 1) * b;
        matmul(
            &mut d_rec,
            MatRef::new(&saved.h[..rows * u], rows, u).t(),
            MatRef::new(&dz[b * k..], rows, k),
            false,
        );
    }
    let mut d_xproj = vec![0.0; b * tn * k];
    for s in 0..tn {
        let t = g.t(s);
        for bi in 0..b {
            let dst = (bi * tn + t) * k;
            d_xproj[dst..dst + k].copy_from_slice(&dz[(s * b + bi) * k..(s * b + bi + 1) * k]);
        }
    }
    (d_xproj, d_rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scalar loss `sum(w * out)` of the scan, in f64 through f32 kernels.
    fn loss(g: &LstmGeometry, xproj: &[f32], rec: &[f32], mask: &[f32], w: &[f32]) -> f64 {
        let (out, _) = lstm_forward(g, xproj, rec, mask);
        out.iter()
            .zip(w)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum()
    }

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 + seed) * 0.731).sin() * 0.8)
            .collect()
    }

    #[test]
    fn gradients_match_finite_differences_both_directions_with_a_mask() {
        for backwards in [false, true] {
            let g = LstmGeometry {
                batch: 2,
                time: 4,
                units: 3,
                backwards,
            };
            let k = 4 * g.units;
            let xproj = values(g.batch * g.time * k, 1.0);
            let rec = values(g.units * k, 2.0);
            let mask = vec![0., 1., 1., 1., 1., 1., 0., 1.]; // padding in both rows
            let w = values(g.batch * g.time * g.units, 3.0);
            let (_, saved) = lstm_forward(&g, &xproj, &rec, &mask);
            let (dx, dr) = lstm_backward(&g, &rec, &mask, &saved, &w);
            let eps = 1e-2;
            let numeric = |v: &[f32], i: usize, which: u8| {
                let (mut a, mut b) = (v.to_vec(), v.to_vec());
                a[i] += eps;
                b[i] -= eps;
                let (la, lb) = match which {
                    0 => (loss(&g, &a, &rec, &mask, &w), loss(&g, &b, &rec, &mask, &w)),
                    _ => (
                        loss(&g, &xproj, &a, &mask, &w),
                        loss(&g, &xproj, &b, &mask, &w),
                    ),
                };
                (la - lb) / (2.0 * eps as f64)
            };
            for (i, &d) in dx.iter().enumerate() {
                let n = numeric(&xproj, i, 0);
                assert!((n - d as f64).abs() < 2e-3, "dxproj[{i}] {n} vs {d}");
            }
            for (i, &d) in dr.iter().enumerate() {
                let n = numeric(&rec, i, 1);
                assert!((n - d as f64).abs() < 2e-3, "drec[{i}] {n} vs {d}");
            }
        }
    }

    #[test]
    fn masked_steps_keep_the_state() {
        let g = LstmGeometry {
            batch: 1,
            time: 3,
            units: 2,
            backwards: false,
        };
        let xproj = values(3 * 8, 0.5);
        let rec = values(2 * 8, 1.5);
        let (out, _) = lstm_forward(&g, &xproj, &rec, &[1., 0., 1.]);
        assert_eq!(out[0..2], out[2..4]);
        let (leading, _) = lstm_forward(&g, &xproj, &rec, &[0., 1., 1.]);
        assert_eq!(leading[0..2], [0.0, 0.0]);
    }
}
