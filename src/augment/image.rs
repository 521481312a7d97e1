//! One image of a batch, channels first (`[c, h, w]`), with values in `[0, 1]`, and the two
//! samplers every geometric op shares: bilinear reads and an affine warp.

/// One `[channels, height, width]` image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Channels (1 for greyscale, 3 for colour).
    pub c: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
    /// `c * h * w` values, channel by channel, row-major.
    pub data: Vec<f32>,
}

impl Image {
    /// The values of channel `k`.
    pub fn channel_mut(&mut self, k: usize) -> &mut [f32] {
        let n = self.h * self.w;
        &mut self.data[k * n..(k + 1) * n]
    }

    /// This image warped into `oh x ow` by the inverse map `m` (see [`warp`]), outside
    /// filled with 0.
    pub fn warped(&self, (oh, ow): (usize, usize), m: &InverseMap) -> Image {
        Image {
            c: self.c,
            h: oh,
            w: ow,
            data: warp(&self.data, (self.c, self.h, self.w), (oh, ow), m, 0.0),
        }
    }

    /// Clamps every value to `[0, 1]` (after photometric ops).
    pub fn clamp01(&mut self) {
        for v in self.data.iter_mut() {
            *v = v.clamp(0.0, 1.0);
        }
    }
}

/// Bilinear sample of `plane` (`h x w`) at pixel coordinates `(x, y)` (pixel centres at
/// integers); points outside the image read `fill`.
#[inline]
pub fn bilinear(plane: &[f32], h: usize, w: usize, x: f32, y: f32, fill: f32) -> f32 {
    if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
        return fill;
    }
    // floor() without the libm call: both are above -1 here.
    let (x0, y0) = (floor_above_minus_one(x), floor_above_minus_one(y));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (a, b, c, d) = if x0 >= 0 && y0 >= 0 && (x0 as usize) + 1 < w && (y0 as usize) + 1 < h {
        // Inside: all four neighbours exist (the common case, read without checks).
        let i = y0 as usize * w + x0 as usize;
        (plane[i], plane[i + 1], plane[i + w], plane[i + w + 1])
    } else {
        let at = |xi: i32, yi: i32| {
            if xi < 0 || yi < 0 || xi as usize >= w || yi as usize >= h {
                fill
            } else {
                plane[yi as usize * w + xi as usize]
            }
        };
        (
            at(x0, y0),
            at(x0 + 1, y0),
            at(x0, y0 + 1),
            at(x0 + 1, y0 + 1),
        )
    };
    let top = a * (1.0 - fx) + b * fx;
    let bottom = c * (1.0 - fx) + d * fx;
    top * (1.0 - fy) + bottom * fy
}

/// `v.floor()` as an integer, for `-1 < v < 2^31`.
#[inline]
fn floor_above_minus_one(v: f32) -> i32 {
    let t = v as i32; // truncates towards 0
    if (t as f32) > v { t - 1 } else { t }
}

/// Maps an output pixel `(x, y)` to the input coordinates it reads.
pub type InverseMap = [f32; 6];

/// Warps every channel of `src` (`c x sh x sw`) into an `oh x ow` output: output pixel
/// `(x, y)` reads the input at `(m0 x + m1 y + m2, m3 x + m4 y + m5)` (bilinear; outside reads
/// `fill`).
pub fn warp(
    src: &[f32],
    (c, sh, sw): (usize, usize, usize),
    (oh, ow): (usize, usize),
    m: &InverseMap,
    fill: f32,
) -> Vec<f32> {
    let mut out = vec![fill; c * oh * ow];
    if sh * sw == 0 || oh * ow == 0 {
        // An empty source reads `fill` everywhere; an empty output has nothing to write.
        return out;
    }
    for (plane, dst) in src.chunks_exact(sh * sw).zip(out.chunks_exact_mut(oh * ow)) {
        for (y, row) in dst.chunks_exact_mut(ow).enumerate() {
            let yf = y as f32;
            for (x, v) in row.iter_mut().enumerate() {
                let xf = x as f32;
                let sx = m[0] * xf + m[1] * yf + m[2];
                let sy = m[3] * xf + m[4] * yf + m[5];
                *v = bilinear(plane, sh, sw, sx, sy, fill);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_interpolates_and_fills_outside() {
        // 2x2: [[0, 1], [2, 3]]
        let p = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(bilinear(&p, 2, 2, 0.5, 0.5, 9.0), 1.5);
        assert_eq!(bilinear(&p, 2, 2, 1.0, 0.0, 9.0), 1.0);
        assert_eq!(bilinear(&p, 2, 2, -2.0, 0.0, 9.0), 9.0);
        // Half a pixel outside blends with the fill.
        assert_eq!(bilinear(&p, 2, 2, 1.5, 0.0, 0.0), 0.5);
    }

    /// The bilinear read as first written (float floor, every neighbour checked).
    fn naive(plane: &[f32], h: usize, w: usize, x: f32, y: f32, fill: f32) -> f32 {
        if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
            return fill;
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xi: f32, yi: f32| {
            if xi < 0.0 || yi < 0.0 || xi >= w as f32 || yi >= h as f32 {
                fill
            } else {
                plane[yi as usize * w + xi as usize]
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    #[test]
    fn fast_bilinear_equals_the_naive_read_bit_for_bit() {
        let (h, w) = (5, 7);
        let plane: Vec<f32> = (0..h * w).map(|v| (v as f32 * 0.37).sin()).collect();
        for iy in -30..=90 {
            for ix in -30..=110 {
                let (x, y) = (ix as f32 * 0.0731 - 0.3, iy as f32 * 0.0613 - 0.2);
                let (fast, slow) = (
                    bilinear(&plane, h, w, x, y, 0.25),
                    naive(&plane, h, w, x, y, 0.25),
                );
                assert_eq!(fast.to_bits(), slow.to_bits(), "at ({x}, {y})");
            }
        }
        for v in [-0.999_f32, -0.5, -0.0, 0.0, 0.5, 1.0, 2.999, 3.0] {
            assert_eq!(floor_above_minus_one(v), v.floor() as i32, "{v}");
        }
    }

    #[test]
    fn identity_warp_copies() {
        let src: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let id = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(warp(&src, (3, 2, 2), (2, 2), &id, 0.0), src);
        // Empty images: no panic; an empty source reads the fill.
        assert_eq!(warp(&[], (1, 0, 3), (1, 2), &id, 0.5), vec![0.5, 0.5]);
        assert!(warp(&src, (3, 2, 2), (0, 2), &id, 0.0).is_empty());
    }
}
