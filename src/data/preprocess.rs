//! Feature preprocessing: a recipe-level [`PreprocessConfig`] is fitted on the training
//! data into a [`Preprocessor`], which holds the statistics and transforms any split.

use serde::{Deserialize, Serialize};

use super::Dataset;
use super::pca::{mean_and_covariance, project, sorted_eigen};
use super::resize::resize_bilinear;
use crate::{Error, Result};

/// Eigenvalues below this fraction of the largest are treated as this floor when PCA
/// whitens, so that directions without variance do not divide by zero.
const MIN_RELATIVE_EIGENVALUE: f64 = 1e-12;

/// How to preprocess features, as written in a recipe (`kind = "standardize"`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PreprocessConfig {
    /// Divide every value by a constant, e.g. 255 for 8-bit pixels.
    Scale {
        /// The divisor (finite, non-zero).
        divide_by: f32,
    },
    /// Subtract each feature's training mean and divide by its training standard
    /// deviation (population, `ddof = 0`; a constant feature keeps std 1).
    ///
    /// A struct variant without fields, not a unit variant, because serde ignores extra
    /// keys beside the tag of an internally tagged unit variant even with
    /// `deny_unknown_fields`; this way `kind = "standardize"` with a stray key is an error.
    Standardize {},
    /// Project centred samples onto the top principal components of the training data;
    /// samples become `[components]`.
    Pca {
        /// Number of components kept, `1..=features`.
        components: usize,
        /// Divide each component by its standard deviation (unit variance on train).
        #[serde(default)]
        whiten: bool,
    },
    /// ZCA whitening: decorrelate to unit variance while staying closest to the input;
    /// the sample shape is kept (images stay images).
    Zca {
        /// Added to each eigenvalue before the inverse square root; regularises directions
        /// with little variance.
        #[serde(default = "default_zca_epsilon")]
        epsilon: f32,
    },
    /// Bilinear resize of images `[c, h, w]` to `[c, height, width]` (PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False)`), e.g. USPS 16x16 to 28x28.
    Resize {
        /// Output height.
        height: usize,
        /// Output width.
        width: usize,
    },
}

fn default_zca_epsilon() -> f32 {
    1e-2
}

/// A fitted preprocessing step: the statistics of the training data, savable as JSON so
/// that prediction applies exactly what training applied.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Preprocessor {
    /// `x / divide_by`.
    Scale {
        /// The divisor.
        divide_by: f32,
    },
    /// `(x - mean) / std` per feature.
    Standardize {
        /// Training mean of each feature.
        mean: Vec<f32>,
        /// Training standard deviation of each feature (1 where it was 0).
        std: Vec<f32>,
    },
    /// `P (x - mean)` with `P` the top principal directions (scaled when whitening).
    Pca {
        /// Training mean of each feature.
        mean: Vec<f32>,
        /// Row-major `[components, features]`.
        projection: Vec<f32>,
        /// Number of outputs per sample.
        components: usize,
        /// Whether the rows were scaled to unit variance.
        whiten: bool,
    },
    /// `W (x - mean)` with the symmetric ZCA matrix `W`.
    Zca {
        /// Training mean of each feature.
        mean: Vec<f32>,
        /// Row-major `[features, features]`.
        projection: Vec<f32>,
    },
    /// Bilinear resize to `[c, height, width]`.
    Resize {
        /// Output height.
        height: usize,
        /// Output width.
        width: usize,
    },
}

impl PreprocessConfig {
    /// Fits the step's statistics on `train` (and on nothing else).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty training set, a zero or non-finite divisor, a
    /// component count outside `1..=features`, or PCA/ZCA on fewer than two samples.
    pub fn fit(&self, train: &Dataset) -> Result<Preprocessor> {
        if train.is_empty() {
            return Err(Error::invalid("preprocess", "the training set is empty"));
        }
        let d = train.sample_len();
        match *self {
            PreprocessConfig::Scale { divide_by } => {
                check_divisor(divide_by)?;
                Ok(Preprocessor::Scale { divide_by })
            }
            PreprocessConfig::Standardize {} => Ok(fit_standardize(&train.features, d)),
            PreprocessConfig::Pca { components, whiten } => {
                if components == 0 || components > d {
                    return Err(Error::invalid(
                        "preprocess.components",
                        format!("{components} is not in 1..={d} (the number of features)"),
                    ));
                }
                check_covariance_samples(train, "pca")?;
                Ok(fit_pca(&train.features, d, components, whiten))
            }
            PreprocessConfig::Zca { epsilon } => {
                if !(epsilon >= 0.0 && epsilon.is_finite()) {
                    return Err(Error::invalid(
                        "preprocess.epsilon",
                        format!("{epsilon} must be finite and >= 0"),
                    ));
                }
                check_covariance_samples(train, "zca")?;
                Ok(fit_zca(&train.features, d, epsilon))
            }
            PreprocessConfig::Resize { height, width } => {
                if train.sample_shape.len() != 3 || height == 0 || width == 0 {
                    return Err(Error::invalid(
                        "preprocess.resize",
                        format!(
                            "resizes images [channels, height, width] to a non-zero size; got samples of shape {:?} and size {height}x{width}",
                            train.sample_shape
                        ),
                    ));
                }
                Ok(Preprocessor::Resize { height, width })
            }
        }
    }
}

