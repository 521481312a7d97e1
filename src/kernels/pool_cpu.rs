//! Max pooling on `f32` NCHW buffers (no padding, floor mode), with a backward pass that finds
//! each window's maximum again instead of storing indices. Planes run in parallel.

use rayon::prelude::*;

/// Shapes of one pooling: input `[planes, h, w]` (planes = batch x channels), window
/// `(kh, kw)`, stride `(sh, sw)`, output `[planes, ho, wo]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
}

impl PoolGeometry {
    pub fn ho(&self) -> usize {
        (self.h - self.kh) / self.sh + 1
    }
    pub fn wo(&self) -> usize {
        (self.w - self.kw) / self.sw + 1
    }

    /// Index within the plane of the first maximum of window `(oy, ox)` (NaN wins, as in
    /// PyTorch).
    #[inline]
    fn argmax(&self, plane: &[f32], oy: usize, ox: usize) -> usize {
        let (y0, x0) = (oy * self.sh, ox * self.sw);
        let mut best = y0 * self.w + x0;
        let mut best_v = plane[best];
        for i in 0..self.kh {
            let row = (y0 + i) * self.w;
            for j in 0..self.kw {
                let v = plane[row + x0 + j];
                if beats(v, best_v) {
                    best_v = v;
                    best = row + x0 + j;
                }
            }
        }
        best
    }
}

/// Planes per rayon task.
fn chunk_planes(planes: usize) -> usize {
    planes.div_ceil(rayon::current_num_threads() * 8).max(1)
}

/// The pooled maxima.
pub fn max_pool2d_forward(g: &PoolGeometry, x: &[f32]) -> Vec<f32> {
    let (ho, wo) = (g.ho(), g.wo());
    let (plane_in, plane_out) = (g.h * g.w, ho * wo);
    assert_eq!(x.len(), g.planes * plane_in, "max_pool2d: input length");
    let mut y = vec![0.0f32; g.planes * plane_out];
    let chunk = chunk_planes(g.planes);
    y.par_chunks_mut(chunk * plane_out)
        .zip(x.par_chunks(chunk * plane_in))
        .for_each(|(ys, xs)| {
            for (yp, xp) in ys.chunks_mut(plane_out).zip(xs.chunks(plane_in)) {
                for (oy, yrow) in yp.chunks_mut(wo).enumerate() {
                    if g.kh == 2 && g.kw == 2 && g.sw == 2 {
                        // The common 2x2 / stride-2 window, on two input rows at once.
                        let r0 = &xp[oy * g.sh * g.w..][..2 * wo];
                        let r1 = &xp[(oy * g.sh + 1) * g.w..][..2 * wo];
                        for ((o, a), b) in yrow.iter_mut().zip(r0.chunks(2)).zip(r1.chunks(2)) {
                            *o = max_nan(max_nan(a[0], a[1]), max_nan(b[0], b[1]));
                        }
                    } else {
                        for (ox, o) in yrow.iter_mut().enumerate() {
                            *o = xp[g.argmax(xp, oy, ox)];
                        }
                    }
                }
            }
        });
    y
}

/// Whether `v` replaces the running maximum `m` of a window: larger, or the first NaN (NaN wins,
/// as in PyTorch).
#[inline]
fn beats(v: f32, m: f32) -> bool {
    // Non-short-circuit `|` / `&`: no branches in the hot loops.
    (v > m) | (v.is_nan() & !m.is_nan())
}

/// The larger of two values, NaN if either is (as [`beats`] sees it).
#[inline]
fn max_nan(a: f32, b: f32) -> f32 {
    let m = if b > a { b } else { a };
    if a.is_nan() | b.is_nan() { a + b } else { m }
}

/// The input gradient: each output gradient goes to its window's maximum.
pub fn max_pool2d_backward(g: &PoolGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let wo = g.wo();
    let (plane_in, plane_out) = (g.h * g.w, g.ho() * wo);
    assert_eq!(
        dy.len(),
        g.planes * plane_out,
        "max_pool2d backward: gradient length"
    );
    let mut dx = vec![0.0f32; g.planes * plane_in];
    let chunk = chunk_planes(g.planes);
    dx.par_chunks_mut(chunk * plane_in)
        .zip(x.par_chunks(chunk * plane_in))
        .zip(dy.par_chunks(chunk * plane_out))
        .for_each(|((dxs, xs), dys)| {
            for ((dxp, xp), dyp) in dxs
                .chunks_mut(plane_in)
                .zip(xs.chunks(plane_in))
                .zip(dys.chunks(plane_out))
            {
                for (oy, dyrow) in dyp.chunks(wo).enumerate() {
                    if g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 {
                        // Disjoint 2x2 windows: write each window's four cells directly.
                        let (r0, r1) = (2 * oy * g.w, (2 * oy + 1) * g.w);
                        for (ox, &d) in dyrow.iter().enumerate() {
                            let cells =
                                [r0 + 2 * ox, r0 + 2 * ox + 1, r1 + 2 * ox, r1 + 2 * ox + 1];
                            let mut best = cells[0];
                            for &c in &cells[1..] {
                                if beats(xp[c], xp[best]) {
                                    best = c;
                                }
                            }
                            dxp[best] = d;
                        }
                        continue;
                    }
                    for (ox, d) in dyrow.iter().enumerate() {
                        dxp[g.argmax(xp, oy, ox)] += d;
                    }
                }
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_on_a_small_plane() {
        // One 3x5 plane, 2x2 windows, stride 2: the last row and column are dropped.
        let g = PoolGeometry {
            planes: 1,
            h: 3,
            w: 5,
            kh: 2,
            kw: 2,
            sh: 2,
            sw: 2,
        };
        #[rustfmt::skip]
        let x = [
            1.0, 5.0, 2.0, 0.0, 9.0,
            3.0, 4.0, 7.0, 7.0, 9.0,
            9.0, 9.0, 9.0, 9.0, 9.0,
        ];
        assert_eq!(max_pool2d_forward(&g, &x), vec![5.0, 7.0]);
        let dx = max_pool2d_backward(&g, &x, &[10.0, 20.0]);
        let mut want = vec![0.0; 15];
        want[1] = 10.0;
        want[7] = 20.0; // first of the tied maxima
        assert_eq!(dx, want);
    }

    #[test]
    fn overlapping_windows_add_their_gradients() {
        let g = PoolGeometry {
            planes: 2,
            h: 1,
            w: 4,
            kh: 1,
            kw: 2,
            sh: 1,
            sw: 1,
        };
        let x = [0.0, 3.0, 1.0, 2.0, 4.0, 0.0, 0.0, 0.0];
        assert_eq!(
            max_pool2d_forward(&g, &x),
            vec![3.0, 3.0, 2.0, 4.0, 0.0, 0.0]
        );
        let dx = max_pool2d_backward(&g, &x, &[1.0; 6]);
        assert_eq!(dx, vec![0.0, 2.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    }
}
