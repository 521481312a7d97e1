//! [`AugmentOp`]: one augmentation as a recipe names it, with its random parameters' ranges,
//! and [`Step`]: an op applied with probability `p`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::geometric::{Affine, horizontal_flip, random_resized_crop};
use super::image::Image;
use super::photometric::{
    autocontrast, brightness, contrast, cutout, equalize, gaussian_blur, gaussian_noise, posterize,
    solarize,
};
use super::rand_augment::rand_augment;
use super::text::{word_dropout, word_swap};
use crate::{Error, Result};

fn default_scale() -> [f32; 2] {
    [0.08, 1.0]
}
fn default_ratio() -> [f32; 2] {
    [0.75, 4.0 / 3.0]
}
fn default_sigma() -> [f32; 2] {
    [0.1, 2.0]
}
fn half() -> f32 {
    0.5
}
fn four() -> u8 {
    4
}
fn two() -> usize {
    2
}
fn nine() -> f32 {
    9.0
}
fn unit_scale() -> [f32; 2] {
    [1.0, 1.0]
}

/// One augmentation. Ranges are sampled afresh for every image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AugmentOp {
    /// Crop a random box (`scale`: share of the area, `ratio`: width / height) and resize it
    /// to `size` (`[h, w]`; the input size when absent).
    RandomResizedCrop {
        /// Area share range.
        #[serde(default = "default_scale")]
        scale: [f32; 2],
        /// Aspect ratio range (sampled log-uniformly).
        #[serde(default = "default_ratio")]
        ratio: [f32; 2],
        /// Output `[height, width]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<[usize; 2]>,
    },
    /// Mirror left-right.
    HorizontalFlip {},
    /// Rotate by an angle drawn from `[-degrees, degrees]`.
    Rotation {
        /// Largest angle, degrees.
        degrees: f32,
    },
    /// Shift by up to `fraction` of the width and of the height.
    Translate {
        /// Largest shift as a share of the size.
        fraction: f32,
    },
    /// Rotation, shift, zoom and shear in one map.
    Affine {
        /// Largest angle, degrees.
        #[serde(default)]
        degrees: f32,
        /// Largest shift as a share of the size.
        #[serde(default)]
        translate: f32,
        /// Zoom range.
        #[serde(default = "unit_scale")]
        scale: [f32; 2],
        /// Largest shear angle (x), degrees.
        #[serde(default)]
        shear: f32,
    },
    /// Multiply by a factor from `[1 - strength, 1 + strength]`.
    Brightness {
        /// Jitter strength.
        strength: f32,
    },
    /// Blend with the mean by a factor from `[1 - strength, 1 + strength]`.
    Contrast {
        /// Jitter strength.
        strength: f32,
    },
    /// Add Gaussian noise of standard deviation `std`.
    GaussianNoise {
        /// Noise level.
        std: f32,
    },
    /// Blur with a standard deviation (pixels) from `sigma`.
    GaussianBlur {
        /// Sigma range.
        #[serde(default = "default_sigma")]
        sigma: [f32; 2],
    },
    /// Zero a square whose side is `size` times the shorter side.
    Cutout {
        /// Side as a share of the image.
        size: f32,
    },
    /// Invert values at or above `threshold`.
    Solarize {
        /// Threshold in `[0, 1]`.
        #[serde(default = "half")]
        threshold: f32,
    },
    /// Keep `bits` bits per value.
    Posterize {
        /// 1 to 8.
        #[serde(default = "four")]
        bits: u8,
    },
    /// Histogram equalisation.
    Equalize {},
    /// Stretch to the full range.
    Autocontrast {},
    /// RandAugment (Cubuk et al. 2020): `ops` ops drawn from its list, each at `magnitude`
    /// (0-30).
    RandAugment {
        /// Ops per image.
        #[serde(default = "two")]
        ops: usize,
        /// Strength on RandAugment's 0-30 scale.
        #[serde(default = "nine")]
        magnitude: f32,
    },
    /// Text: drop each word with probability `rate` (token sequences only).
    WordDropout {
        /// Share of the words dropped, in `[0, 1)`.
        rate: f32,
    },
    /// Text: swap two random words, `swaps` times (token sequences only).
    WordSwap {
        /// Swaps per sequence.
        swaps: usize,
    },
}

impl AugmentOp {
    /// The recipe name of the op.
    pub fn name(&self) -> String {
        let text = toml::to_string(self).expect("an op serialises");
        let table: toml::Table = toml::from_str(&text).expect("and parses back");
        table["op"].as_str().unwrap_or("?").to_string()
    }

