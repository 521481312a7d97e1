//! The built-in data sets: scikit-learn digits (embedded), MNIST, Fashion-MNIST, USPS and
//! scikit-learn diabetes (read from a data folder).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::gzip::{decompress_if_gzip, read_maybe_gzip};
use super::idx::{read_idx_images, read_idx_labels};
use super::{Dataset, Targets};
use crate::{Error, Result};

/// The scikit-learn digits, compiled into the binary so that they need no data folder.
const DIGITS_GZ: &[u8] = include_bytes!("../../assets/data/digits.csv.gz");
/// How the embedded digits are named in error messages.
const DIGITS_SOURCE: &str = "assets/data/digits.csv.gz (embedded)";

/// The file names of an IDX image data set, relative to its folder.
const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];
/// Why `imdb` cannot load without `[data.text]`.
pub(crate) const IMDB_NEEDS_TEXT: &str = "imdb reviews become id sequences: add a [data.text] \
     table with num_words and maxlen (e.g. num_words = 10000, maxlen = 50)";
/// The diabetes files, relative to the data folder.
const DIABETES_FILES: [&str; 2] = [
    "sklearn-diabetes/diabetes_data_raw.csv.gz",
    "sklearn-diabetes/diabetes_target.csv.gz",
];
/// Columns of the diabetes data (age, sex, bmi, bp, s1..s6).
const DIABETES_COLUMNS: usize = 10;

/// Fashion-MNIST's class names, in label order.
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// A data set manabi knows how to load.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DatasetName {
    /// scikit-learn's 8x8 digits (1797 images, values 0..16), embedded in the crate.
    Digits,
    /// MNIST handwritten digits, 28x28, 60000 train + 10000 test.
    Mnist,
    /// Fashion-MNIST clothing images, 28x28, 60000 train + 10000 test.
    FashionMnist,
    /// USPS handwritten digits, 16x16, 7291 train + 2007 test.
    Usps,
    /// scikit-learn's diabetes regression data, 442 rows of 10 features.
    Diabetes,
    /// IMDB movie reviews (25000 train + 25000 test, positive/negative); needs the
    /// recipe's `[data.text]` settings, see [`load_imdb`](super::load_imdb).
    Imdb,
}

impl DatasetName {
    /// The name as written in recipes (`"fashion_mnist"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Digits => "digits",
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion_mnist",
            DatasetName::Usps => "usps",
            DatasetName::Diabetes => "diabetes",
            DatasetName::Imdb => "imdb",
        }
    }

    /// Files the data set needs, relative to the data folder (none for the embedded digits).
    pub fn required_files(self) -> Vec<String> {
        let idx_in = |folder: &str| IDX_FILES.iter().map(|f| format!("{folder}/{f}")).collect();
        match self {
            DatasetName::Digits => Vec::new(),
            DatasetName::Mnist => idx_in("mnist"),
            DatasetName::FashionMnist => idx_in("fashion-mnist"),
            DatasetName::Usps => idx_in("usps"),
            DatasetName::Diabetes => DIABETES_FILES.iter().map(|f| f.to_string()).collect(),
            DatasetName::Imdb => vec![
                "imdb/aclImdb_v1_labeled.tar.gz".into(),
                "imdb/imdb_word_index.json".into(),
            ],
        }
    }

    /// Where the data is published.
    fn origin(self) -> &'static str {
        match self {
            DatasetName::Digits => "scikit-learn's load_digits data (embedded in manabi)",
            DatasetName::Mnist => "MNIST is published at http://yann.lecun.com/exdb/mnist/",
            DatasetName::FashionMnist => {
                "Fashion-MNIST is published at https://github.com/zalandoresearch/fashion-mnist"
            }
            DatasetName::Usps => {
                "USPS (J. J. Hull, 1994): the IDX files are made from the common usps.h5 by \
                 tools/usps_h5_to_idx.py in the shared datasets folder"
            }
            DatasetName::Diabetes => {
                "diabetes is scikit-learn's load_diabetes data files \
                 (sklearn/datasets/data/diabetes_data_raw.csv.gz and diabetes_target.csv.gz)"
            }
            DatasetName::Imdb => {
                "the Large Movie Review Dataset v1.0 (Maas et al. 2011) is published at \
                 https://ai.stanford.edu/~amaas/data/sentiment/"
            }
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data set's training and test parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Training samples.
    pub train: Dataset,
    /// Held-out test samples.
    pub test: Dataset,
}