impl Preprocessor {
    /// Applies the fitted step to `data` in place; PCA changes the sample shape to
    /// `[components]`, the other steps keep it.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `data`'s samples do not have as many values as the
    /// training samples had.
    pub fn transform(&self, data: &mut Dataset) -> Result<()> {
        let d = data.sample_len();
        match self {
            Preprocessor::Scale { divide_by } => {
                check_divisor(*divide_by)?;
                data.features.iter_mut().for_each(|x| *x /= divide_by);
            }
            Preprocessor::Standardize { mean, std } => {
                check_len(mean.len(), &data.sample_shape)?;
                for (i, x) in data.features.iter_mut().enumerate() {
                    *x = (*x - mean[i % d]) / std[i % d];
                }
            }
            Preprocessor::Pca {
                mean,
                projection,
                components,
                ..
            } => {
                check_len(mean.len(), &data.sample_shape)?;
                data.features = project(&data.features, mean, projection, *components);
                data.sample_shape = vec![*components];
            }
            Preprocessor::Zca { mean, projection } => {
                check_len(mean.len(), &data.sample_shape)?;
                data.features = project(&data.features, mean, projection, d);
            }
            Preprocessor::Resize { height, width } => {
                let &[c, h, w] = data.sample_shape.as_slice() else {
                    return Err(Error::invalid(
                        "preprocess.resize",
                        format!(
                            "expects images [channels, height, width], got samples of shape {:?}",
                            data.sample_shape
                        ),
                    ));
                };
                data.features = resize_bilinear(&data.features, c, h, w, *height, *width);
                data.sample_shape = vec![c, *height, *width];
            }
        }
        Ok(())
    }

    /// The sample shape after [`transform`](Self::transform) of samples shaped `input`.
    pub fn output_shape(&self, input: &[usize]) -> Vec<usize> {
        match self {
            Preprocessor::Pca { components, .. } => vec![*components],
            Preprocessor::Resize { height, width } => {
                vec![input.first().copied().unwrap_or(1), *height, *width]
            }
            _ => input.to_vec(),
        }
    }
}

fn check_divisor(divide_by: f32) -> Result<()> {
    if divide_by == 0.0 || !divide_by.is_finite() {
        return Err(Error::invalid(
            "preprocess.divide_by",
            format!("{divide_by} must be finite and non-zero"),
        ));
    }
    Ok(())
}

fn check_covariance_samples(train: &Dataset, kind: &str) -> Result<()> {
    if train.len() < 2 {
        return Err(Error::invalid(
            "preprocess",
            format!(
                "{kind} needs at least 2 training samples, got {}",
                train.len()
            ),
        ));
    }
    Ok(())
}

fn check_len(fitted: usize, shape: &[usize]) -> Result<()> {
    let got: usize = shape.iter().product();
    if fitted != got {
        return Err(Error::invalid(
            "preprocess",
            format!(
                "fitted on samples of {fitted} values, but these have shape {shape:?} ({got} values)"
            ),
        ));
    }
    Ok(())
}

