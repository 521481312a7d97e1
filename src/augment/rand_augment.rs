//! RandAugment (Cubuk et al. 2020, arXiv:1909.13719): `n` ops drawn uniformly from a fixed
//! list, all at one magnitude `m` on a 0-30 scale, each geometric or signed op with a random
//! sign. Magnitudes follow torchvision's table (31 bins): shear up to 0.3, translation up to
//! 150/331 of the size, rotation up to 30 degrees, brightness and contrast factors 1 +- 0.9,
//! posterize from 8 down to 4 bits, solarize threshold from 1 down to 0. torchvision's colour
//! (saturation) and sharpness ops are not in the list: the images here are greyscale.

use rand::Rng;

use super::geometric::Affine;
use super::image::Image;
use super::photometric::{autocontrast, brightness, contrast, equalize, posterize, solarize};

/// The ops RandAugment draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RaOp {
    Identity,
    ShearX,
    ShearY,
    TranslateX,
    TranslateY,
    Rotate,
    Brightness,
    Contrast,
    Posterize,
    Solarize,
    Autocontrast,
    Equalize,
}

const OPS: [RaOp; 12] = [
    RaOp::Identity,
    RaOp::ShearX,
    RaOp::ShearY,
    RaOp::TranslateX,
    RaOp::TranslateY,
    RaOp::Rotate,
    RaOp::Brightness,
    RaOp::Contrast,
    RaOp::Posterize,
    RaOp::Solarize,
    RaOp::Autocontrast,
    RaOp::Equalize,
];

/// Applies `n` random ops at magnitude `m` (0-30) to `img`.
pub fn rand_augment(img: Image, n: usize, m: f32, rng: &mut impl Rng) -> Image {
    let level = m / 30.0;
    let mut img = img;
    for _ in 0..n {
        let op = OPS[rng.random_range(0..OPS.len())];
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        img = apply(op, img, level, sign);
    }
    img
}

fn apply(op: RaOp, img: Image, level: f32, sign: f32) -> Image {
    let affine = |a: Affine, img: &Image| a.apply(img);
    let shear = (0.3 * level).atan().to_degrees() * sign;
    let shift = 150.0 / 331.0 * level * sign;
    let mut img = img;
    match op {
        RaOp::Identity => {}
        RaOp::ShearX => {
            return affine(
                Affine {
                    shear: (shear, 0.0),
                    ..Affine::IDENTITY
                },
                &img,
            );
        }
        RaOp::ShearY => {
            return affine(
                Affine {
                    shear: (0.0, shear),
                    ..Affine::IDENTITY
                },
                &img,
            );
        }
        RaOp::TranslateX => {
            let t = (shift * img.w as f32, 0.0);
            return affine(
                Affine {
                    translate: t,
                    ..Affine::IDENTITY
                },
                &img,
            );
        }
        RaOp::TranslateY => {
            let t = (0.0, shift * img.h as f32);
            return affine(
                Affine {
                    translate: t,
                    ..Affine::IDENTITY
                },
                &img,
            );
        }
        RaOp::Rotate => {
            return affine(
                Affine {
                    degrees: 30.0 * level * sign,
                    ..Affine::IDENTITY
                },
                &img,
            );
        }
        RaOp::Brightness => brightness(&mut img, 1.0 + 0.9 * level * sign),
        RaOp::Contrast => contrast(&mut img, 1.0 + 0.9 * level * sign),
        RaOp::Posterize => posterize(&mut img, 8 - (level * 4.0).round() as u8),
        RaOp::Solarize => solarize(&mut img, 1.0 - level),
        RaOp::Autocontrast => autocontrast(&mut img),
        RaOp::Equalize => equalize(&mut img),
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn picture() -> Image {
        Image {
            c: 1,
            h: 12,
            w: 12,
            // Multiples of 1/255, so posterizing to 8 bits changes nothing.
            data: (0..144).map(|i| ((i * 37) % 144) as f32 / 255.0).collect(),
        }
    }

    #[test]
    fn magnitude_zero_changes_only_through_the_parameter_free_ops() {
        // At m = 0 every op with a magnitude is the identity (posterize keeps 8 bits,
        // solarize's threshold is 1 and inverts only exact ones).
        for op in OPS {
            if matches!(op, RaOp::Autocontrast | RaOp::Equalize | RaOp::Solarize) {
                continue;
            }
            let out = apply(op, picture(), 0.0, 1.0);
            for (a, b) in out.data.iter().zip(&picture().data) {
                assert!((a - b).abs() < 1e-3, "{op:?}");
            }
        }
    }

    #[test]
    fn seeded_shape_keeping_and_in_range() {
        let run = |seed| rand_augment(picture(), 3, 15.0, &mut ChaCha8Rng::seed_from_u64(seed));
        let a = run(5);
        assert_eq!(a, run(5));
        assert_eq!((a.c, a.h, a.w), (1, 12, 12));
        assert!(a.data.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(
            (0..20).any(|s| run(s) != picture()),
            "strong magnitude changes images"
        );
    }
}