/// Loads a built-in data set.
///
/// Images come as `[1, rows, cols]` samples holding the raw pixel values as `f32`
/// (0..255 for MNIST, Fashion-MNIST and USPS, 0..16 for digits); scaling is a separate
/// preprocessing step. Classification sets have 10 classes and class names.
///
/// `data_dir` is the folder holding `mnist/`, `fashion-mnist/`, `usps/` (each with the four
/// `*-ubyte.gz` IDX files) and `sklearn-diabetes/`. The digits are embedded and ignore it.
///
/// Digits and diabetes have no official test split: every fifth row of the file (rows
/// 4, 9, 14, ..., 0-based) is the test set (digits: 1438 train, 359 test; diabetes: 354
/// train, 88 test) and the other rows the training set, both in file order. Any tool can
/// reproduce this split (the `bench/` peers use it), and it never changes between runs.
///
/// # Errors
/// [`Error::MissingDataset`] when `data_dir` is `None` or lacks files, listing every
/// missing file; [`Error::Data`] when a file's content is wrong (naming it).
pub fn load_builtin(name: DatasetName, data_dir: Option<&Path>) -> Result<Splits> {
    if name == DatasetName::Digits {
        return holdout_split(load_digits()?);
    }
    if name == DatasetName::Imdb {
        return Err(Error::invalid("data.text", IMDB_NEEDS_TEXT));
    }
    let dir = check_files(name, data_dir)?;
    match name {
        DatasetName::Digits => unreachable!("handled above"),
        DatasetName::Mnist => load_idx_set(&dir.join("mnist"), None),
        DatasetName::FashionMnist => {
            load_idx_set(&dir.join("fashion-mnist"), Some(&FASHION_CLASSES))
        }
        DatasetName::Usps => load_idx_set(&dir.join("usps"), None),
        DatasetName::Diabetes => holdout_split(load_diabetes(dir)?),
        DatasetName::Imdb => unreachable!("handled above"),
    }
}

/// Returns the data folder when every required file is in it.
fn check_files(name: DatasetName, data_dir: Option<&Path>) -> Result<&Path> {
    let how = "Give the folder holding it with `--data-dir DIR` or the MANABI_DATA \
               environment variable.";
    let Some(dir) = data_dir else {
        return Err(Error::MissingDataset {
            dataset: name.to_string(),
            dir: PathBuf::from("<none>"),
            missing: name.required_files(),
            hint: format!("No data directory was given. {}. {how}", name.origin()),
        });
    };
    let missing: Vec<String> = name
        .required_files()
        .into_iter()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(Error::MissingDataset {
            dataset: name.to_string(),
            dir: dir.to_path_buf(),
            missing,
            hint: format!("{}. {how}", name.origin()),
        })
    }
}

/// Loads the train and t10k IDX files of `folder`.
fn load_idx_set(folder: &Path, class_names: Option<&[&str]>) -> Result<Splits> {
    let load = |prefix: &str| {
        let images = folder.join(format!("{prefix}-images-idx3-ubyte.gz"));
        let labels = folder.join(format!("{prefix}-labels-idx1-ubyte.gz"));
        let mut data = load_idx_pair(&images, &labels)?;
        data.class_names = Some(match class_names {
            Some(names) => names.iter().map(|s| s.to_string()).collect(),
            None => digit_names(),
        });
        Ok::<_, Error>(data)
    };
    Ok(Splits {
        train: load("train")?,
        test: load("t10k")?,
    })
}