fn fit_standardize(features: &[f32], d: usize) -> Preprocessor {
    let n = (features.len() / d) as f64;
    let mut sum = vec![0.0f64; d];
    let mut sum_sq = vec![0.0f64; d];
    for sample in features.chunks_exact(d) {
        for j in 0..d {
            let x = f64::from(sample[j]);
            sum[j] += x;
            sum_sq[j] += x * x;
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let std = sum_sq
        .iter()
        .zip(&mean)
        .map(|(sq, m)| {
            let s = (sq / n - m * m).max(0.0).sqrt();
            if s > 0.0 { s as f32 } else { 1.0 }
        })
        .collect();
    Preprocessor::Standardize {
        mean: mean.iter().map(|&m| m as f32).collect(),
        std,
    }
}

fn fit_pca(features: &[f32], d: usize, components: usize, whiten: bool) -> Preprocessor {
    let (mean, cov) = mean_and_covariance(features, d);
    let (values, vectors) = sorted_eigen(cov);
    let floor = values[0] * MIN_RELATIVE_EIGENVALUE;
    let mut projection = Vec::with_capacity(components * d);
    for (k, &value) in values.iter().enumerate().take(components) {
        let scale = if whiten {
            1.0 / value.max(floor).max(f64::MIN_POSITIVE).sqrt()
        } else {
            1.0
        };
        projection.extend(vectors.column(k).iter().map(|&v| (v * scale) as f32));
    }
    Preprocessor::Pca {
        mean: mean.iter().map(|&m| m as f32).collect(),
        projection,
        components,
        whiten,
    }
}

fn fit_zca(features: &[f32], d: usize, epsilon: f32) -> Preprocessor {
    let (mean, cov) = mean_and_covariance(features, d);
    let (values, vectors) = sorted_eigen(cov);
    let floor = values[0] * MIN_RELATIVE_EIGENVALUE;
    let mut scaled = vectors.clone();
    for (k, mut column) in scaled.column_iter_mut().enumerate() {
        column /= (values[k] + f64::from(epsilon))
            .max(floor)
            .max(f64::MIN_POSITIVE)
            .sqrt();
    }
    // W = U diag(1/sqrt(lambda + eps)) U^T is symmetric, so row-major equals column-major.
    let w = scaled * vectors.transpose();
    Preprocessor::Zca {
        mean: mean.iter().map(|&m| m as f32).collect(),
        projection: w.iter().map(|&v| v as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn dataset(features: Vec<f32>, d: usize) -> Dataset {
        let n = features.len() / d;
        Dataset::new(
            features,
            vec![d],
            Targets::Regression {
                values: vec![0.0; n],
                dims: 1,
            },
        )
        .unwrap()
    }

    /// 3-D samples with strongly correlated, differently scaled features.
    fn correlated(n: usize, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut features = Vec::with_capacity(n * 3);
        for _ in 0..n {
            let (a, b, c): (f32, f32, f32) = (rng.random(), rng.random(), rng.random());
            features.extend([5.0 + 3.0 * a, 2.0 * a + 0.5 * b, -a + b + 0.2 * c]);
        }
        dataset(features, 3)
    }

    fn covariance(data: &Dataset) -> nalgebra::DMatrix<f64> {
        mean_and_covariance(&data.features, data.sample_len()).1
    }

    fn assert_identity(cov: &nalgebra::DMatrix<f64>, tol: f64) {
        for i in 0..cov.nrows() {
            for j in 0..cov.ncols() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (cov[(i, j)] - want).abs() < tol,
                    "cov[{i},{j}] = {}",
                    cov[(i, j)]
                );
            }
        }
    }

    #[test]
    fn config_parses_with_defaults_and_rejects_unknown_keys() {
        let parse = |s: &str| toml::from_str::<PreprocessConfig>(s);
        assert_eq!(
            parse("kind = \"standardize\"").unwrap(),
            PreprocessConfig::Standardize {}
        );
        assert_eq!(
            parse("kind = \"pca\"\ncomponents = 5").unwrap(),
            PreprocessConfig::Pca {
                components: 5,
                whiten: false
            }
        );
        assert_eq!(
            parse("kind = \"zca\"").unwrap(),
            PreprocessConfig::Zca { epsilon: 1e-2 }
        );
        assert!(parse("kind = \"scale\"\ndivide_by = 255.0\nextra = 1").is_err());
        assert!(parse("kind = \"pca\"\ncomponents = 5\nwhitening = true").is_err());
        assert!(parse("kind = \"standardize\"\nmean = 0").is_err());
        assert!(parse("kind = \"normalize\"").is_err());
        let json = serde_json::from_str::<PreprocessConfig>(r#"{"kind":"zca","eps":1}"#);
        assert!(json.is_err());
    }

    #[test]
    fn scale_divides() {
        let mut data = dataset(vec![0.0, 127.5, 255.0], 1);
        let fitted = PreprocessConfig::Scale { divide_by: 255.0 }
            .fit(&data)
            .unwrap();
        fitted.transform(&mut data).unwrap();
        assert_eq!(data.features, vec![0.0, 0.5, 1.0]);
        assert!(
            PreprocessConfig::Scale { divide_by: 0.0 }
                .fit(&data)
                .is_err()
        );
    }

    #[test]
    fn standardized_train_has_zero_mean_unit_std() {
        let mut train = correlated(500, 1);
        train.features.iter_mut().step_by(3).for_each(|x| *x = 4.0); // a constant feature
        let fitted = PreprocessConfig::Standardize {}.fit(&train).unwrap();
        fitted.transform(&mut train).unwrap();
        for j in 0..3 {
            let col: Vec<f64> = train
                .features
                .iter()
                .skip(j)
                .step_by(3)
                .map(|&x| x as f64)
                .collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(mean.abs() < 1e-5, "mean {mean}");
            let want = if j == 0 { 0.0 } else { 1.0 };
            assert!((var.sqrt() - want).abs() < 1e-4, "std {}", var.sqrt());
        }
    }

    #[test]
    fn test_set_uses_training_statistics() {
        let train = dataset(vec![0.0, 2.0, 4.0], 1); // mean 2, std sqrt(8/3)
        let mut test = dataset(vec![2.0, 10.0], 1);
        let fitted = PreprocessConfig::Standardize {}.fit(&train).unwrap();
        fitted.transform(&mut test).unwrap();
        let std = (8.0f32 / 3.0).sqrt();
        assert_eq!(test.features, vec![0.0, 8.0 / std]);
        let mut wrong = correlated(2, 0);
        assert!(fitted.transform(&mut wrong).is_err());
    }

    #[test]
    fn pca_rotates_2d_data_onto_its_axes() {
        // Points along (1, 1) with a little spread along (1, -1).
        let mut features = Vec::new();
        for t in [-2.0f32, -1.0, 0.0, 1.0, 2.0] {
            for s in [-0.1f32, 0.1] {
                features.extend([1.0 + t + s, 3.0 + t - s]);
            }
        }
        let train = dataset(features, 2);
        let config = PreprocessConfig::Pca {
            components: 2,
            whiten: false,
        };
        let fitted = config.fit(&train).unwrap();
        let mut out = train.clone();
        fitted.transform(&mut out).unwrap();
        assert_eq!(out.sample_shape, vec![2]);
        // Sample (t=2, s=0.1) = mean + 2(1,1) + 0.1(1,-1) -> (2*sqrt2, ±0.1*sqrt2).
        let r = std::f32::consts::SQRT_2;
        let last = out.sample(9);
        assert!((last[0] - 2.0 * r).abs() < 1e-4, "{last:?}");
        assert!((last[1].abs() - 0.1 * r).abs() < 1e-4, "{last:?}");
        let cov = covariance(&out);
        assert!(cov[(0, 1)].abs() < 1e-6 && cov[(0, 0)] > cov[(1, 1)]);
    }

    #[test]
    fn pca_keeps_top_components_and_whitens() {
        let mut train = correlated(1000, 2);
        let fitted = PreprocessConfig::Pca {
            components: 2,
            whiten: true,
        }
        .fit(&train)
        .unwrap();
        assert_eq!(fitted.output_shape(&[3]), vec![2]);
        fitted.transform(&mut train).unwrap();
        assert_eq!(train.sample_shape, vec![2]);
        assert_identity(&covariance(&train), 1e-3);
        let err = PreprocessConfig::Pca {
            components: 4,
            whiten: false,
        }
        .fit(&train)
        .unwrap_err();
        assert!(err.to_string().contains("1..=2"), "{err}");
    }

    #[test]
    fn zca_whitens_and_keeps_shape() {
        let mut train = correlated(1000, 3);
        let fitted = PreprocessConfig::Zca { epsilon: 1e-9 }.fit(&train).unwrap();
        fitted.transform(&mut train).unwrap();
        assert_eq!(train.sample_shape, vec![3]);
        assert_identity(&covariance(&train), 1e-3);
        // ZCA's matrix is symmetric: the whitened data stays aligned with the input.
        let Preprocessor::Zca { projection, .. } = &fitted else {
            panic!()
        };
        for i in 0..3 {
            for j in 0..3 {
                assert!((projection[i * 3 + j] - projection[j * 3 + i]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn fitted_preprocessor_round_trips_through_json() {
        let train = correlated(50, 4);
        for config in [
            PreprocessConfig::Scale { divide_by: 2.0 },
            PreprocessConfig::Standardize {},
            PreprocessConfig::Pca {
                components: 2,
                whiten: true,
            },
            PreprocessConfig::Zca { epsilon: 0.1 },
        ] {
            let fitted = config.fit(&train).unwrap();
            let json = serde_json::to_string(&fitted).unwrap();
            assert_eq!(serde_json::from_str::<Preprocessor>(&json).unwrap(), fitted);
            let back: PreprocessConfig =
                serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
            assert_eq!(back, config);
        }
    }
}
