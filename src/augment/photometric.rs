//! Photometric augmentations on `[0, 1]` images: brightness and contrast jitter, Gaussian noise
//! and blur, Cutout, solarize, posterize, histogram equalisation and autocontrast. Each returns
//! values in `[0, 1]`.

use rand::Rng;

use super::image::Image;

/// Multiplies every value by `factor` (torchvision's brightness).
pub fn brightness(img: &mut Image, factor: f32) {
    for v in img.data.iter_mut() {
        *v = (*v * factor).clamp(0.0, 1.0);
    }
}

/// Blends each channel with its mean: `mean + factor (x - mean)` (torchvision blends with the
/// mean grey level).
pub fn contrast(img: &mut Image, factor: f32) {
    let mean = img.data.iter().sum::<f32>() / img.data.len().max(1) as f32;
    for v in img.data.iter_mut() {
        *v = (mean + factor * (*v - mean)).clamp(0.0, 1.0);
    }
}

/// Adds `N(0, std^2)` noise to every value.
pub fn gaussian_noise(img: &mut Image, std: f32, rng: &mut impl Rng) {
    for v in img.data.iter_mut() {
        *v = (*v + std * standard_normal(rng)).clamp(0.0, 1.0);
    }
}

/// A standard normal draw (Box-Muller).
pub fn standard_normal(rng: &mut impl Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Separable Gaussian blur with standard deviation `sigma` (pixels), kernel radius
/// `ceil(3 sigma)`, edges replicated.
pub fn gaussian_blur(img: &mut Image, sigma: f32) {
    if sigma <= 0.0 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let (h, w) = (img.h as isize, img.w as isize);
    for k in 0..img.c {
        let plane = img.channel_mut(k);
        let mut tmp = vec![0.0f32; plane.len()];
        for y in 0..h {
            for x in 0..w {
                tmp[(y * w + x) as usize] = kernel
                    .iter()
                    .enumerate()
                    .map(|(j, g)| {
                        g * plane[(y * w + (x + j as isize - radius).clamp(0, w - 1)) as usize]
                    })
                    .sum();
            }
        }
        for y in 0..h {
            for x in 0..w {
                plane[(y * w + x) as usize] = kernel
                    .iter()
                    .enumerate()
                    .map(|(j, g)| {
                        g * tmp[((y + j as isize - radius).clamp(0, h - 1) * w + x) as usize]
                    })
                    .sum();
            }
        }
    }
}

/// Cutout (DeVries & Taylor 2017): zeroes a `side x side` square centred at a random pixel
/// (clipped at the borders).
pub fn cutout(img: &mut Image, side: usize, rng: &mut impl Rng) {
    let (cy, cx) = (rng.random_range(0..img.h), rng.random_range(0..img.w));
    let half = side / 2;
    let (y0, y1) = (cy.saturating_sub(half), (cy + side - half).min(img.h));
    let (x0, x1) = (cx.saturating_sub(half), (cx + side - half).min(img.w));
    let w = img.w;
    for k in 0..img.c {
        let plane = img.channel_mut(k);
        for y in y0..y1 {
            plane[y * w + x0..y * w + x1].fill(0.0);
        }
    }
}

/// Inverts the values at or above `threshold`: `x >= t -> 1 - x`.
pub fn solarize(img: &mut Image, threshold: f32) {
    for v in img.data.iter_mut() {
        if *v >= threshold {
            *v = 1.0 - *v;
        }
    }
}

/// Keeps `bits` bits of each 8-bit value (`1..=8`).
pub fn posterize(img: &mut Image, bits: u8) {
    let step = (1u32 << (8 - bits.clamp(1, 8))) as f32;
    for v in img.data.iter_mut() {
        let byte = (*v * 255.0).round().clamp(0.0, 255.0);
        *v = (byte / step).floor() * step / 255.0;
    }
}

/// Histogram equalisation per channel over 256 levels (PIL's `ImageOps.equalize`).
pub fn equalize(img: &mut Image) {
    for k in 0..img.c {
        let plane = img.channel_mut(k);
        let level = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as usize;
        let mut hist = [0usize; 256];
        for &v in plane.iter() {
            hist[level(v)] += 1;
        }
        // PIL: step = (count - count of the last used level) / 255; no change when step is 0.
        let last = hist.iter().rposition(|&n| n > 0).map_or(0, |i| hist[i]);
        let step = (plane.len() - last) / 255;
        if step == 0 {
            continue;
        }
        let mut lut = [0.0f32; 256];
        let mut n = step / 2;
        for (i, slot) in lut.iter_mut().enumerate() {
            *slot = (n / step).min(255) as f32 / 255.0;
            n += hist[i];
        }
        for v in plane.iter_mut() {
            *v = lut[level(*v)];
        }
    }
}

/// Stretches each channel so its minimum becomes 0 and its maximum 1.
pub fn autocontrast(img: &mut Image) {
    for k in 0..img.c {
        let plane = img.channel_mut(k);
        let (lo, hi) = plane
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if hi > lo {
            for v in plane.iter_mut() {
                *v = (*v - lo) / (hi - lo);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn img(data: Vec<f32>, h: usize, w: usize) -> Image {
        Image { c: 1, h, w, data }
    }

    #[test]
    fn point_ops_by_hand() {
        let mut a = img(vec![0.2, 0.5, 0.8, 1.0], 2, 2);
        brightness(&mut a, 1.5);
        for (g, w) in a.data.iter().zip([0.3, 0.75, 1.0, 1.0]) {
            assert!((g - w).abs() < 1e-6, "{:?}", a.data);
        }
        let mut c = img(vec![0.25, 0.75], 1, 2);
        contrast(&mut c, 0.5);
        assert_eq!(c.data, vec![0.375, 0.625]);
        let mut s = img(vec![0.1, 0.6, 0.9], 1, 3);
        solarize(&mut s, 0.5);
        assert!(
            (s.data[1] - 0.4).abs() < 1e-6 && (s.data[2] - 0.1).abs() < 1e-6 && s.data[0] == 0.1
        );
        let mut p = img(vec![200.0 / 255.0, 1.0], 1, 2);
        posterize(&mut p, 2); // steps of 64: 200 -> 192, 255 -> 192
        assert_eq!(p.data, vec![192.0 / 255.0, 192.0 / 255.0]);
        let mut ac = img(vec![0.2, 0.4, 0.6], 1, 3);
        autocontrast(&mut ac);
        assert!((ac.data[1] - 0.5).abs() < 1e-6 && ac.data[0] == 0.0 && ac.data[2] == 1.0);
    }

    #[test]
    fn equalize_spreads_a_narrow_histogram() {
        // 4096 pixels on 4 levels near mid-grey: equalised they span the range. (PIL leaves
        // images with fewer than 255 pixels off the last level unchanged.)
        let data: Vec<f32> = (0..4096).map(|i| (120 + i % 4) as f32 / 255.0).collect();
        let mut e = img(data, 64, 64);
        equalize(&mut e);
        let (lo, hi) = e
            .data
            .iter()
            .fold((1.0f32, 0.0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(lo < 0.01 && hi > 0.7, "{lo} {hi}");
        // A constant image has nothing to equalise.
        let mut flat = img(vec![0.5; 16], 4, 4);
        equalize(&mut flat);
        assert_eq!(flat.data, vec![0.5; 16]);
    }

    #[test]
    fn blur_keeps_constants_and_spreads_a_point() {
        let mut flat = img(vec![0.3; 25], 5, 5);
        gaussian_blur(&mut flat, 1.0);
        assert!(flat.data.iter().all(|v| (v - 0.3).abs() < 1e-6));
        // Sigma 0.8: radius 3, inside a 9x9 image from its centre, so no mass leaves.
        let mut dot = img(vec![0.0; 81], 9, 9);
        dot.data[40] = 1.0;
        gaussian_blur(&mut dot, 0.8);
        assert!(dot.data[40] < 1.0 && dot.data[41] > 0.0 && dot.data[39] == dot.data[41]);
        assert!((dot.data.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn cutout_zeroes_one_square_and_noise_follows_the_seed() {
        let mut a = img(vec![1.0; 100], 10, 10);
        cutout(&mut a, 4, &mut ChaCha8Rng::seed_from_u64(1));
        let zeros = a.data.iter().filter(|&&v| v == 0.0).count();
        assert!((1..=16).contains(&zeros), "{zeros}");
        let noisy = |seed| {
            let mut n = img(vec![0.5; 100], 10, 10);
            gaussian_noise(&mut n, 0.1, &mut ChaCha8Rng::seed_from_u64(seed));
            n
        };
        assert_eq!(noisy(2), noisy(2));
        assert_ne!(noisy(2), noisy(3));
        let n = noisy(2);
        let mean = n.data.iter().sum::<f32>() / 100.0;
        assert!((mean - 0.5).abs() < 0.05 && n.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