/// Reads one image file and its label file into a 10-class data set.
fn load_idx_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    let (pixels, [count, rows, cols]) = read_idx_images(images)?;
    let label_bytes = read_idx_labels(labels)?;
    if label_bytes.len() != count {
        return Err(Error::data(
            images,
            format!(
                "{count} images but {} labels in {}",
                label_bytes.len(),
                labels.display()
            ),
        ));
    }
    let labels_u32 = check_labels(&label_bytes, labels)?;
    Dataset::new(
        pixels.into_iter().map(f32::from).collect(),
        vec![1, rows, cols],
        Targets::Classes {
            labels: labels_u32,
            num_classes: 10,
        },
    )
}

/// Checks that every label is a digit class 0..9.
fn check_labels(labels: &[u8], path: &Path) -> Result<Vec<u32>> {
    if let Some(i) = labels.iter().position(|&l| l >= 10) {
        return Err(Error::data(
            path,
            format!("label {} of item {i} is not in 0..10", labels[i]),
        ));
    }
    Ok(labels.iter().map(|&l| u32::from(l)).collect())
}

fn digit_names() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// Parses the embedded digits CSV: 64 pixel columns then the label, no header.
fn load_digits() -> Result<Dataset> {
    let source = Path::new(DIGITS_SOURCE);
    let text = utf8(decompress_if_gzip(DIGITS_GZ.to_vec(), source)?, source)?;
    let mut features = Vec::with_capacity(1797 * 64);
    let mut labels = Vec::with_capacity(1797);
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let values = parse_row(line, ',', line_no + 1, source)?;
        if values.len() != 65 {
            return Err(Error::data(
                source,
                format!(
                    "line {}: {} columns, expected 65",
                    line_no + 1,
                    values.len()
                ),
            ));
        }
        let label = values[64];
        if !(0.0..10.0).contains(&label) || label.fract() != 0.0 {
            return Err(Error::data(
                source,
                format!(
                    "line {}, column 65: label {label} is not a digit 0..9",
                    line_no + 1
                ),
            ));
        }
        features.extend_from_slice(&values[..64]);
        labels.push(label as u32);
    }
    let mut data = Dataset::new(
        features,
        vec![1, 8, 8],
        Targets::Classes {
            labels,
            num_classes: 10,
        },
    )?;
    data.class_names = Some(digit_names());
    Ok(data)
}

/// Parses the diabetes features (space-separated) and targets (one per line).
fn load_diabetes(dir: &Path) -> Result<Dataset> {
    let data_path = dir.join(DIABETES_FILES[0]);
    let target_path = dir.join(DIABETES_FILES[1]);
    let data_text = utf8(read_maybe_gzip(&data_path)?, &data_path)?;
    let target_text = utf8(read_maybe_gzip(&target_path)?, &target_path)?;
    let mut features = Vec::new();
    for (line_no, line) in data_text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let values = parse_row(line, ' ', line_no + 1, &data_path)?;
        if values.len() != DIABETES_COLUMNS {
            return Err(Error::data(
                &data_path,
                format!(
                    "line {}: {} columns, expected {DIABETES_COLUMNS}",
                    line_no + 1,
                    values.len()
                ),
            ));
        }
        features.extend(values);
    }
    let mut targets = Vec::new();
    for (line_no, line) in target_text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        targets.extend(parse_row(line, ' ', line_no + 1, &target_path)?);
    }
    let rows = features.len() / DIABETES_COLUMNS;
    if rows != targets.len() {
        return Err(Error::data(
            &data_path,
            format!(
                "{rows} rows but {} targets in {}",
                targets.len(),
                target_path.display()
            ),
        ));
    }
    Dataset::new(
        features,
        vec![DIABETES_COLUMNS],
        Targets::Regression {
            values: targets,
            dims: 1,
        },
    )
}