    /// Checks ranges; `key` names the op in errors.
    pub fn validate(&self, key: &str) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(key, format!("{}: {m}", self.name())));
        let range_ok = |r: [f32; 2], lo: f32, hi: f32| r[0] <= r[1] && r[0] >= lo && r[1] <= hi;
        match self {
            Self::RandomResizedCrop { scale, ratio, size } => {
                if !(range_ok(*scale, 0.0, 1.0) && scale[0] > 0.0) {
                    return bad(format!(
                        "scale must be a range within (0, 1], got {scale:?}"
                    ));
                }
                if !(range_ok(*ratio, 0.0, f32::MAX) && ratio[0] > 0.0) {
                    return bad(format!("ratio must be a positive range, got {ratio:?}"));
                }
                if size.is_some_and(|s| s[0] == 0 || s[1] == 0) {
                    return bad("size must be positive".into());
                }
            }
            Self::Rotation { degrees: v }
            | Self::Translate { fraction: v }
            | Self::GaussianNoise { std: v }
                if !(v.is_finite() && *v >= 0.0) =>
            {
                return bad(format!("must be a finite value >= 0, got {v}"));
            }
            Self::Brightness { strength: v } | Self::Contrast { strength: v }
                if !(0.0..=1.0).contains(v) =>
            {
                return bad(format!("strength must be in [0, 1], got {v}"));
            }
            Self::Cutout { size: v } | Self::Solarize { threshold: v }
                if !(0.0..=1.0).contains(v) =>
            {
                return bad(format!("must be in [0, 1], got {v}"));
            }
            Self::GaussianBlur { sigma } if !range_ok(*sigma, 0.0, 100.0) => {
                return bad(format!(
                    "sigma must be a range within [0, 100], got {sigma:?}"
                ));
            }
            Self::Posterize { bits } if !(1..=8).contains(bits) => {
                return bad(format!("bits must be 1 to 8, got {bits}"));
            }
            Self::Affine {
                degrees,
                translate,
                scale,
                shear,
            } if !(*degrees >= 0.0
                && (0.0..=1.0).contains(translate)
                && range_ok(*scale, 0.01, 100.0)
                && (0.0..80.0).contains(shear)) =>
            {
                return bad("degrees >= 0, translate in [0, 1], scale a range in [0.01, 100] and shear in [0, 80) degrees".into());
            }
            Self::WordDropout { rate } if !(0.0..1.0).contains(rate) => {
                return bad(format!("rate must be in [0, 1), got {rate}"));
            }
            Self::RandAugment { ops, magnitude }
                if *ops == 0 || !(0.0..=30.0).contains(magnitude) =>
            {
                return bad(format!(
                    "needs ops >= 1 and magnitude in [0, 30], got {ops} and {magnitude}"
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the op works on token sequences (else on images).
    pub fn is_text(&self) -> bool {
        matches!(self, Self::WordDropout { .. } | Self::WordSwap { .. })
    }

    /// Applies a text op to one row of token ids with parameters drawn from `rng`.
    ///
    /// # Panics
    /// For an image op (`AugmentSection::check_shape` refuses them for sequences).
    pub fn apply_tokens(&self, row: &mut [f32], rng: &mut impl Rng) {
        match *self {
            Self::WordDropout { rate } => word_dropout(row, rate, rng),
            Self::WordSwap { swaps } => word_swap(row, swaps, rng),
            _ => unreachable!("image op {} on a token sequence", self.name()),
        }
    }

    /// The `[h, w]` this op outputs for an input of `[h, w]`.
    pub fn output_size(&self, input: [usize; 2]) -> [usize; 2] {
        match self {
            Self::RandomResizedCrop { size: Some(s), .. } => *s,
            _ => input,
        }
    }

    /// Applies the op to `img` with parameters drawn from `rng`.
    pub fn apply(&self, img: Image, rng: &mut impl Rng) -> Image {
        let sym = |rng: &mut dyn rand::RngCore, v: f32| {
            if v > 0.0 {
                rng.random_range(-v..=v)
            } else {
                0.0
            }
        };
        let mut img = img;
        match *self {
            Self::RandomResizedCrop { scale, ratio, size } => {
                let out = size.map_or((img.h, img.w), |s| (s[0], s[1]));
                return random_resized_crop(&img, scale, ratio, out, rng);
            }
            Self::HorizontalFlip {} => return horizontal_flip(&img),
            Self::Rotation { degrees } => {
                return Affine {
                    degrees: sym(rng, degrees),
                    ..Affine::IDENTITY
                }
                .apply(&img);
            }
            Self::Translate { fraction } => {
                let t = (
                    sym(rng, fraction) * img.w as f32,
                    sym(rng, fraction) * img.h as f32,
                );
                return Affine {
                    translate: t,
                    ..Affine::IDENTITY
                }
                .apply(&img);
            }
            Self::Affine {
                degrees,
                translate,
                scale,
                shear,
            } => {
                let t = (
                    sym(rng, translate) * img.w as f32,
                    sym(rng, translate) * img.h as f32,
                );
                let s = rng.random_range(scale[0]..=scale[1]);
                return Affine {
                    degrees: sym(rng, degrees),
                    translate: t,
                    scale: s,
                    shear: (sym(rng, shear), 0.0),
                }
                .apply(&img);
            }
            Self::Brightness { strength } => brightness(&mut img, 1.0 + sym(rng, strength)),
            Self::Contrast { strength } => contrast(&mut img, 1.0 + sym(rng, strength)),
            Self::GaussianNoise { std } => gaussian_noise(&mut img, std, rng),
            Self::GaussianBlur { sigma } => {
                gaussian_blur(&mut img, rng.random_range(sigma[0]..=sigma[1]))
            }
            Self::Cutout { size } => {
                let side = (size * img.h.min(img.w) as f32).round() as usize;
                cutout(&mut img, side, rng);
            }
            Self::Solarize { threshold } => solarize(&mut img, threshold),
            Self::Posterize { bits } => posterize(&mut img, bits),
            Self::Equalize {} => equalize(&mut img),
            Self::Autocontrast {} => autocontrast(&mut img),
            Self::RandAugment { ops, magnitude } => return rand_augment(img, ops, magnitude, rng),
            Self::WordDropout { .. } | Self::WordSwap { .. } => {
                unreachable!("text op {} on an image", self.name())
            }
        }
        img
    }
}

/// An op applied with probability `p` (`{ op = "brightness", strength = 0.4, p = 0.8 }`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(try_from = "toml::Table", into = "toml::Table")]
pub struct Step {
    /// The augmentation.
    pub op: AugmentOp,
    /// Probability of applying it.
    pub p: f32,
}

impl TryFrom<toml::Table> for Step {
    type Error = String;

    fn try_from(mut table: toml::Table) -> std::result::Result<Self, String> {
        let p = match table.remove("p") {
            None => 1.0,
            Some(toml::Value::Float(p)) => p as f32,
            Some(toml::Value::Integer(p)) => p as f32,
            Some(other) => return Err(format!("p must be a number, got {other}")),
        };
        let op = AugmentOp::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string())?;
        Ok(Step { op, p })
    }
}

impl From<Step> for toml::Table {
    fn from(step: Step) -> toml::Table {
        let mut table = toml::Table::try_from(&step.op).expect("an op serialises");
        if step.p != 1.0 {
            table.insert("p".into(), toml::Value::Float(step.p as f64));
        }
        table
    }
}

impl Step {
    /// Checks `p` and the op's ranges.
    pub fn validate(&self, key: &str) -> Result<()> {
        if !(0.0..=1.0).contains(&self.p) {
            return Err(Error::invalid(
                key,
                format!("p must be in [0, 1], got {}", self.p),
            ));
        }
        self.op.validate(key)
    }

    /// Applies the op with probability `p`.
    pub fn apply(&self, img: Image, rng: &mut impl Rng) -> Image {
        if self.p >= 1.0 || rng.random::<f32>() < self.p {
            self.op.apply(img, rng)
        } else {
            img
        }
    }

    /// Applies a text op to a row of token ids with probability `p`.
    pub fn apply_tokens(&self, row: &mut [f32], rng: &mut impl Rng) {
        if self.p >= 1.0 || rng.random::<f32>() < self.p {
            self.op.apply_tokens(row, rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_with_probability_and_round_trip() {
        #[derive(Deserialize, Serialize)]
        struct T {
            ops: Vec<Step>,
        }
        let text = r#"ops = [{ op = "brightness", strength = 0.4, p = 0.8 }, { op = "horizontal_flip" }, { op = "random_resized_crop", scale = [0.2, 1.0] }]"#;
        let t: T = toml::from_str(text).unwrap();
        assert_eq!(t.ops[0].p, 0.8);
        assert_eq!(t.ops[1].p, 1.0);
        assert_eq!(t.ops[2].op.name(), "random_resized_crop");
        let back: T = toml::from_str(&toml::to_string(&t).unwrap()).unwrap();
        assert_eq!(back.ops, t.ops);
        let err = toml::from_str::<T>(r#"ops = [{ op = "brightnes", strength = 0.4 }]"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("brightnes"), "{err}");
        let err = toml::from_str::<T>(r#"ops = [{ op = "rotation", degree = 4 }]"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("degree"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_named() {
        let s = Step {
            op: AugmentOp::Posterize { bits: 9 },
            p: 1.0,
        };
        let err = s
            .validate("augment.views[0].ops[2]")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("augment.views[0].ops[2]") && err.contains("posterize"),
            "{err}"
        );
        let s = Step {
            op: AugmentOp::HorizontalFlip {},
            p: 1.5,
        };
        assert!(s.validate("k").is_err());
    }
}
