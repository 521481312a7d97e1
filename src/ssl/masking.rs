//! Masked-image imputation (SPEC S2; seed 003 19.2.4.1, context encoders of Pathak et al. 2016
//! with random blocks): square patches of each image are hidden and the model reconstructs
//! them from the rest.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Which pixels of a batch are hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchMask {
    /// The images with their hidden patches set to `fill`.
    pub masked: Vec<f32>,
    /// 1 where a pixel is hidden (and scored), 0 elsewhere; same layout as the batch.
    pub hidden: Vec<f32>,
}

/// Hides each `patch x patch` cell of the grid over every image of `batch` (`[c, h, w]` each)
/// with probability `ratio`, all channels together, at least one cell per image; cells at the
/// right and bottom edges may be smaller. Seeded: the same `seed` hides the same cells.
///
/// # Panics
/// When `patch` is 0, the image is empty or `ratio` is outside `[0, 1]` (recipes are checked
/// before training).
pub fn hide_patches(
    batch: &[f32],
    [c, h, w]: [usize; 3],
    patch: usize,
    ratio: f64,
    fill: f32,
    seed: u64,
) -> PatchMask {
    assert!(
        patch > 0 && h * w > 0 && (0.0..=1.0).contains(&ratio),
        "hide_patches needs patch >= 1, a non-empty image and a ratio in [0, 1]"
    );
    let (rows, cols) = (h.div_ceil(patch), w.div_ceil(patch));
    let cells = rows * cols;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut masked = batch.to_vec();
    let mut hidden = vec![0.0f32; batch.len()];
    let size = c * h * w;
    for (img, hid) in masked
        .chunks_exact_mut(size)
        .zip(hidden.chunks_exact_mut(size))
    {
        let mut chosen: Vec<bool> = (0..cells).map(|_| rng.random_bool(ratio)).collect();
        if !chosen.contains(&true) {
            chosen[rng.random_range(0..cells)] = true;
        }
        for cell in (0..cells).filter(|&k| chosen[k]) {
            let (y0, x0) = ((cell / cols) * patch, (cell % cols) * patch);
            for k in 0..c {
                for y in y0..(y0 + patch).min(h) {
                    let row = k * h * w + y * w;
                    for x in x0..(x0 + patch).min(w) {
                        img[row + x] = fill;
                        hid[row + x] = 1.0;
                    }
                }
            }
        }
    }
    PatchMask { masked, hidden }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_pixels_are_filled_and_the_rest_is_untouched() {
        let batch: Vec<f32> = (0..3 * 2 * 8 * 8).map(|v| 0.5 + v as f32).collect();
        let m = hide_patches(&batch, [2, 8, 8], 4, 0.5, 0.0, 7);
        for ((&orig, &out), &h) in batch.iter().zip(&m.masked).zip(&m.hidden) {
            match h {
                1.0 => assert_eq!(out, 0.0),
                _ => assert_eq!(out, orig),
            }
        }
        // Whole 4x4 cells, the same in both channels, at least one per image.
        for img in m.hidden.chunks_exact(128) {
            let (a, b) = img.split_at(64);
            assert_eq!(a, b);
            let n = a.iter().sum::<f32>() as usize;
            assert!(n > 0 && n.is_multiple_of(16), "{n} hidden pixels");
        }
        assert_eq!(m, hide_patches(&batch, [2, 8, 8], 4, 0.5, 0.0, 7));
        assert_ne!(m, hide_patches(&batch, [2, 8, 8], 4, 0.5, 0.0, 8));
    }

    #[test]
    fn the_ratio_sets_the_hidden_share_and_edge_cells_are_clipped() {
        let batch = vec![1.0f32; 200 * 28 * 28];
        let m = hide_patches(&batch, [1, 28, 28], 7, 0.25, 0.0, 1);
        let share = m.hidden.iter().sum::<f32>() / m.hidden.len() as f32;
        assert!((share - 0.25).abs() < 0.03, "hidden share {share}");
        let edge = hide_patches(&[1.0; 5 * 5], [1, 5, 5], 4, 1.0, -1.0, 3);
        assert!(edge.masked.iter().all(|&v| v == -1.0));
        let never = hide_patches(&[1.0; 5 * 5], [1, 5, 5], 4, 0.0, 0.0, 3);
        let n = never.hidden.iter().sum::<f32>();
        assert!(
            [16.0, 4.0, 1.0].contains(&n),
            "one cell is always hidden, got {n}"
        );
    }
}