/// Parses one line of numbers split at `sep` (runs of spaces count as one separator).
fn parse_row(line: &str, sep: char, line_no: usize, path: &Path) -> Result<Vec<f32>> {
    line.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(col, s)| {
            s.parse::<f32>().map_err(|_| {
                Error::data(
                    path,
                    format!("line {line_no}, column {}: '{s}' is not a number", col + 1),
                )
            })
        })
        .collect()
}

fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::data(path, format!("not UTF-8 text: {e}")))
}

/// The fixed 80/20 split used for sets without an official test part (see [`load_builtin`]).
fn holdout_split(data: Dataset) -> Result<Splits> {
    let n = data.len();
    let (test_idx, train_idx): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 5 == 4);
    Ok(Splits {
        train: data.subset(&train_idx),
        test: data.subset(&test_idx),
    })
}

#[cfg(test)]
mod tests {
    use super::super::idx::testutil::{write_images, write_labels};
    use super::*;

    fn shared_dir() -> Option<PathBuf> {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/datasets"));
        dir.is_dir().then_some(dir)
    }

    fn class_counts(data: &Dataset) -> Vec<usize> {
        let Targets::Classes {
            labels,
            num_classes,
        } = &data.targets
        else {
            panic!("not a classification set");
        };
        let mut counts = vec![0; *num_classes];
        for &l in labels {
            counts[l as usize] += 1;
        }
        counts
    }

