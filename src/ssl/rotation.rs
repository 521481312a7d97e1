//! Rotation prediction (SPEC S3; Gidaris et al. 2018, seed 003 19.2.4 "proxy tasks"): every image
//! is shown at 0, 90, 180 and 270 degrees to one shared encoder, which learns to say which.

use crate::{Error, Result};

/// The rotations the model tells apart, in label order.
pub const ROTATIONS: usize = 4;

/// `image` (`[c, h, w]`) turned `quarter_turns` times by 90 degrees counter-clockwise.
///
/// # Panics
/// When the image is not square or `image` does not hold `c * h * w` values
/// ([`rotation_batch`] returns an error instead).
pub fn rotate90(image: &[f32], [c, h, w]: [usize; 3], quarter_turns: usize) -> Vec<f32> {
    assert!(
        h == w && image.len() == c * h * w,
        "rotate90 needs one square image, got {c}x{h}x{w} for {} values",
        image.len()
    );
    let n = h;
    let mut out = vec![0.0; image.len()];
    for k in 0..c {
        let src = &image[k * n * n..(k + 1) * n * n];
        let dst = &mut out[k * n * n..(k + 1) * n * n];
        for y in 0..n {
            for x in 0..n {
                // Output pixel (y, x) reads the source pixel the turn brought there.
                let (sy, sx) = match quarter_turns % ROTATIONS {
                    0 => (y, x),
                    1 => (x, n - 1 - y),
                    2 => (n - 1 - y, n - 1 - x),
                    _ => (n - 1 - x, y),
                };
                dst[y * n + x] = src[sy * n + sx];
            }
        }
    }
    out
}

/// The batch the rotation task trains on: the images of `batch` (`[c, h, w]` each) at every
/// quarter turn, rotation-major (all images at 0 degrees, then at 90, ...), and the turn of each
/// row as its label.
pub fn rotation_batch(batch: &[f32], shape: [usize; 3]) -> Result<(Vec<f32>, Vec<u32>)> {
    let [c, h, w] = shape;
    if h != w {
        return Err(Error::invalid(
            "method",
            format!("rotation prediction needs square images, got {h}x{w}"),
        ));
    }
    let size = c * h * w;
    let images = batch.len() / size;
    let mut values = Vec::with_capacity(batch.len() * ROTATIONS);
    let mut labels = Vec::with_capacity(images * ROTATIONS);
    for turn in 0..ROTATIONS {
        for image in batch.chunks_exact(size) {
            values.extend(rotate90(image, shape, turn));
        }
        labels.extend(std::iter::repeat_n(turn as u32, images));
    }
    Ok((values, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_turn_moves_the_top_row_to_the_left_column() {
        // 1 2        2 4
        // 3 4  --->  1 3   (counter-clockwise)
        let img = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(rotate90(&img, [1, 2, 2], 1), vec![2.0, 4.0, 1.0, 3.0]);
        assert_eq!(rotate90(&img, [1, 2, 2], 2), vec![4.0, 3.0, 2.0, 1.0]);
        assert_eq!(rotate90(&img, [1, 2, 2], 3), vec![3.0, 1.0, 4.0, 2.0]);
    }

    #[test]
    fn four_turns_are_the_identity_and_channels_turn_together() {
        let img: Vec<f32> = (0..2 * 5 * 5).map(|v| v as f32).collect();
        let mut x = img.clone();
        for _ in 0..4 {
            x = rotate90(&x, [2, 5, 5], 1);
        }
        assert_eq!(x, img);
        let twice = rotate90(&rotate90(&img, [2, 5, 5], 1), [2, 5, 5], 1);
        assert_eq!(twice, rotate90(&img, [2, 5, 5], 2));
        // The second channel is the first plus 25 everywhere, before and after a turn.
        let t = rotate90(&img, [2, 5, 5], 3);
        assert!(t[..25].iter().zip(&t[25..]).all(|(a, b)| b - a == 25.0));
    }

    #[test]
    fn the_batch_holds_every_image_at_every_turn() {
        let batch: Vec<f32> = (0..2 * 9).map(|v| v as f32).collect(); // two 3x3 images
        let (values, labels) = rotation_batch(&batch, [1, 3, 3]).unwrap();
        assert_eq!(values.len(), 8 * 9);
        assert_eq!(labels, vec![0, 0, 1, 1, 2, 2, 3, 3]);
        assert_eq!(&values[..18], &batch[..]);
        assert_eq!(
            &values[2 * 9..3 * 9],
            &rotate90(&batch[..9], [1, 3, 3], 1)[..]
        );
        let err = rotation_batch(&[0.0; 6], [1, 2, 3])
            .unwrap_err()
            .to_string();
        assert!(err.contains("square"), "{err}");
    }
}
