//! Bilinear image resizing (e.g. USPS 16x16 to MNIST's 28x28 for transfer between them), with
//! half-pixel centres and no antialiasing: PyTorch's
//! `interpolate(mode="bilinear", align_corners=False)`.

/// For each output coordinate along an axis of `len_in -> len_out`: the two source indices and
/// the weight of the second.
fn taps(len_in: usize, len_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = len_in as f32 / len_out as f32;
    (0..len_out)
        .map(|o| {
            let src = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(len_in - 1);
            let i1 = (i0 + 1).min(len_in - 1);
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// Resizes `n` images of `[channels, h, w]` (flattened, image after image) to `[channels, oh, ow]`.
pub fn resize_bilinear(
    x: &[f32],
    channels: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
) -> Vec<f32> {
    let plane = h * w;
    let (ty, tx) = (taps(h, oh), taps(w, ow));
    let mut out = Vec::with_capacity(x.len() / plane * oh * ow);
    for src in x.chunks_exact(plane) {
        for &(y0, y1, wy) in &ty {
            for &(x0, x1, wx) in &tx {
                let top = src[y0 * w + x0] * (1.0 - wx) + src[y0 * w + x1] * wx;
                let bottom = src[y1 * w + x0] * (1.0 - wx) + src[y1 * w + x1] * wx;
                out.push(top * (1.0 - wy) + bottom * wy);
            }
        }
    }
    debug_assert_eq!(out.len() % (channels * oh * ow), 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pytorch_on_a_small_upsampling() {
        // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4),
        // mode="bilinear", align_corners=False)
        let want = [
            0.0, 0.25, 0.75, 1.0, //
            0.5, 0.75, 1.25, 1.5, //
            1.5, 1.75, 2.25, 2.5, //
            2.0, 2.25, 2.75, 3.0,
        ];
        assert_eq!(resize_bilinear(&[0.0, 1.0, 2.0, 3.0], 1, 2, 2, 4, 4), want);
    }

    #[test]
    fn same_size_is_the_identity_and_channels_stay_apart() {
        let x: Vec<f32> = (0..18).map(|i| i as f32).collect();
        assert_eq!(resize_bilinear(&x, 2, 3, 3, 3, 3), x);
        let down = resize_bilinear(&[1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0], 2, 2, 2, 1, 1);
        assert_eq!(down, vec![1.0, 5.0]);
    }
}