    #[test]
    fn names_round_trip_through_serde() {
        for name in [
            DatasetName::Digits,
            DatasetName::Mnist,
            DatasetName::FashionMnist,
            DatasetName::Usps,
            DatasetName::Diabetes,
        ] {
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{}\"", name.as_str()));
            assert_eq!(serde_json::from_str::<DatasetName>(&json).unwrap(), name);
        }
    }

    #[test]
    fn digits_are_embedded_and_split_80_20() {
        let splits = load_builtin(DatasetName::Digits, None).unwrap();
        assert_eq!(splits.train.len(), 1438);
        assert_eq!(splits.test.len(), 359);
        assert_eq!(splits.train.sample_shape, vec![1, 8, 8]);
        let max = splits.train.features.iter().cloned().fold(0.0, f32::max);
        assert_eq!(max, 16.0);
        let total: Vec<usize> = class_counts(&splits.train)
            .iter()
            .zip(class_counts(&splits.test))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(total, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        // The first line of the file is a 0 starting 0,0,5,13,9,1.
        let first = load_digits().unwrap();
        assert_eq!(&first.sample(0)[..6], &[0.0, 0.0, 5.0, 13.0, 9.0, 1.0]);
        assert_eq!(load_builtin(DatasetName::Digits, None).unwrap(), splits);
    }

    #[test]
    fn missing_data_dir_lists_files_and_hint() {
        let err = load_builtin(DatasetName::Mnist, None).unwrap_err();
        let Error::MissingDataset {
            dir, missing, hint, ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(dir, Path::new("<none>"));
        assert_eq!(missing.len(), 4);
        assert!(hint.contains("No data directory") && hint.contains("--data-dir"));
        assert!(hint.contains("MANABI_DATA") && hint.contains("yann.lecun.com"));
    }

    #[test]
    fn missing_files_are_listed_relative_to_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("usps")).unwrap();
        write_labels(&dir.path().join("usps/t10k-labels-idx1-ubyte.gz"), &[1]);
        let err = load_builtin(DatasetName::Usps, Some(dir.path())).unwrap_err();
        let Error::MissingDataset { missing, hint, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(
            missing,
            &[
                "usps/train-images-idx3-ubyte.gz",
                "usps/train-labels-idx1-ubyte.gz",
                "usps/t10k-images-idx3-ubyte.gz"
            ]
        );
        assert!(hint.contains("usps_h5_to_idx.py"), "{hint}");
        let err = load_builtin(DatasetName::Diabetes, Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("diabetes_target.csv.gz"), "{err}");
    }

    #[test]
    fn tiny_idx_set_loads_and_count_mismatch_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mnist = dir.path().join("mnist");
        std::fs::create_dir(&mnist).unwrap();
        write_images(&mnist.join("train-images-idx3-ubyte.gz"), 3, 2, 2);
        write_labels(&mnist.join("train-labels-idx1-ubyte.gz"), &[0, 9, 4]);
        write_images(&mnist.join("t10k-images-idx3-ubyte.gz"), 2, 2, 2);
        write_labels(&mnist.join("t10k-labels-idx1-ubyte.gz"), &[1, 2]);
        let splits = load_builtin(DatasetName::Mnist, Some(dir.path())).unwrap();
        assert_eq!(splits.train.sample_shape, vec![1, 2, 2]);
        assert_eq!(splits.train.len(), 3);
        assert_eq!(splits.test.sample(1), &[4.0, 5.0, 6.0, 7.0]);

        write_labels(&mnist.join("t10k-labels-idx1-ubyte.gz"), &[1, 2, 3]);
        let msg = load_builtin(DatasetName::Mnist, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t10k-images-idx3-ubyte.gz"), "{msg}");
        assert!(msg.contains("t10k-labels-idx1-ubyte.gz"), "{msg}");
        assert!(msg.contains("2 images but 3 labels"), "{msg}");

        write_labels(&mnist.join("t10k-labels-idx1-ubyte.gz"), &[1, 12]);
        let msg = load_builtin(DatasetName::Mnist, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 12"), "{msg}");
    }

    #[test]
    fn real_mnist_when_present() {
        let Some(dir) = shared_dir() else { return };
        let splits = load_builtin(DatasetName::Mnist, Some(&dir)).unwrap();
        assert_eq!(splits.train.len(), 60000);
        assert_eq!(splits.test.len(), 10000);
        assert_eq!(splits.train.sample_shape, vec![1, 28, 28]);
        assert_eq!(
            class_counts(&splits.train),
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        assert_eq!(
            class_counts(&splits.test),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        let max = splits.test.features.iter().cloned().fold(0.0, f32::max);
        assert_eq!(max, 255.0);
    }

    #[test]
    fn real_fashion_mnist_when_present() {
        let Some(dir) = shared_dir() else { return };
        let splits = load_builtin(DatasetName::FashionMnist, Some(&dir)).unwrap();
        assert_eq!(class_counts(&splits.train), [6000; 10]);
        assert_eq!(class_counts(&splits.test), [1000; 10]);
        let names = splits.test.class_names.as_ref().unwrap();
        assert_eq!(names[0], "T-shirt/top");
        assert_eq!(names[9], "Ankle boot");
    }

    #[test]
    fn real_usps_when_present() {
        let Some(dir) = shared_dir() else { return };
        let splits = load_builtin(DatasetName::Usps, Some(&dir)).unwrap();
        assert_eq!(splits.train.sample_shape, vec![1, 16, 16]);
        assert_eq!(
            class_counts(&splits.train),
            [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
        );
        assert_eq!(
            class_counts(&splits.test),
            [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
        );
    }

    #[test]
    fn real_diabetes_when_present() {
        let Some(dir) = shared_dir() else { return };
        let splits = load_builtin(DatasetName::Diabetes, Some(&dir)).unwrap();
        assert_eq!(splits.train.len(), 354);
        assert_eq!(splits.test.len(), 88);
        assert_eq!(splits.train.sample_shape, vec![10]);
        assert_eq!(splits.train.num_classes(), None);
        // Every row and target of the file ends up in exactly one part.
        let sum = |d: &Dataset| match &d.targets {
            Targets::Regression { values, .. } => values.iter().map(|&v| v as f64).sum::<f64>(),
            Targets::Classes { .. } => unreachable!(),
        };
        assert!((sum(&splits.train) + sum(&splits.test) - 67_243.0).abs() < 1e-3);
    }
}
