//! Geometric augmentations: random resized crop, horizontal flip, and affine maps (rotation,
//! translation, scale, shear) about the image centre, all by bilinear resampling.

use rand::Rng;

use super::image::{Image, InverseMap};

/// Random resized crop (Szegedy et al. 2015; SimCLR's main augmentation): a box covering a
/// random share `scale` of the area with aspect ratio (width / height) in `ratio`
/// (log-uniform), resized to `out` (`(h, w)`). After 10 failed draws the whole image is used,
/// as torchvision does.
pub fn random_resized_crop(
    img: &Image,
    scale: [f32; 2],
    ratio: [f32; 2],
    out: (usize, usize),
    rng: &mut impl Rng,
) -> Image {
    let (h, w) = (img.h as f32, img.w as f32);
    let mut area_box = (0.0, 0.0, w, h);
    for _ in 0..10 {
        let area = h * w * rng.random_range(scale[0]..=scale[1]);
        let r = rng.random_range(ratio[0].ln()..=ratio[1].ln()).exp();
        let (cw, ch) = ((area * r).sqrt(), (area / r).sqrt());
        if cw <= w && ch <= h {
            let x0 = rng.random_range(0.0..=(w - cw));
            let y0 = rng.random_range(0.0..=(h - ch));
            area_box = (x0, y0, cw, ch);
            break;
        }
    }
    let (x0, y0, cw, ch) = area_box;
    let (sx, sy) = (cw / out.1 as f32, ch / out.0 as f32);
    // Output pixel centre (x + 0.5) maps to x0 + (x + 0.5) sx in continuous coordinates, i.e.
    // pixel index x0 + (x + 0.5) sx - 0.5 (PyTorch's align_corners = False).
    let m = [sx, 0.0, x0 + 0.5 * sx - 0.5, 0.0, sy, y0 + 0.5 * sy - 0.5];
    img.warped(out, &m)
}

/// Mirrors left and right.
pub fn horizontal_flip(img: &Image) -> Image {
    let mut out = img.clone();
    for row in out.data.chunks_mut(img.w) {
        row.reverse();
    }
    out
}

/// The parameters of one affine map about the image centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Rotation, degrees (counter-clockwise on screen).
    pub degrees: f32,
    /// Shift in pixels `(x, y)`.
    pub translate: (f32, f32),
    /// Zoom factor (1: none).
    pub scale: f32,
    /// Shear angles in degrees `(x, y)`.
    pub shear: (f32, f32),
}

impl Affine {
    /// No change.
    pub const IDENTITY: Affine = Affine {
        degrees: 0.0,
        translate: (0.0, 0.0),
        scale: 1.0,
        shear: (0.0, 0.0),
    };

    /// `img` under this map, same size, outside filled with 0.
    ///
    /// ```text
    /// forward:  p_out = c + t + s R(theta) Sh(shx, shy) (p_in - c)
    /// sampled:  p_in  = c + (s R Sh)^-1 (p_out - c - t)
    /// ```
    pub fn apply(&self, img: &Image) -> Image {
        let a = self.degrees.to_radians();
        let (cos, sin) = (a.cos(), -a.sin()); // image y points down
        let (kx, ky) = (
            self.shear.0.to_radians().tan(),
            self.shear.1.to_radians().tan(),
        );
        // Forward linear part F = s * R * Sh, Sh = [[1, kx], [ky, 1]].
        let f = [
            self.scale * (cos + -sin * ky),
            self.scale * (cos * kx - sin),
            self.scale * (sin + cos * ky),
            self.scale * (sin * kx + cos),
        ];
        let det = f[0] * f[3] - f[1] * f[2];
        let inv = [f[3] / det, -f[1] / det, -f[2] / det, f[0] / det];
        let (cx, cy) = ((img.w as f32 - 1.0) / 2.0, (img.h as f32 - 1.0) / 2.0);
        let (ox, oy) = (cx + self.translate.0, cy + self.translate.1);
        let m: InverseMap = [
            inv[0],
            inv[1],
            cx - inv[0] * ox - inv[1] * oy,
            inv[2],
            inv[3],
            cy - inv[2] * ox - inv[3] * oy,
        ];
        img.warped((img.h, img.w), &m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ramp(h: usize, w: usize) -> Image {
        Image {
            c: 1,
            h,
            w,
            data: (0..h * w).map(|v| v as f32 / (h * w) as f32).collect(),
        }
    }

    #[test]
    fn flip_twice_is_the_identity_and_mirrors_rows() {
        let img = ramp(3, 4);
        let f = horizontal_flip(&img);
        assert_eq!(&f.data[..4], &[3.0 / 12.0, 2.0 / 12.0, 1.0 / 12.0, 0.0]);
        assert_eq!(horizontal_flip(&f), img);
    }

    #[test]
    fn identity_affine_and_full_crop_keep_the_image() {
        let img = ramp(5, 6);
        let same = Affine::IDENTITY.apply(&img);
        for (a, b) in same.data.iter().zip(&img.data) {
            assert!((a - b).abs() < 1e-6);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let crop = random_resized_crop(&img, [1.0, 1.0], [1.2, 1.2], (5, 6), &mut rng);
        for (a, b) in crop.data.iter().zip(&img.data) {
            assert!((a - b).abs() < 1e-5, "{:?}", crop.data);
        }
    }

    #[test]
    fn quarter_turn_and_shift_move_pixels_where_expected() {
        // A single bright pixel right of the centre of a 5x5 image.
        let mut img = Image {
            c: 1,
            h: 5,
            w: 5,
            data: vec![0.0; 25],
        };
        img.data[2 * 5 + 4] = 1.0; // (x 4, y 2)
        let turned = Affine {
            degrees: 90.0,
            ..Affine::IDENTITY
        }
        .apply(&img);
        // Counter-clockwise on screen: right of centre goes to above the centre (x 2, y 0).
        assert!((turned.data[2] - 1.0).abs() < 1e-5, "{:?}", turned.data);
        let shifted = Affine {
            translate: (-2.0, 1.0),
            ..Affine::IDENTITY
        }
        .apply(&img);
        assert!((shifted.data[3 * 5 + 2] - 1.0).abs() < 1e-5);
        assert!(shifted.data.iter().sum::<f32>() - 1.0 < 1e-5);
    }

    #[test]
    fn crops_resize_to_the_asked_size_and_follow_the_seed() {
        let img = ramp(28, 28);
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            random_resized_crop(&img, [0.2, 1.0], [0.75, 1.333], (16, 20), &mut rng)
        };
        let a = draw(3);
        assert_eq!((a.c, a.h, a.w, a.data.len()), (1, 16, 20, 320));
        assert_eq!(a, draw(3));
        assert_ne!(a, draw(4));
        assert!(a.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
